"""Whole-trajectory parity of trainart.optim with torch.optim in float64.

Every optimizer runs 100 steps from the same start on the same random, non-convex problem
(a small tanh network on fixed data) next to its torch.optim counterpart: plain, with weight
decay, under a learning-rate schedule, and with gradient clipping. After every step the
parameters must agree to 1e-10 relative. The NumPy path gets its gradients from torch
autograd at its own (NumPy) parameters; the torch-tensor path reads ``p.grad`` itself.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from optim_problems import assert_same_trajectory, make_problem

from trainart import optim

F64 = torch.float64

STEPS = 100

# (id, trainart constructor, torch constructor, keyword arguments shared by both)
OPTIMIZERS = [
    ("sgd", optim.SGD, torch.optim.SGD, dict(lr=0.05)),
    ("momentum", optim.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9)),
    ("momentum-dampening", optim.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("nesterov", optim.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("adagrad", optim.Adagrad, torch.optim.Adagrad, dict(lr=0.05)),
    ("adagrad-decay-init", optim.Adagrad, torch.optim.Adagrad,
     dict(lr=0.05, lr_decay=0.01, initial_accumulator_value=0.1)),
    ("rmsprop", optim.RMSprop, torch.optim.RMSprop, dict(lr=0.005)),
    ("rmsprop-centered-momentum", optim.RMSprop, torch.optim.RMSprop,
     dict(lr=0.002, alpha=0.9, momentum=0.8, centered=True)),
    ("adadelta", optim.Adadelta, torch.optim.Adadelta, dict()),
    ("adadelta-lr", optim.Adadelta, torch.optim.Adadelta, dict(lr=0.5, rho=0.95, eps=1e-5)),
    ("adam", optim.Adam, torch.optim.Adam, dict(lr=0.01)),
    ("adam-amsgrad", optim.Adam, torch.optim.Adam, dict(lr=0.01, betas=(0.8, 0.99), amsgrad=True)),
    ("adamw", optim.AdamW, torch.optim.AdamW, dict(lr=0.01)),
    ("adamw-amsgrad", optim.AdamW, torch.optim.AdamW, dict(lr=0.01, amsgrad=True)),
]

# Weight decay: L2 for all but AdamW (decoupled); Adam's decoupled flag is torch's too.
WEIGHT_DECAY = [(name, ta, tt, {**kw, "weight_decay": 0.1}) for name, ta, tt, kw in OPTIMIZERS]
WEIGHT_DECAY.append(("adam-decoupled", optim.Adam, torch.optim.Adam,
                     dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)))


def torch_grads(loss, arrays):
    """Gradients of ``loss`` at NumPy ``arrays``, by torch autograd, as NumPy arrays."""
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    loss(ts).backward()
    return [t.grad.numpy() for t in ts]


# Schedules: (trainart schedule from base lr, torch scheduler factory)
def _sequential_torch(opt):
    return torch.optim.lr_scheduler.SequentialLR(opt, [
        torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=10),
        torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=90, eta_min=1e-4)], milestones=[10])


SCHEDULES = {
    "step": (lambda lr: optim.step_decay(lr, step_size=30, gamma=0.5),
             lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=30, gamma=0.5)),
    "exponential": (lambda lr: optim.exponential_decay(lr, gamma=0.98),
                    lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.98)),
    "cosine": (lambda lr: optim.cosine_annealing(lr, T_max=100, eta_min=1e-4),
               lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=100, eta_min=1e-4)),
    "warmup": (lambda lr: optim.linear_warmup(lr, start_factor=0.25, total_iters=20),
               lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=0.25, total_iters=20)),
    "warmup+cosine": (lambda lr: optim.sequential(
        [optim.linear_warmup(lr, start_factor=0.1, total_iters=10),
         optim.cosine_annealing(lr, T_max=90, eta_min=1e-4)], milestones=[10]), _sequential_torch),
}


def run_pair(ta_cls, torch_cls, kwargs, *, schedule=None, clip=None, path="numpy", steps=STEPS):
    """Run trainart and torch side by side; return both trajectories (lists of flat vectors)."""
    loss, start = make_problem()
    ref = [p.clone().requires_grad_(True) for p in start]
    ref_opt = torch_cls(ref, **kwargs)
    if path == "numpy":
        mine = [p.numpy().copy() for p in start]
    else:
        mine = [p.clone().requires_grad_(True) for p in start]
    opt = ta_cls(mine, **kwargs)
    ref_sched = sched = None
    if schedule is not None:
        make_ta, make_torch = SCHEDULES[schedule]
        sched = optim.LRScheduler(opt, make_ta(kwargs.get("lr", opt.lr)))
        ref_sched = make_torch(ref_opt)

    ours, theirs = [], []
    for _ in range(steps):
        ref_opt.zero_grad()
        loss(ref).backward()
        if clip == "norm":
            torch.nn.utils.clip_grad_norm_(ref, max_norm=0.5)
        elif clip == "value":
            torch.nn.utils.clip_grad_value_(ref, clip_value=0.05)
        ref_opt.step()

        if path == "numpy":
            grads = torch_grads(loss, mine)
        else:
            opt.zero_grad()
            loss(mine).backward()
            grads = mine  # the clipping functions read .grad of torch parameters
        if clip == "norm":
            optim.clip_grad_norm_(grads, max_norm=0.5)
        elif clip == "value":
            optim.clip_grad_value_(grads, clip_value=0.05)
        opt.step(grads if path == "numpy" else None)

        if sched is not None:
            ref_sched.step()
            sched.step()
            assert sched.get_last_lr() == pytest.approx(ref_sched.get_last_lr()[0], rel=1e-12)
        theirs.append(np.concatenate([p.detach().numpy().ravel() for p in ref]))
        ours.append(np.concatenate([np.asarray(p.detach() if path != "numpy" else p).ravel()
                                    for p in mine]))
    return np.array(ours), np.array(theirs)


def _ids(table):
    return [row[0] for row in table]


@pytest.mark.parametrize("name,ta_cls,torch_cls,kwargs", OPTIMIZERS, ids=_ids(OPTIMIZERS))
def test_plain(name, ta_cls, torch_cls, kwargs):
    assert_same_trajectory(*run_pair(ta_cls, torch_cls, kwargs))


@pytest.mark.parametrize("name,ta_cls,torch_cls,kwargs", WEIGHT_DECAY, ids=_ids(WEIGHT_DECAY))
def test_weight_decay(name, ta_cls, torch_cls, kwargs):
    assert_same_trajectory(*run_pair(ta_cls, torch_cls, kwargs))


@pytest.mark.parametrize("schedule", list(SCHEDULES))
@pytest.mark.parametrize("name,ta_cls,torch_cls,kwargs", OPTIMIZERS, ids=_ids(OPTIMIZERS))
def test_schedule(name, ta_cls, torch_cls, kwargs, schedule):
    assert_same_trajectory(*run_pair(ta_cls, torch_cls, kwargs, schedule=schedule))


@pytest.mark.parametrize("clip", ["norm", "value"])
@pytest.mark.parametrize("name,ta_cls,torch_cls,kwargs", OPTIMIZERS, ids=_ids(OPTIMIZERS))
def test_clipping(name, ta_cls, torch_cls, kwargs, clip):
    assert_same_trajectory(*run_pair(ta_cls, torch_cls, kwargs, clip=clip))


@pytest.mark.parametrize("name,ta_cls,torch_cls,kwargs", OPTIMIZERS + WEIGHT_DECAY[-1:],
                         ids=_ids(OPTIMIZERS + WEIGHT_DECAY[-1:]))
def test_torch_tensor_path(name, ta_cls, torch_cls, kwargs):
    """The same update rules, applied to torch tensors whose gradients sit in ``.grad``."""
    assert_same_trajectory(*run_pair(ta_cls, torch_cls, {**kwargs, "weight_decay": 0.05},
                                     path="torch", clip="norm", schedule="warmup+cosine"))


def test_trains_a_real_module_like_torch():
    """A trainart optimizer drives an nn.Module (Linear-Tanh-Linear) exactly as torch.optim."""
    g = torch.Generator().manual_seed(1)
    X = torch.randn(64, 5, generator=g, dtype=F64)
    y = torch.randint(0, 3, (64,), generator=g)

    def model_and_opt(opt_cls):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(),
                                    torch.nn.Linear(16, 3)).double()
        return model, opt_cls(model.parameters(), lr=0.01, weight_decay=0.01)

    results = []
    for opt_cls in (optim.AdamW, torch.optim.AdamW):
        model, opt = model_and_opt(opt_cls)
        for _ in range(50):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(X), y)
            loss.backward()
            opt.step()
        results.append(torch.cat([p.detach().ravel() for p in model.parameters()]))
    assert torch.allclose(results[0], results[1], rtol=1e-10, atol=1e-12)
    assert loss.item() < 1.0  # it learned something


@pytest.mark.parametrize("schedule", list(SCHEDULES))
def test_schedule_values_match_torch(schedule):
    make_ta, make_torch = SCHEDULES[schedule]
    ours = make_ta(0.1)
    opt = torch.optim.SGD([torch.zeros(1, dtype=F64, requires_grad=True)], lr=0.1)
    sched = make_torch(opt)
    for t in range(150):
        assert ours(t) == pytest.approx(sched.get_last_lr()[0], rel=1e-12, abs=1e-15), t
        opt.step()
        sched.step()


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, float("inf")])
def test_clip_grad_norm_matches_torch(norm_type):
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=(3, 4)), rng.normal(size=5)]
    ts = [torch.zeros(g.shape, dtype=F64, requires_grad=True) for g in grads]
    for t, g in zip(ts, grads):
        t.grad = torch.tensor(g)
    ref_norm = torch.nn.utils.clip_grad_norm_(ts, max_norm=0.7, norm_type=norm_type)
    norm = optim.clip_grad_norm_(grads, max_norm=0.7, norm_type=norm_type)
    assert norm == pytest.approx(float(ref_norm), rel=1e-12)
    for t, g in zip(ts, grads):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-12)
