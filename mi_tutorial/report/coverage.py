"""Which runs of a profile are stored, which are missing, and what the missing ones would cost.

The report's "what remains" is generated from the results store, never typed: for every experiment,
the runs this project aims to commit (:data:`REPORT_SEEDS` seeds of each config), how many are
stored, how many are half done (a resumable checkpoint, see :mod:`mi_tutorial.training.checkpoint`), the
measured cost of the stored ones and an estimate for the rest, and the command that runs them.
"""

from __future__ import annotations

import math

import pandas as pd

from ..config import RunConfig
from ..paper import EXPERIMENTS, get_configs
from ..runs import ResultsStore
from ..training.checkpoint import checkpoint_summary

#: Seeds per config this project commits at the ``paper`` profile for its report: three for the
#: figures the paper averages over runs (E3–E6 and the supervised reference), one for its
#: single-run figures (E1, E2). The paper itself averages over 20 (``default_seeds``).
REPORT_SEEDS: dict[str, int] = {
    "bijective": 1,
    "adversarial": 1,
    "residual": 3,
    "critic-capacity": 3,
    "encoder-vs-estimator": 3,
    "noniid": 3,
    "supervised": 3,
}

COVERAGE_COLUMNS = (
    "experiment",
    "code",
    "configs",
    "seeds wanted",
    "stored",
    "missing",
    "in progress",
    "hours stored",
    "est. hours missing",
    "command",
)


def run_cost_s(provenance: dict) -> float:
    """Seconds of compute a stored run took: its CPU time where the provenance has it (which does
    not grow while the run waits for a shared or paused core), else its wall time."""
    return float(provenance.get("cpu_time_s", provenance["wall_time_s"]))


#: Config fields that set what a step costs. Configs of one experiment that agree on them (say,
#: the same encoder trained with another estimator or target) share their measured pace.
COST_FIELDS = ("kind", "encoder", "encoder_kwargs", "critic", "critic_kwargs", "batch_size")


def _cost_class(config: RunConfig) -> tuple:
    return tuple(getattr(config, name, None) for name in COST_FIELDS)


def _minutes_left(saved: dict | None, steps: int, per_run: float) -> float:
    """Estimated minutes to finish a run: from the pace of its checkpoint ``saved`` if it has
    one (CPU time per step, else wall time per step), else ``per_run`` (NaN if unknown)."""
    if saved is not None and saved["step"] > 0:
        spent = saved["cpu_s"] if math.isfinite(saved["cpu_s"]) else saved["elapsed_s"]
        return spent / saved["step"] * (steps - saved["step"]) / 60
    return per_run


def coverage(
    profile: str = "paper",
    targets: dict[str, int] | None = None,
    store: ResultsStore | None = None,
) -> pd.DataFrame:
    """One row per experiment of ``targets`` (default :data:`REPORT_SEEDS`): seeds ``0 … n-1`` of
    every config are wanted.

    Columns: ``configs``; ``seeds wanted``; ``stored`` and ``missing`` (runs among the wanted
    ones); ``in progress`` (missing runs with a checkpoint, as "seed s of config k: step/steps");
    ``hours stored`` (:func:`run_cost_s` of *all* stored runs of the experiment: CPU time where
    recorded, else wall time); ``est. hours missing`` (per missing run: the pace of its checkpoint,
    else the mean cost of the same config's stored runs, else the mean cost per step of the stored
    runs of configs that agree on :data:`COST_FIELDS`; NaN when some missing run has none of these);
    ``command`` (runs the missing ones; empty when none is missing). Trains nothing.
    """
    store = store if store is not None else ResultsStore()
    targets = REPORT_SEEDS if targets is None else targets
    rows = []
    for experiment, n_seeds in targets.items():
        configs = get_configs(experiment, profile)
        costs = {
            config: [run_cost_s(store.provenance(config, s)) for s in store.stored_seeds(config)]
            for config in configs
        }
        pace: dict[tuple, list[float]] = {}  # seconds per step of the stored runs, per cost class
        for config, spent in costs.items():
            pace.setdefault(_cost_class(config), []).extend(c / config.steps for c in spent)
        stored = missing = 0
        hours, estimate, progress = 0.0, 0.0, []
        for config in configs:
            hours += sum(costs[config]) / 3600
            similar = pace[_cost_class(config)]
            if costs[config]:
                per_run = sum(costs[config]) / len(costs[config]) / 60
            elif similar:
                per_run = sum(similar) / len(similar) * config.steps / 60
            else:
                per_run = math.nan
            for seed in range(n_seeds):
                if store.has(config, seed):
                    stored += 1
                    continue
                missing += 1
                saved = checkpoint_summary(store.checkpoint_path(config, seed))
                estimate += _minutes_left(saved, config.steps, per_run) / 60
                if saved is not None:
                    progress.append(
                        f"seed {seed} of {config.key()}: {saved['step']:,}/{config.steps:,}"
                    )
        rows.append(
            {
                "experiment": experiment,
                "code": EXPERIMENTS[experiment].code,
                "configs": len(configs),
                "seeds wanted": n_seeds,
                "stored": stored,
                "missing": missing,
                "in progress": "; ".join(progress),
                "hours stored": hours,
                "est. hours missing": estimate,
                "command": (
                    f"mi-tutorial run {experiment} --profile {profile} --seeds {n_seeds}"
                    if missing
                    else ""
                ),
            }
        )
    return pd.DataFrame(rows, columns=list(COVERAGE_COLUMNS))
