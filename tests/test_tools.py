import importlib.util
import pathlib
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
