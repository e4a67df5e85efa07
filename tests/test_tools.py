import importlib.util
import pathlib
import re
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture
def browser_tool():
    spec = importlib.util.spec_from_file_location("browser_tool", ROOT / "tools" / "browser.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_chromium_named_by_the_environment_comes_first(browser_tool, monkeypatch):
    monkeypatch.setenv("CHROMIUM", sys.executable)  # any executable file will do here
    monkeypatch.setattr(browser_tool, "system_chromium", lambda: "/usr/bin/chromium")
    assert browser_tool.find_chromium() == sys.executable


def test_a_chromium_that_is_not_there_is_a_clear_error(browser_tool, monkeypatch):
    monkeypatch.setenv("CHROMIUM", "/nowhere/chromium")
    with pytest.raises(ValueError, match="CHROMIUM='/nowhere/chromium'"):
        browser_tool.find_chromium()


def test_system_chromium_before_playwright_then_playwright_installs(browser_tool, monkeypatch):
    monkeypatch.delenv("CHROMIUM", raising=False)
    calls = []
    monkeypatch.setattr(browser_tool, "system_chromium", lambda: "/usr/bin/chromium")
    monkeypatch.setattr(browser_tool, "playwright_chromium", lambda: calls.append("cache"))
    assert browser_tool.find_chromium() == "/usr/bin/chromium" and calls == []

    cache = []
    monkeypatch.setattr(browser_tool, "system_chromium", lambda: None)
    monkeypatch.setattr(browser_tool, "playwright_chromium", lambda: cache[-1] if cache else None)
    monkeypatch.setattr(browser_tool, "install_playwright_chromium", lambda: not cache.append("pw"))
    assert browser_tool.find_chromium(install=False) is None
    assert browser_tool.find_chromium() == "pw"


def test_no_browser_at_all_says_how_to_get_one(browser_tool, monkeypatch, capsys):
    monkeypatch.delenv("CHROMIUM", raising=False)
    monkeypatch.setattr(browser_tool, "system_chromium", lambda: None)
    monkeypatch.setattr(browser_tool, "playwright_chromium", lambda: None)
    monkeypatch.setattr(browser_tool, "install_playwright_chromium", lambda: False)
    with pytest.raises(SystemExit) as stop:
        browser_tool.main()
    assert stop.value.code == 2
    assert "apt-get install chromium" in capsys.readouterr().err


def load_benchmark(name, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("enforce", [False, True])
def test_the_notebook_benchmark_reports_budgets_and_fails_on_them_only_when_enforced(
    monkeypatch, capsys, enforce
):
    notebooks = load_benchmark("notebooks", monkeypatch)
    rows = [
        {
            "notebook": "01-a.ipynb",
            "cpu": "native",
            "passed": True,
            "seconds": 12.0,
            "peak_mib": 300,
        },
        {
            "notebook": "02-b.ipynb",
            "cpu": "native",
            "passed": True,
            "seconds": 75.0,
            "peak_mib": 1600,
        },
    ]
    monkeypatch.setattr(notebooks, "run_all", lambda paths, jobs, foreign: rows)
    options = ["--enforce-budgets"] if enforce else []
    monkeypatch.setattr(sys, "argv", ["notebooks.py", *options, "01-a.ipynb", "02-b.ipynb"])
    if enforce:
        with pytest.raises(SystemExit, match=r"02-b.ipynb took 75 s \(budget 60 s\).* 1600 MiB"):
            notebooks.main()
    else:
        notebooks.main()
        assert "over budget on this machine (not a failure here): 02-b.ipynb took 75 s" in (
            capsys.readouterr().out
        )


def benchmark_of_one_chapter(monkeypatch, seconds, *options):
    """benchmarks/notebooks.py run with ``options`` on one passing chapter of ``seconds``."""
    notebooks = load_benchmark("notebooks", monkeypatch)
    rows = [
        {
            "notebook": "01-a.ipynb",
            "cpu": "native",
            "passed": True,
            "seconds": seconds,
            "peak_mib": 300,
        }
    ]
    monkeypatch.setattr(notebooks, "run_all", lambda paths, jobs, foreign: rows)
    monkeypatch.setattr(sys, "argv", ["notebooks.py", *options, "--jobs", "2", "x"])
    return notebooks, rows


def test_ci_fails_a_chapter_over_the_memory_budget_but_only_reports_one_over_time(
    monkeypatch, capsys
):
    notebooks, rows = benchmark_of_one_chapter(monkeypatch, 95.0, "--enforce-memory")
    notebooks.main()  # a slower machine: reported, not failed
    assert "not a failure here): 01-a.ipynb took 95 s (budget 75 s)" in capsys.readouterr().out
    rows[0]["peak_mib"] = 1600
    with pytest.raises(SystemExit, match=r"01-a.ipynb peaked at 1600 MiB \(budget 1536 MiB\)"):
        notebooks.main()


def test_the_suite_benchmark_stops_at_a_failed_stage(monkeypatch):
    suite = load_benchmark("suite", monkeypatch)
    ran = []
    monkeypatch.setattr(
        suite, "run_stage", lambda stage: ran.append(stage) or (stage == "unit", 1.0)
    )
    monkeypatch.setattr(sys, "argv", ["suite.py"])
    with pytest.raises(SystemExit, match="make unit failed"):
        suite.main()
    assert ran == ["lint", "unit"]


def test_two_chapters_at_once_get_the_budget_of_a_shared_machine(monkeypatch):
    notebooks, rows = benchmark_of_one_chapter(monkeypatch, 70.0, "--enforce-budgets")
    notebooks.main()  # 70 s is within 60 s x 1.25 when two run at once
    rows[0]["seconds"] = 76.0
    with pytest.raises(SystemExit, match=r"took 76 s \(budget 75 s\)"):
        notebooks.main()


def test_a_notebook_named_with_foreign_cpu_runs_as_on_another_processor(monkeypatch, tmp_path):
    notebooks = load_benchmark("notebooks", monkeypatch)
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    monkeypatch.delenv("NPY_DISABLE_CPU_FEATURES", raising=False)
    # Instead of nbval, a process that passes only with NumPy's SIMD and oneDNN switched off.
    check = (
        "import os, sys; from numpy._core._multiarray_umath import __cpu_dispatch__ as d; "
        "off = set(os.environ.get('NPY_DISABLE_CPU_FEATURES', '').split()); "
        "sys.exit(0 if os.environ.get('TF_ENABLE_ONEDNN_OPTS') == '0' and off == set(d) else 3)"
    )
    monkeypatch.setattr(notebooks, "nbval_command", lambda path: [sys.executable, "-c", check])
    native, foreign = tmp_path / "01-a.ipynb", tmp_path / "02-b.ipynb"
    rows = notebooks.run_all([native, foreign], 2, [foreign])
    assert [(row["cpu"], row["passed"]) for row in rows] == [("native", False), ("foreign", True)]


def test_the_notebook_benchmark_refuses_a_foreign_cpu_notebook_that_does_not_exist(
    monkeypatch, capsys
):
    notebooks = load_benchmark("notebooks", monkeypatch)
    monkeypatch.setattr(sys, "argv", ["notebooks.py", "--foreign-cpu", "no-such.ipynb"])
    with pytest.raises(SystemExit):
        notebooks.main()
    assert "--foreign-cpu names no notebook. Received: ['no-such.ipynb']" in capsys.readouterr().err


def test_the_suite_benchmark_times_exactly_the_stages_of_make_test(monkeypatch):
    suite = load_benchmark("suite", monkeypatch)
    makefile = (ROOT / "Makefile").read_text()
    prerequisites = re.search(r"^test: ([^#\n]*)", makefile, re.MULTILINE).group(1).split()
    assert tuple(prerequisites) == suite.STAGES
