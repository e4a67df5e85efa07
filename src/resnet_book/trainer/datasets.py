"""The data sets the training tool knows, as a typed :class:`DataSet`.

Each is held in memory as arrays, with the ``scale`` and ``offset`` that standardise an image as
``image * scale - offset`` and whether the paper's augmentation applies. ``TRAIN_SIZES`` gives
each one's number of training images before it loads, so that the recipe is checked first.

Used by the training tool (:mod:`resnet_book.trainer`); taught in
chapters/13-training-at-scale.ipynb.
"""

import dataclasses

import numpy as np

from resnet_book import arguments, data
from resnet_book.trainer import cifar10

DATA_SETS = ("cifar10", "digits", "mnist1d", "synthetic")
# Training images by data set and --validation, known before loading.
TRAIN_SIZES = {
    ("cifar10", False): 50_000,
    ("cifar10", True): 45_000,
    ("digits", False): 1_437,
    ("mnist1d", False): 4_000,
    ("synthetic", False): 5_000,
}


@dataclasses.dataclass(frozen=True, eq=False)
class DataSet:
    """A data set in memory: NHWC images and integer labels, and how to standardise them."""

    name: str
    train: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]
    scale: float
    offset: np.ndarray
    augment: bool
    test_name: str = "test"

    @property
    def input_shape(self):
        """The shape of one image, (height, width, channels)."""
        return tuple(self.train[0].shape[1:])

    @property
    def description(self):
        """One line for the results file: ``digits, 1,437 train / 360 test (16x16x1)``."""
        shape = "x".join(str(size) for size in self.input_shape)
        return (
            f"{self.name}, {len(self.train[1]):,} train / {len(self.test[1]):,} "
            f"{self.test_name} ({shape})"
        )


def train_size(name, validation=False):
    """The number of training images of data set ``name``, known without loading it."""
    arguments.check_choice("--data", name, DATA_SETS)
    if validation and name != "cifar10":
        arguments.reject("--data", name, "'cifar10' for --validation (the paper's 45k/5k split)")
    return TRAIN_SIZES[name, validation]


def load(name, validation=False):
    """One of ``DATA_SETS``, in memory.

    Raises:
        FileNotFoundError: If CIFAR-10 is not cached and cannot be downloaded.
        ValueError: If ``name`` is unknown, or ``validation`` is asked of another data set.
    """
    train_size(name, validation)
    test_name = "validation" if validation else "test"
    if name in ("cifar10", "synthetic"):
        if name == "cifar10":
            train, test = cifar10.load_data(validation)
        else:
            rng = np.random.default_rng(0)
            train, test = [
                (rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, n))
                for n in (5000, 1000)
            ]
        offset = train[0].mean(axis=0, dtype=np.float64) / 255  # the paper's per-pixel mean
        return DataSet(name, train, test, 1 / 255, offset.astype(np.float32), True, test_name)
    if name == "digits":
        train, test = data.digits_images(size=16)
    else:
        train, test = [(x[..., None], y) for x, y in data.mnist1d_signals()]
    return DataSet(name, train, test, 1.0, np.float32(0), False, test_name)  # already standard
