r"""Helpers for the Optimization chapter: each optimizer's update rule in a few lines, a
least-squares problem with a noise floor, and the experiments built on them.

The update rules are written for reading, next to their equations in
``chapters/optimization/02_momentum_adaptive``: one function per method, NumPy only, state
kept in a plain ``dict`` that starts empty. They are checked against ``torch.optim`` over
whole trajectories (``tests/test_book_optimization.py``); for training, use
:mod:`trainart.optim`, which implements the same rules with PyTorch's options.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import time
from collections.abc import Callable

import numpy as np

from .. import _checks

# --------------------------------------------------------------------------------------
# Update rules. Each takes (theta, g, state, **hyperparameters) and returns the new theta;
# `state` is a dict, empty before the first step, updated in place.
# --------------------------------------------------------------------------------------


def momentum_step(theta, g, state, lr, mu=0.9):
    r"""Heavy-ball momentum in PyTorch's form.

    .. math:: b_t = \mu\, b_{t-1} + g_t, \qquad \theta_t = \theta_{t-1} - \eta\, b_t

    Args:
        theta: parameters (array). g: gradient at ``theta``. state: dict (``"b"``).
        lr: learning rate :math:`\eta`. mu: momentum :math:`\mu`.

    Returns:
        The new parameters.

    Reference: Polyak (1964); ``torch.optim.SGD(momentum=mu)``.
    """
    b = state["b"] = mu * state.get("b", 0.0) + g
    return theta - lr * b


def nesterov_step(theta, g, state, lr, mu=0.9):
    r"""Nesterov's accelerated gradient as PyTorch stores it (the look-ahead point).

    .. math:: b_t = \mu\, b_{t-1} + g_t, \qquad \theta_t = \theta_{t-1} - \eta\,(g_t + \mu\, b_t)

    Args:
        theta, g, state, lr, mu: as in :func:`momentum_step`.

    Returns:
        The new parameters.

    Reference: Sutskever et al. (2013); ``torch.optim.SGD(momentum=mu, nesterov=True)``.
    """
    b = state["b"] = mu * state.get("b", 0.0) + g
    return theta - lr * (g + mu * b)


def adagrad_step(theta, g, state, lr=1e-2, eps=1e-10):
    r"""AdaGrad: divide by the root of the summed squared gradients.

    .. math:: r_t = r_{t-1} + g_t \odot g_t, \qquad
              \theta_t = \theta_{t-1} - \frac{\eta}{\sqrt{r_t} + \epsilon} \odot g_t

    Args:
        theta, g: parameters and gradient. state: dict (``"r"``). lr: :math:`\eta`.
        eps: :math:`\epsilon`.

    Returns:
        The new parameters.

    Reference: Duchi, Hazan and Singer (2011); ``torch.optim.Adagrad``.
    """
    r = state["r"] = state.get("r", 0.0) + g * g
    return theta - lr * g / (np.sqrt(r) + eps)


def rmsprop_step(theta, g, state, lr=1e-2, alpha=0.99, eps=1e-8):
    r"""RMSProp: an exponential moving average of the squared gradients replaces the sum.

    .. math:: v_t = \alpha\, v_{t-1} + (1-\alpha)\, g_t \odot g_t, \qquad
              \theta_t = \theta_{t-1} - \frac{\eta}{\sqrt{v_t} + \epsilon} \odot g_t

    Args:
        theta, g: parameters and gradient. state: dict (``"v"``). lr: :math:`\eta`.
        alpha: smoothing constant. eps: :math:`\epsilon`.

    Returns:
        The new parameters.

    Reference: Hinton, Coursera lecture 6e (2012); ``torch.optim.RMSprop``.
    """
    v = state["v"] = alpha * state.get("v", 0.0) + (1 - alpha) * g * g
    return theta - lr * g / (np.sqrt(v) + eps)


def adadelta_step(theta, g, state, lr=1.0, rho=0.9, eps=1e-6):
    r"""AdaDelta: RMSProp with a running RMS of past updates in the numerator.

    .. math:: v_t = \rho v_{t-1} + (1-\rho) g_t^2,\quad
              \Delta_t = \frac{\sqrt{u_{t-1}+\epsilon}}{\sqrt{v_t+\epsilon}} g_t,\quad
              u_t = \rho u_{t-1} + (1-\rho)\Delta_t^2,\quad \theta_t = \theta_{t-1} - \eta\Delta_t

    Args:
        theta, g: parameters and gradient. state: dict (``"v"``, ``"u"``). lr: :math:`\eta`.
        rho: smoothing constant. eps: :math:`\epsilon`.

    Returns:
        The new parameters.

    Reference: Zeiler (2012); ``torch.optim.Adadelta``.
    """
    v = state["v"] = rho * state.get("v", 0.0) + (1 - rho) * g * g
    delta = np.sqrt(state.get("u", 0.0) + eps) / np.sqrt(v + eps) * g
    state["u"] = rho * state.get("u", 0.0) + (1 - rho) * delta * delta
    return theta - lr * delta


def adam_step(theta, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    r"""Adam: momentum on the gradient, RMSProp's scaling, and bias correction.

    .. math:: m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad
              v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\quad
              \theta_t = \theta_{t-1} - \eta\,\frac{m_t/(1-\beta_1^t)}{\sqrt{v_t/(1-\beta_2^t)}
              + \epsilon}

    Args:
        theta, g: parameters and gradient. state: dict (``"t"``, ``"m"``, ``"v"``).
        lr: :math:`\eta`. betas: :math:`(\beta_1, \beta_2)`. eps: :math:`\epsilon`.

    Returns:
        The new parameters.

    Reference: Kingma and Ba (2015); ``torch.optim.Adam``.
    """
    b1, b2 = betas
    t = state["t"] = state.get("t", 0) + 1
    m = state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
    v = state["v"] = b2 * state.get("v", 0.0) + (1 - b2) * g * g
    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)  # bias correction
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps)


def momentum_weight_decay_step(theta, g, state, lr, mu=0.9, l2=0.0, decoupled=0.0):
    r"""SGD with momentum and weight decay, as an L2 penalty or decoupled (SGDW).

    .. math:: b_t = \mu\, b_{t-1} + g_t + \lambda_{2}\,\theta_{t-1}, \qquad
              \theta_t = \theta_{t-1} - \eta\, b_t - \eta\,\lambda_{d}\,\theta_{t-1}

    The L2 term :math:`\lambda_2\theta` passes through the velocity (``torch.optim.SGD``'s
    ``weight_decay``); the decoupled term :math:`\lambda_d\theta` does not. Without momentum
    the two are the same update; with momentum :math:`\mu` their fixed points agree when
    :math:`\lambda_d = \lambda_2 / (1-\mu)`, their paths do not.

    Args:
        theta, g, state, lr, mu: as in :func:`momentum_step`.
        l2: :math:`\lambda_2`, the L2 coefficient. decoupled: :math:`\lambda_d`.

    Returns:
        The new parameters.

    Reference: Loshchilov and Hutter (2019), "Decoupled weight decay regularization" (SGDW).
    """
    b = state["b"] = mu * state.get("b", 0.0) + g + l2 * theta
    return theta - lr * b - lr * decoupled * theta


UPDATE_RULES = {"Momentum": momentum_step, "NAG": nesterov_step, "AdaGrad": adagrad_step,
                "RMSProp": rmsprop_step, "AdaDelta": adadelta_step, "Adam": adam_step}


def rule_trajectory(rule: Callable, grad: Callable, theta0, steps: int, **hyper) -> np.ndarray:
    """Iterates of an update rule from ``theta0``: ``theta <- rule(theta, grad(theta), state)``.

    Args:
        rule: one of the update rules of this module.
        grad: ``grad(theta) -> gradient``.
        theta0: the start (copied, as float64).
        steps: number of steps (>= 0).
        **hyper: the rule's hyperparameters (``lr=...``).

    Returns:
        An array of shape ``(steps + 1, *theta0.shape)``, the start first.
    """
    if not callable(rule) or not callable(grad):
        bad = "rule" if not callable(rule) else "grad"
        raise TypeError(f"rule_trajectory: {bad} must be callable, got "
                        f"{type(rule if bad == 'rule' else grad).__name__}")
    steps = _checks.non_negative_int("rule_trajectory", "steps", steps)
    theta = np.array(theta0, dtype=np.float64)
    state: dict = {}
    path = [theta.copy()]
    for _ in range(steps):
        theta = rule(theta, grad(theta), state, **hyper)
        path.append(np.array(theta, dtype=np.float64))
    return np.array(path)


def rule_source(rule: Callable) -> str:
    """The source of a function without its docstring: the few lines that do the work."""
    if not callable(rule):
        raise TypeError(f"rule_source: rule must be a function, got {type(rule).__name__}")
    source = textwrap.dedent(inspect.getsource(rule))
    body = ast.parse(source).body[0]
    lines = source.splitlines()
    doc = body.body[0]
    if isinstance(doc, ast.Expr) and isinstance(getattr(doc, "value", None), ast.Constant) \
            and isinstance(doc.value.value, str):
        del lines[doc.lineno - 1:doc.end_lineno]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# A loss with a noise floor: least squares with minibatches.
# --------------------------------------------------------------------------------------


def least_squares_problem(n: int = 2000, d: int = 50, noise: float = 0.5, seed: int = 0):
    r"""A linear regression :math:`y = X\theta_{true} + \varepsilon` and its exact solution.

    The loss is :math:`L(\theta) = \frac1{2n}\|X\theta - y\|^2`; with noise
    :math:`\varepsilon \ne 0` no :math:`\theta` fits every example, so minibatch gradients
    stay noisy at the minimum :math:`\theta^*` (a noise floor for constant-rate SGD).

    Args:
        n: examples (>= d). d: features (>= 1). noise: std of :math:`\varepsilon` (>= 0).
        seed: seeds NumPy's generator.

    Returns:
        ``(X, y, theta_star)``: float64 arrays, ``theta_star`` the least-squares solution.
    """
    d = _checks.positive_int("least_squares_problem", "d", d)
    n = _checks.integer("least_squares_problem", "n", n, minimum=d)
    noise = _checks.non_negative("least_squares_problem", "noise", noise)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + noise * rng.standard_normal(n)
    theta_star = np.linalg.solve(X.T @ X, X.T @ y)  # the normal equations
    return X, y, theta_star


def least_squares_loss(X, y, theta) -> float:
    r""":math:`L(\theta) = \frac1{2n}\|X\theta - y\|^2`."""
    r = X @ theta - y
    return float(r @ r) / (2 * len(y))


def least_squares_sgd(X, y, schedule: Callable[[int], float], epochs: int,
                      batch_size: int = 10, seed: int = 0, momentum: float = 0.0) -> np.ndarray:
    r"""Minibatch SGD (:class:`trainart.optim.SGD`) on least squares from :math:`\theta = 0`.

    The minibatch gradient is :math:`\frac1B X_B^\top (X_B\theta - y_B)`; the rate follows
    ``schedule(epoch)`` through :class:`trainart.optim.LRScheduler` (stepped once per epoch);
    the minibatches are reshuffled every epoch from ``seed``.

    Args:
        X, y: the data (as from :func:`least_squares_problem`).
        schedule: ``epoch -> learning rate`` (e.g. :func:`trainart.optim.cosine_annealing`).
        epochs: passes over the data (>= 1). batch_size: examples per step (>= 1).
        seed: minibatch order. momentum: SGD's momentum :math:`\mu \in [0, 1)`.

    Returns:
        The excess loss :math:`L(\theta_e) - L(\theta^*)` after each epoch ``e = 0..epochs``.
    """
    from ..data import minibatches
    from ..optim import SGD, LRScheduler

    if not callable(schedule):
        raise TypeError(f"least_squares_sgd: schedule must be a function epoch -> lr, "
                        f"got {type(schedule).__name__}")
    epochs = _checks.positive_int("least_squares_sgd", "epochs", epochs)
    batch_size = _checks.positive_int("least_squares_sgd", "batch_size", batch_size)
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    best = least_squares_loss(X, y, np.linalg.solve(X.T @ X, X.T @ y))  # normal equations
    theta = np.zeros(X.shape[1])
    opt = SGD([theta], lr=schedule(0), momentum=momentum)
    sched = LRScheduler(opt, schedule)
    rng = np.random.default_rng(seed)
    excess = [least_squares_loss(X, y, theta) - best]
    for _ in range(epochs):
        for idx in minibatches(len(y), batch_size, rng):
            opt.step([X[idx].T @ (X[idx] @ theta - y[idx]) / len(idx)])
        sched.step()
        excess.append(least_squares_loss(X, y, theta) - best)
    return np.array(excess)


# --------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------


def best_time(fn: Callable[[], object], repeats: int = 5, number: int = 10) -> float:
    """Seconds per call of ``fn()``: the best of ``repeats`` timings of ``number`` calls.

    The minimum is the usual estimate on a shared machine (other work only adds time).
    """
    if not callable(fn):
        raise TypeError(f"best_time: fn must be callable, got {type(fn).__name__}")
    repeats = _checks.positive_int("best_time", "repeats", repeats)
    number = _checks.positive_int("best_time", "number", number)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, time.perf_counter() - start)
    return best / number
