"""B1, the ground-truth MI benchmark: every task's stated MI against a Monte-Carlo estimate of
E[log p(x, y) / (p(x) p(y))], the config kind and study, the smoke sweep end to end, and the
leaderboard functions on hand-made records."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from mi_tutorial import paper
from mi_tutorial.config import MIBenchmarkConfig, config_from_dict
from mi_tutorial.mi_tasks import (
    STAIRCASE_TASK,
    benchmark_task_names,
    get_task,
    noniid_task,
    sample_benchmark,
    task_mi,
)
from mi_tutorial.registry import BOUNDS
from mi_tutorial.report import mi_benchmark as mb
from mi_tutorial.runs import ResultsStore
from mi_tutorial.synthetic import STAIRCASE
from mi_tutorial.training import run_config

MC_SAMPLES = 20_000


def _log_ratio(cov: np.ndarray, dim_x: int, nu: float | None, xy: np.ndarray) -> np.ndarray:
    """log p(x, y) - log p(x) - log p(y) for a centred normal (nu None) or Student-t."""

    def logpdf(points: np.ndarray, shape: np.ndarray) -> np.ndarray:
        if nu is None:
            return stats.multivariate_normal(np.zeros(len(shape)), shape).logpdf(points)
        return stats.multivariate_t(np.zeros(len(shape)), shape, df=nu).logpdf(points)

    joint = logpdf(xy, cov)
    px = logpdf(xy[:, :dim_x], cov[:dim_x, :dim_x])
    py = logpdf(xy[:, dim_x:], cov[dim_x:, dim_x:])
    return np.asarray(joint - px - py, dtype=np.float64)


def _base_samples(name: str, n: int, generator: torch.Generator) -> tuple[np.ndarray, object]:
    """Samples of the task mapped back to its Gaussian or Student-t base, and that base."""
    task = get_task(name)
    x, y = task.sample(n, generator)
    if task.inverse is not None:
        x, y = task.inverse(x, y)
        task = task.base
    return torch.cat([x.double(), y.double()], dim=1).numpy(), task


@pytest.mark.parametrize("name", benchmark_task_names())
def test_every_benchmark_task_carries_its_stated_mi(name):
    """The stated MI agrees with a Monte-Carlo average of the log density ratio within 4 standard
    errors (transformed tasks are mapped back through their inverse first; the non-i.i.d. task's
    pairs are checked on i.i.d. draws of the same marginal; the staircase at every level)."""
    g = torch.Generator().manual_seed(7)
    if name == STAIRCASE_TASK:
        steps = 5 * len(STAIRCASE)
        checks = []
        for level in range(len(STAIRCASE)):
            step = level * 5
            x, y = sample_benchmark(name, MC_SAMPLES, step, steps, g)
            rho = math.sqrt(-math.expm1(-2 * task_mi(name, step, steps) / x.shape[1]))
            eye = np.eye(x.shape[1])
            cov = np.block([[eye, rho * eye], [rho * eye, eye]])
            xy = torch.cat([x, y], 1).double().numpy()
            checks.append((task_mi(name, step, steps), _log_ratio(cov, x.shape[1], None, xy)))
        assert [c[0] for c in checks] == list(STAIRCASE)
    elif name == noniid_task().name:
        from mi_tutorial.synthetic import NONIID_NOISE_COV, NONIID_SHARED_COV, noniid_batch

        x, y = noniid_batch(MC_SAMPLES, iid=True, generator=g)
        cov = np.add(NONIID_SHARED_COV, NONIID_NOISE_COV)
        xy = torch.cat([x, y], 1).double().numpy()
        checks = [(get_task(name).mi, _log_ratio(cov, 1, None, xy))]
    else:
        xy, base = _base_samples(name, MC_SAMPLES, g)
        nu = base.nu if base.family == "student-t" else None
        checks = [(get_task(name).mi, _log_ratio(base.cov, base.dims[0], nu, xy))]
    for stated, ratio in checks:
        standard_error = ratio.std() / math.sqrt(ratio.size)
        assert abs(ratio.mean() - stated) < 4 * standard_error + 1e-3, (name, stated)


def test_the_tasks_span_what_the_benchmark_promises():
    names = benchmark_task_names()
    tasks = [get_task(n) for n in names if n != STAIRCASE_TASK]
    assert len(names) >= 20
    gaussians = [t for t in tasks if t.family == "gaussian"]
    assert min(t.mi for t in gaussians) <= 0.1 + 1e-9 and max(t.mi for t in gaussians) >= 10 - 1e-9
    assert {t.dims for t in gaussians} >= {(1, 1), (25, 25)}
    assert len({t.nu for t in tasks if t.family == "student-t"}) >= 3
    prefixes = {t.name.split("-")[0] for t in tasks if t.family == "transformed"}
    assert prefixes == {"halfcube", "asinh", "uniform", "spiral"}
    assert any(not t.iid for t in tasks) and STAIRCASE_TASK in names


def test_config_kind_round_trips_and_checks_its_names():
    config = MIBenchmarkConfig(task="staircase", estimator="smile", critic="concat")
    assert config.kind == "mi-benchmark"
    assert config_from_dict(config.to_dict()) == config
    assert config_from_dict(config.to_dict()).key() == config.key()
    with pytest.raises(ValueError, match="MI task"):
        MIBenchmarkConfig(task="gausian-1x1")
    with pytest.raises(ValueError, match="benchmark critic"):
        MIBenchmarkConfig(critic="bilinear")
    with pytest.raises(ValueError, match="estimator"):
        MIBenchmarkConfig(estimator="infonse")


def test_study_is_registered_beyond_the_paper():
    assert "mi-benchmark" not in paper.experiment_ids(include_cifar10=True)
    assert "mi-benchmark" in paper.experiment_ids(include_beyond=True)
    assert not paper.study("mi-benchmark").claims
    assert not any(c.experiment == "mi-benchmark" for c in paper.CLAIMS)
    configs = paper.get_configs("mi-benchmark", "paper")
    assert len(configs) == len(benchmark_task_names()) * len(BOUNDS) * 2
    assert {(c.steps, c.batch_size, c.lr) for c in configs} == {(2_000, 64, 5e-4)}
    assert paper.default_seeds("mi-benchmark", "paper") == [0, 1, 2]
    assert len(set(configs)) == len(configs)


def test_cli_knows_the_benchmark():
    from mi_tutorial.cli import build_parser

    args = build_parser().parse_args(["run", "mi-benchmark", "--profile", "smoke"])
    assert args.experiment == "mi-benchmark"


def test_a_run_is_deterministic_and_records_estimates():
    config = paper.get_configs("mi-benchmark", "smoke")[0]
    first, second = run_config(config, 3, progress=False), run_config(config, 3, progress=False)
    pd.testing.assert_series_equal(first["value"], second["value"])
    assert list(first["metric"].unique()) == ["estimate", "nonfinite_steps"]
    assert first["step"].iloc[-1] == config.steps


def test_smoke_sweep_end_to_end(tmp_path):
    store = ResultsStore(tmp_path)
    records = paper.run("mi-benchmark", "smoke", store=store, progress=False)
    again = paper.run("mi-benchmark", "smoke", store=store, progress=False)  # from the cache
    pd.testing.assert_frame_equal(records, again)
    board = mb.leaderboard(records)
    assert len(board) == len(paper.get_configs("mi-benchmark", "smoke"))
    assert set(board["estimator"]) == set(BOUNDS)
    staircase = board[board["task"] == STAIRCASE_TASK]
    assert (staircase["true_mi"] == STAIRCASE[-1]).all()
    ranked = mb.ranking(board)
    assert list(ranked["rank"]) == list(range(1, len(ranked) + 1))
    assert ranked["mean_abs_error"].is_monotonic_increasing


def _records(task, estimator, critic, seed, values, steps=100, every=10, k=64):
    recorded = list(range(0, steps, every))
    return pd.DataFrame(
        {
            "step": [*recorded, steps],
            "metric": ["estimate"] * len(recorded) + ["nonfinite_steps"],
            "value": [*values, float(np.isnan(values).sum())],
            "task": task,
            "estimator": estimator,
            "critic": critic,
            "seed": seed,
            "steps": steps,
            "batch_size": k,
        }
    )


def test_leaderboard_bias_spread_ceiling_and_divergence():
    ramp = np.linspace(0, 1, 9)
    frames = [
        # gaussian-1x1 (0.1 nats): the last estimate (tail = 10 % of 100 steps) counts
        _records("gaussian-1x1", "nwj", "concat", 0, [*ramp, 0.3]),
        _records("gaussian-1x1", "nwj", "concat", 1, [*ramp, 0.5]),
        _records("gaussian-1x1", "infonce", "concat", 0, [*ramp, 0.1]),
        # the dense 25x25 task carries 10 nats > log 64: InfoNCE pinned at its ceiling
        _records("gaussian-dense-25x25", "infonce", "concat", 0, [*ramp, math.log(64) - 0.01]),
        _records("gaussian-dense-25x25", "nwj", "concat", 0, [*ramp, np.nan]),
        _records("gaussian-dense-25x25", "nwj", "concat", 1, [*ramp, 6.0]),
    ]
    board = mb.leaderboard(pd.concat(frames, ignore_index=True)).set_index(["task", "estimator"])
    nwj = board.loc[("gaussian-1x1", "nwj")]
    assert nwj["estimate"] == pytest.approx(0.4) and nwj["bias"] == pytest.approx(0.3)
    assert nwj["seed_std"] == pytest.approx(np.std([0.3, 0.5], ddof=1))
    assert nwj["step_std"] == 0.0
    capped = board.loc[("gaussian-dense-25x25", "infonce")]
    assert capped["at_ceiling"] and capped["ceiling"] == pytest.approx(math.log(64))
    assert not board.loc[("gaussian-1x1", "infonce")]["at_ceiling"]
    diverged = board.loc[("gaussian-dense-25x25", "nwj")]
    assert diverged["diverged_seeds"] == 1 and diverged["estimate"] == pytest.approx(6.0)
    ranked = mb.ranking(board.reset_index()).set_index("estimator")
    assert ranked.loc["nwj", "diverged_tasks"] == 1 and ranked.loc["nwj", "tasks"] == 1
    assert ranked.loc["infonce", "rank"] == 2  # 0 and ~5.85 nats off vs nwj's 0.3
    guide = mb.situation_guide(board.reset_index()).set_index("situation")
    assert guide.loc["low MI (at most 1 nat)", "best"] == "infonce / concat"
    assert guide.loc["MI above log K", "excluded"] == 1  # nwj diverged there
    hard = mb.hard_tasks(board.reset_index())
    assert list(hard["task"]) == ["gaussian-dense-25x25"]
    partial = board.reset_index().drop(index=0)  # gaussian-1x1 loses one method's row
    assert set(mb.common_tasks(partial)["task"]) == {"gaussian-dense-25x25"}
    assert mb.ranking(partial)["tasks"].max() <= 1


def test_ceilings_and_heatmap_table():
    assert mb.ceiling("infonce", 64) == pytest.approx(math.log(64))
    assert mb.ceiling("interpolated", 64) == pytest.approx(1 + math.log(63 / 0.01))
    assert mb.ceiling("nwj", 64) == math.inf
    board = pd.DataFrame(
        {
            "task": ["staircase", "gaussian-1x1"],
            "estimator": ["js", "js"],
            "critic": ["concat", "concat"],
            "bias": [1.0, -1.0],
        }
    )
    table = mb.heatmap_table(board)
    assert list(table.index) == ["gaussian-1x1", "staircase"]
    assert table.loc["staircase", "js / concat"] == 1.0
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    image = mb.plot_heatmap(table.assign(**{"nwj / concat": [np.nan, 5.0]}), ax, limit=2.0)
    assert image.get_clim() == (-2.0, 2.0) and image.get_array().mask.sum() == 1
    plt.close(fig)


def test_sweep_cpu_seconds_counts_missing_provenance():
    cost = mb.sweep_cpu_seconds([{"cpu_time_s": 2.0, "wall_time_s": 3.0}, {"wall_time_s": 1.0}])
    assert cost["cpu_s"] == 2.0 and cost["missing"] == 1.0 and cost["wall_s"] == 4.0
