"""The loss landscape around trained weights (Li et al. 2018): filter-normalised slices.

A slice is the training loss at ``weights + a * d1 + b * d2`` over a grid of ``(a, b)``, for two
random directions ``d1`` and ``d2`` in weight space. Each direction is filter-normalised: every
filter of a convolution (and every unit of the classifier) gets the norm of the same filter of
the weights, so that a step of 1 changes each filter by as much as its own size, whatever
BatchNorm has made of the scale of the weights. BatchNorm's parameters and statistics stay fixed,
as in Li et al.'s code, and the loss is evaluated in inference mode.

Taught in chapters/10-why-residual-networks-work.ipynb.
"""

import itertools

import keras
import numpy as np

from resnet_book import arguments


def direction(model, seed):
    """A random filter-normalised direction: an array per weight of ``model``, zero off kernels."""
    arguments.integer("seed", seed, 0)
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


def loss_slice(model, x, y, directions, steps):
    """The mean cross-entropy of ``model`` on ``(x, y)`` along one or two directions.

    Args:
        model: A Keras classifier with a softmax output.
        x: Images.
        y: Their integer labels.
        directions: One or two directions from :func:`direction`.
        steps: The coordinates along each direction, a 1-D sequence.

    Returns:
        A NumPy array with one loss per step (one direction) or per pair of
        steps (two directions, rows along the first). The model's weights are
        restored afterwards.

    Raises:
        ValueError: If there are not one or two directions, or they do not fit the model.
    """
    if len(directions) not in (1, 2):
        raise ValueError(f"directions must hold 1 or 2 directions. Received: {len(directions)}")
    for d in directions:
        if [np.shape(a) for a in d] != [tuple(w.shape) for w in model.weights]:
            raise ValueError("directions must come from landscape.direction(model, seed)")
    steps = np.asarray(steps, dtype=float)
    original = [weight.numpy() for weight in model.weights]
    losses = np.empty((len(steps),) * len(directions))
    try:
        for index in itertools.product(range(len(steps)), repeat=len(directions)):
            for k, weight in enumerate(model.weights):
                moved = original[k] + sum(
                    steps[i] * d[k] for i, d in zip(index, directions, strict=True)
                )
                weight.assign(moved.astype(original[k].dtype))
            losses[index] = _mean_loss(model, x, y)
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


def curvatures(surface, spacing):
    """The two principal curvatures of a 2-D loss surface at every inner grid point.

    Finite differences give the 2x2 Hessian of the slice at each point; its
    eigenvalues are the surface's curvatures along its steepest and flattest
    directions there. A negative one means the slice curves downward, and then
    the full loss is not convex at that point either.

    Args:
        surface: A square grid of losses from :func:`loss_slice`.
        spacing: The distance between neighbouring grid points.

    Returns:
        ``(lowest, highest)``: two arrays, two rows and columns smaller than ``surface``.
    """
    f = np.asarray(surface, dtype=float)
    if f.ndim != 2 or min(f.shape) < 3:
        raise ValueError(f"surface must be a 2-D grid of at least 3x3. Received shape {f.shape}")
    arguments.positive("spacing", spacing)
    inner = f[1:-1, 1:-1]
    fxx = (f[2:, 1:-1] - 2 * inner + f[:-2, 1:-1]) / spacing**2
    fyy = (f[1:-1, 2:] - 2 * inner + f[1:-1, :-2]) / spacing**2
    fxy = (f[2:, 2:] - f[2:, :-2] - f[:-2, 2:] + f[:-2, :-2]) / (4 * spacing**2)
    middle, radius = (fxx + fyy) / 2, np.hypot((fxx - fyy) / 2, fxy)
    return middle - radius, middle + radius
