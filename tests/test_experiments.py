"""Tests for the experiment registry, the profiles and the summaries (no training except one
smoke run per run kind, marked by needing the training stack)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mi_tutorial import paper
from mi_tutorial.config import PROFILES, AdversarialConfig, MultiViewConfig, NonIIDConfig
from mi_tutorial.report import summaries
from mi_tutorial.runs import ResultsStore

IDS = [
    "bijective",
    "adversarial",
    "residual",
    "critic-capacity",
    "encoder-vs-estimator",
    "noniid",
    "supervised",
    "initialisation",
    "metric-learning",
]


def fake_run(config, seed, *, device="cpu", progress=True):
    rng = np.random.default_rng([seed, int(config.key(), 16) % 2**32])
    steps = range(0, config.steps, config.eval_every)
    rows = [(s, m, float(rng.random())) for s in steps for m in ("accuracy", "bound")]
    return pd.DataFrame(rows, columns=["step", "metric", "value"])


def test_registry_order_and_descriptions():
    assert paper.experiment_ids() == IDS
    codes = [paper.EXPERIMENTS[i].code for i in IDS]
    assert codes == ["E1", "E2", "E3", "E4", "E5", "E6", "S", "R1", "R2"]
    assert "Fig. 3" in paper.describe("critic-capacity") and paper.describe("noniid").startswith(
        "E6"
    )


@pytest.mark.parametrize("experiment", IDS)
@pytest.mark.parametrize("profile", PROFILES)
def test_every_experiment_builds_distinct_configs(experiment, profile):
    configs = paper.get_configs(experiment, profile)
    assert configs and len({c.key() for c in configs}) == len(configs)
    for c in configs:
        assert (c.experiment, c.profile) == (experiment, profile)
        if profile == "smoke":
            assert c.steps <= 21
            assert getattr(c, "dataset", "digits") == "digits"
        else:
            assert getattr(c, "dataset", "mnist") == "mnist"
            assert (c.batch_size, c.lr) == (128, 1e-4)
    seeds = paper.default_seeds(experiment, profile)
    assert seeds == list(range(len(seeds)))


def test_supervised_reference_trains_both_encoders_end_to_end(tmp_path):
    configs = paper.get_configs("supervised", "paper")
    assert [c.encoder for c in configs] == ["mlp", "convnet"]
    assert all(
        c.kind == "supervised" and (c.steps, c.eval_every) == (21_000, 1_000) for c in configs
    )
    store = ResultsStore(tmp_path)
    records = paper.run("supervised", "smoke", store=store, run_fn=fake_run, progress=False)
    assert set(records["encoder"]) == {"mlp", "convnet"}


def test_paper_profile_matches_the_paper():
    # E1: RealNVP 30 shift-only couplings × [512, 512], init std 1e-4, bilinear, both bounds;
    # the notebook's permutations (fresh per encoder and seed, permute → coupling).
    e1 = paper.get_configs("bijective", "paper")
    assert {c.estimator for c in e1} == {"infonce", "nwj"}
    for c in e1:
        assert (c.encoder, c.critic, c.steps, c.eval_every) == ("realnvp", "bilinear", 21_000, 1000)
        assert dict(c.encoder_kwargs) == {
            "couplings": 30,
            "hidden": (512, 512),
            "shift_only": True,
            "init_std": 1e-4,
            "permutations": "notebook",
        }
    # E2: one run, 4,001 steps, probe every 400, paper learning rates, 10:1, 1k warm-up.
    e2 = paper.get_configs("adversarial", "paper")[0]  # paper App. B first
    assert isinstance(e2, AdversarialConfig)
    assert (e2.steps, e2.eval_every, e2.classifier_lr, e2.encoder_lr) == (4001, 400, 1e-4, 1e-6)
    assert (e2.classifier_steps, e2.warmup_steps) == (10, 1000)
    assert paper.default_seeds("adversarial", "paper") == [0]
    # E3: residual MLP 5 × 392 near identity, coupled noise 0.05, Jacobians.
    for c in paper.get_configs("residual", "paper"):
        assert (c.encoder, c.noise_std, c.eval_jacobian) == ("residual_mlp", 0.05, True)
        assert dict(c.encoder_kwargs) == {"layers": 5, "init_std": 1e-4}
    # E4: MLP 392-300-300-100 × {bilinear, separable, concat} × {NCE, NWJ}, 20 seeds.
    e4 = paper.get_configs("critic-capacity", "paper")
    assert {(c.critic, c.estimator) for c in e4} == {
        (k, e) for k in ("bilinear", "separable", "concat") for e in ("infonce", "nwj")
    }
    assert all(dict(c.encoder_kwargs) == {"hidden": (300, 300), "out_dim": 100} for c in e4)
    assert all(c.init == "glorot" and c.noise_std == 0 and c.target is None for c in e4)
    assert all(c.eval_batches is None for c in e4)  # the bound on the whole test set
    assert paper.default_seeds("critic-capacity", "paper") == list(range(20))
    # E5: {MLP, ConvNet} × t ∈ {2, 4} × {NCE, NWJ}, bilinear.
    e5 = paper.get_configs("encoder-vs-estimator", "paper")
    assert {(c.encoder, c.target, c.estimator) for c in e5} == {
        (e, t, s) for e in ("mlp", "convnet") for t in (2.0, 4.0) for s in ("infonce", "nwj")
    }
    assert all(c.critic == "bilinear" for c in e5)
    # E6: concat critic 5 × 10 on 2-d pairs, 20k steps, {NCE, NWJ} × {non-iid, iid}.
    e6 = paper.get_configs("noniid", "paper")
    assert all(isinstance(c, NonIIDConfig) for c in e6)
    assert {(c.estimator, c.iid) for c in e6} == {
        (e, i) for e in ("infonce", "nwj") for i in (False, True)
    }
    assert all((c.hidden, c.layers, c.steps, c.batch_size) == (10, 5, 20_000, 128) for c in e6)


def test_book_schedules_evaluate_the_last_update_and_shrink_realnvp():
    for experiment in IDS:
        for c in paper.get_configs(experiment, "book"):
            if isinstance(c, MultiViewConfig):
                assert (c.steps - 1) % c.eval_every == 0
                assert c.eval_batches == paper.BOOK_EVAL_BATCHES
            assert c.steps < paper.get_configs(experiment, "paper")[0].steps
    assert {c.estimator for c in paper.get_configs("encoder-vs-estimator", "book")} == {"infonce"}
    e5_deviations = paper.profile_deviations("encoder-vs-estimator", "book")
    assert sum("not run:" in line and "estimator=nwj" in line for line in e5_deviations) == 4
    assert "eval_batches: 20 batches (paper: the whole test set)" in e5_deviations
    e2 = paper.get_configs("adversarial", "book")[0]
    assert (e2.steps, e2.eval_every, e2.warmup_steps) == (201, 100, 300)  # a short live run
    assert dict(e2.encoder_kwargs)["couplings"] == 10


def test_unknown_names_list_the_options():
    with pytest.raises(ValueError, match="Did you mean 'critic-capacity'.*noniid"):
        paper.get_configs("critic-capacty", "book")
    with pytest.raises(ValueError, match="unknown profile 'fast'.*book, paper, smoke"):
        paper.default_seeds("noniid", "fast")
    with pytest.raises(ValueError, match="experiment"):
        paper.describe("nope")


def test_profile_deviations():
    assert all(paper.profile_deviations(e, "paper") == [] for e in IDS)
    book = paper.profile_deviations("bijective", "book")
    assert "1 seed(s) per run instead of 20" in book
    assert "encoder_kwargs.couplings: 10 (paper: 30)" in book  # kwargs differ key by key
    assert any(line.startswith("steps: 301 (paper: 21000)") for line in book)
    smoke = paper.profile_deviations("critic-capacity", "smoke")
    assert any("digits" in line for line in smoke)
    assert all(
        isinstance(line, str)
        for e in IDS
        for p in PROFILES
        for line in paper.profile_deviations(e, p)
    )


def test_run_uses_the_store_and_default_seeds(tmp_path):
    store = ResultsStore(tmp_path)
    records = paper.run("critic-capacity", "smoke", store=store, run_fn=fake_run, progress=False)
    assert set(records["critic"]) == {"bilinear", "separable", "concat"}
    assert set(records["seed"]) == {0}
    assert len(store.load_all(profile="smoke", experiment="critic-capacity")) == len(records)
    two = paper.run("noniid", "smoke", seeds=2, store=store, run_fn=fake_run, progress=False)
    assert set(two["seed"]) == {0, 1}


def _records(values_by_seed, metric="accuracy", eval_every=10, extra=None):
    frames = []
    for seed, values in values_by_seed.items():
        steps = np.arange(len(values)) * eval_every
        frame = pd.DataFrame({"step": steps, "metric": metric, "value": values})
        frame["seed"], frame["config_key"], frame["eval_every"] = seed, "k1", eval_every
        frame["critic"], frame["experiment"] = "bilinear", "x"
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    if extra is not None:
        out = pd.concat([out, extra], ignore_index=True)
    return out


def test_final_summary_mean_sd_over_seeds():
    other = _records({0: [0.1, 0.2]}).assign(config_key="k2", critic="concat")
    records = _records({0: [0.5, 0.8], 1: [0.5, 0.9], 2: [0.5, 0.7]}, extra=other)
    summary = summaries.final_summary(records)
    row = summary[summary["critic"] == "bilinear"].iloc[0]
    assert row["metric"] == "accuracy" and row["step"] == 10 and row["n"] == 3
    assert row["mean"] == pytest.approx(0.8) and row["sd"] == pytest.approx(0.1)
    single = summary[summary["critic"] == "concat"].iloc[0]
    assert single["mean"] == pytest.approx(0.2) and single["sd"] == 0.0 and single["n"] == 1
    table = summaries.format_summary(summary)
    assert "0.8000 ± 0.1000" in table.to_string() and "concat" in table.to_string()


def test_label_columns_keep_only_what_tells_configs_apart():
    configs = paper.get_configs("critic-capacity", "smoke")
    records = pd.concat(
        [
            fake_run(c, 0).assign(
                config_key=c.key(),
                critic=c.critic,
                estimator=c.estimator,
                lr=c.lr,
                critic_kwargs=str(dict(c.critic_kwargs)),
            )
            for c in configs
        ]
    )
    assert summaries.label_columns(records) == ["critic", "estimator"]
    assert summaries.label_columns(records[records["critic"] == "concat"]) == ["estimator"]


def test_final_summary_averages_the_tail_of_per_step_series():
    values = np.r_[np.zeros(90), np.ones(11)]  # steps 0..100; the last 10% are ones
    summary = summaries.final_summary(_records({0: values}, metric="bound", eval_every=1))
    assert summary.iloc[0]["mean"] == pytest.approx(1.0)


@pytest.mark.parametrize("experiment", ["adversarial", "residual", "noniid"])
def test_smoke_profile_trains_for_real(tmp_path, experiment):
    pytest.importorskip("mi_tutorial.critics")
    records = paper.run(experiment, "smoke", store=ResultsStore(tmp_path), progress=False)
    assert {"step", "metric", "value", "seed", "config_key"} <= set(records)
    assert np.isfinite(records[records["metric"] != "train_bound"]["value"]).all()
    summary = summaries.final_summary(records)
    assert not summary.empty and np.isfinite(summary["mean"]).all()
    if experiment != "adversarial":  # a forced re-run through the store is bit-identical
        again = paper.run(
            experiment, "smoke", store=ResultsStore(tmp_path), force=True, progress=False
        )
        pd.testing.assert_frame_equal(
            again.drop(columns="elapsed_s"), records.drop(columns="elapsed_s")
        )
