import numpy as np
import pytest

from resnet_book import reparameterise, set_seed
from resnet_book.backend import keras, layers


def trained(batchnorm, rng):
    """Give a BatchNorm layer a scale, a shift and moving statistics as training would."""
    shape = batchnorm.gamma.shape
    gamma, beta = rng.uniform(0.5, 1.5, shape), rng.normal(size=shape)
    mean, variance = rng.normal(size=shape), rng.uniform(0.5, 2, shape)
    batchnorm.set_weights([gamma, beta, mean, variance])


def block(identity=True, channels=4):
    """A RepVGG block in Keras: 3x3 conv-BN plus 1x1 conv-BN plus (optionally) BN of the input."""
    set_seed(0)
    inputs = keras.Input(shape=(6, 6, channels))
    conv3 = layers.Conv2D(channels, 3, padding="same", use_bias=False)
    conv1 = layers.Conv2D(channels, 1, use_bias=False)
    norms = [layers.BatchNormalization() for _ in range(3)]
    branches = [norms[0](conv3(inputs)), norms[1](conv1(inputs))]
    if identity:
        branches.append(norms[2](inputs))
    model = keras.Model(inputs, layers.Add()(branches))
    rng = np.random.default_rng(1)
    for bn in norms[: 2 + identity]:
        trained(bn, rng)
    return model, conv3, conv1, norms


@pytest.mark.parametrize("identity", [True, False])
def test_the_merged_kernel_computes_the_three_branches(identity):
    model, conv3, conv1, (bn3, bn1, bn_id) = block(identity)
    identity_norm = bn_id if identity else None
    kernel, bias = reparameterise.merge_branches(conv3, bn3, conv1, bn1, identity_norm)
    merged = layers.Conv2D(4, 3, padding="same")
    merged.build((None, 6, 6, 4))
    merged.set_weights([kernel, bias])
    x = np.random.default_rng(2).normal(size=(3, 6, 6, 4)).astype("float32")
    np.testing.assert_allclose(merged(x), model(x, training=False), atol=1e-5)


@pytest.mark.parametrize("size, stride", [(3, 1), (1, 2), (3, 2)])
def test_a_folded_convolution_computes_keras_convolution_then_batchnorm_at_inference(size, stride):
    set_seed(0)
    inputs = keras.Input(shape=(8, 8, 3))
    conv = layers.Conv2D(5, size, strides=stride, padding="same", use_bias=False)
    batchnorm = layers.BatchNormalization()
    model = keras.Model(inputs, batchnorm(conv(inputs)))
    trained(batchnorm, np.random.default_rng(1))
    kernel, bias = reparameterise.fold_batchnorm(np.asarray(conv.kernel), batchnorm)
    folded = layers.Conv2D(5, size, strides=stride, padding="same")
    folded.build((None, 8, 8, 3))
    folded.set_weights([kernel, bias])
    x = np.random.default_rng(2).normal(size=(4, 8, 8, 3)).astype("float32")
    expected = model(x, training=False).numpy()
    assert np.abs(expected - conv(x).numpy()).max() > 0.1  # the BatchNorm is no identity
    np.testing.assert_allclose(folded(x), expected, atol=1e-5)


def test_kernels_of_the_wrong_shape_are_refused():
    _, conv3, conv1, (bn3, bn1, _) = block()
    with pytest.raises(ValueError, match="must be 3x3 and 1x1 kernels"):
        reparameterise.merge_branches(conv1, bn1, conv3, bn3)
    with pytest.raises(ValueError, match=r"kernel must have shape \(height, width, in, 4\)"):
        reparameterise.fold_batchnorm(np.zeros((3, 3, 4, 5)), bn3)
    with pytest.raises(ValueError, match="batchnorm must be a built BatchNormalization"):
        reparameterise.fold_batchnorm(np.zeros((3, 3, 4, 4)), conv3)


def test_a_convolution_with_a_bias_or_a_stride_is_refused():
    _, conv3, conv1, (bn3, bn1, _) = block()
    strided = layers.Conv2D(4, 3, strides=2, padding="same", use_bias=False)
    with pytest.raises(ValueError, match="conv3x3 must be a Conv2D without a bias, with stride 1"):
        reparameterise.merge_branches(strided, bn3, conv1, bn1)
    biased = layers.Conv2D(4, 1)
    with pytest.raises(ValueError, match="conv1x1 must be a Conv2D without a bias"):
        reparameterise.merge_branches(conv3, bn3, biased, bn1)
