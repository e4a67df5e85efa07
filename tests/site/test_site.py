"""Open every page of the built website in Chromium, as a reader would.

Needs the website in _build/html (make book-strict) and a Chromium: the one
CHROMIUM names (``make site-check`` sets it with tools/browser.py), else the one
Playwright installed. The pages are served on 127.0.0.1;
any request to another host is blocked and reported.
"""

import concurrent.futures
import functools
import http.server
import inspect
import json
import os
import pathlib
import random
import re
import threading
import urllib.parse

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from resnet_book import data, explorer, gradflow  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"
PAGES = sorted(
    path.relative_to(SITE).as_posix()
    for path in SITE.rglob("*.html")
    if not {"_static", "_sources", "mathjax"} & set(path.relative_to(SITE).parts)
)
SHARED_ASSETS = ("/_static/", "/mathjax/", "/jupyter-widgets/")  # libraries, cached across pages
EXPLORER_PAGE = "chapters/06-gradient-flow.html"
EXPLORER_SCRIPTS = ("data.js", "kernel.js", "engine.js", "player.js")  # _ext/gradflow_explorer.py
EXPLORER_BUDGET_BYTES = 2 * 1024 * 1024  # what the explorer adds to its page
SLIDERS = ("depth", "gain", "steps")
CHOICES = ("activation", "initialization", "normalization", "block", "branch_scale")
DEFAULTS = {
    name: parameter.default
    for name, parameter in inspect.signature(explorer.explorer).parameters.items()
}
PAGE_BUDGET_BYTES = 3 * 1024 * 1024
AXE = ROOT / "tests" / "site" / "axe" / "axe.min.js"  # axe-core, vendored by tools/vendor.sh
PHONE_WIDTH = 390  # CSS pixels: an iPhone 12 to 15 held upright
# axe-core on the page as loaded: each violation's rule, impact and where, for the serious and
# critical ones (moderate and minor findings are the theme's and are not asserted). "region"
# reports only moderate findings and costs a second on a long chapter: it does not run. Code
# cells are thousands of highlighted tokens in the same few colours on every page, half of axe's
# time on a chapter: their contrast and markup are checked on one chapter (CODE_CHECKED_ON).
RUN_AXE = """async everything => {
  const context = everything ? document : { exclude: [["div.highlight"]] };
  const result = await axe.run(context, {
    resultTypes: ["violations"], rules: { region: { enabled: false } } });
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => `${v.impact} ${v.id}: ${v.nodes.map(n => n.target.join(" ")).join(", ")}`);
}"""
CODE_CHECKED_ON = "chapters/01-why-depth-is-hard.html"
# A page wider than a phone's screen scrolls sideways; if it does, what sticks out (a table or
# code block that scrolls inside its own box does not).
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width) return [];
  const scrolls = element => {
    for (let e = element.parentElement; e; e = e.parentElement) {
      if (["auto", "scroll", "hidden", "clip"].includes(getComputedStyle(e).overflowX)) return true;
    }
    return false;
  };
  const wide = [...document.querySelectorAll("main *")].filter(element => {
    const box = element.getBoundingClientRect();
    return box.width > 0 && box.right > width + 1 && !scrolls(element);
  });
  const shown = wide.slice(0, 5).map(element => element.outerHTML.slice(0, 120));
  return [`${document.documentElement.scrollWidth} px`, ...shown];
}"""
TENSORFLOW_LOG = re.compile(r"cpu_feature_guard|oneDNN custom operations|absl::InitializeLog")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def base_url():
    if not PAGES:
        pytest.fail("no pages in _build/html: run 'make book-strict' first")
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    home = tmp_path_factory.mktemp("chromium-home")  # Chromium writes settings under $HOME
    environment = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_CACHE_HOME": str(home / "cache"),
    }
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("CHROMIUM") or None,  # None: Playwright's own
            args=CHROMIUM_FLAGS,
            env=environment,
        )
        yield browser
        browser.close()


def visit(browser, url):
    """Load a page; return it with its console errors, failed and foreign requests."""
    page = browser.new_page()
    report = {"errors": [], "failed": [], "foreign": [], "own_bytes": 0, "sizes": {}}
    host = urllib.parse.urlsplit(url).netloc

    def on_route(route):
        if urllib.parse.urlsplit(route.request.url).netloc in (host, ""):
            route.continue_()
        else:
            report["foreign"].append(route.request.url)
            route.abort()

    def on_response(response):
        if response.status >= 400:
            report["failed"].append(f"{response.status} {response.url}")
        elif not any(asset in response.url for asset in SHARED_ASSETS):
            report["sizes"][response.url] = len(response.body())
            report["own_bytes"] += report["sizes"][response.url]

    page.route("**/*", on_route)
    page.on("console", lambda m: m.type == "error" and report["errors"].append(m.text))
    page.on("pageerror", lambda error: report["errors"].append(str(error)))
    page.on("requestfailed", lambda request: report["failed"].append(request.url))
    page.on("response", on_response)
    page.goto(url, wait_until="networkidle")
    return page, report


@pytest.mark.parametrize("path", PAGES)
def test_page_loads_without_errors_typesets_its_math_and_describes_its_images(
    browser, base_url, path
):
    """One visit per page: no console error, failed or foreign request; maths; alt text; axe-core
    finds no serious or critical accessibility violation; nothing overflows a phone's width."""
    page, report = visit(browser, base_url + path)
    assert report["foreign"] == [], "requests to other hosts"
    assert report["failed"] == [], "failed requests"
    assert report["errors"] == [], "console errors"
    heading = page.locator("main h1").first
    assert heading.count() == 1 and heading.inner_text().strip(), "page has no main heading"
    assert report["own_bytes"] < PAGE_BUDGET_BYTES, f"page weighs {report['own_bytes']} bytes"
    if page.locator("main .math").count():  # typeset, if only inside a folded box
        page.wait_for_selector("main mjx-container", state="attached", timeout=15_000)
    for image in page.locator("main img").all():
        assert (image.get_attribute("alt") or "").strip(), f"image without alt text on {path}"
    page.add_script_tag(path=AXE)
    violations = page.evaluate(RUN_AXE, path == CODE_CHECKED_ON)
    assert violations == [], "axe-core: serious or critical violations"
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
    assert page.evaluate(OVERFLOW) == [], f"wider than {PHONE_WIDTH} px"
    page.close()


def test_no_built_page_contains_a_tensorflow_log_line():
    offenders = [p for p in SITE.rglob("*.html") if TENSORFLOW_LOG.search(p.read_text())]
    assert offenders == []


# The explorer's tests share one page: with ``pytest -n``, they run in one worker.
EXPLORER = pytest.mark.xdist_group("explorer")


@pytest.fixture(scope="module")
def explorer_page(browser, base_url):
    """Chapter 6, loaded once for the explorer's tests (each sets what it needs); its report;
    and the explorer's first view, before any test moves it."""
    page, report = visit(browser, base_url + EXPLORER_PAGE)
    player = page.locator(".gradflow-player")
    player.locator("svg").first.wait_for(timeout=15_000)
    yield page, report, player.evaluate("element => element.gradflowView")
    page.close()


@EXPLORER
def test_the_website_shows_the_explorer_where_jupyter_shows_the_live_widget(explorer_page):
    # A stored widget cannot move without a kernel, so the website leaves it out (the cell is
    # tagged remove-cell) and computes the explorer in the page instead; Jupyter runs the cell.
    page, report, _ = explorer_page
    assert report["foreign"] == [] and report["failed"] == [] and report["errors"] == []
    assert page.locator(".jupyter-widgets").count() == 0
    assert page.locator(".widget-slider").count() == 0
    player = page.locator(".gradflow-player")
    player.wait_for(timeout=15_000)
    names = [*SLIDERS, *CHOICES]
    for name in names:  # every control of the notebook explorer, each with its label
        control = player.locator(f"[name={name}]")
        assert control.count() == 1, name
        assert page.locator(f"label[for='{control.get_attribute('id')}']").inner_text().strip()
    assert player.locator("input, select").count() == len(names)
    assert "Binder" in page.locator("main").inner_text()
    own = {url: size for url, size in report["sizes"].items() if "/gradflow/" in url}
    assert sorted(url.rsplit("/", 1)[1] for url in own) == sorted(EXPLORER_SCRIPTS)
    assert sum(own.values()) < EXPLORER_BUDGET_BYTES, own
    cells = json.loads((ROOT / "chapters" / "06-gradient-flow.ipynb").read_text())["cells"]
    live = [c for c in cells if "".join(c["source"]).strip() == "explorer.explorer()"]
    assert len(live) == 1 and "remove-cell" in live[0]["metadata"]["tags"]
    assert any(
        "application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in live[0]["outputs"]
    )


def view_of(player):
    """The explorer's view once it has drawn (with SGD steps it draws after a frame)."""
    return player.evaluate(
        """element => new Promise(done => {
             const check = () => element.gradflowPending
               ? requestAnimationFrame(check) : done(element.gradflowView);
             check();
           })"""
    )


def flags_of(flows):
    return {name: explorer.flag(flow) for name, flow in flows.items()}


@EXPLORER
def test_every_control_of_the_explorer_moves_it_from_the_keyboard_too(explorer_page):
    page, report, _ = explorer_page
    player = page.locator(".gradflow-player")
    start = view_of(player)
    depth = player.locator("input[name=depth]")
    depth.focus()
    page.keyboard.press("ArrowRight")  # the keyboard moves the slider by one step: 2 layers
    assert view_of(player)["settings"]["depth"] == start["settings"]["depth"] + 2
    assert player.locator("output[for=" + depth.get_attribute("id") + "]").inner_text() == "52"
    depth.fill("200")
    player.locator("input[name=gain]").fill("1")  # log2 of the gain: 2
    assert player.locator("output").nth(1).inner_text() == "2"
    settings = dict(DEFAULTS, depth=200, gain=2.0)
    expected = flags_of(explorer.flows(**settings))
    assert expected == {"plain": "overflow", "residual": "overflow"}
    assert {name: panel["flag"] for name, panel in view_of(player)["panels"].items()} == expected
    for name, value in (("normalization", "batchnorm"), ("branch_scale", "zero")):
        player.locator(f"select[name={name}]").focus()
        player.locator(f"select[name={name}]").select_option(value)
        settings[name] = value
        view = view_of(player)
        assert view["settings"] == settings
        assert {n: p["flag"] for n, p in view["panels"].items()} == flags_of(
            explorer.flows(**settings)
        )
    for name, value in (("activation", "tanh"), ("initialization", "glorot"), ("block", "v2")):
        before = view_of(player)
        player.locator(f"select[name={name}]").select_option(value)
        settings[name] = value
        assert view_of(player)["settings"] == settings and view_of(player) != before
    # with SGD steps, the sliders redraw when released (change), not while dragged (input);
    # at a setting that is not chaotic (a plain network with BatchNorm, or tanh with gain 2, is:
    # tools/gradflow_grid.py), where the browser's ratios are Python's to three digits
    player.locator("select[name=normalization]").select_option("none")
    player.locator("select[name=activation]").select_option("relu")
    player.locator("input[name=gain]").fill("0")
    depth.fill("20")
    settings |= {"depth": 20, "normalization": "none", "activation": "relu", "gain": 1.0}
    steps = player.locator("input[name=steps]")
    steps.evaluate("slider => { slider.value = 3; slider.dispatchEvent(new Event('input')); }")
    assert view_of(player)["settings"]["steps"] == 0
    # released, it says that it is computing, and is busy, until the panels are drawn
    busy = steps.evaluate(
        """slider => {
             slider.dispatchEvent(new Event('change'));
             const root = slider.closest('.gradflow-player');
             return [root.getAttribute('aria-busy'),
                     root.querySelector('[role=status]').textContent];
           }"""
    )
    assert busy == ["true", explorer.LABELS["computing"]]
    settings["steps"] = 3
    assert view_of(player)["settings"] == settings
    assert player.get_attribute("aria-busy") is None
    assert player.locator("[role=status]").inner_text() == ""
    depth.evaluate("slider => { slider.value = 30; slider.dispatchEvent(new Event('input')); }")
    assert view_of(player)["settings"]["depth"] == 20
    depth.evaluate("slider => slider.dispatchEvent(new Event('change'))")
    settings["depth"] = 30
    view = view_of(player)
    assert view["settings"] == settings
    shown = explorer.flows(**settings)
    assert {n: p["ratio"] for n, p in view["panels"].items()} == {
        n: explorer.ratio_text(flow) for n, flow in shown.items()
    }
    assert report["errors"] == []


# The browser's engine against the Python one: random settings of gradflow.gradient_norms,
# drawn here (seeded), computed by both. Most settings take no steps and reach every depth; those
# with steps stay shallower, so that the whole check costs seconds. Some settings are chaotic: a
# plain network with BatchNorm, tanh with a large gain, BatchNorm on a sigmoid's fixed point
# (tools/gradflow_grid.py). There, moving the input or the gain by a few units in float32's last
# place already moves Python's own curves, and the two engines, which round differently, may
# differ by as much: each setting's tolerance is that move (the largest, on a log scale) times
# CHAOS_FACTOR, and at least RELATIVE. Flags must agree unless a nudge flips Python's own.
COMPARISONS = 200
CHAOS_FACTOR = 10
RELATIVE = 2e-3  # on a log scale: float32 rounding, compounded over 200 layers and 20 steps
TIGHT_SHARE = 0.6  # at least this share of the settings agrees within RELATIVE


def random_settings(count, seed):
    rng = random.Random(seed)
    drawn = []
    for index in range(count):
        with_steps = index % 4 == 3
        top = 20 if with_steps else gradflow.MAX_DEPTH // 2
        drawn.append(
            {
                "depth": 2 * rng.randint(1, top),
                "block": rng.choice(gradflow.BLOCKS),
                "normalization": rng.choice(gradflow.NORMALIZATIONS),
                "branch_scale": rng.choice(gradflow.BRANCH_SCALES),
                "activation": rng.choice(gradflow.ACTIVATIONS),
                "initialization": rng.choice(gradflow.INITIALIZATIONS),
                "gain": 2 ** rng.uniform(*np.log2(explorer.GAIN_RANGE)),
                "steps": rng.randint(1, explorer.MAX_STEPS) if with_steps else 0,
            }
        )
    return drawn


COMPUTE_ALL = """(element, all) => all.map(s => {
  const flow = element.gradflowEngine.gradientNorms({ depth: s.depth, block: s.block,
    normalization: s.normalization, branchScale: s.branch_scale, activation: s.activation,
    initialization: s.initialization, gain: s.gain, steps: s.steps });
  const text = v => (Number.isFinite(v) ? v : String(v));
  return { grad: [...flow.gradNorms].map(text), spread: [...flow.spreads].map(text),
           overflow: flow.overflow, underflow: flow.underflow };
})"""


def logs(flow):
    """log of every gradient norm and spread, NaN where float32 cannot show it."""
    values = np.abs(np.r_[flow["grad"], flow["spread"]].astype(float))
    with np.errstate(all="ignore"):
        return np.where((values > gradflow._TINY) & np.isfinite(values), np.log(values), np.nan)


def python_flow(settings, batch=None):
    flow = gradflow.gradient_norms(**settings, batch=batch)
    return {"grad": flow.grad_norms, "spread": flow.spreads} | flow._asdict()


def engine_differences(settings, flow, browser_flow):
    """What the browser computed beyond what rounding explains for one setting (``flow`` is
    Python's), and whether it agreed at RELATIVE (the nudged curves are computed only where
    it did not)."""
    expected = logs(flow)
    browser = np.abs(np.r_[browser_flow["grad"], browser_flow["spread"]].astype(float))
    with np.errstate(all="ignore"):
        error = np.where(np.isfinite(expected), np.abs(np.log(browser) - expected), 0.0)
    flags = ("overflow", "underflow")
    if np.nanmax(error, initial=0.0) <= RELATIVE and all(browser_flow[f] == flow[f] for f in flags):
        return [], True
    x, y = data.digits_batch()
    nudged = [
        python_flow(settings, batch=(np.nextafter(x, np.float32(np.inf)), y)),
        python_flow(settings | {"gain": settings["gain"] * (1 + 4e-7)}, batch=(x, y)),
    ]
    sensitivity = max(np.nanmax(np.abs(logs(other) - expected), initial=0.0) for other in nudged)
    allowed = max(RELATIVE, CHAOS_FACTOR * sensitivity)
    problems = []
    wrong = ~(error <= allowed)  # NaN (the browser's value not finite) is wrong too
    if wrong.any():
        at = int(np.argmax(wrong))
        problems.append(f"value {at}: browser {browser[at]:.7g}, Python {np.exp(expected[at]):.7g}")
    for flag in flags:
        flips = any(other[flag] != flow[flag] for other in nudged)
        if browser_flow[flag] != flow[flag] and not flips:
            problems.append(f"{flag}: browser {browser_flow[flag]}, Python {flow[flag]}")
    return problems, False


@EXPLORER
def test_the_browser_engine_computes_what_gradflow_computes(explorer_page):
    seed = 25
    drawn = random_settings(COMPARISONS, seed)
    page, report, _ = explorer_page
    player = page.locator(".gradflow-player")
    # the weights: NumPy's draw, bit for bit (a sample of positions)
    positions = random.Random(seed).sample(range(gradflow.MAX_DEPTH * gradflow.WIDTH**2), 2000)
    drawn_weights = player.evaluate(
        "(element, at) => at.map(i => element.gradflowEngine.normals[i])", positions
    )
    hidden, _ = gradflow._standard_normal_weights(0)
    assert drawn_weights == hidden.ravel()[positions].tolist()
    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # Python beside the browser
        expected = pool.map(python_flow, drawn)
        flows = player.evaluate(COMPUTE_ALL, drawn)
        expected = list(expected)
    assert report["errors"] == []
    problems, tight = {}, 0
    for settings, flow, computed in zip(drawn, expected, flows, strict=True):
        found, at_relative = engine_differences(settings, flow, computed)
        tight += at_relative
        if found:
            problems[json.dumps(settings)] = found
    assert problems == {}, f"seed {seed}"
    assert tight >= TIGHT_SHARE * COMPARISONS, f"only {tight} settings agree within {RELATIVE}"
    flagged = sum(f["overflow"] or f["underflow"] for f in flows)
    assert 0 < flagged < COMPARISONS  # the draw reaches both kinds of result


@EXPLORER
def test_the_explorer_starts_from_the_notebook_explorer_s_defaults(explorer_page):
    assert explorer_page[2]["settings"] == DEFAULTS


# A few settings, with each flag; none is chaotic, and no value lies near a power of ten that
# bounds the axis, so that the browser's numbers and FlowFigure's draw the same picture.
SETTING_NAMES = ("activation", "initialization", "gain", "normalization", "block", "branch_scale")
EXPLORER_SETTINGS = [
    dict(zip(SETTING_NAMES, name.split("/"), strict=True)) | {"depth": depth}
    for name, depth in (
        ("sigmoid/glorot/0.5/batchnorm/v2/inverse_sqrt", 20),
        ("relu/he/2/none/v1/one", 200),  # overflow in both
        ("tanh/he/1/none/v2/zero", 8),  # underflow: the branches receive no gradient
        ("relu/glorot/1/none/v1/inverse_sqrt", 76),
    )
]
TOLERANCE = 1e-3  # log10 of float32 values, computed two ways


def figure_of(settings):
    """FlowFigure drawn for a setting of the explorer, and the flows it drew."""
    flows = explorer.flows(**settings | {"gain": float(settings["gain"]), "steps": 0})
    figure = explorer.FlowFigure(("plain", "residual"))
    figure.draw(flows)
    return figure, flows


def choose(player, settings):
    player.locator("input[name=steps]").fill("0")
    for name, value in settings.items():
        if name == "depth":
            player.locator("input[name=depth]").fill(str(value))
        elif name == "gain":
            player.locator("input[name=gain]").fill(str(np.log2(float(value))))
        else:
            player.locator(f"select[name={name}]").select_option(value)
    return view_of(player)


@EXPLORER
@pytest.mark.parametrize(
    "settings", EXPLORER_SETTINGS, ids=lambda s: "/".join(map(str, s.values()))
)
def test_the_explorer_draws_the_axis_curves_and_legend_that_flow_figure_draws(
    explorer_page, settings
):
    page, report, _ = explorer_page
    player = page.locator(".gradflow-player")
    view = choose(player, settings)
    assert view["settings"] == DEFAULTS | settings | {"gain": float(settings["gain"])}
    figure, flows = figure_of(settings)
    panels = [figure.panels[name] for name in ("plain", "residual")]
    limits = np.log10(panels[0][0].get_ylim())
    assert list(limits) == [round(limit) for limit in limits] == view["axis"]
    for name, (_, grad, spread, note) in zip(("plain", "residual"), panels, strict=True):
        drawn = view["panels"][name]
        assert drawn["flag"] == explorer.flag(flows[name]) == (note.get_text() or "")
        assert drawn["ratio"] == explorer.ratio_text(flows[name])
        for key, line in (("grad", grad), ("spread", spread)):
            x, y = line.get_xdata(), line.get_ydata()
            shown = np.isfinite(y)
            points = np.array([p for segment in drawn["segments"][key] for p in segment])
            points = points.reshape(-1, 2)
            np.testing.assert_array_equal(points[:, 0], x[shown])  # the same layers
            np.testing.assert_allclose(points[:, 1], np.log10(y[shown]), atol=TOLERANCE)
            starts = shown & ~np.r_[False, shown[:-1]]  # a curve breaks where FlowFigure's does
            assert len(drawn["segments"][key]) == starts.sum()
            svg = player.locator("svg").nth(("plain", "residual").index(name))
            marks = svg.locator(f"[data-series={key}]")
            assert marks.count() == len(drawn["segments"][key])
            if marks.count():
                paint = marks.first.get_attribute("stroke") or marks.first.get_attribute("fill")
                assert paint == explorer.SERIES[key] == matplotlib.colors.to_hex(line.get_color())
    legend = [text.get_text() for text in figure.figure.legends[0].get_texts()]
    words = player.locator(".gradflow-legend [data-series]").all_inner_texts()
    assert [text.strip() for text in words] == legend
    assert report["errors"] == []


@pytest.mark.parametrize(
    "chapter",
    sorted((ROOT / "chapters").glob("[0-9][0-9]-*.ipynb"))
    + sorted((ROOT / "zh" / "chapters").glob("[0-9][0-9]-*.ipynb")),
    ids=lambda p: p.relative_to(ROOT).with_suffix("").as_posix(),
)
def test_citations_and_figure_numbers_read_as_jupyterlab_shows_them(chapter):
    """JupyterLab shows the text tools/lab_markup.py stored; the website links the same text
    (in the Chinese edition too: 图 7.3)."""
    from bs4 import BeautifulSoup

    page = BeautifulSoup(
        (SITE / chapter.relative_to(ROOT).with_suffix(".html")).read_text(), "html.parser"
    )
    shown = {
        kind: {
            " ".join(span.get_text().split()) for span in page.select(f"span.stored-eval.{kind}")
        }
        for kind in ("cite", "numref", "glued")
    }
    stored = {"cite": set(), "numref": set(), "glued": set()}
    for cell in json.loads(chapter.read_text())["cells"]:
        if "remove-cell" in cell["metadata"].get("tags", []):
            continue
        for entry in cell["metadata"].get("user_expressions", []):
            kind = entry["expression"].split("(")[0]
            stored[kind].add(entry["result"]["data"]["text/plain"])
    assert shown == stored


@functools.cache
def _ids(path):
    return set(re.findall(r'\bid="([^"]+)"', path.read_text()))


def test_every_link_between_pages_and_editions_reaches_a_page_and_its_anchor():
    broken = []
    for path in PAGES:
        page = SITE / path
        for href in re.findall(r'<a [^>]*href="([^"#:?]*\.html)(?:#([^"]*))?"', page.read_text()):
            target = (page.parent / urllib.parse.unquote(href[0])).resolve()
            anchor = urllib.parse.unquote(href[1])
            if not target.is_file() or (anchor and anchor not in _ids(target)):
                broken.append(f"{path}: {href[0]}#{anchor}")
    assert broken == []


@pytest.mark.parametrize(
    "path", [p for p in PAGES if "/" not in p or p.startswith(("chapters/", "zh/"))]
)
def test_every_page_links_to_its_twin_in_the_other_language(path):
    page = (SITE / path).read_text()
    if 'http-equiv="Refresh"' in page or path.endswith(("search.html", "genindex.html")):
        pytest.skip("a redirect or a generated page")
    switch = re.search(
        r'<nav class="language-switch"[^>]*><a href="([^"]+)" hreflang="([^"]+)"', page
    )
    assert switch, "no language switch"
    target = ((SITE / path).parent / switch[1]).resolve()
    assert target.is_file(), switch[1]
    chinese = path.startswith("zh/")
    assert switch[2] == ("en" if chinese else "zh-CN")
    twin = path.removeprefix("zh/") if chinese else f"zh/{path}"
    fallback = "intro.html" if chinese else "zh/guide.html"
    expected = twin if (SITE / twin).is_file() else fallback
    assert target == (SITE / expected).resolve()


@pytest.mark.parametrize("query", ["退化", "残差网络"])
def test_the_chinese_search_finds_a_chinese_term(browser, base_url, query):
    page, report = visit(browser, base_url + "zh/search.html?q=" + urllib.parse.quote(query))
    results = page.locator("#search-results li a")
    results.first.wait_for(timeout=15_000)
    found = {
        href.split("?")[0].split("#")[0]
        for href in (link.get_attribute("href") for link in results.all())
    }
    assert any(href.endswith("guide.html") for href in found), found
    assert report["errors"] == [] and report["foreign"] == []
    page.close()
