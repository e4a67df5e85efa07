"""How fast is the gradient-flow explorer? Median and 95th percentile, in ms.

Times ``gradflow.gradient_norms`` without its cache (the NumPy path the
explorer calls on every slider move; a ``batch`` given explicitly is never
cached): a plain ReLU network, and the budgeted case, v1 blocks with
BatchNorm; against an eager TensorFlow baseline that builds the plain network
and differentiates it with ``tf.GradientTape``; and a whole slider update of
the explorer (both networks computed, uncached, and the figure redrawn to
PNG). The book's budgets, for a 100-layer network on 2 cores: v1 with
BatchNorm under 10 ms, whole update under 50 ms (medians).

Usage: python benchmarks/gradflow.py [--repeats 30] [--depths 10 50 100 200]
"""

import argparse
import sys
import time

import numpy as np

from resnet_book import data, explorer, gradflow, plotting, start_tensorflow

BUDGET_MS = 10.0
UPDATE_BUDGET_MS = 50.0


def eager_baseline(depth, repeats):
    """Per-layer gradient norms of the same network with eager TensorFlow."""
    tf = start_tensorflow()
    hidden, head = gradflow.init_weights(depth)
    x, y = data.digits_batch()
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


def slider_updates(depth, repeats):
    """A depth-slider move in the explorer, the cache cleared first (as for a new setting)."""
    box = explorer.explorer(depth=depth)

    def move():
        gradflow._flow.cache_clear()
        box.controls["depth"].value = depth + 2 if box.controls["depth"].value == depth else depth

    return timings(move, repeats)


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
    batch = data.digits_batch()  # given explicitly: the uncached path
    plotting.use_book_style()
    print(
        f"{'depth':>5} {'plain median':>13} {'p95':>7} {'eager TF median':>16} {'p95':>7}"
        f" {'v1 + BatchNorm median':>22} {'p95':>7}"
        f" {'slider update median':>21} {'p95':>7}"
    )
    medians, updates = {}, {}
    for depth in args.depths:
        plain = timings(lambda d=depth: gradflow.gradient_norms(d, batch=batch), args.repeats)
        ours = timings(
            lambda d=depth: gradflow.gradient_norms(
                d, block="v1", normalization="batchnorm", batch=batch
            ),
            args.repeats,
        )
        eager = eager_baseline(depth, max(5, args.repeats // 3))
        update = slider_updates(min(depth, gradflow.MAX_DEPTH - 2), args.repeats)
        medians[depth], updates[depth] = float(np.median(ours)), float(np.median(update))
        print(
            f"{depth:>5} {np.median(plain):>13.2f} {np.percentile(plain, 95):>7.2f} "
            f"{np.median(eager):>16.2f} {np.percentile(eager, 95):>7.2f}"
            f" {np.median(ours):>22.2f} {np.percentile(ours, 95):>7.2f}"
            f" {np.median(update):>21.2f} {np.percentile(update, 95):>7.2f}"
        )
    if 100 in medians and medians[100] > BUDGET_MS:
        sys.exit(f"error: v1 at depth 100 took {medians[100]:.1f} ms (budget {BUDGET_MS} ms)")
    if 100 in updates and updates[100] > UPDATE_BUDGET_MS:
        sys.exit(
            f"error: a depth-100 update took {updates[100]:.1f} ms (budget {UPDATE_BUDGET_MS})"
        )


if __name__ == "__main__":
    main()
