"""Shared test set-up: a headless matplotlib backend, reproducible hypothesis runs, and the
small digits data set several test files train on."""

import os

import pytest
from hypothesis import settings

os.environ.setdefault("MPLBACKEND", "Agg")

# The same examples on every run and every machine: a property test that fails in CI fails
# locally too (set HYPOTHESIS_PROFILE=explore for fresh random examples).
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="module")
def digits():
    """scikit-learn's 8x8 digits (shipped with the package), loaded once per test module."""
    from trainart.data import load_digits

    return load_digits()
