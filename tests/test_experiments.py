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
