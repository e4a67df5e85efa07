"""Write web/gradflow/grid.js, the grid that chapter 6's website player drew.

The website no longer loads it: since issue 25 its explorer computes every setting in the
browser (web/gradflow/engine.js; tools/explorer_data.py). Chapter 6's text still reads this
grid (its stored depths and first overflowing depth) until the chapter is rewritten; then this
tool, the file and ``make grid``/``grid-check`` go. The player stepped through a grid
precomputed here (``make grid``) from ``resnet_book.gradflow``, and draws it as
``resnet_book.explorer.FlowFigure`` does: the file holds the explorer's words,
colours and defaults, and for every pair of networks shown together the vertical
axis of ``explorer.axis_decades``. ``--check`` (``make grid-check``) recomputes
every number and exits non-zero if the file is stale; the unit tests compare a
seeded sample. Both compare numbers, not text: the last digits of a float32
computation depend on the processor, so two machines round a few values the
other way.

How close is close enough (see :func:`record_differences`):

- each value is log10 of a norm or spread, rounded to 0.01, so two correct
  computations may differ by 0.01 after rounding and by a little more with
  last-bit differences: values must agree within ``TOLERANCE`` = 0.02;
- values below float32's smallest normal number (about 1e-38) have lost their
  precision, and a value that becomes zero on one machine is stored as ``null``:
  they are not compared;
- some settings are chaotic (plain networks with BatchNorm, tanh with a large
  gain): moving the input by one unit in the last place already moves their
  curves, so their digits are not facts. A curve that moves by ``TOLERANCE / 2``
  or more when the input is nudged (:func:`nudged_record`) has only its flag compared;
- a stored axis must be the one ``explorer.decade_bounds`` gives for the stored
  curves, within their rounding.

Usage: python tools/gradflow_grid.py [--check] [--jobs N] [--file PATH]
"""

import argparse
import concurrent.futures
import inspect
import itertools
import json
import math
import multiprocessing
import os
import pathlib
import random
import sys

import numpy as np

from resnet_book import data, explorer, gradflow, plotting

GRID_FILE = pathlib.Path(__file__).resolve().parent.parent / "web" / "gradflow" / "grid.js"
PREFIX, SUFFIX = "window.GRADFLOW_GRID = ", ";\n"
TOLERANCE = 0.02
ROUNDING = 0.005 + 1e-9  # half the last stored digit
SUBNORMAL_LOG10 = math.log10(np.finfo(np.float32).tiny)
DEPTHS = (2, 4, 6, 8, 10, 16, 20, 30, 40, 50, 76, 100, 150, 200)
GAINS = ("0.5", "1", "2")
CHOICES = {
    "activation": gradflow.ACTIVATIONS,
    "initialization": gradflow.INITIALIZATIONS,
    "gain": GAINS,
    "normalization": gradflow.NORMALIZATIONS,
    "block": gradflow.BLOCKS,
    "branch_scale": gradflow.BRANCH_SCALES,
}
SHARED = ("activation", "initialization", "gain", "normalization")  # both networks of a pair


def settings_of(name):
    """The keyword arguments of ``gradflow.gradient_norms`` for a run's name."""
    settings = dict(zip(CHOICES, name.split("/"), strict=True))
    return settings | {"gain": float(settings["gain"])}


def plain_twin(name):
    """The name of the plain network shown beside a residual run."""
    return "/".join(name.split("/")[: len(SHARED)] + ["plain", "one"])


def _log10_or_none(values):
    """log10 of each value rounded to 0.01, None where it is not a positive finite number."""
    with np.errstate(all="ignore"):
        logs = np.log10(np.asarray(values, dtype=float))
    return [round(float(v), 2) if np.isfinite(v) else None for v in logs]


def record(flow):
    """What the player draws and prints for one network at one depth."""
    return {
        "grad": _log10_or_none(flow.grad_norms),
        "spread": _log10_or_none(flow.spreads),
        "flag": explorer.flag(flow),
        "ratio": explorer.ratio_text(flow),
    }


def defaults():
    """The player's starting settings: :func:`resnet_book.explorer.explorer`'s defaults."""
    start = {
        name: parameter.default
        for name, parameter in inspect.signature(explorer.explorer).parameters.items()
    }
    if start.pop("steps") != 0:
        raise ValueError("the explorer must start without SGD steps: the grid has none")
    return start | {"gain": f"{start['gain']:g}"}


def style(depths=DEPTHS, choices=CHOICES):
    """What the player takes from Python besides the numbers: a change here makes the file stale.

    The choices and depths of the grid; the explorer's labels and :func:`defaults`;
    ``series``, each curve's key in the labels and its colour, in the legend's order;
    ``alert``, the colour of the flag.
    """
    return {
        "choices": {key: list(values) for key, values in choices.items()},
        "defaults": defaults(),
        "depths": list(depths),
        "labels": explorer.LABELS,
        "series": [{"key": key, "color": colour} for key, colour in explorer.SERIES.items()],
        "alert": plotting.PALETTE["alert"],
    }


def _check_arguments(depths, choices):
    depths = list(depths)
    if (
        not depths
        or depths != sorted(set(depths))
        or any(d % 2 or not 2 <= d <= gradflow.MAX_DEPTH for d in depths)
    ):
        raise ValueError(
            f"depths must be increasing even numbers within 2..200. Received: {depths=}"
        )
    if set(choices) != set(CHOICES) or any(
        not values or not set(values) <= set(CHOICES[key]) for key, values in choices.items()
    ):
        raise ValueError(f"choices must pick from every list of CHOICES. Received: {choices=}")
    if "plain" not in choices["block"]:
        raise ValueError(f"choices must hold the plain twin. Received: {choices=}")
    return depths


def _pairs(prefix, depths, choices):
    """The records of one prefix's networks and the axis of each pair, depth by depth."""
    shared = dict(zip(SHARED, prefix, strict=True)) | {"gain": float(prefix[2])}
    names = ["/".join((*prefix, "plain", "one"))] + [
        "/".join((*prefix, block, scale))
        for block, scale in itertools.product(choices["block"], choices["branch_scale"])
        if block != "plain"
    ]
    runs, axes = {name: [] for name in names}, {name: [] for name in names[1:]}
    for depth in depths:
        plain = gradflow.gradient_norms(depth, block="plain", **shared)
        runs[names[0]].append(record(plain))
        for name in names[1:]:
            block, scale = name.split("/")[len(SHARED) :]
            flow = gradflow.gradient_norms(depth, block=block, branch_scale=scale, **shared)
            runs[name].append(record(flow))
            axes[name].append(list(explorer.axis_decades({"plain": plain, "residual": flow})))
    return runs, axes


def flow_grid(depths=DEPTHS, choices=CHOICES, jobs=1):
    """Every setting of the player's controls at initialisation, for the website.

    Args:
        depths: Increasing even depths from 2 to 200.
        choices: For each of ``CHOICES``' keys, the options to compute (a subset, for tests).
        jobs: Processes that compute at once (on Linux; one elsewhere).

    Returns:
        A JSON-ready dict: :func:`style`; under ``runs``, for each combination
        ``"activation/initialization/gain/normalization/block/branch_scale"`` (the
        plain network only with branch scale ``"one"``) a :func:`record` per depth;
        under ``axes``, for each residual combination, the vertical axis
        ``[bottom, top]`` (powers of ten) that it shares with its plain twin at each depth.

    Raises:
        ValueError: If ``depths`` is empty, unsorted, odd or out of range, or
            ``choices`` does not pick from each of ``CHOICES``' lists.
    """
    depths = _check_arguments(depths, choices)
    prefixes = list(itertools.product(*(choices[key] for key in SHARED)))
    if jobs > 1 and sys.platform == "linux":  # forked workers inherit this module, as imported
        context = multiprocessing.get_context("fork")
        with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=context) as pool:
            repeat = itertools.repeat
            parts = list(pool.map(_pairs, prefixes, repeat(depths), repeat(choices)))
    else:
        parts = [_pairs(prefix, depths, choices) for prefix in prefixes]
    runs = {name: records for part, _ in parts for name, records in part.items()}
    axes = {name: decades for _, part in parts for name, decades in part.items()}
    return style(depths, choices) | {"runs": runs, "axes": axes}


def render(grid):
    """The file's text: one JavaScript assignment, so the page needs no fetch.

    Raises:
        ValueError: If the player's defaults are not among the grid's settings.
    """
    start = grid["defaults"]
    missing = [key for key in CHOICES if start[key] not in grid["choices"][key]]
    if missing or start["depth"] not in grid["depths"]:
        raise ValueError(f"the explorer's defaults must be in the grid. Received: {start}")
    return PREFIX + json.dumps(grid, separators=(",", ":"), sort_keys=True) + SUFFIX


def load(path=GRID_FILE):
    """The grid stored in the website's file.

    Raises:
        ValueError: If the file is missing or was not written by this tool.
    """
    path = pathlib.Path(path)
    text = path.read_text() if path.is_file() else ""
    if not (text.startswith(PREFIX) and text.endswith(SUFFIX)):
        raise ValueError(f"not a grid file written by this tool. Received: path={str(path)!r}")
    return json.loads(text[len(PREFIX) : -len(SUFFIX)])


def nudged_record(name, depth):
    """A run's record computed from the input moved up by one unit in the last place."""
    x, y = data.digits_batch()
    nudged = np.nextafter(x, np.float32(np.inf)), y
    return record(gradflow.gradient_norms(depth, batch=nudged, **settings_of(name)))


def _comparable(value):
    return value is not None and value >= SUBNORMAL_LOG10


def largest_move(record, other):
    """The largest difference between two records' comparable values."""
    return max(
        (
            abs(a - b)
            for key in ("grad", "spread")
            for a, b in zip(record[key], other[key], strict=True)
            if _comparable(a) and _comparable(b)
        ),
        default=0.0,
    )


def record_differences(where, old, new, nudged):
    """How a stored record disagrees with a fresh one beyond what rounding explains.

    Args:
        where: The words that name the record in a message.
        old: The stored record.
        new: The record computed now.
        nudged: A function of no argument that returns the record computed now
            from a nudged input, called only where ``old`` and ``new`` differ.

    Returns:
        A list of readable differences, empty when they agree.
    """
    if old["flag"] != new["flag"]:
        return [f"{where}: flag {old['flag']!r} stored, {new['flag']!r} now"]
    if any(len(old[key]) != len(new[key]) for key in ("grad", "spread")):
        return [f"{where}: lengths differ"]
    gap = largest_move(new, old)
    if gap > TOLERANCE + 1e-9 and largest_move(new, nudged()) < TOLERANCE / 2:
        return [f"{where}: values differ by up to {gap:.2f}"]
    return []


def axis_differences(where, axis, plain, residual):
    """How a stored axis disagrees with the rule for the stored curves it frames."""
    values = [v for r in (plain, residual) for key in ("grad", "spread") for v in r[key]]
    values = [v for v in values if v is not None]
    if not values:
        allowed = [explorer.decade_bounds(*explorer.NO_VALUES)] * 2
    else:
        low, high = min(values), max(values)
        allowed = [
            explorer.decade_bounds(10 ** (low + slack), 10 ** (high + slack))
            for slack in (-ROUNDING, ROUNDING)
        ]
    if all(lo <= value <= hi for value, lo, hi in zip(axis, *allowed, strict=True)):
        return []
    return [f"{where}: axis {axis} stored, the curves give {allowed[0]} to {allowed[1]}"]


def style_differences(stored, expected):
    """Which of the player's words, colours, defaults, choices and depths differ from ``expected``.

    Returns:
        A list of readable differences, empty when they agree.
    """
    as_json = json.loads(json.dumps(expected))
    return [f"{key} differ" for key, value in as_json.items() if stored.get(key) != value]


def differences(stored, fresh, nudge=nudged_record):
    """Where ``stored`` disagrees with ``fresh`` beyond what rounding explains.

    Args:
        stored: The grid in the website's file.
        fresh: The grid computed now (:func:`flow_grid`), with the same choices.
        nudge: ``nudge(name, depth)`` gives the record from a nudged input.

    Returns:
        A list of readable differences, empty when the file is up to date.
    """
    found = style_differences(stored, {key: fresh[key] for key in style()})
    if set(stored.get("runs", {})) != set(fresh["runs"]) or set(stored.get("axes", {})) != set(
        fresh["axes"]
    ):
        return [*found, "the combinations differ"]
    for name, records in fresh["runs"].items():
        for depth, new, old in zip(fresh["depths"], records, stored["runs"][name], strict=True):
            where = f"{name} at depth {depth}"
            found += record_differences(
                where, old, new, lambda name=name, depth=depth: nudge(name, depth)
            )
    return found + _axes_differences(stored, stored["axes"])


def _axes_differences(stored, axes):
    found = []
    for name, decades in axes.items():
        for index, axis in enumerate(decades):
            where = f"{name} at depth {stored['depths'][index]}"
            plain = stored["runs"][plain_twin(name)][index]
            found += axis_differences(where, axis, plain, stored["runs"][name][index])
    return found


def sample_differences(stored, count, seed=0):
    """:func:`differences` for ``count`` records drawn at random, recomputed now.

    Args:
        stored: The grid in the website's file.
        count: How many (combination, depth) records to recompute.
        seed: Seed of the draw.

    Returns:
        A list of readable differences, empty when the sample agrees.
    """
    found = style_differences(stored, style())
    entries = sorted(
        (name, index) for name in stored["runs"] for index in range(len(stored["depths"]))
    )
    for name, index in random.Random(seed).sample(entries, count):
        depth = stored["depths"][index]
        new = record(gradflow.gradient_norms(depth, **settings_of(name)))
        found += record_differences(
            f"{name} at depth {depth}",
            stored["runs"][name][index],
            new,
            lambda name=name, depth=depth: nudged_record(name, depth),
        )
        if name in stored["axes"]:
            plain = stored["runs"][plain_twin(name)][index]
            found += axis_differences(
                f"{name} at depth {depth}", stored["axes"][name][index], plain, new
            )
    return found


def main(argv=None):
    """Write the file, or with --check exit non-zero (with the reason) if it is stale."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--file", type=pathlib.Path, default=GRID_FILE)
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1. Received: --jobs {args.jobs}")
    if not args.check:
        text = render(flow_grid(jobs=args.jobs))
        args.file.write_text(text)
        print(f"wrote {args.file} ({len(text) / 1024:.0f} KiB)")
        return
    try:
        stored = load(args.file)
    except ValueError:
        sys.exit(f"error: {args.file} is missing or not a grid file: run 'make grid'")
    found = style_differences(stored, style())  # cheap: before computing anything
    if not found:
        found = differences(stored, flow_grid(jobs=args.jobs))
    if found:
        shown = "\n  ".join(found[:10]) + (
            f"\n  ... {len(found) - 10} more" if len(found) > 10 else ""
        )
        sys.exit(
            f"error: {args.file} is stale, {len(found)} difference(s) from the library:\n  "
            f"{shown}\nrun 'make grid' to rewrite it"
        )
    print(f"{args.file} matches the library")


if __name__ == "__main__":
    main()
