"""The gradient-flow explorer: sliders over :mod:`resnet_book.gradflow`, plain beside residual.

:func:`explorer` builds the ipywidgets version that runs in Jupyter and Binder;
:func:`flow_grid` precomputes the settings the website's player steps through.

Taught in chapters/06-gradient-flow.ipynb.
"""

import base64
import html
import io
import itertools
import math

import matplotlib.pyplot as plt
import numpy as np
import PIL.Image
from matplotlib import ticker
from matplotlib.backends.backend_agg import FigureCanvasAgg

from resnet_book import gradflow

RESIDUAL_MODES = ("identity", "scaled", "zero")
GAIN_RANGE = (0.25, 4.0)
MAX_STEPS = 20
GRID_DEPTHS = (1, 2, 3, 5, 8, 10, 15, 20, 30, 40, 50, 75, 100, 150, 200)
GRID_GAINS = ("0.5", "1", "2")
_FLOOR = 1e-45  # float32's smallest subnormal: no finite value shown lies below it

# Every word the explorer shows, in one place for the book's translations.
LABELS = {
    "depth": "depth", "gain": "gain", "steps": "SGD steps", "activation": "activation",
    "initialization": "init", "normalization": "norm", "residual": "branch",
    "sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU", "glorot": "Glorot", "he": "He",
    "none": "none", "batchnorm": "BatchNorm", "identity": "h + F(h)",
    "scaled": "h + F(h) / \u221aL", "zero": "h + \u03b1 F(h), \u03b1 = 0 at start",
    "plain": "plain", "residual net": "residual", "network": "network",
    "ratio": "first / last gradient", "range": "outside float32", "nan": "not a number",
    "overflow": "overflow", "underflow": "underflow",
}  # fmt: skip


def flows(depth, activation, initialization, gain, normalization, residual, steps):
    """The plain network and its residual twin under the same settings.

    Args:
        depth: Number of hidden layers, 1 to 200.
        activation: ``"sigmoid"``, ``"tanh"`` or ``"relu"``.
        initialization: ``"glorot"`` or ``"he"``.
        gain: Positive factor on the initial weights' standard deviation.
        normalization: ``"none"`` or ``"batchnorm"``.
        residual: The residual twin's branch: ``"identity"``, ``"scaled"`` or ``"zero"``.
        steps: Full-batch SGD steps before measuring, 0 to 100.

    Returns:
        ``{"plain": GradientFlow, "residual": GradientFlow}``.

    Raises:
        ValueError: If ``residual`` is not a residual mode, or another argument is invalid.
    """
    if residual not in RESIDUAL_MODES:
        raise ValueError(
            f"residual must be one of {RESIDUAL_MODES}. Received: residual={residual!r}"
        )
    common = dict(depth=depth, activation=activation, initialization=initialization, gain=gain,
                  normalization=normalization, steps=steps)  # fmt: skip
    return {
        "plain": gradflow.gradient_norms(residual="none", **common),
        "residual": gradflow.gradient_norms(residual=residual, **common),
    }


def flag(flow):
    """``"overflow"``, ``"underflow"`` or ``""``: what a log-scale plot cannot show."""
    return "overflow" if flow.overflow else "underflow" if flow.underflow else ""


def _label(flow):
    """The word drawn on a panel for :func:`flag`, empty when there is none."""
    return LABELS[flag(flow)] if flag(flow) else ""


def _power_of_ten(value, _):
    """Tick label ``10`` with a Unicode superscript: plain text lays out faster than TeX."""
    exponent = round(math.log10(value))
    return "10" + str(exponent).translate(
        str.maketrans(
            "-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079"
        )
    )


class FlowFigure:
    """Two log-scale panels (plain, residual) whose lines are updated in place.

    Reusing one figure and its artists, instead of building a new one per
    slider move, keeps a redraw near 40 ms (PNG encoding included).
    """

    def __init__(self):
        self.figure, axes = plt.subplots(1, 2, figsize=(9.0, 3.6), sharey=True)
        # Fixed margins with room for the widest tick label (10⁻⁴⁵): a layout engine would
        # cost time on every draw, and laying out once would clip wider labels later.
        self.figure.subplots_adjust(left=0.085, right=0.99, bottom=0.14, top=0.88, wspace=0.05)
        plt.close(self.figure)
        self.figure.set_facecolor("white")  # legible on the website's dark mode too
        self.canvas = FigureCanvasAgg(self.figure)  # kept: savefig would make a new one each time
        self.panels = {}
        for ax, name in zip(axes, ("plain", "residual"), strict=True):
            (grad,) = ax.semilogy(
                [], [], marker=".", label=r"$\|\partial \mathcal{L}/\partial W_\ell\|$"
            )
            (spread,) = ax.semilogy([], [], marker=".", label=r"std of $h_\ell$")
            note = ax.text(0.5, 0.9, "", transform=ax.transAxes, ha="center", va="center",
                           fontsize=14, color="#b00020", zorder=5,
                           bbox={"facecolor": "white", "alpha": 0.85})  # fmt: skip
            ax.set_xlabel(r"layer $\ell$")
            ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True, min_n_ticks=1))
            ax.set_facecolor("white")
            ax.yaxis.set_major_locator(ticker.LogLocator(numticks=8))
            ax.yaxis.set_minor_locator(ticker.NullLocator())
            ax.yaxis.set_major_formatter(ticker.FuncFormatter(_power_of_ten))
            self.panels[name] = (ax, grad, spread, note)
        self.figure.legend(*axes[0].get_legend_handles_labels(), loc="upper center", ncol=2)

    def draw(self, flows):
        """Show ``{"plain": flow, "residual": flow}``; return the figure as PNG bytes."""
        shown = []
        for name, flow in flows.items():
            ax, grad, spread, note = self.panels[name]
            layers = np.arange(1, len(flow.grad_norms) + 1)
            for line, values in ((grad, flow.grad_norms), (spread, flow.activation_stds)):
                values = np.where(np.isfinite(values) & (values > 0), values, np.nan)
                line.set_data(layers, values)
                shown.append(values)
            note.set_text(_label(flow))
            note.set_visible(bool(flag(flow)))
            ax.set_xlim(0.5, len(layers) + 0.5)
        values = np.concatenate(shown)
        finite = values[np.isfinite(values)]
        low, high = (finite.min(), finite.max()) if finite.size else (1e-3, 1e3)
        low, high = max(low, _FLOOR), max(high, low * 10)
        shared_y = self.panels["plain"][0]  # both panels share the vertical axis
        shared_y.set_ylim(10.0 ** math.floor(math.log10(low)), 10.0 ** math.ceil(math.log10(high)))
        self.canvas.draw()
        pixels = np.asarray(self.canvas.buffer_rgba())[..., :3]
        buffer = io.BytesIO()
        PIL.Image.fromarray(pixels).save(buffer, format="png", compress_level=1)
        return buffer.getvalue()


def snapshot(flows):
    """The explorer's two panels for one setting, as a figure a cell can show.

    Args:
        flows: ``{"plain": flow, "residual": flow}``, as :func:`flows` returns.

    Returns:
        The matplotlib figure, closed: it displays as the value of a cell.
    """
    view = FlowFigure()
    view.draw(flows)
    return view.figure


def picture(png, settings, flows):
    """An HTML ``img`` of the figure, its alt text naming the settings and the ratios.

    An HTML widget rather than ``ipywidgets.Image``, which has no alt text.
    """
    described = ", ".join(
        f"{LABELS[name]} {LABELS.get(value, value) if isinstance(value, str) else f'{value:.3g}'}"
        for name, value in settings.items()
    )
    ratios = "; ".join(
        f"{LABELS['residual net' if name == 'residual' else name]}: {LABELS['ratio']} "
        f"{flow.first_to_last:.3g} {_label(flow)}".strip()
        for name, flow in flows.items()
    )
    alt = html.escape(f"{described}. {ratios}", quote=True)
    data = base64.b64encode(png).decode("ascii")
    captions = "".join(
        f'<div style="flex:1;text-align:center">{LABELS[key]}</div>'
        for key in ("plain", "residual net")
    )
    image = f'<img src="data:image/png;base64,{data}" alt="{alt}" style="max-width:100%">'
    return f'<div style="display:flex;max-width:900px">{captions}</div>{image}'


def readout(flows):
    """An HTML table: first-to-last gradient ratio and overflow or underflow, per network."""
    rows = []
    for name, flow in flows.items():
        ratio = flow.first_to_last
        shown = f"{ratio:.3g}" if np.isfinite(ratio) else LABELS["nan"]
        network = LABELS["residual net" if name == "residual" else name]
        rows.append(f"<tr><td>{network}</td><td>{shown}</td><td>{_label(flow) or LABELS['none']}"
                    "</td></tr>")  # fmt: skip
    head = "".join(f"<th>{LABELS[key]}</th>" for key in ("network", "ratio", "range"))
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def explorer(depth=50, activation="relu", initialization="he", gain=1.0,
             normalization="none", residual="identity", steps=0):  # fmt: skip
    """The interactive explorer: controls, the two-panel figure and the readout.

    Moving a control recomputes both networks (cached, so revisiting a setting
    is instant) and redraws. Depth and gain update while dragging as long as
    no training steps are asked for; with steps they update on release, since
    each step is a full forward and backward pass.

    Args:
        depth: Starting depth, 1 to 200.
        activation: Starting activation, as for :func:`flows`.
        initialization: Starting initialisation.
        gain: Starting gain, within ``GAIN_RANGE``.
        normalization: Starting normalisation.
        residual: Starting branch of the residual twin.
        steps: Starting number of SGD steps, 0 to ``MAX_STEPS``.

    Returns:
        An ``ipywidgets.VBox`` of the controls, the image and the readout. Its
        ``controls`` attribute maps each setting's name to its widget,
        ``figure`` is the :class:`FlowFigure`, and ``update()`` redraws.
    """
    import ipywidgets as widgets

    flows(depth, activation, initialization, gain, normalization, residual, steps)  # checks
    toggles = {"activation": gradflow.ACTIVATIONS, "initialization": gradflow.INITIALIZATIONS,
               "normalization": gradflow.NORMALIZATIONS, "residual": RESIDUAL_MODES}  # fmt: skip
    start = dict(depth=depth, activation=activation, initialization=initialization,
                 normalization=normalization, residual=residual)  # fmt: skip
    controls = {
        name: widgets.ToggleButtons(options=[(LABELS[o], o) for o in options], value=start[name],
                                    tooltips=[LABELS[name]] * len(options),
                                    style={"button_width": "auto"})
        for name, options in toggles.items()
    }  # fmt: skip
    controls["depth"] = widgets.IntSlider(depth, 1, gradflow.MAX_DEPTH, description=LABELS["depth"])
    controls["gain"] = widgets.FloatLogSlider(
        gain,
        base=2,
        min=math.log2(GAIN_RANGE[0]),
        max=math.log2(GAIN_RANGE[1]),
        step=0.125,
        description=LABELS["gain"],
        readout_format=".3g",
    )
    controls["steps"] = widgets.IntSlider(steps, 0, MAX_STEPS, description=LABELS["steps"],
                                          continuous_update=False)  # fmt: skip
    figure, image, table = FlowFigure(), widgets.HTML(), widgets.HTML()

    def update(change=None):
        settings = {name: control.value for name, control in controls.items()}
        for name in ("depth", "gain"):
            controls[name].continuous_update = settings["steps"] == 0
        shown = flows(**settings)
        image.value = picture(figure.draw(shown), settings, shown)
        table.value = readout(shown)

    for control in controls.values():
        control.observe(update, names="value")
    update()
    sliders = widgets.VBox([controls[name] for name in ("depth", "gain", "steps")])
    switches = widgets.VBox([  # a label beside each row of buttons: the description goes above
        widgets.HBox([widgets.Label(LABELS[name], layout={"width": "6em"}), controls[name]])
        for name in toggles
    ])  # fmt: skip
    panel = widgets.HBox([sliders, switches], layout={"flex_flow": "row wrap"})
    box = widgets.VBox([panel, image, table])
    box.controls, box.figure, box.update = controls, figure, update
    return box


def _log10_or_none(values):
    """log10 of each value rounded to 0.01, None where it is not a positive finite number."""
    with np.errstate(all="ignore"):
        logs = np.log10(np.asarray(values, dtype=float))
    return [round(float(v), 2) if np.isfinite(v) else None for v in logs]


def _positive(text):
    """Whether ``text`` spells a positive finite number."""
    try:
        return 0 < float(text) < math.inf
    except ValueError:
        return False


def flow_grid(depths=GRID_DEPTHS, gains=GRID_GAINS):
    """Every toggle combination at initialisation, over lists of depths and gains, for the website.

    The website cannot run Python, so its player steps through these numbers
    instead (``tools/gradflow_grid.py`` writes them; no SGD steps).

    Args:
        depths: Increasing depths from 1 to 200.
        gains: Gains as decimal strings (they name the choices), each positive.

    Returns:
        A JSON-ready dict: the choices, the depths, and for each combination
        ``"activation/initialization/gain/normalization/residual"`` (residual
        ``"none"`` for the plain network) one record per depth with the log10
        gradient norms, log10 activation spreads, and the flag.

    Raises:
        ValueError: If ``depths`` is empty, unsorted or out of range, or a gain
            is not a positive number.
    """
    depths = list(depths)
    if not depths or depths != sorted(set(depths)) or not 1 <= depths[0] <= depths[-1] <= 200:
        raise ValueError(f"depths must be increasing, within 1..200. Received: depths={depths!r}")
    if not gains or not all(isinstance(g, str) and _positive(g) for g in gains):
        raise ValueError(f"gains must be positive numbers as strings. Received: gains={gains!r}")
    choices = {
        "activation": gradflow.ACTIVATIONS,
        "initialization": gradflow.INITIALIZATIONS,
        "gain": tuple(gains),
        "normalization": gradflow.NORMALIZATIONS,
        "residual": ("none", *RESIDUAL_MODES),
    }
    runs = {}
    for setting in itertools.product(*choices.values()):
        arguments = dict(zip(choices, setting, strict=True))
        arguments["gain"] = float(arguments["gain"])
        records = []
        for depth in depths:
            flow = gradflow.gradient_norms(depth, **arguments)
            grad, spread = _log10_or_none(flow.grad_norms), _log10_or_none(flow.activation_stds)
            records.append({"grad": grad, "std": spread, "flag": flag(flow)})
        runs["/".join(setting)] = records
    return {"choices": choices, "depths": depths, "labels": dict(LABELS), "runs": runs}
