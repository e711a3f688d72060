# %% [markdown]
# # Exercise: He and Xavier initialization from fan computation (He / Xavier 초기화)
#
# A deep network starts from random weights, and their scale decides whether a signal
# survives the trip through many layers. Too small, and the activations shrink layer after
# layer (vanishing, 기울기 소실); too large, and they grow (exploding, 기울기 폭주). The
# standard initializations (초기화) choose the scale from the **fan-in** (팬인: how many inputs
# feed one unit) and the **fan-out** (팬아웃: how many units one input feeds) of a layer.
#
# In this exercise you write the fan computation of `torch.nn.init` and two initializers
# on top of it, as NumPy functions: He normal (`kaiming_normal_`) and Xavier uniform
# (`xavier_uniform_`). The chapter on initialization shows what they do to a deep network.
#
# ## Why the variance depends on the fan
#
# Take one unit $y = \sum_{i=1}^{n_\text{in}} w_i x_i$ whose weights are independent, have
# mean zero and are independent of the inputs. Then
#
# $$
# \operatorname{Var}(y) = n_\text{in} \operatorname{Var}(w)\, \mathbb{E}[x^2] .
# $$
#
# * **Xavier / Glorot** (Glorot and Bengio 2010; for tanh and linear units): with zero-mean
#   inputs $\mathbb{E}[x^2] = \operatorname{Var}(x)$, so keeping $\operatorname{Var}(y) =
#   \operatorname{Var}(x)$ in the forward pass needs $\operatorname{Var}(w) = 1/n_\text{in}$;
#   the same argument for the gradients in the backward pass asks for $1/n_\text{out}$. Xavier
#   takes the compromise $\operatorname{Var}(w) = 2/(n_\text{in} + n_\text{out})$.
# * **He / Kaiming** (He et al. 2015; for ReLU): a ReLU zeroes the negative half of a symmetric
#   pre-activation $z$, so $\mathbb{E}[x^2] = \operatorname{Var}(z)/2$. Half of the signal's
#   power is lost in every layer, and $\operatorname{Var}(w) = 2/n_\text{in}$ gives it back.
# * A **uniform** distribution $U(-a, a)$ has variance $a^2/3$. To get a variance $\sigma^2$
#   from it, take $a = \sqrt{3}\,\sigma$; for Xavier, $a = \sqrt{6/(n_\text{in} + n_\text{out})}$.
#
# In the table, $s = n_\text{in} + n_\text{out}$:
#
# | scheme | variance $\operatorname{Var}(w)$ | standard deviation | uniform bound $a$ |
# | --- | --- | --- | --- |
# | LeCun | $1/n_\text{in}$ | $\sqrt{1/n_\text{in}}$ | $\sqrt{3/n_\text{in}}$ |
# | Xavier / Glorot | $2/s$ | $\sqrt{2/s}$ | $\sqrt{6/s}$ |
# | He / Kaiming | $2/n_\text{in}$ | $\sqrt{2/n_\text{in}}$ | $\sqrt{6/n_\text{in}}$ |
#
# **A word on the lecture notes.** The "Deep Session 3" slides (002) write
# $\operatorname{Var}(W) = \sqrt{1/n_\text{in}}$, $\sqrt{2/(n_\text{in}+n_\text{out})}$ and
# $\sqrt{2/n_\text{in}}$: those square roots are the *standard deviations* (the third column);
# the variances are the second column, without the root. The same slides give LeCun uniform's
# bound as $\sqrt{1/n_\text{in}}$; it is $\sqrt{3/n_\text{in}}$. And the "ETC" notes (003)
# write He's standard deviation as $2/\sqrt{n}$. Their reason for the factor 2 is right
# (ReLU zeroes half of the signal), but the 2 multiplies the *variance*, so the standard
# deviation is $\sqrt{2/n}$. The difference looks small, a factor $\sqrt{2} \approx 1.41$,
# but it doubles the variance, and a deep ReLU network multiplies that up layer by layer:
# after 10 layers the activations are $2^{10/2} = 32$ times too large. Your checks below
# measure the standard deviation of what your functions draw.
#
# ## Fans of a weight tensor (PyTorch's convention)
#
# PyTorch stores a dense layer's weight (`nn.Linear`) as `(out_features, in_features)` and a
# convolution's (`nn.Conv1d/2d/3d`) as `(out_channels, in_channels, *kernel_size)`. A
# convolution output unit sees `in_channels` times the kernel's window of inputs, so with the
# receptive field $r$ = the product of the kernel sizes ($r = 1$ for a dense layer):
#
# $$
# n_\text{in} = \texttt{shape[1]} \cdot r, \qquad n_\text{out} = \texttt{shape[0]} \cdot r .
# $$
#
# For example a `Conv2d(16, 32, kernel_size=3)` has weight shape `(32, 16, 3, 3)`, so
# $n_\text{in} = 16 \cdot 9 = 144$ and $n_\text{out} = 32 \cdot 9 = 288$. A tensor with fewer
# than two dimensions (a bias vector) has no fans: PyTorch raises a `ValueError`, and so
# should you.
#
# ## Your task
#
# Write three functions (one cell each):
#
# * `fans(shape)`: `shape` is a tuple of ints; return the pair `(fan_in, fan_out)` of ints
#   as above; raise `ValueError` when `len(shape) < 2`.
# * `he_normal(shape, rng)`: a NumPy array of shape `shape` drawn from a normal (Gaussian,
#   not truncated) distribution with mean 0 and standard deviation $\sqrt{2/n_\text{in}}$.
# * `xavier_uniform(shape, rng)`: a NumPy array of shape `shape` drawn uniformly from
#   $[-a, a]$ with $a = \sqrt{6/(n_\text{in} + n_\text{out})}$.
#
# `rng` is a NumPy random generator (`np.random.default_rng(seed)`): draw every random number
# from it (not from `np.random.*` or `torch`), so that the same seed gives the same weights.
#
# ## What the checks test
#
# The fans are compared exactly with PyTorch's own `_calculate_fan_in_and_fan_out` (in
# `torch.nn.init`). Your random weights are never compared sample by sample (there are many
# correct ways to use `rng`); the checks measure their **properties** on large tensors
# instead. With about 260,000 samples the measured standard deviation fluctuates by about
# 0.15%, so a tolerance of 2% leaves a correct solution more than ten standard errors of
# room, while a wrong scale (fan-out instead of fan-in, $2/\sqrt{n}$ instead of $\sqrt{2/n}$)
# is far outside it.
#
# The visible checks below test `fans` on dense and 2-D convolution shapes; `he_normal` on a
# `(256, 1024)` tensor (shape, mean about 0, standard deviation within 2% of
# $\sqrt{2/n_\text{in}}$); and `xavier_uniform` on a `(1024, 256)` tensor (every sample within
# $[-a, a]$, the largest $|w|$ at least $0.99\,a$, standard deviation within 2% of
# $a/\sqrt{3}$). The grader also runs hidden checks of the same kind: `fans` on more shapes
# (1-D and 3-D convolutions, 1x1 kernels) and the `ValueError` for shapes with fewer than two
# dimensions; both initializers on convolution shapes, with a test that He's samples are
# normally distributed (the fractions within one and beyond two standard deviations); and
# that the same seed gives the same weights while different seeds give different ones.

# %% setup id=setup off-limits=trainart.init
import numpy as np

from trainart.grading.checks import check


def as_fans(c, result):
    """Unpack the result of fans, failing check c if it is not a pair."""
    return c.returns(result, "fans", ("fan_in", "fan_out"))


def as_weights(c, w, shape, function):
    """w as a float array, failing check c unless it has the requested shape."""
    c.true(np.shape(w) == tuple(shape),
           f"{function} returned shape {np.shape(w)}, asked for shape {tuple(shape)}")
    w = np.asarray(w, dtype=np.float64)
    c.true(np.all(np.isfinite(w)), f"{function} returned NaN or inf")
    return w


# %% solution id=fans
def fans(shape):
    """(fan_in, fan_out) of a weight of this shape: (out, in) or (out, in, *kernel)."""
    ### BEGIN SOLUTION
    if len(shape) < 2:
        raise ValueError(f"fans need a shape with at least 2 dimensions, got {tuple(shape)}")
    receptive_field = 1
    for size in shape[2:]:
        receptive_field *= int(size)
    return int(shape[1]) * receptive_field, int(shape[0]) * receptive_field
    ### END SOLUTION


# %% solution id=he_normal
def he_normal(shape, rng):
    """Weights of this shape, normal with mean 0 and std sqrt(2 / fan_in), drawn with rng."""
    ### BEGIN SOLUTION
    fan_in, _ = fans(shape)
    return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=tuple(shape))
    ### END SOLUTION


# %% solution id=xavier_uniform
def xavier_uniform(shape, rng):
    """Weights of this shape from U(-a, a), a = sqrt(6 / (fan_in + fan_out)), drawn with rng."""
    ### BEGIN SOLUTION
    fan_in, fan_out = fans(shape)
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=tuple(shape))
    ### END SOLUTION


# %% check id=fans_dense_conv points=2
with check("fans of dense (out, in) and conv2d (out, in, kh, kw) shapes match torch") as c:
    import torch
    from torch.nn.init import _calculate_fan_in_and_fan_out as torch_fans

    for shape in [(10, 3), (3, 10), (256, 784), (32, 16, 3, 3), (64, 3, 7, 7), (8, 4, 5, 1)]:
        fan_in, fan_out = as_fans(c, fans(shape))
        expected_in, expected_out = torch_fans(torch.empty(shape))
        c.true(fan_in == expected_in and fan_out == expected_out,
               f"fans{shape} returned ({fan_in}, {fan_out}), torch gives "
               f"({expected_in}, {expected_out})")

# %% check id=he_normal_std points=2
with check("he_normal on a (256, 1024) weight: mean about 0, std within 2% of sqrt(2/fan_in)") as c:
    import torch
    from torch.nn.init import _calculate_fan_in_and_fan_out as torch_fans

    shape = (256, 1024)
    target = np.sqrt(2.0 / torch_fans(torch.empty(shape))[0])
    w = as_weights(c, he_normal(shape, np.random.default_rng(2015)), shape, "he_normal")
    c.within(w.mean() / target, -0.02, 0.02, name="measured mean / sqrt(2/fan_in)")
    c.within(w.std() / target, 0.98, 1.02, name="measured std / sqrt(2/fan_in)")

# %% check id=xavier_uniform_bound points=2
with check("xavier_uniform on a (1024, 256) weight: within [-a, a], reaches a, std a/sqrt(3)") as c:
    import torch
    from torch.nn.init import _calculate_fan_in_and_fan_out as torch_fans

    shape = (1024, 256)
    fan_in, fan_out = torch_fans(torch.empty(shape))
    a = np.sqrt(6.0 / (fan_in + fan_out))
    w = as_weights(c, xavier_uniform(shape, np.random.default_rng(2010)), shape,
                   "xavier_uniform")
    c.true(np.abs(w).max() <= a * (1 + 1e-12),
           f"{int((np.abs(w) > a).sum())} samples lie outside [-a, a] with "
           f"a = sqrt(6/(fan_in+fan_out)): a uniform distribution never leaves its interval")
    c.within(np.abs(w).max() / a, 0.99, 1.0 + 1e-12, name="largest |w| / a")
    c.within(w.mean() / a, -0.01, 0.01, name="measured mean / a")
    c.within(w.std() / (a / np.sqrt(3.0)), 0.98, 1.02, name="measured std / (a/sqrt(3))")

# %% check id=fans_more_shapes points=1 hidden
with check("fans of conv1d, conv3d, 1x1-kernel and square shapes match torch") as c:
    import torch
    from torch.nn.init import _calculate_fan_in_and_fan_out as torch_fans

    for shape in [(20, 6, 5), (1, 1, 1), (12, 4, 3, 3, 3), (64, 128, 1, 1), (7, 7),
                  (5, 2, 1, 4), (2, 9, 3, 1, 2, 2)]:
        fan_in, fan_out = as_fans(c, fans(shape))
        expected = torch_fans(torch.empty(shape))
        c.true((fan_in, fan_out) == tuple(expected),
               f"fans{shape} returned ({fan_in}, {fan_out}), which is not what torch gives")

# %% check id=fans_rejects_1d points=1 hidden
with check("fans raises ValueError for shapes with fewer than 2 dimensions") as c:
    for shape in [(7,), ()]:
        try:
            result = fans(shape)
        except ValueError:
            continue
        c.true(False, f"fans({shape}) returned {result!r} instead of raising ValueError")

# %% check id=conv_init_scales points=1 hidden
with check("he_normal and xavier_uniform on conv shapes: right scale, He samples normal") as c:
    import torch
    from torch.nn.init import _calculate_fan_in_and_fan_out as torch_fans

    shape = (128, 64, 5, 5)
    std = np.sqrt(2.0 / torch_fans(torch.empty(shape))[0])
    w = as_weights(c, he_normal(shape, np.random.default_rng(77)), shape, "he_normal")
    c.within(w.mean() / std, -0.02, 0.02, name=f"he_normal{shape}: measured mean / std")
    c.within(w.std() / std, 0.98, 1.02, name=f"he_normal{shape}: measured std / sqrt(2/fan_in)")
    z = np.abs(w) / std
    c.within(np.mean(z < 1.0), 0.670, 0.695,
             name=f"he_normal{shape}: fraction within one std (normal: 0.683)")
    c.within(np.mean(z > 2.0), 0.041, 0.050,
             name=f"he_normal{shape}: fraction beyond two std (normal: 0.0455)")

    shape = (256, 64, 3, 3)
    fan_in, fan_out = torch_fans(torch.empty(shape))
    a = np.sqrt(6.0 / (fan_in + fan_out))
    w = as_weights(c, xavier_uniform(shape, np.random.default_rng(78)), shape, "xavier_uniform")
    c.within(np.abs(w).max() / a, 0.99, 1.0 + 1e-12, name=f"xavier_uniform{shape}: max |w| / a")
    c.within(w.std() / (a / np.sqrt(3.0)), 0.98, 1.02,
             name=f"xavier_uniform{shape}: measured std / (a/sqrt(3))")

# %% check id=seeded points=1 hidden
with check("the same seed gives the same weights, different seeds different weights") as c:
    for function in (he_normal, xavier_uniform):
        name = function.__name__
        for shape in [(30, 20), (8, 3, 3, 3)]:
            first = as_weights(c, function(shape, np.random.default_rng(5)), shape, name)
            again = as_weights(c, function(shape, np.random.default_rng(5)), shape, name)
            other = as_weights(c, function(shape, np.random.default_rng(6)), shape, name)
            c.true(np.array_equal(first, again),
                   f"{name}{shape} gave different weights for the same seed: draw every "
                   f"random number from rng")
            c.true(not np.array_equal(first, other),
                   f"{name}{shape} gave the same weights for different seeds: draw the "
                   f"weights from rng")
