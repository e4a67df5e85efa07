"""Data sets that ship with a package or are generated: nothing is downloaded.

Taught in chapters/05-keras-code.ipynb.
"""

import numpy as np


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
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if isinstance(size, bool) or not isinstance(size, int) or size <= 0 or size % 8:
        raise ValueError(f"size must be a positive multiple of 8. Received: size={size!r}")
    if not 0 < test_fraction < 1:
        raise ValueError(
            f"test_fraction must be between 0 and 1. Received: test_fraction={test_fraction!r}"
        )
    digits = load_digits()
    factor = size // 8
    images = digits.images.repeat(factor, axis=1).repeat(factor, axis=2)[..., None]
    x_train, x_test, y_train, y_test = train_test_split(
        images, digits.target, test_size=test_fraction, random_state=seed, stratify=digits.target
    )
    mean, std = x_train.mean(), x_train.std()
    x_train = ((x_train - mean) / std).astype(np.float32)
    x_test = ((x_test - mean) / std).astype(np.float32)
    return (x_train, y_train.astype(np.int64)), (x_test, y_test.astype(np.int64))
