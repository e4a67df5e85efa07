"""A residual network as a collection of paths (Veit et al. 2016): delete blocks, sample paths.

The functions take a trained network built by :func:`resnet_book.models.cifar_resnet` or
:func:`resnet_book.models.plain_net` and call its layers by name, in inference mode, one block at
a time. A deleted block passes its input on by its shortcut alone: the identity, or where the
block changes the shape, the subsampled and zero-padded input of the paper's option A (or the
block's projection, if it has one). A plain block has no shortcut, and deleting one that changes
the shape gives it option A's, so that the rest of the network still fits.

BatchNorm runs in inference mode with the statistics stored in training, unless a call passes
``statistics``: a dictionary of per-layer means and variances, filled from the batch itself by the
first call that passes it empty (see :func:`recalibrate`).

Taught in chapters/11-why-residual-networks-work.ipynb.
"""

import keras
import numpy as np

from resnet_book import arguments
from resnet_book.runtime import import_tensorflow

tf = import_tensorflow()
CHUNK = 256  # examples per backward pass in path_gradient_norms


def block_names(model):
    """The names of a network's blocks, input side first: ``["stage1_block1", ...]``.

    Raises:
        ValueError: If ``model`` has no blocks named the way ``resnet_book.models`` names them.
    """
    names = [layer.name.removesuffix("_out") for layer in model.layers
             if layer.name.startswith("stage") and layer.name.endswith("_out")]  # fmt: skip
    if not names:
        raise ValueError(
            "model must be built by resnet_book.models.cifar_resnet or plain_net. "
            f"Received: model={model.name!r}, whose layers have no block names"
        )
    return names


def _layer(model, name):
    return model.get_layer(name)


def _has(model, name):
    return any(layer.name == name for layer in model.layers)


def normalise(model, name, y, statistics=None):
    """BatchNorm layer ``name`` on ``y``: with its stored statistics, or with ``statistics[name]``.

    A name missing from a ``statistics`` dictionary gets the mean and variance
    of ``y`` over the batch (and the image), which are stored there and used.
    """
    layer = _layer(model, name)
    if statistics is None:
        return layer(y, training=False)
    if name not in statistics:
        statistics[name] = tf.nn.moments(y, axes=list(range(len(y.shape) - 1)))
    mean, variance = statistics[name]
    return tf.nn.batch_normalization(y, mean, variance, layer.beta, layer.gamma, layer.epsilon)


def branch(model, name, x, statistics=None):
    """The branch of block ``name`` on ``x``: conv-BN-ReLU, conv-BN."""
    y = normalise(model, f"{name}_bn1", _layer(model, f"{name}_conv1")(x), statistics)
    y = _layer(model, f"{name}_relu1")(y)
    return normalise(model, f"{name}_bn2", _layer(model, f"{name}_conv2")(y), statistics)


def shortcut(model, name, x, statistics=None):
    """Block ``name``'s shortcut on ``x``: identity, option A's subsample and pad, or projection."""
    if _has(model, f"{name}_proj_conv"):
        projected = _layer(model, f"{name}_proj_conv")(x)
        return normalise(model, f"{name}_proj_bn", projected, statistics)
    stride = _layer(model, f"{name}_conv1").strides[0]
    extra = _layer(model, f"{name}_conv2").filters - x.shape[-1]
    if stride != 1:
        x = x[:, ::stride, ::stride, :]
    return tf.pad(x, [[0, 0], [0, 0], [0, 0], [0, extra]]) if extra else x


def block(model, name, x, statistics=None):
    """Block ``name`` on ``x`` as the network computes it: ReLU of (shortcut plus) branch."""
    y = branch(model, name, x, statistics)
    if _has(model, f"{name}_add"):
        y = shortcut(model, name, x, statistics) + y
    return tf.nn.relu(y)


def stem(model, x, statistics=None):
    """The first convolution, BatchNorm and ReLU."""
    return tf.nn.relu(normalise(model, "stem_bn", _layer(model, "stem_conv")(x), statistics))


def head(model, h):
    """Global average pooling and the softmax classifier."""
    return _layer(model, "classifier")(_layer(model, "pool")(h))


def forward(model, x, deleted=(), statistics=None):
    """Class probabilities of ``model`` on ``x``, the ``deleted`` blocks reduced to their shortcuts.

    With nothing deleted and no ``statistics`` it computes what
    ``model(x, training=False)`` does.

    Args:
        model: A network from ``cifar_resnet`` or ``plain_net`` (basic blocks).
        x: A batch of images.
        deleted: Names of blocks (see :func:`block_names`) to delete.
        statistics: BatchNorm statistics to use instead of the stored ones (see
            :func:`normalise`); an empty dictionary takes them from ``x``.

    Returns:
        A tensor of class probabilities, one row per image.

    Raises:
        ValueError: If a name in ``deleted`` is not one of the model's blocks.
    """
    names = block_names(model)
    for name in deleted:
        arguments.choice("deleted", name, names)
    h = stem(model, x, statistics)
    for name in names:
        if name in deleted:
            h = shortcut(model, name, h, statistics)
        else:
            h = block(model, name, h, statistics)
    return head(model, h)


def recalibrate(model, x, deleted=()):
    """BatchNorm statistics measured on the images ``x`` with the ``deleted`` blocks gone.

    The statistics stored in training describe the network with all of its
    blocks; without some of them, the inputs of the later BatchNorm layers
    change. One pass over training images gives the statistics that fit,
    without touching a weight or a label.

    Returns:
        A dictionary to pass as ``statistics`` to :func:`forward`.
    """
    statistics = {}
    forward(model, x, deleted, statistics)
    return statistics


def path_gradients(model, x, y, through):
    """The loss gradient that reaches the first block's input along one path per example.

    Veit et al.'s decomposition (section 6): after a forward pass, the gradient
    of example ``i``'s loss flows back through the branches of the blocks where
    ``through[i]`` is true and through the shortcuts of all the others, each
    block's final ReLU applied as in the full backward pass. Summed over all
    paths, these gradients give the full gradient.

    Args:
        model: A residual network from ``cifar_resnet``.
        x: A batch of images.
        y: Their integer labels.
        through: A boolean array, one row per example and one column per block.

    Returns:
        A NumPy array of gradients, shaped like the first block's input.

    Raises:
        ValueError: If the model has no shortcuts, or ``through`` does not fit.
    """
    names = block_names(model)
    if not _has(model, f"{names[0]}_add"):
        raise ValueError(f"model must be a residual network. Received: model={model.name!r}")
    through = np.asarray(through, dtype=bool)
    if through.shape != (len(x), len(names)):
        raise ValueError(
            f"through must have one row per example and one column per block, "
            f"{(len(x), len(names))}. Received: through with shape {through.shape}"
        )
    inputs, h = [], stem(model, tf.convert_to_tensor(x))
    for name in names:
        inputs.append(h)
        h = block(model, name, h)
    with tf.GradientTape() as tape:
        tape.watch(h)
        losses = keras.losses.sparse_categorical_crossentropy(y, head(model, h))
    gradient = tape.gradient(losses, h)
    for index in reversed(range(len(names))):
        name, h = names[index], inputs[index]
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(h)
            by_branch, by_shortcut = branch(model, name, h), shortcut(model, name, h)
        gradient = gradient * tf.cast(by_branch + by_shortcut > 0, gradient.dtype)
        gradient = tf.where(
            tf.reshape(through[:, index], (-1, 1, 1, 1)),
            tape.gradient(by_branch, h, output_gradients=gradient),
            tape.gradient(by_shortcut, h, output_gradients=gradient),
        )
        del tape
    return gradient.numpy()


def path_gradient_norms(model, x, y, lengths, seed=0):
    """Per example, the norm of :func:`path_gradients` along a random path of ``lengths[i]`` blocks.

    Args:
        model: A residual network from ``cifar_resnet``.
        x: A batch of images.
        y: Their integer labels.
        lengths: For each example, the number of branches its path goes through,
            from 0 to the number of blocks; which blocks is drawn at random.
        seed: Seed of the random choice of blocks.

    Returns:
        A NumPy array with one gradient norm per example.

    Raises:
        ValueError: If ``lengths`` does not give every example a length in range.
    """
    num_blocks = len(block_names(model))
    lengths = np.asarray(lengths)
    if lengths.shape != (len(x),) or lengths.min() < 0 or lengths.max() > num_blocks:
        raise ValueError(
            f"lengths must give each of the {len(x)} examples a length in 0..{num_blocks}. "
            f"Received: lengths with shape {lengths.shape}, {lengths.min()}..{lengths.max()}"
        )
    rng = np.random.default_rng(seed)
    through = np.array([rng.permutation(num_blocks) < k for k in lengths])
    norms = []
    for start in range(0, len(x), CHUNK):  # in chunks, to bound the memory the tapes hold
        part = slice(start, start + CHUNK)
        gradients = path_gradients(model, x[part], y[part], through[part])
        norms.append(np.sqrt((gradients.reshape(len(gradients), -1).astype(float) ** 2).sum(1)))
    return np.concatenate(norms)
