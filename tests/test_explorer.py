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

from resnet_book import explorer, gradflow, plotting  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EXTREMES = {
    "depth": (2, gradflow.MAX_DEPTH),
    "gain": explorer.GAIN_RANGE,
    "steps": (0, explorer.MAX_STEPS),
    "activation": gradflow.ACTIVATIONS,
    "initialization": ("he",),
    "normalization": gradflow.NORMALIZATIONS,
    "block": explorer.RESIDUAL_BLOCKS,
    "branch_scale": gradflow.BRANCH_SCALES,
}
SETTINGS = dict(depth=200, activation="relu", initialization="he", gain=2.0,
                normalization="none", block="v1", branch_scale="one", steps=0)  # fmt: skip


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
            assert explorer.ratio_text(flow) in table.value
            note = box.figure.panels[name][3]
            assert note.get_visible() == bool(word)
            assert note.get_text() == (explorer.LABELS[word] if word else "")
    assert seen_flags == {"", "overflow", "underflow"}


def test_dragging_is_continuous_only_without_training_steps():
    box = explorer.explorer(depth=10, steps=0)
    assert box.controls["depth"].step == 2
    assert box.controls["depth"].continuous_update and box.controls["gain"].continuous_update
    box.controls["steps"].value = 5
    assert not box.controls["depth"].continuous_update
    assert not box.controls["steps"].continuous_update


def test_figure_draws_a_point_per_layer_and_per_block_and_labels_overflow():
    figure = plotting.FlowFigure(("plain", "residual"), explorer.LABELS)
    png = figure.draw(explorer.flows(**SETTINGS))
    assert png.startswith(PNG_SIGNATURE)
    plain_ax, plain_grad, plain_spread, plain_note = figure.panels["plain"]
    _, residual_grad, residual_spread, residual_note = figure.panels["residual"]
    assert plain_ax.get_yscale() == "log"
    assert len(plain_grad.get_xdata()) == len(plain_spread.get_xdata()) == 200
    assert list(residual_spread.get_xdata()[:3]) == [2, 4, 6]  # a block's output, every 2 layers
    assert residual_note.get_visible() and residual_note.get_text() == "overflow"
    assert np.isnan(residual_grad.get_ydata()).any()  # non-finite values are not drawn


def test_picture_alt_text_names_settings_and_ratios():
    shown = explorer.flows(**SETTINGS)
    tag = explorer.picture(b"\x89PNG", SETTINGS, shown)
    alt = re.search(r'alt="([^"]*)"', tag).group(1)
    assert "depth 200" in alt and "ReLU" in alt and "v1 (original)" in alt and "overflow" in alt
    assert explorer.ratio_text(shown["plain"]) in alt


def test_readout_shows_ratio_and_flag():
    html = explorer.readout(explorer.flows(**SETTINGS | {"depth": 50, "activation": "sigmoid"}))
    plain = gradflow.gradient_norms(50, activation="sigmoid", gain=2.0).first_to_last
    assert f"{plain:.3g}" in html and "<table>" in html


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"block": "plain"}, "block='plain'"),
        ({"depth": 0}, "depth=0"),
        ({"depth": 51}, "depth=51"),
        ({"activation": "gelu"}, "activation='gelu'"),
        ({"gain": -1.0}, "gain=-1.0"),
        ({"branch_scale": "half"}, "branch_scale='half'"),
    ],
)
def test_bad_settings_raise_value_error_naming_the_argument(arguments, message):
    settings = SETTINGS | {"depth": 6} | arguments
    with pytest.raises(ValueError, match=message):
        explorer.flows(**settings)
    with pytest.raises(ValueError, match=message):
        explorer.explorer(**settings)


def test_grid_covers_every_combination_and_depth(grid_tool):
    grid = grid_tool.flow_grid(depths=(2, 8))
    assert len(grid["runs"]) == 3 * 2 * 3 * 2 * (1 + 2 * 3)
    record = grid["runs"]["relu/he/0.5/none/v2/inverse_sqrt"][1]
    flow = gradflow.gradient_norms(8, block="v2", branch_scale="inverse_sqrt", gain=0.5)
    assert record["grad"] == [round(float(v), 2) for v in np.log10(flow.grad_norms)]
    assert len(record["std"]) == 4 and record["flag"] == ""
    assert record["ratio"] == explorer.ratio_text(flow)
    overflowed = grid_tool.flow_grid(depths=(200,))["runs"]["relu/he/2/none/v1/one"][0]
    assert overflowed["flag"] == "overflow" and None in overflowed["grad"]


@pytest.mark.parametrize("depths", [(), (6, 4), (0, 4), (10, 202), (3, 4)])
def test_grid_rejects_bad_depths(grid_tool, depths):
    with pytest.raises(ValueError, match="depths="):
        grid_tool.flow_grid(depths)


@pytest.fixture(scope="module")
def grid_tool():
    spec = importlib.util.spec_from_file_location("grid_tool", ROOT / "tools" / "gradflow_grid.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


@pytest.fixture(scope="module")
def fresh_grids(grid_tool):
    return grid_tool.flow_grid(), grid_tool.nudged_grid()


def test_website_grid_file_matches_the_library(grid_tool, fresh_grids):
    assert grid_tool.differences(grid_tool.load(), *fresh_grids) == [], "stale grid: make grid"


def test_grid_check_catches_a_wrong_value_a_wrong_flag_and_a_missing_combination(
    grid_tool, fresh_grids
):
    fresh, nudged = fresh_grids
    stale = copy.deepcopy(fresh)
    steady = stale["runs"]["relu/he/1/batchnorm/v2/one"][4]  # depth 10: not chaotic
    steady["grad"][0] += 0.05
    stale["runs"]["relu/he/1/none/plain/one"][13]["flag"] = "overflow"
    del stale["runs"]["sigmoid/glorot/2/none/plain/one"]
    assert grid_tool.differences(stale, fresh, nudged) == ["the combinations differ"]
    stale["runs"]["sigmoid/glorot/2/none/plain/one"] = fresh["runs"][
        "sigmoid/glorot/2/none/plain/one"
    ]
    found = grid_tool.differences(stale, fresh, nudged)
    assert sorted(found) == [
        "relu/he/1/batchnorm/v2/one at depth 10: values differ by up to 0.05",
        "relu/he/1/none/plain/one at depth 200: flag 'overflow' stored, '' now",
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
    assert "relu/he/1/batchnorm/plain/one" in chaotic
    # Their ReLU residual twins with BatchNorm do not; a tanh after v1's addition does.
    assert not any(name.startswith("relu/") and "/batchnorm/v" in name for name in chaotic)
    assert "tanh/he/1/batchnorm/v1/one" in chaotic and "tanh/he/1/batchnorm/v2/one" not in chaotic


def test_figure_is_white_whatever_the_style():
    with matplotlib.style.context("dark_background"):
        figure = plotting.FlowFigure(("plain", "residual"))
    assert matplotlib.colors.to_hex(figure.figure.get_facecolor()) == "#ffffff"
    assert all(
        matplotlib.colors.to_hex(ax.get_facecolor()) == "#ffffff" for ax in figure.figure.axes
    )
