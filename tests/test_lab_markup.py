"""tools/lab_markup.py: the chapters' prose as JupyterLab shows it, equal to the computation."""

import copy
import json
import pathlib
import sys

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import lab_markup  # noqa: E402

CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]-*.ipynb")) + sorted(
    (ROOT / "zh" / "chapters").glob("[0-9][0-9]-*.ipynb")
)


@pytest.fixture(scope="module")
def labels():
    return lab_markup.bibliography()


@pytest.mark.parametrize(
    "path", CHAPTERS, ids=lambda path: f"{lab_markup.language(path)}-{path.stem}"
)
def test_stored_chapter_is_as_jupyterlab_shows_it(path, labels):
    """Every number equals its glue output, every listing its source: nothing left to rewrite."""
    stored = nbformat.read(path, as_version=4)
    prepared = lab_markup.prepare(copy.deepcopy(stored), path, labels)
    assert prepared == stored, (
        f"{path.name} differs from what tools/lab_markup.py writes: a glued value, a listing "
        "or the glossary changed. Run 'python tools/execute_notebooks.py --fold-only' "
        f"{path.relative_to(ROOT)} (or make notebooks)."
    )
    text = json.dumps([c["source"] for c in stored.cells if c["cell_type"] == "markdown"])
    for raw in ("{glue", "{cite}", "{doc}", "{numref}", "{literalinclude}"):
        assert raw not in text


def _cell(source, glued=None):
    cells = [nbformat.v4.new_markdown_cell(source)]
    for name, value in (glued or {}).items():
        output = nbformat.v4.new_output(
            "display_data",
            data={"application/papermill.record/text/plain": value},
            metadata={"scrapbook": {"name": name, "mime_prefix": "application/papermill.record/"}},
        )
        cells.append(nbformat.v4.new_code_cell("glue(...)", outputs=[output]))
    return nbformat.v4.new_notebook(cells=cells)


def test_a_glued_number_is_stored_formatted_as_myst_nb_formats_it(labels, tmp_path):
    notebook = _cell(
        "Width {glue:text}`width:,`, error {glue:text}`err:.1%`.",
        {"width": "4608", "err": "0.0312"},
    )
    cell = lab_markup.prepare(notebook, tmp_path / "02-x.ipynb", labels).cells[0]
    assert cell.source == 'Width {eval}`glued("width:,")`, error {eval}`glued("err:.1%")`.'
    stored = {
        e["expression"]: e["result"]["data"]["text/plain"] for e in cell.metadata.user_expressions
    }
    assert stored == {'glued("width:,")': "4,608", 'glued("err:.1%")': "3.1%"}


def test_a_number_nothing_glued_is_an_error_that_names_it(labels, tmp_path):
    with pytest.raises(ValueError, match="nothing glued as 'width'"):
        lab_markup.prepare(_cell("{glue:text}`width`"), tmp_path / "02-x.ipynb", labels)


def test_citations_read_author_year_and_an_unknown_key_is_an_error(labels, tmp_path):
    notebook = _cell("As shown {cite}`he2016deep,glorot2010understanding`.")
    cell = lab_markup.prepare(notebook, tmp_path / "02-x.ipynb", labels).cells[0]
    (entry,) = cell.metadata.user_expressions
    assert entry["result"]["data"]["text/plain"] == "[Glorot and Bengio, 2010, He et al., 2016a]"
    with pytest.raises(ValueError, match="not in references.bib"):
        lab_markup.prepare(_cell("{cite}`nobody1999`"), tmp_path / "02-x.ipynb", labels)


def test_a_figure_reference_gets_the_websites_number(labels, tmp_path):
    notebook = _cell("See {numref}`fig-b`.")
    for name in ("fig-a", "fig-b"):
        figure = nbformat.v4.new_code_cell("plot()")
        figure.metadata["mystnb"] = {"figure": {"caption": "A figure.", "name": name}}
        notebook.cells.append(figure)
    cell = lab_markup.prepare(notebook, tmp_path / "07-x.ipynb", labels).cells[0]
    assert cell.metadata.user_expressions[0]["result"]["data"]["text/plain"] == "Fig. 7.2"
    with pytest.raises(ValueError, match="no captioned figure named 'fig-c'"):
        lab_markup.prepare(_cell("{numref}`fig-c`"), tmp_path / "07-x.ipynb", labels)


def test_a_document_link_is_titled_as_its_target(tmp_path):
    (tmp_path / "06-flow.ipynb").write_text(
        json.dumps({"cells": [{"cell_type": "markdown", "source": ["# Gradient flow\n"]}]})
    )
    text = "See {doc}`06-flow` and {doc}`the flow <06-flow>`."
    assert lab_markup.rewrite(text, tmp_path) == (
        "See [Gradient flow](06-flow.ipynb) and [the flow](06-flow.ipynb)."
    )
    with pytest.raises(ValueError, match="no notebook or page"):
        lab_markup.rewrite("{doc}`07-missing`", tmp_path)


def test_a_listing_is_copied_from_the_source_and_follows_it(tmp_path):
    source = tmp_path / "module.py"
    source.write_text("def f(x):\n    return x\n\n\ndef g():\n    pass\n")
    text = (
        "````{admonition} Box\n```{literalinclude} module.py\n"
        ":pyobject: f\n:language: python\n```\n````"
    )
    listing = lab_markup.rewrite(text, tmp_path)
    assert (
        listing == "````{admonition} Box\n% listing: module.py f\n"
        "```python\ndef f(x):\n    return x\n```\n````"
    )
    source.write_text("def f(x):\n    return 2 * x\n")
    assert "return 2 * x" in lab_markup.rewrite(listing, tmp_path)
    with pytest.raises(ValueError, match="no top-level 'h'"):
        lab_markup.rewrite(listing.replace("module.py f", "module.py h"), tmp_path)


def test_every_term_used_gets_its_glossary_entry_in_the_generated_cell(labels, tmp_path):
    notebook = lab_markup.prepare(
        _cell("A {term}`branch <Branch>` and a {term}`Shortcut`."), tmp_path / "02-x.ipynb", labels
    )
    notes = notebook.cells[-1]
    assert notes.metadata.tags == ["remove-cell"] and notes.source.count("\n: ") == 2
    assert "Branch\n: The layers of a residual block" in notes.source
    with pytest.raises(ValueError, match="not in glossary.md"):
        lab_markup.prepare(_cell("{term}`Flux capacitor`"), tmp_path / "02-x.ipynb", labels)


def test_an_expression_of_another_kind_is_an_error():
    with pytest.raises(ValueError, match=r"expected glued"):
        lab_markup.expression_text("1 + 1", {}, {}, {})


def test_the_chinese_edition_numbers_figures_and_lists_terms_in_chinese(labels, tmp_path):
    """A zh/ chapter: 图 N.k, its glossary entries from zh/glossary.md, a note while unfinished."""
    figure = nbformat.v4.new_code_cell("plot()")
    figure.metadata = {"mystnb": {"figure": {"caption": "曲线。", "name": "fig-a"}}}
    text = nbformat.v4.new_markdown_cell("{term}`BatchNorm` 见 {numref}`fig-a`。")
    text.metadata = {"translation": {"source": "x", "sha": None}}
    title = nbformat.v4.new_markdown_cell("# 标题")
    notebook = nbformat.v4.new_notebook(cells=[title, text, figure])
    path = lab_markup.EDITION / "chapters" / "07-x.ipynb"
    cells = lab_markup.prepare(notebook, path, labels).cells
    sources = [cell.source for cell in cells]
    assert sources[1].startswith(":::{note}\n本章尚在翻译中")
    assert cells[2].metadata.user_expressions[0]["result"]["data"]["text/plain"] == "图 7.1"
    assert sources[4] == "**图 7.1** 曲线。\n"
    assert "## 本章术语与引用文献" in sources[5] and ": 缩写 BN" in sources[5]
    text.metadata["translation"]["sha"] = "0123456789ab"
    cells = lab_markup.prepare(notebook, path, labels).cells
    assert not any("本章尚在翻译中" in cell.source for cell in cells)


def test_a_glossary_entry_with_two_term_lines_answers_to_both():
    entries = lab_markup.glossary(lab_markup.EDITION / "glossary.md")
    assert entries["residual block"][1] == entries["残差块"][1]
    assert entries["残差块"][1].startswith("由若干层")
