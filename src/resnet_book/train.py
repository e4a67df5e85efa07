"""``python -m resnet_book.train``: the paper's CIFAR-10 networks trained at full scale.

``--help`` explains it. It trains one network of the paper's CIFAR-10 family with the paper's
recipe (section 4.2) on one device, every GPU of a machine, or several machines, through
:mod:`resnet_book.distributed`; it prints one line per epoch, saves a checkpoint after every epoch
and resumes from it when started again, and writes the run in the format of
:mod:`resnet_book.results`, which the book's plots read. This module holds the command: its
options, the recipe and how it scales with the number of replicas, the data sets and networks
it knows.

Used by the training tool; taught in chapters/13-training-at-scale.ipynb.
"""

import argparse
import math
import pathlib
import shlex
import sys
import textwrap
import time

import numpy as np

from resnet_book import arguments, cifar10, data, distributed, models, results, runtime
from resnet_book.backend import keras, tf

# The paper's CIFAR-10 recipe (section 4.2), stated for its batch of 128 images.
PAPER = {
    "batch_size": 128,
    "learning_rate": 0.1,
    "momentum": 0.9,
    "weight_decay": 1e-4,
    "iterations": 64_000,
    "milestones": (0.5, 0.75),
    "warmup_iterations": 400,
    "warmup_depth": 110,
}
RAMP_EPOCHS = 5  # Goyal et al.'s gradual warm-up
SMALL_DATA_EPOCHS = 20  # digits and mnist1d, as in the book's degradation experiment
DATA_SETS = ("cifar10", "digits", "mnist1d", "synthetic")
PROG = "python -m resnet_book.train"
DESCRIPTION = """\
Train a residual (or plain) network of the paper's CIFAR-10 family (He et al. 2016, section
4.2) with the paper's recipe, on one device, on every GPU of this machine, or on several
machines, and write the run to a JSON file that the book's plots read (resnet_book.results)."""

EPILOG = """\
the recipe (the paper's, for cifar10 and synthetic):
  SGD with momentum 0.9 and weight decay 1e-4 as an L2 term in the loss, whose gradient passes
  through the momentum, on every trainable weight as fb.resnet.torch does (the ResNet authors
  decayed only the convolutions' weights, by fb.resnet.torch's account); batch 128; learning
  rate 0.1, divided by 10 after 32k and 48k iterations, stop at 64k; the per-pixel mean
  subtracted; 4 pixels of zero padding on each side (after the subtraction, so the border
  holds the mean), a random 32x32 crop and a random horizontal flip. Networks of 110 layers
  or more first
  train at a tenth of the rate for 400 iterations: the paper warms up "until the training error
  is below 80% (about 400 iterations)". digits and mnist1d: the same optimiser and schedule, 20
  epochs, no augmentation.

scaling with the number of replicas:
  A replica is one device working on its share of every batch: each GPU, or the CPU.
  --batch-size is the global batch, split evenly over the replicas; it defaults to 128 per
  replica. The learning rate scales linearly with the global batch (Goyal et al. 2017):
  rate = --learning-rate x batch / 128. The default iteration counts (64k, and the 400 of the
  warm-up) scale by 128 / batch, so that a run sees as many epochs at any scale; the rate is
  divided after 50% and 75% of the run. Large batches want a gradual warm-up (Goyal et al.):
  --warmup-ramp raises the rate linearly over the first 5 epochs, from the paper's tenth.
  --batch-size 128 keeps the paper's numbers on any number of replicas. BatchNorm normalises
  each replica's share by its own statistics, the usual practice on several GPUs;
  --sync-batchnorm uses those of the global batch, so that any number of replicas trains as
  one device would. The moving averages that the model keeps for inference are averaged over
  the replicas after every epoch.

strategies:
  one-device    the first GPU, or the CPU
  mirrored      MirroredStrategy over every GPU of this machine; without a GPU, over the CPU's
                logical devices (one, unless --cpu-devices splits it)
  multi-worker  MultiWorkerMirroredStrategy over every GPU of every machine listed in the
                TF_CONFIG environment variable; start the same command on each machine, with
                its own task index. Worker 0 prints, writes the JSON and the checkpoints, which
                must be on storage that every worker reads (NFS, a bucket).

checkpoints:
  After every epoch the model, the optimiser and the curves are saved to --checkpoint-dir.
  Started again with the same arguments, the run continues from the last epoch saved; the data
  order and the augmentation depend on the seed and the epoch only, so it sees what it would
  have seen without the interruption. A directory that holds another run is refused; the
  checkpoints of a finished run are deleted. Under multi-worker, when one worker stops the
  others stop too, within seconds; start them all again.

data:
  cifar10    50,000 training and 10,000 test images; --validation trains on the first 45,000
             and tests on the last 5,000, the split on which the paper chose its schedule.
             Downloaded once by Keras into $KERAS_HOME/datasets (default ~/.keras/datasets);
             without a network connection, copy cifar-10-python.tar.gz there under the name
             cifar-10-batches-py-target_archive (the error message gives the full path).
  digits     scikit-learn's 1,797 handwritten digits as 16x16 images (1,437 train, 360 test)
  mnist1d    MNIST-1D's 4,000 + 1,000 signals of length 40, generated; the networks see them
             as 40x1 images, so each 3x3 kernel acts as a kernel of 3 along the signal
  synthetic  5,000 + 1,000 images of random pixels and labels in CIFAR-10's shape: measures
             throughput and checks a set-up without the data set

output:
  One line per epoch: training loss and error (averaged over the epoch, in training mode),
  test loss and error, the learning rate at the start of the epoch and the images per second
  (the first epoch's include compiling the step). The JSON file holds the command, the machine,
  the recipe, the curves and, measured after training in inference mode, the training loss
  and error and the test error.

exit status:
  0 when the run is complete, 1 when it stops early (a missing data set, a worker that stopped,
  an interruption; start it again to resume), 2 for invalid arguments.

examples:
  python -m resnet_book.train --depth 110 --data cifar10
  python -m resnet_book.train --depth 56 --strategy mirrored --batch-size 512
  TF_CONFIG='{"cluster": {"worker": ["host1:12345", "host2:12345"]},
             "task": {"type": "worker", "index": 0}}' \\
    python -m resnet_book.train --depth 56 --strategy multi-worker --checkpoint-dir /nfs/run56
  python -m resnet_book.train --depth 20 --data digits --epochs 5 --out resnet20-digits.json"""


def build_parser():
    """The command line: model, data, recipe, distribution and output options."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=lambda prog: argparse.RawDescriptionHelpFormatter(
            prog, max_help_position=34, width=100
        ),
    )
    model = parser.add_argument_group("model")
    model.add_argument(
        "--network",
        choices=("resnet", "plain"),
        default="resnet",
        help="residual, or its plain twin without shortcuts (default: resnet)",
    )
    model.add_argument(
        "--depth",
        type=int,
        default=20,
        help="weighted layers, 6n+2: 20, 32, 44, 56, 110, ... (default: 20)",
    )
    model.add_argument(
        "--shortcut",
        choices=tuple(models.SHORTCUTS),
        help="the paper's options A, B, C for a residual network (default: "
        "zero_pad, the paper's choice for CIFAR-10)",
    )
    model.add_argument(
        "--block",
        choices=("v1", "v2"),
        default="v1",
        help="v1: the paper's block; v2: the pre-activation block of He et al. "
        "2016c, for a residual network (default: v1)",
    )
    model.add_argument(
        "--width", type=int, default=16, help="filters of the first stage (default: 16)"
    )
    dataset = parser.add_argument_group("data")
    dataset.add_argument(
        "--data", choices=DATA_SETS, default="cifar10", help="the data set (default: cifar10)"
    )
    dataset.add_argument(
        "--validation",
        action="store_true",
        help="cifar10: train on 45,000 images, test on the other 5,000",
    )
    recipe = parser.add_argument_group("recipe")
    length = recipe.add_mutually_exclusive_group()
    length.add_argument(
        "--epochs",
        type=int,
        help="passes over the training set (default: 20 on digits and mnist1d)",
    )
    length.add_argument(
        "--iterations",
        type=int,
        help="optimiser steps (default: 64,000 x 128 / batch on cifar10 and synthetic)",
    )
    recipe.add_argument(
        "--batch-size",
        type=int,
        help="global batch, a multiple of the replicas (default: 128 per replica)",
    )
    recipe.add_argument(
        "--learning-rate",
        type=float,
        default=PAPER["learning_rate"],
        help="initial rate for a batch of 128, scaled with the batch (default: 0.1)",
    )
    recipe.add_argument(
        "--weight-decay",
        type=float,
        default=PAPER["weight_decay"],
        help="L2 coefficient (default: 1e-4)",
    )
    recipe.add_argument(
        "--warmup-iterations",
        type=int,
        help="steps at a tenth of the rate first (default: 400 x 128 / batch for "
        "110 layers or more on cifar10 and synthetic, else 0)",
    )
    recipe.add_argument(
        "--warmup-ramp",
        action="store_true",
        help="during the warm-up, raise the rate linearly from a tenth of --learning-rate (the "
        "paper's warm-up rate) to the scaled rate, instead of holding it at a tenth: a hybrid "
        "of the paper's start and the gradual ramp Goyal et al. use for large batches (they "
        "ramp from the unscaled rate); without --warmup-iterations, over the "
        "first 5 epochs or until the first division of the rate, whichever comes first",
    )
    recipe.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the weights, the data order and the augmentation (default: 0)",
    )
    recipe.add_argument(
        "--deterministic",
        action="store_true",
        help="bit-identical repeat runs (TensorFlow's op determinism; slower on GPU)",
    )
    distribution = parser.add_argument_group("distribution")
    distribution.add_argument(
        "--strategy",
        choices=distributed.STRATEGIES,
        default="one-device",
        help="how to spread the work (default: one-device; see below)",
    )
    distribution.add_argument(
        "--cpu-devices",
        type=int,
        metavar="N",
        help="split the CPU into N logical devices, so that mirrored finds N replicas on a "
        "machine without GPUs (to try a set-up; no faster)",
    )
    distribution.add_argument(
        "--sync-batchnorm",
        action="store_true",
        help="BatchNorm statistics over the global batch, not per replica",
    )
    output = parser.add_argument_group("output")
    output.add_argument(
        "--out", type=pathlib.Path, help="the JSON file (default: NETWORK-DEPTH-DATA-seedSEED.json)"
    )
    output.add_argument(
        "--checkpoint-dir",
        type=pathlib.Path,
        help="where the checkpoints go (default: the JSON file's name with "
        "the suffix .checkpoints)",
    )
    return parser


def check_model_arguments(args):
    """Raise ValueError for a model or data set that cannot be had, before any work starts."""
    models.blocks_per_stage(args.depth)
    arguments.check_integer("width", args.width, 1)
    if args.network == "plain" and (args.shortcut or args.block != "v1"):
        raise ValueError("a plain network has no shortcut and no v2 block; drop --shortcut/--block")
    if args.validation and args.data != "cifar10":
        arguments.reject("data", args.data, "'cifar10' for --validation (the paper's 45k/5k split)")


def network_name(args):
    """The run's name in the results file: ``resnet-110``, ``plain-20``, ``resnet-v2-56``."""
    return f"{args.network}{'-v2' if args.block == 'v2' else ''}-{args.depth}"


def load_data(name, validation=False):
    """One of ``DATA_SETS`` as arrays, with how to standardise and whether to augment it.

    Returns:
        A dict: ``train`` and ``test`` as ``(images, labels)`` NHWC; ``scale`` and
        ``offset``, by which the pipeline turns an image into ``image * scale - offset``;
        ``augment``; ``description`` for the results file.

    Raises:
        FileNotFoundError: If CIFAR-10 is not cached and cannot be downloaded.
    """
    arguments.check_choice("data", name, DATA_SETS)
    if name in ("cifar10", "synthetic"):
        if name == "cifar10":
            train, test = cifar10.load_data(validation)
        else:
            rng = np.random.default_rng(0)
            train, test = [
                (rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, n))
                for n in (5000, 1000)
            ]
        offset = train[0].mean(axis=0, dtype=np.float64) / 255  # the paper's per-pixel mean
        scaling = {"scale": 1 / 255, "offset": offset.astype(np.float32), "augment": True}
    else:
        if name == "digits":
            train, test = data.digits_images(size=16)
        else:
            train, test = [(x[..., None], y) for x, y in data.mnist1d_signals()]
        scaling = {"scale": 1.0, "offset": np.float32(0), "augment": False}  # already standard
    shape = "x".join(str(size) for size in train[0].shape[1:])
    test_name = "validation" if validation else "test"
    description = f"{name}, {len(train[0]):,} train / {len(test[0]):,} {test_name} ({shape})"
    return {"train": train, "test": test, "description": description, **scaling}


def global_batch(args, replicas, num_train=None):
    """``--batch-size``, or 128 images per replica; ValueError if it does not split evenly."""
    batch = PAPER["batch_size"] * replicas if args.batch_size is None else args.batch_size
    arguments.check_integer("batch_size", batch, 1, num_train)
    if batch % replicas:
        arguments.reject("batch_size", batch, f"a multiple of the {replicas} replicas")
    return batch


def make_recipe(args, replicas, num_train):
    """The paper's recipe for this run: scaled to the global batch, counts resolved.

    Raises:
        ValueError: If the batch does not split evenly over the replicas, exceeds
            the training set, or a count is out of range.
    """
    batch = global_batch(args, replicas, num_train)
    scale = batch / PAPER["batch_size"]  # the linear scaling rule
    steps_per_epoch = num_train // batch
    paper_data = args.data in ("cifar10", "synthetic")
    if args.iterations is not None:
        iterations = arguments.check_integer("iterations", args.iterations, 1)
    elif args.epochs is not None:
        iterations = arguments.check_integer("epochs", args.epochs, 1) * steps_per_epoch
    elif paper_data:
        iterations = round(PAPER["iterations"] / scale)
    else:
        iterations = SMALL_DATA_EPOCHS * steps_per_epoch
    milestones = [max(1, round(m * iterations)) for m in PAPER["milestones"]]
    warmup = args.warmup_iterations
    if warmup is None and args.warmup_ramp:
        warmup = min(RAMP_EPOCHS * steps_per_epoch, milestones[0] - 1)
    elif warmup is None:  # the paper's, cut short in a run that divides the rate sooner
        deep = args.depth >= PAPER["warmup_depth"] and paper_data
        warmup = min(round(PAPER["warmup_iterations"] / scale), milestones[0] - 1) if deep else 0
    arguments.check_integer("warmup_iterations", warmup, 0, milestones[0] - 1)
    arguments.check_positive("learning_rate", args.learning_rate)
    if not args.weight_decay >= 0:
        arguments.reject("weight_decay", args.weight_decay, "non-negative")
    return {
        "network": args.network,
        "depth": args.depth,
        "block": args.block,
        "shortcut": None if args.network == "plain" else args.shortcut or "zero_pad",
        "width": args.width,
        "data": args.data,
        "validation": args.validation,
        "batch_size": batch,
        "learning_rate": args.learning_rate * scale,
        "base_learning_rate": args.learning_rate,
        "momentum": PAPER["momentum"],
        "weight_decay": args.weight_decay,
        "iterations": iterations,
        "milestones": milestones,
        "warmup_iterations": warmup,
        "steps_per_epoch": steps_per_epoch,
        "warmup_ramp_from": args.learning_rate / 10 if args.warmup_ramp else None,
        "num_epochs": math.ceil(iterations / steps_per_epoch),
        "seed": args.seed,
        "sync_batchnorm": args.sync_batchnorm,
        "deterministic": args.deterministic,
        "strategy": args.strategy,
        "replicas": replicas,
    }


def build_model(recipe, input_shape, num_classes=10):
    """The network the recipe names, for images of ``input_shape``."""
    options = {"input_shape": input_shape, "num_classes": num_classes, "width": recipe["width"]}
    if recipe["network"] == "plain":
        model = models.plain_net(recipe["depth"], **options)
    else:
        build = models.cifar_resnet if recipe["block"] == "v1" else models.preactivation_resnet
        model = build(recipe["depth"], recipe["shortcut"], **options)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.synchronized = recipe["sync_batchnorm"]  # read by the layer at every call
    return model


def run_record(name, recipe, history, final):
    """The run in the format of :mod:`resnet_book.results` (its ``RUN_KEYS``)."""
    return {
        "network": name,
        "seed": recipe["seed"],
        "learning_rate": recipe["learning_rate"],
        "num_epochs": recipe["num_epochs"],
        "history": {key: [round(value, 6) for value in values] for key, values in history.items()},
        "train_loss": round(final["train_loss"], 6),
        "train_error": round(final["train_error"], 6),
        "test_error": round(final["test_error"], 6),
        "seconds": round(sum(history["seconds"]), 1),
    }


def gpu_names():
    """The model names of this machine's GPUs, for the results file."""
    gpus = tf.config.list_physical_devices("GPU")
    return [
        tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name) for gpu in gpus
    ]


def stopped_worker_message(error, checkpoint_dir):
    """What to say when a collective operation failed because another worker stopped."""
    lines = [line.strip() for line in error.message.splitlines() if line.strip()]
    noise = ("Graph execution error", "Detected at node", "File ", "[[", "The error could be")
    lines = [line for line in lines if not line.startswith(noise)] or ["no reason given"]
    reason = " ".join(lines[:2]) if lines[0].endswith(":") else lines[0]  # "...: /job:worker/..."
    return (
        f"a worker stopped ({reason[:300]}). Start every worker again with the same command to "
        f"resume from the last checkpoint in {checkpoint_dir}."
    )


def plan(name, dataset, recipe, checkpoint_dir):
    """The line printed before training: what trains on what, where, how long."""
    return (
        f"{name} on {dataset['description']}: {recipe['replicas']} replica(s) "
        f"({recipe['strategy']}), batch {recipe['batch_size']}, learning rate "
        f"{recipe['learning_rate']:.4g}, {recipe['iterations']} iterations "
        f"({recipe['num_epochs']} epochs), checkpoints in {checkpoint_dir}"
    )


def prepare(args):
    """The strategy, the data set and the recipe of a run.

    Raises:
        ValueError: If an argument is invalid.
        FileNotFoundError: If CIFAR-10 is not cached and cannot be downloaded.
    """
    check_model_arguments(args)
    if args.cpu_devices is not None:
        runtime.split_cpu(args.cpu_devices)
    strategy = distributed.distribution_strategy(args.strategy)
    global_batch(args, strategy.num_replicas_in_sync)  # before a download
    dataset = load_data(args.data, args.validation)
    recipe = make_recipe(args, strategy.num_replicas_in_sync, len(dataset["train"][1]))
    return strategy, dataset, recipe


def main(argv=None):
    """Run the command; return 0 when the run is complete (the exit codes are in ``--help``)."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        strategy, dataset, recipe = prepare(args)
    except ValueError as error:
        parser.error(str(error))
    except FileNotFoundError as error:
        parser.exit(1, f"{PROG}: error: {error}\n")
    if args.deterministic:
        runtime.set_seed(args.seed)  # also TensorFlow's op determinism
    else:
        keras.utils.set_random_seed(args.seed)
    name, chief = network_name(args), distributed.is_chief(strategy)
    out = args.out or pathlib.Path(f"{name}-{args.data}-seed{args.seed}.json")
    checkpoint_dir = args.checkpoint_dir or out.with_suffix(".checkpoints")
    if chief:
        print(textwrap.fill(plan(name, dataset, recipe, checkpoint_dir), 100), flush=True)
    try:
        history, final, _ = distributed.fit(
            strategy,
            lambda: build_model(recipe, dataset["train"][0].shape[1:]),
            dataset,
            recipe,
            checkpoint_dir,
            log=lambda line: print(line, flush=True),
        )
    except distributed.OtherRunError as error:
        parser.exit(1, f"{PROG}: error: {error}\n")
    except (tf.errors.UnavailableError, tf.errors.CancelledError) as error:
        parser.exit(1, f"{PROG}: error: {stopped_worker_message(error, checkpoint_dir)}\n")
    except KeyboardInterrupt:
        parser.exit(1, f"{PROG}: interrupted; run the same command to resume.\n")
    if chief:
        results.save(
            out,
            [run_record(name, recipe, history, final)],
            command=f"{PROG} {shlex.join(argv)}",
            data=dataset["description"],
            recipe={**recipe, "gpus": gpu_names()},
            wall_seconds=time.perf_counter() - start,
        )
        print(
            f"{name}: training error {final['train_error']:.4f}, test error "
            f"{final['test_error']:.4f}; wrote {out}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
