"""Stored results: the JSON files that ``experiments/`` writes and the chapters read.

Every results file starts with how it was made: the command, the date, the machine and
library versions, and the wall time. A file of training runs (:func:`save`, read by
:func:`load`) adds the data, the recipe, and one record per run: the network, the seed, the
learning rate and number of epochs it was trained with, its per-epoch history, and its final
training loss, training error and test error. Other experiments store their own measurements
after the same header (:func:`save_record`).

Taught in chapters/07-degradation.ipynb.
"""

import datetime
import json
import math
import os
import pathlib
import platform

import numpy as np

from resnet_book import arguments

RUN_KEYS = (
    "network",
    "seed",
    "learning_rate",
    "num_epochs",
    "history",
    "train_loss",
    "train_error",
    "test_error",
    "seconds",
)
FILE_KEYS = ("command", "date", "machine", "data", "recipe", "wall_seconds", "runs")
HEADER_KEYS = ("command", "date", "machine", "wall_seconds")  # what every file starts with


def processor_name():
    """The CPU model from /proc/cpuinfo, or platform's guess elsewhere."""
    cpuinfo = pathlib.Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


# The vector instructions that bound a CPU's multiply-adds per cycle (chapter 13's ceiling).
SIMD_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16")


def processor_details():
    """The CPU's family and model numbers and its vector instructions, from /proc/cpuinfo.

    An "AMD EPYC" of family 25 and model 17 is a Zen 4 core, for example. Empty where the
    system has no /proc/cpuinfo.
    """
    cpuinfo = pathlib.Path("/proc/cpuinfo")
    if not cpuinfo.exists():
        return {}
    fields = {}
    for line in cpuinfo.read_text().split("\n\n", 1)[0].splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    flags = set(fields.get("flags", "").split())
    return {
        "cpu_family": fields.get("cpu family"),
        "cpu_model": fields.get("model"),
        "simd": [flag for flag in SIMD_FLAGS if flag in flags],
    }


def machine():
    """The processor, core count, system and library versions, for a results file."""
    from resnet_book.backend import keras, tf

    return {
        "processor": processor_name(),
        **processor_details(),
        "cores": os.cpu_count(),
        "system": platform.platform(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
    }


def run_record(network, seed, learning_rate, num_epochs, history, final, seconds):
    """One training run as :func:`save` stores it (``RUN_KEYS``): figures to six decimals.

    The one record writer of the book's runs: experiments/runs.py and the training tool
    (:mod:`resnet_book.trainer`) both call it. A value that was not measured (NaN, as in an
    epoch the training tool did not evaluate) is stored as None.

    Args:
        network: The network's name (:func:`resnet_book.trainer.networks.network_name`).
        seed: The run's seed.
        learning_rate: The initial learning rate it trained with.
        num_epochs: The number of epochs it trained for.
        history: Per-epoch curves by name (Keras' ``History.history``).
        final: ``"train_loss"``, ``"train_error"`` and ``"test_error"`` after training.
        seconds: The training time.

    Raises:
        ValueError: If ``final`` lacks one of its three figures.
    """
    _check_keys("final", final, ("train_loss", "train_error", "test_error"))

    def rounded(value):
        return None if value is None or math.isnan(value) else round(float(value), 6)

    return {
        "network": network,
        "seed": seed,
        "learning_rate": learning_rate,
        "num_epochs": num_epochs,
        "history": {name: [rounded(value) for value in values] for name, values in history.items()},
        **{key: rounded(final[key]) for key in ("train_loss", "train_error", "test_error")},
        "seconds": round(seconds, 1),
    }


def save(path, runs, *, command, data, recipe, wall_seconds):
    """Write training ``runs`` and how they were made to the JSON file ``path``.

    Args:
        path: The file to write; its folder is created if needed.
        runs: Run records, each a dict with the keys in ``RUN_KEYS``.
        command: The shell command that reproduces the file.
        data: A short description of the data set.
        recipe: The training settings shared by every run, including the
            default ``learning_rate`` and ``num_epochs``.
        wall_seconds: The wall time of the whole experiment.

    Raises:
        ValueError: If a run lacks one of ``RUN_KEYS``, ``recipe`` lacks a default, or
            ``command`` or ``wall_seconds`` is invalid.
    """
    runs = list(runs)
    for run in runs:
        _check_keys("run", run, RUN_KEYS)
    _check_keys("recipe", recipe, ("learning_rate", "num_epochs"))
    made = _header(command, wall_seconds)
    wall = made.pop("wall_seconds")
    _write(path, {**made, "data": data, "recipe": recipe, "wall_seconds": wall, "runs": runs})


def save_record(path, record, *, command, wall_seconds):
    """Write an experiment's ``record`` to the JSON file ``path``, after how it was made.

    The file holds the command, the date, the machine and the wall time, then the keys of
    ``record`` in their order; ``record`` must describe its ``"data"``.

    Raises:
        ValueError: If ``record`` is not a dictionary with a ``"data"`` key, repeats a key
            of the header (``HEADER_KEYS``), or ``command`` or ``wall_seconds`` is invalid.
    """
    if not isinstance(record, dict):
        raise ValueError(f"record must be a dictionary. Received: record={record!r}")
    _check_keys("record", record, ("data",))
    repeated = [key for key in HEADER_KEYS if key in record]
    if repeated:
        raise ValueError(
            f"record must leave the keys {repeated} to save_record. Received keys: {list(record)}"
        )
    _write(path, {**_header(command, wall_seconds), **record})


def _header(command, wall_seconds):
    """How a results file was made: the command, the date, the machine and the wall time."""
    if not isinstance(command, str) or not command:
        arguments.reject("command", command, "a non-empty string")
    wall_seconds = arguments.check_real("wall_seconds", wall_seconds, 0)
    return {
        "command": command,
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "wall_seconds": round(wall_seconds),
    }


def _write(path, record):
    """Write ``record`` as JSON, one space of indent, and a final newline; folders as needed."""
    text = json.dumps(record, indent=1) + "\n"  # before the file is touched: a bad value raises
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _check_keys(what, record, keys):
    """Raise ValueError naming the keys ``record`` lacks."""
    missing = [key for key in keys if key not in record]
    if missing:
        raise ValueError(f"{what} lacks the keys {missing}. Received keys: {sorted(record)}")


class Results:
    """A results file, read: its runs selected by network and setting, seeds in order.

    A run's setting is its learning rate and number of epochs; when a call does
    not name them, the recipe's defaults are meant.
    """

    def __init__(self, record):
        _check_keys("results file", record, FILE_KEYS)
        self.record = record
        self.recipe = record["recipe"]
        self.machine = record["machine"]
        self.runs = record["runs"]

    def select(self, network, learning_rate=None, num_epochs=None):
        """The runs of ``network`` with one setting, in order of seed.

        Raises:
            ValueError: If no run matches.
        """
        given = {"learning_rate": learning_rate, "num_epochs": num_epochs}
        setting = {
            key: self.recipe[key] if value is None else value for key, value in given.items()
        }
        runs = [
            run
            for run in self.runs
            if run["network"] == network and all(run[k] == v for k, v in setting.items())
        ]
        if not runs:
            raise ValueError(f"no run of network={network!r} with {setting}")
        return sorted(runs, key=lambda run: run["seed"])

    def final(self, network, metric, **setting):
        """A final measurement (``"train_loss"``, ``"train_error"``, ...) per seed, as an array."""
        return np.array([run[metric] for run in self.select(network, **setting)])

    def histories(self, network, metric, **setting):
        """One per-epoch history of ``metric`` (a Keras name, ``"loss"``, ...) per seed."""
        return [run["history"][metric] for run in self.select(network, **setting)]

    def seeds(self, network, **setting):
        """The seeds run for ``network`` with one setting."""
        return [run["seed"] for run in self.select(network, **setting)]

    def settings(self, network):
        """Every (learning rate, number of epochs) ``network`` was run with, sorted."""
        return sorted(
            {
                (run["learning_rate"], run["num_epochs"])
                for run in self.runs
                if run["network"] == network
            }
        )


def load(path):
    """Read a results file written by :func:`save`.

    Raises:
        ValueError: If the file lacks part of the format.
    """
    return Results(json.loads(pathlib.Path(path).read_text()))


def image_mask(wrong):
    """A results file's record of which images a network gets wrong: a hexadecimal bitmask.

    Bit i of byte i // 8, lowest bit first, is set where image i is wrong. Written by
    experiments/lesion.py and read in chapters/11-why-residual-networks-work.ipynb.

    Args:
        wrong: A one-dimensional boolean vector, one entry per image.

    Returns:
        The mask as a string of hexadecimal digits.

    Raises:
        ValueError: If ``wrong`` is not a one-dimensional boolean vector.
    """
    wrong = np.asarray(wrong)
    if wrong.dtype != bool or wrong.ndim != 1:
        raise ValueError(
            f"wrong must be a one-dimensional boolean vector. Received: dtype={wrong.dtype}, "
            f"shape={wrong.shape}"
        )
    return np.packbits(wrong, bitorder="little").tobytes().hex()


def wrong_images(mask, count):
    """The boolean vector of ``count`` images that :func:`image_mask` wrote as ``mask``.

    Raises:
        ValueError: If ``mask`` is not hexadecimal, or holds too few bits for ``count``.
    """
    count = arguments.check_integer("count", count, 1)
    try:
        bits = np.unpackbits(np.frombuffer(bytes.fromhex(mask), np.uint8), bitorder="little")
    except (TypeError, ValueError):
        message = f"mask must be a string of hexadecimal digits. Received: mask={mask!r}"
        raise ValueError(message) from None
    if len(bits) < count:
        raise ValueError(f"mask holds {len(bits)} images, fewer than count={count}")
    return bits[:count].astype(bool)


def save_weights(model, path):
    """Store a trained model's weights in the compressed NumPy file ``path``, a few MB at most.

    Convolution and dense kernels, nearly all of the parameters, are stored in
    float16; BatchNorm's parameters and statistics, small and sensitive, in
    float32. Load them with :func:`load_weights` into the same architecture.

    Taught in chapters/11-why-residual-networks-work.ipynb.
    """
    arrays = {}
    for weight in model.weights:
        value = weight.numpy()
        kernel = weight.path.endswith("/kernel")
        arrays[weight.path.replace("/", ".")] = value.astype("float16" if kernel else "float32")
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)


def load_weights(model, path):
    """Set every weight of ``model`` from a file written by :func:`save_weights`.

    Raises:
        ValueError: If the file's weights do not match the model's names and shapes.
    """
    with np.load(path) as stored:
        names = sorted(stored.files)
        expected = sorted(weight.path.replace("/", ".") for weight in model.weights)
        if names != expected:
            missing, extra = sorted(set(expected) - set(names)), sorted(set(names) - set(expected))
            raise ValueError(
                f"the weights in {path} do not fit model {model.name!r}: missing {missing[:3]}, "
                f"unexpected {extra[:3]}"
            )
        for weight in model.weights:
            value = stored[weight.path.replace("/", ".")]
            if value.shape != tuple(weight.shape):
                raise ValueError(
                    f"weight {weight.path} has shape {tuple(weight.shape)} in the model and "
                    f"{value.shape} in {path}"
                )
            weight.assign(value.astype("float32"))
