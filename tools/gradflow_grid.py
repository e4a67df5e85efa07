"""Write web/gradflow/grid.js, the numbers the website's gradient-flow player draws.

The website runs no Python, so chapter 6's player steps through a grid
precomputed here (``make grid``) from ``resnet_book.gradflow``. ``--check``
(and a unit test) recompute it and compare numbers, not text: the last digits
of a float32 computation depend on the processor, so two machines round a few
values the other way.

How close is close enough (see :func:`differences`):

- each value is log10 of a norm or spread, rounded to 0.01, so two correct
  computations may differ by 0.01 after rounding and by a little more with
  last-bit differences: values must agree within ``TOLERANCE`` = 0.02;
- values below float32's smallest normal number (about 1e-38) have lost their
  precision, and a value that becomes zero on one machine is stored as ``null``:
  they are not compared;
- some settings are chaotic (plain networks with BatchNorm, tanh with a large
  gain): moving the input by one unit in the last place already moves their
  curves, so their digits are not facts. A curve that moves by ``TOLERANCE / 2``
  or more when the input is nudged (``nudged_grid``) has only its flag compared.

Usage: python tools/gradflow_grid.py [--check]
"""

import itertools
import json
import math
import pathlib
import sys

import numpy as np

from resnet_book import explorer, gradflow

GRID_FILE = pathlib.Path(__file__).resolve().parent.parent / "web" / "gradflow" / "grid.js"
PREFIX, SUFFIX = "window.GRADFLOW_GRID = ", ";\n"
TOLERANCE = 0.02
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


def _log10_or_none(values):
    """log10 of each value rounded to 0.01, None where it is not a positive finite number."""
    with np.errstate(all="ignore"):
        logs = np.log10(np.asarray(values, dtype=float))
    return [round(float(v), 2) if np.isfinite(v) else None for v in logs]


def flow_grid(depths=DEPTHS):
    """Every setting of the player's controls at initialisation, for the website.

    Args:
        depths: Increasing even depths from 2 to 200.

    Returns:
        A JSON-ready dict: the choices, the depths, the explorer's labels, and
        for each combination ``"activation/initialization/gain/normalization/
        block/branch_scale"`` (the plain network only with branch scale
        ``"one"``) one record per depth: log10 gradient norms per layer, log10
        spreads per block, the flag and the first-to-last ratio as the explorer
        prints them.

    Raises:
        ValueError: If ``depths`` is empty, unsorted, odd or out of range.
    """
    depths = list(depths)
    if (
        not depths
        or depths != sorted(set(depths))
        or any(d % 2 or not 2 <= d <= 200 for d in depths)
    ):
        raise ValueError(
            f"depths must be increasing even numbers within 2..200. Received: {depths=}"
        )
    runs = {}
    for setting in itertools.product(*CHOICES.values()):
        arguments = dict(zip(CHOICES, setting, strict=True)) | {"gain": float(setting[2])}
        if arguments["block"] == "plain" and arguments["branch_scale"] != "one":
            continue
        records = []
        for depth in depths:
            flow = gradflow.gradient_norms(depth, **arguments)
            records.append({
                "grad": _log10_or_none(flow.grad_norms),
                "std": _log10_or_none(flow.activation_stds),
                "flag": explorer.flag(flow),
                "ratio": explorer.ratio_text(flow),
            })  # fmt: skip
        runs["/".join(setting)] = records
    return {"choices": CHOICES, "depths": depths, "labels": explorer.LABELS, "runs": runs}


def render(grid=None):
    """The file's text: one JavaScript assignment, so the page needs no fetch."""
    grid = flow_grid() if grid is None else grid
    return PREFIX + json.dumps(grid, separators=(",", ":"), sort_keys=True) + SUFFIX


def load(path=GRID_FILE):
    """The grid stored in the website's file."""
    text = path.read_text()
    if not (text.startswith(PREFIX) and text.endswith(SUFFIX)):
        raise ValueError(f"not a grid file written by this tool. Received: path={str(path)!r}")
    return json.loads(text[len(PREFIX) : -len(SUFFIX)])


def nudged_grid():
    """The grid with every input pixel moved up by one unit in the last place (float32)."""
    original = gradflow.digits_batch

    def nudged(batch_size=64, seed=0):
        x, y = original(batch_size, seed)
        return np.nextafter(x, np.float32(np.inf)), y

    gradflow._flow.cache_clear()
    gradflow.digits_batch = nudged
    try:
        return flow_grid()
    finally:
        gradflow.digits_batch = original
        gradflow._flow.cache_clear()


def _comparable(value):
    return value is not None and value >= SUBNORMAL_LOG10


def _largest_move(record, other):
    """The largest difference between two records' comparable values."""
    return max(
        (
            abs(a - b)
            for key in ("grad", "std")
            for a, b in zip(record[key], other[key], strict=True)
            if _comparable(a) and _comparable(b)
        ),
        default=0.0,
    )


def differences(stored, fresh, nudged):
    """Where ``stored`` disagrees with ``fresh`` beyond what rounding explains.

    Args:
        stored: The grid in the website's file.
        fresh: The grid computed now.
        nudged: The grid computed now from a nudged input (:func:`nudged_grid`).

    Returns:
        A list of readable differences, empty when the file is up to date.
    """
    as_json = json.loads(json.dumps({key: fresh[key] for key in ("choices", "depths", "labels")}))
    found = [
        f"{key} differ"
        for key, value in as_json.items()
        if json.loads(json.dumps(stored.get(key))) != value
    ]
    if set(stored.get("runs", {})) != set(fresh["runs"]):
        return [*found, "the combinations differ"]
    for name, records in fresh["runs"].items():
        for depth, new, old, moved in zip(
            fresh["depths"], records, stored["runs"][name], nudged["runs"][name], strict=True
        ):
            where = f"{name} at depth {depth}"
            if old["flag"] != new["flag"]:
                found.append(f"{where}: flag {old['flag']!r} stored, {new['flag']!r} now")
            elif any(len(old[key]) != len(new[key]) for key in ("grad", "std")):
                found.append(f"{where}: lengths differ")
            elif _largest_move(new, moved) < TOLERANCE / 2:
                gap = _largest_move(new, old)
                if gap > TOLERANCE + 1e-9:
                    found.append(f"{where}: values differ by up to {gap:.2f}")
    return found


def main():
    """Write the file, or with --check exit 1 if it is stale."""
    if "--check" in sys.argv[1:]:
        found = differences(load(), flow_grid(), nudged_grid())
        if found:
            sys.exit(f"error: {GRID_FILE} is stale ({found[0]}, ...): run 'make grid'")
        print(f"{GRID_FILE} matches the library")
        return
    text = render()
    GRID_FILE.write_text(text)
    print(f"wrote {GRID_FILE} ({len(text) / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
