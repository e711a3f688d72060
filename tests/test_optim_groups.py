"""PyTorch's optimizer interface beyond the update rules, against torch.optim in float64:
``maximize``, parameter groups (per-group hyperparameters, ``add_param_group`` mid-run,
discriminative fine-tuning), and ``state_dict`` / ``load_state_dict`` of optimizers and
schedules (a checkpointed and resumed run equals the uninterrupted one exactly).

Whole trajectories of 50 steps on a small non-convex problem (a 4-8-3 tanh network), both on
NumPy arrays (gradients passed in) and on torch tensors (``p.grad``); after every step the
parameters agree with torch's to 1e-10 relative.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from optim_problems import F64, assert_same_trajectory, make_problem

from trainart import optim

STEPS = 50

# (id, trainart class, torch class, keyword arguments shared by both)
RULES = [
    ("sgd", optim.SGD, torch.optim.SGD, dict(lr=0.05)),
    ("momentum", optim.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, dampening=0.2)),
    ("nesterov", optim.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("adagrad", optim.Adagrad, torch.optim.Adagrad,
     dict(lr=0.05, lr_decay=0.01, initial_accumulator_value=0.1)),
    ("rmsprop", optim.RMSprop, torch.optim.RMSprop, dict(lr=0.005)),
    ("rmsprop-centered-momentum", optim.RMSprop, torch.optim.RMSprop,
     dict(lr=0.002, alpha=0.9, momentum=0.8, centered=True)),
    ("adadelta", optim.Adadelta, torch.optim.Adadelta, dict(lr=0.5, rho=0.95)),
    ("adam", optim.Adam, torch.optim.Adam, dict(lr=0.01)),
    ("adam-amsgrad", optim.Adam, torch.optim.Adam, dict(lr=0.01, betas=(0.8, 0.99), amsgrad=True)),
    ("adamw", optim.AdamW, torch.optim.AdamW, dict(lr=0.01)),
]
IDS = [r[0] for r in RULES]
RULE_ARGS = [r[1:] for r in RULES]
PATHS = ["numpy", "torch"]

# Per-group overrides that every rule understands, and one that changes its own hyperparameter.
OWN = {optim.SGD: {"momentum": 0.5}, optim.Adagrad: {"lr_decay": 0.0},
       optim.RMSprop: {"alpha": 0.95}, optim.Adadelta: {"rho": 0.8},
       optim.Adam: {"betas": (0.85, 0.995)}, optim.AdamW: {"betas": (0.85, 0.995)}}


class Run:
    """Parameters on one path, the loss's gradient at them, and their flat concatenation."""

    def __init__(self, start, path):
        self.path = path
        if path == "numpy":
            self.params = [p.numpy().copy() for p in start]
        else:
            self.params = [p.clone().requires_grad_(True) for p in start]

    def grads(self, loss):
        """The gradients (NumPy path) or ``None`` after filling ``.grad`` (torch path)."""
        if self.path == "numpy":
            ts = [torch.tensor(a, requires_grad=True) for a in self.params]
            loss(ts).backward()
            return [t.grad.numpy() for t in ts]
        for p in self.params:
            p.grad = None
        loss(self.params).backward()
        return None

    def flat(self):
        return np.concatenate([np.asarray(p.detach() if self.path == "torch" else p).ravel()
                               for p in self.params])


def torch_run(start):
    return [p.clone().requires_grad_(True) for p in start]


def torch_step(opt, params, loss):
    opt.zero_grad()
    loss(params).backward()
    opt.step()
    return np.concatenate([p.detach().numpy().ravel() for p in params])


def lockstep(ref_opt, ref, opt, mine, loss, steps=STEPS):
    """Step torch's optimizer and ours side by side on ``loss``; both flat trajectories."""
    ours, theirs = [], []
    for _ in range(steps):
        theirs.append(torch_step(ref_opt, ref, loss))
        opt.step(mine.grads(loss))
        ours.append(mine.flat())
    return ours, theirs


# ------------------------------------------------------------------------------- maximize
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
@pytest.mark.parametrize("ta_cls,torch_cls,kwargs", RULE_ARGS, ids=IDS)
def test_maximize_matches_torch(ta_cls, torch_cls, kwargs, weight_decay, path):
    """Maximizing -loss with ``maximize=True`` (with and without weight decay, whose sign
    torch does not flip) follows torch step by step."""
    loss, start = make_problem()
    neg = lambda ps: -loss(ps)  # noqa: E731
    kw = {**kwargs, "weight_decay": weight_decay, "maximize": True}
    ref = torch_run(start)
    ref_opt = torch_cls(ref, **kw)
    mine = Run(start, path)
    opt = ta_cls(mine.params, **kw)
    assert_same_trajectory(*lockstep(ref_opt, ref, opt, mine, neg))


@pytest.mark.parametrize("ta_cls,torch_cls,kwargs", RULE_ARGS, ids=IDS)
def test_maximize_of_minus_f_equals_minimizing_f_without_decay(ta_cls, torch_cls, kwargs):
    loss, start = make_problem()
    a, b = Run(start, "numpy"), Run(start, "numpy")
    opt_a, opt_b = ta_cls(a.params, **kwargs), ta_cls(b.params, **kwargs, maximize=True)
    if ta_cls is optim.AdamW:  # its default weight decay would not flip sign
        opt_a, opt_b = (ta_cls(a.params, **kwargs, weight_decay=0.0),
                        ta_cls(b.params, **kwargs, weight_decay=0.0, maximize=True))
    for _ in range(10):
        opt_a.step(a.grads(loss))
        opt_b.step(b.grads(lambda ps: -loss(ps)))
    np.testing.assert_allclose(a.flat(), b.flat(), rtol=1e-13, atol=1e-15)
    assert not np.allclose(a.flat(), Run(start, "numpy").flat())


# ------------------------------------------------------------------------ parameter groups
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("ta_cls,torch_cls,kwargs", RULE_ARGS, ids=IDS)
def test_param_groups_with_their_own_hyperparameters(ta_cls, torch_cls, kwargs, path):
    """Two groups: the first layer with a smaller lr, weight decay and the rule's own
    hyperparameter changed; the second with the constructor's defaults."""
    loss, start = make_problem()
    first = {"lr": kwargs.get("lr", 1.0) * 0.3, "weight_decay": 0.1, **OWN[ta_cls]}
    ref = torch_run(start)
    ref_opt = torch_cls([{"params": ref[:2], **first}, {"params": ref[2:]}], **kwargs)
    mine = Run(start, path)
    opt = ta_cls([{"params": mine.params[:2], **first}, {"params": mine.params[2:]}], **kwargs)
    assert len(opt.param_groups) == 2
    for key, value in first.items():
        assert opt.param_groups[0][key] == ref_opt.param_groups[0][key] == value
        assert opt.param_groups[1][key] == ref_opt.param_groups[1][key] == opt.defaults[key]
    assert_same_trajectory(*lockstep(ref_opt, ref, opt, mine, loss))


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("ta_cls,torch_cls,kwargs", RULE_ARGS, ids=IDS)
def test_add_param_group_mid_run(ta_cls, torch_cls, kwargs, path):
    """The last layer is frozen for 20 steps, then added as a group with its own lr."""
    loss, start = make_problem()
    ref = torch_run(start)
    ref_opt = torch_cls(ref[:2], **kwargs)
    mine = Run(start, path)
    opt = ta_cls(mine.params[:2], **kwargs)
    ours, theirs = [], []
    for t in range(STEPS):
        if t == 20:
            new = {"lr": kwargs.get("lr", 1.0) * 2, **OWN[ta_cls]}
            ref_opt.add_param_group({"params": ref[2:], **new})
            opt.add_param_group({"params": mine.params[2:], **new})
            assert opt.param_groups[1]["weight_decay"] == ref_opt.param_groups[1]["weight_decay"]
        theirs.append(torch_step(ref_opt, ref, loss))
        grads = mine.grads(loss)
        if path == "numpy":
            grads = grads[:len(opt.params)]
        else:
            for p in mine.params[len(opt.params):]:
                p.grad = None
        opt.step(grads)
        ours.append(mine.flat())
    assert_same_trajectory(ours, theirs)
    # the frozen layer did not move before step 21, and moved after
    n_frozen = start[2].numel() + start[3].numel()
    assert np.array_equal(np.array(ours)[19, -n_frozen:], np.array(ours)[0, -n_frozen:])
    assert not np.array_equal(np.array(ours)[-1, -n_frozen:], np.array(ours)[0, -n_frozen:])


def test_discriminative_fine_tuning_of_a_module_like_torch():
    """A pretrained backbone at lr 1e-3, a new head at 1e-2, both under a per-group cosine
    schedule, SGD with Nesterov momentum: parameters and learning rates equal torch's."""
    g = torch.Generator().manual_seed(3)
    X = torch.randn(64, 5, generator=g, dtype=F64)
    y = torch.randint(0, 3, (64,), generator=g)

    def build():
        torch.manual_seed(0)
        return torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(),
                                   torch.nn.Linear(16, 3)).double()

    kw = dict(lr=1e-2, momentum=0.9, nesterov=True, weight_decay=1e-4)
    results, lrs = [], []
    for lib in (optim, torch.optim):
        model = build()
        groups = [{"params": model[0].parameters(), "lr": 1e-3},
                  {"params": model[2].named_parameters() if lib is optim
                   else model[2].parameters()}]
        opt = lib.SGD(groups, **kw)
        if lib is optim:
            sched = optim.LRScheduler(opt, [optim.cosine_annealing(g["lr"], T_max=40)
                                            for g in opt.param_groups])
        else:
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=40)
        for _ in range(40):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(X), y).backward()
            opt.step()
            sched.step()
            lrs.append([g["lr"] for g in opt.param_groups])
        results.append(torch.cat([p.detach().ravel() for p in model.parameters()]))
    torch.testing.assert_close(results[0], results[1], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(lrs[:40], lrs[40:], rtol=1e-12, atol=1e-15)
    assert lrs[0][0] < lrs[0][1]


# ----------------------------------------------------------- checkpoint and resume, exactly
SCHEDULES = {
    "cosine": (lambda lr: optim.cosine_annealing(lr, T_max=STEPS, eta_min=1e-4),
               lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=STEPS, eta_min=1e-4)),
    "step": (lambda lr: optim.step_decay(lr, step_size=15, gamma=0.5),
             lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=15, gamma=0.5)),
}


def _resumable_run(ta_cls, kwargs, path, schedule, stop_at=None, saved=None):
    """Our run over STEPS steps with two groups and a per-group schedule. With ``stop_at``,
    return the state dicts after that many steps; with ``saved``, start from them (fresh
    objects, parameters from the checkpoint) and run the remaining steps."""
    loss, start = make_problem()
    mine = Run(start, path)
    if saved is not None:
        for p, q in zip(mine.params, saved["params"]):
            with torch.no_grad():
                p[...] = torch.as_tensor(q) if path == "torch" else q
    lr = kwargs.get("lr", 1.0)
    opt = ta_cls([{"params": mine.params[:2], "lr": lr * 0.5, **OWN[ta_cls]},
                  {"params": mine.params[2:]}], **kwargs, weight_decay=0.01)
    sched = optim.LRScheduler(opt, [SCHEDULES[schedule][0](g["lr"]) for g in opt.param_groups])
    first = 0
    if saved is not None:
        opt.load_state_dict(saved["optimizer"])
        sched.load_state_dict(saved["scheduler"])
        first = saved["scheduler"]["last_epoch"]
    trajectory = []
    for t in range(first, STEPS):
        if t == stop_at:
            return {"optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                    "params": [copy.deepcopy(p.detach() if path == "torch" else p)
                               for p in mine.params]}
        opt.step(mine.grads(loss))
        sched.step()
        trajectory.append(mine.flat())
    return trajectory


@pytest.mark.parametrize("schedule", list(SCHEDULES))
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("ta_cls,torch_cls,kwargs", RULE_ARGS, ids=IDS)
def test_checkpoint_and_resume_equals_the_uninterrupted_run(ta_cls, torch_cls, kwargs, path,
                                                           schedule):
    """20 steps, save optimizer and schedule, fresh objects, load, 30 more steps: the same
    numbers as 50 uninterrupted steps, and torch's (itself resumed the same way) to 1e-10."""
    whole = _resumable_run(ta_cls, kwargs, path, schedule)
    saved = _resumable_run(ta_cls, kwargs, path, schedule, stop_at=20)
    resumed = _resumable_run(ta_cls, kwargs, path, schedule, saved=copy.deepcopy(saved))
    np.testing.assert_array_equal(np.array(resumed), np.array(whole[20:]))

    # torch: the same two groups, checkpointed after 20 steps and resumed into new objects
    loss, start = make_problem()

    def torch_objects(params):
        lr = kwargs.get("lr", 1.0)
        opt = torch_cls([{"params": params[:2], "lr": lr * 0.5, **OWN[ta_cls]},
                         {"params": params[2:]}], **kwargs, weight_decay=0.01)
        return opt, SCHEDULES[schedule][1](opt)

    ref = torch_run(start)
    ref_opt, ref_sched = torch_objects(ref)
    theirs = []
    for t in range(STEPS):
        if t == 20:
            ckpt = copy.deepcopy({"opt": ref_opt.state_dict(), "sched": ref_sched.state_dict(),
                                  "params": [p.detach().clone() for p in ref]})
            ref = [p.clone().requires_grad_(True) for p in ckpt["params"]]
            ref_opt, ref_sched = torch_objects(ref)
            ref_opt.load_state_dict(ckpt["opt"])
            ref_sched.load_state_dict(ckpt["sched"])
            _compare_state_dicts(saved["optimizer"], ckpt["opt"])
            assert saved["scheduler"]["last_epoch"] == ckpt["sched"]["last_epoch"] == 20
            np.testing.assert_allclose(saved["scheduler"]["last_lr"], ckpt["sched"]["_last_lr"],
                                       rtol=1e-12)
        theirs.append(torch_step(ref_opt, ref, loss))
        ref_sched.step()
    assert_same_trajectory(whole, theirs)


def _compare_state_dicts(ours, theirs):
    """Same groups, hyperparameters, parameter indices and per-parameter state as torch's."""
    assert len(ours["param_groups"]) == len(theirs["param_groups"])
    for a, b in zip(ours["param_groups"], theirs["param_groups"]):
        assert a["params"] == b["params"]
        for key in set(a) - {"params", "param_names", "lr"}:
            assert a[key] == b[key], key
        assert a["lr"] == pytest.approx(b["lr"], rel=1e-12)
    assert set(ours["state"]) == set(theirs["state"])
    for i, state in ours["state"].items():
        ref = theirs["state"][i]
        assert set(state) == set(ref), (state.keys(), ref.keys())
        for key, value in state.items():
            if key == "step":
                assert value == float(ref[key])
            else:
                np.testing.assert_allclose(np.asarray(value), ref[key].numpy(), rtol=1e-10,
                                           atol=1e-14, err_msg=key)


@pytest.mark.parametrize("ta_cls,torch_cls,kwargs", RULE_ARGS, ids=IDS)
def test_state_dict_moves_between_numpy_and_torch(ta_cls, torch_cls, kwargs):
    """A state saved by a NumPy run loads into a torch-tensor optimizer (and back): the
    resumed run continues the NumPy one (to rounding: torch's float64 sqrt is not NumPy's)."""
    loss, start = make_problem()
    a = Run(start, "numpy")
    opt_a = ta_cls(a.params, **kwargs)
    for _ in range(5):
        opt_a.step(a.grads(loss))
    b = Run([torch.tensor(p) for p in a.params], "torch")
    opt_b = ta_cls(b.params, **kwargs)
    opt_b.load_state_dict(opt_a.state_dict())
    c = Run(start, "numpy")
    opt_c = ta_cls(c.params, **kwargs)
    for _ in range(5):
        opt_a.step(a.grads(loss))
        opt_b.step(b.grads(loss))
    opt_c.load_state_dict(opt_b.state_dict())
    assert opt_c.steps_taken == 10
    assert all(type(v) is np.ndarray for s in opt_c.state for k, v in s.items() if k != "step")
    np.testing.assert_allclose(a.flat(), b.flat(), rtol=1e-13, atol=1e-15)
    assert not np.allclose(a.flat(), Run(start, "numpy").flat())


def test_state_dict_is_a_copy():
    p = np.zeros(3)
    opt = optim.Adam([p], lr=0.1)
    opt.step([np.ones(3)])
    saved = opt.state_dict()
    opt.step([np.ones(3)])
    assert saved["state"][0]["step"] == 1
    assert not np.array_equal(saved["state"][0]["exp_avg"], opt.state[0]["exp_avg"])


def test_state_by_position_and_by_parameter():
    w, b = np.zeros((2, 2)), np.zeros(2)
    opt = optim.SGD([{"params": [w]}, {"params": {"bias": b}, "lr": 0.01}], lr=0.1, momentum=0.9)
    opt.step([np.ones((2, 2)), np.ones(2)])
    assert opt.state[b] is opt.state[1]
    assert opt.state[w]["momentum_buffer"].shape == (2, 2)
    assert opt.names == ["param_groups[0]['params'][0]", "bias"]
    with pytest.raises(KeyError, match="not one of the optimizer's parameters"):
        opt.state[np.zeros(2)]


def test_lr_property_with_groups():
    opt = optim.SGD([{"params": [np.zeros(2)], "lr": 0.01}, {"params": [np.zeros(2)]}], lr=0.1)
    with pytest.raises(ValueError, match=r"SGD.lr: the parameter groups have different "
                                         r"learning rates \[0.01, 0.1\]"):
        _ = opt.lr
    opt.lr = 0.5
    assert opt.lr == 0.5 and [g["lr"] for g in opt.param_groups] == [0.5, 0.5]
    assert opt.defaults["lr"] == 0.1


def test_one_schedule_sets_every_group_alike():
    opt = optim.SGD([{"params": [np.zeros(2)]}, {"params": [np.zeros(2)]}], lr=0.1)
    sched = optim.LRScheduler(opt, optim.step_decay(0.1, step_size=2))
    for _ in range(2):
        sched.step()
    assert sched.get_last_lr() == pytest.approx(0.01)
    assert [g["lr"] for g in opt.param_groups] == [sched.get_last_lr()] * 2


def test_step_decay_accepts_numpy_integers():
    ours = optim.step_decay(0.1, np.int64(5), gamma=0.5)
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    ref = torch.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)
    for t in range(20):
        assert ours(t) == pytest.approx(ref.get_last_lr()[0], rel=1e-12)
        opt.step()
        ref.step()
    assert optim.cosine_annealing(0.1, T_max=np.int32(10))(10) == 0.0
    assert optim.sequential([optim.constant(0.1), optim.constant(0.2)],
                            milestones=[np.int64(3)])(3) == 0.2


# -------------------------------------------------------------------- errors that name it
def _two():
    return np.zeros(2), np.zeros(3)


@pytest.mark.parametrize("make,error,message", [
    (lambda a, b: optim.SGD([{"params": [a], "weight_deacy": 0.1}], lr=0.1), ValueError,
     r"SGD: param_groups\[0\] has unknown key\(s\) 'weight_deacy'; SGD's hyperparameters are "
     r"lr, momentum"),
    (lambda a, b: optim.Adam([{"params": [a]}, {"params": [b, a]}]), ValueError,
     r"Adam: parameter 'param_groups\[1\]\['params'\]\[1\]' is given twice \(also as "
     r"'param_groups\[0\]\['params'\]\[0\]'\)"),
    (lambda a, b: optim.SGD([a, a], lr=0.1), ValueError, r"'params\[1\]' is given twice"),
    (lambda a, b: optim.SGD([{"params": [a]}, {"lr": 0.1}], lr=0.1), ValueError,
     r"SGD: param_groups\[1\] has no 'params' entry, got keys \['lr'\]"),
    (lambda a, b: optim.SGD([{"params": []}], lr=0.1), ValueError,
     r"SGD: param_groups\[0\]\['params'\] is an empty list of parameters"),
    (lambda a, b: optim.SGD([{"params": [a]}, b], lr=0.1), TypeError,
     "mixes parameter groups"),
    (lambda a, b: optim.SGD(a, lr=0.1), TypeError,
     r"SGD: params must be .*got a single ndarray; wrap it in a list"),
    (lambda a, b: optim.SGD([{"params": [a], "lr": -1.0}], lr=0.1), ValueError,
     r"SGD: param_groups\[0\]\['lr'\] must be a finite number > 0, got -1.0"),
    (lambda a, b: optim.Adam([{"params": [a], "betas": (0.9, 1.0)}]), ValueError,
     r"Adam: param_groups\[0\]\['betas'\]\[1\] must be in \[0, 1\), got 1.0"),
    (lambda a, b: optim.SGD([{"params": [a], "nesterov": True}], lr=0.1), ValueError,
     r"SGD: param_groups\[0\]\['nesterov'\]=True needs momentum > 0"),
    (lambda a, b: optim.SGD([a], lr=0.1).add_param_group({"params": [a], "lr": 0.2}),
     ValueError, r"SGD.add_param_group: parameter .* is given twice"),
    (lambda a, b: optim.SGD([a], lr=0.1).add_param_group([b]), TypeError,
     r"SGD.add_param_group: param_groups\[1\] must be a dict with a 'params' entry, got list"),
    (lambda a, b: optim.SGD({"w": a}, lr=0.1).add_param_group({"params": {"w": b}}),
     ValueError, "two parameters are named 'w'"),
    (lambda a, b: optim.RMSprop([a], maximize="yes"), TypeError,
     "RMSprop: maximize must be True or False, got 'yes'"),
])
def test_bad_groups_name_the_problem(make, error, message):
    with pytest.raises(error, match=message):
        make(*_two())


def test_load_state_dict_errors_name_the_problem():
    a, b = _two()
    adam = optim.Adam([a, b], lr=0.1)
    adam.step([np.ones(2), np.ones(3)])
    saved = adam.state_dict()
    with pytest.raises(ValueError, match="SGD.load_state_dict: the state dict was saved by "
                                         "Adam, not SGD"):
        optim.SGD([np.zeros(2), np.zeros(3)], lr=0.1).load_state_dict(saved)
    foreign = {k: v for k, v in saved.items() if k != "optimizer"}
    with pytest.raises(ValueError, match=r"SGD.load_state_dict: param_groups\[0\] of the state "
                                         r"dict has hyperparameters \['amsgrad', 'betas'"):
        optim.SGD([np.zeros(2), np.zeros(3)], lr=0.1).load_state_dict(foreign)
    with pytest.raises(ValueError, match=r"state 'exp_avg' of parameter 'params\[0\]' has shape "
                                         r"\(2,\), the parameter has shape \(3,\)"):
        optim.Adam([np.zeros(3), np.zeros(2)]).load_state_dict(saved)
    with pytest.raises(ValueError, match=r"param_groups\[0\] of the state dict has 2 "
                                         r"parameters, this optimizer's has 1"):
        optim.Adam([np.zeros(2)]).load_state_dict(saved)
    with pytest.raises(ValueError, match="the state dict has 1 parameter groups, this "
                                         "optimizer has 2"):
        optim.Adam([{"params": [np.zeros(2)]}, {"params": [np.zeros(3)]}]).load_state_dict(saved)
    with pytest.raises(TypeError, match="Adam.load_state_dict: state_dict must be a dict with "
                                        "'state' and 'param_groups'"):
        optim.Adam([np.zeros(2)]).load_state_dict([1, 2])
    # a failed load changes nothing
    fresh = optim.Adam([np.zeros(3), np.zeros(2)])
    with pytest.raises(ValueError):
        fresh.load_state_dict(saved)
    assert all(not s for s in fresh.state) and fresh.steps_taken == 0


def test_scheduler_errors_name_the_problem():
    opt = optim.SGD([{"params": [np.zeros(2)], "lr": 0.01}, {"params": [np.zeros(2)]}], lr=0.1)
    with pytest.raises(ValueError, match=r"LRScheduler: the optimizer's parameter groups have "
                                         r"different learning rates \[0.01, 0.1\]"):
        optim.LRScheduler(opt, optim.constant(0.1))
    with pytest.raises(ValueError, match="one function per parameter group: the optimizer has "
                                         "2 groups, got 1"):
        optim.LRScheduler(opt, [optim.constant(0.1)])
    with pytest.raises(TypeError, match=r"LRScheduler: schedule\[1\] must be a function"):
        optim.LRScheduler(opt, [optim.constant(0.1), 0.2])
    sched = optim.LRScheduler(opt, [optim.step_decay(0.01, 2), optim.step_decay(0.1, 2)])
    for _ in range(3):
        sched.step()
    saved = sched.state_dict()
    assert saved == {"last_epoch": 3, "last_lr": [0.01 * 0.1, 0.1 * 0.1]}
    other = optim.LRScheduler(opt, [optim.step_decay(0.01, 5), optim.step_decay(0.1, 5)])
    with pytest.raises(ValueError, match=r"at t = 3 the saved learning rates are .* build it "
                                         r"with the schedules of the saved run"):
        other.load_state_dict(saved)
    with pytest.raises(ValueError, match="LRScheduler.load_state_dict: state_dict must be a "
                                         "dict with 'last_epoch' and 'last_lr'"):
        other.load_state_dict({"t": 3})
