"""The loss landscapes of chapter 11: writes results/landscape.json.

For each network trained by experiments/trained.py (run that first) and each seed, the loss on the
first 512 training images over a grid of filter-normalised steps from -1 to 1 along two random
directions (direction seeds 0 and 1) around the stored weights (Li et al. 2018;
``resnet_book.landscape``). The loss is scored with statistics recomputed from the 512 images at
every point (batch statistics, as in training mode; ``resnet_book.paths``) for every seed of
``--seeds``, and also with BatchNorm's statistics stored in training (inference mode, as in Li et
al.'s code) for the seeds of ``--stored-seeds``. The grids go under "surfaces", by mode, network
and seed, each with its steps.

``--points`` gives the grid's points per direction with batch statistics, one number for all
seeds or one per seed, and ``--stored-points`` with the stored statistics. The default plan fits
the time of 2 shared cores: 21 x 21 grids for seed 0 with both kinds of statistics, and 11 x 11
grids for seeds 1 and 2 with batch statistics. The 11 x 11 grid is every other point of the 21 x 21
one, so chapter 11 compares the three seeds and the two kinds of statistics on it, and shows seed
0's finer grids. ``--reuse results/landscape.json`` keeps the
grids of that file whose weights are unchanged (the same ``trained.digest``) and whose steps are
the same, and computes only the rest. A 21 x 21 grid takes about 4 minutes of a free core of an AMD
EPYC, an 11 x 11 grid about 1 minute: the default plan takes about 10 minutes on 2 free cores. On
2 cores of an Intel Xeon shared with other work a 21 x 21 grid took 11 to 15 minutes (December
2026).

Usage: python experiments/landscape.py [--seeds 0 1 2] [--points 21 11 11] [--stored-seeds 0]
                                       [--stored-points 21] [--reuse FILE] [--jobs 2]
"""

import json
import pathlib
import time

import runs
import trained

DIRECTIONS = (0, 1)
IMAGES = 512
MODES = ("stored statistics", "batch statistics")


def grid_steps(points):
    """The steps from -1 to 1 of a grid with ``points`` points per direction."""
    return [round(-1 + 2 * i / (points - 1), 6) for i in range(points)]


def surface(network, seed, points, mode):
    """The loss grid around the weights of ``network`` trained with ``seed``, as nested lists."""
    from resnet_book import data, landscape, paths, results

    (x, y), _ = data.digits_images(size=16)
    model = runs.build(network, x.shape[1:])
    results.load_weights(model, trained.weights(network, seed))
    directions = [landscape.direction(model, direction) for direction in DIRECTIONS]
    steps = [-1 + 2 * i / (points - 1) for i in range(points)]
    start = time.perf_counter()
    predict = None if mode == MODES[0] else lambda m, x: paths.forward(m, x, statistics={})
    grid = landscape.loss_slice(model, x[:IMAGES], y[:IMAGES], directions, steps, predict)
    seconds = time.perf_counter() - start
    print(f"{network} seed {seed}, {mode}: {points}x{points} losses in {seconds:.0f} s", flush=True)
    return [[float(f"{v:.7g}") for v in row] for row in grid]


def reusable(path, digests):
    """The grids in the file ``path`` whose weights are unchanged, by (network, seed, mode)."""
    if path is None or not pathlib.Path(path).exists():
        return {}
    stored = json.loads(pathlib.Path(path).read_text())
    kept = {}
    for mode, by_network in stored.get("surfaces", {}).items():
        for network, by_seed in by_network.items():
            for seed, grid in by_seed.items():
                known = stored.get("weights sha256", {}).get(network, {}).get(seed)
                if known is not None and known == digests.get((network, int(seed))):
                    kept[network, int(seed), mode] = grid
    return kept


def main():
    """Compute every grid the reused file lacks and write the file."""
    args = runs.command_line(
        __doc__.splitlines()[0],
        runs.SEEDS,
        ("--points", {"type": int, "nargs": "+", "default": [21, 11, 11]}),
        ("--stored-seeds", {"type": int, "nargs": "*", "default": [0]}),
        ("--stored-points", {"type": int, "default": 21}),
        ("--reuse", {"type": pathlib.Path, "default": None}),
    )
    if len(args.points) not in (1, len(args.seeds)) or min(args.points + [args.stored_points]) < 3:
        raise SystemExit("--points takes one number of at least 3, or one per seed")
    if not set(args.stored_seeds) <= set(args.seeds):
        raise SystemExit("--stored-seeds must be among --seeds")
    points = dict(zip(args.seeds, args.points * len(args.seeds), strict=False))
    start = time.perf_counter()
    digests = {
        (network, seed): trained.digest(network, seed)
        for network in trained.NETWORKS
        for seed in args.seeds
    }
    plan = {MODES[0]: args.stored_seeds, MODES[1]: args.seeds}
    size = {MODES[0]: dict.fromkeys(args.stored_seeds, args.stored_points), MODES[1]: points}
    tasks = [
        (network, seed, size[mode][seed], mode)
        for mode, seeds in plan.items()
        for seed in seeds
        for network in trained.NETWORKS
    ]
    kept = {
        key: grid
        for key, grid in reusable(args.reuse, digests).items()
        if key[1] in size[key[2]] and grid["steps"] == grid_steps(size[key[2]][key[1]])
    }
    todo = [task for task in tasks if (task[0], task[1], task[3]) not in kept]
    print(f"reusing {len(tasks) - len(todo)} of {len(tasks)} grids", flush=True)
    grids = runs.run_all(todo, args.jobs, surface)
    for (network, seed, n, mode), grid in zip(todo, grids, strict=True):
        kept[network, seed, mode] = {"steps": grid_steps(n), "loss": grid}
    record = {
        "data": f"{runs.DATA}, the first {IMAGES} training images",
        "weights": "results/weights/NETWORK.npz (seed 0) and NETWORK-seedS.npz from "
        "experiments/trained.py",
        "weights sha256": {
            network: {str(seed): digests[network, seed] for seed in args.seeds}
            for network in trained.NETWORKS
        },
        "seeds": {mode: list(seeds) for mode, seeds in plan.items()},
        "directions": list(DIRECTIONS),
        "surfaces": {
            mode: {
                network: {str(seed): kept[network, seed, mode] for seed in seeds}
                for network in trained.NETWORKS
            }
            for mode, seeds in plan.items()
        },
    }
    runs.write_record(__file__, record, start)


if __name__ == "__main__":
    main()
