"""Trained plain-56 and ResNet-56 for chapter 11: writes results/trained.json and their weights.

Both networks are trained with the setting that suits plain-56 best in the degradation experiment
(learning rate 0.03, 60 epochs; the rest of the recipe as there), so that the plain network is a
fair twin: it fits its training images nearly as well as the residual one. Each is trained with
seeds 0, 1 and 2 (the seed sets the initial weights and the order of the batches; training is
deterministic on one processor). The weights go to results/weights/NETWORK.npz for seed 0 and
results/weights/NETWORK-seedS.npz for seed S (``resnet_book.results.save_weights``, about 1.6 MB
each); chapter 11 deletes blocks from them, samples paths through them, and
experiments/lesion.py and experiments/landscape.py measure them. The run records, measured with
the stored weights, go to results/trained.json, each with the processor it was trained on.

``--reuse results/trained.json`` keeps the runs of that file that the plan still contains (same
network, seed, rate and epochs, and the same recipe: ``runs.reusable``) and whose weights file
exists, and trains only the missing ones.
Training is deterministic on one processor with the same threads: the plain-56 runs here repeat
experiments/degradation.py's runs of the same recipe epoch for epoch (chapter 11 checks it), but
another processor may give other weights, so keeping the weights keeps what lesion.json and
landscape.json measured. Without it, six runs of 350 to 750 s each, two at a time, on 2 cores of
an Intel Xeon shared with other work (December 2026).

Usage: python experiments/trained.py [--seeds 0 1 2] [--reuse FILE] [--jobs 2]
"""

import json
import pathlib
import sys
import time

import runs

NETWORKS = ["plain-56", "resnet-56"]
LEARNING_RATE, NUM_EPOCHS = 0.03, 60
WEIGHTS = runs.ROOT / "results" / "weights"


def weights(network, seed):
    """The file of the weights of ``network`` trained with ``seed``."""
    return WEIGHTS / (f"{network}.npz" if seed == 0 else f"{network}-seed{seed}.npz")


def digest(network, seed):
    """The SHA-256 of the stored weights of ``network`` trained with ``seed``: names and values.

    The arrays, not the file: the zip archive also records when it was written.
    """
    import hashlib

    import numpy as np

    sha = hashlib.sha256()
    with np.load(weights(network, seed)) as stored:
        for name in sorted(stored.files):
            value = stored[name]
            sha.update(f"{name} {value.dtype} {value.shape}".encode())
            sha.update(value.tobytes())
    return sha.hexdigest()


def main():
    """Train both networks for every seed, store their weights, write the results file."""
    args = runs.command_line(
        __doc__.splitlines()[0], runs.SEEDS, ("--reuse", {"type": pathlib.Path, "default": None})
    )
    start = time.perf_counter()
    from resnet_book import results

    plan = [
        (network, seed, LEARNING_RATE, NUM_EPOCHS, weights(network, seed))
        for seed in args.seeds
        for network in NETWORKS
    ]
    kept = {}
    if args.reuse is not None and args.reuse.exists():
        kept = runs.reusable(args.reuse, [task[:4] for task in plan])
        processor = json.loads(args.reuse.read_text())["machine"]["processor"]
        for run in kept.values():
            run.setdefault("processor", processor)
    todo = [task for task in plan if task[:4] not in kept or not task[4].exists()]
    print(f"reusing {len(plan) - len(todo)} of {len(plan)} runs", flush=True)
    for run in runs.run_all(todo, args.jobs) if todo else []:
        kept[run["network"], run["seed"], run["learning_rate"], run["num_epochs"]] = {
            **run,
            "processor": results.processor_name(),
        }
    records = [kept[task[:4]] for task in plan]

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
