"""A quiet, reproducible TensorFlow: the set-up cell of every chapter.

Taught in chapters/01-why-depth-is-hard.ipynb (set-up cell).
"""

import contextlib
import os
import sys


@contextlib.contextmanager
def _stderr_silenced():
    """Point file descriptor 2 at the null device, then restore it.

    TensorFlow's C++ runtime writes its start-up lines to file descriptor 2
    before it reads ``TF_CPP_MIN_LOG_LEVEL``, so redirecting ``sys.stderr``
    alone does not catch them.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(null)
        os.close(saved)


def import_tensorflow():
    """Import TensorFlow without its start-up log lines and return the module.

    The first operation is run inside the silenced region too, because
    TensorFlow logs CPU-feature notes lazily. Calling it again is cheap.

    Returns:
        The ``tensorflow`` module.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    already_started = "tensorflow" in sys.modules
    with _stderr_silenced():
        import tensorflow as tf

        if not already_started:
            tf.constant(1.0) + 1.0
    return tf


def set_seed(seed):
    """Seed Python, NumPy and TensorFlow and make TensorFlow ops deterministic.

    After this call, two runs of the same cell give bit-identical numbers,
    across processes and machines with the same wheels.

    Args:
        seed: A non-negative integer.

    Raises:
        ValueError: If ``seed`` is not a non-negative integer.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer. Received: seed={seed!r}")
    tf = import_tensorflow()
    import keras

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
