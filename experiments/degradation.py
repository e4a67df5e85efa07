"""The degradation experiment of the paper, on 16x16 digits: writes results/degradation.json.

The main comparison trains plain-20, plain-56, ResNet-20 and ResNet-56 (BatchNorm everywhere,
zero-padding shortcuts) with the same recipe for several seeds. The controls train the two plain
networks at lower learning rates (0.01 and 0.03) and three times longer (at 0.03 and 0.1), to tell
a network that cannot be trained from a recipe that suits it badly. Every run records its per-epoch
history and, after training, the training loss and error measured in inference mode, the test
error and the wall time, in the format of ``resnet_book.results``. Chapter 7 reads the file.

Usage: python experiments/degradation.py [--seeds 0 1 2] [--epochs 20] [--jobs 2] [--out FILE]
"""

import argparse
import os
import pathlib
import sys
import time

from runs import DATA, RECIPE, run_all

ROOT = pathlib.Path(__file__).resolve().parent.parent
NETWORKS = ["plain-20", "plain-56", "resnet-20", "resnet-56"]
CONTROLS = ["plain-20", "plain-56"]
CONTROL_RATES = [0.01, 0.03]
LONGER, LONGER_RATES = 3, [0.03, 0.1]


def plan(seeds, num_epochs):
    """Every run as (network, seed, learning rate, epochs), the longest first."""
    rate = RECIPE["learning_rate"]
    runs = [(network, seed, rate, num_epochs) for seed in seeds for network in NETWORKS]
    runs += [(n, seed, r, num_epochs) for seed in seeds for r in CONTROL_RATES for n in CONTROLS]
    runs += [(network, seed, r, LONGER * num_epochs)
             for seed in seeds for r in LONGER_RATES for network in CONTROLS]  # fmt: skip
    return sorted(runs, key=lambda run: -run[3] * int(run[0].split("-")[1]))


def main():
    """Run every network for every seed and setting, and write the JSON file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "results" / "degradation.json")
    args = parser.parse_args()
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1. Received: {args.jobs}")
    start = time.perf_counter()
    runs = run_all(plan(args.seeds, args.epochs), args.jobs)
    from resnet_book import results

    results.save(
        args.out, runs,
        command=" ".join(["python experiments/degradation.py", *sys.argv[1:]]),
        data=DATA, recipe={"num_epochs": args.epochs, **RECIPE, "jobs": args.jobs},
        wall_seconds=time.perf_counter() - start,
    )  # fmt: skip
    print(f"wrote {args.out} in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
