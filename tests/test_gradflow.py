import keras
import numpy as np
import pytest

from resnet_book import data, gradflow, import_tensorflow

tf = import_tensorflow()


class Scale(keras.layers.Layer):
    """A learned scalar times the input: the branch scale."""

    def __init__(self, value, **kwargs):
        super().__init__(**kwargs)
        self.value = value

    def build(self, input_shape):
        self.s = self.add_weight(shape=(), initializer=keras.initializers.Constant(self.value))

    def call(self, inputs):
        return self.s * inputs


def keras_reference(depth, block, normalization="none", branch_scale="one", activation="relu",
                    initialization="he", gain=1.0):  # fmt: skip
    """A Keras model of the same network, built from gradflow.LAYOUT, and its weights.

    Returns the model (outputs: the logits, then every block's output), the hidden
    kernels in order, and the branch scales.
    """
    hidden, head = gradflow.init_weights(depth, initialization, gain)
    blocks = depth if block == "plain" else depth // 2
    operations = gradflow.LAYOUT[block][:3] if block == "plain" else gradflow.LAYOUT[block]
    start = {"one": 1.0, "inverse_sqrt": 1 / np.sqrt(blocks), "zero": 0.0}[branch_scale]
    inputs = keras.Input((gradflow.WIDTH,))
    h, dense, scales, outputs = inputs, [], [], []
    for _ in range(blocks):
        x = h
        for operation in operations:
            if operation == "weight":
                dense.append(keras.layers.Dense(gradflow.WIDTH, use_bias=False))
                h = dense[-1](h)
            elif operation == "norm" and normalization == "batchnorm":
                h = keras.layers.BatchNormalization(
                    epsilon=gradflow.BN_EPSILON, center=False, scale=False
                )(h, training=True)
            elif operation == "act":
                h = keras.layers.Activation(activation)(h)
            elif operation == "scale":
                scales.append(Scale(start))
                h = scales[-1](h)
            elif operation == "add":
                h = keras.layers.Add()([x, h])
        outputs.append(h)
    logits = keras.layers.Dense(gradflow.NUM_CLASSES, use_bias=False, name="head")
    model = keras.Model(inputs, [logits(h), *outputs])
    for layer, kernel in zip(dense, hidden, strict=True):
        layer.kernel.assign(kernel)
    logits.kernel.assign(head)
    return model, [layer.kernel for layer in dense], [scale.s for scale in scales]


def tape_flow(depth, block, steps=0, learning_rate=0.1, **settings):
    """Gradient norms and block spreads from tf.GradientTape, after ``steps`` SGD steps."""
    model, kernels, scales = keras_reference(depth, block, **settings)
    x, y = data.digits_batch()
    trained = kernels + (scales if settings.get("branch_scale") == "zero" else [])
    for step in range(steps + 1):
        with tf.GradientTape() as tape:
            logits, *blocks = model(x)
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
            )
        gradients = tape.gradient(loss, trained)
        if step == steps:
            # Norms of the float32 gradients, summed in float64 as gradflow does when float32
            # cannot hold the sum of squares.
            with np.errstate(all="ignore"):
                norms = np.array([np.linalg.norm(np.float64(g)) for g in gradients[: len(kernels)]])
                spreads = np.array([np.float64(b).std() for b in blocks])
            return norms, spreads
        for variable, gradient in zip(trained, gradients, strict=True):
            variable.assign_sub(learning_rate * gradient)


SETTINGS = [
    ("plain", dict(activation="sigmoid", initialization="glorot")),
    ("plain", dict(normalization="batchnorm", activation="tanh", gain=1.3)),
    ("v1", dict()),
    ("v1", dict(normalization="batchnorm")),
    ("v1", dict(normalization="batchnorm", branch_scale="inverse_sqrt", activation="tanh")),
    ("v2", dict()),
    ("v2", dict(normalization="batchnorm")),
    ("v2", dict(normalization="batchnorm", branch_scale="inverse_sqrt", gain=0.7)),
]


@pytest.mark.parametrize("block, settings", SETTINGS)
def test_gradients_and_spreads_match_gradient_tape_on_a_keras_model(block, settings):
    ours = gradflow.gradient_norms(8, block=block, **settings)
    norms, spreads = tape_flow(8, block, **settings)
    np.testing.assert_allclose(ours.grad_norms, norms, rtol=2e-3)
    np.testing.assert_allclose(ours.activation_stds, spreads, rtol=2e-3)


@pytest.mark.parametrize("block", ["v1", "v2"])
def test_sgd_steps_with_learned_zero_scales_match_gradient_tape(block):
    settings = dict(normalization="batchnorm", branch_scale="zero")
    ours = gradflow.gradient_norms(6, block=block, steps=3, **settings)
    norms, spreads = tape_flow(6, block, steps=3, **settings)
    np.testing.assert_allclose(ours.grad_norms, norms, rtol=5e-3)
    np.testing.assert_allclose(ours.activation_stds, spreads, rtol=5e-3)


def test_fast_norms_equal_float64_norms_of_the_gradients():
    hidden, head = gradflow.init_weights(40, "glorot", 1.0)
    run = gradflow._Pass(hidden, head, np.ones(20, np.float32), "v1", "sigmoid", True)
    run.forward()
    grads, _ = run.backward()
    exact = np.sqrt(np.square(grads, dtype=np.float64).sum(axis=(1, 2)))
    run = gradflow._Pass(hidden, head, np.ones(20, np.float32), "v1", "sigmoid", True)
    run.forward()
    fast = np.empty(40)
    run.backward(fast)
    np.testing.assert_allclose(fast, exact, rtol=1e-5)


def test_results_have_one_norm_per_weight_layer_and_one_spread_per_block():
    plain = gradflow.gradient_norms(7)
    assert plain.grad_norms.shape == plain.activation_stds.shape == (7,)
    v2 = gradflow.gradient_norms(12, block="v2")
    assert v2.grad_norms.shape == (12,) and v2.activation_stds.shape == (6,)


def test_deep_sigmoid_gradients_are_tiny_but_not_zero():
    flow = gradflow.gradient_norms(50, activation="sigmoid", initialization="glorot")
    assert 0 < flow.first_to_last < 1e-25 and not flow.underflow


def test_very_deep_sigmoid_net_reports_underflow():
    flow = gradflow.gradient_norms(150, activation="sigmoid", initialization="glorot")
    assert flow.underflow and not flow.overflow
    assert flow.grad_norms.min() < np.finfo(np.float32).tiny


def test_unnormalised_unscaled_blocks_overflow_at_full_depth_with_a_gain_of_two():
    for block in ("v1", "v2"):
        assert not gradflow.gradient_norms(gradflow.MAX_DEPTH, block=block).overflow
        assert gradflow.gradient_norms(gradflow.MAX_DEPTH, block=block, gain=2.0).overflow


def test_zero_initialised_branches_start_as_the_identity_and_learn_after_a_step():
    start = gradflow.gradient_norms(20, block="v2", branch_scale="zero")
    x, _ = data.digits_batch()
    assert start.underflow and not start.grad_norms.any()
    np.testing.assert_allclose(start.activation_stds, float(x.std()), rtol=1e-6)
    later = gradflow.gradient_norms(20, block="v2", branch_scale="zero", steps=2)
    assert later.grad_norms.min() > 0 and not later.underflow


def test_results_are_cached_and_read_only():
    first = gradflow.gradient_norms(30, block="v1", normalization="batchnorm", steps=2)
    assert gradflow.gradient_norms(30, block="v1", normalization="batchnorm", steps=2) is first
    with pytest.raises(ValueError):
        first.grad_norms[0] = 1.0
    gradflow._flow.cache_clear()
    again = gradflow.gradient_norms(30, block="v1", normalization="batchnorm", steps=2)
    assert again is not first
    np.testing.assert_array_equal(again.grad_norms, first.grad_norms)


def test_a_plain_net_ignores_the_branch_scale():
    assert gradflow.gradient_norms(9, branch_scale="zero") is gradflow.gradient_norms(9)


EXTREMES = [
    dict(
        depth=depth,
        block=block,
        activation=activation,
        initialization=initialization,
        gain=gain,
        normalization=normalization,
        branch_scale=branch_scale,
    )  # fmt: skip
    for depth in (2, gradflow.MAX_DEPTH)
    for block in gradflow.BLOCKS
    for activation in gradflow.ACTIVATIONS
    for initialization in ("he",)
    for gain in (0.05, 8.0)
    for normalization in gradflow.NORMALIZATIONS
    for branch_scale in gradflow.BRANCH_SCALES
]


def test_every_extreme_combination_runs():
    for settings in EXTREMES:
        flow = gradflow.gradient_norms(**settings, steps=1)
        assert flow.grad_norms.shape == (settings["depth"],)
        assert isinstance(flow.overflow, bool) and isinstance(flow.underflow, bool)


def test_overflow_is_where_tensorflow_overflows_too():
    ours = gradflow.gradient_norms(gradflow.MAX_DEPTH, block="v1", gain=2.0)
    norms, spreads = tape_flow(gradflow.MAX_DEPTH, "v1", gain=2.0)
    assert ours.overflow and not (np.isfinite(norms).all() and np.isfinite(spreads).all())
    ours = gradflow.gradient_norms(100, block="v1", gain=2.0)
    norms, spreads = tape_flow(100, "v1", gain=2.0)
    assert not ours.overflow and np.isfinite(norms).all() and np.isfinite(spreads).all()


@pytest.mark.parametrize(
    "argument, value",
    [
        ("depth", 0),
        ("depth", 201),
        ("depth", 2.5),
        ("block", "v3"),
        ("activation", "gelu"),
        ("initialization", "lecun"),
        ("gain", 0),
        ("gain", float("nan")),
        ("normalization", "layernorm"),
        ("branch_scale", "half"),
        ("steps", -1),
        ("steps", 101),
        ("steps", 1.5),
        ("learning_rate", 0),
        ("learning_rate", "0.1"),
        ("seed", -1),
    ],
)
def test_bad_argument_raises_value_error_naming_it(argument, value):
    arguments = {"depth": 10, argument: value}
    with pytest.raises(ValueError, match=f"{argument}=") as error:
        gradflow.gradient_norms(**arguments)
    assert repr(value) in str(error.value)


def test_an_odd_depth_is_refused_for_blocks_of_two_layers():
    with pytest.raises(ValueError, match="depth=7"):
        gradflow.gradient_norms(7, block="v1")
    assert gradflow.gradient_norms(7, block="plain").grad_norms.shape == (7,)


# The physics chapter 6 teaches, at initialisation (ReLU and He unless named).


def test_batchnorm_residual_spread_grows_like_the_square_root_of_the_depth():
    for block in ("v1", "v2"):
        half, full = (
            gradflow.gradient_norms(depth, block=block, normalization="batchnorm")
            for depth in (100, 200)
        )
        assert 1.25 < full.activation_stds[-1] / half.activation_stds[-1] < 1.6


def test_unnormalised_residual_spread_grows_by_a_constant_factor_per_block():
    stds = gradflow.gradient_norms(200, block="v2").activation_stds
    per_block = stds[1:] / stds[:-1]
    assert 1.3 < np.exp(np.log(per_block).mean()) < 1.5  # the square root of 2 for v2


def test_inverse_sqrt_scale_keeps_the_spread_bounded_and_zero_scale_is_the_identity():
    for block in ("v1", "v2"):
        spreads = [
            gradflow.gradient_norms(d, block=block, branch_scale="inverse_sqrt").activation_stds[-1]
            for d in (20, 200)
        ]
        assert spreads[1] < 1.5 * spreads[0]
    x, _ = data.digits_batch()
    zero = gradflow.gradient_norms(200, block="v2", branch_scale="zero")
    np.testing.assert_allclose(zero.activation_stds, float(x.std()), rtol=1e-6)


def test_plain_batchnorm_gradients_explode_toward_the_input_and_shortcuts_tame_them():
    plain = gradflow.gradient_norms(100, normalization="batchnorm").first_to_last
    v1, v2 = (
        gradflow.gradient_norms(100, block=block, normalization="batchnorm").first_to_last
        for block in ("v1", "v2")
    )
    assert plain > 1e6 and 1 < v2 < v1 < 1000


def test_sigmoid_gradient_vanishes_in_plain_and_v1_but_not_through_v2s_clean_path():
    ratios = {
        block: gradflow.gradient_norms(
            50, block=block, activation="sigmoid", initialization="glorot"
        ).first_to_last
        for block in gradflow.BLOCKS
    }
    assert ratios["plain"] < 1e-20 and ratios["v1"] < 1e-10 and 0.5 < ratios["v2"] < 2
