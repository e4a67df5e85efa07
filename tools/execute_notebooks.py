"""Re-execute chapters in place from a fresh kernel (``make notebooks``).

Outputs and widget state are stored; per-cell timestamps are not, so a
re-run that changes nothing leaves the files unchanged.

Usage: python tools/execute_notebooks.py [NOTEBOOK ...]   (default: every chapter)
"""

import pathlib
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = pathlib.Path(__file__).resolve().parent.parent


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
    nbformat.write(notebook, path)


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
