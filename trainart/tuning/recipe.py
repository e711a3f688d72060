r"""The training recipe as checks: before tuning anything, make sure training *works*.

Karpathy's *A Recipe for Training Neural Networks* (2019) and CS231n's babysitting advice,
turned into functions:

1. :func:`expected_initial_loss` / :func:`initial_loss`: with small random weights a
   :math:`C`-class softmax predicts about :math:`1/C` for every class, so the first loss is
   :math:`-\log(1/C) = \ln C` (2.303 for 10 classes). Much more means a bad initialization
   (over-confident wrong predictions), a wrong loss or mislabelled data.
2. :func:`overfit_small_sample`: a network that cannot reach 100 % training accuracy on a
   hundred examples has a bug (or far too little capacity): fix that before regularizing.
3. :func:`lr_range_test`: increase the learning rate exponentially, one minibatch at a
   time, and watch the loss (Smith, 2017): it falls, flattens, then explodes. A good rate is
   well below the explosion.
4. :func:`diagnose_curves`: read the shape of the loss curves (diverging, too high or too
   low a learning rate, bad initialization, over- or underfitting, healthy);
   :func:`curve_gallery` draws a synthetic example of each shape.

Torch is imported inside the functions that need it.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .._checks import integer, positive, positive_int, unit_interval

__all__ = [
    "expected_initial_loss",
    "initial_loss",
    "overfit_small_sample",
    "lr_range_test",
    "LRFinderResult",
    "diagnose_curves",
    "Diagnosis",
    "curve_gallery",
    "DIAGNOSES",
]

#: The labels :func:`diagnose_curves` returns, in the order its rules are checked.
DIAGNOSES = ("diverging", "bad initialization", "lr too high", "lr too low", "overfitting",
             "underfitting", "healthy")


# ---------------------------------------------------------------------------------------
# 1. The initial loss
# ---------------------------------------------------------------------------------------


def expected_initial_loss(num_classes: int) -> float:
    r"""The cross-entropy of a uniform prediction over :math:`C` classes,

    .. math::

        L_0 = -\log \frac1C = \ln C,

    what a freshly initialized classifier (small logits) should show before training.

    Args:
        num_classes: :math:`C \ge 2`.

    Returns:
        :math:`\ln C` (2.3026 for 10 classes).
    """
    num_classes = integer("expected_initial_loss", "num_classes", num_classes, minimum=2)
    return math.log(num_classes)


def initial_loss(model, X, y) -> float:
    r"""Mean cross-entropy of ``model`` on ``(X, y)`` without training: compare it with
    :func:`expected_initial_loss`.

    Args:
        model: a ``torch.nn.Module`` returning logits (evaluated in eval mode, no grad), or
            any object with a ``loss(X, y)`` method (e.g.
            :class:`~trainart.models.SoftmaxRegression`).
        X: inputs (NumPy array or tensor), ``(n, d)``.
        y: integer labels ``(n,)``.

    Returns:
        The loss, a float.
    """
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        torch = None
    if torch is not None and isinstance(model, torch.nn.Module):
        from ..models import evaluate

        params = list(model.parameters())
        dtype = params[0].dtype if params else torch.float32
        Xt = X if isinstance(X, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(X))
        yt = y if isinstance(y, torch.Tensor) else \
            torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64))
        if len(yt) == 0:
            raise ValueError("initial_loss: X and y must not be empty")
        return float(evaluate(model, Xt.to(dtype), yt.long())[0])
    if hasattr(model, "loss"):
        return float(model.loss(X, y))
    raise TypeError(f"initial_loss: model must be a torch.nn.Module or have a loss(X, y) "
                    f"method, got {type(model).__name__}")


# ---------------------------------------------------------------------------------------
# 2. Overfit a small sample
# ---------------------------------------------------------------------------------------


def overfit_small_sample(model, optimizer, data, n: int = 100, epochs: int = 300,
                         seed: int = 0, batch_size: int | None = None,
                         stop_at: float | None = 1.0) -> dict:
    """Train on ``n`` training examples only, and check the network can memorize them.

    The first sanity check of the recipe: with regularization off, a correct pipeline drives
    the training loss towards 0 and the training accuracy to 1.0 on a tiny sample. If it
    cannot, look for a bug (labels shuffled apart from inputs, a missing ``zero_grad``, a
    wrong loss) before tuning anything.

    Args:
        model: a fresh ``torch.nn.Module`` (trained in place).
        optimizer: an optimizer on ``model.parameters()``.
        data: a :class:`~trainart.data.Dataset`; ``n`` examples of its training set are
            drawn without replacement with ``np.random.default_rng(seed)``.
        n: sample size.
        epochs: the most passes over the sample.
        seed: seed of the sample and of the training loop.
        batch_size: examples per step (default: the whole sample, full-batch).
        stop_at: stop as soon as the training accuracy reaches it (``None``: run all
            ``epochs``).

    Returns:
        :func:`~trainart.models.train_classifier`'s history with ``'train_eval_loss'`` and
        ``'train_acc'`` per epoch (on the sample, eval mode), plus ``'indices'``: the sample.
    """
    from ..data import Dataset
    from ..models import train_classifier

    if not isinstance(data, Dataset):
        raise TypeError(f"overfit_small_sample: data must be a Dataset, "
                        f"got {type(data).__name__}")
    n = positive_int("overfit_small_sample", "n", n)
    if n > len(data.y_train):
        raise ValueError(f"overfit_small_sample: n must be <= the {len(data.y_train)} "
                         f"training examples, got {n}")
    if batch_size is None:
        batch_size = n
    if stop_at is not None and not 0 < stop_at <= 1:
        raise ValueError(f"overfit_small_sample: stop_at must be in (0, 1] or None, "
                         f"got {stop_at!r}")
    idx = np.sort(np.random.default_rng(seed).choice(len(data.y_train), n, replace=False))
    Xs, ys = data.X_train[idx], data.y_train[idx]
    small = Dataset(Xs, ys, Xs, ys)

    def stop(epoch, history):
        return stop_at is not None and history["train_acc"][-1] >= stop_at

    history = train_classifier(model, optimizer, small, epochs, batch_size=batch_size,
                               seed=seed, eval_test=False, eval_train=True, callback=stop)
    history["indices"] = idx.tolist()
    return history


# ---------------------------------------------------------------------------------------
# 3. Learning-rate range test
# ---------------------------------------------------------------------------------------


def _is_module(obj) -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover
        return False
    return isinstance(obj, torch.nn.Module)


class LRFinderResult(NamedTuple):
    """What :func:`lr_range_test` measured.

    Attributes:
        lrs: the learning rate of each step (exponentially increasing).
        losses: the raw minibatch loss of each step.
        smoothed: the bias-corrected exponential moving average of ``losses``.
        suggestion: the rate at the smoothed loss's minimum divided by 10 (the classic
            rule, well below the explosion).
        steepest: the rate where the smoothed loss falls fastest per decade (Smith's
            choice; noisier).
        diverged_at: the rate at which the smoothed loss exploded (the test stopped), or
            ``None`` if it reached ``lr_max``.
    """

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    suggestion: float
    steepest: float
    diverged_at: float | None


def _set_lr(optimizer, lr: float) -> None:
    if hasattr(optimizer, "param_groups"):
        for group in optimizer.param_groups:
            group["lr"] = lr
    else:
        optimizer.lr = lr


def lr_range_test(make_model, data, lr_min: float = 1e-6, lr_max: float = 10.0,
                  steps: int = 100, seed: int = 0, beta: float = 0.98, batch_size: int = 64,
                  make_optimizer=None, diverge_factor: float = 4.0) -> LRFinderResult:
    r"""The learning-rate range test ("LR finder", Smith 2017): one short run whose
    learning rate grows exponentially, one minibatch per step,

    .. math::

        \eta_i = \eta_{\min} \left(\frac{\eta_{\max}}{\eta_{\min}}\right)^{i/(N-1)},
        \qquad i = 0, \dots, N-1,

    recording the minibatch loss :math:`\ell_i` and its bias-corrected moving average
    :math:`\bar\ell_i = a_i / (1 - \beta^{i+1})`, :math:`a_i = \beta a_{i-1} + (1-\beta)\ell_i`.
    The loss first barely moves (rate too small), then falls, then explodes; the test
    stops when :math:`\bar\ell_i > ` ``diverge_factor`` :math:`\times \min_{j \le i}
    \bar\ell_j` or a loss is not finite.

    Args:
        make_model: ``make_model() -> torch.nn.Module``, a fresh model (the test ruins it).
        data: a :class:`~trainart.data.Dataset` (training part used).
        lr_min, lr_max: the range, ``0 < lr_min < lr_max``.
        steps: number of steps :math:`N` (minibatches; epochs are reshuffled as needed).
        seed: seed of the minibatch order.
        beta: smoothing factor in ``[0, 1)``.
        batch_size: examples per step.
        make_optimizer: ``make_optimizer(params, lr)`` (default
            ``torch.optim.SGD(params, lr, momentum=0.9)``); a :mod:`trainart.optim`
            optimizer works too (its ``lr`` attribute is set).
        diverge_factor: explosion threshold, > 1.

    Returns:
        :class:`LRFinderResult`.

    Reference:
        L. N. Smith, *Cyclical Learning Rates for Training Neural Networks*, WACV 2017;
        fast.ai's ``lr_find``.
    """
    import torch
    import torch.nn.functional as F

    from ..data import Dataset, minibatches

    owner = "lr_range_test"
    if not callable(make_model) or _is_module(make_model):
        raise TypeError(f"{owner}: make_model must be a function returning a fresh model, "
                        f"got {type(make_model).__name__}")
    if not isinstance(data, Dataset):
        raise TypeError(f"{owner}: data must be a Dataset, got {type(data).__name__}")
    lr_min, lr_max = positive(owner, "lr_min", lr_min), positive(owner, "lr_max", lr_max)
    if not lr_min < lr_max:
        raise ValueError(f"{owner}: lr_min must be < lr_max, got {lr_min:g} >= {lr_max:g}")
    steps = positive_int(owner, "steps", steps)
    if steps < 2:
        raise ValueError(f"{owner}: steps must be an integer >= 2, got {steps}")
    beta = unit_interval(owner, "beta", beta)
    batch_size = positive_int(owner, "batch_size", batch_size)
    if not positive(owner, "diverge_factor", diverge_factor) > 1:
        raise ValueError(f"{owner}: diverge_factor must be > 1, got {diverge_factor!r}")

    model = make_model()
    params = [p for p in model.parameters() if p.requires_grad]
    dtype = params[0].dtype if params else torch.float32
    if make_optimizer is None:
        optimizer = torch.optim.SGD(params, lr=lr_min, momentum=0.9)
    else:
        optimizer = make_optimizer(params, lr_min)
    X = torch.from_numpy(np.ascontiguousarray(data.X_train)).to(dtype)
    y = torch.from_numpy(np.ascontiguousarray(data.y_train, dtype=np.int64))
    lrs_all = lr_min * (lr_max / lr_min) ** (np.arange(steps) / (steps - 1))

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    batches = iter(())
    lrs, losses, smoothed = [], [], []
    avg, best, diverged_at = 0.0, math.inf, None
    model.train()
    for i, lr in enumerate(lrs_all):
        idx = next(batches, None)
        if idx is None:
            batches = minibatches(len(y), batch_size, rng, drop_last=len(y) > batch_size)
            idx = next(batches)
        idx_t = torch.from_numpy(idx)
        _set_lr(optimizer, float(lr))
        optimizer.zero_grad()
        loss = F.cross_entropy(model(X[idx_t]), y[idx_t])
        value = loss.item()
        lrs.append(float(lr))
        losses.append(value)
        avg = beta * avg + (1 - beta) * value
        smooth = avg / (1 - beta ** (i + 1))
        smoothed.append(smooth)
        if not math.isfinite(smooth) or smooth > diverge_factor * best:
            diverged_at = float(lr)
            break
        best = min(best, smooth)
        loss.backward()
        optimizer.step()

    lrs_a, sm = np.array(lrs), np.array(smoothed)
    ok = np.isfinite(sm)
    if diverged_at is not None:
        ok[-1] = False  # the exploding step itself
    if not ok.any():
        raise ValueError(f"{owner}: the loss was not finite from the first step; lower lr_min")
    i_min = int(np.argmin(np.where(ok, sm, np.inf)))
    suggestion = max(lrs_a[i_min] / 10.0, lr_min)
    # steepest descent of the smoothed loss per decade, before its minimum
    if i_min >= 2:
        slope = np.gradient(sm[:i_min + 1], np.log10(lrs_a[:i_min + 1]))
        steepest = float(lrs_a[int(np.argmin(slope))])
    else:
        steepest = float(lrs_a[i_min])
    return LRFinderResult(lrs_a, np.array(losses), sm, float(suggestion), steepest, diverged_at)


# ---------------------------------------------------------------------------------------
# 4. Reading loss curves
# ---------------------------------------------------------------------------------------


class Diagnosis(NamedTuple):
    """A label among ``DIAGNOSES`` and the measurement behind it."""

    label: str
    reason: str


def _curve(owner: str, name: str, values, n: int | None = None) -> np.ndarray | None:
    if values is None:
        return None
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or len(arr) < 4:
        raise ValueError(f"{owner}: {name} must be a 1-D sequence of at least 4 values, "
                         f"got shape {arr.shape}")
    if n is not None and len(arr) != n:
        raise ValueError(f"{owner}: {name} must have as many values as train_loss ({n}), "
                         f"got {len(arr)}")
    return arr


def diagnose_curves(train_loss, val_loss=None, train_acc=None, val_acc=None,
                    num_classes: int | None = None) -> Diagnosis:
    r"""Name the shape of a training run's curves (one value per epoch, or per evaluation).

    The rules, checked in this order (:math:`L_t` the training loss, :math:`n` points,
    :math:`L_0` its first value):

    ``"diverging"``
        a non-finite loss, or the loss ends above its start or above 3 x its minimum, or
        (when ``num_classes`` is given) it starts above :math:`1.5 \ln C` and ends above
        the chance level :math:`\ln C`: a network whose weights blew up in the first epoch
        ends dead, flat at :math:`\ln C` or above, and its per-epoch curve looks like a
        hockey stick.
    ``"bad initialization"``
        a "hockey stick": :math:`L_0 > 3 L_k` with :math:`k = \max(1, n/25)` (most of the
        first loss is shed in the first steps), or, when ``num_classes`` is given,
        :math:`L_0 > 1.5 \ln C`.
    ``"lr too high"``
        a jagged curve: the std of :math:`L_{t+1} - L_t` over the second half exceeds
        :math:`0.02 L_0` (it bounces instead of settling).
    ``"lr too low"``
        still falling at a steady pace: the last quarter accounts for more than 10 % of the
        total drop (an exponential-looking decay has < 1 %).
    ``"overfitting"``
        the validation loss rose by > 10 % from its minimum (reached before the last 20 %)
        while the training loss kept falling, or the train-validation accuracy gap exceeds
        0.15.
    ``"underfitting"``
        a flat curve stuck high: the final loss is above :math:`0.4 L_0`, or the final
        training accuracy below 0.8.
    ``"healthy"``
        none of the above.

    These are heuristics for teaching (their thresholds fit :func:`curve_gallery` and
    typical per-epoch curves), not a substitute for looking at the plot.

    Args:
        train_loss: training loss per epoch.
        val_loss, train_acc, val_acc: optional curves of the same length.
        num_classes: enables the :math:`\ln C` check of the first loss.

    Returns:
        :class:`Diagnosis` ``(label, reason)``.
    """
    owner = "diagnose_curves"
    L = _curve(owner, "train_loss", train_loss)
    n = len(L)
    V = _curve(owner, "val_loss", val_loss, n)
    A = _curve(owner, "train_acc", train_acc, n)
    VA = _curve(owner, "val_acc", val_acc, n)

    # diverging
    if not np.all(np.isfinite(L)) or (V is not None and not np.all(np.isfinite(V))):
        bad = int(np.argmin(np.isfinite(L))) if not np.all(np.isfinite(L)) else None
        where = f" at point {bad}" if bad is not None else " (validation)"
        return Diagnosis("diverging", f"the loss is not finite{where}")
    first, last, low = L[0], L[-1], L.min()
    if last > first or last > 3 * low:
        return Diagnosis("diverging", f"the loss ends at {last:.3g}, above its start "
                                      f"{first:.3g} or 3 x its minimum {low:.3g}")
    chance = None if num_classes is None else expected_initial_loss(num_classes)
    if chance is not None and first > 1.5 * chance and last > chance:
        return Diagnosis("diverging", f"the loss jumped to {first:.3g} and ends at {last:.3g}, "
                                      f"worse than chance (ln C = {chance:.3g})")

    # bad initialization
    k = max(1, n // 25)
    if first > 3 * L[k]:
        return Diagnosis("bad initialization",
                         f"hockey stick: the loss falls from {first:.3g} to {L[k]:.3g} "
                         f"in {k} step(s)")
    if chance is not None and first > 1.5 * chance:
        return Diagnosis("bad initialization",
                         f"the first loss {first:.3g} is far above ln C = {chance:.3g}")

    # lr too high: jagged second half
    half = L[n // 2:]
    jitter = float(np.std(np.diff(half)))
    if jitter > 0.02 * first:
        return Diagnosis("lr too high", f"the loss bounces: step-to-step std {jitter:.3g} "
                                        f"> 2 % of the first loss {first:.3g}")

    # lr too low: still dropping steadily
    w = max(1, n // 10)
    end = float(np.mean(L[-w:]))
    q3 = 3 * n // 4
    q3_level = float(np.mean(L[max(0, q3 - w // 2): q3 - w // 2 + w]))
    drop = first - end
    if drop > 0 and (q3_level - end) / drop > 0.1:
        return Diagnosis("lr too low", f"still falling: the last quarter holds "
                                       f"{(q3_level - end) / drop:.0%} of the drop")

    # overfitting
    if V is not None:
        i_min = int(np.argmin(V))
        rise = V[-1] - V[i_min]
        if i_min < 0.8 * n and V[-1] > 1.1 * V[i_min] and L[-1] < L[i_min]:
            return Diagnosis("overfitting",
                             f"the validation loss rose {rise:.3g} from its minimum "
                             f"{V[i_min]:.3g} at point {i_min} while the training loss fell")
    if A is not None and VA is not None and A[-1] - VA[-1] > 0.15:
        return Diagnosis("overfitting", f"train accuracy {A[-1]:.3f} vs validation "
                                        f"{VA[-1]:.3f}")

    # underfitting
    if end > 0.4 * first:
        return Diagnosis("underfitting", f"the loss plateaus at {end:.3g}, "
                                         f"{end / first:.0%} of its start")
    if A is not None and A[-1] < 0.8:
        return Diagnosis("underfitting", f"the training accuracy ends at {A[-1]:.3f}")
    return Diagnosis("healthy", f"the loss fell from {first:.3g} to {end:.3g} and levelled "
                                f"off" + ("" if V is None else
                                          f"; validation ends at {V[-1]:.3g}"))


def curve_gallery(seed: int = 0, epochs: int = 50, num_classes: int = 10) -> dict[str, dict]:
    r"""Synthetic loss curves of every shape :func:`diagnose_curves` names, for a figure.

    Each curve starts near :math:`\ln C` (except the bad initialization) and carries a little
    Gaussian noise (seeded):

    * healthy: :math:`0.2 + (\ln C - 0.2) e^{-t/8}`, validation slightly above;
    * lr too low: a slow, almost straight decline;
    * lr too high: a quick drop, then a noisy plateau high up;
    * diverging: a decline, then exponential growth and finally ``nan``;
    * bad initialization: a hockey stick from :math:`5 \ln C` down within two epochs;
    * overfitting: training loss towards 0, validation loss U-shaped;
    * underfitting: both curves flat at a high level.

    Args:
        seed: seed of the noise.
        epochs: points per curve (>= 20).
        num_classes: :math:`C`, the starting level :math:`\ln C`.

    Returns:
        ``{label: {"train_loss": array, "val_loss": array}}`` in the order of
        ``DIAGNOSES``.
    """
    epochs = positive_int("curve_gallery", "epochs", epochs)
    if epochs < 20:
        raise ValueError(f"curve_gallery: epochs must be an integer >= 20, got {epochs}")
    l0 = expected_initial_loss(num_classes)
    rng = np.random.default_rng(seed)
    t = np.arange(epochs, dtype=float)
    T = epochs / 50.0  # time constants scale with the length

    def noisy(curve, scale=0.005):
        return curve * (1 + scale * rng.standard_normal(epochs))

    healthy = 0.2 + (l0 - 0.2) * np.exp(-t / (8 * T))
    low_lr = l0 - 0.45 * l0 * t / epochs - 0.02 * l0 * (t / epochs) ** 2
    high_lr = 0.55 * l0 + 0.45 * l0 * np.exp(-t / (1.5 * T)) \
        + 0.08 * l0 * rng.standard_normal(epochs)
    t_blow = int(0.4 * epochs)
    diverge = l0 * np.exp(-t / (10 * T))
    diverge[t_blow:] = diverge[t_blow] * 1.6 ** (t[t_blow:] - t_blow)
    diverge[-max(1, epochs // 10):] = np.nan
    bad_init = 0.2 + (l0 - 0.2) * np.exp(-t / (10 * T)) + 4 * l0 * np.exp(-t / (0.7 * T))
    over_train = 0.02 + (l0 - 0.02) * np.exp(-t / (6 * T))
    over_val = 0.45 + (l0 - 0.45) * np.exp(-t / (5 * T)) + 0.02 * np.maximum(0, t - 10 * T) / T
    under = 0.65 * l0 + 0.35 * l0 * np.exp(-t / (5 * T))
    return {
        "diverging": {"train_loss": diverge, "val_loss": diverge * 1.05},
        "bad initialization": {"train_loss": noisy(bad_init), "val_loss": noisy(bad_init + 0.1)},
        "lr too high": {"train_loss": high_lr, "val_loss": high_lr + 0.05},
        "lr too low": {"train_loss": noisy(low_lr), "val_loss": noisy(low_lr + 0.05)},
        "overfitting": {"train_loss": noisy(over_train), "val_loss": noisy(over_val)},
        "underfitting": {"train_loss": noisy(under), "val_loss": noisy(under + 0.05)},
        "healthy": {"train_loss": noisy(healthy), "val_loss": noisy(healthy + 0.1)},
    }
