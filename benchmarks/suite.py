"""Time every stage of ``make test`` and hold the whole to its budget.

Runs the stages one after the other, as ``make test`` does, each through ``make`` so that it
runs exactly what CI runs, and prints a table of wall times. The budgets of issue 20, on a
2-core machine with the environment installed: ``make test`` under 8 minutes and ``make unit``
under 60 s. ``--enforce-budgets`` turns a stage over its budget into a failure.

Usage: python benchmarks/suite.py [--enforce-budgets] [--json FILE]
"""

import argparse
import json
import os
import pathlib
import subprocess
import time

import budgets

ROOT = pathlib.Path(__file__).resolve().parent.parent
STAGES = (
    "lint",
    "unit",
    "slow-and-foreign-unit",
    "chapters-check",
    "browser-checks",
)
BUDGETS = {"unit": 60, "total": 8 * 60}


def run_stage(stage):
    """Run ``make STAGE``; its exit status and wall time in seconds."""
    start = time.perf_counter()
    status = subprocess.run(["make", stage], cwd=ROOT, env=os.environ).returncode
    return status, time.perf_counter() - start


def main():
    """Run the stages, print their times, and fail on a failed stage or a broken budget."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=pathlib.Path, help="also write the times here")
    parser.add_argument("--enforce-budgets", action="store_true", help="fail on a budget too")
    args = parser.parse_args()
    seconds, failed = {}, []
    for stage in STAGES:
        status, seconds[stage] = run_stage(stage)
        if status:
            failed.append(f"make {stage} failed (exit status {status})")
            break
    seconds["total"] = sum(seconds.values())
    print(f"\n{'stage':<14} {'seconds':>8}   (budgets: {BUDGETS})")
    for stage, value in seconds.items():
        print(f"{stage:<14} {value:>8.1f}")
    if args.json:
        args.json.write_text(json.dumps({k: round(v, 1) for k, v in seconds.items()}) + "\n")
    over = [
        f"{stage} took {seconds[stage]:.0f} s (budget {budget} s)"
        for stage, budget in BUDGETS.items()
        if seconds.get(stage, 0) > budget
    ]
    budgets.finish(failed, over, args.enforce_budgets)


if __name__ == "__main__":
    main()
