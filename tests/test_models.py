import numpy as np
import pytest

from resnet_book import models

PAPER_COUNTS = {20: 269_722, 32: 464_154, 44: 658_586, 56: 853_018, 110: 1_727_962}


def trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


@pytest.mark.parametrize("depth, count", PAPER_COUNTS.items())
def test_resnet_option_a_has_the_papers_trainable_parameter_count(depth, count):
    assert trainable(models.cifar_resnet(depth)) == count


@pytest.mark.parametrize("depth", [20, 56])
def test_plain_twin_has_exactly_the_parameters_of_its_residual_twin(depth):
    assert trainable(models.plain_net(depth)) == PAPER_COUNTS[depth]


@pytest.mark.parametrize("depth", [20, 32, 44, 56, 110])
def test_option_b_adds_2752_parameters_at_every_depth(depth):
    assert (
        trainable(models.cifar_resnet(depth, shortcut="projection")) == PAPER_COUNTS[depth] + 2752
    )


def test_option_c_projects_every_shortcut():
    model = models.cifar_resnet(20, shortcut="all_projection")
    projections = [layer.name for layer in model.layers if layer.name.endswith("_proj_conv")]
    assert len(projections) == 9


def test_resnet20_layer_names_are_hierarchical_and_identical_across_builds():
    first = [layer.name for layer in models.cifar_resnet(20).layers]
    second = [layer.name for layer in models.cifar_resnet(20).layers]
    assert first == second
    for name in ["stem_conv", "stage2_block1_conv1", "stage2_block1_bn2", "stage2_block1_add",
                 "stage2_block1_pad", "stage3_block3_out", "pool", "classifier"]:  # fmt: skip
        assert name in first


def test_plain_and_residual_twins_differ_only_in_the_shortcut_layers():
    residual = {layer.name for layer in models.cifar_resnet(20).layers}
    plain = {layer.name for layer in models.plain_net(20).layers}
    assert plain < residual
    assert {n.rsplit("_", 1)[1] for n in residual - plain} == {"add", "subsample", "pad"}


def test_option_a_shortcut_subsamples_and_zero_pads():
    import keras

    inputs = keras.Input((8, 8, 4))
    outputs = models.shortcut_path(inputs, 8, 2, "zero_pad", "block")
    x = np.arange(2 * 8 * 8 * 4, dtype="float32").reshape(2, 8, 8, 4)
    y = keras.Model(inputs, outputs)(x).numpy()
    np.testing.assert_array_equal(y[..., :4], x[:, ::2, ::2, :])
    np.testing.assert_array_equal(y[..., 4:], 0)


def test_bottleneck_and_preactivation_blocks_have_the_expected_shapes():
    import keras

    inputs = keras.Input((8, 8, 64))
    assert models.bottleneck_block(inputs, 16, stride=2, name="b").shape == (None, 4, 4, 64)
    assert models.preactivation_block(inputs, 128, 2, "projection", name="p").shape == (
        None,
        4,
        4,
        128,
    )


@pytest.mark.parametrize("depth", [21, 7, 2, 20.0, "20", True])
def test_depth_that_is_not_6n_plus_2_is_rejected(depth):
    with pytest.raises(ValueError, match=rf"depth must be 6n\+2.*Received: depth={depth!r}"):
        models.cifar_resnet(depth)
    with pytest.raises(ValueError, match="depth="):
        models.plain_net(depth)


def test_unknown_shortcut_is_rejected():
    with pytest.raises(ValueError, match="shortcut='D'"):
        models.cifar_resnet(20, shortcut="D")


def test_a_paper_letter_for_the_shortcut_gets_the_options_name():
    with pytest.raises(ValueError, match="'projection' for the paper's option B.*shortcut='B'"):
        models.cifar_resnet(20, shortcut="B")


def test_plain_block_is_the_residual_block_without_the_shortcut():
    import keras

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


def test_trainable_parameters_counts_kernels_and_batchnorm_scales_not_moving_statistics():
    import keras

    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, use_bias=False)(inputs)
    x = keras.layers.BatchNormalization()(x)
    model = keras.Model(inputs, keras.layers.Dense(5)(x))
    # 3*3*3*4 kernel; gamma and beta of 4 channels; 4*5 + 5 dense. Moving mean and variance: no.
    assert models.trainable_parameters(model) == 108 + 8 + 25
    model.layers[1].trainable = False
    assert models.trainable_parameters(model) == 8 + 25


@pytest.mark.parametrize("filters", [0, -16, 16.5])
def test_non_positive_filter_count_is_rejected(filters):
    import keras

    with pytest.raises(ValueError, match=f"filters={filters!r}"):
        models.residual_block(keras.Input((8, 8, 16)), filters)


def test_identity_shortcut_that_cannot_match_names_the_fix():
    import keras

    with pytest.raises(ValueError, match="filters=16.*shortcut='projection' or 'all_projection'"):
        models.residual_block(keras.Input((8, 8, 32)), 16, shortcut="zero_pad")
    block = models.residual_block(keras.Input((8, 8, 32)), 16, shortcut="projection")
    assert block.shape == (None, 8, 8, 16)


def test_multiply_adds_count_convolutions_on_their_output_grid():
    import keras

    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, strides=2, padding="same")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(5)(keras.layers.Flatten()(x)))
    assert models.multiply_adds(model) == 4 * 4 * 3 * 3 * 3 * 4 + 64 * 5


def test_resnet56_and_plain56_do_the_same_arithmetic():
    assert models.multiply_adds(models.cifar_resnet(56)) == 125_485_696
    assert models.multiply_adds(models.plain_net(56)) == 125_485_696


def test_kernel_gradient_norms_follow_the_layers_of_a_keras_model():
    from resnet_book import data

    model = models.cifar_resnet(20, input_shape=(8, 8, 1))
    (x, y), _ = data.digits_images(size=8)
    names, norms = models.kernel_gradient_norms(model, x[:16], y[:16])
    assert names[0] == "stem_conv" and names[-1] == "classifier" and len(names) == 20
    assert norms.shape == (20,) and (norms > 0).all()
    with pytest.raises(ValueError, match="16 and 3"):
        models.kernel_gradient_norms(model, x[:16], y[:3])


def test_bottleneck_strides_the_first_1x1_as_the_paper_or_the_3x3_as_v15():
    import keras

    inputs = keras.Input((8, 8, 64))
    v1 = keras.Model(inputs, models.bottleneck_block(inputs, 16, stride=2, name="v1"))
    v15 = keras.Model(
        inputs, models.bottleneck_block(inputs, 16, stride=2, stride_on="3x3", name="v15")
    )
    assert v1.get_layer("v1_conv1").strides == (2, 2) and v1.get_layer("v1_conv2").strides == (1, 1)
    assert v15.get_layer("v15_conv1").strides == (1, 1)
    assert v15.get_layer("v15_conv2").strides == (2, 2)
    assert models.multiply_adds(v15) > models.multiply_adds(v1)
    with pytest.raises(ValueError, match="stride_on='2x2'"):
        models.bottleneck_block(inputs, 16, stride_on="2x2")


@pytest.mark.parametrize("depth", [20, 56])
def test_preactivation_resnet_has_the_weighted_layers_and_parameter_count_of_v1(depth):
    v1, v2 = models.cifar_resnet(depth), models.preactivation_resnet(depth)
    assert trainable(v2) == trainable(v1) == PAPER_COUNTS[depth]
    kernels = {m: [w.shape for w in m.weights if "kernel" in w.path] for m in (v1, v2)}
    assert kernels[v1] == kernels[v2]


def test_preactivation_resnet_has_nothing_after_its_additions_and_normalises_at_the_end():
    import keras

    model = models.preactivation_resnet(20, input_shape=(16, 16, 1))
    names = [layer.name for layer in model.layers]
    assert "stem_bn" not in names and names[-4:] == ["final_bn", "final_relu", "pool", "classifier"]
    for layer in model.layers:
        if isinstance(layer, keras.layers.Add):
            readers = [node.operation for node in layer._outbound_nodes]
            assert not any(isinstance(r, keras.layers.ReLU) for r in readers), layer.name


def test_saved_activations_are_the_same_with_and_without_shortcuts_and_grow_per_layer():
    counts = {depth: models.saved_activations(models.cifar_resnet(depth, input_shape=(8, 8, 1)))
              for depth in (8, 14, 20)}  # fmt: skip
    assert counts[8] == models.saved_activations(models.plain_net(8, input_shape=(8, 8, 1)))
    assert counts[14] - counts[8] == counts[20] - counts[14] > 0
    # ResNet-8 on 8x8x1, by hand: the image (the stem convolution's input), the stem's output and
    # its ReLU's; per block the conv1 output, the ReLU between, the conv2 output and the block's
    # output ReLU (its input is the previous ReLU's output, counted); the classifier's input.
    maps = {1: 8 * 8 * 16, 2: 4 * 4 * 32, 3: 2 * 2 * 64}
    expected = 8 * 8 * 1 + 2 * maps[1] + sum(4 * size for size in maps.values()) + 64
    assert counts[8] == expected


def test_multiply_adds_count_depthwise_separable_grouped_and_per_position_dense_layers():
    import keras

    inputs = keras.Input((8, 8, 4))
    x = keras.layers.DepthwiseConv2D(3, padding="same")(inputs)  # 8*8 * 3*3*4
    x = keras.layers.SeparableConv2D(6, 3, strides=2, padding="same")(x)  # 4*4 * (3*3*4 + 4*6)
    x = keras.layers.Conv2D(6, 1, groups=2)(x)  # 4*4 * 3*6
    x = keras.layers.Dense(5)(x)  # 4*4 * 6*5, at every position
    model = keras.Model(inputs, x)
    expected = 64 * 36 + 16 * (36 + 24) + 16 * 18 + 16 * 30
    assert models.multiply_adds(model) == expected
    # A nested model counts in its place.
    outer_inputs = keras.Input((8, 8, 4))
    outer = keras.Model(outer_inputs, keras.layers.Dense(2)(model(outer_inputs)))
    assert models.multiply_adds(outer) == expected + 16 * 10


def test_multiply_adds_needs_a_fixed_input_size():
    import keras

    inputs = keras.Input((None, None, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(4, 3, name="free")(inputs), name="open")
    with pytest.raises(ValueError, match="'free'.*model='open'"):
        models.multiply_adds(model)


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


def test_unknown_norm_is_rejected():
    with pytest.raises(ValueError, match="norm must be one of .* Received: norm='layer'"):
        models.cifar_resnet(8, norm="layer")


def test_tabular_net_twins_share_their_layers_and_residual_units_start_as_the_identity():
    residual = models.tabular_net(30, 3)
    plain = models.tabular_net(30, 3, residual=False)
    assert models.trainable_parameters(residual) == models.trainable_parameters(plain)
    assert [layer.name for layer in residual.layers if "dense" in layer.name] == [
        layer.name for layer in plain.layers if "dense" in layer.name
    ]
    assert not any("_add" in layer.name for layer in plain.layers)
    # Zero second layers: every unit passes its input on unchanged (it is already non-negative).
    x = np.random.default_rng(0).normal(size=(4, 30)).astype("float32")
    embed = models.keras.Model(residual.input, residual.get_layer("embed").output)
    last = models.keras.Model(residual.input, residual.get_layer("unit3_out").output)
    np.testing.assert_allclose(last(x), embed(x))


def test_tabular_net_rejects_bad_arguments():
    with pytest.raises(ValueError, match="num_units must be a positive integer. .* num_units=0"):
        models.tabular_net(30, 0)
    with pytest.raises(ValueError, match="branch_init must be one of .* branch_init='ones'"):
        models.tabular_net(30, 2, branch_init="ones")
