"""Diagrams of the book's networks, drawn from the Keras models themselves.

Every figure walks a model's functional graph (layer types, the layers each one
reads, output shapes), so a diagram cannot drift from the code it shows. The
figures carry only compact notation (``3×3, 16``, ``/2``, ``BN``, ``+``) and a
few math labels; the captions carry the words, so other editions reuse them.

Taught in chapters/02-core-idea.ipynb, chapters/03-algorithm.ipynb and
chapters/05-keras-code.ipynb.
"""

from typing import NamedTuple

import keras
import matplotlib.pyplot as plt
from keras import layers
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

from resnet_book.models import ZeroPadChannels

INK = "#444444"
SHORTCUT_COLOR = "#1f77b4"
CONV_FILLS = ("#fde9c9", "#f9d29b", "#f3b46c", "#e99452")  # one per width, narrowest first
WEIGHTED = (layers.Conv2D, layers.Dense)
SHOWN = (*WEIGHTED, layers.GlobalAveragePooling2D, layers.MaxPooling2D)
SYMBOLS = {
    layers.BatchNormalization: "BN",
    layers.ReLU: "ReLU",
    layers.Add: "+",
    layers.GlobalAveragePooling2D: "pool",
    ZeroPadChannels: r"$[\,\cdot\,,\mathbf{0}]$",
}


class Unit(NamedTuple):
    """A residual unit: where its two paths fork, both paths, and their addition."""

    fork: layers.Layer
    branch: list
    shortcut: list
    add: layers.Layer

    @property
    def changes_shape(self):
        """Whether the shortcut's output differs in shape from its input (dashed in figures)."""
        return tuple(self.fork.output.shape) != tuple(self.add.output.shape)


class BlockLayout(NamedTuple):
    """One block's layers by place: ``shortcut`` is None without an addition."""

    before: list
    branch: list
    shortcut: list | None
    add: layers.Layer | None
    after: list


def layer_label(layer):
    """Compact, word-free notation for a layer, as the diagrams write it.

    Taught in chapters/03-algorithm.ipynb.

    Args:
        layer: A Keras layer.

    Returns:
        ``"3×3, 16"`` for a convolution (``", /2"`` added for a stride of 2),
        ``"BN"``, ``"ReLU"``, ``"+"``, ``"/2"`` for a 1x1 subsampling, ``"pool"``
        for global average pooling, ``"fc 10"``; the layer's name otherwise.
    """
    if isinstance(layer, layers.Conv2D):
        (height, width), stride = layer.kernel_size, layer.strides[0]
        return f"{height}×{width}, {layer.filters}" + (f", /{stride}" if stride > 1 else "")
    if isinstance(layer, layers.Dense):
        return f"fc {layer.units}"
    if isinstance(layer, layers.MaxPooling2D):
        size, stride = layer.pool_size[0], layer.strides[0]
        return f"/{stride}" if size == 1 else f"{size}×{size} max, /{stride}"
    return next((text for kind, text in SYMBOLS.items() if isinstance(layer, kind)), layer.name)


# --- Reading the functional graph -------------------------------------------------------------


def _check_model(name, model):
    """Raise ValueError unless ``model`` is a keras.Model with one input and one output."""
    if not isinstance(model, keras.Model):
        raise ValueError(f"{name} must be a keras.Model. Received: {name}={model!r}")
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError(f"{name} must have one input and one output. Received: {name}={model!r}")


def _parents(model):
    """Each layer's name mapped to the layers whose outputs it reads (the graph's edges)."""
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
    return sum(isinstance(layer, WEIGHTED) for layer in path), len(path)


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
    _check_model("model", model)
    parents = _parents(model)
    adds = [layer for layer in model.layers if isinstance(layer, layers.Add)]
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
    _check_model("model", model)
    adds = [layer for layer in model.layers if isinstance(layer, layers.Add)]
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


# --- Drawing primitives: data units are inches ------------------------------------------------


def _canvas(width, height):
    """A white figure of ``width`` x ``height`` inches whose data units are inches."""
    fig = plt.figure(figsize=(width, height), facecolor="white")
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    return fig, ax


def _kind(layer):
    """The gid of a layer's artists: ``conv``, ``add`` or ``layer``, for counting in tests."""
    if isinstance(layer, layers.Conv2D):
        return "conv"
    return "add" if isinstance(layer, layers.Add) else "layer"


def _box(ax, center, size, text, fill="white", gid="layer", fontsize=9, rotation=0):
    """A rounded box with centred text; the patch and the text carry ``gid``."""
    (x, y), (width, height) = center, size
    ax.add_patch(FancyBboxPatch(
        (x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0,rounding_size=0.04",
        facecolor=fill, edgecolor=INK, lw=0.9, gid=gid, zorder=2))  # fmt: skip
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, rotation=rotation,
            color="black", gid=gid, zorder=3)  # fmt: skip


def _add_node(ax, center, radius):
    """The addition: a circled plus."""
    ax.add_patch(Circle(center, radius, facecolor="white", edgecolor=INK, lw=0.9, gid="add",
                        zorder=2))  # fmt: skip
    ax.text(*center, "+", ha="center", va="center", fontsize=12, gid="add", zorder=3)


def _arrow(ax, points, color=INK, gid="flow", dashed=False, lw=0.9):
    """A polyline (or a Path) through ``points`` with an arrowhead at its end."""
    path = points if isinstance(points, Path) else Path(points)
    ax.add_patch(FancyArrowPatch(
        path=path, arrowstyle="-|>,head_length=0.5,head_width=0.22", mutation_scale=12,
        color=color, lw=lw, gid=gid, zorder=1, linestyle="--" if dashed else "-"))  # fmt: skip


def _fills(widths):
    """Conv box colours keyed by filter count, darker for wider layers."""
    return {
        width: CONV_FILLS[min(i, len(CONV_FILLS) - 1)] for i, width in enumerate(sorted(widths))
    }


def _closed(fig):
    """Close ``fig`` so a notebook cell shows it once, as the cell's value, and return it."""
    plt.close(fig)
    return fig


# --- The block (paper, Figure 2) --------------------------------------------------------------

BLOCK = {"x": 1.55, "width": 1.1, "height": 0.3, "gap": 0.2, "side_width": 0.8, "radius": 0.15}


def _block_heights(column):
    """Centre height of each node of the main column, input at the bottom."""
    heights, top = [], 0.42
    for layer in column:
        half = BLOCK["radius"] if isinstance(layer, layers.Add) else BLOCK["height"] / 2
        extra = 0.16 if isinstance(layer, layers.Add) else 0.0  # room for the math labels
        heights.append(top + extra + half)
        top = heights[-1] + half + BLOCK["gap"] + extra
    return heights


def _draw_column(ax, column, heights):
    """The main column's nodes joined by arrows, from the input up to the output."""
    x = BLOCK["x"]
    halves = [BLOCK["radius"] if isinstance(layer, layers.Add) else BLOCK["height"] / 2
              for layer in column]  # fmt: skip
    ends = [0.02] + [y + half for y, half in zip(heights, halves, strict=True)]
    starts = [y - half for y, half in zip(heights, halves, strict=True)] + [heights[-1] + 0.6]
    for start, end in zip(ends, starts, strict=True):
        _arrow(ax, [(x, start), (x, end)])
    for layer, y in zip(column, heights, strict=True):
        if isinstance(layer, layers.Add):
            _add_node(ax, (x, y), BLOCK["radius"])
        else:
            fill = CONV_FILLS[0] if isinstance(layer, layers.Conv2D) else "white"
            _box(ax, (x, y), (BLOCK["width"], BLOCK["height"]), layer_label(layer), fill,
                 _kind(layer), fontsize=10)  # fmt: skip


def _draw_block_shortcut(ax, block, fork_y, add_y, dashed):
    """The shortcut: right from the fork, up past its own layers, left into the addition."""
    x, right = BLOCK["x"], BLOCK["x"] + BLOCK["width"] / 2 + 0.3
    projected = any(isinstance(layer, WEIGHTED) for layer in block.shortcut)
    box_width = BLOCK["side_width"] if projected else 0.5
    side = right + (box_width / 2 if block.shortcut else 0.0)
    route = [(x, fork_y), (side, fork_y), (side, add_y), (x + BLOCK["radius"], add_y)]
    _arrow(ax, route, SHORTCUT_COLOR, "shortcut", dashed, lw=1.6)
    for index, layer in enumerate(block.shortcut, start=1):
        y = fork_y + (add_y - fork_y) * index / (len(block.shortcut) + 1)
        fill = CONV_FILLS[0] if isinstance(layer, layers.Conv2D) else "white"
        _box(ax, (side, y), (box_width, BLOCK["height"]), layer_label(layer), fill,
             _kind(layer), fontsize=9)  # fmt: skip


def _label_block(ax, block, heights):
    """The math labels (the input, the branch's output, the sum), left of the main column."""
    x = BLOCK["x"] - 0.08
    ax.text(x, 0.14, "$x$", ha="right", va="center", fontsize=12, gid="math")
    if block.add is None:
        return
    add_y = heights[len(block.before) + len(block.branch)]
    below = add_y - BLOCK["radius"] - 0.18
    ax.text(x, below, r"$\mathcal{F}(x)$", ha="right", va="center", fontsize=12, gid="math")
    projected = any(isinstance(layer, WEIGHTED) for layer in block.shortcut)
    total = r"$\mathcal{F}(x)+W_s x$" if projected else r"$\mathcal{F}(x)+x$"
    if projected or not block.shortcut:
        ax.text(x - BLOCK["radius"], add_y, total, ha="right", va="center", fontsize=12,
                gid="math")  # fmt: skip


def block_diagram(model):
    """One block as the paper's Figure 2, drawn from the model: input at the bottom.

    The main column holds the block's layers (``3×3, 16`` for a convolution,
    ``BN``, ``ReLU``) and the addition as a circled plus; the shortcut runs on
    the right with its own layers, if any (a projection, or option A's
    subsampling ``/2`` and zero channels ``[·, 0]``), dashed where it changes
    the shape. A block without an Add (``models.plain_block``) has no shortcut.

    Taught in chapters/02-core-idea.ipynb.

    Args:
        model: A keras.Model wrapping one block, for example
            ``keras.Model(inputs, models.residual_block(inputs, 16, name="block"))``.

    Returns:
        The matplotlib figure, closed: it displays as the value of a cell.

    Raises:
        ValueError: If ``model`` is not a keras.Model or holds more than one Add.
    """
    block = block_structure(model)
    column = [*block.before, *block.branch, *([block.add] if block.add else []), *block.after]
    heights = _block_heights(column)
    width = BLOCK["x"] + BLOCK["width"] / 2 + 0.4 + BLOCK["side_width"]
    fig, ax = _canvas(width, heights[-1] + 0.65)
    _draw_column(ax, column, heights)
    if block.add is not None:
        fork_y = heights[len(block.before) - 1] + 0.3 if block.before else 0.24
        add_y = heights[len(block.before) + len(block.branch)]
        unit = residual_units(model)[0]
        _draw_block_shortcut(ax, block, fork_y, add_y, unit.changes_shape)
    _label_block(ax, block, heights)
    return _closed(fig)


# --- Plain and residual stacks (paper, Figure 3) ----------------------------------------------


def _stack(model):
    """The main path's shown layers (convolutions, pooling, dense) and each block's span.

    Returns ``(shown, spans)``: the layers, input side first, and for every
    residual unit ``(first, last, dashed)``, the indices of its branch's first and
    last shown layer and whether its shortcut changes the shape.
    """
    units = residual_units(model)
    aside = {layer.name for unit in units for layer in unit.shortcut}
    shown = [
        layer for layer in model.layers if isinstance(layer, SHOWN) and layer.name not in aside
    ]
    index = {layer.name: position for position, layer in enumerate(shown)}
    spans = []
    for unit in units:
        inside = [index[layer.name] for layer in unit.branch if layer.name in index]
        if inside:
            spans.append((min(inside), max(inside), unit.changes_shape))
    return shown, spans


def _check_twins(plain_model, residual_model):
    """Raise ValueError unless both models show the same layers; return both stacks."""
    _check_model("plain_model", plain_model)
    _check_model("residual_model", residual_model)
    stacks = _stack(plain_model), _stack(residual_model)
    plain, residual = ([layer_label(layer) for layer in shown] for shown, _ in stacks)
    if plain != residual:
        raise ValueError(
            "residual_model must have the weighted layers of plain_model. Received: "
            f"plain_model={plain_model!r} with {len(plain)} ({plain[0]}, ...), "
            f"residual_model={residual_model!r} with {len(residual)} ({residual[0]}, ...)"
        )
    return stacks


STACK = {"height": 0.95, "row": 1.37, "left": 0.3, "right": 0.3, "depth": 0.32}  # inches


def _draw_stack(ax, shown, spans, y, pitch):
    """One network as a row of boxes, input on the left, its shortcuts as arcs below."""
    x = [STACK["left"] + pitch * (index + 0.5) for index in range(len(shown))]
    _arrow(ax, [(0.04, y), (x[-1] + pitch / 2 + STACK["right"] - 0.06, y)])
    fills = _fills({layer.filters for layer in shown if isinstance(layer, layers.Conv2D)})
    fontsize = 7.5 if pitch >= 0.28 else 6
    for layer, centre in zip(shown, x, strict=True):
        fill = fills.get(getattr(layer, "filters", None), "white")
        _box(ax, (centre, y), (pitch * 0.72, STACK["height"]), layer_label(layer), fill,
             _kind(layer), fontsize, rotation=90)  # fmt: skip
    bottom = y - STACK["height"] / 2 - 0.05
    for first, last, dashed in spans:
        start, end = x[first] - pitch / 2, x[last] + pitch / 2
        low = bottom - STACK["depth"]
        points = [(start, y), (start, bottom), (start, low), (end, low), (end, bottom), (end, y)]
        codes = [Path.MOVETO, Path.LINETO, Path.CURVE4, Path.CURVE4, Path.CURVE4, Path.LINETO]
        _arrow(ax, Path(points, codes), SHORTCUT_COLOR, "shortcut", dashed, lw=1.3)


def stacks_diagram(plain_model, residual_model):
    """A plain network above its residual twin, one box per weighted layer (Figure 3's idea).

    Each convolution is a box (``3×3, 16``; ``/2`` where it strides by 2),
    then ``pool`` and ``fc 10``; below the residual row an arc for every
    block's shortcut, from the block's input to its addition, dashed where the
    shortcut changes the shape. The blocks are read from the Add layers' inputs.

    Taught in chapters/03-algorithm.ipynb.

    Args:
        plain_model: A plain network, for example ``models.plain_net(20)``.
        residual_model: Its residual twin, for example ``models.cifar_resnet(20)``.

    Returns:
        The matplotlib figure, closed: it displays as the value of a cell.

    Raises:
        ValueError: If either is not a keras.Model, or their weighted layers differ.
    """
    (plain, plain_spans), (residual, residual_spans) = _check_twins(plain_model, residual_model)
    pitch = min(0.34, (7.0 - STACK["left"] - STACK["right"]) / len(plain))
    width = STACK["left"] + pitch * len(plain) + STACK["right"]
    fig, ax = _canvas(width, 2 * STACK["row"] + 0.1)
    for row, (shown, spans) in enumerate(((residual, residual_spans), (plain, plain_spans))):
        _draw_stack(ax, shown, spans, STACK["row"] * (row + 1) - STACK["height"] / 2 + 0.05, pitch)
    return _closed(fig)


# --- The CIFAR network's stages (paper, section 4.2) ------------------------------------------


def _main_convs(model, units):
    """The convolutions on the main path (projection shortcuts left out), input side first."""
    aside = {layer.name for unit in units for layer in unit.shortcut}
    return [layer for layer in model.layers
            if isinstance(layer, layers.Conv2D) and layer.name not in aside]  # fmt: skip


def _stages(model):
    """Main-path convolutions grouped by output size: ``(table rows, convs per stage, units)``."""
    units = residual_units(model)
    rows, groups = [], []
    for conv in _main_convs(model, units):
        size = tuple(conv.output.shape[1:3])
        if None in size:
            raise ValueError(f"model must have a known input size. Received: model={model!r}")
        if not rows or rows[-1]["output_size"] != size:
            rows.append({"stage": len(rows) + 1, "output_size": size, "weighted_layers": 0,
                         "blocks": 0})  # fmt: skip
            groups.append([])
        rows[-1]["filters"] = conv.filters
        rows[-1]["weighted_layers"] += 1
        groups[-1].append(conv)
    if not rows:
        raise ValueError(f"model must hold a Conv2D layer. Received: model={model!r}")
    for unit in units:
        size = tuple(unit.add.output.shape[1:3])
        next(row for row in rows if row["output_size"] == size)["blocks"] += 1
    return rows, groups, units


def stage_table(model):
    """The stages of a CIFAR network as the paper's section 4.2 table, read from the model.

    A stage is a run of main-path convolutions with one output map size; the
    stem convolution counts in the first, so ResNet-6n+2 has 1+2n, 2n and 2n
    weighted layers. Pooling and the classifier belong to no stage.

    Taught in chapters/05-keras-code.ipynb.

    Args:
        model: A CIFAR network, for example ``models.cifar_resnet(20)``.

    Returns:
        One dict per stage, input side first, with keys ``"stage"`` (1, 2, ...),
        ``"output_size"`` (height, width), ``"filters"``, ``"weighted_layers"``
        and ``"blocks"`` (residual blocks; 0 in a plain network).

    Raises:
        ValueError: If ``model`` is not a keras.Model, has no Conv2D or an unknown input size.
    """
    _check_model("model", model)
    rows, _, _ = _stages(model)
    return [{key: row[key] for key in ("stage", "output_size", "filters", "weighted_layers",
                                       "blocks")} for row in rows]  # fmt: skip


def _conv_math(conv):
    """``3×3, 16`` in mathtext, without the stride."""
    height, width = conv.kernel_size
    return rf"{height}{{\times}}{width},\,{conv.filters}"


def _bracket(convs, times):
    """The paper's Table 1 notation: the convolutions stacked in brackets, ``×times``."""
    stacked = _conv_math(convs[-1])
    for conv in reversed(convs[:-1]):
        stacked = rf"\genfrac{{}}{{}}{{0}}{{0}}{{{_conv_math(conv)}}}{{{stacked}}}"
    return rf"$\left[{stacked}\right]{{\times}}{times}$"


def _stage_text(row, convs, units):
    """A stage in the paper's notation: its first block's convolutions, ``×`` blocks."""
    first = next((u for u in units if tuple(u.add.output.shape[1:3]) == row["output_size"]), None)
    if first is None:  # a plain stage: its layers, ``×`` how many
        return _bracket(convs[:1], len(convs))
    return _bracket([layer for layer in first.branch if isinstance(layer, layers.Conv2D)],
                    row["blocks"])  # fmt: skip


def _stage_items(model):
    """Boxes left to right: ``(text, width, layer giving the shape, mark on the arrow in)``."""
    rows, groups, units = _stages(model)
    stem = groups[0][0]
    items = [(layer_label(stem), 0.6, stem, "")]
    for row, group in zip(rows, groups, strict=True):
        convs = [conv for conv in group if conv is not stem]
        stride = convs[0].strides[0]
        mark = f"/{stride}" if stride > 1 else ""
        items.append((_stage_text(row, convs, units), 0.98, convs[-1], mark))
    for layer in model.layers:
        if isinstance(layer, layers.GlobalAveragePooling2D | layers.Dense):
            softmax = getattr(getattr(layer, "activation", None), "__name__", "") == "softmax"
            text = layer_label(layer) + ("\nsoftmax" if softmax else "")
            items.append((text, 0.62 if softmax else 0.5, layer, ""))
    return items


def _shape_text(tensor):
    """A tensor's shape without the batch axis: ``32×32×16``."""
    return "×".join(str(size) for size in tensor.shape[1:])


def stages_diagram(model):
    """The CIFAR network's stages left to right, each with its output shape under it.

    The stem convolution, then one box per stage in the paper's notation
    (the block's convolutions in brackets, ``×3`` blocks; ``/2`` on the arrow
    into a stage that halves the map), then ``pool`` and ``fc 10``.

    Taught in chapters/05-keras-code.ipynb.

    Args:
        model: A CIFAR network, for example ``models.cifar_resnet(20)``.

    Returns:
        The matplotlib figure, closed: it displays as the value of a cell.

    Raises:
        ValueError: As :func:`stage_table`.
    """
    _check_model("model", model)
    items, gap, y = _stage_items(model), 0.22, 0.68
    fills = _fills({layer.filters for _, _, layer, _ in items if hasattr(layer, "filters")})
    width = 0.95 + sum(item[1] + gap for item in items) + 0.05
    fig, ax = _canvas(width, 1.1)
    ax.text(0.95 - gap - 0.05, y, _shape_text(model.inputs[0]), ha="right", va="center",
            fontsize=8.5, gid="shape")  # fmt: skip
    x = 0.95
    for text, box_width, layer, mark in items:
        _arrow(ax, [(x - gap, y), (x, y)])
        ax.text(x - gap / 2, y + 0.05, mark, ha="center", va="bottom", fontsize=8.5)
        fill = fills.get(getattr(layer, "filters", None), "white")
        _box(ax, (x + box_width / 2, y), (box_width, 0.62), text, fill, _kind(layer), 8.5)
        ax.text(x + box_width / 2, y - 0.42, _shape_text(layer.output), ha="center", va="top",
                fontsize=8.5, gid="shape")  # fmt: skip
        x += box_width + gap
    return _closed(fig)
