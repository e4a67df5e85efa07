"""Re-execute chapters in place from a fresh kernel (``make notebooks``).

Outputs and widget state are stored; per-cell timestamps are not, and the
random ids of widget models are replaced by ids that follow from the widgets'
structure, so a re-run that changes nothing leaves the files unchanged. What the
website folds, JupyterLab folds too (``fold_like_the_website``), and the prose's numbers,
citations, links and listings are written as JupyterLab shows them (``lab_markup.prepare``).

Usage: python tools/execute_notebooks.py [--fold-only] [NOTEBOOK ...]   (default: every chapter)
``--fold-only`` sets the folds and the prose's stored values without executing anything. After
each English chapter, its Chinese twin in zh/chapters/ is synced (tools/translation.py).
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

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import lab_markup  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
MODEL_ID = re.compile(r"[0-9a-f]{32}")
SOLUTION = re.compile(r"\s*(`{3,}|~{3,})\{admonition\}\s+(Solution|参考答案|解答)\b")


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


def fold_like_the_website(notebook):
    """Fold in JupyterLab what the book's website folds, through the cells' ``jupyter`` metadata.

    A cell tagged ``hide-cell`` and an exercise's solution (a Markdown cell that opens with a
    ``Solution`` admonition) are folded whole, so a reader opens them on purpose; a cell tagged
    ``hide-input`` shows its output with its code folded. A code cell tagged ``remove-cell``,
    which the website leaves out (the checks that guard the prose, the glue calls), is folded
    whole too: JupyterLab must run it, and a reader need not read it. Other cells are unfolded.
    """
    for cell in notebook["cells"]:
        tags = cell["metadata"].get("tags", [])
        solution = cell["cell_type"] == "markdown" and SOLUTION.match("".join(cell["source"]))
        folds = {}
        removed = cell["cell_type"] == "code" and "remove-cell" in tags
        if "hide-cell" in tags or solution or removed:
            folds = {"source_hidden": True}
            if cell["cell_type"] == "code":
                folds["outputs_hidden"] = True
        elif "hide-input" in tags:
            folds = {"source_hidden": True}
        jupyter = dict(cell["metadata"].get("jupyter", {}))
        jupyter = {k: v for k, v in jupyter.items() if k not in ("source_hidden", "outputs_hidden")}
        jupyter.update(folds)
        if jupyter:
            cell["metadata"]["jupyter"] = jupyter
        else:
            cell["metadata"].pop("jupyter", None)
    return notebook


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
    notebook = lab_markup.prepare(fold_like_the_website(notebook), path)
    nbformat.write(stable_widget_ids(notebook), path)


def fold(path):
    """Set the folds and the prose's stored values of one notebook without executing it."""
    notebook = fold_like_the_website(nbformat.read(path, as_version=4))
    nbformat.write(lab_markup.prepare(notebook, path), path)


def sync_translation(path):
    """Bring the Chinese twin of English chapter ``path`` (zh/chapters/...) up to date, if any."""
    import translation

    twin = lab_markup.EDITION / path.relative_to(ROOT) if path.is_relative_to(ROOT) else None
    if twin is not None and lab_markup.language(path) == "en" and twin.exists():
        translation.sync(twin)


def main(arguments):
    """Execute the notebooks named in ``arguments``, or every chapter (``--fold-only``: fold).

    The Chinese twin of each English chapter follows it (tools/translation.py ``sync``).
    """
    fold_only = "--fold-only" in arguments
    arguments = [a for a in arguments if a != "--fold-only"]
    paths = [pathlib.Path(a).resolve() for a in arguments] or sorted(
        (ROOT / "chapters").glob("[0-9][0-9]-*.ipynb")
    )
    for path in paths:
        if fold_only:
            fold(path)
            sync_translation(path)
            continue
        start = time.perf_counter()
        try:
            execute(path)
        except CellExecutionError as error:
            sys.exit(f"error: {path.name} failed; fix the cell below and run again.\n{error}")
        sync_translation(path)
        print(f"{path.relative_to(ROOT)}: executed in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
