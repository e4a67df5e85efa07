"""Re-execute chapters in place from a fresh kernel (``make notebooks``).

Outputs and widget state are stored; per-cell timestamps are not, and the
random ids of widget models are replaced by ids that follow from the widgets'
structure, so a re-run that changes nothing leaves the files unchanged.

Usage: python tools/execute_notebooks.py [NOTEBOOK ...]   (default: every chapter)
"""

import hashlib
import json
import pathlib
import re
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = pathlib.Path(__file__).resolve().parent.parent
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
MODEL_ID = re.compile(r"[0-9a-f]{32}")


def stable_widget_ids(notebook):
    """Rename widget models in the order they are reached from the displayed widgets.

    Models are visited depth first from each displayed widget, children in the
    order of their attribute names; models nothing displays come last, sorted
    by their state. Returns the notebook with every id replaced.
    """
    state = notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    order = []

    def visit(model_id):
        if model_id in state and model_id not in order:
            order.append(model_id)
            attributes = state[model_id]["state"]
            for name in sorted(attributes):
                for child in re.findall(r"IPY_MODEL_([0-9a-f]{32})", json.dumps(attributes[name])):
                    visit(child)

    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if WIDGET_VIEW in output.get("data", {}):
                visit(output["data"][WIDGET_VIEW]["model_id"])
    masked = {m: MODEL_ID.sub("", json.dumps(state[m], sort_keys=True)) for m in state}
    order += sorted((m for m in state if m not in order), key=masked.get)
    names = {old: hashlib.md5(f"widget {i}".encode()).hexdigest() for i, old in enumerate(order)}
    text = MODEL_ID.sub(lambda match: names.get(match.group(), match.group()), json.dumps(notebook))
    return nbformat.from_dict(json.loads(text))


def execute(path):
    """Run one notebook top to bottom in its own folder and save it."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        record_timing=False,
        store_widget_state=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    nbformat.write(stable_widget_ids(notebook), path)


def main(arguments):
    """Execute the notebooks named in ``arguments``, or every chapter."""
    paths = [pathlib.Path(a).resolve() for a in arguments] or sorted(
        (ROOT / "chapters").glob("[0-9][0-9]-*.ipynb")
    )
    for path in paths:
        start = time.perf_counter()
        try:
            execute(path)
        except CellExecutionError as error:
            sys.exit(f"error: {path.name} failed; fix the cell below and run again.\n{error}")
        print(f"{path.relative_to(ROOT)}: executed in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
