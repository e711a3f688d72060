"""Training Art: readable implementations of how deep networks are trained.

Modules map to the book's parts:

- :mod:`trainart.optim`: optimizers, learning-rate schedules, gradient clipping;
- :mod:`trainart.surfaces`: loss surfaces with exact gradients and Hessians;
- :mod:`trainart.plotting`: contours, trajectories, curves, animations;
- :mod:`trainart.data`: small data sets that load offline;
- :mod:`trainart.models`: NumPy softmax regression, torch MLPs and a training loop;
- :mod:`trainart.gradcheck`: centred-difference gradient checks.
"""

__version__ = "0.1.0"
