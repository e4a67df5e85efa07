"""Blocks deleted from the trained networks of chapter 11: writes results/lesion.json.

For plain-56 and ResNet-56 as trained by experiments/trained.py (run that first): the test error
with each block deleted alone, and for ResNet-56 with random sets of several blocks deleted at
once (20 sets of each size, seed 0). Every error is measured twice: with BatchNorm's statistics as
stored in training, and with statistics recomputed on the first 512 training images without the
deleted blocks (``resnet_book.paths.recalibrate``; no weight or label is used). About 3 minutes on
2 cores.

Usage: python experiments/lesion.py [--jobs 2]
"""

import time

import runs
import trained

IMAGES = 512
SIZES = [1, 2, 3, 4, 6, 8, 10]
SETS = 20


def errors(network, deletions):
    """Test errors of ``network`` without each set of ``deletions``, both kinds of statistics."""
    import numpy as np

    from resnet_book import data, paths, results

    (x_train, _), (x_test, y_test) = data.digits_images(size=16)
    model = runs.build(network, x_test.shape[1:])
    results.load_weights(model, trained.WEIGHTS / f"{network}.npz")

    def error(deleted, statistics=None):
        predicted = np.argmax(paths.forward(model, x_test, deleted, statistics), axis=1)
        return round(float(np.mean(predicted != y_test)), 6)

    measured = {"stored statistics": [], "recomputed statistics": []}
    for deleted in deletions:
        measured["stored statistics"].append(error(deleted))
        statistics = paths.recalibrate(model, x_train[:IMAGES], deleted)
        measured["recomputed statistics"].append(error(deleted, statistics))
    return measured


def plan():
    """Every task as (network, list of deleted sets), with the sets of blocks themselves."""
    import numpy as np

    from resnet_book import models, paths

    blocks = paths.block_names(models.cifar_resnet(56, input_shape=(16, 16, 1)))
    rng = np.random.default_rng(0)
    sets = [
        sorted(rng.choice(blocks, size, replace=False).tolist())
        for size in SIZES
        for _ in range(SETS)
    ]
    singles = [[block] for block in blocks]
    tasks = [("resnet-56", sets), ("plain-56", singles), ("resnet-56", singles)]
    return blocks, sets, tasks


def main():
    """Measure every deletion and write the file."""
    args = runs.command_line(__doc__.splitlines()[0])
    start = time.perf_counter()
    blocks, sets, tasks = plan()
    measured = runs.run_all(tasks, args.jobs, errors)
    record = {
        "data": f"{runs.DATA}; statistics recomputed on the first {IMAGES} training images",
        "weights": "results/weights/NETWORK.npz from experiments/trained.py",
        "blocks": blocks,
        "single": {"plain-56": measured[1], "resnet-56": measured[2]},
        "sets": {"resnet-56": {"deleted": sets, **measured[0]}},
    }
    runs.write_record(__file__, record, start)


if __name__ == "__main__":
    main()
