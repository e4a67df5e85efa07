"""Keep the Chinese edition (zh/) in step with the English book, and say what is stale.

A translated Markdown page starts with ``% translation of PATH`` (PATH from the repository's
root) and marks each of its sections, before the section's heading, with ``% source HASH``:
the fingerprint of the English section it translates. Sections are split at headings outside
code fences; the text before the first heading is a section too. When an English section
changes, its fingerprint no longer matches, and ``status`` names it.

A translated chapter (zh/chapters/NN-name.ipynb) holds the English chapter's cells in the same
order. Its code cells are the English ones, byte for byte (source, outputs, metadata): ``sync``
copies them, so nbval runs the English chapter once for both editions and a number never
differs between them. Each Markdown cell carries ``metadata.translation = {"source": ENGLISH
CELL ID, "sha": FINGERPRINT}``; ``sync`` keeps a translation under the English cell it came from
and gives a new English cell the English text, marked untranslated (``"sha": null``).

Usage (from the repository's root):
  python tools/translation.py status            list every stale or untranslated section or cell
  python tools/translation.py sync NOTEBOOK     copy code and outputs from the English chapter
  python tools/translation.py stamp FILE [N...] record the English fingerprints a translator has
                                                checked: all of FILE's, or sections/cells N only
"""

import copy
import hashlib
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
EDITION = ROOT / "zh"
ORIGIN = re.compile(r"^% translation of (\S+)\s*$")
SOURCE = re.compile(r"^% source ([0-9a-f]{12}|untranslated)\s*$")
HEADING = re.compile(r"^#{1,6} ")
FENCE = re.compile(r"^\s*(```|~~~|:::)")


def fingerprint(text):
    """A short hash of ``text``, blind to trailing spaces and blank lines at either end."""
    normal = "\n".join(line.rstrip() for line in text.strip().splitlines())
    return hashlib.sha256(normal.encode()).hexdigest()[:12]


def sections(markdown):
    """``markdown`` split before each heading outside code fences: a list of texts."""
    parts, current, fenced = [], [], False
    for line in markdown.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        if HEADING.match(line) and not fenced and any(part.strip() for part in current):
            parts.append("\n".join(current))
            current = []
        current.append(line)
    parts.append("\n".join(current))
    return parts


def _first_line(text):
    return next((line for line in text.splitlines() if line.strip()), "")[:60]


def page_report(path):
    """Stale or untranslated sections of a translated Markdown page, one line each."""
    lines = pathlib.Path(path).read_text().splitlines()
    if not lines or not ORIGIN.match(lines[0]):
        raise ValueError(f"path: {path} does not start with '% translation of PATH'")
    english = sections((ROOT / ORIGIN.match(lines[0]).group(1)).read_text())
    recorded = [m.group(1) for m in map(SOURCE.match, lines) if m]
    problems = []
    for index, text in enumerate(english):
        if index >= len(recorded) or recorded[index] == "untranslated":
            problems.append(f"{path}: section {index} untranslated: {_first_line(text)}")
        elif recorded[index] != fingerprint(text):
            problems.append(f"{path}: section {index} stale: {_first_line(text)}")
    if len(recorded) > len(english):
        problems.append(f"{path}: {len(recorded) - len(english)} section(s) more than the English")
    return problems


def english_chapter(path):
    """The English chapter a translated chapter follows: the same name in chapters/."""
    return ROOT / "chapters" / pathlib.Path(path).name


def _code_view(cell):
    return {key: cell.get(key) for key in ("cell_type", "source", "outputs", "metadata")}


def notebook_report(path, english=None):
    """Stale, untranslated or diverging cells of a translated chapter, one line each."""
    english = json.loads(pathlib.Path(english or english_chapter(path)).read_text())["cells"]
    cells = json.loads(pathlib.Path(path).read_text())["cells"]
    if [c.get("id") for c in cells] != [c.get("id") for c in english]:
        return [f"{path}: cells differ from the English chapter's: run 'sync'"]
    problems = []
    for index, (ours, theirs) in enumerate(zip(cells, english, strict=True)):
        if theirs["cell_type"] != "markdown":
            if _code_view(ours) != _code_view(theirs):
                problems.append(f"{path}: cell {index} ({theirs['id']}) differs: run 'sync'")
            continue
        record = ours.get("metadata", {}).get("translation", {})
        if record.get("sha") is None:
            problems.append(
                f"{path}: cell {index} untranslated: {_first_line(''.join(theirs['source']))}"
            )
        elif record["sha"] != fingerprint("".join(theirs["source"])):
            problems.append(f"{path}: cell {index} stale: {_first_line(''.join(theirs['source']))}")
    return problems


def sync(path, english=None):
    """Rewrite a translated chapter from its English one, keeping the translations."""
    path = pathlib.Path(path)
    source = json.loads(pathlib.Path(english or english_chapter(path)).read_text())
    kept = {}
    if path.exists():
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "markdown" and "translation" in cell.get("metadata", {}):
                kept[cell["metadata"]["translation"]["source"]] = cell
    result = copy.deepcopy(source)
    for index, cell in enumerate(result["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        if cell["id"] in kept:
            result["cells"][index] = kept[cell["id"]]
        else:
            cell.setdefault("metadata", {})["translation"] = {"source": cell["id"], "sha": None}
    path.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")


def stamp(path, which=()):
    """Record the current English fingerprints in a translated page or chapter."""
    path = pathlib.Path(path)
    if path.suffix == ".ipynb":
        notebook = json.loads(path.read_text())
        english = json.loads(english_chapter(path).read_text())["cells"]
        for index, (ours, theirs) in enumerate(zip(notebook["cells"], english, strict=True)):
            if theirs["cell_type"] == "markdown" and (not which or index in which):
                ours["metadata"]["translation"] = {
                    "source": theirs["id"],
                    "sha": fingerprint("".join(theirs["source"])),
                }
        path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
        return
    lines = path.read_text().splitlines()
    english = sections((ROOT / ORIGIN.match(lines[0]).group(1)).read_text())
    index = -1
    for number, line in enumerate(lines):
        if SOURCE.match(line):
            index += 1
            if index < len(english) and (not which or index in which):
                lines[number] = f"% source {fingerprint(english[index])}"
    path.write_text("\n".join(lines) + "\n")


def translated_files(edition=EDITION):
    """Every translated page and chapter of the edition."""
    pages = [p for p in sorted(edition.rglob("*.md")) if ORIGIN.match(p.read_text().split("\n")[0])]
    return pages + sorted((edition / "chapters").glob("*.ipynb"))


def report(edition=EDITION):
    """Every problem of every translated file."""
    problems = []
    for path in translated_files(edition):
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        found = page_report(path) if path.suffix == ".md" else notebook_report(path)
        problems += [p.replace(str(path), str(shown), 1) for p in found]
    return problems


def main(argv):
    """The command line: status, sync or stamp (see the module's docstring)."""
    if argv[:1] == ["status"] and len(argv) == 1:
        problems = report()
        print(
            "\n".join(problems) or f"every translation is current ({len(translated_files())} files)"
        )
        return 1 if problems else 0
    if argv[:1] == ["sync"] and len(argv) == 2:
        sync(argv[1])
        return 0
    if argv[:1] == ["stamp"] and len(argv) >= 2:
        stamp(argv[1], {int(n) for n in argv[2:]})
        return 0
    print(__doc__.split("Usage")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
