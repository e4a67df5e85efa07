"""The book's small-data recipe: the paper's schedule with Keras' decoupled weight decay.

:func:`train` is chapter 5's fit helper. Its weight decay is Keras' ``weight_decay`` option,
which shrinks the weights directly; the training tool (:mod:`resnet_book.trainer`) instead adds
the paper's L2 term to the loss (``l2_decay``), and has its own schedule.

Taught in chapters/05-keras-code.ipynb.
"""

import math

from resnet_book import arguments
from resnet_book.backend import keras


class EpochLine(keras.callbacks.Callback):
    """Print one short, rounded line per epoch instead of Keras' progress bar."""

    def __init__(self, num_epochs):
        super().__init__()
        self.num_epochs = num_epochs

    def on_epoch_end(self, epoch, logs=None):
        """Print the epoch's metrics, rounded to three decimals."""
        metrics = ", ".join(f"{name} {value:.3f}" for name, value in (logs or {}).items())
        print(f"epoch {epoch + 1}/{self.num_epochs}: {metrics}")


@keras.saving.register_keras_serializable(package="resnet_book")
class SGD(keras.optimizers.SGD):
    """Keras' SGD, computing the same updates, with the rate evaluated once per step.

    Keras' ``_apply_weight_decay`` evaluates the learning-rate schedule again for
    every weight it decays, which repeats the schedule in the compiled training
    step once per weight; here it is evaluated once and cast per weight, as Keras
    casts it. A unit test checks that the weights stay bit-identical to Keras'.
    """

    def _apply_weight_decay(self, variables):
        if self.weight_decay is None:
            return
        rate = self.learning_rate
        for variable in variables:
            if self._use_weight_decay(variable):
                lr = keras.ops.cast(rate, variable.dtype)
                wd = keras.ops.cast(self.weight_decay, variable.dtype)
                variable.assign(variable - variable * wd * lr)


@keras.saving.register_keras_serializable(package="resnet_book")
class StepDecay(keras.optimizers.schedules.LearningRateSchedule):
    """``values[i]`` once the step passes ``boundaries[i - 1]``: Keras' ``PiecewiseConstantDecay``.

    It computes the same rates in a few operations, whatever the number of boundaries. That
    matters because Keras' own SGD evaluates the schedule again for every weight it decays, so
    the schedule's size multiplies the training step that TensorFlow compiles (see :class:`SGD`).
    """

    def __init__(self, boundaries, values):
        self.boundaries, self.values = list(boundaries), list(values)

    def __call__(self, step):
        """The rate at ``step``."""
        step = keras.ops.cast(step, "float64")
        passed = keras.ops.sum(keras.ops.cast(step > self.boundaries, "int32"))
        return keras.ops.take(keras.ops.convert_to_tensor(self.values, "float32"), passed)

    def get_config(self):
        """Serialisable configuration."""
        return {"boundaries": self.boundaries, "values": self.values}


@keras.saving.register_keras_serializable(package="resnet_book")
class RampThenSteps(keras.optimizers.schedules.LearningRateSchedule):
    """A linear ramp from ``start`` over the first ``ramp_steps`` steps, then ``steps``.

    At step ``t < ramp_steps`` the rate is ``start + (steps(0) - start) * t / ramp_steps``;
    from ``ramp_steps`` on it is ``steps(t)``. Goyal et al.'s gradual warm-up, from ``start``.
    """

    def __init__(self, start, ramp_steps, steps):
        self.start, self.ramp_steps, self.steps = start, ramp_steps, steps

    def __call__(self, step):
        """The rate at ``step``."""
        step = keras.ops.cast(step, "float32")
        peak = keras.ops.cast(self.steps(0), "float32")
        ramp = self.start + (peak - self.start) * step / self.ramp_steps
        return keras.ops.where(step < self.ramp_steps, ramp, self.steps(step))

    def get_config(self):
        """Serialisable configuration."""
        return {
            "start": self.start,
            "ramp_steps": self.ramp_steps,
            "steps": keras.optimizers.schedules.serialize(self.steps),
        }

    @classmethod
    def from_config(cls, config):
        """The schedule back from :meth:`get_config`."""
        steps = keras.optimizers.schedules.deserialize(config["steps"])
        return cls(config["start"], config["ramp_steps"], steps)


def sgd_step_schedule(
    learning_rate,
    total_steps,
    milestones=(0.5, 0.75),
    weight_decay=1e-4,
    warmup=0.0,
    ramp_from=None,
):
    """SGD with momentum 0.9 and weight decay; the rate divided by 10 at each milestone.

    The paper divides 0.1 by 10 at 32k and 48k of 64k iterations, that is at
    50% and 75% of the run; ``milestones`` are those fractions. For its
    110-layer network it first trains at a tenth of the rate until the training
    error falls below 80% (about 400 iterations); ``warmup`` is that share of
    the run. With ``ramp_from``, the warm-up instead raises the rate linearly
    from ``ramp_from`` to ``learning_rate``, like the gradual warm-up that Goyal
    et al. (2017) use for large batches, which starts from the unscaled rate
    (chapter 13's tool has its own schedule, :mod:`resnet_book.trainer.schedule`).

    Args:
        learning_rate: The initial learning rate, positive.
        total_steps: Number of optimiser steps in the whole run, positive.
        milestones: Increasing fractions of the run in (0, 1]; in a run too short
            to separate them, two that fall on the same step divide once.
        weight_decay: Decay coefficient, non-negative. Keras applies it to every
            weight directly (scaled by the learning rate) rather than as an L2
            term in the loss. An L2 term's gradient passes through the momentum,
            so with momentum 0.9 the paper's form decays about ten times as
            strongly, after the first few dozen steps, for the same coefficient.
        warmup: Fraction of the run, before the first milestone, trained at
            ``learning_rate / 10``; 0 for none. As in Keras'
            ``PiecewiseConstantDecay``, a boundary's own step still takes the
            earlier rate, counting steps from 0: the warm-up lasts
            ``round(warmup * total_steps) + 1`` steps, and each division by 10
            comes one step after its milestone's step.
        ramp_from: None for the constant warm-up; a positive rate to ramp up from.

    Returns:
        A :class:`SGD`, Keras' SGD evaluating its rate once per step.

    Raises:
        ValueError: If an argument is out of range.
    """
    if not learning_rate > 0:
        raise ValueError(
            f"learning_rate must be positive. Received: learning_rate={learning_rate!r}"
        )
    arguments.check_integer("total_steps", total_steps, 1)
    if list(milestones) != sorted(milestones) or not all(0 < m <= 1 for m in milestones):
        raise ValueError(
            "milestones must be increasing fractions in (0, 1]. "
            f"Received: milestones={milestones!r}"
        )
    if not weight_decay >= 0:
        raise ValueError(
            f"weight_decay must be non-negative. Received: weight_decay={weight_decay!r}"
        )
    if not 0 <= warmup < (milestones[0] if milestones else 1):
        raise ValueError(f"warmup must be in [0, first milestone). Received: warmup={warmup!r}")
    if ramp_from is not None:
        arguments.check_positive("ramp_from", ramp_from)
    boundaries = sorted({max(1, round(m * total_steps)) for m in milestones})
    values = [learning_rate / 10**k for k in range(len(boundaries) + 1)]
    warmup_steps = max(1, round(warmup * total_steps))
    if warmup and ramp_from is None:
        boundaries = [warmup_steps, *boundaries]
        values = [learning_rate / 10, *values]
    schedule = StepDecay(boundaries, values)
    if warmup and ramp_from is not None:
        schedule = RampThenSteps(ramp_from, warmup_steps, schedule)
    return SGD(learning_rate=schedule, momentum=0.9, weight_decay=weight_decay or None)


def train(
    model,
    train_data,
    test_data=None,
    num_epochs=5,
    batch_size=128,
    learning_rate=0.1,
    weight_decay=1e-4,
    warmup=0.0,
    verbose=True,
):
    """Compile ``model`` as a classifier and train it with the step schedule.

    Call :func:`resnet_book.set_seed` first for a repeatable run.

    Args:
        model: A Keras model with a softmax output.
        train_data: ``(x_train, y_train)`` with integer labels.
        test_data: ``(x_test, y_test)``, evaluated after every epoch, or None.
        num_epochs: Number of passes over the training data, positive.
        batch_size: Images per step, positive.
        learning_rate: Initial learning rate of SGD.
        weight_decay: Weight decay coefficient, non-negative.
        warmup: Fraction of the run trained at a tenth of the rate first.
        verbose: Print one line per epoch.

    Returns:
        The Keras ``History.history`` dictionary.

    Raises:
        ValueError: If an argument is out of range.
    """
    arguments.check_integer("num_epochs", num_epochs, 1)
    arguments.check_integer("batch_size", batch_size, 1)
    x_train, y_train = train_data
    steps = num_epochs * math.ceil(len(x_train) / batch_size)
    model.compile(
        optimizer=sgd_step_schedule(learning_rate, steps, weight_decay=weight_decay, warmup=warmup),
        loss="sparse_categorical_crossentropy",
        # an object, not the string "accuracy", whose variables Keras would create inside the
        # first trace of the training step and so trace it twice
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    # built before fit for the same reason: TensorFlow traces the training step once
    model.optimizer.build(model.trainable_variables)
    history = model.fit(
        x_train,
        y_train,
        batch_size=batch_size,
        epochs=num_epochs,
        validation_data=test_data,
        callbacks=[EpochLine(num_epochs)] if verbose else [],
        verbose=0,
    )
    return history.history
