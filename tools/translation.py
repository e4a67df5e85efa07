"""Keep the Chinese edition (zh/) in step with the English book, and say what is stale.

A translated Markdown page starts with ``% translation of PATH`` (PATH from the repository's
root) and marks each of its sections, before the section's heading, with ``% source HASH``:
the fingerprint of the English section it translates. Sections are split at headings outside
code fences; the text before the first heading is a section too. When an English section
changes, its fingerprint no longer matches, and ``status`` names it.

A translated chapter (zh/chapters/NN-name.ipynb) holds the English chapter's cells in the same
order. Its code cells are the English ones, byte for byte (source, outputs, metadata), except a
figure's caption and alt text: ``sync`` copies them, so nbval runs the English chapter once for
both editions and a number never differs between them (tools/execute_notebooks.py syncs the
twin whenever it writes an English chapter). Each Markdown cell and each figure cell carries
``metadata.translation = {"source": ENGLISH CELL ID, "sha": FINGERPRINT}``; ``sync`` keeps a
translation under the English cell it came from and gives a new English cell the English text,
marked untranslated (``"sha": null``). The cells tools/lab_markup.py generates are not compared:
it writes them in Chinese from the translated cells. Until a chapter is declared finished
(notebook metadata ``translation.complete``), untranslated cells are work in progress: the
chapter shows a note saying so, and ``status`` counts them without failing.

Usage (from the repository's root):
  python tools/translation.py status [--pending]  list every stale section or cell (and, with
                                                  --pending, every cell still to translate)
  python tools/translation.py sync NOTEBOOK ...   copy code and outputs from the English chapter
  python tools/translation.py stamp FILE [N...]   record the English fingerprints a translator has
                                                  checked: all of FILE's, or sections/cells N only
"""

import copy
import hashlib
import json
import pathlib
import re
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import execute_notebooks  # noqa: E402
import lab_markup  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
EDITION = ROOT / "zh"
ORIGIN = re.compile(r"^% translation of (\S+)\s*$")
SOURCE = re.compile(r"^% source ([0-9a-f]{12}|untranslated)\s*$")
HEADING = re.compile(r"^#{1,6} ")
FENCE = re.compile(r"^\s*(```|~~~|:::)")
CHINESE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


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


def _prose(cells):
    """The cells a translator and this tool compare: all but the ones lab_markup generates."""
    return [cell for cell in cells if not lab_markup.is_generated(cell)]


def figure_text(cell):
    """A figure cell's words, which a translation replaces: its caption and its alt text."""
    mystnb = cell.get("metadata", {}).get("mystnb", {})
    caption = mystnb.get("figure", {}).get("caption")
    return None if caption is None else caption + "\n" + mystnb.get("image", {}).get("alt", "")


def translatable_text(cell):
    """The English text a cell's translation records: its Markdown, or its figure's words."""
    if cell["cell_type"] == "markdown":
        return "".join(cell["source"])
    return figure_text(cell)


def _code_view(cell):
    """A code cell without what a translation may change: its figure's words and the record."""
    view = copy.deepcopy({key: cell.get(key) for key in ("cell_type", "source", "outputs")})
    metadata = copy.deepcopy(cell.get("metadata", {}))
    metadata.pop("translation", None)
    metadata.get("mystnb", {}).get("figure", {}).pop("caption", None)
    metadata.get("mystnb", {}).get("image", {}).pop("alt", None)
    return view | {"metadata": metadata}


def complete(notebook):
    """Whether a translated chapter is declared finished (every cell then must be translated)."""
    return bool(notebook.get("metadata", {}).get("translation", {}).get("complete"))


def notebook_report(path, english=None, pending=None):
    """Stale, untranslated or diverging cells of a translated chapter, one line each.

    In a chapter not yet declared complete, untranslated cells are work in progress: they go
    to the list ``pending`` (when given) instead of the problems.
    """
    notebook = json.loads(pathlib.Path(path).read_text())
    english = _prose(
        json.loads(pathlib.Path(english or english_chapter(path)).read_text())["cells"]
    )
    cells = _prose(notebook["cells"])
    if [c.get("id") for c in cells] != [c.get("id") for c in english]:
        return [f"{path}: cells differ from the English chapter's: run 'sync'"]
    problems = []
    for index, (ours, theirs) in enumerate(zip(cells, english, strict=True)):
        if theirs["cell_type"] != "markdown" and _code_view(ours) != _code_view(theirs):
            problems.append(f"{path}: cell {index} ({theirs['id']}) differs: run 'sync'")
            continue
        text = translatable_text(theirs)
        if text is None:
            continue
        record = ours.get("metadata", {}).get("translation", {})
        if record.get("sha") is None:
            line = f"{path}: cell {index} untranslated: {_first_line(text)}"
            (problems if pending is None or complete(notebook) else pending).append(line)
        elif record["sha"] != fingerprint(text):
            problems.append(f"{path}: cell {index} stale: {_first_line(text)}")
    return problems


def _translate_figure(cell, kept):
    """``cell`` (English) with the figure words and record of its translation ``kept``."""
    if kept is None or "translation" not in kept.get("metadata", {}):
        cell["metadata"]["translation"] = _untranslated(cell)
        return cell
    ours, theirs = kept["metadata"]["mystnb"], cell["metadata"]["mystnb"]
    theirs["figure"]["caption"] = ours["figure"]["caption"]
    if "alt" in ours.get("image", {}):
        theirs.setdefault("image", {})["alt"] = ours["image"]["alt"]
    cell["metadata"]["translation"] = kept["metadata"]["translation"]
    return cell


def _untranslated(cell):
    """The record of an English cell copied untranslated: its id and the copy's fingerprint."""
    return {"source": cell["id"], "sha": None, "copied": fingerprint(translatable_text(cell))}


def _begun(cell, record):
    """Whether a translator has begun an untranslated cell, which then keeps its text.

    A cell still holding the English it was copied from (``copied``, its fingerprint) takes
    the new English instead, even where that English quotes Chinese. A cell copied before
    copies were fingerprinted counts as begun if it holds Chinese.
    """
    text = translatable_text(cell) or ""
    if "copied" in record:
        return fingerprint(text) != record["copied"]
    return bool(CHINESE.search(text))


def sync(path, english=None):
    """Rewrite a translated chapter from its English one, keeping the translations.

    Code, outputs and widget state come from the English chapter; each Markdown cell and each
    figure's caption and alt text keep their translation, found by the English cell's id. Then
    the generated cells and stored values are written as for the English chapter
    (tools/execute_notebooks.py's ``fold``), in Chinese.
    """
    path = pathlib.Path(path)
    source = json.loads(pathlib.Path(english or english_chapter(path)).read_text())
    kept, finished = {}, False
    if path.exists():
        old = json.loads(path.read_text())
        finished = complete(old)
        for cell in old["cells"]:
            record = cell.get("metadata", {}).get("translation", {})
            if "source" not in record:  # a generated cell
                continue
            if record.get("sha") is not None or _begun(cell, record):
                kept[record["source"]] = cell
    result = copy.deepcopy(source)
    result["cells"] = _prose(result["cells"])
    for index, cell in enumerate(result["cells"]):
        if cell["cell_type"] == "markdown":
            result["cells"][index] = kept.get(cell["id"]) or cell
            result["cells"][index].setdefault("metadata", {}).setdefault(
                "translation", _untranslated(cell)
            )
        elif figure_text(cell) is not None:
            result["cells"][index] = _translate_figure(cell, kept.get(cell["id"]))
    if finished:
        result["metadata"]["translation"] = {"complete": True}
    path.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    if pathlib.Path(path).resolve().is_relative_to(EDITION):
        execute_notebooks.fold(path)


def stamp(path, which=(), english_path=None):
    """Record the current English fingerprints in a translated page or chapter.

    For a chapter, ``which`` numbers cells as ``status`` does (generated cells not counted).
    """
    path = pathlib.Path(path)
    if path.suffix == ".ipynb":
        notebook = json.loads(path.read_text())
        english = _prose(json.loads((english_path or english_chapter(path)).read_text())["cells"])
        for index, (ours, theirs) in enumerate(
            zip(_prose(notebook["cells"]), english, strict=True)
        ):
            text = translatable_text(theirs)
            if text is not None and (not which or index in which):
                ours["metadata"]["translation"] = {"source": theirs["id"], "sha": fingerprint(text)}
        path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
        if path.resolve().is_relative_to(EDITION):
            execute_notebooks.fold(path)
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


def report(edition=EDITION, pending=None):
    """Every problem of every translated file.

    Untranslated cells of unfinished chapters go to the list ``pending`` when it is given.
    """
    problems = []
    for path in translated_files(edition):
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        found = page_report(path) if path.suffix == ".md" else notebook_report(path, None, pending)
        problems += [p.replace(str(path), str(shown), 1) for p in found]
    if pending is not None:
        pending[:] = [p.replace(f"{ROOT}/", "", 1) for p in pending]
    return problems


def main(argv):
    """The command line: status, sync or stamp (see the module's docstring)."""
    if argv[:1] == ["status"] and len(argv) <= 2 and argv[1:] in ([], ["--pending"]):
        pending = []
        problems = report(pending=pending)
        if argv[1:]:
            print("\n".join(pending))
        counts = {}
        for line in pending:
            counts[line.split(":")[0]] = counts.get(line.split(":")[0], 0) + 1
        summary = "".join(f"\n  {name}: {n} cells to translate" for name, n in counts.items())
        print(
            "\n".join(problems)
            or f"every translation is current ({len(translated_files())} files)"
            + (f"; in progress (status --pending lists the cells):{summary}" if counts else "")
        )
        return 1 if problems else 0
    if argv[:1] == ["sync"] and len(argv) >= 2:
        for path in argv[1:]:
            sync(path)
        return 0
    if argv[:1] == ["stamp"] and len(argv) >= 2:
        stamp(argv[1], {int(n) for n in argv[2:]})
        return 0
    print(__doc__.split("Usage")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
