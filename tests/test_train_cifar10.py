"""CIFAR-10 offline: a small archive in the real format, placed where Keras caches the real one."""

import hashlib
import io
import pickle
import socket
import tarfile

import keras
import numpy as np
import pytest

from resnet_book import results, train
from resnet_book.trainer import cifar10

IMAGES_PER_BATCH = 40


def write_archive(path, images_per_batch=IMAGES_PER_BATCH, seed=0):
    """cifar-10-python.tar.gz's layout, with fewer images: pickled dicts in cifar-10-batches-py/."""
    rng = np.random.default_rng(seed)
    batches = {}
    for name in [*cifar10.TRAIN_BATCHES, "test_batch"]:
        batches[name] = {
            b"batch_label": name.encode(),
            b"labels": rng.integers(0, 10, images_per_batch).tolist(),
            b"data": rng.integers(0, 256, (images_per_batch, 3072), dtype=np.uint8),
            b"filenames": [f"{name}_{i}.png".encode() for i in range(images_per_batch)],
        }
    batches["batches.meta"] = {b"label_names": [b"airplane", b"automobile"], b"num_vis": 3072}
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as archive:
        for name, content in batches.items():
            payload = pickle.dumps(content, protocol=2)
            member = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            member.size = len(payload)
            archive.addfile(member, io.BytesIO(payload))
    return batches


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """KERAS_HOME in tmp_path, and any attempt to reach the network fails loudly."""

    def no_network(*args, **kwargs):
        raise OSError("network access in a test")

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    return tmp_path


@pytest.fixture
def small_archive(offline, monkeypatch):
    """The small archive placed under Keras' cache name, its checksum the one expected."""
    batches = write_archive(cifar10.archive_path())
    digest = hashlib.sha256(cifar10.archive_path().read_bytes()).hexdigest()
    monkeypatch.setattr(cifar10, "SHA256", digest)
    return batches


def test_the_archive_goes_where_keras_datasets_cifar10_looks_for_it(monkeypatch):
    calls = []

    def record(**kwargs):
        calls.append(kwargs)
        raise RuntimeError("recorded")

    monkeypatch.setattr("keras.src.datasets.cifar10.get_file", record)
    with pytest.raises(RuntimeError, match="recorded"):
        keras.datasets.cifar10.load_data()
    keras_call = calls[0]
    assert (keras_call["fname"], keras_call["origin"], keras_call["file_hash"]) == (
        cifar10.CACHE_NAME,
        cifar10.URL,
        cifar10.SHA256,
    )
    assert keras_call["extract"] and keras_call.get("cache_dir") is None
    assert str(cifar10.keras_home()) == keras.src.backend.config.keras_home()


def test_an_archive_in_keras_cache_loads_without_the_network(small_archive):
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    assert x_train.shape == (5 * IMAGES_PER_BATCH, 32, 32, 3) and x_train.dtype == np.uint8
    assert x_test.shape == (IMAGES_PER_BATCH, 32, 32, 3) and y_test.dtype == np.int64
    row = small_archive["data_batch_2"][b"data"][3]  # red plane, green plane, blue plane
    np.testing.assert_array_equal(x_train[IMAGES_PER_BATCH + 3, 0, 1], row[[1, 1025, 2049]])
    np.testing.assert_array_equal(x_train[IMAGES_PER_BATCH + 3, 2, 0], row[[64, 1088, 2112]])
    assert y_train[IMAGES_PER_BATCH + 3] == small_archive["data_batch_2"][b"labels"][3]
    assert y_test.tolist() == small_archive["test_batch"][b"labels"]


def test_validation_split_holds_out_the_last_tenth_of_the_training_images(small_archive):
    (x_all, y_all), _ = cifar10.load_data()
    (x_train, y_train), (x_held, y_held) = cifar10.load_data(validation=True)
    assert len(x_held) == len(x_all) // 10 and len(x_train) + len(x_held) == len(x_all)
    np.testing.assert_array_equal(np.concatenate([x_train, x_held]), x_all)
    np.testing.assert_array_equal(np.concatenate([y_train, y_held]), y_all)


def test_a_missing_archive_says_where_to_put_it(offline):
    with pytest.raises(FileNotFoundError) as error:
        cifar10.load_data()
    message = str(error.value)
    assert "network access in a test" in message
    assert str(cifar10.archive_path()) in message and cifar10.URL in message
    assert "cifar-10-python.tar.gz" in message and str(offline / "keras") in message


def test_an_archive_with_another_checksum_is_refused(offline):
    write_archive(cifar10.archive_path())
    with pytest.raises(FileNotFoundError, match="network access in a test"):
        cifar10.load_data()  # Keras tried to download the official one instead
    assert not cifar10.archive_path().exists()


def test_a_batch_in_another_format_is_named(tmp_path):
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({b"data": np.zeros((2, 3072), np.float32), b"labels": [0, 1]}))
    with pytest.raises(ValueError, match="uint8 of shape"):
        cifar10.read_batch(path)


def test_validation_must_be_a_bool():
    with pytest.raises(ValueError, match="Received: validation='yes'"):
        cifar10.load_data("yes")


def test_the_command_trains_on_the_small_archive(small_archive, tmp_path):
    out = tmp_path / "run.json"
    arguments = ["--data", "cifar10", "--validation", "--depth", "8", "--iterations", "3"]
    assert train.main([*arguments, "--batch-size", "32", "--out", str(out)]) == 0
    stored = results.load(out)
    assert stored.record["data"] == "cifar10, 180 train / 20 validation (32x32x3)"
    assert stored.recipe["steps_per_epoch"] == 5
    assert len(stored.histories("resnet-8", "loss")[0]) == 1


def test_the_command_without_the_archive_or_a_network_exits_with_the_message(
    offline, monkeypatch, capsys
):
    work = offline / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    with pytest.raises(SystemExit) as stopped:
        train.main(["--data", "cifar10"])
    error = capsys.readouterr().err
    assert stopped.value.code == 1
    assert "python -m resnet_book.train: error: CIFAR-10 is not in Keras' cache" in error
    assert str(cifar10.archive_path()) in error and "Traceback" not in error
    assert list(work.iterdir()) == []
