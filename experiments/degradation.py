"""The degradation experiment of the paper, on 16x16 digits: writes results/degradation.json.

Trains plain-20, plain-56, ResNet-20 and ResNet-56 (BatchNorm everywhere, option A shortcuts)
with the same recipe for several seeds, and records per-epoch histories and, after training,
the training loss and error measured in inference mode, the test accuracy and the wall time.
Chapter 7 plots this file beside a shorter live run.

Usage: python experiments/degradation.py [--seeds 0 1 2] [--epochs 20] [--out FILE]
"""

import argparse
import datetime
import json
import os
import pathlib
import platform
import sys
import time

from resnet_book import data, models, set_seed, training

ROOT = pathlib.Path(__file__).resolve().parent.parent
NETWORKS = [("plain", 20), ("plain", 56), ("resnet", 20), ("resnet", 56)]
RECIPE = {"batch_size": 64, "learning_rate": 0.1, "weight_decay": 1e-4, "warmup": 0.05}


def processor_name():
    """The CPU model from /proc/cpuinfo, or platform's guess elsewhere."""
    cpuinfo = pathlib.Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def run(kind, depth, seed, num_epochs, train_data, test_data):
    """Train one network; return its histories and final measurements."""
    set_seed(seed)
    build = models.cifar_resnet if kind == "resnet" else models.plain_net
    model = build(depth, input_shape=train_data[0].shape[1:])
    start = time.perf_counter()
    history = training.train(model, train_data, test_data, num_epochs, verbose=False, **RECIPE)
    seconds = time.perf_counter() - start
    train_loss, train_accuracy = model.evaluate(*train_data, verbose=0)
    _, test_accuracy = model.evaluate(*test_data, verbose=0)
    return {
        "network": f"{kind}-{depth}",
        "seed": seed,
        "history": {name: [round(v, 6) for v in values] for name, values in history.items()},
        "train_loss": round(train_loss, 6),
        "train_error": round(1 - train_accuracy, 6),
        "test_error": round(1 - test_accuracy, 6),
        "seconds": round(seconds, 1),
    }


def main():
    """Run every network for every seed and write the JSON file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "results" / "degradation.json")
    args = parser.parse_args()
    train_data, test_data = data.digits_images(size=16)
    start = time.perf_counter()
    runs = []
    for seed in args.seeds:
        for kind, depth in NETWORKS:
            runs.append(run(kind, depth, seed, args.epochs, train_data, test_data))
            last = runs[-1]
            print(
                f"seed {seed} {last['network']}: train loss {last['train_loss']:.4f}, "
                f"test error {last['test_error']:.3f}, {last['seconds']:.0f} s",
                flush=True,
            )
    import keras
    import tensorflow as tf

    result = {
        "command": "python experiments/degradation.py " + " ".join(sys.argv[1:]),
        "date": datetime.date.today().isoformat(),
        "machine": {
            "processor": processor_name(),
            "cores": os.cpu_count(),
            "system": platform.platform(),
            "python": platform.python_version(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
        },  # fmt: skip
        "data": "scikit-learn digits, 16x16, 1,437 train / 360 test",
        "recipe": {"num_epochs": args.epochs, **RECIPE},
        "wall_seconds": round(time.perf_counter() - start),
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out} in {result['wall_seconds']} s")


if __name__ == "__main__":
    main()
