"""Training on TensorFlow's distribution engine: one loop for one device, a machine, a cluster.

A ``tf.distribute`` strategy places a copy of the model on every replica (a GPU, or the CPU),
hands each replica its share of every global batch, and sums the replicas' gradients before the
update. The loop here is written out, ``strategy.run`` inside a ``tf.function``, rather than left
to ``model.fit``, which fails under ``MultiWorkerMirroredStrategy`` with the pinned Keras
(keras-team/keras#20585). Written out, the loop runs the same under every strategy, and
checkpoints and resumes with ``tf.train.CheckpointManager``.

Used by the training tool; taught in chapters/13-training-at-scale.ipynb.
"""

import functools
import json
import math
import pathlib
import shutil
import time

from resnet_book import arguments, pipeline, training
from resnet_book.backend import keras, tf

STRATEGIES = ("one-device", "mirrored", "multi-worker")
# One row per epoch, saved with every checkpoint; the first four are Keras' names.
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
# Recipe entries that say where a run trains rather than what it is: they may change on resuming.
PLACEMENT = ("strategy", "replicas", "deterministic")


@functools.cache
def distribution_strategy(name):
    """The ``tf.distribute`` strategy called ``name``, one per process.

    A process that trains twice reuses its strategy: two ``MirroredStrategy``
    objects in one process number their collective operations alike, and the
    second one's reductions fail on the first one's shapes.

    Args:
        name: ``"one-device"``: the first GPU, or the CPU; ``"mirrored"``:
            ``MirroredStrategy`` over every GPU of this machine, or every
            logical CPU device when there is no GPU; ``"multi-worker"``:
            ``MultiWorkerMirroredStrategy`` over the machines that the
            ``TF_CONFIG`` environment variable lists, every GPU of each.

    Returns:
        A ``tf.distribute.Strategy``.

    Raises:
        ValueError: If ``name`` is not one of ``STRATEGIES``, or is
            ``"multi-worker"`` after TensorFlow ran an operation in this process.
    """
    arguments.check_choice("strategy", name, STRATEGIES)
    if name == "multi-worker":  # first: it must configure TensorFlow before it starts
        try:
            return tf.distribute.MultiWorkerMirroredStrategy()
        except RuntimeError:  # "Collective ops must be configured at program startup"
            arguments.reject(
                "strategy",
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


def training_step(model, optimizer, global_batch, weight_decay):
    """One replica's step on its share of the batch: loss, L2 term, gradients, update.

    The optimiser sums the gradients of all replicas, so each replica divides
    its losses by the global batch (``compute_average_loss``) and its share of
    the L2 term by the number of replicas (``scale_regularization_loss``). The
    L2 term, ``weight_decay / 2`` times the squared weights, is the paper's
    weight decay: its gradient passes through the momentum, unlike that of
    Keras' ``weight_decay`` option.

    Returns:
        A function of ``(images, labels)`` returning the summed loss and errors.
    """

    def step(images, labels):
        with tf.GradientTape() as tape:
            probabilities = model(images, training=True)
            losses = keras.losses.sparse_categorical_crossentropy(labels, probabilities)
            squares = tf.add_n([tf.reduce_sum(tf.square(w)) for w in model.trainable_variables])
            loss = tf.nn.compute_average_loss(losses, global_batch_size=global_batch)
            loss += tf.nn.scale_regularization_loss(weight_decay / 2 * squares)
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        wrong = tf.cast(tf.argmax(probabilities, axis=-1) != labels, tf.float32)
        return tf.stack([tf.reduce_sum(losses), tf.reduce_sum(wrong)])

    return step


def evaluation_step(model):
    """One replica's count in inference mode: summed loss, errors and real (not padding) images."""

    def step(images, labels):
        probabilities = model(images, training=False)
        real = tf.cast(labels >= 0, tf.float32)
        labels = tf.maximum(labels, 0)
        losses = keras.losses.sparse_categorical_crossentropy(labels, probabilities)
        wrong = tf.cast(tf.argmax(probabilities, axis=-1) != labels, tf.float32)
        return tf.stack([tf.reduce_sum(sums) for sums in (losses * real, wrong * real, real)])

    return step


def repeated(strategy, step, num_totals):
    """``step`` compiled to run ``steps`` times on every replica, its totals summed over all."""

    @tf.function
    def run(iterator, steps):
        totals = tf.zeros([num_totals])
        for _ in tf.range(steps):
            totals += strategy.reduce("SUM", strategy.run(step, args=next(iterator)), axis=None)
        return totals

    return run


def statistics_averaging(strategy, model):
    """A compiled function that gives every replica the mean of BatchNorm's moving statistics.

    Keras lets each replica update its own copy of the moving mean and variance
    from its own share of the batch; with ``sync_batchnorm`` the copies agree
    anyway. Averaged before every evaluation and checkpoint, all replicas
    evaluate the same model, and a checkpoint holds it.
    """

    def average():
        context = tf.distribute.get_replica_context()
        for variable in model.non_trainable_variables:
            variable.assign(context.all_reduce("MEAN", tf.identity(variable.value)))

    @tf.function
    def run():
        strategy.run(average)

    return run


class OtherRunError(ValueError):
    """The checkpoint folder holds the checkpoints of a run with another recipe."""


class Checkpoints:
    """The state of a run after every epoch, on disk; the last one read back at the start.

    Saving is collective under ``MultiWorkerMirroredStrategy``: every worker
    saves, worker 0 into ``folder`` and the others into a scratch folder they
    delete again, and every worker restores from ``folder``, which must be on
    storage that all of them read.
    """

    def __init__(self, folder, strategy, run, **state):
        self.folder = pathlib.Path(folder)
        self.chief = is_chief(strategy)
        worker = "" if self.chief else f"worker-{strategy.cluster_resolver.task_id}"
        self.written = self.folder / worker
        self.checkpoint = tf.train.Checkpoint(**state)
        self.manager = tf.train.CheckpointManager(self.checkpoint, self.written, max_to_keep=1)
        self.run = run

    def restore(self):
        """Load the last checkpoint, if any.

        Raises:
            OtherRunError: If the checkpoints belong to a run with another recipe.
        """
        latest = tf.train.latest_checkpoint(self.folder)
        if latest is None:
            return
        record = self.folder / "run.json"
        saved = json.loads(record.read_text()) if record.exists() else {}
        if saved != self.run:
            changed = sorted(
                key for key in saved.keys() | self.run.keys() if saved.get(key) != self.run.get(key)
            )
            raise OtherRunError(
                f"{self.folder} holds the checkpoints of another run (it differs in {changed}); "
                "delete the folder, or choose another --checkpoint-dir or --out"
            )
        self.checkpoint.restore(latest).assert_existing_objects_matched()

    def save(self):
        """Save the state; worker 0 also records what the run is."""
        if self.chief:
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / "run.json").write_text(json.dumps(self.run))
        self.manager.save()
        if not self.chief:
            shutil.rmtree(self.written, ignore_errors=True)

    def delete(self):
        """Remove the checkpoints of a finished run (worker 0's task)."""
        if self.chief:
            shutil.rmtree(self.folder, ignore_errors=True)


def epoch_line(epoch, recipe, values):
    """The line printed after an epoch: its curves' values, errors rather than accuracies."""
    test = "validation" if recipe["validation"] else "test"
    return (
        f"epoch {epoch + 1}/{recipe['num_epochs']} (iteration {values['iterations']}): "
        f"loss {values['loss']:.4f}, error {1 - values['accuracy']:.4f}, "
        f"{test} loss {values['val_loss']:.4f}, {test} error {1 - values['val_accuracy']:.4f}, "
        f"learning rate {values['learning_rate']:.4g}, {values['images_per_second']:.0f} images/s"
    )


def initial_state(strategy, build_model, recipe):
    """What a checkpoint holds: the model, the optimiser, the curves, the epochs done.

    The optimiser is :func:`resnet_book.training.sgd_step_schedule` without
    Keras' weight decay: the L2 term is in :func:`training_step`.
    """
    with strategy.scope():
        model = build_model()
        iterations = recipe["iterations"]
        optimizer = training.sgd_step_schedule(
            recipe["learning_rate"],
            iterations,
            weight_decay=0,
            milestones=[milestone / iterations for milestone in recipe["milestones"]],
            warmup=recipe["warmup_iterations"] / iterations,
            ramp_from=recipe.get("warmup_ramp_from"),
        )
        optimizer.build(model.trainable_variables)
    return {
        "model": model,
        "optimizer": optimizer,
        "history": tf.Variable(tf.zeros([recipe["num_epochs"], len(HISTORY)], tf.float64)),
        "epochs_done": tf.Variable(0, dtype=tf.int64),
    }


def evaluator(strategy, model, dataset, global_batch):
    """A function of a split, ``"train"`` or ``"test"``: its loss and error in inference mode."""
    count = repeated(strategy, evaluation_step(model), 3)

    def distributed(split):
        return strategy.distribute_datasets_from_function(
            lambda context: pipeline.evaluation_batches(dataset, split, global_batch, context)
        )

    batches = {split: distributed(split) for split in ("train", "test")}

    def evaluate(split):
        steps = math.ceil(len(dataset[split][1]) / global_batch)
        loss, errors, images = count(iter(batches[split]), tf.constant(steps)).numpy()
        return float(loss / images), float(errors / images)

    return evaluate


def fit(strategy, build_model, dataset, recipe, checkpoint_dir, log=print):
    """Train under ``strategy``, an epoch at a time, resuming from ``checkpoint_dir``.

    Args:
        strategy: A ``tf.distribute.Strategy``.
        build_model: A function of no arguments that returns the Keras model.
        dataset: A data set, as :mod:`resnet_book.pipeline` reads it.
        recipe: What :func:`resnet_book.train.make_recipe` returns.
        checkpoint_dir: The folder of the checkpoints, deleted at the end.
        log: Called on worker 0 with each epoch's line.

    Returns:
        ``(history, final, model)``: the curves by name (``HISTORY``), the
        training and test loss and error measured after training in inference
        mode, by name (``"train_loss"``, ...), and the model.
    """
    batch, per_epoch = recipe["batch_size"], recipe["steps_per_epoch"]
    state = initial_state(strategy, build_model, recipe)
    run = {key: value for key, value in recipe.items() if key not in PLACEMENT}
    checkpoints = Checkpoints(checkpoint_dir, strategy, run, **state)
    checkpoints.restore()
    model, optimizer, history = state["model"], state["optimizer"], state["history"]
    first_epoch, seed = int(state["epochs_done"].numpy()), tf.constant(recipe["seed"], tf.int64)
    batches = iter(
        strategy.distribute_datasets_from_function(
            lambda context: pipeline.training_batches(dataset, batch, seed, first_epoch, context)
        )
    )
    train = repeated(strategy, training_step(model, optimizer, batch, recipe["weight_decay"]), 2)
    evaluate = evaluator(strategy, model, dataset, batch)
    average_statistics = statistics_averaging(strategy, model)
    for epoch in range(first_epoch, recipe["num_epochs"]):
        start, learning_rate = time.perf_counter(), float(optimizer.learning_rate)
        steps = min(per_epoch, recipe["iterations"] - epoch * per_epoch)
        loss, errors = train(batches, tf.constant(steps)).numpy() / (steps * batch)
        seconds = time.perf_counter() - start
        average_statistics()
        test_loss, test_error = evaluate("test")
        values = {
            "loss": loss,
            "accuracy": 1 - errors,
            "val_loss": test_loss,
            "val_accuracy": 1 - test_error,
            "learning_rate": learning_rate,
            "iterations": epoch * per_epoch + steps,
            "images_per_second": steps * batch / seconds,
            "seconds": time.perf_counter() - start,
        }
        history[epoch].assign([values[name] for name in HISTORY])
        state["epochs_done"].assign(epoch + 1)
        checkpoints.save()
        if checkpoints.chief:
            log(epoch_line(epoch, recipe, values))
    final = {
        f"{split}_{name}": value
        for split in ("train", "test")
        for name, value in zip(("loss", "error"), evaluate(split), strict=True)
    }
    curves = {name: history.numpy()[:, column].tolist() for column, name in enumerate(HISTORY)}
    checkpoints.delete()
    return curves, final, model
