"""Chapter 5's copyable listing: ResNet-20 in plain Keras, in one cell a reader can paste."""

import ast
import json
import pathlib

import numpy as np
import pytest

from resnet_book import measure, models

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "chapters" / "05-keras-code.ipynb"
TAG = "copyable-listing"


def listing():
    """The source of the chapter's one cell tagged ``copyable-listing``."""
    cells = json.loads(CHAPTER.read_text())["cells"]
    tagged = [cell for cell in cells if TAG in cell["metadata"].get("tags", [])]
    assert len(tagged) == 1, f"{CHAPTER.name} must have exactly one cell tagged {TAG!r}"
    return "".join(tagged[0]["source"])


@pytest.fixture(scope="module")
def built():
    """The listing run in a namespace of its own, as in a fresh file."""
    namespace = {}
    exec(compile(listing(), "listing.py", "exec"), namespace)  # noqa: S102
    return namespace


def test_the_listing_imports_only_keras_and_fits_the_page():
    tree = ast.parse(listing())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {
        node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
    }
    assert imported == {"keras"}
    lines = listing().splitlines()
    assert len(lines) <= 60 and max(len(line) for line in lines) <= 80


def test_the_listing_builds_resnet20_with_the_papers_parameter_count(built):
    model = built["model"]
    assert measure.trainable_parameters(model) == 269_722
    library = models.cifar_resnet(20)
    kinds = ("Conv2D", "BatchNormalization", "Add", "Dense")
    for kind in kinds:
        count = sum(type(layer).__name__ == kind for layer in model.layers)
        assert count == sum(type(layer).__name__ == kind for layer in library.layers), kind
    deeper = built["resnet"](56)
    assert measure.trainable_parameters(deeper) == 853_018


def test_the_listing_with_the_librarys_weights_computes_the_librarys_outputs(built):
    """The same network: weights in the same order, both paths padded alike, at odd sizes too."""
    for size in (32, 15):
        library = models.cifar_resnet(20, input_shape=(size, size, 3))
        listed = built["resnet"](20, input_shape=(size, size, 3))
        listed.set_weights(library.get_weights())
        x = np.random.default_rng(size).normal(size=(3, size, size, 3)).astype("float32")
        for training in (False, True):
            got = listed(x, training=training).numpy()
            assert np.allclose(got, library(x, training=training).numpy(), atol=1e-6)


def test_the_listing_trains_a_few_steps_with_a_finite_falling_loss(built):
    from resnet_book import set_seed

    set_seed(0)
    model = built["resnet"](20, input_shape=(16, 16, 3))
    model.compile(
        optimizer=built["model"].optimizer.__class__(0.05, momentum=0.9),
        loss="sparse_categorical_crossentropy",
    )
    model.optimizer.build(model.trainable_variables)  # one trace of the training step, not two
    generator = np.random.default_rng(0)
    x = generator.normal(size=(64, 16, 16, 3)).astype("float32")
    y = np.arange(64) % 10
    losses = model.fit(x, y, batch_size=32, epochs=4, verbose=0).history["loss"]
    assert np.isfinite(losses).all() and losses[-1] < losses[0]
