"""Tests for the metric-learning additions (§4): the triplet loss, the ``neg_sqdist`` critic, the
shared encoder, and the "metric-learning" experiment (R2)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math

import numpy as np
import pytest
import torch

from mi_tutorial import critics as C
from mi_tutorial import estimators as E
from mi_tutorial import paper
from mi_tutorial.config import PROFILES, MultiViewConfig, config_from_dict
from mi_tutorial.data import digits_views
from mi_tutorial.encoders import make_encoder
from mi_tutorial.report import summaries
from mi_tutorial.runs import ResultsStore
from mi_tutorial.training import train_multiview


def scores(k: int, seed: int = 0, scale: float = 3.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(k, k, generator=g, dtype=torch.float64)


def literal_triplet(s: np.ndarray, margin: float) -> float:
    k = s.shape[0]
    return float(np.mean([max(0.0, margin - s[i, i] + s[i, (i + 1) % k]) for i in range(k)]))


# --- triplet loss ----------------------------------------------------------------------------------


@pytest.mark.parametrize("margin", [0.0, 0.5, 1.0, 4.0])
@pytest.mark.parametrize("k", [2, 5, 16])
def test_triplet_loss_matches_the_literal_formula(k, margin):
    s = scores(k, seed=k)
    assert E.triplet_loss(s, margin).item() == pytest.approx(
        literal_triplet(s.numpy(), margin), abs=1e-12
    )


def test_triplet_loss_default_margin_and_zero_when_positives_win():
    assert E.TRIPLET_MARGIN == 1.0
    s = scores(8)
    assert E.triplet_loss(s).item() == pytest.approx(literal_triplet(s.numpy(), 1.0), abs=1e-12)
    easy = torch.zeros(6, 6, dtype=torch.float64) + 10.0 * torch.eye(6, dtype=torch.float64)
    assert E.triplet_loss(easy, margin=1.0).item() == 0.0
    assert E.triplet_loss(easy, margin=11.0).item() == pytest.approx(1.0)


def test_triplet_loss_uses_exactly_one_negative_per_anchor():
    # Only S[i, i+1 mod K] may matter among the off-diagonal entries.
    s = scores(6, seed=3).requires_grad_(True)
    E.triplet_loss(s, margin=100.0).backward()  # margin large: every hinge is active
    used = torch.zeros(6, 6, dtype=torch.bool)
    for i in range(6):
        used[i, i] = used[i, (i + 1) % 6] = True
    assert torch.all(s.grad[~used] == 0)
    assert torch.all(s.grad[used] != 0)


def test_triplet_loss_rejects_a_negative_margin():
    with pytest.raises(ValueError, match="margin"):
        E.triplet_loss(scores(4), margin=-0.1)


def test_triplet_is_an_objective_not_an_estimator():
    assert "triplet" not in E.ESTIMATORS and "triplet" in E.OBJECTIVES
    s = scores(10, seed=4)
    assert E.estimate("triplet", s).item() == E.infonce(s).item()
    assert E.training_objective("triplet", s).item() == pytest.approx(
        -E.triplet_loss(s).item(), abs=1e-12
    )
    assert E.training_objective("triplet", s, margin=2.5).item() == pytest.approx(
        -literal_triplet(s.numpy(), 2.5), abs=1e-12
    )
    with pytest.raises(TypeError, match="margin"):
        E.training_objective("triplet", s, alpha=0.1)
    with pytest.raises(ValueError, match="triplet"):
        E.estimate("triplett", s)


# --- neg_sqdist critic -----------------------------------------------------------------------------


def test_neg_sqdist_critic_is_minus_squared_distance():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(5, 4, generator=g, dtype=torch.float64)
    y = torch.randn(5, 4, generator=g, dtype=torch.float64)
    critic = C.make_critic("neg_sqdist", 4)
    s = critic(x, y)
    assert sum(p.numel() for p in critic.parameters()) == 0
    for i in range(5):
        for j in range(5):
            assert s[i, j].item() == pytest.approx(-float(((x[i] - y[j]) ** 2).sum()), abs=1e-12)
    assert torch.all(critic(x, x).diagonal() == 0) and torch.all(s <= 0)


def test_neg_sqdist_critic_needs_equal_sizes():
    with pytest.raises(ValueError, match="neg_sqdist"):
        C.make_critic("neg_sqdist", 4, 3)
    with pytest.raises(ValueError, match="equal size"):
        C.NegSquaredDistanceCritic()(torch.zeros(3, 4), torch.zeros(3, 2))


# --- config: shared_encoder and the cache key -----------------------------------------------------


def _hash(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def test_default_shared_encoder_leaves_the_key_unchanged():
    for config in paper.get_configs("critic-capacity", "book") + paper.get_configs(
        "bijective", "paper"
    ):
        data = config.to_dict()
        assert data["shared_encoder"] is False  # always a column
        del data["shared_encoder"], data["adam"]
        assert config.key() == _hash(data)  # ... but hashed as before the fields existed
        shared = config.replace(shared_encoder=True)
        shared_data = shared.to_dict()
        del shared_data["adam"]
        assert shared.key() != config.key() and shared.key() == _hash(shared_data)
        tf1 = config.replace(adam="tf1")
        tf1_data = tf1.to_dict()
        del tf1_data["shared_encoder"]
        assert tf1.key() not in (config.key(), shared.key()) and tf1.key() == _hash(tf1_data)


def test_configs_round_trip_with_and_without_the_new_field():
    config = MultiViewConfig(critic="inner", shared_encoder=True, estimator="infonce")
    assert config_from_dict(config.to_dict()) == config
    old = {k: v for k, v in MultiViewConfig().to_dict().items() if k != "shared_encoder"}
    assert config_from_dict(old) == MultiViewConfig()
    assert "shared_encoder" in {f.name for f in dataclasses.fields(MultiViewConfig)}


# --- training with a shared encoder ----------------------------------------------------------------

DATA = (digits_views("train"), digits_views("test"))
TINY = {"hidden": (16,), "out_dim": 8}


def _config(**fields) -> MultiViewConfig:
    base = {
        "dataset": "digits",
        "batch_size": 32,
        "steps": 11,
        "eval_every": 10,
        "encoder": "mlp",
        "encoder_kwargs": TINY,
        "eval_batches": 2,
    }
    return MultiViewConfig(**(base | fields))


def test_shared_encoder_trains_one_encoder_for_both_views():
    models: dict = {}
    records = train_multiview(
        _config(critic="inner", shared_encoder=True), 0, progress=False, data=DATA, models=models
    )
    assert models["g2"] is models["g1"]
    separate: dict = {}
    train_multiview(_config(critic="inner"), 0, progress=False, data=DATA, models=separate)
    assert separate["g2"] is not separate["g1"]
    assert set(records["metric"]) >= {"accuracy", "bound", "train_bound"}
    assert np.isfinite(records[records["step"] == 10]["value"]).all()


def test_shared_encoder_with_inner_critic_gives_the_k_pair_identity_on_data():
    torch.manual_seed(0)
    g = make_encoder("mlp", input_dim=32, **TINY).double()
    train = DATA[0]
    x, y = train.top[:64].double(), train.bottom[:64].double()
    s = C.make_critic("inner", 8)(g(x), g(y))
    assert E.infonce(s).item() == pytest.approx(math.log(64) - E.k_pair_loss(s).item(), abs=1e-12)


def test_triplet_run_reports_the_infonce_bound_of_its_scores():
    records = train_multiview(
        _config(critic="neg_sqdist", estimator="triplet", shared_encoder=True),
        1,
        progress=False,
        data=DATA,
    )
    bounds = records[records["metric"] == "bound"]["value"]
    assert np.isfinite(bounds).all() and (bounds <= math.log(32) + 1e-9).all()


def test_shared_encoder_rejects_views_of_different_sizes():
    train, test = DATA
    lopsided = type(train)(train.top, train.bottom[:, :16], train.labels)
    with pytest.raises(ValueError, match="shared_encoder"):
        train_multiview(
            _config(critic="inner", shared_encoder=True), 0, progress=False, data=(lopsided, test)
        )


# --- the experiment --------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_metric_learning_configs(profile):
    configs = paper.get_configs("metric-learning", profile)
    variants = {(c.critic, c.estimator, c.shared_encoder) for c in configs}
    assert variants == {
        ("bilinear", "infonce", False),
        ("inner", "infonce", True),
        ("neg_sqdist", "triplet", True),
    }
    assert len({c.key() for c in configs}) == 3
    assert {c.encoder for c in configs} == {"mlp"}
    # (a) is E4's MLP + bilinear + I_NCE run, apart from the experiment name.
    e4 = next(
        c
        for c in paper.get_configs("critic-capacity", profile)
        if (c.critic, c.estimator) == ("bilinear", "infonce")
    )
    (a,) = [c for c in configs if c.critic == "bilinear"]
    assert a.replace(experiment="critic-capacity") == e4
    if profile == "book":
        assert (configs[0].steps, configs[0].eval_every) == (3_001, 500)
        assert paper.default_seeds("metric-learning", profile) == [0]


def test_metric_learning_smoke_run(tmp_path):
    records = paper.run(
        "metric-learning", "smoke", store=ResultsStore(tmp_path / "store"), progress=False
    )
    summary = summaries.final_summary(records)
    acc = summary[summary["metric"] == "accuracy"]
    assert len(acc) == 3 and acc["mean"].between(0.1, 1.0).all()
    assert paper.describe("metric-learning").startswith("R2")
