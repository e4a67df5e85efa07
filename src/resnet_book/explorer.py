"""The gradient-flow explorer and its figure: plain beside residual, in Jupyter and on the website.

The numbers come from :mod:`resnet_book.gradflow`; this module draws them
(:class:`FlowFigure`) and wires the Jupyter controls (:func:`explorer`). It also
defines what the website's explorer shows, which computes in the reader's browser
(web/gradflow/engine.js, a port of :mod:`resnet_book.gradflow`):
``tools/explorer_data.py`` writes :data:`LABELS`, the colours, the defaults and ranges of
:func:`explorer` into ``web/gradflow/data.js``; web/gradflow/player.js applies the rules of
:func:`axis_decades`, :func:`flag` and :func:`ratio_text`, and ``tests/site`` checks that
it draws what :class:`FlowFigure` draws.

Taught in chapters/06-gradient-flow.ipynb.
"""

import base64
import html
import io
import math

import matplotlib.pyplot as plt
import numpy as np
import PIL.Image
from matplotlib import ticker
from matplotlib.backends.backend_agg import FigureCanvasAgg

from resnet_book import arguments, gradflow, plotting

RESIDUAL_BLOCKS = ("v1", "v2")
GAIN_RANGE = (0.25, 4.0)
MAX_STEPS = 20
FLOOR = 1e-45  # float32's smallest subnormal: the vertical axis never reaches below it
NO_VALUES = (1e-3, 1e3)  # the vertical axis when no value can be drawn
# The curves of a panel, in the legend's order: the key of their words in LABELS, their colour.
SERIES = {"grad": plotting.PALETTE["gradient"], "spread": plotting.PALETTE["spread"]}

# Every word the explorer, its figure and the website's explorer show, in one place for the
# book's translations. Plain text, no TeX: the website's explorer shows the same words.
LABELS = {
    "depth": "depth",
    "gain": "gain",
    "steps": "SGD steps",
    "activation": "activation",
    "initialization": "init",
    "normalization": "norm",
    "block": "block",
    "branch_scale": "branch scale",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "relu": "ReLU",
    "glorot": "Glorot",
    "he": "He",
    "none": "none",
    "batchnorm": "BatchNorm",
    "v1": "v1 (original)",
    "v2": "v2 (pre-activation)",
    "one": "1",
    "inverse_sqrt": "1/\u221a(blocks)",
    "zero": "learned, 0 at start",
    "plain": "plain",
    "residual": "residual",
    "network": "network",
    "ratio": "first / last gradient",
    "range": "outside float32",
    "nan": "not a number",
    "overflow": "overflow",
    "underflow": "underflow",
    "computing": "computing the SGD steps\u2026",
    "grad": "\u2016\u2202L/\u2202W\u2113\u2016",
    "spread": "std of block output",
    "layer": "layer \u2113",
}


def flag(flow):
    """``"overflow"``, ``"underflow"`` or ``""``: what a log-scale plot cannot show."""
    return "overflow" if flow.overflow else "underflow" if flow.underflow else ""


def ratio_text(flow):
    """The first-to-last gradient ratio as the explorer and the website's explorer print it."""
    ratio = flow.first_to_last
    return f"{ratio:.3g}" if np.isfinite(ratio) else LABELS["nan"]


def decade_bounds(low, high):
    """The whole decades around ``[low, high]``, at least one, not below :data:`FLOOR`.

    Args:
        low: The smallest positive value to show.
        high: The largest, at least ``low``.

    Returns:
        ``(bottom, top)``: integer exponents, the axis running from ``10**bottom`` to ``10**top``.

    Raises:
        ValueError: If ``low`` is not positive or ``high`` is below it.
    """
    low = arguments.check_positive("low", low)
    high = arguments.check_real("high", high, low=low)
    bottom = math.floor(math.log10(max(low, FLOOR)))
    return bottom, max(math.ceil(math.log10(high)), bottom + 1)


def axis_decades(flows):
    """The vertical axis that every panel of a gradient-flow figure shares, as powers of ten.

    The rule of :class:`FlowFigure` and of the website's explorer: the whole decades
    around every value drawn (finite, positive gradient norms and spreads).

    Args:
        flows: A mapping from a panel's key to a :class:`~resnet_book.gradflow.GradientFlow`.

    Returns:
        ``(bottom, top)`` as for :func:`decade_bounds`; ``(-3, 3)`` if nothing can be drawn.

    Raises:
        ValueError: If ``flows`` is empty.
    """
    if not flows:
        arguments.reject("flows", flows, "a mapping with at least one GradientFlow")
    values = np.concatenate([np.r_[flow.grad_norms, flow.spreads] for flow in flows.values()])
    drawn = values[np.isfinite(values) & (values > 0)]
    return decade_bounds(*((drawn.min(), drawn.max()) if drawn.size else NO_VALUES))


class FlowFigure:
    """Gradient flows side by side: one log-scale panel per network, updated in place.

    Each panel draws a network's weight-gradient norm per layer and the spread
    of its blocks' outputs (at each block's last layer), input side on the left,
    on the vertical axis of :func:`axis_decades`, with the word of :func:`flag`
    when a value cannot be drawn. One figure and its artists serve every redraw:
    building a new one per slider move would cost more than the computation.

    Taught in chapters/06-gradient-flow.ipynb.

    Args:
        names: The panels' keys, left to right (1 to 4 of them).
        labels: Words that replace those of :data:`LABELS`, for example
            ``{"spread": "spread of layer output"}``.
        own_axis: Panels that get a vertical axis of their own, fitted to their values
            alone; the other panels share one (by default every panel shares it).
        series: The keys of :data:`SERIES` to draw (by default both). With one, the
            figure has no legend: the first panel's vertical axis is labelled with it.

    Raises:
        ValueError: If there are not 1 to 4 names, a label's key is not in :data:`LABELS`,
            ``own_axis`` names a panel that is not in ``names``, or ``series`` is empty or
            names a key not in :data:`SERIES`.
    """

    def __init__(self, names, labels=None, own_axis=(), series=tuple(SERIES)):
        names = list(names)
        if not 1 <= len(names) <= 4:
            arguments.reject("names", names, "1 to 4 panel keys")
        series = list(series) if not isinstance(series, str) else [series]
        if not series or not set(series) <= set(SERIES):
            arguments.reject("series", series, f"one or more of {list(SERIES)}")
        unknown = sorted(set(labels or {}) - set(LABELS))
        if unknown:
            arguments.reject("labels", labels, f"keyed by words of explorer.LABELS, not {unknown}")
        own_axis = list(own_axis)
        if not set(own_axis) <= set(names):
            arguments.reject("own_axis", own_axis, f"panels among {names}")
        self.labels = LABELS | (labels or {})
        self.figure, axes = plt.subplots(
            1, len(names), figsize=(4.5 * len(names), 3.6), sharey=not own_axis, squeeze=False
        )
        # The vertical axes: one per panel of own_axis, and one that the others share.
        self.axis_groups = [[name] for name in own_axis]
        shared = [name for name in names if name not in own_axis]
        if shared:
            self.axis_groups.append(shared)
        if own_axis:
            by_name = dict(zip(names, axes[0], strict=True))
            for group in self.axis_groups:
                for name in group[1:]:
                    by_name[name].sharey(by_name[group[0]])
                    by_name[name].tick_params(axis="y", labelleft=False)
        # Fixed margins with room for the widest tick label (10⁻⁴⁵): a layout engine would
        # cost time on every draw, and laying out once would clip wider labels later.
        left = 0.17 / len(names)
        space = 0.15 if own_axis else 0.05  # room for the tick labels of a second axis
        self.figure.subplots_adjust(left=left, right=0.99, bottom=0.14, top=0.86, wspace=space)
        plt.close(self.figure)
        self.figure.set_facecolor(plotting.PALETTE["paper"])
        self.canvas = FigureCanvasAgg(self.figure)  # kept: savefig would make a new one each time
        self.panels = {}
        for ax, name in zip(axes[0], names, strict=True):
            grad, spread = (
                ax.semilogy(
                    [],
                    [],
                    marker=".",
                    markersize=4,
                    color=colour,
                    label=self.labels[key],
                )[0]
                for key, colour in SERIES.items()
            )
            note = ax.text(
                0.5,
                0.9,
                "",
                transform=ax.transAxes,
                ha="center",
                va="center",
                fontsize=14,
                color=plotting.PALETTE["alert"],
                zorder=5,
                bbox={"facecolor": plotting.PALETTE["paper"], "alpha": 0.85},
            )
            ax.set_xlabel(self.labels["layer"])
            ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True, min_n_ticks=1))
            ax.set_facecolor(plotting.PALETTE["paper"])
            ax.grid(True, alpha=0.3)
            ax.yaxis.set_major_locator(ticker.LogLocator(numticks=8))
            ax.yaxis.set_minor_locator(ticker.NullLocator())
            ax.yaxis.set_major_formatter(ticker.FuncFormatter(plotting.power_of_ten))
            for key, line in (("grad", grad), ("spread", spread)):
                line.set_visible(key in series)
            self.panels[name] = (ax, grad, spread, note)
        if len(series) > 1:
            self.figure.legend(
                *axes[0][0].get_legend_handles_labels(), loc="upper center", ncol=2, frameon=False
            )
        else:
            axes[0][0].set_ylabel(self.labels[series[0]])

    def draw(self, flows):
        """Show ``{name: GradientFlow}``, one per panel; return the figure as PNG bytes.

        Raises:
            ValueError: If ``flows`` does not name every panel.
        """
        if set(flows) != set(self.panels):
            arguments.reject("flows", sorted(flows), f"keyed by the panels {list(self.panels)}")
        for name, flow in flows.items():
            ax, grad, spread, note = self.panels[name]
            depth = len(flow.grad_norms)
            per_block = flow.layers_per_block
            for line, values, layers in (
                (grad, flow.grad_norms, np.arange(1, depth + 1)),
                (spread, flow.spreads, np.arange(per_block, depth + 1, per_block)),
            ):
                line.set_data(layers, np.where(np.isfinite(values) & (values > 0), values, np.nan))
            word = flag(flow)
            note.set_text(self.labels[word] if word else "")
            note.set_visible(bool(word))
            ax.set_xlim(0.5, depth + 0.5)
        for group in self.axis_groups:  # each group of panels shares a vertical axis
            bottom, top = axis_decades({name: flows[name] for name in group})
            self.panels[group[0]][0].set_ylim(10.0**bottom, 10.0**top)
        self.canvas.draw()
        pixels = np.asarray(self.canvas.buffer_rgba())[..., :3]
        buffer = io.BytesIO()
        PIL.Image.fromarray(pixels).save(buffer, format="png", compress_level=1)
        return buffer.getvalue()


def plot_gradient_flow(flows, labels=None, own_axis=(), series=tuple(SERIES)):
    """The gradient flows of several networks, one panel each, as a figure a cell shows.

    Taught in chapters/01-why-depth-is-hard.ipynb and chapters/06-gradient-flow.ipynb.

    Args:
        flows: A mapping from a panel's key to a
            :class:`resnet_book.gradflow.GradientFlow`, left to right.
        labels: Words that replace those of :data:`LABELS`, as for :class:`FlowFigure`.
        own_axis: Panels with a vertical axis of their own, as for :class:`FlowFigure`.
        series: The lines to draw, as for :class:`FlowFigure` (chapter 1 draws the
            gradient alone).

    Returns:
        The matplotlib figure, closed: it displays as the value of a cell.
    """
    view = FlowFigure(flows, labels, own_axis, series)
    view.draw(flows)
    return view.figure


def _checked(depth, activation, initialization, gain, normalization, block, branch_scale, steps):
    """The explorer's settings as plain Python values; ValueError naming a bad one."""
    depth = arguments.check_integer("depth", depth, 2, gradflow.MAX_DEPTH)
    if depth % 2:
        arguments.reject("depth", depth, f"an even number from 2 to {gradflow.MAX_DEPTH}")
    return dict(
        depth=depth,
        activation=arguments.check_choice("activation", activation, gradflow.ACTIVATIONS),
        initialization=arguments.check_choice(
            "initialization", initialization, gradflow.INITIALIZATIONS
        ),
        gain=arguments.check_real("gain", gain, *GAIN_RANGE),
        normalization=arguments.check_choice(
            "normalization", normalization, gradflow.NORMALIZATIONS
        ),
        block=arguments.check_choice("block", block, RESIDUAL_BLOCKS),
        branch_scale=arguments.check_choice("branch_scale", branch_scale, gradflow.BRANCH_SCALES),
        steps=arguments.check_integer("steps", steps, 0, MAX_STEPS),
    )


def flows(*, depth, activation, initialization, gain, normalization, block, branch_scale, steps):
    """The residual network and its plain twin (the same layers, no shortcuts) for one setting.

    Args:
        depth: Number of weight layers, an even number from 2 to 200.
        activation: ``"sigmoid"``, ``"tanh"`` or ``"relu"``.
        initialization: ``"glorot"`` or ``"he"``.
        gain: Factor on the initial weights' standard deviation, within ``GAIN_RANGE``.
        normalization: ``"none"`` or ``"batchnorm"``.
        block: The residual network's block, ``"v1"`` or ``"v2"``.
        branch_scale: ``"one"``, ``"inverse_sqrt"`` or ``"zero"``.
        steps: Full-batch SGD steps before measuring, 0 to ``MAX_STEPS``.

    Returns:
        ``{"plain": GradientFlow, "residual": GradientFlow}``.

    Raises:
        ValueError: If an argument is invalid (``block="plain"`` included).
    """
    settings = _checked(
        depth, activation, initialization, gain, normalization, block, branch_scale, steps
    )
    block, branch_scale = settings.pop("block"), settings.pop("branch_scale")
    depth = settings.pop("depth")
    return {
        "plain": gradflow.gradient_norms(depth, block="plain", **settings),
        "residual": gradflow.gradient_norms(
            depth, block=block, branch_scale=branch_scale, **settings
        ),
    }


def picture(png, settings, shown):
    """An HTML ``img`` of the figure, its alt text naming the settings and the ratios.

    An HTML widget rather than ``ipywidgets.Image``, which has no alt text.
    """
    described = ", ".join(
        f"{LABELS[name]} {LABELS.get(value, value) if isinstance(value, str) else f'{value:.3g}'}"
        for name, value in settings.items()
    )
    ratios = "; ".join(
        f"{LABELS[name]}: {LABELS['ratio']} {ratio_text(flow)} "
        f"{LABELS[flag(flow)] if flag(flow) else ''}".strip()
        for name, flow in shown.items()
    )
    alt = html.escape(f"{described}. {ratios}", quote=True)
    data = base64.b64encode(png).decode("ascii")
    captions = "".join(
        f'<div style="flex:1;text-align:center">{LABELS[key]}</div>' for key in shown
    )
    image = f'<img src="data:image/png;base64,{data}" alt="{alt}" style="max-width:100%">'
    return f'<div style="display:flex;max-width:900px">{captions}</div>{image}'


def readout(shown):
    """An HTML table: first-to-last gradient ratio and overflow or underflow, per network."""
    rows = "".join(
        f"<tr><td>{LABELS[name]}</td><td>{ratio_text(flow)}</td>"
        f"<td>{LABELS[flag(flow) or 'none']}</td></tr>"
        for name, flow in shown.items()
    )
    head = "".join(f"<th>{LABELS[key]}</th>" for key in ("network", "ratio", "range"))
    return f"<table><tr>{head}</tr>{rows}</table>"


def explorer(
    depth=50,
    activation="relu",
    initialization="he",
    gain=1.0,
    normalization="none",
    block="v1",
    branch_scale="one",
    steps=0,
):
    """The interactive explorer: controls, the two-panel figure and the readout.

    Moving a control recomputes both networks (cached, so revisiting a setting
    is instant) and redraws. Depth and gain update while dragging as long as
    no training steps are asked for; with steps they update on release, since
    each step is a full forward and backward pass. The website's explorer starts
    from the same defaults.

    Args:
        depth: Starting depth, an even number from 2 to 200.
        activation: Starting activation, as for :func:`flows`.
        initialization: Starting initialisation.
        gain: Starting gain, within ``GAIN_RANGE``.
        normalization: Starting normalisation.
        block: Starting residual block.
        branch_scale: Starting branch scale.
        steps: Starting number of SGD steps, 0 to ``MAX_STEPS``.

    Returns:
        An ``ipywidgets.VBox`` of the controls, the image and the readout. Its
        ``controls`` attribute maps each setting's name to its widget,
        ``figure`` is the :class:`FlowFigure`, and ``update()`` redraws.

    Raises:
        ValueError: If an argument is invalid, as for :func:`flows`.
    """
    import ipywidgets as widgets

    start = _checked(
        depth, activation, initialization, gain, normalization, block, branch_scale, steps
    )
    toggles = {
        "activation": gradflow.ACTIVATIONS,
        "initialization": gradflow.INITIALIZATIONS,
        "normalization": gradflow.NORMALIZATIONS,
        "block": RESIDUAL_BLOCKS,
        "branch_scale": gradflow.BRANCH_SCALES,
    }
    controls = {
        name: widgets.ToggleButtons(
            options=[(LABELS[o], o) for o in options],
            value=start[name],
            tooltips=[LABELS[name]] * len(options),
            style={"button_width": "auto"},
        )
        for name, options in toggles.items()
    }
    controls["depth"] = widgets.IntSlider(
        start["depth"], 2, gradflow.MAX_DEPTH, step=2, description=LABELS["depth"]
    )
    controls["gain"] = widgets.FloatLogSlider(
        start["gain"],
        base=2,
        min=math.log2(GAIN_RANGE[0]),
        max=math.log2(GAIN_RANGE[1]),
        step=0.125,
        description=LABELS["gain"],
        readout_format=".3g",
    )
    controls["steps"] = widgets.IntSlider(
        start["steps"], 0, MAX_STEPS, description=LABELS["steps"], continuous_update=False
    )
    figure = FlowFigure(("plain", "residual"))
    image, table = widgets.HTML(), widgets.HTML()

    def update(change=None):
        settings = {name: controls[name].value for name in start}
        for name in ("depth", "gain"):
            controls[name].continuous_update = settings["steps"] == 0
        shown = flows(**settings)
        image.value = picture(figure.draw(shown), settings, shown)
        table.value = readout(shown)

    for control in controls.values():
        control.observe(update, names="value")
    update()
    sliders = widgets.VBox([controls[name] for name in ("depth", "gain", "steps")])
    switches = widgets.VBox(
        [  # a label beside each row of buttons: the description goes above
            widgets.HBox([widgets.Label(LABELS[name], layout={"width": "7em"}), controls[name]])
            for name in toggles
        ]
    )
    panel = widgets.HBox([sliders, switches], layout={"flex_flow": "row wrap"})
    box = widgets.VBox([panel, image, table])
    box.controls, box.figure, box.update = controls, figure, update
    return box
