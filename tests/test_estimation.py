"""Tests for the synthetic estimation loop (mi_tutorial.training.estimation)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mi_tutorial.training.estimation import (
    STAIRCASE,
    EstimationConfig,
    error_table,
    mi_schedule,
    run_grid,
    train_estimator,
)

TINY = {"hidden": 16, "out": 8}


def _config(**changes) -> EstimationConfig:
    base = EstimationConfig(
        levels=(1.0, 2.0), steps_per_level=15, dim=2, batch_size=16, critic_kwargs=TINY
    )
    return base.replace(**changes)


def test_schedule_is_a_staircase():
    schedule = mi_schedule(STAIRCASE, 3)
    assert schedule.tolist() == [2.0] * 3 + [4.0] * 3 + [6.0] * 3 + [8.0] * 3 + [10.0] * 3
    assert EstimationConfig().steps == 20_000  # Poole et al.: 5 levels × 4,000 steps


def test_records_are_tidy_and_deterministic():
    config = _config()
    a, b = train_estimator(config, 0), train_estimator(config, 0)
    c = train_estimator(config, 1)
    assert list(a.columns[:4]) == ["step", "metric", "value", "true_mi"]
    assert len(a) == config.steps and a["true_mi"].tolist() == mi_schedule((1.0, 2.0), 15).tolist()
    assert set(a["estimator"]) == {"infonce"} and set(a["seed"]) == {0}
    pd.testing.assert_frame_equal(a, b)
    assert not np.array_equal(a["value"], c["value"])


@pytest.mark.parametrize("estimator", ["infonce", "nwj", "dv", "js", "smile", "interpolated"])
def test_every_estimator_trains(estimator):
    records = train_estimator(_config(estimator=estimator, steps_per_level=5), 0)
    assert np.isfinite(records["value"]).all()


def test_infonce_never_exceeds_log_k_even_at_large_true_mi():
    records = train_estimator(_config(levels=(8.0,), steps_per_level=40, batch_size=8), 0)
    assert records["value"].max() <= math.log(8) + 1e-5


def test_critic_learns_the_gaussian_mi():
    config = EstimationConfig(
        levels=(1.0,), steps_per_level=300, dim=2, batch_size=64, lr=5e-3, critic_kwargs=TINY
    )
    records = train_estimator(config, 0)
    late = records["value"].iloc[-100:].mean()
    early = records["value"].iloc[:10].mean()
    assert abs(late - 1.0) < 0.35 and late > early + 0.3, (early, late)


def test_error_table_decomposes_mse():
    rng = np.random.default_rng(0)
    rows = []
    for seed in (0, 1):
        for level in (2.0, 4.0):
            for step in range(100):
                value = level - 0.5 + rng.normal(0, 0.2) if step >= 50 else 100.0  # burn-in junk
                rows.append((int(step + 100 * (level == 4.0)), value, level, "x", seed))
    records = pd.DataFrame(rows, columns=["step", "value", "true_mi", "estimator", "seed"])
    table = error_table(records)
    assert len(table) == 2 and (table["n"] == 100).all()
    np.testing.assert_allclose(table["bias"], -0.5, atol=0.06)
    np.testing.assert_allclose(table["variance"], 0.04, rtol=0.3)
    one_run = error_table(records[records["seed"] == 0])  # per run, MSE = bias² + variance
    np.testing.assert_allclose(
        one_run["mse"], one_run["bias"] ** 2 + one_run["variance"], rtol=1e-9
    )


def test_run_grid_and_validation():
    records = run_grid(
        [
            _config(steps_per_level=3),
            _config(steps_per_level=3, critic="concat", critic_kwargs={"hidden": 8, "layers": 1}),
        ],
        seeds=2,
    )
    assert len(records) == 4 * 6 and set(records["critic"]) == {"separable", "concat"}
    with pytest.raises(ValueError, match="at least"):
        EstimationConfig(task="student_t", levels=(0.1,))
    with pytest.raises(ValueError, match="infonce"):
        EstimationConfig(estimator="infonse")
    with pytest.raises(TypeError, match="EstimationConfig"):
        train_estimator({"task": "gaussian"}, 0)
