"""Trained plain-56 and ResNet-56 for chapter 11: writes results/trained.json and their weights.

Both networks are trained with the setting that suits plain-56 best in the degradation experiment
(learning rate 0.03, 60 epochs; the rest of the recipe as there), so that the plain network is a
fair twin: it fits its training images nearly as well as the residual one. The weights go to
results/weights/NETWORK.npz (``resnet_book.results.save_weights``, about 1.6 MB each); chapter 11
deletes blocks from them, samples paths through them, and experiments/landscape.py maps the loss
around them. The run records, measured with the stored weights, go to results/trained.json.

Usage: python experiments/trained.py [--seed 0] [--jobs 2]
"""

import sys
import time

import runs

NETWORKS = ["plain-56", "resnet-56"]
LEARNING_RATE, NUM_EPOCHS = 0.03, 60
WEIGHTS = runs.ROOT / "results" / "weights"


def main():
    """Train both networks, store their weights, write the results file."""
    args = runs.command_line(__doc__.splitlines()[0], ("--seed", {"type": int, "default": 0}))
    start = time.perf_counter()
    plan = [
        (network, args.seed, LEARNING_RATE, NUM_EPOCHS, WEIGHTS / f"{network}.npz")
        for network in NETWORKS
    ]
    records = runs.run_all(plan, args.jobs)
    from resnet_book import results

    results.save(
        runs.ROOT / "results" / "trained.json",
        records,
        command=" ".join(["python experiments/trained.py", *sys.argv[1:]]),
        data=runs.DATA,
        recipe={
            **runs.RECIPE,
            "learning_rate": LEARNING_RATE,
            "num_epochs": NUM_EPOCHS,
            "jobs": args.jobs,
        },
        wall_seconds=time.perf_counter() - start,
    )
    print(f"wrote results/trained.json and {WEIGHTS} in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
