"""Blocks deleted from, and paths through, the trained networks of chapter 11: results/lesion.json.

For plain-56 and ResNet-56 as trained by experiments/trained.py (run that first), for each seed
(0, 1 and 2 by default): the test error of the intact network, the test error with each block
deleted alone, and for ResNet-56 with random sets of several blocks deleted at once (20 sets of
each size, drawn once with NumPy seed 0, the same sets for every seed). Every error is measured
twice: with BatchNorm's statistics as stored in training, and with statistics recomputed on the
first 512 training images without the deleted blocks (``resnet_book.paths.recalibrate``; no
weight or label is used).

For ResNet-56 it also measures which paths carry the gradient (Veit et al. 2016;
``resnet_book.paths.path_gradient_norms``): for every length from 0 to 27 blocks, the same 64
training images (drawn with NumPy seed 0) each send their gradient along one random path of that
length (path seed 0), and the file keeps the mean and the median norm per length.

Each run also keeps, under "wrong images", which test images every measured network gets wrong:
the same parts, networks and statistics as the errors, each error replaced by the hexadecimal
string of a bitmask of the 360 test images (``resnet_book.results.image_mask``, read back by
``results.wrong_images``). The masks allow a paired test, such as
McNemar's, of a deletion against the intact network.

The file holds the blocks, the sets, the SHA-256 of the weights measured (``trained.digest``),
and one entry per seed under "runs". ``--reuse results/lesion.json`` keeps the measurements of
that file whose weights are unchanged (the same SHA-256; training is deterministic on one machine)
and measures only the rest. Without it, about 3 minutes for seed 0 on 2 free cores of an AMD EPYC
and about 1 more for each other seed; all three seeds took 10 to 18 minutes on 2 cores of an
Intel Xeon shared with other work (December 2026).

The sets of several blocks are deleted from the networks of the seeds of ``--sets-seeds`` only,
seed 0 by default: they cost three times as much as the rest of a seed together.

Usage: python experiments/lesion.py [--seeds 0 1 2] [--sets-seeds 0] [--reuse FILE] [--jobs 2]
"""

import json
import pathlib
import time

import runs
import trained

IMAGES = 512
PATH_IMAGES = 64
SIZES = [1, 2, 3, 4, 6, 8, 10]
SETS = 20
MODES = ("stored statistics", "recomputed statistics")
PARTS = ("intact", "single", "sets", "path gradients")
MASKED = ("intact", "single", "sets")


def errors(network, seed, deletions):
    """Test errors of ``network`` (trained with ``seed``) without each set of ``deletions``.

    Returns the errors and the masks of the wrong test images (``results.image_mask``), by mode.
    """
    import numpy as np

    from resnet_book import data, paths, results

    (x_train, _), (x_test, y_test) = data.digits_images(size=16)
    model = runs.build(network, x_test.shape[1:])
    results.load_weights(model, trained.weights(network, seed))

    def error(mode, deleted, statistics=None):
        predicted = np.argmax(paths.forward(model, x_test, deleted, statistics), axis=1)
        measured[mode].append(round(float(np.mean(predicted != y_test)), 6))
        wrong[mode].append(results.image_mask(predicted != y_test))

    measured = {mode: [] for mode in MODES}
    wrong = {mode: [] for mode in MODES}
    for deleted in deletions:
        error(MODES[0], deleted)
        statistics = paths.recalibrate(model, x_train[:IMAGES], deleted)
        error(MODES[1], deleted, statistics)
    return measured, wrong


def path_gradients(network, seed):
    """Mean and median gradient norm of a random path of each length through ``network``."""
    import numpy as np

    from resnet_book import data, paths, results

    (x_train, y_train), _ = data.digits_images(size=16)
    model = runs.build(network, x_train.shape[1:])
    results.load_weights(model, trained.weights(network, seed))
    n = len(paths.block_names(model))
    lengths = np.repeat(np.arange(n + 1), PATH_IMAGES)
    chosen = np.tile(np.random.default_rng(0).choice(len(x_train), PATH_IMAGES), n + 1)
    norms = paths.path_gradient_norms(model, x_train[chosen], y_train[chosen], lengths, seed=0)
    by_length = [norms[lengths == k] for k in range(n + 1)]
    return {
        "images": PATH_IMAGES,
        "mean norm": [float(f"{v.mean():.6g}") for v in by_length],
        "median norm": [float(f"{np.median(v):.6g}") for v in by_length],
    }


def measure(part, network, seed, deletions):
    """One task: one part of the measurements of ``network`` trained with ``seed``.

    Returns the measurements and, but for the path gradients, the masks of the wrong images.
    """
    if part == "path gradients":
        return path_gradients(network, seed), None
    measured, wrong = errors(network, seed, deletions)
    if part == "intact":
        return (
            {mode: values[0] for mode, values in measured.items()},
            {mode: values[0] for mode, values in wrong.items()},
        )
    return measured, wrong


def plan(seeds, sets_seeds):
    """Every task as (part, network, seed, deletions), with the blocks and the sets."""
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
    tasks = []
    for seed in seeds:
        tasks += [("sets", "resnet-56", seed, sets)] if seed in sets_seeds else []
        tasks += [
            ("single", "plain-56", seed, singles),
            ("single", "resnet-56", seed, singles),
            ("path gradients", "resnet-56", seed, None),
            ("intact", "plain-56", seed, [[]]),
            ("intact", "resnet-56", seed, [[]]),
        ]
    return blocks, sets, tasks


def reusable(path, blocks, sets, hashes):
    """The measurements in the file ``path`` whose weights are unchanged: (part, network, seed).

    Each is kept with its masks of wrong images; a part whose masks the file lacks is measured
    again.
    """
    if path is None or not pathlib.Path(path).exists():
        return {}
    stored = json.loads(pathlib.Path(path).read_text())
    if stored.get("blocks") != blocks or stored.get("deleted") != sets:
        return {}
    kept = {}
    for run in stored.get("runs", []):
        seed = run["seed"]
        for part in PARTS:
            for network, value in run.get(part, {}).items():
                known = stored.get("weights sha256", {}).get(network, {}).get(str(seed))
                masks = run.get("wrong images", {}).get(part, {}).get(network)
                if part in MASKED and masks is None:
                    continue
                if known is not None and known == hashes.get((network, seed)):
                    kept[part, network, seed] = value, masks
    return kept


def main():
    """Measure what the reused file lacks for every seed and write the file."""
    args = runs.command_line(
        __doc__.splitlines()[0],
        runs.SEEDS,
        ("--sets-seeds", {"type": int, "nargs": "*", "default": [0]}),
        ("--reuse", {"type": pathlib.Path, "default": None}),
    )
    sets_seeds = args.sets_seeds
    start = time.perf_counter()
    blocks, sets, tasks = plan(args.seeds, sets_seeds)
    hashes = {
        (network, seed): trained.digest(network, seed)
        for network in trained.NETWORKS
        for seed in args.seeds
    }
    kept = reusable(args.reuse, blocks, sets, hashes)
    todo = [task for task in tasks if task[:3] not in kept]
    todo.sort(key=lambda task: ("sets", "single", "path gradients", "intact").index(task[0]))
    print(f"reusing {len(tasks) - len(todo)} of {len(tasks)} measurements", flush=True)
    measured = dict(kept)
    measured.update(
        zip([task[:3] for task in todo], runs.run_all(todo, args.jobs, measure), strict=True)
    )
    record = {
        "data": f"{runs.DATA}; statistics recomputed on the first {IMAGES} training images",
        "weights": "results/weights/NETWORK.npz (seed 0) and NETWORK-seedS.npz from "
        "experiments/trained.py",
        "weights sha256": {
            network: {str(seed): hashes[network, seed] for seed in args.seeds}
            for network in trained.NETWORKS
        },
        "seeds": list(args.seeds),
        "sets seeds": list(sets_seeds),
        "blocks": blocks,
        "deleted": sets,
        "runs": [
            {"seed": seed}
            | {
                part: {
                    network: measured[part, network, seed][0]
                    for (p, network, s, _) in tasks
                    if p == part and s == seed
                }
                for part in PARTS
            }
            | {
                "wrong images": {
                    part: {
                        network: measured[part, network, seed][1]
                        for (p, network, s, _) in tasks
                        if p == part and s == seed
                    }
                    for part in MASKED
                }
            }
            for seed in args.seeds
        ],
    }
    runs.write_record(__file__, record, start)


if __name__ == "__main__":
    main()
