"""How fast does the training tool train on this machine? Images per second, by network and switch.

First the input pipeline alone (``resnet_book.trainer.pipeline``: gathering, standardising and
augmenting batches of the synthetic CIFAR-shaped data set, at the paper's batch of 128, nothing
trained). Then the tool's own training step (``resnet_book.trainer.loop``: ``strategy.run`` of
one step, the L2 term and SGD, fed by that pipeline) on one device, the first GPU or the CPU,
for each network in float32 and with each speed switch asked for (``--precision``, ``--jit``).
After a few warm-up steps, which compile the step, it times ``--blocks`` blocks of ``--steps``
steps each and reports the median images per second, with the slowest and fastest block. With
``--out``, the figures go to a JSON file with the machine's and the device's description;
chapter 13 reads results/throughput.json, written by ``make benchmark-train``.

Usage: python benchmarks/train_throughput.py [--depths 20 56 110] [--switches float32
       mixed_bfloat16 jit] [--steps 12] [--blocks 3] [--out FILE]
"""

import argparse
import datetime
import json
import pathlib
import statistics
import sys
import time

from resnet_book import results, start_tensorflow
from resnet_book.trainer import command, datasets, loop, networks, outputs, pipeline, recipe

BATCH = 128
WARMUP_STEPS = 3
SWITCHES = {
    "float32": [],
    "mixed_bfloat16": ["--precision", "mixed_bfloat16"],
    "mixed_float16": ["--precision", "mixed_float16"],
    "jit": ["--jit"],
    "mixed_bfloat16+jit": ["--precision", "mixed_bfloat16", "--jit"],
}


def pipeline_rates(steps, blocks):
    """Images per second of the input pipeline alone, ``blocks`` blocks of ``steps`` batches."""
    tf = start_tensorflow(seed=0)
    dataset = datasets.load("synthetic")
    seed = tf.constant(0, tf.int64)
    batches = iter(pipeline.training_batches(dataset, BATCH, seed, 0, tf.distribute.InputContext()))
    for _ in range(WARMUP_STEPS):
        next(batches)
    rates = []
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(steps):
            next(batches)
        rates.append(steps * BATCH / (time.perf_counter() - start))
    return rates


def training_rates(depth, switch, steps, blocks):
    """Images per second of ``blocks`` timed blocks of ``steps`` training steps each."""
    tf = start_tensorflow(seed=0)
    options = ["--data", "synthetic", "--depth", str(depth), *SWITCHES[switch]]
    args = command.build_parser().parse_args(options)
    strategy = loop.distribution_strategy("one-device")
    dataset = datasets.load("synthetic")
    made = recipe.make_recipe(args, strategy.num_replicas_in_sync, len(dataset.train[1]))
    state = loop.initial_state(
        strategy, lambda: networks.build_model(made, dataset.input_shape), made
    )
    step = loop.training_step(state["model"], state["optimizer"], BATCH, made.l2_decay, made.jit)
    run = loop.accumulating(strategy, step, state["totals"])
    seed = tf.constant(0, tf.int64)
    batches = iter(
        strategy.distribute_datasets_from_function(
            lambda context: pipeline.training_batches(dataset, BATCH, seed, 0, context)
        )
    )
    run(batches, tf.constant(WARMUP_STEPS))
    state["totals"].read_value().numpy()
    rates = []
    for _ in range(blocks):
        start = time.perf_counter()
        run(batches, tf.constant(steps))
        state["totals"].read_value().numpy()  # waits for the steps to finish
        rates.append(steps * BATCH / (time.perf_counter() - start))
    return rates


def line(label, rates):
    """``label: median images/s (blocks slowest to fastest)``."""
    return (
        f"{label:<28}{statistics.median(rates):8.0f} images/s "
        f"(blocks {min(rates):.0f} to {max(rates):.0f})"
    )


def main():
    """Print one line per measurement; with --out, write them to a JSON file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", type=int, nargs="+", default=[20, 56, 110])
    parser.add_argument(
        "--switches", nargs="+", choices=tuple(SWITCHES), default=["float32", "mixed_bfloat16"]
    )
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--blocks", type=int, default=3)
    parser.add_argument("--out", type=pathlib.Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    device = loop.distribution_strategy("one-device").extended.worker_devices[0]
    print(f"batch {BATCH}, {args.blocks} x {args.steps} steps after {WARMUP_STEPS}, on {device}")
    feeding = pipeline_rates(args.steps * 10, args.blocks)
    print(line("input pipeline alone", feeding), flush=True)
    measured = {switch: {} for switch in args.switches}
    for depth in args.depths:
        for switch in args.switches:
            rates = training_rates(depth, switch, args.steps, args.blocks)
            measured[switch][f"resnet-{depth}"] = [round(rate, 1) for rate in rates]
            print(line(f"ResNet-{depth} {switch}", rates), flush=True)
    if args.out:
        record = {
            "command": " ".join(["python benchmarks/train_throughput.py", *sys.argv[1:]]),
            "date": datetime.date.today().isoformat(),
            "machine": results.machine(),
            "device": device,
            "gpus": outputs.gpu_names(),
            "batch_size": BATCH,
            "steps": args.steps,
            "input_pipeline_images_per_second": [round(rate, 1) for rate in feeding],
            "images_per_second": measured.get("float32", {}),
            "switches": {key: value for key, value in measured.items() if key != "float32"},
        }
        args.out.write_text(json.dumps(record, indent=1) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
