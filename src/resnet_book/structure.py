"""What a Keras network is made of, read from its functional graph: its residual units.

Each Add layer reads two paths that fork at one layer; the path with fewer weighted layers
(convolutions and dense layers) is the shortcut, the other is the block's branch. Nothing here
draws or runs a network: :mod:`resnet_book.diagrams` draws what these functions read, in
chapters/02-core-idea.ipynb, chapters/03-algorithm.ipynb, chapters/05-keras-code.ipynb and
chapters/08-deeper-blocks.ipynb, and :mod:`resnet_book.paths` runs a network block by block in
chapters/11-why-residual-networks-work.ipynb. Keras is imported when a function first reads a
model, not with this module.
"""

from typing import NamedTuple

from resnet_book import arguments


class Unit(NamedTuple):
    """A residual unit: where its two paths fork, both paths, and their addition."""

    fork: object  # keras.layers.Layer
    branch: list
    shortcut: list
    add: object  # keras.layers.Add

    @property
    def changes_shape(self):
        """Whether the shortcut's output differs in shape from its input (dashed in figures)."""
        return tuple(self.fork.output.shape) != tuple(self.add.output.shape)


class BlockLayout(NamedTuple):
    """One block's layers by place: ``shortcut`` is None without an addition."""

    before: list
    branch: list
    shortcut: list | None
    add: object | None  # keras.layers.Add
    after: list


# --- What a layer is --------------------------------------------------------------------------


def is_weighted(layer):
    """Whether ``layer`` holds a weight matrix or kernel (a convolution or a dense layer)."""
    from resnet_book.backend import layers

    return isinstance(layer, layers.Conv2D | layers.Dense)


def is_add(layer):
    """Whether ``layer`` is an addition (``keras.layers.Add``)."""
    from resnet_book.backend import layers

    return isinstance(layer, layers.Add)


def is_conv(layer):
    """Whether ``layer`` is a 2-D convolution (``keras.layers.Conv2D`` or a subclass)."""
    from resnet_book.backend import layers

    return isinstance(layer, layers.Conv2D)


def check_model(name, model):
    """Raise ValueError naming ``name`` unless ``model`` is a keras.Model."""
    from resnet_book.backend import keras

    if not isinstance(model, keras.Model):
        arguments.reject(name, model, "a keras.Model")


def check_graph(name, model):
    """Raise ValueError unless ``model`` is a keras.Model with one input and one output."""
    check_model(name, model)
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        arguments.reject(name, model, "a keras.Model with one input and one output")


# --- Walking the graph ------------------------------------------------------------------------


def _parents(model):
    """Each layer's name mapped to the layers whose outputs it reads (the graph's edges)."""
    from resnet_book.backend import keras, layers

    producer = {id(layer.output): layer for layer in model.layers}
    parents = {}
    for layer in model.layers:
        inputs = [] if isinstance(layer, layers.InputLayer) else keras.tree.flatten(layer.input)
        parents[layer.name] = [producer[id(tensor)] for tensor in inputs]
    return parents


def _parent(layer, parents):
    """The one layer that ``layer`` reads; ValueError where a path should be a chain."""
    if len(parents[layer.name]) != 1:
        raise ValueError(
            f"model must be a chain of blocks. Received: layer {layer.name!r} reading "
            f"{len(parents[layer.name])} tensors inside a path"
        )
    return parents[layer.name][0]


def _chain(layer, stop, parents):
    """The layers after ``stop`` up to ``layer``, input side first."""
    chain = []
    while layer is not stop:
        chain.append(layer)
        layer = _parent(layer, parents)
    return chain[::-1]


def _ancestors(layer, parents):
    """Names of ``layer`` and of every layer it depends on."""
    seen, todo = set(), [layer]
    while todo:
        current = todo.pop()
        if current.name not in seen:
            seen.add(current.name)
            todo.extend(parents[current.name])
    return seen


def layers_between(model, start, end):
    """The layers after ``start`` up to ``end``, input side first, each reading the one before.

    Args:
        model: A keras.Model with one input and one output.
        start: One of its layers.
        end: A layer of ``model`` that depends on ``start`` (``start`` itself gives ``[]``).

    Raises:
        ValueError: If ``model`` or a layer is not as above, or a layer on the way from
            ``end`` back to ``start`` reads other than one tensor.
    """
    check_graph("model", model)
    for name, layer in (("start", start), ("end", end)):
        if all(layer is not known for known in model.layers):
            arguments.reject(name, layer, f"a layer of model {model.name!r}")
    return _chain(end, start, _parents(model))


# --- Residual units ---------------------------------------------------------------------------


def _unit(add, parents):
    """An Add layer's two paths back to their fork; the lighter path is the shortcut."""
    first, second = parents[add.name]
    reach, fork = _ancestors(first, parents), second
    while fork.name not in reach:
        fork = _parent(fork, parents)
    paths = (_chain(first, fork, parents), _chain(second, fork, parents))
    shortcut, branch = sorted(paths, key=_path_weight)
    return Unit(fork, branch, shortcut, add)


def _path_weight(path):
    """Sort key: weighted layers on a path, then all its layers."""
    return sum(is_weighted(layer) for layer in path), len(path)


def residual_units(model):
    """Every addition of a model with its branch and shortcut, input side first.

    The grouping comes from the graph: each Add layer reads two paths that fork
    at one layer; the path with fewer weighted layers is the shortcut.

    Taught in chapters/03-algorithm.ipynb.

    Args:
        model: A keras.Model, for example ``models.cifar_resnet(20)``.

    Returns:
        A list of :class:`Unit` (``fork``, ``branch``, ``shortcut``, ``add``);
        empty for a plain network.

    Raises:
        ValueError: If ``model`` is not a keras.Model, or an Add does not read two paths.
    """
    check_graph("model", model)
    parents = _parents(model)
    adds = [layer for layer in model.layers if is_add(layer)]
    for add in adds:
        if len(parents[add.name]) != 2:
            raise ValueError(
                f"model's additions must each add two tensors. Received: {add.name!r} adding "
                f"{len(parents[add.name])}"
            )
    return [_unit(add, parents) for add in adds]


def block_structure(model):
    """One block's layers by place: before the fork, branch, shortcut, addition, after.

    Taught in chapters/02-core-idea.ipynb.

    Args:
        model: A keras.Model wrapping one block, for example
            ``keras.Model(inputs, models.residual_block(inputs, 16))``.

    Returns:
        A :class:`BlockLayout`. Without an Add (``models.plain_block``) every
        layer is in ``branch`` and ``shortcut`` is None; an identity shortcut is ``[]``.

    Raises:
        ValueError: If ``model`` is not a keras.Model or holds more than one Add.
    """
    from resnet_book.backend import layers

    check_graph("model", model)
    adds = [layer for layer in model.layers if is_add(layer)]
    if len(adds) > 1:
        raise ValueError(
            f"model must hold one block, with at most one Add. Received: model={model!r} "
            f"with {len(adds)} Add layers"
        )
    parents = _parents(model)
    source = next(layer for layer in model.layers if isinstance(layer, layers.InputLayer))
    end = next(layer for layer in model.layers if layer.output is model.outputs[0])
    if not adds:
        return BlockLayout([], _chain(end, source, parents), None, None, [])
    unit = residual_units(model)[0]
    before, after = _chain(unit.fork, source, parents), _chain(end, unit.add, parents)
    return BlockLayout(before, unit.branch, unit.shortcut, unit.add, after)
