"""The degradation experiment of the paper, on 16x16 digits: writes results/degradation.json.

The main comparison trains plain-20, plain-56, ResNet-20 and ResNet-56 (BatchNorm everywhere,
zero-padding shortcuts) with the same recipe for several seeds. The controls train the two plain
networks at a lower learning rate (0.01 and 0.03) and three times longer, to tell a network that
cannot be trained from a recipe that suits it badly. Every run records its per-epoch history and,
after training, the training loss and error measured in inference mode, the test error and the
wall time, in the format of ``resnet_book.results``. Chapter 7 reads the file.

Runs go to ``--jobs`` worker processes with one TensorFlow thread each: these small networks keep
one core busy, and two single-threaded runs side by side finish sooner than two in turn.

Usage: python experiments/degradation.py [--seeds 0 1 2] [--epochs 20] [--jobs 2] [--out FILE]
"""

import argparse
import multiprocessing
import os
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
NETWORKS = ["plain-20", "plain-56", "resnet-20", "resnet-56"]
CONTROLS = ["plain-20", "plain-56"]
CONTROL_RATES = [0.01, 0.03]
LONGER = 3
RECIPE = {"batch_size": 64, "learning_rate": 0.1, "weight_decay": 1e-4, "warmup": 0.05}


def plan(seeds, num_epochs):
    """Every run as (network, seed, learning rate, epochs), the longest first."""
    rate = RECIPE["learning_rate"]
    runs = [(network, seed, rate, num_epochs) for seed in seeds for network in NETWORKS]
    runs += [(n, seed, r, num_epochs) for seed in seeds for r in CONTROL_RATES for n in CONTROLS]
    runs += [(network, seed, rate, LONGER * num_epochs) for seed in seeds for network in CONTROLS]
    return sorted(runs, key=lambda run: -run[3] * int(run[0].split("-")[1]))


def run(network, seed, learning_rate, num_epochs):
    """Train one network; return its run record."""
    from resnet_book import data, models, set_seed, training

    train_data, test_data = data.digits_images(size=16)
    kind, depth = network.split("-")
    set_seed(seed)
    build = models.cifar_resnet if kind == "resnet" else models.plain_net
    model = build(int(depth), input_shape=train_data[0].shape[1:])
    recipe = {**RECIPE, "learning_rate": learning_rate}
    start = time.perf_counter()
    history = training.train(model, train_data, test_data, num_epochs, verbose=False, **recipe)
    seconds = time.perf_counter() - start
    train_loss, train_accuracy = model.evaluate(*train_data, verbose=0)
    _, test_accuracy = model.evaluate(*test_data, verbose=0)
    record = {
        "network": network, "seed": seed, "learning_rate": learning_rate,
        "num_epochs": num_epochs,
        "history": {name: [round(v, 6) for v in values] for name, values in history.items()},
        "train_loss": round(train_loss, 6), "train_error": round(1 - train_accuracy, 6),
        "test_error": round(1 - test_accuracy, 6), "seconds": round(seconds, 1),
    }  # fmt: skip
    print(
        f"{network} seed {seed} rate {learning_rate} {num_epochs} epochs: train loss "
        f"{record['train_loss']:.4f}, test error {record['test_error']:.3f}, {seconds:.0f} s",
        flush=True,
    )
    return record


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
    if args.jobs > 1:
        os.environ["TF_NUM_INTRAOP_THREADS"] = os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    start = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
        runs = pool.starmap(run, plan(args.seeds, args.epochs), chunksize=1)
    from resnet_book import results

    results.save(
        args.out, runs,
        command=" ".join(["python experiments/degradation.py", *sys.argv[1:]]),
        data="scikit-learn digits, 16x16, 1,437 train / 360 test",
        recipe={"num_epochs": args.epochs, **RECIPE, "jobs": args.jobs},
        wall_seconds=time.perf_counter() - start,
    )  # fmt: skip
    print(f"wrote {args.out} in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
