"""The training command on one device: its options, recipe, pipeline, and a run end to end."""

import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from resnet_book import data, distributed, pipeline, results, train


def recipe_for(*options, replicas=1, num_train=50_000):
    return train.make_recipe(train.build_parser().parse_args(options), replicas, num_train)


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
        "--batch-size --seed --strategy --out"
    ).split()
    assert all(option in text for option in options)
    choices = [
        "zero_pad,projection,all_projection",
        "v1,v2",
        "cifar10,digits,mnist1d",
        "one-device,mirrored,multi-worker",
    ]
    assert all(choice in text for choice in choices)


@pytest.mark.parametrize(
    "options, message",
    [
        (["--data", "imagenet"], "argument --data: invalid choice: 'imagenet'"),
        (
            ["--depth", "21"],
            r"depth must be 6n\+2 \(20, 32, 44, 56, 110, ...\). Received: depth=21",
        ),
        (["--depth", "20.5"], "argument --depth: invalid int value: '20.5'"),
        (["--shortcut", "A"], "argument --shortcut: invalid choice: 'A'"),
        (["--network", "plain", "--block", "v2"], "a plain network has no shortcut and no v2"),
        (["--data", "digits", "--validation"], "data must be 'cifar10' for --validation"),
        (["--data", "digits", "--batch-size", "0"], "batch_size must be a positive integer"),
        (["--data", "digits", "--batch-size", "2000"], r"in 1..1437. Received: batch_size=2000"),
        (["--data", "digits", "--epochs", "0"], "epochs must be a positive integer"),
        (["--data", "digits", "--epochs", "2", "--iterations", "9"], "not allowed with argument"),
        (["--data", "digits", "--learning-rate", "-0.1"], "Received: learning_rate=-0.1"),
        (
            ["--data", "digits", "--epochs", "1", "--warmup-iterations", "6"],
            r"warmup_iterations must be an integer in 0..5. Received: warmup_iterations=6",
        ),
        (["--data", "digits", "--cpu-devices", "0"], "cpu_devices must be a positive integer"),
    ],
)
def test_bad_input_is_a_usage_error_with_a_clear_message(capsys, options, message):
    code, error = exit_of(capsys, *options)
    assert code == 2
    assert error.startswith("usage: python -m resnet_book.train")
    assert re.search(message, error) and "Traceback" not in error


def test_the_global_batch_must_split_evenly_over_the_replicas():
    with pytest.raises(ValueError, match="multiple of the 2 replicas. Received: batch_size=33"):
        recipe_for("--batch-size", "33", replicas=2)


def test_the_default_recipe_is_the_papers():
    recipe = recipe_for("--data", "cifar10")
    assert (recipe["batch_size"], recipe["learning_rate"], recipe["iterations"]) == (
        128,
        0.1,
        64_000,
    )
    assert recipe["milestones"] == [32_000, 48_000] and recipe["warmup_iterations"] == 0
    assert (recipe["momentum"], recipe["weight_decay"]) == (0.9, 1e-4)
    assert (recipe["steps_per_epoch"], recipe["num_epochs"]) == (390, 165)
    assert recipe_for("--depth", "110")["warmup_iterations"] == 400
    assert recipe_for("--depth", "110", "--warmup-iterations", "0")["warmup_iterations"] == 0


def test_more_replicas_scale_the_batch_and_rate_up_and_the_counts_down():
    recipe = recipe_for("--depth", "110", replicas=4)
    assert (recipe["batch_size"], recipe["learning_rate"]) == (512, 0.4)
    assert recipe["iterations"] == 16_000 and recipe["milestones"] == [8_000, 12_000]
    assert recipe["warmup_iterations"] == 100 and recipe["num_epochs"] == 165
    paper = recipe_for("--batch-size", "128", replicas=2)
    assert (paper["learning_rate"], paper["iterations"]) == (0.1, 64_000)


def test_small_data_sets_train_twenty_epochs_by_default():
    recipe = recipe_for("--data", "digits", num_train=1437)
    assert (recipe["steps_per_epoch"], recipe["num_epochs"], recipe["iterations"]) == (11, 20, 220)
    recipe = recipe_for("--data", "digits", "--iterations", "25", num_train=1437)
    assert recipe["num_epochs"] == 3 and recipe["milestones"] == [12, 19]


def test_the_optimiser_follows_the_recipe_step_by_step():
    recipe = recipe_for("--depth", "110")
    strategy = distributed.distribution_strategy("one-device")
    build = lambda: keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])  # noqa: E731
    state = distributed.initial_state(strategy, build, recipe)
    schedule = state["optimizer"]._learning_rate
    # Keras' PiecewiseConstantDecay keeps a rate up to and including its boundary step.
    steps = [0, 400, 401, 32_000, 32_001, 48_000, 48_001, 63_999]
    rates = [round(float(schedule(step)), 6) for step in steps]
    assert rates == [0.01, 0.01, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001]
    assert float(state["optimizer"].momentum) == 0.9 and state["optimizer"].weight_decay is None


def test_the_gradual_warmup_ramps_from_a_tenth_of_the_base_rate_over_five_epochs():
    recipe = recipe_for("--warmup-ramp", "--batch-size", "512")
    assert recipe["warmup_iterations"] == 5 * recipe["steps_per_epoch"] == 485
    assert recipe["warmup_ramp_from"] == 0.01 and recipe["learning_rate"] == 0.4
    strategy = distributed.distribution_strategy("one-device")
    build = lambda: keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])  # noqa: E731
    schedule = distributed.initial_state(strategy, build, recipe)["optimizer"]._learning_rate
    rates = [round(float(schedule(step)), 6) for step in [0, 485, 8_000, 8_001]]
    assert rates == [0.01, 0.4, 0.4, 0.04]
    assert round(float(schedule(242)), 4) == round(0.01 + 0.39 * 242 / 485, 4)
    # A short run ramps only until the first division of the rate.
    assert (
        recipe_for("--data", "digits", "--epochs", "6", "--warmup-ramp", num_train=1437)[
            "warmup_iterations"
        ]
        == 32
    )
    assert recipe_for()["warmup_ramp_from"] is None


@pytest.mark.parametrize(
    "options, name, model_name",
    [
        ([], "resnet-20", "resnet20"),
        (["--network", "plain", "--depth", "56"], "plain-56", "plain56"),
        (["--block", "v2", "--depth", "110"], "resnet-v2-110", "preact_resnet110"),
    ],
)
def test_the_command_builds_the_network_it_names(options, name, model_name):
    args = train.build_parser().parse_args(options)
    model = train.build_model(recipe_for(*options), (32, 32, 3))
    assert train.network_name(args) == name and model.name == model_name
    weighted = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(weighted) + 1 == args.depth  # the paper's count: convolutions and the classifier


def test_batchnorm_is_synchronised_over_the_replicas_on_request():
    for option, synchronised in (([], False), (["--sync-batchnorm"], True)):
        model = train.build_model(recipe_for(*option, "--depth", "8"), (32, 32, 3))
        norms = [
            layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)
        ]
        assert norms and all(layer.synchronized is synchronised for layer in norms)


def test_mnist1d_signals_pass_through_the_network_as_40x1_images():
    dataset = train.load_data("mnist1d")
    model = train.build_model(recipe_for("--data", "mnist1d", "--depth", "8"), (40, 1, 1))
    assert model(dataset["train"][0][:2]).shape == (2, 10)


@pytest.mark.parametrize(
    "name, shape, augment",
    [
        ("digits", (16, 16, 1), False),
        ("mnist1d", (40, 1, 1), False),
        ("synthetic", (32, 32, 3), True),
    ],
)
def test_data_sets_come_standardised_by_their_scale_and_offset(name, shape, augment):
    dataset = train.load_data(name)
    images = dataset["train"][0] * dataset["scale"] - dataset["offset"]
    assert images.shape[1:] == shape and dataset["augment"] is augment
    assert abs(images.mean()) < 1e-3
    if augment:  # the paper's per-pixel mean subtracted
        assert np.abs(images.mean(axis=0)).max() < 1e-5
    assert set(np.unique(dataset["test"][1])) == set(range(10))


def test_mnist1d_is_generated_offline_with_its_default_split():
    (x_train, y_train), (x_test, y_test) = data.mnist1d_signals()
    assert x_train.shape == (4000, 40, 1) and x_test.shape == (1000, 40, 1)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    np.testing.assert_array_equal(data.mnist1d_signals()[0][0], x_train)
    with pytest.raises(ValueError, match="Received: num_samples=5"):
        data.mnist1d_signals(num_samples=5)


def crops_and_flips(image):
    """Every image the paper's augmentation can make of ``image``: 9 x 9 shifts, flipped or not."""
    height, width, _ = image.shape
    padded = np.pad(image, [(4, 4), (4, 4), (0, 0)])
    shifts = [
        padded[top : top + height, left : left + width] for top in range(9) for left in range(9)
    ]
    return shifts + [shift[:, ::-1] for shift in shifts]


def test_augmentation_is_one_of_the_papers_crops_and_flips_chosen_by_the_seed():
    image = np.random.default_rng(0).normal(size=(32, 32, 3)).astype(np.float32)
    candidates = crops_and_flips(image)
    outputs = [pipeline.augment(image, tf.constant([7, seed])).numpy() for seed in range(200)]
    matches = [[np.array_equal(out, c) for c in candidates].index(True) for out in outputs]
    assert 60 < sum(match >= 81 for match in matches) < 140  # flipped about half the time
    assert len(set(matches)) > 81  # the crop varies as well
    np.testing.assert_array_equal(pipeline.augment(image, tf.constant([7, 3])), outputs[3])


def toy_dataset(num_images=40):
    """8x8 images labelled with their index, to see which the pipeline delivers."""
    pattern = np.arange(64, dtype=np.float32).reshape(8, 8, 1) / 64
    images = np.arange(num_images, dtype=np.float32)[:, None, None, None] + pattern
    labels = np.arange(num_images, dtype=np.int64)
    return {
        "train": (images, labels),
        "test": (images[:10], labels[:10]),
        "scale": 1.0,
        "offset": np.float32(0),
        "augment": False,
    }


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


def test_a_resumed_epoch_is_the_epoch_the_run_would_have_had():
    dataset = {**toy_dataset(), "augment": True}
    straight = pipeline.training_batches(
        dataset, 8, tf.constant(5, tf.int64), 0, tf.distribute.InputContext()
    )
    resumed = pipeline.training_batches(
        dataset, 8, tf.constant(5, tf.int64), 1, tf.distribute.InputContext()
    )
    for (images, labels), (again, labels_again) in zip(
        straight.skip(5).take(5), resumed.take(5), strict=True
    ):
        np.testing.assert_array_equal(labels, labels_again)
        np.testing.assert_array_equal(images, again)
    first_images, _ = next(iter(straight))
    assert not np.array_equal(first_images, dataset["train"][0][:8])  # augmented, shuffled


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
    strategy = distributed.distribution_strategy("one-device")
    saved = tf.Variable(3.0)
    distributed.Checkpoints(tmp_path, strategy, {"depth": 20}, value=saved).save()
    restored = tf.Variable(0.0)
    distributed.Checkpoints(tmp_path, strategy, {"depth": 20}, value=restored).restore()
    assert float(restored.numpy()) == 3.0
    with pytest.raises(ValueError, match=r"another run \(it differs in \['depth'\]\)"):
        distributed.Checkpoints(tmp_path, strategy, {"depth": 56}, value=restored).restore()


def test_the_command_trains_on_the_digits_end_to_end_and_learns(tmp_path, capsys):
    out = tmp_path / "resnet8-digits.json"
    options = ["--data", "digits", "--depth", "8", "--epochs", "3", "--out", str(out)]
    assert train.main(options) == 0
    printed = capsys.readouterr().out
    lines = [line for line in printed.splitlines() if line.startswith("epoch ")]
    assert [line.split(" (")[0] for line in lines] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    pattern = r"loss \d\.\d{4}, error \d\.\d{4}, test loss .*, test error .*, \d+ images/s$"
    assert all(re.search(pattern, line) for line in lines)
    stored = results.load(out)
    assert stored.record["command"] == "python -m resnet_book.train " + " ".join(options)
    assert stored.recipe["replicas"] == 1 and stored.machine["cores"] >= 1
    [run] = stored.select("resnet-8")
    assert len(run["history"]["loss"]) == 3 and len(run["history"]["val_accuracy"]) == 3
    assert run["history"]["loss"][-1] < run["history"]["loss"][0]
    assert run["test_error"] < 0.5 and run["train_error"] < 0.5  # chance is 0.9
    assert not out.with_suffix(".checkpoints").exists()


def test_a_run_too_short_to_separate_the_divisions_still_runs(tmp_path):
    # Both divisions of the rate fall on the first step (test_training checks the schedule).
    out = tmp_path / "short.json"
    options = ["--data", "digits", "--depth", "8", "--iterations", "1", "--out", str(out)]
    assert train.main(options) == 0
    [run] = results.load(out).select("resnet-8")
    assert run["history"]["iterations"] == [1]


def test_the_papers_warmup_is_cut_short_in_a_run_that_divides_the_rate_sooner():
    recipe = recipe_for("--depth", "110", "--epochs", "1")  # 390 steps, first division at 195
    assert recipe["milestones"][0] == 195 and recipe["warmup_iterations"] == 194


def test_the_l2_term_adds_weight_decay_times_the_weights_to_the_gradient():
    # A softmax regression's step in closed form, in float64: W - rate * (X'(P - Y) / n + decay W).
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 3)).astype("float32"), rng.integers(0, 4, 8)
    dense = keras.layers.Dense(4, use_bias=False, activation="softmax")
    model = keras.Sequential([keras.Input((3,)), dense])
    weights = model.get_weights()[0].astype(np.float64)
    step = distributed.training_step(model, keras.optimizers.SGD(0.5), 8, weight_decay=0.1)
    step(tf.constant(x), tf.constant(y))
    logits = x.astype(np.float64) @ weights
    probabilities = np.exp(logits - logits.max(1, keepdims=True))
    probabilities /= probabilities.sum(1, keepdims=True)
    gradient = x.T @ (probabilities - np.eye(4)[y]) / 8 + 0.1 * weights
    np.testing.assert_allclose(model.get_weights()[0], weights - 0.5 * gradient, rtol=1e-5)
