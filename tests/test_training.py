import numpy as np
import pytest

from resnet_book import set_seed, training


def test_step_schedule_divides_by_ten_at_half_and_three_quarters():
    optimizer = training.sgd_step_schedule(0.1, 100)
    schedule = optimizer._learning_rate
    values = [round(float(schedule(step)), 6) for step in [0, 49, 51, 74, 76, 99]]
    assert values == [0.1, 0.1, 0.01, 0.01, 0.001, 0.001]
    assert float(optimizer.momentum) == 0.9 and optimizer.weight_decay == 1e-4


def test_warmup_trains_at_a_tenth_first():
    schedule = training.sgd_step_schedule(0.1, 100, warmup=0.1)._learning_rate
    values = [round(float(schedule(step)), 6) for step in [0, 9, 11, 49, 51]]
    assert values == [0.01, 0.01, 0.1, 0.1, 0.01]


def test_a_boundary_s_own_step_keeps_the_earlier_rate_as_in_keras():
    import keras

    # the docstring's count: round(0.1 * 100) + 1 = 11 warm-up steps, and each division one
    # step after its milestone's step (steps counted from 0)
    schedule = training.sgd_step_schedule(0.1, 100, warmup=0.1)._learning_rate
    rates = np.array([float(schedule(step)) for step in range(100)])
    assert np.sum(rates[:50] < 0.05) == 11
    assert np.isclose(rates[50], 0.1) and np.isclose(rates[51], 0.01)
    assert np.isclose(rates[75], 0.01) and np.isclose(rates[76], 0.001)
    keras_own = keras.optimizers.schedules.PiecewiseConstantDecay(
        [10, 50, 75], [0.01, 0.1, 0.01, 0.001]
    )
    assert np.allclose(rates, [float(keras_own(step)) for step in range(100)])


def test_gradual_warmup_ramps_linearly_to_the_rate_then_steps():
    schedule = training.sgd_step_schedule(0.8, 100, warmup=0.1, ramp_from=0.1)._learning_rate
    values = [round(float(schedule(step)), 6) for step in [0, 5, 9, 10, 49, 51, 76]]
    assert values == [0.1, 0.45, 0.73, 0.8, 0.8, 0.08, 0.008]
    config = schedule.get_config()
    assert config["start"] == 0.1 and config["ramp_steps"] == 10


def test_the_gradual_warmup_survives_a_round_trip_through_keras_serialisation():
    import keras

    optimizer = training.sgd_step_schedule(0.8, 100, warmup=0.1, ramp_from=0.1)
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    steps = [0, 5, 10, 51, 76]
    assert [float(restored._learning_rate(step)) for step in steps] == pytest.approx(
        [float(optimizer._learning_rate(step)) for step in steps]
    )


@pytest.mark.parametrize("total_steps", [1, 2, 3])
def test_runs_too_short_to_separate_the_divisions_get_a_schedule(total_steps):
    # The milestones, at half and three quarters of the run, fall on the same or the last step.
    schedule = training.sgd_step_schedule(0.1, total_steps)._learning_rate
    rates = [round(float(schedule(step)), 6) for step in range(total_steps)]
    assert rates == [0.1] * total_steps  # a division on the last step or later comes too late


@pytest.mark.parametrize(
    "arguments, name",
    [
        ({"warmup": 0.1, "ramp_from": 0}, "ramp_from=0"),
        ({"learning_rate": 0}, "learning_rate=0"),
        ({"total_steps": 0}, "total_steps=0"),
        ({"milestones": (0.75, 0.5)}, "milestones="),
        ({"milestones": (0.5, 1.5)}, "milestones="),
        ({"weight_decay": -1e-4}, "weight_decay=-0.0001"),
        ({"warmup": 0.6}, "warmup=0.6"),
    ],
)
def test_schedule_rejects_bad_arguments(arguments, name):
    arguments = {"learning_rate": 0.1, "total_steps": 10, **arguments}
    with pytest.raises(ValueError, match=name):
        training.sgd_step_schedule(**arguments)


def test_train_prints_one_rounded_line_per_epoch_and_learns(capsys):
    import keras

    set_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 4, 4, 1)).astype("float32")
    y = (x.mean(axis=(1, 2, 3)) > 0).astype("int64")
    model = keras.Sequential(
        [keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(2, "softmax")]
    )
    history = training.train(model, (x, y), (x, y), num_epochs=3, batch_size=32)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("epoch 1/3: ")
    assert "val_accuracy" in lines[-1]
    assert history["accuracy"][-1] > 0.9


@pytest.mark.parametrize("name, value", [("num_epochs", 0), ("batch_size", 2.5)])
def test_train_rejects_bad_counts(name, value):
    with pytest.raises(ValueError, match=f"{name}={value!r}"):
        training.train(None, (None, None), **{name: value})


@pytest.mark.parametrize("step", [0, 1, 3, 4, 7, 8, 12, 13, 100, 3.0, 7.5])
def test_step_decay_gives_kerass_piecewise_constant_rates(step):
    import keras

    boundaries, values = [3, 7, 7, 12], [0.1, 0.01, 0.001, 1e-4, 1e-5]
    keras_rate = keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, values)(step)
    assert float(training.StepDecay(boundaries, values)(step)) == float(keras_rate)


def test_the_optimiser_updates_the_weights_bit_for_bit_as_kerass_sgd():
    import keras

    def train_with(optimizer):
        set_seed(0)
        model = keras.Sequential(
            [
                keras.Input((4,)),
                keras.layers.Dense(8),
                keras.layers.BatchNormalization(),
                keras.layers.Dense(3),
            ]
        )
        model.compile(optimizer, "sparse_categorical_crossentropy")
        rng = np.random.default_rng(0)
        x, y = rng.normal(size=(64, 4)).astype("float32"), rng.integers(0, 3, 64)
        model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)  # 12 steps
        return model.get_weights()

    ours = train_with(training.sgd_step_schedule(0.1, 12, warmup=0.1))
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay([1, 6, 9], [0.01, 0.1, 0.01, 1e-3])
    reference = keras.optimizers.SGD(schedule, momentum=0.9, weight_decay=1e-4)
    for mine, theirs in zip(ours, train_with(reference), strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_train_divides_the_rate_at_the_papers_milestones():
    """Chapter 1 reads the stored runs' rate drops as half and three quarters of the run."""
    import inspect

    schedule = inspect.signature(training.sgd_step_schedule).parameters
    assert schedule["milestones"].default == (0.5, 0.75)  # 32k and 48k of 64k
    assert "milestones" not in inspect.signature(training.train).parameters
    assert "milestones" not in inspect.getsource(training.train)
