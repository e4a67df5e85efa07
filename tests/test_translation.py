"""The Chinese edition follows the English book: tools/translation.py and the repository's state."""

import json
import pathlib
import re
import subprocess
import sys

import pytest
import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tools"))
import translation  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
ENGLISH = "# Title\n\nFirst paragraph.\n\n## Part\n\n```bash\n# not a heading\n```\n\nMore.\n"


def test_sections_split_at_headings_outside_code_fences():
    parts = translation.sections(ENGLISH)
    assert [translation._first_line(p) for p in parts] == ["# Title", "## Part"]
    assert "# not a heading" in parts[1]


def test_a_fingerprint_ignores_trailing_spaces_but_not_words():
    assert translation.fingerprint("a b  \n\n") == translation.fingerprint("a b")
    assert translation.fingerprint("a b") != translation.fingerprint("a c")


def write_page(tmp_path, monkeypatch, english):
    monkeypatch.setattr(translation, "ROOT", tmp_path)
    (tmp_path / "page.md").write_text(english)
    page = tmp_path / "zh.md"
    page.write_text(
        "% translation of page.md\n% source untranslated\n# 标题\n\n第一段。\n\n"
        "% source untranslated\n## 部分\n\n更多。\n"
    )
    return page


def test_a_page_is_untranslated_until_stamped_then_stale_when_its_english_changes(
    tmp_path, monkeypatch
):
    page = write_page(tmp_path, monkeypatch, ENGLISH)
    assert [p.split(": ", 1)[1] for p in translation.page_report(page)] == [
        "section 0 untranslated: # Title",
        "section 1 untranslated: ## Part",
    ]
    translation.stamp(page)
    assert translation.page_report(page) == []
    (tmp_path / "page.md").write_text(ENGLISH.replace("More.", "More, changed."))
    assert [p.split(": ", 1)[1] for p in translation.page_report(page)] == [
        "section 1 stale: ## Part"
    ]
    (tmp_path / "page.md").write_text(ENGLISH + "\n## New part\n\nNew.\n")
    assert translation.page_report(page)[-1].endswith("section 2 untranslated: ## New part")


def test_a_page_without_its_origin_line_is_a_clear_error(tmp_path):
    page = tmp_path / "zh.md"
    page.write_text("# 标题\n")
    with pytest.raises(ValueError, match="translation of PATH"):
        translation.page_report(page)


def chapter(cells):
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def markdown(cell_id, text):
    return {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": [text]}


def code(cell_id, text, output):
    return {
        "cell_type": "code",
        "id": cell_id,
        "metadata": {"tags": ["hide-input"]},
        "source": [text],
        "execution_count": 1,
        "outputs": [{"output_type": "stream", "name": "stdout", "text": [output]}],
    }


def test_sync_copies_code_and_outputs_and_keeps_translations_under_their_english_cell(tmp_path):
    english = tmp_path / "en.ipynb"
    zh = tmp_path / "zh.ipynb"
    english.write_text(json.dumps(chapter([markdown("a", "Hello."), code("b", "print(1)", "1\n")])))
    translation.sync(zh, english)
    assert [p.split(": ", 1)[1] for p in translation.notebook_report(zh, english)] == [
        "cell 0 untranslated: Hello."
    ]
    notebook = json.loads(zh.read_text())
    notebook["cells"][0]["source"] = ["你好。"]
    notebook["cells"][0]["metadata"]["translation"]["sha"] = translation.fingerprint("Hello.")
    zh.write_text(json.dumps(notebook))
    assert translation.notebook_report(zh, english) == []
    # the English gains a cell and changes its output: sync follows, the translation stays
    cells = [markdown("c", "New."), markdown("a", "Hello."), code("b", "print(1)", "2\n")]
    english.write_text(json.dumps(chapter(cells)))
    assert "run 'sync'" in translation.notebook_report(zh, english)[0]
    translation.sync(zh, english)
    synced = json.loads(zh.read_text())["cells"]
    assert synced[1]["source"] == ["你好。"] and synced[2] == cells[2]
    assert [p.split(": ", 1)[1] for p in translation.notebook_report(zh, english)] == [
        "cell 0 untranslated: New."
    ]
    # an untranslated cell follows its English, unless a translator has begun it
    english.write_text(json.dumps(chapter([markdown("c", "Newer."), *cells[1:]])))
    translation.sync(zh, english)
    assert json.loads(zh.read_text())["cells"][0]["source"] == ["Newer."]
    notebook = json.loads(zh.read_text())
    notebook["cells"][0]["source"] = ["新的。"]
    zh.write_text(json.dumps(notebook))
    translation.sync(zh, english)
    assert json.loads(zh.read_text())["cells"][0]["source"] == ["新的。"]


def test_an_untranslated_cell_quoting_chinese_still_follows_its_english(tmp_path):
    english = tmp_path / "en.ipynb"
    zh = tmp_path / "zh.ipynb"
    english.write_text(json.dumps(chapter([markdown("a", "The article says “残差模块”.")])))
    translation.sync(zh, english)
    english.write_text(json.dumps(chapter([markdown("a", "The article writes “残差模块”.")])))
    translation.sync(zh, english)
    assert json.loads(zh.read_text())["cells"][0]["source"] == ["The article writes “残差模块”."]
    # once a translator changes it, it stays
    notebook = json.loads(zh.read_text())
    notebook["cells"][0]["source"] = ["原文写作“残差模块”。"]
    zh.write_text(json.dumps(notebook))
    english.write_text(json.dumps(chapter([markdown("a", "The article names “残差模块”.")])))
    translation.sync(zh, english)
    assert json.loads(zh.read_text())["cells"][0]["source"] == ["原文写作“残差模块”。"]


def test_a_code_cell_edited_in_the_translation_is_reported(tmp_path):
    english = tmp_path / "en.ipynb"
    zh = tmp_path / "zh.ipynb"
    english.write_text(json.dumps(chapter([code("b", "print(1)", "1\n")])))
    zh.write_text(json.dumps(chapter([code("b", "print(1)", "1.0\n")])))
    assert translation.notebook_report(zh, english) == [f"{zh}: cell 0 (b) differs: run 'sync'"]


def figure(cell_id, caption, alt):
    cell = code(cell_id, "plot()", "")
    cell["metadata"]["mystnb"] = {"figure": {"caption": caption}, "image": {"alt": alt}}
    return cell


def test_a_figure_s_caption_and_alt_text_are_translated_while_its_code_stays_shared(tmp_path):
    english = tmp_path / "en.ipynb"
    zh = tmp_path / "zh.ipynb"
    english.write_text(json.dumps(chapter([figure("f", "Curves.", "Two curves.")])))
    translation.sync(zh, english)
    assert translation.notebook_report(zh, english)[0].endswith("cell 0 untranslated: Curves.")
    notebook = json.loads(zh.read_text())
    notebook["cells"][0]["metadata"]["mystnb"] = {
        "figure": {"caption": "曲线。"},
        "image": {"alt": "两条曲线。"},
    }
    zh.write_text(json.dumps(notebook))
    translation.stamp(zh, english_path=english)
    assert translation.notebook_report(zh, english) == []
    # new outputs: sync copies them and keeps the Chinese words
    english.write_text(
        json.dumps(chapter([figure("f", "Curves.", "Two curves.")])).replace(
            '"plot()"', '"plot(1)"'
        )
    )
    assert "run 'sync'" in translation.notebook_report(zh, english)[0]
    translation.sync(zh, english)
    cell = json.loads(zh.read_text())["cells"][0]
    assert (
        cell["source"] == ["plot(1)"]
        and cell["metadata"]["mystnb"]["figure"]["caption"] == "曲线。"
    )
    assert translation.notebook_report(zh, english) == []
    english.write_text(json.dumps(chapter([figure("f", "Curves, changed.", "Two curves.")])))
    translation.sync(zh, english)
    assert translation.notebook_report(zh, english)[0].endswith("cell 0 stale: Curves, changed.")


def test_an_unfinished_chapter_lists_untranslated_cells_as_work_to_do_until_declared_complete(
    tmp_path,
):
    english = tmp_path / "en.ipynb"
    zh = tmp_path / "zh.ipynb"
    english.write_text(json.dumps(chapter([markdown("a", "Hello.")])))
    translation.sync(zh, english)
    pending = []
    assert translation.notebook_report(zh, english, pending) == []
    assert [p.split(": ", 1)[1] for p in pending] == ["cell 0 untranslated: Hello."]
    notebook = json.loads(zh.read_text())
    notebook["metadata"]["translation"] = {"complete": True}
    zh.write_text(json.dumps(notebook))
    translation.sync(zh, english)  # keeps the declaration
    assert len(translation.notebook_report(zh, english, [])) == 1


def test_lab_markup_s_generated_cells_are_not_compared(tmp_path):
    english = tmp_path / "en.ipynb"
    zh = tmp_path / "zh.ipynb"
    generated = markdown("lab-notes", "## Terms")
    generated["metadata"] = {"resnet_book": {"generated": "tools/lab_markup.py"}}
    english.write_text(json.dumps(chapter([markdown("a", "Hello."), generated])))
    translation.sync(zh, english)
    assert [c["id"] for c in json.loads(zh.read_text())["cells"]] == ["a"]
    assert len(translation.notebook_report(zh, english)) == 1  # cell a, untranslated


def test_every_translation_in_the_repository_is_current():
    """Fails, naming the sections and cells, when English text changed since its translation
    (cells still to translate in an unfinished chapter are listed by ``status --pending``)."""
    assert translation.translated_files(), "the Chinese edition has no translated page"
    assert translation.report(pending=[]) == []


def test_the_status_command_exits_zero_only_when_every_translation_is_current():
    result = subprocess.run(
        [sys.executable, "tools/translation.py", "status"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout
    assert "every translation is current" in result.stdout


def test_the_chinese_table_of_contents_names_existing_pages_and_every_translated_chapter():
    toc = yaml.safe_load((ROOT / "zh" / "_toc.yml").read_text())
    files = [toc["root"]] + [entry["file"] for part in toc["parts"] for entry in part["chapters"]]
    for name in files:
        assert any((ROOT / "zh" / f"{name}{suffix}").is_file() for suffix in (".md", ".ipynb"))
    chapters = {f"chapters/{p.stem}" for p in (ROOT / "zh" / "chapters").glob("*.ipynb")}
    assert chapters <= set(files)


def test_every_file_a_chapter_reads_is_found_from_the_chinese_chapters_too():
    """Code cells are shared, so ``../results/...`` must resolve from zh/chapters/ as well."""

    read = set()
    for path in sorted((ROOT / "chapters").glob("[0-9][0-9]-*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                read |= set(re.findall(r"""["']\.\./([\w.-]+)""", "".join(cell["source"])))
    assert {"results", "experiments", "tests", "requirements.txt"} <= read
    for name in sorted(read):
        assert (ROOT / "chapters" / ".." / name).exists(), name
        assert (ROOT / "zh" / "chapters" / ".." / name).exists(), f"zh/{name} is missing"
