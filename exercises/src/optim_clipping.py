# %% [markdown]
# # Exercise: Gradient clipping by global norm (그래디언트 클리핑)
#
# Now and then a loss surface has a "cliff": a region where the gradient is suddenly huge
# (recurrent networks are famous for it, Pascanu et al. 2013). One gradient step there throws
# the parameters far away and undoes many steps of progress. Gradient clipping (그래디언트
# 클리핑) caps the gradient before the optimizer step.
#
# Clipping by the **global norm** treats the gradients of all parameters as one long vector:
# if its length exceeds a cap, every gradient is multiplied by the same factor. The
# direction of the whole step is kept; only its length is limited. (Clipping each entry by
# value, the other kind, changes the direction.)
#
# In this exercise you write `torch.nn.utils.clip_grad_norm_` as a pure NumPy function. The
# chapters "Gradient descent and its troubles" (Optimization 1: the cliff) and "Optimization in
# practice" (Optimization 3: clipping during training) show it at work.
#
# ## The rule (PyTorch's)
#
# For gradients $g^{(1)}, \dots, g^{(k)}$ (arrays of any shapes) and a cap $c > 0$:
#
# $$
# \|g\| = \sqrt{\sum_{i=1}^{k} \big\|g^{(i)}\big\|_2^2}, \qquad
# s = \min\!\Big(1, \frac{c}{\|g\| + 10^{-6}}\Big), \qquad
# g^{(i)} \leftarrow s\, g^{(i)} .
# $$
#
# Here $\|g^{(i)}\|_2$ is the Euclidean norm of all entries of $g^{(i)}$, whatever its shape.
# The $10^{-6}$ keeps the division safe when all gradients are zero; because of it a clipped
# gradient's norm is $c\,\|g\| / (\|g\| + 10^{-6})$, a hair below $c$. When $\|g\| \le c$ the
# factor is 1 and nothing changes.
#
# ## Your task
#
# Write `clip_by_global_norm(grads, max_norm)`:
#
# * `grads`: a list of NumPy float arrays of any shapes; `max_norm`: the cap $c$;
# * returns the pair `(clipped, total_norm)`: `clipped` is a **new list** of new arrays, one
#   per input and of the same shape, and `total_norm` is the global norm $\|g\|$ **before**
#   clipping, a float (PyTorch returns it too: it is worth logging during training).
#
# Unlike PyTorch's `clip_grad_norm_`, which rescales the gradients in place (the trailing `_`),
# your function must **not** change the arrays it is given.
#
# ## What the checks test
#
# The checks run your function on seeded random gradients and compare the numbers with the
# course's trusted `trainart.optim.clip_grad_norm_` (which follows PyTorch), with a relative
# tolerance of $10^{-6}$. The visible checks below test that gradients with a global norm below
# the cap come back unchanged, and that larger ones are rescaled to the cap (norm $c$ up to the
# $10^{-6}$, same direction). The grader also runs hidden checks of the same kind: several
# arrays of different shapes against the reference, that your function leaves its inputs
# unchanged, and the returned `total_norm`.

# %% setup id=setup off-limits=trainart.optim.clip
import numpy as np

from trainart.grading.checks import check


def as_clip_result(c, result, n):
    """Unpack the result of clip_by_global_norm, failing check c if it has the wrong form."""
    clipped, total_norm = c.returns(result, "clip_by_global_norm", ("clipped", "total_norm"))
    c.true(isinstance(clipped, (list, tuple)) and len(clipped) == n,
           f"clipped must be a list with one array per gradient ({n} here)")
    return list(clipped), total_norm


# %% solution id=clip_by_global_norm
def clip_by_global_norm(grads, max_norm):
    """Rescale all gradients together so that their global norm is at most max_norm.

    Returns (clipped, total_norm): new arrays, and the global norm before clipping.
    """
    ### BEGIN SOLUTION
    total_norm = float(np.sqrt(sum(np.sum(np.square(g)) for g in grads)))
    scale = min(1.0, max_norm / (total_norm + 1e-6))
    clipped = [g * scale for g in grads]
    return clipped, total_norm
    ### END SOLUTION


# %% check id=below_cap_unchanged points=2
with check("gradients whose global norm is below max_norm come back unchanged") as c:
    rng = np.random.default_rng(7)
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    norm = np.sqrt(sum(np.sum(g**2) for g in grads))
    clipped, _ = as_clip_result(c, clip_by_global_norm([g.copy() for g in grads],
                                                       max_norm=2 * norm), len(grads))
    for i, (new, old) in enumerate(zip(clipped, grads)):
        c.close(new, old, rtol=1e-12, name=f"clipped[{i}] (max_norm twice the global norm)")

# %% check id=above_cap_rescaled points=3
with check("gradients with a larger global norm are rescaled to max_norm, same direction") as c:
    rng = np.random.default_rng(8)
    grads = [5 * rng.standard_normal((4, 3)), 5 * rng.standard_normal(6)]
    norm = np.sqrt(sum(np.sum(g**2) for g in grads))
    max_norm = 1.0
    clipped, _ = as_clip_result(c, clip_by_global_norm([g.copy() for g in grads], max_norm),
                                len(grads))
    new_norm = np.sqrt(sum(np.sum(np.asarray(g, dtype=float) ** 2) for g in clipped))
    c.close(new_norm, max_norm, rtol=1e-5, name="global norm of the clipped gradients")
    scale = max_norm / (norm + 1e-6)
    for i, (new, old) in enumerate(zip(clipped, grads)):
        c.close(new, scale * old, rtol=1e-6, name=f"clipped[{i}] (all gradients share one factor)")

# %% check id=shapes_vs_reference points=2 hidden
with check("several arrays of different shapes: clipped gradients match clip_grad_norm_") as c:
    from trainart.optim import clip_grad_norm_

    rng = np.random.default_rng(9)
    shapes = [(1,), (7,), (3, 4), (2, 3, 5), (4, 1)]
    for max_norm in (0.5, 3.0, 100.0):
        grads = [rng.standard_normal(s) * rng.uniform(0.1, 3.0) for s in shapes]
        clipped, _ = as_clip_result(c, clip_by_global_norm([g.copy() for g in grads], max_norm),
                                    len(grads))
        expected = [g.copy() for g in grads]
        clip_grad_norm_(expected, max_norm)
        for i, (new, ref) in enumerate(zip(clipped, expected)):
            c.close(new, ref, rtol=1e-6, name=f"clipped[{i}] of shape {shapes[i]} "
                                               f"with max_norm={max_norm}")

# %% check id=inputs_unchanged points=1 hidden
with check("clip_by_global_norm clips without changing the arrays it is given") as c:
    rng = np.random.default_rng(10)
    grads = [3 * rng.standard_normal((2, 3)), 3 * rng.standard_normal(4)]
    kept = [g.copy() for g in grads]
    given = list(grads)
    clipped, _ = as_clip_result(c, clip_by_global_norm(given, max_norm=1.0), len(grads))
    c.true(len(given) == len(kept) and all(a is b for a, b in zip(given, grads)),
           "your function changed the list it was given; build a new list instead")
    for i, (now, before) in enumerate(zip(grads, kept)):
        c.true(np.array_equal(now, before),
               f"your function changed grads[{i}] in place; return new arrays "
               f"(e.g. g * scale) instead of using *=")
    # Only the inputs are checked here: the clipped values have their own checks, so an
    # arithmetic mistake is not reported as an in-place one.
    for i, (new, before) in enumerate(zip(clipped, kept)):
        c.true(np.shape(new) == before.shape,
               f"clipped[{i}] has shape {np.shape(new)}, grads[{i}] has {before.shape}")

# %% check id=total_norm points=2 hidden
with check("the returned total_norm is the global norm before clipping") as c:
    from trainart.optim import clip_grad_norm_

    rng = np.random.default_rng(12)
    for max_norm, spread in ((1.0, 5.0), (50.0, 0.5), (2.0, 1.0)):
        grads = [spread * rng.standard_normal(s) for s in ((5,), (2, 6), (3, 1, 2))]
        _, total_norm = as_clip_result(c, clip_by_global_norm([g.copy() for g in grads],
                                                              max_norm), len(grads))
        c.true(total_norm is not None and np.size(total_norm) == 1,
               "total_norm must be a single number: the global norm before clipping")
        expected_norm = clip_grad_norm_([g.copy() for g in grads], max_norm)
        c.close(np.ravel(total_norm)[0], expected_norm, rtol=1e-6,
                name=f"total_norm with max_norm={max_norm}")
