"""Checkpoints: where a run's state is saved, read back on a restart, and saved on SIGTERM.

Used by the training tool (:mod:`resnet_book.trainer`); taught in
chapters/13-training-at-scale.ipynb.
"""

import contextlib
import json
import os
import pathlib
import shutil
import signal
import tempfile

from resnet_book import arguments
from resnet_book.backend import tf


class OtherRunError(ValueError):
    """The checkpoint folder holds the checkpoints of a run with another recipe."""


def check_writable(option, folder):
    """Make sure this process can write into ``folder``, creating it; before any data loads.

    A folder created for the check alone is removed again.

    Raises:
        ValueError: Naming ``option``, if ``folder`` lies under a file or cannot be written.
    """
    folder = pathlib.Path(folder)
    existing = next(parent for parent in [folder, *folder.parents] if parent.exists())
    if not existing.is_dir():
        arguments.reject(option, str(folder), f"a folder, and {existing} is a file")
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        arguments.reject(option, str(folder), f"a folder this process can write ({error.strerror})")
    if created:
        folder.rmdir()


class Checkpoints:
    """The state of a run on disk, the last one read back at the start.

    Saving is collective under ``MultiWorkerMirroredStrategy``: every worker saves, but only
    worker 0 into ``folder``; the others write into a scratch folder of their own and delete it
    again, so nothing but worker 0's files reaches the shared folder. Every worker restores from
    ``folder``, which must be on storage that all of them read.
    """

    def __init__(self, folder, chief, run, **state):
        self.folder, self.chief, self.run = pathlib.Path(folder), chief, run
        self.checkpoint = tf.train.Checkpoint(**state)
        self.manager = None  # worker 0's, made at its first save

    def restore(self):
        """Load the last checkpoint, if any; return whether there was one.

        Raises:
            OtherRunError: If the checkpoints belong to a run with another recipe.
        """
        latest = tf.train.latest_checkpoint(self.folder)
        if latest is None:
            return False
        record = self.folder / "run.json"
        saved = json.loads(record.read_text()) if record.exists() else {}
        if saved != self.run:
            changed = sorted(
                key for key in saved.keys() | self.run.keys() if saved.get(key) != self.run.get(key)
            )
            raise OtherRunError(
                f"{self.folder} holds the checkpoints of another run (it differs in {changed}); "
                "delete the folder, or choose another --checkpoint-dir or --out"
            )
        self.checkpoint.restore(latest).assert_existing_objects_matched()
        return True

    def save(self):
        """Save the state; worker 0 also records what the run is."""
        if self.chief:
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / "run.json").write_text(json.dumps(self.run))
            if self.manager is None:
                self.manager = tf.train.CheckpointManager(self.checkpoint, self.folder, 1)
            self.manager.save()
            return
        scratch = tempfile.mkdtemp(prefix="resnet-book-worker-")
        tf.train.CheckpointManager(self.checkpoint, scratch, max_to_keep=1).save()
        shutil.rmtree(scratch, ignore_errors=True)

    def delete(self):
        """Remove the checkpoints of a finished run (worker 0's task)."""
        if self.chief:
            shutil.rmtree(self.folder, ignore_errors=True)


class StopRequest:
    """Whether the process was asked to stop (SIGTERM, as a cloud machine's pre-emption sends)."""

    def __init__(self):
        self.requested = False

    def __call__(self, signum=None, frame=None):
        """The signal handler: note the request; the loop checkpoints and stops at its next step."""
        self.requested = True


@contextlib.contextmanager
def stop_on_sigterm():
    """A :class:`StopRequest` that SIGTERM sets, while the block runs; the old handler after."""
    request = StopRequest()
    previous = signal.signal(signal.SIGTERM, request)
    try:
        yield request
    finally:
        signal.signal(signal.SIGTERM, previous)
