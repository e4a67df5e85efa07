"""The training command on one device: its options, its errors, and runs end to end."""

import csv
import re
import signal

import numpy as np
import pytest

from resnet_book import results, train
from resnet_book.trainer import command, datasets, loop

TINY = ["--data", "digits", "--depth", "8", "--width", "4"]


def exit_of(capsys, *options):
    """Run the command in this process; its exit status and what it wrote to stderr."""
    with pytest.raises(SystemExit) as stopped:
        train.main(list(options))
    return stopped.value.code, capsys.readouterr().err


def test_help_reads_like_a_manual(capsys):
    with pytest.raises(SystemExit) as stopped:
        train.main(["--help"])
    text = capsys.readouterr().out
    assert stopped.value.code == 0 and text.startswith("usage: python -m resnet_book.train")
    sections = [
        "the recipe",
        "scaling with the number of replicas",
        "strategies",
        "checkpoints",
        "data",
        "output",
        "exit status",
        "examples",
    ]
    assert all(f"\n{section}" in text for section in sections)
    options = (
        "--network --depth --shortcut --block --data --validation --epochs --iterations "
        "--batch-size --seed --seeds --strategy --out --precision --jit --allow-cpu "
        "--warmup-ramp, --no-warmup-ramp --eval-every --checkpoint-every --tensorboard "
        "--evaluate --peer-timeout"
    ).split()
    assert all(option in text for option in options)
    choices = [
        "zero_pad,projection,all_projection",
        "v1,v2",
        "cifar10,digits,mnist1d",
        "one-device,mirrored,multi-worker",
        "float32,mixed_float16,mixed_bfloat16",
    ]
    assert all(choice in text for choice in choices)


@pytest.fixture
def no_data(monkeypatch):
    """Loading a data set fails the test: the error must come before."""

    def refuse(*args):
        raise AssertionError("the data loaded before the error")

    monkeypatch.setattr(datasets, "load", refuse)


@pytest.mark.parametrize(
    "options, message",
    [
        (["--data", "imagenet"], "argument --data: invalid choice: 'imagenet'"),
        (
            ["--depth", "21"],
            r"--depth must be 6n\+2 \(20, 32, 44, 56, 110, ...\). Received: --depth=21",
        ),
        (["--depth", "20.5"], "argument --depth: invalid int value: '20.5'"),
        (["--shortcut", "A"], "argument --shortcut: invalid choice: 'A'"),
        (["--network", "plain", "--block", "v2"], "a plain network has no shortcut and no v2"),
        (["--data", "digits", "--validation"], "--data must be 'cifar10' for --validation"),
        (["--data", "digits", "--batch-size", "0"], r"--batch-size must be an integer in 1..1437"),
        (["--data", "digits", "--batch-size", "2000"], r"in 1..1437. Received: --batch-size=2000"),
        (["--data", "digits", "--epochs", "0"], "--epochs must be a positive integer"),
        (["--data", "digits", "--iterations", "0"], "--iterations must be a positive integer"),
        (["--data", "digits", "--epochs", "2", "--iterations", "9"], "not allowed with argument"),
        (["--data", "digits", "--learning-rate", "-0.1"], "Received: --learning-rate=-0.1"),
        (["--data", "digits", "--weight-decay", "inf"], "Received: --weight-decay=inf"),
        (["--data", "digits", "--weight-decay", "-0.5"], "Received: --weight-decay=-0.5"),
        (
            ["--data", "digits", "--epochs", "1", "--warmup-iterations", "6"],
            r"--warmup-iterations must be an integer in 0..5, to end before the run divides the "
            r"rate \(after step 6\). Received: --warmup-iterations=6",
        ),
        (  # derived from --epochs on CIFAR-10, reported before the data set is fetched
            ["--depth", "110", "--epochs", "1", "--warmup-iterations", "400"],
            r"in 0..194, .*Received: --warmup-iterations=400",
        ),
        (["--data", "digits", "--cpu-devices", "0"], "--cpu-devices must be a positive integer"),
        (["--data", "digits", "--eval-every", "0"], "--eval-every must be a positive integer"),
        (["--data", "digits", "--seeds", "1,1"], "seeds must be distinct"),
        (
            ["--data", "digits", "--strategy", "mirrored"],
            "--strategy must be used where TensorFlow sees a GPU, and it sees none here .* "
            "add --allow-cpu",
        ),
    ],
)
def test_bad_input_is_a_usage_error_before_any_data_loads(capsys, no_data, options, message):
    code, error = exit_of(capsys, *options)
    assert code == 2
    assert error.startswith("usage: python -m resnet_book.train")
    assert re.search(message, error) and "Traceback" not in error


def test_an_output_folder_under_a_file_is_refused_before_any_data_loads(capsys, no_data, tmp_path):
    (tmp_path / "file").write_text("")
    code, error = exit_of(capsys, *TINY, "--out", str(tmp_path / "file" / "run.json"))
    assert code == 2 and "--out must be a folder, and" in error and "is a file" in error
    options = ["--out", str(tmp_path / "run.json"), "--checkpoint-dir", str(tmp_path / "file/c")]
    code, error = exit_of(capsys, *TINY, *options)
    assert code == 2 and "--checkpoint-dir must be a folder" in error
    assert not (tmp_path / "run.json").exists()


def test_ctrl_c_while_the_data_loads_says_nothing_was_trained(capsys, monkeypatch, tmp_path):
    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(datasets, "load", interrupted)
    code, error = exit_of(capsys, *TINY, "--out", str(tmp_path / "run.json"))
    assert code == 1 and "interrupted while loading the data; nothing was trained" in error
    assert "Traceback" not in error


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """ResNet-8 on the digits for 3 epochs, through the command: its folder and its output."""
    folder = tmp_path_factory.mktemp("digits")
    options = [
        "--data",
        "digits",
        "--depth",
        "8",
        "--epochs",
        "3",
        "--eval-every",
        "2",
        "--out",
        str(folder / "run.json"),
    ]
    with pytest.MonkeyPatch.context() as patch:
        printed = []
        patch.setattr("builtins.print", lambda line, **kwargs: printed.append(str(line)))
        assert train.main(options) == 0
    return folder, options, printed


def test_the_command_trains_on_the_digits_end_to_end_and_learns(digits_run):
    folder, options, printed = digits_run
    lines = [line for line in printed if line.startswith("epoch ")]
    assert [line.split(" (")[0] for line in lines] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    pattern = r"loss \d\.\d{4}, error \d\.\d{4}, (test loss .*, test error .*, )?learning rate .*, "
    assert all(re.search(pattern + r"\d+ images/s, .* left$", line) for line in lines)
    assert "test" not in lines[0] and "test error" in lines[1]  # --eval-every 2, and the last
    stored = results.load(folder / "run.json")
    assert stored.record["command"] == "python -m resnet_book.train " + " ".join(options)
    assert stored.recipe["replicas"] == 1 and stored.machine["cores"] >= 1
    [run] = stored.select("resnet-8")
    assert run["history"]["val_loss"][0] is None and run["history"]["val_loss"][1] is not None
    assert run["history"]["loss"][-1] < run["history"]["loss"][0]
    assert run["test_error"] < 0.5 and run["train_error"] < 0.5  # chance is 0.9
    assert not (folder / "run.checkpoints").exists()


def test_the_run_leaves_a_model_that_evaluate_scores_to_the_logged_test_error(digits_run, capsys):
    folder, _, _ = digits_run
    [run] = results.load(folder / "run.json").select("resnet-8")
    assert train.main(["--evaluate", str(folder / "run.keras"), "--data", "digits"]) == 0
    printed = capsys.readouterr().out
    assert f"test error {run['test_error']:.4f} on digits, 1,437 train / 360 test" in printed
    code, error = exit_of(capsys, "--evaluate", str(folder / "run.keras"), "--data", "mnist1d")
    assert code == 2 and "a model of mnist1d's (40, 1, 1) images (it takes (16, 16, 1)" in error
    code, error = exit_of(capsys, "--evaluate", str(folder / "run.json"))
    assert code == 2 and "--evaluate must be a .keras file" in error


def test_the_run_logs_every_epoch_to_a_csv_file(digits_run):
    folder, _, _ = digits_run
    [run] = results.load(folder / "run.json").select("resnet-8")
    with (folder / "run.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert [row["epoch"] for row in rows] == ["1", "2", "3"]
    assert [float(row["loss"]) for row in rows] == pytest.approx(run["history"]["loss"], rel=1e-5)
    assert rows[0]["test_error"] == "" and float(rows[2]["test_error"]) == pytest.approx(
        run["test_error"], abs=1e-5
    )


def test_results_and_model_are_written_before_the_checkpoints_go(capsys, monkeypatch, tmp_path):
    out = tmp_path / "run.json"
    options = [*TINY, "--iterations", "2", "--out", str(out)]

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(results, "save", full_disk)
        code, error = exit_of(capsys, *options)
    assert code == 1 and "could not write" in error and "No space left" in error
    assert (tmp_path / "run.checkpoints").is_dir() and (tmp_path / "run.keras").exists()
    assert train.main(options) == 0  # from the last checkpoint: nothing left to train
    assert "epoch 1/1" not in capsys.readouterr().out
    assert results.load(out).runs[0]["history"]["iterations"] == [2]
    assert not (tmp_path / "run.checkpoints").exists()


def test_several_seeds_train_in_turn_into_one_file_with_a_summary(capsys, tmp_path):
    out = tmp_path / "runs.json"
    assert train.main([*TINY, "--iterations", "2", "--seeds", "3,4", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"resnet-8 over 2 seeds: test error 0\.\d{4} ± 0\.\d{4}", printed)
    assert results.load(out).seeds("resnet-8") == [3, 4]
    assert {path.name for path in tmp_path.iterdir()} == {
        "runs.json",
        "runs-seed3.keras",
        "runs-seed4.keras",
        "runs-seed3.csv",
        "runs-seed4.csv",
    }


@pytest.mark.slow
def test_sigterm_checkpoints_and_a_restart_ends_as_an_uninterrupted_run(
    capsys, monkeypatch, tmp_path
):
    options = [*TINY, "--epochs", "2", "--deterministic"]
    assert train.main([*options, "--out", str(tmp_path / "straight.json")]) == 0
    monkeypatch.setattr(loop, "STEPS_PER_CALL", 5)  # 11 steps an epoch: 5, 5, 1
    real_accumulating, calls = loop.accumulating, []

    def terminated_in_the_second_epoch(strategy, step, totals):
        run = real_accumulating(strategy, step, totals)
        if totals.shape[0] != 2:  # evaluation's counters
            return run

        def counted(iterator, steps):
            run(iterator, steps)
            calls.append(int(steps))
            if len(calls) == 4:  # after iteration 11 + 5
                signal.raise_signal(signal.SIGTERM)

        return counted

    with monkeypatch.context() as patch:
        patch.setattr(loop, "accumulating", terminated_in_the_second_epoch)
        code, error = exit_of(capsys, *options, "--out", str(tmp_path / "resumed.json"))
    assert code == 1 and "stopped by SIGTERM; checkpoint saved" in error
    assert sum(calls) == 16 and not (tmp_path / "resumed.json").exists()
    assert train.main([*options, "--out", str(tmp_path / "resumed.json")]) == 0
    printed = capsys.readouterr().out
    assert "epoch 2/2 (iteration 22)" in printed and "epoch 1/2" not in printed
    [straight] = results.load(tmp_path / "straight.json").runs
    [resumed] = results.load(tmp_path / "resumed.json").runs
    for curve in ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "iterations"):
        assert resumed["history"][curve] == straight["history"][curve], curve
    for final in ("train_loss", "train_error", "test_error"):
        assert resumed[final] == straight[final]


@pytest.mark.slow
def test_a_mixed_bfloat16_run_trains_to_a_finite_falling_loss(tmp_path):
    out = tmp_path / "run.json"
    short = ["--epochs", "2", "--batch-size", "256", "--learning-rate", "0.05"]
    assert train.main([*TINY, *short, "--out", str(out), "--precision", "mixed_bfloat16"]) == 0
    [run] = results.load(out).runs
    losses = run["history"]["loss"]
    assert np.isfinite(losses).all() and losses[-1] < losses[0]
    assert np.isfinite(run["train_loss"]) and run["train_error"] < 0.9


@pytest.mark.slow
@pytest.mark.parametrize(
    "options",
    [["--jit"], ["--precision", "mixed_float16"], ["--precision", "mixed_float16", "--jit"]],
)
def test_the_tools_step_with_each_switch_fits_a_batch(options):
    # The tool's own step, optimiser and precision on a small network: float16 on a CPU is
    # emulated, too slow for a whole run in the tests.
    import keras
    import tensorflow as tf

    from resnet_book import data
    from resnet_book.trainer import networks, recipe, schedule

    made = recipe.make_recipe(
        command.build_parser().parse_args([*TINY, "--learning-rate", "0.5", *options]), 1, 1437
    )
    (x, y), _ = data.digits_images(size=8)
    keras.utils.set_random_seed(0)
    with networks.precision(made.precision):
        model = keras.Sequential(
            [
                keras.Input((8, 8, 1)),
                keras.layers.Conv2D(4, 3, activation="relu"),
                keras.layers.GlobalAveragePooling2D(),
                keras.layers.Dense(10, activation="softmax", dtype="float32"),
            ]
        )
    step = loop.training_step(model, schedule.optimizer(made), 256, made.l2_decay, made.jit)
    step = tf.function(step)
    losses = [float(step(x[:256], y[:256])[0]) / 256 for _ in range(12)]
    assert np.isfinite(losses).all() and (np.diff(losses) < 0).all()  # one batch, fitted
