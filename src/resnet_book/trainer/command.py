"""``python -m resnet_book.train``: the command line of the training tool.

``--help`` explains it. This module holds the options, the checks made before any data loads,
and the run from start to end: it writes the results, the model and the log
(:mod:`resnet_book.trainer.outputs`) before it deletes the checkpoints.

Used by the training tool; taught in chapters/13-training-at-scale.ipynb.
"""

import argparse
import contextlib
import dataclasses
import math
import os
import pathlib
import shlex
import subprocess
import sys
import textwrap
import time

from resnet_book import arguments, models, results, runtime
from resnet_book.backend import keras, tf
from resnet_book.trainer import checkpoints, datasets, loop, networks, outputs, recipe

PROG = "python -m resnet_book.train"
DESCRIPTION = """\
Train a residual (or plain) network of the paper's CIFAR-10 family (He et al. 2016, section
4.2) with the paper's recipe, on one device, on every GPU of this machine, or on several
machines. A run writes its results (JSON, read by the book's plots), the trained model (.keras)
and a per-epoch log (CSV)."""

EPILOG = """\
the recipe (the paper's, for cifar10 and synthetic):
  SGD with momentum 0.9; L2 weight decay 1e-4 (a term in the loss, whose gradient passes
  through the momentum) on every trainable weight; batch 128; learning rate 0.1, divided by 10
  after 32k and 48k iterations, stop at 64k; the per-pixel mean subtracted; 4 pixels of zero
  padding on each side, a random 32x32 crop and a random horizontal flip. Networks of 110
  layers or more, and --block v2 at every depth (He et al. 2016c), first train 400 iterations
  at a tenth of the rate (the paper warms up "until the training error is below 80%").
  digits and mnist1d: the same, 20 epochs, no augmentation.

scaling with the number of replicas:
  A replica is one device working on its share of every batch: each GPU, or the CPU.
  --batch-size is the global batch; it defaults to 128 per replica. The learning rate scales
  with it (Goyal et al. 2017): rate = --learning-rate x batch / 128, and the default iteration
  counts by 128 / batch. Above the paper's batch of 128 the gradual warm-up is on by default:
  the rate rises linearly from a tenth of --learning-rate over the first 5 epochs (or until
  the first division of the rate); --no-warmup-ramp turns it off. No scaled run has been
  checked against the paper's errors. --batch-size 128 keeps the paper's numbers on any number
  of replicas. BatchNorm normalises each replica's share; --sync-batchnorm normalises the
  global batch, so that any number of replicas trains as one device would.

strategies:
  one-device    the first GPU, or the CPU
  mirrored      every GPU of this machine; on a machine without a GPU it is an error, unless
                --allow-cpu (or --cpu-devices) mirrors over the CPU's logical devices
  multi-worker  every GPU of every machine in the TF_CONFIG environment variable (the same
                command on each, with its own task index); without GPUs, as for mirrored.
                Worker 0 prints and writes, on storage every worker reads (NFS, a bucket), and
                loads CIFAR-10 first while the others wait (one download where the workers
                share a Keras folder, one per machine otherwise). A worker gives up (status
                137) when the others have not all started, or worker 0 has not loaded the
                data, within --peer-timeout seconds.

checkpoints:
  The model, the optimiser and the curves are saved to --checkpoint-dir after every
  --checkpoint-every epochs, and when the process receives SIGTERM (as a cloud machine taken
  back does): it saves at the next of its steps and exits with status 1. Started again with
  the same arguments, a run continues from the last checkpoint, seeing the data it would have
  seen without the interruption. A folder that holds another run is refused. The checkpoints
  of a finished run are deleted once its results and model are written.

data:
  cifar10    50,000 training and 10,000 test images; --validation trains on the first 45,000
             and tests on the last 5,000. Downloaded once into $KERAS_HOME/datasets (default
             ~/.keras/datasets); offline, copy cifar-10-python.tar.gz there under the name
             cifar-10-batches-py-target_archive (the error message gives the full path).
  digits     scikit-learn's 1,797 handwritten digits as 16x16 images (1,437 train, 360 test)
  mnist1d    MNIST-1D's 4,000 + 1,000 signals of length 40, generated, seen as 40x1 images
  synthetic  5,000 + 1,000 random CIFAR-shaped images: throughput and set-up checks

output:
  One line per epoch: the training loss and error (averaged over the epoch, in training mode),
  the test loss and error, the rate at the epoch's start, images per second and the time left.
  Files, named after --out: OUT.json (the command, the machine, the recipe, the curves, and the
  training and test figures measured after training in inference mode), OUT.keras (the trained
  model; --evaluate OUT.keras scores it again) and OUT.csv (one row per epoch, written as the
  run goes). With --seeds, one JSON holds every seed's run, each seed has its own .keras and
  .csv (OUT-seedS), and the last line gives the mean and standard deviation over the seeds.

exit status:
  0 when the run is complete, 1 when it stops early (a missing data set, a worker that stopped,
  SIGTERM, an interruption; start it again to resume), 2 for invalid arguments, 137 for a
  worker that gave up waiting for the others (--peer-timeout).

examples:
  python -m resnet_book.train --depth 110 --data cifar10
  python -m resnet_book.train --depth 56 --strategy mirrored --precision mixed_float16 --jit
  python -m resnet_book.train --depth 20 --data digits --epochs 5 --seeds 0,1,2
  python -m resnet_book.train --evaluate resnet-20-digits-seed0.keras --data digits"""


def seed_list(text):
    """``--seeds``: non-negative integers separated by commas, each once."""
    try:
        seeds = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not integers separated by commas: {text!r}") from None
    if any(seed < 0 for seed in seeds) or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"seeds must be distinct and non-negative: {text!r}")
    return seeds


def build_parser():
    """The command line: model, data, recipe, speed, distribution and output options."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=lambda prog: argparse.RawDescriptionHelpFormatter(
            prog, max_help_position=34, width=100
        ),
    )
    add_model_options(parser.add_argument_group("model"))
    add_recipe_options(parser.add_argument_group("recipe"), parser.add_argument_group("data"))
    add_run_options(parser.add_argument_group("speed and distribution"))
    add_output_options(parser.add_argument_group("output"))
    return parser


def add_model_options(group):
    """--network, --depth, --shortcut, --block, --width."""
    group.add_argument(
        "--network",
        choices=("resnet", "plain"),
        default="resnet",
        help="residual, or its plain twin without shortcuts (default: resnet)",
    )
    group.add_argument(
        "--depth", type=int, default=20, help="weighted layers, 6n+2: 20, 32, 44, 56, 110, ..."
    )
    group.add_argument(
        "--shortcut",
        choices=tuple(models.SHORTCUTS),
        help="the paper's options A, B, C (default: zero_pad, its choice for CIFAR-10)",
    )
    group.add_argument(
        "--block",
        choices=("v1", "v2"),
        default="v1",
        help="v1: the paper's block; v2: the pre-activation block of He et al. 2016c "
        "(named preact-DEPTH in the results)",
    )
    group.add_argument("--width", type=int, default=16, help="filters of the first stage (16)")


def add_recipe_options(group, data):
    """The data set, and the recipe's lengths, rates, warm-up and seeds."""
    data.add_argument("--data", choices=datasets.DATA_SETS, default="cifar10", help="the data set")
    data.add_argument(
        "--validation", action="store_true", help="cifar10: train on 45,000, test on 5,000"
    )
    length = group.add_mutually_exclusive_group()
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
    group.add_argument("--batch-size", type=int, help="global batch (default: 128 per replica)")
    group.add_argument(
        "--learning-rate",
        type=float,
        default=recipe.PAPER["learning_rate"],
        help="initial rate for a batch of 128, scaled with the batch (default: 0.1)",
    )
    group.add_argument(
        "--weight-decay",
        type=float,
        default=recipe.PAPER["l2_decay"],
        help="L2 coefficient: the loss gains weight-decay/2 x the squared weights (1e-4)",
    )
    group.add_argument(
        "--warmup-iterations",
        type=int,
        help="steps of warm-up (default: 5 epochs of ramp above batch 128; else 400 x 128 / "
        "batch for 110 layers or more, or --block v2, on cifar10 and synthetic; else 0)",
    )
    group.add_argument(
        "--warmup-ramp",
        action=argparse.BooleanOptionalAction,
        help="during the warm-up, raise the rate linearly from a tenth of --learning-rate to "
        "the scaled rate, instead of holding it at a tenth (default: on above batch 128)",
    )
    seeds = group.add_mutually_exclusive_group()
    seeds.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the weights, the data order and the augmentation (default: 0)",
    )
    seeds.add_argument(
        "--seeds",
        type=seed_list,
        metavar="S,S,...",
        help="train one run per seed, one after another, and report the mean and spread",
    )
    group.add_argument(
        "--deterministic",
        action="store_true",
        help="bit-identical repeat runs (TensorFlow's op determinism; slower)",
    )


def add_run_options(group):
    """Precision, XLA, strategy and its devices."""
    group.add_argument(
        "--precision",
        choices=recipe.PRECISIONS,
        default="float32",
        help="float32, or mixed precision: float16 with loss scaling (GPUs), or bfloat16 "
        "(recent GPUs and CPUs); weights stay float32 (default: float32)",
    )
    group.add_argument("--jit", action="store_true", help="compile each step with XLA")
    group.add_argument(
        "--strategy",
        choices=loop.STRATEGIES,
        default="one-device",
        help="how to spread the work (default: one-device; see below)",
    )
    group.add_argument(
        "--allow-cpu",
        action="store_true",
        help="let mirrored and multi-worker run on a machine without a GPU",
    )
    group.add_argument(
        "--cpu-devices",
        type=int,
        metavar="N",
        help="split the CPU into N logical devices, so that mirrored finds N replicas "
        "without GPUs (to try a set-up; no faster; implies --allow-cpu)",
    )
    group.add_argument(
        "--sync-batchnorm",
        action="store_true",
        help="BatchNorm statistics over the global batch, not per replica",
    )
    group.add_argument(
        "--peer-timeout",
        type=float,
        default=600,
        metavar="SECONDS",
        help="multi-worker: give up when the other workers are not all started, or worker 0 "
        "has not loaded the data, after this long (default: 600)",
    )


def add_output_options(group):
    """Where results, model, logs and checkpoints go, and how often; --evaluate."""
    group.add_argument(
        "--out",
        type=pathlib.Path,
        help="the results file (default: NAME-DATA-seedS.json; the model and log go beside it)",
    )
    group.add_argument(
        "--checkpoint-dir",
        type=pathlib.Path,
        help="where the checkpoints go (default: OUT with the suffix .checkpoints)",
    )
    group.add_argument(
        "--checkpoint-every",
        type=int,
        default=1,
        metavar="EPOCHS",
        help="save a checkpoint every EPOCHS epochs, and at the end (default: 1)",
    )
    group.add_argument(
        "--eval-every",
        type=int,
        default=1,
        metavar="EPOCHS",
        help="evaluate the test split every EPOCHS epochs, and at the end (1)",
    )
    group.add_argument(
        "--tensorboard",
        type=pathlib.Path,
        metavar="DIR",
        help="also write the curves as TensorBoard logs into DIR (view: pip install tensorboard)",
    )
    group.add_argument(
        "--evaluate",
        type=pathlib.Path,
        metavar="MODEL",
        help="train nothing: score a .keras model on --data's test split",
    )


def check_options(args):
    """Raise ValueError, in the command's terms, for options that cannot work together."""
    try:
        models.blocks_per_stage(args.depth)
    except ValueError as error:
        raise ValueError(str(error).replace("depth", "--depth")) from None
    arguments.check_integer("--width", args.width, 1)
    if args.network == "plain" and (args.shortcut or args.block != "v1"):
        raise ValueError("a plain network has no shortcut and no v2 block; drop --shortcut/--block")
    datasets.train_size(args.data, args.validation)
    arguments.check_integer("--seed", args.seed, 0)
    arguments.check_integer("--checkpoint-every", args.checkpoint_every, 1)
    arguments.check_integer("--eval-every", args.eval_every, 1)
    arguments.check_positive("--peer-timeout", args.peer_timeout)
    if args.cpu_devices is not None:
        arguments.check_integer("--cpu-devices", args.cpu_devices, 1)


def check_devices(args):
    """Refuse mirroring over the CPU when the user expects GPUs (a CPU-only or broken install)."""
    allowed = args.allow_cpu or args.cpu_devices is not None
    if args.strategy != "one-device" and not allowed and not tf.config.list_physical_devices("GPU"):
        arguments.reject(
            "--strategy",
            args.strategy,
            "used where TensorFlow sees a GPU, and it sees none here (a CPU-only build, such "
            "as the book's pinned tensorflow-cpu, or a CUDA mismatch); add --allow-cpu to "
            "mirror over the CPU's logical devices anyway",
        )


def check_writable(args):
    """Check, before any data loads, that every output folder can be written."""
    seeds = args.seeds or [args.seed]
    first = outputs.files_of(args, seeds[0])
    if first.results.is_dir():
        arguments.reject("--out", str(first.results), "a file name, not a folder")
    checkpoints.check_writable("--out", first.results.parent.resolve())
    checkpoints.check_writable("--checkpoint-dir", first.checkpoints.resolve())
    if args.tensorboard is not None:
        checkpoints.check_writable("--tensorboard", args.tensorboard.resolve())


def load_in_turn(strategy, name, validation):
    """The data set; under multi-worker, worker 0 loads (downloads) it first, the others after.

    Workers that share a Keras folder would otherwise race to download and extract CIFAR-10
    into it.
    """
    several = isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
    chief = loop.is_chief(strategy)
    if several and not chief:
        loop.barrier(strategy)
    dataset = datasets.load(name, validation)
    if several and chief:
        loop.barrier(strategy)
    return dataset


# A process that ends its parent after a while, unless it is ended first.
WATCHDOG = (
    "import os, signal, sys, time; time.sleep(float(sys.argv[2])); "
    "sys.stderr.write(sys.argv[3] + '\\n'); os.kill(int(sys.argv[1]), signal.SIGKILL)"
)


@contextlib.contextmanager
def deadline(seconds, message):
    """End this process with ``message`` (status 137) if the block runs past ``seconds``.

    A worker of a cluster waits in TensorFlow's C++ code, holding Python's lock and ignoring
    SIGTERM, for ever by default, for the others to start: only another process can end it.
    """
    line = f"{PROG}: error: {message}"
    watchdog = subprocess.Popen(
        [sys.executable, "-c", WATCHDOG, str(os.getpid()), str(seconds), line]
    )
    try:
        yield
    finally:
        watchdog.kill()
        watchdog.wait()


def prepare(args):
    """The strategy, the data set and the recipe of a run, every check before the data loads.

    Raises:
        ValueError: If an option is invalid, alone or with the others.
        FileNotFoundError: If CIFAR-10 is not cached and cannot be downloaded.
    """
    check_options(args)
    if args.cpu_devices is not None:
        runtime.split_cpu(args.cpu_devices)
    check_devices(args)
    waiting = contextlib.nullcontext()
    if args.strategy == "multi-worker":
        waiting = deadline(
            args.peer_timeout,
            f"the workers were not all started, or worker 0 had not loaded {args.data}, "
            f"within --peer-timeout {args.peer_timeout:g} seconds. Start every worker with "
            "the same TF_CONFIG cluster, or give a longer --peer-timeout.",
        )
    with waiting:
        strategy = loop.distribution_strategy(args.strategy)
        replicas = strategy.num_replicas_in_sync
        recipe.make_recipe(args, replicas, datasets.train_size(args.data, args.validation))
        if loop.is_chief(strategy):
            check_writable(args)
        dataset = load_in_turn(strategy, args.data, args.validation)
    return strategy, dataset, recipe.make_recipe(args, replicas, len(dataset.train[1]))


def train_seed(strategy, dataset, plan, files, cadence, stop):
    """Train one seed's run and write its model and log; return its results record."""
    if plan.deterministic:
        runtime.set_seed(plan.seed)  # also TensorFlow's op determinism
    else:
        keras.utils.set_random_seed(plan.seed)
    chief = loop.is_chief(strategy)
    name = networks.network_name(plan.network, plan.depth, plan.block, plan.shortcut)
    if chief:
        print(
            textwrap.fill(outputs.plan_line(name, dataset, plan, files.checkpoints), 100),
            flush=True,
        )
    progress, log = (
        outputs.Progress(plan, lambda line: print(line, flush=True)),
        outputs.EpochLog(files.log, files.tensorboard),
    )
    trained = loop.fit(
        strategy,
        lambda: networks.build_model(plan, dataset.input_shape),
        dataset,
        plan,
        files.checkpoints,
        on_epoch=lambda epoch, row: (log(epoch, row), progress(epoch, row)),
        cadence=cadence,
        stop=stop,
    )
    outputs.save_model(trained.model, files.model, chief)
    seconds = sum(value for value in trained.history["seconds"] if not math.isnan(value))
    return results.run_record(
        name,
        plan.seed,
        plan.learning_rate,
        plan.num_epochs,
        trained.history,
        trained.final,
        seconds,
    )


def evaluate_model(args):
    """``--evaluate MODEL``: score a saved model on ``--data``'s test split; print and return 0."""
    path = args.evaluate
    if path.suffix != ".keras" or not path.is_file():
        arguments.reject("--evaluate", str(path), "a .keras file written by this command")
    datasets.train_size(args.data, args.validation)
    dataset = datasets.load(args.data, args.validation)
    model = keras.saving.load_model(path)
    if tuple(model.input_shape[1:]) != dataset.input_shape:
        arguments.reject(
            "--evaluate",
            str(path),
            f"a model of {dataset.name}'s {dataset.input_shape} images (it takes "
            f"{tuple(model.input_shape[1:])}; give its --data)",
        )
    strategy = loop.distribution_strategy("one-device")
    loss, error = loop.evaluator(strategy, model, dataset, recipe.PAPER["batch_size"])("test")
    print(
        f"{path}: {dataset.test_name} loss {loss:.4f}, {dataset.test_name} error {error:.4f} "
        f"on {dataset.description}",
        flush=True,
    )
    return 0


def main(argv=None):
    """Run the command; return 0 when the run is complete (the exit codes are in ``--help``)."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    fail = lambda message: parser.exit(1, f"{PROG}: error: {message}\n")  # noqa: E731
    if args.evaluate is not None:
        try:
            return evaluate_model(args)
        except ValueError as error:
            parser.error(str(error))
        except FileNotFoundError as error:
            fail(error)
    start = time.perf_counter()
    try:
        strategy, dataset, plan = prepare(args)
    except ValueError as error:
        parser.error(str(error))
    except FileNotFoundError as error:
        fail(error)
    except KeyboardInterrupt:
        fail("interrupted while loading the data; nothing was trained. Run it again.")

    command = f"{PROG} {shlex.join(argv)}"
    seeds, chief = args.seeds or [args.seed], loop.is_chief(strategy)
    out = outputs.files_of(args, seeds[0]).results
    done = outputs.earlier_runs(out, command)  # every worker reads it, to make the same choice
    cadence = loop.Cadence(args.eval_every, args.checkpoint_every)
    runs = []
    for seed in seeds:
        files = outputs.files_of(args, seed)
        if seed in done:
            print(f"seed {seed}: already in {out}", flush=True)
            runs.append(done[seed])
            continue
        try:
            with checkpoints.stop_on_sigterm() as stop:
                run = train_seed(
                    strategy, dataset, dataclasses.replace(plan, seed=seed), files, cadence, stop
                )
        except loop.StoppedError:
            fail(
                f"stopped by SIGTERM; checkpoint saved in {files.checkpoints}. Run the same "
                "command to resume."
            )
        except checkpoints.OtherRunError as error:
            fail(error)
        except OSError as error:  # the model could not be written
            fail(
                f"could not write {files.model} ({error}); the checkpoints in "
                f"{files.checkpoints} are kept: run the same command to write it again."
            )
        except (
            tf.errors.UnavailableError,
            tf.errors.CancelledError,
            tf.errors.DeadlineExceededError,
        ) as error:
            fail(outputs.stopped_worker_message(error, files.checkpoints))
        except KeyboardInterrupt:
            fail(f"interrupted; run the same command to resume from {files.checkpoints}.")
        runs.append(run)
        if chief:
            try:
                results.save(
                    out,
                    runs,
                    command=command,
                    data=dataset.description,
                    recipe={**plan.as_dict(), "seeds": seeds, "gpus": outputs.gpu_names()},
                    wall_seconds=time.perf_counter() - start,
                )
            except OSError as error:
                fail(
                    f"could not write {out} ({error}); the checkpoints in {files.checkpoints} "
                    "are kept: run the same command to write it without training again."
                )
            checkpoints.Checkpoints(files.checkpoints, chief, {}).delete()
            print(
                f"{run['network']} seed {seed}: training error {run['train_error']:.4f}, test "
                f"error {run['test_error']:.4f}; wrote {out}, {files.model} and {files.log}",
                flush=True,
            )
    if chief and len(runs) > 1:
        root = outputs.files_of(args, seeds[0]).checkpoints.parent
        if root.is_dir() and not any(root.iterdir()):
            root.rmdir()  # the seeds' checkpoint folders were in it
        print(outputs.summary(runs[0]["network"], runs), flush=True)
    return 0
