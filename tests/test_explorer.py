import base64
import html
import importlib.util
import inspect
import itertools
import pathlib
import random
import re
import subprocess
import sys
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from resnet_book import explorer, gradflow  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TINY = np.finfo(np.float32).tiny
DEFAULTS = {
    name: parameter.default
    for name, parameter in inspect.signature(explorer.explorer).parameters.items()
}
START = DEFAULTS | {"depth": 10}  # shallow: every redraw below is cheap
SETTINGS = dict(
    depth=200,
    activation="relu",
    initialization="he",
    gain=2.0,
    normalization="none",
    block="v1",
    branch_scale="one",
    steps=0,
)


def png_of(img_tag):
    """The PNG bytes inside an ``<img src="data:image/png;base64,...">`` tag."""
    return base64.b64decode(re.search(r"base64,([^\"]+)\"", img_tag).group(1))


def alt_of(img_tag):
    return html.unescape(re.search(r'alt="([^"]*)"', img_tag).group(1))


def rows_of(table):
    """The readout's rows as (network, ratio, range) triples."""
    return re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", table)


def expected_flows(settings):
    """The two networks of a setting, asked of the engine directly."""
    shared = {key: settings[key] for key in ("activation", "initialization", "gain")}
    shared |= {"normalization": settings["normalization"], "steps": settings["steps"]}
    depth = settings["depth"]
    return {
        "plain": gradflow.gradient_norms(depth, block="plain", **shared),
        "residual": gradflow.gradient_norms(
            depth, block=settings["block"], branch_scale=settings["branch_scale"], **shared
        ),
    }


def expected_row(name, flow):
    """The readout's row, from the norms: the first layer's over that of the last block's first."""
    per_block = 1 if name == "plain" else 2
    with np.errstate(all="ignore"):
        ratio = flow.grad_norms[0] / flow.grad_norms[-per_block]
    if not np.isfinite(np.r_[flow.grad_norms, flow.spreads]).all():
        word = "overflow"
    elif (flow.grad_norms < TINY).any():
        word = "underflow"
    else:
        word = "none"
    shown = f"{ratio:.3g}" if np.isfinite(ratio) else "not a number"
    return explorer.LABELS[name], shown, explorer.LABELS[word]


def drawable(values):
    return np.where(np.isfinite(values) & (values > 0), values, np.nan)


def check_shows(box, settings):
    """The explorer's picture, readout and notes show ``settings``."""
    image, table = box.children[-2:]
    shown = expected_flows(settings)
    assert png_of(image.value).startswith(PNG_SIGNATURE)
    assert rows_of(table.value) == [expected_row(name, flow) for name, flow in shown.items()]
    for name, flow in shown.items():
        _, grad, spread, note = box.figure.panels[name]
        np.testing.assert_array_equal(grad.get_ydata(), drawable(flow.grad_norms))
        np.testing.assert_array_equal(spread.get_ydata(), drawable(flow.spreads))
        word = expected_row(name, flow)[2]
        assert note.get_visible() == (word != "none")
        assert note.get_text() == ("" if word == "none" else word)


# --- The explorer's controls, one at a time ----------------------------------------------------

MOVES = {
    "depth": 12,
    "gain": 2.0,
    "steps": 1,
    "activation": "sigmoid",
    "initialization": "glorot",
    "normalization": "batchnorm",
    "block": "v2",
    "branch_scale": "zero",
}


@pytest.mark.parametrize("name, value", MOVES.items())
def test_moving_a_control_updates_the_picture_the_readout_and_the_notes(name, value):
    box = explorer.explorer(**START)
    before = box.children[-2].value
    check_shows(box, START)
    box.controls[name].value = value
    check_shows(box, START | {name: value})
    image = box.children[-2].value
    assert png_of(image) != png_of(before)
    words = explorer.LABELS.get(value, value) if isinstance(value, str) else f"{value:.3g}"
    assert f"{explorer.LABELS[name]} {words}" in alt_of(image)


def test_dragging_is_continuous_only_without_training_steps():
    box = explorer.explorer(**START)
    assert box.controls["depth"].step == 2
    assert box.controls["depth"].continuous_update and box.controls["gain"].continuous_update
    box.controls["steps"].value = 5
    assert not box.controls["depth"].continuous_update
    assert not box.controls["steps"].continuous_update


def test_every_extreme_combination_survives_and_flags_what_it_cannot_draw():
    extremes = {
        "depth": (2,),
        "gain": explorer.GAIN_RANGE,
        "steps": (0, explorer.MAX_STEPS),
        "activation": gradflow.ACTIVATIONS,
        "initialization": ("he",),
        "normalization": gradflow.NORMALIZATIONS,
        "block": explorer.RESIDUAL_BLOCKS,
        "branch_scale": gradflow.BRANCH_SCALES,
    }
    combinations = [
        dict(zip(extremes, c, strict=True)) for c in itertools.product(*extremes.values())
    ]
    deep = [s | {"depth": gradflow.MAX_DEPTH} for s in random.Random(7).sample(combinations, 6)]
    words = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for settings in combinations + deep:
            shown = explorer.flows(**settings)
            for name, flow in shown.items():
                assert len(flow.grad_norms) == settings["depth"]
                _, ratio, word = expected_row(name, flow)
                assert explorer.ratio_text(flow) == ratio
                assert explorer.LABELS[explorer.flag(flow) or "none"] == word
                words.setdefault(word, settings)
    assert set(words) == {"none", "overflow", "underflow"}
    figure = explorer.FlowFigure(("plain", "residual"))
    for word, settings in words.items():  # draw one combination per flag
        shown = explorer.flows(**settings)
        assert figure.draw(shown).startswith(PNG_SIGNATURE)
        notes = {figure.panels[name][3].get_text() for name in shown}
        assert (word if word != "none" else "") in notes


# --- The figure ------------------------------------------------------------------------------


def test_figure_draws_a_point_per_layer_and_per_block_and_labels_overflow():
    figure = explorer.FlowFigure(("plain", "residual"))
    shown = explorer.flows(**SETTINGS)
    assert figure.draw(shown).startswith(PNG_SIGNATURE)
    plain_ax, plain_grad, plain_spread, plain_note = figure.panels["plain"]
    _, residual_grad, residual_spread, residual_note = figure.panels["residual"]
    assert plain_ax.get_yscale() == "log"
    assert list(plain_grad.get_xdata()) == list(plain_spread.get_xdata()) == list(range(1, 201))
    assert list(residual_spread.get_xdata()) == list(range(2, 201, 2))  # each block's last layer
    assert residual_note.get_visible() and residual_note.get_text() == "overflow"
    assert plain_note.get_visible() == shown["plain"].overflow
    assert np.isnan(residual_grad.get_ydata()).any()  # non-finite values are not drawn
    np.testing.assert_array_equal(residual_grad.get_ydata(), drawable(shown["residual"].grad_norms))


@pytest.mark.parametrize(
    "settings",
    [
        SETTINGS,
        SETTINGS | {"depth": 50, "activation": "sigmoid", "initialization": "glorot"},
        SETTINGS | {"depth": 2, "gain": 1.0, "branch_scale": "zero"},
        SETTINGS | {"depth": 100, "normalization": "batchnorm", "block": "v2"},
    ],
)
def test_figure_axis_spans_the_whole_decades_around_every_value_drawn(settings):
    figure = explorer.FlowFigure(("plain", "residual"))
    figure.draw(explorer.flows(**settings))
    lines = [line for ax, *_ in figure.panels.values() for line in ax.get_lines()]
    drawn = np.concatenate([line.get_ydata() for line in lines])
    drawn = drawn[np.isfinite(drawn)]
    plain_axis, residual_axis = (ax.get_ylim() for ax, *_ in figure.panels.values())
    assert plain_axis == residual_axis  # one axis for both panels
    bottom, top = np.log10(plain_axis)
    assert bottom == round(bottom) and top == round(top) and top - bottom >= 1
    assert 10**bottom <= drawn.min() < 10 ** (bottom + 1)  # no empty decade below
    assert drawn.max() <= 10**top
    assert drawn.max() > 10 ** (top - 1) or top - bottom == 1  # none above, but one at least


def test_axis_decades_without_a_drawable_value_are_the_default_range():
    nothing = gradflow.GradientFlow(np.array([np.nan]), np.array([np.inf]), True, False)
    assert explorer.axis_decades({"plain": nothing}) == (-3, 3)
    assert explorer.decade_bounds(0.5, 0.5) == (-1, 0)
    assert explorer.decade_bounds(1.0, 100.0) == (0, 2)
    with pytest.raises(ValueError, match="high=0.1"):
        explorer.decade_bounds(1.0, 0.1)
    with pytest.raises(ValueError, match="low=0"):
        explorer.decade_bounds(0, 1.0)


def test_figure_is_white_whatever_the_style_and_names_its_curves():
    with matplotlib.style.context("dark_background"):
        figure = explorer.FlowFigure(("plain", "residual"), {"spread": "spread of layer output"})
    assert matplotlib.colors.to_hex(figure.figure.get_facecolor()) == "#ffffff"
    assert all(
        matplotlib.colors.to_hex(ax.get_facecolor()) == "#ffffff" for ax in figure.figure.axes
    )
    (legend,) = figure.figure.legends
    assert [t.get_text() for t in legend.get_texts()] == [
        explorer.LABELS["grad"],
        "spread of layer output",
    ]


def test_figure_refuses_unknown_words_and_panels():
    with pytest.raises(ValueError, match=r"labels must be keyed by .*\['std'\]"):
        explorer.FlowFigure(("plain",), {"std": "std of layer output"})
    with pytest.raises(ValueError, match="names must be 1 to 4"):
        explorer.FlowFigure([])
    figure = explorer.FlowFigure(("plain", "residual"))
    with pytest.raises(ValueError, match="flows must be keyed by the panels"):
        figure.draw({"plain": gradflow.gradient_norms(4)})


def test_plot_gradient_flow_draws_one_closed_panel_per_network():
    flows = {block: gradflow.gradient_norms(6, block=block) for block in gradflow.BLOCKS}
    figure = explorer.plot_gradient_flow(flows)
    assert len(figure.axes) == 3
    assert not matplotlib.pyplot.fignum_exists(figure.number)


def test_one_series_draws_that_line_alone_and_names_it_on_the_axis():
    flows = {"v1": gradflow.gradient_norms(6, block="v1")}
    figure = explorer.plot_gradient_flow(flows, series=("grad",))
    (ax,) = figure.axes
    assert not figure.legends and ax.get_ylabel() == explorer.LABELS["grad"]
    assert [line.get_visible() for line in ax.get_lines()] == [True, False]
    both = explorer.plot_gradient_flow(flows)
    assert len(both.legends) == 1 and all(line.get_visible() for line in both.axes[0].get_lines())
    with pytest.raises(ValueError, match="series must be one or more of"):
        explorer.FlowFigure(("v1",), series=("norm",))
    with pytest.raises(ValueError, match="series must be one or more of"):
        explorer.FlowFigure(("v1",), series=())


def test_own_axis_fits_a_panel_alone_while_the_others_share_theirs():
    flows = {
        "plain": gradflow.gradient_norms(30, normalization="batchnorm"),
        "v1": gradflow.gradient_norms(30, block="v1", normalization="batchnorm"),
        "v2": gradflow.gradient_norms(30, block="v2", normalization="batchnorm"),
    }
    shared = explorer.plot_gradient_flow(flows)
    own = explorer.plot_gradient_flow(flows, own_axis=("plain",))
    limits = [ax.get_ylim() for ax in own.axes]
    assert len({ax.get_ylim() for ax in shared.axes}) == 1
    assert limits[1] == limits[2] and limits[0] != limits[1]
    assert limits[1][1] < limits[0][1]  # the residual panels' axis ends far below plain's
    with pytest.raises(ValueError, match="own_axis must be panels among"):
        explorer.FlowFigure(("plain", "v1"), own_axis=("v2",))


# --- The words around it ------------------------------------------------------------------


def test_picture_alt_text_names_settings_and_ratios():
    shown = explorer.flows(**SETTINGS)
    alt = alt_of(explorer.picture(b"\x89PNG", SETTINGS, shown))
    assert "depth 200" in alt and "ReLU" in alt and "v1 (original)" in alt and "overflow" in alt
    assert expected_row("plain", shown["plain"])[1] in alt


def test_readout_shows_each_network_s_ratio_and_flag():
    settings = SETTINGS | {"depth": 50, "activation": "sigmoid", "initialization": "glorot"}
    shown = expected_flows(settings)
    rows = rows_of(explorer.readout(explorer.flows(**settings)))
    assert rows == [expected_row(name, flow) for name, flow in shown.items()]
    assert float(rows[0][1]) < 1e-10  # the plain sigmoid network vanishes


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"block": "plain"}, "block='plain'"),
        ({"depth": 0}, "depth=0"),
        ({"depth": 51}, "depth=51"),
        ({"activation": "gelu"}, "activation='gelu'"),
        ({"gain": -1.0}, "gain=-1.0"),
        ({"gain": 100}, "gain=100"),
        ({"gain": 0.125}, "gain=0.125"),
        ({"steps": explorer.MAX_STEPS + 1}, f"steps={explorer.MAX_STEPS + 1}"),
        ({"branch_scale": "half"}, "branch_scale='half'"),
    ],
)
def test_bad_settings_raise_value_error_naming_the_argument(arguments, message):
    settings = SETTINGS | {"depth": 6} | arguments
    with pytest.raises(ValueError, match=message):
        explorer.flows(**settings)
    with pytest.raises(ValueError, match=message):
        explorer.explorer(**settings)


def test_numpy_numbers_are_accepted_like_python_ones():
    box = explorer.explorer(**START | {"depth": np.int64(10), "gain": np.float32(2.0)})
    assert box.controls["depth"].value == 10 and box.controls["gain"].value == 2.0
    check_shows(box, START | {"gain": 2.0})
    shown = explorer.flows(**SETTINGS | {"depth": np.int32(6), "steps": np.int64(1)})
    assert len(shown["plain"].grad_norms) == 6


def test_flows_take_their_settings_by_name():
    with pytest.raises(TypeError):
        explorer.flows(*SETTINGS.values())


def test_the_numpy_modules_start_no_tensorflow():
    code = (
        "import resnet_book.explorer, resnet_book.diagrams, resnet_book.plotting, "
        "resnet_book.gradflow, resnet_book.structure, resnet_book.data, sys; "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- The website's explorer (tools/explorer_data.py, web/gradflow) ------------------------------


@pytest.fixture(scope="module")
def data_tool():
    spec = importlib.util.spec_from_file_location(
        "explorer_data", ROOT / "tools" / "explorer_data.py"
    )
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_the_website_explorer_s_data_is_what_python_writes_today(data_tool):
    """data.js holds the digits batch, the weights' generator state and the explorer's words."""
    stored = data_tool.load()
    assert data_tool.render(data_tool.contents(stored["ziggurat"])) == (
        data_tool.DATA_FILE.read_text()
    ), "stale web/gradflow/data.js: python tools/explorer_data.py"
    x = np.frombuffer(base64.b64decode(stored["x"]), dtype="<f4").reshape(stored["batch"], -1)
    np.testing.assert_array_equal(x, gradflow.data.digits_batch()[0])
    assert stored["defaults"] == DEFAULTS and stored["labels"] == explorer.LABELS


def test_the_ziggurat_tables_are_read_from_numpy_s_header(data_tool):
    header = (
        "static const uint32_t ki_float[] = {"
        + ", ".join(f"0x{k:08X}UL" for k in range(256))
        + "};\nstatic const float wi_float[] = {"
        + ", ".join(f"{k}.5e-07f" for k in range(256))
        + "};\nstatic const float fi_float[] = {"
        + ", ".join("1.00000000000000000000e+00f" for _ in range(256))
        + "};\nstatic const float ziggurat_nor_r_f = 3.6541528853610087963519472518f;"
        + "\nstatic const float ziggurat_nor_inv_r_f = 0.27366123732975827203338247596f;"
    )
    tables = data_tool.ziggurat_from_header(header)
    ki = np.frombuffer(base64.b64decode(tables["ki"]), dtype="<u4")
    wi = np.frombuffer(base64.b64decode(tables["wi"]), dtype="<f4")
    assert ki.tolist() == list(range(256)) and wi[3] == np.float32(3.5e-7)
    assert tables["r"] == float(np.float32(3.6541528853610087963519472518))
    with pytest.raises(ValueError, match="ki_float has 2 entries"):
        data_tool.ziggurat_from_header(
            header.replace(", ".join(f"0x{k:08X}UL" for k in range(256)), "0x1, 0x2")
        )
