"""Shared code of the book *ResNet, Interactively*.

Importing the package imports no TensorFlow: NumPy chapters stay light, and a
process keeps the choice of its devices. Chapters that use TensorFlow call
:func:`start_tensorflow` in their first cell.
"""

from resnet_book.runtime import glue, set_seed, start_tensorflow

__all__ = ["glue", "set_seed", "start_tensorflow"]
