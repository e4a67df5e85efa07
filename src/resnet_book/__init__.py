"""Shared code of the book *ResNet, Interactively*.

Importing the package imports TensorFlow quietly first (see
:func:`resnet_book.runtime.import_tensorflow`), so that a chapter's later
``import keras`` prints no C++ start-up log lines.
"""

from resnet_book.runtime import glue, import_tensorflow, set_seed

import_tensorflow()

__all__ = ["glue", "import_tensorflow", "set_seed"]
