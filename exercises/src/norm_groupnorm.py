# %% [markdown]
# # Exercise: Group normalization forward (그룹 정규화)
#
# Batch normalization computes its mean and variance over the mini-batch, so it needs a
# batch of reasonable size and behaves differently in training and at test time. Group
# normalization (그룹 정규화, Wu and He 2018) computes them **within each sample**: it cuts
# the channels (채널) of a sample into groups and standardizes each group on its own. Its
# result for one image never depends on the other images of the batch, so it works the same
# with a batch of 1 or 100, in training and in evaluation, with no running statistics. That
# is why detection and segmentation networks, which fit only one or two large images on a
# GPU, use it.
#
# In this exercise you write the forward pass of `torch.nn.GroupNorm` for an `(N, C, H, W)`
# input as a NumPy function.
#
# ## The axes, in words
#
# Picture the activations of a convolutional layer as a box with three edges: the $N$
# samples of the batch along one edge, the $C$ channels along the second, and the $H \times W$
# positions of each feature map, laid out in a row, along the third. Every normalization
# layer cuts this box into pieces, computes one mean and one variance per piece, and
# standardizes the piece with them. They differ only in how they cut:
#
# | layer | one piece is | averaged over axes | numbers per piece | pieces |
# | --- | --- | --- | --- | --- |
# | batch norm (배치 정규화) | one channel, all samples | $N, H, W$ | $N H W$ | $C$ |
# | layer norm (층 정규화) | one sample, all channels | $C, H, W$ | $C H W$ | $N$ |
# | instance norm (인스턴스 정규화) | one sample, one channel | $H, W$ | $H W$ | $N C$ |
# | group norm (그룹 정규화) | one sample, $C/G$ channels | $C/G, H, W$ | $(C/G) H W$ | $N G$ |
#
# Batch norm slices the box across the samples; the other three never cross from one
# sample to the next. Group norm sits between layer norm and instance norm: with $G$ groups
# it cuts each sample's channels into $G$ blocks of $C/G$ **consecutive** channels (channels
# $0, \dots, C/G - 1$ form group 0, the next $C/G$ channels group 1, and so on: the layout
# that `x.reshape(N, G, C // G, H, W)` produces). Hence the two special cases:
#
# * $G = 1$: one group holds all channels: **layer norm** over $(C, H, W)$;
# * $G = C$: every channel is its own group: **instance norm** over $(H, W)$.
#
# **A word on the lecture notes.** The "Deep Session 3" slides (002) describe layer norm as
# normalizing "all features of the batch". Layer norm normalizes the features of **each
# sample** on their own (in the slides' 6 x 3 table: one mean and one standard deviation per
# row, a sample, where batch norm has one per column, a feature), and never mixes samples.
# That is exactly why it works with a batch of one, as the slides rightly say.
#
# ## The formula
#
# For sample $n$ and group $g$ let $S_{n,g}$ be the $(C/G)\,H\,W$ entries of that piece. With
# a small $\epsilon > 0$:
#
# $$
# \mu_{n,g} = \frac{1}{|S_{n,g}|} \sum_{i \in S_{n,g}} x_i, \qquad
# \sigma^2_{n,g} = \frac{1}{|S_{n,g}|} \sum_{i \in S_{n,g}} (x_i - \mu_{n,g})^2, \qquad
# \hat x_i = \frac{x_i - \mu_{n,g}}{\sqrt{\sigma^2_{n,g} + \epsilon}} \quad (i \in S_{n,g}),
# $$
#
# $$
# y_{n,c,h,w} = \gamma_c\, \hat x_{n,c,h,w} + \beta_c .
# $$
#
# As in batch norm, the variance is the **biased** one (divided by the number of entries,
# not by one less), and the learnable scale $\gamma$ and shift $\beta$ let the network undo
# the normalization where that helps. Note that $\gamma$ and $\beta$ have one entry **per
# channel**, shape `(C,)`, not one per group: the groups share statistics, not parameters.
#
# ## Your task
#
# Write `groupnorm_forward(x, num_groups, gamma, beta, eps=1e-5)`:
#
# * `x`: a NumPy float array of shape `(N, C, H, W)`; `num_groups`: the number of groups
#   $G$; `gamma`, `beta`: arrays of shape `(C,)`;
# * returns `out`, an array of the same shape as `x`;
# * raises `ValueError` when `C` is not divisible by `num_groups` (PyTorch refuses such a
#   layer too). Raise it yourself: a reshape does not always fail when it should.
#
# ## What the checks test
#
# The checks run your function on seeded random inputs in float64, whose channels and
# samples have different offsets and scales, and compare with PyTorch's
# `torch.nn.functional.group_norm` with a relative tolerance of $10^{-7}$; any correct
# arrangement of the arithmetic agrees to about 12 digits. The visible checks below test an
# `(2, 6, 4, 5)` input with 3 groups; that the output for one sample does not change when the
# other samples of the batch change (or are left out); and the `ValueError` for channel
# counts that the groups do not divide. The grader also runs hidden checks of the same kind:
# more shapes and group counts (a batch of one, $1 \times 1$ feature maps, a larger `eps`),
# and the special cases, $G = 1$ against `torch.nn.functional.layer_norm` over $(C, H, W)$
# and $G = C$ against `torch.nn.functional.instance_norm`.

# %% setup id=setup off-limits=trainart.norm
import numpy as np
import torch
import torch.nn.functional as F

from trainart.grading.checks import check


def seeded_input(seed, shape, spread=3.0):
    """A seeded (N, C, H, W) input whose samples and channels have different offsets and
    scales, with gamma and beta of shape (C,)."""
    rng = np.random.default_rng(seed)
    n, c = shape[:2]
    offsets = rng.uniform(-spread, spread, (n, c, 1, 1)) + rng.uniform(-spread, spread,
                                                                        (n, 1, 1, 1))
    scales = rng.uniform(0.3, spread, (n, c, 1, 1))
    x = offsets + scales * rng.standard_normal(shape)
    gamma = rng.uniform(0.5, 2.0, c) * rng.choice([-1.0, 1.0], c)
    beta = rng.standard_normal(c)
    return x, gamma, beta


def torch_groupnorm(x, num_groups, gamma, beta, eps=1e-5):
    """The trusted reference: torch.nn.functional.group_norm in float64."""
    out = F.group_norm(torch.from_numpy(x), num_groups, torch.from_numpy(gamma),
                       torch.from_numpy(beta), eps=eps)
    return out.numpy()


def run_groupnorm(x, num_groups, gamma, beta, eps=1e-5):
    """Your groupnorm_forward on copies of the inputs."""
    return groupnorm_forward(x.copy(), num_groups, gamma.copy(), beta.copy(), eps=eps)


# %% solution id=groupnorm_forward
def groupnorm_forward(x, num_groups, gamma, beta, eps=1e-5):
    """Group norm of an (N, C, H, W) input with num_groups groups of consecutive channels."""
    ### BEGIN SOLUTION
    n, c, h, w = x.shape
    if c % num_groups != 0:
        raise ValueError(f"{c} channels cannot be split into {num_groups} equal groups")
    groups = x.reshape(n, num_groups, (c // num_groups) * h * w)
    mean = groups.mean(axis=2, keepdims=True)
    var = groups.var(axis=2, keepdims=True)  # biased: divides by the group's size
    x_hat = ((groups - mean) / np.sqrt(var + eps)).reshape(n, c, h, w)
    return gamma.reshape(1, c, 1, 1) * x_hat + beta.reshape(1, c, 1, 1)
    ### END SOLUTION


# %% check id=matches_torch points=3
with check("group norm of a (2, 6, 4, 5) input with 3 groups matches F.group_norm") as c:
    x, gamma, beta = seeded_input(1, (2, 6, 4, 5))
    out = run_groupnorm(x, 3, gamma, beta)
    c.close(out, torch_groupnorm(x, 3, gamma, beta), rtol=1e-7, atol=1e-10, name="out")

# %% check id=per_sample points=2
with check("the output for a sample does not depend on the other samples of the batch") as c:
    x, gamma, beta = seeded_input(2, (4, 6, 3, 3))
    out = np.asarray(run_groupnorm(x, 2, gamma, beta), dtype=np.float64)
    c.true(out.shape == x.shape, f"out has shape {out.shape}, expected shape {x.shape}")
    other = x.copy()
    other[1:] = 50.0 + 20.0 * np.random.default_rng(3).standard_normal(other[1:].shape)
    c.close(run_groupnorm(other, 2, gamma, beta)[0], out[0], rtol=1e-9, atol=1e-12,
            name="out[0] when samples 1-3 are replaced")
    c.close(run_groupnorm(x[:1], 2, gamma, beta)[0], out[0], rtol=1e-9, atol=1e-12,
            name="out[0] for a batch of just sample 0")

# %% check id=bad_group_count points=1
with check("ValueError when the number of channels is not divisible by num_groups") as c:
    for shape, groups in [((2, 6, 2, 2), 4), ((1, 10, 2, 3), 4), ((2, 6, 2, 2), 12),
                          ((3, 5, 4, 4), 2)]:
        x, gamma, beta = seeded_input(4, shape)
        try:
            result = run_groupnorm(x, groups, gamma, beta)
        except ValueError:
            continue
        c.true(False, f"groupnorm_forward with C={shape[1]} and num_groups={groups} returned "
                      f"{type(result).__name__} instead of raising ValueError")

# %% check id=more_shapes points=2 hidden
with check("group norm matches F.group_norm for more shapes, group counts and eps") as c:
    for seed, shape, groups, eps, spread in [(11, (1, 4, 3, 3), 2, 1e-5, 3.0),
                                             (12, (3, 8, 1, 1), 4, 1e-5, 3.0),
                                             (13, (2, 12, 5, 2), 6, 1e-5, 3.0),
                                             (14, (2, 32, 4, 4), 8, 1e-5, 3.0),
                                             (15, (5, 6, 7, 3), 3, 1e-2, 0.4),
                                             (16, (2, 4, 2, 3), 2, 0.1, 1.0)]:
        x, gamma, beta = seeded_input(seed, shape, spread=spread)
        out = run_groupnorm(x, groups, gamma, beta, eps=eps)
        c.close(out, torch_groupnorm(x, groups, gamma, beta, eps=eps), rtol=1e-7, atol=1e-10,
                name=f"out for shape {shape}, {groups} groups, eps={eps}")

# %% check id=one_group_is_layer_norm points=1 hidden
with check("with one group, group norm is layer norm over (C, H, W)") as c:
    for seed, shape in [(21, (3, 5, 4, 4)), (22, (2, 3, 2, 7))]:
        x, gamma, beta = seeded_input(seed, shape)
        ln = F.layer_norm(torch.from_numpy(x), shape[1:], eps=1e-5).numpy()
        expected = gamma.reshape(1, -1, 1, 1) * ln + beta.reshape(1, -1, 1, 1)
        c.close(run_groupnorm(x, 1, gamma, beta), expected, rtol=1e-7, atol=1e-10,
                name=f"out for shape {shape} with num_groups=1")

# %% check id=c_groups_is_instance_norm points=1 hidden
with check("with one group per channel, group norm is instance norm over (H, W)") as c:
    for seed, shape in [(31, (2, 7, 5, 3)), (32, (4, 4, 3, 3))]:
        x, gamma, beta = seeded_input(seed, shape)
        expected = F.instance_norm(torch.from_numpy(x), weight=torch.from_numpy(gamma),
                                   bias=torch.from_numpy(beta), eps=1e-5).numpy()
        c.close(run_groupnorm(x, shape[1], gamma, beta), expected, rtol=1e-7, atol=1e-10,
                name=f"out for shape {shape} with num_groups=C={shape[1]}")
