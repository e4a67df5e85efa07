"""A quiet, reproducible TensorFlow: the set-up cell of every chapter.

Taught in chapters/01-why-depth-is-hard.ipynb (set-up cell).
"""

import contextlib
import os
import sys

from resnet_book import arguments


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


CPU_DEVICES = "RESNET_BOOK_CPU_DEVICES"


def import_tensorflow():
    """Import TensorFlow without its start-up log lines and return the module.

    The first operation is run inside the silenced region too, because
    TensorFlow logs CPU-feature notes lazily, and TensorFlow's Python logger
    is set to errors only. Calling it again is cheap.

    Before that first operation, the environment variable
    ``RESNET_BOOK_CPU_DEVICES`` (if set, to N) splits the CPU into N logical
    devices, so that a distribution strategy finds N replicas on a machine
    without GPUs (chapters/12-training-at-scale.ipynb); it must be set before
    ``resnet_book`` is first imported.

    Returns:
        The ``tensorflow`` module.

    Raises:
        ValueError: If ``RESNET_BOOK_CPU_DEVICES`` is not a positive integer.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    already_started = "tensorflow" in sys.modules
    devices = os.environ.get(CPU_DEVICES, "")
    if devices and not (devices.isdigit() and int(devices) > 0):
        arguments.reject(CPU_DEVICES, devices, "a positive integer")
    with _stderr_silenced():
        import tensorflow as tf

        if not already_started:
            if devices:
                cpu = tf.config.list_physical_devices("CPU")[0]
                logical = [tf.config.LogicalDeviceConfiguration()] * int(devices)
                tf.config.set_logical_device_configuration(cpu, logical)
            tf.constant(1.0) + 1.0
            tf.get_logger().setLevel("ERROR")  # tf.distribute logs every reduction at INFO
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
    arguments.integer("seed", seed, 0)
    tf = import_tensorflow()
    import keras

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def glue(name, value, digits=3):
    """myst-nb's ``glue`` for the prose, with floats kept to ``digits`` significant digits.

    The stored value is what nbval compares, so rounding keeps a chapter's check
    stable when another processor changes the last bits of a result: a float32
    result that moves by one part in a million flips its third significant digit
    about once in ten thousand values, its fourth about once in a hundred. The
    text shows no more digits than are kept.

    Args:
        name: The key the Markdown refers to, as in ``{glue:text}`name:.2f```.
        value: A number or a string.
        digits: Significant digits kept for a float, 1 to 15.

    Raises:
        ValueError: If ``digits`` is out of range.
    """
    from myst_nb import glue as myst_glue

    arguments.integer("digits", digits, 1, 15)
    if isinstance(value, float) or type(value).__module__ == "numpy":
        value = float(f"{float(value):.{digits}g}")
    myst_glue(name, value, display=False)
