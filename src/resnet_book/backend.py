"""TensorFlow and Keras, imported without TensorFlow's start-up lines.

The book's modules that build or train networks write
``from resnet_book.backend import keras, layers, tf``: the import happens with
file descriptor 2 pointed at the null device, because TensorFlow's C++ runtime
writes its start-up lines there before it reads ``TF_CPP_MIN_LOG_LEVEL``, and a
line on stderr fails a chapter under nbval. Importing this module runs no
TensorFlow operation and configures no device, so a process can still choose its
devices and distribution strategy afterwards (:func:`resnet_book.start_tensorflow`).
"""

import contextlib
import os
import sys


@contextlib.contextmanager
def stderr_silenced():
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


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
with stderr_silenced():
    import keras
    import tensorflow as tf
    from keras import layers

tf.get_logger().setLevel("ERROR")  # tf.distribute logs every reduction at INFO

__all__ = ["keras", "layers", "stderr_silenced", "tf"]
