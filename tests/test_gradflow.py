import numpy as np
import pytest

from resnet_book import gradflow, import_tensorflow

tf = import_tensorflow()


def tape_gradient_norms(depth, activation, initialization, gain, normalization, residual):
    """The same network as gradflow.gradient_norms, differentiated by TensorFlow."""
    hidden, head = gradflow.init_weights(depth, initialization, gain)
    x, y = gradflow.digits_batch()
    weights = [tf.Variable(w) for w in hidden]
    scale = 1 / np.sqrt(depth) if residual == "scaled" else 1.0
    act = {"relu": tf.nn.relu, "tanh": tf.tanh, "sigmoid": tf.sigmoid}[activation]
    with tf.GradientTape() as tape:
        h = tf.constant(x)
        for w in weights:
            z = h @ w
            if normalization == "batchnorm":
                mean, var = tf.nn.moments(z, axes=[0])
                z = (z - mean) / tf.sqrt(var + gradflow.BN_EPSILON)
            a = act(z)
            h = h + scale * a if residual != "none" else a
        loss = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=h @ head)
        )
    return np.array([tf.norm(g).numpy() for g in tape.gradient(loss, weights)])


@pytest.mark.parametrize(
    "activation, initialization, normalization, residual",
    [
        ("sigmoid", "glorot", "none", "none"),
        ("tanh", "glorot", "batchnorm", "none"),
        ("relu", "he", "batchnorm", "none"),
        ("relu", "he", "none", "identity"),
        ("tanh", "he", "batchnorm", "scaled"),
    ],
)
def test_numpy_gradients_match_gradient_tape(activation, initialization, normalization, residual):
    depth = 6
    ours = gradflow.gradient_norms(
        depth, activation, initialization, 1.3, normalization, residual
    ).grad_norms
    theirs = tape_gradient_norms(depth, activation, initialization, 1.3, normalization, residual)
    np.testing.assert_allclose(ours, theirs, rtol=2e-3)


def test_deep_sigmoid_plain_net_vanishes_and_relu_he_does_not():
    sigmoid = gradflow.gradient_norms(50, activation="sigmoid", initialization="glorot")
    relu = gradflow.gradient_norms(50, activation="relu", initialization="he")
    assert sigmoid.first_to_last < 1e-3
    assert 0.1 < relu.first_to_last < 10


@pytest.mark.parametrize(
    "depth, activation, residual", [(50, "sigmoid", "none"), (60, "relu", "identity")]
)
def test_fast_norms_equal_float64_norms_of_the_gradients(depth, activation, residual):
    hidden, head = gradflow.init_weights(depth, "glorot", 1.0)
    args = hidden, head, np.ones(depth, np.float32), activation, "none", residual
    with np.errstate(all="ignore"):
        grads, _, _ = gradflow._backprop(*args)
        fast = np.empty(depth)
        gradflow._backprop(*args, norms=fast)
    exact = np.sqrt(np.square(grads, dtype=np.float64).sum(axis=(1, 2)))
    np.testing.assert_allclose(fast, exact, rtol=1e-5)


def test_deep_sigmoid_gradients_are_tiny_but_not_zero():
    ratio = gradflow.gradient_norms(50, activation="sigmoid", initialization="glorot").first_to_last
    assert 0 < ratio < 1e-25


def test_result_has_one_value_per_layer():
    flow = gradflow.gradient_norms(7)
    assert flow.grad_norms.shape == flow.activation_stds.shape == (7,)
    assert not flow.overflow and not flow.underflow


def test_same_seed_gives_identical_numbers():
    first = gradflow.gradient_norms(30, normalization="batchnorm")
    second = gradflow.gradient_norms(30, normalization="batchnorm")
    np.testing.assert_array_equal(first.grad_norms, second.grad_norms)


def test_unnormalised_identity_residual_net_overflows_at_full_depth():
    flow = gradflow.gradient_norms(gradflow.MAX_DEPTH, residual="identity")
    assert flow.overflow


def test_very_deep_sigmoid_net_reports_underflow():
    flow = gradflow.gradient_norms(150, activation="sigmoid", initialization="glorot")
    assert flow.underflow and not flow.overflow


@pytest.mark.parametrize(
    "argument, value",
    [
        ("depth", 0),
        ("depth", 201),
        ("depth", 2.5),
        ("activation", "gelu"),
        ("initialization", "lecun"),
        ("gain", 0),
        ("gain", float("nan")),
        ("normalization", "layernorm"),
        ("residual", "dense"),
    ],
)
def test_bad_argument_raises_value_error_naming_it(argument, value):
    arguments = {"depth": 10, argument: value}
    with pytest.raises(ValueError, match=f"{argument}=") as error:
        gradflow.gradient_norms(**arguments)
    assert repr(value) in str(error.value)


def test_digits_batch_is_standardised_and_rejects_bad_size():
    x, y = gradflow.digits_batch()
    assert x.shape == (64, 64) and x.dtype == np.float32 and y.shape == (64,)
    with pytest.raises(ValueError, match="batch_size=0"):
        gradflow.digits_batch(0)


def test_kernel_gradient_norms_follow_the_layers_of_a_keras_model():
    from resnet_book import models

    model = models.cifar_resnet(20, input_shape=(8, 8, 1))
    x, y = gradflow.digits_batch(16)
    names, norms = gradflow.kernel_gradient_norms(model, x.reshape(16, 8, 8, 1), y)
    assert names[0] == "stem_conv" and names[-1] == "classifier" and len(names) == 20
    assert norms.shape == (20,) and (norms > 0).all()
    with pytest.raises(ValueError, match="16 and 3"):
        gradflow.kernel_gradient_norms(model, x.reshape(16, 8, 8, 1), y[:3])


EXTREMES = [
    (depth, activation, initialization, gain, normalization, residual)
    for depth in (1, gradflow.MAX_DEPTH)
    for activation in gradflow.ACTIVATIONS
    for initialization in gradflow.INITIALIZATIONS
    for gain in (0.05, 8.0)
    for normalization in gradflow.NORMALIZATIONS
    for residual in gradflow.RESIDUALS
]


def test_every_extreme_combination_runs_and_flags_what_cannot_be_drawn():
    for depth, activation, initialization, gain, normalization, residual in EXTREMES:
        flow = gradflow.gradient_norms(
            depth, activation, initialization, gain, normalization, residual, steps=1
        )
        assert flow.grad_norms.shape == flow.activation_stds.shape == (depth,)
        finite = np.isfinite(flow.grad_norms).all() and np.isfinite(flow.activation_stds).all()
        assert flow.overflow == (not finite)
        if finite:
            assert flow.underflow == bool(flow.grad_norms.min() < np.finfo(np.float32).tiny)


def test_zero_initialised_branches_start_as_the_identity_and_learn_after_a_step():
    start = gradflow.gradient_norms(20, residual="zero")
    assert start.underflow and not start.grad_norms.any()
    assert np.allclose(start.activation_stds, start.activation_stds[0])
    later = gradflow.gradient_norms(20, residual="zero", steps=2)
    assert later.grad_norms.min() > 0 and not later.underflow


def test_training_steps_change_the_picture_and_are_cached():
    first = gradflow.gradient_norms(30, activation="sigmoid", initialization="glorot", steps=5)
    again = gradflow.gradient_norms(30, activation="sigmoid", initialization="glorot", steps=5)
    start = gradflow.gradient_norms(30, activation="sigmoid", initialization="glorot")
    assert first is again
    assert not np.array_equal(first.grad_norms, start.grad_norms)
    with pytest.raises(ValueError):
        first.grad_norms[0] = 1.0


@pytest.mark.parametrize(
    "argument, value",
    [("steps", -1), ("steps", 101), ("steps", 1.5), ("learning_rate", 0), ("learning_rate", "0.1")],
)
def test_bad_training_arguments_raise_value_error_naming_them(argument, value):
    with pytest.raises(ValueError, match=f"{argument}="):
        gradflow.gradient_norms(10, **{argument: value})
