"""The training command on several replicas: two logical CPUs, and two worker processes.

TensorFlow fixes its devices when it runs its first operation, so the runs on two logical CPU
devices share one process of their own, started once: it calls the command three times, on one
device, on two replicas with BatchNorm statistics of the global batch, and on two replicas with
their own. The runs on two workers (MultiWorkerMirroredStrategy, configured by TF_CONFIG) are two
processes each; they are slow tests (`make slow`).
"""

import json
import os
import signal
import socket
import subprocess
import sys

import numpy as np
import pytest

from resnet_book import results, train

# Three runs in one process whose CPU is split in two; what each stored, and a refused batch.
THREE_RUNS = """\
import contextlib, io, json, sys
from resnet_book import train
tiny = ["--data", "synthetic", "--depth", "8", "--width", "4", "--iterations", "6",
        "--batch-size", "64", "--deterministic", "--cpu-devices", "2"]
settings = {"one device": ["--strategy", "one-device"],
            "two, synchronised": ["--strategy", "mirrored", "--sync-batchnorm"],
            "two": ["--strategy", "mirrored"]}
for index, options in enumerate(settings.values()):
    assert train.main([*options, *tiny, "--out", f"{index}.json"]) == 0
errors = io.StringIO()
with contextlib.redirect_stderr(errors):
    try:
        train.main(["--strategy", "mirrored", *tiny, "--batch-size", "33"])
    except SystemExit as stopped:
        print(json.dumps({"code": stopped.code, "stderr": errors.getvalue()}))
"""
MULTI_WORKER = [
    "--strategy",
    "multi-worker",
    "--data",
    "digits",
    "--depth",
    "8",
    "--epochs",
    "4",
    "--batch-size",
    "64",
    "--deterministic",
    "--allow-cpu",
    "--out",
    "run.json",
]
# The command called from Python rather than from the command line.
FROM_PYTHON = [
    "-c",
    "import sys; from resnet_book import train; sys.exit(train.main(sys.argv[1:]))",
]
# The workers talk gRPC on localhost, which must not go through a proxy.
LOCAL = {name: value for name, value in os.environ.items() if "proxy" not in name.lower()}
CURVES = ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "iterations")


def relative_difference(a, b):
    return abs(a - b) / abs(b)


@pytest.fixture(scope="module")
def two_cpus(tmp_path_factory):
    """The three runs, by setting, as (recipe, run); and the refused batch's exit and message."""
    folder = tmp_path_factory.mktemp("two-cpus")
    finished = subprocess.run(
        [sys.executable, "-c", THREE_RUNS], cwd=folder, text=True, capture_output=True, timeout=240
    )
    assert finished.returncode == 0, finished.stderr
    names = ("one device", "two, synchronised", "two")
    runs = {}
    for index, name in enumerate(names):
        stored = results.load(folder / f"{index}.json")
        runs[name] = stored.recipe, stored.select("resnet-8")[0]
    return runs, json.loads(finished.stdout.splitlines()[-1])


def test_mirrored_strategy_runs_two_replicas_at_the_same_global_batch_and_rate(two_cpus):
    runs, _ = two_cpus
    recipes = [recipe for recipe, _ in runs.values()]
    assert [recipe["replicas"] for recipe in recipes] == [1, 2, 2]
    assert {(recipe["batch_size"], recipe["learning_rate"]) for recipe in recipes} == {(64, 0.05)}


def test_two_replicas_with_global_batchnorm_lose_what_one_device_loses(two_cpus):
    # Summing the gradients of two halves, and BatchNorm's moments over both, rounds differently
    # in float32 from one device's single pass, so the agreement is to rounding, not exact.
    runs, _ = two_cpus
    _, one = runs["one device"]
    _, two = runs["two, synchronised"]
    assert relative_difference(two["history"]["loss"][0], one["history"]["loss"][0]) < 1e-3
    assert relative_difference(two["train_loss"], one["train_loss"]) < 1e-3
    assert abs(two["test_error"] - one["test_error"]) <= 0.005


def test_synchronised_batchnorm_is_what_brings_two_replicas_to_one_device(two_cpus):
    # Without --sync-batchnorm each replica normalises its 32 images by their own statistics, a
    # slightly different model (the paper's two GPUs did the same); with it, only rounding
    # separates two replicas from one device, which must be several times closer.
    runs, _ = two_cpus
    _, one = runs["one device"]
    _, synchronised = runs["two, synchronised"]
    _, own = runs["two"]
    gap = relative_difference(own["train_loss"], one["train_loss"])
    assert 0 < gap < 1e-2
    assert relative_difference(synchronised["train_loss"], one["train_loss"]) < 0.25 * gap


def test_a_batch_that_does_not_split_over_the_replicas_is_refused(two_cpus):
    _, refused = two_cpus
    assert refused["code"] == 2
    assert (
        "--batch-size must be a multiple of the 2 replicas. Received: --batch-size=33"
        in (refused["stderr"])
    )
    assert "Traceback" not in refused["stderr"]


def free_ports(count):
    """Ports that nothing listened on a moment ago; another process may take one meanwhile."""
    sockets = [socket.socket() for _ in range(count)]
    for each in sockets:
        each.bind(("localhost", 0))
    ports = [each.getsockname()[1] for each in sockets]
    for each in sockets:
        each.close()
    return ports


class Workers:
    """The command started on two workers on localhost; worker 0's output through a pipe.

    Their ports are free when chosen, but a port can be taken before a worker binds it, and then
    its gRPC server does not start: the workers are started again on other ports, twice at most.
    """

    def __init__(self, folder, name, command=("-m", "resnet_book.train")):
        self.command = list(command)
        for _ in range(3):
            self.errors = [folder / f"{name}-worker{index}.err" for index in range(2)]
            self.processes = self._start(folder, free_ports(2))
            self.first_line = self.processes[0].stdout.readline()  # after the servers start
            if self.first_line or not self._port_taken():
                return
            self.wait()

    def _start(self, folder, ports):
        cluster = {"worker": [f"localhost:{port}" for port in ports]}
        processes = []
        for index, errors in enumerate(self.errors):
            config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
            with open(errors, "w") as stream:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, *self.command, *MULTI_WORKER],
                        cwd=folder,
                        text=True,
                        env={**LOCAL, "TF_CONFIG": json.dumps(config)},
                        stdout=subprocess.PIPE,
                        stderr=stream,
                    )
                )
        return processes

    def _port_taken(self):
        self.wait()
        return any("Could not start gRPC server" in path.read_text() for path in self.errors)

    def lines(self):
        """Worker 0's output, line by line, as it comes."""
        line = self.first_line
        while line:  # not `yield from` the pipe: closing this generator would close the pipe
            yield line
            line = self.processes[0].stdout.readline()

    def wait(self):
        """Wait for both; their exit codes and the rest of worker 0's output."""
        output = self.first_line + self.processes[0].stdout.read()
        return [process.wait(timeout=240) for process in self.processes], output

    def stderr(self, index=0):
        return self.errors[index].read_text()


def epochs_printed(output):
    return [line.split(" (")[0] for line in output.splitlines() if line.startswith("epoch ")]


@pytest.mark.slow
def test_a_job_whose_worker_is_killed_resumes_where_it_stopped(tmp_path):
    straight = tmp_path / "straight"
    straight.mkdir()
    workers = Workers(straight, "straight")
    codes, output = workers.wait()
    assert codes == [0, 0], workers.stderr()
    assert epochs_printed(output) == [f"epoch {n}/4" for n in range(1, 5)]
    stored = results.load(straight / "run.json")
    assert (stored.recipe["strategy"], stored.recipe["replicas"]) == ("multi-worker", 2)
    assert stored.select("resnet-8")[0]["history"]["iterations"] == [22, 44, 66, 88]
    assert not (straight / "run.checkpoints").exists()

    workers = Workers(tmp_path, "killed")
    for line in workers.lines():  # the run is in its third epoch, its second saved
        if line.startswith("epoch 2/4"):
            workers.processes[1].send_signal(signal.SIGKILL)
            break
    codes, _ = workers.wait()
    message = workers.stderr()
    assert codes[0] == 1, message  # the documented exit status of a run that stopped early
    assert "python -m resnet_book.train: error: a worker stopped or did not answer (" in message
    assert "Start every worker again with the same command" in message
    assert "Traceback" not in message and not (tmp_path / "run.json").exists()

    workers = Workers(tmp_path, "resumed", FROM_PYTHON)  # no longer from the command line only
    codes, output = workers.wait()
    assert codes == [0, 0], workers.stderr()
    assert epochs_printed(output) == ["epoch 3/4", "epoch 4/4"]
    [resumed] = results.load(tmp_path / "run.json").select("resnet-8")
    [uninterrupted] = stored.select("resnet-8")
    for curve in CURVES:
        np.testing.assert_allclose(
            resumed["history"][curve], uninterrupted["history"][curve], rtol=1e-5, err_msg=curve
        )
    for final in ("train_loss", "train_error", "test_error"):
        assert resumed[final] == pytest.approx(uninterrupted[final], rel=1e-5)


def test_multi_worker_after_tensorflow_started_is_refused_with_the_reason(
    capsys, monkeypatch, tmp_path
):
    from resnet_book.backend import tf

    monkeypatch.chdir(tmp_path)  # where a run that was not refused would write

    tf.constant(1.0) + 1.0  # this process has run an operation: its collectives are fixed
    cluster = {"worker": [f"localhost:{port}" for port in free_ports(2)]}
    monkeypatch.setenv(
        "TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 0}})
    )
    with pytest.raises(SystemExit) as stopped:
        train.main(
            ["--strategy", "multi-worker", "--allow-cpu", "--data", "digits", "--depth", "8"]
        )
    error = capsys.readouterr().err
    assert stopped.value.code == 2 and "Traceback" not in error
    assert "strategy must be chosen before TensorFlow's first operation in this process" in error


@pytest.mark.slow
def test_a_worker_whose_peer_never_starts_gives_up_with_the_reason(tmp_path):
    cluster = {"worker": [f"localhost:{port}" for port in free_ports(2)]}
    config = {"cluster": cluster, "task": {"type": "worker", "index": 0}}
    alone = subprocess.run(
        [sys.executable, "-m", "resnet_book.train", *MULTI_WORKER, "--peer-timeout", "3"],
        cwd=tmp_path,
        env={**LOCAL, "TF_CONFIG": json.dumps(config)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert alone.returncode == -signal.SIGKILL  # the documented 137 in a shell
    assert "error: the workers were not all started, or worker 0 had not loaded digits, " in (
        alone.stderr
    )
    assert "within --peer-timeout 3 seconds" in alone.stderr and "Traceback" not in alone.stderr
    assert not (tmp_path / "run.json").exists()
