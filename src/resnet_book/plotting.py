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
