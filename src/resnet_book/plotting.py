"""The book's figure style, its palette, and the generic plots the chapters share.

Plots of measured numbers against a layer, an epoch or a setting, with the
boilerplate the chapters hide (``hide-input``). The pictures with a home of
their own draw from :data:`PALETTE` here: the network diagrams in
:mod:`resnet_book.diagrams`, the gradient-flow figure in :mod:`resnet_book.explorer`.

Taught in chapters/01-why-depth-is-hard.ipynb (set-up cell).
"""

import math

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from resnet_book import arguments

# The book's colours, named once: every diagram and the gradient-flow figure draw from these.
PALETTE = {
    "paper": "white",  # backgrounds: legible when the website is in dark mode too
    "ink": "#444444",  # a diagram's lines, arrows and box edges
    "text": "black",  # words and symbols inside a diagram's boxes
    "shortcut": "#1f77b4",  # the identity path of a residual block
    "weights": ("#fde9c9", "#f9d29b", "#f3b46c", "#e99452"),  # weight layers, narrowest first
    # One per replica in a data-parallel picture: matplotlib's first eight default colours.
    "replicas": tuple(mpl.colors.to_hex(colour) for colour in mpl.colormaps["tab10"].colors[:8]),
    "reduction": "#d62728",  # the all-reduce of the replicas' gradients
    "gradient": "#1f77b4",  # gradient-flow figure: the gradient norm of each layer
    "spread": "#ff7f0e",  # gradient-flow figure: the spread of each block's output
    "alert": "#b00020",  # a value a figure cannot show (overflow, underflow)
    "marked": "#e0e0e0",  # layers a diagram picks out (chapter 8: those that change block)
    "blocks": ("#dcefd2", "#e6dcf2"),  # pale green, pale purple: alternate blocks' spans (ch. 8)
}
SUPERSCRIPTS = str.maketrans(
    "-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079"
)

BOOK_STYLE = {
    "figure.facecolor": PALETTE["paper"],
    "axes.facecolor": PALETTE["paper"],
    "savefig.facecolor": PALETTE["paper"],
    "figure.figsize": (7.0, 3.6),
    "figure.dpi": 100,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 10,
    "legend.frameon": False,
}


def use_book_style():
    """Apply the book's matplotlib style: white backgrounds, light grids.

    White backgrounds keep figures legible when the website is in dark mode.
    """
    mpl.rcParams.update(BOOK_STYLE)


def power_of_ten(value, position=None):
    """A tick label ``10`` with a Unicode superscript: plain text lays out faster than TeX.

    Args:
        value: A positive number, shown as its nearest power of ten.
        position: Unused; matplotlib's ``FuncFormatter`` passes the tick's index.

    Returns:
        For example ``"10⁻³"`` for 0.001.

    Raises:
        ValueError: If ``value`` is not a positive number.
    """
    value = arguments.check_positive("value", value)
    return "10" + str(round(math.log10(value))).translate(SUPERSCRIPTS)


def _is_line_style(style):
    try:
        mpl.lines.Line2D([], []).set_linestyle(style)
    except (TypeError, ValueError):
        return False
    return True


def _line_looks(labels, colors, styles, owner):
    """``{label: {"color": ..., "linestyle": ...}}``, only the looks that were given.

    ``colors`` and ``styles`` are each None, a mapping from some of ``labels`` to a value,
    or a sequence of one value (or None) per label; ``owner`` names the argument that holds
    the labels, for the error message.
    """

    def per_curve(name, value, is_valid, kind):
        requirement = (
            f"None, a mapping from labels of {owner} to a {kind}, or a sequence of"
            f" {len(labels)} entries, one per curve (None for the default)"
        )
        if value is None:
            return dict.fromkeys(labels)
        if isinstance(value, str):
            arguments.reject(name, value, requirement)
        if hasattr(value, "items"):
            chosen = dict(value)
            if not set(chosen) <= set(labels):
                arguments.reject(name, value, requirement)
        else:
            try:
                entries = list(value)
            except TypeError:
                arguments.reject(name, value, requirement)
            if len(entries) != len(labels):
                arguments.reject(name, value, requirement)
            chosen = dict(zip(labels, entries, strict=True))
        if not all(entry is None or is_valid(entry) for entry in chosen.values()):
            arguments.reject(name, value, requirement)
        return {label: chosen.get(label) for label in labels}

    line_colors = per_curve("colors", colors, mpl.colors.is_color_like, "matplotlib colour")
    line_styles = per_curve("styles", styles, _is_line_style, "matplotlib line style")
    looks = {}
    for label in labels:
        look = {"color": line_colors[label], "linestyle": line_styles[label]}
        looks[label] = {key: value for key, value in look.items() if value is not None}
    return looks


def plot_layer_profiles(profiles, ylabel, ax=None, colors=None, styles=None, start=1):
    """Plot one positive quantity per layer on a log scale, one line per setting.

    Args:
        profiles: A mapping from a legend label to a 1-D array (input side first).
        ylabel: Label of the vertical axis.
        ax: The axes to draw in; a new figure when None.
        colors: Optional line colours: a mapping from some of the labels to a matplotlib
            colour, or a sequence of one colour (or None) per curve, in the order of
            ``profiles``. A curve without one takes the next colour of the cycle.
        styles: Optional line styles (``"-"``, ``"--"``, ``"dotted"``, ...), in the same
            form as ``colors``. A curve without one is solid.
        start: The layer number of each array's first value (chapter 4 counts from 0,
            the stack's input).

    Returns:
        The matplotlib axes, its legend showing the colours and styles.

    Raises:
        ValueError: If ``profiles`` is empty, or if ``colors`` or ``styles`` is a string,
            names a label not in ``profiles``, holds a sequence of the wrong length, or
            holds a value that is not a matplotlib colour or line style.
    """
    if not profiles:
        arguments.reject("profiles", profiles, "a mapping with at least one curve")
    start = arguments.check_integer("start", start, 0)
    looks = _line_looks(list(profiles), colors, styles, "profiles")
    if ax is None:
        _, ax = plt.subplots()
    for label, values in profiles.items():
        values = np.asarray(values, dtype=float)
        layers = np.arange(start, start + len(values))
        ax.semilogy(layers, values, marker=".", label=label, **looks[label])
    ax.set_xlabel(r"layer $\ell$")
    ax.set_ylabel(ylabel)
    ax.legend()
    return ax


def plot_training_curves(
    histories,
    metrics=("loss", "val_accuracy"),
    log_metrics=("loss",),
    baselines=None,
    baseline_label=None,
    colors=None,
    styles=None,
    baseline_style="--",
):
    """One panel per metric, one line per run, against the epoch.

    Taught in chapters/02-core-idea.ipynb (``baselines`` and ``baseline_label``: the
    error of predicting each feature's mean), chapters/07-degradation.ipynb and
    chapters/09-applications.ipynb.

    Args:
        histories: A mapping from a legend label to a Keras ``History.history``
            dictionary (or any mapping from metric names to per-epoch values).
        metrics: The metric names to draw, one panel each (Keras' names; the axes say
            "training loss", "test accuracy" and so on, since Keras' validation data are
            the book's test data).
        log_metrics: The metrics drawn on a log scale.
        baselines: A mapping from a metric in ``metrics`` to a reference value,
            drawn as a grey horizontal line (``baseline_style``) on that metric's panel; None
            draws none.
        baseline_label: The legend entry of the baseline lines, shown in each panel
            that has one; None leaves them out of the legends.
        colors: Optional line colours, as for :func:`plot_layer_profiles` (a mapping
            from some labels of ``histories``, or one entry per run), the same in
            every panel.
        styles: Optional line styles, in the same form. A run without one is solid.
        baseline_style: The baseline lines' matplotlib line style (dotted, ``":"``, keeps
            them apart from dashed runs).

    Returns:
        The matplotlib figure, closed: it displays as the value of a cell.

    Raises:
        ValueError: If ``histories`` is empty or lacks one of ``metrics``, or
            ``baselines`` names a metric not in ``metrics`` or a value that is not
            a finite number, or ``baseline_label`` is neither a string nor None, or
            ``colors``, ``styles`` or ``baseline_style`` is not a valid look.
    """
    if not histories:
        arguments.reject("histories", histories, "a mapping with at least one run")
    baselines = _check_baselines(baselines, metrics)
    if baseline_label is not None and not isinstance(baseline_label, str):
        arguments.reject("baseline_label", baseline_label, "a string or None")
    if not _is_line_style(baseline_style):
        arguments.reject("baseline_style", baseline_style, "a matplotlib line style")
    looks = _line_looks(list(histories), colors, styles, "histories")
    for label, history in histories.items():
        missing = [m for m in metrics if m not in history]
        if missing:
            raise ValueError(f"history {label!r} has no {missing}. Received: {sorted(history)}")
    fig, axes = plt.subplots(
        1, len(metrics), figsize=(4.5 * len(metrics), 3.4), layout="constrained"
    )
    names = {"loss": "training loss", "accuracy": "training accuracy"}
    names |= {"val_loss": "test loss", "val_accuracy": "test accuracy"}
    for ax, metric in zip(letter_panels(axes), metrics, strict=True):
        for label, history in histories.items():
            values = np.asarray(history[metric], dtype=float)
            steps = np.arange(1, len(values) + 1)
            ax.plot(steps, values, marker=".", label=label, **looks[label])
        if metric in log_metrics:
            ax.set_yscale("log")
        ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(names.get(metric, metric.replace("_", " ")))
        if metric in baselines:
            ax.axhline(
                baselines[metric], color="grey", linestyle=baseline_style, label=baseline_label
            )
            if baseline_label is not None:
                ax.legend()
    np.atleast_1d(axes)[0].legend()
    plt.close(fig)
    return fig


def _check_baselines(baselines, metrics):
    """The ``baselines`` of :func:`plot_training_curves` as a dict of floats, checked."""
    if baselines is None:
        return {}
    if not hasattr(baselines, "items"):
        arguments.reject("baselines", baselines, "a mapping from a metric to a number, or None")
    checked = {}
    for metric, value in baselines.items():
        if metric not in metrics:
            arguments.reject("baselines", baselines, f"keyed by metrics drawn, {tuple(metrics)}")
        checked[metric] = arguments.check_real(f"baselines[{metric!r}]", value)
    return checked


def plot_signals(signals, labels, columns=5):
    """A grid of 1-D signals, one small panel each, titled with its label.

    Taught in chapters/09-applications.ipynb.

    Args:
        signals: An array of shape (n, length).
        labels: n labels, one per signal.
        columns: Panels per row.

    Returns:
        The matplotlib figure, closed: it displays as the value of a cell.

    Raises:
        ValueError: If ``signals`` is not 2-D or the counts differ.
    """
    signals = np.asarray(signals)
    if signals.ndim != 2 or len(signals) != len(labels) or not len(signals):
        raise ValueError(
            "signals must be (n, length) with one label each. "
            f"Received: signals.shape={signals.shape}, {len(labels)} labels"
        )
    rows = -(-len(signals) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(1.8 * columns, 1.5 * rows), sharey=True)
    for ax, signal, label in zip(np.ravel(axes), signals, labels, strict=False):
        ax.plot(signal, lw=1.2)
        ax.set_title(str(label), fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in np.ravel(axes)[len(signals) :]:
        ax.set_visible(False)
    fig.tight_layout()
    plt.close(fig)
    return fig


def plot_seed_curves(runs, metric, ax=None, log=True, colors=None, styles=None):
    """Mean over seeds of a per-epoch metric, with the min-max range shaded.

    Taught in chapters/07-degradation.ipynb.

    Args:
        runs: A mapping from a legend label to a list of per-seed curves.
        metric: Label of the vertical axis.
        ax: The axes to draw in; a new figure when None.
        log: Draw the vertical axis on a log scale.
        colors: Optional line colours, as for :func:`plot_layer_profiles` (a mapping
            from some labels of ``runs``, or one entry per curve); a band takes its
            line's colour.
        styles: Optional line styles, in the same form. A curve without one is solid.

    Returns:
        The matplotlib axes.

    Raises:
        ValueError: If ``runs`` is empty or a label has no curves, or if ``colors`` or
            ``styles`` is not as :func:`plot_layer_profiles` accepts them.
    """
    if not runs or not all(len(curves) for curves in runs.values()):
        raise ValueError(f"runs must map labels to non-empty lists. Received: {list(runs)}")
    looks = _line_looks(list(runs), colors, styles, "runs")
    if ax is None:
        _, ax = plt.subplots()
    for label, curves in runs.items():
        curves = np.asarray(curves, dtype=float)
        epochs = np.arange(1, curves.shape[1] + 1)
        (line,) = ax.plot(epochs, curves.mean(axis=0), label=label, **looks[label])
        ax.fill_between(
            epochs, curves.min(axis=0), curves.max(axis=0), alpha=0.2, color=line.get_color()
        )
    if log:
        ax.set_yscale("log")
    ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.legend()
    return ax


def letter_panels(axes):
    """Title each of several panels (a), (b), ... at its top left, so a caption can name it.

    A figure of one panel gets no letter. Taught in chapters/07-degradation.ipynb.

    Args:
        axes: The panels, left to right.

    Returns:
        The panels as a list.
    """
    axes = list(np.atleast_1d(axes))
    if len(axes) > 1:
        for letter, ax in zip("abcdefghijklmnopqrstuvwxyz", axes, strict=False):
            ax.set_title(f"({letter})", loc="left", fontsize=10, fontweight="bold")
    return axes


def plot_seed_panels(panels, percent=False, colors=None, styles=None):
    """Side-by-side panels of :func:`plot_seed_curves`, one legend for all.

    Taught in chapters/01-why-depth-is-hard.ipynb (``percent``: error rates) and
    chapters/07-degradation.ipynb.

    Args:
        panels: A mapping from a panel's vertical-axis label to ``(runs, log)``,
            where ``runs`` is as for :func:`plot_seed_curves`.
        percent: Label every vertical axis in percent, reading its values as
            fractions (0.25 shows as 25%).
        colors: Optional mapping from a legend label to its line colour, the same in
            every panel (see :func:`plot_seed_curves`).
        styles: Optional mapping from a legend label to its line style, likewise.

    Returns:
        The matplotlib figure, closed: it displays as the value of a cell.

    Raises:
        ValueError: If ``percent`` is not a bool.
    """
    if not isinstance(percent, bool | np.bool_):
        arguments.reject("percent", percent, "True or False")
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.4), layout="constrained")
    axes = letter_panels(axes)
    for ax, (label, (runs, log)) in zip(axes, panels.items(), strict=True):
        chosen = [
            {key: value for key, value in (looks or {}).items() if key in runs}
            for looks in (colors, styles)
        ]
        plot_seed_curves(
            runs, label, ax=ax, log=log, colors=chosen[0] or None, styles=chosen[1] or None
        )
    for ax in axes[1:]:
        ax.get_legend().remove()
    if percent:
        for ax in axes:
            ax.yaxis.set_major_formatter(mpl.ticker.PercentFormatter(1.0))
    plt.close(fig)
    return fig


def plot_by_setting(values, settings, ylabel, log=True):
    """One column per training setting, one marker per seed, one colour per network.

    Taught in chapters/07-degradation.ipynb.

    Args:
        values: A mapping from a legend label to an array of shape
            ``(len(settings), seeds)``: a final measurement per setting and seed.
        settings: Tick labels of the settings, left to right.
        ylabel: Label of the vertical axis.
        log: Draw the vertical axis on a log scale.

    Returns:
        The matplotlib figure, closed: it displays as the value of a cell.

    Raises:
        ValueError: If ``values`` is empty or an array does not have one row per setting.
    """
    if not values:
        arguments.reject("values", values, "a mapping with at least one network")
    fig, ax = plt.subplots(figsize=(1.4 * len(settings) + 2.0, 3.4), layout="constrained")
    width = 0.6 / len(values)
    for index, (label, rows) in enumerate(values.items()):
        rows = np.asarray(rows, dtype=float)
        if rows.ndim != 2 or len(rows) != len(settings):
            raise ValueError(
                f"values[{label!r}] must have shape ({len(settings)}, seeds). "
                f"Received: shape {rows.shape}"
            )
        offset = (index - (len(values) - 1) / 2) * width
        x = np.repeat(np.arange(len(settings)) + offset, rows.shape[1])
        ax.plot(x, rows.ravel(), "o", alpha=0.8, label=label)
    ax.set_xticks(np.arange(len(settings)), settings)
    ax.set_xlim(-0.6, len(settings) - 0.4)
    if log:
        ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.legend()
    plt.close(fig)
    return fig


def plot_panels(panels, xlabel, log=(), xlog=False, legend="panels"):
    """Side-by-side panels of lines against a shared kind of horizontal axis.

    Taught in chapters/11-why-residual-networks-work.ipynb.

    Args:
        panels: A mapping from a panel's vertical-axis label to a mapping from a
            legend label to ``(x, y)``; a label seen in an earlier panel keeps its
            colour, and a panel whose labels all appeared before has no legend.
        xlabel: Label of the horizontal axes.
        log: The vertical-axis labels of the panels drawn on a log scale.
        xlog: Draw every horizontal axis on a log scale, ticks at the values of the lines.
        legend: ``"panels"``: a legend in each panel that brings new labels; ``"below"``:
            one legend under the panels for every label, clear of the lines; ``"none"``.

    Returns:
        The matplotlib figure, closed: it displays as the value of a cell.

    Raises:
        ValueError: If ``panels`` is empty, a panel has no lines, or ``legend`` is not one
            of the three choices.
    """
    if not panels or not all(panels.values()):
        raise ValueError(f"panels must map labels to non-empty mappings. Received: {list(panels)}")
    legend = arguments.check_choice("legend", legend, ("panels", "below", "none"))
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.2), layout="constrained")
    colours, shown = {}, set()
    for ax, (ylabel, lines) in zip(letter_panels(axes), panels.items(), strict=True):
        for label, (x, y) in lines.items():
            colour = colours.setdefault(label, f"C{len(colours)}")
            ax.plot(x, y, marker=".", color=colour, label=label)
        if ylabel in log:
            ax.set_yscale("log")
        if xlog:
            ax.set_xscale("log")
            ticks = sorted({value for x, _ in lines.values() for value in x})
            ax.set_xticks(ticks, [f"{value:g}" for value in ticks])
            ax.minorticks_off()
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if legend == "panels" and set(lines) - shown:  # only where a panel brings new labels
            ax.legend()
        shown |= set(lines)
    if legend == "below":
        handles = {line.get_label(): line for ax in fig.axes for line in ax.get_lines()}
        fig.legend(handles.values(), handles.keys(), loc="outside lower center", ncols=3)
    plt.close(fig)
    return fig


def plot_surfaces(surfaces, steps):
    """Contour maps of loss surfaces side by side, on shared log-spaced levels.

    Taught in chapters/11-why-residual-networks-work.ipynb.

    Args:
        surfaces: A mapping from a panel title to a square grid of positive losses,
            rows along the first direction.
        steps: The coordinates of the grid along each direction.

    Returns:
        The matplotlib figure, closed: it displays as the value of a cell.

    Raises:
        ValueError: If a grid does not match ``steps`` or holds a loss that is not positive.
    """
    steps = np.asarray(steps, dtype=float)
    grids = {title: np.asarray(grid, dtype=float) for title, grid in surfaces.items()}
    for title, grid in grids.items():
        if grid.shape != (len(steps), len(steps)) or not (grid > 0).all():
            raise ValueError(
                f"surfaces[{title!r}] must be a {len(steps)}x{len(steps)} grid of "
                f"positive losses. Received: shape {grid.shape}"
            )
    low = min(grid.min() for grid in grids.values())
    high = max(grid.max() for grid in grids.values())
    levels = np.geomspace(low, high, 25)
    fig, axes = plt.subplots(
        1, len(grids), figsize=(3.6 * len(grids) + 0.8, 3.4), layout="constrained"
    )
    for ax, (title, grid) in zip(letter_panels(axes), grids.items(), strict=True):
        shown = ax.contour(
            steps,
            steps,
            grid.T,
            levels=levels,
            norm=mpl.colors.LogNorm(low, high),
            cmap="viridis",
            linewidths=0.8,
        )
        ax.plot(0, 0, "+", color="black")
        ax.set_title(title)
        ax.set_xlabel(r"$\alpha$")
        ax.set_ylabel(r"$\beta$")
        ax.set_aspect("equal")
        ax.grid(False)
    bar = fig.colorbar(shown, ax=axes, label="training loss")
    powers = np.arange(math.ceil(math.log10(low)), math.floor(math.log10(high)) + 1)
    bar.set_ticks(10.0**powers, labels=[power_of_ten(10.0**p) for p in powers])
    bar.minorticks_off()
    plt.close(fig)
    return fig
