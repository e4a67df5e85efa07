"""Argument checks shared by every module: a bad value raises ValueError naming it.

Each check returns the value it accepted, so a caller can write
``depth = arguments.integer("depth", depth, low=1)``. The message always ends
with ``Received: name=value``, the way Keras words its own errors.
"""

import math


def reject(name, value, requirement):
    """Raise the ValueError: ``{name} must be {requirement}. Received: {name}={value!r}``."""
    raise ValueError(f"{name} must be {requirement}. Received: {name}={value!r}")


def integer(name, value, low=None, high=None, requirement=None):
    """An int (not a bool) within ``low..high``, either bound optional.

    ``requirement`` replaces the words of the message (for example ``"6n+2"``).
    """
    words = requirement or _integer_range(low, high)
    if isinstance(value, bool) or not isinstance(value, int):
        reject(name, value, words)
    if (low is not None and value < low) or (high is not None and value > high):
        reject(name, value, words)
    return value


def _integer_range(low, high):
    if low is not None and high is not None:
        return f"an integer in {low}..{high}"
    if low is not None:
        return "a positive integer" if low == 1 else f"an integer of at least {low}"
    return "an integer" if high is None else f"an integer of at most {high}"


def positive(name, value):
    """A finite number greater than zero (int or float, not a bool or a string)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        reject(name, value, "a positive finite number")
    if not (math.isfinite(value) and value > 0):
        reject(name, value, "a positive finite number")
    return value


def choice(name, value, options):
    """One of ``options``."""
    if not isinstance(value, str | int | float) or value not in options:
        reject(name, value, f"one of {tuple(options)}")
    return value
