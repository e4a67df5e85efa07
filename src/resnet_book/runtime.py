"""A quiet, reproducible TensorFlow, started explicitly, and the prose's numbers.

``import resnet_book`` imports no TensorFlow. A chapter that uses it calls
:func:`start_tensorflow` in its first cell; the book's modules that build networks
import Keras through :mod:`resnet_book.backend`, which keeps TensorFlow's start-up
lines out of the notebook.

Taught in chapters/02-core-idea.ipynb (set-up cell).
"""

import numbers

from resnet_book import arguments


def start_tensorflow(seed=None, cpu_devices=None):
    """Start TensorFlow without its start-up lines: the first cell of a chapter that uses it.

    It imports TensorFlow and Keras, optionally splits the CPU into logical
    devices, and runs a first operation with file descriptor 2 silenced (some
    builds log their CPU features lazily, at the first operation). Calling it
    again is cheap.

    Args:
        seed: If given, :func:`set_seed` is called with it.
        cpu_devices: If given, the number of logical devices the CPU is split
            into, so that a distribution strategy finds that many replicas on a
            machine without GPUs (chapters/13-training-at-scale.ipynb). It must
            be given before TensorFlow's first operation in this process.

    Returns:
        The ``tensorflow`` module.

    Raises:
        ValueError: If an argument is invalid, or ``cpu_devices`` comes after
            TensorFlow already chose its devices.
    """
    from resnet_book.backend import stderr_silenced, tf

    with stderr_silenced():  # choosing devices and the first operation log on some builds
        if cpu_devices is not None:
            split_cpu(cpu_devices)
        tf.constant(1.0) + 1.0
        if seed is not None:
            set_seed(seed)
    return tf


def split_cpu(count):
    """Split the CPU into ``count`` logical devices, or check that it already is.

    Raises:
        ValueError: If ``count`` is not a positive integer, or TensorFlow already
            runs on another number of CPU devices.
    """
    count = arguments.check_integer("cpu_devices", count, 1)
    from resnet_book.backend import tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * count
        )
    except RuntimeError:  # TensorFlow has run an operation: its devices are fixed
        found = len(tf.config.list_logical_devices("CPU"))
        if found != count:
            arguments.reject(
                "cpu_devices",
                count,
                f"given before TensorFlow's first operation (it already runs on {found} CPU "
                "device(s); restart the kernel or process)",
            )


def set_seed(seed):
    """Seed Python, NumPy and TensorFlow and make TensorFlow ops deterministic.

    After this call, two runs of the same cell give bit-identical numbers,
    across processes and machines with the same wheels.

    Args:
        seed: A non-negative integer.

    Raises:
        ValueError: If ``seed`` is not a non-negative integer.
    """
    seed = arguments.check_integer("seed", seed, 0)
    from resnet_book.backend import keras, tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def glue(name, value, digits=3):
    """myst-nb's ``glue`` for the prose: integers kept, floats to ``digits`` significant digits.

    The stored value is what nbval compares, so rounding keeps a chapter's check
    stable when another processor changes the last bits of a result: a float32
    result that moves by one part in a million flips its third significant digit
    about once in ten thousand values, its fourth about once in a hundred. The
    text shows no more digits than are kept.

    Args:
        name: The key the Markdown refers to, as in ``{glue:text}`name:.2f```.
        value: A number (Python's or NumPy's) or a string.
        digits: Significant digits kept for a float, 1 to 15.

    Raises:
        ValueError: If ``digits`` is out of range or ``value`` is neither a number nor a string.
    """
    from myst_nb import glue as myst_glue

    digits = arguments.check_integer("digits", digits, 1, 15)
    if isinstance(value, bool) or not isinstance(value, numbers.Real | str):
        arguments.reject("value", value, "a real number or a string")
    if isinstance(value, numbers.Integral):
        value = int(value)
    elif isinstance(value, numbers.Real):
        value = float(f"{float(value):.{digits}g}")
    myst_glue(name, value, display=False)
