import re

import numpy as np
import pytest

from resnet_book import measure, models
from resnet_book.backend import keras, layers

# Table 6 of the paper gives 0.27M, 0.46M, 0.66M, 0.85M and 1.7M; these are the exact counts of
# its architecture with option A (BatchNorm's scale and shift included, its statistics not).
PAPER_COUNTS = {20: 269_722, 32: 464_154, 44: 658_586, 56: 853_018, 110: 1_727_962}
# Option B's two projections, by hand: 1x1 kernels 16x32 and 32x64, a BatchNorm scale and shift
# for each of their 32 and 64 output channels.
PROJECTIONS = 16 * 32 + 2 * 32 + 32 * 64 + 2 * 64


@pytest.fixture(scope="module")
def built():
    """Build each full-size network once for the whole module: ResNet-110 takes about a second."""
    networks = {}

    def build(builder, depth, shortcut=None):
        key = (builder, depth, shortcut)
        if key not in networks:
            networks[key] = builder(depth, shortcut) if shortcut else builder(depth)
        return networks[key]

    return build


@pytest.mark.parametrize("depth, count", PAPER_COUNTS.items())
def test_resnet_option_a_has_the_papers_trainable_parameter_count(built, depth, count):
    assert measure.trainable_parameters(built(models.cifar_resnet, depth)) == count


@pytest.mark.parametrize("depth", [20, 56])
def test_plain_twin_has_exactly_the_parameters_of_its_residual_twin(built, depth):
    assert measure.trainable_parameters(built(models.plain_net, depth)) == PAPER_COUNTS[depth]


@pytest.mark.parametrize("depth", [20, 56])
def test_option_b_adds_two_projections_whatever_the_depth(built, depth):
    model = built(models.cifar_resnet, depth, "projection")
    assert measure.trainable_parameters(model) == PAPER_COUNTS[depth] + PROJECTIONS


@pytest.mark.parametrize("depth", [20, 56])
def test_preactivation_resnet_has_the_weighted_layers_and_parameter_count_of_v1(built, depth):
    v1, v2 = built(models.cifar_resnet, depth), built(models.preactivation_resnet, depth)
    assert measure.trainable_parameters(v2) == PAPER_COUNTS[depth]
    kernels = {m: [w.shape for w in m.weights if "kernel" in w.path] for m in (v1, v2)}
    assert kernels[v1] == kernels[v2]


def test_option_c_projects_every_shortcut():
    model = models.cifar_resnet(20, shortcut="all_projection")
    projections = [layer.name for layer in model.layers if layer.name.endswith("_proj_conv")]
    assert len(projections) == 9


def test_every_layer_is_named_by_its_place_in_the_network(built):
    model = built(models.cifar_resnet, 20)
    names = [layer.name for layer in model.layers]
    hierarchical = re.compile(
        r"image|stem_(conv|bn|relu)|stage[1-3]_block[1-3]_\w+|pool|classifier"
    )
    assert all(hierarchical.fullmatch(name) for name in names), names
    # The name of each convolution says where it is: stage s has 16 * 2**(s - 1) filters, and
    # only the first convolution of stages 2 and 3 halves the resolution.
    convolutions = [layer for layer in model.layers if isinstance(layer, layers.Conv2D)]
    places = [(s, b, c) for s in (1, 2, 3) for b in (1, 2, 3) for c in (1, 2)]
    assert [layer.name for layer in convolutions] == [
        "stem_conv",
        *(f"stage{s}_block{b}_conv{c}" for s, b, c in places),
    ]
    for layer, (s, b, c) in zip(convolutions[1:], places, strict=True):
        assert layer.filters == 16 * 2 ** (s - 1)
        assert layer.strides == ((2, 2) if s > 1 and b == 1 and c == 1 else (1, 1)), layer.name
    # An addition belongs to the block of the branch it ends.
    for add in (layer for layer in model.layers if isinstance(layer, layers.Add)):
        branch_end = add.input[1]._keras_history.operation
        assert branch_end.name == add.name.replace("_add", "_bn2")
    # A second build numbers nothing further, as Keras does with names it makes up.
    assert [layer.name for layer in models.cifar_resnet(20).layers] == names


def test_plain_and_residual_twins_differ_only_in_the_shortcut_layers(built):
    residual = {layer.name for layer in built(models.cifar_resnet, 20).layers}
    plain = {layer.name for layer in built(models.plain_net, 20).layers}
    assert plain < residual
    assert {n.rsplit("_", 1)[1] for n in residual - plain} == {"add", "subsample", "pad"}


def test_option_a_shortcut_subsamples_and_zero_pads():
    inputs = keras.Input((8, 8, 4))
    outputs = models.shortcut_path(inputs, 8, 2, "zero_pad", "block")
    x = np.arange(2 * 8 * 8 * 4, dtype="float32").reshape(2, 8, 8, 4)
    y = keras.Model(inputs, outputs)(x).numpy()
    np.testing.assert_array_equal(y[..., :4], x[:, ::2, ::2, :])
    np.testing.assert_array_equal(y[..., 4:], 0)


def centre_taps_read(block, size):
    """The maps [shortcut, branch] a block adds for a ramp image, every kernel a centre tap.

    Each convolution copies channel ``k`` of its input's centre pixel to channel ``k``, and
    untrained BatchNorm in inference mode passes its input on (to rounding), so each path's
    channel 0 says which input pixel it read: the ramp holds ``10 * row + column`` there.
    """
    image = keras.Input((size, size, 1))
    model = keras.Model(image, block(image, name="probe"))
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            kernel = np.zeros(layer.kernel.shape, "float32")
            kernel[kernel.shape[0] // 2, kernel.shape[1] // 2] = np.eye(*kernel.shape[2:])
            layer.kernel.assign(kernel)
    paths = keras.Model(image, model.get_layer("probe_add").input)
    rows, columns = np.indices((size, size))
    ramp = (10 * rows + columns).astype("float32").reshape(1, size, size, 1)
    return [np.rint(path.numpy()[0, :, :, 0]).astype(int) for path in paths(ramp)]


DOWNSAMPLING = {
    "v1, option A": lambda x, name: models.residual_block(x, 4, 2, "zero_pad", name),
    "v1, option B": lambda x, name: models.residual_block(x, 4, 2, "projection", name),
    "v1, option C": lambda x, name: models.residual_block(x, 4, 2, "all_projection", name),
    "bottleneck, stride on the 1x1": lambda x, name: models.bottleneck_block(x, 2, 2, name=name),
    "bottleneck v1.5, on the 3x3": lambda x, name: models.bottleneck_block(
        x, 2, 2, stride_on="3x3", name=name
    ),
    "pre-activation, option A": lambda x, name: models.preactivation_block(x, 4, 2, name=name),
    "pre-activation, option B": lambda x, name: models.preactivation_block(
        x, 4, 2, "projection", name
    ),
}


@pytest.mark.parametrize("size", [8, 9])
@pytest.mark.parametrize("kind", DOWNSAMPLING)
def test_a_downsampling_blocks_shortcut_and_branch_read_the_same_input_pixels(kind, size):
    shortcut, branch = centre_taps_read(DOWNSAMPLING[kind], size)
    rows, columns = np.indices(((size + 1) // 2,) * 2)
    np.testing.assert_array_equal(shortcut, 10 * 2 * rows + 2 * columns)  # pixel (2i, 2j)
    np.testing.assert_array_equal(branch, shortcut)


def test_keras_same_padding_alone_would_centre_a_strided_branch_one_pixel_off():
    # Why models.conv pads by hand: the offset it removes, in Keras' own layer.
    image = keras.Input((8, 8, 1))
    same = keras.Model(image, layers.Conv2D(1, 3, 2, padding="same", use_bias=False)(image))
    kernel = np.zeros((3, 3, 1, 1), "float32")
    kernel[1, 1] = 1
    same.layers[1].kernel.assign(kernel)
    ramp = np.arange(64, dtype="float32").reshape(1, 8, 8, 1)
    np.testing.assert_array_equal(same(ramp).numpy()[0, :, :, 0], ramp[0, 1::2, 1::2, 0])


def test_bottleneck_and_preactivation_blocks_have_the_expected_shapes():
    inputs = keras.Input((8, 8, 64))
    assert models.bottleneck_block(inputs, 16, stride=2, name="b").shape == (None, 4, 4, 64)
    block = models.preactivation_block(inputs, 128, 2, "projection", name="p")
    assert block.shape == (None, 4, 4, 128)


@pytest.mark.parametrize("depth", [21, 7, 2, 20.0, "20", True, None])
def test_depth_that_is_not_6n_plus_2_is_rejected(depth):
    with pytest.raises(ValueError, match=rf"depth must be 6n\+2.*Received: depth={depth!r}"):
        models.cifar_resnet(depth)
    with pytest.raises(ValueError, match="depth="):
        models.plain_net(depth)
    with pytest.raises(ValueError, match="depth="):
        models.preactivation_resnet(depth)


def test_numpy_integers_are_accepted_where_python_ones_are():
    small = {"input_shape": (8, 8, 1), "width": 4, "num_classes": 3}
    as_numpy = {
        "input_shape": (np.int64(8), 8, np.int32(1)),
        "width": np.int64(4),
        "num_classes": np.int64(3),
    }
    for build in (models.cifar_resnet, models.plain_net, models.preactivation_resnet):
        python, numpy = build(8, **small), build(np.int64(8), **as_numpy)
        assert numpy.name == python.name and numpy.output.shape == (None, 3)
        assert measure.trainable_parameters(numpy) == measure.trainable_parameters(python)
    block = models.residual_block(keras.Input((8, 8, 4)), np.int64(8), np.int64(2))
    assert block.shape == (None, 4, 4, 8)
    assert models.tabular_net(np.int64(5), np.int64(2), width=np.int64(8)).name == "residual_mlp2"


BAD_NETWORKS = {
    "shortcut=['projection']": dict(shortcut=["projection"]),
    "shortcut='D'": dict(shortcut="D"),
    "norm='layer'": dict(norm="layer"),
    "num_classes=1": dict(num_classes=1),
    "num_classes=2.0": dict(num_classes=2.0),
    "width=0": dict(width=0),
    "input_shape=(32, 32)": dict(input_shape=(32, 32)),
    "input_shape=(32, 0, 3)": dict(input_shape=(32, 0, 3)),
    "input_shape=(32.0, 32, 3)": dict(input_shape=(32.0, 32, 3)),
    "input_shape='32x32x3'": dict(input_shape="32x32x3"),
    "input_shape=None": dict(input_shape=None),
}


@pytest.mark.parametrize("received", BAD_NETWORKS)
def test_bad_arguments_of_a_network_are_named_with_their_value(received):
    with pytest.raises(ValueError, match=r" must be .*Received: " + re.escape(received) + "$"):
        models.cifar_resnet(20, **BAD_NETWORKS[received])


def test_a_paper_letter_for_the_shortcut_gets_the_options_name():
    with pytest.raises(ValueError, match="'projection' for the paper's option B.*shortcut='B'"):
        models.cifar_resnet(20, shortcut="B")


def test_conv_norm_names_its_layers_by_the_normalisation_and_refuses_unknown_ones():
    inputs = keras.Input((8, 8, 3))
    for norm, names in {
        "batch": ["c_conv1", "c_bn1"],
        "group": ["c_conv1", "c_gn1"],
        "none": ["c_conv1"],
    }.items():
        model = keras.Model(inputs, models.conv_norm(inputs, 8, 3, 1, "c", 1, norm))
        assert [layer.name for layer in model.layers[1:]] == names
    with pytest.raises(ValueError, match="norm must be one of .* Received: norm='layer'"):
        models.conv_norm(inputs, 8, 3, 1, "c", norm="layer")
    with pytest.raises(ValueError, match="kernel_size must be a positive integer"):
        models.conv_norm(inputs, 8, 0, 1, "c")


def test_plain_block_is_the_residual_block_without_the_shortcut():
    inputs = keras.Input((8, 8, 16))
    plain = keras.Model(inputs, models.plain_block(inputs, 16, name="b"))
    residual = keras.Model(inputs, models.residual_block(inputs, 16, name="b"))
    assert {w.name for w in plain.weights} == {w.name for w in residual.weights}
    assert {layer.name for layer in residual.layers} - {layer.name for layer in plain.layers} == {
        "b_add"
    }
    residual.set_weights(plain.get_weights())
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 16)).astype("float32")
    # Without the ReLU at the end, the residual block's output is the plain one's plus x.
    before_relu = {m: keras.Model(m.input, m.layers[-2].output) for m in (plain, residual)}
    np.testing.assert_allclose(
        before_relu[residual](x).numpy(), before_relu[plain](x).numpy() + x, atol=1e-5
    )


@pytest.mark.parametrize("filters", [0, -16, 16.5])
def test_non_positive_filter_count_is_rejected(filters):
    with pytest.raises(ValueError, match=f"filters={filters!r}"):
        models.residual_block(keras.Input((8, 8, 16)), filters)


@pytest.mark.parametrize("stride", [0, 3, 1.0, "2"])
def test_a_stride_other_than_1_or_2_is_rejected(stride):
    with pytest.raises(ValueError, match=f"stride must be an integer in 1..2.*stride={stride!r}"):
        models.residual_block(keras.Input((8, 8, 16)), 16, stride)


def test_identity_shortcut_that_cannot_match_names_the_fix():
    with pytest.raises(ValueError, match="filters=16.*shortcut='projection' or 'all_projection'"):
        models.residual_block(keras.Input((8, 8, 32)), 16, shortcut="zero_pad")
    block = models.residual_block(keras.Input((8, 8, 32)), 16, shortcut="projection")
    assert block.shape == (None, 8, 8, 16)


def test_bottleneck_strides_the_first_1x1_as_the_paper_or_the_3x3_as_v15():
    inputs = keras.Input((8, 8, 64))
    v1 = keras.Model(inputs, models.bottleneck_block(inputs, 16, stride=2, name="v1"))
    v15 = keras.Model(
        inputs, models.bottleneck_block(inputs, 16, stride=2, stride_on="3x3", name="v15")
    )
    assert v1.get_layer("v1_conv1").strides == (2, 2) and v1.get_layer("v1_conv2").strides == (1, 1)
    assert v15.get_layer("v15_conv1").strides == (1, 1)
    assert v15.get_layer("v15_conv2").strides == (2, 2)
    # The first 1x1 (64 to 16 channels) runs on 8x8 instead of 4x4: 48 positions more.
    assert measure.multiply_adds(v15) - measure.multiply_adds(v1) == 48 * 64 * 16
    with pytest.raises(ValueError, match="stride_on='2x2'"):
        models.bottleneck_block(inputs, 16, stride_on="2x2")


def test_preactivation_resnet_has_nothing_after_its_additions_and_normalises_at_the_end():
    model = models.preactivation_resnet(20, input_shape=(16, 16, 1))
    names = [layer.name for layer in model.layers]
    assert "stem_bn" not in names and names[-4:] == ["final_bn", "final_relu", "pool", "classifier"]
    for layer in model.layers:
        if isinstance(layer, layers.Add):
            readers = [node.operation for node in layer._outbound_nodes]
            assert not any(isinstance(r, layers.ReLU) for r in readers), layer.name


def test_norm_option_swaps_batchnorm_for_groupnorm_or_nothing_with_zero_final_convolutions():
    shape = (16, 16, 1)
    batch = models.cifar_resnet(8, input_shape=shape)
    group = models.cifar_resnet(8, input_shape=shape, norm="group")
    none = models.cifar_resnet(8, input_shape=shape, norm="none")
    kinds = {type(layer).__name__ for layer in group.layers}
    assert "GroupNormalization" in kinds and "BatchNormalization" not in kinds
    assert group.get_layer("stage3_block1_gn2").groups == 8
    assert not any("Normalization" in type(layer).__name__ for layer in none.layers)
    # Without normalisation every block starts as its shortcut: the last convolution is zero.
    for layer in none.layers:
        if layer.name.endswith("_conv2"):
            assert not np.any(layer.kernel.numpy())

    # The weighted layers are the same; only the normalisers differ.
    def weighted(model):
        return [layer.name for layer in model.layers if "conv" in layer.name]

    assert weighted(batch) == weighted(group) == weighted(none)
    # GroupNorm and no normalisation compute the same function in training and at inference.
    x = np.random.default_rng(0).normal(size=(2, *shape)).astype("float32")
    for model in (group, none):
        np.testing.assert_allclose(model(x, training=True), model(x, training=False), atol=1e-6)


def test_tabular_net_twins_share_their_layers_and_residual_units_start_as_the_identity():
    residual = models.tabular_net(30, 3)
    plain = models.tabular_net(30, 3, residual=False)
    assert measure.trainable_parameters(residual) == measure.trainable_parameters(plain)
    assert [layer.name for layer in residual.layers if "dense" in layer.name] == [
        layer.name for layer in plain.layers if "dense" in layer.name
    ]
    assert not any("_add" in layer.name for layer in plain.layers)
    # Zero second layers: every unit passes its input on unchanged (it is already non-negative).
    x = np.random.default_rng(0).normal(size=(4, 30)).astype("float32")
    embed = keras.Model(residual.input, residual.get_layer("embed").output)
    last = keras.Model(residual.input, residual.get_layer("unit3_out").output)
    np.testing.assert_allclose(last(x), embed(x))


def test_signal_net_twins_differ_only_in_their_additions():
    residual, plain = models.signal_net(3, True), models.signal_net(3, False)
    residual_kinds = [type(layer).__name__ for layer in residual.layers]
    plain_kinds = [type(layer).__name__ for layer in plain.layers]
    assert residual_kinds.count("Add") == 3 and "Add" not in plain_kinds
    assert [kind for kind in residual_kinds if kind != "Add"] == plain_kinds
    # Stem (5 taps + bias), per block two 3-tap convolutions and two BatchNorms (4 numbers per
    # channel), the classifier: counted by hand.
    assert (
        residual.count_params()
        == plain.count_params()
        == ((5 * 16 + 16) + 3 * (2 * 3 * 16 * 16 + 2 * 4 * 16) + (16 * 10 + 10))
    )
    assert residual.output_shape == (None, 10)
    assert residual.get_layer("block3_add").output.shape[1:] == (40, 16)


def test_signal_net_rejects_bad_arguments():
    with pytest.raises(ValueError, match="num_blocks must be a positive integer. .* num_blocks=0"):
        models.signal_net(0, True)
    with pytest.raises(
        ValueError, match="residual must be True or False. Received: residual='yes'"
    ):
        models.signal_net(2, "yes")
    with pytest.raises(ValueError, match="filters must be a positive integer. .* filters=2.5"):
        models.signal_net(2, True, filters=2.5)


def test_tabular_net_rejects_bad_arguments():
    with pytest.raises(ValueError, match="num_units must be a positive integer. .* num_units=0"):
        models.tabular_net(30, 0)
    with pytest.raises(ValueError, match="branch_init must be one of .* branch_init='ones'"):
        models.tabular_net(30, 2, branch_init="ones")
    with pytest.raises(ValueError, match="residual must be True or False. Received: residual=1"):
        models.tabular_net(30, 2, residual=1)
