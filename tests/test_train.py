"""Tests for the training loops (fast: sklearn digits, tiny encoders, tens of steps)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

import mi_tutorial.training.loop as loop_module
import mi_tutorial.training.multiview as train_module
from mi_tutorial.config import AdversarialConfig, MultiViewConfig, NonIIDConfig
from mi_tutorial.data import TwoViews, digits_views
from mi_tutorial.training import (
    EpochBatches,
    TrainingDiverged,
    run_config,
    train_adversarial,
    train_multiview,
    train_noniid,
    uniform_cross_entropy,
)

SMALL_MLP = {"hidden": (32,), "out_dim": 16}
TINY_NVP = {"couplings": 2, "hidden": (16, 16)}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _mv(**changes) -> MultiViewConfig:
    base = {
        "dataset": "digits",
        "encoder": "mlp",
        "encoder_kwargs": SMALL_MLP,
        "critic": "bilinear",
        "estimator": "infonce",
        "steps": 25,
        "eval_every": 10,
        "batch_size": 64,
        "lr": 1e-2,
    }
    base.update(changes)
    return MultiViewConfig(**base)


def _adv(**changes) -> AdversarialConfig:
    base = {
        "dataset": "digits",
        "encoder": "realnvp",
        "encoder_kwargs": TINY_NVP,
        "steps": 6,
        "eval_every": 3,
        "batch_size": 64,
        "warmup_steps": 5,
        "classifier_steps": 2,
        "classifier_lr": 1e-2,
        "encoder_lr": 1e-2,
    }
    base.update(changes)
    return AdversarialConfig(**base)


def _values(records: pd.DataFrame, metric: str) -> pd.Series:
    return records[records.metric == metric].set_index("step")["value"]


def _same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    cols = ["step", "metric", "value"]
    return a[cols].equals(b[cols])


# --------------------------------------------------------------------------------------------------
# Multi-view
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mv_records() -> pd.DataFrame:
    return train_multiview(_mv(), seed=0, progress=False)


def test_multiview_records_shape_and_schedule(mv_records):
    records = mv_records
    assert list(records.columns) == ["step", "metric", "value", "elapsed_s"]
    assert records["step"].dtype == np.int64 and records["value"].dtype == np.float64
    # evaluate before the update at every multiple of eval_every: 0, 10, 20 for 25 steps
    for metric in ("accuracy", "bound", "train_bound"):
        assert list(_values(records, metric).index) == [0, 10, 20], metric
    assert "objective" not in set(records.metric) and "logcond" not in set(records.metric)
    acc = _values(records, "accuracy")
    assert ((acc > 0.1) & (acc <= 1.0)).all()
    train_bound = _values(records, "train_bound")
    assert math.isnan(train_bound[0]) and np.isfinite(train_bound[[10, 20]]).all()
    # InfoNCE never exceeds log K; with K = 64 here
    assert (_values(records, "bound") <= math.log(64) + 1e-6).all()
    assert records.groupby("step")["elapsed_s"].first().is_monotonic_increasing


def test_multiview_learns_something(mv_records):
    bound = _values(mv_records, "bound")
    assert bound[20] > bound[0] + 0.5  # 25 steps at lr 1e-2 already raise I_NCE on digits


def test_multiview_is_deterministic_and_seed_dependent(mv_records):
    again = train_multiview(_mv(), seed=0, progress=False)
    assert _same(mv_records, again)
    other = train_multiview(_mv(), seed=1, progress=False)
    assert not _same(mv_records, other)


def test_eval_schedule_does_not_change_training():
    # evaluation (here incl. the random Jacobian inputs) draws from its own random stream, so the
    # parameters at step 20 do not depend on how often we evaluated before
    cfg = _mv(eval_jacobian=True, steps=21)
    dense = train_multiview(cfg, seed=0, progress=False)
    sparse = train_multiview(cfg.replace(eval_every=20), seed=0, progress=False)
    assert list(_values(sparse, "bound").index) == [0, 20]
    assert _values(sparse, "bound")[20] == _values(dense, "bound")[20]
    assert _values(sparse, "accuracy")[20] == _values(dense, "accuracy")[20]


def test_global_rng_untouched():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train_multiview(_mv(steps=2), seed=0, progress=False)
    assert torch.equal(torch.rand(3), expected)


def test_target_objective_recorded():
    t = 1.0
    records = train_multiview(_mv(target=t, estimator="nwj"), seed=0, progress=False)
    objective, bound = _values(records, "objective"), _values(records, "bound")
    assert list(objective.index) == [0, 10, 20]
    np.testing.assert_allclose(objective, (bound - t).abs())
    # L_t is driven towards 0 from its initial value
    assert objective[20] < objective[0]


def test_noise_and_jacobian_logcond():
    cfg = _mv(
        encoder="residual_mlp",
        encoder_kwargs={"layers": 2},
        noise_std=0.05,
        eval_jacobian=True,
        steps=11,
        eval_every=10,
        eval_batches=1,
    )
    records = train_multiview(cfg, seed=0, progress=False)
    logcond = records[records.metric == "logcond"]
    assert logcond.groupby("step").size().to_dict() == {0: 128, 10: 128}
    # the residual MLP starts at ≈ the identity: log-condition ≈ 0, and training moves it
    assert logcond[logcond.step == 0].value.max() < 0.01
    assert logcond[logcond.step == 10].value.max() > logcond[logcond.step == 0].value.max()
    assert _same(records, train_multiview(cfg, seed=0, progress=False))


def test_eval_batches_limits_the_bound(monkeypatch):
    calls = []
    original = train_module.estimate

    def counting(name, scores):
        calls.append(scores.shape[0])
        return original(name, scores)

    monkeypatch.setattr(train_module, "estimate", counting)
    train_multiview(_mv(steps=1, eval_batches=2), seed=0, progress=False)
    # one evaluation on 2 test batches (the training bound of I_NCE reuses its objective)
    assert calls == [64, 64]
    calls.clear()
    train_multiview(_mv(steps=1), seed=0, progress=False)
    assert len(calls) == len(digits_views("test")) // 64


def test_js_trained_estimators_report_their_own_bound(monkeypatch):
    # "js" is trained with the f-GAN JS objective but reports NWJ on S + 1: the training-batch
    # bound must then come from estimate() at every step, not from the objective
    calls = []
    original = train_module.estimate

    def counting(name, scores):
        calls.append(name)
        return original(name, scores)

    monkeypatch.setattr(train_module, "estimate", counting)
    monkeypatch.setattr(loop_module, "estimate", counting)  # the training-batch bound's
    records = train_multiview(_mv(estimator="js", steps=3, eval_batches=1), seed=0, progress=False)
    assert calls == ["js"] * 4  # 1 test batch at step 0 + 3 training batches
    assert np.isfinite(_values(records, "bound")).all()


@pytest.mark.parametrize("estimator", ["dv", "smile", "tuba", "interpolated"])
def test_other_estimators_train(estimator):
    records = train_multiview(
        _mv(estimator=estimator, steps=11, eval_batches=2), seed=0, progress=False
    )
    assert np.isfinite(records.value[records.step == 10]).all()


def test_nan_objective_raises_with_step_and_estimator(monkeypatch):
    def nan_after_three(name, scores, _calls=[0]):  # noqa: B006 - a call counter
        _calls[0] += 1
        return scores.mean() * (float("nan") if _calls[0] > 3 else 1.0)

    monkeypatch.setattr(train_module, "training_objective", nan_after_three)
    with pytest.raises(TrainingDiverged, match=r"step 3\b.*'infonce'.*'bilinear'.*'mlp'") as err:
        train_multiview(_mv(), seed=0, progress=False)
    assert err.value.step == 3
    assert "lower learning rate" in str(err.value)


def test_nan_inputs_raise_training_diverged():
    train, test = digits_views("train"), digits_views("test")
    bad = TwoViews(torch.full_like(train.top, float("nan")), train.bottom, train.labels)
    with pytest.raises(TrainingDiverged, match="step 0"):
        train_multiview(_mv(steps=3), seed=0, progress=False, data=(bad, test))


def test_huge_learning_rate_diverges():
    with pytest.raises(TrainingDiverged, match="nwj"):
        train_multiview(
            _mv(estimator="nwj", lr=1e6, steps=200, eval_every=100), seed=0, progress=False
        )


def test_bad_arguments():
    with pytest.raises(ValueError, match="dataset"):
        train_multiview(_mv(dataset="mnits"), seed=0, progress=False)
    with pytest.raises(ValueError, match="estimator"):
        train_multiview(_mv(estimator="infonec"), seed=0, progress=False)
    with pytest.raises(ValueError, match="seed"):
        run_config(_mv(), seed=-1, progress=False)
    with pytest.raises(TypeError, match="seed"):
        run_config(_mv(), seed=0.5, progress=False)
    with pytest.raises(ValueError, match="batch_size"):
        small = digits_views("test").subset(10)
        train_multiview(_mv(), seed=0, progress=False, data=(digits_views("train"), small))
    with pytest.raises(TypeError, match="MultiViewConfig"):
        train_multiview(NonIIDConfig(), seed=0, progress=False)


def test_epoch_batches_cover_each_epoch_once():
    gen = torch.Generator().manual_seed(0)
    batches = EpochBatches(10, 3, gen)
    epoch = torch.cat([batches.next() for _ in range(3)])  # 9 of 10, remainder dropped
    assert len(set(epoch.tolist())) == 9
    nxt = batches.next()  # a new permutation starts
    assert len(nxt) == 3
    with pytest.raises(ValueError, match="batch_size"):
        EpochBatches(2, 3, gen)


# --------------------------------------------------------------------------------------------------
# Adversarial
# --------------------------------------------------------------------------------------------------


def test_uniform_cross_entropy():
    assert uniform_cross_entropy(torch.zeros(4, 10)).item() == pytest.approx(math.log(10))
    peaked = torch.zeros(4, 10)
    peaked[:, 0] = 5.0
    assert uniform_cross_entropy(peaked).item() > math.log(10) + 0.5


def test_adversarial_records_and_invertibility():
    records = train_adversarial(_adv(), seed=0, progress=False)
    assert list(records.columns) == ["step", "metric", "value", "elapsed_s"]
    for metric in ("accuracy", "classifier_accuracy", "reconstruction_error"):
        assert list(_values(records, metric).index) == [0, 3], metric
    assert (_values(records, "reconstruction_error") < 1e-4).all()
    assert ((_values(records, "accuracy") > 0.1) & (_values(records, "accuracy") <= 1)).all()
    assert _same(records, train_adversarial(_adv(), seed=0, progress=False))
    assert not _same(records, train_adversarial(_adv(), seed=1, progress=False))


def test_adversarial_encoder_fools_the_classifier():
    # with a large encoder step size the adversary's test accuracy collapses within 30 steps, and
    # so does the accuracy of a freshly fitted linear probe, although g stays invertible
    cfg = _adv(
        steps=31,
        eval_every=30,
        warmup_steps=60,
        classifier_lr=3e-2,
        encoder_lr=1e-1,
        classifier_steps=1,
    )
    records = train_adversarial(cfg, seed=0, progress=False)
    clf_acc, acc = _values(records, "classifier_accuracy"), _values(records, "accuracy")
    assert clf_acc[0] > 0.7
    assert clf_acc[30] < clf_acc[0] - 0.15
    assert acc[30] < acc[0] - 0.03
    assert (_values(records, "reconstruction_error") < 1e-4).all()


def test_adversarial_divergence_names_adversarial():
    train, test = digits_views("train"), digits_views("test")
    bad = TwoViews(torch.full_like(train.top, float("inf")), train.bottom, train.labels)
    with pytest.raises(TrainingDiverged, match="step 0.*'adversarial'"):
        train_adversarial(_adv(), seed=0, progress=False, data=(bad, test))


# --------------------------------------------------------------------------------------------------
# Non-i.i.d.
# --------------------------------------------------------------------------------------------------


def test_noniid_one_bound_per_step():
    cfg = NonIIDConfig(steps=40, lr=1e-3)
    records = train_noniid(cfg, seed=0, progress=False)
    assert list(records.columns) == ["step", "metric", "value", "elapsed_s"]
    assert list(records.step) == list(range(40)) and set(records.metric) == {"bound"}
    assert np.isfinite(records.value).all()
    assert (records.value <= math.log(cfg.batch_size) + 1e-6).all()
    assert _same(records, train_noniid(cfg, seed=0, progress=False))
    assert not _same(records, train_noniid(cfg, seed=1, progress=False))
    iid = train_noniid(cfg.replace(iid=True), seed=0, progress=False)
    assert not _same(records, iid)
    sparse = train_noniid(cfg.replace(eval_every=10), seed=0, progress=False)
    assert list(sparse.step) == [0, 10, 20, 30]
    # recording less often must not change the values that are recorded
    np.testing.assert_array_equal(sparse.value, records.value[::10])


def test_run_config_dispatch():
    records = run_config(NonIIDConfig(steps=5, estimator="nwj"), seed=0, progress=False)
    assert len(records) == 5
    with pytest.raises(ValueError, match="data=None"):
        run_config(
            NonIIDConfig(steps=5),
            seed=0,
            progress=False,
            data=(digits_views("train"), digits_views("test")),
        )


# --------------------------------------------------------------------------------------------------
# Slow: the paper's §3.2 number on real MNIST
# --------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_mnist_mlp_bilinear_infonce_1k_steps():
    """MLP encoders + bilinear critic + I_NCE, 1,000 steps: paper ≈0.855 linear accuracy at 1k."""
    cfg = MultiViewConfig(steps=1_001, eval_every=1_000, eval_batches=10)
    records = train_multiview(cfg, seed=0, progress=False)
    acc = _values(records, "accuracy")
    assert acc[1000] >= 0.85, acc.to_dict()


def test_tf1_adam_matches_the_tf1_update_rule():
    """θ ← θ − α√(1−β₂ᵗ)/(1−β₁ᵗ) · m / (√v + 1e-8), written out literally (TF1's AdamOptimizer)."""
    from mi_tutorial.training import TF1Adam, make_adam

    torch.manual_seed(0)
    theta = torch.randn(5, dtype=torch.float64)
    param = torch.nn.Parameter(theta.clone())
    opt = TF1Adam([param], lr=1e-2)
    m = torch.zeros_like(theta)
    v = torch.zeros_like(theta)
    ref = theta.clone()
    for t in range(1, 8):
        grad = torch.sin(3 * ref) * 1e-4  # small gradients: the ε term matters
        param.grad = torch.sin(3 * param.detach()) * 1e-4
        opt.step()
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad**2
        alpha = 1e-2 * math.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        ref = ref - alpha * m / (v.sqrt() + 1e-8)
        torch.testing.assert_close(param.detach(), ref, rtol=1e-10, atol=1e-12)
    keras = make_adam([torch.nn.Parameter(theta.clone())], 1e-2, "keras")
    assert keras.param_groups[0]["eps"] == 1e-7 and not isinstance(keras, TF1Adam)
    with pytest.raises(ValueError, match="adam"):
        make_adam([param], 1e-2, "tf2")


# --------------------------------------------------------------------------------------------------
# No non-finite or absurd metric is ever recorded (issue 26)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("estimator", ["infonce", "js"])
def test_exploded_run_raises_and_stores_nothing(tmp_path, estimator):
    from mi_tutorial.paper import get_configs
    from mi_tutorial.runs import ResultsStore, run_sweep

    config = get_configs("encoder-vs-estimator", "smoke")[0].replace(lr=10.0, estimator=estimator)
    store = ResultsStore(tmp_path)
    with pytest.raises(TrainingDiverged, match=r"^training diverged at step \d+: the training"):
        run_sweep([config], [0], store=store, progress=False)
    assert not store.has(config, 0)
    assert list(tmp_path.rglob("seed-0.csv")) == [] and list(tmp_path.rglob("seed-0.json")) == []


@pytest.mark.parametrize(
    ("metric", "value", "problem"),
    [
        ("bound", -7.4e7, "outside the plausible [-1e+06, 10000]"),
        ("bound", 2e4, "outside the plausible"),  # no MI estimate here exceeds ≈11 nats
        ("bound", -1.02e4, None),  # an untrained I_NWJ critic (smoke ConvNet, step 0)
        ("bound", float("-inf"), "the bound is -inf"),
        ("train_bound", float("nan"), None),  # step 0: no training batch yet
        ("objective", float("nan"), "the objective is nan"),
        ("bound", -147.64, None),  # the largest |bound| stored at the paper profile
        ("accuracy", 1.5, "outside [0, 1]"),
        ("classifier_accuracy", -0.1, "outside [0, 1]"),
        ("reconstruction_error", float("inf"), None),  # a broken inverse is a finding (E2)
        ("reconstruction_error", float("nan"), None),
        ("accuracy", 0.0, None),
    ],
)
def test_implausible_values(metric, value, problem):
    found = loop_module.implausible(metric, value)
    assert (found is None) if problem is None else (problem in found)


def test_plausibility_limit_is_above_every_stored_paper_bound():
    from pathlib import Path

    limit = loop_module.PLAUSIBLE_BOUND_NATS
    root = Path(__file__).resolve().parents[1] / "results" / "paper"
    for path in root.glob("*/*/seed-*.csv"):
        records = pd.read_csv(path)
        values = records.value[records.metric.isin(loop_module.BOUND_METRICS)].abs()
        assert not (values[np.isfinite(values)] > limit).any(), path


def test_accuracy_outside_0_1_raises_in_the_adversarial_and_supervised_trainers(monkeypatch):
    import mi_tutorial.training.adversarial as adversarial_module

    def absurd(*args, **kwargs):
        return {"accuracy": 1.5, "classifier_accuracy": 0.5}

    monkeypatch.setattr(adversarial_module, "probe_and_head", absurd)
    with pytest.raises(TrainingDiverged, match=r"step 0: the accuracy is 1.5, outside \[0, 1\]"):
        train_adversarial(_adv(), seed=0, progress=False)


def test_nonfinite_test_bound_raises_before_it_is_recorded(monkeypatch):
    monkeypatch.setattr(train_module, "test_bound", lambda *a, **k: float("-inf"))
    with pytest.raises(TrainingDiverged, match=r"^training diverged at step 0: the bound is -inf"):
        train_multiview(_mv(), seed=0, progress=False)


def test_noniid_exploded_bound_raises(monkeypatch):
    import mi_tutorial.training.noniid as noniid_module

    monkeypatch.setattr(noniid_module, "reported_bound", lambda *a: torch.tensor(-1e9))
    with pytest.raises(TrainingDiverged, match=r"step 0: the training-batch bound is -1e\+09"):
        train_noniid(NonIIDConfig(steps=5), seed=0, progress=False)


def test_the_compiled_concat_kernel_leaves_the_records_unchanged_up_to_rounding(monkeypatch):
    """Same seed, a short run: the concat critic's compiled pairwise kernel (the default) and
    eager PyTorch (``MI_TUTORIAL_COMPILE=0``) give the same records within float tolerance."""
    config = _mv(critic="concat", steps=12, eval_every=6, lr=1e-3)
    compiled = train_multiview(config, seed=0, progress=False)
    monkeypatch.setenv("MI_TUTORIAL_COMPILE", "0")
    eager = train_multiview(config, seed=0, progress=False)
    assert compiled[["step", "metric"]].equals(eager[["step", "metric"]])
    np.testing.assert_allclose(compiled["value"], eager["value"], rtol=1e-4, atol=1e-4)


def test_fused_adam_is_the_default_and_leaves_the_records_unchanged_up_to_rounding(monkeypatch):
    """Same seed, a short run: the fused Adam kernel (the default) and PyTorch's per-parameter
    loop (``MI_TUTORIAL_FUSED_ADAM=0``) give the same records within float tolerance, for both
    Adam variants."""
    from mi_tutorial.training import make_adam

    param = torch.nn.Parameter(torch.zeros(3))
    assert make_adam([param], 1e-3).param_groups[0]["fused"]
    assert make_adam([param], 1e-3, "tf1").param_groups[0]["fused"]
    for adam in ("keras", "tf1"):
        config = _mv(steps=12, eval_every=6, lr=1e-3, adam=adam)
        monkeypatch.delenv("MI_TUTORIAL_FUSED_ADAM", raising=False)
        fused = train_multiview(config, seed=0, progress=False)
        monkeypatch.setenv("MI_TUTORIAL_FUSED_ADAM", "0")
        assert not make_adam([param], 1e-3).param_groups[0]["fused"]
        loop = train_multiview(config, seed=0, progress=False)
        assert fused[["step", "metric"]].equals(loop[["step", "metric"]])
        np.testing.assert_allclose(fused["value"], loop["value"], rtol=1e-4, atol=1e-4)


def test_make_adam_falls_back_to_the_loop_where_the_fused_kernel_is_refused(monkeypatch):
    from mi_tutorial.training import optim

    real_adam = torch.optim.Adam

    def old_torch_adam(params, **kwargs):  # what PyTorch < 2.4 says for CPU parameters
        if kwargs.get("fused"):
            raise RuntimeError("`fused=True` requires all the params to be CUDA tensors")
        return real_adam(params, **kwargs)

    monkeypatch.setattr(optim, "_FUSED_FAILED", [])
    monkeypatch.setattr(optim.torch.optim, "Adam", old_torch_adam)
    with pytest.warns(RuntimeWarning, match="fused Adam is unavailable"):
        opt = optim.make_adam([torch.nn.Parameter(torch.zeros(3))], 1e-3)
    assert not opt.param_groups[0]["fused"]
    assert optim.adam_kernel() == "per-parameter loop"


def test_fused_adam_updates_equal_the_loop_to_float_rounding():
    """200 updates of the same tensor with the same gradients (some large, some 1e-3 times
    smaller): PyTorch's fused kernel and its per-parameter loop differ by rounding only."""
    torch.manual_seed(0)
    start = torch.randn(300, 392)
    fused, loop = torch.nn.Parameter(start.clone()), torch.nn.Parameter(start.clone())
    opts = [
        torch.optim.Adam([fused], lr=1e-3, eps=1e-7, fused=True),
        torch.optim.Adam([loop], lr=1e-3, eps=1e-7, foreach=False),
    ]
    for t in range(200):
        grad = torch.randn_like(start) * (1e-3 if t % 2 else 1.0)
        fused.grad, loop.grad = grad.clone(), grad.clone()
        for opt in opts:
            opt.step()
    assert not torch.equal(fused, start)
    torch.testing.assert_close(fused, loop, rtol=0, atol=5e-7)
