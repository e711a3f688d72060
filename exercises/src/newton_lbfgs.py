# %% [markdown]
# # Exercise: The L-BFGS two-loop recursion (L-BFGS 두 루프 재귀)
#
# Newton's method needs the Hessian $H$ of the loss and a solve with it: $m^2$ numbers and
# $O(m^3)$ work for $m$ parameters, hopeless for a network with millions of weights (the
# lecture notes, 001, say so). Quasi-Newton methods (준뉴턴 방법) build an approximation of the
# **inverse** Hessian from the gradients they have already seen. After a step $s_k = x_{k+1} -
# x_k$ the gradient changed by $y_k = \nabla f(x_{k+1}) - \nabla f(x_k)$; for a quadratic with
# Hessian $A$, $y_k = A s_k$ exactly. BFGS (Broyden, Fletcher, Goldfarb, Shanno) keeps a matrix
# $H_k \approx A^{-1}$ and corrects it after every step so that it maps $y_k$ back to $s_k$, the
# secant condition (할선 조건)
#
# $$
# H_{k+1}\, y_k = s_k .
# $$
#
# L-BFGS (limited-memory BFGS) never forms the matrix: it keeps only the last few pairs
# $(s_i, y_i)$ and computes the product $H_k g$ directly from them, in $O(m \cdot \text{pairs})$
# work, with the two-loop recursion (두 루프 재귀) of Nocedal (1980).
#
# ## The BFGS update and what the two loops compute
#
# With $\rho_i = 1 / (y_i^\top s_i)$ (positive when the pairs satisfy the curvature condition
# $s_i^\top y_i > 0$), one BFGS update of the inverse Hessian is
#
# $$
# H \leftarrow (I - \rho_i s_i y_i^\top)\, H\, (I - \rho_i y_i s_i^\top) + \rho_i s_i s_i^\top .
# $$
#
# L-BFGS starts each time from a scaled identity $H^0 = \gamma I$ and applies the updates for
# the stored pairs, **oldest first**. The scale is taken from the **newest** pair $(s, y)$
# (Nocedal and Wright, *Numerical Optimization*, eq. 7.20):
#
# $$
# \gamma = \frac{s^\top y}{y^\top y} ,
# $$
#
# an estimate of the inverse curvature along the last step. Then $H_k g$ equals what the two
# loops compute, for pairs $i = 0, \dots, k-1$ (index $k-1$ is the newest):
#
# $$
# \begin{aligned}
# &q \leftarrow g \\
# &\textbf{for } i = k-1, \dots, 0 \text{ (newest to oldest)}: \quad
#   \alpha_i = \rho_i\, s_i^\top q, \quad q \leftarrow q - \alpha_i\, y_i \\
# &r \leftarrow \gamma\, q \\
# &\textbf{for } i = 0, \dots, k-1 \text{ (oldest to newest)}: \quad
#   \beta = \rho_i\, y_i^\top r, \quad r \leftarrow r + s_i\, (\alpha_i - \beta) \\
# &\textbf{return } r \;(= H_k\, g)
# \end{aligned}
# $$
#
# With no pairs at all there is nothing to learn from: return $g$ itself ($H^0 = I$). An L-BFGS
# step is then $x \leftarrow x - \alpha\, H_k \nabla f(x)$ with a line search for $\alpha$;
# `torch.optim.LBFGS` and `scipy.optimize.minimize(method="L-BFGS-B")` work this way.
#
# ## Your task
#
# Write `two_loop(g, s_list, y_list)`:
#
# * `g`: a NumPy float array of shape `(n,)`;
# * `s_list`, `y_list`: lists of the same length $k \ge 0$ of arrays of shape `(n,)`, **oldest
#   pair first** (`s_list[-1]`, `y_list[-1]` is the newest pair); every pair has
#   $s_i^\top y_i > 0$;
# * returns $H_k g$ as a new array of shape `(n,)`, with $H^0 = \gamma I$ and $\gamma$ from the
#   newest pair; when the lists are empty, a copy of `g`.
#
# Do not change `g`, the lists or the arrays in them.
#
# ## What the checks test
#
# The checks compare your result with the explicit matrix $H_k$ built by applying the BFGS
# update above to $\gamma I$ for every pair, oldest first, times $g$, with a relative tolerance of
# $10^{-10}$. The visible checks below test that comparison for three pairs in 6 dimensions,
# that no pairs return $g$, and the secant condition for the newest pair: `two_loop(y, ...)`
# with the newest $y$ gives the newest $s$. The grader also runs hidden checks of the same
# kind: more pairs in more dimensions (pairs from a non-quadratic function), and an L-BFGS
# loop built on your function (memory 5, exact line search) that must minimize a quadratic in
# 20 dimensions, leaving `g` and the lists it passes unchanged.

# %% setup id=setup off-limits=trainart.newton.quasi_newton
import numpy as np

from trainart.grading.checks import check


def explicit_inverse_hessian(s_list, y_list):
    """H_k as a matrix: gamma * I, then one BFGS update per pair, oldest first."""
    n = len(s_list[0])
    s, y = s_list[-1], y_list[-1]
    H = (s @ y) / (y @ y) * np.eye(n)
    for s, y in zip(s_list, y_list):
        rho = 1.0 / (y @ s)
        V = np.eye(n) - rho * np.outer(y, s)
        H = V.T @ H @ V + rho * np.outer(s, s)
    return H


def quadratic_pairs(seed, n, k, kappa=20.0):
    """k seeded pairs (s, y = A s) for a random SPD A: s'y > 0 for every pair."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    A = q @ np.diag(np.geomspace(1.0, kappa, n)) @ q.T
    s_list = [rng.standard_normal(n) for _ in range(k)]
    return s_list, [A @ s for s in s_list]


def as_vector(c, r, n):
    """two_loop's result as a float array, failing check c unless it has shape (n,)."""
    c.true(np.shape(r) == (n,), f"two_loop returned shape {np.shape(r)}, g has shape {(n,)}")
    r = np.asarray(r, dtype=np.float64)
    c.true(np.all(np.isfinite(r)), "two_loop returned NaN or inf")
    return r


# %% solution id=two_loop
def two_loop(g, s_list, y_list):
    """H_k g by the L-BFGS two-loop recursion, H0 = (s'y / y'y) I from the newest pair."""
    ### BEGIN SOLUTION
    q = np.array(g, dtype=np.float64)
    if not s_list:
        return q
    rhos = [1.0 / (y @ s) for s, y in zip(s_list, y_list)]
    alphas = [0.0] * len(s_list)
    for i in reversed(range(len(s_list))):
        alphas[i] = rhos[i] * (s_list[i] @ q)
        q = q - alphas[i] * y_list[i]
    s_new, y_new = s_list[-1], y_list[-1]
    r = (s_new @ y_new) / (y_new @ y_new) * q
    for i in range(len(s_list)):
        beta = rhos[i] * (y_list[i] @ r)
        r = r + s_list[i] * (alphas[i] - beta)
    return r
    ### END SOLUTION


# %% check id=matches_bfgs_matrix points=3
with check("two_loop(g) equals the explicit BFGS inverse Hessian times g (3 pairs, 6-D)") as c:
    s_list, y_list = quadratic_pairs(131, 6, 3)
    H = explicit_inverse_hessian(s_list, y_list)
    for g in np.random.default_rng(132).standard_normal((3, 6)):
        r = as_vector(c, two_loop(g.copy(), [s.copy() for s in s_list],
                                  [y.copy() for y in y_list]), 6)
        c.close(r, H @ g, rtol=1e-10, atol=1e-12, name="two_loop(g) for 3 pairs")
    for k in (1, 2):  # fewer pairs: gamma comes from the newest of them
        H = explicit_inverse_hessian(s_list[:k], y_list[:k])
        r = as_vector(c, two_loop(g.copy(), s_list[:k], y_list[:k]), 6)
        c.close(r, H @ g, rtol=1e-10, atol=1e-12, name=f"two_loop(g) for {k} pair(s)")

# %% check id=no_pairs points=1
with check("with no pairs two_loop returns g") as c:
    g = np.random.default_rng(133).standard_normal(7)
    r = as_vector(c, two_loop(g.copy(), [], []), 7)
    c.close(r, g, rtol=0.0, atol=0.0, name="two_loop(g, [], [])")

# %% check id=secant points=2
with check("the secant condition: two_loop(y, ...) gives s for the newest pair") as c:
    for k in (1, 2, 4):
        s_list, y_list = quadratic_pairs(134 + k, 8, k)
        r = as_vector(c, two_loop(y_list[-1].copy(), s_list, y_list), 8)
        c.close(r, s_list[-1], rtol=1e-10, atol=1e-12, name=f"H y for the newest of {k} pairs")

# %% check id=more_pairs points=2 hidden
with check("more pairs in more dimensions, from a non-quadratic function, match the matrix") as c:
    rng = np.random.default_rng(140)
    n = 20
    X = rng.standard_normal((100, n))
    labels = rng.integers(0, 2, 100)

    def logistic_grad(w):  # logistic regression with a little L2: s'y > 0 for every step
        p = 1.0 / (1.0 + np.exp(-(X @ w)))
        return X.T @ (p - labels) / 100 + 0.1 * w

    w = rng.standard_normal(n)
    s_list, y_list = [], []
    for _ in range(10):
        s = 0.5 * rng.standard_normal(n)
        s_list.append(s)
        y_list.append(logistic_grad(w + s) - logistic_grad(w))
        w = w + s
    for k in (1, 3, 5, 10):
        H = explicit_inverse_hessian(s_list[-k:], y_list[-k:])
        for g in rng.standard_normal((2, n)):
            r = as_vector(c, two_loop(g.copy(), s_list[-k:], y_list[-k:]), n)
            c.close(r, H @ g, rtol=1e-9, atol=1e-12, name=f"two_loop(g) for {k} pairs in {n}-D")

# %% check id=lbfgs_loop points=2 hidden
with check("an L-BFGS loop on two_loop minimizes a 20-D quadratic; inputs stay unchanged") as c:
    rng = np.random.default_rng(141)
    n, memory = 20, 5
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    A = q @ np.diag(np.geomspace(1.0, 100.0, n)) @ q.T
    b = rng.standard_normal(n)
    x = 5 * rng.standard_normal(n)
    s_list, y_list = [], []
    g = A @ x - b
    for _ in range(80):
        if np.linalg.norm(g) <= 1e-10:
            break
        kept = [s.copy() for s in s_list], [y.copy() for y in y_list]
        given = list(s_list), list(y_list)
        g_given = g.copy()
        p = -as_vector(c, two_loop(g, s_list, y_list), n)
        c.true(np.array_equal(g, g_given), "two_loop changed g in place")
        c.true(all(u is v for u, v in zip(given[0] + given[1], s_list + y_list))
               and len(given[0]) == len(s_list),
               "two_loop changed the lists it was given")
        c.true(all(np.array_equal(u, v) for u, v in zip(kept[0] + kept[1], s_list + y_list)),
               "two_loop changed an array of s_list or y_list in place")
        c.true(g @ p < 0, "-two_loop(g) is not a descent direction")
        alpha = -(g @ p) / (p @ A @ p)  # the exact line search on a quadratic
        s = alpha * p
        x = x + s
        g_new = A @ x - b
        s_list.append(s)
        y_list.append(g_new - g)
        g = g_new
        if len(s_list) > memory:
            s_list.pop(0)
            y_list.pop(0)
    c.close(x, np.linalg.solve(A, b), rtol=1e-8, atol=1e-8,
            name="the point after the L-BFGS loop")
