"""Training Art: readable implementations of how deep networks are trained.

Modules map to the book's parts:

- :mod:`trainart.optim`: optimizers, learning-rate schedules, gradient clipping;
- :mod:`trainart.surfaces`: loss surfaces with exact gradients and Hessians;
- :mod:`trainart.plotting`: contours, trajectories, curves, animations;
- :mod:`trainart.data`: small data sets that load offline;
- :mod:`trainart.models`: NumPy softmax regression and seeded torch MLPs;
- :mod:`trainart.training`: the training loop (``train_classifier``, ``evaluate``);
- :mod:`trainart.losses`: log-softmax, one-hot, cross-entropy, label smoothing, soft targets;
- :mod:`trainart.gradcheck`: centred-difference gradient checks;
- :mod:`trainart.init`: LeCun, Xavier and He initializers (and the rest of ``torch.nn.init``'s);
- :mod:`trainart.activations`: activation functions as forward/backward pairs, and the one
  registry of activations (with their torch modules);
- :mod:`trainart.layers`: the NumPy layer protocol, ``Linear`` and ``Activation``;
- :mod:`trainart.nn`: a NumPy MLP composed of layers (batch norm and dropout optional);
- :mod:`trainart.diagnostics`: per-layer activation and gradient statistics, update ratios;
- :mod:`trainart.norm`: batch, layer, instance and group normalization (forward and backward);
- :mod:`trainart.dropout`: inverted and classic dropout, Monte-Carlo dropout;
- :mod:`trainart.regularize`: L1/L2 penalties, tying and sharing, pruning, ensembles,
  adversarial training, augmentation, mixup, label smoothing, calibration, transfer learning,
  early stopping;
- :mod:`trainart.tuning`: search spaces, grid/random/coarse-to-fine search, successive halving,
  the tuning recipe's checks (initial loss, LR range test, curve diagnosis), Optuna studies;
- :mod:`trainart.newton`: Newton's method, BFGS and L-BFGS with line searches, Hessians;
- :mod:`trainart.grading`: exercises, the grader and the ``trainart`` command.
"""

__version__ = "0.1.0"
