"""Open every page of the built website in Chromium, as a reader would.

Needs the website in _build/html (make book-strict) and a Chromium: the one
CHROMIUM names (``make site-check`` sets it with tools/browser.py), else the one
Playwright installed. The pages are served on 127.0.0.1;
any request to another host is blocked and reported.
"""

import functools
import http.server
import inspect
import json
import os
import pathlib
import re
import threading
import urllib.parse

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

from resnet_book import explorer  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"
GRID_FILE = ROOT / "web" / "gradflow" / "grid.js"
PAGES = sorted(
    path.relative_to(SITE).as_posix()
    for path in SITE.rglob("*.html")
    if not {"_static", "_sources", "mathjax"} & set(path.relative_to(SITE).parts)
)
SHARED_ASSETS = ("/_static/", "/mathjax/", "/jupyter-widgets/")  # libraries, cached across pages
EXPLORER_PAGE = "chapters/06-gradient-flow.html"
PAGE_BUDGET_BYTES = 3 * 1024 * 1024
AXE = ROOT / "tests" / "site" / "axe" / "axe.min.js"  # axe-core, vendored by tools/vendor.sh
PHONE_WIDTH = 390  # CSS pixels: an iPhone 12 to 15 held upright
# axe-core on the page as loaded: each violation's rule, impact and where, for the serious and
# critical ones (moderate and minor findings are the theme's and are not asserted). "region"
# reports only moderate findings and costs a second on a long chapter: it does not run.
RUN_AXE = """async () => {
  const result = await axe.run(document, {
    resultTypes: ["violations"], rules: { region: { enabled: false } } });
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => `${v.impact} ${v.id}: ${v.nodes.map(n => n.target.join(" ")).join(", ")}`);
}"""
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
    report = {"errors": [], "failed": [], "foreign": [], "own_bytes": 0}
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
            report["own_bytes"] += len(response.body())

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
    assert page.evaluate(RUN_AXE) == [], "axe-core: serious or critical violations"
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
    assert page.evaluate(OVERFLOW) == [], f"wider than {PHONE_WIDTH} px"
    page.close()


def test_no_built_page_contains_a_tensorflow_log_line():
    offenders = [p for p in SITE.rglob("*.html") if TENSORFLOW_LOG.search(p.read_text())]
    assert offenders == []


def test_the_website_shows_the_player_where_jupyter_shows_the_live_explorer(browser, base_url):
    # A stored widget cannot move without a kernel, so the website leaves it out (the cell is
    # tagged remove-cell) and shows the player in its place; Jupyter runs the cell, live.
    page, report = visit(browser, base_url + EXPLORER_PAGE)
    assert report["foreign"] == [] and report["failed"] == [] and report["errors"] == []
    assert page.locator(".jupyter-widgets").count() == 0
    assert page.locator(".widget-slider").count() == 0
    player = page.locator(".gradflow-player")
    player.wait_for(timeout=15_000)
    assert player.locator("input[type=range]").count() == 1
    assert "Binder" in page.locator("main").inner_text()
    page.close()
    cells = json.loads((ROOT / "chapters" / "06-gradient-flow.ipynb").read_text())["cells"]
    live = [c for c in cells if "".join(c["source"]).strip() == "explorer.explorer()"]
    assert len(live) == 1 and "remove-cell" in live[0]["metadata"]["tags"]
    assert any(
        "application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in live[0]["outputs"]
    )


def test_explorer_fallback_player_moves_without_python(browser, base_url):
    page, report = visit(browser, base_url + EXPLORER_PAGE)
    player = page.locator(".gradflow-player")
    assert report["foreign"] == [] and report["failed"] == [] and report["errors"] == []
    assert player.locator("svg").count() == 2 and player.locator("polyline").count() >= 4
    before = player.locator("svg").last.inner_html()
    player.locator("input[type=range]").fill(str(13))  # the last depth, 200
    assert player.locator("output").inner_text() == "200"
    assert player.locator("svg").last.inner_html() != before
    assert player.locator(".gradflow-flag").count() == 0
    player.locator("select[name=gain]").select_option("2")
    assert player.locator("svg").last.locator(".gradflow-flag").text_content() == "overflow"
    player.locator("select[name=normalization]").select_option("batchnorm")
    assert player.locator(".gradflow-flag").count() == 0
    player.locator("select[name=branch_scale]").select_option("zero")
    assert player.locator("svg").last.locator(".gradflow-flag").text_content() == "underflow"
    player.locator("button.gradflow-play").click()
    expect(player.locator("output")).not_to_have_text("200")  # it stepped, back to depth 2
    player.locator("button.gradflow-play").click()
    assert report["errors"] == []


READ_EVERY_SETTING = """player => {
  const selects = [...player.querySelectorAll("select")];
  const slider = player.querySelector("input[type=range]");
  const rows = [];
  const visit = (index, chosen) => {
    if (index === selects.length) {
      for (let d = 0; d <= Number(slider.max); d++) {
        slider.value = d;
        slider.dispatchEvent(new Event("input"));
        const cells = [...player.querySelectorAll(".gradflow-readout td")]
          .map(td => td.textContent);
        rows.push([...chosen, player.querySelector("output").textContent, ...cells]);
      }
      return;
    }
    for (const option of selects[index].options) {
      selects[index].value = option.value;
      selects[index].dispatchEvent(new Event("change"));
      visit(index + 1, [...chosen, option.value]);
    }
  };
  visit(0, []);
  return rows;
}"""


def load_grid():
    text = GRID_FILE.read_text()
    return json.loads(text[text.index("{") : text.rindex("}") + 1])


def test_player_readout_agrees_with_python_for_every_setting(browser, base_url):
    grid = load_grid()
    labels = grid["labels"]
    page, _ = visit(browser, base_url + EXPLORER_PAGE)
    rows = page.locator(".gradflow-player").first.evaluate(READ_EVERY_SETTING)
    blocks = [b for b in grid["choices"]["block"] if b != "plain"]
    combinations = 3 * 2 * 3 * 2 * len(blocks) * 3
    assert len(rows) == combinations * len(grid["depths"])
    for activation, init, gain, norm, block, scale, depth, *cells in rows:
        index = grid["depths"].index(int(depth))
        prefix = f"{activation}/{init}/{gain}/{norm}"
        expected = []
        for name, key in (("plain", "plain/one"), ("residual", f"{block}/{scale}")):
            record = grid["runs"][f"{prefix}/{key}"][index]
            expected += [labels[name], record["ratio"], labels[record["flag"] or "none"]]
        assert cells == expected, (activation, init, gain, norm, block, scale, depth)


# A few settings the player holds, with each flag; none is chaotic (see tools/gradflow_grid.py),
# and no value lies within the grid check's tolerance of a power of ten that bounds the axis,
# so what the player stores and what FlowFigure computes on this machine agree.
SETTING_NAMES = ("activation", "initialization", "gain", "normalization", "block", "branch_scale")
PLAYER_SETTINGS = [
    dict(zip(SETTING_NAMES, name.split("/"), strict=True)) | {"depth": depth}
    for name, depth in (
        ("sigmoid/glorot/0.5/batchnorm/v2/inverse_sqrt", 20),
        ("relu/he/2/none/v1/one", 200),  # overflow in both
        ("tanh/he/1/none/v2/zero", 8),  # underflow: the branches receive no gradient
        ("relu/glorot/1/none/v1/inverse_sqrt", 76),
    )
]
TOLERANCE = 0.02  # tools/gradflow_grid.py: two machines' rounded log10 values


def figure_of(settings):
    """FlowFigure drawn for a setting of the player, and the flows it drew."""
    flows = explorer.flows(**settings | {"gain": float(settings["gain"]), "steps": 0})
    figure = explorer.FlowFigure(("plain", "residual"))
    figure.draw(flows)
    return figure, flows


def choose(player, grid, settings):
    for name, value in settings.items():
        if name == "depth":
            player.locator("input[type=range]").fill(str(grid["depths"].index(value)))
        else:
            player.locator(f"select[name={name}]").select_option(value)
    return player.evaluate("element => element.gradflowView")


def test_player_starts_from_the_explorer_s_defaults(browser, base_url):
    page, _ = visit(browser, base_url + EXPLORER_PAGE)
    view = page.locator(".gradflow-player").evaluate("element => element.gradflowView")
    defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(explorer.explorer).parameters.items()
    }
    assert defaults.pop("steps") == 0
    assert view["settings"] == defaults | {"gain": f"{defaults['gain']:g}"}
    page.close()


@pytest.mark.parametrize("settings", PLAYER_SETTINGS, ids=lambda s: "/".join(map(str, s.values())))
def test_player_draws_the_axis_curves_and_legend_that_flow_figure_draws(
    browser, base_url, settings
):
    grid = load_grid()
    page, report = visit(browser, base_url + EXPLORER_PAGE)
    player = page.locator(".gradflow-player")
    view = choose(player, grid, settings)
    assert view["settings"] == settings
    figure, flows = figure_of(settings)
    panels = [figure.panels[name] for name in ("plain", "residual")]
    limits = np.log10(panels[0][0].get_ylim())
    assert list(limits) == [round(limit) for limit in limits] == view["axis"]
    for name, (_, grad, spread, note) in zip(("plain", "residual"), panels, strict=True):
        drawn = view["panels"][name]
        assert drawn["flag"] == explorer.flag(flows[name]) == (note.get_text() or "")
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
    page.close()


@pytest.mark.parametrize(
    "chapter", sorted((ROOT / "chapters").glob("[0-9][0-9]-*.ipynb")), ids=lambda p: p.stem
)
def test_citations_and_figure_numbers_read_as_jupyterlab_shows_them(chapter):
    """JupyterLab shows the text tools/lab_markup.py stored; the website links the same text."""
    from bs4 import BeautifulSoup

    page = BeautifulSoup((SITE / "chapters" / f"{chapter.stem}.html").read_text(), "html.parser")
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
