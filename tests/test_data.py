import numpy as np
import pytest

from resnet_book import data


def test_digits_images_are_16x16_standardised_and_stratified():
    (x_train, y_train), (x_test, y_test) = data.digits_images()
    assert x_train.shape == (1437, 16, 16, 1) and x_test.shape == (360, 16, 16, 1)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert abs(float(x_train.mean())) < 1e-5 and abs(float(x_train.std()) - 1) < 1e-5
    assert np.bincount(y_test).min() >= 35


def test_enlarging_repeats_each_pixel():
    (x8, _), _ = data.digits_images(size=8)
    (x16, _), _ = data.digits_images(size=16)
    np.testing.assert_allclose(x16[:, ::2, ::2], x8, rtol=1e-6)
    np.testing.assert_array_equal(x16[:, 1::2, 1::2], x16[:, ::2, ::2])


@pytest.mark.parametrize("size", [0, 12, 16.0, -8])
def test_size_must_be_a_positive_multiple_of_8(size):
    with pytest.raises(ValueError, match=f"size={size!r}"):
        data.digits_images(size=size)


@pytest.mark.parametrize("fraction", [0, 1, 1.5])
def test_test_fraction_must_be_a_proper_fraction(fraction):
    with pytest.raises(ValueError, match=f"test_fraction={fraction!r}"):
        data.digits_images(test_fraction=fraction)


def test_digits_batch_is_the_start_of_the_training_split_flattened():
    x, y = data.digits_batch()
    (x_train, y_train), _ = data.digits_images(size=8)
    assert x.shape == (64, 64) and x.dtype == np.float32 and not x.flags.writeable
    np.testing.assert_array_equal(x, x_train[:64].reshape(64, 64))
    np.testing.assert_array_equal(y, y_train[:64])
    for bad in (0, 1438, 2.0):
        with pytest.raises(ValueError, match=f"batch_size={bad!r}"):
            data.digits_batch(bad)


def test_breast_cancer_table_is_split_stratified_and_standardised_by_its_training_part():
    (x_train, y_train), (x_test, y_test) = data.breast_cancer_table()
    assert x_train.shape == (426, 30) and x_test.shape == (143, 30)
    assert x_train.dtype == np.float32 and y_test.dtype == np.int64
    np.testing.assert_allclose(x_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(x_train.std(axis=0), 1, atol=1e-5)
    assert abs(y_train.mean() - y_test.mean()) < 0.01  # the same share of benign tumours


@pytest.mark.parametrize("fraction", [0, 1, 0.0, 1.5, "0.2"])
def test_breast_cancer_table_rejects_a_test_fraction_outside_0_1(fraction):
    with pytest.raises(ValueError, match="test_fraction must be a float in"):
        data.breast_cancer_table(test_fraction=fraction)
