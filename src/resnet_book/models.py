"""Residual and plain networks in the Keras functional style, exact to the paper.

One function per idea, composed upward: a block, a stage of blocks, a network.
``cifar_resnet`` and ``plain_net`` are built from the same pieces and differ in
exactly one thing, the shortcut. Every layer has a deterministic hierarchical
name (``stage2_block1_conv1``), so summaries are identical across runs.

Taught in chapters/05-keras-code.ipynb.
"""

import math

import keras
import numpy as np
from keras import layers

from resnet_book import arguments

# The shortcut options of the paper's Table 3, by name, with the paper's letter for each.
SHORTCUTS = {"zero_pad": "A", "projection": "B", "all_projection": "C"}
BN_MOMENTUM = 0.9  # Keras' default of 0.99 is too slow for the book's small data sets
CIFAR_DEPTHS = "6n+2 (20, 32, 44, 56, 110, ...)"
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


def _check_block(filters, stride, shortcut="zero_pad"):
    """Raise ValueError naming the first invalid argument of a block."""
    arguments.integer("filters", filters, 1)
    arguments.choice("stride", stride, (1, 2))
    check_shortcut(shortcut)


def check_shortcut(shortcut):
    """One of the names in ``SHORTCUTS``; a paper letter gets a message that names its word."""
    names = {letter: name for name, letter in SHORTCUTS.items()}
    if shortcut in names:
        raise ValueError(
            f"shortcut takes the option's name: {names[shortcut]!r} for the paper's option "
            f"{shortcut}. Received: shortcut={shortcut!r}"
        )
    return arguments.choice("shortcut", shortcut, tuple(SHORTCUTS))


def conv(x, filters, kernel_size, stride, name, initializer="he_normal"):
    """A bias-free convolution with 'same' padding, He-initialised unless told otherwise."""
    return layers.Conv2D(
        filters, kernel_size, strides=stride, padding="same", use_bias=False,
        kernel_initializer=initializer, name=name,
    )(x)  # fmt: skip


def batchnorm(x, name):
    """BatchNorm with the book's momentum (see ``BN_MOMENTUM``)."""
    return layers.BatchNormalization(momentum=BN_MOMENTUM, name=name)(x)


def normalise(x, name, norm="batch"):
    """BatchNorm, GroupNorm, or nothing (``norm`` is a key of ``NORMS``).

    GroupNorm (Wu & He 2018) normalises each example over groups of channels
    and never looks at the rest of the batch. Taught in chapters/03-algorithm.ipynb.
    """
    arguments.choice("norm", norm, tuple(NORMS))
    if norm == "batch":
        return batchnorm(x, name)
    if norm == "group":
        return layers.GroupNormalization(math.gcd(GROUPS, x.shape[-1]), name=name)(x)
    return x


def conv_bn(x, filters, kernel_size, stride, name, index="", norm="batch"):
    """Convolution then BatchNorm (paper, section 3.4): ``{name}_conv{index}``, ``_bn{index}``.

    With ``norm="group"`` GroupNorm (``_gn{index}``) replaces BatchNorm; with ``"none"``
    the convolution stands alone.
    """
    x = conv(x, filters, kernel_size, stride, f"{name}_conv{index}")
    return normalise(x, f"{name}_{NORMS[norm]}{index}", norm)


def shortcut_path(x, filters, stride, shortcut, name, norm="batch"):
    """What the block adds back: the input itself, zero-padded, or projected.

    Args:
        x: The block's input tensor.
        filters: Channels of the block's output.
        stride: The block's stride (1 or 2).
        shortcut: ``"zero_pad"`` (the paper's option A) the identity,
            subsampled and zero-padded when the shape changes; ``"projection"``
            (B) a 1x1 projection with BatchNorm only when the shape changes;
            ``"all_projection"`` (C) a projection always.
        name: Prefix of the layer names.
        norm: What normalises a projection (see :func:`normalise`).

    Returns:
        A tensor with the block output's shape.
    """
    shape_changes = stride != 1 or x.shape[-1] != filters
    if shortcut == "all_projection" or (shortcut == "projection" and shape_changes):
        return conv_bn(x, filters, 1, stride, f"{name}_proj", norm=norm)
    if not shape_changes:
        return x
    if x.shape[-1] > filters:
        raise ValueError(
            f"shortcut 'zero_pad' cannot shrink {x.shape[-1]} channels to filters={filters}; "
            "use shortcut='projection' or 'all_projection'."
        )
    if stride != 1:
        x = layers.MaxPooling2D(pool_size=1, strides=stride, name=f"{name}_subsample")(x)
    return ZeroPadChannels(filters - x.shape[-1], name=f"{name}_pad")(x)


def basic_branch(x, filters, stride, name, norm="batch"):
    """The two 3x3 layers of the basic block: conv-BN-ReLU, conv-BN.

    With ``norm="none"`` there is no normalisation, and the second convolution
    starts at zero, so that every block starts as the identity (the core of
    Fixup, Zhang et al. 2019). Taught in chapters/03-algorithm.ipynb.
    """
    y = conv_bn(x, filters, 3, stride, name, 1, norm)
    y = layers.ReLU(name=f"{name}_relu1")(y)
    if norm == "none":
        return conv(y, filters, 3, 1, f"{name}_conv2", initializer="zeros")
    return conv_bn(y, filters, 3, 1, name, 2, norm)


def residual_block(x, filters, stride=1, shortcut="zero_pad", name="block", norm="batch"):
    """The basic block: conv-BN-ReLU, conv-BN, add the shortcut, ReLU.

    Args:
        x: Input tensor of shape (batch, height, width, channels).
        filters: Number of output channels, a positive integer.
        stride: 1, or 2 to halve the resolution in the first convolution.
        shortcut: ``"zero_pad"``, ``"projection"`` or ``"all_projection"``
            (see :func:`shortcut_path`).
        name: Prefix of the layer names.
        norm: ``"batch"``, ``"group"`` or ``"none"`` (see :func:`basic_branch`).

    Returns:
        The output tensor.

    Raises:
        ValueError: If ``filters``, ``stride``, ``shortcut`` or ``norm`` is invalid.
    """
    _check_block(filters, stride, shortcut)
    arguments.choice("norm", norm, tuple(NORMS))
    y = basic_branch(x, filters, stride, name, norm)
    shortcut = shortcut_path(x, filters, stride, shortcut, name, norm)
    y = layers.Add(name=f"{name}_add")([shortcut, y])
    return layers.ReLU(name=f"{name}_out")(y)


def plain_block(x, filters, stride=1, name="block"):
    """The plain twin of :func:`residual_block`: the same layers, no addition.

    A plain network built from these differs from a residual one only in the
    shortcuts, which is the comparison the paper makes.

    Args:
        x: Input tensor of shape (batch, height, width, channels).
        filters: Number of output channels, a positive integer.
        stride: 1, or 2 to halve the resolution in the first convolution.
        name: Prefix of the layer names.

    Returns:
        The output tensor.

    Raises:
        ValueError: If ``filters`` or ``stride`` is invalid.
    """
    _check_block(filters, stride)
    return layers.ReLU(name=f"{name}_out")(basic_branch(x, filters, stride, name))


def bottleneck_block(x, filters, stride=1, shortcut="projection", stride_on="1x1", name="block"):
    """The bottleneck block of ResNet-50/101/152: 1x1, 3x3, 1x1 convolutions.

    The first 1x1 convolution reduces the channels to ``filters``, the 3x3 works
    at that width, and the last 1x1 restores ``4 * filters`` channels. Where a
    block halves the resolution, the paper's block (v1, also Keras' ``ResNet50``)
    strides the first 1x1 convolution; the later variant often called v1.5
    strides the 3x3 instead, so the first 1x1 runs at the higher resolution and
    the block costs more multiply-adds.

    Taught in chapters/10-deeper-blocks.ipynb; chapters/08-applications.ipynb counts
    ResNet-50 with it.

    Args:
        x: Input tensor of shape (batch, height, width, channels).
        filters: Channels of the bottleneck; the output has four times as many.
        stride: 1, or 2 to halve the resolution.
        shortcut: ``"zero_pad"``, ``"projection"`` or ``"all_projection"``
            (see :func:`shortcut_path`).
        stride_on: ``"1x1"`` (the paper's v1) or ``"3x3"`` (v1.5): which
            convolution carries the stride.
        name: Prefix of the layer names.

    Returns:
        The output tensor, with ``4 * filters`` channels.

    Raises:
        ValueError: If ``filters``, ``stride``, ``shortcut`` or ``stride_on`` is invalid.
    """
    _check_block(filters, stride, shortcut)
    arguments.choice("stride_on", stride_on, ("1x1", "3x3"))
    first, middle = (stride, 1) if stride_on == "1x1" else (1, stride)
    y = layers.ReLU(name=f"{name}_relu1")(conv_bn(x, filters, 1, first, name, 1))
    y = layers.ReLU(name=f"{name}_relu2")(conv_bn(y, filters, 3, middle, name, 2))
    y = conv_bn(y, 4 * filters, 1, 1, name, 3)
    y = layers.Add(name=f"{name}_add")([shortcut_path(x, 4 * filters, stride, shortcut, name), y])
    return layers.ReLU(name=f"{name}_out")(y)


def preactivation_block(x, filters, stride=1, shortcut="zero_pad", name="block"):
    """The pre-activation block of ResNet v2 (He et al. 2016, Identity Mappings).

    BN-ReLU-conv twice, then the addition, with nothing after it: the shortcut
    path stays a clean identity from block to block.

    Taught in chapters/10-deeper-blocks.ipynb.

    Args:
        x: Input tensor of shape (batch, height, width, channels).
        filters: Number of output channels.
        stride: 1, or 2 to halve the resolution in the first convolution.
        shortcut: ``"zero_pad"``, ``"projection"`` or ``"all_projection"``
            (see :func:`shortcut_path`).
        name: Prefix of the layer names.

    Returns:
        The output tensor.

    Raises:
        ValueError: If ``filters``, ``stride`` or ``shortcut`` is invalid.
    """
    _check_block(filters, stride, shortcut)
    y = layers.ReLU(name=f"{name}_relu1")(batchnorm(x, f"{name}_bn1"))
    y = conv(y, filters, 3, stride, f"{name}_conv1")
    y = layers.ReLU(name=f"{name}_relu2")(batchnorm(y, f"{name}_bn2"))
    y = conv(y, filters, 3, 1, f"{name}_conv2")
    return layers.Add(name=f"{name}_add")([shortcut_path(x, filters, stride, shortcut, name), y])


def stage(x, block, filters, num_blocks, stride=1, name="stage", **options):
    """``num_blocks`` blocks built by ``block``; the first may downsample with ``stride``.

    ``options`` go to every block, for example ``shortcut="projection"``.
    """
    arguments.integer("num_blocks", num_blocks, 1)
    for index in range(1, num_blocks + 1):
        first = index == 1
        x = block(x, filters, stride if first else 1, name=f"{name}_block{index}", **options)
    return x


def blocks_per_stage(depth):
    """``n`` for a CIFAR network of depth 6n+2; ValueError for any other depth."""
    arguments.integer("depth", depth, 8, requirement=CIFAR_DEPTHS)
    if (depth - 2) % 6:
        arguments.reject("depth", depth, CIFAR_DEPTHS)
    return (depth - 2) // 6


def _cifar_net(depth, *, block, input_shape, num_classes, width, name, **options):
    """The CIFAR-10 skeleton of section 4.2, its blocks built by ``block``."""
    num_blocks = blocks_per_stage(depth)
    arguments.integer("num_classes", num_classes, 1)
    arguments.integer("width", width, 1)
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
            x, block, width * multiple, num_blocks, stride=1 if number == 1 else 2,
            name=f"stage{number}", **options,
        )  # fmt: skip
    if preactivation:
        x = layers.ReLU(name="final_relu")(batchnorm(x, "final_bn"))
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name=name)


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
        num_classes: Number of classes.
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
    arguments.choice("norm", norm, tuple(NORMS))
    return _cifar_net(
        depth, block=residual_block, shortcut=shortcut, input_shape=input_shape,
        num_classes=num_classes, width=width, name=f"resnet{depth}", norm=norm,
    )  # fmt: skip


def preactivation_resnet(
    depth, shortcut="zero_pad", *, input_shape=(32, 32, 3), num_classes=10, width=16
):
    """ResNet v2: :func:`cifar_resnet` built from pre-activation blocks.

    He et al., Identity Mappings in Deep Residual Networks (2016): a 3x3 stem
    convolution without normalisation, three stages of :func:`preactivation_block`,
    then BatchNorm and ReLU, global average pooling and the classifier. It has
    the weighted layers of :func:`cifar_resnet` and, at every depth, as many
    trainable parameters. One detail differs from the paper's code: there, a
    block that changes the shape applies its first BatchNorm and ReLU before
    the split, to the shortcut too; here every shortcut takes the raw input.

    Taught in chapters/10-deeper-blocks.ipynb.

    Args:
        depth: 6n+2: 20, 32, 44, 56, 110, ...
        shortcut: ``"zero_pad"``, ``"projection"`` or ``"all_projection"``.
        input_shape: (height, width, channels) of the images.
        num_classes: Number of classes.
        width: Filters of the first stage.

    Returns:
        An uncompiled ``keras.Model`` named ``preact_resnet{depth}``.

    Raises:
        ValueError: If ``depth`` is not 6n+2, or another argument is invalid.
    """
    check_shortcut(shortcut)
    return _cifar_net(
        depth, block=preactivation_block, shortcut=shortcut, input_shape=input_shape,
        num_classes=num_classes, width=width, name=f"preact_resnet{depth}",
    )  # fmt: skip


def plain_net(depth, *, input_shape=(32, 32, 3), num_classes=10, width=16):
    """The plain twin of :func:`cifar_resnet`: the same layers, no shortcuts.

    Args:
        depth: 6n+2: 20, 32, 44, 56, 110, ...
        input_shape: (height, width, channels) of the images.
        num_classes: Number of classes.
        width: Filters of the first stage.

    Returns:
        An uncompiled ``keras.Model`` named ``plain{depth}``.

    Raises:
        ValueError: If ``depth`` is not 6n+2, or another argument is invalid.
    """
    return _cifar_net(
        depth, block=plain_block, input_shape=input_shape, num_classes=num_classes,
        width=width, name=f"plain{depth}",
    )  # fmt: skip


def residual_unit(x, name, residual=True, branch_init="zeros"):
    """Deep Crossing's residual unit (Shan et al. 2016): ReLU(x + W2 ReLU(W1 x)).

    Two dense layers as wide as ``x``, their sum with ``x``, a ReLU. With
    ``residual=False`` the addition is left out (the plain twin). The second
    layer starts at ``branch_init``: zero by default, so that a deep stack
    without normalisation starts as the identity (as in Fixup); ``"he_normal"``
    makes every unit add a full-size branch and the sum grow with depth.

    Taught in chapters/09-beyond-images.ipynb.
    """
    arguments.choice("branch_init", branch_init, ("zeros", "he_normal"))
    width = x.shape[-1]
    y = layers.Dense(width, activation="relu", kernel_initializer="he_normal",
                     name=f"{name}_dense1")(x)  # fmt: skip
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
    arguments.integer("num_features", num_features, 1)
    arguments.integer("num_units", num_units, 1)
    arguments.integer("width", width, 1)
    branch_init = branch_init or ("zeros" if residual else "he_normal")
    inputs = keras.Input(shape=(num_features,), name="features")
    x = layers.Dense(width, activation="relu", kernel_initializer="he_normal", name="embed")(inputs)
    for index in range(1, num_units + 1):
        x = residual_unit(x, f"unit{index}", residual, branch_init)
    outputs = layers.Dense(1, activation="sigmoid", name="score")(x)
    kind = "residual" if residual else "plain"
    return keras.Model(inputs, outputs, name=f"{kind}_mlp{num_units}")


def trainable_parameters(model):
    """Trainable parameters of a model or a layer (BatchNorm's moving statistics excluded)."""
    return sum(math.prod(weight.shape) for weight in model.trainable_weights)


def layers_within(model):
    """Every layer of ``model``, the layers of nested models in their place, depth first."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from layers_within(layer)
        else:
            yield layer


def multiply_adds(model):
    """Multiply-adds of one forward pass per example: convolutions and dense layers.

    A convolution with a k x k kernel from C_in to C_out channels on an H x W
    output does H * W * k * k * C_in * C_out of them; normalisation, activations
    and additions are element-wise and not counted (the paper's "FLOPs"). The
    kernel's shape carries the rest: a grouped convolution's kernel sees
    C_in / groups channels, a depthwise one's a single channel each; a separable
    convolution adds its two kernels, and a dense layer applied to every
    position of a feature map (ConvNeXt's 1x1 convolutions) counts once per
    position. Layers of nested models count too.

    Taught in chapters/03-algorithm.ipynb; chapters/09-beyond-images.ipynb counts
    the networks of ``keras.applications`` with it.
    """
    total = 0
    for layer in layers_within(model):
        if isinstance(layer, layers.SeparableConv2D):
            kernels = (layer.depthwise_kernel, layer.pointwise_kernel)
        elif isinstance(layer, layers.Conv1D | layers.Conv2D | layers.DepthwiseConv2D):
            kernels = (layer.kernel,)
        elif isinstance(layer, layers.Dense):
            total += math.prod(layer.input.shape[1:-1]) * math.prod(layer.kernel.shape)
            continue
        else:
            continue
        positions = layer.output.shape[1:-1]
        if None in positions:
            raise ValueError(
                f"multiply_adds needs a fixed input size; layer {layer.name!r} has output shape "
                f"{layer.output.shape}. Received: model={model.name!r}"
            )
        total += math.prod(positions) * sum(math.prod(kernel.shape) for kernel in kernels)
    return total


def saved_activations(model):
    """Numbers per example that training keeps from the forward pass for the backward pass.

    A rule per layer, as TensorFlow's gradients need them: a convolution, a
    dense layer and BatchNorm keep their input, a ReLU its output; an addition,
    a pooling, the zero-padding and the subsampling of option A keep nothing,
    because their gradients do not depend on the values. A tensor that two
    layers need (a ReLU's output is the next convolution's input) counts once.
    It is a count, not a profiler's measurement: it leaves out BatchNorm's
    per-channel statistics and the framework's own buffers.

    Taught in chapters/03-algorithm.ipynb.
    """
    kept = {}
    for layer in model.layers:
        if isinstance(layer, layers.Conv1D | layers.Conv2D | layers.Dense |
                      layers.BatchNormalization):  # fmt: skip
            tensor = layer.input
        elif isinstance(layer, layers.ReLU):
            tensor = layer.output
        else:
            continue
        kept[id(tensor)] = math.prod(tensor.shape[1:])
    return sum(kept.values())


def kernel_gradient_norms(model, x, y):
    """Norm of the loss gradient for every convolution and dense kernel of a Keras model.

    The loss is sparse categorical cross-entropy on ``(x, y)``, computed in
    training mode (BatchNorm uses batch statistics), as in a training step.

    Taught in chapters/07-degradation.ipynb.

    Args:
        model: A Keras classifier with a softmax output.
        x: A batch of inputs.
        y: Their integer labels.

    Returns:
        ``(names, norms)``: the layer names and a NumPy array of norms, input side first.

    Raises:
        ValueError: If ``x`` and ``y`` hold different numbers of examples.
    """
    from resnet_book.runtime import import_tensorflow

    tf = import_tensorflow()
    if len(x) != len(y):
        raise ValueError(f"x and y must hold as many examples. Received: {len(x)} and {len(y)}")
    weighted = [
        layer
        for layer in model.layers
        if isinstance(layer, keras.layers.Conv2D | keras.layers.Dense)
    ]
    kernels = [layer.kernel for layer in weighted]
    with tf.GradientTape() as tape:
        loss = keras.losses.sparse_categorical_crossentropy(y, model(x, training=True))
        loss = tf.reduce_mean(loss)
    gradients = tape.gradient(loss, kernels)
    norms = np.array([float(tf.norm(gradient)) for gradient in gradients])
    return [layer.name for layer in weighted], norms
