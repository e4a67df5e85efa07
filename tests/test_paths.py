import itertools

import numpy as np
import pytest

from resnet_book import models, paths, set_seed
from resnet_book.backend import keras, layers, tf

SMALL = {"input_shape": (8, 8, 1), "width": 4}
NETWORKS = {
    "v1, option A": (models.cifar_resnet, {}),
    "v1, option B": (models.cifar_resnet, {"shortcut": "projection"}),
    "v1, option C": (models.cifar_resnet, {"shortcut": "all_projection"}),
    "v1, GroupNorm": (models.cifar_resnet, {"norm": "group"}),
    "v1, no normalisation": (models.cifar_resnet, {"norm": "none"}),
    "pre-activation": (models.preactivation_resnet, {}),
    "pre-activation, option B": (models.preactivation_resnet, {"shortcut": "projection"}),
    "plain": (models.plain_net, {}),
}


def network(build, **options):
    """A small network whose normalisation layers are not the identity, as after training."""
    set_seed(0)
    model = build(8, **SMALL, **options)
    rng = np.random.default_rng(1)
    for weight in model.weights:
        if "/kernel" not in weight.path:
            weight.assign(weight.numpy() + rng.uniform(0.1, 0.5, weight.shape).astype("float32"))
    return model


def images(count=6):
    rng = np.random.default_rng(2)
    return rng.normal(size=(count, 8, 8, 1)).astype("float32"), rng.integers(0, 10, count)


@pytest.mark.parametrize("kind", NETWORKS)
def test_forward_computes_what_the_model_computes(kind):
    build, options = NETWORKS[kind]
    model, (x, _) = network(build, **options), images()
    assert paths.block_names(model) == ["stage1_block1", "stage2_block1", "stage3_block1"]
    np.testing.assert_allclose(paths.forward(model, x), model(x, training=False), atol=1e-6)


def test_forward_reads_residual_units_of_dense_layers_too():
    model = models.tabular_net(5, 3, branch_init="he_normal")
    x = np.random.default_rng(0).normal(size=(4, 5)).astype("float32")
    assert paths.block_names(model) == ["unit1", "unit2", "unit3"]
    np.testing.assert_allclose(paths.forward(model, x), model(x, training=False), atol=1e-6)


# Deleting a block leaves its shortcut; so does silencing its branch, where nothing follows the
# addition (pre-activation) or what follows it is a ReLU of a non-negative shortcut (v1, option A,
# whose every block input is a ReLU's output). The silenced network is computed by Keras alone.
SILENCED = {
    "v1, option A": (models.cifar_resnet, {}, ["_bn2/gamma", "_bn2/beta"]),
    "v1, GroupNorm": (models.cifar_resnet, {"norm": "group"}, ["_gn2/gamma", "_gn2/beta"]),
    "pre-activation": (models.preactivation_resnet, {}, ["_conv2/kernel"]),
}


@pytest.mark.parametrize("kind", SILENCED)
@pytest.mark.parametrize("deleted", ["stage1_block1", "stage2_block1"])
def test_a_deleted_block_computes_what_the_network_computes_with_the_branch_silenced(kind, deleted):
    build, options, silenced = SILENCED[kind]
    model, (x, _) = network(build, **options), images()
    intact, without = model(x, training=False), paths.forward(model, x, deleted=[deleted])
    assert not np.allclose(without, intact, atol=1e-4)
    for weight in model.weights:
        if any(weight.path == f"{deleted}{suffix}" for suffix in silenced):
            weight.assign(np.zeros(weight.shape, "float32"))
    np.testing.assert_allclose(without, model(x, training=False), atol=1e-6)


def test_a_deleted_plain_block_gets_option_as_shortcut_where_the_shape_changes():
    model, (x, _) = network(models.plain_net), images()
    # The same layers without stage2_block1, option A's Keras layers in its place.
    h = inputs = keras.Input(SMALL["input_shape"])
    for layer in model.layers[1:]:
        if not layer.name.startswith("stage2_block1_"):
            h = layer(h)
        elif layer.name.endswith("_out"):
            h = models.shortcut_path(h, layer.output.shape[-1], 2, "zero_pad", "deleted")
    reference = keras.Model(inputs, h)
    without = paths.forward(model, x, deleted=["stage2_block1"])
    np.testing.assert_allclose(without, reference(x, training=False), atol=1e-6)
    same_shape = paths.forward(model, x, deleted=["stage1_block1"])
    assert same_shape.shape == (6, 10) and not np.allclose(same_shape, without)


@pytest.mark.parametrize("kind", ["v1, option A", "v1, option B", "pre-activation"])
def test_the_paths_sum_to_the_full_gradient(kind):
    build, options = NETWORKS[kind]
    model, (x, y) = network(build, **options), images(1)
    through = np.array(list(itertools.product([False, True], repeat=3)))  # all 8 paths
    summed = paths.path_gradients(model, np.repeat(x, 8, 0), np.repeat(y, 8), through).sum(0)
    # The full gradient at the first block's input, from Keras alone.
    first_input = model.get_layer("stage1_block1_conv1").input
    if kind == "pre-activation":
        first_input = model.get_layer("stage1_block1_bn1").input
    front, back = keras.Model(model.input, first_input), keras.Model(first_input, model.output)
    h = front(x, training=False)
    with tf.GradientTape() as tape:
        tape.watch(h)
        loss = keras.losses.sparse_categorical_crossentropy(y, back(h, training=False))
    full = tape.gradient(loss, h).numpy()[0]
    assert np.abs(full).max() > 1e-3
    np.testing.assert_allclose(summed, full, atol=1e-6)


def test_gradient_norms_along_paths_of_each_length():
    model, (x, y) = network(models.cifar_resnet), images(4)
    norms = paths.path_gradient_norms(model, x, y, [0, 1, 2, 3], seed=0)
    assert norms.shape == (4,) and (norms > 0).all()
    again = paths.path_gradient_norms(model, x, y, np.array([0, 1, 2, 3]), seed=np.int64(0))
    np.testing.assert_array_equal(norms, again)
    # The path of no branches and the path of all of them, for one example, by hand (float32
    # convolutions over a batch of one against a batch of four: equal to a few ulps).
    none = paths.path_gradients(model, x[:1], y[:1], np.zeros((1, 3), bool))
    assert norms[0] == pytest.approx(np.sqrt((none.astype(float) ** 2).sum()), rel=1e-5)
    every = paths.path_gradients(model, x[3:], y[3:], np.ones((1, 3), bool))
    assert norms[3] == pytest.approx(np.sqrt((every.astype(float) ** 2).sum()), rel=1e-5)


def test_bad_arguments_are_named():
    model, (x, y) = network(models.cifar_resnet), images(2)
    with pytest.raises(ValueError, match="deleted must be one of .*deleted='stage9_block1'"):
        paths.forward(model, x, deleted=["stage9_block1"])
    with pytest.raises(ValueError, match=r"lengths must give each of the 2 examples .* 0\.\.3"):
        paths.path_gradient_norms(model, x, y, [0, 4])
    with pytest.raises(ValueError, match="lengths must .* dtype float64"):
        paths.path_gradient_norms(model, x, y, [0.0, 1.5])
    with pytest.raises(ValueError, match="x must hold at least one example"):
        paths.path_gradient_norms(model, x[:0], y[:0], [])
    with pytest.raises(ValueError, match="y must hold one label per example of x, 2"):
        paths.path_gradient_norms(model, x, y[:1], [0, 1])
    with pytest.raises(ValueError, match="seed must be .* seed=-1"):
        paths.path_gradient_norms(model, x, y, [0, 1], seed=-1)
    with pytest.raises(ValueError, match=r"through must have one row per example"):
        paths.path_gradients(model, x, y, np.ones((2, 2), bool))
    with pytest.raises(ValueError, match="model must be a residual network"):
        paths.path_gradients(network(models.plain_net), x, y, np.ones((2, 3), bool))


def test_networks_whose_blocks_cannot_be_read_are_refused_by_name():
    sequential = keras.Sequential([keras.Input((4,)), layers.Dense(1)], name="mlp")
    with pytest.raises(ValueError, match="model 'mlp': it is not a functional keras.Model"):
        paths.block_names(sequential)
    inputs = keras.Input((8, 8, 1))
    convolutions = layers.Conv2D(4, 3, name="conv_b")(layers.Conv2D(4, 3, name="conv_a")(inputs))
    cnn = keras.Model(inputs, layers.Dense(10)(layers.Flatten()(convolutions)), name="cnn")
    with pytest.raises(ValueError, match="model 'cnn': it has no Add layers"):
        paths.forward(cnn, np.zeros((1, 8, 8, 1), "float32"))
    # Residual units with a layer between them: not a chain of blocks.
    inputs = keras.Input((4,))
    h = layers.Add(name="one_add")([inputs, layers.Dense(4, name="one_dense")(inputs)])
    h = layers.Dense(4, name="between")(h)
    h = layers.Add(name="two_add")([h, layers.Dense(4, name="two_dense")(h)])
    with pytest.raises(ValueError, match=r"layers \['between'\] lie between two blocks"):
        paths.split_network(keras.Model(inputs, h, name="gap"))
    # A stem of two paths before the first block: not a chain either.
    inputs = keras.Input((4,), name="features")
    h = layers.Concatenate(name="both")([layers.Dense(2)(inputs), layers.Dense(2)(inputs)])
    h = layers.Add(name="unit_add")([h, layers.Dense(4, name="unit_dense")(h)])
    with pytest.raises(ValueError, match="layer 'both' does not lead back to 'features' by single"):
        paths.block_names(keras.Model(inputs, h, name="forked"))


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


def test_statistics_from_the_batch_in_a_preactivation_network():
    model, (x, _) = network(models.preactivation_resnet), images(16)
    statistics = {}
    training = paths.forward(model, x, statistics=statistics)
    assert len(statistics) == 7  # two per block and the final BatchNorm; the stem has none
    np.testing.assert_allclose(training, model(x, training=True), atol=2e-5)
