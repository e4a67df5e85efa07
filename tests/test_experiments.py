"""The experiments' shared runner: what it may reuse from an earlier results file."""

import json
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "experiments"))
import runs  # noqa: E402


def stored_file(tmp_path, recipe=None, data=None):
    """A results file in the runner's format, with two runs."""
    record = {
        "date": "2026-11-29",
        "machine": {"processor": "AMD EPYC"},
        "data": data or runs.DATA,
        "recipe": recipe or {**runs.RECIPE, "jobs": 2},
        "runs": [
            {"network": "plain-20", "seed": 0, "learning_rate": 0.1, "num_epochs": 20, "x": 1},
            {"network": "plain-56", "seed": 1, "learning_rate": 0.03, "num_epochs": 60, "x": 2},
        ],
    }
    path = tmp_path / "stored.json"
    path.write_text(json.dumps(record))
    return path


def test_only_the_planned_runs_are_kept_and_they_say_where_they_came_from(tmp_path):
    planned = [("plain-20", 0, 0.1, 20), ("plain-20", 0, 0.05, 20)]
    kept = runs.reusable(stored_file(tmp_path), planned)
    assert list(kept) == [("plain-20", 0, 0.1, 20)]
    assert kept[("plain-20", 0, 0.1, 20)]["x"] == 1
    assert kept[("plain-20", 0, 0.1, 20)]["reused_from"] == "2026-11-29 on AMD EPYC"


def test_a_file_made_with_another_recipe_or_data_is_refused(tmp_path):
    planned = [("plain-20", 0, 0.1, 20)]
    other_recipe = {**runs.RECIPE, "weight_decay": 5e-4}
    with pytest.raises(ValueError, match="another recipe or data"):
        runs.reusable(stored_file(tmp_path, recipe=other_recipe), planned)
    with pytest.raises(ValueError, match="another recipe or data"):
        runs.reusable(stored_file(tmp_path, data="CIFAR-10"), planned)


def test_an_interrupted_experiment_trains_only_what_its_journal_lacks(tmp_path, monkeypatch):
    monkeypatch.setattr(runs, "journal_path", lambda: tmp_path / "journal.jsonl")
    plan = [(2, 3), (3, 2)]
    # An earlier start of the same command, with the same code, finished the first call
    # (its result made different here, to tell a journal entry from a new call).
    stamp = json.dumps({"fingerprint": runs.fingerprint(1)})
    entry = json.dumps({"arguments": repr((2, 3)), "result": 999})
    (tmp_path / "journal.jsonl").write_text(f"{stamp}\n{entry}\n")
    assert runs.run_all(plan, 1, pow) == [999, 9]
    lines = (tmp_path / "journal.jsonl").read_text().splitlines()
    assert [json.loads(line)["result"] for line in lines[1:]] == [999, 9]
    # Other code, command or processor: nothing is taken from the journal, which starts again.
    (tmp_path / "journal.jsonl").write_text('{"fingerprint": "other"}\n' + entry + "\n")
    assert runs.run_all(plan, 1, pow) == [8, 9]
    assert len((tmp_path / "journal.jsonl").read_text().splitlines()) == 3


def test_the_fingerprint_follows_the_code_and_the_threads():
    assert runs.fingerprint(1) == runs.fingerprint(1) != runs.fingerprint(2)
    assert len(runs.fingerprint(1)) == 64


def test_the_fingerprint_tells_processors_apart(monkeypatch):
    from resnet_book import results

    here = runs.fingerprint(1)
    monkeypatch.setattr(results, "processor_name", lambda: "AMD EPYC 9R14")
    assert runs.fingerprint(1) != here
