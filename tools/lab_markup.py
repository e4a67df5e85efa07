"""Write each chapter's Markdown so that JupyterLab shows it as the website does.

Readers of Binder and local Jupyter see the chapters through jupyterlab-myst, which renders
MyST (maths, admonitions, dropdowns, glossary terms) but not Jupyter Book's ``{glue:text}``,
``{cite}``, ``{doc}`` and ``{numref}`` roles or the ``literalinclude`` directive. This tool
rewrites those into forms both renderers understand (see README.md, "Numbers in the
prose"):

- ``{glue:text}`key:fmt``` becomes ``{eval}`glued("key:fmt")```, ``{cite}`keys``` becomes
  ``{eval}`cite("keys")``` and ``{numref}`name``` becomes ``{eval}`numref("name")```. The text
  of each is stored in the cell's ``user_expressions`` metadata, the format in which
  jupyterlab-myst keeps the values of inline expressions and shows them without a kernel.
  A number is the chapter's own glue output, formatted by myst-nb's function; a citation is
  "Author et al., year" from references.bib; a figure reference is "Fig. N.k". On the
  website, ``_ext/stored_values.py`` shows the same number and hands citations and figure
  references to Sphinx, so they link.
- ``{doc}`target``` becomes a Markdown link to the notebook, titled as the target is.
- ``literalinclude`` of a ``:pyobject:`` becomes a Python code block, marked by a
  ``% listing: FILE OBJECT`` comment, whose text is copied from ``src/`` on every run.
- JupyterLab shows a figure without the caption the website takes from the cell's metadata:
  a generated cell after each figure, tagged ``remove-cell``, shows its number and caption.
- jupyterlab-myst resolves ``{term}`` only against a glossary in the same notebook, and has no
  bibliography. So the last cell of each chapter, generated and tagged ``remove-cell`` (the
  website drops it and links to glossary.md and references.md instead), holds the glossary
  entries of the terms the chapter uses and the full entries of the works it cites.

``prepare`` is idempotent: ``make notebooks`` runs it after executing a chapter (and
``tools/execute_notebooks.py --fold-only`` without executing), and tests/test_lab_markup.py
fails when a stored chapter differs from what it would write.
"""

import ast
import json
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
GLUE = re.compile(r"\{glue(?::text)?\}`([^`]+)`")
CITE = re.compile(r"\{cite(?::p)?\}`([^`]+)`")
NUMREF = re.compile(r"\{numref\}`([^`<]+)`")
DOC = re.compile(r"\{doc\}`(?:([^`<]*?)\s*<([^`>]+)>|([^`<]+))`")
EVAL = re.compile(r"\{eval\}`([^`]+)`")
INCLUDE = re.compile(
    r"^(?P<fence>`{3,})\{literalinclude\}\s+(?P<file>\S+)\n(?P<options>(?::[^\n]*\n)*)(?P=fence)$",
    re.M,
)
LISTING = re.compile(
    r"^% listing: (?P<file>\S+) (?P<object>\S+)\n(?P<fence>`{3,})python\n(?P<code>.*?)^(?P=fence)$",
    re.M | re.S,
)
TERM = re.compile(r"\{term\}`(?:[^`<]*<([^`>]+)>|([^`<]+))`")
GENERATED = {"tags": ["remove-cell"], "resnet_book": {"generated": "tools/lab_markup.py"}}
# The Chinese edition (zh/) holds the English chapters' cells with translated prose: its
# figures, generated cells and glossary speak Chinese; its listings come from the same src/.
EDITION = ROOT / "zh"
WORDS = {
    "en": {
        "figure": "Fig. {}",
        "caption": "**{number}.** {caption}",
        "notes": "Terms and works cited in this chapter",
        "glossary": ROOT / "glossary.md",
    },
    "zh": {
        "figure": "图 {}",
        "caption": "**{number}** {caption}",
        "notes": "本章术语与引用文献",
        "glossary": EDITION / "glossary.md",
    },
}
PENDING = (
    ":::{note}\n本章尚在翻译中：未译的段落暂以英文原文显示。代码与输出和英文版完全相同。\n:::\n"
)


def language(path):
    """The edition of ``path``: "zh" under zh/, the Chinese edition, else "en"."""
    return "zh" if EDITION in pathlib.Path(path).resolve().parents else "en"


def english_folder(folder):
    """The English book's folder that ``folder`` of the Chinese edition mirrors (or itself)."""
    folder = pathlib.Path(folder).resolve()
    return ROOT / folder.relative_to(EDITION) if EDITION in folder.parents else folder


EXPRESSION = re.compile(r'(?P<kind>glued|cite|numref)\("(?P<argument>[^"]+)"\)$')


def glue_values(notebook):
    """Map each name glued in ``notebook`` to the text/plain of its stored glue output."""
    values = {}
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            record = output.get("metadata", {}).get("scrapbook", {})
            key = record.get("mime_prefix", "") + "text/plain"
            if "name" in record and key in output.get("data", {}):
                values[record["name"]] = output["data"][key]
    return values


def bibliography(path=ROOT / "references.bib"):
    """Map each key of the bibliography to its in-text label, "He et al., 2016".

    The labels are strings that also carry ``order``, the key by which sphinxcontrib-bibtex
    orders the works of one citation: every author's last name as written in the file, braces
    included (so that "{Facebook}" comes after every other name), then the year.
    """
    import codecs

    import latexcodec  # noqa: F401 (registers the "ulatex" codec)
    from pybtex.database import parse_file

    labels = {}
    for key, entry in parse_file(str(path)).entries.items():
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [" ".join(person.prelast_names + person.last_names) for person in people]
        names = names or [
            entry.fields["title"]
        ]  # as sphinxcontrib-bibtex labels a work with no author
        if len(names) == 1:
            authors = names[0]
        elif len(names) == 2:
            authors = f"{names[0]} and {names[1]}"
        else:
            authors = f"{names[0]} et al."
        year = entry.fields.get("year", "n.d.")
        text = codecs.decode(f"{authors}, {year}", "ulatex").replace("{", "").replace("}", "")
        labels[key] = Label(text)
        labels[key].order = (
            " ".join(n for person in people for n in person.last_names) if people else names[0],
            year,
        )
    return labels


class Label(str):
    """A citation's in-text label, with the ``order`` that sorts it among others."""

    order = ("", "")


def figure_numbers(notebook, chapter, label="Fig. {}"):
    """Map each named figure of ``notebook`` to its website number, "Fig. 7.3" (or "图 7.3")."""
    numbers, count = {}, 0
    for cell in notebook["cells"]:
        figure = cell["metadata"].get("mystnb", {}).get("figure", {})
        if cell["cell_type"] == "code" and figure.get("caption"):
            count += 1
            if "name" in figure:
                numbers[figure["name"]] = label.format(f"{chapter}.{count}")
    return numbers


def _title(path):
    """The first level-1 heading of a notebook or Markdown page."""
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text())["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    else:
        text = path.read_text()
    match = re.search(r"^# (.+)$", text, re.M)
    if not match:
        raise ValueError(f"{path} has no level-1 heading to title a link with")
    return match.group(1).strip()


def _document(folder, target):
    for suffix in (".ipynb", ".md"):
        path = (folder / f"{target}{suffix}").resolve()
        if path.exists():
            return path, f"{target}{suffix}"
    raise ValueError(f"{{doc}}`{target}`: no notebook or page {target} beside {folder}")


def source_of(file, name, folder):
    """The source of top-level function or class ``name`` in ``file`` (relative to ``folder``)."""
    path = (folder / file).resolve()
    text = path.read_text()
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name == name:
            lines = text.splitlines(keepends=True)
            return "".join(lines[node.lineno - 1 : node.end_lineno])
    raise ValueError(f"listing: no top-level {name!r} in {file}")


def _listing(file, name, fence, folder):
    code = source_of(file, name, folder)
    if "`" * len(fence) in code:
        raise ValueError(f"listing: {file} {name} holds a run of backticks as long as its fence")
    return f"% listing: {file} {name}\n{fence}python\n{code}{fence}"


def rewrite(text, folder):
    """Rewrite the roles and directives of one Markdown text (see the module's docstring)."""

    def include(match):
        options = dict(
            re.match(r":([^:]+):\s*(.*)", line).groups()
            for line in match.group("options").splitlines()
        )
        if set(options) - {"pyobject", "language"} or options.get("language", "python") != "python":
            raise ValueError(f"literalinclude with options {options}: only :pyobject: is supported")
        return _listing(
            match.group("file"), options["pyobject"], match.group("fence"), english_folder(folder)
        )

    def doc(match):
        text, target = (
            (match.group(1), match.group(2)) if match.group(2) else (None, match.group(3))
        )
        path, link = _document(folder, target.strip())
        return f"[{text or _title(path)}]({link})"

    text = INCLUDE.sub(include, text)
    text = LISTING.sub(
        lambda m: _listing(
            m.group("file"), m.group("object"), m.group("fence"), english_folder(folder)
        ),
        text,
    )
    text = GLUE.sub(lambda m: f'{{eval}}`glued("{m.group(1)}")`', text)
    text = CITE.sub(lambda m: f'{{eval}}`cite("{m.group(1)}")`', text)
    text = NUMREF.sub(lambda m: f'{{eval}}`numref("{m.group(1).strip()}")`', text)
    return DOC.sub(doc, text)


def expression_text(expression, glued, labels, figures):
    """The text an ``{eval}`` expression shows: a formatted number, citation or figure number."""
    from myst_nb.core.variables import format_plain_text

    match = EXPRESSION.match(expression)
    if not match:
        raise ValueError(
            f'{{eval}}`{expression}`: expected glued("..."), cite("...") or numref("...")'
        )
    kind, argument = match.group("kind", "argument")
    if kind == "glued":
        name, _, fmt = argument.partition(":")
        if name not in glued:
            raise ValueError(f"{{eval}}`{expression}`: nothing glued as {name!r} in this chapter")
        return format_plain_text(glued[name], fmt)
    if kind == "cite":
        keys = [key.strip() for key in argument.split(",")]
        unknown = [key for key in keys if key not in labels]
        if unknown:
            raise ValueError(f"{{eval}}`{expression}`: not in references.bib: {unknown}")
        # As sphinxcontrib-bibtex orders them: as the reference list, by author and year.
        ordered = sorted((labels[key] for key in keys), key=lambda label: label.order)
        return "[" + ", ".join(ordered) + "]"
    if argument not in figures:
        raise ValueError(f"{{eval}}`{expression}`: no captioned figure named {argument!r}")
    return figures[argument]


def nbformat_cell(cell):
    """``cell`` as nbformat's node, so that attribute access works as on the other cells."""
    import nbformat

    return nbformat.from_dict(cell)


def glossary(path=ROOT / "glossary.md"):
    """Map each term of a glossary page (lower case) to (term, definition in one line).

    An entry is one or more unindented term lines (the Chinese glossary gives the Chinese term,
    then the English one) followed by its indented definition; each term maps to the entry.
    """
    body = re.search(r"```\{glossary\}\n(.*?)^```", path.read_text(), re.M | re.S).group(1)
    entries = {}
    for block in re.split(r"\n\s*\n", body.strip()):
        lines = block.splitlines()
        count = next(i for i, line in enumerate(lines) if line[:1].isspace())
        definition = " ".join(line.strip() for line in lines[count:])
        for term in lines[:count]:
            entries[term.strip().lower()] = (term.strip(), definition)
    return entries


def references(keys, path=ROOT / "references.bib"):
    """The full entries of ``keys``, in Markdown, as the website's reference list words them."""
    from pybtex.database import parse_file
    from pybtex.style.formatting.unsrt import Style

    data, style = parse_file(str(path)), Style()
    return [
        style.format_entry(key, data.entries[key]).text.render_as("markdown").replace("\\", "")
        for key in keys
    ]


def notes_cell(notebook, labels, terms=None, heading=WORDS["en"]["notes"]):
    """The generated last cell: the chapter's glossary entries and works cited, for JupyterLab."""
    terms = glossary() if terms is None else terms
    text = "\n".join(
        "".join(c["source"])
        for c in notebook["cells"]
        if c["cell_type"] == "markdown"
        and c["metadata"].get("resnet_book") != GENERATED["resnet_book"]
    )
    used = dict.fromkeys((a or b).strip().lower() for a, b in TERM.findall(text))
    unknown = [term for term in used if term not in terms]
    if unknown:
        raise ValueError(f"{{term}} not in glossary.md: {unknown}")
    cited = dict.fromkeys(
        key.strip()
        for group in CITE.findall(text) + re.findall(r'\{eval\}`cite\("([^"]+)"\)`', text)
        for key in group.split(",")
    )
    unknown = [key for key in cited if key not in labels]
    if unknown:
        raise ValueError(f"cited but not in references.bib: {unknown}")
    lines = [
        "% Generated by tools/lab_markup.py from glossary.md and references.bib: JupyterLab",
        "% shows this cell, so that the chapter's terms and citations resolve there. The",
        "% website drops it (remove-cell).",
        f"## {heading}",
        "",
    ]
    if used:
        lines += [":::{glossary}"]
        for term in used:
            name, definition = terms[term]
            lines += [name, f": {definition}", ""]
        lines += [":::", ""]
    for key, entry in zip(cited, references(list(cited)), strict=True):
        lines += [f"- [{labels[key]}] {entry}"]
    return {
        "cell_type": "markdown",
        "id": "lab-notes",
        "metadata": json.loads(json.dumps(GENERATED)),
        "source": "\n".join(lines).rstrip() + "\n",
    }


def with_captions(cells, chapter, words=WORDS["en"]):
    """``cells`` with a generated caption cell after each captioned figure, for JupyterLab.

    JupyterLab shows a figure cell's image but not the caption and number that the website
    takes from its ``mystnb.figure`` metadata; the generated cell, tagged remove-cell, shows
    them below the image there.
    """
    out, count = [], 0
    for cell in cells:
        out.append(cell)
        figure = cell["metadata"].get("mystnb", {}).get("figure", {})
        if cell["cell_type"] != "code" or not figure.get("caption"):
            continue
        count += 1
        number = words["figure"].format(f"{chapter}.{count}")  # as figure_numbers counts
        caption = {
            "cell_type": "markdown",
            "id": f"lab-caption-{count}",
            "metadata": json.loads(json.dumps(GENERATED)),
            "source": words["caption"].format(number=number, caption=figure["caption"].strip())
            + "\n",
        }
        out.append(nbformat_cell(caption))
    return out


def is_generated(cell):
    """Whether ``cell`` is one this tool writes (and rewrites on every run)."""
    return cell["metadata"].get("resnet_book") == GENERATED["resnet_book"]


def pending_cell():
    """The note a partly translated chapter of the Chinese edition shows below its title."""
    return {
        "cell_type": "markdown",
        "id": "zh-pending",
        "metadata": {"resnet_book": dict(GENERATED["resnet_book"])},
        "source": PENDING,
    }


def untranslated(cell):
    """Whether ``cell`` of a Chinese chapter still holds the English text (tools/translation.py)."""
    record = cell["metadata"].get("translation")
    return record is not None and record.get("sha") is None


def prepare(notebook, path, labels=None):
    """Rewrite ``notebook``'s Markdown (read from ``path``) and store every ``{eval}`` text."""
    path = pathlib.Path(path)
    labels = bibliography() if labels is None else labels
    edition = language(path)
    words = WORDS[edition]
    chapter = int(path.name[:2])
    glued = glue_values(notebook)
    figures = figure_numbers(notebook, chapter, words["figure"])
    cells = [c for c in notebook["cells"] if not is_generated(c)]
    notebook["cells"] = cells
    for cell in cells:
        if cell["cell_type"] == "markdown":
            cell["source"] = rewrite("".join(cell["source"]), path.parent)
    terms = glossary(words["glossary"])
    cells.append(nbformat_cell(notes_cell(notebook, labels, terms, words["notes"])))
    cells = with_captions(cells, chapter, words)
    if edition == "zh" and any(untranslated(c) for c in cells):
        cells.insert(1, nbformat_cell(pending_cell()))
    notebook["cells"] = cells
    for cell in notebook["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        text = rewrite("".join(cell["source"]), path.parent)
        cell["source"] = text
        expressions = dict.fromkeys(EVAL.findall(text))
        stored = [
            {
                "expression": expression,
                "result": {
                    "data": {"text/plain": expression_text(expression, glued, labels, figures)},
                    "metadata": {},
                    "status": "ok",
                },
            }
            for expression in expressions
        ]
        if stored:
            cell["metadata"]["user_expressions"] = stored
        else:
            cell["metadata"].pop("user_expressions", None)
    return notebook
