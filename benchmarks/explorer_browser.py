"""How long does the live explorer take to answer a slider move, seen from the browser?

Starts JupyterLab on 127.0.0.1 with a copy of chapter 6 in a temporary folder,
opens it in Chromium (CHROMIUM, else Playwright's own; see tools/browser.py), runs every
cell, then presses the right arrow key on the depth slider and times each
press until the explorer's picture changes: the kernel's computation and
redraw, the round trip over the widget protocol, and the browser's update. Each
press reaches a depth not seen before, so nothing comes from the cache.

``benchmarks/gradflow.py`` measures the kernel side against the book's 100 ms
budget; this script reports what a reader feels, and exits non-zero only if
the explorer does not respond.

Usage: python benchmarks/explorer_browser.py [--presses 25]
"""

import argparse
import os
import pathlib
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from playwright.sync_api import sync_playwright

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "chapters" / "06-gradient-flow.ipynb"
PICTURE = ".jp-OutputArea .widget-html img"


def free_port():
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_lab(folder, port, token):
    """JupyterLab serving ``folder``, its state kept inside ``folder``."""
    environment = {**os.environ, "HOME": str(folder), "JUPYTER_RUNTIME_DIR": str(folder / "rt")}
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
               f"--port={port}", f"--ServerApp.token={token}", f"--ServerApp.root_dir={folder}",
               "--LabApp.expose_app_in_browser=True", "--ServerApp.ip=127.0.0.1"]  # fmt: skip
    return subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip


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
        page.wait_for_function("window.jupyterapp && document.querySelector('.jp-Notebook')",
                               timeout=120_000)  # fmt: skip
        page.wait_for_timeout(2000)  # the kernel connects
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
    shutil.copy(CHAPTER, folder)
    port, token = free_port(), "benchmark"
    lab = start_lab(folder, port, token)
    try:
        url = f"http://127.0.0.1:{port}/lab/tree/{CHAPTER.name}?token={token}"
        for _ in range(60):  # the server starts
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
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
