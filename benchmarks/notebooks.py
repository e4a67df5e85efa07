"""Run nbval (strict) on each chapter separately; report time and peak memory.

Each notebook runs in its own pytest process, so its wall time includes the
kernel start and its peak memory is that of the largest process involved (the
kernel, in practice). Fails if a notebook fails nbval. The budgets of DESIGN.md,
60 s (on 2 cores, so that a laptop 1.5 times slower stays under 90 s) and
1.5 GB per notebook, are always reported, and enforced with --enforce-budgets
(``make benchmark-notebooks``). ``make test`` in CI passes --enforce-memory: the memory budget
(Binder's 2 GB) holds on any machine, but the time budget is this machine's, and DESIGN.md
asks that a slower machine not fail the book's tests for being slow (CI's machines differ:
chapter 2 took 65 s here and 95 s on one of them, December 2026). An over-time chapter is
printed there as a note.

The 60 s are a reader's wait, one chapter at a time. With ``--jobs 2`` two chapters share the
two cores, and each takes longer: measured on 2 cores, 2 to 18% longer than alone (chapter 5 the
most). Run that way, each chapter's budget is 60 s times ``SHARED``, 1.25.

``--foreign-cpu NOTEBOOK`` (repeatable) runs that notebook as on another processor: NumPy on its
baseline instructions (every SIMD extension it dispatches to switched off) and TensorFlow without
oneDNN. ``make test`` runs each chapter once, the float-sensitive ones that way: their stored
outputs were made natively (``make notebooks``), so a pass shows they hold on both.

Usage: python benchmarks/notebooks.py [--enforce-budgets] [--jobs N] [--json FILE]
       [--foreign-cpu NOTEBOOK ...] [NOTEBOOK ...]
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

import budgets

ROOT = pathlib.Path(__file__).resolve().parent.parent
BUDGET_SECONDS = 60
SHARED = 1.25  # a chapter's time budget when two chapters run at once on 2 cores
BUDGET_MIB = 1536
# Seconds each chapter took under nbval, two at a time on 2 cores (make test, 2026-12-06).
# Only the order of the runs comes from it: the longest first, so that the two lanes end
# together (about 20 s sooner than in file order). A chapter missing here starts last.
LAST_SECONDS = {
    "07-degradation": 85,
    "05-keras-code": 75,
    "09-applications": 72,
    "13-training-at-scale": 68,
    "03-algorithm": 56,
    "02-core-idea": 53,
    "11-why-residual-networks-work": 51,
    "10-beyond-images": 47,
    "12-why-plain-networks-degrade": 38,
    "06-gradient-flow": 26,
    "01-why-depth-is-hard": 20,
    "08-deeper-blocks": 18,
    "04-mathematics": 12,
}


def nbval_command(path):
    """The strict nbval run of one notebook, in a pytest process of its own."""
    return [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--nbval",
        "--nbval-current-env",
        "--nbval-sanitize-with",
        str(ROOT / "tests" / "nbval_sanitize.cfg"),
        str(path),
    ]


def foreign_cpu_environment():
    """This process's environment, as on another processor (NumPy's SIMD and oneDNN off)."""
    from numpy._core._multiarray_umath import __cpu_dispatch__

    return os.environ | {
        "NPY_DISABLE_CPU_FEATURES": " ".join(__cpu_dispatch__),
        "TF_ENABLE_ONEDNN_OPTS": "0",
    }


def run_all(paths, jobs, foreign=()):
    """Run nbval on every notebook, ``jobs`` at a time; a row per notebook, in ``paths`` order.

    Notebooks in ``foreign`` run as on another processor. Each row holds whether it passed,
    its wall time and its peak memory: the largest resident set of its pytest process and of
    the kernel it started (``wait4`` reports both).
    """
    waiting = sorted(paths, key=lambda path: -LAST_SECONDS.get(path.stem, 0))  # longest first
    running, rows = {}, {}
    foreign = {path.resolve() for path in foreign}
    while waiting or running:
        while waiting and len(running) < jobs:
            path = waiting.pop(0)
            environment = foreign_cpu_environment() if path.resolve() in foreign else None
            process = subprocess.Popen(nbval_command(path), cwd=ROOT, env=environment)
            running[process.pid] = path, time.perf_counter()
        pid, status, usage = os.wait4(-1, 0)
        if pid not in running:
            continue
        path, start = running.pop(pid)
        rows[path] = {
            "notebook": path.name,
            "cpu": "foreign" if path.resolve() in foreign else "native",
            "passed": os.waitstatus_to_exitcode(status) == 0,
            "seconds": round(time.perf_counter() - start, 1),
            "peak_mib": round(usage.ru_maxrss / 1024),
        }
    return [rows[path] for path in paths]


def main():
    """Benchmark every chapter (or those named); report the budgets, or enforce them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path)
    parser.add_argument("--json", type=pathlib.Path, help="also write the figures here")
    parser.add_argument("--enforce-budgets", action="store_true", help="fail on a budget too")
    parser.add_argument(
        "--enforce-memory", action="store_true", help="fail on the memory budget (not time)"
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="notebooks run at once (default 1: budgets are for one at a time)",
    )
    parser.add_argument(
        "--foreign-cpu",
        type=pathlib.Path,
        action="append",
        default=[],
        metavar="NOTEBOOK",
        help="run this notebook as on another processor (repeatable)",
    )
    args = parser.parse_args()
    if args.jobs < 1:
        parser.error(f"--jobs must be a positive integer. Received: --jobs={args.jobs}")
    paths = args.notebooks or sorted((ROOT / "chapters").glob("[0-9][0-9]-*.ipynb"))
    start = time.perf_counter()
    unknown = [str(path) for path in args.foreign_cpu if not path.is_file()]
    if unknown:
        parser.error(f"--foreign-cpu names no notebook. Received: {unknown}")
    rows = run_all(paths, args.jobs, args.foreign_cpu)
    wall = time.perf_counter() - start
    failures, over, over_memory = [], [], []
    limit = BUDGET_SECONDS * (SHARED if args.jobs > 1 else 1)
    for row in rows:
        name, seconds, peak_mib = row["notebook"], row["seconds"], row["peak_mib"]
        if not row["passed"]:
            failures.append(f"{name} failed nbval (see the output above)")
        if seconds > limit:
            over.append(f"{name} took {seconds:.0f} s (budget {limit:.0f} s)")
        if peak_mib > BUDGET_MIB:
            over_memory.append(f"{name} peaked at {peak_mib:.0f} MiB (budget {BUDGET_MIB} MiB)")
    limits = f"budgets: {limit:.0f} s and {BUDGET_MIB} MiB per notebook"
    print(f"\n{'notebook':<40} {'cpu':>8} {'nbval':>6} {'seconds':>8} {'peak MiB':>9}   ({limits})")
    for row in rows:
        status = "pass" if row["passed"] else "FAIL"
        print(
            f"{row['notebook']:<40} {row['cpu']:>8} {status:>6} {row['seconds']:>8} "
            f"{row['peak_mib']:>9}"
        )
    total = sum(row["seconds"] for row in rows)
    print(f"{'total':<40} {'':>8} {'':>6} {total:>8.1f}")
    if args.jobs > 1:
        print(f"{'wall time, ' + str(args.jobs) + ' at a time':<40} {'':>8} {'':>6} {wall:>8.1f}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    if args.enforce_memory:
        failures += over_memory
    else:
        over += over_memory
    budgets.finish(failures, over, args.enforce_budgets)


if __name__ == "__main__":
    main()
