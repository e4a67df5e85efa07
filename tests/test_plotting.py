import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from resnet_book import plotting  # noqa: E402


def test_book_style_gives_white_figure_and_axes():
    plotting.use_book_style()
    fig, ax = plt.subplots()
    assert matplotlib.colors.to_hex(fig.get_facecolor()) == "#ffffff"
    assert matplotlib.colors.to_hex(ax.get_facecolor()) == "#ffffff"
    assert matplotlib.rcParams["savefig.facecolor"] == "white"
    plt.close(fig)


def test_layer_profiles_draws_one_log_scaled_line_per_setting():
    ax = plotting.plot_layer_profiles({"a": np.ones(5), "b": np.arange(1, 6)}, "norm")
    assert ax.get_yscale() == "log"
    assert [line.get_label() for line in ax.get_lines()] == ["a", "b"]
    assert list(ax.get_lines()[0].get_xdata()) == [1, 2, 3, 4, 5]
    plt.close(ax.figure)


def test_layer_profiles_rejects_empty_mapping():
    with pytest.raises(ValueError, match="profiles={}"):
        plotting.plot_layer_profiles({}, "norm")
