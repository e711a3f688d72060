"""Training Art: readable implementations of how deep networks are trained.

Subpackages map to the book's parts: :mod:`trainart.optim` (optimizers, schedules,
clipping), :mod:`trainart.surfaces` (loss surfaces with gradients and Hessians),
:mod:`trainart.plotting` (contours, trajectories, animations), :mod:`trainart.data`
(offline data sets).
"""

__version__ = "0.1.0"
