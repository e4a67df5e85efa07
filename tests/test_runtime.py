import os
import re
import subprocess
import sys

import numpy as np
import pytest

from resnet_book import set_seed

TRAIN_AND_EVALUATE = """
import numpy as np
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
model.compile("sgd", "sparse_categorical_crossentropy")
x, y = np.zeros((8, 4), "float32"), np.zeros(8, "int64")
history = model.fit(x, y, validation_data=(x, y), verbose=0)
print(len(history.history["loss"]), model.evaluate(x, y, verbose=0) >= 0)
"""


# TensorFlow's verbose log level makes every build write C++ log lines while it starts
# (flag parsing, device set-up), whatever the processor; its usual start-up lines
# (cpu_feature_guard, oneDNN) appear only on some processors and builds.
PROVOKED = {"TF_CPP_MIN_LOG_LEVEL": "0", "TF_CPP_MAX_VLOG_LEVEL": "1"}
LOG_LINE = re.compile(r"^[IWEF]\d{4} ", re.MULTILINE)


def _without_tensorflow_logging(environment):
    """The environment less TF_CPP_* (importing resnet_book in this process sets one)."""
    return {key: value for key, value in environment.items() if not key.startswith("TF_CPP_")}


def run_python(code, **environment):
    """Run ``code`` in a fresh interpreter with ``environment`` added; return the result."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True,
        env=_without_tensorflow_logging(os.environ) | environment,
    )  # fmt: skip


def test_importing_the_package_first_keeps_tensorflow_silent_through_training():
    code = "import resnet_book, keras\n" + TRAIN_AND_EVALUATE
    result = run_python(code)
    assert result.stdout.strip() == "1 True"
    assert result.stderr == ""


def test_bare_tensorflow_import_logs_when_provoked_so_the_tests_around_can_fail():
    result = run_python("import tensorflow as tf; tf.constant(1.0) + 1.0", **PROVOKED)
    assert LOG_LINE.search(result.stderr), result.stderr[:500]


def test_importing_the_package_silences_even_provoked_start_up_lines():
    result = run_python("import resnet_book", **PROVOKED)
    assert result.stderr == ""


def test_set_seed_makes_keras_training_repeatable():
    import keras

    def train_once():
        set_seed(3)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8), keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
        history = model.fit(x, x.sum(1), epochs=3, verbose=0)
        return history.history["loss"]

    assert train_once() == train_once()


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True, None])
def test_set_seed_rejects_what_is_not_a_non_negative_integer(seed):
    with pytest.raises(ValueError, match=f"seed={seed!r}"):
        set_seed(seed)


def test_glue_rounds_floats_to_significant_digits(monkeypatch):
    import myst_nb

    import resnet_book.runtime as runtime

    stored = {}
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display: stored.update({name: value}))
    runtime.glue("ratio", 3.0676230732657452)
    runtime.glue("tiny", np.float64(1.8712345e-31), digits=2)
    runtime.glue("count", 269_722)
    assert stored == {"ratio": 3.07, "tiny": 1.9e-31, "count": 269_722}
    with pytest.raises(ValueError, match="digits=0"):
        runtime.glue("x", 1.0, digits=0)


def test_the_cpu_splits_into_logical_devices_when_asked_before_tensorflow_starts():
    code = (
        "from resnet_book import import_tensorflow; tf = import_tensorflow(); "
        "print(len(tf.config.list_logical_devices('CPU')))"
    )
    environment = {**os.environ, "RESNET_BOOK_CPU_DEVICES": "3"}
    result = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True,
                            text=True, check=True)  # fmt: skip
    assert result.stdout.strip() == "3"
    environment["RESNET_BOOK_CPU_DEVICES"] = "two"
    result = subprocess.run([sys.executable, "-c", "import resnet_book"], env=environment,
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode != 0
    assert "RESNET_BOOK_CPU_DEVICES must be a positive integer. Received: " in result.stderr
