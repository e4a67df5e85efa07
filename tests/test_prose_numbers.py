"""Every number in the prose is computed by the code (glued), mathematics, or cited.

The book promises that every number in its text is computed by the code above it or cited. This
test reads the Markdown cells of every chapter notebook, intro.md and glossary.md, and fails on
each number a reader sees as prose that no glue role computes and no citation backs.

The scanner, and how it reads a text, is tools/prose_scan.py.

Run this file as a script to print every finding, one a line, without pytest.
"""

import pathlib
import re
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tools"))
import prose_scan as scan  # noqa: E402


def test_scanner_flags_a_typed_number_and_every_form_of_one():
    assert scan.scan_markdown("We trained for 200 steps.") == [("200", "We trained for 200 steps.")]
    text = "It has 2,752 weights, a rate of 1e-4, 10^11 sums, 45% error and a slope of 1/4."
    assert [number for number, _ in scan.scan_markdown(text)] == [
        "2,752",
        "1e-4",
        "10^11",
        "45%",
        "1/4",
    ]


def test_scanner_allows_glue_mathematics_code_names_and_references():
    text = (
        "The error is {glue:text}`x:.2f`, about $10^{11}$ sums, computed by `f(3)`.\n"
        "ResNet-56, plain-20 and ResNet-50 v1.5 use 3x3 and 16 × 16 maps in float32.\n"
        "Chapter 6 and section 4.2 repeat equation (2), see Figure 6 and [it](https://a.b/7).\n"
        "\n```python\nsteps = 200\n```\n"
    )
    assert scan.scan_markdown(text) == []


def test_scanner_exempts_a_sentence_with_a_citation_but_not_its_neighbour():
    text = "It reached 3.57% error {cite}`he2016deep`. We trained it for 12 epochs."
    assert scan.scan_markdown(text) == [("12", "We trained it for 12 epochs.")]
    assert scan.scan_markdown("He et al. measured 28.54% {cite:p}`he2016deep`.") == []


def test_a_number_the_code_writes_as_a_literal_is_a_setting_and_passes():
    text = "We train 10 blocks for 25 epochs at a rate of 0.1, a 45% share, and reach 0.97."
    found = scan.scan_markdown(text, settings={10.0, 25.0, 0.45, 0.1})
    assert [number for number, _ in found] == ["0.97"]


def test_scanner_reads_admonitions_as_prose_and_skips_list_markers_and_headings():
    text = (
        "(sec-2)=\n## 2. A heading\n% a comment on 5 lines\n\n1. first item\n2. second item\n\n"
        "```{admonition} Solution\n:class: dropdown\nIt took 7 seconds.\n```\n"
        "**Exercise 1.** What happened in\n2015.\n"
    )
    assert [number for number, _ in scan.scan_markdown(text)] == ["7", "2015"]


def test_scanner_reads_chinese_sentences_and_cross_references():
    text = (
        "见第 6 章和 3.2 节，图 6.1 与练习 1。它的增长约为3.6倍！"
        "其余见 {cite}`he2016deep` 的 7 层。"
    )
    # only the number glued to Chinese characters is a finding
    assert scan.scan_markdown(text) == [("3.6", "它的增长约为3.6倍！")]


def test_the_allow_list_is_short_and_every_entry_is_still_needed():
    assert len(scan.ALLOWED) <= 15
    # both editions' pages, each under its own path (a chapter's twin shares its stem)
    texts = [
        (path.stem, "\n".join(text for _, text in scan.markdown_cells(path)))
        for path in scan.SOURCES
    ]
    for key, reason in scan.ALLOWED.items():
        stem, phrase = key if isinstance(key, tuple) else (None, key)
        assert reason and re.search(r"\d", phrase), key
        assert any(phrase in text for name, text in texts if stem in (None, name)), key


@pytest.mark.parametrize("path", scan.SOURCES, ids=lambda path: path.name)
def test_every_number_in_the_prose_is_glued_mathematics_or_cited(path):
    findings = scan.scan_file(path)
    if findings:
        pytest.fail(
            f"{len(findings)} numbers typed into the prose of {path.name}; glue each one "
            "({glue:text}`name`), write it as mathematics, or cite its sentence:\n"
            + "\n".join(map(str, findings)),
            pytrace=False,
        )


if __name__ == "__main__":
    found = [finding for path in scan.SOURCES for finding in scan.scan_file(path)]
    print("\n".join(map(str, found)))
    sys.exit(1 if found else 0)
