"""BatchNorm at small batches, for chapter 13: writes results/normalisation.json.

ResNet-20 on the 16x16 digits, normalised three ways (``resnet_book.models.cifar_resnet``'s
``norm``): BatchNorm, GroupNorm, and no normalisation with every branch's last convolution
starting at zero. Each trains for the same number of epochs at batch sizes 1, 2, 8 and 64, with
the learning rate scaled with the batch (``BASE_RATE * batch / 64``, Goyal et al.'s linear rule),
for several seeds. The test error is measured as a deployed network computes it (inference mode:
BatchNorm uses its moving averages, with the book's momentum of 0.9), and for BatchNorm twice more:
with each test batch of the training batch size normalised by its own statistics, as in
training, and with statistics recomputed over the whole training split after training
(``resnet_book.paths.recalibrate``), pooled over all images and positions at once. That removes
the noise of the moving averages but also changes what is estimated (the pooled variance includes
the spread between images' means), so it does not isolate the noise. About 30 minutes on 2 cores
(1,839 s for the stored file).

Usage: python experiments/normalisation.py [--seeds 0 1 2] [--epochs 10] [--jobs 2]
"""

import time

import runs

NORMS = ["batch", "group", "none"]
BATCH_SIZES = [1, 2, 8, 64]
BASE_RATE = 0.05  # at batch 64; one rate for all three, so that no normaliser is tuned


def train(norm, batch_size, seed, num_epochs):
    """Train one network; return its errors and its test-error curve."""
    import numpy as np

    from resnet_book import data, models, paths, set_seed, training

    train_data, (x_test, y_test) = data.digits_images(size=16)
    set_seed(seed)
    model = models.cifar_resnet(20, input_shape=x_test.shape[1:], norm=norm)
    rate = BASE_RATE * batch_size / 64
    history = training.train(
        model,
        train_data,
        (x_test, y_test),
        num_epochs,
        batch_size=batch_size,
        learning_rate=rate,
        warmup=runs.RECIPE["warmup"],
        verbose=False,
    )
    _, train_accuracy = model.evaluate(*train_data, verbose=0)
    _, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    # The same weights with every statistic taken from the batch: test images in batches of the
    # training size, in order (the last one smaller where the size does not divide 360). The
    # moving averages are read before: a call in training mode updates them.
    batches = range(0, len(x_test), batch_size)
    predicted = np.concatenate(
        [np.argmax(model(x_test[i : i + batch_size], training=True), axis=1) for i in batches]
    )
    record = {
        "norm": norm,
        "batch_size": batch_size,
        "seed": seed,
        "learning_rate": rate,
        "num_epochs": num_epochs,
        "train_error": round(1 - train_accuracy, 6),
        "test_error": round(1 - test_accuracy, 6),
        "test_error_batch_statistics": round(float(np.mean(predicted != y_test)), 6),
        "test_error_by_epoch": [round(1 - value, 6) for value in history["val_accuracy"]],
    }
    if norm == "batch":  # the same weights with the statistics of the whole training split
        statistics = paths.recalibrate(model, train_data[0])
        predicted = np.argmax(paths.forward(model, x_test, (), statistics), axis=1)
        record["test_error_recomputed_statistics"] = round(float(np.mean(predicted != y_test)), 6)
    print(
        f"{norm} batch {batch_size} seed {seed}: test error {record['test_error']:.3f} "
        f"({record['test_error_batch_statistics']:.3f} with batch statistics)",
        flush=True,
    )
    return record


def main():
    """Train every combination and write the file."""
    args = runs.command_line(
        __doc__.splitlines()[0], runs.SEEDS, ("--epochs", {"type": int, "default": 10})
    )
    start = time.perf_counter()
    # The slowest runs (batch 1) first, so that the pool ends together.
    tasks = [
        (norm, batch_size, seed, args.epochs)
        for batch_size in BATCH_SIZES
        for norm in NORMS
        for seed in args.seeds
    ]
    record = {
        "data": runs.DATA,
        "network": "resnet-20",
        "base_rate": BASE_RATE,
        "recipe": {  # the rate is base_rate x batch / 64, not the recipe's
            key: value
            for key, value in runs.RECIPE.items()
            if key not in ("batch_size", "learning_rate")
        },
        "runs": runs.run_all(tasks, args.jobs, train),
    }
    runs.write_record(__file__, record, start)


if __name__ == "__main__":
    main()
