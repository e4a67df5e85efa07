"""The blocks of chapter 8, trained on 16x16 digits: writes results/blocks.json.

Two comparisons with the recipe of the degradation experiment, for several seeds: ResNet-20 with
each of the paper's shortcut options (zero-padding, projections where the shape changes,
projections everywhere; its Table 3 in miniature), and ResNet-56 built from the original block
(v1) against the same network built from pre-activation blocks (v2). Every run is stored in the
format of ``resnet_book.results``.

Usage: python experiments/blocks.py [--seeds 0 1 2] [--epochs 20] [--jobs 2] [--out FILE]
                                     [--reuse FILE]  (see runs.reusable)
"""

import runs

NETWORKS = [
    "resnet-20-zero_pad",
    "resnet-20-projection",
    "resnet-20-all_projection",
    "resnet-56",
    "preact-56",
]


def plan(seeds, num_epochs):
    """Every run as (network, seed, learning rate, epochs), the longest first."""
    rate = runs.RECIPE["learning_rate"]
    return [(network, seed, rate, num_epochs) for network in reversed(NETWORKS) for seed in seeds]


if __name__ == "__main__":
    runs.main(__file__, __doc__.splitlines()[0], plan)
