"""Chapter 12's run, recorded: every kernel before and after three epochs: results/kernels.json.

Plain-20 and plain-56 are trained once each (seed 0) on the 8x8 digits for three epochs at
chapter 7's main rate, with chapter 7's recipe (results/degradation.json: batch, warm-up, weight
decay) and the schedule squeezed into those epochs, as chapter 7's live run does. Before and
after training, and for ResNet-56 at initialisation only, the file keeps for every convolution and
the classifier (input side first) the loss gradient's norm on the first 128 training images, in
training mode (``resnet_book.measure.kernel_gradient_norms``), and the kernel's own norm. For the
plain networks it also keeps each kernel's first step, ``||W1 - W0|| / ||W0||``, and its growth
in that step, measured on the run's own first batch; the training loss of each epoch; the rate
at the end; and the trained plain-56's largest softmax output for each of the 128 images.

Why it is stored and not run in the chapter: after training, a deep plain network's single
kernels depend on the last bits of the arithmetic. With other vector instructions (NumPy's SIMD
and TensorFlow's oneDNN off, ``--as-other-processor``) plain-56 again barely learns, its first
stage again ends with the largest push and its rank correlation barely moves, but single kernels'
numbers, plain-20's correlation and the permutation test that chapter 12 builds on them differ.
Chapter 12
reads this one recorded run, so what it says of single kernels is a fact of this run on every
reader's machine. It runs in this process with TensorFlow's default threads, as a chapter does.
About 20 s on 2 cores.

``--as-other-processor`` runs the same in a fresh process with NumPy's vector instructions and
TensorFlow's oneDNN switched off (as ``make foreign-cpu`` runs the chapters), and writes
results/kernels-other-processor.json: chapter 12 compares the two records.

Usage: python experiments/kernels.py [--as-other-processor]
"""

import os
import subprocess
import sys
import time

import runs

NETWORKS = ("plain-20", "plain-56")
EPOCHS = 3
SEED = 0
SIZE = 8
MEASURED = 128  # training images the gradients are measured on


def build(network):
    """A fresh network from its name, from ``SEED``, for the 8x8 digits."""
    from resnet_book import models, set_seed

    kind, depth = network.split("-")
    set_seed(SEED)
    builder = models.cifar_resnet if kind == "resnet" else models.plain_net
    return builder(int(depth), input_shape=(SIZE, SIZE, 1))


def norms(model, x, y):
    """Per kernel, input side first: names, gradient norms and the kernels' own norms."""
    import numpy as np

    from resnet_book import measure

    names, gradients = measure.kernel_gradient_norms(model, x, y)
    lengths = [float(np.linalg.norm(model.get_layer(n).kernel.numpy())) for n in names]
    return {"names": names, "gradients": [float(g) for g in gradients], "kernels": lengths}


def train(network, recipe, x_train, y_train):
    """Train one plain network; its measurements before and after, first steps and losses."""
    import keras
    import numpy as np

    from resnet_book import training

    x_batch, y_batch = x_train[:MEASURED], y_train[:MEASURED]
    model = build(network)
    initial = norms(model, x_batch, y_batch)
    before = [model.get_layer(n).kernel.numpy() for n in initial["names"]]
    after_first = []

    def keep_first(batch, logs=None):  # every kernel just after the run's first step
        if not after_first:
            after_first.extend(model.get_layer(n).kernel.numpy() for n in initial["names"])

    whole = len(x_train) // recipe["batch_size"] * recipe["batch_size"]
    # the optimizer and the metric built before fit: the step compiles once, not twice
    model.compile(
        optimizer=training.sgd_step_schedule(
            recipe["learning_rate"],
            EPOCHS * whole // recipe["batch_size"],
            weight_decay=recipe["weight_decay"],
            warmup=recipe["warmup"],
        ),
        loss="sparse_categorical_crossentropy",
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    model.optimizer.build(model.trainable_variables)
    history = model.fit(
        x_train[:whole],
        y_train[:whole],
        batch_size=recipe["batch_size"],
        epochs=EPOCHS,
        verbose=0,
        callbacks=[keras.callbacks.LambdaCallback(on_train_batch_end=keep_first)],
    ).history
    pairs = list(zip(before, after_first, strict=True))
    trained = norms(model, x_batch, y_batch)
    probabilities = keras.ops.convert_to_numpy(model(x_batch, training=True))
    record = {
        "initial": initial,
        "trained": trained,
        "first_step": [float(np.linalg.norm(w1 - w0) / np.linalg.norm(w0)) for w0, w1 in pairs],
        "first_step_growth": [float(np.linalg.norm(w1) / np.linalg.norm(w0)) for w0, w1 in pairs],
        "loss": [float(loss) for loss in history["loss"]],
        "final_learning_rate": float(model.optimizer.learning_rate),
        "largest_probability": [float(p) for p in probabilities.max(axis=1)],
    }
    print(f"{network}: training loss by epoch {np.round(record['loss'], 3)}", flush=True)
    return record


def main():
    """Train and measure the plain networks, measure ResNet-56 at the start, write the file."""
    args = runs.command_line(
        __doc__.splitlines()[0],
        ("--as-other-processor", {"action": "store_true", "help": "see the module's note"}),
    )
    other = args.as_other_processor
    if other and os.environ.get("TF_ENABLE_ONEDNN_OPTS") != "0":
        from numpy._core._multiarray_umath import __cpu_dispatch__

        switched_off = {
            "NPY_DISABLE_CPU_FEATURES": " ".join(__cpu_dispatch__),
            "TF_ENABLE_ONEDNN_OPTS": "0",
        }
        sys.exit(
            subprocess.run([sys.executable, *sys.argv], env=os.environ | switched_off).returncode
        )
    start = time.perf_counter()
    from resnet_book import data, results, start_tensorflow

    start_tensorflow()
    stored = results.load(runs.ROOT / "results" / "degradation.json")
    recipe = {
        key: stored.recipe[key] for key in ("batch_size", "learning_rate", "weight_decay", "warmup")
    }
    (x_train, y_train), _ = data.digits_images(size=SIZE)
    networks = {network: train(network, recipe, x_train, y_train) for network in NETWORKS}
    x_batch, y_batch = x_train[:MEASURED], y_train[:MEASURED]
    networks["resnet-56"] = {"initial": norms(build("resnet-56"), x_batch, y_batch)}
    record = {
        "data": f"scikit-learn digits, {SIZE}x{SIZE}, "
        f"the first {MEASURED} training images measured",
        "recipe": {**recipe, "num_epochs": EPOCHS, "seed": SEED},
        "arithmetic": "NumPy's vector instructions and oneDNN off" if other else "native",
        "networks": networks,
    }
    runs.write_record(__file__, record, start, "kernels-other-processor.json" if other else None)


if __name__ == "__main__":
    main()
