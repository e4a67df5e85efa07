import numpy as np
import pytest

from resnet_book import landscape, models, set_seed
from resnet_book.backend import keras, layers


def model_and_data():
    set_seed(0)
    model = models.cifar_resnet(8, input_shape=(8, 8, 1), width=4)
    rng = np.random.default_rng(0)
    return model, rng.normal(size=(16, 8, 8, 1)).astype("float32"), rng.integers(0, 10, 16)


def cross_entropy(probabilities, y):
    """The mean cross-entropy in float64, from NumPy alone."""
    probabilities = np.asarray(probabilities, dtype=float)
    return -np.mean(np.log(probabilities[np.arange(len(y)), y]))


def softmax_regression():
    """A linear softmax classifier: its loss is convex in the weights, and known in closed form."""
    set_seed(0)
    inputs = keras.Input((5,))
    model = keras.Model(inputs, layers.Dense(3, activation="softmax")(inputs))
    rng = np.random.default_rng(0)
    return model, rng.normal(size=(32, 5)).astype("float32"), rng.integers(0, 3, 32)


def regression_loss(model, x, y, kernel_step):
    """The mean cross-entropy of ``softmax_regression`` with ``kernel_step`` added to its kernel."""
    kernel, bias = (np.asarray(w, dtype=float) for w in model.get_weights())
    logits = x.astype(float) @ (kernel + kernel_step) + bias
    logits -= logits.max(1, keepdims=True)
    return np.mean(np.log(np.exp(logits).sum(1)) - logits[np.arange(len(y)), y])


def test_a_direction_is_filter_normalised_and_zero_off_the_kernels():
    model, _, _ = model_and_data()
    direction = landscape.direction(model, seed=0)
    for weight, d in zip(model.weights, direction, strict=True):
        if weight.path.endswith("/kernel"):
            axes = tuple(range(d.ndim - 1))
            norms = np.sqrt((weight.numpy() ** 2).sum(axes))
            np.testing.assert_allclose(np.sqrt((d**2).sum(axes)), norms, rtol=1e-5)
        else:
            assert not d.any()
    assert not np.allclose(direction[0], landscape.direction(model, seed=1)[0])


def test_the_slice_at_the_origin_is_the_models_loss_and_the_weights_come_back_exactly():
    model, x, y = model_and_data()
    before = [w.numpy() for w in model.weights]
    d1, d2 = landscape.direction(model, 0), landscape.direction(model, 1)
    line = landscape.loss_slice(model, x, y, [d1], [-0.5, 0.0, 0.5])
    grid = landscape.loss_slice(model, x, y, [d1, d2], [-0.5, 0.0, 0.5])
    assert line.shape == (3,) and grid.shape == (3, 3)
    expected = cross_entropy(model(x, training=False), y)
    assert line[1] == pytest.approx(expected, rel=1e-5) and grid[1, 1] == pytest.approx(expected)
    np.testing.assert_allclose(grid[:, 1], line, rtol=1e-5)  # the grid's column through b = 0
    for weight, value in zip(model.weights, before, strict=True):
        np.testing.assert_array_equal(weight.numpy(), value)


def test_a_slice_of_softmax_regression_is_its_closed_form_loss_and_convex():
    model, x, y = softmax_regression()
    d1, d2 = landscape.direction(model, 0), landscape.direction(model, 1)
    steps = np.linspace(-2, 2, 9)
    line = landscape.loss_slice(model, x, y, [d1], steps)
    np.testing.assert_allclose(
        line, [regression_loss(model, x, y, a * d1[0]) for a in steps], rtol=1e-5
    )
    assert (np.diff(line, 2) > 0).all()  # convex along the line: positive curvature everywhere
    grid = landscape.loss_slice(model, x, y, [d1, d2], steps[::4])
    expected = [
        [regression_loss(model, x, y, a * d1[0] + b * d2[0]) for b in steps[::4]]
        for a in steps[::4]
    ]
    np.testing.assert_allclose(grid, expected, rtol=1e-5)
    assert not landscape.nonconvex(grid).any()


def test_a_slice_can_use_another_prediction_and_restores_the_weights_when_it_fails():
    model, x, y = model_and_data()
    d = landscape.direction(model, 0)
    default = landscape.loss_slice(model, x, y, [d], [0.0, 0.5])
    same = landscape.loss_slice(model, x, y, [d], [0.0, 0.5], lambda m, x: m(x, training=False))
    np.testing.assert_allclose(same, default, rtol=1e-5)
    uniform = landscape.loss_slice(
        model, x, y, [d], [0.0, 0.5], lambda m, x: np.full((16, 10), 0.1)
    )
    np.testing.assert_allclose(uniform, np.log(10), rtol=1e-6)
    before = [w.numpy() for w in model.weights]

    def failing(model, x):
        raise RuntimeError("out of memory")

    with pytest.raises(RuntimeError, match="out of memory"):
        landscape.loss_slice(model, x, y, [d], [0.5], failing)
    for weight, value in zip(model.weights, before, strict=True):
        np.testing.assert_array_equal(weight.numpy(), value)


def test_bad_arguments_of_a_slice_are_named():
    model, x, y = model_and_data()
    d = landscape.direction(model, 0)
    with pytest.raises(ValueError, match="directions must hold 1 or 2"):
        landscape.loss_slice(model, x, y, [d, d, d], [0.0])
    with pytest.raises(ValueError, match="steps must be a non-empty 1-D sequence"):
        landscape.loss_slice(model, x, y, [d], [[0.0, 1.0]])
    with pytest.raises(ValueError, match="steps must be .* finite numbers"):
        landscape.loss_slice(model, x, y, [d], [0.0, np.inf])
    with pytest.raises(ValueError, match="x must hold at least one example"):
        landscape.loss_slice(model, x[:0], y[:0], [d], [0.0])
    with pytest.raises(ValueError, match="predict must be None or a function"):
        landscape.loss_slice(model, x, y, [d], [0.0], predict="batch")
    with pytest.raises(ValueError, match="seed must be .* seed=-1"):
        landscape.direction(model, -1)


def test_convex_surfaces_have_no_point_above_a_chord_and_others_do():
    steps = np.linspace(-1, 1, 11)
    a, b = np.meshgrid(steps, steps, indexing="ij")
    for convex in (3 * a**2 + b**2, np.exp(4 * (a + b)), (a + b) ** 4, np.abs(a) + b**2):
        assert not landscape.nonconvex(convex).any()
    saddle = landscape.nonconvex(a * b)
    assert saddle.all()  # every point lies above one of its diagonal chords
    bump = np.exp(-((a / 0.3) ** 2) - (b / 0.3) ** 2)
    assert landscape.nonconvex(bump)[4, 4] and not landscape.nonconvex(bump, tolerance=0.9)[4, 4]
    with pytest.raises(ValueError, match="tolerance must be a finite number of at least 0"):
        landscape.nonconvex(a * b, tolerance=-1)
    with pytest.raises(ValueError, match="at least 3x3"):
        landscape.nonconvex(np.ones((2, 5)))
