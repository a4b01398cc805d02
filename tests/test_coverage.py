"""The generated "what remains" table: stored, missing and half-done runs, cost and commands."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch

from mi_tutorial.paper import get_configs
from mi_tutorial.report.coverage import COVERAGE_COLUMNS, REPORT_SEEDS, coverage
from mi_tutorial.runs import ResultsStore
from mi_tutorial.training.checkpoint import TrainingState, save_checkpoint

RECORDS = pd.DataFrame({"step": [0], "metric": ["bound"], "value": [0.5], "elapsed_s": [0.0]})


def _checkpoint(
    store: ResultsStore, config, seed: int, step: int, elapsed: float, cpu: float = math.nan
) -> None:
    state = TrainingState(
        step=step,
        models={},
        optimizer={},
        generators={},
        epoch_permutation=torch.arange(4),
        epoch_position=0,
        records=[],
        elapsed_s=elapsed,
        cpu_s=cpu,
    )
    save_checkpoint(store.checkpoint_path(config, seed), config, seed, state)


def test_counts_cost_estimate_and_command(tmp_path):
    store = ResultsStore(tmp_path)
    first, second = get_configs("residual", "paper")  # two configs, 21,000 steps each
    store.save(first, 0, RECORDS, wall_time=600.0)
    store.save(first, 1, RECORDS, wall_time=1200.0)
    store.save(first, 7, RECORDS, wall_time=1800.0)  # not a wanted seed: cost only
    _checkpoint(store, second, 0, step=7_000, elapsed=1_400.0)  # 0.2 s/step
    table = coverage("paper", {"residual": 2}, store).set_index("experiment")
    row = table.loc["residual"]
    assert list(table.reset_index().columns) == list(COVERAGE_COLUMNS)
    assert (row["configs"], row["seeds wanted"], row["stored"], row["missing"]) == (2, 2, 2, 2)
    assert row["hours stored"] == pytest.approx(1.0)
    assert row["in progress"] == f"seed 0 of {second.key()}: 7,000/21,000"
    # second's seed 0: 14,000 steps at its checkpoint's 0.2 s; seed 1 has no checkpoint and its
    # config no stored run: the mean cost of first's runs (same encoder and critic), 1,200 s
    assert row["est. hours missing"] == pytest.approx((2_800.0 + 1_200.0) / 3600)
    assert row["command"] == "mi-tutorial run residual --profile paper --seeds 2"


def test_estimate_from_checkpoint_pace_and_stored_runs(tmp_path):
    store = ResultsStore(tmp_path)
    first, second = get_configs("residual", "paper")
    store.save(first, 0, RECORDS, wall_time=3600.0)
    store.save(second, 0, RECORDS, wall_time=1800.0)
    _checkpoint(store, second, 1, step=14_000, elapsed=2_800.0)  # 7,000 steps left at 0.2 s
    row = coverage("paper", {"residual": 2}, store).iloc[0]
    assert row["missing"] == 2
    assert row["est. hours missing"] == pytest.approx(1.0 + 7_000 * 0.2 / 3600)


def test_estimate_borrows_the_pace_of_configs_with_the_same_encoder_only(tmp_path):
    """E5: a ConvNet config without runs is priced from another ConvNet config, never an MLP one."""
    store = ResultsStore(tmp_path)
    configs = get_configs("encoder-vs-estimator", "paper")
    convnets = [c for c in configs if c.encoder == "convnet"]
    mlps = [c for c in configs if c.encoder == "mlp"]
    assert len(convnets) == len(mlps) == 4
    for config in mlps:
        store.save(config, 0, RECORDS, wall_time=60.0)
    row = coverage("paper", {"encoder-vs-estimator": 1}, store).iloc[0]
    assert math.isnan(row["est. hours missing"])  # no ConvNet run measured yet
    store.save(convnets[0], 0, RECORDS, wall_time=1800.0)
    row = coverage("paper", {"encoder-vs-estimator": 1}, store).iloc[0]
    assert row["missing"] == 3
    assert row["est. hours missing"] == pytest.approx(3 * 0.5)


def test_cost_is_cpu_time_where_recorded(tmp_path):
    """A run that waited (shared cores, a pause) costs its CPU time, not its wall time."""
    store = ResultsStore(tmp_path)
    first, second = get_configs("residual", "paper")
    store.save(first, 0, RECORDS, wall_time=7200.0, provenance={"cpu_time_s": 1800.0})
    store.save(first, 1, RECORDS, wall_time=1800.0)  # stored before CPU time was kept
    # 0.3 s/step of wall time, 0.1 s/step of CPU time: 7,000 steps left cost 700 s
    _checkpoint(store, second, 0, step=14_000, elapsed=4_200.0, cpu=1_400.0)
    _checkpoint(store, second, 1, step=14_000, elapsed=4_200.0)  # no CPU time: the wall pace
    row = coverage("paper", {"residual": 2}, store).iloc[0]
    assert row["hours stored"] == pytest.approx(1.0)
    assert row["est. hours missing"] == pytest.approx((700.0 + 2_100.0) / 3600)


def test_complete_experiment_has_no_command(tmp_path):
    store = ResultsStore(tmp_path)
    for config in get_configs("adversarial", "paper"):
        store.save(config, 0, RECORDS, wall_time=60.0)
    row = coverage("paper", {"adversarial": 1}, store).iloc[0]
    assert (row["missing"], row["est. hours missing"], row["command"]) == (0, 0.0, "")


def test_defaults_cover_the_paper_experiments(tmp_path):
    table = coverage(store=ResultsStore(tmp_path))
    assert list(table["experiment"]) == list(REPORT_SEEDS)
    assert (table["stored"] == 0).all() and table["est. hours missing"].isna().all()


def test_unknown_experiment_is_named(tmp_path):
    with pytest.raises(ValueError, match="no-such"):
        coverage("paper", {"no-such": 1}, ResultsStore(tmp_path))
