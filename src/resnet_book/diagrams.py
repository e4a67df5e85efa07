"""Diagrams of the book's networks, drawn from what the code builds, in one palette.

The block, stack and stage figures draw what :mod:`resnet_book.structure` reads
from a Keras model's functional graph (its residual units, layer types, output
shapes), so a diagram cannot drift from the code it shows; :func:`draw_blocks`
draws the gradient-flow blocks from their list of operations
(``resnet_book.gradflow.LAYOUT``), and :func:`draw_data_parallel` the replicas
of chapter 13. The figures carry only compact notation (``3×3, 16``, ``/2``,
``BN``, ``+``) and a few math labels; the captions carry the words, so other
editions reuse them. Every colour comes from :data:`resnet_book.plotting.PALETTE`.
Keras is imported when a function first reads a model, not with this module.

Taught in chapters/02-core-idea.ipynb, chapters/03-algorithm.ipynb,
chapters/05-keras-code.ipynb, chapters/06-gradient-flow.ipynb,
chapters/08-deeper-blocks.ipynb, chapters/12-why-plain-networks-degrade.ipynb and
chapters/13-training-at-scale.ipynb.
"""

import matplotlib.pyplot as plt
from matplotlib.colors import to_rgba
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle
from matplotlib.path import Path

from resnet_book import arguments, structure
from resnet_book.plotting import PALETTE

# Layers drawn as a symbol, by class name (a subclass inherits its parent's symbol).
SYMBOLS = {
    "BatchNormalization": "BN",
    "ReLU": "ReLU",
    "Add": "+",
    "GlobalAveragePooling2D": "pool",
    "ZeroPadChannels": r"$[\,\cdot\,,\mathbf{0}]$",
}


def _shown(layer):
    """Whether a stack diagram draws ``layer`` as a box: weighted layers and pooling."""
    from resnet_book.backend import layers

    return structure.is_weighted(layer) or isinstance(
        layer, layers.GlobalAveragePooling2D | layers.MaxPooling2D | layers.AveragePooling2D
    )


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
    from resnet_book.backend import layers

    if isinstance(layer, layers.Conv2D):
        (height, width), stride = layer.kernel_size, layer.strides[0]
        return f"{height}×{width}, {layer.filters}" + (f", /{stride}" if stride > 1 else "")
    if isinstance(layer, layers.Dense):
        return f"fc {layer.units}"
    if isinstance(layer, layers.MaxPooling2D | layers.AveragePooling2D):
        size, stride = layer.pool_size[0], layer.strides[0]
        kind = "max" if isinstance(layer, layers.MaxPooling2D) else "avg"
        return f"/{stride}" if size == 1 else f"{size}×{size} {kind}, /{stride}"
    kinds = (kind.__name__ for kind in type(layer).__mro__)
    return next((SYMBOLS[kind] for kind in kinds if kind in SYMBOLS), layer.name)


# --- Drawing primitives: data units are inches ------------------------------------------------


def _canvas(width, height):
    """A white figure of ``width`` x ``height`` inches whose data units are inches."""
    fig = plt.figure(figsize=(width, height), facecolor=PALETTE["paper"])
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    return fig, ax


def _kind(layer):
    """The gid of a layer's artists: ``conv``, ``add`` or ``layer``, for counting in tests."""
    if structure.is_conv(layer):
        return "conv"
    return "add" if structure.is_add(layer) else "layer"


def _box(ax, center, size, text, fill=PALETTE["paper"], gid="layer", fontsize=9, rotation=0):
    """A rounded box with centred text; the patch and the text carry ``gid``."""
    (x, y), (width, height) = center, size
    ax.add_patch(
        FancyBboxPatch(
            (x - width / 2, y - height / 2),
            width,
            height,
            boxstyle="round,pad=0,rounding_size=0.04",
            facecolor=fill,
            edgecolor=PALETTE["ink"],
            lw=0.9,
            gid=gid,
            zorder=2,
        )
    )
    ax.text(
        x,
        y,
        text,
        ha="center",
        va="center",
        fontsize=fontsize,
        rotation=rotation,
        color=PALETTE["text"],
        gid=gid,
        zorder=3,
    )


def _add_node(ax, center, radius):
    """The addition: a circled plus."""
    ax.add_patch(
        Circle(
            center,
            radius,
            facecolor=PALETTE["paper"],
            edgecolor=PALETTE["ink"],
            lw=0.9,
            gid="add",
            zorder=2,
        )
    )
    ax.text(*center, "+", ha="center", va="center", fontsize=12, gid="add", zorder=3)


def _arrow(ax, points, color=PALETTE["ink"], gid="flow", dashed=False, lw=0.9, small=False):
    """A polyline (or a Path) through ``points``, arrowhead at its end (smaller if ``small``)."""
    path = points if isinstance(points, Path) else Path(points)
    head = "head_length=0.3,head_width=0.15" if small else "head_length=0.5,head_width=0.22"
    ax.add_patch(
        FancyArrowPatch(
            path=path,
            arrowstyle=f"-|>,{head}",
            mutation_scale=10 if small else 12,
            color=color,
            lw=lw,
            gid=gid,
            zorder=1,
            linestyle="--" if dashed else "-",
        )
    )


def _fills(widths):
    """Conv box colours keyed by filter count, darker for wider layers."""
    fills = PALETTE["weights"]
    return {width: fills[min(i, len(fills) - 1)] for i, width in enumerate(sorted(widths))}


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
        half = BLOCK["radius"] if structure.is_add(layer) else BLOCK["height"] / 2
        extra = 0.16 if structure.is_add(layer) else 0.0  # room for the math labels
        heights.append(top + extra + half)
        top = heights[-1] + half + BLOCK["gap"] + extra
    return heights


def _draw_column(ax, column, heights):
    """The main column's nodes joined by arrows, from the input up to the output."""
    x = BLOCK["x"]
    halves = [
        BLOCK["radius"] if structure.is_add(layer) else BLOCK["height"] / 2 for layer in column
    ]
    ends = [0.02] + [y + half for y, half in zip(heights, halves, strict=True)]
    starts = [y - half for y, half in zip(heights, halves, strict=True)] + [heights[-1] + 0.6]
    for start, end in zip(ends, starts, strict=True):
        _arrow(ax, [(x, start), (x, end)])
    for layer, y in zip(column, heights, strict=True):
        if structure.is_add(layer):
            _add_node(ax, (x, y), BLOCK["radius"])
        else:
            fill = PALETTE["weights"][0] if structure.is_conv(layer) else PALETTE["paper"]
            _box(
                ax,
                (x, y),
                (BLOCK["width"], BLOCK["height"]),
                layer_label(layer),
                fill,
                _kind(layer),
                fontsize=10,
            )


def _draw_block_shortcut(ax, block, fork_y, add_y, dashed):
    """The shortcut: right from the fork, up past its own layers, left into the addition."""
    x, right = BLOCK["x"], BLOCK["x"] + BLOCK["width"] / 2 + 0.3
    projected = any(structure.is_weighted(layer) for layer in block.shortcut)
    box_width = BLOCK["side_width"] if projected else 0.5
    side = right + (box_width / 2 if block.shortcut else 0.0)
    route = [(x, fork_y), (side, fork_y), (side, add_y), (x + BLOCK["radius"], add_y)]
    _arrow(ax, route, PALETTE["shortcut"], "shortcut", dashed, lw=1.6)
    for index, layer in enumerate(block.shortcut, start=1):
        y = fork_y + (add_y - fork_y) * index / (len(block.shortcut) + 1)
        fill = PALETTE["weights"][0] if structure.is_conv(layer) else PALETTE["paper"]
        _box(
            ax,
            (side, y),
            (box_width, BLOCK["height"]),
            layer_label(layer),
            fill,
            _kind(layer),
            fontsize=9,
        )


def _label_block(ax, block, heights):
    """The math labels (the input, the branch's output, the sum), left of the main column."""
    x = BLOCK["x"] - 0.08
    ax.text(x, 0.14, "$x$", ha="right", va="center", fontsize=12, gid="math")
    if block.add is None:
        return
    add_y = heights[len(block.before) + len(block.branch)]
    below = add_y - BLOCK["radius"] - 0.18
    ax.text(x, below, r"$\mathcal{F}(x)$", ha="right", va="center", fontsize=12, gid="math")
    projected = any(structure.is_weighted(layer) for layer in block.shortcut)
    total = r"$\mathcal{F}(x)+W_s x$" if projected else r"$\mathcal{F}(x)+x$"
    if projected or not block.shortcut:
        ax.text(x - BLOCK["radius"], add_y, total, ha="right", va="center", fontsize=12, gid="math")


def _without_padding(block):
    """``block`` without its explicit zero padding, which the diagram leaves to the convolution."""
    from resnet_book.backend import layers

    def drop(chain):
        return (
            None if chain is None else [x for x in chain if not isinstance(x, layers.ZeroPadding2D)]
        )

    return block._replace(
        before=drop(block.before),
        branch=drop(block.branch),
        after=drop(block.after),
        shortcut=drop(block.shortcut),
    )


def _block_layout(model):
    """What :func:`blocks_diagram` draws of one block: the block, its column, heights, width."""
    block = _without_padding(structure.block_structure(model))
    column = [*block.before, *block.branch, *([block.add] if block.add else []), *block.after]
    heights = _block_heights(column)
    width = BLOCK["x"] + BLOCK["width"] / 2 + 0.4 + BLOCK["side_width"]
    return block, column, heights, width


def _draw_block(ax, model, block, column, heights):
    """One block on ``ax``, whose data units are inches."""
    _draw_column(ax, column, heights)
    if block.add is not None:
        fork_y = heights[len(block.before) - 1] + 0.3 if block.before else 0.24
        add_y = heights[len(block.before) + len(block.branch)]
        unit = structure.residual_units(model)[0]
        _draw_block_shortcut(ax, block, fork_y, add_y, unit.changes_shape)
    _label_block(ax, block, heights)


def block_diagram(model, channels=False):
    """One block as the paper's Figure 2, drawn from the model: input at the bottom.

    The main column holds the block's layers (``3×3, 16`` for a convolution,
    ``BN``, ``ReLU``) and the addition as a circled plus; the shortcut runs on
    the right with its own layers, if any (a projection, or option A's
    subsampling ``/2`` and zero channels ``[·, 0]``), dashed where it changes
    the shape. A block without an Add (``models.plain_block``) has no shortcut.
    With ``channels``, the input and output arrows carry their channel counts
    in the paper's Figure 5 notation (``256-d``), right of the column.

    Taught in chapters/02-core-idea.ipynb and chapters/08-deeper-blocks.ipynb.

    Args:
        model: A keras.Model wrapping one block, for example
            ``keras.Model(inputs, models.residual_block(inputs, 16, name="block"))``.
        channels: Whether to label the input's and the output's channel counts.

    Returns:
        The matplotlib figure, closed: it displays as the value of a cell.

    Raises:
        ValueError: If ``model`` is not a keras.Model or holds more than one Add.
    """
    fig = blocks_diagram(model)
    if channels:
        heights = _block_layout(model)[2]
        x = BLOCK["x"] + 0.08
        top = heights[-1] + BLOCK["height"] / 2 + 0.22  # beside the output arrow
        for y, tensor in [(0.1, model.input), (top, model.output)]:
            fig.axes[0].text(
                x, y, f"{tensor.shape[-1]}-d", ha="left", va="center", fontsize=10, gid="channels"
            )
    return fig


def blocks_diagram(*models):
    """Blocks side by side, each drawn as :func:`block_diagram` draws one, on a shared scale.

    For comparing blocks: a plain block beside a residual one (chapter 2), the original block
    beside the pre-activation block (chapter 8). Each block has an axes of its own, left to
    right in the order given; captions, not the figure, say which is which.

    Args:
        *models: keras.Models, each wrapping one block.

    Returns:
        The matplotlib figure, closed: it displays as the value of a cell.

    Raises:
        ValueError: If no model is given, or one is not a keras.Model or holds more than one Add.
    """
    if not models:
        arguments.reject("models", models, "at least one keras.Model wrapping a block")
    layouts = [_block_layout(model) for model in models]
    total = sum(layout[3] for layout in layouts)
    height = max(layout[2][-1] for layout in layouts) + 0.65
    fig = plt.figure(figsize=(total, height), facecolor=PALETTE["paper"])
    left = 0.0
    for model, (block, column, heights, width) in zip(models, layouts, strict=True):
        ax = fig.add_axes((left / total, 0, width / total, 1))
        ax.set_xlim(0, width)
        ax.set_ylim(0, height)
        ax.axis("off")
        _draw_block(ax, model, block, column, heights)
        left += width
    return _closed(fig)


# --- Plain and residual stacks (paper, Figure 3) ----------------------------------------------


def _stack(model):
    """The main path's shown layers (convolutions, pooling, dense) and each block's span.

    Returns ``(shown, spans)``: the layers, input side first, and for every
    residual unit ``(first, last, dashed)``, the indices of its branch's first and
    last shown layer and whether its shortcut changes the shape.
    """
    units = structure.residual_units(model)
    aside = {layer.name for unit in units for layer in unit.shortcut}
    shown = [layer for layer in model.layers if _shown(layer) and layer.name not in aside]
    index = {layer.name: position for position, layer in enumerate(shown)}
    spans = []
    for unit in units:
        inside = [index[layer.name] for layer in unit.branch if layer.name in index]
        if inside:
            spans.append((min(inside), max(inside), unit.changes_shape))
    return shown, spans


def _check_twins(plain_model, residual_model):
    """Raise ValueError unless both models show the same layers; return both stacks."""
    structure.check_graph("plain_model", plain_model)
    structure.check_graph("residual_model", residual_model)
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
    fills = _fills({layer.filters for layer in shown if structure.is_conv(layer)})
    stem = next(layer for layer in shown if structure.is_conv(layer))  # in no stage: grey
    fontsize = 7.5 if pitch >= 0.28 else 6
    for layer, centre in zip(shown, x, strict=True):
        fill = fills.get(getattr(layer, "filters", None), PALETTE["paper"])
        fill = PALETTE["marked"] if layer is stem else fill
        _box(
            ax,
            (centre, y),
            (pitch * 0.72, STACK["height"]),
            layer_label(layer),
            fill,
            _kind(layer),
            fontsize,
            rotation=90,
        )
    bottom = y - STACK["height"] / 2 - 0.05
    for first, last, dashed in spans:
        start, end = x[first] - pitch / 2, x[last] + pitch / 2
        low = bottom - STACK["depth"]
        points = [(start, y), (start, bottom), (start, low), (end, low), (end, bottom), (end, y)]
        codes = [Path.MOVETO, Path.LINETO, Path.CURVE4, Path.CURVE4, Path.CURVE4, Path.LINETO]
        _arrow(ax, Path(points, codes), PALETTE["shortcut"], "shortcut", dashed, lw=1.3)


def stacks_diagram(plain_model, residual_model):
    """A plain network above its residual twin, one box per weighted layer (Figure 3's idea).

    Each convolution is a box (``3×3, 16``; ``/2`` where it strides by 2), the stem's grey
    (it belongs to no stage), then ``pool`` and ``fc 10``; below the residual row an arc for every
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


# --- Where the shortcuts sit in a row of layers (chapter 8) ------------------------------------

ROWS = {"height": 0.6, "depth": 0.3, "title": 0.3, "radius": 0.1, "left": 0.3, "right": 0.25}
ROWS_ZOOMED = 4.0  # a stretch of columns is drawn at least this wide (inches), text and all


def _row_layout(name, model):
    """A model's layers as a row: ``(shown, adds, arcs)``, read from its residual units.

    ``shown`` holds the main path's layers, input side first: every layer but the input, the
    additions, explicit padding and the layers on a shortcut. ``adds`` maps the index of the
    shown layer that ends each branch to its Add. ``arcs`` holds ``(fork, add, dashed)`` per
    unit, where ``fork`` is the Add or shown layer whose output the shortcut carries, or
    ``None`` for the model's input.
    """
    from resnet_book.backend import layers

    structure.check_graph(name, model)
    units = structure.residual_units(model)
    aside = {layer.name for unit in units for layer in unit.shortcut}
    hidden = layers.InputLayer | layers.Add | layers.ZeroPadding2D
    shown = [
        layer for layer in model.layers if not isinstance(layer, hidden) and layer.name not in aside
    ]
    index = {layer.name: position for position, layer in enumerate(shown)}
    adds, arcs = {}, []
    for unit in units:
        inside = [index[layer.name] for layer in unit.branch if layer.name in index]
        if not inside:
            arguments.reject(name, model, "a keras.Model whose every branch holds a layer")
        adds[max(inside)] = unit.add
        fork = None if isinstance(unit.fork, layers.InputLayer) else unit.fork
        arcs.append((fork, unit.add, unit.changes_shape))
    return shown, adds, arcs


def _draw_row(ax, shown, adds, arcs, centres, gaps, y, pitch, shade=(), blocks=False):
    """One row: boxes at ``centres``, additions in the ``gaps`` after them, arcs below.

    ``centres`` and ``gaps`` map each drawn column to its x. A shortcut from a column left of
    them comes in at the left edge, one to a column right of them leaves at the right edge.
    The boxes in the columns ``shade`` are filled grey, each run of adjacent ones bracketed above.
    With ``blocks``, each block's span is tinted behind the row (see shortcut_rows_diagram).
    """
    radius = ROWS["radius"]
    first, last = min(centres), max(centres)
    left, right = 0.04, centres[last] + pitch / 2 + ROWS["right"] - 0.06
    _arrow(ax, [(left, y), (right, y)])
    fills = _fills({layer.filters for layer in shown if structure.is_conv(layer)})
    box = (pitch * 0.88, ROWS["height"])
    for column, layer in enumerate(shown):
        if column not in centres:
            continue
        fill = fills.get(getattr(layer, "filters", None), PALETTE["paper"])
        if column in shade:
            fill = PALETTE["marked"]
        label = layer_label(layer).replace(", ", "\n")  # stacked: read without turning
        _box(ax, (centres[column], y), box, label, fill, _kind(layer), 7.5)
    top = y + ROWS["height"] / 2
    for run in _runs(sorted(c for c in shade if c in centres)):
        x0, x1 = centres[run[0]] - box[0] / 2, centres[run[-1]] + box[0] / 2
        heights = [top + 0.03, top + 0.09, top + 0.09, top + 0.03]
        ax.plot([x0, x0, x1, x1], heights, color=PALETTE["ink"], lw=1.0, clip_on=False)
    where = {add.name: gaps[position] for position, add in adds.items() if position in gaps}
    for x in where.values():
        _add_node(ax, (x, y), radius)
    column_of = {layer.name: position for position, layer in enumerate(shown)}
    column_of |= {add.name: position for position, add in adds.items()}
    bottom = y - ROWS["height"] / 2 - 0.05
    low = bottom - ROWS["depth"]
    begins = []  # per unit, the x where its block begins; None: right of the stretch
    for fork, add, dashed in arcs:
        begin = -1 if fork is None else column_of[fork.name]  # the input: left of column 0
        if fork is None and first == 0:
            start = 0.12
        elif fork is not None and begin in gaps:
            start = where[fork.name] + radius + 0.03 if structure.is_add(fork) else gaps[begin]
        else:
            start = None  # outside, on the left: forks come before their additions
        begins.append(left if start is None and begin < first else start)
        through = begin < first and column_of[add.name] > last  # under the whole stretch
        levels = (y, bottom, low, y - radius)
        path = _shortcut_path(start, where.get(add.name), (left, right), levels, through)
        if path is not None:  # None: wholly left or right of the stretch
            _arrow(ax, path, PALETTE["shortcut"], "shortcut", dashed, lw=1.3)
    spans = [(unit, x) for unit, x in enumerate(begins) if x is not None] if blocks else []
    for (unit, x0), x1 in zip(spans, [x for _, x in spans[1:]] + [right], strict=False):
        if x1 > x0:  # behind everything, from the arcs' depth to the boxes' top
            tint = PALETTE["blocks"][unit % len(PALETTE["blocks"])]
            rest = {"facecolor": tint, "edgecolor": "none", "zorder": 0, "gid": "block"}
            ax.add_patch(Rectangle((x0, low - 0.06), x1 - x0, top + 0.08 - low, **rest))


def _runs(columns):
    """Sorted column numbers split into runs of adjacent ones: [1, 2, 5] -> [[1, 2], [5]]."""
    runs = []
    for column in columns:
        if runs and column == runs[-1][-1] + 1:
            runs[-1].append(column)
        else:
            runs.append([column])
    return runs


def _shortcut_path(start, end, edges, levels, through):
    """One shortcut's arc below a row, from its fork at x ``start`` to its addition at x ``end``.

    A ``start`` or ``end`` of None lies outside the drawn stretch: the arc then comes in at the
    left edge or leaves at the right one, and with both None it passes under the stretch
    (``through``) or is not drawn (None is returned). ``edges`` holds the row's left and right
    x, ``levels`` the row's y, the boxes' bottom, the arc's depth and the addition's bottom.
    """
    left, right = edges
    y, bottom, low, add_bottom = levels
    bend = 0.2
    if start is not None and end is not None:
        points = [(start, y), (start, bottom), (start, low), (end, low), (end, bottom)]
    elif end is not None:  # comes in from the left edge
        points = [(left, low), (end - bend, low), (end, low), (end, low), (end, bottom)]
    elif start is not None:  # leaves at the right edge
        points = [(start, y), (start, bottom), (start, low), (start, low), (start + bend, low)]
    elif through:
        return Path([(left, low), (right, low)], [Path.MOVETO, Path.LINETO])
    else:
        return None
    points.append((right, low) if end is None else (end, add_bottom))
    codes = [Path.MOVETO, Path.LINETO, Path.CURVE4, Path.CURVE4, Path.CURVE4, Path.LINETO]
    return Path(points, codes)


def shortcut_rows_diagram(*models, shade=(), columns=None, blocks=False):
    """Networks with the same layers in the same order, one row each, and where each adds.

    Each row runs left to right from the input, one box per layer (``3×3, 16`` for a
    convolution, ``BN``, ``ReLU``), the columns aligned from row to row. An addition is a
    circled plus in the gap after the layer that ends its branch, and below the row an arc
    runs from where each shortcut leaves to its addition, dashed where the shortcut changes
    the shape. Gaps that hold an addition in any row are widened in every row, so the
    same layer sits in the same column and a shortcut that moves can be seen to move. Each
    row has an axes of its own, top to bottom in the order given; captions, not the figure,
    say which is which.

    Taught in chapters/08-deeper-blocks.ipynb, where the original block's shortcuts slide
    into the pre-activation block's places.

    Args:
        *models: keras.Models whose main paths hold the same layers in the same order,
            for example a stem and three ``models.residual_block`` beside a stem and three
            ``models.preactivation_block`` ended by BatchNorm and ReLU.
        shade: Columns (0 for the first layer after the input) whose boxes are filled grey
            in every row, each run of adjacent ones bracketed above, to pick out layers the
            text discusses.
        columns: A range of columns, ``range(6, 10)`` for example, to draw only that stretch
            of every row, zoomed in on a few layers (drawn at least ``ROWS_ZOOMED`` inches
            wide, text enlarged with it). A shortcut from an earlier column comes
            in at the left edge, one to a later column leaves at the right edge. ``None``, the
            default, draws every column.
        blocks: Whether to tint each block's span behind the rows, in alternating pale colours
            (``PALETTE["blocks"]``: green, then purple), so the blocks can be told apart. A
            block begins where its shortcut leaves and ends where the next one's leaves (the
            last at the row's end); the layers before the first shortcut are left untinted.

    Returns:
        The matplotlib figure, closed: it displays as the value of a cell.

    Raises:
        ValueError: If no model is given, one is not a keras.Model, has a branch without
            a layer, or shows other layers than the first model; if ``shade`` holds
            anything but column numbers of the rows, ``columns`` is not a range of them, or
            ``blocks`` is not a bool.
    """
    if not models:
        arguments.reject("models", models, "at least one keras.Model")
    rows = [_row_layout(f"models[{number}]", model) for number, model in enumerate(models)]
    labels = [[layer_label(layer) for layer in shown] for shown, _, _ in rows]
    for number, row in enumerate(labels[1:], start=1):
        if row != labels[0]:
            arguments.reject(
                f"models[{number}]",
                models[number],
                f"a keras.Model showing the {len(labels[0])} layers of models[0] in its order "
                f"({len(row)} shown)",
            )
    shade = tuple(shade)
    if not all(isinstance(c, int) and 0 <= c < len(labels[0]) for c in shade):
        arguments.reject("shade", shade, f"column numbers from 0 to {len(labels[0]) - 1}")
    if not isinstance(blocks, bool):
        arguments.reject("blocks", blocks, "True or False")
    count = len(labels[0])
    window = range(count) if columns is None else columns
    if not (
        isinstance(window, range) and window.step == 1 and 0 <= window.start < window.stop <= count
    ):
        arguments.reject("columns", columns, f"a range of column numbers from 0 to {count - 1}")
    slots = sorted({position for _, adds, _ in rows for position in adds if position in window})
    slot_width = 2 * ROWS["radius"] + 0.08
    room = 7.0 - ROWS["left"] - ROWS["right"] - slot_width * len(slots)
    pitch = min(0.34, room / len(window))
    centres, gaps, x = {}, {}, ROWS["left"]
    for position in window:
        centres[position] = x + pitch / 2
        extra = slot_width if position in slots else 0.0
        gaps[position] = x + pitch + extra / 2  # midway between this box and the next
        x += pitch + extra
    width = x + ROWS["right"]
    band = ROWS["height"] + ROWS["depth"] + 0.2  # one row's axes; a title strip above it
    height = (ROWS["title"] + band) * len(rows)
    fig = plt.figure(figsize=(width, height), facecolor=PALETTE["paper"])
    for number, (shown, adds, arcs) in enumerate(rows):
        bottom = 1 - (number + 1) * (ROWS["title"] + band) / height
        ax = fig.add_axes((0, bottom, 1, band / height))
        ax.set_xlim(0, width)
        ax.set_ylim(0, band)
        ax.axis("off")
        y = band - ROWS["height"] / 2 - 0.02
        _draw_row(ax, shown, adds, arcs, centres, gaps, y, pitch, shade, blocks)
    _closed(fig)  # closing restores the dpi the figure was made with: zoom after it
    if columns is not None:
        fig.set_dpi(fig.dpi * max(1.0, ROWS_ZOOMED / width))
    return fig


# --- The CIFAR network's stages (paper, section 4.2) ------------------------------------------


def _main_convs(model, units):
    """The convolutions on the main path (projection shortcuts left out), input side first."""
    aside = {layer.name for unit in units for layer in unit.shortcut}
    return [layer for layer in model.layers if structure.is_conv(layer) and layer.name not in aside]


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
    structure.check_graph("model", model)
    units = structure.residual_units(model)
    rows = []
    for conv in _main_convs(model, units):
        size = tuple(conv.output.shape[1:3])
        if None in size:
            raise ValueError(f"model must have a known input size. Received: model={model!r}")
        if not rows or rows[-1]["output_size"] != size:
            rows.append(
                {
                    "stage": len(rows) + 1,
                    "output_size": size,
                    "filters": conv.filters,
                    "weighted_layers": 0,
                    "blocks": 0,
                }
            )
        rows[-1]["weighted_layers"] += 1
    if not rows:
        raise ValueError(f"model must hold a Conv2D layer. Received: model={model!r}")
    for unit in units:
        size = tuple(unit.add.output.shape[1:3])
        next(row for row in rows if row["output_size"] == size)["blocks"] += 1
    return rows


# --- The gradient-flow blocks (chapter 6), from their list of operations -----------------------

OPERATION_SYMBOLS = {
    "weight": "$W$",
    "norm": "BN",
    "act": "$f$",
    "scale": r"$\times \alpha$",
    "add": "+",
}


def draw_blocks(layouts, letters=False):
    """Blocks as diagrams, side by side, drawn from their operations (input at the bottom).

    Each operation is a box (a weight layer ``W``, normalisation ``BN``, the
    activation ``f``, the branch scale ``alpha``) or the addition ``+``, which the
    shortcut reaches from the block's input on the right. With ``letters``, each
    block is lettered (a), (b), ... at its top left, in the look of
    :func:`resnet_book.plotting.letter_panels`, so that the caption can name it.

    Taught in chapters/06-gradient-flow.ipynb.

    Args:
        layouts: A mapping from a block's name to its operations, input first, as
            ``resnet_book.gradflow.LAYOUT``; the names are left to the caption.
        letters: Whether to letter the blocks (a), (b), ... from the left.

    Returns:
        The matplotlib figure, closed: it displays as the value of a cell.

    Raises:
        ValueError: If ``layouts`` is empty, or a block has no operations or one
            that is not in ``OPERATION_SYMBOLS``, or ``letters`` is not a bool.
    """
    if not layouts:
        arguments.reject("layouts", layouts, "a mapping from names to operations")
    if not isinstance(letters, bool):
        arguments.reject("letters", letters, "True or False")
    for name, operations in layouts.items():
        if not operations or any(op not in OPERATION_SYMBOLS for op in operations):
            arguments.reject(
                f"layouts[{name!r}]", operations, f"operations from {tuple(OPERATION_SYMBOLS)}"
            )
    tall = max(len(operations) for operations in layouts.values()) + 1
    headroom = 0.6 if letters else 0.0  # room for the letters above the tallest block
    fig, ax = plt.subplots(figsize=(2.2 * len(layouts), 0.55 * (tall + headroom) + 0.4))
    fig.set_facecolor(PALETTE["paper"])
    step = {"arrowstyle": "-|>", "color": PALETTE["ink"]}
    for column, operations in enumerate(layouts.values()):
        x = 3.0 * column
        ax.annotate("", xy=(x, 0.6), xytext=(x, 0), arrowprops=step)
        for level, operation in enumerate(operations, start=1):
            if operation == "add":
                ax.add_patch(
                    Circle((x, level), 0.3, facecolor=PALETTE["paper"], edgecolor=PALETTE["ink"])
                )
                shortcut = [(x, 0.25), (x + 1.1, 0.25), (x + 1.1, level), (x + 0.32, level)]
                arrow = {"arrowstyle": "-|>", "color": PALETTE["shortcut"], "lw": 2}
                ax.annotate("", xy=shortcut[-1], xytext=shortcut[-2], arrowprops=arrow)
                ax.plot(*zip(*shortcut[:-1], strict=True), color=PALETTE["shortcut"], lw=2)
            else:
                fill = PALETTE["weights"][0] if operation == "weight" else PALETTE["paper"]
                ax.add_patch(
                    FancyBboxPatch(
                        (x - 0.6, level - 0.3),
                        1.2,
                        0.6,
                        boxstyle="round,pad=0.02",
                        facecolor=fill,
                        edgecolor=PALETTE["ink"],
                    )
                )
            ax.text(
                x,
                level,
                OPERATION_SYMBOLS[operation],
                ha="center",
                va="center",
                fontsize=12,
                color=PALETTE["text"],
            )
            top = level + 0.7 if level < len(operations) else level + 0.9
            ax.annotate("", xy=(x, top - 0.1), xytext=(x, level + 0.3), arrowprops=step)
        if letters:
            ax.text(
                x - 0.95,
                tall + headroom,
                f"({'abcdefghijklmnopqrstuvwxyz'[column]})",
                ha="left",
                va="top",
                fontsize=10,
                fontweight="bold",
                color=PALETTE["text"],
            )
    ax.set_xlim(-1.0, 3.0 * (len(layouts) - 1) + 1.6)
    ax.set_ylim(-0.2, tall + headroom + 0.2)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.subplots_adjust(left=0, right=1, bottom=0, top=1)
    return _closed(fig)


# --- Data parallelism (chapter 13) -------------------------------------------------------------


def draw_data_parallel(replicas=4):
    """Data parallelism as a picture: the batch split over replicas, gradients all-reduced.

    Taught in chapters/13-training-at-scale.ipynb.

    Args:
        replicas: The number of replicas drawn, 2 to 8.

    Returns:
        The matplotlib figure, closed: it displays as the value of a cell.

    Raises:
        ValueError: If ``replicas`` is out of range.
    """
    replicas = arguments.check_integer("replicas", replicas, 2, len(PALETTE["replicas"]))
    fig, ax = plt.subplots(figsize=(1.7 * replicas + 1.0, 4.4))
    fig.set_facecolor(PALETTE["paper"])
    ax.set_xlim(-0.7, replicas - 0.3)
    ax.set_ylim(-1.4, 3.6)
    ax.axis("off")
    box = {"boxstyle": "round,pad=0.35", "linewidth": 1.0}
    arrow = {"arrowstyle": "-|>", "color": PALETTE["ink"], "linewidth": 1.0}
    ring = {**arrow, "color": PALETTE["reduction"]}
    for i, colour in enumerate(PALETTE["replicas"][:replicas]):
        ax.add_patch(
            Rectangle(
                (i - 0.5, 3.05), 1.0, 0.4, facecolor=colour, alpha=0.35, edgecolor=PALETTE["ink"]
            )
        )
        ax.text(i, 3.25, f"$x_{i + 1}$", ha="center", va="center")
        ax.annotate("", (i, 2.35), (i, 3.0), arrowprops=arrow)
        ax.text(
            i,
            2.05,
            r"$\theta$",
            ha="center",
            va="center",
            fontsize=12,
            bbox={**box, "facecolor": PALETTE["paper"], "edgecolor": colour},
        )
        ax.annotate("", (i, 1.15), (i, 1.75), arrowprops=arrow)
        ax.text(
            i,
            0.85,
            f"$g_{i + 1}$",
            ha="center",
            va="center",
            bbox={**box, "facecolor": colour, "alpha": 0.35},
        )
        if i + 1 < replicas:  # the ring: each replica passes gradient pieces to the next
            ax.annotate("", (i + 0.78, 0.85), (i + 0.22, 0.85), arrowprops=ring)
        ax.annotate("", (i, -0.95), (i, -0.6), arrowprops=arrow)
        ax.text(
            i,
            -1.2,
            r"$\theta - \eta\,\bar g$",
            ha="center",
            va="center",
            bbox={**box, "facecolor": PALETTE["paper"], "edgecolor": colour},
        )
    ax.annotate(
        "",
        (0, 0.55),
        (replicas - 1, 0.55),
        arrowprops={**ring, "connectionstyle": "arc3,rad=-0.12"},
    )
    ax.text(
        (replicas - 1) / 2,
        -0.35,
        r"$\bar g = \frac{1}{N}\sum_i g_i$",
        ha="center",
        va="center",
        fontsize=11,
        color=PALETTE["reduction"],
    )
    return _closed(fig)


# --- The worked example's window (chapter 4) and the unraveled view (chapter 11) ---------------

CELL = 0.5  # inches: the side of one number's square


def _cell(ax, x, y, text, fill=PALETTE["paper"], dashed=False, gid="cell"):
    """One number in a square whose lower-left corner is ``(x, y)``."""
    ax.add_patch(
        Rectangle(
            (x, y),
            CELL,
            CELL,
            facecolor=fill,
            edgecolor=PALETTE["ink"],
            linestyle="--" if dashed else "-",
            gid=gid,
        )
    )
    ax.text(x + CELL / 2, y + CELL / 2, text, ha="center", va="center", fontsize=10, gid=gid)


def sliding_window_diagram(x, kernel, padding=0):
    """A 1-D convolution and its shortcut, drawn: ``x`` on top, the windows, ``F(x)``, ``F(x) + x``.

    The kernel slides over ``x`` (padded with ``padding`` zeros at the end, drawn dashed) and
    each output is the weighted sum of the window above it, a cross-correlation, as the
    source article computes it. The last row adds the input to each output, where they exist:
    an arrow runs down into each sum from its output and, in the shortcut's colour, from its
    input.
    Taught in chapters/04-mathematics.ipynb.

    Args:
        x: The input numbers, at most 8.
        kernel: The kernel's weights, no longer than the padded input.
        padding: Zeros appended to ``x`` before sliding.

    Returns:
        The matplotlib figure, closed: it displays as the value of a cell.

    Raises:
        ValueError: If an argument is empty, too long or negative.
    """
    x, kernel = [float(v) for v in x], [float(w) for w in kernel]
    padding = arguments.check_integer("padding", padding, 0)
    if not 1 <= len(x) <= 8:
        arguments.reject("x", x, "1 to 8 numbers")
    if not 1 <= len(kernel) <= len(x) + padding:
        arguments.reject("kernel", kernel, f"1 to {len(x) + padding} weights")
    padded = x + [0.0] * padding
    outputs = [
        sum(w * v for w, v in zip(kernel, padded[i : i + len(kernel)], strict=True))
        for i in range(len(padded) - len(kernel) + 1)
    ]
    rows = {"x": 3.0, "F": 1.5, "y": 0.25}
    width = CELL * 1.25 * len(padded) + 0.9
    fig, ax = _canvas(width, 3.7)
    left = 0.8
    ax.text(0.1, rows["x"] + CELL / 2, "$x$", va="center", fontsize=12, gid="math")
    ax.text(0.1, rows["F"] + CELL / 2, r"$F(x)$", va="center", fontsize=12, gid="math")
    ax.text(0.1, rows["y"] + CELL / 2, r"$y$", va="center", fontsize=12, gid="math")
    step = CELL * 1.25
    for i, value in enumerate(padded):
        _cell(ax, left + i * step, rows["x"], f"{value:g}", dashed=i >= len(x), gid="input")
    for i, value in enumerate(outputs):
        _cell(ax, left + i * step, rows["F"], f"{value:.2g}", PALETTE["weights"][0], gid="output")
        centre = left + i * step + CELL / 2
        for j in range(len(kernel)):  # the window's lines, from each input it reads
            start = left + (i + j) * step + CELL / 2
            ax.plot(
                [start, centre],
                [rows["x"] - 0.02, rows["F"] + CELL + 0.02],
                color=PALETTE["weights"][3],
                lw=1.2,
                gid="window",
            )
        if i < len(x):
            total = value + x[i]
            _cell(ax, left + i * step, rows["y"], f"{total:.2g}", gid="sum")
            # the output, straight down into its sum, right of the shortcut's arrow
            down = left + i * step + 0.72 * CELL
            branch = [(down, rows["F"]), (down, rows["y"] + CELL)]
            _arrow(ax, branch, PALETTE["weights"][3], "branch", lw=1.2, small=True)
            # from under input i, round its output through the gap, into sum i
            gap = left + i * step + CELL + (step - CELL) / 2
            end, jog = left + i * step + 0.8 * CELL, 0.15
            route = [
                (end, rows["x"]),
                (end, rows["x"] - jog),
                (gap, rows["x"] - jog),
                (gap, rows["y"] + CELL + jog),
                (end, rows["y"] + CELL + jog),
                (end, rows["y"] + CELL),
            ]
            _arrow(ax, route, PALETTE["shortcut"], "shortcut", lw=1.2, small=True)
    return _closed(fig)


def unraveled_diagram(blocks=3):
    """Veit et al.'s unraveled view: every path through ``blocks`` residual blocks, one a row.

    Each row runs from the input (left) to the output (right) and passes each block either
    through its branch, a box ``f_i``, or along its shortcut, a straight line; rows are ordered
    by how many branches they pass, so the counts per length are the binomial coefficients.
    Taught in chapters/11-why-residual-networks-work.ipynb.

    Args:
        blocks: The number of residual blocks, 1 to 5.

    Returns:
        The matplotlib figure, closed: it displays as the value of a cell.

    Raises:
        ValueError: If ``blocks`` is not an integer from 1 to 5.
    """
    blocks = arguments.check_integer("blocks", blocks, 1)
    if blocks > 5:
        arguments.reject("blocks", blocks, "at most 5, so that every path fits on a page")
    paths = sorted(
        ([bool(index >> bit & 1) for bit in range(blocks)] for index in range(2**blocks)),
        key=lambda through: (sum(through), [not passed for passed in through]),
    )
    pitch, span = 0.32, 0.9
    width, height = 0.9 + span * blocks + 0.5, pitch * len(paths) + 0.3
    fig, ax = _canvas(width, height)
    for row, through in enumerate(paths):
        y = height - 0.3 - row * pitch
        ax.plot([0.35, 0.6], [y, y], color=PALETTE["ink"], lw=1.0)
        for index, passed in enumerate(through):
            x = 0.6 + span * index
            if passed:
                ax.plot([x, x + 0.15], [y, y], color=PALETTE["ink"], lw=1.0)
                ax.plot([x + span - 0.15, x + span], [y, y], color=PALETTE["ink"], lw=1.0)
                _box(
                    ax,
                    (x + span / 2, y),
                    (span - 0.3, 0.22),
                    f"$f_{index + 1}$",
                    PALETTE["weights"][0],
                    "branch",
                )
            else:
                ax.plot([x, x + span], [y, y], color=PALETTE["shortcut"], lw=1.6, gid="skip")
        ax.annotate(
            "",
            xy=(0.6 + span * blocks + 0.3, y),
            xytext=(0.6 + span * blocks, y),
            arrowprops={"arrowstyle": "-|>", "color": PALETTE["ink"]},
        )
        ax.text(0.1, y, f"{sum(through)}", ha="left", va="center", fontsize=9, gid="length")
    return _closed(fig)


# --- One step that lengthens the weights (chapter 6) --------------------------------------------


def step_triangle_diagram(length=3.0, step=2.0):
    """The weights ``W``, a step ``-ηg`` at a right angle to them, and ``W - ηg``: a right triangle.

    Where BatchNorm follows a layer, rescaling its weights leaves the loss unchanged, so the
    gradient is perpendicular to them and every step lengthens them (Pythagoras). Taught in
    chapters/12-why-plain-networks-degrade.ipynb.

    Args:
        length: The length of ``W`` as drawn, positive.
        step: The length of the step as drawn, positive.

    Returns:
        The matplotlib figure, closed: it displays as the value of a cell.

    Raises:
        ValueError: If ``length`` or ``step`` is not positive.
    """
    length = arguments.check_positive("length", length)
    step = arguments.check_positive("step", step)
    width, height = length + 1.2, step + 0.9
    fig, ax = _canvas(width, height)
    origin = (0.3, 0.5)
    tip = (origin[0] + length, origin[1])
    top = (tip[0], tip[1] + step)
    arrows = [  # from, to, colour, label, where the label sits
        (origin, tip, PALETTE["ink"], r"$W$", (origin[0] + length / 2, origin[1] - 0.3)),
        (tip, top, PALETTE["gradient"], r"$-\eta g$", (tip[0] + 0.12, tip[1] + step / 2)),
        (origin, top, PALETTE["text"], r"$W - \eta g$", (origin[0] + length / 4, top[1] - 0.4)),
    ]
    for start, end, colour, label, where in arrows:
        ax.add_patch(
            FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14, lw=2, color=colour)
        )
        ax.text(*where, label, color=colour, fontsize=12, gid="label")
    corner = 0.2  # the right angle between W and the step
    ax.plot(
        [tip[0] - corner, tip[0] - corner, tip[0]],
        [tip[1], tip[1] + corner, tip[1] + corner],
        color=PALETTE["ink"],
        lw=1,
        gid="right-angle",
    )
    return _closed(fig)


# --- Where a strided window sits (chapter 5) ---------------------------------------------------


def _check_rows(name, rows, size):
    """``rows`` as a list of Python ints, each a row of a column of ``size``; not empty."""
    rows = [arguments.check_integer(name, row, 0, size - 1) for row in rows]
    if not rows:
        arguments.reject(name, rows, "a non-empty list of rows")
    return rows


def padding_windows_diagram(same_centres, padded_centres, size=8):
    """Where the windows of a stride-2 3x3 convolution centre, against the rows a shortcut keeps.

    One column of ``size`` rows, three times: the rows a stride-2 shortcut keeps, the window
    centres with ``"same"`` padding, and with one zero padded on each side by hand. Dashed cells
    are padding; the window of output row 0 is outlined in grey.

    Taught in chapters/05-keras-code.ipynb.

    Args:
        same_centres: The input rows the ``"same"`` windows centre on.
        padded_centres: The input rows the padded-by-hand windows centre on.
        size: The column's length, an even integer of at least 2.

    Returns:
        The matplotlib figure, closed: it displays as the value of a cell.

    Raises:
        ValueError: If ``size`` is not an even integer of at least 2, or a list of centres is
            empty or holds a row outside the column.
    """
    size = arguments.check_integer("size", size, 2)
    if size % 2:
        arguments.reject("size", size, "an even integer")
    same = _check_rows("same_centres", same_centres, size)
    padded = _check_rows("padded_centres", padded_centres, size)
    kept = list(range(0, size, 2))
    shortcut_fill = to_rgba(PALETTE["shortcut"], 0.45)
    fig, ax = plt.subplots(figsize=(6.0, 1.9))
    lines = {  # height, zero rows, filled rows
        "shortcut": (2.0, [], kept),
        '"same"': (1.0, [size], same),
        "by hand": (0.0, [-1, size], padded),
    }
    for row in kept:  # guides down the shortcut's rows
        ax.axvline(row, color=PALETTE["shortcut"], lw=0.8, ls=":", zorder=0)
    for label, (height, zeros, filled) in lines.items():
        ax.text(-1.7, height, label, ha="right", va="center")
        fill = shortcut_fill if label == "shortcut" else PALETTE["weights"][2]
        for row in [*zeros, *range(size)]:
            ax.add_patch(
                Rectangle(
                    (row - 0.4, height - 0.35),
                    0.8,
                    0.7,
                    facecolor=fill if row in filled else PALETTE["paper"],
                    edgecolor=PALETTE["ink"],
                    ls="--" if row in zeros else "-",
                )
            )
            if row not in zeros:
                ax.text(row, height, str(row), ha="center", va="center")
        if label != "shortcut":  # the window of output row 0
            ax.add_patch(
                Rectangle(
                    (filled[0] - 1.5, height - 0.45),
                    3.0,
                    0.9,
                    fill=False,
                    edgecolor=PALETTE["ink"],
                    lw=2,
                )
            )
    ax.set(xlim=(-4.2, size + 0.6), ylim=(-0.6, 2.6), aspect="equal")
    ax.axis("off")
    return _closed(fig)
