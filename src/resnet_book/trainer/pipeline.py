"""The input pipeline: the paper's augmentation on whole batches, shared out to the replicas.

Each function here builds one input pipeline's ``tf.data.Dataset``; the loop hands them to
``strategy.distribute_datasets_from_function``, which calls them once per pipeline (one per
machine) with a ``tf.distribute.InputContext`` saying which share of the data is its own.

An epoch is planned in one go: the order of the images, and each image's crop and flip, are
drawn from ``(seed, epoch)`` alone. The stream carries only indices and offsets; a whole batch is
then gathered, standardised and augmented by a few tensor operations, not image by image. So a
run resumed at any step sees exactly what it would have seen, on any number of replicas.

Used by the training tool (:mod:`resnet_book.trainer`); taught in
chapters/13-training-at-scale.ipynb.
"""

import math

from resnet_book.backend import tf

PAD = 4  # the paper's zero padding on each side, before the random crop


def augment_batch(images, tops, lefts, flips):
    """The paper's augmentation of a batch: pad 4 zeros each side, crop, flip some images.

    Args:
        images: Standardised images (batch, height, width, channels); zero is the mean pixel.
        tops: Each image's first row in the padded image, an integer in 0..8.
        lefts: Each image's first column in the padded image, an integer in 0..8.
        flips: 1 for the images to flip left to right, else 0.

    Returns:
        A batch of the same shape: image ``i`` is the crop of its padded self at
        ``(tops[i], lefts[i])``, flipped if ``flips[i]``.
    """
    height, width = tf.shape(images)[1], tf.shape(images)[2]
    padded = tf.pad(images, [[0, 0], [PAD, PAD], [PAD, PAD], [0, 0]])
    rows = tops[:, None] + tf.range(height)[None]
    columns = tf.range(width)[None]
    columns = lefts[:, None] + tf.where(flips[:, None] > 0, width - 1 - columns, columns)
    cropped = tf.gather(padded, rows, axis=1, batch_dims=1)
    return tf.gather(cropped, columns, axis=2, batch_dims=1)


def source(dataset, split):
    """The images and labels of ``dataset``'s ``split`` as tensors in host memory, to gather."""
    with tf.device("/cpu:0"):
        return [tf.constant(array) for array in getattr(dataset, split)]


def standardise(images, dataset):
    """Images as float32, standardised: ``images * scale - offset``."""
    return tf.cast(images, tf.float32) * dataset.scale - dataset.offset


def epoch_plan(num_images, per_epoch, seed, number):
    """One epoch's images in order, each with its crop offsets and flip, from ``(seed, epoch)``."""
    key = tf.stack([seed, tf.cast(number, tf.int64)])
    order = tf.argsort(tf.random.stateless_uniform([num_images], key))[:per_epoch]
    crops = tf.random.stateless_uniform(
        [num_images, 2],
        tf.random.experimental.stateless_fold_in(key, 1),
        maxval=2 * PAD + 1,
        dtype=tf.int32,
    )
    # a flip of its own, with probability one half (not an odd crop draw: 4 in 9)
    flips = tf.random.stateless_uniform(
        [num_images], tf.random.experimental.stateless_fold_in(key, 2), maxval=2, dtype=tf.int32
    )
    crops, flips = tf.gather(crops, order), tf.gather(flips, order)
    return order, crops[:, 0], crops[:, 1], flips


def training_batches(dataset, global_batch, seed, first_epoch, context, skip_steps=0):
    """This pipeline's share of the training stream, batched per replica.

    Every epoch is a fresh order of the images cut to whole global batches. The pipelines take
    turns at its images, so each global batch is the same set of images on any number of
    replicas and machines. The images stay in memory as they are (uint8 for CIFAR-10).

    Args:
        dataset: A :class:`~resnet_book.trainer.datasets.DataSet`.
        global_batch: Images per step over all replicas.
        seed: An int64 scalar tensor.
        first_epoch: The epoch to start in, 0 for a new run.
        context: The ``tf.distribute.InputContext`` of this pipeline.
        skip_steps: Steps of ``first_epoch`` already trained (a run resumed mid-epoch).

    Returns:
        An endless ``tf.data.Dataset`` of ``(images, labels)`` batches.
    """
    images, labels = source(dataset, "train")
    num_images = len(dataset.train[1])
    per_epoch = num_images // global_batch * global_batch

    def epoch(number):
        return tf.data.Dataset.from_tensor_slices(epoch_plan(num_images, per_epoch, seed, number))

    def batch(indices, tops, lefts, flips):
        chosen = standardise(tf.gather(images, indices), dataset)
        if dataset.augment:
            chosen = augment_batch(chosen, tops, lefts, flips)
        return chosen, tf.gather(labels, indices)

    stream = tf.data.Dataset.counter(first_epoch).flat_map(epoch).skip(skip_steps * global_batch)
    stream = stream.shard(context.num_input_pipelines, context.input_pipeline_id)
    per_replica = context.get_per_replica_batch_size(global_batch)
    stream = stream.batch(per_replica, drop_remainder=True)
    return stream.map(batch, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def evaluation_batches(dataset, split, global_batch, context):
    """This pipeline's share of ``dataset``'s ``split`` in order, padded to whole global batches.

    The padding repeats the last image with the label -1, which the evaluation does not count:
    every replica gets full batches, every image counts once.

    Args:
        dataset: A :class:`~resnet_book.trainer.datasets.DataSet`.
        split: ``"train"`` or ``"test"``.
        global_batch: Images per step over all replicas.
        context: The ``tf.distribute.InputContext`` of this pipeline.

    Returns:
        A ``tf.data.Dataset`` of ``ceil(n / global_batch)`` batches per replica.
    """
    images, labels = source(dataset, split)
    num_images = len(getattr(dataset, split)[1])

    def batch(indices):
        kept = tf.minimum(indices, num_images - 1)  # the padding repeats the last image
        chosen = standardise(tf.gather(images, kept), dataset)
        padding = tf.constant(-1, labels.dtype)
        return chosen, tf.where(indices < num_images, tf.gather(labels, kept), padding)

    stream = tf.data.Dataset.range(math.ceil(num_images / global_batch) * global_batch)
    stream = stream.shard(context.num_input_pipelines, context.input_pipeline_id)
    per_replica = context.get_per_replica_batch_size(global_batch)
    stream = stream.batch(per_replica, drop_remainder=True)
    return stream.map(batch, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
