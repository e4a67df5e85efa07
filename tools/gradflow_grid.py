"""Write web/gradflow/grid.js, the numbers the website's gradient-flow player draws.

The website runs no Python, so chapter 6's player steps through a grid
precomputed by ``resnet_book.explorer.flow_grid`` (``make grid``). A unit test
fails when the file no longer matches the library.

Usage: python tools/gradflow_grid.py [--check]
"""

import json
import pathlib
import sys

from resnet_book import explorer

GRID_FILE = pathlib.Path(__file__).resolve().parent.parent / "web" / "gradflow" / "grid.js"


def render():
    """The file's text: one JavaScript assignment, so the page needs no fetch."""
    grid = json.dumps(explorer.flow_grid(), separators=(",", ":"), sort_keys=True)
    return f"window.GRADFLOW_GRID = {grid};\n"


def main():
    """Write the file, or with --check exit 1 if it is stale."""
    text = render()
    if "--check" in sys.argv[1:]:
        if GRID_FILE.read_text() != text:
            sys.exit(f"error: {GRID_FILE} is stale: run 'make grid'")
        return
    GRID_FILE.write_text(text)
    print(f"wrote {GRID_FILE} ({len(text) / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
