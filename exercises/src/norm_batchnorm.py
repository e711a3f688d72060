# %% [markdown]
# # Exercise: Batch normalization forward and backward (배치 정규화)
#
# Batch normalization (배치 정규화, Ioffe and Szegedy 2015) standardizes every feature of a
# layer's input over the current mini-batch (미니배치): subtract the feature's batch mean,
# divide by its batch standard deviation. Then it scales and shifts the result with two
# **learnable** parameters per feature, the scale (스케일) $\gamma$ and the shift (시프트)
# $\beta$, which gradient descent trains like any weight.
#
# In this exercise you write the training-mode forward pass of `torch.nn.BatchNorm1d` for a
# `(N, D)` input, its backward pass (역전파) in the compact form, and the update of the
# running statistics (이동 통계) that the layer uses at test time, all as NumPy functions.
#
# ## The forward pass
#
# For a mini-batch $x_1, \dots, x_N \in \mathbb{R}^D$ (the rows of `x`), every feature
# (column) separately, with a small $\epsilon > 0$:
#
# $$
# \mu = \frac{1}{N} \sum_{i=1}^{N} x_i, \qquad
# \sigma^2 = \frac{1}{N} \sum_{i=1}^{N} (x_i - \mu)^2, \qquad
# \hat x_i = \frac{x_i - \mu}{\sqrt{\sigma^2 + \epsilon}}, \qquad
# y_i = \gamma \odot \hat x_i + \beta .
# $$
#
# The variance that normalizes is the **biased** one: it divides by $N$, not by $N - 1$.
# (NumPy's `x.var(axis=0)` divides by $N$; `torch.var` divides by $N - 1$ unless told
# otherwise. With a batch of 16 the difference is 3%, and the checks see it.) The
# $\epsilon$ keeps the division safe when a feature is constant in the batch, so its
# $\sigma^2 = 0$.
#
# **A word on the lecture notes.** The "Deep Session 3" slides (002) describe batch norm as
# "normalizing the input to $N(0, 1)$ at every step = whitening". Two corrections, because
# the difference matters:
#
# * **It is not whitening (화이트닝).** Whitening would also *decorrelate* the features:
#   multiply the centred data by the inverse square root of its $D \times D$ covariance
#   matrix, so that the covariance becomes the identity. Batch norm treats every feature on
#   its own: each column gets mean 0 and variance 1, but two correlated features stay exactly
#   as correlated as before. (That is much cheaper, and it is what the layer does.)
# * **The output is not fixed to $N(0, 1)$.** $\hat x$ has mean 0 and variance 1 (up to
#   $\epsilon$), but the layer returns $y = \gamma \hat x + \beta$ with learnable $\gamma$ and
#   $\beta$: with $\gamma = \sqrt{\sigma^2 + \epsilon}$ and $\beta = \mu$ it can even undo the
#   normalization. PyTorch starts from $\gamma = 1$, $\beta = 0$, so only at initialization is
#   the output standardized.
#
# The same slides say that batch norm's regularizing effect makes L2 and dropout unnecessary;
# it sometimes lets you use less of them, but not in general. And the "internal covariate
# shift" story of why it helps is contested (Santurkar et al. 2018): what batch norm measurably
# does is make the loss smoother, so larger learning rates work.
#
# ## The backward pass
#
# Given the upstream gradient $g_i = \partial L / \partial y_i$ (the rows of `dout`), the
# parameter gradients are sums over the batch:
#
# $$
# \frac{\partial L}{\partial \beta} = \sum_{i=1}^{N} g_i, \qquad
# \frac{\partial L}{\partial \gamma} = \sum_{i=1}^{N} g_i \odot \hat x_i .
# $$
#
# The input gradient needs more care, because $\mu$ and $\sigma^2$ depend on **every** row:
# changing $x_j$ moves all the $\hat x_i$. With $s = \sqrt{\sigma^2 + \epsilon}$ one finds
# $\partial \mu / \partial x_j = 1/N$, $\partial s / \partial x_j = \hat x_j / N$ and, per
# feature,
#
# $$
# \frac{\partial \hat x_i}{\partial x_j} = \frac{1}{s}\Big(\delta_{ij} - \frac{1}{N}
# - \frac{\hat x_i \hat x_j}{N}\Big) .
# $$
#
# Summing $\gamma\, g_i\, \partial \hat x_i / \partial x_j$ over $i$ gives the compact
# backward (the form to implement: no loop, no $N \times N$ matrix):
#
# $$
# \frac{\partial L}{\partial x_j} = \frac{\gamma}{N s}\Big(N g_j - \sum_{i=1}^{N} g_i
# - \hat x_j \sum_{i=1}^{N} g_i \odot \hat x_i\Big)
# = \frac{\gamma}{N s}\Big(N g_j - \frac{\partial L}{\partial \beta}
# - \hat x_j \odot \frac{\partial L}{\partial \gamma}\Big) .
# $$
#
# Note the factor $\gamma$ in front: the gradient reaches $\hat x$ through $y = \gamma \hat x
# + \beta$. A side effect worth knowing: the input gradient of every feature sums to zero over
# the batch (adding a constant to a feature's column does not change $\hat x$ at all).
#
# ## Running statistics, PyTorch's convention
#
# At test time (`model.eval()`) there may be no batch at all, so the layer normalizes with
# estimates that it averaged during training: the running mean and running variance. Every
# training step updates them with the **momentum** $m$ (PyTorch's default 0.1), the weight of
# the *new* batch:
#
# $$
# \mu_\text{run} \leftarrow (1 - m)\, \mu_\text{run} + m\, \mu, \qquad
# \sigma^2_\text{run} \leftarrow (1 - m)\, \sigma^2_\text{run}
# + m\, \frac{N}{N - 1}\, \sigma^2 .
# $$
#
# The running variance uses the **unbiased** batch variance (divided by $N - 1$), unlike the
# normalization itself. PyTorch starts from $\mu_\text{run} = 0$, $\sigma^2_\text{run} = 1$.
# Beware of a second convention: the CS231n assignment writes `running_mean = momentum *
# running_mean + (1 - momentum) * sample_mean` with `momentum = 0.9`, the weight of the *old*
# value, and a biased variance. Its 0.9 is PyTorch's 0.1; here we follow PyTorch.
#
# ## Your task
#
# Write three functions (one cell each):
#
# * `batchnorm_forward(x, gamma, beta, eps=1e-5)`: `x` of shape `(N, D)`, `gamma` and `beta`
#   of shape `(D,)`; training mode (batch statistics). Returns the pair `(out, cache)`: `out`
#   of shape `(N, D)` and `cache`, anything you want to keep for the backward pass (a tuple of
#   arrays, a dict: your choice).
# * `batchnorm_backward(dout, cache)`: `dout` of shape `(N, D)`, `cache` from your forward
#   pass. Returns the triple `(dx, dgamma, dbeta)` of shapes `(N, D)`, `(D,)`, `(D,)`. Use
#   the compact formula; remember the `eps` of the forward pass in the cache.
# * `update_running(running_mean, running_var, x, momentum=0.1)`: the update above for one
#   batch `x` of shape `(N, D)` with `N >= 2`. Returns the pair `(new_mean, new_var)` as new
#   arrays; do not change `running_mean` and `running_var` in place.
#
# ## What the checks test
#
# The checks run your functions on seeded random inputs in float64 and compare with PyTorch's
# `nn.BatchNorm1d` in training mode, the gradients with PyTorch's autograd. Features get
# different offsets and scales, so forgetting to centre or to scale shows. Correct
# implementations that arrange the arithmetic differently agree to about 12 digits, so a
# relative tolerance of $10^{-7}$ (forward) and $10^{-6}$ (gradients) accepts every correct
# arrangement. The visible checks below test the forward pass on an `(8, 5)` batch; that with
# $\gamma = 1$, $\beta = 0$ each output feature has mean 0 and (biased) variance 1; the backward
# pass (`dx`, `dgamma`, `dbeta`) on a `(10, 4)` batch; and one running-statistics update from
# given buffers, which must leave its inputs unchanged. The grader also runs hidden checks of
# the same kind: forward and backward on other shapes (down to `N = 2`, one feature, a larger
# `eps` that matters), a batch with constant features (outputs and gradients must stay finite
# and match), and the running statistics after five batches of different sizes with
# `momentum=0.3`, compared with the layer's buffers after each batch.

# %% setup id=setup off-limits=trainart.norm
import numpy as np
import torch

from trainart.grading.checks import check


def seeded_batch(seed, n, d, spread=5.0):
    """A seeded (n, d) batch whose features have different offsets and scales, with gamma,
    beta and an upstream gradient dout."""
    rng = np.random.default_rng(seed)
    offsets = rng.uniform(-spread, spread, d)
    scales = np.geomspace(0.5, spread, d) * rng.uniform(0.8, 1.25, d)
    x = offsets + scales * rng.standard_normal((n, d))
    gamma = rng.uniform(0.5, 2.0, d) * rng.choice([-1.0, 1.0], d)
    beta = rng.standard_normal(d)
    dout = rng.standard_normal((n, d))
    return x, gamma, beta, dout


def torch_batchnorm(x, gamma, beta, dout, eps=1e-5):
    """The trusted reference: nn.BatchNorm1d in training mode, float64, with autograd.
    Returns out, dx, dgamma, dbeta as NumPy arrays."""
    layer = torch.nn.BatchNorm1d(x.shape[1], eps=eps, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(gamma))
        layer.bias.copy_(torch.from_numpy(beta))
    xt = torch.tensor(x, requires_grad=True)
    out = layer.train()(xt)
    out.backward(torch.from_numpy(dout))
    return (out.detach().numpy(), xt.grad.numpy(), layer.weight.grad.numpy(),
            layer.bias.grad.numpy())


def as_forward(c, result):
    """Unpack the result of batchnorm_forward, failing check c if it is not a pair."""
    return c.returns(result, "batchnorm_forward", ("out", "cache"))


def as_backward(c, result):
    """Unpack the result of batchnorm_backward, failing check c if it is not a triple."""
    return c.returns(result, "batchnorm_backward", ("dx", "dgamma", "dbeta"))


def as_running(c, result):
    """Unpack the result of update_running, failing check c if it is not a pair."""
    return c.returns(result, "update_running", ("new_mean", "new_var"))


# %% solution id=batchnorm_forward
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    """Batch norm of an (N, D) batch in training mode. Returns (out, cache)."""
    ### BEGIN SOLUTION
    mean = x.mean(axis=0)
    var = x.var(axis=0)  # biased: divides by N
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    out = gamma * x_hat + beta
    cache = (x_hat, gamma, inv_std)
    return out, cache
    ### END SOLUTION


# %% solution id=batchnorm_backward
def batchnorm_backward(dout, cache):
    """Gradients of batch norm from the upstream gradient dout. Returns (dx, dgamma, dbeta)."""
    ### BEGIN SOLUTION
    x_hat, gamma, inv_std = cache
    n = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx = gamma * inv_std / n * (n * dout - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta
    ### END SOLUTION


# %% solution id=update_running
def update_running(running_mean, running_var, x, momentum=0.1):
    """PyTorch's running-statistics update for one (N, D) batch. Returns (new_mean, new_var)."""
    ### BEGIN SOLUTION
    batch_mean = x.mean(axis=0)
    batch_var = x.var(axis=0, ddof=1)  # unbiased: divides by N - 1
    new_mean = (1 - momentum) * running_mean + momentum * batch_mean
    new_var = (1 - momentum) * running_var + momentum * batch_var
    return new_mean, new_var
    ### END SOLUTION


# %% check id=forward_matches_torch points=2
with check("the forward pass on an (8, 5) batch matches nn.BatchNorm1d in training mode") as c:
    x, gamma, beta, dout = seeded_batch(1, 8, 5)
    out, cache = as_forward(c, batchnorm_forward(x.copy(), gamma.copy(), beta.copy()))
    expected, _, _, _ = torch_batchnorm(x, gamma, beta, dout)
    c.close(out, expected, rtol=1e-7, atol=1e-10, name="out")

# %% check id=forward_standardizes points=1
with check("with gamma = 1 and beta = 0 every output feature has mean 0 and variance 1") as c:
    rng = np.random.default_rng(2)
    n, d = 16, 6
    x = rng.uniform(-10, 10, d) + np.geomspace(3.0, 30.0, d) * rng.standard_normal((n, d))
    out, cache = as_forward(c, batchnorm_forward(x.copy(), np.ones(d), np.zeros(d)))
    out = np.asarray(out, dtype=np.float64)
    c.true(out.shape == (n, d), f"out has shape {out.shape}, expected shape {(n, d)}")
    c.close(out.mean(axis=0), np.zeros(d), rtol=0.0, atol=1e-10,
            name="per-feature mean of out")
    # the feature variances are several units, so eps = 1e-5 changes the output's by < 1e-5
    c.close(out.var(axis=0), np.ones(d), rtol=1e-5, atol=0.0,
            name="per-feature variance of out (dividing by N)")

# %% check id=backward_matches_torch points=2
with check("the backward pass on a (10, 4) batch matches torch autograd: dx, dgamma, dbeta") as c:
    x, gamma, beta, dout = seeded_batch(3, 10, 4)
    out, cache = as_forward(c, batchnorm_forward(x.copy(), gamma.copy(), beta.copy()))
    dx, dgamma, dbeta = as_backward(c, batchnorm_backward(dout.copy(), cache))
    _, ref_dx, ref_dgamma, ref_dbeta = torch_batchnorm(x, gamma, beta, dout)
    c.close(dbeta, ref_dbeta, rtol=1e-6, atol=1e-9, name="dbeta")
    c.close(dgamma, ref_dgamma, rtol=1e-6, atol=1e-9, name="dgamma")
    c.close(dx, ref_dx, rtol=1e-6, atol=1e-9, name="dx")

# %% check id=running_one_update points=1
with check("one running-statistics update matches nn.BatchNorm1d's buffers (momentum 0.1)") as c:
    rng = np.random.default_rng(4)
    n, d = 12, 5
    x = rng.uniform(-3, 3, d) + rng.uniform(0.5, 3.0, d) * rng.standard_normal((n, d))
    running_mean, running_var = rng.standard_normal(d), rng.uniform(0.5, 2.0, d)
    layer = torch.nn.BatchNorm1d(d, dtype=torch.float64)  # momentum=0.1
    with torch.no_grad():
        layer.running_mean.copy_(torch.from_numpy(running_mean))
        layer.running_var.copy_(torch.from_numpy(running_var))
        layer.train()(torch.from_numpy(x))
    mean_in, var_in = running_mean.copy(), running_var.copy()
    new_mean, new_var = as_running(c, update_running(mean_in, var_in, x.copy()))
    c.close(new_mean, layer.running_mean.numpy(), rtol=1e-8, atol=1e-12, name="new_mean")
    c.close(new_var, layer.running_var.numpy(), rtol=1e-8, atol=1e-12, name="new_var")
    c.true(np.array_equal(mean_in, running_mean) and np.array_equal(var_in, running_var),
           "update_running changed running_mean or running_var in place: return new arrays")

# %% check id=forward_more_shapes points=1 hidden
with check("the forward pass matches nn.BatchNorm1d for other shapes and eps") as c:
    for seed, n, d, eps, spread in [(11, 2, 3, 1e-5, 5.0), (12, 64, 10, 1e-5, 5.0),
                                    (13, 5, 1, 1e-5, 5.0), (14, 7, 6, 1e-3, 0.05),
                                    (15, 3, 2, 0.5, 1.0)]:
        x, gamma, beta, dout = seeded_batch(seed, n, d, spread=spread)
        out, cache = as_forward(c, batchnorm_forward(x.copy(), gamma.copy(), beta.copy(),
                                                     eps=eps))
        expected, _, _, _ = torch_batchnorm(x, gamma, beta, dout, eps=eps)
        c.close(out, expected, rtol=1e-7, atol=1e-10, name=f"out for shape {(n, d)}, eps={eps}")

# %% check id=backward_more_shapes points=1 hidden
with check("the backward pass matches torch autograd for other shapes and eps") as c:
    for seed, n, d, eps, spread in [(21, 2, 3, 1e-5, 5.0), (22, 64, 10, 1e-5, 5.0),
                                    (23, 5, 1, 1e-5, 5.0), (24, 7, 6, 1e-3, 0.05),
                                    (25, 3, 2, 0.5, 1.0)]:
        x, gamma, beta, dout = seeded_batch(seed, n, d, spread=spread)
        out, cache = as_forward(c, batchnorm_forward(x.copy(), gamma.copy(), beta.copy(),
                                                     eps=eps))
        dx, dgamma, dbeta = as_backward(c, batchnorm_backward(dout.copy(), cache))
        _, ref_dx, ref_dgamma, ref_dbeta = torch_batchnorm(x, gamma, beta, dout, eps=eps)
        where = f"shape {(n, d)}, eps={eps}"
        c.close(dbeta, ref_dbeta, rtol=1e-6, atol=1e-9, name=f"dbeta ({where})")
        c.close(dgamma, ref_dgamma, rtol=1e-6, atol=1e-9, name=f"dgamma ({where})")
        c.close(dx, ref_dx, rtol=1e-6, atol=1e-9, name=f"dx ({where})")

# %% check id=constant_feature points=1 hidden
with check("constant features: forward and backward stay finite and match torch") as c:
    x, gamma, beta, dout = seeded_batch(31, 9, 5)
    x[:, 1] = 3.0
    x[:, 3] = -0.1
    out, cache = as_forward(c, batchnorm_forward(x.copy(), gamma.copy(), beta.copy()))
    dx, dgamma, dbeta = as_backward(c, batchnorm_backward(dout.copy(), cache))
    ref_out, ref_dx, ref_dgamma, ref_dbeta = torch_batchnorm(x, gamma, beta, dout)
    c.close(out, ref_out, rtol=1e-7, atol=1e-8, name="out")
    c.close(dbeta, ref_dbeta, rtol=1e-6, atol=1e-8, name="dbeta")
    c.close(dgamma, ref_dgamma, rtol=1e-6, atol=1e-8, name="dgamma")
    c.close(dx, ref_dx, rtol=1e-6, atol=1e-8, name="dx")

# %% check id=running_five_batches points=1 hidden
with check("running statistics after five batches match nn.BatchNorm1d (momentum 0.3)") as c:
    rng = np.random.default_rng(41)
    d = 4
    layer = torch.nn.BatchNorm1d(d, momentum=0.3, dtype=torch.float64)
    running_mean = layer.running_mean.numpy().copy()  # zeros
    running_var = layer.running_var.numpy().copy()  # ones
    offsets, scales = rng.uniform(-4, 4, d), rng.uniform(0.3, 4.0, d)
    for step, n in enumerate([4, 16, 7, 32, 2], start=1):
        x = offsets + scales * rng.standard_normal((n, d))
        with torch.no_grad():
            layer.train()(torch.from_numpy(x))
        running_mean, running_var = as_running(
            c, update_running(np.array(running_mean, dtype=np.float64),
                              np.array(running_var, dtype=np.float64), x.copy(), momentum=0.3))
        c.close(running_mean, layer.running_mean.numpy(), rtol=1e-8, atol=1e-12,
                name=f"running mean after batch {step} (N={n})")
        c.close(running_var, layer.running_var.numpy(), rtol=1e-8, atol=1e-12,
                name=f"running var after batch {step} (N={n})")
