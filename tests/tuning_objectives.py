"""Objectives shared by the tuning tests: module-level, so picklable for ``n_jobs > 1``."""

import math

from trainart.tuning import IntUniform, LogUniform

LR_OPT = 10 ** -2.5


# Module-level objectives: picklable for n_jobs > 1.
def log_quadratic(params):
    """A shifted quadratic in log10(lr), minimum 0 at lr = 10**-2.5 and width = 64."""
    return (math.log10(params["lr"]) - math.log10(LR_OPT)) ** 2 \
        + 0.01 * (math.log2(params.get("width", 64)) - 6) ** 2


def noisy_budget(params, budget):
    """A "validation loss" that improves with the budget and ranks configs by log_quadratic."""
    return log_quadratic(params) + 1.0 / budget


def with_info(params):
    return {"value": log_quadratic(params), "acc": 1.0 / (1.0 + log_quadratic(params))}


SPACE = {"lr": LogUniform(1e-5, 1.0), "width": IntUniform(16, 256, log=True)}
