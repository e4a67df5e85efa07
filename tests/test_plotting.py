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


def test_layer_profiles_number_layers_from_start():
    ax = plotting.plot_layer_profiles({"a": np.ones(3)}, "norm", start=0)
    assert list(ax.get_lines()[0].get_xdata()) == [0, 1, 2]
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="start=-1"):
        plotting.plot_layer_profiles({"a": np.ones(3)}, "norm", start=-1)


def test_layer_profiles_rejects_empty_mapping():
    with pytest.raises(ValueError, match="profiles={}"):
        plotting.plot_layer_profiles({}, "norm")


def test_layer_profiles_colour_and_style_some_curves_by_label():
    profiles = {"a": np.ones(3), "b": np.ones(3), "c": np.ones(3)}
    ax = plotting.plot_layer_profiles(profiles, "norm", colors={"b": "red"}, styles={"c": "--"})
    lines = ax.get_lines()
    hexes = [matplotlib.colors.to_hex(line.get_color()) for line in lines]
    # the curves without a colour take the cycle's first two in turn
    assert hexes == [matplotlib.colors.to_hex(c) for c in ("C0", "red", "C1")]
    assert [line.get_linestyle() for line in lines] == ["-", "-", "--"]
    # the legend, drawn after the lines, shows the same colours and styles
    legend = ax.get_legend().get_lines()
    assert [matplotlib.colors.to_hex(h.get_color()) for h in legend] == hexes
    assert legend[2].get_linestyle() == "--"
    plt.close(ax.figure)


def test_layer_profiles_colour_and_style_every_curve_by_sequence():
    ax = plotting.plot_layer_profiles(
        {"a": np.ones(3), "b": np.ones(3)},
        "norm",
        colors=("C3", "#00ff00"),
        styles=["dotted", None],
    )
    lines = ax.get_lines()
    assert [matplotlib.colors.to_hex(line.get_color()) for line in lines] == [
        matplotlib.colors.to_hex("C3"),
        "#00ff00",
    ]
    assert [line.get_linestyle() for line in lines] == [":", "-"]
    plt.close(ax.figure)


@pytest.mark.parametrize(
    ("argument", "value", "shown"),
    [
        ("colors", {"z": "red"}, "colors={'z': 'red'}"),  # not a label
        ("colors", ["red"], r"colors=\['red'\]"),  # one colour for two curves
        ("colors", ["red", "no-such-colour"], r"'red', 'no-such-colour'\]"),
        ("colors", "red", "colors='red'"),  # a string, not one per curve
        ("colors", 3, "colors=3"),
        ("styles", {"a": "~~"}, "styles={'a': '~~'}"),
        ("styles", ["-", "--", ":"], r"styles=\['-', '--', ':'\]"),
    ],
)
def test_layer_profiles_reject_bad_colours_and_styles(argument, value, shown):
    profiles = {"a": np.ones(3), "b": np.ones(3)}
    with pytest.raises(ValueError, match=f"{argument} must be .*{shown}"):
        plotting.plot_layer_profiles(profiles, "norm", **{argument: value})
    plt.close("all")


def test_signals_grid_has_one_titled_panel_per_signal():
    fig = plotting.plot_signals(np.zeros((7, 40)), list(range(7)), columns=5)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == [str(i) for i in range(7)]


def test_signals_need_one_label_each():
    with pytest.raises(ValueError, match="3 labels"):
        plotting.plot_signals(np.zeros((2, 40)), [0, 1, 2])


def test_seed_curves_draw_the_mean_and_shade_the_range():
    ax = plotting.plot_seed_curves({"net": [[1.0, 0.5], [3.0, 1.5]]}, "loss")
    assert list(ax.get_lines()[0].get_ydata()) == [2.0, 1.0]
    assert ax.get_yscale() == "log" and len(ax.collections) == 1
    plt.close(ax.figure)


def test_seed_curves_reject_empty_runs():
    with pytest.raises(ValueError, match="runs must map"):
        plotting.plot_seed_curves({"net": []}, "loss")


def test_training_curves_name_a_missing_metric():
    with pytest.raises(ValueError, match="has no"):
        plotting.plot_training_curves({"net": {"loss": [1.0]}})


def test_seed_curves_take_a_colour_and_style_per_label():
    runs = {"plain": [[1.0, 0.5]], "residual": [[2.0, 1.0]]}
    ax = plotting.plot_seed_curves(
        runs, "loss", colors={"plain": "C3", "residual": "C3"}, styles={"plain": "--"}
    )
    plain, residual = ax.get_lines()
    assert plain.get_color() == residual.get_color() == "C3"
    assert (plain.get_linestyle(), residual.get_linestyle()) == ("--", "-")
    # the band takes its line's colour
    band = matplotlib.colors.to_rgba(ax.collections[0].get_facecolor()[0], alpha=1)
    assert band == matplotlib.colors.to_rgba("C3")
    plt.close(ax.figure)


@pytest.mark.parametrize(
    "looks", [{"colors": {"other": "C0"}}, {"styles": "--"}, {"colors": {"plain": "nope"}}]
)
def test_seed_curves_name_a_bad_look(looks):
    with pytest.raises(ValueError, match="colors|styles"):
        plotting.plot_seed_curves({"plain": [[1.0]]}, "loss", **looks)


def test_seed_panels_keep_a_label_s_look_in_every_panel():
    runs = {"a": [[1.0, 0.5]], "b": [[2.0, 1.0]]}
    fig = plotting.plot_seed_panels(
        {"loss": (runs, True), "error": ({"b": [[0.5, 0.2]]}, False)},
        colors={"a": "C0", "b": "C3"},
        styles={"b": ":"},
    )
    b_lines = [line for ax in fig.axes for line in ax.get_lines() if line.get_label() == "b"]
    assert [(line.get_color(), line.get_linestyle()) for line in b_lines] == [("C3", ":")] * 2


def test_training_curves_take_looks_per_run_and_a_baseline_style():
    histories = {"plain": {"loss": [2.0, 1.0]}, "residual": {"loss": [1.0, 0.5]}}
    fig = plotting.plot_training_curves(
        histories,
        metrics=("loss",),
        baselines={"loss": 2.3},
        colors={"plain": "C3", "residual": "C3"},
        styles={"plain": "--"},
        baseline_style=":",
    )
    plain, residual, baseline = fig.axes[0].get_lines()
    assert plain.get_color() == residual.get_color() == "C3"
    assert [line.get_linestyle() for line in (plain, residual, baseline)] == ["--", "-", ":"]


def test_training_curves_name_a_bad_baseline_style():
    with pytest.raises(ValueError, match="baseline_style"):
        plotting.plot_training_curves({"a": {"loss": [1.0]}}, metrics=("loss",), baseline_style="~")


def test_seed_panels_share_one_legend():
    runs = {"a": [[1.0, 0.5]], "b": [[2.0, 1.0]]}
    fig = plotting.plot_seed_panels({"loss": (runs, True), "accuracy": (runs, False)})
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "accuracy"]
    assert fig.axes[0].get_legend() is not None and fig.axes[1].get_legend() is None
    assert fig.axes[1].get_yscale() == "linear"


def test_training_curves_draw_one_line_per_run_and_panel_per_metric():
    histories = {
        "a": {"loss": [1.0, 0.5, 0.25], "val_accuracy": [0.1, 0.5, 0.9]},
        "b": {"loss": [2.0, 1.0, 0.5], "val_accuracy": [0.2, 0.4, 0.6]},
    }
    fig = plotting.plot_training_curves(histories)
    loss_ax, accuracy_ax = fig.axes
    assert loss_ax.get_yscale() == "log" and accuracy_ax.get_yscale() == "linear"
    assert [line.get_label() for line in loss_ax.get_lines()] == ["a", "b"]
    assert list(loss_ax.get_lines()[1].get_ydata()) == [2.0, 1.0, 0.5]
    assert list(accuracy_ax.get_lines()[0].get_xdata()) == [1, 2, 3]
    assert loss_ax.get_xlabel() == "epoch" and accuracy_ax.get_ylabel() == "test accuracy"
    assert matplotlib.colors.to_hex(fig.get_facecolor()) == "#ffffff"


def test_by_setting_draws_every_seed_of_every_network_in_its_setting_column():
    values = {"plain-20": [[1.0, 2.0], [3.0, 4.0]], "plain-56": [[5.0, 6.0], [7.0, 8.0]]}
    fig = plotting.plot_by_setting(values, ["x", "y"], "loss")
    (ax,) = fig.axes
    first, second = ax.get_lines()
    assert list(first.get_ydata()) == [1.0, 2.0, 3.0, 4.0]
    assert list(np.round(second.get_xdata(), 2)) == [0.15, 0.15, 1.15, 1.15]
    assert [tick.get_text() for tick in ax.get_xticklabels()] == ["x", "y"]
    with pytest.raises(ValueError, match=r"values\['a'\] must have shape \(2, seeds\)"):
        plotting.plot_by_setting({"a": [1.0, 2.0]}, ["x", "y"], "loss")
    with pytest.raises(ValueError, match="values={}"):
        plotting.plot_by_setting({}, ["x"], "loss")


def test_panels_keep_a_label_s_colour_across_panels_and_log_scale_where_asked():
    x = np.arange(4)
    fig = plotting.plot_panels(
        {"a": {"one": (x, x + 1.0), "two": (x, x + 2.0)}, "b": {"two": (x, x + 3.0)}},
        "step",
        log=("b",),
    )
    left, right = fig.axes
    assert [line.get_label() for line in left.lines] == ["one", "two"]
    assert right.lines[0].get_color() == left.lines[1].get_color()
    assert left.get_yscale() == "linear" and right.get_yscale() == "log"
    assert right.get_xlabel() == "step" and fig.get_facecolor() == (1, 1, 1, 1)
    assert left.get_legend() is not None and right.get_legend() is None  # no new labels
    with pytest.raises(ValueError, match="panels must map"):
        plotting.plot_panels({"a": {}}, "step")


def test_panels_legend_below_names_every_label_once_or_nowhere():
    x = np.arange(3)
    panels = {"a": {"one": (x, x + 1.0)}, "b": {"one": (x, x), "two": (x, x + 2.0)}}
    below = plotting.plot_panels(panels, "step", legend="below")
    assert all(ax.get_legend() is None for ax in below.axes)
    (legend,) = below.legends
    assert [text.get_text() for text in legend.get_texts()] == ["one", "two"]
    bare = plotting.plot_panels(panels, "step", legend="none")
    assert not bare.legends and all(ax.get_legend() is None for ax in bare.axes)
    with pytest.raises(ValueError, match="legend='side'"):
        plotting.plot_panels(panels, "step", legend="side")


def test_surfaces_share_log_levels_and_a_colour_bar_with_powers_of_ten():
    steps = np.linspace(-1, 1, 5)
    a, b = np.meshgrid(steps, steps, indexing="ij")
    fig = plotting.plot_surfaces({"bowl": 0.01 + a**2 + b**2, "steep": 0.01 + 100 * a**2}, steps)
    bowl, steep, bar = fig.axes
    assert bowl.get_title() == "bowl" and steep.get_title() == "steep"
    labels = [t.get_text() for t in bar.get_yticklabels()]
    assert labels == ["10\u207b\u00b2", "10\u207b\u00b9", "10\u2070", "10\u00b9", "10\u00b2"]
    with pytest.raises(ValueError, match="5x5 grid of positive losses"):
        plotting.plot_surfaces({"flat": np.zeros((5, 5))}, steps)


def test_panels_on_a_log_horizontal_axis_tick_the_values_drawn():
    fig = plotting.plot_panels(
        {"a": {"one": ([1, 2, 8, 64], [1.0, 2.0, 3.0, 4.0])}}, "batch", xlog=True
    )
    (ax,) = fig.axes
    assert ax.get_xscale() == "log"
    assert [label.get_text() for label in ax.get_xticklabels()] == ["1", "2", "8", "64"]


def test_power_of_ten_labels_use_unicode_superscripts():
    assert plotting.power_of_ten(1e-45) == "10\u207b\u2074\u2075"
    assert (
        plotting.power_of_ten(1.0) == "10\u2070"
        and plotting.power_of_ten(np.float32(1e3)) == "10\u00b3"
    )
    with pytest.raises(ValueError, match="value=0"):
        plotting.power_of_ten(0)


def test_palette_holds_valid_colours_and_the_style_uses_its_paper():
    for name, colours in plotting.PALETTE.items():
        for colour in colours if isinstance(colours, tuple) else (colours,):
            assert matplotlib.colors.is_color_like(colour), name
    assert len(set(plotting.PALETTE["replicas"])) == len(plotting.PALETTE["replicas"])
    assert plotting.BOOK_STYLE["figure.facecolor"] == plotting.PALETTE["paper"]


def test_multi_panel_figures_letter_their_panels_for_the_captions():
    from resnet_book import plotting

    lines = {"a": ([1, 2], [1, 2])}
    two = plotting.plot_panels({"loss": lines, "error": lines}, "epoch")
    assert [ax.get_title(loc="left") for ax in two.axes] == ["(a)", "(b)"]
    one = plotting.plot_panels({"loss": lines}, "epoch")
    assert one.axes[0].get_title(loc="left") == ""
    seeds = plotting.plot_seed_panels(
        {"loss": ({"x": [[1, 2]]}, False), "acc": ({"x": [[1, 2]]}, False)}
    )
    assert [ax.get_title(loc="left") for ax in seeds.axes] == ["(a)", "(b)"]


def test_seed_panels_in_percent_format_every_vertical_axis_as_percent():
    runs = {"a": [[0.5, 0.25]]}
    panels = {"training error": (runs, False), "test error": (runs, False)}
    fig = plotting.plot_seed_panels(panels, percent=True)
    for ax in fig.axes:
        formatter = ax.yaxis.get_major_formatter()
        assert isinstance(formatter, matplotlib.ticker.PercentFormatter)
        assert formatter.xmax == 1.0  # values are fractions: 0.25 reads 25%
    plain = plotting.plot_seed_panels(panels)
    assert not isinstance(
        plain.axes[0].yaxis.get_major_formatter(), matplotlib.ticker.PercentFormatter
    )


def test_seed_panels_reject_a_percent_that_is_not_a_bool():
    with pytest.raises(ValueError, match="percent='yes'"):
        plotting.plot_seed_panels({"error": ({"a": [[0.5]]}, False)}, percent="yes")


def test_training_curves_draw_a_grey_dashed_baseline_on_its_metric_s_panel():
    histories = {"a": {"loss": [1.0, 0.5], "val_accuracy": [0.1, 0.5]}}
    fig = plotting.plot_training_curves(histories, baselines={"loss": 0.25})
    loss_ax, accuracy_ax = fig.axes
    (baseline,) = [line for line in loss_ax.get_lines() if line.get_label() != "a"]
    assert list(baseline.get_ydata()) == [0.25, 0.25]
    assert baseline.get_linestyle() == "--"
    assert matplotlib.colors.to_hex(baseline.get_color()) == matplotlib.colors.to_hex("grey")
    assert len(accuracy_ax.get_lines()) == 1
    assert [text.get_text() for text in loss_ax.get_legend().get_texts()] == ["a"]


def test_training_curves_label_the_baseline_in_the_legend_of_its_panel():
    histories = {"a": {"loss": [1.0, 0.5], "val_accuracy": [0.1, 0.5]}}
    fig = plotting.plot_training_curves(
        histories,
        metrics=("val_accuracy", "loss"),
        baselines={"loss": 0.25},
        baseline_label="predict the mean",
    )
    accuracy_ax, loss_ax = fig.axes
    legend = [text.get_text() for text in loss_ax.get_legend().get_texts()]
    assert legend == ["a", "predict the mean"]
    assert [text.get_text() for text in accuracy_ax.get_legend().get_texts()] == ["a"]


def test_training_curves_reject_a_baseline_label_that_is_not_a_string():
    with pytest.raises(ValueError, match="baseline_label=1"):
        plotting.plot_training_curves(
            {"a": {"loss": [1.0]}}, ("loss",), baselines={"loss": 0.1}, baseline_label=1
        )


@pytest.mark.parametrize(
    ("baselines", "message"),
    [
        ({"val_loss": 0.1}, r"baselines=\{'val_loss': 0.1\}"),
        ({"loss": float("nan")}, r"baselines\['loss'\]=nan"),
        ({"loss": float("inf")}, r"baselines\['loss'\]=inf"),
        ({"loss": "low"}, r"baselines\['loss'\]='low'"),
        ([0.1], r"baselines=\[0.1\]"),
    ],
)
def test_training_curves_reject_a_bad_baseline(baselines, message):
    with pytest.raises(ValueError, match=message):
        plotting.plot_training_curves({"a": {"loss": [1.0]}}, ("loss",), baselines=baselines)
