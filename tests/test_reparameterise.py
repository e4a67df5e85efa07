import keras
import numpy as np
import pytest
from keras import layers

from resnet_book import reparameterise, set_seed


def block(identity=True, channels=4):
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
        shape = bn.gamma.shape
        bn.set_weights([rng.uniform(0.5, 1.5, shape), rng.normal(size=shape),
                        rng.normal(size=shape), rng.uniform(0.5, 2, shape)])  # fmt: skip
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


def test_folding_batchnorm_is_a_scale_and_a_shift_per_channel():
    _, conv3, _, (bn3, _, _) = block()
    kernel, bias = reparameterise.fold_batchnorm(np.asarray(conv3.kernel), bn3)
    gamma, beta, mean, variance = bn3.get_weights()
    scale = gamma / np.sqrt(variance + bn3.epsilon)
    np.testing.assert_allclose(kernel, np.asarray(conv3.kernel) * scale, rtol=1e-6)
    np.testing.assert_allclose(bias, beta - mean * scale, rtol=1e-6)


def test_kernels_of_the_wrong_shape_are_refused():
    _, conv3, conv1, (bn3, bn1, _) = block()
    with pytest.raises(ValueError, match="must be 3x3 and 1x1 kernels"):
        reparameterise.merge_branches(conv1, bn1, conv3, bn3)
