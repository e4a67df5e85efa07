"""The paper's CIFAR-10 recipe (section 4.2) as a typed :class:`Recipe`, scaled to the batch.

:func:`make_recipe` turns the command's options into the numbers a run uses, and checks every
value, given or derived, in the command's own terms (``--warmup-iterations``, not a Python
name). It needs only the size of the training set, so the command calls it before any data
loads. Taught in chapters/13-training-at-scale.ipynb.
"""

import dataclasses
import math

from resnet_book import arguments

# The paper's CIFAR-10 recipe, stated for its batch of 128 images.
PAPER = {
    "batch_size": 128,
    "learning_rate": 0.1,
    "momentum": 0.9,
    "l2_decay": 1e-4,
    "iterations": 64_000,
    "milestones": (0.5, 0.75),
    "warmup_iterations": 400,
    "warmup_depth": 110,
}
RAMP_EPOCHS = 5  # Goyal et al.'s gradual warm-up
SMALL_DATA_EPOCHS = 20  # digits and mnist1d, as in the book's degradation experiment
PAPER_DATA = ("cifar10", "synthetic")  # the data sets that get the paper's iteration counts
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
# Fields that say where and how fast a run trains rather than what it computes: they may
# change when a run resumes from its checkpoints.
PLACEMENT = ("strategy", "replicas", "deterministic", "jit")


@dataclasses.dataclass(frozen=True)
class Recipe:
    """Everything that decides what a run computes, resolved to numbers.

    ``l2_decay`` is the coefficient of an L2 term ``l2_decay / 2 * sum(w ** 2)`` in the loss,
    whose gradient passes through the momentum (the paper's weight decay). It is not Keras'
    decoupled ``weight_decay`` that :func:`resnet_book.training.sgd_step_schedule` uses.
    Counts are optimiser steps; ``milestones`` are the steps after which the rate is divided by
    ten; the first ``warmup_iterations`` steps train at a tenth of the rate, or, with
    ``warmup_ramp_from``, at a rate rising linearly from it.
    """

    network: str
    depth: int
    block: str
    shortcut: str | None
    width: int
    data: str
    validation: bool
    batch_size: int
    learning_rate: float
    base_learning_rate: float
    momentum: float
    l2_decay: float
    iterations: int
    milestones: tuple[int, ...]
    warmup_iterations: int
    warmup_ramp_from: float | None
    steps_per_epoch: int
    num_epochs: int
    seed: int
    sync_batchnorm: bool
    precision: str
    jit: bool
    deterministic: bool
    strategy: str
    replicas: int

    def identity(self):
        """The fields that must match for a run to resume from another's checkpoints."""
        return {k: v for k, v in self.as_dict().items() if k not in PLACEMENT}

    def as_dict(self):
        """The recipe as a JSON-ready dictionary (tuples as lists)."""
        return {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in dataclasses.asdict(self).items()
        }


def flag(name):
    """The command-line option of a recipe field: ``batch_size`` -> ``--batch-size``."""
    return "--" + name.replace("_", "-")


def global_batch(batch_size, replicas, num_train=None):
    """``--batch-size``, or 128 images per replica; ValueError if it does not split evenly."""
    batch = PAPER["batch_size"] * replicas if batch_size is None else batch_size
    arguments.check_integer("--batch-size", batch, 1, num_train)
    if batch % replicas:
        arguments.reject("--batch-size", batch, f"a multiple of the {replicas} replicas")
    return batch


def run_length(options, data, steps_per_epoch, scale):
    """The run's optimiser steps: ``--iterations``, ``--epochs``, or the data set's default."""
    if options.iterations is not None:
        return arguments.check_integer("--iterations", options.iterations, 1)
    if options.epochs is not None:
        return arguments.check_integer("--epochs", options.epochs, 1) * steps_per_epoch
    if data in PAPER_DATA:
        return max(1, round(PAPER["iterations"] / scale))
    return SMALL_DATA_EPOCHS * steps_per_epoch


def warmup(options, batch, steps_per_epoch, milestone):
    """``(steps, ramp)``: the warm-up's length and whether it ramps, before step ``milestone``.

    Given, ``--warmup-iterations`` must end before the first division of the rate. Derived
    (5 epochs of ramp, or the paper's 400 steps scaled), the warm-up is cut short there. The
    ramp is on when the global batch exceeds the paper's 128, unless ``--no-warmup-ramp``.
    Without a ramp, the 400 steps go to the original block from depth 110 (He et al. 2016a,
    section 4.2) and to the pre-activation block at every depth ("for all CIFAR experiments",
    He et al. 2016c, appendix).
    """
    room = milestone - 1  # steps before the first division of the rate
    ramp = options.warmup_ramp
    if ramp is None:
        ramp = batch > PAPER["batch_size"]
    if options.warmup_iterations is not None:
        steps = arguments.check_integer(
            "--warmup-iterations",
            options.warmup_iterations,
            0,
            room,
            requirement=f"an integer in 0..{room}, to end before the run divides the rate "
            f"(after step {milestone})",
        )
    elif ramp:
        steps = min(RAMP_EPOCHS * steps_per_epoch, room)
    elif options.data in PAPER_DATA and (
        options.depth >= PAPER["warmup_depth"] or options.block == "v2"
    ):
        steps = min(round(PAPER["warmup_iterations"] * PAPER["batch_size"] / batch), room)
    else:
        steps = 0
    return steps, bool(ramp and steps)


def make_recipe(options, replicas, num_train):
    """The paper's recipe for this run: scaled to the global batch, counts resolved.

    The learning rate scales linearly with the global batch (Goyal et al. 2017), and the
    default step counts inversely, so that a run sees as many epochs at any scale.

    Args:
        options: The parsed command line (``command.build_parser``).
        replicas: How many replicas share each batch.
        num_train: The number of training images.

    Returns:
        A :class:`Recipe`.

    Raises:
        ValueError: Naming the option, if a value given or derived from it is out of range.
    """
    batch = global_batch(options.batch_size, replicas, num_train)
    scale = batch / PAPER["batch_size"]  # the linear scaling rule
    steps_per_epoch = num_train // batch
    iterations = run_length(options, options.data, steps_per_epoch, scale)
    milestones = tuple(max(1, round(m * iterations)) for m in PAPER["milestones"])
    warmup_steps, ramp = warmup(options, batch, steps_per_epoch, milestones[0])
    learning_rate = arguments.check_positive("--learning-rate", options.learning_rate)
    l2_decay = arguments.check_real("--weight-decay", options.weight_decay, 0)
    arguments.check_choice("--precision", options.precision, PRECISIONS)
    return Recipe(
        network=options.network,
        depth=options.depth,
        block=options.block,
        shortcut=None if options.network == "plain" else options.shortcut or "zero_pad",
        width=options.width,
        data=options.data,
        validation=options.validation,
        batch_size=batch,
        learning_rate=learning_rate * scale,
        base_learning_rate=learning_rate,
        momentum=PAPER["momentum"],
        l2_decay=l2_decay,
        iterations=iterations,
        milestones=milestones,
        warmup_iterations=warmup_steps,
        warmup_ramp_from=learning_rate / 10 if ramp else None,
        steps_per_epoch=steps_per_epoch,
        num_epochs=math.ceil(iterations / steps_per_epoch),
        seed=options.seed,
        sync_batchnorm=options.sync_batchnorm,
        precision=options.precision,
        jit=options.jit,
        deterministic=options.deterministic,
        strategy=options.strategy,
        replicas=replicas,
    )
