"""How long the book's main text is and how long its sentences are, chapter by chapter.

The main text is the prose a reader meets without opening anything: the Markdown cells of a
chapter, without its collapsible boxes ("Going deeper" dropdowns, or any admonition with
``:class: dropdown``), code, mathematics, headings and lists. Roles count as one word (a glued
number, a cross-reference, a term) except citations, which count as none. Sentences are split as
``tools/prose_scan.py`` splits them.

Usage: python tools/readability.py [NOTEBOOK ...]   (default: every chapter)
"""

import pathlib
import re
import sys
from typing import NamedTuple

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import prose_scan as prose  # noqa: E402

MAIN_PATH = [f"{n:02d}" for n in range(1, 9)]  # chapters 1-8; 9-12 are deep dives
LONG = 35  # words: a sentence this long is a long one
WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*")
DROPDOWN_OPTION = re.compile(r"^[ \t]*:class:.*\bdropdown\b", re.M)


class Measure(NamedTuple):
    """The main text of one chapter, measured."""

    words: int
    sentences: list  # the word count of each sentence
    semicolons: int

    @property
    def mean(self):
        """Words per sentence."""
        return self.words / max(len(self.sentences), 1)

    @property
    def long_share(self):
        """The share of sentences of ``LONG`` words or more."""
        return sum(count >= LONG for count in self.sentences) / max(len(self.sentences), 1)

    @property
    def semicolons_per_1000(self):
        """Semicolons per 1,000 words."""
        return 1000 * self.semicolons / max(self.words, 1)


def without_boxes(text):
    """``text`` with every collapsible box removed, its fences and body included."""
    lines, out, stack = text.splitlines(keepends=True), [], []
    for index, line in enumerate(lines):
        fence = prose.FENCE.match(line)
        closing = fence and not fence.group(2) and not fence.group(4).strip()
        if stack and closing and fence.group(1).startswith(stack[-1][0]):
            _, hidden = stack.pop()
            out.append("\n" if hidden or any(h for _, h in stack) else line)
            continue
        if fence and fence.group(2):
            name = (fence.group(3) or "").strip()
            options = "".join(lines[index + 1 : index + 6])
            hidden = name == "dropdown" or bool(DROPDOWN_OPTION.search(options.split("\n\n")[0]))
            stack.append((fence.group(1), hidden or any(h for _, h in stack)))
        elif fence and not stack:
            stack.append((fence.group(1), False))
        out.append("\n" if any(h for _, h in stack) else line)
    return "".join(out)


def without_lists(text):
    """``text`` with every list item, and the lines that continue it, blanked."""
    items = set(prose.list_item_offsets(text))
    out, offset, inside = [], 0, False
    for line in text.splitlines(keepends=True):
        if offset in items:
            inside = True
        elif not line.strip() or not line[0].isspace():
            inside = False  # a blank line or an unindented one ends the item
        out.append("\n" if inside else line)
        offset += len(line)
    return "".join(out)


def main_text(markdown):
    """The prose of one Markdown cell a reader sees without opening a box, roles as words."""
    text = without_lists(without_boxes(markdown))
    text = prose.blank_fences(text)
    text = prose.CITATION.sub(lambda m: " " * len(m.group(0)), text)
    text = prose.ROLE.sub(lambda m: "X" + " " * (len(m.group(0)) - 1), text)
    text = prose.INLINE_CODE.sub(lambda m: "X" + " " * (len(m.group(0)) - 1), text)
    text = prose.MATH.sub(lambda m: "X" + " " * (len(m.group(0)) - 1), text)
    text = prose.blank_matches(text, prose.MARKUP)
    return "\n".join("" if prose.HEADING.match(line) else line for line in text.split("\n"))


def measure(path):
    """The :class:`Measure` of a chapter notebook's main text."""
    sentences, semicolons = [], 0
    for _, markdown in prose.markdown_cells(pathlib.Path(path)):
        text = main_text(markdown)
        for start, end in prose.split_sentences(text, []):
            count = len(WORD.findall(text[start:end]))
            if count:
                sentences.append(count)
        semicolons += text.count(";")
    return Measure(sum(sentences), sentences, semicolons)


def report(paths):
    """One line per chapter and one for the main path, as a table."""
    rows = ["chapter                          words  mean  >=35   ;/1000"]
    total = []
    for path in paths:
        m = measure(path)
        rows.append(
            f"{pathlib.Path(path).stem[:30]:30} {m.words:7,d} {m.mean:5.1f} {m.long_share:5.0%}"
            f" {m.semicolons_per_1000:6.1f}"
        )
        if pathlib.Path(path).stem[:2] in MAIN_PATH:
            total.append(m)
    if total:
        joined = Measure(
            sum(m.words for m in total),
            [c for m in total for c in m.sentences],
            sum(m.semicolons for m in total),
        )
        rows.append(
            f"{'main path (chapters 1-8)':30} {joined.words:7,d} {joined.mean:5.1f}"
            f" {joined.long_share:5.0%} {joined.semicolons_per_1000:6.1f}"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    print(report(sys.argv[1:] or sorted((ROOT / "chapters").glob("[0-9][0-9]-*.ipynb"))))
