# %% [markdown]
# # Exercise: Monte-Carlo dropout (몬테카를로 드롭아웃): a prediction and its uncertainty
#
# At test time a network trained with dropout (드롭아웃) normally switches dropout off: one
# deterministic pass, which approximates the average of the ensemble (앙상블) of thinned
# networks. Monte-Carlo dropout (Gal and Ghahramani, 2016) keeps dropout **on** and runs the
# same input through $T$ random thinned networks instead. The average of their predicted
# probabilities is the ensemble's prediction, and how much they disagree is an estimate of the
# model's uncertainty (불확실성): where the thinned networks agree, the model is sure; where
# they disagree, it is not.
#
# ## The formulas
#
# Let $z^{(t)} \in \mathbb{R}^{N \times K}$ be the logits of pass $t = 1, \dots, T$ for $N$
# inputs and $K$ classes, each pass with new dropout masks. Each pass's probabilities are the
# softmax of its logits (the largest logit subtracted first, so that large logits do not
# overflow):
#
# $$
# p^{(t)}_{nk} = \frac{\exp\big(z^{(t)}_{nk} - \max_j z^{(t)}_{nj}\big)}
#                    {\sum_{j} \exp\big(z^{(t)}_{nj} - \max_j z^{(t)}_{nj}\big)} .
# $$
#
# The Monte-Carlo prediction is the mean of the **probabilities** (not the softmax of the mean
# logits: those differ, and the ensemble averages what its members predict), and its spread
# is their standard deviation over the passes (with $1/T$, NumPy's default `ddof=0`):
#
# $$
# \bar p_{nk} = \frac1T \sum_{t=1}^T p^{(t)}_{nk}, \qquad
# s_{nk} = \sqrt{\frac1T \sum_{t=1}^T \big(p^{(t)}_{nk} - \bar p_{nk}\big)^2} .
# $$
#
# One number per input summarizes the uncertainty of the averaged prediction: its
# **predictive entropy** (예측 엔트로피), $0$ for a one-hot prediction and $\log K$ for the
# uniform one, with the convention $0 \log 0 = 0$:
#
# $$
# H_n = -\sum_{k=1}^K \bar p_{nk} \log \bar p_{nk} .
# $$
#
# **A word on the lecture notes.** Note 001 suggests that keeping dropout on at test time
# would make the model's test performance better. One pass with dropout on is a single noisy
# sample of the ensemble, not a better prediction; the average of many passes approaches the
# ordinary dropout-off prediction (the Dropout chapter measures both). What the extra passes
# buy is the spread: an uncertainty estimate.
#
# ## Your task
#
# Write two functions (one cell each):
#
# * `mc_dropout_predict(forward, X, n_samples)`: `forward(X)` returns the logits `(N, K)` of
#   one stochastic pass (dropout on; every call draws new masks). Call it exactly `n_samples`
#   times on `X` and return the pair `(mean, std)` of the formulas above, both of shape
#   `(N, K)`. Raise `ValueError` when `n_samples` is not an integer $\ge 1$.
# * `predictive_entropy(probs)`: `probs` is an `(N, K)` array of probabilities (rows sum to 1);
#   return the `(N,)` array $H$, with $0 \log 0 = 0$ (no NaN for a zero probability).
#
# ## What the checks test
#
# The checks give your function a `forward` of their own that returns known logits, so the
# expected mean and spread are exact: the mean and std of the softmax probabilities (to 12
# digits), that `forward` is called `n_samples` times, and the entropy of uniform, one-hot
# and random rows. The grader also runs hidden checks of the same kind: the `ValueError`, very
# large logits (a softmax without the max subtracted overflows), inputs where the passes agree
# (spread exactly 0) and disagree, and a small network with real dropout masks.

# %% setup id=setup off-limits=trainart.dropout
import numpy as np

from trainart.grading.checks import check


def scripted_forward(logits_per_call, calls):
    """A forward that returns the given logits in turn and records every X it is called on."""
    def forward(X):
        calls.append(np.array(X, dtype=np.float64, copy=True))
        return logits_per_call[(len(calls) - 1) % len(logits_per_call)]
    return forward


def softmax_rows(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def as_mean_std(c, result, shape):
    """Unpack mc_dropout_predict's result: (mean, std), both float arrays of ``shape``."""
    mean, std = c.returns(result, "mc_dropout_predict", ("mean", "std"))
    for name, value in (("mean", mean), ("std", std)):
        c.true(np.shape(value) == shape,
               f"mc_dropout_predict returned {name} of shape {np.shape(value)}, expected {shape}")
    mean, std = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)
    c.true(np.all(np.isfinite(mean)) and np.all(np.isfinite(std)),
           "mc_dropout_predict returned NaN or inf")
    return mean, std


# %% solution id=mc_dropout_predict
def mc_dropout_predict(forward, X, n_samples):
    """Mean and std of the softmax probabilities of n_samples stochastic passes forward(X)."""
    ### BEGIN SOLUTION
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) \
            or n_samples < 1:
        raise ValueError(f"mc_dropout_predict: n_samples must be an integer >= 1, "
                         f"got {n_samples!r}")
    probs = []
    for _ in range(n_samples):
        logits = np.asarray(forward(X), dtype=np.float64)
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))  # the max first: no overflow
        probs.append(exp / exp.sum(axis=1, keepdims=True))
    probs = np.stack(probs)  # (T, N, K)
    return probs.mean(axis=0), probs.std(axis=0)
    ### END SOLUTION


# %% solution id=predictive_entropy
def predictive_entropy(probs):
    """H = -sum_k p log p for every row of probs, with 0 log 0 = 0."""
    ### BEGIN SOLUTION
    p = np.asarray(probs, dtype=np.float64)
    safe = np.where(p > 0, p, 1.0)  # log(1) = 0 where p = 0
    return -np.sum(p * np.log(safe), axis=1)
    ### END SOLUTION


# %% check id=mean_of_probabilities points=2
with check("the mean and std of the passes' softmax probabilities, not of their logits") as c:
    rng = np.random.default_rng(301)
    logits = [3.0 * rng.standard_normal((5, 4)) for _ in range(7)]
    calls = []
    X = rng.standard_normal((5, 3))
    mean, std = as_mean_std(c, mc_dropout_predict(scripted_forward(logits, calls), X, 7),
                            (5, 4))
    probs = np.stack([softmax_rows(z) for z in logits])
    c.close(mean, probs.mean(axis=0), rtol=1e-12, atol=1e-15, name="mean")
    c.close(std, probs.std(axis=0), rtol=1e-10, atol=1e-15, name="std (ddof=0)")

# %% check id=calls_forward points=1
with check("forward is called exactly n_samples times, on X") as c:
    rng = np.random.default_rng(302)
    logits = [rng.standard_normal((2, 3)) for _ in range(4)]
    X = rng.standard_normal((2, 6))
    for n in (1, 4, 11):
        calls = []
        as_mean_std(c, mc_dropout_predict(scripted_forward(logits, calls), X, n), (2, 3))
        c.true(len(calls) == n, f"n_samples={n}: forward was called {len(calls)} times")
        c.true(all(np.array_equal(x, X) for x in calls), "forward must be called on X")

# %% check id=entropy points=2
with check("predictive entropy: log K for uniform rows, 0 for one-hot rows, the formula else") as c:
    K = 5
    probs = np.vstack([np.full(K, 1.0 / K), np.eye(K)[2],
                       np.random.default_rng(303).dirichlet(np.ones(K), size=4)])
    H = np.asarray(predictive_entropy(probs), dtype=np.float64)
    c.true(H.shape == (6,), f"predictive_entropy returned shape {H.shape}, expected (6,)")
    c.true(np.all(np.isfinite(H)), "predictive_entropy returned NaN or inf (0 log 0 = 0)")
    c.close(H[0], np.log(K), rtol=1e-12, name="entropy of the uniform row")
    c.close(H[1], 0.0, rtol=0.0, atol=0.0, name="entropy of a one-hot row")
    p = probs[2:]
    c.close(H[2:], -np.sum(p * np.log(p), axis=1), rtol=1e-12, name="entropy of random rows")

# %% check id=bad_n_samples points=1 hidden
with check("ValueError for n_samples that is not an integer >= 1") as c:
    logits = [np.zeros((1, 2))]
    for n in (0, -3, 2.5):
        try:
            mc_dropout_predict(scripted_forward(logits, []), np.zeros((1, 1)), n)
        except ValueError:
            continue
        c.true(False, f"mc_dropout_predict(..., n_samples={n!r}) returned instead of raising "
                      f"ValueError")

# %% check id=large_logits points=1 hidden
with check("very large logits give finite probabilities (subtract the max first)") as c:
    logits = [np.array([[1000.0, 0.0, -1000.0], [800.0, 801.0, 0.0]]),
              np.array([[0.0, 1000.0, 0.0], [801.0, 800.0, 0.0]])]
    forward = scripted_forward(logits, [])
    mean, std = as_mean_std(c, mc_dropout_predict(forward, np.zeros((2, 1)), 2), (2, 3))
    probs = np.stack([softmax_rows(z) for z in logits])
    c.close(mean, probs.mean(axis=0), rtol=1e-12, atol=1e-15, name="mean")
    c.close(std, probs.std(axis=0), rtol=1e-10, atol=1e-15, name="std")

# %% check id=agreement points=1 hidden
with check("inputs where every pass agrees have spread exactly 0; the others do not") as c:
    rng = np.random.default_rng(304)
    fixed = rng.standard_normal(4)
    logits = [np.vstack([fixed, rng.standard_normal(4)]) for _ in range(6)]
    forward = scripted_forward(logits, [])
    mean, std = as_mean_std(c, mc_dropout_predict(forward, np.zeros((2, 1)), 6), (2, 4))
    c.close(std[0], np.zeros(4), rtol=0.0, atol=1e-15, name="std of the row all passes agree on")
    c.true(np.all(std[1] > 1e-3), "the row the passes disagree on must have a positive spread")
    H = np.asarray(predictive_entropy(mean), dtype=np.float64)
    c.close(H, -np.sum(mean * np.log(mean), axis=1), rtol=1e-12,
            name="entropy of the Monte-Carlo mean")

# %% check id=real_network points=2 hidden
with check("a small network with real dropout masks: the mean of 1000 passes, close to the "
           "dropout-off prediction") as c:
    rng = np.random.default_rng(305)
    W1, W2 = rng.standard_normal((8, 32)) / np.sqrt(8), rng.standard_normal((32, 3)) / np.sqrt(32)
    X = rng.standard_normal((10, 8))
    masks = np.random.default_rng(306)
    p = 0.5

    def noisy_forward(x):
        h = np.tanh(np.asarray(x) @ W1)
        return (h * (masks.random(h.shape) >= p) / (1 - p)) @ W2

    mean, std = as_mean_std(c, mc_dropout_predict(noisy_forward, X, 1000), (10, 3))
    masks = np.random.default_rng(306)
    expected = np.stack([softmax_rows(noisy_forward(X)) for _ in range(1000)])
    c.close(mean, expected.mean(axis=0), rtol=1e-10, atol=1e-14,
            name="mean over the same 1000 masks")
    c.close(std, expected.std(axis=0), rtol=1e-8, atol=1e-14, name="std over the same masks")
    off = softmax_rows(np.tanh(X @ W1) @ W2)
    c.within(float(np.abs(mean - off).max()), 0.0, 0.1,
             name="largest gap between the Monte-Carlo mean and the dropout-off prediction")
