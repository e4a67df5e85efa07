"""Run nbval (strict) on each chapter separately; report time and peak memory.

Each notebook runs in its own pytest process, so its wall time includes the
kernel start and its peak memory is that of the largest process involved (the
kernel, in practice). Fails if a notebook fails nbval or exceeds the budgets of
DESIGN.md: 90 s and 1.5 GB per notebook.

Usage: python benchmarks/notebooks.py [--json FILE] [NOTEBOOK ...]
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
BUDGET_SECONDS = 90
BUDGET_MIB = 1536


def run_nbval(path):
    """Return (passed, seconds, peak MiB) of one strict nbval run."""
    command = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval",
        "--nbval-current-env", "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg"),
        str(path),
    ]  # fmt: skip
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)  # usage covers the kernel it started
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode == 0, seconds, usage.ru_maxrss / 1024


def main():
    """Benchmark every chapter (or those named) and enforce the budgets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path)
    parser.add_argument("--json", type=pathlib.Path, help="also write the figures here")
    args = parser.parse_args()
    paths = args.notebooks or sorted((ROOT / "chapters").glob("[0-9][0-9]-*.ipynb"))
    rows, failures = [], []
    for path in paths:
        passed, seconds, peak_mib = run_nbval(path)
        rows.append({"notebook": path.name, "passed": passed, "seconds": round(seconds, 1),
                     "peak_mib": round(peak_mib)})  # fmt: skip
        if not passed:
            failures.append(f"{path.name} failed nbval (see the output above)")
        if seconds > BUDGET_SECONDS:
            failures.append(f"{path.name} took {seconds:.0f} s (budget {BUDGET_SECONDS} s)")
        if peak_mib > BUDGET_MIB:
            failures.append(f"{path.name} peaked at {peak_mib:.0f} MiB (budget {BUDGET_MIB} MiB)")
    print(f"\n{'notebook':<40} {'nbval':>6} {'seconds':>8} {'peak MiB':>9}")
    for row in rows:
        status = "pass" if row["passed"] else "FAIL"
        print(f"{row['notebook']:<40} {status:>6} {row['seconds']:>8} {row['peak_mib']:>9}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    if failures:
        sys.exit("error: " + "; ".join(failures))


if __name__ == "__main__":
    main()
