"""Summaries of tidy run records (the long format written by :mod:`mi_tutorial.training`).

Records have one row per ``(config fields..., seed, step, metric)`` with the number in ``value``.
These helpers turn them into the small tables the chapters print: the value of a metric at a
given step (by default the last evaluation), as mean ± sd over seeds for each configuration.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def metric_frame(records: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Rows of one metric, with a clear error when the metric was never recorded."""
    if "metric" not in records or "value" not in records:
        raise ValueError(
            "records need the tidy columns 'metric' and 'value' (see mi_tutorial.training)."
        )
    rows = records[records["metric"] == metric]
    if rows.empty:
        available = sorted(records["metric"].unique())
        raise ValueError(f"metric {metric!r} not in records; available: {available}")
    return rows


def at_step(records: pd.DataFrame, metric: str, step: int | None = None) -> pd.DataFrame:
    """Rows of ``metric`` at ``step`` (default: each run's last recorded step)."""
    rows = metric_frame(records, metric)
    if step is None:
        return rows[rows["step"] == rows["step"].max()]
    picked = rows[rows["step"] == step]
    if picked.empty:
        raise ValueError(
            f"no {metric!r} recorded at step {step}; steps: {sorted(rows['step'].unique())}"
        )
    return picked


def summarize(
    records: pd.DataFrame, metric: str, by: list[str], step: int | None = None
) -> pd.DataFrame:
    """Mean, sd and number of seeds of ``metric`` at ``step`` for each group of ``by`` columns.

    Per-seed values are averaged first (a metric with several rows per step and seed, like the
    per-sample ``logcond``, counts once per seed).
    """
    rows = at_step(records, metric, step)
    per_seed = rows.groupby([*by, "seed"], dropna=False)["value"].mean().reset_index()
    out = per_seed.groupby(by, dropna=False)["value"].agg(
        mean="mean",
        sd=lambda v: float(np.std(v, ddof=1)) if len(v) > 1 else float("nan"),
        n="count",
    )
    return out.reset_index()


def mean_at(records: pd.DataFrame, metric: str, step: int | None = None, **where) -> float:
    """The mean over seeds of ``metric`` at ``step`` for the runs matching ``where`` (a float)."""
    rows = at_step(records, metric, step)
    for column, value in where.items():
        rows = rows[rows[column] == value]
    if rows.empty:
        raise ValueError(f"no {metric!r} records match {where}")
    return float(rows.groupby("seed")["value"].mean().mean())


def curve(records: pd.DataFrame, metric: str, **where) -> pd.Series:
    """Mean over seeds of ``metric`` per step (per-sample rows averaged per seed first), for the
    runs whose columns match ``where``."""
    rows = metric_frame(records, metric)
    for column, value in where.items():
        rows = rows[rows[column] == value]
    if rows.empty:
        raise ValueError(f"no {metric!r} records match {where}")
    return rows.groupby(["step", "seed"])["value"].mean().groupby("step").mean()


def value_at(records: pd.DataFrame, metric: str, step: int | None = None, **where) -> float:
    """:func:`curve` at the last evaluation at or before ``step`` (default: the last one)."""
    values = curve(records, metric, **where)
    if step is not None:
        values = values[values.index <= step]
        if values.empty:
            raise ValueError(f"no {metric!r} evaluation at or before step {step}")
    return float(values.iloc[-1])
