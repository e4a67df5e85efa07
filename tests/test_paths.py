import itertools

import keras
import numpy as np
import pytest

from resnet_book import import_tensorflow, models, paths, set_seed

tf = import_tensorflow()


def network(build, **options):
    """A small network whose BatchNorm statistics are not the identity, as after training."""
    set_seed(0)
    model = build(8, input_shape=(8, 8, 1), width=4, **options)
    rng = np.random.default_rng(1)
    for weight in model.weights:
        if "/kernel" not in weight.path:
            weight.assign(weight.numpy() + rng.uniform(0.1, 0.5, weight.shape).astype("float32"))
    return model


def images(count=6):
    rng = np.random.default_rng(2)
    return rng.normal(size=(count, 8, 8, 1)).astype("float32"), rng.integers(0, 10, count)


@pytest.mark.parametrize("build", [models.cifar_resnet, models.plain_net])
def test_forward_computes_what_the_model_computes(build):
    model, (x, _) = network(build), images()
    np.testing.assert_allclose(paths.forward(model, x), model(x, training=False), atol=1e-6)


def test_forward_with_projections_computes_what_the_model_computes():
    model, (x, _) = network(models.cifar_resnet, shortcut="all_projection"), images()
    np.testing.assert_allclose(paths.forward(model, x), model(x, training=False), atol=1e-6)


def test_a_deleted_block_passes_its_input_by_the_shortcut():
    model, (x, _) = network(models.cifar_resnet), images()
    assert paths.block_names(model) == ["stage1_block1", "stage2_block1", "stage3_block1"]
    h = paths.stem(model, x)
    kept = paths.block(model, "stage1_block1", h)
    h = paths.shortcut(model, "stage2_block1", kept)  # subsampled and zero-padded
    assert h.shape == (6, 4, 4, 8) and not np.any(h[..., 4:])
    h = paths.block(model, "stage3_block1", h)
    deleted = paths.forward(model, x, deleted=["stage2_block1"])
    np.testing.assert_allclose(deleted, paths.head(model, h), atol=1e-6)
    plain = network(models.plain_net)
    assert paths.forward(plain, x, deleted=["stage3_block1"]).shape == (6, 10)


def test_the_paths_sum_to_the_full_gradient():
    model, (x, y) = network(models.cifar_resnet), images(1)
    through = np.array(list(itertools.product([False, True], repeat=3)))
    summed = paths.path_gradients(model, np.repeat(x, 8, 0), np.repeat(y, 8), through).sum(0)
    with tf.GradientTape() as tape:
        h = paths.stem(model, tf.constant(x))
        tape.watch(h)
        out = h
        for name in paths.block_names(model):
            out = paths.block(model, name, out)
        loss = keras.losses.sparse_categorical_crossentropy(y, paths.head(model, out))
    full = tape.gradient(loss, h).numpy()[0]
    assert np.abs(full).max() > 1e-3
    np.testing.assert_allclose(summed, full, atol=1e-6)


def test_gradient_norms_along_paths_of_each_length():
    model, (x, y) = network(models.cifar_resnet), images(4)
    norms = paths.path_gradient_norms(model, x, y, [0, 1, 2, 3], seed=0)
    assert norms.shape == (4,) and (norms > 0).all()
    again = paths.path_gradient_norms(model, x, y, [0, 1, 2, 3], seed=0)
    np.testing.assert_array_equal(norms, again)


def test_bad_arguments_are_named():
    model, (x, y) = network(models.cifar_resnet), images(2)
    with pytest.raises(ValueError, match="deleted must be one of"):
        paths.forward(model, x, deleted=["stage9_block1"])
    with pytest.raises(
        ValueError, match=r"lengths must give each of the 2 examples a length in 0\.\.3"
    ):
        paths.path_gradient_norms(model, x, y, [0, 4])
    with pytest.raises(ValueError, match=r"through must have one row per example"):
        paths.path_gradients(model, x, y, np.ones((2, 2), bool))
    with pytest.raises(ValueError, match="model must be a residual network"):
        paths.path_gradients(network(models.plain_net), x, y, np.ones((2, 3), bool))
    with pytest.raises(ValueError, match="model must be built by resnet_book.models"):
        paths.block_names(keras.Sequential([keras.layers.Dense(1)], name="mlp"))


def test_statistics_from_the_batch_are_batchnorm_in_training_mode():
    model, (x, _) = network(models.cifar_resnet), images(16)
    statistics = {}
    training = paths.forward(model, x, statistics=statistics)
    assert len(statistics) == 7  # stem, two per block (option A has no projection)
    np.testing.assert_allclose(training, model(x, training=True), atol=2e-5)
    before = [w.numpy() for w in model.weights]
    recalibrated = paths.recalibrate(model, x, deleted=["stage2_block1"])
    assert "stage2_block1_bn1" not in recalibrated and "stage3_block1_bn1" in recalibrated
    for weight, value in zip(model.weights, before, strict=True):
        np.testing.assert_array_equal(weight.numpy(), value)
