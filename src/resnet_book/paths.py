"""A residual network as a collection of paths (Veit et al. 2016): delete blocks, sample paths.

The functions read a network's blocks from its Keras graph (:func:`split_network`, on the residual
units of :func:`resnet_book.structure.residual_units`): each Add layer joins a block's branch and
its shortcut, which fork at the block's input. They then call the
network's own layers, in inference mode, one block at a time. A deleted block passes its input on
by its shortcut alone: the identity, the subsampled and zero-padded input of the paper's option
A, or the block's projection. A plain network from :func:`resnet_book.models.plain_net` has no
Add layers: its blocks are the runs of layers named ``stageN_blockM_...``, and a deleted plain
block that changes the shape gets option A's shortcut, so that the rest of the network still fits.

BatchNorm runs in inference mode with the statistics stored in training, unless a call passes
``statistics``: a dictionary of per-layer means and variances, filled from the batch itself by the
first call that passes it empty (see :func:`recalibrate`).

Taught in chapters/11-why-residual-networks-work.ipynb.
"""

import itertools
import math
import re
from typing import NamedTuple

import numpy as np

from resnet_book import arguments
from resnet_book.backend import keras, layers, tf
from resnet_book.structure import layers_between, residual_units

CHUNK = 256  # examples per backward pass in path_gradient_norms
ACTIVATIONS = (layers.ReLU, layers.Activation)  # what may follow a block's addition
PLAIN_BLOCK = re.compile(r"(stage\d+_block\d+)_")  # how models.plain_net names a block's layers


class Block(NamedTuple):
    """A block's layers, input side first: ``after(shortcut(x) + branch(x))``.

    ``shortcut`` is None for a plain block, which has no addition (``add`` None):
    it computes ``after(branch(x))``. ``after`` holds the activations that follow the
    addition (v1's ReLU; none in a pre-activation block).
    """

    name: str
    branch: list
    shortcut: list | None
    add: layers.Layer | None
    after: list
    output_shape: tuple


class Network(NamedTuple):
    """What :func:`split_network` returns: the layers before the blocks, the blocks, the rest."""

    stem: list
    blocks: list
    head: list


def _unsupported(model, why):
    """Raise the ValueError that says why :func:`split_network` cannot read ``model``."""
    name = getattr(model, "name", model)
    raise ValueError(
        f"resnet_book.paths cannot read the blocks of model {name!r}: {why}. "
        f"Received: model={name!r}"
    )


def _chain(model, end, start):
    """The layers after ``start`` up to ``end``, input side first, each reading the one before."""
    try:
        return layers_between(model, start, end)
    except ValueError:  # the layer that reads other than one tensor is in the context
        _unsupported(
            model, f"layer {end.name!r} does not lead back to {start.name!r} by single inputs"
        )


def _leading_activations(chain):
    count = 0
    while count < len(chain) and isinstance(chain[count], ACTIVATIONS):
        count += 1
    return chain[:count]


def _block_name(block_layers):
    """The longest prefix, by ``_``-separated parts, of the names of a block's layers."""
    parts = [layer.name.split("_") for layer in block_layers]
    common = []
    for words in zip(*parts, strict=False):
        if len(set(words)) > 1:
            break
        common.append(words[0])
    return "_".join(common)


def _residual_structure(model, units, source, end):
    stem = _chain(model, units[0].fork, source)
    blocks = []
    for index, unit in enumerate(units):
        if index + 1 < len(units):
            after = _chain(model, units[index + 1].fork, unit.add)
            if not all(isinstance(layer, ACTIVATIONS) for layer in after):
                names = [layer.name for layer in after if not isinstance(layer, ACTIVATIONS)]
                _unsupported(model, f"layers {names} lie between two blocks")
        else:
            after = _leading_activations(_chain(model, end, unit.add))
        own = [*unit.branch, *unit.shortcut, unit.add, *after]
        name = _block_name(own) or unit.add.name
        shape = tuple((after or [unit.add])[-1].output.shape)
        blocks.append(Block(name, unit.branch, unit.shortcut, unit.add, after, shape))
    last = blocks[-1].after or [blocks[-1].add]
    return Network(stem, blocks, _chain(model, end, last[-1]))


def _plain_block(name):
    """The block that a layer of ``models.plain_net`` belongs to, by its name, or None."""
    match = PLAIN_BLOCK.match(name)
    return match and match.group(1)


def _plain_structure(model, source, end):
    chain = _chain(model, end, source)
    marked = [index for index, layer in enumerate(chain) if _plain_block(layer.name)]
    if not marked:
        _unsupported(
            model,
            "it has no Add layers (no residual blocks) and no blocks named stageN_blockM_... "
            "as resnet_book.models.plain_net names them",
        )
    first, last = marked[0], marked[-1] + 1
    if len(marked) != last - first:
        _unsupported(model, "layers between its blocks are not named as a block's")
    blocks = []
    for name, run in itertools.groupby(chain[first:last], lambda layer: _plain_block(layer.name)):
        block_layers = list(run)
        after = _leading_activations(block_layers[::-1])[::-1]  # the activations it ends with
        branch = block_layers[: len(block_layers) - len(after)]
        blocks.append(Block(name, branch, None, None, after, tuple(block_layers[-1].output.shape)))
    if len({block.name for block in blocks}) != len(blocks):
        _unsupported(model, "the layers of one of its blocks are not consecutive")
    return Network(chain[:first], blocks, chain[last:])


def split_network(model):
    """A network's stem, blocks and head, read from its Keras graph.

    Every Add layer ends a block: it joins the block's branch and shortcut, which fork at
    the block's input, and the activations right after it belong to the block. A network
    without Add layers is read as a plain twin from ``models.plain_net``.

    Returns:
        A :class:`Network`.

    Raises:
        ValueError: If ``model`` is not a functional Keras model whose blocks follow one
            another, or a plain network named as ``models.plain_net`` names it.
    """
    if not isinstance(model, keras.Model) or isinstance(model, keras.Sequential):
        _unsupported(model, "it is not a functional keras.Model (built from keras.Input)")
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        _unsupported(model, "it has more than one input or output")
    source = next(layer for layer in model.layers if isinstance(layer, layers.InputLayer))
    end = next(layer for layer in model.layers if layer.output is model.outputs[0])
    units = residual_units(model)
    if not units:
        return _plain_structure(model, source, end)
    return _residual_structure(model, units, source, end)


def block_names(model):
    """The names of a network's blocks, input side first: ``["stage1_block1", ...]``.

    Raises:
        ValueError: If :func:`split_network` cannot read the network's blocks.
    """
    return [block.name for block in split_network(model).blocks]


def run_layer(layer, y, statistics=None):
    """``layer`` on ``y`` in inference mode; BatchNorm with ``statistics[layer.name]`` if given.

    A BatchNorm layer missing from a ``statistics`` dictionary gets the mean and
    variance of ``y`` over the batch (and the image), which are stored there and used.
    """
    if statistics is None or not isinstance(layer, layers.BatchNormalization):
        return layer(y, training=False)
    if layer.axis not in (-1, len(y.shape) - 1):
        raise ValueError(f"statistics need BatchNorm over the last axis. Received: {layer.name!r}")
    if layer.name not in statistics:
        statistics[layer.name] = tf.nn.moments(y, axes=list(range(len(y.shape) - 1)))
    mean, variance = statistics[layer.name]
    return tf.nn.batch_normalization(y, mean, variance, layer.beta, layer.gamma, layer.epsilon)


def run_layers(chain, y, statistics=None):
    """The layers of ``chain`` one after the other on ``y`` (see :func:`run_layer`)."""
    for layer in chain:
        y = run_layer(layer, y, statistics)
    return y


def shortcut(block, x, statistics=None):
    """``block``'s shortcut on ``x``: its own layers, or for a plain block option A's."""
    if block.shortcut is not None:
        return run_layers(block.shortcut, x, statistics)
    if tuple(x.shape[1:]) == block.output_shape[1:]:
        return x
    stride = math.ceil(x.shape[1] / block.output_shape[1])  # 'same' padding: ceil(size / stride)
    x = x[:, ::stride, ::stride, :]
    extra = block.output_shape[-1] - x.shape[-1]
    if tuple(x.shape[1:-1]) != block.output_shape[1:-1] or extra < 0:
        raise ValueError(f"block {block.name!r} has no shortcut that fits its input {x.shape}")
    return tf.pad(x, [[0, 0], [0, 0], [0, 0], [0, extra]])


def block_output(block, x, statistics=None):
    """``block`` on ``x`` as the network computes it: ``after(shortcut(x) + branch(x))``."""
    y = run_layers(block.branch, x, statistics)
    if block.add is not None:
        y = block.add([shortcut(block, x, statistics), y])
    return run_layers(block.after, y, statistics)


def _check_batch(x, y=None):
    if len(x) == 0:
        raise ValueError(f"x must hold at least one example. Received: x with shape {np.shape(x)}")
    if y is not None and len(y) != len(x):
        raise ValueError(f"y must hold one label per example of x, {len(x)}. Received: {len(y)}")


def forward(model, x, deleted=(), statistics=None):
    """Class probabilities of ``model`` on ``x``, the ``deleted`` blocks reduced to their shortcuts.

    With nothing deleted and no ``statistics`` it computes what ``model(x, training=False)``
    does. ``deleted`` holds names from :func:`block_names`; ``statistics`` are explained in
    :func:`run_layer` (an empty dictionary takes them from ``x``).
    """
    network = split_network(model)
    for name in deleted:
        arguments.check_choice("deleted", name, [block.name for block in network.blocks])
    _check_batch(x)
    h = run_layers(network.stem, x, statistics)
    for block in network.blocks:
        if block.name in deleted:
            h = shortcut(block, h, statistics)
        else:
            h = block_output(block, h, statistics)
    return run_layers(network.head, h, statistics)


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

    Veit et al.'s decomposition (section 5.2, "Vanishing gradients in residual networks"): the
    gradient of example ``i``'s loss flows back through the branches of the blocks where
    ``through[i]`` (one column per block) is true and through the shortcuts of all the others,
    each block's activations after its addition applied as in the full backward pass. Summed
    over all paths, these give the full gradient.
    """
    network = split_network(model)
    blocks = network.blocks
    if any(block.add is None for block in blocks):
        raise ValueError(f"model must be a residual network. Received: model={model.name!r}")
    _check_batch(x, y)
    through = np.asarray(through, dtype=bool)
    if through.shape != (len(x), len(blocks)):
        raise ValueError(
            f"through must have one row per example and one column per block, "
            f"{(len(x), len(blocks))}. Received: through with shape {through.shape}"
        )
    inputs, h = [], run_layers(network.stem, tf.convert_to_tensor(x))
    for block in blocks:
        inputs.append(h)
        h = block_output(block, h)
    with tf.GradientTape() as tape:
        tape.watch(h)
        losses = keras.losses.sparse_categorical_crossentropy(y, run_layers(network.head, h))
    gradient = tape.gradient(losses, h)
    for index in reversed(range(len(blocks))):
        block, h = blocks[index], inputs[index]
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(h)
            by_branch, by_shortcut = run_layers(block.branch, h), shortcut(block, h)
            total = by_branch + by_shortcut
            out = run_layers(block.after, total)
        gradient = tape.gradient(out, total, output_gradients=gradient)
        one_per_example = (-1,) + (1,) * (len(h.shape) - 1)
        gradient = tf.where(
            tf.reshape(through[:, index], one_per_example),
            tape.gradient(by_branch, h, output_gradients=gradient),
            tape.gradient(by_shortcut, h, output_gradients=gradient),
        )
        del tape
    return gradient.numpy()


def path_gradient_norms(model, x, y, lengths, seed=0):
    """Per example, the norm of :func:`path_gradients` along a random path of ``lengths[i]`` blocks.

    Args:
        model: A residual network, for example from ``models.cifar_resnet``.
        x: A batch of images, at least one.
        y: Their integer labels.
        lengths: For each example, the number of branches its path goes through,
            from 0 to the number of blocks; which blocks is drawn at random.
        seed: Seed of the random choice of blocks.

    Returns:
        A NumPy array with one gradient norm per example.

    Raises:
        ValueError: If ``x`` is empty, ``y`` does not fit it, ``lengths`` does not give
            every example a length in range, or ``seed`` is not a non-negative integer.
    """
    _check_batch(x, y)
    seed = arguments.check_integer("seed", seed, 0)
    num_blocks = len(block_names(model))
    lengths = np.asarray(lengths)
    integers = lengths.shape == (len(x),) and np.issubdtype(lengths.dtype, np.integer)
    if not (integers and 0 <= lengths.min() and lengths.max() <= num_blocks):
        found = f"{lengths.min()}..{lengths.max()}" if integers else f"dtype {lengths.dtype}"
        raise ValueError(
            f"lengths must give each of the {len(x)} examples an integer length in "
            f"0..{num_blocks}. Received: lengths with shape {lengths.shape}, {found}"
        )
    rng = np.random.default_rng(seed)
    through = np.array([rng.permutation(num_blocks) < k for k in lengths])
    norms = []
    for start in range(0, len(x), CHUNK):  # in chunks, to bound the memory the tapes hold
        part = slice(start, start + CHUNK)
        gradients = path_gradients(model, x[part], y[part], through[part])
        norms.append(np.sqrt((gradients.reshape(len(gradients), -1).astype(float) ** 2).sum(1)))
    return np.concatenate(norms)
