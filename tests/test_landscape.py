import numpy as np
import pytest

from resnet_book import landscape, models, set_seed


def model_and_data():
    set_seed(0)
    model = models.cifar_resnet(8, input_shape=(8, 8, 1), width=4)
    rng = np.random.default_rng(0)
    return model, rng.normal(size=(16, 8, 8, 1)).astype("float32"), rng.integers(0, 10, 16)


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


def test_slices_pass_through_the_weights_and_restore_them():
    model, x, y = model_and_data()
    before = [w.numpy() for w in model.weights]
    d1, d2 = landscape.direction(model, 0), landscape.direction(model, 1)
    line = landscape.loss_slice(model, x, y, [d1], [-0.5, 0.0, 0.5])
    grid = landscape.loss_slice(model, x, y, [d1, d2], [-0.5, 0.0, 0.5])
    assert line.shape == (3,) and grid.shape == (3, 3)
    np.testing.assert_allclose(grid[:, 1], line, rtol=1e-5)
    assert len(set(np.round(line, 4))) == 3
    for weight, value in zip(model.weights, before, strict=True):
        np.testing.assert_array_equal(weight.numpy(), value)
    with pytest.raises(ValueError, match="directions must hold 1 or 2"):
        landscape.loss_slice(model, x, y, [d1, d2, d1], [0.0])


def test_convex_surfaces_have_no_point_above_a_chord_and_others_do():
    steps = np.linspace(-1, 1, 11)
    a, b = np.meshgrid(steps, steps, indexing="ij")
    for convex in (3 * a**2 + b**2, np.exp(4 * (a + b)), (a + b) ** 4, np.abs(a) + b**2):
        assert not landscape.nonconvex(convex).any()
    saddle = landscape.nonconvex(a * b)
    assert saddle.all()  # every point lies above one of its diagonal chords
    bump = np.exp(-((a / 0.3) ** 2) - (b / 0.3) ** 2)
    assert landscape.nonconvex(bump)[4, 4] and not landscape.nonconvex(bump, tolerance=0.9)[4, 4]
    with pytest.raises(ValueError, match="tolerance must be non-negative"):
        landscape.nonconvex(a * b, tolerance=-1)
    with pytest.raises(ValueError, match="at least 3x3"):
        landscape.nonconvex(np.ones((2, 5)))


def test_a_slice_can_use_another_prediction():
    model, x, y = model_and_data()
    d = landscape.direction(model, 0)
    default = landscape.loss_slice(model, x, y, [d], [0.0, 0.5])
    same = landscape.loss_slice(model, x, y, [d], [0.0, 0.5], lambda m, x: m(x, training=False))
    np.testing.assert_allclose(same, default, rtol=1e-5)
