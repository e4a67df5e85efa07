"""The training tool's learning rate, step by step, and its optimiser.

Chapter 5's fit helper (:func:`resnet_book.training.sgd_step_schedule`) keeps its own schedule
and Keras' decoupled weight decay; the tool's decay is an L2 term in the loss
(:func:`resnet_book.trainer.loop.training_step`), so its optimiser has none.

Used by the training tool (:mod:`resnet_book.trainer`); taught in
chapters/13-training-at-scale.ipynb.
"""

from resnet_book.backend import keras


@keras.saving.register_keras_serializable(package="resnet_book.trainer")
class PaperSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """The rate of optimiser step ``t`` (0 for the first): warm-up, then divided by ten.

    Steps ``0 .. warmup - 1`` train at ``peak / 10``, or, with ``ramp_from``, at a rate rising
    linearly from ``ramp_from`` at step 0 towards ``peak``. From then on the rate is ``peak``,
    divided by ten after each milestone passed: after ``milestones[0]`` steps it is
    ``peak / 10``. Two milestones on the same step divide by a hundred there.
    """

    def __init__(self, peak, milestones, warmup=0, ramp_from=None):
        self.peak, self.milestones = float(peak), [int(m) for m in milestones]
        self.warmup, self.ramp_from = int(warmup), ramp_from

    def __call__(self, step):
        """The rate at ``step``."""
        ops = keras.ops
        step = ops.cast(step, "float32")
        passed = ops.sum(
            ops.cast(step >= ops.convert_to_tensor(self.milestones, "float32"), "int32")
        )
        rate = self.peak * ops.power(0.1, ops.cast(passed, "float32"))
        if not self.warmup:
            return rate
        if self.ramp_from is None:
            early = ops.convert_to_tensor(self.peak / 10, "float32")
        else:
            early = self.ramp_from + (self.peak - self.ramp_from) * step / self.warmup
        return ops.where(step < self.warmup, early, rate)

    def get_config(self):
        """Serialisable configuration."""
        return {
            "peak": self.peak,
            "milestones": self.milestones,
            "warmup": self.warmup,
            "ramp_from": self.ramp_from,
        }


def schedule(recipe):
    """The :class:`PaperSchedule` of a :class:`~resnet_book.trainer.recipe.Recipe`."""
    return PaperSchedule(
        recipe.learning_rate, recipe.milestones, recipe.warmup_iterations, recipe.warmup_ramp_from
    )


def optimizer(recipe):
    """SGD with the recipe's momentum and schedule; under float16, with dynamic loss scaling.

    float16 has 5 bits of exponent: small gradients underflow unless the loss is scaled up
    first. bfloat16 has float32's exponent and needs no scaling.
    """
    sgd = keras.optimizers.SGD(learning_rate=schedule(recipe), momentum=recipe.momentum)
    if recipe.precision == "mixed_float16":
        return keras.optimizers.LossScaleOptimizer(sgd)
    return sgd
