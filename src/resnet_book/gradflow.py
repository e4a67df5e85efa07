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
RESIDUALS = ("none", "identity", "scaled", "zero")
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
def digits_batch(batch_size=64, seed=0):
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


@functools.lru_cache(maxsize=1)
def _buffers(batch_size):
    """Arrays reused by every pass: fresh memory costs page faults, which triple the time.

    Holds, per layer, the input ``h``, the normalised pre-activation ``z``, the
    activation ``a`` and its slope, plus scratch space for the backward pass.
    Not safe for two threads at once.
    """
    layer = (MAX_DEPTH + 1, batch_size, WIDTH)
    return (
        {name: np.empty(layer, np.float32) for name in ("h", "z", "a", "slope")}
        | {name: np.empty((batch_size, WIDTH), np.float32) for name in ("grad_h", "grad_z", "tmp")}
        | {"grad_w": np.empty((WIDTH, WIDTH), np.float32)}
    )


def _activate(z, activation, a, slope):
    """Write the activation of ``z`` into ``a`` and its derivative into ``slope``."""
    if activation == "relu":
        np.maximum(z, 0, out=a)
        np.greater(z, 0, out=slope, casting="unsafe")
    elif activation == "tanh":
        np.tanh(z, out=a)
        np.multiply(a, a, out=slope)
        np.subtract(1, slope, out=slope)
    else:
        np.negative(z, out=a)
        np.exp(a, out=a)
        a += 1
        np.reciprocal(a, out=a)
        np.subtract(1, a, out=slope)
        slope *= a


def _batchnorm(z, ones, tmp):
    """Normalise ``z`` in place over the batch (scale 1, shift 0); return 1 / std."""
    n = len(z)
    z -= (ones @ z) / n
    np.multiply(z, z, out=tmp)
    inv_std = 1 / np.sqrt((ones @ tmp) / n + np.float32(BN_EPSILON))
    z *= inv_std
    return inv_std


def _batchnorm_backward(grad, z_hat, inv_std, ones, tmp):
    """Gradient through (z - mean) / std over the batch, scale 1 and shift 0, in place."""
    n = len(grad)
    np.multiply(grad, z_hat, out=tmp)
    along_z = (ones @ tmp) / n
    grad -= (ones @ grad) / n
    np.multiply(z_hat, along_z, out=tmp)
    grad -= tmp
    grad *= inv_std


def _spread(h, tmp):
    """Standard deviation of all entries: a float32 dot, float64 if that over- or underflows."""
    np.subtract(h, h.sum() / h.size, out=tmp)
    deviation = tmp.ravel()
    variance = float(np.dot(deviation, deviation)) / h.size
    if not _TINY < variance < np.inf:
        return float(h.std(dtype=np.float64))
    return variance**0.5


def _norm(matrix):
    """Frobenius norm: a float32 dot product, float64 if that over- or underflows."""
    values = matrix.ravel()
    square = float(np.dot(values, values))
    if not _TINY < square < np.inf:
        square = float(np.square(values, dtype=np.float64).sum())
    return square**0.5


def _backprop(hidden, head, scales, activation, normalization, residual, norms=None):
    """One forward and backward pass on the digits batch.

    Returns the weight gradients (depth, 64, 64), the gradients of the branch
    scales (depth,) and the spread of every layer's output (depth,). With
    ``norms`` given, writes each weight gradient's norm there instead of
    keeping the gradients (and returns None for them). Small matrices make
    NumPy's per-call overhead the cost, so every step writes into reused
    buffers (``_buffers``) and sums over the batch are products with ones.
    """
    x, y = digits_batch()
    ones = np.ones(len(x), dtype=np.float32)
    buf = _buffers(len(x))
    h, z, a, slope, tmp = buf["h"], buf["z"], buf["a"], buf["slope"], buf["tmp"]
    depth = len(hidden)
    h[0] = x
    stds, inv_stds = np.empty(depth), [None] * depth
    for layer in range(depth):
        np.matmul(h[layer], hidden[layer], out=z[layer])
        if normalization == "batchnorm":
            inv_stds[layer] = _batchnorm(z[layer], ones, tmp)
        _activate(z[layer], activation, a[layer], slope[layer])
        if scales[layer] != 1:
            slope[layer] *= scales[layer]
        if residual == "none":
            h[layer + 1] = a[layer]
        else:
            np.multiply(a[layer], scales[layer], out=h[layer + 1])
            h[layer + 1] += h[layer]
        stds[layer] = _spread(h[layer + 1], tmp)

    logits = h[depth] @ head
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    grad_h, grad_z = buf["grad_h"], buf["grad_z"]
    np.matmul(p / len(y), head.T, out=grad_h)

    grads = None if norms is not None else np.empty_like(hidden)
    scale_grads = np.zeros(depth, dtype=np.float32)
    for layer in reversed(range(depth)):
        if residual == "zero":
            scale_grads[layer] = np.dot(grad_h.ravel(), a[layer].ravel())
        np.multiply(grad_h, slope[layer], out=grad_z)
        if normalization == "batchnorm":
            _batchnorm_backward(grad_z, z[layer], inv_stds[layer], ones, tmp)
        if norms is None:
            np.matmul(h[layer].T, grad_z, out=grads[layer])
        else:
            norms[layer] = _norm(np.matmul(h[layer].T, grad_z, out=buf["grad_w"]))
        if residual == "none":
            np.matmul(grad_z, hidden[layer].T, out=grad_h)
        else:
            np.matmul(grad_z, hidden[layer].T, out=tmp)
            grad_h += tmp
    return grads, scale_grads, stds


def gradient_norms(
    depth,
    activation="relu",
    initialization="he",
    gain=1.0,
    normalization="none",
    residual="none",
    steps=0,
    learning_rate=0.1,
    seed=0,
):
    """Per-layer weight-gradient norms and activation spreads, at initialisation or later.

    Each layer computes ``a = activation(normalize(h @ W))``; a plain network
    passes on ``h = a``, a residual one ``h = h + s * a``. The branch scale
    ``s`` is 1 (``"identity"``), ``1 / sqrt(depth)`` (``"scaled"``), or a
    learned scalar per layer that starts at 0 (``"zero"``, so the network
    starts as the identity and the branch weights receive no gradient until
    ``s`` moves). A linear head and softmax cross-entropy on a fixed batch of
    digits give the loss. With ``steps > 0`` the hidden weights (and learned
    scales) first take that many full-batch SGD steps. Results are cached, so
    returning to a setting is instant; the arrays are read-only.

    Args:
        depth: Number of hidden layers, 1 to 200.
        activation: ``"sigmoid"``, ``"tanh"`` or ``"relu"``.
        initialization: ``"glorot"`` or ``"he"``.
        gain: Positive factor on the initial weights' standard deviation.
        normalization: ``"none"`` or ``"batchnorm"`` (batch statistics, as in training).
        residual: ``"none"``, ``"identity"``, ``"scaled"`` or ``"zero"``.
        steps: SGD steps before measuring, 0 to 100.
        learning_rate: Positive step size of those SGD steps.
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
    if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= 100:
        raise ValueError(f"steps must be an integer in 0..100. Received: steps={steps!r}")
    if not isinstance(learning_rate, int | float) or not 0 < learning_rate < np.inf:
        raise ValueError(
            "learning_rate must be a positive finite number. "
            f"Received: learning_rate={learning_rate!r}"
        )
    return _flow(
        depth, activation, initialization, float(gain), normalization, residual, steps,
        float(learning_rate), seed,
    )  # fmt: skip


@functools.lru_cache(maxsize=512)
def _flow(depth, activation, initialization, gain, normalization, residual, steps, rate, seed):
    """The uncached computation behind :func:`gradient_norms` (arguments checked)."""
    hidden, head = init_weights(depth, initialization, gain, seed)
    start = {"scaled": 1 / np.sqrt(depth), "zero": 0.0}.get(residual, 1.0)
    scales = np.full(depth, start, dtype=np.float32)
    with np.errstate(all="ignore"):
        for _ in range(steps):
            grads, scale_grads, _ = _backprop(
                hidden, head, scales, activation, normalization, residual
            )
            hidden = hidden - np.float32(rate) * grads
            if residual == "zero":
                scales = scales - np.float32(rate) * scale_grads
        norms = np.empty(depth)
        _, _, stds = _backprop(hidden, head, scales, activation, normalization, residual, norms)
    overflow = not (np.isfinite(norms).all() and np.isfinite(stds).all())
    underflow = bool(np.nanmin(norms) < _TINY) if not np.isnan(norms).all() else False
    norms.flags.writeable = False
    stds.flags.writeable = False
    return GradientFlow(norms, stds, overflow, underflow)


def kernel_gradient_norms(model, x, y):
    """Norm of the loss gradient for every convolution and dense kernel of a Keras model.

    The loss is sparse categorical cross-entropy on ``(x, y)``, computed in
    training mode (BatchNorm uses batch statistics), as in a training step.

    Taught in chapters/07-degradation.ipynb.

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
