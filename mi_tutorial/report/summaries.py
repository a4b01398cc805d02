"""Tables of run records for the terminal and the chapters: the runs' labels, the final value of
each metric per run, and mean ± sd over seeds (what ``mi-tutorial run`` prints after a sweep)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..runs import RECORD_COLUMNS

SUMMARY_METRICS = ("accuracy", "bound", "objective")
_NOT_LABELS = {*RECORD_COLUMNS, "elapsed_s", "seed", "config_key", "profile", "experiment"}


def label_columns(records: pd.DataFrame) -> list[str]:
    """The config columns that tell the configs in ``records`` apart (the runs' labels).

    Columns are taken in order, ``*_kwargs`` last, and kept only if they split the configs
    further, so e.g. ``critic_kwargs`` is dropped when ``critic`` already names the runs.
    """
    per_config = records.drop_duplicates("config_key").astype(str)
    candidates = [c for c in per_config.columns if c not in _NOT_LABELS]
    candidates.sort(key=lambda c: c.endswith("_kwargs"))  # stable: plain fields first
    labels: list[str] = []
    groups = 1
    for column in candidates:
        n = len(per_config.groupby([*labels, column]))
        if n > groups:
            labels.append(column)
            groups = n
    return labels or ["experiment"]


def final_value(series: pd.DataFrame, per_step: bool) -> float:
    """The final value of one run's ``series`` of a metric: at its last step, or, for a series
    recorded at every step (``per_step``) of 10 steps or more, the mean over the last 10%."""
    last_step = int(series["step"].max())
    if per_step and last_step >= 10:
        return series[series["step"] >= 0.9 * last_step]["value"].mean()
    return series[series["step"] == last_step]["value"].mean()


def final_summary(
    records: pd.DataFrame, metrics: tuple[str, ...] = SUMMARY_METRICS
) -> pd.DataFrame:
    """Final value of each metric per run, then mean, sd and n over seeds, one row per
    (config, metric). For per-step series (E6, ``eval_every == 1``) the "final value" is the mean
    over the last 10% of steps, since a single training batch is very noisy."""
    if records.empty:
        return pd.DataFrame(columns=["metric", "step", "mean", "sd", "n"])
    labels = label_columns(records)
    rows = []
    for (key, seed), run_records in records.groupby(["config_key", "seed"], sort=False):
        first = run_records.iloc[0]
        for metric in metrics:
            series = run_records[run_records["metric"] == metric]
            if series.empty:
                continue
            last_step = int(series["step"].max())
            per_step = "eval_every" in first and first["eval_every"] == 1
            value = final_value(series, per_step)
            rows.append(
                {
                    **{c: first[c] for c in labels},
                    "config_key": key,
                    "seed": seed,
                    "metric": metric,
                    "step": last_step,
                    "value": float(value),
                }
            )
    if not rows:  # none of ``metrics`` recorded
        return pd.DataFrame(columns=["metric", "step", "mean", "sd", "n"])
    finals = pd.DataFrame(rows)
    grouped = finals.groupby([*labels, "config_key", "metric"], sort=False, dropna=False)
    summary = grouped.agg(
        step=("step", "max"), mean=("value", "mean"), sd=("value", "std"), n=("value", "size")
    ).reset_index()
    summary["sd"] = summary["sd"].fillna(0.0)
    return summary.drop(columns="config_key")


def format_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """``final_summary`` as a wide table of strings "mean ± sd" (one column per metric)."""
    if summary.empty:
        return summary
    labels = [c for c in summary.columns if c not in ("metric", "step", "mean", "sd", "n")]
    summary = summary.copy()
    summary["text"] = [
        f"{m:.4f}" if n < 2 else f"{m:.4f} ± {s:.4f}"
        for m, s, n in zip(summary["mean"], summary["sd"], summary["n"], strict=True)
    ]
    for column in labels:
        summary[column] = summary[column].map(_label_text)
    wide = summary.pivot_table(
        index=labels, columns="metric", values="text", aggfunc="first", sort=False
    )
    steps = summary.groupby(labels, sort=False)["step"].max()
    seeds = summary.groupby(labels, sort=False)["n"].max()
    wide.insert(0, "seeds", seeds)
    wide.insert(0, "final step", steps)
    ordered = [m for m in SUMMARY_METRICS if m in wide.columns]
    others = [c for c in wide.columns if c not in ordered]
    return wide[others + ordered]


def _label_text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, (float, np.floating)):
        return f"{value:g}"
    return str(value)
