"""The degradation experiment of the paper, on 16x16 digits: writes results/degradation.json.

The main comparison trains plain-20, plain-56, ResNet-20 and ResNet-56 (BatchNorm everywhere,
zero-padding shortcuts) with the same recipe for several seeds, at two learning rates: 0.05, the
paper's rate (0.1 for 128 images a batch) scaled linearly to our batch of 64, which chapter 7
reports first, and the paper's own 0.1, as a control; plain-56 also trains three times longer
at 0.05. Further controls train the two plain networks at lower rates (0.01 and 0.03) and three
times longer (at 0.03 and 0.1), to tell a network that cannot be trained from a recipe that
suits it badly. Every run records its per-epoch history and, after training, the training loss
and error measured in inference mode, the test error and the wall time, in the format of
``resnet_book.results``. Chapters 3, 5 and 7 read the file.

Usage: python experiments/degradation.py [--seeds 0 1 2] [--epochs 20] [--jobs 2] [--out FILE]
                                         [--reuse FILE]

``--reuse results/degradation.json`` keeps the stored runs the plan still contains (same
network, seed, rate and epochs, and the same recipe, which is checked) and trains only the
missing ones: training is deterministic on one machine. Without it, every run is trained
again. The stored file records the machine, the date and each run's seconds (chapter 7 prints
them): all 51 runs were trained in one go.
"""

import runs

NETWORKS = ["plain-20", "plain-56", "resnet-20", "resnet-56"]
CONTROLS = ["plain-20", "plain-56"]
CONTROL_RATES = [0.01, 0.03]
LONGER, LONGER_RATES = 3, [0.03, 0.1]
SCALED_RATE = 0.05  # the paper's 0.1 at batch 128, scaled linearly to our batch of 64


def plan(seeds, num_epochs):
    """Every run as (network, seed, learning rate, epochs), the longest first."""
    rate = runs.RECIPE["learning_rate"]
    planned = [(network, seed, rate, num_epochs) for seed in seeds for network in NETWORKS]
    planned += [(n, seed, r, num_epochs) for seed in seeds for r in CONTROL_RATES for n in CONTROLS]
    planned += [
        (network, seed, r, LONGER * num_epochs)
        for seed in seeds
        for r in LONGER_RATES
        for network in CONTROLS
    ]
    planned += [(network, seed, SCALED_RATE, num_epochs) for seed in seeds for network in NETWORKS]
    planned += [("plain-56", seed, SCALED_RATE, LONGER * num_epochs) for seed in seeds]
    return sorted(planned, key=lambda run: -run[3] * int(run[0].split("-")[1]))


if __name__ == "__main__":
    runs.main(__file__, __doc__.splitlines()[0], plan)
