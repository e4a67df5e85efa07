"""The training tool's parts: its recipe, schedule, networks, data sets, pipeline and loop."""

import argparse
import pathlib

import keras
import numpy as np
import pytest
import tensorflow as tf

from resnet_book import results
from resnet_book.trainer import (
    checkpoints,
    command,
    datasets,
    loop,
    networks,
    outputs,
    pipeline,
    recipe,
    schedule,
)


def recipe_for(*options, replicas=1, num_train=50_000):
    return recipe.make_recipe(command.build_parser().parse_args(options), replicas, num_train)


def rates(made, steps):
    return [round(float(schedule.schedule(made)(step)), 6) for step in steps]


def test_the_global_batch_must_split_evenly_over_the_replicas():
    with pytest.raises(ValueError, match="multiple of the 2 replicas. Received: --batch-size=33"):
        recipe_for("--batch-size", "33", replicas=2)


def test_the_default_recipe_is_the_papers():
    made = recipe_for("--data", "cifar10")
    assert (made.batch_size, made.learning_rate, made.iterations) == (128, 0.1, 64_000)
    assert made.milestones == (32_000, 48_000) and made.warmup_iterations == 0
    assert (made.momentum, made.l2_decay) == (0.9, 1e-4)
    assert (made.steps_per_epoch, made.num_epochs) == (390, 165)
    assert recipe_for("--depth", "110").warmup_iterations == 400
    assert recipe_for("--depth", "110", "--warmup-iterations", "0").warmup_iterations == 0
    assert recipe_for("--depth", "110").warmup_ramp_from is None  # the paper's constant tenth
    # the follow-up paper warmed up every CIFAR run of its pre-activation networks
    assert recipe_for("--depth", "56", "--block", "v2").warmup_iterations == 400
    assert recipe_for("--depth", "56").warmup_iterations == 0


def test_the_paper_schedule_counts_steps_from_zero():
    # 400 steps at a tenth (0..399); after 32,000 steps the rate is divided, after 48,000 again.
    made = recipe_for("--depth", "110")
    steps = [0, 399, 400, 31_999, 32_000, 47_999, 48_000, 63_999]
    assert rates(made, steps) == [0.01, 0.01, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001]
    sgd = schedule.optimizer(made)
    assert float(sgd.momentum) == 0.9 and sgd.weight_decay is None  # the L2 term is in the loss


def test_above_the_papers_batch_the_gradual_warmup_is_on_unless_turned_off():
    made = recipe_for("--batch-size", "512")  # ResNet-20: no warm-up at all at batch 128
    assert made.warmup_iterations == 5 * made.steps_per_epoch == 485
    assert made.warmup_ramp_from == 0.01 and made.learning_rate == 0.4
    assert rates(made, [0, 485, 7_999, 8_000]) == [0.01, 0.4, 0.4, 0.04]
    assert rates(made, [242]) == [round(0.01 + 0.39 * 242 / 485, 6)]
    off = recipe_for("--batch-size", "512", "--no-warmup-ramp")
    assert (off.warmup_iterations, off.warmup_ramp_from) == (0, None)
    assert recipe_for("--warmup-ramp").warmup_ramp_from == 0.01  # asked for at batch 128
    assert recipe_for().warmup_ramp_from is None
    # A short run ramps only until the first division of the rate.
    short = recipe_for("--data", "digits", "--epochs", "6", "--batch-size", "256", num_train=1437)
    assert short.warmup_iterations == short.milestones[0] - 1 == 14


def test_more_replicas_scale_the_batch_and_rate_up_and_the_counts_down():
    made = recipe_for("--depth", "110", replicas=4)
    assert (made.batch_size, made.learning_rate) == (512, 0.4)
    assert made.iterations == 16_000 and made.milestones == (8_000, 12_000)
    assert made.warmup_iterations == 485 and made.num_epochs == 165  # the ramp, by default
    paper = recipe_for("--batch-size", "128", replicas=2)
    assert (paper.learning_rate, paper.iterations) == (0.1, 64_000)


def test_small_data_sets_train_twenty_epochs_by_default():
    made = recipe_for("--data", "digits", num_train=1437)
    assert (made.steps_per_epoch, made.num_epochs, made.iterations) == (11, 20, 220)
    made = recipe_for("--data", "digits", "--iterations", "25", num_train=1437)
    assert made.num_epochs == 3 and made.milestones == (12, 19)


@pytest.mark.parametrize(
    "iterations, expected",
    [(1, [0.1]), (2, [0.1, 0.01]), (3, [0.1, 0.1, 0.001])],
)
def test_runs_of_one_to_three_steps_get_a_schedule(iterations, expected):
    # The divisions fall after round(0.5 n) and round(0.75 n) steps, at least one: both after
    # the first step for n = 1, after steps 1 and 2 for n = 2, both after step 2 for n = 3.
    made = recipe_for("--data", "digits", "--iterations", str(iterations), num_train=1437)
    assert made.warmup_iterations == 0
    assert rates(made, range(iterations)) == expected


def test_the_papers_warmup_is_cut_short_in_a_run_that_divides_the_rate_sooner():
    made = recipe_for("--depth", "110", "--epochs", "1")  # 390 steps, first division at 195
    assert made.milestones[0] == 195 and made.warmup_iterations == 194


def test_the_schedule_survives_a_round_trip_through_keras_serialisation():
    made = recipe_for("--batch-size", "512")
    sgd = schedule.optimizer(made)
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(sgd))
    steps = [0, 100, 485, 8_000, 12_000]
    assert isinstance(restored._learning_rate, schedule.PaperSchedule)
    original = schedule.schedule(made)
    assert [float(restored._learning_rate(s)) for s in steps] == [float(original(s)) for s in steps]


def test_float16_training_scales_its_loss_and_bfloat16_does_not():
    assert isinstance(
        schedule.optimizer(recipe_for("--precision", "mixed_float16")),
        keras.optimizers.LossScaleOptimizer,
    )
    assert isinstance(
        schedule.optimizer(recipe_for("--precision", "mixed_bfloat16")), keras.optimizers.SGD
    )


@pytest.mark.parametrize(
    "name, parts",
    [
        ("resnet-20", ("resnet", 20, "v1", "zero_pad")),
        ("plain-56", ("plain", 56, "v1", None)),
        ("preact-110", ("resnet", 110, "v2", "zero_pad")),
        ("resnet-20-projection", ("resnet", 20, "v1", "projection")),
    ],
)
def test_one_naming_rule_for_the_tool_and_the_experiments(name, parts):
    assert networks.parse_network_name(name) == parts
    assert networks.network_name(*parts) == name
    with pytest.raises(ValueError, match="Received: name='resnet-v2-56'"):
        networks.parse_network_name("resnet-v2-56")


@pytest.mark.parametrize(
    "options, name, model_name",
    [
        ([], "resnet-20", "resnet20"),
        (["--network", "plain", "--depth", "56"], "plain-56", "plain56"),
        (["--block", "v2", "--depth", "110"], "preact-110", "preact_resnet110"),
    ],
)
def test_the_tool_builds_the_network_it_names(options, name, model_name):
    made = recipe_for(*options)
    model = networks.build_model(made, (32, 32, 3))
    assert networks.network_name(made.network, made.depth, made.block, made.shortcut) == name
    assert model.name == model_name
    weighted = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(weighted) + 1 == made.depth  # the paper's count: convolutions and the classifier


def test_batchnorm_is_synchronised_over_the_replicas_on_request():
    for option, synchronised in (([], False), (["--sync-batchnorm"], True)):
        model = networks.build_model(recipe_for(*option, "--depth", "8"), (32, 32, 3))
        norms = [
            layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)
        ]
        assert norms and all(layer.synchronized is synchronised for layer in norms)


def test_mixed_precision_computes_in_16_bits_but_the_softmax_in_32():
    model = networks.build_model(
        recipe_for("--depth", "8", "--precision", "mixed_bfloat16"), (8, 8, 1)
    )
    assert model.get_layer("stem_conv").compute_dtype == "bfloat16"
    assert model.get_layer("classifier").compute_dtype == "float32"
    assert model(np.zeros((1, 8, 8, 1), "float32")).dtype == "float32"
    assert keras.mixed_precision.global_policy().name == "float32"  # restored after building


@pytest.mark.parametrize(
    "name, shape, augment",
    [
        ("digits", (16, 16, 1), False),
        ("mnist1d", (40, 1, 1), False),
        ("synthetic", (32, 32, 3), True),
    ],
)
def test_data_sets_come_standardised_by_their_scale_and_offset(name, shape, augment):
    dataset = datasets.load(name)
    images = dataset.train[0] * dataset.scale - dataset.offset
    assert dataset.input_shape == shape and dataset.augment is augment
    assert len(dataset.train[1]) == datasets.train_size(name)  # known before loading
    assert abs(images.mean()) < 1e-3
    if augment:  # the paper's per-pixel mean subtracted
        assert np.abs(images.mean(axis=0)).max() < 1e-5
    assert set(np.unique(dataset.test[1])) == set(range(10))


def test_the_augmentation_crops_the_padded_batch_at_each_images_offsets_and_flips():
    rng = np.random.default_rng(0)
    images = rng.normal(size=(6, 32, 32, 3)).astype(np.float32)
    tops, lefts, flips = [0, 8, 4, 1, 7, 3], [0, 8, 2, 5, 0, 6], [0, 1, 0, 1, 1, 0]
    out = pipeline.augment_batch(
        tf.constant(images), tf.constant(tops), tf.constant(lefts), tf.constant(flips)
    ).numpy()
    padded = np.pad(images, [(0, 0), (4, 4), (4, 4), (0, 0)])
    for i in range(6):
        crop = padded[i, tops[i] : tops[i] + 32, lefts[i] : lefts[i] + 32]
        np.testing.assert_array_equal(out[i], crop[:, ::-1] if flips[i] else crop)


def toy_dataset(num_images=40, augment=False):
    """8x8 images labelled with their index, to see which the pipeline delivers."""
    pattern = np.arange(64, dtype=np.float32).reshape(8, 8, 1) / 64
    images = np.arange(num_images, dtype=np.float32)[:, None, None, None] + pattern
    labels = np.arange(num_images, dtype=np.int64)
    return datasets.DataSet(
        "toy", (images, labels), (images[:10], labels[:10]), 1.0, np.float32(0), augment
    )


def batches(dataset, pipelines, take, first_epoch=0, global_batch=8):
    """The first ``take`` steps' label batches of every pipeline, for two replicas in all."""
    seed = tf.constant(5, tf.int64)
    contexts = [tf.distribute.InputContext(pipelines, index, 2) for index in range(pipelines)]
    streams = [
        pipeline.training_batches(dataset, global_batch, seed, first_epoch, context)
        for context in contexts
    ]
    return [
        [labels.numpy() for _, labels in stream.take(take * 2 // pipelines)] for stream in streams
    ]


def test_every_global_batch_is_the_same_images_on_one_or_two_machines():
    dataset = toy_dataset()
    one = batches(dataset, 1, take=10)[0]  # one machine: its two replicas take turns
    two = batches(dataset, 2, take=10)  # two machines of one replica each
    for step in range(10):
        global_batch = np.concatenate(one[2 * step : 2 * step + 2])
        assert sorted(global_batch) == sorted(np.concatenate([two[0][step], two[1][step]]))
    epoch = np.concatenate(one[:10])  # 40 images, batches of 8: five steps an epoch
    assert sorted(epoch) == list(range(40)) and list(epoch) != list(range(40))
    assert sorted(np.concatenate(one[10:])) == list(range(40))  # the next epoch, reshuffled
    assert list(np.concatenate(one[10:])) != list(epoch)


@pytest.mark.parametrize("first_epoch, skip_steps", [(1, 0), (1, 3)])
def test_a_resumed_run_sees_what_it_would_have_seen(first_epoch, skip_steps):
    dataset = toy_dataset(augment=True)
    context, seed = tf.distribute.InputContext(), tf.constant(5, tf.int64)
    straight = pipeline.training_batches(dataset, 8, seed, 0, context)
    resumed = pipeline.training_batches(dataset, 8, seed, first_epoch, context, skip_steps)
    for (images, labels), (again, labels_again) in zip(
        straight.skip(5 * first_epoch + skip_steps).take(4), resumed.take(4), strict=True
    ):
        np.testing.assert_array_equal(labels, labels_again)
        np.testing.assert_array_equal(images, again)
    first_images, first_labels = next(iter(straight))
    plain = dataset.train[0][first_labels.numpy()]
    assert not np.array_equal(first_images, plain)  # augmented


def test_the_augmentation_flips_half_and_crops_all_over_evenly():
    order, tops, lefts, flips = pipeline.epoch_plan(20_000, 20_000, tf.constant(3, tf.int64), 0)
    assert sorted(order.numpy()) == list(range(20_000))
    # the share of flips within 6 standard errors (0.0035) of one half: 4 in 9 fails
    assert set(flips.numpy()) == {0, 1} and abs(flips.numpy().mean() - 0.5) < 0.02
    for offsets in (tops.numpy(), lefts.numpy()):  # each of the 9 offsets about 1/9 of the time
        shares = np.bincount(offsets, minlength=9) / len(offsets)
        assert len(shares) == 9 and np.abs(shares - 1 / 9).max() < 0.015
    # the flip does not follow the crop
    assert abs(np.corrcoef(tops.numpy(), flips.numpy())[0, 1]) < 0.05


def test_evaluation_counts_every_image_once_in_full_batches():
    dataset = toy_dataset()
    seen = []
    for index in range(2):
        context = tf.distribute.InputContext(2, index, 2)
        shares = [
            labels.numpy() for _, labels in pipeline.evaluation_batches(dataset, "test", 8, context)
        ]
        assert [len(share) for share in shares] == [4, 4]  # 10 images padded to 16
        seen.extend(np.concatenate(shares))
    assert sorted(label for label in seen if label >= 0) == list(range(10))
    assert seen.count(-1) == 6


def test_checkpoints_of_another_run_are_refused_and_the_same_run_is_restored(tmp_path):
    saved = tf.Variable(3.0)
    checkpoints.Checkpoints(tmp_path, True, {"depth": 20}, value=saved).save()
    restored = tf.Variable(0.0)
    assert checkpoints.Checkpoints(tmp_path, True, {"depth": 20}, value=restored).restore()
    assert float(restored.numpy()) == 3.0
    with pytest.raises(ValueError, match=r"another run \(it differs in \['depth'\]\)"):
        checkpoints.Checkpoints(tmp_path, True, {"depth": 56}, value=restored).restore()


def test_a_worker_other_than_the_first_writes_nothing_into_the_checkpoint_folder(tmp_path):
    folder = tmp_path / "shared"
    checkpoints.Checkpoints(folder, False, {"depth": 20}, value=tf.Variable(1.0)).save()
    assert not folder.exists()


def test_a_folder_under_a_file_or_unwritable_is_named_with_its_option(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="--checkpoint-dir must be a folder, and .*file is a file"):
        checkpoints.check_writable("--checkpoint-dir", tmp_path / "file" / "run")
    checkpoints.check_writable("--out", tmp_path / "new" / "deeper")
    assert not (tmp_path / "new" / "deeper").exists()  # made for the check, then removed


def test_sigterm_sets_the_stop_request_and_the_old_handler_returns(monkeypatch):
    import signal

    before = signal.getsignal(signal.SIGTERM)
    with checkpoints.stop_on_sigterm() as stop:
        assert not stop.requested
        signal.raise_signal(signal.SIGTERM)
        assert stop.requested
    assert signal.getsignal(signal.SIGTERM) is before


def test_the_l2_term_adds_weight_decay_times_the_weights_to_the_gradient():
    # A softmax regression's step in closed form, in float64: W - rate * (X'(P - Y) / n + decay W).
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 3)).astype("float32"), rng.integers(0, 4, 8)
    dense = keras.layers.Dense(4, use_bias=False, activation="softmax")
    model = keras.Sequential([keras.Input((3,)), dense])
    weights = model.get_weights()[0].astype(np.float64)
    step = loop.training_step(model, keras.optimizers.SGD(0.5), 8, l2_decay=0.1)
    step(tf.constant(x), tf.constant(y))
    logits = x.astype(np.float64) @ weights
    probabilities = np.exp(logits - logits.max(1, keepdims=True))
    probabilities /= probabilities.sum(1, keepdims=True)
    gradient = x.T @ (probabilities - np.eye(4)[y]) / 8 + 0.1 * weights
    np.testing.assert_allclose(model.get_weights()[0], weights - 0.5 * gradient, rtol=1e-5)


def test_the_summary_of_several_seeds_gives_the_mean_and_standard_deviation():
    runs = [{"test_error": e, "train_error": 0.0} for e in (0.1, 0.2, 0.3)]
    line = outputs.summary("resnet-8", runs)
    assert "test error 0.2000 ± 0.1000" in line and "over 3 seeds" in line


def test_the_epoch_line_gives_the_time_left_from_the_epochs_after_the_first():
    lines = []
    made = recipe_for("--data", "digits", "--epochs", "4", num_train=1437)
    progress = outputs.Progress(made, lines.append)
    row = {
        "loss": 1.0,
        "accuracy": 0.5,
        "val_loss": float("nan"),
        "val_accuracy": float("nan"),
        "learning_rate": 0.1,
        "iterations": 11,
        "images_per_second": 100.0,
    }
    progress(0, {**row, "seconds": 100.0})  # compiling
    progress(1, {**row, "seconds": 40.0})
    assert lines[0].endswith("5 min left") and lines[1].endswith("80 s left")
    assert "test" not in lines[1]  # not evaluated in that epoch


def test_run_records_store_what_was_not_measured_as_none():
    record = results.run_record(
        "resnet-8",
        0,
        0.1,
        2,
        {"val_loss": [float("nan"), 0.1234567]},
        {"train_loss": 0.5, "train_error": 0.1, "test_error": 0.2},
        3.21,
    )
    assert record["history"]["val_loss"] == [None, 0.123457] and record["seconds"] == 3.2


def test_the_outputs_of_several_seeds_are_told_apart(tmp_path):
    args = command.build_parser().parse_args(["--data", "digits", "--seeds", "0,1"])
    first, second = outputs.files_of(args, 0), outputs.files_of(args, 1)
    assert first.results == second.results == pathlib.Path("resnet-20-digits-seeds0-1.json")
    assert (first.model.name, second.log.name) == (
        "resnet-20-digits-seeds0-1-seed0.keras",
        "resnet-20-digits-seeds0-1-seed1.csv",
    )
    assert first.checkpoints != second.checkpoints
    with pytest.raises(argparse.ArgumentTypeError):
        command.seed_list("1,1")


@pytest.mark.parametrize(
    "chief, order", [(True, ["load", "barrier"]), (False, ["barrier", "load"])]
)
def test_under_multi_worker_worker_0_loads_the_data_before_the_others(monkeypatch, chief, order):
    events = []

    class Cluster:  # stands for MultiWorkerMirroredStrategy
        pass

    monkeypatch.setattr(command.tf.distribute, "MultiWorkerMirroredStrategy", Cluster)
    monkeypatch.setattr(loop, "is_chief", lambda strategy: chief)
    monkeypatch.setattr(loop, "barrier", lambda strategy: events.append("barrier"))
    monkeypatch.setattr(datasets, "load", lambda *args: events.append("load"))
    command.load_in_turn(Cluster(), "cifar10", False)
    assert events == order
    events.clear()
    command.load_in_turn(object(), "cifar10", False)  # one machine: no waiting
    assert events == ["load"]


# One epoch's figures as the training loop hands them to the epoch log, before any evaluation.
FIRST_EPOCH = {
    "loss": 2.0,
    "accuracy": 0.25,
    "val_loss": float("nan"),
    "val_accuracy": float("nan"),
    "learning_rate": 0.1,
    "iterations": 11,
    "images_per_second": 100.0,
    "seconds": 1.0,
}


def test_the_epoch_log_replaces_rows_from_before_a_restart(tmp_path):
    log = outputs.EpochLog(tmp_path / "run.csv")
    row = FIRST_EPOCH
    log(0, row)
    log(1, {**row, "loss": 1.5, "iterations": 22})
    log(1, {**row, "loss": 1.25, "iterations": 22, "val_loss": 1.0, "val_accuracy": 0.5})
    lines = (tmp_path / "run.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,iterations,loss,error,test_loss,test_error")
    assert [line.split(",")[:6] for line in lines[1:]] == [
        ["1", "11", "2", "0.75", "", ""],
        ["2", "22", "1.25", "0.75", "1", "0.5"],
    ]


def test_tensorboard_logs_hold_each_epochs_scalars_without_the_tensorboard_package(tmp_path):
    board = tmp_path / "board"
    log = outputs.EpochLog(tmp_path / "run.csv", board)
    row = FIRST_EPOCH  # not evaluated: its test figures are left out
    log(0, row)
    log(1, {**row, "loss": 1.5, "iterations": 22, "val_loss": 1.0, "val_accuracy": 0.5})
    seen = {}
    for path in sorted(board.iterdir()):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                assert value.metadata.plugin_data.plugin_name == "scalars"
                seen[(event.step, value.tag)] = float(tf.make_ndarray(value.tensor))
    assert seen[(11, "loss")] == 2.0 and seen[(22, "loss")] == 1.5
    assert seen[(22, "test_error")] == 0.5 and (11, "test_error") not in seen
    assert seen[(11, "error")] == 0.75 and seen[(22, "learning_rate")] == np.float32(0.1)
