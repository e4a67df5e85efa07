"""The training tool's input pipeline, under the name chapter 13 imports.

The pipeline is :mod:`resnet_book.trainer.pipeline`, which augments whole batches; this module
keeps the augmentation of one image that the chapter shows.

Taught in chapters/13-training-at-scale.ipynb.
"""

from resnet_book.backend import tf
from resnet_book.trainer.pipeline import PAD, augment_batch


def augment(image, seed):
    """The paper's augmentation of one image: pad 4 zeros each side, crop, flip or not.

    Args:
        image: A standardised (height, width, channels) image; zero is the mean pixel.
        seed: Two integers: the same seed gives the same crop and flip.

    Returns:
        An image of the same shape.
    """
    crop = tf.random.stateless_uniform([2, 1], seed, maxval=2 * PAD + 1, dtype=tf.int32)
    # a draw of its own, as in the epoch plan: a flip with probability one half
    flip_seed = tf.random.experimental.stateless_fold_in(seed, 1)
    flip = tf.random.stateless_uniform([1], flip_seed, maxval=2, dtype=tf.int32)
    return augment_batch(tf.convert_to_tensor(image)[None], crop[0], crop[1], flip)[0]
