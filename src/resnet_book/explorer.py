"""The gradient-flow explorer: sliders over :mod:`resnet_book.gradflow`, plain beside residual.

The Jupyter view only: the numbers come from :mod:`resnet_book.gradflow`, the
figure from :class:`resnet_book.plotting.FlowFigure`; the website's player
steps through a grid that ``tools/gradflow_grid.py`` precomputes with
:func:`ratio_text` and :data:`LABELS` from here.

Taught in chapters/06-gradient-flow.ipynb.
"""

import base64
import html
import math

import numpy as np

from resnet_book import arguments, gradflow, plotting

RESIDUAL_BLOCKS = ("v1", "v2")
GAIN_RANGE = (0.25, 4.0)
MAX_STEPS = 20

# Every word the explorer shows, in one place for the book's translations.
LABELS = {
    "depth": "depth", "gain": "gain", "steps": "SGD steps", "activation": "activation",
    "initialization": "init", "normalization": "norm", "block": "block",
    "branch_scale": "branch scale", "sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU",
    "glorot": "Glorot", "he": "He", "none": "none", "batchnorm": "BatchNorm",
    "v1": "v1 (original)", "v2": "v2 (pre-activation)", "one": "1",
    "inverse_sqrt": "1/\u221a(blocks)", "zero": "learned, 0 at start",
    "plain": "plain", "residual": "residual", "network": "network",
    "ratio": "first / last gradient", "range": "outside float32", "nan": "not a number",
    "overflow": "overflow", "underflow": "underflow",
    "grad": r"$\|\partial \mathcal{L}/\partial W_\ell\|$", "std": "std of block output",
}  # fmt: skip


def flows(depth, activation, initialization, gain, normalization, block, branch_scale, steps):
    """The residual network and its plain twin (the same layers, no shortcuts).

    Args:
        depth: Number of weight layers, an even number from 2 to 200.
        activation: ``"sigmoid"``, ``"tanh"`` or ``"relu"``.
        initialization: ``"glorot"`` or ``"he"``.
        gain: Positive factor on the initial weights' standard deviation.
        normalization: ``"none"`` or ``"batchnorm"``.
        block: The residual network's block, ``"v1"`` or ``"v2"``.
        branch_scale: ``"one"``, ``"inverse_sqrt"`` or ``"zero"``.
        steps: Full-batch SGD steps before measuring, 0 to 100.

    Returns:
        ``{"plain": GradientFlow, "residual": GradientFlow}``.

    Raises:
        ValueError: If an argument is invalid (``block="plain"`` included).
    """
    arguments.choice("block", block, RESIDUAL_BLOCKS)
    common = dict(activation=activation, initialization=initialization, gain=gain,
                  normalization=normalization, steps=steps)  # fmt: skip
    return {
        "plain": gradflow.gradient_norms(depth, block="plain", **common),
        "residual": gradflow.gradient_norms(
            depth, block=block, branch_scale=branch_scale, **common
        ),  # fmt: skip
    }


def flag(flow):
    """``"overflow"``, ``"underflow"`` or ``""``: what a log-scale plot cannot show."""
    return "overflow" if flow.overflow else "underflow" if flow.underflow else ""


def ratio_text(flow):
    """The first-to-last gradient ratio as the explorer and the website's player print it."""
    ratio = flow.first_to_last
    return f"{ratio:.3g}" if np.isfinite(ratio) else LABELS["nan"]


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
        f"<td>{LABELS[flag(flow)] if flag(flow) else LABELS['none']}</td></tr>"
        for name, flow in shown.items()
    )
    head = "".join(f"<th>{LABELS[key]}</th>" for key in ("network", "ratio", "range"))
    return f"<table><tr>{head}</tr>{rows}</table>"


def explorer(depth=50, activation="relu", initialization="he", gain=1.0, normalization="none",
             block="v1", branch_scale="one", steps=0):  # fmt: skip
    """The interactive explorer: controls, the two-panel figure and the readout.

    Moving a control recomputes both networks (cached, so revisiting a setting
    is instant) and redraws. Depth and gain update while dragging as long as
    no training steps are asked for; with steps they update on release, since
    each step is a full forward and backward pass.

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
        ``figure`` is the :class:`~resnet_book.plotting.FlowFigure`, and
        ``update()`` redraws.
    """
    import ipywidgets as widgets

    arguments.integer("steps", steps, 0, MAX_STEPS)
    flows(depth, activation, initialization, gain, normalization, block, branch_scale, steps)
    toggles = {"activation": gradflow.ACTIVATIONS, "initialization": gradflow.INITIALIZATIONS,
               "normalization": gradflow.NORMALIZATIONS, "block": RESIDUAL_BLOCKS,
               "branch_scale": gradflow.BRANCH_SCALES}  # fmt: skip
    start = dict(activation=activation, initialization=initialization,
                 normalization=normalization, block=block, branch_scale=branch_scale)  # fmt: skip
    controls = {
        name: widgets.ToggleButtons(options=[(LABELS[o], o) for o in options], value=start[name],
                                    tooltips=[LABELS[name]] * len(options),
                                    style={"button_width": "auto"})
        for name, options in toggles.items()
    }  # fmt: skip
    controls["depth"] = widgets.IntSlider(depth, 2, gradflow.MAX_DEPTH, step=2,
                                          description=LABELS["depth"])  # fmt: skip
    controls["gain"] = widgets.FloatLogSlider(
        gain, base=2, min=math.log2(GAIN_RANGE[0]), max=math.log2(GAIN_RANGE[1]), step=0.125,
        description=LABELS["gain"], readout_format=".3g",
    )  # fmt: skip
    controls["steps"] = widgets.IntSlider(steps, 0, MAX_STEPS, description=LABELS["steps"],
                                          continuous_update=False)  # fmt: skip
    figure = plotting.FlowFigure(("plain", "residual"), LABELS)
    image, table = widgets.HTML(), widgets.HTML()
    order = ("depth", "activation", "initialization", "gain", "normalization", "block",
             "branch_scale", "steps")  # fmt: skip

    def update(change=None):
        settings = {name: controls[name].value for name in order}
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
        widgets.HBox([widgets.Label(LABELS[name], layout={"width": "7em"}), controls[name]])
        for name in toggles
    ])  # fmt: skip
    panel = widgets.HBox([sliders, switches], layout={"flex_flow": "row wrap"})
    box = widgets.VBox([panel, image, table])
    box.controls, box.figure, box.update = controls, figure, update
    return box
