"""How fast is the gradient-flow computation? Median and 95th percentile, in ms.

Times ``gradflow.gradient_norms`` without its cache (the NumPy path the
explorer calls on every slider move) against an eager TensorFlow baseline that
builds the same network and differentiates it with ``tf.GradientTape``. The
book's budget: under 10 ms median for a 100-layer network on 2 cores.

Usage: python benchmarks/gradflow.py [--repeats 30] [--depths 10 50 100 200]
"""

import argparse
import sys
import time

import numpy as np

from resnet_book import gradflow, import_tensorflow

BUDGET_MS = 10.0


def eager_baseline(depth, repeats):
    """Per-layer gradient norms of the same network with eager TensorFlow."""
    tf = import_tensorflow()
    hidden, head = gradflow.init_weights(depth)
    x, y = gradflow.digits_batch()
    weights = [tf.Variable(w) for w in hidden]

    def once():
        with tf.GradientTape() as tape:
            h = tf.constant(x)
            for w in weights:
                h = tf.nn.relu(h @ w)
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=h @ head)
            )
        return [float(tf.norm(g)) for g in tape.gradient(loss, weights)]

    return timings(once, repeats)


def timings(function, repeats):
    """Milliseconds of ``repeats`` calls after one warm-up call."""
    function()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return np.array(samples)


def main():
    """Print the table; exit non-zero if the 100-layer median misses the budget."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--depths", type=int, nargs="+", default=[10, 50, 100, 200])
    args = parser.parse_args()
    compute = gradflow._flow.__wrapped__  # the uncached path
    print(f"{'depth':>5} {'numpy median':>13} {'p95':>7} {'eager TF median':>16} {'p95':>7}"
          f" {'numpy, BatchNorm + residual':>28}")  # fmt: skip
    medians = {}
    for depth in args.depths:
        ours = timings(
            lambda d=depth: compute(d, "relu", "he", 1.0, "none", "none", 0, 0.1, 0), args.repeats
        )
        heaviest = timings(
            lambda d=depth: compute(d, "relu", "he", 1.0, "batchnorm", "zero", 0, 0.1, 0),
            args.repeats,
        )
        eager = eager_baseline(depth, max(5, args.repeats // 3))
        medians[depth] = float(np.median(ours))
        print(f"{depth:>5} {np.median(ours):>13.2f} {np.percentile(ours, 95):>7.2f} "
              f"{np.median(eager):>16.2f} {np.percentile(eager, 95):>7.2f}"
              f" {np.median(heaviest):>28.2f}")  # fmt: skip
    if 100 in medians and medians[100] > BUDGET_MS:
        sys.exit(f"error: depth 100 took {medians[100]:.1f} ms (budget {BUDGET_MS} ms)")


if __name__ == "__main__":
    main()
