"""Adaptive learning rates per coordinate: AdaGrad, RMSProp and AdaDelta."""

from __future__ import annotations

from .. import _arrays, _checks
from .base import Optimizer


class Adagrad(Optimizer):
    r"""AdaGrad: divide by the root of the *sum* of all squared gradients so far.

    .. math::

        g_t &\leftarrow g_t + \lambda\,\theta_{t-1} \quad\text{(L2 weight decay)}\\
        \tilde\eta_t &= \eta / (1 + (t-1)\,\delta) \quad\text{(lr\_decay } \delta)\\
        r_t &= r_{t-1} + g_t \odot g_t \quad (r_0 = \text{initial\_accumulator\_value})\\
        \theta_t &= \theta_{t-1} - \tilde\eta_t\, g_t / (\sqrt{r_t} + \epsilon)

    The accumulator :math:`r` holds squared gradients only: no learning rate inside it, and
    no second derivatives anywhere. Because :math:`r` only grows, the effective step
    :math:`\eta/\sqrt{r_t}` shrinks towards zero.

    Args:
        lr: :math:`\eta > 0`. lr_decay: :math:`\delta \ge 0`.
        weight_decay: :math:`\lambda \ge 0`. initial_accumulator_value: :math:`r_0 \ge 0`.
        eps: :math:`\epsilon > 0`, added to the root for stability.

    Reference: Duchi, Hazan and Singer (2011), "Adaptive subgradient methods for online
    learning and stochastic optimization", JMLR 12.
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10, *,
                 check_finite: bool = True):
        name = type(self).__name__
        defaults = dict(
            lr=_checks.positive(name, "lr", lr),
            lr_decay=_checks.non_negative(name, "lr_decay", lr_decay),
            weight_decay=_checks.non_negative(name, "weight_decay", weight_decay),
            initial_accumulator_value=_checks.non_negative(
                name, "initial_accumulator_value", initial_accumulator_value),
            eps=_checks.positive(name, "eps", eps),
        )
        super().__init__(params, defaults, check_finite=check_finite)

    def update(self, param, grad, state):
        h = self.defaults
        if not state:
            state["step"] = 0
            state["sum"] = _arrays.full_like(param, h["initial_accumulator_value"])
        state["step"] += 1
        if h["weight_decay"]:
            grad = grad + h["weight_decay"] * param
        lr_t = h["lr"] / (1 + (state["step"] - 1) * h["lr_decay"])
        state["sum"] += grad * grad
        param -= lr_t * grad / (_arrays.sqrt(state["sum"]) + h["eps"])


class RMSprop(Optimizer):
    r"""RMSProp: divide by the root of an exponential moving average of squared gradients.

    .. math::

        g_t &\leftarrow g_t + \lambda\,\theta_{t-1} \quad\text{(L2 weight decay)}\\
        v_t &= \alpha\, v_{t-1} + (1-\alpha)\, g_t \odot g_t\\
        \bar g_t &= \alpha\, \bar g_{t-1} + (1-\alpha)\, g_t \quad\text{(centered only)}\\
        s_t &= \sqrt{v_t - \bar g_t^2} + \epsilon \ \text{(centered) or } \sqrt{v_t} + \epsilon\\
        b_t &= \mu\, b_{t-1} + g_t / s_t,\quad \theta_t = \theta_{t-1} - \eta\, b_t
              \quad\text{(momentum } \mu > 0)\\
        \theta_t &= \theta_{t-1} - \eta\, g_t / s_t \quad\text{(otherwise)}

    Forgetting old gradients (:math:`\alpha < 1`) fixes AdaGrad's ever-shrinking step.

    Args:
        lr: :math:`\eta > 0`. alpha: smoothing :math:`\alpha \in [0, 1)`.
        eps: :math:`\epsilon > 0`. weight_decay: :math:`\lambda \ge 0`.
        momentum: :math:`\mu \in [0, 1)`. centered: normalise by the estimated variance.

    Reference: Hinton, Srivastava and Swersky, Neural Networks for Machine Learning,
    lecture 6e (2012).
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, *,
                 check_finite: bool = True):
        name = type(self).__name__
        defaults = dict(
            lr=_checks.positive(name, "lr", lr),
            alpha=_checks.unit_interval(name, "alpha", alpha),
            eps=_checks.positive(name, "eps", eps),
            weight_decay=_checks.non_negative(name, "weight_decay", weight_decay),
            momentum=_checks.unit_interval(name, "momentum", momentum),
            centered=bool(centered),
        )
        super().__init__(params, defaults, check_finite=check_finite)

    def update(self, param, grad, state):
        h = self.defaults
        alpha = h["alpha"]
        if not state:
            state["step"] = 0
            state["square_avg"] = _arrays.zeros_like(param)
            if h["centered"]:
                state["grad_avg"] = _arrays.zeros_like(param)
            if h["momentum"]:
                state["momentum_buffer"] = _arrays.zeros_like(param)
        state["step"] += 1
        if h["weight_decay"]:
            grad = grad + h["weight_decay"] * param
        v = state["square_avg"]
        v *= alpha
        v += (1 - alpha) * grad * grad
        if h["centered"]:
            g_avg = state["grad_avg"]
            g_avg *= alpha
            g_avg += (1 - alpha) * grad
            denom = _arrays.sqrt(v - g_avg * g_avg) + h["eps"]
        else:
            denom = _arrays.sqrt(v) + h["eps"]
        if h["momentum"]:
            buf = state["momentum_buffer"]
            buf *= h["momentum"]
            buf += grad / denom
            param -= h["lr"] * buf
        else:
            param -= h["lr"] * grad / denom


class Adadelta(Optimizer):
    r"""AdaDelta: RMSProp whose step size is itself a running RMS of past updates.

    .. math::

        g_t &\leftarrow g_t + \lambda\,\theta_{t-1} \quad\text{(L2 weight decay)}\\
        v_t &= \rho\, v_{t-1} + (1-\rho)\, g_t \odot g_t\\
        \Delta_t &= \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t\\
        u_t &= \rho\, u_{t-1} + (1-\rho)\, \Delta_t \odot \Delta_t\\
        \theta_t &= \theta_{t-1} - \eta\, \Delta_t

    The ratio of the two RMS values has the units of :math:`\theta`, so the original paper
    needs no learning rate (:math:`\eta = 1`, PyTorch's default).

    Args:
        lr: :math:`\eta > 0`. rho: :math:`\rho \in [0, 1)`. eps: :math:`\epsilon > 0`.
        weight_decay: :math:`\lambda \ge 0`.

    Reference: Zeiler (2012), "ADADELTA: an adaptive learning rate method", arXiv:1212.5701.
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, *, check_finite: bool = True):
        name = type(self).__name__
        defaults = dict(
            lr=_checks.positive(name, "lr", lr),
            rho=_checks.unit_interval(name, "rho", rho),
            eps=_checks.positive(name, "eps", eps),
            weight_decay=_checks.non_negative(name, "weight_decay", weight_decay),
        )
        super().__init__(params, defaults, check_finite=check_finite)

    def update(self, param, grad, state):
        h = self.defaults
        rho, eps = h["rho"], h["eps"]
        if not state:
            state["step"] = 0
            state["square_avg"] = _arrays.zeros_like(param)
            state["acc_delta"] = _arrays.zeros_like(param)
        state["step"] += 1
        if h["weight_decay"]:
            grad = grad + h["weight_decay"] * param
        v, u = state["square_avg"], state["acc_delta"]
        v *= rho
        v += (1 - rho) * grad * grad
        delta = _arrays.sqrt(u + eps) / _arrays.sqrt(v + eps) * grad
        u *= rho
        u += (1 - rho) * delta * delta
        param -= h["lr"] * delta
