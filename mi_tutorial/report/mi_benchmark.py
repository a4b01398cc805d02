r"""The leaderboard of B1, the ground-truth MI benchmark (:mod:`mi_tutorial.paper.mi_benchmark`).

From the tidy records of the benchmark's runs (``metric = "estimate"``: the training-batch estimate
:math:`\hat I_t` every ``eval_every`` steps) to tables a chapter shows:

* :func:`run_summary`: one row per run. Its **final estimate** is the mean of the finite
  :math:`\hat I_t` over the last :data:`TAIL` of the run's steps (steps :math:`\ge (1 - 0.1)T`,
  inside the staircase's last level; at least the last recorded estimate), its **step std** the standard deviation of those
  :math:`\hat I_t` (the noise of one batch of :math:`K` pairs). A run is **diverged** when an
  estimate in that window is not finite (its objective overflowed): it is reported, never averaged.
* :func:`leaderboard`: one row per task × estimator × critic: the mean final estimate over the
  seeds that did not diverge, the bias :math:`\bar{\hat I} - I`, the absolute error, the standard
  deviation over seeds and the mean step std, and whether the estimate sits at its ceiling
  (:math:`\log K` for :math:`I_{NCE}`, :math:`1 + \log\frac{K-1}{\alpha}` for :math:`I_\alpha`).
* :func:`ranking`: estimator × critic ordered by the mean absolute error across the tasks, with its
  spread (standard deviation and median across tasks) and the count of diverged tasks.
* :func:`situation_guide`: the best estimator × critic per situation (low MI, MI above
  :math:`\log K`, high dimension, heavy tails, ...), computed from the leaderboard.
* :func:`hard_tasks`: tasks on which even the best bound misses by more than a margin.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..mi_tasks import STAIRCASE_TASK, benchmark_task_names, get_task, task_mi

#: The fraction of each run's last steps that gives its final estimate and step std.
TAIL = 0.1
#: An estimate within this many nats of its ceiling, on a task whose MI exceeds the ceiling, "hit"
#: the ceiling.
CEILING_MARGIN = 0.1
#: Default settings of the bounds whose ceilings are stated (:func:`ceiling`).
INTERPOLATED_ALPHA = 0.01
KEYS = ("task", "estimator", "critic")


def ceiling(estimator: str, batch_size: int) -> float:
    r"""The largest value ``estimator`` can report on a batch of :math:`K` pairs, whatever the
    critic: :math:`\log K` for :math:`I_{NCE}`, :math:`1 + \log\frac{K-1}{\alpha}` for
    :math:`I_\alpha` (:math:`\alpha = 0.01`); ``inf`` for the unbounded estimators."""
    if estimator == "infonce":
        return math.log(batch_size)
    if estimator == "interpolated":
        return 1.0 + math.log((batch_size - 1) / INTERPOLATED_ALPHA)
    return math.inf


def task_family(task: str) -> str:
    """The family of a benchmark task (``"staircase"`` for the stepping staircase)."""
    return "staircase" if task == STAIRCASE_TASK else get_task(task).family


def task_dimension(task: str) -> int:
    """:math:`d_x + d_y` of a benchmark task."""
    return 40 if task == STAIRCASE_TASK else sum(get_task(task).dims)


def run_summary(records: pd.DataFrame, tail: float = TAIL) -> pd.DataFrame:
    """One row per run (task, estimator, critic, seed): true MI at the end, final estimate, step
    std, diverged, non-finite steps and the batch size ``K``."""
    need = {*KEYS, "seed", "step", "metric", "value", "steps", "batch_size"}
    missing = need - set(records.columns)
    if missing:
        raise ValueError(f"records lack column(s) {sorted(missing)}; pass B1 run records.")
    rows = []
    for (task, est, critic, seed), run in records.groupby([*KEYS, "seed"], sort=False):
        steps = int(run["steps"].iloc[0])
        estimates = run[run["metric"] == "estimate"]
        cut = min((1.0 - tail) * steps, estimates["step"].max())  # at least the last estimate
        window = estimates[estimates["step"] >= cut]
        values = window["value"].to_numpy(dtype=float)
        finite = values[np.isfinite(values)]
        nonfinite = run.loc[run["metric"] == "nonfinite_steps", "value"]
        diverged = finite.size < values.size or finite.size == 0
        rows.append(
            {
                "task": task,
                "estimator": est,
                "critic": critic,
                "seed": seed,
                "true_mi": task_mi(task, steps - 1, steps),
                "final": float(finite.mean()) if not diverged else math.nan,
                "step_std": float(finite.std()) if not diverged else math.nan,
                "diverged": diverged,
                "nonfinite_steps": int(nonfinite.iloc[0]) if len(nonfinite) else 0,
                "batch_size": int(run["batch_size"].iloc[0]),
            }
        )
    return pd.DataFrame(rows)


def leaderboard(records: pd.DataFrame, tail: float = TAIL) -> pd.DataFrame:
    """One row per task × estimator × critic, over the seeds (see the module docstring)."""
    runs = run_summary(records, tail)
    rows = []
    for (task, est, critic), group in runs.groupby(list(KEYS), sort=False):
        ok = group[~group["diverged"]]
        truth = float(group["true_mi"].iloc[0])
        top = ceiling(est, int(group["batch_size"].iloc[0]))
        estimate = float(ok["final"].mean()) if len(ok) else math.nan
        rows.append(
            {
                "task": task,
                "family": task_family(task),
                "dimension": task_dimension(task),
                "estimator": est,
                "critic": critic,
                "true_mi": truth,
                "estimate": estimate,
                "bias": estimate - truth,
                "abs_error": abs(estimate - truth),
                "seed_std": float(ok["final"].std(ddof=1)) if len(ok) > 1 else math.nan,
                "step_std": float(ok["step_std"].mean()) if len(ok) else math.nan,
                "ceiling": top,
                "at_ceiling": bool(truth > top and estimate >= top - CEILING_MARGIN),
                "seeds": len(group),
                "diverged_seeds": int(group["diverged"].sum()),
            }
        )
    return pd.DataFrame(rows)


def common_tasks(board: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``board`` whose task has a row for every estimator × critic of the board (a
    partly stored sweep must not compare methods on different tasks)."""
    methods = board.groupby("task")[["estimator", "critic"]].apply(
        lambda rows: len(set(zip(rows["estimator"], rows["critic"], strict=True)))
    )
    every = board[["estimator", "critic"]].drop_duplicates().shape[0]
    return board[board["task"].isin(methods[methods == every].index)]


def ranking(board: pd.DataFrame) -> pd.DataFrame:
    """Estimator × critic by mean absolute error across the tasks where no seed diverged, among
    the tasks every method has run (:func:`common_tasks`).

    Columns: ``mean_abs_error``, its ``std`` and ``median`` across tasks, ``tasks`` used,
    ``diverged_tasks`` (left out of the mean: a diverged task has no estimate to average), and
    ``rank`` (1 = smallest mean absolute error).
    """
    board = common_tasks(board)
    usable = board[(board["diverged_seeds"] == 0) & np.isfinite(board["abs_error"])]
    out = (
        usable.groupby(["estimator", "critic"])["abs_error"]
        .agg(mean_abs_error="mean", std="std", median="median", tasks="count")
        .reset_index()
    )
    diverged = (board[board["diverged_seeds"] > 0].groupby(["estimator", "critic"]).size()).rename(
        "diverged_tasks"
    )
    out = out.merge(diverged, on=["estimator", "critic"], how="left").fillna({"diverged_tasks": 0})
    out["diverged_tasks"] = out["diverged_tasks"].astype(int)
    out = out.sort_values("mean_abs_error", ignore_index=True)
    out["rank"] = np.arange(1, len(out) + 1)
    return out


def heatmap_table(board: pd.DataFrame, value: str = "bias") -> pd.DataFrame:
    """``value`` as a task × "estimator / critic" table, tasks in the benchmark's order."""
    table = board.assign(method=board["estimator"] + " / " + board["critic"]).pivot(
        index="task", columns="method", values=value
    )
    order = [t for t in benchmark_task_names() if t in table.index]
    return table.loc[order + [t for t in table.index if t not in order]]


def situations(board: pd.DataFrame) -> dict[str, pd.Series]:
    """Named groups of tasks (boolean masks over ``board``): what a practitioner knows in advance.
    ``log K`` is the batch's :math:`\\log K` (the :math:`I_{NCE}` ceiling of the board)."""
    log_k = float(board.loc[board["estimator"] == "infonce", "ceiling"].max())
    if not np.isfinite(log_k):
        log_k = math.log(64)
    iid = board["family"].ne("non-iid")
    return {
        "low MI (at most 1 nat)": iid & (board["true_mi"] <= 1.0),
        "MI between 1 nat and log K": iid & (board["true_mi"] > 1.0) & (board["true_mi"] <= log_k),
        "MI above log K": iid & (board["true_mi"] > log_k),
        "high dimension (d_x + d_y >= 40)": iid & (board["dimension"] >= 40),
        "heavy tails (Student-t bases)": board["task"].str.contains("student-t"),
        "invertibly transformed margins": board["family"].eq("transformed"),
        "non-i.i.d. batches": ~iid,
    }


def situation_guide(board: pd.DataFrame) -> pd.DataFrame:
    """Per situation (:func:`situations`): the estimator × critic with the smallest mean absolute
    error over its tasks, its error, the runner-up and the mean error of the worst; only methods
    with no diverged seed on any task of the situation compete (``excluded`` counts the others);
    only tasks every method has run count (:func:`common_tasks`)."""
    board = common_tasks(board)
    rows = []
    for name, mask in situations(board).items():
        group = board[mask]
        if group.empty:
            continue
        per = group.groupby(["estimator", "critic"]).agg(
            error=("abs_error", "mean"), diverged=("diverged_seeds", "sum"), tasks=("task", "count")
        )
        clean = per[(per["diverged"] == 0) & np.isfinite(per["error"])].sort_values("error")
        if clean.empty:
            continue
        best, second = clean.index[0], clean.index[1] if len(clean) > 1 else None
        rows.append(
            {
                "situation": name,
                "tasks": int(clean["tasks"].iloc[0]),
                "best": f"{best[0]} / {best[1]}",
                "best_error": float(clean["error"].iloc[0]),
                "runner_up": f"{second[0]} / {second[1]}" if second else "",
                "runner_up_error": float(clean["error"].iloc[1]) if second else math.nan,
                "worst_error": float(clean["error"].iloc[-1]),
                "excluded": int(len(per) - len(clean)),
            }
        )
    return pd.DataFrame(rows)


def hard_tasks(board: pd.DataFrame, margin: float = 0.5, relative: float = 0.1) -> pd.DataFrame:
    """Tasks on which even the best non-diverged estimator × critic misses the true MI by more than
    ``margin`` nats *and* ``relative`` of it; with that best error and who achieved it."""
    clean = board[(board["diverged_seeds"] == 0) & np.isfinite(board["abs_error"])]
    if clean.empty:
        return pd.DataFrame(columns=["task", "true_mi", "best", "best_estimate", "best_error"])
    best = clean.loc[clean.groupby("task")["abs_error"].idxmin()]
    hard = best[(best["abs_error"] > margin) & (best["abs_error"] > relative * best["true_mi"])]
    return pd.DataFrame(
        {
            "task": hard["task"],
            "true_mi": hard["true_mi"],
            "best": hard["estimator"] + " / " + hard["critic"],
            "best_estimate": hard["estimate"],
            "best_error": hard["abs_error"],
        }
    ).reset_index(drop=True)


def plot_heatmap(
    table: pd.DataFrame,
    ax,
    *,
    limit: float = 3.0,
    label: str = "bias (nats)",
    cmap_name: str = "RdBu_r",
    low: float | None = None,
):
    """Draw ``table`` (:func:`heatmap_table`) on ``ax``, colours clipped to [``low``, ``limit``]
    (``low`` defaults to ``-limit``: a diverging map for the bias); missing or diverged cells are
    grey. Returns the image."""
    import matplotlib.pyplot as plt

    cmap = plt.get_cmap(cmap_name).with_extremes(bad="0.8")
    image = ax.imshow(
        np.ma.masked_invalid(table.to_numpy(dtype=float)),
        cmap=cmap,
        vmin=-limit if low is None else low,
        vmax=limit,
        aspect="auto",
    )
    ax.grid(False)
    ax.set_xticks(range(table.shape[1]), table.columns, rotation=90, fontsize=7)
    ax.set_yticks(range(table.shape[0]), table.index, fontsize=7)
    ax.figure.colorbar(image, ax=ax, label=label, shrink=0.8)
    return image


def sweep_cpu_seconds(provenances: list[dict]) -> dict[str, float]:
    """Total and per-run CPU seconds of stored runs, from their provenance's ``cpu_time_s``
    (runs without it are counted in ``missing``), and the total wall seconds."""
    cpu = [p["cpu_time_s"] for p in provenances if "cpu_time_s" in p]
    wall = [p.get("wall_time_s", math.nan) for p in provenances]
    return {
        "runs": float(len(provenances)),
        "cpu_s": float(np.sum(cpu)) if cpu else math.nan,
        "cpu_s_per_run": float(np.mean(cpu)) if cpu else math.nan,
        "wall_s": float(np.nansum(wall)) if wall else math.nan,
        "missing": float(len(provenances) - len(cpu)),
    }
