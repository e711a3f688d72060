"""Adam and AdamW: momentum on the gradient plus RMSProp's per-coordinate scaling."""

from __future__ import annotations

import math

from .. import _arrays, _checks
from .base import Optimizer


class Adam(Optimizer):
    r"""Adam with bias correction; L2 weight decay, or decoupled (AdamW) on request.

    .. math::

        g_t &\leftarrow g_t + \lambda\,\theta_{t-1}
              \quad\text{(L2: the decay goes through the adaptive scaling)}\\
        \theta_{t-1} &\leftarrow (1 - \eta\lambda)\,\theta_{t-1}
              \quad\text{(decoupled, instead of the line above)}\\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t \odot g_t\\
        \hat m_t &= m_t / (1-\beta_1^t), \qquad \hat v_t = v_t / (1-\beta_2^t)\\
        \theta_t &= \theta_{t-1} - \eta\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)

    The update uses the first moment :math:`\hat m_t`, not the raw gradient. With
    ``amsgrad=True`` the denominator uses the running maximum of :math:`\hat v_t`'s
    numerator :math:`v_t`.

    Args:
        lr: :math:`\eta > 0`. betas: :math:`(\beta_1, \beta_2)`, each in [0, 1).
        eps: :math:`\epsilon > 0`. weight_decay: :math:`\lambda \ge 0`.
        amsgrad: use AMSGrad's maximum (Reddi et al., 2018).
        decoupled_weight_decay: decay the weights directly (AdamW) instead of adding
            :math:`\lambda\theta` to the gradient.

    References: Kingma and Ba (2015), "Adam: a method for stochastic optimization";
    Loshchilov and Hutter (2019), "Decoupled weight decay regularization".
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False, *,
                 decoupled_weight_decay: bool = False, check_finite: bool = True):
        name = type(self).__name__
        try:
            beta1, beta2 = betas
        except (TypeError, ValueError):
            raise ValueError(f"{name}: betas must be a pair, got {betas!r}") from None
        defaults = dict(
            lr=_checks.positive(name, "lr", lr),
            betas=(_checks.unit_interval(name, "betas[0]", beta1),
                   _checks.unit_interval(name, "betas[1]", beta2)),
            eps=_checks.positive(name, "eps", eps),
            weight_decay=_checks.non_negative(name, "weight_decay", weight_decay),
            amsgrad=bool(amsgrad),
            decoupled_weight_decay=bool(decoupled_weight_decay),
        )
        super().__init__(params, defaults, check_finite=check_finite)

    def update(self, param, grad, state):
        h = self.defaults
        lr, (beta1, beta2), wd = h["lr"], h["betas"], h["weight_decay"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = _arrays.zeros_like(param)
            state["exp_avg_sq"] = _arrays.zeros_like(param)
            if h["amsgrad"]:
                state["max_exp_avg_sq"] = _arrays.zeros_like(param)
        state["step"] += 1
        t = state["step"]
        if wd and h["decoupled_weight_decay"]:
            param *= 1 - lr * wd
        elif wd:
            grad = grad + wd * param
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        _arrays.add_scaled_(m, 1 - beta1, grad)  # m = beta1 * m + (1 - beta1) * grad
        v *= beta2
        _arrays.add_product_(v, 1 - beta2, grad, grad)  # v = beta2 * v + (1 - beta2) * grad^2
        if h["amsgrad"]:
            state["max_exp_avg_sq"] = v = _arrays.maximum(state["max_exp_avg_sq"], v)
        # The bias corrections are scalars, so they go on the small side (as torch does) and
        # no full-size m_hat or v_hat is made:  m_hat / (sqrt(v_hat) + eps)
        #   = m / (1 - beta1^t) / (sqrt(v) / sqrt(1 - beta2^t) + eps).
        denom = _arrays.sqrt(v)
        denom /= math.sqrt(1 - beta2**t)
        denom += h["eps"]
        _arrays.add_ratio_(param, -lr / (1 - beta1**t), m, denom)  # param -= step * m / denom


class AdamW(Adam):
    r"""Adam with decoupled weight decay: :math:`\theta \leftarrow (1-\eta\lambda)\theta`
    before the Adam step, so the decay is *not* divided by :math:`\sqrt{\hat v}`.

    Same arguments as :class:`Adam`; ``weight_decay`` defaults to 0.01 as in PyTorch.
    Reference: Loshchilov and Hutter (2019), "Decoupled weight decay regularization".
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 check_finite: bool = True):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad,
                         decoupled_weight_decay=True, check_finite=check_finite)

