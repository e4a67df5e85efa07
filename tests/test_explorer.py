import base64
import copy
import importlib.util
import itertools
import pathlib
import re

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from resnet_book import explorer, gradflow  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EXTREMES = {
    "depth": (1, gradflow.MAX_DEPTH),
    "gain": explorer.GAIN_RANGE,
    "steps": (0, explorer.MAX_STEPS),
    "activation": gradflow.ACTIVATIONS,
    "initialization": gradflow.INITIALIZATIONS,
    "normalization": gradflow.NORMALIZATIONS,
    "residual": explorer.RESIDUAL_MODES,
}


def png_of(img_tag):
    """The PNG bytes inside an ``<img src="data:image/png;base64,...">`` tag."""
    return base64.b64decode(re.search(r"base64,([^\"]+)\"", img_tag).group(1))


@pytest.fixture(scope="module")
def box():
    return explorer.explorer()


def test_explorer_callback_survives_every_extreme_combination(box):
    image, table = box.children[-2:]
    seen_flags = set()
    for values in itertools.product(*EXTREMES.values()):
        settings = dict(zip(EXTREMES, values, strict=True))
        for name, value in settings.items():
            box.controls[name].value = value
        shown = explorer.flows(**settings)
        assert png_of(image.value).startswith(PNG_SIGNATURE)
        assert 'alt="' in image.value
        for name, flow in shown.items():
            word = explorer.flag(flow)
            seen_flags.add(word)
            assert (explorer.LABELS[word] if word else explorer.LABELS["none"]) in table.value
            note = box.figure.panels[name][3]
            assert note.get_visible() == bool(word)
            assert note.get_text() == (explorer.LABELS[word] if word else "")
    assert seen_flags == {"", "overflow", "underflow"}


def test_dragging_is_continuous_only_without_training_steps():
    box = explorer.explorer(depth=10, steps=0)
    assert box.controls["depth"].continuous_update and box.controls["gain"].continuous_update
    box.controls["steps"].value = 5
    assert not box.controls["depth"].continuous_update
    assert not box.controls["steps"].continuous_update


def test_figure_draws_a_log_scale_line_per_layer_and_labels_overflow():
    figure = explorer.FlowFigure()
    png = figure.draw(explorer.flows(200, "relu", "he", 1.0, "none", "identity", 0))
    assert png.startswith(PNG_SIGNATURE)
    plain_ax, plain_grad, _, plain_note = figure.panels["plain"]
    _, residual_grad, _, residual_note = figure.panels["residual"]
    assert plain_ax.get_yscale() == "log"
    assert len(plain_grad.get_xdata()) == 200 and not plain_note.get_visible()
    assert residual_note.get_visible() and residual_note.get_text() == "overflow"
    assert np.isnan(residual_grad.get_ydata()).any()  # non-finite values are not drawn


def test_picture_alt_text_names_settings_and_ratios():
    settings = dict(depth=200, activation="relu", initialization="he", gain=1.0,
                    normalization="none", residual="identity", steps=0)  # fmt: skip
    shown = explorer.flows(**settings)
    tag = explorer.picture(b"\x89PNG", settings, shown)
    alt = re.search(r'alt="([^"]*)"', tag).group(1)
    assert "depth 200" in alt and "ReLU" in alt and "overflow" in alt
    assert f"{shown['plain'].first_to_last:.3g}" in alt


def test_readout_shows_ratio_and_flag():
    html = explorer.readout(explorer.flows(50, "sigmoid", "glorot", 1.0, "none", "scaled", 0))
    plain = gradflow.gradient_norms(50, "sigmoid", "glorot").first_to_last
    assert f"{plain:.3g}" in html and "<table>" in html


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"residual": "none"}, "residual='none'"),
        ({"depth": 0}, "depth=0"),
        ({"activation": "gelu"}, "activation='gelu'"),
        ({"gain": -1.0}, "gain=-1.0"),
    ],
)
def test_bad_settings_raise_value_error_naming_the_argument(arguments, message):
    settings = dict(depth=5, activation="relu", initialization="he", gain=1.0,
                    normalization="none", residual="identity", steps=0) | arguments  # fmt: skip
    with pytest.raises(ValueError, match=message):
        explorer.flows(**settings)
    with pytest.raises(ValueError, match=message):
        explorer.explorer(**settings)


def test_grid_covers_every_combination_and_depth():
    grid = explorer.flow_grid(depths=(1, 7), gains=("0.5", "1"))
    assert len(grid["runs"]) == 3 * 2 * 2 * 2 * 4
    record = grid["runs"]["relu/he/0.5/none/identity"][1]
    flow = gradflow.gradient_norms(7, residual="identity", gain=0.5)
    assert record["grad"] == [round(float(v), 2) for v in np.log10(flow.grad_norms)]
    assert len(record["std"]) == 7 and record["flag"] == ""
    overflowed = explorer.flow_grid(depths=(200,), gains=("1",))["runs"]["relu/he/1/none/identity"][
        0
    ]
    assert overflowed["flag"] == "overflow" and None in overflowed["grad"]


@pytest.mark.parametrize("depths", [(), (5, 3), (0, 4), (10, 201)])
def test_grid_rejects_bad_depths(depths):
    with pytest.raises(ValueError, match="depths="):
        explorer.flow_grid(depths)


@pytest.mark.parametrize("gains", [(), (1.0,), ("-1",), ("two",)])
def test_grid_rejects_bad_gains(gains):
    with pytest.raises(ValueError, match="gains="):
        explorer.flow_grid((1, 2), gains)


@pytest.fixture(scope="module")
def grid_tool():
    spec = importlib.util.spec_from_file_location("grid_tool", ROOT / "tools" / "gradflow_grid.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


@pytest.fixture(scope="module")
def fresh_grids(grid_tool):
    return explorer.flow_grid(), grid_tool.nudged_grid()


def test_website_grid_file_matches_the_library(grid_tool, fresh_grids):
    assert grid_tool.differences(grid_tool.load(), *fresh_grids) == [], "stale grid: make grid"


def test_grid_check_catches_a_wrong_value_a_wrong_flag_and_a_missing_combination(
    grid_tool, fresh_grids
):
    fresh, nudged = fresh_grids
    stale = copy.deepcopy(fresh)
    steady = stale["runs"]["relu/he/1/none/identity"][5]  # depth 10: not chaotic
    steady["grad"][0] += 0.05
    stale["runs"]["relu/he/1/none/none"][14]["flag"] = "overflow"
    del stale["runs"]["sigmoid/glorot/2/none/none"]
    assert grid_tool.differences(stale, fresh, nudged) == ["the combinations differ"]
    stale["runs"]["sigmoid/glorot/2/none/none"] = fresh["runs"]["sigmoid/glorot/2/none/none"]
    found = grid_tool.differences(stale, fresh, nudged)
    assert sorted(found) == [
        "relu/he/1/none/identity at depth 10: values differ by up to 0.05",
        "relu/he/1/none/none at depth 200: flag 'overflow' stored, '' now",
    ]
    steady["grad"][0] -= 0.03  # within the tolerance of rounding
    assert len(grid_tool.differences(stale, fresh, nudged)) == 1


def test_grid_check_treats_chaotic_curves_as_chaotic(fresh_grids, grid_tool):
    fresh, nudged = fresh_grids
    chaotic = [
        name
        for name, records in fresh["runs"].items()
        if grid_tool._largest_move(records[-1], nudged["runs"][name][-1]) >= grid_tool.TOLERANCE
    ]
    # Deep plain networks with BatchNorm amplify any perturbation of their input (Yang et al.
    # 2019), which is also why their gradients grow toward the input; residual twins do not.
    assert "relu/he/1/batchnorm/none" in chaotic
    assert not any(name.endswith("/batchnorm/identity") for name in chaotic)


def test_figure_is_white_whatever_the_style():
    with matplotlib.style.context("dark_background"):
        figure = explorer.FlowFigure()
    assert matplotlib.colors.to_hex(figure.figure.get_facecolor()) == "#ffffff"
    assert all(
        matplotlib.colors.to_hex(ax.get_facecolor()) == "#ffffff" for ax in figure.figure.axes
    )
