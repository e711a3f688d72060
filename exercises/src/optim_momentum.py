# %% [markdown]
# # Exercise: SGD with momentum and Nesterov (모멘텀과 네스테로프)
#
# Plain gradient descent has no memory: every step looks only at the current gradient, so in a
# long, narrow valley it zig-zags from wall to wall. Momentum (모멘텀), the heavy ball method,
# keeps a running sum of past gradients, the momentum buffer $b$. Directions where successive
# gradients agree build up speed; components that flip sign cancel out. Nesterov's
# accelerated gradient (네스테로프 가속 경사, NAG) adds a look-ahead on top.
#
# In this exercise you write one step of `torch.optim.SGD` with momentum as a pure NumPy
# function. The chapter "Momentum and adaptive learning rates" (Optimization 2) derives
# everything used here.
#
# ## The update rule (PyTorch's convention)
#
# With learning rate $\eta$, momentum $\mu \in [0, 1)$, dampening $\tau \in [0, 1)$ and the
# gradient $g_t$ at step $t$:
#
# $$
# b_1 = g_1, \qquad b_t = \mu\, b_{t-1} + (1 - \tau)\, g_t \quad (t \ge 2),
# $$
#
# $$
# d_t = \begin{cases} g_t + \mu\, b_t & \text{(Nesterov)} \\ b_t & \text{(heavy ball)} \end{cases}
# \qquad \theta_t = \theta_{t-1} - \eta\, d_t .
# $$
#
# Three details that are easy to miss:
#
# * **The first step.** There is no buffer yet (`buf is None`): the buffer becomes the gradient
#   itself, $b_1 = g_1$, *without* the factor $1 - \tau$. Dampening only applies from the
#   second step on.
# * **No learning rate inside the buffer.** The lecture notes write momentum as a velocity that
#   already holds the learning rate, $v_t = \mu v_{t-1} - \eta g_t$ and
#   $\theta_t = \theta_{t-1} + v_t$. For a constant $\eta$ that is the same method
#   ($v_t = -\eta\, b_t$), but here the buffer is PyTorch's $b$, so $\eta$ appears only in the
#   last line.
# * **Nesterov** uses the gradient $g_t$ once more, plus $\mu$ times the *new* buffer. (PyTorch
#   stores the look-ahead point as the parameter, which is why no second gradient is needed.)
#
# ## Your task
#
# Write `sgd_momentum_step(param, grad, buf, lr, momentum, nesterov=False, dampening=0.0)`:
#
# * `param`, `grad`: NumPy float arrays of the same shape (any shape);
# * `buf`: the momentum buffer from the previous step, or `None` on the first step;
# * returns the pair `(new_param, new_buf)` as new arrays.
#
# Write it as a pure function: do **not** change `param`, `grad` or `buf` in place
# (no `param -= ...`, no `buf *= ...`); compute new arrays and return them.
#
# ## What the checks test
#
# Every check runs your function on seeded random inputs and compares the numbers with the
# course's trusted `trainart.optim.SGD` (which follows `torch.optim.SGD`), with a relative
# tolerance of $10^{-6}$. The visible checks below test one step from `buf=None`, and a
# 20-step run on a small quadratic bowl. The grader also runs hidden checks of the same kind:
# a Nesterov run, a run with dampening, and that your function leaves its inputs unchanged.

# %% setup id=setup off-limits=trainart.optim.sgd
import numpy as np

from trainart.grading.checks import check, quadratic_bowl


def as_pair(c, result):
    """Unpack the result of sgd_momentum_step, failing check c if it is not a pair."""
    return c.returns(result, "sgd_momentum_step", ("new_param", "new_buf"))


# %% solution id=sgd_momentum_step
def sgd_momentum_step(param, grad, buf, lr, momentum, nesterov=False, dampening=0.0):
    """One step of SGD with momentum (PyTorch's convention); returns (new_param, new_buf)."""
    ### BEGIN SOLUTION
    grad = np.asarray(grad, dtype=float)
    if buf is None:
        new_buf = grad.copy()
    else:
        new_buf = momentum * buf + (1 - dampening) * grad
    direction = grad + momentum * new_buf if nesterov else new_buf
    new_param = param - lr * direction
    return new_param, new_buf
    ### END SOLUTION


# %% check id=first_step points=2
with check("one step from buf=None: parameter and buffer match SGD") as c:
    from trainart.optim import SGD

    rng = np.random.default_rng(101)
    param, grad = rng.standard_normal(6), rng.standard_normal(6)
    new_param, new_buf = as_pair(c, sgd_momentum_step(param.copy(), grad.copy(), None,
                                                      lr=0.1, momentum=0.9))
    ref = param.copy()
    opt = SGD([ref], lr=0.1, momentum=0.9)
    opt.step([grad.copy()])
    c.close(new_param, ref, rtol=1e-6, name="new_param after the first step")
    c.close(new_buf, opt.state[0]["momentum_buffer"], rtol=1e-6,
            name="new_buf after the first step (should be the gradient itself)")

# %% check id=quadratic_run points=3
with check("20 momentum steps on a quadratic bowl follow SGD's trajectory") as c:
    from trainart.optim import SGD

    grad_f = quadratic_bowl(seed=202, n=4, kappa=10.0)
    x0 = np.random.default_rng(203).standard_normal(4)
    x, buf = x0.copy(), None
    ref = x0.copy()
    opt = SGD([ref], lr=0.05, momentum=0.9)
    for step in range(1, 21):
        x, buf = as_pair(c, sgd_momentum_step(x, grad_f(x), buf, lr=0.05, momentum=0.9))
        opt.step([grad_f(ref)])
        c.close(x, ref, rtol=1e-6, atol=1e-10, name=f"parameter after step {step}")
    c.close(buf, opt.state[0]["momentum_buffer"], rtol=1e-6, atol=1e-10,
            name="buffer after step 20")

# %% check id=nesterov_run points=3 hidden
with check("30 Nesterov steps (nesterov=True) follow SGD's trajectory") as c:
    from trainart.optim import SGD

    grad_f = quadratic_bowl(seed=304, n=6, kappa=25.0)
    x0 = np.random.default_rng(305).standard_normal(6)
    x, buf = x0.copy(), None
    ref = x0.copy()
    opt = SGD([ref], lr=0.03, momentum=0.95, nesterov=True)
    for step in range(1, 31):
        x, buf = as_pair(c, sgd_momentum_step(x, grad_f(x), buf, lr=0.03, momentum=0.95,
                                              nesterov=True))
        opt.step([grad_f(ref)])
        c.close(x, ref, rtol=1e-6, atol=1e-10, name=f"parameter after Nesterov step {step}")
    c.close(buf, opt.state[0]["momentum_buffer"], rtol=1e-6, atol=1e-10,
            name="buffer after the last Nesterov step")

# %% check id=dampening_run points=1 hidden
with check("10 steps with dampening=0.5 follow SGD (the first step is not dampened)") as c:
    from trainart.optim import SGD

    rng = np.random.default_rng(406)
    x0 = rng.standard_normal((3, 4))
    grads = [rng.standard_normal((3, 4)) for _ in range(10)]
    x, buf = x0.copy(), None
    ref = x0.copy()
    opt = SGD([ref], lr=0.1, momentum=0.8, dampening=0.5)
    for step, g in enumerate(grads, start=1):
        x, buf = as_pair(c, sgd_momentum_step(x, g.copy(), buf, lr=0.1, momentum=0.8,
                                              dampening=0.5))
        opt.step([g.copy()])
        c.close(buf, opt.state[0]["momentum_buffer"], rtol=1e-6, atol=1e-10,
                name=f"buffer after step {step} with dampening")
        c.close(x, ref, rtol=1e-6, atol=1e-10, name=f"parameter after step {step} with dampening")

# %% check id=inputs_unchanged points=1 hidden
with check("sgd_momentum_step computes its step without changing param, grad or buf") as c:
    # Only the inputs are checked here: the values have their own checks, so an arithmetic
    # mistake is not reported as an in-place one.
    rng = np.random.default_rng(507)
    param, grad, buf = (rng.standard_normal(5) for _ in range(3))
    kept = param.copy(), grad.copy(), buf.copy()
    for nesterov in (False, True):
        for b in (None, buf):
            new_param, new_buf = as_pair(c, sgd_momentum_step(param, grad, b, lr=0.1,
                                                              momentum=0.9, nesterov=nesterov))
            for name, now, before in zip(("param", "grad", "buf"), (param, grad, buf), kept):
                c.true(np.array_equal(now, before),
                       f"your function changed its input '{name}' in place; compute and "
                       f"return new arrays instead of using -=, *= or +=")
            c.true(np.shape(new_param) == param.shape and np.shape(new_buf) == buf.shape,
                   f"sgd_momentum_step returned shapes {np.shape(new_param)} and "
                   f"{np.shape(new_buf)}, the inputs have shape {param.shape}")
