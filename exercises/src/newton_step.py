# %% [markdown]
# # Exercise: Newton's method with a line search (뉴턴 방법)
#
# Gradient descent uses only the slope. Newton's method (뉴턴 방법) also uses the curvature:
# it models the function near $x$ by its second-order Taylor expansion (테일러 전개),
#
# $$
# f(x + p) \approx f(x) + g^\top p + \tfrac12\, p^\top H p ,
# $$
#
# with the gradient $g = \nabla f(x)$ and the Hessian (헤세 행렬) $H = \nabla^2 f(x)$, and jumps
# to the minimum of that model. Setting the model's gradient $g + Hp$ to zero gives the
# **Newton step** $p$ as the solution of a linear system:
#
# $$
# H\, p = -g .
# $$
#
# On a quadratic the model is exact and one step lands on the minimum; near a minimum of a
# smooth function the method converges quadratically (the number of correct digits doubles
# every step). The lecture notes (001) name its price: the Hessian has $m^2$ entries for $m$
# parameters, and solving with it costs $O(m^3)$, which is why deep learning uses
# quasi-Newton approximations such as L-BFGS instead (the exercise `newton_lbfgs`).
#
# ## Solve, do not invert
#
# The notes write the step as $p = -H^{-1} g$. Compute it with `np.linalg.solve(H, -g)`, not
# with `np.linalg.inv(H) @ g`: solving is about three times cheaper than inverting and more
# accurate (the inverse is never needed, only its product with one vector).
#
# ## When the Hessian is not positive definite
#
# The Newton step points downhill ($g^\top p = -g^\top H^{-1} g < 0$) only when $H$ is
# positive definite (양의 정부호). Far from a minimum $H$ can have negative eigenvalues (near a
# saddle point, or on the Rosenbrock function's outer slopes), and then $p$ can point uphill or
# towards a maximum. The rule in this exercise:
#
# * `newton_direction(g, H)` raises `ValueError` when $H$ is not positive definite. Test it with
#   a Cholesky factorization (숄레스키 분해): `np.linalg.cholesky(H)` succeeds exactly for
#   positive definite $H$ and raises `np.linalg.LinAlgError` otherwise (a zero eigenvalue
#   counts as not positive definite).
# * The minimizer then falls back to the steepest-descent direction $p = -g$ for that step.
#
# ## Damped Newton with backtracking (감쇠 뉴턴 방법, 백트래킹)
#
# Far from the minimum the full step $x + p$ can overshoot. The damped method takes
# $x \leftarrow x + \alpha p$ with the step size $\alpha$ found by backtracking: start with
# $\alpha = 1$ and halve it while the Armijo condition (아르미호 조건, sufficient decrease) fails,
#
# $$
# f(x + \alpha p) \le f(x) + c_1\, \alpha\, g^\top p , \qquad c_1 = 10^{-4} .
# $$
#
# Precisely, starting from $x_0$, for at most `max_iter` iterations:
#
# 1. $g = \nabla f(x)$; if $\|g\|_2 \le$ `tol`, stop;
# 2. $p$ = `newton_direction(g, H)` with $H = \nabla^2 f(x)$, or $p = -g$ if it raises
#    `ValueError`;
# 3. $\alpha = 1$; while $f(x + \alpha p) > f(x) + c_1 \alpha\, g^\top p$: $\alpha \leftarrow
#    \alpha / 2$ (give up after 50 halvings and take that tiny step);
# 4. $x \leftarrow x + \alpha p$, and append the new $x$ to the path.
#
# Near the minimum the full step $\alpha = 1$ passes the test, and the fast convergence of
# Newton's method is kept.
#
# ## Your task
#
# Write two functions (one cell each):
#
# * `newton_direction(g, H)`: `g` of shape `(n,)`, `H` a symmetric `(n, n)` array; return the
#   Newton step $p$ of shape `(n,)`; raise `ValueError` when `H` is not positive definite.
# * `damped_newton(f, grad, hess, x0, tol=1e-8, max_iter=100)`: `f`, `grad`, `hess` are
#   functions of a point (returning a float, an `(n,)` and an `(n, n)` array); return the pair
#   `(x, path)`: the last point, and the list of all points visited as arrays, `x0` first (so
#   `path[-1]` is `x`, and `len(path) - 1` is the number of steps taken).
#
# ## What the checks test
#
# The visible checks below test that one Newton step from any point solves a quadratic
# exactly (to $10^{-10}$); the `ValueError` for indefinite, negative definite and singular
# matrices; and that `damped_newton` reaches the minimizer of the 2-D Rosenbrock function that
# `scipy.optimize.minimize(method="trust-exact")` finds, with every step satisfying the Armijo
# condition. The grader also runs hidden checks of the same kind: your whole path compared
# point by point with a reference implementation of the steps above (on Rosenbrock from
# several starts, one of them with an indefinite Hessian, and on a function where the Armijo
# condition, not just a decrease, decides the step); the fallback to $-g$ on a double-well
# function starting near its maximum; and that a quadratic is solved in exactly one step.

# %% setup id=setup off-limits=trainart.newton.newton,trainart.newton.linesearch
import numpy as np
from scipy.optimize import rosen, rosen_der, rosen_hess

from trainart.grading.checks import check


def quadratic(seed, n, kappa=50.0):
    """f(x) = x'Ax/2 - b'x with a seeded SPD A of condition number kappa: (f, grad, hess, A, b)."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    A = q @ np.diag(np.geomspace(1.0, kappa, n)) @ q.T
    A = (A + A.T) / 2
    b = rng.standard_normal(n)
    return (lambda x: 0.5 * x @ A @ x - b @ x), (lambda x: A @ x - b), (lambda x: A), A, b


def as_path(c, result):
    """Unpack damped_newton's result; the path as a list of float arrays."""
    x, path = c.returns(result, "damped_newton", ("x", "path"))
    c.true(isinstance(path, (list, tuple)) and len(path) >= 1,
           "path must be a list of the points visited, x0 first")
    path = [np.asarray(p, dtype=np.float64) for p in path]
    c.true(np.array_equal(np.asarray(x, dtype=np.float64), path[-1]),
           "x must be the last point of the path")
    return path[-1], path


# %% solution id=newton_direction
def newton_direction(g, H):
    """The Newton step p with H p = -g; ValueError when H is not positive definite."""
    ### BEGIN SOLUTION
    g = np.asarray(g, dtype=np.float64)
    hessian = np.asarray(H, dtype=np.float64)
    try:
        np.linalg.cholesky(hessian)  # succeeds exactly for positive definite matrices
    except np.linalg.LinAlgError:
        raise ValueError("newton_direction: H is not positive definite") from None
    return np.linalg.solve(hessian, -g)
    ### END SOLUTION


# %% solution id=damped_newton
def damped_newton(f, grad, hess, x0, tol=1e-8, max_iter=100):
    """Damped Newton with Armijo backtracking (c1 = 1e-4, halving); returns (x, path)."""
    ### BEGIN SOLUTION
    c1 = 1e-4
    x = np.array(x0, dtype=np.float64)
    path = [x.copy()]
    for _ in range(max_iter):
        g = grad(x)
        if np.linalg.norm(g) <= tol:
            break
        try:
            p = newton_direction(g, hess(x))
        except ValueError:  # H is not positive definite: steepest descent
            p = -g
        fx, slope, alpha = f(x), g @ p, 1.0
        for _ in range(50):
            if f(x + alpha * p) <= fx + c1 * alpha * slope:
                break
            alpha /= 2
        x = x + alpha * p
        path.append(x.copy())
    return x, path
    ### END SOLUTION


# %% check id=quadratic_exact points=2
with check("one Newton step from any point lands on the minimum of a quadratic") as c:
    for seed, n in ((121, 2), (122, 5), (123, 12)):
        _, grad_q, _, A, b = quadratic(seed, n)
        minimum = np.linalg.solve(A, b)
        for x in np.random.default_rng(seed + 100).standard_normal((3, n)) * 5:
            p = newton_direction(grad_q(x), A.copy())
            c.true(np.shape(p) == (n,), f"newton_direction returned shape {np.shape(p)}, "
                                        f"g has shape {(n,)}")
            c.close(x + np.asarray(p, dtype=np.float64), minimum, rtol=1e-10, atol=1e-10,
                    name=f"x + p for a quadratic in {n} dimensions")

# %% check id=not_positive_definite points=1
with check("newton_direction raises ValueError when H is not positive definite") as c:
    g = np.array([1.0, -2.0, 0.5])
    cases = {"indefinite": np.array([[2.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 3.0]]),
             "negative definite": -np.eye(3) * 2.0,
             "singular (an eigenvalue 0)": np.diag([2.0, 0.0, 1.0]),
             "indefinite, full": np.array([[1.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0]])}
    for what, H in cases.items():
        try:
            newton_direction(g.copy(), H.copy())
        except ValueError:
            continue
        c.true(False, f"newton_direction returned instead of raising ValueError for an H "
                      f"that is {what}")

# %% check id=rosenbrock points=2
with check("damped_newton reaches scipy's minimizer of Rosenbrock; every step is Armijo") as c:
    from scipy.optimize import minimize

    x0 = np.array([-1.2, 1.0])
    expected = minimize(rosen, x0, method="trust-exact", jac=rosen_der, hess=rosen_hess,
                        options={"gtol": 1e-10}).x
    x, path = as_path(c, damped_newton(rosen, rosen_der, rosen_hess, x0.copy()))
    c.close(x, expected, rtol=1e-7, atol=1e-7, name="the last point")
    c.true(np.linalg.norm(rosen_der(x)) <= 1e-8, "the last point's gradient norm exceeds tol")
    c.true(len(path) <= 101, "more than max_iter steps were taken")
    for k in range(len(path) - 1):
        step = path[k + 1] - path[k]
        c.true(rosen(path[k + 1]) <= rosen(path[k]) + 1e-4 * rosen_der(path[k]) @ step,
               f"step {k + 1} does not satisfy the Armijo condition")

# %% check id=path_matches_reference points=2 hidden
with check("the whole path matches the reference damped Newton point by point") as c:
    def ref_newton(f, grad, hess, x0, tol=1e-8, max_iter=100):
        x = np.array(x0, dtype=np.float64)
        path = [x.copy()]
        for _ in range(max_iter):
            g = grad(x)
            if np.linalg.norm(g) <= tol:
                break
            H = hess(x)
            if np.all(np.linalg.eigvalsh(H) > 0):
                p = np.linalg.solve(H, -g)
            else:
                p = -g
            alpha = 1.0
            for _ in range(50):
                if f(x + alpha * p) <= f(x) + 1e-4 * alpha * (g @ p):
                    break
                alpha /= 2
            x = x + alpha * p
            path.append(x.copy())
        return path

    def pseudo_huber(x):  # the Newton step overshoots to about -x^3: Armijo decides
        return float(np.sum(np.sqrt(1.0 + x**2)))

    problems = [("Rosenbrock from (-1.2, 1)", rosen, rosen_der, rosen_hess, [-1.2, 1.0]),
                ("Rosenbrock from (0, 1), H indefinite", rosen, rosen_der, rosen_hess, [0.0, 1.0]),
                ("Rosenbrock from (2, 2)", rosen, rosen_der, rosen_hess, [2.0, 2.0]),
                ("pseudo-Huber", pseudo_huber, lambda x: x / np.sqrt(1.0 + x**2),
                 lambda x: np.diag((1.0 + x**2) ** -1.5), [0.99999, -0.99998])]
    for what, f, grad, hess, x0 in problems:
        _, path = as_path(c, damped_newton(f, grad, hess, np.array(x0)))
        expected = ref_newton(f, grad, hess, x0)
        for k in range(len(path) - 1):  # the first step that is not Armijo says why
            x, step = np.asarray(path[k], dtype=float), np.asarray(path[k + 1] - path[k])
            c.true(f(x + step) <= f(x) + 1e-4 * (grad(x) @ step) + 1e-12 * abs(f(x)),
                   f"{what}: step {k + 1} of your path does not decrease f sufficiently: "
                   f"Armijo's condition f(x + alpha p) <= f(x) + 1e-4 alpha g.p is required "
                   f"(a plain decrease is not enough); halve alpha from 1 until it holds")
        for k, (mine, ref) in enumerate(zip(path, expected)):
            c.close(mine, ref, rtol=1e-8, atol=1e-10, name=f"{what}: point {k} of the path")
        c.true(len(path) == len(expected),
               f"{what}: your path has {len(path)} points, which is not the reference's count "
               f"(stop as soon as ||g|| <= tol; backtrack with Armijo's sufficient decrease)")

# %% check id=fallback_double_well points=2 hidden
with check("a non-positive-definite Hessian falls back to -g: the double well from x = 0.1") as c:
    def well(x):
        return float(x[0] ** 4 / 4 - x[0] ** 2 / 2 + x[1] ** 2 / 2)

    def well_grad(x):
        return np.array([x[0] ** 3 - x[0], x[1]])

    def well_hess(x):
        return np.array([[3 * x[0] ** 2 - 1, 0.0], [0.0, 1.0]])

    for start, minimum in (((0.1, 1.0), [1.0, 0.0]), ((-0.3, -2.0), [-1.0, 0.0])):
        x0 = np.array(start)
        x, path = as_path(c, damped_newton(well, well_grad, well_hess, x0.copy()))
        c.true(len(path) >= 2, "no step was taken")
        first = path[1] - path[0]
        g0 = well_grad(x0)
        c.close(first / np.linalg.norm(first), -g0 / np.linalg.norm(g0), rtol=1e-10, atol=1e-12,
                name=f"direction of the first step from {start} (H is indefinite there)")
        c.close(x, minimum, rtol=1e-7, atol=1e-7, name=f"the last point from {start}")
        values = [well(p) for p in path]
        c.true(all(b <= a for a, b in zip(values, values[1:])),
               f"from {start}: f increased along the path")

# %% check id=quadratic_one_step points=1 hidden
with check("damped_newton solves a quadratic in exactly one full step") as c:
    f_q, grad_q, hess_q, A, b = quadratic(124, 6, kappa=1e3)
    x0 = 10 * np.random.default_rng(125).standard_normal(6)
    x, path = as_path(c, damped_newton(f_q, grad_q, hess_q, x0.copy(), tol=1e-6))
    c.true(len(path) == 2, f"your path has {len(path)} points; one step should be enough")
    c.close(x, np.linalg.solve(A, b), rtol=1e-9, atol=1e-9, name="the point after one step")
    x, path = as_path(c, damped_newton(f_q, grad_q, hess_q, x0.copy(), max_iter=0))
    c.true(len(path) == 1 and np.array_equal(x, x0), "with max_iter=0 no step may be taken")
