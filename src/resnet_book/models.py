"""Residual and plain networks in the Keras functional style.

One function per idea, composed upward: a block, a stage of blocks, a network.
``cifar_resnet`` follows the paper's CIFAR-10 networks (section 4.2) and has their
parameter counts (Table 6); ``plain_net`` is built from the same pieces and differs in
exactly one thing, the shortcut. Where a network departs from its paper (BatchNorm's
momentum, ``preactivation_resnet``'s shortcuts), the code says so. Every layer has a
deterministic hierarchical name (``stage2_block1_conv1``), so summaries are identical
across runs. What a network costs is measured by :mod:`resnet_book.measure`.

Taught in chapters/05-keras-code.ipynb.
"""

import math
import numbers

from resnet_book import arguments
from resnet_book.backend import keras, layers

# The shortcut options of the paper's Table 3, by name, with the paper's letter for each.
SHORTCUTS = {"zero_pad": "A", "projection": "B", "all_projection": "C"}
BN_MOMENTUM = 0.9  # Keras' default of 0.99 is too slow for the book's small data sets
CIFAR_DEPTH_RULE = "6n+2 (20, 32, 44, 56, 110, ...)"  # the depths of the CIFAR-10 networks
# What normalises a block's convolutions, with the suffix of its layer names. "none" has no layer:
# the branch's last convolution starts at zero instead (see ``basic_branch``).
NORMS = {"batch": "bn", "group": "gn", "none": None}
GROUPS = 8  # GroupNorm's groups, or fewer where the channels do not divide (Wu & He use 32)


@keras.saving.register_keras_serializable(package="resnet_book")
class ZeroPadChannels(layers.Layer):
    """Append all-zero channels: the parameter-free shortcut of option A."""

    def __init__(self, extra_channels, **kwargs):
        super().__init__(**kwargs)
        self.extra_channels = extra_channels

    def call(self, inputs):
        """Pad the last axis with ``extra_channels`` zeros."""
        return keras.ops.pad(inputs, [[0, 0], [0, 0], [0, 0], [0, self.extra_channels]])

    def compute_output_shape(self, input_shape):
        """The input shape with more channels."""
        return (*input_shape[:-1], input_shape[-1] + self.extra_channels)

    def get_config(self):
        """Serialisable configuration."""
        return {**super().get_config(), "extra_channels": self.extra_channels}


def _check_block(filters, stride, shortcut="zero_pad", norm="batch"):
    """``(filters, stride)`` as Python ints; ValueError naming the first invalid argument."""
    filters = arguments.check_integer("filters", filters, 1)
    stride = arguments.check_integer("stride", stride, 1, 2)
    check_shortcut(shortcut)
    check_norm(norm)
    return filters, stride


def check_shortcut(shortcut):
    """One of the names in ``SHORTCUTS``; a paper letter gets a message that names its word.

    Returns:
        The name.

    Raises:
        ValueError: If ``shortcut`` is not one of the names.
    """
    names = {letter: name for name, letter in SHORTCUTS.items()}
    if isinstance(shortcut, str) and shortcut in names:
        raise ValueError(
            f"shortcut takes the option's name: {names[shortcut]!r} for the paper's option "
            f"{shortcut}. Received: shortcut={shortcut!r}"
        )
    return arguments.check_choice("shortcut", shortcut, tuple(SHORTCUTS))


def check_norm(norm):
    """One of the keys of ``NORMS``; ValueError naming ``norm`` otherwise."""
    return arguments.check_choice("norm", norm, tuple(NORMS))


def _check_input_shape(input_shape):
    """``input_shape`` as a tuple of three positive Python ints; ValueError naming it otherwise."""
    requirement = "three positive integers (height, width, channels)"
    if not isinstance(input_shape, tuple | list) or len(input_shape) != 3:
        arguments.reject("input_shape", input_shape, requirement)
    for size in input_shape:
        if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
            arguments.reject("input_shape", input_shape, requirement)
    return tuple(int(size) for size in input_shape)


def conv(x, filters, kernel_size, stride, name, initializer="he_normal"):
    """A bias-free convolution that keeps the size (stride 1) or divides it by ``stride``.

    He-initialised unless told otherwise. A strided convolution is padded explicitly, by
    ``kernel_size // 2`` zeros on every side (``{name}_pad``), as Caffe and Torch pad: output
    pixel ``i`` is then centred on input pixel ``stride * i``, where the shortcut reads. Keras'
    ``padding="same"`` would put the single zero of an even width after the last pixel only,
    and centre the branch one pixel down and right of the shortcut. Taught in
    chapters/03-algorithm.ipynb.
    """
    padding = "same"
    if stride > 1 and kernel_size > 1:
        x = layers.ZeroPadding2D(kernel_size // 2, name=f"{name}_pad")(x)
        padding = "valid"
    return layers.Conv2D(
        filters,
        kernel_size,
        strides=stride,
        padding=padding,
        use_bias=False,
        kernel_initializer=initializer,
        name=name,
    )(x)


def batchnorm(x, name):
    """BatchNorm with the book's momentum (see ``BN_MOMENTUM``)."""
    return layers.BatchNormalization(momentum=BN_MOMENTUM, name=name)(x)


def normalise(x, name, norm="batch"):
    """BatchNorm, GroupNorm, or nothing (``norm`` is a key of ``NORMS``) on ``x``.

    GroupNorm (Wu & He 2018) normalises each example over groups of channels
    and never looks at the rest of the batch. Taught in chapters/03-algorithm.ipynb.
    """
    check_norm(norm)
    if norm == "batch":
        return batchnorm(x, name)
    if norm == "group":
        return layers.GroupNormalization(math.gcd(GROUPS, x.shape[-1]), name=name)(x)
    return x


def conv_norm(x, filters, kernel_size, stride, name, index="", norm="batch"):
    """A convolution then its normalisation: ``{name}_conv{index}``, then ``{name}_bn{index}``.

    BatchNorm by default (paper, section 3.4); ``norm="group"`` puts GroupNorm
    (``_gn{index}``) in its place, and ``"none"`` leaves the convolution alone.
    """
    check_norm(norm)
    filters = arguments.check_integer("filters", filters, 1)
    kernel_size = arguments.check_integer("kernel_size", kernel_size, 1)
    stride = arguments.check_integer("stride", stride, 1)
    x = conv(x, filters, kernel_size, stride, f"{name}_conv{index}")
    return normalise(x, f"{name}_{NORMS[norm]}{index}", norm)


def shortcut_path(x, filters, stride, shortcut, name, norm="batch"):
    """What a block adds back, shaped like its output (``filters`` channels, ``stride``).

    ``"zero_pad"`` (the paper's option A): the input, subsampled and zero-padded where the
    shape changes; ``"projection"`` (B): a 1x1 convolution and ``norm`` where it changes;
    ``"all_projection"`` (C): that projection always.
    """
    filters, stride = _check_block(filters, stride, shortcut, norm)
    shape_changes = stride != 1 or x.shape[-1] != filters
    if shortcut == "all_projection" or (shortcut == "projection" and shape_changes):
        return conv_norm(x, filters, 1, stride, f"{name}_proj", norm=norm)
    if not shape_changes:
        return x
    if x.shape[-1] > filters:
        raise ValueError(
            f"shortcut 'zero_pad' cannot shrink {x.shape[-1]} channels to filters={filters}; "
            "use shortcut='projection' or 'all_projection'."
        )
    if stride != 1:
        # An average over one pixel is that pixel. Unlike a max-pool's, its gradient reads no
        # stored tensor, so the shortcut adds nothing to what training keeps (chapter 3).
        x = layers.AveragePooling2D(pool_size=1, strides=stride, name=f"{name}_subsample")(x)
    return ZeroPadChannels(filters - x.shape[-1], name=f"{name}_pad")(x)


def basic_branch(x, filters, stride, name, norm="batch"):
    """The two 3x3 layers of the basic block: conv-BN-ReLU, conv-BN.

    With ``norm="none"`` there is no normalisation, and the second convolution
    starts at zero, so that every block with an identity shortcut starts as the
    identity (one ingredient of Fixup, Zhang et al. 2019, which also rescales
    the branches' other weights). Taught in chapters/03-algorithm.ipynb.
    """
    filters, stride = _check_block(filters, stride, norm=norm)
    y = conv_norm(x, filters, 3, stride, name, 1, norm)
    y = layers.ReLU(name=f"{name}_relu1")(y)
    if norm == "none":
        return conv(y, filters, 3, 1, f"{name}_conv2", initializer="zeros")
    return conv_norm(y, filters, 3, 1, name, 2, norm)


def residual_block(x, filters, stride=1, shortcut="zero_pad", name="block", norm="batch"):
    """The basic block: ReLU of the shortcut plus the branch (conv-BN-ReLU, conv-BN).

    ``stride=2`` halves the resolution; :func:`shortcut_path` explains ``shortcut`` and
    :func:`basic_branch` ``norm``. Layer names start with ``name``. Taught in
    chapters/05-keras-code.ipynb.
    """
    filters, stride = _check_block(filters, stride, shortcut, norm)
    y = basic_branch(x, filters, stride, name, norm)
    shortcut = shortcut_path(x, filters, stride, shortcut, name, norm)
    y = layers.Add(name=f"{name}_add")([shortcut, y])
    return layers.ReLU(name=f"{name}_out")(y)


def plain_block(x, filters, stride=1, name="block"):
    """The plain twin of :func:`residual_block`: the same layers, no addition.

    A plain network built from these differs from a residual one only in the
    shortcuts, which is the comparison the paper makes.
    """
    filters, stride = _check_block(filters, stride)
    return layers.ReLU(name=f"{name}_out")(basic_branch(x, filters, stride, name))


def bottleneck_block(x, filters, stride=1, shortcut="projection", stride_on="1x1", name="block"):
    """The bottleneck block of ResNet-50/101/152: 1x1 to ``filters``, 3x3, 1x1 to ``4 * filters``.

    ``stride_on`` says which convolution halves the resolution: the first 1x1 in the authors'
    released models (and Keras' ``ResNet50``; the paper does not say), the 3x3 in the later
    "v1.5" (torchvision's), which costs more multiply-adds.
    Taught in chapters/08-deeper-blocks.ipynb.
    """
    filters, stride = _check_block(filters, stride, shortcut)
    arguments.check_choice("stride_on", stride_on, ("1x1", "3x3"))
    first, middle = (stride, 1) if stride_on == "1x1" else (1, stride)
    y = layers.ReLU(name=f"{name}_relu1")(conv_norm(x, filters, 1, first, name, 1))
    y = layers.ReLU(name=f"{name}_relu2")(conv_norm(y, filters, 3, middle, name, 2))
    y = conv_norm(y, 4 * filters, 1, 1, name, 3)
    y = layers.Add(name=f"{name}_add")([shortcut_path(x, 4 * filters, stride, shortcut, name), y])
    return layers.ReLU(name=f"{name}_out")(y)


def preactivation_block(x, filters, stride=1, shortcut="zero_pad", name="block"):
    """The pre-activation block of ResNet v2 (He et al. 2016, Identity Mappings).

    BN-ReLU-conv twice, then the addition, with nothing after it: the shortcut
    path stays a clean identity from block to block. Taught in chapters/08-deeper-blocks.ipynb.
    """
    filters, stride = _check_block(filters, stride, shortcut)
    y = layers.ReLU(name=f"{name}_relu1")(batchnorm(x, f"{name}_bn1"))
    y = conv(y, filters, 3, stride, f"{name}_conv1")
    y = layers.ReLU(name=f"{name}_relu2")(batchnorm(y, f"{name}_bn2"))
    y = conv(y, filters, 3, 1, f"{name}_conv2")
    return layers.Add(name=f"{name}_add")([shortcut_path(x, filters, stride, shortcut, name), y])


def stage(x, block, filters, num_blocks, stride=1, name="stage", **options):
    """``num_blocks`` blocks built by ``block``; the first may downsample with ``stride``.

    ``options`` go to every block, for example ``shortcut="projection"``.
    """
    num_blocks = arguments.check_integer("num_blocks", num_blocks, 1)
    for index in range(1, num_blocks + 1):
        first = index == 1
        x = block(x, filters, stride if first else 1, name=f"{name}_block{index}", **options)
    return x


def blocks_per_stage(depth):
    """``n`` for a CIFAR network of depth 6n+2; ValueError for any other depth."""
    depth = arguments.check_integer("depth", depth, 8, requirement=CIFAR_DEPTH_RULE)
    if (depth - 2) % 6:
        arguments.reject("depth", depth, CIFAR_DEPTH_RULE)
    return (depth - 2) // 6


def _cifar_net(depth, *, block, input_shape, num_classes, width, name, **options):
    """The CIFAR-10 skeleton of section 4.2, named ``{name}{depth}``, built of ``block``s."""
    num_blocks = blocks_per_stage(depth)
    input_shape = _check_input_shape(input_shape)
    num_classes = arguments.check_integer("num_classes", num_classes, 2)
    width = arguments.check_integer("width", width, 1)
    inputs = keras.Input(shape=input_shape, name="image")
    # A pre-activation block normalises its own input, and its output is a bare sum: the stem is a
    # convolution alone, and BatchNorm and ReLU move to the end, before the pooling.
    preactivation = block is preactivation_block
    norm = options.get("norm", "batch")
    x = conv(inputs, width, 3, 1, "stem_conv")
    if not preactivation:
        x = layers.ReLU(name="stem_relu")(normalise(x, f"stem_{NORMS[norm]}", norm))
    for number, multiple in enumerate((1, 2, 4), start=1):
        x = stage(
            x,
            block,
            width * multiple,
            num_blocks,
            stride=1 if number == 1 else 2,
            name=f"stage{number}",
            **options,
        )
    if preactivation:
        x = layers.ReLU(name="final_relu")(batchnorm(x, "final_bn"))
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name=f"{name}{int(depth)}")


def cifar_resnet(
    depth, shortcut="zero_pad", *, input_shape=(32, 32, 3), num_classes=10, width=16, norm="batch"
):
    """ResNet-``depth`` for CIFAR-10 (He et al. 2016, section 4.2).

    A 3x3 stem convolution, three stages of ``n`` basic blocks on 16, 32 and
    64 filters (``width`` times 1, 2, 4), global average pooling and a softmax
    classifier: 6n+2 weighted layers.

    Args:
        depth: 6n+2: 20, 32, 44, 56, 110, ...
        shortcut: ``"zero_pad"`` (the paper's option A, its CIFAR-10 choice),
            ``"projection"`` (B) or ``"all_projection"`` (C).
        input_shape: (height, width, channels) of the images.
        num_classes: Number of classes, at least 2 (the classifier is a softmax).
        width: Filters of the first stage.
        norm: ``"batch"`` (the paper's), ``"group"`` (GroupNorm), or ``"none"``
            with every block's last convolution starting at zero (see
            :func:`basic_branch`; chapters/03-algorithm.ipynb compares them).

    Returns:
        An uncompiled ``keras.Model`` named ``resnet{depth}``.

    Raises:
        ValueError: If ``depth`` is not 6n+2, or another argument is invalid.
    """
    check_shortcut(shortcut)
    check_norm(norm)
    return _cifar_net(
        depth,
        block=residual_block,
        shortcut=shortcut,
        input_shape=input_shape,
        num_classes=num_classes,
        width=width,
        name="resnet",
        norm=norm,
    )


def preactivation_resnet(
    depth, shortcut="zero_pad", *, input_shape=(32, 32, 3), num_classes=10, width=16
):
    """ResNet v2: :func:`cifar_resnet` built from pre-activation blocks.

    He et al., Identity Mappings in Deep Residual Networks (2016): a 3x3 stem
    convolution without normalisation, three stages of :func:`preactivation_block`,
    then BatchNorm and ReLU, global average pooling and the classifier. It has
    the weighted layers of :func:`cifar_resnet` and, at every depth, as many
    trainable parameters. Every shortcut here takes the raw input, the stem's
    output included; where the authors' networks activate before a split is
    listed in chapter 8.

    Taught in chapters/08-deeper-blocks.ipynb.

    Args:
        depth: 6n+2: 20, 32, 44, 56, 110, ...
        shortcut: ``"zero_pad"``, ``"projection"`` or ``"all_projection"``.
        input_shape: (height, width, channels) of the images.
        num_classes: Number of classes, at least 2 (the classifier is a softmax).
        width: Filters of the first stage.

    Returns:
        An uncompiled ``keras.Model`` named ``preact_resnet{depth}``.

    Raises:
        ValueError: If ``depth`` is not 6n+2, or another argument is invalid.
    """
    check_shortcut(shortcut)
    return _cifar_net(
        depth,
        block=preactivation_block,
        shortcut=shortcut,
        input_shape=input_shape,
        num_classes=num_classes,
        width=width,
        name="preact_resnet",
    )


def plain_net(depth, *, input_shape=(32, 32, 3), num_classes=10, width=16):
    """The plain twin of :func:`cifar_resnet`: the same layers, no shortcuts.

    Args:
        depth: 6n+2: 20, 32, 44, 56, 110, ...
        input_shape: (height, width, channels) of the images.
        num_classes: Number of classes, at least 2 (the classifier is a softmax).
        width: Filters of the first stage.

    Returns:
        An uncompiled ``keras.Model`` named ``plain{depth}``.

    Raises:
        ValueError: If ``depth`` is not 6n+2, or another argument is invalid.
    """
    return _cifar_net(
        depth,
        block=plain_block,
        input_shape=input_shape,
        num_classes=num_classes,
        width=width,
        name="plain",
    )


def residual_unit(x, name, residual=True, branch_init="zeros"):
    """He's form of Deep Crossing's residual unit (Shan et al. 2016): ReLU(x + W2 ReLU(W1 x)).

    Two dense layers as wide as ``x``, their sum with ``x``, a ReLU. With
    ``residual=False`` the addition is left out (the plain twin). The second
    layer starts at ``branch_init``: zero by default, so that a deep stack
    without normalisation starts as the identity (one ingredient of Fixup); ``"he_normal"``
    makes every unit add a full-size branch and the sum grow with depth.

    Taught in chapters/10-beyond-images.ipynb.
    """
    arguments.check_choice("branch_init", branch_init, ("zeros", "he_normal"))
    _check_flag("residual", residual)
    width = x.shape[-1]
    y = layers.Dense(
        width, activation="relu", kernel_initializer="he_normal", name=f"{name}_dense1"
    )(x)
    y = layers.Dense(width, kernel_initializer=branch_init, name=f"{name}_dense2")(y)
    if residual:
        y = layers.Add(name=f"{name}_add")([x, y])
    return layers.ReLU(name=f"{name}_out")(y)


def tabular_net(num_features, num_units, *, residual=True, width=64, branch_init=None):
    """A binary classifier for tables: a dense layer, ``num_units`` residual units, a score.

    Args:
        num_features: Columns of the table.
        num_units: Units of :func:`residual_unit` (two dense layers each).
        residual: False for the plain twin, the same layers without additions.
        width: Width of every hidden layer.
        branch_init: Initialiser of each unit's second layer; None for the
            default, zero with shortcuts and He without (a zero layer in a
            plain stack would pass nothing on).

    Returns:
        An uncompiled ``keras.Model`` with a sigmoid output, named
        ``residual_mlp{num_units}`` or ``plain_mlp{num_units}``.

    Raises:
        ValueError: If an argument is invalid.
    """
    num_features = arguments.check_integer("num_features", num_features, 1)
    num_units = arguments.check_integer("num_units", num_units, 1)
    width = arguments.check_integer("width", width, 1)
    _check_flag("residual", residual)
    if branch_init is None:
        branch_init = "zeros" if residual else "he_normal"
    inputs = keras.Input(shape=(num_features,), name="features")
    x = layers.Dense(width, activation="relu", kernel_initializer="he_normal", name="embed")(inputs)
    for index in range(1, num_units + 1):
        x = residual_unit(x, f"unit{index}", residual, branch_init)
    outputs = layers.Dense(1, activation="sigmoid", name="score")(x)
    kind = "residual" if residual else "plain"
    return keras.Model(inputs, outputs, name=f"{kind}_mlp{num_units}")


def signal_net(num_blocks, residual, filters=16):
    """A 1-D residual network for MNIST-1D's signals of 40 samples, or its plain twin.

    The CIFAR-10 block in one dimension: a 5-wide stem convolution with a ReLU
    and no BatchNorm, ``num_blocks`` blocks of two 3-wide convolutions with
    BatchNorm, all ``filters`` channels wide, with no stages and no
    downsampling, then global average pooling and a 10-way softmax. The
    convolutions start from Keras' default Glorot initialisation, not He's.
    ``residual=False`` drops the additions and nothing else.

    Taught in chapters/09-applications.ipynb.

    Args:
        num_blocks: Blocks of two convolutions.
        residual: False for the plain twin, the same layers without additions.
        filters: Channels of every convolution.

    Returns:
        An uncompiled ``keras.Model`` named ``residual`` or ``plain``.

    Raises:
        ValueError: If an argument is invalid.
    """
    num_blocks = arguments.check_integer("num_blocks", num_blocks, 1)
    filters = arguments.check_integer("filters", filters, 1)
    _check_flag("residual", residual)
    inputs = keras.Input(shape=(40, 1))
    x = layers.Conv1D(filters, 5, padding="same", activation="relu", name="stem")(inputs)
    for i in range(1, num_blocks + 1):
        y = layers.Conv1D(filters, 3, padding="same", use_bias=False, name=f"block{i}_conv1")(x)
        y = layers.BatchNormalization(momentum=0.9, name=f"block{i}_bn1")(y)
        y = layers.ReLU(name=f"block{i}_relu1")(y)
        y = layers.Conv1D(filters, 3, padding="same", use_bias=False, name=f"block{i}_conv2")(y)
        y = layers.BatchNormalization(momentum=0.9, name=f"block{i}_bn2")(y)
        if residual:
            y = layers.Add(name=f"block{i}_add")([x, y])
        x = layers.ReLU(name=f"block{i}_out")(y)
    x = layers.GlobalAveragePooling1D(name="pool")(x)
    outputs = layers.Dense(10, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name="residual" if residual else "plain")


def _check_flag(name, value):
    """Raise ValueError naming ``name`` unless ``value`` is True or False."""
    if value is not True and value is not False:
        arguments.reject(name, value, "True or False")
