import json

import numpy as np
import pytest

from resnet_book import results


def run(network, seed, learning_rate=0.1, num_epochs=2, loss=1.0):
    return {
        "network": network,
        "seed": seed,
        "learning_rate": learning_rate,
        "num_epochs": num_epochs,
        "history": {"loss": [2 * loss, loss]},
        "train_loss": loss,
        "train_error": 0.5,
        "test_error": 0.6,
        "seconds": 1.0,
    }


RECIPE = {"learning_rate": 0.1, "num_epochs": 2, "batch_size": 64}


def test_saved_runs_read_back_by_network_and_setting_in_order_of_seed(tmp_path):
    runs = [
        run("plain-20", 1, loss=3.0),
        run("plain-20", 0, loss=2.0),
        run("plain-20", 0, learning_rate=0.01, loss=9.0),
        run("plain-56", 0, num_epochs=6),
    ]
    path = tmp_path / "sub" / "r.json"
    results.save(path, runs, command="python x.py", data="digits", recipe=RECIPE, wall_seconds=3.4)
    record = json.loads(path.read_text())
    assert record["command"] == "python x.py" and record["wall_seconds"] == 3
    assert {"processor", "cores", "tensorflow", "keras"} <= set(record["machine"])
    stored = results.load(path)
    np.testing.assert_array_equal(stored.final("plain-20", "train_loss"), [2.0, 3.0])
    np.testing.assert_array_equal(stored.final("plain-20", "train_loss", learning_rate=0.01), [9.0])
    assert stored.histories("plain-20", "loss") == [[4.0, 2.0], [6.0, 3.0]]
    assert stored.seeds("plain-56", num_epochs=6) == [0]
    assert stored.settings("plain-20") == [(0.01, 2), (0.1, 2)]


def test_a_setting_that_was_not_run_is_an_error_naming_it(tmp_path):
    path = tmp_path / "r.json"
    results.save(path, [run("plain-20", 0)], command="c", data="d", recipe=RECIPE, wall_seconds=1)
    with pytest.raises(ValueError, match="network='plain-56'.*'learning_rate': 0.1"):
        results.load(path).select("plain-56")


def test_incomplete_records_are_refused(tmp_path):
    broken = run("plain-20", 0)
    del broken["train_error"]
    with pytest.raises(ValueError, match=r"run lacks the keys \['train_error'\]"):
        results.save(
            tmp_path / "r.json", [broken], command="c", data="d", recipe=RECIPE, wall_seconds=1
        )
    with pytest.raises(ValueError, match=r"recipe lacks the keys \['num_epochs'\]"):
        results.save(
            tmp_path / "r.json",
            [],
            command="c",
            data="d",
            recipe={"learning_rate": 1},
            wall_seconds=1,
        )
    (tmp_path / "old.json").write_text(json.dumps({"runs": []}))
    with pytest.raises(ValueError, match="results file lacks the keys"):
        results.load(tmp_path / "old.json")


def test_a_training_results_file_keeps_its_order_of_keys(tmp_path):
    path = tmp_path / "r.json"
    runs = [run("plain-20", 0)]
    results.save(path, runs, command="c", data="d", recipe=RECIPE, wall_seconds=np.float64(2.6))
    text = path.read_text()
    record = json.loads(text)
    assert list(record) == list(results.FILE_KEYS) and record["wall_seconds"] == 3
    assert text == json.dumps(record, indent=1) + "\n"


def test_an_experiments_record_follows_how_it_was_made(tmp_path):
    path = tmp_path / "sub" / "lesion.json"
    record = {"data": "digits", "blocks": ["stage1_block1"], "single": {"resnet-56": [0.1]}}
    results.save_record(path, record, command="python experiments/lesion.py", wall_seconds=61.5)
    text = path.read_text()
    stored = json.loads(text)
    assert list(stored) == ["command", "date", "machine", "wall_seconds", *record]
    assert stored["command"] == "python experiments/lesion.py" and stored["wall_seconds"] == 62
    assert {key: stored[key] for key in record} == record
    assert text == json.dumps(stored, indent=1) + "\n"


def test_an_experiments_record_that_overrides_the_header_or_lacks_its_data_is_refused(tmp_path):
    path = tmp_path / "r.json"
    with pytest.raises(ValueError, match=r"record must leave the keys \['command'\]"):
        results.save_record(path, {"data": "d", "command": "x"}, command="c", wall_seconds=1)
    with pytest.raises(ValueError, match=r"record lacks the keys \['data'\]"):
        results.save_record(path, {"blocks": []}, command="c", wall_seconds=1)
    with pytest.raises(ValueError, match="wall_seconds must be .* wall_seconds=nan"):
        results.save_record(path, {"data": "d"}, command="c", wall_seconds=float("nan"))
    with pytest.raises(ValueError, match="command must be a non-empty string"):
        results.save(path, [], command="", data="d", recipe=RECIPE, wall_seconds=1)
    with pytest.raises(TypeError, match="not JSON serializable"):
        results.save_record(path, {"data": object()}, command="c", wall_seconds=1)
    assert not path.exists()  # nothing was written


def test_stored_weights_load_back_into_the_same_architecture(tmp_path):
    from resnet_book import models, set_seed  # imports Keras: only this test needs it

    set_seed(0)
    model = models.cifar_resnet(8, input_shape=(8, 8, 1), width=4)
    path = tmp_path / "w" / "resnet-8.npz"
    results.save_weights(model, path)
    set_seed(1)
    other = models.cifar_resnet(8, input_shape=(8, 8, 1), width=4)
    results.load_weights(other, path)
    for mine, theirs in zip(model.weights, other.weights, strict=True):
        kernel = mine.path.endswith("/kernel")
        np.testing.assert_allclose(theirs.numpy(), mine.numpy(), rtol=1e-3 if kernel else 0)
    # The plain twin has the same weights, option A's shortcuts having none; projections do not.
    results.load_weights(models.plain_net(8, input_shape=(8, 8, 1), width=4), path)
    with pytest.raises(ValueError, match="do not fit model 'resnet8': missing.*proj"):
        results.load_weights(
            models.cifar_resnet(8, "projection", input_shape=(8, 8, 1), width=4), path
        )
    with pytest.raises(ValueError, match=r"has shape \(3, 3, 1, 8\) in the model"):
        results.load_weights(models.cifar_resnet(8, input_shape=(8, 8, 1), width=8), path)


def test_an_image_mask_reads_back_as_the_images_it_marks():
    rng = np.random.default_rng(0)
    for count in (1, 8, 9, 360):
        wrong = rng.random(count) < 0.3
        mask = results.image_mask(wrong)
        assert len(mask) == 2 * -(-count // 8)  # two hexadecimal digits a byte
        np.testing.assert_array_equal(results.wrong_images(mask, count), wrong)
    # bit i of byte i // 8, lowest bit first: images 0 and 9 wrong
    assert results.image_mask(np.array([True] + [False] * 8 + [True])) == "0102"


def test_image_masks_reject_bad_input():
    with pytest.raises(ValueError, match="wrong must be a one-dimensional boolean vector"):
        results.image_mask([0, 1])
    with pytest.raises(ValueError, match="mask must be a string of hexadecimal digits. .*'xyz'"):
        results.wrong_images("xyz", 3)
    with pytest.raises(ValueError, match="mask holds 8 images, fewer than count=9"):
        results.wrong_images("ff", 9)
    with pytest.raises(ValueError, match="count must be a positive integer"):
        results.wrong_images("ff", 0)
