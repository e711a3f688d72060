"""Adaptive learning rates per coordinate: AdaGrad, RMSProp and AdaDelta."""

from __future__ import annotations

from .. import _arrays, _checks
from .base import Optimizer, blocks, maximized, with_weight_decay


class Adagrad(Optimizer):
    r"""AdaGrad: divide by the root of the *sum* of all squared gradients so far.

    .. math::

        g_t &\leftarrow -g_t \quad\text{(maximize)}\\
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
        maximize: ascend the objective instead of descending it.

    Reference: Duchi, Hazan and Singer (2011), "Adaptive subgradient methods for online
    learning and stochastic optimization", JMLR 12.
    """

    checks = dict(lr=_checks.positive, lr_decay=_checks.non_negative,
                  weight_decay=_checks.non_negative,
                  initial_accumulator_value=_checks.non_negative, eps=_checks.positive,
                  maximize=_checks.boolean)

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10, *,
                 maximize: bool = False, check_finite: bool = True):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize), check_finite=check_finite)

    def update(self, param, grad, state, group):
        if not state:
            state["step"] = 0
            state["sum"] = _arrays.full_like(param, group["initial_accumulator_value"])
        state["step"] += 1
        lr_t = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        for p, g, r in blocks(param, grad, state["sum"]):
            g = maximized(g, group["maximize"])
            g = with_weight_decay(g, p, group["weight_decay"])
            r += g * g  # r = r + g^2
            p -= lr_t * g / (_arrays.sqrt(r) + group["eps"])


class RMSprop(Optimizer):
    r"""RMSProp: divide by the root of an exponential moving average of squared gradients.

    .. math::

        g_t &\leftarrow -g_t \quad\text{(maximize)}\\
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
        maximize: ascend the objective instead of descending it.

    Reference: Hinton, Srivastava and Swersky, Neural Networks for Machine Learning,
    lecture 6e (2012).
    """

    checks = dict(lr=_checks.positive, alpha=_checks.unit_interval, eps=_checks.positive,
                  weight_decay=_checks.non_negative, momentum=_checks.unit_interval,
                  centered=_checks.boolean, maximize=_checks.boolean)

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, *,
                 maximize: bool = False, check_finite: bool = True):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize),
                         check_finite=check_finite)

    def update(self, param, grad, state, group):
        alpha, mu = group["alpha"], group["momentum"]
        if not state:
            state["step"] = 0
            state["square_avg"] = _arrays.zeros_like(param)
            if group["centered"]:
                state["grad_avg"] = _arrays.zeros_like(param)
            if mu:
                state["momentum_buffer"] = _arrays.zeros_like(param)
        state["step"] += 1
        for p, g, v, g_avg, buf in blocks(param, grad, state["square_avg"],
                                          state.get("grad_avg"), state.get("momentum_buffer")):
            g = maximized(g, group["maximize"])
            g = with_weight_decay(g, p, group["weight_decay"])
            v *= alpha
            v += (1 - alpha) * g * g  # v = alpha * v + (1 - alpha) * g^2
            if group["centered"]:
                g_avg *= alpha
                g_avg += (1 - alpha) * g  # g_avg = alpha * g_avg + (1 - alpha) * g
                denom = _arrays.sqrt(v - g_avg * g_avg) + group["eps"]
            else:
                denom = _arrays.sqrt(v) + group["eps"]
            if mu:
                buf *= mu
                buf += g / denom  # b = mu * b + g / s
                p -= group["lr"] * buf
            else:
                p -= group["lr"] * g / denom


class Adadelta(Optimizer):
    r"""AdaDelta: RMSProp whose step size is itself a running RMS of past updates.

    .. math::

        g_t &\leftarrow -g_t \quad\text{(maximize)}\\
        g_t &\leftarrow g_t + \lambda\,\theta_{t-1} \quad\text{(L2 weight decay)}\\
        v_t &= \rho\, v_{t-1} + (1-\rho)\, g_t \odot g_t\\
        \Delta_t &= \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t\\
        u_t &= \rho\, u_{t-1} + (1-\rho)\, \Delta_t \odot \Delta_t\\
        \theta_t &= \theta_{t-1} - \eta\, \Delta_t

    The ratio of the two RMS values has the units of :math:`\theta`, so the original paper
    needs no learning rate (:math:`\eta = 1`, PyTorch's default).

    Args:
        lr: :math:`\eta > 0`. rho: :math:`\rho \in [0, 1)`. eps: :math:`\epsilon > 0`.
        weight_decay: :math:`\lambda \ge 0`. maximize: ascend the objective.

    Reference: Zeiler (2012), "ADADELTA: an adaptive learning rate method", arXiv:1212.5701.
    """

    checks = dict(lr=_checks.positive, rho=_checks.unit_interval, eps=_checks.positive,
                  weight_decay=_checks.non_negative, maximize=_checks.boolean)

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, *, maximize: bool = False,
                 check_finite: bool = True):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize), check_finite=check_finite)

    def update(self, param, grad, state, group):
        rho, eps = group["rho"], group["eps"]
        if not state:
            state["step"] = 0
            state["square_avg"] = _arrays.zeros_like(param)
            state["acc_delta"] = _arrays.zeros_like(param)
        state["step"] += 1
        for p, g, v, u in blocks(param, grad, state["square_avg"], state["acc_delta"]):
            g = maximized(g, group["maximize"])
            g = with_weight_decay(g, p, group["weight_decay"])
            v *= rho
            v += (1 - rho) * g * g  # v = rho * v + (1 - rho) * g^2
            delta = _arrays.sqrt(u + eps) / _arrays.sqrt(v + eps) * g
            u *= rho
            u += (1 - rho) * delta * delta  # u = rho * u + (1 - rho) * delta^2
            p -= group["lr"] * delta
