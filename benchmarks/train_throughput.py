"""How fast does the training tool train on this machine? Images per second, by depth.

Runs the training command's own loop (``resnet_book.distributed``: the input pipeline with the
paper's augmentation, ``strategy.run`` of one step, the L2 term and SGD) on the synthetic
CIFAR-shaped data set, on one device (the first GPU, or the CPU), at the paper's batch of 128.
After a few warm-up steps, which compile the step, it times ``--blocks`` blocks of ``--steps``
steps each and reports the median images per second over the blocks, with the slowest and
fastest block. With ``--out``, the figures go to a JSON file with the machine's description too;
chapter 13 reads results/throughput.json, written by ``make benchmark-train``.

Usage: python benchmarks/train_throughput.py [--depths 20 56 110] [--steps 12] [--blocks 3]
       [--out FILE]
"""

import argparse
import datetime
import json
import pathlib
import statistics
import sys
import time

from resnet_book import distributed, pipeline, results, start_tensorflow, train

BATCH = 128
WARMUP_STEPS = 3


def images_per_second(depth, steps, blocks):
    """Images per second of ``blocks`` timed blocks of ``steps`` training steps each."""
    tf = start_tensorflow(seed=0)
    args = train.build_parser().parse_args(["--data", "synthetic", "--depth", str(depth)])
    strategy = distributed.distribution_strategy("one-device")
    dataset = train.load_data("synthetic")
    recipe = train.make_recipe(args, strategy.num_replicas_in_sync, len(dataset["train"][1]))
    state = distributed.initial_state(
        strategy, lambda: train.build_model(recipe, (32, 32, 3)), recipe
    )
    step = distributed.training_step(
        state["model"], state["optimizer"], BATCH, recipe["weight_decay"]
    )
    run = distributed.repeated(strategy, step, 2)
    seed = tf.constant(0, tf.int64)
    batches = iter(
        strategy.distribute_datasets_from_function(
            lambda context: pipeline.training_batches(dataset, BATCH, seed, 0, context)
        )
    )
    run(batches, tf.constant(WARMUP_STEPS)).numpy()
    rates = []
    for _ in range(blocks):
        start = time.perf_counter()
        run(batches, tf.constant(steps)).numpy()
        rates.append(steps * BATCH / (time.perf_counter() - start))
    return rates


def main():
    """Print one line per depth: median, slowest and fastest block in images per second."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", type=int, nargs="+", default=[20, 56, 110])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--blocks", type=int, default=3)
    parser.add_argument("--out", type=pathlib.Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    device = distributed.distribution_strategy("one-device").extended.worker_devices[0]
    print(f"batch {BATCH}, {args.blocks} x {args.steps} steps after {WARMUP_STEPS}, on {device}")
    measured = {}
    for depth in args.depths:
        rates = images_per_second(depth, args.steps, args.blocks)
        measured[depth] = [round(rate, 1) for rate in rates]
        print(
            f"ResNet-{depth}: {statistics.median(rates):.0f} images/s "
            f"(blocks {min(rates):.0f} to {max(rates):.0f})",
            flush=True,
        )
    if args.out:
        record = {
            "command": " ".join(["python benchmarks/train_throughput.py", *sys.argv[1:]]),
            "date": datetime.date.today().isoformat(),
            "machine": results.machine(),
            "device": device,
            "batch_size": BATCH,
            "steps": args.steps,
            "images_per_second": {f"resnet-{depth}": rates for depth, rates in measured.items()},
        }
        args.out.write_text(json.dumps(record, indent=1) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
