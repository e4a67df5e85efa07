"""The loss landscape around trained weights (Li et al. 2018): filter-normalised slices.

A slice is the training loss at ``weights + a * d1 + b * d2`` over a grid of ``(a, b)``, for two
random directions ``d1`` and ``d2`` in weight space. Each direction is filter-normalised: every
filter of a convolution (and every unit of the classifier) gets the norm of the same filter of
the weights, so that a step of 1 changes each filter by as much as its own size, whatever
BatchNorm has made of the scale of the weights. BatchNorm's parameters stay fixed, as in Li et
al.'s code. By default the loss is evaluated in inference mode, with the BatchNorm statistics
stored in training, as in their code; ``loss_slice`` takes another prediction function, for
example one that recomputes the statistics from the images being scored.

Taught in chapters/11-why-residual-networks-work.ipynb.
"""

import itertools

import numpy as np

from resnet_book import arguments
from resnet_book.backend import keras


def direction(model, seed):
    """A random filter-normalised direction: an array per weight of ``model``, zero off kernels."""
    seed = arguments.check_integer("seed", seed, 0)
    rng = np.random.default_rng(seed)
    result = []
    for weight in model.weights:
        value = weight.numpy().astype(float)
        if not weight.path.endswith("/kernel"):
            result.append(np.zeros_like(value))
            continue
        random = rng.standard_normal(value.shape)
        filters = tuple(range(value.ndim - 1))  # a filter: every axis but the output channel
        scale = np.sqrt((value**2).sum(axis=filters) / (random**2).sum(axis=filters))
        result.append(random * scale)
    return result


def loss_slice(model, x, y, directions, steps, predict=None):
    """The mean cross-entropy of ``model`` on ``(x, y)`` along one or two directions.

    Args:
        model: A Keras classifier with a softmax output.
        x: Images.
        y: Their integer labels.
        directions: One or two directions from :func:`direction`.
        steps: The coordinates along each direction, a 1-D sequence.
        predict: A function of ``(model, x)`` returning class probabilities;
            by default the model in inference mode, on chunks of images.

    Returns:
        A NumPy array with one loss per step (one direction) or per pair of
        steps (two directions, rows along the first). The model's weights are
        restored afterwards.

    Raises:
        ValueError: If there are not one or two directions, they do not fit the model, ``x``
            is empty or ``y`` does not fit it, or ``steps`` or ``predict`` is invalid.
    """
    if len(directions) not in (1, 2):
        raise ValueError(f"directions must hold 1 or 2 directions. Received: {len(directions)}")
    for d in directions:
        if [np.shape(a) for a in d] != [tuple(w.shape) for w in model.weights]:
            raise ValueError("directions must come from landscape.direction(model, seed)")
    if len(x) == 0 or len(y) != len(x):
        raise ValueError(
            f"x must hold at least one example and y one label for each. Received: {len(x)} in x "
            f"and {len(y)} in y"
        )
    steps = np.asarray(steps)
    numbers = steps.ndim == 1 and len(steps) and np.issubdtype(steps.dtype, np.number)
    if not (numbers and np.isfinite(steps).all()):
        arguments.reject("steps", steps, "a non-empty 1-D sequence of finite numbers")
    if predict is not None and not callable(predict):
        arguments.reject("predict", predict, "None or a function of (model, x)")
    steps = steps.astype(float)
    original = [weight.numpy() for weight in model.weights]
    losses = np.empty((len(steps),) * len(directions))
    try:
        for index in itertools.product(range(len(steps)), repeat=len(directions)):
            for k, weight in enumerate(model.weights):
                moved = original[k] + sum(
                    steps[i] * d[k] for i, d in zip(index, directions, strict=True)
                )
                weight.assign(moved.astype(original[k].dtype))
            if predict is None:
                losses[index] = _mean_loss(model, x, y)
            else:
                loss = keras.losses.sparse_categorical_crossentropy(y, predict(model, x))
                losses[index] = float(keras.ops.mean(loss))
    finally:
        for weight, value in zip(model.weights, original, strict=True):
            weight.assign(value)
    return losses


def _mean_loss(model, x, y, chunk=128):
    """Mean cross-entropy in inference mode, a chunk of images at a time.

    A Keras functional model keeps every intermediate tensor of a call until
    the call ends; chunks bound that memory.
    """
    total = 0.0
    for start in range(0, len(x), chunk):
        probabilities = model(x[start : start + chunk], training=False)
        loss = keras.losses.sparse_categorical_crossentropy(y[start : start + chunk], probabilities)
        total += float(keras.ops.sum(loss))
    return total / len(x)


def nonconvex(surface, tolerance=1e-6):
    """Where a 2-D loss surface is certainly not convex: a point above a chord through it.

    A convex ``f`` has ``f(a) <= (f(a - v) + f(a + v)) / 2`` at every inner grid point ``a``, for
    ``v`` along either axis or diagonal. ``tolerance`` is how far above, as a fraction of the
    point's loss (the default discounts a stored grid's rounding, not float32's error near zero).
    Returns a boolean array two rows and columns smaller than ``surface``.
    """
    f = np.asarray(surface, dtype=float)
    if f.ndim != 2 or min(f.shape) < 3:
        raise ValueError(f"surface must be a 2-D grid of at least 3x3. Received shape {f.shape}")
    tolerance = arguments.check_real("tolerance", tolerance, 0)
    inner = f[1:-1, 1:-1]
    chords = [
        (f[:-2, 1:-1] + f[2:, 1:-1]) / 2,  # along the first direction
        (f[1:-1, :-2] + f[1:-1, 2:]) / 2,  # along the second
        (f[:-2, :-2] + f[2:, 2:]) / 2,  # the diagonals
        (f[:-2, 2:] + f[2:, :-2]) / 2,
    ]
    margin = tolerance * np.abs(inner) + 1e-12 * np.abs(f).max()  # and float rounding
    return np.any([inner - chord > margin for chord in chords], axis=0)
