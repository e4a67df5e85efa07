"""Argument checks shared by every module: a bad value raises ValueError naming it.

Each check returns the value it accepted as a plain Python number, so a caller can write
``depth = arguments.check_integer("depth", depth, low=1)`` and pass on an ``int`` even when
it received a NumPy integer. The message always ends with ``Received: name=value``, the way
Keras words its own errors.
"""

import math
import numbers


def reject(name, value, requirement):
    """Raise the ValueError: ``{name} must be {requirement}. Received: {name}={value!r}``."""
    raise ValueError(f"{name} must be {requirement}. Received: {name}={value!r}")


def check_integer(name, value, low=None, high=None, requirement=None):
    """An integer (Python's or NumPy's, not a bool) within ``low..high``, either bound optional.

    ``requirement`` replaces the words of the message (for example ``"6n+2"``).

    Returns:
        The value as a Python ``int``.
    """
    words = requirement or _integer_range(low, high)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        reject(name, value, words)
    if (low is not None and value < low) or (high is not None and value > high):
        reject(name, value, words)
    return int(value)


def _integer_range(low, high):
    if low is not None and high is not None:
        return f"an integer in {low}..{high}"
    if low is not None:
        return "a positive integer" if low == 1 else f"an integer of at least {low}"
    return "an integer" if high is None else f"an integer of at most {high}"


def check_real(name, value, low=None, high=None, requirement=None):
    """A finite real number (int or float, Python's or NumPy's, not a bool) in ``[low, high]``.

    Returns:
        The value as a Python ``float``.
    """
    words = requirement or _real_range(low, high)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        reject(name, value, words)
    if not math.isfinite(value):
        reject(name, value, words)
    if (low is not None and value < low) or (high is not None and value > high):
        reject(name, value, words)
    return float(value)


def _real_range(low, high):
    if low is not None and high is not None:
        return f"a finite number in [{low:g}, {high:g}]"
    if low is not None:
        return f"a finite number of at least {low:g}"
    return "a finite number" if high is None else f"a finite number of at most {high:g}"


def check_positive(name, value):
    """A finite real number greater than zero (Python's or NumPy's, not a bool or a string).

    Returns:
        The value as a Python ``int`` if it is an integer, else as a ``float``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        reject(name, value, "a positive finite number")
    if not (math.isfinite(value) and value > 0):
        reject(name, value, "a positive finite number")
    return int(value) if isinstance(value, numbers.Integral) else float(value)


def check_choice(name, value, options):
    """One of ``options``: a string or a number (a list or other unhashable value is refused).

    Returns:
        The value.
    """
    if isinstance(value, bool) or not isinstance(value, str | numbers.Number):
        reject(name, value, f"one of {tuple(options)}")
    if value not in options:
        reject(name, value, f"one of {tuple(options)}")
    return value
