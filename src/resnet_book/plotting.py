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
