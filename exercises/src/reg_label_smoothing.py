# %% [markdown]
# # Exercise: Label smoothing (레이블 스무딩)
#
# Cross-entropy (교차 엔트로피) with a one-hot target asks the network for a probability of
# exactly 1 on the true class. A softmax reaches 1 only when the true class's logit (로짓) is
# infinitely far above the others, so the loss keeps pushing the logits apart long after the
# prediction is right: the network grows over-confident. Label smoothing (레이블 스무딩,
# Szegedy et al. 2016, "Rethinking the Inception architecture") moves a small part $\epsilon$
# of the target's probability from the true class to a uniform distribution over all classes.
# The best logits are then finite, and the network is rewarded for being sure, not certain.
# The lecture notes ("ETC", 003) name it among the regularizers (규제 기법).
#
# In this exercise you write the loss of `torch.nn.functional.cross_entropy(logits, targets,
# label_smoothing=ε)` and its gradient with respect to the logits, in NumPy.
#
# ## The rule (PyTorch's convention)
#
# For a batch of $N$ examples with logits $z \in \mathbb{R}^{N \times C}$ over $C$ classes,
# integer targets $y_n \in \{0, \dots, C-1\}$ and $\epsilon \in [0, 1]$, the smoothed target of
# example $n$ is
#
# $$
# q_{nc} = (1 - \epsilon)\,[c = y_n] + \frac{\epsilon}{C} ,
# $$
#
# so the true class gets $1 - \epsilon + \epsilon/C$ and every other class $\epsilon/C$
# (PyTorch spreads $\epsilon$ over **all** $C$ classes, the true one included, not over the
# $C - 1$ others). With the log-softmax $\log p_{nc} = z_{nc} - \log\sum_{j} e^{z_{nj}}$, the
# loss is the **mean over the batch** of the cross-entropy with $q$:
#
# $$
# L = -\frac{1}{N} \sum_{n=1}^{N} \sum_{c=1}^{C} q_{nc} \log p_{nc} ,
# \qquad
# \frac{\partial L}{\partial z_{nc}} = \frac{p_{nc} - q_{nc}}{N} .
# $$
#
# (The gradient follows because $\sum_c q_{nc} = 1$: differentiate
# $-\sum_c q_{nc} z_{nc} + \log\sum_j e^{z_{nj}}$.) With $\epsilon = 0$ this is the plain
# cross-entropy, and its gradient the familiar "softmax minus one-hot".
#
# **Large logits.** $e^{z}$ overflows float64 for $z > 709$. Compute the log-softmax stably:
# subtract each row's maximum first, $\log p_{nc} = (z_{nc} - z_n^{\max}) - \log\sum_j
# e^{z_{nj} - z_n^{\max}}$, which changes nothing mathematically. Logits of size 1000 must give
# finite, correct results.
#
# ## Your task
#
# Write two functions (one cell each):
#
# * `smoothed_cross_entropy(logits, targets, eps)`: `logits` a float array of shape `(N, C)`,
#   `targets` an int array of shape `(N,)`, `eps` a float in $[0, 1]$; return $L$ as a float.
# * `smoothed_cross_entropy_grad(logits, targets, eps)`: the same arguments; return
#   $\partial L / \partial z$ as an array of shape `(N, C)`.
#
# Use NumPy only, and do not change the arrays you are given.
#
# ## What the checks test
#
# The checks run your functions on seeded logits in float64 and compare them with
# `torch.nn.functional.cross_entropy(..., label_smoothing=ε)` and with the gradient torch's
# autograd computes for it, with a relative tolerance of $10^{-9}$. The visible checks below
# test the loss for several values of $\epsilon$, the gradient for several values of $\epsilon$,
# and that $\epsilon = 0$ gives plain cross-entropy. The grader also runs hidden checks of the
# same kind: logits of size 1000 and more (no overflow, correct values), other batch sizes and
# class counts (down to $N = 1$ and $C = 2$, and $\epsilon = 1$), and two properties of the
# gradient (every row sums to 0; with the arrays given left unchanged).

# %% setup id=setup off-limits=trainart.regularize.augment,trainart.losses
import numpy as np
import torch
import torch.nn.functional as F

from trainart.grading.checks import check


def torch_loss_and_grad(logits, targets, eps):
    """The reference: F.cross_entropy with label smoothing in float64, and its autograd grad."""
    z = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    loss = F.cross_entropy(z, torch.tensor(targets, dtype=torch.long), label_smoothing=eps)
    loss.backward()
    return loss.item(), z.grad.numpy().copy()


def as_loss(c, value):
    """The loss as a float, failing check c unless it is one finite number."""
    c.true(np.size(value) == 1, "smoothed_cross_entropy must return one number (the mean loss)")
    value = float(np.ravel(np.asarray(value, dtype=np.float64))[0])
    c.true(np.isfinite(value), "smoothed_cross_entropy returned NaN or inf")
    return value


def seeded_batch(seed, n, classes, scale=3.0):
    """Seeded logits of shape (n, classes) and integer targets."""
    rng = np.random.default_rng(seed)
    return scale * rng.standard_normal((n, classes)), rng.integers(0, classes, size=n)


# %% solution id=smoothed_cross_entropy
def smoothed_cross_entropy(logits, targets, eps):
    """Mean cross-entropy with targets (1 - eps) * onehot + eps / C (PyTorch's convention)."""
    ### BEGIN SOLUTION
    z = np.asarray(logits, dtype=np.float64)
    n, classes = z.shape
    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    q = np.full((n, classes), eps / classes)
    q[np.arange(n), targets] += 1.0 - eps
    return float(-(q * log_p).sum() / n)
    ### END SOLUTION


# %% solution id=smoothed_cross_entropy_grad
def smoothed_cross_entropy_grad(logits, targets, eps):
    """The gradient of smoothed_cross_entropy with respect to the logits: (p - q) / N."""
    ### BEGIN SOLUTION
    z = np.asarray(logits, dtype=np.float64)
    n, classes = z.shape
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    q = np.full((n, classes), eps / classes)
    q[np.arange(n), targets] += 1.0 - eps
    return (p - q) / n
    ### END SOLUTION


# %% check id=loss_matches_torch points=2
with check("the loss matches F.cross_entropy(label_smoothing=eps) for several eps") as c:
    logits, targets = seeded_batch(81, 16, 5)
    for eps in (0.05, 0.1, 0.3, 0.7):
        expected, _ = torch_loss_and_grad(logits, targets, eps)
        loss = as_loss(c, smoothed_cross_entropy(logits.copy(), targets.copy(), eps))
        c.close(loss, expected, rtol=1e-9, name=f"loss with eps={eps}")

# %% check id=grad_matches_autograd points=2
with check("the gradient matches torch's autograd for several eps") as c:
    logits, targets = seeded_batch(82, 12, 7)
    for eps in (0.05, 0.1, 0.3, 0.7):
        _, expected = torch_loss_and_grad(logits, targets, eps)
        grad = smoothed_cross_entropy_grad(logits.copy(), targets.copy(), eps)
        c.close(grad, expected, rtol=1e-9, atol=1e-14, name=f"gradient with eps={eps}")

# %% check id=eps_zero_plain points=1
with check("eps = 0 gives plain cross-entropy and softmax minus one-hot") as c:
    logits, targets = seeded_batch(83, 10, 4)
    z = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    plain = F.cross_entropy(z, torch.tensor(targets, dtype=torch.long))
    plain.backward()
    loss = as_loss(c, smoothed_cross_entropy(logits.copy(), targets.copy(), 0.0))
    c.close(loss, plain.item(), rtol=1e-9, name="loss with eps=0 (plain cross-entropy)")
    c.close(smoothed_cross_entropy_grad(logits.copy(), targets.copy(), 0.0), z.grad.numpy(),
            rtol=1e-9, atol=1e-14, name="gradient with eps=0")

# %% check id=large_logits points=2 hidden
with check("logits of size 1000 and more: finite and correct loss and gradient") as c:
    for seed, scale in ((84, 1000.0), (85, 5000.0)):
        logits, targets = seeded_batch(seed, 8, 6, scale=scale)
        logits[0] = [800.0, 790.0, -900.0, 1200.0, 1199.0, 0.0]  # a row far beyond exp's range
        for eps in (0.0, 0.1):
            expected_loss, expected_grad = torch_loss_and_grad(logits, targets, eps)
            with np.errstate(all="ignore"):
                loss = smoothed_cross_entropy(logits.copy(), targets.copy(), eps)
                grad = np.asarray(smoothed_cross_entropy_grad(logits.copy(), targets.copy(),
                                                              eps), dtype=np.float64)
            loss = as_loss(c, loss)
            c.close(loss, expected_loss, rtol=1e-9, name=f"loss, logits ~{scale:g}, eps={eps}")
            c.close(grad, expected_grad, rtol=1e-9, atol=1e-14,
                    name=f"gradient, logits ~{scale:g}, eps={eps}")

# %% check id=shapes_and_eps points=2 hidden
with check("loss and gradient match torch for other batch sizes, class counts and eps = 1") as c:
    for seed, (n, classes), eps in ((86, (1, 3), 0.2), (87, (9, 2), 0.1), (88, (5, 10), 1.0),
                                    (89, (33, 4), 0.25), (90, (4, 100), 0.05)):
        logits, targets = seeded_batch(seed, n, classes)
        expected_loss, expected_grad = torch_loss_and_grad(logits, targets, eps)
        where = f"N={n}, C={classes}, eps={eps}"
        loss = as_loss(c, smoothed_cross_entropy(logits.copy(), targets.copy(), eps))
        c.close(loss, expected_loss, rtol=1e-9, name=f"loss ({where})")
        c.close(smoothed_cross_entropy_grad(logits.copy(), targets.copy(), eps), expected_grad,
                rtol=1e-9, atol=1e-14, name=f"gradient ({where})")

# %% check id=grad_rows_and_inputs points=1 hidden
with check("every gradient row sums to 0, and the arrays given are left unchanged") as c:
    logits, targets = seeded_batch(91, 20, 6)
    kept = logits.copy(), targets.copy()
    for eps in (0.0, 0.2, 0.9):
        grad = np.asarray(smoothed_cross_entropy_grad(logits, targets, eps), dtype=np.float64)
        c.true(grad.shape == logits.shape,
               f"the gradient has shape {grad.shape}, the logits have shape {logits.shape}")
        c.close(grad.sum(axis=1), np.zeros(20), rtol=0.0, atol=1e-15,
                name=f"row sums of the gradient with eps={eps}")
        smoothed_cross_entropy(logits, targets, eps)
        c.true(np.array_equal(logits, kept[0]) and np.array_equal(targets, kept[1]),
               "your functions changed the logits or targets they were given")
