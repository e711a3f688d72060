"""Adam and AdamW: momentum on the gradient plus RMSProp's per-coordinate scaling."""

from __future__ import annotations

import math

from .. import _arrays, _checks
from .base import (
    Optimizer,
    betas_pair,
    blocks,
    maximized,
    maximum_,
    torch_kernels,
    with_weight_decay,
)


class Adam(Optimizer):
    r"""Adam with bias correction; L2 weight decay, or decoupled (AdamW) on request.

    .. math::

        g_t &\leftarrow -g_t \quad\text{(maximize)}\\
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
        maximize: ascend the objective instead of descending it.
        decoupled_weight_decay: decay the weights directly (AdamW) instead of adding
            :math:`\lambda\theta` to the gradient.

    References: Kingma and Ba (2015), "Adam: a method for stochastic optimization";
    Loshchilov and Hutter (2019), "Decoupled weight decay regularization".
    """

    checks = dict(lr=_checks.positive, betas=betas_pair, eps=_checks.positive,
                  weight_decay=_checks.non_negative, amsgrad=_checks.boolean,
                  maximize=_checks.boolean,
                  decoupled_weight_decay=_checks.boolean)

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False, *,
                 maximize: bool = False, decoupled_weight_decay: bool = False,
                 check_finite: bool = True):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay),
                         check_finite=check_finite)

    def update(self, param, grad, state, group):
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = _arrays.zeros_like(param)
            state["exp_avg_sq"] = _arrays.zeros_like(param)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = _arrays.zeros_like(param)
        state["step"] += 1
        if torch_kernels(param):
            return self._update_fused(param, grad, state, group)
        t = state["step"]
        decoupled = group["decoupled_weight_decay"]
        # The bias corrections are scalars, so they go on the small side (as torch does) and
        # no full-size m_hat or v_hat is made:  m_hat / (sqrt(v_hat) + eps)
        #   = m / (1 - beta1^t) / (sqrt(v) / sqrt(1 - beta2^t) + eps).
        step_size, root_c2 = lr / (1 - beta1**t), math.sqrt(1 - beta2**t)
        for p, g, m, v, v_max in blocks(param, grad, state["exp_avg"], state["exp_avg_sq"],
                                        state.get("max_exp_avg_sq")):
            g = maximized(g, group["maximize"])
            if decoupled and wd:
                p *= 1 - lr * wd  # theta = (1 - lr * lambda) * theta
            elif not decoupled:
                g = with_weight_decay(g, p, wd)
            m *= beta1
            m += (1 - beta1) * g  # m = beta1 * m + (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * g * g  # v = beta2 * v + (1 - beta2) * g^2
            if group["amsgrad"]:
                v = maximum_(v_max, v)  # the running maximum replaces v in the denominator
            denom = _arrays.sqrt(v)
            denom /= root_c2
            denom += group["eps"]
            p += -step_size * m / denom  # theta -= step_size * m / denom

    def _update_fused(self, param, grad, state, group):
        """The same rule for a float32 tensor, in torch's fused in-place operations and in the
        order of ``torch.optim.Adam``'s single-tensor step (see
        :func:`~trainart.optim.base.torch_kernels`)."""
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        t = state["step"]
        g = maximized(grad, group["maximize"])
        if wd and group["decoupled_weight_decay"]:
            param.mul_(1 - lr * wd)  # theta = (1 - lr * lambda) * theta
        elif wd:
            g = g.add(param, alpha=wd)  # g + lambda * theta
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.lerp_(g, 1 - beta1)  # m + (1 - beta1) * (g - m) = beta1 * m + (1 - beta1) * g
        v.mul_(beta2).addcmul_(g, g, value=1 - beta2)  # beta2 * v + (1 - beta2) * g^2
        if group["amsgrad"]:
            v = maximum_(state["max_exp_avg_sq"], v)
        denom = v.sqrt()
        denom.div_((1 - beta2**t) ** 0.5)
        denom.add_(group["eps"])  # sqrt(v) / sqrt(1 - beta2^t) + eps
        param.addcdiv_(m, denom, value=-lr / (1 - beta1**t))  # theta -= step_size * m / denom


class AdamW(Adam):
    r"""Adam with decoupled weight decay: :math:`\theta \leftarrow (1-\eta\lambda)\theta`
    before the Adam step, so the decay is *not* divided by :math:`\sqrt{\hat v}`.

    Same arguments as :class:`Adam`; ``weight_decay`` defaults to 0.01 as in PyTorch.
    Reference: Loshchilov and Hutter (2019), "Decoupled weight decay regularization".
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, check_finite: bool = True):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True, check_finite=check_finite)

