"""Per-layer gradient norms of deep fully connected networks, in NumPy.

A network of ``depth`` layers of width 64 (one unit per pixel of the 8x8
digits) is run forward and backward by hand on a fixed batch of real
images, in float32 like TensorFlow. NumPy needs no retracing when the depth
changes, which keeps a slider update fast; ``tests/test_gradflow.py`` checks
every gradient against ``tf.GradientTape``.

Taught in chapters/01-why-depth-is-hard.ipynb.
"""

import functools
from typing import NamedTuple

import numpy as np

ACTIVATIONS = ("sigmoid", "tanh", "relu")
INITIALIZATIONS = ("glorot", "he")
NORMALIZATIONS = ("none", "batchnorm")
RESIDUALS = ("none", "identity", "scaled")
MAX_DEPTH = 200
WIDTH = 64
NUM_CLASSES = 10
BN_EPSILON = 1e-3  # Keras' default for BatchNormalization
_TINY = float(np.finfo(np.float32).tiny)


class GradientFlow(NamedTuple):
    """What one backward pass shows, layer by layer (input side first).

    Attributes:
        grad_norms: Frobenius norm of each layer's weight gradient, shape (depth,).
        activation_stds: Standard deviation of each layer's output, shape (depth,).
        overflow: True if any activation or gradient became inf or NaN in float32.
        underflow: True if any layer's gradient norm is below float32's smallest
            normal number (zero included), so a log scale cannot show it.
    """

    grad_norms: np.ndarray
    activation_stds: np.ndarray
    overflow: bool
    underflow: bool

    @property
    def first_to_last(self):
        """Gradient norm of the first layer divided by that of the last."""
        with np.errstate(all="ignore"):
            return float(self.grad_norms[0] / self.grad_norms[-1])


@functools.lru_cache(maxsize=4)
def digits_batch(batch_size=128, seed=0):
    """A fixed, standardised batch of scikit-learn's 8x8 digits (no download).

    Args:
        batch_size: Number of images, from 1 to 1797.
        seed: Seed of the shuffle that picks the images.

    Returns:
        ``(x, y)``: float32 pixels of shape (batch_size, 64) with zero mean and
        unit variance per pixel over the whole set, and int labels.

    Raises:
        ValueError: If ``batch_size`` is out of range.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    if not 1 <= batch_size <= len(digits.target):
        raise ValueError(f"batch_size must be in 1..1797. Received: batch_size={batch_size!r}")
    pixels = digits.data.astype(np.float64)
    spread = pixels.std(axis=0)
    x = (pixels - pixels.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
    order = np.random.default_rng(seed).permutation(len(x))[:batch_size]
    return x[order].astype(np.float32), digits.target[order]


@functools.lru_cache(maxsize=4)
def _standard_normal_weights(seed):
    """One draw of N(0, 1) weights for the deepest network, shared by all settings."""
    rng = np.random.default_rng(seed)
    hidden = rng.standard_normal((MAX_DEPTH, WIDTH, WIDTH), dtype=np.float32)
    head = rng.standard_normal((WIDTH, NUM_CLASSES), dtype=np.float32)
    return hidden, head


def init_weights(depth, initialization="he", gain=1.0, seed=0):
    """The weight matrices of the hidden layers and the classifier head.

    Glorot (normal) draws with variance 1/fan_in here (square layers), He with
    2/fan_in; ``gain`` multiplies the standard deviation. The head always uses
    Glorot. The same seed gives the same underlying draw for every setting,
    so two settings differ only in scale.

    Args:
        depth: Number of hidden layers, 1 to 200.
        initialization: ``"glorot"`` or ``"he"``.
        gain: Positive factor on the standard deviation.
        seed: Seed of the draw.

    Returns:
        ``(hidden, head)``: float32 arrays of shape (depth, 64, 64) and (64, 10).
    """
    _check(depth=depth, initialization=initialization, gain=gain)
    hidden, head = _standard_normal_weights(seed)
    scale = gain * np.sqrt((2.0 if initialization == "he" else 1.0) / WIDTH)
    head_scale = np.sqrt(2.0 / (WIDTH + NUM_CLASSES))
    return (hidden[:depth] * np.float32(scale)), head * np.float32(head_scale)


def _check(**arguments):
    """Raise ValueError naming the first argument with an invalid value."""
    choices = {
        "activation": ACTIVATIONS,
        "initialization": INITIALIZATIONS,
        "normalization": NORMALIZATIONS,
        "residual": RESIDUALS,
    }
    for name, value in arguments.items():
        if name in choices and value not in choices[name]:
            raise ValueError(f"{name} must be one of {choices[name]}. Received: {name}={value!r}")
    depth = arguments.get("depth", 1)
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= MAX_DEPTH:
        raise ValueError(f"depth must be an integer in 1..{MAX_DEPTH}. Received: depth={depth!r}")
    gain = arguments.get("gain", 1.0)
    if not isinstance(gain, int | float) or not np.isfinite(gain) or gain <= 0:
        raise ValueError(f"gain must be a positive finite number. Received: gain={gain!r}")


def _activate(z, activation):
    """Return the activation of ``z`` and its derivative."""
    if activation == "relu":
        return np.maximum(z, 0), (z > 0).astype(z.dtype)
    if activation == "tanh":
        a = np.tanh(z)
        return a, 1 - a * a
    a = 1 / (1 + np.exp(-z))
    return a, a * (1 - a)


def _batchnorm_backward(grad, z_hat, inv_std):
    """Gradient through (z - mean) / std over the batch, scale 1 and shift 0."""
    n = grad.shape[0]
    return inv_std / n * (n * grad - grad.sum(0) - z_hat * (grad * z_hat).sum(0))


def gradient_norms(
    depth,
    activation="relu",
    initialization="he",
    gain=1.0,
    normalization="none",
    residual="none",
    seed=0,
):
    """Per-layer weight-gradient norms and activation spreads at initialisation.

    Each layer computes ``a = activation(normalize(h @ W))``; a plain network
    passes on ``h = a``, a residual one ``h = h + s * a`` with ``s = 1``
    (``"identity"``) or ``s = 1 / sqrt(depth)`` (``"scaled"``). A linear head
    and softmax cross-entropy on a fixed batch of digits give the loss.

    Args:
        depth: Number of hidden layers, 1 to 200.
        activation: ``"sigmoid"``, ``"tanh"`` or ``"relu"``.
        initialization: ``"glorot"`` or ``"he"``.
        gain: Positive factor on the initial weights' standard deviation.
        normalization: ``"none"`` or ``"batchnorm"`` (batch statistics, as in training).
        residual: ``"none"``, ``"identity"`` or ``"scaled"``.
        seed: Seed of the weights.

    Returns:
        A :class:`GradientFlow`.

    Raises:
        ValueError: If an argument is out of range or not one of the choices.
    """
    _check(
        depth=depth,
        activation=activation,
        initialization=initialization,
        gain=gain,
        normalization=normalization,
        residual=residual,
    )
    hidden, head = init_weights(depth, initialization, gain, seed)
    x, y = digits_batch()
    branch_scale = np.float32(1 / np.sqrt(depth) if residual == "scaled" else 1)
    with np.errstate(all="ignore"):
        h, saved, stds = x, [], np.empty(depth)
        for layer in range(depth):
            z = h @ hidden[layer]
            inv_std = None
            if normalization == "batchnorm":
                inv_std = 1 / np.sqrt(z.var(0) + np.float32(BN_EPSILON))
                z = (z - z.mean(0)) * inv_std
            a, slope = _activate(z, activation)
            saved.append((h, z, inv_std, slope))
            h = h + branch_scale * a if residual != "none" else a
            stds[layer] = h.std(dtype=np.float64)

        logits = h @ head
        logits = logits - logits.max(1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(1, keepdims=True)
        p[np.arange(len(y)), y] -= 1
        grad_h = (p / len(y)) @ head.T

        norms = np.empty(depth)
        for layer in reversed(range(depth)):
            h_in, z, inv_std, slope = saved[layer]
            grad_z = grad_h * branch_scale * slope
            if inv_std is not None:
                grad_z = _batchnorm_backward(grad_z, z, inv_std)
            norms[layer] = np.linalg.norm((h_in.T @ grad_z).astype(np.float64))
            grad_h = grad_z @ hidden[layer].T + (grad_h if residual != "none" else 0)

    overflow = not (np.isfinite(norms).all() and np.isfinite(stds).all())
    underflow = bool(np.nanmin(norms) < _TINY) if not np.isnan(norms).all() else False
    return GradientFlow(norms, stds, overflow, underflow)


def kernel_gradient_norms(model, x, y):
    """Norm of the loss gradient for every convolution and dense kernel of a Keras model.

    The loss is sparse categorical cross-entropy on ``(x, y)``, computed in
    training mode (BatchNorm uses batch statistics), as in a training step.

    Taught in chapters/06-degradation.ipynb.

    Args:
        model: A Keras classifier with a softmax output.
        x: A batch of inputs.
        y: Their integer labels.

    Returns:
        ``(names, norms)``: the layer names and a NumPy array of norms, input side first.

    Raises:
        ValueError: If ``x`` and ``y`` hold different numbers of examples.
    """
    import keras

    from resnet_book.runtime import import_tensorflow

    tf = import_tensorflow()
    if len(x) != len(y):
        raise ValueError(f"x and y must hold as many examples. Received: {len(x)} and {len(y)}")
    weighted = [
        layer
        for layer in model.layers
        if isinstance(layer, keras.layers.Conv2D | keras.layers.Dense)
    ]
    kernels = [layer.kernel for layer in weighted]
    with tf.GradientTape() as tape:
        loss = keras.losses.sparse_categorical_crossentropy(y, model(x, training=True))
        loss = tf.reduce_mean(loss)
    gradients = tape.gradient(loss, kernels)
    norms = np.array([float(tf.norm(gradient)) for gradient in gradients])
    return [layer.name for layer in weighted], norms
