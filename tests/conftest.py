"""Shared test set-up: a headless matplotlib backend and reproducible hypothesis runs."""

import os

from hypothesis import settings

os.environ.setdefault("MPLBACKEND", "Agg")

# The same examples on every run and every machine: a property test that fails in CI fails
# locally too (set HYPOTHESIS_PROFILE=explore for fresh random examples).
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
