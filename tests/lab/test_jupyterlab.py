"""Open every chapter in the reader's JupyterLab, scroll through it, and read what it shows.

Readers of Binder and local Jupyter read the chapters in JupyterLab, where jupyterlab-myst
renders the Markdown. This check starts the environment's ``jupyter lab`` on 127.0.0.1 (its
settings, workspaces and runtime files in a temporary folder), opens each chapter in Chromium
with no kernel run, scrolls from top to bottom (JupyterLab draws only the cells in view), and
fails on any rendered Markdown cell that still shows book-builder markup: a role, a directive,
an ``{eval}`` without its stored value, an unresolved citation or cross-reference. It also
checks that stored numbers show, that jupyterlab-myst is active and that its executor, which
would overwrite the stored values, is off. Any request to another host is blocked and fails.

Needs a Chromium: the one CHROMIUM names (``make lab-check`` sets it), else Playwright's.
"""

import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest
from playwright.sync_api import sync_playwright

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHAPTERS = sorted(p.name for p in (ROOT / "chapters").glob("[0-9][0-9]-*.ipynb"))
# What must never show in rendered Markdown: roles, directives, expressions without values.
RAW = re.compile(
    r"\{(?:glue|cite|doc|term|numref|eval|ref)[:}]|[`:]{3,}\{[a-z-]+\}|glued\(\"|cite\(\"|numref\(\""
)
# jupyterlab-myst's marks for what it could not resolve or parse.
ERROR_SELECTOR = ", ".join(
    (
        ".jp-MarkdownCell [title*='not found' i]",
        ".jp-MarkdownCell [title*='Cross reference' i]",
        ".jp-MarkdownCell [title*='unknown' i]",
        ".jp-MarkdownCell .text-red-500",
        ".jp-MarkdownCell .text-yellow-600",
    )
)
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="module")
def lab_url():
    """A JupyterLab serving the repository, stopped after the module.

    It listens on a port the system chooses (``--port=0``), which it writes into its runtime
    file, so that several test processes each start their own without a race for a port.
    """
    with tempfile.TemporaryDirectory() as home:
        home = pathlib.Path(home)
        env = os.environ | {
            "JUPYTER_CONFIG_DIR": str(home / "config"),
            "JUPYTER_DATA_DIR": str(home / "data"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        }
        command = [
            str(pathlib.Path(sys.executable).parent / "jupyter"),
            "lab",
            "--no-browser",
            "--port=0",
            "--ServerApp.ip=127.0.0.1",
            "--ServerApp.token=",
            "--ServerApp.password=",
            "--ServerApp.allow_root=True",
            "--ServerApp.disable_check_xsrf=True",
            f"--ServerApp.root_dir={ROOT}",
            f"--LabApp.user_settings_dir={home / 'settings'}",
            f"--LabApp.workspaces_dir={home / 'workspaces'}",
            "--LabApp.news_url=None",
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
        # The check unfolds folded solutions; autosave off, so nothing is ever written back.
        settings = home / "settings" / "@jupyterlab" / "docmanager-extension"
        settings.mkdir(parents=True)
        (settings / "plugin.jupyterlab-settings").write_text('{"autosave": false}')
        # Every cell attached at once (windowing "none", not JupyterLab's default
        # "contentVisibility"): the Markdown renders the same, and the check needs one scroll
        # instead of many, in half the time.
        notebook = home / "settings" / "@jupyterlab" / "notebook-extension"
        notebook.mkdir(parents=True)
        (notebook / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
        log = open(home / "lab.log", "w")
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        runtime = home / "runtime" / f"jpserver-{server.pid}.json"
        try:
            for _ in range(120):
                try:
                    url = f"http://127.0.0.1:{json.loads(runtime.read_text())['port']}"
                    urllib.request.urlopen(f"{url}/api/status", timeout=2)
                    break
                except (OSError, ValueError, KeyError):  # not written, or not serving, yet
                    if server.poll() is not None:
                        break
                    time.sleep(0.5)
            else:
                pytest.fail("jupyter lab did not start in 60 s")
            if server.poll() is not None:
                pytest.fail(f"jupyter lab exited:\n{(home / 'lab.log').read_text()[-3000:]}")
            yield url
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()


@pytest.fixture(scope="module")
def lab(lab_url):
    """One JupyterLab page for every chapter, its console messages and blocked requests."""
    with sync_playwright() as playwright:
        executable = os.environ.get("CHROMIUM") or None
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 2400})
        page.messages, page.foreign = [], []
        page.on("console", lambda message: page.messages.append(message.text))

        def route(route):
            if route.request.url.startswith(lab_url):
                route.continue_()
            else:
                page.foreign.append(route.request.url)
                route.abort()

        page.route("**/*", route)
        page.goto(f"{lab_url}/lab?reset", timeout=120_000)
        page.wait_for_function("window.jupyterapp && window.jupyterapp.started", timeout=120_000)
        page.evaluate("window.jupyterapp.started")
        yield page
        browser.close()


def test_jupyterlab_myst_renders_and_keeps_the_stored_values(lab):
    """jupyterlab-myst is active, and its executor, which re-evaluates {eval} roles, is off."""
    lab.wait_for_timeout(500)
    assert any("jupyterlab-myst" in m and "activated" in m for m in lab.messages), lab.messages
    assert not any("Using jupyterlab-myst:executor" in m for m in lab.messages), (
        "jupyterlab-myst's executor is on: it would overwrite the stored values when a "
        "reader runs a Markdown cell (jupyter labextension disable --level=sys_prefix "
        "jupyterlab-myst:executor)"
    )


def _stored_markdown(chapter):
    """The indices of a stored chapter's Markdown cells, and the texts of their expressions."""
    cells = json.loads((ROOT / "chapters" / chapter).read_text())["cells"]
    markdown = [  # but not a cell of HTML tags alone (chapter 6's website player), blank in Lab
        str(i)
        for i, cell in enumerate(cells)
        if cell["cell_type"] == "markdown"
        and re.sub(r"<[^>]*>", "", "".join(cell["source"])).strip()
    ]
    values = [
        entry["result"]["data"]["text/plain"]
        for cell in cells
        for entry in cell["metadata"].get("user_expressions", [])
    ]
    return markdown, values


# Scroll the notebook from top to bottom, again until every Markdown cell was seen rendered;
# record each one's text by index (textContent includes closed dropdowns), and the text of
# cross-reference links that found no target (a glossary term, once every cell is rendered).
# After each scroll, wait until the Markdown cells JupyterLab attached have rendered (at most
# 5 s), rather than a fixed pause: the check takes as long as the rendering, no longer.
SCROLL_AND_READ = """async (expected) => {
  const panel = document.querySelector(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer');
  const wanted = new Set(expected);
  const seen = {};
  const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));
  const read = () => {  // the number of attached cells still to render
    let pending = 0;
    for (const cell of panel.querySelectorAll('.jp-MarkdownCell')) {
      const index = cell.getAttribute('data-windowed-list-index');
      const folded = cell.querySelector('.jp-InputPlaceholder');
      if (folded) {  // a solution, folded as on the website
        folded.click();
        pending++;
        continue;
      }
      const rendered = cell.querySelector('.myst');
      if (index !== null && rendered && rendered.textContent.trim()) {
        seen[index] = rendered.textContent;
      } else if (wanted.has(index)) {
        pending++;
      }
    }
    return pending;
  };
  const frame = () => new Promise(resolve => requestAnimationFrame(() => resolve()));
  const settle = async () => {  // the list attaches cells on the next frames, then they render
    await frame();
    await frame();
    await sleep(50);
    for (let tries = 0; tries < 100 && read() > 0; tries++) await sleep(50);
  };
  for (let pass = 0; pass < 6 && expected.some(i => !(i in seen)); pass++) {
    panel.scrollTop = 0;
    await settle();
    for (let step = 0; step < 500; step++) {
      if (panel.scrollTop + panel.clientHeight >= panel.scrollHeight - 2) break;
      panel.scrollTop += panel.clientHeight * 0.8;
      await settle();
    }
  }
  await settle();
  const unresolved = [...panel.querySelectorAll('.jp-MarkdownCell .myst a.hover-link[href="#"]')]
    .map(link => link.textContent);
  return [seen, unresolved];
}"""


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_reads_without_markup(lab, chapter):
    before = (ROOT / "chapters" / chapter).read_bytes()
    markdown, values = _stored_markdown(chapter)
    lab.evaluate(
        "path => window.jupyterapp.commands.execute('docmanager:open', {path}).then(() => null)",
        f"chapters/{chapter}",
    )
    try:
        lab.wait_for_selector(
            ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-MarkdownCell .myst", timeout=120_000
        )
        seen, dead_links = lab.evaluate(SCROLL_AND_READ, markdown)
        errors = lab.eval_on_selector_all(
            ERROR_SELECTOR, "nodes => nodes.map(n => (n.title || '') + ': ' + n.textContent)"
        )
    finally:
        # Unfolding a solution marks the notebook changed: close it unsaved, with no dialog.
        lab.evaluate("window.jupyterapp.shell.currentWidget.dispose()")
        lab.wait_for_selector(".jp-NotebookPanel", state="detached", timeout=30_000)
    assert (ROOT / "chapters" / chapter).read_bytes() == before, "JupyterLab saved the chapter"
    assert not lab.foreign, f"requests to other hosts: {lab.foreign}"
    unread = sorted(set(markdown) - set(seen), key=int)
    assert not unread, f"{chapter}: Markdown cells {unread} never rendered while scrolling"
    text = "\n".join(seen[key] for key in sorted(seen, key=int))
    raw = sorted({match.group() for match in RAW.finditer(text)})
    assert not raw, f"{chapter} shows raw markup in JupyterLab: {raw}"
    assert not errors, f"{chapter}: unresolved in JupyterLab: {errors[:10]}"
    assert not dead_links, f"{chapter}: links with no target in JupyterLab: {dead_links[:10]}"
    missing = sorted({value for value in values if value not in text})
    assert not missing, f"{chapter}: stored values not shown: {missing[:10]}"
