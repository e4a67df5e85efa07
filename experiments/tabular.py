"""Residual units on a table, for chapter 10: writes results/tabular.json.

scikit-learn's breast-cancer table (569 rows, 30 columns, ``resnet_book.data.breast_cancer_table``)
classified by ``resnet_book.models.tabular_net`` at several depths, three ways: with residual units
in the original block's form, ReLU(x + W2 ReLU(W1 x)) (``resnet_book.models.residual_unit``, not
Deep Crossing's own unit), their second layer starting at zero; with the same units started at
He's scale; and as the plain twin, without additions. The same recipe for all (SGD with
momentum, batch 32, 40 epochs), several seeds, and logistic regression on the same split as the
baseline. About 4 minutes on 2 cores.

Usage: python experiments/tabular.py [--seeds 0 1 2] [--jobs 2]
"""

import math
import time

import runs

UNITS = [1, 4, 16, 64]
VARIANTS = {  # name: (residual, branch_init)
    "residual": (True, "zeros"),
    "residual, He-initialised branches": (True, "he_normal"),
    "plain": (False, "he_normal"),
}
RECIPE = {
    "optimizer": "SGD",
    "learning_rate": 0.01,
    "momentum": 0.9,
    "batch_size": 32,
    "num_epochs": 40,
}


def train(variant, num_units, seed):
    """Train one network; return its losses and errors (None where the loss overflowed)."""
    import keras

    from resnet_book import data, models, set_seed

    (x_train, y_train), (x_test, y_test) = data.breast_cancer_table()
    set_seed(seed)
    residual, branch_init = VARIANTS[variant]
    model = models.tabular_net(
        x_train.shape[1], num_units, residual=residual, branch_init=branch_init
    )
    model.compile(
        keras.optimizers.SGD(RECIPE["learning_rate"], momentum=RECIPE["momentum"]),
        "binary_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(
        x_train, y_train, batch_size=RECIPE["batch_size"], epochs=RECIPE["num_epochs"], verbose=0
    )
    train_loss, train_accuracy = model.evaluate(x_train, y_train, verbose=0)
    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)

    def finite(value):
        return round(value, 6) if math.isfinite(value) else None

    record = {
        "variant": variant,
        "num_units": num_units,
        "layers": 2 * num_units + 2,
        "seed": seed,
        "first_epoch_loss": finite(history.history["loss"][0]),
        "train_loss": finite(train_loss),
        "train_error": round(1 - train_accuracy, 6),
        "test_error": round(1 - test_accuracy, 6),
    }
    print(
        f"{variant}, {num_units} units, seed {seed}: train loss {record['train_loss']}, "
        f"test error {record['test_error']:.3f}",
        flush=True,
    )
    return record


def baseline():
    """Logistic regression's test error on the same split."""
    from sklearn.linear_model import LogisticRegression

    from resnet_book import data

    (x_train, y_train), (x_test, y_test) = data.breast_cancer_table()
    classifier = LogisticRegression(max_iter=1000).fit(x_train, y_train)
    return round(1 - classifier.score(x_test, y_test), 6)


def main():
    """Train every combination and write the file."""
    args = runs.command_line(__doc__.splitlines()[0], runs.SEEDS)
    start = time.perf_counter()
    tasks = [
        (variant, units, seed)
        for units in reversed(UNITS)
        for variant in VARIANTS
        for seed in args.seeds
    ]
    record = {
        "data": "scikit-learn breast cancer, 426 train / 143 test, standardised",
        "recipe": RECIPE,
        "width": 64,
        "logistic_regression_test_error": baseline(),
        "runs": runs.run_all(tasks, args.jobs, train),
    }
    runs.write_record(__file__, record, start)


if __name__ == "__main__":
    main()
