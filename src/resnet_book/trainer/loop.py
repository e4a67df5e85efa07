"""The training loop on TensorFlow's distribution engine: one device, a machine, a cluster.

A ``tf.distribute`` strategy places a copy of the model on every replica (a GPU, or the CPU),
hands each replica its share of every global batch, and sums the replicas' gradients before the
update. The loop is written out, ``strategy.run`` inside a ``tf.function``, rather than left to
``model.fit``: it runs the same under every strategy, resumes at any step, and stops cleanly
when asked. Each replica adds its losses and errors to counters of its own, which are summed
over the replicas once per epoch, not at every step.

Used by the training tool (:mod:`resnet_book.trainer`); taught in
chapters/13-training-at-scale.ipynb.
"""

import dataclasses
import functools
import math
import time

from resnet_book import arguments
from resnet_book.backend import keras, tf
from resnet_book.trainer import checkpoints, pipeline, schedule

STRATEGIES = ("one-device", "mirrored", "multi-worker")
# One row per epoch, saved with every checkpoint; the first four are Keras' names. An epoch
# that was not evaluated (--eval-every) holds NaN in the evaluation's columns.
HISTORY = (
    "loss",
    "accuracy",
    "val_loss",
    "val_accuracy",
    "learning_rate",
    "iterations",
    "images_per_second",
    "seconds",
)
STEPS_PER_CALL = 20  # steps per compiled call: how often the loop looks for a stop request


@functools.cache
def distribution_strategy(name):
    """The ``tf.distribute`` strategy called ``name``, one per process.

    A process that trains twice reuses its strategy: two ``MirroredStrategy`` objects in one
    process number their collective operations alike, and the second one's reductions fail on
    the first one's shapes.

    Args:
        name: ``"one-device"``: the first GPU, or the CPU; ``"mirrored"``: every GPU of this
            machine, or every logical CPU device when there is no GPU; ``"multi-worker"``: the
            machines that the ``TF_CONFIG`` environment variable lists, every GPU of each.

    Raises:
        ValueError: If ``name`` is not one of ``STRATEGIES``, or is ``"multi-worker"`` after
            TensorFlow ran an operation in this process.
    """
    arguments.check_choice("--strategy", name, STRATEGIES)
    if name == "multi-worker":  # first: it must configure TensorFlow before it starts
        try:
            return tf.distribute.MultiWorkerMirroredStrategy()
        except RuntimeError:  # "Collective ops must be configured at program startup"
            arguments.reject(
                "--strategy",
                name,
                "chosen before TensorFlow's first operation in this process "
                "(start a fresh process)",
            )
    gpus = [device.name for device in tf.config.list_logical_devices("GPU")]
    if name == "one-device":
        return tf.distribute.OneDeviceStrategy(gpus[0] if gpus else "/cpu:0")
    cpus = [device.name for device in tf.config.list_logical_devices("CPU")]
    return tf.distribute.MirroredStrategy(gpus or cpus)


def is_chief(strategy):
    """Whether this process is worker 0, which prints and writes; always so on one machine."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if "chief" in resolver.cluster_spec().as_dict():
        return resolver.task_type == "chief"
    return resolver.task_id == 0


def barrier(strategy):
    """Return once every replica has reached this point (an all-reduce of one number)."""
    strategy.reduce("SUM", strategy.run(lambda: tf.constant(1.0)), axis=None)


def gradients_and_sums(model, optimizer, global_batch, l2_decay):
    """One replica's gradients on its share of a batch, and its summed loss and errors.

    The optimiser sums the gradients of all replicas, so each replica divides its losses by the
    global batch (``compute_average_loss``) and its share of the L2 term by the number of
    replicas (``scale_regularization_loss``). The L2 term, ``l2_decay / 2`` times the squared
    weights, is the paper's weight decay: its gradient passes through the momentum. Under
    float16 the loss is scaled up before the gradients (``LossScaleOptimizer``).
    """
    scaled = isinstance(optimizer, keras.optimizers.LossScaleOptimizer)

    def compute(images, labels):
        with tf.GradientTape() as tape:
            probabilities = tf.cast(model(images, training=True), tf.float32)
            losses = keras.losses.sparse_categorical_crossentropy(labels, probabilities)
            squares = tf.add_n([tf.reduce_sum(tf.square(w)) for w in model.trainable_variables])
            loss = tf.nn.compute_average_loss(losses, global_batch_size=global_batch)
            loss += tf.nn.scale_regularization_loss(l2_decay / 2 * squares)
            if scaled:
                loss = optimizer.scale_loss(loss)
        gradients = tape.gradient(loss, model.trainable_variables)
        wrong = tf.cast(tf.argmax(probabilities, axis=-1) != labels, tf.float32)
        return gradients, tf.stack([tf.reduce_sum(losses), tf.reduce_sum(wrong)])

    return compute


def training_step(model, optimizer, global_batch, l2_decay, jit=False):
    """One replica's step: gradients (XLA-compiled with ``jit``), then the update.

    Returns:
        A function of ``(images, labels)`` that updates the weights and returns the summed
        loss and errors of the replica's share.
    """
    compute = gradients_and_sums(model, optimizer, global_batch, l2_decay)
    if jit:  # the update stays outside: it synchronises the replicas
        compute = tf.function(compute, jit_compile=True)

    def step(images, labels):
        gradients, sums = compute(images, labels)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        return sums

    return step


def evaluation_step(model):
    """One replica's count in inference mode: summed loss, errors and real (not padding) images."""

    def step(images, labels):
        probabilities = tf.cast(model(images, training=False), tf.float32)
        real = tf.cast(labels >= 0, tf.float32)
        labels = tf.maximum(labels, 0)
        losses = keras.losses.sparse_categorical_crossentropy(labels, probabilities)
        wrong = tf.cast(tf.argmax(probabilities, axis=-1) != labels, tf.float32)
        return tf.stack([tf.reduce_sum(sums) for sums in (losses * real, wrong * real, real)])

    return step


def counters(strategy, size):
    """Per-replica sums: each replica adds to its own copy; reading one sums the copies."""
    with strategy.scope():
        return tf.Variable(
            tf.zeros([size], tf.float64),
            trainable=False,
            synchronization=tf.VariableSynchronization.ON_READ,
            aggregation=tf.VariableAggregation.SUM,
        )


def accumulating(strategy, step, totals):
    """``step`` compiled to run ``steps`` times on every replica, adding its sums to ``totals``."""

    def add(images, labels):
        totals.assign_add(tf.cast(step(images, labels), tf.float64))

    @tf.function
    def run(iterator, steps):
        for _ in tf.range(steps):
            strategy.run(add, args=next(iterator))

    return run


def statistics_averaging(strategy, model):
    """A compiled function that gives every replica the mean of BatchNorm's moving statistics.

    Keras lets each replica update its own copy of the moving mean and variance from its own
    share of the batch; with ``--sync-batchnorm`` the copies agree anyway. Averaged before every
    evaluation and checkpoint at an epoch's end, all replicas evaluate the same model.
    """

    def average():
        context = tf.distribute.get_replica_context()
        for variable in model.non_trainable_variables:
            variable.assign(context.all_reduce("MEAN", tf.identity(variable.value)))

    @tf.function
    def run():
        strategy.run(average)

    return run


def initial_state(strategy, build_model, recipe):
    """What a checkpoint holds: model, optimiser, curves, steps done, and the epoch's sums."""
    with strategy.scope():
        model = build_model()
        optimizer = schedule.optimizer(recipe)
        optimizer.build(model.trainable_variables)
        state = {
            "model": model,
            "optimizer": optimizer,
            "history": tf.Variable(tf.zeros([recipe.num_epochs, len(HISTORY)], tf.float64)),
            "iterations_done": tf.Variable(0, dtype=tf.int64),
        }
    return {**state, "totals": counters(strategy, 2)}


def evaluator(strategy, model, dataset, global_batch):
    """A function of a split, ``"train"`` or ``"test"``: its loss and error in inference mode."""
    totals = counters(strategy, 3)
    count = accumulating(strategy, evaluation_step(model), totals)
    batches = {
        split: strategy.distribute_datasets_from_function(
            functools.partial(pipeline.evaluation_batches, dataset, split, global_batch)
        )
        for split in ("train", "test")
    }

    def evaluate(split):
        totals.assign(tf.zeros([3], tf.float64))
        steps = math.ceil(len(getattr(dataset, split)[1]) / global_batch)
        count(iter(batches[split]), tf.constant(steps))
        loss, errors, images = totals.read_value().numpy()
        return float(loss / images), float(errors / images)

    return evaluate


class StoppedError(Exception):
    """Training stopped on request after saving a checkpoint; the same command resumes it."""


@dataclasses.dataclass
class Trained:
    """A finished run: its curves by name (``HISTORY``), its final figures, its model."""

    history: dict
    final: dict
    model: object


@dataclasses.dataclass(frozen=True)
class Cadence:
    """How often, in epochs, a run evaluates and checkpoints; the last epoch does both."""

    eval_every: int = 1
    checkpoint_every: int = 1

    def due(self, every, epoch, num_epochs):
        """Whether the epoch numbered ``epoch`` (0 for the first) is one to act on."""
        return (epoch + 1) % every == 0 or epoch + 1 == num_epochs


def fit(
    strategy,
    build_model,
    dataset,
    recipe,
    checkpoint_dir,
    *,
    on_epoch=None,
    cadence=Cadence(),
    stop=None,
):
    """Train under ``strategy``, resuming from ``checkpoint_dir``; keep the checkpoints.

    Args:
        strategy: A ``tf.distribute.Strategy``.
        build_model: A function of no arguments that returns the Keras model.
        dataset: A :class:`~resnet_book.trainer.datasets.DataSet`.
        recipe: A :class:`~resnet_book.trainer.recipe.Recipe`.
        checkpoint_dir: The folder of the checkpoints; the caller deletes it once the
            results are safe.
        on_epoch: Called on worker 0 after each epoch with its number (0 for the first) and
            its row of the curves, by name.
        cadence: A :class:`Cadence`.
        stop: A :class:`~resnet_book.trainer.checkpoints.StopRequest`, looked at every
            ``STEPS_PER_CALL`` steps.

    Returns:
        A :class:`Trained`; its final figures are the training and test loss and error
        measured after training in inference mode (``"train_loss"``, ...).

    Raises:
        StoppedError: After saving a checkpoint, if ``stop`` was requested.
        checkpoints.OtherRunError: If ``checkpoint_dir`` holds another run's checkpoints.
    """
    batch, per_epoch = recipe.batch_size, recipe.steps_per_epoch
    state = initial_state(strategy, build_model, recipe)
    saved = checkpoints.Checkpoints(checkpoint_dir, is_chief(strategy), recipe.identity(), **state)
    saved.restore()
    model, optimizer, history = state["model"], state["optimizer"], state["history"]
    totals, done = state["totals"], int(state["iterations_done"].numpy())
    # Checkpoints are saved at an epoch's end or, on a stop request, within an epoch.
    first_epoch = recipe.num_epochs if done >= recipe.iterations else done // per_epoch
    seed = tf.constant(recipe.seed, tf.int64)
    batches = iter(
        strategy.distribute_datasets_from_function(
            lambda context: pipeline.training_batches(
                dataset, batch, seed, done // per_epoch, context, done % per_epoch
            )
        )
    )
    step = training_step(model, optimizer, batch, recipe.l2_decay, recipe.jit)
    train = accumulating(strategy, step, totals)
    evaluate = evaluator(strategy, model, dataset, batch)
    average_statistics = statistics_averaging(strategy, model)
    rate = schedule.schedule(recipe)
    for epoch in range(first_epoch, recipe.num_epochs):
        start, first = time.perf_counter(), done
        end = min((epoch + 1) * per_epoch, recipe.iterations)
        while done < end:
            steps = min(STEPS_PER_CALL, end - done)
            train(batches, tf.constant(steps))
            done += steps
            state["iterations_done"].assign(done)
            if stop is not None and stop.requested and done < end:  # mid-epoch
                saved.save()
                raise StoppedError(f"stopped after iteration {done}")
        seconds = time.perf_counter() - start
        loss, errors = totals.read_value().numpy() / ((end - epoch * per_epoch) * batch)
        totals.assign(tf.zeros([2], tf.float64))
        average_statistics()
        test_loss, test_error = math.nan, math.nan
        if cadence.due(cadence.eval_every, epoch, recipe.num_epochs):
            test_loss, test_error = evaluate("test")
        row = {
            "loss": loss,
            "accuracy": 1 - errors,
            "val_loss": test_loss,
            "val_accuracy": 1 - test_error,
            "learning_rate": float(rate(epoch * per_epoch)),  # at the epoch's start
            "iterations": done,
            "images_per_second": (done - first) * batch / seconds,
            "seconds": time.perf_counter() - start,
        }
        history[epoch].assign([row[name] for name in HISTORY])
        if cadence.due(cadence.checkpoint_every, epoch, recipe.num_epochs) or (
            stop is not None and stop.requested
        ):
            saved.save()
        if on_epoch is not None and saved.chief:
            on_epoch(epoch, row)
        if stop is not None and stop.requested and done < recipe.iterations:
            raise StoppedError(f"stopped after iteration {done}")
    final = {
        f"{split}_{name}": value
        for split in ("train", "test")
        for name, value in zip(("loss", "error"), evaluate(split), strict=True)
    }
    curves = {name: history.numpy()[:, column].tolist() for column, name in enumerate(HISTORY)}
    return Trained(curves, final, model)
