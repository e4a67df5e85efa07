"""Figure style and the book's plotting boilerplate, hidden in the chapters.

Taught in chapters/01-why-depth-is-hard.ipynb (set-up cell).
"""

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

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


def plot_gradient_flow(flows):
    """Two panels: per-layer weight-gradient norms and activation spreads.

    Args:
        flows: A mapping from a legend label to a
            :class:`resnet_book.gradflow.GradientFlow`.

    Returns:
        The matplotlib figure, closed: it displays as the value of a cell.
    """
    fig, (grad_ax, act_ax) = plt.subplots(1, 2, figsize=(9.0, 3.4), layout="constrained")
    plot_layer_profiles(
        {label: flow.grad_norms for label, flow in flows.items()},
        r"$\|\partial \mathcal{L} / \partial W_\ell\|$",
        ax=grad_ax,
    )
    plot_layer_profiles(
        {label: flow.activation_stds for label, flow in flows.items()},
        r"std of $h_\ell$",
        ax=act_ax,
    )
    act_ax.get_legend().remove()
    plt.close(fig)  # shown once, as the cell's value, not again by the inline backend
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
