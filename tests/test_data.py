"""Tests of trainart.data: the offline loaders, the stratified splits and minibatches."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trainart import data
from trainart.data import Dataset, minibatches


def _rows(X: np.ndarray) -> set[bytes]:
    return {row.tobytes() for row in X}


def _check_dataset(d: Dataset, n_train: int, n_test: int, n_features: int) -> None:
    assert isinstance(d, Dataset)
    assert d.X_train.shape == (n_train, n_features)
    assert d.X_test.shape == (n_test, n_features)
    assert d.y_train.shape == (n_train,) and d.y_test.shape == (n_test,)
    assert d.X_train.dtype == np.float32 and d.X_test.dtype == np.float32
    assert d.y_train.dtype == np.int64 and d.y_test.dtype == np.int64
    assert d.n_features == n_features and d.n_classes == 10
    assert set(np.unique(d.y_train)) == set(range(10))
    assert set(np.unique(d.y_test)) == set(range(10))


# ---------------------------------------------------------------------------------------
# MNIST-5k
# ---------------------------------------------------------------------------------------


def test_mnist5k_shapes_dtypes_and_range():
    d = data.load_mnist5k()
    _check_dataset(d, 4000, 1000, 784)
    for X in (d.X_train, d.X_test):
        assert X.min() == 0.0 and X.max() == 1.0
    # real digits: about a fifth of the pixels are ink, and the mean image is not flat
    assert 0.08 < d.X_train.mean() < 0.2


def test_mnist5k_split_is_stratified():
    d = data.load_mnist5k()
    # the file holds 500 digits of each class; the split keeps that balance
    np.testing.assert_array_equal(np.bincount(d.y_train) + np.bincount(d.y_test), 500)
    assert np.all(np.abs(np.bincount(d.y_test) - 100) <= 2), np.bincount(d.y_test)


def test_mnist5k_is_shuffled_not_sorted():
    d = data.load_mnist5k()
    # the file is sorted by label; a shuffled split is not
    assert np.mean(np.diff(d.y_train) != 0) > 0.8
    assert np.mean(np.diff(d.y_test) != 0) > 0.8


def test_mnist5k_train_and_test_do_not_overlap():
    d = data.load_mnist5k()
    train, test = _rows(d.X_train), _rows(d.X_test)
    assert not train & test
    assert len(train) + len(test) == 5000  # every image used once


def test_mnist5k_seed_reproducible_and_seed_dependent():
    a, b, c = data.load_mnist5k(seed=0), data.load_mnist5k(seed=0), data.load_mnist5k(seed=1)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a.y_train, c.y_train)
    assert _rows(a.X_test) != _rows(c.X_test)


def test_mnist5k_test_size_count_and_fraction():
    d = data.load_mnist5k(test_size=500)
    assert len(d.y_test) == 500 and len(d.y_train) == 4500
    d = data.load_mnist5k(test_size=0.1)
    assert len(d.y_test) == 500 and len(d.y_train) == 4500


@pytest.mark.parametrize("bad", [0, -1, 5000, 6000, 0.0, 1.0, 1.5])
def test_mnist5k_bad_test_size_raises(bad):
    with pytest.raises(ValueError, match="load_mnist5k: .*test_size"):
        data.load_mnist5k(test_size=bad)


@pytest.mark.parametrize("bad", ["100", None, True])
def test_mnist5k_test_size_of_wrong_type_raises(bad):
    with pytest.raises(TypeError, match="test_size"):
        data.load_mnist5k(test_size=bad)


def test_mnist5k_is_cached_and_callers_get_their_own_arrays():
    data.load_mnist5k()
    hits = data._mnist5k_raw.cache_info().hits
    d = data.load_mnist5k()
    assert data._mnist5k_raw.cache_info().hits == hits + 1
    d.X_train[:] = -1.0  # a caller may scribble on its copy ...
    d.y_train[:] = 3
    again = data.load_mnist5k()
    assert again.X_train.min() == 0.0  # ... without changing the next load
    assert len(np.unique(again.y_train)) == 10


# ---------------------------------------------------------------------------------------
# digits and MNIST-1D
# ---------------------------------------------------------------------------------------


def test_digits_shapes_range_and_split():
    d = data.load_digits()
    _check_dataset(d, 1500, 297, 64)
    assert d.X_train.min() == 0.0 and d.X_train.max() == 1.0
    assert not _rows(d.X_train) & _rows(d.X_test)
    assert len(_rows(d.X_train)) + len(_rows(d.X_test)) == 1797
    counts = np.bincount(d.y_test)
    assert counts.min() >= 26 and counts.max() <= 32, counts
    e = data.load_digits(seed=0)
    np.testing.assert_array_equal(d.X_test, e.X_test)
    with pytest.raises(ValueError, match="load_digits"):
        data.load_digits(test_size=1797)


def test_mnist1d_shapes_and_no_download(monkeypatch):
    import mnist1d.data

    def no_download(*args, **kwargs):
        raise AssertionError("get_dataset downloads and must not be called")

    monkeypatch.setattr(mnist1d.data, "get_dataset", no_download)
    d = data.load_mnist1d(seed=3)
    _check_dataset(d, 4000, 1000, 40)
    assert np.all(np.isfinite(d.X_train))
    assert 300 < np.bincount(d.y_train).min() and np.bincount(d.y_train).max() < 500
    again = data.load_mnist1d(seed=3)
    np.testing.assert_array_equal(d.X_train, again.X_train)
    other = data.load_mnist1d(seed=4)
    assert not np.array_equal(d.X_train, other.X_train)


def test_mnist1d_leaves_global_random_state_alone():
    np.random.seed(123)  # noqa: NPY002
    random.seed(123)
    data.load_mnist1d(seed=5)  # not cached yet: really generates
    assert np.random.randint(1_000_000) == np.random.RandomState(123).randint(1_000_000)  # noqa: NPY002
    assert random.random() == random.Random(123).random()


def test_mnist1d_bad_seed_raises():
    with pytest.raises(ValueError, match="load_mnist1d: seed"):
        data.load_mnist1d(seed=-1)


# ---------------------------------------------------------------------------------------
# train_val_split
# ---------------------------------------------------------------------------------------


def test_train_val_split_carves_from_train_only():
    d = data.load_mnist5k()
    v = data.train_val_split(d, val_size=800, seed=0)
    _check_dataset(v, 3200, 800, 784)
    train, val = _rows(v.X_train), _rows(v.X_test)
    assert not train & val
    assert train | val == _rows(d.X_train)  # exactly the old training set
    assert not (train | val) & _rows(d.X_test)  # the test set is untouched
    assert np.all(np.abs(np.bincount(v.y_test) - 80) <= 2)
    with pytest.raises(TypeError, match="train_val_split"):
        data.train_val_split((d.X_train, d.y_train), 0.2)


# ---------------------------------------------------------------------------------------
# minibatches
# ---------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 300), batch_size=st.integers(1, 64), seed=st.integers(0, 2**32 - 1),
       shuffle=st.booleans())
def test_minibatches_cover_every_index_once(n, batch_size, seed, shuffle):
    batches = list(minibatches(n, batch_size, np.random.default_rng(seed), shuffle=shuffle))
    joined = np.concatenate(batches) if batches else np.array([], dtype=np.int64)
    np.testing.assert_array_equal(np.sort(joined), np.arange(n))
    assert len(batches) == -(-n // batch_size)
    assert all(len(b) == batch_size for b in batches[:-1])
    assert all(b.dtype == np.int64 for b in batches)
    if not shuffle:
        np.testing.assert_array_equal(joined, np.arange(n))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 300), batch_size=st.integers(1, 64))
def test_minibatches_drop_last(n, batch_size):
    batches = list(minibatches(n, batch_size, np.random.default_rng(0), drop_last=True))
    assert len(batches) == n // batch_size
    assert all(len(b) == batch_size for b in batches)
    joined = np.concatenate(batches) if batches else np.array([], dtype=np.int64)
    assert len(np.unique(joined)) == len(joined) == batch_size * (n // batch_size)


def test_minibatches_reshuffle_every_epoch_and_are_reproducible():
    rng = np.random.default_rng(0)
    epoch1 = np.concatenate(list(minibatches(100, 10, rng)))
    epoch2 = np.concatenate(list(minibatches(100, 10, rng)))
    assert not np.array_equal(epoch1, epoch2)  # a new order each epoch
    assert not np.array_equal(epoch1, np.arange(100))  # and really shuffled
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(epoch1, np.concatenate(list(minibatches(100, 10, rng))))
    np.testing.assert_array_equal(epoch2, np.concatenate(list(minibatches(100, 10, rng))))
    # an int seed gives the same order on every call
    a = np.concatenate(list(minibatches(50, 7, 3)))
    b = np.concatenate(list(minibatches(50, 7, 3)))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("batch_size", [0, -5, 2.5, True])
def test_minibatches_bad_batch_size_raises_at_call(batch_size):
    with pytest.raises(ValueError, match="minibatches: batch_size"):
        minibatches(10, batch_size)  # raised at once, not on first iteration


def test_minibatches_bad_n_and_rng_raise():
    with pytest.raises(ValueError, match="minibatches: n"):
        minibatches(-1, 4)
    with pytest.raises(TypeError, match="minibatches: rng"):
        minibatches(10, 4, rng="seed")
