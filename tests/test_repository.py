"""The repository's own rules: pins, chapters, Binder."""

import json
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
FOLDED = {"source_hidden": True, "outputs_hidden": True}


def tags(cell):
    return cell["metadata"].get("tags", [])


# absl's log prefix (I1128 16:57:30.8 or I0000 00:00:1795...) and TensorFlow's start-up notes
TENSORFLOW_LOG = re.compile(r"(?m)^[IWEF]\d{4} \d\d:\d\d:|cpu_feature_guard|oneDNN|absl::")
PIN = re.compile(r"^[A-Za-z0-9_.\-\[\],]+==[^\s;]+(\s*;.+)?$")


def requirement_lines(path):
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("-c ")]


def pins(path):
    """Package name to its pinned version (markers left out) in a requirements file."""
    pairs = (line.split(";")[0].strip().split("==") for line in requirement_lines(path))
    return {name.lower(): version for name, version in pairs}


@pytest.mark.parametrize(
    "name", ["requirements.in", "requirements.txt", "requirements-dev.in", "requirements-dev.txt"]
)
def test_every_requirement_is_pinned_with_double_equals(name):
    lines = requirement_lines(ROOT / name)
    assert lines
    assert [line for line in lines if not PIN.match(line)] == []


def test_test_tools_are_pinned_apart_at_the_readers_versions():
    book, tools = pins(ROOT / "requirements.txt"), pins(ROOT / "requirements-dev.txt")
    assert {"pytest", "nbval", "playwright", "ruff", "uv", "jupyter-repo2docker"} <= set(tools)
    assert not {"pytest", "nbval", "playwright", "ruff", "uv", "jupyter-repo2docker"} & set(book)
    assert [tools[name] for name in tools if name in book] == [
        book[name] for name in tools if name in book
    ]
    assert "-c requirements.txt" in (ROOT / "requirements-dev.in").read_text()


def test_requirements_pin_jupyter_book_1_and_tensorflow_by_platform():
    lines = requirement_lines(ROOT / "requirements.txt")
    assert "jupyter-book==1.0.4.post1" in lines
    assert any(re.match(r"tensorflow-cpu==.*sys_platform == 'linux'", line) for line in lines)
    assert any(re.match(r"tensorflow==.*sys_platform != 'linux'", line) for line in lines)


def test_binder_installs_the_same_pins_as_everyone_else():
    binder = (ROOT / "binder" / "requirements.txt").read_text()
    assert binder == (ROOT / "requirements.txt").read_text(), "run 'make lock'"


def test_binder_recipe_has_python_311_the_requirements_then_the_package():
    repo2docker = pathlib.Path(sys.executable).parent / "repo2docker"
    if not repo2docker.exists():
        repo2docker = shutil.which("repo2docker")
    result = subprocess.run(
        [str(repo2docker), "--no-build", "--debug", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    recipe = result.stdout + result.stderr
    assert "python=3.11" in recipe
    install = recipe.index('pip install --no-cache-dir -r "binder/requirements.txt"')
    copy_repo = recipe.index("COPY --chown=")
    post_build = recipe.index("./binder/postBuild")
    assert install < post_build
    assert "pip install --no-deps -e ." in (ROOT / "binder" / "postBuild").read_text()
    assert copy_repo < post_build


def test_chapters_are_listed_in_the_table_of_contents():
    toc = (ROOT / "_toc.yml").read_text()
    assert CHAPTERS
    for path in CHAPTERS:
        assert re.fullmatch(r"\d\d-[a-z0-9]+(-[a-z0-9]+)*\.ipynb", path.name)
        assert f"chapters/{path.stem}" in toc


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_is_stored_executed_top_to_bottom(path):
    notebook = json.loads(path.read_text())
    counts = [c["execution_count"] for c in notebook["cells"] if c["cell_type"] == "code"]
    assert counts == list(range(1, len(counts) + 1)), "run 'make notebooks'"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_outputs_hold_no_tensorflow_log_lines_or_errors(path):
    notebook = json.loads(path.read_text())
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            text = "".join(output.get("text", ""))
            assert not TENSORFLOW_LOG.search(text), f"TensorFlow log line: {text[:120]}"
            if output["output_type"] == "error":
                assert "raises-exception" in cell["metadata"].get("tags", [])


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_figure_has_alt_text_and_a_numbered_caption(path):
    notebook = json.loads(path.read_text())
    for cell in notebook["cells"]:
        has_image = any("image/png" in o.get("data", {}) for o in cell.get("outputs", []))
        if has_image:
            mystnb = cell["metadata"].get("mystnb", {})
            assert mystnb.get("image", {}).get("alt"), cell["id"]
            figure = mystnb.get("figure", {})
            assert figure.get("caption") and re.fullmatch(r"fig-[a-z0-9-]+", figure.get("name", ""))


def test_figure_names_are_unique_in_the_book():
    names = [
        cell["metadata"]["mystnb"]["figure"]["name"]
        for path in CHAPTERS
        for cell in json.loads(path.read_text())["cells"]
        if "figure" in cell["metadata"].get("mystnb", {})
    ]
    assert len(names) == len(set(names)) > 30


def _tool(name):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_stored_widget_ids_are_the_stable_ones(path):
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    renamed = _tool("execute_notebooks").stable_widget_ids(notebook)
    assert renamed == notebook, "widget ids are random: re-execute with 'make notebooks'"


def test_stable_widget_ids_follow_structure_not_chance():
    import nbformat

    def notebook(root, child):
        state = {
            root: {"state": {"children": [f"IPY_MODEL_{child}"]}, "model_name": "VBox"},
            child: {"state": {"value": 3}, "model_name": "IntSlider"},
        }
        view = {"model_id": root, "version_major": 2}
        cell = nbformat.v4.new_code_cell(
            outputs=[
                nbformat.v4.new_output(
                    "display_data", data={"application/vnd.jupyter.widget-view+json": view}
                )
            ]
        )
        cell["id"] = "explorer"
        book = nbformat.v4.new_notebook(cells=[cell])
        book.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": state}}
        return book

    stable = _tool("execute_notebooks").stable_widget_ids
    first = stable(notebook("a" * 32, "b" * 32))
    assert first == stable(notebook("c" * 32, "d" * 32))
    assert "a" * 32 not in json.dumps(first)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_jupyterlab_folds_what_the_website_folds_solutions_included(path):
    sys.path.insert(0, str(ROOT / "tools"))
    from execute_notebooks import fold_like_the_website

    stored = json.loads(path.read_text())
    folded = fold_like_the_website(json.loads(path.read_text()))
    assert stored == folded, "run 'python tools/execute_notebooks.py --fold-only'"
    solutions = [c for c in stored["cells"] if "{admonition} Solution" in "".join(c["source"])]
    assert solutions and all(c["metadata"]["jupyter"]["source_hidden"] for c in solutions)
    # The checks the website removes are folded whole: run, not read.
    checks = [c for c in stored["cells"] if c["cell_type"] == "code" and "remove-cell" in tags(c)]
    assert all(FOLDED.items() <= c["metadata"]["jupyter"].items() for c in checks)
    # A solution's cell holds the solution alone: folded, it must not hide the next exercise.
    for cell in solutions:
        assert re.fullmatch(r"[`~]{3,}", "".join(cell["source"]).strip().splitlines()[-1])


def test_the_code_is_formatted_by_the_formatter_not_around_it():
    folders = ["src", "tests", "tools", "benchmarks", "experiments", "_ext"]
    marked = [
        str(path.relative_to(ROOT))
        for folder in folders
        for path in (ROOT / folder).rglob("*.py")
        if "# fmt: " + "skip" in path.read_text() or "# fmt: " + "off" in path.read_text()
    ]
    assert marked == [], "configure ruff format in pyproject.toml instead"


def glued_names(cells):
    """The names a chapter's code glues under a literal name, each with the names that show it.

    ``glue("name", ...)`` is shown by ``name``; ``glue_seeds("name", ...)`` (chapter 11: a median
    and its range over seeds) by ``name``, ``name_low`` or ``name_high``.
    """
    code = "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")
    names = {name: {name} for name in re.findall(r"\bglue\(\s*\"(\w+)\"", code)}
    for name in re.findall(r"\bglue_seeds\(\s*\"(\w+)\"", code):
        names[name] = {name, f"{name}_low", f"{name}_high"}
    return names


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_every_name_a_chapter_glues_is_shown(path):
    """A value glued and never shown is computed for nobody: drop the glue or show the value.

    Names built in a loop (``glue(f"growth_{block}", ...)``) are exempt: one call serves several.
    A name the Chinese edition's twin shows is shown too (a count in units of 万, say).
    """
    cells = json.loads(path.read_text())["cells"]
    twin = ROOT / "zh" / "chapters" / path.name
    shown_cells = cells + (json.loads(twin.read_text())["cells"] if twin.exists() else [])
    text = json.dumps(
        ["".join(cell["source"]) for cell in shown_cells if cell["cell_type"] == "markdown"]
        + [cell["metadata"] for cell in shown_cells]
    )
    shown = set(re.findall(r"\{glue(?::\w+)?\}`(?:[^`]*::)?(\w+)", text))
    shown |= set(re.findall(r'\{eval\}`glued\(\\"(\w+)', text))  # json.dumps escapes quotes
    unshown = [name for name, showing in glued_names(cells).items() if not showing & shown]
    assert sorted(unshown) == []


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_no_role_in_the_prose_breaks_across_a_line(path):
    """JupyterLab's MyST renderer leaves a role whose text holds a line break unresolved."""
    broken = [
        match.group(0)
        for cell in json.loads(path.read_text())["cells"]
        if cell["cell_type"] == "markdown"
        for match in re.finditer(r"\{[a-z:]+\}`[^`]*\n[^`]*`", "".join(cell["source"]))
    ]
    assert broken == []
