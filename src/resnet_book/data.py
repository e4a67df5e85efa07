"""Data sets that ship with a package or are generated: nothing is downloaded.

Taught in chapters/05-keras-code.ipynb.
"""

import functools

import numpy as np

from resnet_book import arguments


@functools.lru_cache(maxsize=8)
def _digits_split(test_fraction, seed):
    """scikit-learn's 8x8 digits, split stratified and standardised by the training split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.images,
        digits.target,
        test_size=test_fraction,
        random_state=seed,
        stratify=digits.target,
    )
    mean, std = x_train.mean(), x_train.std()
    x_train = ((x_train - mean) / std).astype(np.float32)
    x_test = ((x_test - mean) / std).astype(np.float32)
    for array in (x_train, x_test):
        array.flags.writeable = False
    return (x_train, y_train.astype(np.int64)), (x_test, y_test.astype(np.int64))


def digits_images(size=16, test_fraction=0.2, seed=0):
    """scikit-learn's 1,797 handwritten digits as standardised images.

    The 8x8 images are enlarged by pixel repetition to ``size`` x ``size`` so
    that the three stages of a CIFAR-style network (which halve the resolution
    twice) still see a spatial map. Mean and standard deviation come from the
    training split only.

    Args:
        size: Side of the square images, a multiple of 8 (8, 16, 32, ...).
        test_fraction: Share of the images held out for testing, in (0, 1).
        seed: Seed of the stratified shuffle that makes the split.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: float32 images of shape
        (n, size, size, 1) and int64 labels 0-9.

    Raises:
        ValueError: If ``size`` or ``test_fraction`` is out of range.
    """
    arguments.check_integer("size", size, 1)
    if size % 8:
        raise ValueError(f"size must be a positive multiple of 8. Received: size={size!r}")
    if not isinstance(test_fraction, float) or not 0 < test_fraction < 1:
        raise ValueError(
            f"test_fraction must be between 0 and 1. Received: test_fraction={test_fraction!r}"
        )
    factor = size // 8
    return tuple(
        (images.repeat(factor, axis=1).repeat(factor, axis=2)[..., None], labels.copy())
        for images, labels in _digits_split(test_fraction, seed)
    )


@functools.lru_cache(maxsize=4)
def digits_batch(batch_size=64, seed=0):
    """A fixed batch of training digits as flat vectors, for the fully connected networks.

    The first ``batch_size`` images of :func:`digits_images`' training split
    at 8x8, standardised the same way, each flattened to 64 values.

    Taught in chapters/01-why-depth-is-hard.ipynb.

    Args:
        batch_size: Number of images, from 1 to 1437 (the training split).
        seed: Seed of the split, as for :func:`digits_images`.

    Returns:
        ``(x, y)``: float32 pixels of shape (batch_size, 64), read-only, and int64 labels.

    Raises:
        ValueError: If ``batch_size`` is out of range.
    """
    (x_train, y_train), _ = _digits_split(0.2, seed)
    arguments.check_integer("batch_size", batch_size, 1, len(x_train))
    x = x_train[:batch_size].reshape(batch_size, -1)
    return x, y_train[:batch_size]


@functools.lru_cache(maxsize=4)
def _mnist1d(num_samples, seed):
    """MNIST-1D as the package generates it, once per setting (about a second each time)."""
    from mnist1d.data import get_dataset_args, make_dataset

    settings = get_dataset_args()
    settings.num_samples, settings.seed = num_samples, seed
    signals = make_dataset(settings)
    for array in signals.values():
        if isinstance(array, np.ndarray):
            array.flags.writeable = False
    return signals


def mnist1d_signals(num_samples=5000, seed=42):
    """MNIST-1D (Greydanus 2020): the ten digits as noisy 1-D signals of length 40, generated.

    The ``mnist1d`` package draws the signals from templates with a seed, so nothing
    is downloaded; its defaults give 4,000 training and 1,000 test signals, already
    centred and of unit scale.

    Taught in chapters/09-applications.ipynb; the training tool's ``--data mnist1d``.

    Args:
        num_samples: Signals in all, at least 10; four fifths are for training.
        seed: Seed of the generator (the package's default is 42).

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: float32 signals of shape
        (n, 40, 1) and int64 labels 0-9.

    Raises:
        ValueError: If ``num_samples`` or ``seed`` is out of range.
    """
    num_samples = arguments.check_integer("num_samples", num_samples, 10)
    seed = arguments.check_integer("seed", seed, 0)
    signals = _mnist1d(num_samples, seed)
    return tuple(
        (signals[x][..., None].astype(np.float32), signals[y].astype(np.int64))
        for x, y in (("x", "y"), ("x_test", "y_test"))
    )


def breast_cancer_table(test_fraction=0.25, seed=0):
    """scikit-learn's breast-cancer table: 569 tumours, 30 measurements, benign or malignant.

    Split stratified; every column standardised with the training split's mean
    and standard deviation. Taught in chapters/10-beyond-images.ipynb.

    Args:
        test_fraction: Share of the rows held out for testing, in (0, 1).
        seed: Seed of the split.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: float32 features, int64
        labels (1 benign, 0 malignant).

    Raises:
        ValueError: If ``test_fraction`` is not in (0, 1).
    """
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    if not (isinstance(test_fraction, float) and 0 < test_fraction < 1):
        arguments.reject("test_fraction", test_fraction, "a float in (0, 1)")
    arguments.check_integer("seed", seed, 0)
    x, y = load_breast_cancer(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_fraction, random_state=seed, stratify=y
    )
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    return tuple(
        (((features - mean) / std).astype(np.float32), labels.astype(np.int64))
        for features, labels in ((x_train, y_train), (x_test, y_test))
    )
