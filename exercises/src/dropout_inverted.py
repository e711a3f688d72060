# %% [markdown]
# # Exercise: inverted dropout (역 드롭아웃), forward and backward
#
# Dropout (드롭아웃, Srivastava et al. 2014) fights overfitting (과적합) with noise: while
# training, every unit (유닛, one activation of a layer) is switched off at random, a new
# choice for every example and every step. A unit can no longer rely on particular other
# units being present (the paper calls that co-adaptation, 공적응), and each step trains a
# different "thinned" sub-network, so the trained network behaves like an average of a huge
# ensemble (앙상블) of them. Dropout drops **units** (activations), not individual weights:
# zeroing single weights at random is a different method, DropConnect.
#
# In this exercise you write the dropout layer that every framework uses,
# `torch.nn.functional.dropout` in training mode, as two NumPy functions: the forward pass,
# which draws the mask (마스크), and the backward pass, which sends the gradient through it.
#
# ## The formula
#
# Let $p \in [0, 1)$ be the **drop probability** (드롭 확률): PyTorch's `p`, and this course's
# convention (some years of CS231n use `p` for the *keep* probability instead; read the code
# you copy from!). Each unit is kept with the **keep probability** (유지 확률) $1 - p$. With an
# independent mask entry $m_i \sim \text{Bernoulli}(1 - p)$ for every unit ($m_i = 1$: kept,
# $m_i = 0$: dropped), inverted dropout computes, while training,
#
# $$
# \text{out}_i = \frac{m_i\, x_i}{1 - p}, \qquad
# \mathbb{E}[\text{out}_i] = \frac{(1 - p)\, x_i}{1 - p} = x_i .
# $$
#
# Dividing the survivors by $1 - p$ keeps every unit's expected value equal to its input, so
# at test time, when no unit is dropped, the layer simply returns $x$: there is nothing to
# change in the deployed network. That is why frameworks use the *inverted* form.
#
# For a fixed mask the layer is linear (a diagonal matrix), so its backward pass uses **the
# same mask** and the same scale:
#
# $$
# \frac{\partial L}{\partial x_i} = \frac{m_i}{1 - p}\, \frac{\partial L}{\partial
# \text{out}_i} .
# $$
#
# A dropped unit gets no gradient at all; a kept one gets the upstream gradient times
# $1/(1-p)$. Drawing a new mask in the backward pass would compute the gradient of a different
# network.
#
# **A word on the lecture notes.** The original paper's *classic* dropout does not rescale while
# training; instead, at test time, it multiplies every unit by the **keep** probability
# $1 - p$, so that the test-time output equals the training output's expectation $(1-p)\,x$.
# The notes (001, 002) say the test-time outputs are multiplied by the dropout ratio $p$. That
# matches only at $p = 0.5$, the notes' example, where $p = 1 - p$; with $p = 0.2$ (the notes'
# input-layer value) the right factor is $0.8$, not $0.2$, four times larger. Classic and
# inverted dropout are the same model with the constant $1 - p$ moved from test time into
# training; the chapter measures both.
#
# ## Your task
#
# Write two functions (one cell each):
#
# * `dropout_forward(x, p, rng)`: `x` is a float array of any shape, `p` the drop
#   probability, `rng` a NumPy random generator (`np.random.default_rng(seed)`). Return the
#   pair `(out, mask)`: `out` as above, and `mask`, an array of `x`'s shape holding 1 (or
#   `True`) for every kept unit and 0 (or `False`) for every dropped one. Draw every random
#   number from `rng` (not from `np.random.*` or `torch`), so that the same seed gives the same
#   mask. Raise `ValueError` when `p` is not in $[0, 1)$ ($p = 1$ would drop everything and
#   divide by zero). With $p = 0$ nothing is dropped: `out` equals `x` and the mask is all
#   ones.
# * `dropout_backward(dout, mask, p)`: `dout` is the upstream gradient (the shape of `out`),
#   `mask` what your `dropout_forward` returned; return `dx` as above.
#
# ## What the checks test
#
# Your masks are random, so they are never compared with anyone else's sample: the checks
# measure **properties** instead, on $10^6$ units where it counts. The fraction of dropped
# units has a standard error of $\sqrt{p(1-p)/n} \le 0.0005$ at $n = 10^6$; the checks accept
# six standard errors (at most $\pm 0.003$), which a correct solution misses about once in a
# billion runs, while a swapped keep probability at $p = 0.2$ is off by $0.6$.
#
# The visible checks below test, for $p$ = 0.2, 0.5 and 0.8: the mask's shape and 0/1 values,
# the fraction of dropped units (within six standard errors of $p$) and that dropped units
# output exactly 0; that every survivor is its input times $1/(1-p)$ (to 12 digits) and that
# the mean of `out` equals the mean of `x` (within six standard errors); and that
# `dropout_backward` gives `dout * mask / (1 - p)` for the mask your forward pass returned,
# with exact zeros where units were dropped. The grader also runs hidden checks of the same
# kind: $p = 0$ (identity forward and backward, all-ones mask), the `ValueError` for $p$
# outside $[0, 1)$, that the same seed gives the same mask and different seeds different
# ones, and the properties above on other shapes (1-D to 4-D) and other values of $p$.

# %% setup id=setup off-limits=trainart.dropout
import numpy as np

from trainart.grading.checks import check


def as_out_mask(c, result, x):
    """Unpack dropout_forward's result; out as floats and mask as 0./1., both of x's shape."""
    out, mask = c.returns(result, "dropout_forward", ("out", "mask"))
    for name, value in (("out", out), ("mask", mask)):
        c.true(np.shape(value) == x.shape,
               f"dropout_forward returned {name} of shape {np.shape(value)}, x has {x.shape}")
    out = np.asarray(out, dtype=np.float64)
    mask = np.asarray(mask, dtype=np.float64)
    c.true(np.all(np.isfinite(out)), "dropout_forward returned NaN or inf in out")
    c.true(np.all((mask == 0) | (mask == 1)),
           "the mask must hold only 1 (kept) and 0 (dropped), not scaled values")
    return out, mask


def six_standard_errors(p, n):
    """The accepted deviation of the measured fraction of dropped units from p."""
    return 6.0 * np.sqrt(p * (1.0 - p) / n)


# %% solution id=dropout_forward
def dropout_forward(x, p, rng):
    """Inverted dropout, training mode: drop each unit with probability p. Returns (out, mask)."""
    ### BEGIN SOLUTION
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout_forward: p must be in [0, 1), got {p!r}")
    mask = (rng.random(np.shape(x)) >= p).astype(np.float64)
    return x * mask / (1.0 - p), mask
    ### END SOLUTION


# %% solution id=dropout_backward
def dropout_backward(dout, mask, p):
    """The gradient of inverted dropout: the same mask and scale as the forward pass."""
    ### BEGIN SOLUTION
    return dout * mask / (1.0 - p)
    ### END SOLUTION


# %% check id=fraction_dropped points=2
with check("the fraction of dropped units is p, and dropped units output exactly 0") as c:
    n = 1_000_000
    x = 1.0 + np.random.default_rng(1).standard_normal(n)
    for p in (0.2, 0.5, 0.8):
        out, mask = as_out_mask(c, dropout_forward(x.copy(), p, np.random.default_rng(10)), x)
        tol = six_standard_errors(p, n)
        c.within(np.mean(mask == 0), p - tol, p + tol,
                 name=f"fraction of dropped units (mask == 0) at p={p}")
        c.true(np.all(out[mask == 0] == 0.0), f"p={p}: a dropped unit must output exactly 0")

# %% check id=survivors_scaled points=2
with check("survivors are scaled by 1/(1-p), so the mean of out equals the mean of x") as c:
    n = 1_000_000
    x = 1.0 + np.random.default_rng(2).standard_normal(n)
    for p in (0.2, 0.5, 0.8):
        out, mask = as_out_mask(c, dropout_forward(x.copy(), p, np.random.default_rng(20)), x)
        kept = mask == 1
        c.true(kept.any(), f"p={p}: no unit was kept")
        c.close(out[kept], x[kept] / (1.0 - p), rtol=1e-12, atol=0.0,
                name=f"surviving outputs at p={p} (expected: input / (1-p))")
        # Var(out_i) = E[x^2] / (1-p) - E[x]^2, so the mean of n units has 1/n of it
        se = np.sqrt((np.mean(x**2) / (1.0 - p) - np.mean(x) ** 2) / n)
        c.within(out.mean() - x.mean(), -6 * se, 6 * se,
                 name=f"mean(out) - mean(x) at p={p} (should be about 0)")

# %% check id=backward_same_mask points=2
with check("dropout_backward gives dout * mask / (1-p) with the forward pass's mask") as c:
    rng = np.random.default_rng(3)
    x, dout = rng.standard_normal((64, 50)), rng.standard_normal((64, 50))
    for p in (0.2, 0.5, 0.8):
        result = dropout_forward(x.copy(), p, np.random.default_rng(30))
        _, m = as_out_mask(c, result, x)
        dx = dropout_backward(dout.copy(), result[1], p)  # the mask as your forward returned it
        c.true(np.shape(dx) == x.shape,
               f"dropout_backward returned shape {np.shape(dx)}, dout has {x.shape}")
        dx = np.asarray(dx, dtype=np.float64)
        c.true(np.all(dx[m == 0] == 0.0),
               f"p={p}: a dropped unit must get exactly zero gradient")
        c.close(dx, dout * m / (1.0 - p), rtol=1e-12, atol=0.0, name=f"dx at p={p}")

# %% check id=p_zero_identity points=1 hidden
with check("p = 0 drops nothing: out == x, an all-ones mask, dx == dout") as c:
    rng = np.random.default_rng(4)
    for shape in [(7,), (5, 6), (2, 3, 4)]:
        x, dout = rng.standard_normal(shape), rng.standard_normal(shape)
        result = dropout_forward(x.copy(), 0.0, np.random.default_rng(40))
        out, m = as_out_mask(c, result, x)
        c.true(np.array_equal(out, x), f"p=0, shape {shape}: out must equal x")
        c.true(np.all(m == 1), f"p=0, shape {shape}: every unit must be kept")
        dx = np.asarray(dropout_backward(dout.copy(), result[1], 0.0), dtype=np.float64)
        c.true(dx.shape == shape and np.array_equal(dx, dout),
               f"p=0, shape {shape}: dx must equal dout")

# %% check id=bad_p_raises points=1 hidden
with check("dropout_forward raises ValueError for p outside [0, 1)") as c:
    x = np.ones((3, 4))
    for p in (-0.1, 1.0, 1.5):
        try:
            dropout_forward(x.copy(), p, np.random.default_rng(5))
        except ValueError:
            continue
        c.true(False, f"dropout_forward(x, p={p}, rng) returned instead of raising ValueError")

# %% check id=seeded points=1 hidden
with check("the same seed gives the same mask, different seeds different masks") as c:
    x = np.random.default_rng(6).standard_normal((40, 30))
    for p in (0.3, 0.7):
        _, first = as_out_mask(c, dropout_forward(x.copy(), p, np.random.default_rng(60)), x)
        _, again = as_out_mask(c, dropout_forward(x.copy(), p, np.random.default_rng(60)), x)
        _, other = as_out_mask(c, dropout_forward(x.copy(), p, np.random.default_rng(61)), x)
        c.true(np.array_equal(first, again),
               f"p={p}: the same seed gave different masks: draw every random number from rng")
        c.true(not np.array_equal(first, other),
               f"p={p}: different seeds gave the same mask: draw the mask from rng")

# %% check id=shapes_and_ps points=1 hidden
with check("the properties hold for 1-D to 4-D inputs and p from 0.05 to 0.95") as c:
    rng = np.random.default_rng(7)
    for shape, p in [((1_000_000,), 0.05), ((1000, 1000), 0.35), ((100, 100, 100), 0.65),
                     ((10, 10, 100, 100), 0.95)]:
        x = 2.0 + rng.standard_normal(shape)
        dout = rng.standard_normal(shape)
        result = dropout_forward(x.copy(), p, np.random.default_rng(70))
        out, m = as_out_mask(c, result, x)
        n, tol = x.size, six_standard_errors(p, x.size)
        where = f"shape {shape}, p={p}"
        c.within(np.mean(m == 0), p - tol, p + tol, name=f"fraction dropped ({where})")
        kept = m == 1
        c.close(out[kept], x[kept] / (1.0 - p), rtol=1e-12, atol=0.0,
                name=f"surviving outputs ({where})")
        c.true(np.all(out[~kept] == 0.0), f"{where}: a dropped unit must output exactly 0")
        se = np.sqrt((np.mean(x**2) / (1.0 - p) - np.mean(x) ** 2) / n)
        c.within(out.mean() - x.mean(), -6 * se, 6 * se, name=f"mean(out) - mean(x) ({where})")
        dx = np.asarray(dropout_backward(dout.copy(), result[1], p), dtype=np.float64)
        c.close(dx, dout * m / (1.0 - p), rtol=1e-12, atol=0.0, name=f"dx ({where})")
