"""Merging a trained multi-branch block into one convolution (RepVGG, Ding et al. 2021).

A RepVGG block trains with three branches whose outputs are added: a 3x3 convolution with
BatchNorm, a 1x1 convolution with BatchNorm, and, where the shapes allow, BatchNorm of the input
itself. At inference every branch is linear: BatchNorm with fixed statistics is a scale and a
shift per channel, a 1x1 kernel is a 3x3 kernel that is zero off its centre, and the identity is a
1x1 kernel that is the identity matrix. So the sum is one 3x3 convolution with a bias, and the
shortcut's extra tensor and memory traffic disappear.

Taught in chapters/03-algorithm.ipynb.
"""

import numpy as np


def fold_batchnorm(kernel, batchnorm):
    """A convolution's ``kernel`` followed by an inference-mode BatchNorm, as ``(kernel, bias)``.

    ``kernel`` has shape (height, width, in, out); ``batchnorm`` is a built Keras
    BatchNormalization over the ``out`` channels, with its scale and shift.
    """
    gamma, beta, mean, variance = _batchnorm_weights(kernel, batchnorm)
    scale = gamma / np.sqrt(variance + batchnorm.epsilon)
    return kernel * scale, beta - mean * scale


def _batchnorm_weights(kernel, batchnorm):
    """``batchnorm``'s four arrays; ValueError naming what does not fit ``kernel``."""
    weights = getattr(batchnorm, "get_weights", lambda: [])()
    if len(weights) != 4:
        raise ValueError(
            "batchnorm must be a built BatchNormalization with a scale and a shift. "
            f"Received: batchnorm={batchnorm!r}"
        )
    kernel = np.asarray(kernel)
    if kernel.ndim != 4 or kernel.shape[-1] != weights[0].shape[-1]:
        raise ValueError(
            f"kernel must have shape (height, width, in, {weights[0].shape[-1]}) to fit batchnorm. "
            f"Received: kernel with shape {kernel.shape}"
        )
    return (np.asarray(w) for w in weights)


def merge_branches(conv3x3, bn3x3, conv1x1, bn1x1, bn_identity=None):
    """The single 3x3 kernel and bias that compute a trained RepVGG block's three branches.

    Args:
        conv3x3: The 3x3 ``Conv2D`` (no bias, 'same' padding, stride 1).
        bn3x3: Its BatchNorm.
        conv1x1: The 1x1 ``Conv2D`` (no bias, stride 1).
        bn1x1: Its BatchNorm.
        bn_identity: The identity branch's BatchNorm, or None where the block has none.

    Returns:
        ``(kernel, bias)`` for one 3x3 convolution.

    Raises:
        ValueError: If a convolution has a bias, a stride or padding the merge cannot keep, or
            the kernels do not have the shapes the merge needs.
    """
    for name, conv in (("conv3x3", conv3x3), ("conv1x1", conv1x1)):
        if getattr(conv, "use_bias", True) or tuple(getattr(conv, "strides", ())) != (1, 1):
            raise ValueError(
                f"{name} must be a Conv2D without a bias, with stride 1. Received: {name}={conv!r}"
            )
    k3, k1 = np.asarray(conv3x3.kernel), np.asarray(conv1x1.kernel)
    if k3.shape[:2] != (3, 3) or k1.shape[:2] != (1, 1) or k3.shape[2:] != k1.shape[2:]:
        raise ValueError(
            "conv3x3 and conv1x1 must be 3x3 and 1x1 kernels between the same channels. "
            f"Received shapes {k3.shape} and {k1.shape}"
        )
    if conv3x3.padding != "same":
        raise ValueError(f"conv3x3 must pad 'same'. Received: padding={conv3x3.padding!r}")
    kernel, bias = fold_batchnorm(k3, bn3x3)
    centre, centre_bias = fold_batchnorm(k1, bn1x1)
    kernel[1:2, 1:2] += centre
    bias += centre_bias
    if bn_identity is not None:
        channels = k3.shape[2]
        if k3.shape[3] != channels:
            raise ValueError(f"an identity branch needs outputs = inputs. Received {k3.shape}")
        identity = np.eye(channels, dtype=k3.dtype).reshape(1, 1, channels, channels)
        centre, centre_bias = fold_batchnorm(identity, bn_identity)
        kernel[1:2, 1:2] += centre
        bias += centre_bias
    return kernel, bias
