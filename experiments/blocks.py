"""The blocks of chapter 9, trained on 16x16 digits: writes results/blocks.json.

Two comparisons with the recipe of the degradation experiment, for several seeds: ResNet-20 with
each of the paper's shortcut options (zero-padding, projections where the shape changes,
projections everywhere; its Table 3 in miniature), and ResNet-56 built from the original block
(v1) against the same network built from pre-activation blocks (v2). Every run is stored in the
format of ``resnet_book.results``.

Usage: python experiments/blocks.py [--seeds 0 1 2] [--epochs 20] [--jobs 2] [--out FILE]
"""

import argparse
import os
import pathlib
import sys
import time

from runs import DATA, RECIPE, run_all

ROOT = pathlib.Path(__file__).resolve().parent.parent
NETWORKS = ["resnet-20-zero_pad", "resnet-20-projection", "resnet-20-all_projection",
            "resnet-56", "preact-56"]  # fmt: skip


def main():
    """Run every network for every seed and write the JSON file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "results" / "blocks.json")
    args = parser.parse_args()
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1. Received: {args.jobs}")
    start = time.perf_counter()
    plan = [(network, seed, RECIPE["learning_rate"], args.epochs)
            for network in reversed(NETWORKS) for seed in args.seeds]  # fmt: skip
    runs = run_all(plan, args.jobs)
    from resnet_book import results

    results.save(
        args.out, runs,
        command=" ".join(["python experiments/blocks.py", *sys.argv[1:]]),
        data=DATA, recipe={"num_epochs": args.epochs, **RECIPE, "jobs": args.jobs},
        wall_seconds=time.perf_counter() - start,
    )  # fmt: skip
    print(f"wrote {args.out} in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
