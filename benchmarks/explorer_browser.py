"""How long does the live explorer take to answer a slider move, seen from the browser?

Starts JupyterLab on 127.0.0.1 with a copy of chapter 6 in a temporary folder (beside a link
to the stored results it reads),
opens it in Chromium (CHROMIUM, else Playwright's own; see tools/browser.py), runs every
cell, then presses the right arrow key on the depth slider and times each
press until the explorer's picture changes: the kernel's computation and
redraw, the round trip over the widget protocol, and the browser's update. Each
press reaches a depth not seen before, so nothing comes from the cache.

``benchmarks/gradflow.py`` measures the kernel side against the book's budgets
(10 ms to compute, 50 ms with the redraw); this script reports what a reader
feels, and exits non-zero only if the explorer does not respond.

Usage: python benchmarks/explorer_browser.py [--presses 25]
"""

import argparse
import os
import pathlib
import queue
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from playwright.sync_api import sync_playwright

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "chapters" / "06-gradient-flow.ipynb"
PICTURE = ".jp-OutputArea .widget-html img"
KERNEL_IDLE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel && panel.sessionContext && panel.sessionContext.session
    && panel.sessionContext.session.kernel;
  return Boolean(kernel) && kernel.status === "idle";
}"""
SERVER_URL = re.compile(r"http://127\.0\.0\.1:(\d+)/")


def start_lab(folder, token, timeout=120):
    """JupyterLab serving ``folder`` on a port it chooses, its state kept inside ``folder``.

    Returns:
        ``(process, port)``, once the server prints the address it listens on.
    """
    environment = {**os.environ, "HOME": str(folder), "JUPYTER_RUNTIME_DIR": str(folder / "rt")}
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",
        "--port=0",
        f"--ServerApp.token={token}",
        f"--ServerApp.root_dir={folder}",
        "--LabApp.expose_app_in_browser=True",
        "--ServerApp.ip=127.0.0.1",
    ]
    lab = subprocess.Popen(
        command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    lines = queue.Queue()

    def read():  # also keeps the pipe drained for the rest of the run
        for line in lab.stderr:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + timeout
    try:
        while (line := lines.get(timeout=max(0.0, deadline - time.monotonic()))) is not None:
            if match := SERVER_URL.search(line):
                return lab, int(match.group(1))
    except queue.Empty:
        pass
    lab.terminate()
    raise RuntimeError(f"JupyterLab did not report its address within {timeout} s")


def measure(url, presses, home):
    """Milliseconds from each key press to the new picture."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("CHROMIUM") or None,  # None: Playwright's own
            args=["--headless", "--no-sandbox", "--disable-gpu"],
            env={**os.environ, "HOME": str(home)},
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        page.wait_for_function(
            "window.jupyterapp && document.querySelector('.jp-Notebook')", timeout=120_000
        )
        page.wait_for_function(KERNEL_IDLE, timeout=120_000)  # the kernel has connected
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        page.locator(PICTURE).first.wait_for(timeout=120_000)
        page.wait_for_function(  # every cell has run: no prompt shows [*]
            "() => ![...document.querySelectorAll('.jp-InputPrompt')]"
            ".some(prompt => prompt.textContent.includes('*'))",
            timeout=120_000,
        )
        page.locator(".jp-OutputArea .widget-slider .noUi-handle").first.focus()
        samples = []
        for _ in range(presses):
            before = page.locator(PICTURE).first.get_attribute("src")
            start = time.perf_counter()
            page.keyboard.press("ArrowRight")
            page.wait_for_function(
                "([selector, before]) => document.querySelector(selector).src !== before",
                arg=[PICTURE, before],
                timeout=10_000,
            )
            samples.append((time.perf_counter() - start) * 1000)
        browser.close()
    return samples


def main():
    """Print the median and 95th percentile of the response time."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=25)
    args = parser.parse_args()
    folder = pathlib.Path(tempfile.mkdtemp(prefix="explorer-browser-"))
    # the chapter in a chapters/ folder beside the stored results it reads (../results/...)
    (folder / "chapters").mkdir()
    shutil.copy(CHAPTER, folder / "chapters")
    (folder / "results").symlink_to(ROOT / "results", target_is_directory=True)
    token = "benchmark"
    lab, port = start_lab(folder, token)
    try:
        url = f"http://127.0.0.1:{port}/lab/tree/chapters/{CHAPTER.name}?token={token}"
        samples = sorted(measure(url, args.presses, folder))
    finally:
        lab.terminate()
        lab.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)
    p95 = samples[max(0, round(0.95 * len(samples)) - 1)]
    print(
        f"depth slider, {len(samples)} presses from depth 50: response median "
        f"{statistics.median(samples):.0f} ms, p95 {p95:.0f} ms (kernel, widget protocol, browser)"
    )


if __name__ == "__main__":
    main()
