import os
import re
import subprocess
import sys

import numpy as np
import pytest

from resnet_book import runtime, set_seed

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
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env=_without_tensorflow_logging(os.environ) | environment,
    )


def tensorflow_log_lines(stderr):
    """TensorFlow's C++ log lines in ``stderr`` (other programs' warnings are not counted)."""
    return LOG_LINE.findall(stderr) + re.findall(
        r"^WARNING: All log messages before absl.*$", stderr, re.MULTILINE
    )


def test_the_package_imports_no_tensorflow_until_a_chapter_starts_it_quietly():
    # Verbose logging provoked, as some builds log by default; training after the start is
    # silent at the default level, which nbval checks in every chapter.
    code = (
        "import sys, resnet_book, resnet_book.gradflow\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n"
        "tf = resnet_book.start_tensorflow(seed=0, cpu_devices=3)\n"
        "print(len(tf.config.list_logical_devices('CPU')))\n"
    )
    result = run_python(code, **PROVOKED)
    assert result.stdout.split() == ["3"]
    assert tensorflow_log_lines(result.stderr) == []


def test_bare_tensorflow_import_logs_when_provoked_so_the_tests_around_can_fail():
    result = run_python("import tensorflow as tf; tf.constant(1.0) + 1.0", **PROVOKED)
    assert tensorflow_log_lines(result.stderr), result.stderr[:500]


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

    stored = {}
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display: stored.update({name: value}))
    runtime.glue("ratio", 3.0676230732657452)
    runtime.glue("tiny", np.float64(1.8712345e-31), digits=2)
    runtime.glue("count", 269_722)
    runtime.glue("numpy_count", np.int64(269_722))
    runtime.glue("numpy_ratio", np.float32(0.123456))
    runtime.glue("word", "ReLU")
    assert stored == {
        "ratio": 3.07,
        "tiny": 1.9e-31,
        "count": 269_722,
        "numpy_count": 269_722,
        "numpy_ratio": 0.123,
        "word": "ReLU",
    }
    assert type(stored["numpy_count"]) is int and type(stored["numpy_ratio"]) is float
    with pytest.raises(ValueError, match="digits=0"):
        runtime.glue("x", 1.0, digits=0)
    with pytest.raises(ValueError, match=r"value=\[1\]"):
        runtime.glue("x", [1])


@pytest.mark.parametrize("count", [0, 1.5, "two"])
def test_the_cpu_split_rejects_what_is_not_a_positive_integer(count):
    with pytest.raises(ValueError, match=f"cpu_devices={count!r}"):
        runtime.split_cpu(count)


def test_the_cpu_split_cannot_change_once_tensorflow_runs():
    tf = runtime.start_tensorflow()  # this process has run operations on its devices
    count = len(tf.config.list_logical_devices("CPU"))
    assert runtime.split_cpu(count) is None  # asking for what it has is fine
    with pytest.raises(ValueError, match=f"already runs on {count} CPU device.* cpu_devices="):
        runtime.split_cpu(count + 1)
