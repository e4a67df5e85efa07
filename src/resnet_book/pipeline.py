"""The input pipeline of the training tool: the paper's augmentation, shared out to the replicas.

Each function here builds one input pipeline's ``tf.data.Dataset``; the training tool hands them
to ``strategy.distribute_datasets_from_function``, which calls them once per pipeline (one per
machine) with a ``tf.distribute.InputContext`` saying which share of the data is its own. A data
set is the dict that :func:`resnet_book.train.load_data` returns: the arrays, and the ``scale``
and ``offset`` that standardise an image as ``image * scale - offset``.

Used by the training tool; taught in chapters/13-training-at-scale.ipynb.
"""

import math

from resnet_book.backend import tf


def augment(image, seed):
    """The paper's augmentation: pad 4 zeros each side, crop at random, flip half the images.

    Args:
        image: A standardised (height, width, channels) image; zero is the mean pixel.
        seed: Two integers: the same seed gives the same crop and flip.

    Returns:
        An image of the same shape.
    """
    crop_seed, flip_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    padded = tf.pad(image, [[4, 4], [4, 4], [0, 0]])
    image = tf.image.stateless_random_crop(padded, tf.shape(image), seed=crop_seed)
    return tf.image.stateless_random_flip_left_right(image, seed=flip_seed)


def source(dataset, split):
    """The images and labels of ``dataset[split]`` as tensors in host memory, to be indexed.

    Built once outside the mapped function, which then captures them by
    reference; an array used inside it would be copied into its graph.
    """
    with tf.device("/cpu:0"):
        return [tf.constant(array) for array in dataset[split]]


def standardise(image, dataset):
    """An image as float32, standardised: ``image * scale - offset``."""
    return tf.cast(image, tf.float32) * dataset["scale"] - dataset["offset"]


def training_batches(dataset, global_batch, seed, first_epoch, context):
    """This pipeline's share of the training stream, from ``first_epoch`` on, batched per replica.

    Every epoch is a fresh order of the images, a function of ``(seed, epoch)``
    only, cut to whole global batches. The pipelines take turns at its images,
    so each global batch is the same set of images on any number of replicas
    and machines, and the augmentation is seeded by ``(seed, epoch, image)``:
    a run resumed at an epoch sees exactly what it would have seen.

    The images stay in memory as they are (uint8 for CIFAR-10) and are
    standardised and augmented on the fly, in parallel on the CPU, while the
    accelerator works on the batches prefetched. There is no ``cache()``: the
    source is already in memory, and a cached float32 copy would take four
    times the memory to save one subtraction per image.

    Args:
        dataset: A data set (see the module's docstring).
        global_batch: Images per step over all replicas.
        seed: An int64 scalar tensor.
        first_epoch: The epoch to start from, 0 for a new run.
        context: The ``tf.distribute.InputContext`` of this pipeline.

    Returns:
        An endless ``tf.data.Dataset`` of ``(images, labels)`` batches.
    """
    images, labels = source(dataset, "train")
    num_images = len(dataset["train"][1])
    per_epoch = num_images // global_batch * global_batch

    def epoch(number):
        order = tf.argsort(tf.random.stateless_uniform([num_images], tf.stack([seed, number])))
        return tf.data.Dataset.from_tensor_slices(order[:per_epoch]).map(lambda i: (number, i))

    def example(number, index):
        image = standardise(tf.gather(images, index), dataset)
        if dataset["augment"]:
            image_seed = tf.random.experimental.stateless_fold_in(tf.stack([seed, number]), index)
            image = augment(image, image_seed)
        return image, tf.gather(labels, index)

    stream = tf.data.Dataset.counter(first_epoch).flat_map(epoch)
    stream = stream.shard(context.num_input_pipelines, context.input_pipeline_id)
    stream = stream.map(example, num_parallel_calls=tf.data.AUTOTUNE)
    per_replica = context.get_per_replica_batch_size(global_batch)
    return stream.batch(per_replica, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def evaluation_batches(dataset, split, global_batch, context):
    """This pipeline's share of ``dataset[split]`` in order, padded to whole global batches.

    The padding repeats the last image with the label -1, which the evaluation
    does not count: every replica gets full batches, every image counts once.

    Args:
        dataset: A data set (see the module's docstring).
        split: ``"train"`` or ``"test"``.
        global_batch: Images per step over all replicas.
        context: The ``tf.distribute.InputContext`` of this pipeline.

    Returns:
        A ``tf.data.Dataset`` of ``ceil(n / global_batch)`` batches per replica.
    """
    images, labels = source(dataset, split)
    num_images = len(dataset[split][1])

    def example(index):
        kept = tf.minimum(index, num_images - 1)  # the padding repeats the last image
        image, label = standardise(tf.gather(images, kept), dataset), tf.gather(labels, kept)
        return image, tf.where(index < num_images, label, tf.constant(-1, label.dtype))

    stream = tf.data.Dataset.range(math.ceil(num_images / global_batch) * global_batch)
    stream = stream.shard(context.num_input_pipelines, context.input_pipeline_id)
    stream = stream.map(example, num_parallel_calls=tf.data.AUTOTUNE)
    per_replica = context.get_per_replica_batch_size(global_batch)
    return stream.batch(per_replica, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
