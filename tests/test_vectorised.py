"""Seed-vectorised training (mi_tutorial.training.vectorised) against the sequential trainers, per seed.

Tiny configs (the smoke profile: sklearn digits, a 32→32→16 MLP; E6's 1-d concat critic), so the
whole file runs in seconds on one thread.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import mi_tutorial.training.loop as loop_module
import mi_tutorial.training.multiview as multiview_module
import mi_tutorial.training.noniid as noniid_module
import mi_tutorial.training.vectorised as vec
from mi_tutorial.config import AdversarialConfig
from mi_tutorial.paper import get_configs
from mi_tutorial.training import (
    ADAM_EPS,
    TrainingDiverged,
    build_models,
    train_multiview,
    train_noniid,
)

SEEDS = [0, 2, 5]  # not 0..S-1, so a seed/index mix-up would show


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _mv(**changes):
    """Smoke E4 MLP + bilinear + I_NCE (digits, batch 64), optionally changed."""
    config = get_configs("critic-capacity", "smoke")[0]
    assert (config.encoder, config.critic, config.estimator) == ("mlp", "bilinear", "infonce")
    return config.replace(**changes)


def _noniid(**changes):
    config = get_configs("noniid", "smoke")[0]
    assert not config.iid
    return config.replace(**changes)


def _record_sequential_inits(monkeypatch) -> list[dict[str, torch.Tensor]]:
    """Wrap init_models (as the sequential trainers see it) so every model they build is recorded
    (as a copy of its initial state) before training touches it."""
    seen: list[dict[str, torch.Tensor]] = []
    original = loop_module.init_models

    def recording(seed, build):
        built = original(seed, build)
        modules = built if isinstance(built, tuple) else (built,)
        seen.append(
            {
                f"{k}.{name}": t.detach().clone()
                for k, m in enumerate(modules)
                for name, t in m.state_dict().items()
            }
        )
        return built

    for trainer_module in (multiview_module, noniid_module):
        monkeypatch.setattr(trainer_module, "init_models", recording)
    return seen


# --------------------------------------------------------------------------------------------------
# Initialisation: the stack holds exactly the sequential per-seed initial parameters
# --------------------------------------------------------------------------------------------------


def test_stacked_multiview_init_equals_sequential_init(monkeypatch):
    config = _mv(steps=1, eval_every=1)
    seen = _record_sequential_inits(monkeypatch)
    for seed in SEEDS:
        train_multiview(config, seed, progress=False)
    monkeypatch.undo()  # the stack below must come from the real init_models
    _, stacks = vec.stack_seed_models(config, SEEDS)
    for i, _seed in enumerate(SEEDS):
        for k, part in enumerate(("g1", "g2", "critic")):
            for name, tensor in stacks[part].params.items():
                assert torch.equal(tensor[i], seen[i][f"{k}.{name}"]), (i, part, name)
    # the seeds really differ (so the comparison above is not vacuous)
    first = stacks["g1"].params["net.0.weight"]
    assert not torch.equal(first[0], first[1])


def test_stacked_noniid_init_equals_sequential_init(monkeypatch):
    config = _noniid(steps=1)
    seen = _record_sequential_inits(monkeypatch)
    for seed in SEEDS:
        train_noniid(config, seed, progress=False)
    monkeypatch.undo()
    stack = vec.stack_seed_models(config, SEEDS)[1]["critic"]
    assert stack.n_seeds == len(SEEDS)
    for i in range(len(SEEDS)):
        for name, tensor in stack.params.items():
            assert torch.equal(tensor[i], seen[i][f"0.{name}"]), (i, name)


# --------------------------------------------------------------------------------------------------
# One step, and whole (tiny) runs, per seed
# --------------------------------------------------------------------------------------------------


# Adam's first step moves a parameter by lr * g / (|g| + eps) (≈ ±lr), so the per-seed updates
# are compared at 1% of lr. A gradient that differs only by float rounding (bmm vs mm summation
# order) changes g / (|g| + eps) noticeably only where |g| is within a few hundred eps = 1e-7 of
# zero (e.g. a nearly dead unit whose gradient is a sum of thousands of cancelling terms); those
# entries are left out, using the sequential run's gradient (still on its parameters).
UPDATE_ATOL = 1e-2
TINY_GRAD = 1e-5


def _assert_same_update(mine: torch.nn.Module, theirs: torch.nn.Module, lr: float) -> None:
    mine_params = dict(mine.named_parameters())
    compared = total = 0
    for name, p in theirs.named_parameters():
        assert p.grad is not None, name
        keep = p.grad.abs() > TINY_GRAD  # (some biases have exactly zero gradient: invariances)
        compared, total = compared + int(keep.sum()), total + keep.numel()
        torch.testing.assert_close(mine_params[name][keep], p[keep], rtol=0, atol=UPDATE_ATOL * lr)
    assert compared > 0.5 * total  # most entries are compared


def test_one_vectorised_multiview_step_equals_the_sequential_step():
    config = _mv(steps=1, eval_every=1, lr=1e-2)
    stacked: dict = {}
    vec.train_multiview_seeds(config, SEEDS, models=stacked)
    for seed in SEEDS:
        sequential: dict = {}
        train_multiview(config, seed, progress=False, models=sequential)
        for part in ("g1", "g2", "critic"):
            _assert_same_update(stacked[seed][part], sequential[part], config.lr)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"estimator": "nwj"},
        {"target": 2.0},
        {"noise_std": 0.05},
    ],
    ids=["infonce", "nwj", "target", "noise"],
)
def test_multiview_records_match_sequential_per_seed(changes):
    """21 steps, evaluated at 0, 10, 20: each seed follows its own batch/noise/eval streams."""
    config = _mv(**changes)
    vectorised = vec.train_multiview_seeds(config, SEEDS)
    assert sorted(vectorised) == sorted(SEEDS)
    for seed in SEEDS:
        sequential = train_multiview(config, seed, progress=False)
        mine = vectorised[seed]
        assert list(mine.columns) == list(sequential.columns)
        assert list(mine.step) == list(sequential.step)
        assert list(mine.metric) == list(sequential.metric)
        np.testing.assert_allclose(mine.value, sequential.value, rtol=1e-5, atol=1e-5)
    # different seeds give different runs
    assert not np.array_equal(vectorised[SEEDS[0]].value, vectorised[SEEDS[1]].value)


def test_shared_encoder_and_jacobians_match_sequential():
    metric = get_configs("metric-learning", "smoke")[1]  # shared encoder, inner product critic
    assert metric.shared_encoder
    config = metric.replace(steps=3, eval_every=2, eval_jacobian=True)
    vectorised = vec.train_multiview_seeds(config, SEEDS[:2])
    for seed in SEEDS[:2]:
        sequential = train_multiview(config, seed, progress=False)
        assert list(vectorised[seed].metric) == list(sequential.metric)
        np.testing.assert_allclose(vectorised[seed].value, sequential.value, rtol=1e-4, atol=1e-5)


def test_one_vectorised_noniid_step_equals_the_sequential_step():
    config = _noniid(steps=1, lr=1e-2)
    stacked: dict = {}
    vec.train_noniid_seeds(config, SEEDS, models=stacked)
    for seed in SEEDS:
        sequential: dict = {}
        train_noniid(config, seed, progress=False, models=sequential)
        _assert_same_update(stacked[seed]["critic"], sequential["critic"], config.lr)


def test_shared_encoder_has_one_stack():
    config = get_configs("metric-learning", "smoke")[1]
    per_seed, stacks = vec.stack_seed_models(config, [0, 1])
    assert stacks["g2"] is stacks["g1"] and all(m["g2"] is m["g1"] for m in per_seed)


@pytest.mark.parametrize("changes", [{}, {"iid": True}, {"estimator": "nwj"}])
def test_noniid_records_match_sequential_per_seed(changes):
    """Step 0's bound is the initial critic's; step 1's shows one update; 20 steps in all."""
    config = _noniid(**changes)
    vectorised = vec.train_noniid_seeds(config, SEEDS)
    for seed in SEEDS:
        sequential = train_noniid(config, seed, progress=False)
        assert list(vectorised[seed].step) == list(sequential.step) == list(range(20))
        np.testing.assert_allclose(vectorised[seed].value, sequential.value, rtol=1e-5, atol=1e-5)
    assert not np.array_equal(vectorised[SEEDS[0]].value, vectorised[SEEDS[1]].value)


def test_run_config_seeds_dispatch_and_unsupported():
    out = vec.run_config_seeds(_noniid(steps=3), 2)
    assert sorted(out) == [0, 1] and all(len(r) == 3 for r in out.values())
    with pytest.raises(ValueError, match="multi-view"):
        vec.run_config_seeds(AdversarialConfig(dataset="digits"), [0])
    with pytest.raises(ValueError, match="encoder"):
        vec.train_multiview_seeds(_mv(encoder="convnet"), [0])
    with pytest.raises(ValueError, match="duplicates"):
        vec.train_noniid_seeds(_noniid(), [1, 1])


def test_divergence_names_step_and_seed(monkeypatch):
    def nan_objective(name, scores):
        return scores.mean() * float("nan")

    monkeypatch.setattr(vec, "training_objective", nan_objective)
    with pytest.raises(TrainingDiverged, match="step 0") as err:
        vec.train_noniid_seeds(_noniid(steps=3), [4, 7])
    assert err.value.seed == 4 and "seed 4" in "".join(err.value.__notes__)


# --------------------------------------------------------------------------------------------------
# Adam over stacked tensors = one Adam per seed
# --------------------------------------------------------------------------------------------------


def test_adam_on_stacked_parameters_equals_per_seed_adam():
    """Adam is elementwise and its only shared state, the step count, is common to all seeds."""
    gen = torch.Generator().manual_seed(0)
    n_seeds, shapes = 3, [(4, 5), (5,), (2, 3, 3)]
    stacked = [torch.randn(n_seeds, *s, generator=gen).requires_grad_() for s in shapes]
    per_seed = [[p[i].detach().clone().requires_grad_() for p in stacked] for i in range(n_seeds)]
    opt = torch.optim.Adam(stacked, lr=1e-2, eps=ADAM_EPS)
    opts = [torch.optim.Adam(ps, lr=1e-2, eps=ADAM_EPS) for ps in per_seed]
    for _ in range(7):
        grads = [torch.randn(n_seeds, *s, generator=gen) for s in shapes]
        for p, g in zip(stacked, grads, strict=True):
            p.grad = g.clone()
        opt.step()
        for i in range(n_seeds):
            for p, g in zip(per_seed[i], grads, strict=True):
                p.grad = g[i].clone()
            opts[i].step()
    for i in range(n_seeds):
        for p_stacked, p_seed in zip(stacked, per_seed[i], strict=True):
            torch.testing.assert_close(p_stacked[i], p_seed, rtol=0, atol=1e-7)


def test_sum_of_losses_gives_per_seed_gradients():
    """d(sum_s L_s)/d theta_s = dL_s/d theta_s through SeedStack's vmap."""
    modules = [build_models(_noniid(), seed)["critic"] for seed in SEEDS]
    stack = vec.SeedStack.from_modules([copy.deepcopy(m) for m in modules])
    gen = torch.Generator().manual_seed(1)
    x, y = (
        torch.randn(len(SEEDS), 16, 1, generator=gen),
        torch.randn(len(SEEDS), 16, 1, generator=gen),
    )
    stack(x, y).square().mean(dim=(1, 2)).sum().backward()
    for i, module in enumerate(modules):
        module(x[i], y[i]).square().mean().backward()
        for name, p in module.named_parameters():
            torch.testing.assert_close(stack.params[name].grad[i], p.grad, rtol=1e-5, atol=1e-7)
