import itertools
import random
import warnings

import numpy as np
import pytest

from resnet_book import data, gradflow
from resnet_book.backend import keras, tf


class Scale(keras.layers.Layer):
    """A learned scalar times the input: the branch scale."""

    def __init__(self, value, **kwargs):
        super().__init__(**kwargs)
        self.value = value

    def build(self, input_shape):
        self.s = self.add_weight(shape=(), initializer=keras.initializers.Constant(self.value))

    def call(self, inputs):
        return self.s * inputs


def keras_reference(
    depth,
    block,
    normalization="none",
    branch_scale="one",
    activation="relu",
    initialization="he",
    gain=1.0,
):
    """A Keras model of the same network, built from gradflow.LAYOUT, and its weights.

    Returns the model (outputs: the logits, then every block's output), the hidden
    kernels in order, and the branch scales.
    """
    hidden, head = gradflow.init_weights(depth, initialization, gain)
    operations = gradflow.LAYOUT[block]
    blocks = depth // operations.count("weight")
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
# The corners of the engine's settings: every choice, gains far outside the explorer's range.
EXTREMES = [
    dict(
        block=block,
        activation=activation,
        gain=gain,
        normalization=normalization,
        branch_scale=branch_scale,
    )
    for block, activation, gain, normalization, branch_scale in itertools.product(
        gradflow.BLOCKS,
        gradflow.ACTIVATIONS,
        (0.05, 8.0),
        gradflow.NORMALIZATIONS,
        gradflow.BRANCH_SCALES,
    )
]


@pytest.mark.parametrize("block, settings", SETTINGS)
def test_gradients_and_spreads_match_gradient_tape_on_a_keras_model(block, settings):
    ours = gradflow.gradient_norms(8, block=block, **settings)
    norms, spreads = tape_flow(8, block, **settings)
    np.testing.assert_allclose(ours.grad_norms, norms, rtol=2e-3)
    np.testing.assert_allclose(ours.spreads, spreads, rtol=2e-3)


# Six corners in which every block, activation, gain, normalisation and branch scale appears.
CORNERS = [
    dict(block="plain", activation="tanh", gain=8.0, normalization="batchnorm"),
    dict(block="plain", activation="sigmoid", gain=0.05, normalization="none"),
    dict(block="v1", activation="relu", gain=8.0, branch_scale="inverse_sqrt"),
    dict(block="v1", activation="tanh", gain=0.05, normalization="batchnorm", branch_scale="zero"),
    dict(block="v2", activation="sigmoid", gain=8.0, branch_scale="zero"),
    dict(
        block="v2",
        activation="relu",
        gain=0.05,
        normalization="batchnorm",
        branch_scale="inverse_sqrt",
    ),
]


@pytest.mark.parametrize("settings", CORNERS, ids=lambda s: "-".join(map(str, s.values())))
def test_extreme_settings_match_gradient_tape(settings):
    ours = gradflow.gradient_norms(4, **settings)
    norms, spreads = tape_flow(4, **settings)
    np.testing.assert_allclose(ours.grad_norms, norms, rtol=2e-3, atol=1e-30)
    np.testing.assert_allclose(ours.spreads, spreads, rtol=2e-3)


@pytest.mark.parametrize("block", ["v1", "v2"])
def test_sgd_steps_with_learned_zero_scales_match_gradient_tape(block):
    settings = dict(normalization="batchnorm", branch_scale="zero")
    ours = gradflow.gradient_norms(6, block=block, steps=3, **settings)
    norms, spreads = tape_flow(6, block, steps=3, **settings)
    np.testing.assert_allclose(ours.grad_norms, norms, rtol=5e-3)
    np.testing.assert_allclose(ours.spreads, spreads, rtol=5e-3)


def test_overflow_starts_at_the_depth_where_tensorflow_overflows_too():
    # With a gain of 8 every layer multiplies the signal by about 8: the v1 network leaves
    # float32's range between 42 and 44 layers, by a factor of about 64, in both engines.
    for depth, overflows in ((42, False), (44, True)):
        ours = gradflow.gradient_norms(depth, block="v1", gain=8.0)
        norms, spreads = tape_flow(depth, "v1", gain=8.0)
        finite = np.isfinite(norms).all() and np.isfinite(spreads).all()
        assert ours.overflow == overflows == (not finite), depth


def test_fast_norms_equal_float64_norms_of_the_gradients():
    x, y = data.digits_batch()
    hidden, head = gradflow.init_weights(40, "glorot", 1.0)
    run = gradflow._Pass(x, y, hidden, head, np.ones(20, np.float32), "v1", "sigmoid", True)
    run.forward()
    grads, _ = run.backward()
    exact = np.sqrt(np.square(grads, dtype=np.float64).sum(axis=(1, 2)))
    run = gradflow._Pass(x, y, hidden, head, np.ones(20, np.float32), "v1", "sigmoid", True)
    run.forward()
    fast = np.empty(40)
    run.backward(fast)
    np.testing.assert_allclose(fast, exact, rtol=1e-5)


def test_results_have_one_norm_per_weight_layer_and_one_spread_per_block():
    plain = gradflow.gradient_norms(7)
    assert plain.grad_norms.shape == plain.spreads.shape == (7,)
    v2 = gradflow.gradient_norms(12, block="v2")
    assert v2.grad_norms.shape == (12,) and v2.spreads.shape == (6,)


def test_every_extreme_setting_reports_its_flags_as_its_values_show_them():
    """No warning escapes, and a flag is raised exactly when a value cannot be drawn."""
    shallow = [dict(s, depth=2, steps=steps) for s in EXTREMES for steps in (0, 1)]
    deep = [
        dict(s, depth=200, steps=index % 2)
        for index, s in enumerate(random.Random(1).sample(EXTREMES, 12))
    ]
    flags = set()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for settings in shallow + deep:
            flow = gradflow.gradient_norms(**settings)
            values = np.r_[flow.grad_norms, flow.spreads]
            assert flow.overflow == (not np.isfinite(values).all()), settings
            tiny = np.isfinite(flow.grad_norms) & (flow.grad_norms < np.finfo(np.float32).tiny)
            assert flow.underflow == (tiny.any() and not np.isnan(flow.grad_norms).all()), settings
            flags.add((flow.overflow, flow.underflow))
    assert {(False, False), (True, False), (False, True)} <= flags


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
    np.testing.assert_allclose(start.spreads, float(x.std()), rtol=1e-6)
    later = gradflow.gradient_norms(20, block="v2", branch_scale="zero", steps=2)
    assert later.grad_norms.min() > 0 and not later.underflow


def test_results_are_read_only_and_later_computations_leave_them_unchanged():
    batch = data.digits_batch()
    settings = dict(block="v1", normalization="batchnorm", steps=2)
    first = gradflow.gradient_norms(30, batch=batch, **settings)
    kept = first.grad_norms.copy(), first.spreads.copy()
    with pytest.raises(ValueError):
        first.grad_norms[0] = 1.0
    gradflow.gradient_norms(40, block="v2", batch=batch)  # reuses the engine's buffers
    np.testing.assert_array_equal(first.grad_norms, kept[0])
    np.testing.assert_array_equal(first.spreads, kept[1])
    again = gradflow.gradient_norms(30, **settings)  # the cached path, on the same digits
    np.testing.assert_array_equal(again.grad_norms, kept[0])


def test_a_plain_net_ignores_the_branch_scale():
    scaled, unscaled = gradflow.gradient_norms(9, branch_scale="zero"), gradflow.gradient_norms(9)
    np.testing.assert_array_equal(scaled.grad_norms, unscaled.grad_norms)
    np.testing.assert_array_equal(scaled.spreads, unscaled.spreads)


def test_a_given_batch_is_measured_instead_of_the_digits():
    x, y = data.digits_batch()
    same = gradflow.gradient_norms(10, block="v1", batch=(x.astype(np.float64), list(y)))
    np.testing.assert_array_equal(
        same.grad_norms, gradflow.gradient_norms(10, block="v1").grad_norms
    )
    half = gradflow.gradient_norms(10, block="v1", batch=(x[:32], y[:32]))
    assert not np.allclose(half.grad_norms, same.grad_norms)


@pytest.mark.parametrize(
    "batch, message",
    [
        ("digits", r"batch must be a pair \(x, y\)"),
        ((np.zeros((4, 63)), np.zeros(4, int)), r"x of shape \(4, 63\)"),
        ((np.zeros((4, 64)), np.zeros(3, int)), r"y of shape \(3,\)"),
        ((np.zeros((4, 64)), np.full(4, 10)), "labels in 0..9"),
        ((np.zeros((0, 64)), np.zeros(0, int)), r"x of shape \(0, 64\)"),
    ],
)
def test_a_bad_batch_raises_value_error_naming_its_shapes(batch, message):
    with pytest.raises(ValueError, match=message):
        gradflow.gradient_norms(4, batch=batch)


def test_numpy_numbers_are_accepted_like_python_ones():
    ours = gradflow.gradient_norms(
        np.int64(50),
        gain=np.float32(1.5),
        steps=np.int64(1),
        learning_rate=np.float64(0.05),
        seed=np.uint8(1),
    )
    python = gradflow.gradient_norms(50, gain=1.5, steps=1, learning_rate=0.05, seed=1)
    np.testing.assert_array_equal(ours.grad_norms, python.grad_norms)
    hidden, _ = gradflow.init_weights(np.int32(3), gain=np.float16(2.0), seed=np.int64(0))
    assert hidden.shape == (3, gradflow.WIDTH, gradflow.WIDTH)


def test_a_gain_beyond_float32_overflows_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hidden, _ = gradflow.init_weights(2, gain=1e300)
        flow = gradflow.gradient_norms(4, block="v1", gain=1e300, learning_rate=1e300, steps=1)
    assert np.isinf(hidden).all()
    assert flow.overflow and not flow.underflow


@pytest.mark.parametrize(
    "argument, value",
    [
        ("depth", 0),
        ("depth", 201),
        ("depth", 2.5),
        ("depth", True),
        ("block", "v3"),
        ("block", ["v1"]),
        ("activation", "gelu"),
        ("initialization", "lecun"),
        ("gain", 0),
        ("gain", float("nan")),
        ("gain", float("inf")),
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


def test_the_layout_has_the_weight_layers_of_a_block():
    assert [layout.count("weight") for layout in gradflow.LAYOUT.values()] == [1, 2, 2]
    for block, layout in gradflow.LAYOUT.items():
        flow = gradflow.gradient_norms(8, block=block)
        assert flow.layers_per_block == layout.count("weight") == 8 // len(flow.spreads)


# The physics chapter 6 teaches, at initialisation (ReLU and He unless named).


def test_batchnorm_residual_spread_grows_like_the_square_root_of_the_depth():
    for block in ("v1", "v2"):
        half, full = (
            gradflow.gradient_norms(depth, block=block, normalization="batchnorm")
            for depth in (100, 200)
        )
        assert 1.25 < full.spreads[-1] / half.spreads[-1] < 1.6


def test_unnormalised_residual_spread_grows_by_a_constant_factor_per_block():
    spreads = gradflow.gradient_norms(200, block="v2").spreads
    per_block = spreads[1:] / spreads[:-1]
    assert 1.3 < np.exp(np.log(per_block).mean()) < 1.5  # the square root of 2 for v2


def test_inverse_sqrt_scale_keeps_the_spread_bounded_and_zero_scale_is_the_identity():
    for block in ("v1", "v2"):
        spreads = [
            gradflow.gradient_norms(d, block=block, branch_scale="inverse_sqrt").spreads[-1]
            for d in (20, 200)
        ]
        assert spreads[1] < 1.5 * spreads[0]
    x, _ = data.digits_batch()
    zero = gradflow.gradient_norms(200, block="v2", branch_scale="zero")
    np.testing.assert_allclose(zero.spreads, float(x.std()), rtol=1e-6)


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


def test_plain_weight_gradients_match_the_norms_that_gradient_norms_reports():
    hidden, head = gradflow.init_weights(6, seed=3)
    grads = gradflow.plain_weight_gradients(hidden, head)
    assert grads.shape == hidden.shape and grads.dtype == np.float32
    flow = gradflow.gradient_norms(6, normalization="batchnorm", seed=3)
    np.testing.assert_allclose(np.linalg.norm(grads, axis=(1, 2)), flow.grad_norms, rtol=1e-4)


def test_plain_weight_gradients_reject_wrong_shapes_by_name():
    hidden, head = gradflow.init_weights(4)
    with pytest.raises(ValueError, match="hidden must have shape"):
        gradflow.plain_weight_gradients(hidden[0], head)
    with pytest.raises(ValueError, match="head must have shape"):
        gradflow.plain_weight_gradients(hidden, head.T)
    with pytest.raises(ValueError, match="normalization"):
        gradflow.plain_weight_gradients(hidden, head, normalization="layer")


@pytest.mark.parametrize(
    "settings",
    [
        dict(activation="sigmoid", initialization="glorot"),
        dict(activation="sigmoid", initialization="glorot", normalization="batchnorm"),
        dict(activation="tanh", initialization="glorot", seed=2),
        dict(activation="relu", initialization="he"),
    ],
)
def test_layer_signals_weight_gradients_match_the_float32_pass(settings):
    signals = gradflow.plain_layer_signals(12, **settings)
    flow = gradflow.gradient_norms(12, **settings)
    assert all(len(values) == 12 for values in signals)
    np.testing.assert_allclose(signals.weight_grads, flow.grad_norms, rtol=1e-4)


def test_layer_signals_split_each_weight_gradient_into_input_and_reach():
    x, _ = data.digits_batch()
    signals = gradflow.plain_layer_signals(6, activation="tanh", initialization="glorot")
    assert signals.input_rms[0] == pytest.approx(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
    # |h^T g| <= |h| |g|, with |h| = RMS * sqrt(number of values)
    bound = signals.input_rms * np.sqrt(x.size) * signals.reach
    assert np.all(signals.weight_grads <= bound * (1 + 1e-12))
    assert np.all(signals.weight_grads > bound / 10)


def test_layer_signals_of_one_layer_are_those_of_its_formulas():
    x, y = data.digits_batch()
    x = x.astype(np.float64)
    hidden, head = (w.astype(np.float64) for w in gradflow.init_weights(1, "he"))
    signals = gradflow.plain_layer_signals(1, activation="relu")
    z = x @ hidden[0]
    h = np.maximum(z, 0)
    logits = h @ head
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    reach = (p / len(y) @ head.T) * (z > 0)
    np.testing.assert_allclose(signals.reach, [np.linalg.norm(reach)], rtol=1e-12)
    np.testing.assert_allclose(signals.batch_std, [h.std(axis=0).mean()], rtol=1e-12)


def test_layer_signals_show_a_deep_sigmoid_stack_forgetting_its_input():
    signals = gradflow.plain_layer_signals(30, activation="sigmoid", initialization="glorot")
    assert signals.batch_std[-1] < 1e-12 * signals.batch_std[0]  # every digit alike
    assert np.all((0.4 < signals.input_rms[1:]) & (signals.input_rms[1:] < 0.7))  # size kept
    batchnorm = gradflow.plain_layer_signals(
        30, activation="sigmoid", initialization="glorot", normalization="batchnorm"
    )
    assert batchnorm.batch_std.min() > 0.1  # BatchNorm keeps the differences


@pytest.mark.parametrize(
    "argument, value",
    [
        ("depth", 0),
        ("depth", 201),
        ("depth", 2.5),
        ("activation", "gelu"),
        ("initialization", "lecun"),
        ("normalization", "layernorm"),
        ("seed", -1),
    ],
)
def test_layer_signals_reject_a_bad_argument_by_name(argument, value):
    arguments = {"depth": 4, argument: value}
    with pytest.raises(ValueError, match=f"{argument}="):
        gradflow.plain_layer_signals(**arguments)
