import subprocess
import sys

import pytest

from resnet_book import models, structure
from resnet_book.backend import keras, layers


def wrap(block, filters=16, channels=16, **options):
    inputs = keras.Input((32, 32, channels))
    return keras.Model(inputs, block(inputs, filters, name="block", **options))


def kinds(path):
    return [type(layer) for layer in path]


def test_importing_the_readers_and_the_diagrams_starts_no_tensorflow():
    code = (
        "import resnet_book.structure, resnet_book.diagrams, sys; "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- What a layer is ------------------------------------------------------------------------


def test_weighted_layers_are_convolutions_and_dense_layers():
    assert structure.is_weighted(layers.Conv2D(4, 3)) and structure.is_weighted(layers.Dense(4))
    assert not structure.is_weighted(layers.BatchNormalization())
    assert structure.is_conv(layers.Conv2D(4, 1)) and not structure.is_conv(layers.Dense(4))
    assert structure.is_add(layers.Add()) and not structure.is_add(layers.ReLU())


def test_checks_name_the_argument_and_the_value():
    with pytest.raises(ValueError, match="net must be a keras.Model. Received: net='block'"):
        structure.check_model("net", "block")
    inputs = keras.Input((4,))
    two_outputs = keras.Model(inputs, [layers.Dense(2)(inputs), layers.Dense(3)(inputs)])
    structure.check_model("model", two_outputs)
    with pytest.raises(ValueError, match="model must be a keras.Model with one input and one"):
        structure.check_graph("model", two_outputs)


# --- block_structure ------------------------------------------------------------------------


def test_block_structure_of_residual_block_has_identity_shortcut():
    block = structure.block_structure(wrap(models.residual_block))
    assert kinds(block.branch) == [
        layers.Conv2D,
        layers.BatchNormalization,
        layers.ReLU,
        layers.Conv2D,
        layers.BatchNormalization,
    ]
    assert block.shortcut == [] and block.before == []
    assert isinstance(block.add, layers.Add)
    assert kinds(block.after) == [layers.ReLU]


def test_block_structure_finds_option_a_and_projection_shortcuts():
    zero_pad = structure.block_structure(wrap(models.residual_block, 32, stride=2))
    assert kinds(zero_pad.shortcut) == [layers.AveragePooling2D, models.ZeroPadChannels]
    projection = structure.block_structure(
        wrap(models.residual_block, 32, stride=2, shortcut="projection")
    )
    assert kinds(projection.shortcut) == [layers.Conv2D, layers.BatchNormalization]


def test_block_structure_reads_the_graph_not_the_names_or_input_order():
    inputs = keras.Input((8, 8, 4))
    y = layers.Conv2D(4, 3, padding="same", name="a")(inputs)
    y = layers.Conv2D(4, 3, padding="same", name="b")(y)
    model = keras.Model(inputs, layers.Add(name="c")([y, inputs]))  # branch first
    block = structure.block_structure(model)
    assert [layer.name for layer in block.branch] == ["a", "b"]
    assert block.shortcut == [] and block.after == []


def test_block_structure_of_plain_and_preactivation_blocks():
    plain = structure.block_structure(wrap(models.plain_block))
    assert plain.shortcut is None and plain.add is None and plain.before == plain.after == []
    assert sum(structure.is_conv(layer) for layer in plain.branch) == 2
    preactivation = structure.block_structure(wrap(models.preactivation_block))
    assert kinds(preactivation.branch)[:2] == [layers.BatchNormalization, layers.ReLU]
    assert preactivation.shortcut == [] and preactivation.after == []


def test_block_structure_of_the_bottleneck_block():
    block = structure.block_structure(wrap(models.bottleneck_block, 16, stride=2))
    assert [layer.kernel_size for layer in block.branch if structure.is_conv(layer)] == [
        (1, 1),
        (3, 3),
        (1, 1),
    ]
    assert kinds(block.shortcut) == [layers.Conv2D, layers.BatchNormalization]
    assert kinds(block.after) == [layers.ReLU]


def test_block_structure_refuses_two_blocks_and_other_values():
    inputs = keras.Input((8, 8, 4))
    x = models.residual_block(inputs, 4, name="one")
    two_blocks = keras.Model(inputs, models.residual_block(x, 4, name="two"))
    with pytest.raises(ValueError, match="at most one Add.*2 Add layers"):
        structure.block_structure(two_blocks)
    with pytest.raises(ValueError, match="model must be a keras.Model. Received: model=None"):
        structure.block_structure(None)


# --- residual_units -------------------------------------------------------------------------


def test_residual_units_of_resnet20():
    units = structure.residual_units(models.cifar_resnet(20, input_shape=(32, 32, 3)))
    assert len(units) == 9  # 3 stages of 3 blocks (section 4.2)
    assert [unit.changes_shape for unit in units].count(True) == 2  # where a stage starts
    assert all(sum(structure.is_conv(layer) for layer in unit.branch) == 2 for unit in units)
    assert structure.residual_units(models.plain_net(8)) == []


def test_residual_units_with_projections_keep_them_on_the_shortcut():
    units = structure.residual_units(models.cifar_resnet(20, "projection"))
    projected = [unit for unit in units if any(map(structure.is_conv, unit.shortcut))]
    assert len(projected) == 2 and all(unit.changes_shape for unit in projected)


def test_residual_units_of_dense_layers():
    units = structure.residual_units(models.tabular_net(5, 3))
    assert [unit.add.name for unit in units] == ["unit1_add", "unit2_add", "unit3_add"]
    assert all(kinds(unit.branch) == [layers.Dense, layers.Dense] for unit in units)
    assert all(unit.shortcut == [] and not unit.changes_shape for unit in units)
    assert [unit.fork.name for unit in units] == ["embed", "unit1_out", "unit2_out"]


def test_residual_units_refuse_an_addition_of_three_tensors():
    inputs = keras.Input((4,))
    total = layers.Add(name="three")([inputs, layers.Dense(4)(inputs), layers.Dense(4)(inputs)])
    with pytest.raises(ValueError, match="must each add two tensors. Received: 'three' adding 3"):
        structure.residual_units(keras.Model(inputs, total))
    with pytest.raises(ValueError, match="model must be a keras.Model. Received: model=20"):
        structure.residual_units(20)


# --- layers_between -------------------------------------------------------------------------


def test_layers_between_follows_single_inputs_from_start_to_end():
    inputs = keras.Input((4,), name="x")
    a = layers.Dense(4, name="a")(inputs)
    b = layers.Dense(4, name="b")(a)
    fork = layers.Add(name="both")([b, layers.Dense(4, name="c")(a)])
    model = keras.Model(inputs, layers.ReLU(name="out")(fork))
    source, named = model.layers[0], {layer.name: layer for layer in model.layers}
    assert [layer.name for layer in structure.layers_between(model, source, named["b"])] == [
        "a",
        "b",
    ]
    assert structure.layers_between(model, named["b"], named["b"]) == []
    with pytest.raises(ValueError, match="layer 'both' reading 2 tensors"):
        structure.layers_between(model, source, named["out"])
    with pytest.raises(ValueError, match="end must be a layer of model"):
        structure.layers_between(model, source, layers.Dense(4))
