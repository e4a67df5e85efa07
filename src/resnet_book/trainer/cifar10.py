"""CIFAR-10, downloaded once through Keras' cache, or read from a copy placed there by hand.

``keras.datasets.cifar10.load_data()`` fetches the authors' ``cifar-10-python.tar.gz`` with
``keras.utils.get_file``, which checks its SHA-256, keeps it in ``KERAS_HOME/datasets`` under the
name ``cifar-10-batches-py-target_archive`` and extracts it next to it. :func:`load_data` makes the
same call, so the two share one copy: a reader who has run either has the data for both, and on a
machine without a network connection the archive copied to that name is all it takes. The
batches are then read here rather than by Keras, which also accepts archives in the same format
with fewer images.

Used by the training tool (:mod:`resnet_book.trainer`); taught in
chapters/13-training-at-scale.ipynb.
"""

import os
import pathlib
import pickle

import numpy as np

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
CACHE_NAME = "cifar-10-batches-py-target"  # keras.datasets.cifar10's name for its cache entry
TRAIN_BATCHES = [f"data_batch_{number}" for number in range(1, 6)]


def keras_home():
    """Keras' folder, by Keras' rule: ``$KERAS_HOME``, else ``~/.keras`` (``/tmp/.keras``)."""
    if "KERAS_HOME" in os.environ:
        return pathlib.Path(os.environ["KERAS_HOME"])
    home = pathlib.Path("~").expanduser()
    return (home if os.access(home, os.W_OK) else pathlib.Path("/tmp")) / ".keras"


def archive_path():
    """Where Keras keeps the downloaded archive, and where a copy made by hand goes."""
    return keras_home() / "datasets" / f"{CACHE_NAME}_archive"


def missing_message(reason):
    """What to do when the archive is neither in the cache nor downloadable."""
    return (
        f"CIFAR-10 is not in Keras' cache and could not be downloaded ({reason}).\n"
        f"On a machine with a network connection, download {URL} (163 MiB, SHA-256 "
        f"{SHA256}) and copy it, under this name, to\n  {archive_path()}\n"
        "(Keras' name for its cached copy; set KERAS_HOME to use a folder other than "
        "~/.keras). Keras removes a file there whose checksum is not this one."
    )


def extracted_folder():
    """The folder of the extracted batches, downloading the archive first if needed.

    Raises:
        FileNotFoundError: If the archive is not cached and cannot be downloaded.
    """
    import keras

    archive_path().parent.mkdir(parents=True, exist_ok=True)
    try:
        folder = keras.utils.get_file(
            fname=CACHE_NAME,
            origin=URL,
            extract=True,
            file_hash=SHA256,
            cache_dir=str(keras_home()),
        )
    except Exception as error:  # get_file raises a bare Exception when the download fails
        raise FileNotFoundError(missing_message(error)) from error
    return pathlib.Path(folder) / "cifar-10-batches-py"


def read_batch(path):
    """One pickled batch: a dict with ``b"data"``, uint8 (n, 3072), and ``b"labels"``.

    Returns:
        ``(images, labels)``: uint8 (n, 32, 32, 3) in channels-last order and int64 labels.

    Raises:
        ValueError: If the file does not hold a batch in this format.
    """
    # The archive's checksum has been verified by then, so unpickling it is safe.
    with open(path, "rb") as file:
        batch = pickle.load(file, encoding="bytes")
    data, labels = batch.get(b"data"), batch.get(b"labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.shape[1:] != (3072,):
        raise ValueError(f"{path} does not hold b'data' as uint8 of shape (n, 3072)")
    if labels is None or len(labels) != len(data):
        raise ValueError(f"{path} does not hold one of b'labels' per image")
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return images, np.asarray(labels, dtype=np.int64)


def load_data(validation=False):
    """CIFAR-10's 50,000 training and 10,000 test images, or the paper's 45k/5k split.

    Args:
        validation: If True, hold out the last tenth of the training images
            (5,000) and return them in place of the test set: the 45k/5k split
            on which the paper chose its schedule.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 images of shape
        (n, 32, 32, 3) and int64 labels 0-9.

    Raises:
        FileNotFoundError: If the archive is not cached and cannot be downloaded.
        ValueError: If ``validation`` is not a bool.
    """
    if not isinstance(validation, bool):
        raise ValueError(f"validation must be True or False. Received: validation={validation!r}")
    folder = extracted_folder()
    parts = [read_batch(folder / name) for name in TRAIN_BATCHES]
    x_train = np.concatenate([images for images, _ in parts])
    y_train = np.concatenate([labels for _, labels in parts])
    if validation:
        split = len(x_train) - len(x_train) // 10
        return (x_train[:split], y_train[:split]), (x_train[split:], y_train[split:])
    return (x_train, y_train), read_batch(folder / "test_batch")
