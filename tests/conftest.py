"""Shared test set-up: a headless matplotlib backend and float64 by default for torch."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
