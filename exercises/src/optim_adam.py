# %% [markdown]
# # Exercise: Adam with bias correction (편향 보정)
#
# Adam (Kingma and Ba 2015) is "RMSProp + momentum": a moving average of the gradients,
# the first moment (1차 모멘트) $m$, gives the direction of the step; a moving average of the
# squared gradients, the second moment (2차 모멘트) $v$, scales it separately for every
# coordinate. Both averages start at zero and are therefore too small during the first steps;
# dividing by $1 - \beta^t$ undoes this. That is the bias correction (편향 보정).
#
# In this exercise you write one step of `torch.optim.Adam` as a pure NumPy function. The
# chapter "Momentum and adaptive learning rates" (Optimization 2) derives everything used here.
#
# ## The update rule
#
# With learning rate $\eta$, decay rates $\beta_1, \beta_2 \in [0, 1)$, a small $\epsilon > 0$,
# the gradient $g_t$ and the step count $t = 1, 2, \dots$ (starting at **1**), with
# $m_0 = v_0 = 0$:
#
# $$
# m_t = \beta_1 m_{t-1} + (1 - \beta_1)\, g_t, \qquad
# v_t = \beta_2 v_{t-1} + (1 - \beta_2)\, g_t \odot g_t,
# $$
#
# $$
# \hat m_t = \frac{m_t}{1 - \beta_1^t}, \qquad \hat v_t = \frac{v_t}{1 - \beta_2^t}, \qquad
# \theta_t = \theta_{t-1} - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon} .
# $$
#
# All operations are elementwise. Two details:
#
# * **The state is the uncorrected $m_t$ and $v_t$.** The corrected $\hat m_t$, $\hat v_t$ are
#   used for this step only; what you return (and get back at the next step) are the plain
#   moving averages, as PyTorch stores them (`exp_avg`, `exp_avg_sq`).
# * **The numerator is $\hat m_t$.** One of the lecture notes (002) prints the last line as
#   $\theta = \theta - \eta / (\sqrt{\hat v_t} + \epsilon)$: the first moment slipped out of the
#   formula. It belongs there: with the raw gradient in its place the method is RMSProp
#   (no momentum), and the chapter measures how much worse that does on the Rosenbrock valley.
#
# A consequence worth knowing: at $t = 1$, $\hat m_1 = g_1$ and $\sqrt{\hat v_1} = |g_1|$, so the
# first step moves every coordinate by almost exactly $\eta$, whatever the size of its gradient.
#
# ## Your task
#
# Write `adam_step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8)`:
#
# * `param`, `grad`, `m`, `v`: NumPy float arrays of the same shape (any shape); on the first
#   step `m` and `v` are zeros;
# * `t`: the number of this step, 1 on the first call;
# * returns the triple `(new_param, new_m, new_v)` as new arrays (do not change the inputs in
#   place).
#
# ## What the checks test
#
# The checks run your function on seeded random inputs and compare the numbers with the
# course's trusted `trainart.optim.Adam` (which follows `torch.optim.Adam`), with a relative
# tolerance of $10^{-6}$: correct implementations that arrange the arithmetic differently agree
# to about 9 digits, so any correct arrangement of *this* rule passes. One arrangement is a
# different rule: the paper's "efficient" form,
# $\theta_t = \theta_{t-1} - \eta \sqrt{1-\beta_2^t}/(1-\beta_1^t) \cdot m_t/(\sqrt{v_t}
# + \hat\epsilon)$, adds $\hat\epsilon$ to $\sqrt{v_t}$ instead of $\sqrt{\hat v_t}$, which
# is PyTorch's $\epsilon$ rescaled by $\sqrt{1-\beta_2^t}$: with the same $\epsilon$ it
# takes different steps (by far the most in the first steps with small gradients) and fails the
# checks. Divide by $\sqrt{\hat v_t} + \epsilon$ as above. The visible checks below test that the
# first step moves each coordinate by about `lr` against its gradient, and three steps against
# the reference (`new_param`, `new_m` and `new_v` after each). The grader also runs hidden
# checks of the same kind: a 50-step run on a quadratic bowl, and several array shapes and
# hyperparameter settings, including a step in the middle of a run ($t > 1$ with given $m$, $v$).

# %% setup id=setup off-limits=trainart.optim.adam
import numpy as np

from trainart.grading.checks import check, quadratic_bowl


def as_triple(c, result):
    """Unpack the result of adam_step, failing check c if it is not a triple."""
    return c.returns(result, "adam_step", ("new_param", "new_m", "new_v"))


# %% solution id=adam_step
def adam_step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """One Adam step with bias correction; t counts steps from 1. Returns (param, m, v)."""
    ### BEGIN SOLUTION
    new_m = beta1 * m + (1 - beta1) * grad
    new_v = beta2 * v + (1 - beta2) * grad * grad
    m_hat = new_m / (1 - beta1**t)
    v_hat = new_v / (1 - beta2**t)
    new_param = param - lr * m_hat / (np.sqrt(v_hat) + eps)
    return new_param, new_m, new_v
    ### END SOLUTION


# %% check id=first_step_length points=2
with check("the first step moves every coordinate by about lr, against its gradient") as c:
    rng = np.random.default_rng(11)
    # gradients from 0.001 to 1000 in size, of both signs
    grad = rng.choice([-1.0, 1.0], size=12) * np.geomspace(1e-3, 1e3, 12)
    param = rng.standard_normal(12)
    new_param, new_m, new_v = as_triple(c, adam_step(param.copy(), grad.copy(), np.zeros(12),
                                                     np.zeros(12), t=1, lr=0.01))
    c.true(np.shape(new_param) == param.shape,
           f"new_param has shape {np.shape(new_param)}, param has shape {param.shape}")
    step = np.asarray(new_param, dtype=float) - param
    c.true(np.all(np.sign(step) == -np.sign(grad)),
           "every coordinate should move against the sign of its gradient")
    c.close(np.abs(step), np.full(12, 0.01), rtol=1e-4,
            name="length of the first step per coordinate (should be about lr = 0.01)")

# %% check id=three_steps points=3
with check("three Adam steps match the reference: param, m and v after each step") as c:
    from trainart.optim import Adam

    rng = np.random.default_rng(22)
    param = rng.standard_normal(5)
    grads = [rng.standard_normal(5) for _ in range(3)]
    ref = param.copy()
    opt = Adam([ref])  # the defaults: lr=1e-3, betas=(0.9, 0.999), eps=1e-8
    x, m, v = param.copy(), np.zeros(5), np.zeros(5)
    for t, g in enumerate(grads, start=1):
        x, m, v = as_triple(c, adam_step(x, g.copy(), m, v, t))
        opt.step([g.copy()])
        c.close(m, opt.state[0]["exp_avg"], rtol=1e-6, atol=1e-12, name=f"new_m after step {t}")
        c.close(v, opt.state[0]["exp_avg_sq"], rtol=1e-6, atol=1e-12,
                name=f"new_v after step {t}")
        c.close(x, ref, rtol=1e-6, atol=1e-10, name=f"new_param after step {t}")

# %% check id=quadratic_run points=3 hidden
with check("50 Adam steps on a quadratic bowl follow the reference trajectory") as c:
    from trainart.optim import Adam

    grad_f = quadratic_bowl(seed=33, n=6, kappa=20.0)
    x0 = 3 * np.random.default_rng(34).standard_normal(6)
    ref = x0.copy()
    opt = Adam([ref], lr=0.05)
    x, m, v = x0.copy(), np.zeros(6), np.zeros(6)
    for t in range(1, 51):
        x, m, v = as_triple(c, adam_step(x, grad_f(x), m, v, t, lr=0.05))
        opt.step([grad_f(ref)])
        c.close(x, ref, rtol=1e-6, atol=1e-9, name=f"parameter after step {t}")
    c.close(m, opt.state[0]["exp_avg"], rtol=1e-6, atol=1e-9, name="m after step 50")
    c.close(v, opt.state[0]["exp_avg_sq"], rtol=1e-6, atol=1e-12, name="v after step 50")

# %% check id=shapes_and_settings points=2 hidden
with check("Adam steps for several shapes and hyperparameters, including mid-run steps") as c:
    from trainart.optim import Adam

    rng = np.random.default_rng(44)
    settings = [((1,), dict(lr=0.1, betas=(0.9, 0.999), eps=1e-8)),
                ((3, 4), dict(lr=0.01, betas=(0.5, 0.99), eps=1e-6)),
                ((2, 3, 5), dict(lr=0.3, betas=(0.0, 0.9), eps=1e-3)),
                ((7,), dict(lr=1e-3, betas=(0.95, 0.9999), eps=1e-8))]
    for shape, h in settings:
        ref = rng.standard_normal(shape)
        opt = Adam([ref], **h)
        warmup = int(rng.integers(3, 12))
        for _ in range(warmup):  # the reference runs ahead; its state is the input
            opt.step([rng.standard_normal(shape)])
        t = warmup + 1
        param, m, v = ref.copy(), opt.state[0]["exp_avg"].copy(), opt.state[0]["exp_avg_sq"].copy()
        g = rng.standard_normal(shape)
        x, new_m, new_v = as_triple(c, adam_step(param, g.copy(), m, v, t, lr=h["lr"],
                                                 beta1=h["betas"][0], beta2=h["betas"][1],
                                                 eps=h["eps"]))
        opt.step([g])
        where = f"shape {shape}, step t={t}"
        c.close(new_m, opt.state[0]["exp_avg"], rtol=1e-6, atol=1e-12, name=f"new_m ({where})")
        c.close(new_v, opt.state[0]["exp_avg_sq"], rtol=1e-6, atol=1e-12,
                name=f"new_v ({where})")
        c.close(x, ref, rtol=1e-6, atol=1e-10, name=f"new_param ({where})")
