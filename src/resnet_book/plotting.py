"""Figure style and the book's plotting boilerplate, hidden in the chapters.

Taught in chapters/01-why-depth-is-hard.ipynb (set-up cell).
"""

import io
import math

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import PIL.Image
from matplotlib import ticker
from matplotlib.backends.backend_agg import FigureCanvasAgg

BOOK_STYLE = {
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
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


def plot_layer_profiles(profiles, ylabel, ax=None):
    """Plot one positive quantity per layer on a log scale, one line per setting.

    Args:
        profiles: A mapping from a legend label to a 1-D array (input side first).
        ylabel: Label of the vertical axis.
        ax: The axes to draw in; a new figure when None.

    Returns:
        The matplotlib axes.

    Raises:
        ValueError: If ``profiles`` is empty.
    """
    if not profiles:
        raise ValueError(f"profiles must name at least one curve. Received: profiles={profiles!r}")
    if ax is None:
        _, ax = plt.subplots()
    for label, values in profiles.items():
        values = np.asarray(values, dtype=float)
        ax.semilogy(np.arange(1, len(values) + 1), values, marker=".", label=label)
    ax.set_xlabel(r"layer $\ell$")
    ax.set_ylabel(ylabel)
    ax.legend()
    return ax


def _power_of_ten(value, _):
    """Tick label ``10`` with a Unicode superscript: plain text lays out faster than TeX."""
    exponent = round(math.log10(value))
    return "10" + str(exponent).translate(str.maketrans("-0123456789", SUPERSCRIPTS))


SUPERSCRIPTS = "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079"
FLOOR = 1e-45  # float32's smallest subnormal: no finite value shown lies below it


class FlowFigure:
    """Gradient flows side by side: one log-scale panel per network, updated in place.

    Each panel draws a network's weight-gradient norm per layer and the spread
    of its blocks' outputs (placed at each block's last layer), input side on
    the left, with the word ``overflow`` or ``underflow`` when a value cannot
    be drawn. Reusing one figure and its artists, instead of building a new one
    per slider move, keeps a redraw near 25 ms (PNG encoding included).

    Taught in chapters/06-gradient-flow.ipynb.

    Args:
        names: The panels' keys, left to right (1 to 4 of them).
        labels: Words for the legend and the flags: keys ``"grad"``, ``"std"``,
            ``"overflow"`` and ``"underflow"``.
    """

    def __init__(self, names, labels=None):
        names = list(names)
        if not 1 <= len(names) <= 4:
            raise ValueError(f"names must hold 1 to 4 panels. Received: names={names!r}")
        self.labels = {"grad": r"$\|\partial \mathcal{L}/\partial W_\ell\|$",
                       "std": r"std of block output", "overflow": "overflow",
                       "underflow": "underflow"} | (labels or {})  # fmt: skip
        self.figure, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.6),
                                         sharey=True, squeeze=False)  # fmt: skip
        # Fixed margins with room for the widest tick label (10⁻⁴⁵): a layout engine would
        # cost time on every draw, and laying out once would clip wider labels later.
        left = 0.17 / len(names)
        self.figure.subplots_adjust(left=left, right=0.99, bottom=0.14, top=0.86, wspace=0.05)
        plt.close(self.figure)
        self.figure.set_facecolor("white")  # legible on the website's dark mode too
        self.canvas = FigureCanvasAgg(self.figure)  # kept: savefig would make a new one each time
        self.panels = {}
        for ax, name in zip(axes[0], names, strict=True):
            (grad,) = ax.semilogy([], [], marker=".", markersize=4, label=self.labels["grad"])
            (spread,) = ax.semilogy([], [], marker=".", markersize=4, label=self.labels["std"])
            note = ax.text(0.5, 0.9, "", transform=ax.transAxes, ha="center", va="center",
                           fontsize=14, color="#b00020", zorder=5,
                           bbox={"facecolor": "white", "alpha": 0.85})  # fmt: skip
            ax.set_xlabel(r"layer $\ell$")
            ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True, min_n_ticks=1))
            ax.set_facecolor("white")
            ax.grid(True, alpha=0.3)
            ax.yaxis.set_major_locator(ticker.LogLocator(numticks=8))
            ax.yaxis.set_minor_locator(ticker.NullLocator())
            ax.yaxis.set_major_formatter(ticker.FuncFormatter(_power_of_ten))
            self.panels[name] = (ax, grad, spread, note)
        self.figure.legend(*axes[0][0].get_legend_handles_labels(), loc="upper center", ncol=2,
                           frameon=False)  # fmt: skip

    def draw(self, flows):
        """Show ``{name: GradientFlow}`` for every panel; return the figure as PNG bytes."""
        shown = []
        for name, flow in flows.items():
            ax, grad, spread, note = self.panels[name]
            depth = len(flow.grad_norms)
            per_block = depth // len(flow.activation_stds)
            for line, values, layers in (
                (grad, flow.grad_norms, np.arange(1, depth + 1)),
                (spread, flow.activation_stds, np.arange(per_block, depth + 1, per_block)),
            ):
                values = np.where(np.isfinite(values) & (values > 0), values, np.nan)
                line.set_data(layers, values)
                shown.append(values)
            word = "overflow" if flow.overflow else "underflow" if flow.underflow else ""
            note.set_text(self.labels[word] if word else "")
            note.set_visible(bool(word))
            ax.set_xlim(0.5, depth + 0.5)
        values = np.concatenate(shown)
        finite = values[np.isfinite(values)]
        low, high = (finite.min(), finite.max()) if finite.size else (1e-3, 1e3)
        low, high = max(low, FLOOR), max(high, low * 10)
        shared_y = next(iter(self.panels.values()))[0]  # the panels share the vertical axis
        shared_y.set_ylim(10.0 ** math.floor(math.log10(low)), 10.0 ** math.ceil(math.log10(high)))
        self.canvas.draw()
        pixels = np.asarray(self.canvas.buffer_rgba())[..., :3]
        buffer = io.BytesIO()
        PIL.Image.fromarray(pixels).save(buffer, format="png", compress_level=1)
        return buffer.getvalue()


def plot_gradient_flow(flows, labels=None):
    """The gradient flows of several networks, one panel each, as a figure a cell shows.

    Args:
        flows: A mapping from a panel's key to a
            :class:`resnet_book.gradflow.GradientFlow`, left to right.
        labels: Words for the legend and flags, as for :class:`FlowFigure`.

    Returns:
        The matplotlib figure, closed: it displays as the value of a cell.
    """
    view = FlowFigure(flows, labels)
    view.draw(flows)
    return view.figure


BLOCK_SYMBOLS = {"weight": "$W$", "norm": "BN", "act": "$f$", "scale": r"$\times s$", "add": "+"}


def draw_blocks(layouts):
    """Blocks as diagrams, side by side, drawn from their operations (input at the bottom).

    Each operation is a box (a weight layer ``W``, normalisation ``BN``, the
    activation ``f``, the branch scale ``s``) or the addition ``+``, which the
    shortcut reaches from the block's input on the right.

    Taught in chapters/06-gradient-flow.ipynb.

    Args:
        layouts: A mapping from a block's name to its operations, input first, as
            ``resnet_book.gradflow.LAYOUT``; the names are left to the caption.

    Returns:
        The matplotlib figure, closed: it displays as the value of a cell.

    Raises:
        ValueError: If an operation is not one of ``BLOCK_SYMBOLS``.
    """
    tall = max(len(operations) for operations in layouts.values()) + 1
    fig, ax = plt.subplots(figsize=(2.2 * len(layouts), 0.55 * tall + 0.4))
    fig.set_facecolor("white")
    for column, operations in enumerate(layouts.values()):
        x = 3.0 * column
        unknown = [op for op in operations if op not in BLOCK_SYMBOLS]
        if unknown:
            raise ValueError(f"operations must be in {list(BLOCK_SYMBOLS)}. Received: {unknown}")
        ax.annotate(
            "", xy=(x, 0.6), xytext=(x, 0), arrowprops={"arrowstyle": "-|>", "color": "#444"}
        )
        for level, operation in enumerate(operations, start=1):
            if operation == "add":
                ax.add_patch(
                    mpl.patches.Circle((x, level), 0.3, facecolor="white", edgecolor="#444")
                )
                shortcut = [(x, 0.25), (x + 1.1, 0.25), (x + 1.1, level), (x + 0.32, level)]
                arrow = {"arrowstyle": "-|>", "color": "#1f77b4", "lw": 2}
                ax.annotate("", xy=shortcut[-1], xytext=shortcut[-2], arrowprops=arrow)
                ax.plot(*zip(*shortcut[:-1], strict=True), color="#1f77b4", lw=2)
            else:
                fill = "#fde9c9" if operation == "weight" else "white"
                ax.add_patch(mpl.patches.FancyBboxPatch(
                    (x - 0.6, level - 0.3), 1.2, 0.6, boxstyle="round,pad=0.02",
                    facecolor=fill, edgecolor="#444"))  # fmt: skip
            ax.text(x, level, BLOCK_SYMBOLS[operation], ha="center", va="center", fontsize=12)
            top = level + 0.7 if level < len(operations) else level + 0.9
            ax.annotate("", xy=(x, top - 0.1), xytext=(x, level + 0.3),
                        arrowprops={"arrowstyle": "-|>", "color": "#444"})  # fmt: skip
    ax.set_xlim(-1.0, 3.0 * (len(layouts) - 1) + 1.6)
    ax.set_ylim(-0.2, tall + 0.2)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.subplots_adjust(left=0, right=1, bottom=0, top=1)
    plt.close(fig)
    return fig


def plot_training_curves(histories, metrics=("loss", "val_accuracy"), log_metrics=("loss",)):
    """One panel per metric, one line per run, against the epoch.

    Args:
        histories: A mapping from a legend label to a Keras ``History.history``
            dictionary (or any mapping from metric names to per-epoch values).
        metrics: The metric names to draw, one panel each.
        log_metrics: The metrics drawn on a log scale.

    Returns:
        The matplotlib figure, closed: it displays as the value of a cell.

    Raises:
        ValueError: If ``histories`` is empty or lacks one of ``metrics``.
    """
    if not histories:
        raise ValueError(f"histories must name at least one run. Received: histories={histories!r}")
    for label, history in histories.items():
        missing = [m for m in metrics if m not in history]
        if missing:
            raise ValueError(f"history {label!r} has no {missing}. Received: {sorted(history)}")
    fig, axes = plt.subplots(
        1, len(metrics), figsize=(4.5 * len(metrics), 3.4), layout="constrained"
    )
    for ax, metric in zip(np.atleast_1d(axes), metrics, strict=True):
        for label, history in histories.items():
            values = np.asarray(history[metric], dtype=float)
            ax.plot(np.arange(1, len(values) + 1), values, marker=".", label=label)
        if metric in log_metrics:
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric.replace("_", " "))
    np.atleast_1d(axes)[0].legend()
    plt.close(fig)
    return fig


def plot_signals(signals, labels, columns=5):
    """A grid of 1-D signals, one small panel each, titled with its label.

    Taught in chapters/08-applications.ipynb.

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


def plot_seed_curves(runs, metric, ax=None, log=True):
    """Mean over seeds of a per-epoch metric, with the min-max range shaded.

    Taught in chapters/07-degradation.ipynb.

    Args:
        runs: A mapping from a legend label to a list of per-seed curves.
        metric: Label of the vertical axis.
        ax: The axes to draw in; a new figure when None.
        log: Draw the vertical axis on a log scale.

    Returns:
        The matplotlib axes.

    Raises:
        ValueError: If ``runs`` is empty or a label has no curves.
    """
    if not runs or not all(len(curves) for curves in runs.values()):
        raise ValueError(f"runs must map labels to non-empty lists. Received: {list(runs)}")
    if ax is None:
        _, ax = plt.subplots()
    for label, curves in runs.items():
        curves = np.asarray(curves, dtype=float)
        epochs = np.arange(1, curves.shape[1] + 1)
        (line,) = ax.plot(epochs, curves.mean(axis=0), label=label)
        ax.fill_between(epochs, curves.min(axis=0), curves.max(axis=0), alpha=0.2,
                        color=line.get_color())  # fmt: skip
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.legend()
    return ax


def plot_seed_panels(panels):
    """Side-by-side panels of :func:`plot_seed_curves`, one legend for all.

    Taught in chapters/07-degradation.ipynb.

    Args:
        panels: A mapping from a panel's vertical-axis label to ``(runs, log)``,
            where ``runs`` is as for :func:`plot_seed_curves`.

    Returns:
        The matplotlib figure, closed: it displays as the value of a cell.
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.4), layout="constrained")
    axes = np.atleast_1d(axes)
    for ax, (label, (runs, log)) in zip(axes, panels.items(), strict=True):
        plot_seed_curves(runs, label, ax=ax, log=log)
    for ax in axes[1:]:
        ax.get_legend().remove()
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
        raise ValueError(f"values must name at least one network. Received: values={values!r}")
    fig, ax = plt.subplots(figsize=(1.4 * len(settings) + 2.0, 3.4), layout="constrained")
    width = 0.6 / len(values)
    for index, (label, rows) in enumerate(values.items()):
        rows = np.asarray(rows, dtype=float)
        if rows.ndim != 2 or len(rows) != len(settings):
            raise ValueError(f"values[{label!r}] must have shape ({len(settings)}, seeds). "
                             f"Received: shape {rows.shape}")  # fmt: skip
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


def plot_panels(panels, xlabel, log=(), xlog=False):
    """Side-by-side panels of lines against a shared kind of horizontal axis.

    Taught in chapters/11-why-residual-networks-work.ipynb.

    Args:
        panels: A mapping from a panel's vertical-axis label to a mapping from a
            legend label to ``(x, y)``; a label seen in an earlier panel keeps its
            colour, and a panel whose labels all appeared before has no legend.
        xlabel: Label of the horizontal axes.
        log: The vertical-axis labels of the panels drawn on a log scale.
        xlog: Draw every horizontal axis on a log scale, ticks at the values of the lines.

    Returns:
        The matplotlib figure, closed: it displays as the value of a cell.

    Raises:
        ValueError: If ``panels`` is empty or a panel has no lines.
    """
    if not panels or not all(panels.values()):
        raise ValueError(f"panels must map labels to non-empty mappings. Received: {list(panels)}")
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.2), layout="constrained")
    colours, shown = {}, set()
    for ax, (ylabel, lines) in zip(np.atleast_1d(axes), panels.items(), strict=True):
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
        if set(lines) - shown:  # a legend only where a panel brings new labels
            ax.legend()
            shown |= set(lines)
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
            raise ValueError(f"surfaces[{title!r}] must be a {len(steps)}x{len(steps)} grid of "
                             f"positive losses. Received: shape {grid.shape}")  # fmt: skip
    low = min(grid.min() for grid in grids.values())
    high = max(grid.max() for grid in grids.values())
    levels = np.geomspace(low, high, 25)
    fig, axes = plt.subplots(1, len(grids), figsize=(3.6 * len(grids) + 0.8, 3.4),
                             layout="constrained")  # fmt: skip
    for ax, (title, grid) in zip(np.atleast_1d(axes), grids.items(), strict=True):
        shown = ax.contour(steps, steps, grid.T, levels=levels, norm=mpl.colors.LogNorm(low, high),
                           cmap="viridis", linewidths=0.8)  # fmt: skip
        ax.plot(0, 0, "+", color="black")
        ax.set_title(title)
        ax.set_xlabel(r"$\alpha$")
        ax.set_ylabel(r"$\beta$")
        ax.set_aspect("equal")
        ax.grid(False)
    bar = fig.colorbar(shown, ax=axes, label="training loss")
    powers = np.arange(math.ceil(math.log10(low)), math.floor(math.log10(high)) + 1)
    bar.set_ticks(10.0**powers, labels=[_power_of_ten(10.0**p, None) for p in powers])
    bar.minorticks_off()
    plt.close(fig)
    return fig


def draw_data_parallel(replicas=4):
    """Data parallelism as a picture: the batch split over replicas, gradients all-reduced.

    Taught in chapters/12-training-at-scale.ipynb.

    Args:
        replicas: The number of replicas drawn, 2 to 8.

    Returns:
        The matplotlib figure, closed: it displays as the value of a cell.

    Raises:
        ValueError: If ``replicas`` is out of range.
    """
    if isinstance(replicas, bool) or not isinstance(replicas, int) or not 2 <= replicas <= 8:
        raise ValueError(f"replicas must be an integer in 2..8. Received: replicas={replicas!r}")
    fig, ax = plt.subplots(figsize=(1.7 * replicas + 1.0, 4.4))
    ax.set_xlim(-0.7, replicas - 0.3)
    ax.set_ylim(-1.4, 3.6)
    ax.axis("off")
    box = {"boxstyle": "round,pad=0.35", "linewidth": 1.0}
    arrow = {"arrowstyle": "-|>", "color": "0.3", "linewidth": 1.0}
    ring = {**arrow, "color": "C3"}
    for i in range(replicas):
        colour = f"C{i}"
        shard = mpl.patches.Rectangle((i - 0.5, 3.05), 1.0, 0.4, facecolor=colour, alpha=0.35,
                                      edgecolor="black")  # fmt: skip
        ax.add_patch(shard)
        ax.text(i, 3.25, f"$x_{i + 1}$", ha="center", va="center")
        ax.annotate("", (i, 2.35), (i, 3.0), arrowprops=arrow)
        ax.text(i, 2.05, r"$\theta$", ha="center", va="center", fontsize=12,
                bbox={**box, "facecolor": "white", "edgecolor": colour})  # fmt: skip
        ax.annotate("", (i, 1.15), (i, 1.75), arrowprops=arrow)
        ax.text(i, 0.85, f"$g_{i + 1}$", ha="center", va="center",
                bbox={**box, "facecolor": colour, "alpha": 0.35})  # fmt: skip
        if i + 1 < replicas:  # the ring: each replica passes gradient pieces to the next
            ax.annotate("", (i + 0.78, 0.85), (i + 0.22, 0.85), arrowprops=ring)
        ax.annotate("", (i, -0.95), (i, -0.6), arrowprops=arrow)
        ax.text(i, -1.2, r"$\theta - \eta\,\bar g$", ha="center", va="center",
                bbox={**box, "facecolor": "white", "edgecolor": colour})  # fmt: skip
    ax.annotate("", (0, 0.55), (replicas - 1, 0.55),
                arrowprops={**ring, "connectionstyle": "arc3,rad=-0.12"})  # fmt: skip
    ax.text((replicas - 1) / 2, -0.35, r"$\bar g = \frac{1}{N}\sum_i g_i$", ha="center",
            va="center", fontsize=11, color="C3")  # fmt: skip
    plt.close(fig)
    return fig
