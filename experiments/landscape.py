"""The loss landscapes of chapter 11: writes results/landscape.json.

For each network trained by experiments/trained.py (run that first), the loss on the first 512
training images over a 21 x 21 grid of filter-normalised steps from -1 to 1 along two random
directions (seeds 0 and 1) around the stored weights (Li et al. 2018; ``resnet_book.landscape``),
twice: with BatchNorm's statistics stored in training (inference mode, as in Li et al.'s code)
and with statistics recomputed from the 512 images at every point (as in training mode;
``resnet_book.paths``).
About 7 minutes on 2 cores.

Usage: python experiments/landscape.py [--points 21] [--jobs 2]
"""

import time

import runs
import trained

SEEDS = (0, 1)
IMAGES = 512
MODES = ("stored statistics", "batch statistics")


def surface(network, points, mode):
    """The loss grid around the stored weights of ``network``, as nested lists."""
    from resnet_book import data, landscape, paths, results

    (x, y), _ = data.digits_images(size=16)
    model = runs.build(network, x.shape[1:])
    results.load_weights(model, trained.WEIGHTS / f"{network}.npz")
    directions = [landscape.direction(model, seed) for seed in SEEDS]
    steps = [-1 + 2 * i / (points - 1) for i in range(points)]
    start = time.perf_counter()
    predict = None if mode == MODES[0] else lambda m, x: paths.forward(m, x, statistics={})
    grid = landscape.loss_slice(model, x[:IMAGES], y[:IMAGES], directions, steps, predict)
    seconds = time.perf_counter() - start
    print(f"{network}, {mode}: {points}x{points} losses in {seconds:.0f} s", flush=True)
    return [[float(f"{v:.7g}") for v in row] for row in grid]


def main():
    """Compute every network's grid and write the file."""
    args = runs.command_line(
        __doc__.splitlines()[0], ("--points", {"type": int, "default": 21}), minimums={"points": 3}
    )
    start = time.perf_counter()
    tasks = [(network, args.points, mode) for mode in MODES for network in trained.NETWORKS]
    grids = runs.run_all(tasks, args.jobs, surface)
    record = {
        "data": f"{runs.DATA}, the first {IMAGES} training images",
        "weights": "results/weights/NETWORK.npz from experiments/trained.py",
        "seeds": list(SEEDS),
        "steps": [round(-1 + 2 * i / (args.points - 1), 6) for i in range(args.points)],
        "surfaces": {mode: {} for mode in MODES},
    }
    for (network, _, mode), grid in zip(tasks, grids, strict=True):
        record["surfaces"][mode][network] = grid
    runs.write_record(__file__, record, start)


if __name__ == "__main__":
    main()
