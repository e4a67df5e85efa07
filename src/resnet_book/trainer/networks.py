"""The networks the training tool builds, and the one naming rule the book's runs share.

A network is named ``kind-depth`` or ``kind-depth-shortcut``: ``resnet-20``, ``plain-56``,
``preact-110`` (the pre-activation block), ``resnet-20-projection``. The shortcut is named only
when it is not the paper's CIFAR-10 choice, ``zero_pad``. The training tool's results files and
``experiments/`` use the same names, so that :mod:`resnet_book.results` selects runs of either.

Used by the training tool and experiments/runs.py; taught in chapters/13-training-at-scale.ipynb.
"""

import contextlib

from resnet_book import arguments

KINDS = {"resnet": ("resnet", "v1"), "plain": ("plain", "v1"), "preact": ("resnet", "v2")}
DEFAULT_SHORTCUT = "zero_pad"


def network_name(network, depth, block="v1", shortcut=None):
    """The name of a network: ``resnet-20``, ``preact-56``, ``resnet-20-projection``.

    Raises:
        ValueError: If the combination has no name (a plain network with a v2 block or a
            shortcut).
    """
    depth = arguments.check_integer("depth", depth, 1)
    kind = {value: key for key, value in KINDS.items()}.get((network, block))
    if kind is None or (network == "plain" and shortcut):
        arguments.reject("network", network, "'resnet', or 'plain' with no v2 block or shortcut")
    name = f"{kind}-{depth}"
    return name if shortcut in (None, DEFAULT_SHORTCUT) else f"{name}-{shortcut}"


def parse_network_name(name):
    """``(network, depth, block, shortcut)`` of a name written by :func:`network_name`.

    Raises:
        ValueError: If ``name`` does not follow the rule.
    """
    kind, _, rest = str(name).partition("-")
    depth, _, shortcut = rest.partition("-")
    if kind not in KINDS or not depth.isdigit():
        arguments.reject(
            "name", name, f"'kind-depth' or 'kind-depth-shortcut', kind in {tuple(KINDS)}"
        )
    network, block = KINDS[kind]
    if network == "plain" and shortcut:
        arguments.reject("name", name, "a plain network's name, without a shortcut")
    return network, int(depth), block, shortcut or (None if network == "plain" else "zero_pad")


def build_network(name, input_shape, num_classes=10, width=16):
    """The uncompiled Keras model that the name stands for (``models`` builds it)."""
    from resnet_book import models

    network, depth, block, shortcut = parse_network_name(name)
    options = {"input_shape": input_shape, "num_classes": num_classes, "width": width}
    if network == "plain":
        return models.plain_net(depth, **options)
    build = models.cifar_resnet if block == "v1" else models.preactivation_resnet
    return build(depth, shortcut, **options)


@contextlib.contextmanager
def precision(policy):
    """Keras' global dtype policy set to ``policy`` while models are built, then restored."""
    import keras

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def build_model(recipe, input_shape, num_classes=10):
    """The network ``recipe`` names, at its precision, for images of ``input_shape``.

    Under mixed precision the classifier computes its softmax in float32: a probability
    near 1 rounded to 16 bits would floor the loss (at about 0.004 in bfloat16).
    """
    import keras

    name = network_name(recipe.network, recipe.depth, recipe.block, recipe.shortcut)
    with precision(recipe.precision):
        model = build_network(name, input_shape, num_classes, recipe.width)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.synchronized = recipe.sync_batchnorm  # read by the layer at every call
    if recipe.precision != "float32":
        model.get_layer("classifier").dtype_policy = "float32"
    return model
