"""Gradient flow at initialisation over many draws of the weights, for chapter 6.

Writes results/initialisation.json. Chapter 6 measures one draw of the weights live; this
experiment repeats its measurements over many seeds with ``resnet_book.gradflow`` (NumPy, the
same networks and batch of digits as the chapter's explorer), for the settings about which the
chapter makes claims:

- the plain ReLU network with He initialisation, and the same network with Glorot
  initialisation as a control: a bias-free ReLU network scales every layer's signal by the same
  gain, so the first/last gradient ratio hardly sees the wrong initialisation, while the
  absolute gradient norms and the spreads do;
- the plain ReLU network with BatchNorm (the gradient's growth per layer toward the input),
  and the same network with tanh, whose mean is zero (the growth has another source);
- the v1 and v2 residual networks with BatchNorm (the first/last ratio at successive doublings
  of the depth), with branches scaled by 1/sqrt(blocks), and unnormalised (the spread's growth
  per block).

For every setting, depth and seed it stores the first/last gradient ratio, the two norms it
divides, the spread (standard deviation) of the first and of the last block's output, and the
per-layer and per-block rates.

For the v1 and v2 networks with BatchNorm at 200 layers it also stores, block by block (input
side first) and for every seed, what the backward pass does inside each block (``per_block``):

- ``gradient_gain``: the squared norm of the loss's gradient with respect to the block's input
  over that with respect to its output (for v2 the factor ``I + J_k``, for v1 ``D_k (I + J_k)``);
- ``mask_share`` (v1): the share of the squared norm of the gradient at the block's output that
  the ReLU after the addition removes, ``1 - |D_k g|^2 / |g|^2``;
- ``closed_share`` (v1): the share of the entries of the sum ``x + branch`` that the ReLU zeroes.

For the plain ReLU network with BatchNorm it also stores, at every depth and for every seed,
what one full-batch SGD step (learning rate 0.1, the explorer's) does (``one_step``). BatchNorm
after every weight layer makes the loss blind to the scale of the layer's weights ``W``, and
divides the gradient ``g`` by that scale; so beside the raw first/last ratio of ``|g|`` it stores
the first/last ratios of ``|W|``, of the scale-invariant ``|g| |W|``, and of the relative size
of a step, ``|g| / |W|``, before the step (``_start``) and after it (``_after``). It stores the
same for a step at a far smaller learning rate, 1e-5 (``one_step_small_rate``), as a control.

These repeat ``gradflow``'s backward pass with its private pieces (``_Pass``); the weight
gradients of the repeat are checked against ``gradflow.gradient_norms``. Values keep 4
significant digits. About 30 seconds on 2 idle cores.

Usage: python experiments/initialisation.py [--seeds 0 1 ... 19]
"""

import argparse
import pathlib
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEPTHS = [50, 100, 200]  # two successive doublings
PER_BLOCK_DEPTH = 200
PER_BLOCK_SETTINGS = ("v1, BatchNorm", "v2, BatchNorm")
ONE_STEP_LEARNING_RATE = 0.1  # the explorer's
SMALL_LEARNING_RATE = 1e-5  # a control: which conclusions of one_step depend on the rate
SETTINGS = {
    "plain, He": dict(block="plain"),
    "plain, Glorot": dict(block="plain", initialization="glorot"),
    "plain, BatchNorm": dict(block="plain", normalization="batchnorm"),
    "plain, tanh, BatchNorm": dict(block="plain", activation="tanh", normalization="batchnorm"),
    "v1, BatchNorm": dict(block="v1", normalization="batchnorm"),
    "v2, BatchNorm": dict(block="v2", normalization="batchnorm"),
    "v1, 1/sqrt(blocks)": dict(block="v1", branch_scale="inverse_sqrt"),
    "v2, 1/sqrt(blocks)": dict(block="v2", branch_scale="inverse_sqrt"),
    "v1, no normalisation": dict(block="v1"),
    "v2, no normalisation": dict(block="v2"),
}
MEASURES = (
    "first_to_last",
    "first_gradient",
    "last_gradient",
    "first_spread",
    "last_spread",
    "gradient_change_per_layer",
    "spread_change_per_block",
)


def rounded(value):
    """A float with 4 significant digits, or None where it is not finite."""
    value = float(value)
    return float(f"{value:.4g}") if np.isfinite(value) else None


def measure(flow):
    """What one backward pass shows, as a dictionary of the ``MEASURES``."""
    norms, spreads = flow.grad_norms, flow.spreads
    layers = np.arange(len(norms))
    # The slope of a straight line through log10(norm) against the layer's index, from the
    # input side: its negative, as a power of 10, is the factor per layer toward the input.
    slope, _ = np.polyfit(layers, np.log10(norms), deg=1)
    values = {
        "first_to_last": flow.first_to_last,
        "first_gradient": norms[0],
        "last_gradient": norms[-flow.layers_per_block],  # the layer the ratio divides by
        "first_spread": spreads[0],
        "last_spread": spreads[-1],
        "gradient_change_per_layer": 10**-slope,
        "spread_change_per_block": (spreads[-1] / spreads[0]) ** (1 / (len(spreads) - 1)),
    }
    return {name: rounded(values[name]) for name in MEASURES}


def squared_norm(array):
    """The squared Frobenius norm, in float64."""
    values = array.ravel().astype(np.float64)
    return float(values @ values)


def per_block(depth, block, seed, x, y):
    """What the backward pass does inside each block of a BatchNorm network (input side first).

    Repeats ``gradflow._Pass.backward`` step by step for ``block`` ("v1" or "v2") with ReLU, He
    initialisation and gain 1, and measures the gradient before and after each block and, for
    v1, before and after the ReLU after the addition. Returns a dictionary of arrays.
    """
    from resnet_book import gradflow

    hidden, head = gradflow.init_weights(depth, "he", 1.0, seed)
    blocks = depth // 2
    scales = np.ones(blocks, dtype=np.float32)
    run = gradflow._Pass(x, y, hidden, head, scales, block, "relu", True)
    run.forward()
    buf = run.buf
    run.norms, run.grads = np.empty(depth), None
    logits = buf["h"][blocks] @ head
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    g, g_branch, g_mid = buf["g"], buf["g_branch"], buf["g_mid"]
    np.matmul(p / len(y), head.T, out=g)
    gain, mask_share, closed_share = (np.full(blocks, np.nan) for _ in range(3))
    for k in reversed(range(blocks)):
        at_output = squared_norm(g)
        if block == "v1":
            closed_share[k] = 1 - float(buf["q_slope"][k].mean())
            g *= buf["q_slope"][k]  # the ReLU after the addition: the mask D_k
            mask_share[k] = 1 - squared_norm(g) / at_output
        np.multiply(g, scales[k], out=g_branch)
        run.layer_backward(2 * k + 1, g_branch, act=False, into=g_mid)
        if block == "v1":
            run.layer_backward(2 * k, g_mid, act=True, into=g, accumulate=True)
        else:
            run.layer_backward(2 * k, g_mid, act=True, into=g_branch)
            g_branch *= buf["q_slope"][k]
            gradflow._batchnorm_backward(
                g_branch, buf["p"][k], run.pre_inv_stds[k], run.ones, buf["tmp"]
            )
            g += g_branch
        gain[k] = squared_norm(g) / at_output
    reference = gradflow.gradient_norms(depth, block=block, normalization="batchnorm", seed=seed)
    assert np.allclose(run.norms, reference.grad_norms, rtol=1e-4), (block, depth, seed)
    values = {"gradient_gain": gain}
    if block == "v1":
        values |= {"mask_share": mask_share, "closed_share": closed_share}
    return values


def layer_norms(depth, seed, x, y, hidden=None):
    """Per-layer norms of the gradient and of the weights of the plain BatchNorm ReLU network.

    Returns ``(gradient_norms, weight_norms, gradients, hidden)`` for the weights ``hidden``
    (He initialisation, gain 1, seed ``seed`` when None), in float64 norms.
    """
    from resnet_book import gradflow

    initial, head = gradflow.init_weights(depth, "he", 1.0, seed)
    hidden = initial if hidden is None else hidden
    scales = np.ones(depth, dtype=np.float32)
    run = gradflow._Pass(x, y, hidden, head, scales, "plain", "relu", True)
    run.forward()
    gradients, _ = run.backward()  # a fresh array

    def norms(arrays):
        return np.sqrt(np.square(arrays, dtype=np.float64).sum(axis=(1, 2)))

    return norms(gradients), norms(hidden), gradients, hidden


def one_step(depth, seed, x, y, learning_rate=ONE_STEP_LEARNING_RATE):
    """First/last ratios before and after one SGD step, plain ReLU network with BatchNorm."""
    from resnet_book import gradflow

    grad_start, weight_start, gradients, hidden = layer_norms(depth, seed, x, y)
    stepped = hidden - np.float32(learning_rate) * gradients
    grad_after, weight_after, _, _ = layer_norms(depth, seed, x, y, hidden=stepped)
    reference = gradflow.gradient_norms(
        depth, normalization="batchnorm", steps=1, learning_rate=learning_rate, seed=seed
    )
    assert np.allclose(grad_after, reference.grad_norms, rtol=1e-4), (depth, seed)

    def first_to_last(values):
        return values[0] / values[-1]

    values = {}
    pairs = {"start": (grad_start, weight_start), "after": (grad_after, weight_after)}
    for when, (grad, weight) in pairs.items():
        values[f"gradient_{when}"] = first_to_last(grad)
        values[f"weight_{when}"] = first_to_last(weight)
        values[f"gradient_times_weight_{when}"] = first_to_last(grad * weight)
        values[f"gradient_over_weight_{when}"] = first_to_last(grad / weight)
    return {name: rounded(value) for name, value in values.items()}


def main():
    """Measure every setting, depth and seed; write the file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(20)))
    args = parser.parse_args()
    start = time.perf_counter()

    from resnet_book import data, gradflow, results

    x, y = data.digits_batch()
    record = {
        "data": f"scikit-learn digits, the fixed batch of {len(x)} that chapter 6 uses",
        "network": (
            f"resnet_book.gradflow: fully connected, {gradflow.WIDTH} units wide, ReLU unless"
            " named, no biases, He initialisation unless named, gain 1, at initialisation (no"
            " training step, except one_step)"
        ),
        "seeds": args.seeds,
        "depths": DEPTHS,
        "input_spread": rounded(x.std()),
        "settings": {name: dict(settings) for name, settings in SETTINGS.items()},
        "measures": {},
    }
    for name, settings in SETTINGS.items():
        by_measure = {measure_name: {} for measure_name in MEASURES}
        for depth in DEPTHS:
            flows = [gradflow.gradient_norms(depth, seed=seed, **settings) for seed in args.seeds]
            for flow in flows:
                assert not (flow.overflow or flow.underflow), (name, depth)
            rows = [measure(flow) for flow in flows]
            for measure_name in MEASURES:
                by_measure[measure_name][str(depth)] = [row[measure_name] for row in rows]
        record["measures"][name] = by_measure
        ratios = by_measure["first_to_last"][str(DEPTHS[-1])]
        print(f"{name:<22} depth {DEPTHS[-1]}: median first/last {np.median(ratios):.3g}")
    record["per_block"] = {"depth": PER_BLOCK_DEPTH}
    for name in PER_BLOCK_SETTINGS:
        block = SETTINGS[name]["block"]
        rows = [per_block(PER_BLOCK_DEPTH, block, seed, x, y) for seed in args.seeds]
        record["per_block"][name] = {
            measure_name: [[rounded(value) for value in row[measure_name]] for row in rows]
            for measure_name in rows[0]
        }
    record["one_step"] = {
        "setting": "plain, BatchNorm",
        "learning_rate": ONE_STEP_LEARNING_RATE,
        "measures": {},
    }
    for depth in DEPTHS:
        rows = [one_step(depth, seed, x, y) for seed in args.seeds]
        for name in rows[0]:
            record["one_step"]["measures"].setdefault(name, {})[str(depth)] = [
                row[name] for row in rows
            ]
    # The same step at a far smaller learning rate, as a control (added later: a new key).
    record["one_step_small_rate"] = {
        "setting": "plain, BatchNorm",
        "learning_rate": SMALL_LEARNING_RATE,
        "measures": {},
    }
    for depth in DEPTHS:
        rows = [one_step(depth, seed, x, y, SMALL_LEARNING_RATE) for seed in args.seeds]
        for name in rows[0]:
            record["one_step_small_rate"]["measures"].setdefault(name, {})[str(depth)] = [
                row[name] for row in rows
            ]
    command = " ".join(["python experiments/initialisation.py", *sys.argv[1:]])
    path = ROOT / "results" / "initialisation.json"
    results.save_record(path, record, command=command, wall_seconds=time.perf_counter() - start)
    print(f"wrote {path} in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
