"""What a Keras network costs and how its gradients flow: parameters, arithmetic, memory.

The functions read any Keras model, the book's own (:mod:`resnet_book.models`) or those of
``keras.applications``.

Taught in chapters/03-algorithm.ipynb.
"""

import math

import numpy as np

from resnet_book import arguments, structure
from resnet_book.backend import keras, layers, tf


def trainable_parameters(model):
    """Trainable parameters of a model or a layer (BatchNorm's moving statistics excluded).

    Raises:
        ValueError: If ``model`` is not a Keras model or layer.
    """
    if not isinstance(model, keras.layers.Layer):
        arguments.reject("model", model, "a keras.Model or layer")
    return sum(math.prod(weight.shape) for weight in model.trainable_weights)


def layers_within(model):
    """Every layer of ``model``, the layers of nested models in their place, depth first.

    Raises:
        ValueError: If ``model`` is not a Keras model.
    """
    structure.check_model("model", model)
    return list(_layers_within(model))


def _layers_within(model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _layers_within(layer)
        else:
            yield layer


def multiply_adds(model):
    """Multiply-adds of one forward pass per example: convolutions and dense layers.

    A convolution does one per kernel weight and output position: H * W * k * k * C_in * C_out,
    fewer where its kernel sees fewer channels (grouped, depthwise, separable). A dense layer
    applied to a feature map counts once per position. Element-wise layers are not counted
    (the paper's "FLOPs"). Taught in chapters/03-algorithm.ipynb.
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

    A convolution, a dense layer and BatchNorm keep their input, a ReLU its output, a max-pool
    both; additions, average pooling and option A's shortcut keep nothing. A tensor two layers
    need counts once. A count, not a profiler's measurement. Taught in chapters/03-algorithm.ipynb.
    """
    structure.check_model("model", model)
    keeps_input = layers.Conv1D | layers.Conv2D | layers.Dense | layers.BatchNormalization
    max_pooling = layers.MaxPooling1D | layers.MaxPooling2D
    kept = {}
    for layer in model.layers:
        tensors = []
        if isinstance(layer, keeps_input | max_pooling):
            tensors.append(layer.input)
        if isinstance(layer, layers.ReLU | max_pooling):
            tensors.append(layer.output)
        for tensor in tensors:
            kept[id(tensor)] = math.prod(tensor.shape[1:])
    return sum(kept.values())


def kernel_gradient_norms(model, x, y):
    """Norm of the loss gradient for every convolution and dense kernel of a Keras model.

    The loss is the mean sparse categorical cross-entropy on ``(x, y)``, computed in training
    mode (BatchNorm uses batch statistics), as in a training step.

    Taught in chapters/12-why-plain-networks-degrade.ipynb.

    Args:
        model: A Keras classifier with a softmax output.
        x: A batch of inputs, at least one.
        y: Their integer labels.

    Returns:
        ``(names, norms)``: the layer names and a NumPy array of norms, input side first.

    Raises:
        ValueError: If ``model`` is not a Keras model, ``x`` is empty, or ``x`` and ``y`` hold
            different numbers of examples.
    """
    structure.check_model("model", model)
    if len(x) == 0:
        raise ValueError(f"x must hold at least one example. Received: x with shape {np.shape(x)}")
    if len(x) != len(y):
        raise ValueError(
            f"x and y must hold as many examples. Received: {len(x)} in x and {len(y)} in y"
        )
    weighted = [layer for layer in model.layers if structure.is_weighted(layer)]
    kernels = [layer.kernel for layer in weighted]
    with tf.GradientTape() as tape:
        loss = keras.losses.sparse_categorical_crossentropy(y, model(x, training=True))
        loss = tf.reduce_mean(loss)
    gradients = tape.gradient(loss, kernels)
    norms = np.array([float(tf.norm(gradient)) for gradient in gradients])
    return [layer.name for layer in weighted], norms
