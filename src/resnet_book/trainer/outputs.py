"""What a training run leaves behind and prints: its files, its log, its lines.

A run writes ``OUT.json`` (:mod:`resnet_book.results`), the trained model ``OUT.keras``, and
``OUT.csv``, one row per epoch (and TensorBoard's logs, if asked). It prints a plan, one line
per epoch with the time left, and, over several seeds, the mean and spread of the errors.

Used by the training tool (:mod:`resnet_book.trainer`); taught in
chapters/13-training-at-scale.ipynb.
"""

import csv
import dataclasses
import math
import pathlib
import statistics
import tempfile

from resnet_book import results
from resnet_book.backend import tf
from resnet_book.trainer import networks


@dataclasses.dataclass(frozen=True)
class Outputs:
    """The files one seed's run writes, and its checkpoint folder."""

    results: pathlib.Path
    model: pathlib.Path
    log: pathlib.Path
    checkpoints: pathlib.Path
    tensorboard: pathlib.Path | None


def files_of(args, seed):
    """The files of ``seed``'s run; beside ``--out``, suffixed ``-seedS`` when several seeds."""
    seeds = args.seeds or [args.seed]
    name = networks.network_name(args.network, args.depth, args.block, args.shortcut)
    default = (
        f"{name}-{args.data}-seed{seeds[0]}"
        if len(seeds) == 1
        else (f"{name}-{args.data}-seeds{'-'.join(map(str, seeds))}")
    )
    out = args.out or pathlib.Path(f"{default}.json")
    stem = out.with_suffix("") if len(seeds) == 1 else out.with_name(f"{out.stem}-seed{seed}")
    folder = args.checkpoint_dir or out.with_suffix(".checkpoints")
    board = args.tensorboard
    if len(seeds) > 1:
        folder, board = folder / f"seed{seed}", board and board / f"seed{seed}"
    return Outputs(out, stem.with_suffix(".keras"), stem.with_suffix(".csv"), folder, board)


def duration(seconds):
    """``45 s``, ``12 min``, ``3 h 05 min``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


class Progress:
    """The line printed after each epoch, with the time left at this session's pace."""

    def __init__(self, plan, print_line=print):
        self.plan, self.print_line, self.seconds = plan, print_line, []

    def __call__(self, epoch, row):
        """Print the epoch's line."""
        plan = self.plan
        self.seconds.append(row["seconds"])
        typical = statistics.mean(self.seconds[1:] or self.seconds)  # the first one compiles
        left = typical * (plan.num_epochs - epoch - 1)
        test = "validation" if plan.validation else "test"
        evaluated = (
            ""
            if math.isnan(row["val_loss"])
            else (
                f"{test} loss {row['val_loss']:.4f}, {test} error {1 - row['val_accuracy']:.4f}, "
            )
        )
        self.print_line(
            f"epoch {epoch + 1}/{plan.num_epochs} (iteration {row['iterations']}): "
            f"loss {row['loss']:.4f}, error {1 - row['accuracy']:.4f}, {evaluated}"
            f"learning rate {row['learning_rate']:.4g}, {row['images_per_second']:.0f} images/s, "
            f"{duration(left)} left",
        )


class EpochLog:
    """The per-epoch CSV log (and TensorBoard's, if asked for), rewritten as epochs end."""

    COLUMNS = (
        "epoch",
        "iterations",
        "loss",
        "error",
        "test_loss",
        "test_error",
        "learning_rate",
        "images_per_second",
        "seconds",
    )

    def __init__(self, path, tensorboard=None):
        self.path, self.tensorboard = path, tensorboard

    def __call__(self, epoch, row):
        """Add the epoch's row, replacing any row of it or later from before a restart."""
        values = {
            "epoch": epoch + 1,
            "iterations": row["iterations"],
            "loss": row["loss"],
            "error": 1 - row["accuracy"],
            "test_loss": row["val_loss"],
            "test_error": 1 - row["val_accuracy"],
            **{key: row[key] for key in ("learning_rate", "images_per_second", "seconds")},
        }
        rows = []
        if self.path.exists():
            with self.path.open(newline="") as file:
                rows = [old for old in csv.DictReader(file) if int(old["epoch"]) <= epoch]
        rows.append({key: "" if _missing(v) else f"{v:.6g}" for key, v in values.items()})
        with self.path.open("w", newline="") as file:
            writer = csv.DictWriter(file, self.COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        if self.tensorboard is not None:
            self._board(values)

    def _board(self, values):
        """Append the epoch's figures to TensorBoard's event file, as its scalar plugin reads them.

        TensorFlow writes the events itself, so the tensorboard package is needed only to view them.
        """
        from tensorflow.core.framework import summary_pb2  # after backend's set-up

        # What tensorboard.summary.scalar attaches to a value: the scalar plugin and data class.
        scalar = summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"),
            data_class=summary_pb2.DATA_CLASS_SCALAR,
        )
        writer = tf.summary.create_file_writer(str(self.tensorboard))
        with writer.as_default(step=int(values["iterations"])):
            for key in self.COLUMNS[2:]:
                if not _missing(values[key]):
                    tf.summary.write(key, tf.constant(values[key], tf.float32), metadata=scalar)
        writer.close()


def _missing(value):
    return isinstance(value, float) and math.isnan(value)


def save_model(model, path, chief):
    """Write the trained model to ``path``; under multi-worker every worker must call it.

    Reading distributed variables is collective, so the other workers save too, into a
    scratch folder they delete.
    """
    if chief:
        model.save(path)
        return
    with tempfile.TemporaryDirectory() as scratch:
        model.save(pathlib.Path(scratch) / path.name)


def plan_line(name, dataset, plan, folder):
    """The line printed before training: what trains on what, where, how long."""
    warmup = ""
    if plan.warmup_iterations:
        kind = "ramp" if plan.warmup_ramp_from is not None else "at a tenth of the rate"
        warmup = f", warm-up {plan.warmup_iterations} iterations ({kind})"
    return (
        f"{name} on {dataset.description}: {plan.replicas} replica(s) ({plan.strategy}), "
        f"batch {plan.batch_size}, learning rate {plan.learning_rate:.4g}{warmup}, "
        f"{plan.iterations} iterations ({plan.num_epochs} epochs), {plan.precision}"
        f"{' with XLA' if plan.jit else ''}, checkpoints in {folder}"
    )


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
        f"a worker stopped or did not answer ({reason[:300]}). Start every worker again with the "
        f"same command to resume from the last checkpoint in {checkpoint_dir}."
    )


def earlier_runs(path, command):
    """The runs, by seed, that a results file written by this same command already holds."""
    if not path.exists():
        return {}
    try:
        stored = results.load(path)
    except (ValueError, KeyError):
        return {}
    if stored.record["command"] != command:
        return {}
    return {run["seed"]: run for run in stored.runs}


def summary(name, runs):
    """The last line of a run of several seeds: mean and standard deviation of the errors."""
    errors = [run["test_error"] for run in runs]
    train = [run["train_error"] for run in runs]
    return (
        f"{name} over {len(runs)} seeds: test error {statistics.mean(errors):.4f} ± "
        f"{statistics.stdev(errors):.4f}, training error {statistics.mean(train):.4f} ± "
        f"{statistics.stdev(train):.4f} (mean ± standard deviation)"
    )
