"""Stochastic gradient descent, with heavy-ball momentum or Nesterov momentum."""

from __future__ import annotations

from .. import _arrays, _checks
from .base import Optimizer


class SGD(Optimizer):
    r"""Gradient descent with optional momentum (PyTorch's convention).

    Update rule for a parameter :math:`\theta` with gradient :math:`g_t`, written as
    ``torch.optim.SGD`` does (velocity *without* the learning rate inside):

    .. math::

        g_t &\leftarrow g_t + \lambda\,\theta_{t-1}
              \quad\text{(L2 weight decay, if } \lambda > 0)\\
        b_t &= \mu\, b_{t-1} + (1 - \tau)\, g_t \quad (b_1 = g_1)\\
        d_t &= g_t + \mu\, b_t \ \text{(Nesterov)} \quad\text{or}\quad d_t = b_t\\
        \theta_t &= \theta_{t-1} - \eta\, d_t

    With :math:`\mu = 0` this is plain SGD. The lecture notes write momentum as
    :math:`v = \mu v - \eta g,\ \theta \mathrel{+}= v`; for a constant :math:`\eta` both
    forms give the same iterates (:math:`v = -\eta b`).

    Args:
        params: parameters to update in place (see :class:`~trainart.optim.Optimizer`).
        lr: learning rate :math:`\eta > 0`.
        momentum: :math:`\mu \in [0, 1)`.
        dampening: :math:`\tau \in [0, 1)`, scales the new gradient in the buffer.
        weight_decay: :math:`\lambda \ge 0`, L2 penalty added to the gradient.
        nesterov: use Nesterov's accelerated gradient (needs momentum > 0, dampening 0).
        check_finite: raise on NaN/inf gradients.

    References:
        Polyak (1964), heavy-ball momentum; Sutskever et al. (2013), "On the importance of
        initialization and momentum in deep learning" (the Nesterov form used here).
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, check_finite: bool = True):
        name = type(self).__name__
        defaults = dict(
            lr=_checks.positive(name, "lr", lr),
            momentum=_checks.unit_interval(name, "momentum", momentum),
            dampening=_checks.unit_interval(name, "dampening", dampening),
            weight_decay=_checks.non_negative(name, "weight_decay", weight_decay),
            nesterov=bool(nesterov),
        )
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"{name}: nesterov=True needs momentum > 0 and dampening = 0")
        super().__init__(params, defaults, check_finite=check_finite)

    def update(self, param, grad, state):
        lr, mu = self.defaults["lr"], self.defaults["momentum"]
        wd, tau = self.defaults["weight_decay"], self.defaults["dampening"]
        if wd:
            grad = grad + wd * param
        if mu:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = _arrays.copy(grad)
            else:
                buf = state["momentum_buffer"]
                buf *= mu
                _arrays.add_scaled_(buf, 1 - tau, grad)  # buf = mu * buf + (1 - tau) * grad
            buf = state["momentum_buffer"]
            grad = grad + mu * buf if self.defaults["nesterov"] else buf
        _arrays.add_scaled_(param, -lr, grad)  # param -= lr * grad
