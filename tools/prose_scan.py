r"""How the book reads its Markdown: what is prose, where sentences end, which numbers are typed.

How a Markdown text is scanned, in order:

1. Regions that are not prose are blanked (overwritten with spaces, so that offsets still point
   into the original text): fenced code blocks and verbatim directives ({code-cell}, {math}, ...);
   the fence, argument and option lines of every other directive, whose body is prose (only an
   admonition's or dropdown's title is kept); roles, which covers {glue} and {glue:text} as well
   as {math}, {ref}, {numref}, {doc} and {cite}; inline code; $...$, $$...$$ and
   \begin{...}...\end{...} mathematics; URLs, link and image targets, HTML tags and comments,
   MyST labels such as (sec-2)=, comment lines (% ...), footnote labels and substitutions.
2. The rest is split into sentences. A sentence ends at ".", "!" or "?" (with any closing bracket,
   quote or emphasis mark after it) followed by white space, except after "et al.", "e.g.",
   "i.e.", "cf.", "vs.", "Fig." and "Eq."; a blank line, a line that held only blanked text, a
   heading line and the start of a list item end one too. A sentence that carries a citation role
   ({cite}, {cite:p}, {cite:t}, any other {cite:...}, {footcite}, or tools/lab_markup.py's
   {eval}`cite("...")`) is exempt as a whole: its
   numbers are taken to be the cited source's.
3. Names and labels are blanked: a word glued to digits (float32, v1.5, Conv1D) or joined to them
   by a hyphen (ResNet-56, plain-20, VGG-19, CIFAR-10, MNIST-1D, top-1); sizes (3x3, 32x32x64,
   16 × 16); dimensions (1-D, 2D); a version after a program's name (Python 3.11); cross-references
   (chapter 6, chapters 1 and 6, section 4.2, Figure 6, Table 3, Exercise 1, equation (2), step 2,
   stages 2 and 3); list markers at a line's start (1.) and heading numbers (## 2.).
4. The phrases of ALLOWED, a short reviewed list, are blanked.
5. A number that the notebook's own code writes as a literal (a depth, a width, a learning rate,
   a number of epochs) is a setting of its experiments: the reader sees it and can change it in
   the code, so it passes. "45%" passes for a literal 45 or 0.45. A result is never a literal,
   so it still has to be glued.
6. Every number still left is a finding: integers, decimals, percentages, thousands with commas
   (2,752), fractions (1/4), and powers written outside mathematics (10^11, 1e-4).

Known limits: a result that happens to equal a literal somewhere in the chapter's code passes
as a setting. Numbers spelled out as words ("eight", "a hundred", "three times") are not caught.
Years and decades (2015, the 1990s) are findings like any other number: they are historical
claims, and a citation in the same sentence clears them. Digits glued to the letters before them
are always read as a name, so "x2" passes. Indented (four-space) code blocks are read as prose.
The sentence rule is textual: an abbreviation outside the list above ends a sentence early, and a
full stop without a space after it joins two sentences, which can let a citation cover both.

Used by tests/test_prose_numbers.py (every number in the prose is glued, mathematics or cited)
and by tools/readability.py (the main path's length and sentences).
"""

import ast
import json
import math
import pathlib
import re
from typing import NamedTuple

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
# the Chinese edition's pages and chapters too (zh/): the same rules, with Chinese sentence ends
# and cross-references (第 6 章, 3.2 节, 图 6.1)
CHINESE = sorted(p for p in (ROOT / "zh").rglob("*.md") if "_build" not in p.parts) + sorted(
    (ROOT / "zh" / "chapters").glob("*.ipynb")
)
SOURCES = [*CHAPTERS, ROOT / "intro.md", ROOT / "glossary.md", *CHINESE]

# The reviewed exceptions: an exact phrase (anywhere) or a (file stem, phrase) pair, and why the
# number in it is a definition rather than a quantity. Do not add a sentence here to make the test
# pass; glue its number, write it as mathematics or cite the sentence.
ALLOWED = {
    ("05-keras-code", "the integers 0 to 9"): "the digit classes' names, not a count",
}

# Directives whose body is code or mathematics, not prose.
VERBATIM_DIRECTIVES = {"code", "code-block", "code-cell", "sourcecode", "math", "literalinclude"}
VERBATIM_DIRECTIVES |= {"raw", "eval-rst", "glue:math"}
# Directives whose argument is a title, which the reader sees as prose.
TITLED_DIRECTIVES = {"admonition", "dropdown", "topic", "sidebar", "card", "tab-item"}

FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*(\{([^}]*)\})?(.*)$")
DIRECTIVE_OPTION = re.compile(r"^[ \t]*:[\w-]+:")
CITATION = re.compile(r"\{(?:cite|footcite)(?::[a-z]+)?\}`[^`]*`|\{eval\}`cite\(\"[^`]*`")
ROLE = re.compile(r"\{[A-Za-z][\w:.+-]*\}`[^`]*`")
INLINE_CODE = re.compile(r"(`+)(.+?)\1", re.S)
MATH = re.compile(
    r"""\$\$.*?\$\$                                     # display mathematics
      | (?<!\\)\$(?:[^$\n]|\n(?![ \t]*\n))+?(?<!\\)\$   # inline, not across a blank line
      | \\begin\{([\w*]+)\}.*?\\end\{\1\}              # an amsmath environment
    """,
    re.S | re.X,
)
MARKUP = re.compile(
    r"""(?:https?|ftp)://[^\s)>\]]+ | www\.[^\s)>\]]+     # URLs
      | \]\([^)]*\)                                     # link and image targets
      | <!--.*?--> | </?[A-Za-z][\w-]*(?:\s[^<>]*)?/?>  # HTML comments and tags
      | ^[ \t]*\([\w:.-]+\)=[ \t]*$                     # MyST labels: (sec-2)=
      | ^[ \t]*%[^\n]*                                  # MyST comments
      | ^[ \t]*\[[^\]\n]+\]:[ \t]*\S[^\n]*              # link reference definitions
      | \[\^[\w-]+\] | \{\{.*?\}\} | &\#?\w+;           # footnotes, substitutions, entities
    """,
    re.M | re.S | re.X,
)
HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]")
LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|(\d{1,9})[.)])(?:[ \t]|$)")
TERMINATOR = re.compile(r"[.!?][\"'”’)\]*_]*(?=\s)|[。！？][”’」』）)\]*_]*")
ABBREVIATION = re.compile(r"(?:\bal|\be\.g|\bi\.e|\bcf|\bvs|\bFig|\bEq)\.$")
NAMES = [
    # a word glued to digits: float32, v1.5, Conv1D, ResNet50
    re.compile(r"(?<![\w.])[A-Za-z]+\d+(?:\.\d+)*[A-Za-z\d]*"),
    # a word joined to digits by a hyphen: ResNet-56, plain-20, CIFAR-10, MNIST-1D, top-1
    re.compile(r"(?<![\w-])[A-Za-z]+-\d+(?:\.\d+)*[A-Za-z\d]*"),
    # sizes and shapes: 3x3, 32x32x64, 16 × 16
    re.compile(r"(?<![\w.])\d+(?:[ \t]?[x×][ \t]?\d+)+(?![\w.])"),
    # dimensions: 1-D, 2D
    re.compile(r"(?<![\w.])\d-?D\b"),
    # a version after a program's name: Python 3.11
    re.compile(r"\b(?:Python|TensorFlow|Keras|NumPy|Jupyter Book|version)\s+v?\d+(?:\.\d+)*"),
    # cross-references and enumeration labels: chapter 6, chapters 1 and 6, equation (2)
    re.compile(
        r"""\b(?:chapters?|sections?|figures?|tables?|exercises?|equations?|steps?|stages?
              |appendix|listings?)\s+\(?\d+(?:\.\d+)*\)?
            (?:(?:,|,?\s+(?:and|or|to))\s+\(?\d+(?:\.\d+)*\)?)*
        """,
        re.I | re.X,
    ),
    # the same in Chinese: 第 6 章, 第 2 步, 3.2 节, 图 6.1, 表 6, 练习 1, 公式 (2)
    re.compile(
        r"第\s*\d+\s*[章节步项]|\d+(?:\.\d+)*\s*节|(?:图|表|练习|公式|问题)\s*\(?\d+(?:\.\d+)*\)?"
    ),
    # heading numbers: ## 2. or ## 4.2
    re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+\d+(?:\.\d+)*\.?(?=[ \t])", re.M),
]
NUMBER = re.compile(
    r"""(?<![^\W\u3400-\u4dbf\u4e00-\u9fff])  # after a letter, digit or _ (not 汉字): a name
        (?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?           # 7, 0.5, 2,752
        (?:[eE][-+]?\d+|\^\{?[-+]?\d+\}?|/\d+)?        # 1e-4, 10^11, 1/4
        %?
    """,
    re.X,
)
SHOWN_SENTENCE = 300  # characters of a sentence shown in a finding


class Finding(NamedTuple):
    """A number typed into prose: where it is, the number and its sentence."""

    source: str
    cell: int
    number: str
    sentence: str

    def __str__(self):
        return f'{self.source} cell {self.cell}: "{self.number}" in: {self.sentence}'


def blank(text, start, end):
    """Overwrite text[start:end] with spaces, keeping line breaks so that offsets still match."""
    return text[:start] + re.sub(r"[^\n]", " ", text[start:end]) + text[end:]


def blank_matches(text, pattern):
    """Blank every match of a regular expression in text."""
    for match in pattern.finditer(text):
        text = blank(text, match.start(), match.end())
    return text


def blank_fences(text):
    """Blank code blocks and verbatim directives, and the fence and option lines of the others.

    A directive that is not verbatim (an admonition, a note, a dropdown) keeps its body, which
    the reader sees as prose, and a titled directive keeps its title.
    """
    lines = text.splitlines(keepends=True)
    out, stack, options = [], [], False
    for line in lines:
        fence = FENCE.match(line)
        closing = fence and not fence.group(2) and not fence.group(4).strip()
        if stack and closing and fence.group(1).startswith(stack[-1][0]):
            stack.pop()
            out.append(blank(line, 0, len(line)))
        elif stack and stack[-1][1]:
            out.append(blank(line, 0, len(line)))
        elif fence:
            name = (fence.group(3) or "").strip()
            verbatim = not fence.group(2) or name in VERBATIM_DIRECTIVES
            stack.append((fence.group(1), verbatim))
            keep_title = not verbatim and name in TITLED_DIRECTIVES
            out.append(blank(line, 0, fence.start(4) if keep_title else len(line)))
            options = not verbatim
            continue
        elif options and (DIRECTIVE_OPTION.match(line) or line.strip() == "---"):
            out.append(blank(line, 0, len(line)))
            continue
        else:
            out.append(line)
        options = False
    return "".join(out)


def citation_offsets(text):
    """Offsets of the citation roles in text."""
    return [match.start() for match in CITATION.finditer(text)]


def blank_non_prose(text):
    """Blank what the reader does not see as prose: roles, code, mathematics, URLs, tags, labels."""
    for pattern in (ROLE, INLINE_CODE, MATH, MARKUP):
        text = blank_matches(text, pattern)
    return text


def list_item_offsets(text):
    """Offsets of the lines that start a list item, by CommonMark's rule for ordered lists.

    A numbered line interrupts a paragraph only if its number is 1 or a list is open, so a
    sentence that wraps before "2015." does not start a list.
    """
    offsets, offset, previous_blank, in_list = [], 0, True, False
    for line in text.splitlines(keepends=True):
        item = LIST_ITEM.match(line)
        if item and (previous_blank or in_list or item.group(1) in (None, "1")):
            offsets.append(offset)
            in_list = True
        elif previous_blank and line.strip() and not line[0].isspace():
            in_list = False
        previous_blank = not line.strip()
        offset += len(line)
    return offsets


def split_sentences(prose, items):
    """Split blanked prose into sentences, as (start, end) offsets; the module docstring says how.

    items holds the offsets of the lines that start a list item.
    """
    breaks = {0, len(prose), *items}
    offset, after_heading = 0, False
    for line in prose.splitlines(keepends=True):
        if not line.strip() or after_heading or HEADING.match(line):
            breaks |= {offset, offset + len(line)} if not line.strip() else {offset}
        after_heading = bool(HEADING.match(line))
        offset += len(line)
    for end in TERMINATOR.finditer(prose):
        if not ABBREVIATION.search(prose[max(0, end.start() - 6) : end.start() + 1]):
            breaks.add(end.end())
    ordered = sorted(breaks)
    return [(a, b) for a, b in zip(ordered, ordered[1:], strict=False) if prose[a:b].strip()]


def blank_names(prose, items):
    """Blank names and labels: ResNet-56, float32, 3x3, chapter 6, list markers, heading numbers.

    items holds the offsets of the lines that start a list item.
    """
    for offset in items:
        marker = re.match(r"[ \t]*\d+[.)]", prose[offset:])
        if marker:
            prose = blank(prose, offset, offset + marker.end())
    for pattern in NAMES:
        prose = blank_matches(prose, pattern)
    return prose


def blank_allowed(text, prose, stem):
    """Blank the phrases of ALLOWED that apply to the file with this stem, found in text."""
    for key in ALLOWED:
        where, phrase = key if isinstance(key, tuple) else (stem, key)
        if where == stem:
            for match in re.finditer(re.escape(phrase), text):
                prose = blank(prose, match.start(), match.end())
    return prose


def show(sentence):
    """A sentence on one line, shortened to SHOWN_SENTENCE characters."""
    sentence = " ".join(sentence.split())
    if len(sentence) > SHOWN_SENTENCE:
        return sentence[: SHOWN_SENTENCE - 3] + "..."
    return sentence


def values(number):
    """The values a number in prose may stand for: 2,752 for 2752, 45% for 45 and 0.45."""
    digits = number.replace(",", "").rstrip("%")
    if "^" in digits:
        base, exponent = digits.split("^")
        value = float(base) ** float(exponent.strip("{}"))
    elif "/" in digits:
        numerator, denominator = digits.split("/")
        value = float(numerator) / float(denominator)
    else:
        value = float(digits)
    return {value, value / 100} if number.endswith("%") else {value}


def is_setting(number, settings):
    """Whether a number in prose equals one of the literals of the code, ``settings``."""
    return any(math.isclose(v, s, rel_tol=1e-9) for v in values(number) for s in settings)


def code_literals(path):
    """The int and float literals of a notebook's code cells (IPython magics skipped)."""
    if path.suffix != ".ipynb":
        return set()
    literals = set()
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, ast.Constant) and type(node.value) in (int, float):
                literals.add(float(node.value))
    return literals


def scan_markdown(text, stem="", settings=frozenset()):
    """(number, sentence) for every number typed into the prose of a MyST Markdown text.

    ``settings`` are the literals of the notebook's code; a number equal to one passes.
    """
    items = list_item_offsets(text)  # before blanking, which indents a directive's title
    text = blank_fences(text)
    citations = citation_offsets(text)
    prose = blank_non_prose(text)
    sentences = split_sentences(prose, items)
    numbers = blank_allowed(text, blank_names(prose, items), stem)
    found = []
    for start, end in sentences:
        if any(start <= offset < end for offset in citations):
            continue
        for number in NUMBER.finditer(numbers, start, end):
            if not is_setting(number.group(), settings):
                found.append((number.group(), show(text[start:end])))
    return found


def markdown_cells(path):
    """(index, text) of every Markdown cell a reader sees; a Markdown file is one cell, 0.

    A cell tagged remove-cell is left out: the website drops it, and the one such cell, the
    JupyterLab notes that tools/lab_markup.py generates, is copied from glossary.md and
    references.bib, which are read in their own right.
    """
    if path.suffix == ".md":
        return [(0, path.read_text(encoding="utf-8"))]
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [
        (index, "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"])
        for index, cell in enumerate(cells)
        if cell["cell_type"] == "markdown" and "remove-cell" not in cell["metadata"].get("tags", [])
    ]


def scan_file(path):
    """The findings in one chapter notebook or Markdown file."""
    name = path.relative_to(ROOT).as_posix()
    settings = code_literals(path)
    return [
        Finding(name, index, number, sentence)
        for index, text in markdown_cells(path)
        for number, sentence in scan_markdown(text, path.stem, settings)
    ]
