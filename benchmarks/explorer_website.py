"""How long does the website's explorer take to answer a slider, computed in the browser?

Serves the built website (_build/html: make book) on 127.0.0.1, opens chapter 6 in headless
Chromium (CHROMIUM, else Playwright's own; see tools/browser.py) and, at each depth, moves the
gain slider to a new value many times: from the slider's input event to the first frame after
both panels and the table are redrawn (web/gradflow/engine.js computes both networks, plain and
residual, on the digits batch; player.js draws them). With SGD steps the explorer redraws when
the slider is released: that time is reported too. The budgets (issue 25): a median under
100 ms at depth 100 and under 250 ms at depth 200 without steps; ``--enforce-budgets`` exits
non-zero when one is exceeded. ``--javascript-loops`` serves an empty kernel.js, so that the
engine falls back to its plain JavaScript products: the measurement behind choosing the kernel.

Usage: python benchmarks/explorer_website.py [--moves 25] [--enforce-budgets] [--javascript-loops]
"""

import argparse
import functools
import http.server
import itertools
import os
import pathlib
import statistics
import sys
import threading

from playwright.sync_api import sync_playwright

ROOT = pathlib.Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
PAGE = "chapters/06-gradient-flow.html"
BUDGETS_MS = {100: 100, 200: 250}  # depth: median without steps
# The explorer's opening, and the chapter's first experiment (whose gradients vanish).
SETTINGS = {
    "ReLU, He": {"activation": "relu", "initialization": "he"},
    "sigmoid, Glorot": {"activation": "sigmoid", "initialization": "glorot"},
}
# Each move: the gain slider to a value not used before (nothing is cached anyway), timed from
# the input event to the first frame after the redraw.
MOVES = """async ({ depth, steps, moves, event, choices }) => {
  const root = document.querySelector(".gradflow-player");
  const slider = name => root.querySelector(`input[name=${name}]`);
  for (const [name, value] of Object.entries(choices)) {
    const select = root.querySelector(`select[name=${name}]`);
    select.value = value;
    select.dispatchEvent(new Event("change"));
  }
  const frame = () => new Promise(done => requestAnimationFrame(() => setTimeout(done, 0)));
  for (const [name, value] of [["steps", steps], ["depth", depth]]) {
    slider(name).value = value;
    slider(name).dispatchEvent(new Event("input"));
    slider(name).dispatchEvent(new Event("change"));
  }
  const gain = slider("gain"), samples = [];
  for (let i = 0; i < moves; i++) {
    await frame();
    const start = performance.now();
    gain.value = ((i % 2 ? -1 : 1) * (1 + i)) / 100;  // a gain of 2^(+-0.01 i)
    gain.dispatchEvent(new Event(event));
    await frame();
    samples.push(performance.now() - start);
  }
  if (root.gradflowView.settings.depth !== depth) throw new Error("the explorer did not move");
  return { samples, simd: root.gradflowEngine.simd };
}"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def measure(url, moves, javascript_loops=False):
    """Milliseconds per move, by (depth, steps, event)."""
    results = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("CHROMIUM") or None,  # None: Playwright's own
            args=["--headless", "--no-sandbox", "--disable-gpu"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        if javascript_loops:
            page.route("**/gradflow/kernel.js", lambda route: route.fulfill(body="// none"))
        page.goto(url, wait_until="networkidle")
        page.locator(".gradflow-player svg").first.wait_for()
        for (depth, steps, event), (name, choices) in itertools.product(
            ((100, 0, "input"), (200, 0, "input"), (50, 20, "change")), SETTINGS.items()
        ):
            arguments = {"depth": depth, "steps": steps, "moves": moves, "event": event}
            measured = page.evaluate(MOVES, arguments | {"choices": choices})
            results[depth, steps, event, name] = measured["samples"]
            results["simd"] = measured["simd"]
        browser.close()
    return results


def main():
    """Print the median and 95th percentile per depth; exit 1 over budget if asked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=25)
    parser.add_argument("--enforce-budgets", action="store_true")
    parser.add_argument("--javascript-loops", action="store_true")
    args = parser.parse_args()
    if not (SITE / PAGE).is_file():
        sys.exit(f"error: no {PAGE} in {SITE}: run 'make book' first")
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{PAGE}"
        results = measure(url, args.moves, args.javascript_loops)
    finally:
        server.shutdown()
    over = []
    kernel = "WebAssembly SIMD" if results.pop("simd") else "JavaScript loops (no SIMD)"
    print(f"website explorer ({kernel}), gain slider, {args.moves} moves each:")
    for (depth, steps, event, name), samples in results.items():
        samples = sorted(samples)
        median = statistics.median(samples)
        p95 = samples[max(0, round(0.95 * len(samples)) - 1)]
        when = "while dragging" if event == "input" else "on release"
        print(
            f"  {name:15s} depth {depth:3d}, {steps:2d} SGD steps, {when}: median {median:.0f} ms, "
            f"p95 {p95:.0f} ms (both networks computed and drawn)"
        )
        budget = BUDGETS_MS.get(depth) if steps == 0 else None
        if budget is not None and median > budget:
            over.append(f"{name}, depth {depth}: median {median:.0f} ms > {budget} ms")
    if over and args.enforce_budgets:
        sys.exit("over budget: " + "; ".join(over))


if __name__ == "__main__":
    main()
