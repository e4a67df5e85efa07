"""Per-layer gradient norms of deep fully connected networks, in NumPy.

Plain networks and the residual blocks of the papers, each layer 64 units wide
(one per pixel of the 8x8 digits), run forward and backward by hand on a fixed
batch of real images, in float32 like TensorFlow. NumPy needs no retracing
when the depth changes, which keeps a slider update fast;
``tests/test_gradflow.py`` checks every gradient against ``tf.GradientTape``
on Keras models built from :data:`LAYOUT`.

The blocks (``x`` is a block's input, ``W``, ``W1``, ``W2`` its weight layers,
``N`` the normalisation, ``f`` the activation, ``s`` the branch scale):

- ``"plain"``: ``f(N(W x))``, one layer: two of them are a v1 block with its shortcut removed;
- ``"v1"``: ``f(x + s N(W2 f(N(W1 x))))``, the block of He et al. (2016a);
- ``"v2"``: ``x + s W2 f(N(W1 f(N(x))))``, the pre-activation block of He et al. (2016c).

Taught in chapters/01-why-depth-is-hard.ipynb and chapters/06-gradient-flow.ipynb.
"""

import functools
from typing import NamedTuple

import numpy as np

from resnet_book import arguments, data

BLOCKS = ("plain", "v1", "v2")
ACTIVATIONS = ("sigmoid", "tanh", "relu")
INITIALIZATIONS = ("glorot", "he")
NORMALIZATIONS = ("none", "batchnorm")
BRANCH_SCALES = ("one", "inverse_sqrt", "zero")
# The operations of one block, input first: the chapter's diagram and the tests' Keras
# reference are built from this; "add" adds the block's input back (the shortcut). A plain
# network's block is one layer, so its spread is measured after every layer.
LAYOUT = {
    "plain": ("weight", "norm", "act"),
    "v1": ("weight", "norm", "act", "weight", "norm", "scale", "add", "act"),
    "v2": ("norm", "act", "weight", "norm", "act", "weight", "scale", "add"),
}
MAX_DEPTH = 200
MAX_STEPS = 100
WIDTH = 64
NUM_CLASSES = 10
BN_EPSILON = 1e-3  # Keras' default for BatchNormalization
_TINY = float(np.finfo(np.float32).tiny)
_RESOLUTION = 8 * float(np.finfo(np.float32).eps)  # a few units in the last place


class GradientFlow(NamedTuple):
    """What one backward pass shows (input side first).

    Attributes:
        grad_norms: Frobenius norm of each weight layer's gradient, shape (depth,).
        spreads: Standard deviation of each block's output (each layer's for a
            plain network), shape (depth // 2,) or (depth,).
        overflow: True if any activation or gradient became inf or NaN in float32.
        underflow: True if any layer's gradient norm is below float32's smallest
            normal number (zero included), so a log scale cannot show it.
        layers_per_block: Weight layers per block: 1 for a plain network, 2 for v1 and v2.
    """

    grad_norms: np.ndarray
    spreads: np.ndarray
    overflow: bool
    underflow: bool
    layers_per_block: int = 1

    @property
    def first_to_last(self):
        """The first weight layer's gradient norm over that of the same layer in the last block.

        For a plain network, the first layer over the last; for v1 and v2, the
        first block's ``W1`` over the last block's ``W1``, so that the ratio
        measures depth, not the difference between a block's two layers.
        """
        with np.errstate(all="ignore"):
            return float(self.grad_norms[0] / self.grad_norms[-self.layers_per_block])


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
        depth: Number of weight layers, 1 to 200.
        initialization: ``"glorot"`` or ``"he"``.
        gain: Positive factor on the standard deviation; a gain beyond float32's
            range gives infinite weights, which the passes report as overflow.
        seed: Seed of the draw, a non-negative integer.

    Returns:
        ``(hidden, head)``: float32 arrays of shape (depth, 64, 64) and (64, 10).

    Raises:
        ValueError: If an argument is out of range or not one of the choices.
    """
    depth = arguments.check_integer("depth", depth, 1, MAX_DEPTH)
    arguments.check_choice("initialization", initialization, INITIALIZATIONS)
    gain = arguments.check_positive("gain", gain)
    seed = arguments.check_integer("seed", seed, 0)
    hidden, head = _standard_normal_weights(seed)
    scale = gain * np.sqrt((2.0 if initialization == "he" else 1.0) / WIDTH)
    head_scale = np.sqrt(2.0 / (WIDTH + NUM_CLASSES))
    with np.errstate(over="ignore"):  # float32(huge) is inf: the weights overflow, as reported
        return hidden[:depth] * np.float32(scale), head * np.float32(head_scale)


@functools.lru_cache(maxsize=1)
def _buffers(batch_size):
    """Arrays reused by every pass: fresh memory costs page faults, which triple the time.

    Per weight layer: the (normalised) pre-activation ``z``, the activation ``a``
    and its ``slope``. Per block: the output ``h``, and the pre-activation
    ``p`` (v1's sum, v2's normalised input) with its activation ``q`` and
    ``q_slope``. Scratch space for the backward pass. Not safe for two threads.
    """
    per_layer = (MAX_DEPTH + 1, batch_size, WIDTH)
    one = (batch_size, WIDTH)
    return (
        {name: np.empty(per_layer, np.float32) for name in ("z", "a", "slope", "h", "p", "q")}
        | {"q_slope": np.empty(per_layer, np.float32)}
        | {name: np.empty(one, np.float32) for name in ("g", "g_branch", "g_mid", "tmp")}
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
    """Standard deviation of all entries: a float32 dot, float64 if that over- or underflows.

    A spread below float32's resolution at the entries' mean (for example a
    sigmoid iterated to its fixed point) is rounding noise, not a measurement:
    it is reported as 0, which the plots leave out.
    """
    mean = h.sum() / h.size
    np.subtract(h, mean, out=tmp)
    deviation = tmp.ravel()
    variance = float(np.dot(deviation, deviation)) / h.size
    if not _TINY < variance < np.inf:
        variance = float(h.var(dtype=np.float64))
    if np.isfinite(mean) and variance**0.5 <= _RESOLUTION * abs(float(mean)):
        return 0.0
    return variance**0.5


def _norm(matrix):
    """Frobenius norm: a float32 dot product, float64 if that over- or underflows."""
    values = matrix.ravel()
    square = float(np.dot(values, values))
    if not _TINY < square < np.inf:
        square = float(np.square(values, dtype=np.float64).sum())
    return square**0.5


class _Pass:
    """One forward and backward pass; the state both directions share."""

    def __init__(self, x, y, hidden, head, scales, block, activation, batchnorm):
        self.x, self.y = x, y
        self.ones = np.ones(len(self.x), dtype=np.float32)
        self.buf = _buffers(len(self.x))
        self.hidden, self.head, self.scales, self.block = hidden, head, scales, block
        self.activation, self.batchnorm = activation, batchnorm
        self.blocks = len(hidden) if block == "plain" else len(hidden) // 2
        self.inputs, self.inv_stds, self.pre_inv_stds = {}, {}, {}

    def layer(self, index, x, norm, act):
        """``f(N(x W))`` (or less): weight layer ``index`` forward; returns its output."""
        z = self.buf["z"][index]
        self.inputs[index] = x
        np.matmul(x, self.hidden[index], out=z)
        self.inv_stds[index] = _batchnorm(z, self.ones, self.buf["tmp"]) if norm else None
        if not act:
            return z
        _activate(z, self.activation, self.buf["a"][index], self.buf["slope"][index])
        return self.buf["a"][index]

    def layer_backward(self, index, g, act, into, accumulate=False):
        """Backward through layer ``index`` given ``g`` (overwritten) at its output."""
        if act:
            g *= self.buf["slope"][index]
        if self.inv_stds[index] is not None:
            _batchnorm_backward(
                g, self.buf["z"][index], self.inv_stds[index], self.ones, self.buf["tmp"]
            )
        self.weight_gradient(index, g)
        if accumulate:
            np.matmul(g, self.hidden[index].T, out=self.buf["tmp"])
            into += self.buf["tmp"]
        else:
            np.matmul(g, self.hidden[index].T, out=into)

    def forward(self):
        """Run the blocks; return the spread of each block's output."""
        buf, h = self.buf, self.buf["h"]
        h[0] = self.x
        spreads = np.empty(self.blocks)
        for k in range(self.blocks):
            if self.block == "plain":
                h[k + 1] = self.layer(k, h[k], self.batchnorm, act=True)
            elif self.block == "v1":
                middle = self.layer(2 * k, h[k], self.batchnorm, act=True)
                branch = self.layer(2 * k + 1, middle, self.batchnorm, act=False)
                np.multiply(branch, self.scales[k], out=buf["p"][k])
                buf["p"][k] += h[k]
                _activate(buf["p"][k], self.activation, h[k + 1], buf["q_slope"][k])
            else:
                np.copyto(buf["p"][k], h[k])
                if self.batchnorm:
                    self.pre_inv_stds[k] = _batchnorm(buf["p"][k], self.ones, buf["tmp"])
                _activate(buf["p"][k], self.activation, buf["q"][k], buf["q_slope"][k])
                middle = self.layer(2 * k, buf["q"][k], self.batchnorm, act=True)
                branch = self.layer(2 * k + 1, middle, False, act=False)
                np.multiply(branch, self.scales[k], out=h[k + 1])
                h[k + 1] += h[k]
            spreads[k] = _spread(h[k + 1], buf["tmp"])
        return spreads

    def backward(self, norms=None):
        """Weight gradients (or their norms, written into ``norms``) and the scales' gradients."""
        buf = self.buf
        self.norms = norms
        self.grads = None if norms is not None else np.empty_like(self.hidden)
        logits = buf["h"][self.blocks] @ self.head
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        p[np.arange(len(self.y)), self.y] -= 1
        g, g_branch, g_mid = buf["g"], buf["g_branch"], buf["g_mid"]
        np.matmul(p / len(self.y), self.head.T, out=g)
        scale_grads = np.zeros(len(self.scales), dtype=np.float32)
        for k in reversed(range(self.blocks)):
            if self.block == "plain":
                np.copyto(g_branch, g)
                self.layer_backward(k, g_branch, act=True, into=g)
                continue
            if self.block == "v1":
                g *= buf["q_slope"][k]  # through f after the addition
            branch = buf["z"][2 * k + 1]  # the branch's output before the scale
            scale_grads[k] = np.dot(g.ravel(), branch.ravel())
            np.multiply(g, self.scales[k], out=g_branch)
            self.layer_backward(2 * k + 1, g_branch, act=False, into=g_mid)
            if self.block == "v1":
                self.layer_backward(2 * k, g_mid, act=True, into=g, accumulate=True)
            else:
                self.layer_backward(2 * k, g_mid, act=True, into=g_branch)
                g_branch *= buf["q_slope"][k]
                if self.batchnorm:
                    _batchnorm_backward(
                        g_branch, buf["p"][k], self.pre_inv_stds[k], self.ones, buf["tmp"]
                    )
                g += g_branch
        return self.grads, scale_grads

    def weight_gradient(self, index, g):
        """Keep the gradient of weight layer ``index``, or only its norm."""
        if self.norms is None:
            np.matmul(self.inputs[index].T, g, out=self.grads[index])
        else:
            self.norms[index] = _norm(np.matmul(self.inputs[index].T, g, out=self.buf["grad_w"]))


def gradient_norms(
    depth,
    *,
    block="plain",
    normalization="none",
    branch_scale="one",
    activation="relu",
    initialization="he",
    gain=1.0,
    steps=0,
    learning_rate=0.1,
    seed=0,
    batch=None,
):
    """Per-layer weight-gradient norms and per-block spreads, at initialisation or later.

    A stack of blocks (see the module's docstring), a linear head and softmax
    cross-entropy on a fixed batch of digits. The branch scale ``s`` is 1
    (``"one"``), ``1 / sqrt(number of blocks)`` (``"inverse_sqrt"``), or a
    learned scalar per block that starts at 0 (``"zero"``, after SkipInit and
    ReZero: the network starts as the identity, and the branch weights receive
    no gradient until ``s`` moves). With ``steps > 0`` the weights (and
    learned scales) first take that many full-batch SGD steps. Results on the
    digits are cached, so returning to a setting is instant; the arrays are read-only.

    Args:
        depth: Number of weight layers, 1 to 200; even for ``"v1"`` and ``"v2"``.
        block: ``"plain"``, ``"v1"`` or ``"v2"``.
        normalization: ``"none"`` or ``"batchnorm"`` (batch statistics, as in training).
        branch_scale: ``"one"``, ``"inverse_sqrt"`` or ``"zero"`` (residual blocks only).
        activation: ``"sigmoid"``, ``"tanh"`` or ``"relu"``.
        initialization: ``"glorot"`` or ``"he"``.
        gain: Positive factor on the initial weights' standard deviation.
        steps: SGD steps before measuring, 0 to 100.
        learning_rate: Positive step size of those SGD steps.
        seed: Seed of the weights, a non-negative integer.
        batch: ``(x, y)`` to measure on instead of :func:`resnet_book.data.digits_batch`:
            inputs of shape (n, 64) and n labels in 0..9 (not cached).

    Returns:
        A :class:`GradientFlow`.

    Raises:
        ValueError: If an argument is out of range or not one of the choices.
    """
    depth = arguments.check_integer("depth", depth, 1, MAX_DEPTH)
    arguments.check_choice("block", block, BLOCKS)
    if block != "plain" and depth % 2:
        arguments.reject("depth", depth, "even for residual blocks of two layers")
    arguments.check_choice("normalization", normalization, NORMALIZATIONS)
    arguments.check_choice("branch_scale", branch_scale, BRANCH_SCALES)
    arguments.check_choice("activation", activation, ACTIVATIONS)
    arguments.check_choice("initialization", initialization, INITIALIZATIONS)
    settings = dict(
        depth=depth,
        block=block,
        normalization=normalization,
        branch_scale="one" if block == "plain" else branch_scale,  # one cache entry, not three
        activation=activation,
        initialization=initialization,
        gain=float(arguments.check_positive("gain", gain)),
        steps=arguments.check_integer("steps", steps, 0, MAX_STEPS),
        learning_rate=float(arguments.check_positive("learning_rate", learning_rate)),
        seed=arguments.check_integer("seed", seed, 0),
    )
    if batch is None:
        return _flow(**settings)
    return _compute(*_checked_batch(batch), **settings)


def plain_weight_gradients(hidden, head, *, activation="relu", normalization="batchnorm"):
    """The loss gradient of every weight layer of a plain stack, on the digits batch.

    What one full-batch SGD step subtracts from the weights, divided by the rate: chapter 12 uses
    it to check by hand that a step perpendicular to the weights lengthens them. The network is
    the plain stack of :func:`gradient_norms`, with the weights given.

    Taught in chapters/12-why-plain-networks-degrade.ipynb.

    Args:
        hidden: The weight layers, an array of shape (depth, 64, 64), as :func:`init_weights`.
        head: The classifier's weights, an array of shape (64, 10).
        activation: ``"sigmoid"``, ``"tanh"`` or ``"relu"``.
        normalization: ``"none"`` or ``"batchnorm"`` (batch statistics, as in training).

    Returns:
        A float32 array of the shape of ``hidden``.

    Raises:
        ValueError: If an array has the wrong shape or a choice is not one of the choices.
    """
    hidden = np.ascontiguousarray(hidden, dtype=np.float32)
    head = np.ascontiguousarray(head, dtype=np.float32)
    if hidden.ndim != 3 or hidden.shape[1:] != (WIDTH, WIDTH) or not 1 <= len(hidden) <= MAX_DEPTH:
        raise ValueError(
            f"hidden must have shape (depth, {WIDTH}, {WIDTH}) with depth 1 to {MAX_DEPTH}. "
            f"Received: hidden of shape {hidden.shape}"
        )
    if head.shape != (WIDTH, NUM_CLASSES):
        raise ValueError(
            f"head must have shape ({WIDTH}, {NUM_CLASSES}). Received: head of shape {head.shape}"
        )
    arguments.check_choice("activation", activation, ACTIVATIONS)
    arguments.check_choice("normalization", normalization, NORMALIZATIONS)
    scales = np.ones(len(hidden), dtype=np.float32)  # a plain stack has none
    one_pass = _Pass(
        *data.digits_batch(),
        hidden,
        head,
        scales,
        "plain",
        activation,
        normalization == "batchnorm",
    )
    one_pass.forward()
    return one_pass.backward()[0]


class LayerSignals(NamedTuple):
    """What each weight layer of a plain stack sees in one float64 pass (input side first).

    The weight gradient of layer l is its input times the gradient reaching it,
    ``dL/dW_l = h_{l-1}^T dL/dz_l``, so its norm scales with both.

    Attributes:
        weight_grads: Frobenius norm of ``dL/dW_l``, shape (depth,).
        reach: Frobenius norm of ``dL/dz_l``, the gradient reaching the weight
            layer's output ``z_l = h_{l-1} W_l`` (before any normalisation), shape (depth,).
        input_rms: Root mean square of the layer's input ``h_{l-1}`` over the batch
            and the units, not centred: its size, shape (depth,).
        batch_std: Standard deviation of each unit of the layer's output over the
            batch, averaged over the units: how much the output differs from one
            example to the next, shape (depth,).
    """

    weight_grads: np.ndarray
    reach: np.ndarray
    input_rms: np.ndarray
    batch_std: np.ndarray


def plain_layer_signals(
    depth, *, activation="relu", initialization="he", normalization="none", seed=0
):
    """The weight gradients of a plain stack split into their two factors, in float64.

    The plain network of :func:`gradient_norms` (the weights of
    :func:`init_weights`, cast to float64) on the digits batch, run forward and
    backward by hand in float64, so that tiny values (a sigmoid stack's gradient,
    or the differences between examples that it forgets) are measured, not
    rounded away.

    Taught in chapters/01-why-depth-is-hard.ipynb.

    Args:
        depth: Number of weight layers, 1 to 200.
        activation: ``"sigmoid"``, ``"tanh"`` or ``"relu"``.
        initialization: ``"glorot"`` or ``"he"``.
        normalization: ``"none"`` or ``"batchnorm"`` (batch statistics, as in training).
        seed: Seed of the weights, a non-negative integer.

    Returns:
        A :class:`LayerSignals`.

    Raises:
        ValueError: If an argument is out of range or not one of the choices.
    """
    depth = arguments.check_integer("depth", depth, 1, MAX_DEPTH)
    arguments.check_choice("activation", activation, ACTIVATIONS)
    arguments.check_choice("initialization", initialization, INITIALIZATIONS)
    arguments.check_choice("normalization", normalization, NORMALIZATIONS)
    hidden, head = (w.astype(np.float64) for w in init_weights(depth, initialization, seed=seed))
    x, y = data.digits_batch()
    h = x.astype(np.float64)
    inputs, normalised, inv_stds, slopes, batch_std = [], [], [], [], []
    for weights in hidden:
        inputs.append(h)
        z = h @ weights
        inv_std = None
        if normalization == "batchnorm":
            z = z - z.mean(axis=0)
            inv_std = 1 / np.sqrt((z * z).mean(axis=0) + BN_EPSILON)
            z = z * inv_std
        if activation == "relu":
            h, slope = np.maximum(z, 0), (z > 0).astype(np.float64)
        elif activation == "tanh":
            h = np.tanh(z)
            slope = 1 - h * h
        else:
            h = 1 / (1 + np.exp(-z))
            slope = h * (1 - h)
        normalised.append(z)
        inv_stds.append(inv_std)
        slopes.append(slope)
        batch_std.append(h.std(axis=0).mean())
    logits = h @ head  # softmax cross-entropy, averaged over the batch
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    g = p / len(y) @ head.T
    reach, weight_grads = np.empty(depth), np.empty(depth)
    for index in reversed(range(depth)):
        g = g * slopes[index]
        if inv_stds[index] is not None:
            z_hat = normalised[index]
            along = (g * z_hat).mean(axis=0)
            g = (g - g.mean(axis=0) - z_hat * along) * inv_stds[index]
        reach[index] = np.linalg.norm(g)
        weight_grads[index] = np.linalg.norm(inputs[index].T @ g)
        g = g @ hidden[index].T
    input_rms = np.array([np.sqrt(np.mean(i * i)) for i in inputs])
    return LayerSignals(weight_grads, reach, input_rms, np.array(batch_std))


def _checked_batch(batch):
    """``(x, y)`` as contiguous float32 inputs and int64 labels; ValueError if they do not fit."""
    try:
        x, y = (np.asarray(part) for part in batch)
    except (TypeError, ValueError):
        arguments.reject("batch", batch, "a pair (x, y)")
    if not (
        x.ndim == 2
        and x.shape[1] == WIDTH
        and len(x)
        and np.issubdtype(x.dtype, np.number)
        and y.shape == (len(x),)
        and np.issubdtype(y.dtype, np.integer)
        and ((0 <= y) & (y < NUM_CLASSES)).all()
    ):
        raise ValueError(
            f"batch must be (x, y): inputs of shape (n, {WIDTH}) and n integer labels in "
            f"0..{NUM_CLASSES - 1}. Received: x of shape {x.shape} ({x.dtype}), "
            f"y of shape {y.shape} ({y.dtype})"
        )
    return np.ascontiguousarray(x, dtype=np.float32), y.astype(np.int64)


@functools.lru_cache(maxsize=512)
def _flow(**settings):
    """:func:`_compute` on the digits batch, cached (arguments checked)."""
    return _compute(*data.digits_batch(), **settings)


def _compute(
    x,
    y,
    *,
    depth,
    block,
    normalization,
    branch_scale,
    activation,
    initialization,
    gain,
    steps,
    learning_rate,
    seed,
):
    """The computation behind :func:`gradient_norms` on inputs ``x``, labels ``y``."""
    hidden, head = init_weights(depth, initialization, gain, seed)
    blocks = depth if block == "plain" else depth // 2
    start = {"inverse_sqrt": 1 / np.sqrt(blocks), "zero": 0.0}.get(branch_scale, 1.0)
    scales = np.full(blocks, start, dtype=np.float32)
    batchnorm = normalization == "batchnorm"
    with np.errstate(all="ignore"):
        rate = np.float32(learning_rate)
        for _ in range(steps):
            run = _Pass(x, y, hidden, head, scales, block, activation, batchnorm)
            run.forward()
            grads, scale_grads = run.backward()
            hidden = hidden - rate * grads
            if branch_scale == "zero":
                scales = scales - rate * scale_grads
        run = _Pass(x, y, hidden, head, scales, block, activation, batchnorm)
        spreads = run.forward()
        norms = np.empty(depth)
        run.backward(norms)
    overflow = not (np.isfinite(norms).all() and np.isfinite(spreads).all())
    underflow = bool(np.nanmin(norms) < _TINY) if not np.isnan(norms).all() else False
    norms.flags.writeable = False
    spreads.flags.writeable = False
    return GradientFlow(norms, spreads, overflow, underflow, 1 if block == "plain" else 2)
