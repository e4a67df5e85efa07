"""The 1-D residual network and its plain twin on MNIST-1D, over seeds, for chapter 9.

Chapter 9 trains one seed of each live (``resnet_book.models.signal_net``, 10 blocks, the
chapter's recipe: ``resnet_book.training.train`` with its defaults, 10 epochs). One seed cannot
say how large the gap is: this trains the same two networks with the same recipe for several
seeds and writes results/signals.json (final test accuracy and the per-epoch histories of each
run). ``make results`` runs it with ``--jobs 1``: one run at a time with TensorFlow's own threads,
as in the chapter, so that seed 0 is the chapter's run (single-threaded workers add up in another
order, and this unstable plain twin ends elsewhere). About 4 minutes on 2 cores.

Usage: python experiments/signals.py [--seeds 0 1 2 3 4] [--jobs 1]
"""

import time

import runs

NUM_BLOCKS = 10
NUM_EPOCHS = 10
SEEDS = ("--seeds", {"type": int, "nargs": "+", "default": [0, 1, 2, 3, 4]})


def train(residual, seed):
    """Train one network as chapter 9 does; return its record."""
    from resnet_book import data, models, set_seed, training

    train_data, test_data = data.mnist1d_signals()
    set_seed(seed)
    model = models.signal_net(NUM_BLOCKS, residual)
    history = training.train(model, train_data, test_data, num_epochs=NUM_EPOCHS, verbose=False)
    record = {
        "network": model.name,
        "seed": seed,
        "test_accuracy": round(history["val_accuracy"][-1], 6),
        "loss": [round(value, 6) for value in history["loss"]],
        "val_accuracy": [round(value, 6) for value in history["val_accuracy"]],
    }
    print(f"{model.name}, seed {seed}: test accuracy {record['test_accuracy']:.3f}", flush=True)
    return record


def main():
    """Train both networks for every seed and write the file."""
    args = runs.command_line(__doc__.splitlines()[0], SEEDS)
    start = time.perf_counter()
    tasks = [(residual, seed) for seed in args.seeds for residual in (True, False)]
    record = {
        "data": "MNIST-1D (mnist1d package, generated): 4,000 train / 1,000 test signals",
        "num_blocks": NUM_BLOCKS,
        "num_epochs": NUM_EPOCHS,
        "recipe": "resnet_book.training.train defaults (SGD momentum 0.9, batch 128, rate 0.1, "
        "weight decay 1e-4, steps at 50% and 75%)",
        "runs": runs.run_all(tasks, args.jobs, train),
    }
    runs.write_record(__file__, record, start)


if __name__ == "__main__":
    main()
