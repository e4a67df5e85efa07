"""Find the Chromium that the browser checks drive, the way a Playwright user expects.

In order: the executable named by the CHROMIUM environment variable; a Chromium
installed on the system (Debian's and Ubuntu's ``chromium``, or one of the
other usual names on PATH); the browser the pinned Playwright keeps in its
cache, installed with ``playwright install chromium`` if it is not there yet.
Prints the executable's path. If there is none, says how to get one and exits 2.

Usage: python tools/browser.py
"""

import os
import pathlib
import shutil
import subprocess
import sys

SYSTEM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def system_chromium():
    """The system's Chromium on PATH, or None."""
    for name in SYSTEM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def playwright_chromium():
    """The Chromium in Playwright's cache, or None if it has not been installed."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        path = pathlib.Path(playwright.chromium.executable_path)
    return str(path) if path.is_file() else None


def install_playwright_chromium():
    """Run ``playwright install chromium``; return whether it succeeded."""
    command = [sys.executable, "-m", "playwright", "install", "chromium"]
    print("== no Chromium on this system: " + " ".join(command[2:]), file=sys.stderr)
    return subprocess.run(command, stdout=sys.stderr, check=False).returncode == 0


def find_chromium(install=True):
    """The path of the Chromium to drive, or None.

    Args:
        install: Whether to let Playwright download its browser when nothing else is found.

    Raises:
        ValueError: If CHROMIUM names a file that is not there.
    """
    named = os.environ.get("CHROMIUM", "")
    if named:
        if not (pathlib.Path(named).is_file() or shutil.which(named)):
            raise ValueError(
                f"CHROMIUM must name a Chromium executable. Received: CHROMIUM={named!r}"
            )
        return shutil.which(named) or named
    found = system_chromium() or playwright_chromium()
    if found is None and install and install_playwright_chromium():
        found = playwright_chromium()
    return found


def main():
    """Print the path, or explain how to get a browser and exit 2."""
    try:
        found = find_chromium()
    except ValueError as error:
        sys.exit(f"error: {error}")
    if found is None:
        print(
            "error: the browser checks need Chromium, and none was found or could be installed.\n"
            "  On Debian or Ubuntu: sudo apt-get install chromium\n"
            "  Elsewhere: .venv/bin/python -m playwright install chromium (needs the internet),\n"
            "  or point to a Chromium or Chrome you have: make test CHROMIUM=/path/to/chromium",
            file=sys.stderr,
        )
        sys.exit(2)
    print(found)


if __name__ == "__main__":
    main()
