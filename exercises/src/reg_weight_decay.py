# %% [markdown]
# # Exercise: L2 penalty versus decoupled weight decay (가중치 감소)
#
# Weight decay (가중치 감소) pulls every weight a little towards zero at every step, so that
# the network prefers small weights: a regularizer (규제 기법) against overfitting. For plain
# SGD there are two ways to say it, and they are the same method:
#
# * add the **L2 penalty** (L2 페널티) $\frac{\lambda}{2}\|\theta\|^2$ to the loss; its gradient
#   $\lambda\theta$ is then added to the gradient of the loss;
# * or shrink the weights directly, $\theta \leftarrow \theta - \eta\lambda\theta$, next to the
#   gradient step.
#
# For an adaptive method like Adam the two are **not** the same (Loshchilov and Hutter
# 2019, "Decoupled weight decay regularization"). With the L2 penalty, $\lambda\theta$ goes into
# the moments $m$ and $v$ and is divided by $\sqrt{\hat v}$ like the rest of the gradient: a
# weight with large gradients is hardly decayed at all, and in the first step *every* weight
# moves by about $\eta$ whatever $\lambda$ is. Decoupled weight decay (분리된 가중치 감소),
# the "W" in AdamW, keeps the decay out of the moments: every weight shrinks by the same factor
# $1 - \eta\lambda$, and Adam sees only the gradient of the loss.
#
# In this exercise you write one step of each, `torch.optim.Adam(weight_decay=λ)` and
# `torch.optim.AdamW(weight_decay=λ)`, as pure NumPy functions. The Adam exercise
# (`optim_adam`) covers the moments and the bias correction used here.
#
# ## The two update rules (PyTorch's convention)
#
# With learning rate $\eta$, decay rates $\beta_1, \beta_2$, a small $\epsilon$, weight decay
# $\lambda \ge 0$, the gradient of the loss $g_t$ and the step count $t = 1, 2, \dots$ (with
# $m_0 = v_0 = 0$), both methods end with the same Adam step on some gradient $\tilde g_t$
# from some starting point $\tilde\theta$:
#
# $$
# m_t = \beta_1 m_{t-1} + (1 - \beta_1)\, \tilde g_t, \qquad
# v_t = \beta_2 v_{t-1} + (1 - \beta_2)\, \tilde g_t \odot \tilde g_t,
# $$
#
# $$
# \hat m_t = \frac{m_t}{1 - \beta_1^t}, \qquad \hat v_t = \frac{v_t}{1 - \beta_2^t}, \qquad
# \theta_t = \tilde\theta - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon} .
# $$
#
# They differ only in $\tilde g_t$ and $\tilde\theta$:
#
# | method | `torch.optim` | $\tilde g_t$ (goes into $m$, $v$) | $\tilde\theta$ |
# | --- | --- | --- | --- |
# | Adam + L2 penalty | `Adam(weight_decay=λ)` | $g_t + \lambda\,\theta_{t-1}$ | $\theta_{t-1}$ |
# | AdamW (decoupled) | `AdamW(weight_decay=λ)` | $g_t$ | $(1 - \eta\lambda)\,\theta_{t-1}$ |
#
# Details that matter:
#
# * In AdamW the decay comes **first**: the weights are shrunk, $\tilde\theta = \theta_{t-1} -
#   \eta\lambda\theta_{t-1}$, and the Adam update is subtracted from the shrunk weights. The
#   decay uses the learning rate $\eta$ (PyTorch's convention; the paper's schedule multiplier
#   is folded into $\eta$).
# * In Adam + L2 the decay term uses the weights **before** this step, $\theta_{t-1}$, and the
#   moments you return hold $\tilde g_t = g_t + \lambda\theta_{t-1}$, as PyTorch stores them.
# * The state is the uncorrected $m_t$, $v_t$ (PyTorch's `exp_avg`, `exp_avg_sq`).
# * With $\lambda = 0$ both are plain Adam.
#
# ## Your task
#
# Write two functions (one cell each), with the same arguments and results:
#
# * `adam_l2_step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
#   weight_decay=0.0)`: one step of Adam with the L2 penalty added to the gradient;
# * `adamw_step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
#   weight_decay=1e-2)`: one step of AdamW.
#
# `param`, `grad` (the gradient of the loss, without any decay), `m` and `v` are NumPy float
# arrays of the same shape (any shape), `m` and `v` are zeros on the first step, `t` is the
# number of this step (1 on the first call). Each returns the triple
# `(new_param, new_m, new_v)` as new arrays; do not change the inputs in place.
#
# ## What the checks test
#
# The checks run your functions on seeded inputs in float64 and compare `new_param`, `new_m`
# and `new_v` with `torch.optim.Adam` and `torch.optim.AdamW` in float64, with a relative
# tolerance of $10^{-9}$ (correct arrangements of the arithmetic agree to about 14 digits). The
# visible checks below test one step of each method, and a property: with a zero gradient of
# the loss, AdamW shrinks every weight by exactly the factor $1 - \eta\lambda$ (its first Adam
# step is zero), while Adam + L2 moves every weight by about $\eta$ towards zero. The grader
# also runs hidden checks of the same kind: 30-step trajectories of both methods on a
# quadratic bowl, single steps in the middle of a run ($t > 1$ with given $m$, $v$) for
# several shapes and hyperparameters, and that your functions leave their inputs unchanged.

# %% setup id=setup off-limits=trainart.optim.adam
import numpy as np
import torch

from trainart.grading.checks import check, quadratic_bowl


def as_triple(c, result, function):
    """Unpack the result of a step function, failing check c if it is not a triple."""
    return c.returns(result, function, ("new_param", "new_m", "new_v"))


class TorchReference:
    """A torch optimizer on one float64 parameter, fed with NumPy gradients."""

    def __init__(self, optimizer, param, **hyper):
        self.p = torch.tensor(param, dtype=torch.float64, requires_grad=True)
        self.opt = optimizer([self.p], **hyper)

    def step(self, grad):
        """One step with this gradient; returns (param, exp_avg, exp_avg_sq) as arrays."""
        self.p.grad = torch.tensor(grad, dtype=torch.float64)
        self.opt.step()
        state = self.opt.state[self.p]
        return (self.p.detach().numpy().copy(), state["exp_avg"].numpy().copy(),
                state["exp_avg_sq"].numpy().copy())


# %% solution id=adam_l2_step
def adam_l2_step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
                 weight_decay=0.0):
    """One Adam step with the L2 penalty's gradient weight_decay * param added to grad."""
    ### BEGIN SOLUTION
    grad = grad + weight_decay * param
    new_m = beta1 * m + (1 - beta1) * grad
    new_v = beta2 * v + (1 - beta2) * grad * grad
    m_hat = new_m / (1 - beta1**t)
    v_hat = new_v / (1 - beta2**t)
    new_param = param - lr * m_hat / (np.sqrt(v_hat) + eps)
    return new_param, new_m, new_v
    ### END SOLUTION


# %% solution id=adamw_step
def adamw_step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
               weight_decay=1e-2):
    """One AdamW step: shrink param by (1 - lr * weight_decay), then the Adam update."""
    ### BEGIN SOLUTION
    decayed = param * (1 - lr * weight_decay)
    new_m = beta1 * m + (1 - beta1) * grad
    new_v = beta2 * v + (1 - beta2) * grad * grad
    m_hat = new_m / (1 - beta1**t)
    v_hat = new_v / (1 - beta2**t)
    new_param = decayed - lr * m_hat / (np.sqrt(v_hat) + eps)
    return new_param, new_m, new_v
    ### END SOLUTION


# %% check id=adam_l2_first_steps points=2
with check("three Adam + L2 steps match torch.optim.Adam(weight_decay=0.1)") as c:
    rng = np.random.default_rng(71)
    param = rng.standard_normal(6)
    grads = [rng.standard_normal(6) for _ in range(3)]
    ref = TorchReference(torch.optim.Adam, param, lr=0.01, weight_decay=0.1)
    x, m, v = param.copy(), np.zeros(6), np.zeros(6)
    for t, g in enumerate(grads, start=1):
        x, m, v = as_triple(c, adam_l2_step(x, g.copy(), m, v, t, lr=0.01, weight_decay=0.1),
                            "adam_l2_step")
        ref_x, ref_m, ref_v = ref.step(g)
        c.close(m, ref_m, rtol=1e-9, atol=1e-14, name=f"new_m after step {t}")
        c.close(v, ref_v, rtol=1e-9, atol=1e-14, name=f"new_v after step {t}")
        c.close(x, ref_x, rtol=1e-9, atol=1e-12, name=f"new_param after step {t}")

# %% check id=adamw_first_steps points=2
with check("three AdamW steps match torch.optim.AdamW(weight_decay=0.1)") as c:
    rng = np.random.default_rng(72)
    param = rng.standard_normal(6)
    grads = [rng.standard_normal(6) for _ in range(3)]
    ref = TorchReference(torch.optim.AdamW, param, lr=0.01, weight_decay=0.1)
    x, m, v = param.copy(), np.zeros(6), np.zeros(6)
    for t, g in enumerate(grads, start=1):
        x, m, v = as_triple(c, adamw_step(x, g.copy(), m, v, t, lr=0.01, weight_decay=0.1),
                            "adamw_step")
        ref_x, ref_m, ref_v = ref.step(g)
        c.close(m, ref_m, rtol=1e-9, atol=1e-14, name=f"new_m after step {t}")
        c.close(v, ref_v, rtol=1e-9, atol=1e-14, name=f"new_v after step {t}")
        c.close(x, ref_x, rtol=1e-9, atol=1e-12, name=f"new_param after step {t}")

# %% check id=zero_gradient points=2
with check("zero loss gradient: AdamW shrinks by 1 - lr*wd, Adam + L2 moves each weight ~lr") as c:
    rng = np.random.default_rng(73)
    param = rng.choice([-1.0, 1.0], size=8) * np.geomspace(0.01, 100.0, 8)
    zero = np.zeros(8)
    lr, wd = 0.01, 0.5
    x, m, v = as_triple(c, adamw_step(param.copy(), zero.copy(), zero.copy(), zero.copy(), 1,
                                      lr=lr, weight_decay=wd), "adamw_step")
    c.close(np.asarray(x, dtype=float) / param, np.full(8, 1 - lr * wd), rtol=1e-12,
            name="AdamW: new_param / param after one step with a zero gradient")
    c.close(m, zero, atol=0.0, name="AdamW: new_m after a zero gradient (the decay stays out)")
    x, m, v = as_triple(c, adam_l2_step(param.copy(), zero.copy(), zero.copy(), zero.copy(), 1,
                                        lr=lr, weight_decay=wd), "adam_l2_step")
    step = np.asarray(x, dtype=float) - param
    c.true(np.all(np.sign(step) == -np.sign(param)),
           "Adam + L2 with a zero loss gradient must move every weight towards zero")
    c.close(np.abs(step), np.full(8, lr), rtol=1e-4,
            name="Adam + L2: length of the first step per weight (should be about lr)")

# %% check id=trajectories points=2 hidden
with check("30 steps of Adam + L2 and of AdamW on a quadratic bowl follow torch") as c:
    grad_f = quadratic_bowl(seed=74, n=5, kappa=15.0)
    x0 = 2 * np.random.default_rng(75).standard_normal(5)
    for function, optimizer, wd in ((adam_l2_step, torch.optim.Adam, 0.3),
                                    (adamw_step, torch.optim.AdamW, 0.3)):
        name = function.__name__
        ref = TorchReference(optimizer, x0, lr=0.05, betas=(0.8, 0.99), weight_decay=wd)
        x, m, v = x0.copy(), np.zeros(5), np.zeros(5)
        ref_x = x0.copy()
        for t in range(1, 31):
            x, m, v = as_triple(c, function(x, grad_f(x), m, v, t, lr=0.05, beta1=0.8,
                                            beta2=0.99, weight_decay=wd), name)
            ref_x, ref_m, ref_v = ref.step(grad_f(ref_x))
            c.close(x, ref_x, rtol=1e-9, atol=1e-12, name=f"{name}: parameter after step {t}")
        c.close(m, ref_m, rtol=1e-9, atol=1e-12, name=f"{name}: m after step 30")
        c.close(v, ref_v, rtol=1e-9, atol=1e-14, name=f"{name}: v after step 30")

# %% check id=mid_run_settings points=1 hidden
with check("single mid-run steps of both methods for several shapes and hyperparameters") as c:
    rng = np.random.default_rng(76)
    settings = [((1,), dict(lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)),
                ((3, 4), dict(lr=0.01, betas=(0.5, 0.99), eps=1e-6, weight_decay=1.0)),
                ((2, 3, 2), dict(lr=0.3, betas=(0.0, 0.9), eps=1e-3, weight_decay=0.2)),
                ((7,), dict(lr=1e-3, betas=(0.95, 0.9999), eps=1e-8, weight_decay=0.0))]
    for function, optimizer in ((adam_l2_step, torch.optim.Adam),
                                (adamw_step, torch.optim.AdamW)):
        name = function.__name__
        for shape, h in settings:
            ref = TorchReference(optimizer, rng.standard_normal(shape), **h)
            warmup = int(rng.integers(2, 9))
            for _ in range(warmup):  # the reference runs ahead; its state is the input
                param, m, v = ref.step(rng.standard_normal(shape))
            g = rng.standard_normal(shape)
            t = warmup + 1
            x, new_m, new_v = as_triple(c, function(param, g.copy(), m, v, t, lr=h["lr"],
                                                    beta1=h["betas"][0], beta2=h["betas"][1],
                                                    eps=h["eps"],
                                                    weight_decay=h["weight_decay"]), name)
            ref_x, ref_m, ref_v = ref.step(g)
            where = f"{name}, shape {shape}, step t={t}"
            c.close(new_m, ref_m, rtol=1e-9, atol=1e-14, name=f"new_m ({where})")
            c.close(new_v, ref_v, rtol=1e-9, atol=1e-14, name=f"new_v ({where})")
            c.close(x, ref_x, rtol=1e-9, atol=1e-12, name=f"new_param ({where})")

# %% check id=inputs_unchanged points=1 hidden
with check("both functions compute their step without changing param, grad, m or v") as c:
    rng = np.random.default_rng(77)
    param, grad, m = (rng.standard_normal(5) for _ in range(3))
    v = rng.random(5)
    kept = param.copy(), grad.copy(), m.copy(), v.copy()
    for function in (adam_l2_step, adamw_step):
        as_triple(c, function(param, grad, m, v, 4, lr=0.1, weight_decay=0.5),
                  function.__name__)
        for name, now, before in zip(("param", "grad", "m", "v"), (param, grad, m, v), kept):
            c.true(np.array_equal(now, before),
                   f"{function.__name__} changed its input '{name}' in place; compute and "
                   f"return new arrays instead of using -=, *= or +=")
