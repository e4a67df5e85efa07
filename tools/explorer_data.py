"""Write web/gradflow/data.js, what chapter 6's website explorer needs from Python.

The website computes every setting itself (web/gradflow/engine.js, a port of
``resnet_book.gradflow``), so it needs no grid of results, only the inputs of the
computation and the explorer's words: the digits batch of ``data.digits_batch()``
(float32, base64), the state of NumPy's PCG64 generator for the weights' seed (the
engine draws the same weights, bit for bit), the tables of NumPy's float32 ziggurat
(the constants of numpy/random/src/distributions/ziggurat_constants.h, BSD-licensed),
and from ``resnet_book.explorer`` the labels, colours, defaults, choices and ranges.

``--check`` exits non-zero if the file is stale (the unit tests run it). The ziggurat
tables are fixed by NumPy's promise of a stable stream; they are read from the file
itself unless ``--ziggurat`` names NumPy's header (from NumPy's source distribution).

Usage: python tools/explorer_data.py [--check] [--ziggurat PATH/ziggurat_constants.h]
"""

import argparse
import base64
import inspect
import json
import pathlib
import re
import sys

import numpy as np

from resnet_book import data, explorer, gradflow, plotting

DATA_FILE = pathlib.Path(__file__).resolve().parent.parent / "web" / "gradflow" / "data.js"
PREFIX, SUFFIX = "window.GRADFLOW_DATA = ", ";\n"
SEED = 0  # the explorer's weights: gradflow.init_weights' default seed
TABLES = {
    "ki": ("ki_float", np.uint32),
    "wi": ("wi_float", np.float32),
    "fi": ("fi_float", np.float32),
}
CONSTANTS = {"r": "ziggurat_nor_r_f", "inv_r": "ziggurat_nor_inv_r_f"}
SOURCE = (
    f"NumPy {np.__version__}, numpy/random/src/distributions/ziggurat_constants.h; "
    "Copyright (c) 2005-2025, NumPy Developers; BSD 3-Clause License"
)


def encoded(array, dtype):
    """Little-endian bytes of ``array`` as ``dtype``, in base64."""
    return base64.b64encode(np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<")))


def ziggurat_from_header(text):
    """The float32 ziggurat's tables and constants from NumPy's ziggurat_constants.h."""
    tables = {}
    for key, (name, dtype) in TABLES.items():
        body = re.search(rf"{name}\[\] = \{{(.*?)\}};", text, re.S)[1]
        numbers = re.findall(r"0x[0-9A-Fa-f]+|[-+0-9.e]+", body)
        if dtype is np.uint32:
            values = np.array([int(n, 16) for n in numbers], dtype=np.uint32)
        else:  # C rounds each decimal to float once; via float64 agrees for these 21 digits
            values = np.array([float(n) for n in numbers], dtype=np.float32)
        if len(values) != 256:
            raise ValueError(f"ziggurat header: {name} has {len(values)} entries, not 256")
        tables[key] = encoded(values, dtype).decode("ascii")
    for key, name in CONSTANTS.items():
        tables[key] = float(np.float32(re.search(rf"{name} = ([0-9.e+-]+)f;", text)[1]))
    tables["source"] = SOURCE
    return tables


def contents(ziggurat):
    """Everything data.js holds, as a JSON-ready dict."""
    x, y = data.digits_batch()
    state = np.random.PCG64(SEED).state
    defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(explorer.explorer).parameters.items()
    }
    learning_rate = inspect.signature(gradflow.gradient_norms).parameters["learning_rate"].default
    return {
        "batch": len(y),
        "x": encoded(x, np.float32).decode("ascii"),
        "y": encoded(y, np.int32).decode("ascii"),
        "rng": {
            "state": hex(state["state"]["state"]),
            "inc": hex(state["state"]["inc"]),
            "has_uint32": state["has_uint32"],
            "uinteger": state["uinteger"],
        },
        "ziggurat": ziggurat,
        "labels": explorer.LABELS,
        "series": [{"key": key, "color": colour} for key, colour in explorer.SERIES.items()],
        "alert": plotting.PALETTE["alert"],
        "defaults": defaults,
        "choices": {
            "activation": list(gradflow.ACTIVATIONS),
            "initialization": list(gradflow.INITIALIZATIONS),
            "normalization": list(gradflow.NORMALIZATIONS),
            "block": list(explorer.RESIDUAL_BLOCKS),
            "branch_scale": list(gradflow.BRANCH_SCALES),
        },
        "depth": [2, gradflow.MAX_DEPTH],
        "gain": list(explorer.GAIN_RANGE),
        "steps": [0, explorer.MAX_STEPS],
        "learning_rate": learning_rate,
        "floor": explorer.FLOOR,
        "no_values": list(explorer.NO_VALUES),
    }


def load(path=DATA_FILE):
    """The stored data.js as a dict."""
    text = path.read_text()
    return json.loads(text[len(PREFIX) : -len(SUFFIX)])


def render(values):
    """The text of data.js for :func:`contents`."""
    return PREFIX + json.dumps(values, ensure_ascii=False, sort_keys=True) + SUFFIX


def main(argv=None):
    """Write data.js, or with ``--check`` exit 1 if it differs from what would be written."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if data.js is stale")
    parser.add_argument("--ziggurat", type=pathlib.Path, help="NumPy's ziggurat_constants.h")
    args = parser.parse_args(argv)
    if args.ziggurat:
        ziggurat = ziggurat_from_header(args.ziggurat.read_text())
    else:
        ziggurat = load()["ziggurat"]
    text = render(contents(ziggurat))
    if args.check:
        if DATA_FILE.read_text() != text:
            sys.exit(f"{DATA_FILE} is stale: run python tools/explorer_data.py")
        print(f"{DATA_FILE.name} is up to date")
        return
    DATA_FILE.write_text(text)
    print(f"wrote {DATA_FILE} ({len(text.encode()) / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
