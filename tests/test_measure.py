import inspect

import numpy as np
import pytest

from resnet_book import measure, models
from resnet_book.backend import keras, layers, tf


def test_trainable_parameters_counts_kernels_and_batchnorm_scales_not_moving_statistics():
    inputs = keras.Input((8, 8, 3))
    x = layers.Conv2D(4, 3, use_bias=False)(inputs)
    x = layers.BatchNormalization()(x)
    model = keras.Model(inputs, layers.Dense(5)(x))
    # 3*3*3*4 kernel; gamma and beta of 4 channels; 4*5 + 5 dense. Moving mean and variance: no.
    assert measure.trainable_parameters(model) == 108 + 8 + 25
    model.layers[1].trainable = False
    assert measure.trainable_parameters(model) == 8 + 25
    assert measure.trainable_parameters(model.layers[-1]) == 25  # a layer too
    with pytest.raises(ValueError, match="model must be a keras.Model or layer. Received: model=3"):
        measure.trainable_parameters(3)


def test_multiply_adds_count_convolutions_on_their_output_grid():
    inputs = keras.Input((8, 8, 3))
    x = layers.Conv2D(4, 3, strides=2, padding="same")(inputs)
    model = keras.Model(inputs, layers.Dense(5)(layers.Flatten()(x)))
    assert measure.multiply_adds(model) == 4 * 4 * 3 * 3 * 3 * 4 + 64 * 5


def test_resnet56_and_plain56_do_the_arithmetic_of_the_papers_architecture():
    # By hand, section 4.2: a 3x3 stem convolution from 3 to 16 channels on 32x32; 18 layers of
    # 3x3 convolutions 16 to 16 on 32x32; stage 2 halves the resolution in its first layer (16 to
    # 32 channels, 16x16 output), then 17 layers 32 to 32; stage 3 the same from 32 to 64 on 8x8;
    # a 64 x 10 classifier. Option A's shortcuts add no multiply-adds.
    stem = 32 * 32 * 9 * 3 * 16
    stage1 = 18 * 32 * 32 * 9 * 16 * 16
    stage2 = 16 * 16 * 9 * 16 * 32 + 17 * 16 * 16 * 9 * 32 * 32
    stage3 = 8 * 8 * 9 * 32 * 64 + 17 * 8 * 8 * 9 * 64 * 64
    expected = stem + stage1 + stage2 + stage3 + 64 * 10
    resnet, plain = models.cifar_resnet(56), models.plain_net(56)
    assert measure.multiply_adds(resnet) == measure.multiply_adds(plain) == expected


def test_multiply_adds_count_depthwise_separable_grouped_and_per_position_dense_layers():
    inputs = keras.Input((8, 8, 4))
    x = layers.DepthwiseConv2D(3, padding="same")(inputs)  # 8*8 * 3*3*4
    x = layers.SeparableConv2D(6, 3, strides=2, padding="same")(x)  # 4*4 * (3*3*4 + 4*6)
    x = layers.Conv2D(6, 1, groups=2)(x)  # 4*4 * 3*6
    x = layers.Dense(5)(x)  # 4*4 * 6*5, at every position
    model = keras.Model(inputs, x)
    expected = 64 * 36 + 16 * (36 + 24) + 16 * 18 + 16 * 30
    assert measure.multiply_adds(model) == expected
    # A nested model counts in its place.
    outer_inputs = keras.Input((8, 8, 4))
    outer = keras.Model(outer_inputs, layers.Dense(2)(model(outer_inputs)))
    assert measure.multiply_adds(outer) == expected + 16 * 10
    assert len(measure.layers_within(outer)) == len(model.layers) + 2


def test_multiply_adds_needs_a_fixed_input_size():
    inputs = keras.Input((None, None, 3))
    model = keras.Model(inputs, layers.Conv2D(4, 3, name="free")(inputs), name="open")
    with pytest.raises(ValueError, match="'free'.*model='open'"):
        measure.multiply_adds(model)
    with pytest.raises(ValueError, match="model must be a keras.Model. Received: model='resnet'"):
        measure.multiply_adds("resnet")


def test_saved_activations_are_the_same_with_and_without_shortcuts_and_grow_per_layer():
    counts = {
        depth: measure.saved_activations(models.cifar_resnet(depth, input_shape=(8, 8, 1)))
        for depth in (8, 14, 20)
    }
    assert counts[8] == measure.saved_activations(models.plain_net(8, input_shape=(8, 8, 1)))
    assert counts[14] - counts[8] == counts[20] - counts[14] > 0
    # ResNet-8 on 8x8x1, by hand: the image (the stem convolution's input), the stem's output and
    # its ReLU's; per block the conv1 output, the ReLU between, the conv2 output and the block's
    # output ReLU (its input is the previous ReLU's output, counted); the classifier's input.
    # A downsampling block's first convolution keeps its input padded by one pixel on every side,
    # a copy of the stage's input two pixels wider.
    maps = {1: 8 * 8 * 16, 2: 4 * 4 * 32, 3: 2 * 2 * 64}
    padded = 10 * 10 * 16 + 6 * 6 * 32
    expected = 8 * 8 * 1 + 2 * maps[1] + sum(4 * size for size in maps.values()) + 64 + padded
    assert counts[8] == expected


def test_a_max_pool_keeps_its_input_and_output_and_an_average_pool_nothing():
    # TensorFlow's gradient ops say what they read: a max-pool's needs the forward tensors, an
    # average pool's only the input's shape.
    max_pool_reads = inspect.signature(tf.raw_ops.MaxPoolGrad).parameters
    assert "orig_input" in max_pool_reads and "orig_output" in max_pool_reads
    assert "orig_input_shape" in inspect.signature(tf.raw_ops.AvgPoolGrad).parameters
    inputs = keras.Input((8, 8, 1))
    features = layers.Conv2D(4, 3, padding="same")(inputs)
    pooled = {"max": layers.MaxPooling2D(2)(features), "avg": layers.AveragePooling2D(2)(features)}
    counts = {}
    for kind, x in pooled.items():
        outputs = layers.Dense(2)(layers.GlobalAveragePooling2D()(x))
        counts[kind] = measure.saved_activations(keras.Model(inputs, outputs))
    # The image (the convolution's input) and the classifier's input, 4 numbers; the max-pool
    # adds its input, the convolution's 8x8x4 output, and its own 4x4x4 output.
    assert counts["avg"] == 8 * 8 * 1 + 4
    assert counts["max"] == counts["avg"] + 8 * 8 * 4 + 4 * 4 * 4


def test_kernel_gradient_norms_are_the_closed_form_of_softmax_regression():
    # One dense softmax layer: the gradient of the mean cross-entropy is X^T (P - Y) / N.
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 5)).astype("float32"), rng.integers(0, 3, 16)
    inputs = keras.Input((5,))
    model = keras.Model(inputs, layers.Dense(3, activation="softmax", name="softmax")(inputs))
    model.layers[1].bias.assign(rng.normal(size=3).astype("float32"))
    kernel, bias = (np.asarray(w, dtype=float) for w in model.layers[1].get_weights())
    logits = x.astype(float) @ kernel + bias
    probabilities = np.exp(logits - logits.max(1, keepdims=True))
    probabilities /= probabilities.sum(1, keepdims=True)
    gradient = x.T @ (probabilities - np.eye(3)[y]) / len(x)
    names, norms = measure.kernel_gradient_norms(model, x, y)
    assert names == ["softmax"]
    np.testing.assert_allclose(norms, [np.linalg.norm(gradient)], rtol=1e-5)


def test_kernel_gradient_norms_follow_the_layers_of_a_keras_model():
    model = models.cifar_resnet(8, input_shape=(8, 8, 1), width=4)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(4, 8, 8, 1)).astype("float32"), rng.integers(0, 10, 4)
    names, norms = measure.kernel_gradient_norms(model, x, y)
    assert names[0] == "stem_conv" and names[-1] == "classifier" and len(names) == 8
    assert norms.shape == (8,) and (norms > 0).all()
    with pytest.raises(ValueError, match="4 in x and 3 in y"):
        measure.kernel_gradient_norms(model, x, y[:3])
    with pytest.raises(ValueError, match="x must hold at least one example"):
        measure.kernel_gradient_norms(model, x[:0], y[:0])
