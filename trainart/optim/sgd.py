"""Stochastic gradient descent, with heavy-ball momentum or Nesterov momentum."""

from __future__ import annotations

from .. import _arrays, _checks
from .base import Optimizer, blocks, maximized, torch_kernels, with_weight_decay


class SGD(Optimizer):
    r"""Gradient descent with optional momentum (PyTorch's convention).

    Update rule for a parameter :math:`\theta` with gradient :math:`g_t`, written as
    ``torch.optim.SGD`` does (velocity *without* the learning rate inside):

    .. math::

        g_t &\leftarrow -g_t \quad\text{(maximize)}\\
        g_t &\leftarrow g_t + \lambda\,\theta_{t-1}
              \quad\text{(L2 weight decay, if } \lambda > 0)\\
        b_t &= \mu\, b_{t-1} + (1 - \tau)\, g_t \quad (b_1 = g_1)\\
        d_t &= g_t + \mu\, b_t \ \text{(Nesterov)} \quad\text{or}\quad d_t = b_t\\
        \theta_t &= \theta_{t-1} - \eta\, d_t

    With :math:`\mu = 0` this is plain SGD. The lecture notes write momentum as
    :math:`v = \mu v - \eta g,\ \theta \mathrel{+}= v`; for a constant :math:`\eta` both
    forms give the same iterates (:math:`v = -\eta b`).

    Args:
        params: parameters to update in place, or parameter groups (see
            :class:`~trainart.optim.Optimizer`).
        lr: learning rate :math:`\eta > 0`.
        momentum: :math:`\mu \in [0, 1)`.
        dampening: :math:`\tau \in [0, 1)`, scales the new gradient in the buffer.
        weight_decay: :math:`\lambda \ge 0`, L2 penalty added to the gradient.
        nesterov: use Nesterov's accelerated gradient (needs momentum > 0, dampening 0).
        maximize: ascend the objective instead of descending it.
        check_finite: raise on NaN/inf gradients.

    References:
        Polyak (1964), heavy-ball momentum; Sutskever et al. (2013), "On the importance of
        initialization and momentum in deep learning" (the Nesterov form used here).
    """

    checks = dict(lr=_checks.positive, momentum=_checks.unit_interval,
                  dampening=_checks.unit_interval, weight_decay=_checks.non_negative,
                  nesterov=_checks.boolean, maximize=_checks.boolean)

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False,
                 check_finite: bool = True):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize), check_finite=check_finite)

    def _check_group(self, owner, group, label):
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"{owner}: {label('nesterov')}=True needs momentum > 0 and "
                             f"dampening = 0, got momentum={group['momentum']!r}, "
                             f"dampening={group['dampening']!r}")

    def update(self, param, grad, state, group):
        if torch_kernels(param):
            return self._update_fused(param, grad, state, group)
        lr, mu, tau = group["lr"], group["momentum"], group["dampening"]
        first = mu and "momentum_buffer" not in state
        if first:
            state["momentum_buffer"] = _arrays.zeros_like(param)
        for p, g, buf in blocks(param, grad, state.get("momentum_buffer")):
            g = maximized(g, group["maximize"])
            g = with_weight_decay(g, p, group["weight_decay"])
            if mu:
                if first:
                    buf[...] = g  # b_1 = g_1
                else:
                    buf *= mu
                    buf += (1 - tau) * g  # b = mu * b + (1 - tau) * g
                g = g + mu * buf if group["nesterov"] else buf
            p += -lr * g  # theta -= lr * d

    def _update_fused(self, param, grad, state, group):
        """The same rule for a float32 tensor, in torch's fused in-place operations and in the
        order of ``torch.optim.SGD``'s single-tensor step (see
        :func:`~trainart.optim.base.torch_kernels`)."""
        mu = group["momentum"]
        g = maximized(grad, group["maximize"])
        if group["weight_decay"]:
            g = g.add(param, alpha=group["weight_decay"])  # g + lambda * theta
        if mu:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.detach().clone()  # b_1 = g_1
            else:
                buf.mul_(mu).add_(g, alpha=1 - group["dampening"])  # mu * b + (1 - tau) * g
            g = g.add(buf, alpha=mu) if group["nesterov"] else buf
        param.add_(g, alpha=-group["lr"])  # theta -= lr * d
