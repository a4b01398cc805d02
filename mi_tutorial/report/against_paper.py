r"""Our runs against the paper's figures: the tables and plots of the chapters' "what we observe vs
the paper" sections, generated from tidy run records and the values read off the paper's figures.

The paper's numbers are declared only in :mod:`mi_tutorial.paper` (each study's
``PAPER_POINTS``, read through :func:`mi_tutorial.paper.paper_points`); this module reads them.

**Compare like with like.** The paper's bound values come from the official notebook, whose
reported bound is computed on *training* batches; a run records that quantity as ``train_bound``
(:data:`mi_tutorial.paper.claims.PAPER_BOUND`). :func:`paper_comparison` therefore sets each of the
paper's bound values beside our ``train_bound``, and our bound on the *held-out* test set
(``bound``) in a separate, labelled column.

**Which runs.** :func:`shown_records` picks the committed ``paper``-profile runs of an experiment
where the store has them (trains nothing) and the chapter's own live run otherwise.

**Guarded sentences.** :func:`change` reads a curve's change from its first to its last
evaluation as ``rose`` / ``fell`` / ``stayed flat``, and as ``diverged`` when a value is not a
finite number; a non-finite value is never averaged in (:func:`curve`).
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from .. import paper
from ..estimators import PAPER_ESTIMATOR_NAMES
from ..paper.bijective import READ_OFF_TOLERANCE
from ..paper.claims import HELD_OUT_BOUND, PAPER_BOUND, variant_note
from ..runs import ResultsStore

#: How close our value must be to a value read off the paper's figures to "match": one point of
#: accuracy (the read-off error of ±0.002 plus the spread of a few seeds), the bound's read-off
#: tolerance of claim 1 (half of Fig. 1a's finest grid spacing), and the same for log-conditions.
TOLERANCES = {"accuracy": 0.01, "bound": READ_OFF_TOLERANCE, "logcond": READ_OFF_TOLERANCE}
#: A change of a curve smaller than this counts as flat (accuracy: 0.2 points, the read-off error).
FLAT = {"accuracy": 0.002, "bound": 0.05, "logcond": 0.1}
#: What each compared quantity is, as the table's "quantity" column says it.
QUANTITIES = {
    "accuracy": "test accuracy of the linear probe",
    "bound": "bound on training batches (the notebook's quantity)",
    "logcond": "median log condition number of the Jacobian",
    "classifier_accuracy": "test accuracy of the jointly trained classifier",
}
#: The held-out test bound's column in :func:`paper_comparison`.
HELD_OUT_COLUMN = "ours, held-out test bound"


def shown_records(
    experiment: str, live: pd.DataFrame, store: ResultsStore | None = None
) -> tuple[pd.DataFrame, str]:
    """(records, label): the committed paper-profile runs of ``experiment`` if the store has any,
    else ``live`` (the chapter's own run). The label names the profile and the number of seeds,
    e.g. ``"paper profile, 3 seeds"``, for captions and sentences."""
    stored = paper.stored_records("paper", store, [experiment])
    records = stored if not stored.empty else live
    profile = "paper" if not stored.empty else str(live["profile"].iloc[0])
    seeds = records.groupby("config_key")["seed"].nunique()
    low, high = int(seeds.min()), int(seeds.max())
    count = f"{low}" if low == high else f"{low}–{high}"
    label = f"{profile} profile, {count} seed{'s' if high != 1 else ''} per configuration"
    if note := variant_note(records):
        label += f" ({note})"
    return records, label


def claim_sentences(table: pd.DataFrame) -> str:
    """The rows of a ledger table (:func:`mi_tutorial.report.ledger.paper_profile_claims`) as
    sentences: each claim's statement, verdict, our value and the outcome's note."""
    sentences, rows = [], table.to_dict("records")
    marker = "runs of "  # the ledger's label of an earlier version's runs, said once below
    notes = [str(row["what ours measures"] or "") for row in rows]
    variants = {note[note.index(marker) :] for note in notes if marker in note}
    variant = variants.pop() if len(variants) == 1 else None
    for row, note in zip(rows, notes, strict=True):
        if row["verdict"] == "not run":
            sentences.append(f"Claim {row['claim']} ({row['statement']}): not run yet.")
            continue
        note = note.replace(variant, "").rstrip("; ") if variant else note
        note = f"; {note}" if note else ""
        sentences.append(
            f"Claim {row['claim']} ({row['statement']}): **{row['verdict']}**, ours "
            f"{row['ours']} over {row['seeds']} seed(s){note}."
        )
    if variant:
        sentences.append(f"(All are {variant}.)")
    return " ".join(sentences)


def _matching(records: pd.DataFrame, where: dict) -> pd.DataFrame:
    for column, value in where.items():
        records = records[records[column].astype(str) == str(value)]
    return records


def curve(records: pd.DataFrame, metric: str, **where) -> pd.Series:
    """``metric`` per evaluated step for the runs matching ``where``: the median over inputs and
    seeds for the per-input ``logcond`` (as the paper's Fig. 2c), else the mean per seed, then over
    seeds. A step where any seed's value is not finite is NaN (never averaged in). Empty if the
    metric was not recorded."""
    rows = _matching(records[records["metric"] == metric], where)
    if rows.empty:
        return pd.Series(dtype=float)
    if metric == "logcond":
        finite = rows[np.isfinite(rows["value"])]
        return finite.groupby("step")["value"].median()
    per_seed = rows.groupby(["step", "seed"])["value"].mean()
    broken = (~np.isfinite(rows["value"])).groupby([rows["step"], rows["seed"]]).any()
    per_seed[broken] = np.nan
    mean = per_seed.groupby("step").mean()
    mean[per_seed.isna().groupby("step").any()] = np.nan
    return mean


def change(values: pd.Series, metric: str = "accuracy") -> tuple[str, float]:
    """(``rose`` | ``fell`` | ``stayed flat`` | ``diverged``, last minus first) of a curve."""
    values = values.dropna() if metric == "logcond" else values
    if values.empty:
        return "diverged", math.nan
    delta = float(values.iloc[-1] - values.iloc[0])
    if not math.isfinite(delta):
        return "diverged", delta
    if abs(delta) <= FLAT.get(metric, 0.0):
        return "stayed flat", delta
    return ("rose" if delta > 0 else "fell"), delta


def _label(where: dict, group: str | None) -> str:
    names = [PAPER_ESTIMATOR_NAMES.get(v, str(v)) for v in where.values()]
    return ", ".join([*names, *([group] if group else [])]) or "ours"


def _verdict(ours: float, paper_value: float, metric: str) -> str:
    if not math.isfinite(ours):
        return "diverged"
    tolerance = TOLERANCES.get(metric, 0.0)
    diff = ours - paper_value
    return f"matches (|Δ| ≤ {tolerance:g})" if abs(diff) <= tolerance else f"differs by {diff:+.3f}"


def paper_comparison(records: pd.DataFrame, experiment: str, by: str | None = None) -> pd.DataFrame:
    """Every value read off the paper's figures for ``experiment`` beside ours at the same step.

    One row per (paper curve, our group, paper step). ``by``: a column of ``records`` whose groups
    are compared separately with the paper curves that do not name it (E2's settings against its
    single paper run). The paper's bound is compared with our ``train_bound`` (the quantity the
    notebook reported, see the module docstring); our held-out test bound is shown beside it in
    :data:`HELD_OUT_COLUMN`. A paper step past our last evaluation says ``not reached``.
    Columns: run, quantity, step, paper, ours, ours held-out test bound, verdict.
    """
    groups = [(None, records)] if by is None else list(records.groupby(by, sort=False))
    rows = []
    metrics = dict.fromkeys(m for exp, m, _where, _pts in paper.PAPER_POINTS if exp == experiment)
    for metric in metrics:
        for where, points in paper.paper_points(experiment, metric):
            for group, runs in groups:
                runs = _matching(runs, where)
                ours = curve(runs, PAPER_BOUND if metric == "bound" else metric)
                if runs.empty:
                    continue
                held_out = curve(runs, HELD_OUT_BOUND) if metric == "bound" else None
                last = int(runs["step"].max())
                for step, value in points:
                    row = {
                        "run": _label(where, group),
                        "quantity": QUANTITIES.get(metric, metric),
                        "step": step,
                        "paper": value,
                        "ours": ours.get(step, math.nan),
                        HELD_OUT_COLUMN: math.nan
                        if held_out is None
                        else held_out.get(step, math.nan),
                    }
                    if step > last:
                        row["verdict"] = f"not reached (our runs end at step {last:,})"
                    elif metric == "bound" and step == 0 and math.isnan(row["ours"]):
                        row["verdict"] = "no training batch at step 0 (held-out value beside)"
                    elif step not in ours.index:
                        row["verdict"] = "not recorded at this step"
                    else:
                        row["verdict"] = _verdict(float(row["ours"]), value, metric)
                    rows.append(row)
    return pd.DataFrame(
        rows, columns=["run", "quantity", "step", "paper", "ours", HELD_OUT_COLUMN, "verdict"]
    )


def styled(table: pd.DataFrame):
    """:func:`paper_comparison`'s table for display: three decimals, blanks for "no value"."""
    return (
        table.style.hide(axis="index")
        .format(precision=3, na_rep="—")
        .format("{:,}", subset=["step"])
    )


def plot_against_paper(
    records: pd.DataFrame,
    experiment: str,
    metric: str,
    ax: plt.Axes,
    by: str | None = None,
    ylabel: str | None = None,
) -> plt.Axes:
    """Our curve(s) of ``metric`` (mean ± 1 SD over seeds; the median for ``logcond``) with the
    paper's read-off values as crosses of the same colour (grey for a paper curve that applies to
    every group); a triangle at the top marks an evaluation whose value is not a finite number
    (never averaged in). For ``bound`` the solid line is our training-batch bound, the one the paper's
    values compare with, and the dashed line of the same colour our held-out test bound."""
    points = paper.paper_points(experiment, metric)
    keys = sorted({k for where, _ in points for k in where})
    keys = [*keys, by] if by else keys
    rows = records[records["metric"].isin([metric, PAPER_BOUND, HELD_OUT_BOUND])]
    groups = rows.groupby(keys, sort=False) if keys else [((), rows)]
    ours_metric = PAPER_BOUND if metric == "bound" else metric
    for i, (values, runs) in enumerate(groups):
        where = dict(zip(keys, values if isinstance(values, tuple) else (values,), strict=True))
        color, label = f"C{i}", _label({k: where[k] for k in keys if k != by}, where.get(by))
        for shown, style, suffix in (
            (ours_metric, "-", ", training batches" if metric == "bound" else ""),
            *([(HELD_OUT_BOUND, "--", ", held-out test set")] if metric == "bound" else []),
        ):
            mean = curve(runs, shown)
            if mean.empty:
                continue
            ax.plot(
                mean.index,
                mean.to_numpy(),
                style,
                color=color,
                lw=1.3,
                marker="o",
                ms=2.5,
                label=label + suffix,
            )
            broken = mean.index[~np.isfinite(mean.to_numpy())]
            if len(broken) and shown != "logcond":  # not a number: a triangle at the top
                top = ax.get_xaxis_transform()
                ax.plot(broken, [0.97] * len(broken), "v", color=color, ms=5, transform=top)
            if shown != "logcond":
                per_seed = runs[runs["metric"] == shown].groupby(["step", "seed"])["value"].mean()
                sd = per_seed.groupby("step").std().reindex(mean.index).fillna(0.0)
                ax.fill_between(mean.index, mean - sd, mean + sd, color=color, alpha=0.15, lw=0)
        for paper_where, pts in points:
            if paper_where and all(str(where.get(k)) == str(v) for k, v in paper_where.items()):
                steps, vals = zip(*pts, strict=True)
                ax.plot(steps, vals, "x", color=color, ms=7, mew=2)
    for paper_where, pts in points:
        if not paper_where:
            steps, vals = zip(*pts, strict=True)
            ax.plot(steps, vals, "x", color="0.3", ms=7, mew=2, label="paper (one run)")
    if any(paper_where for paper_where, _ in points):
        ax.plot([], [], "x", color="0.3", ms=7, mew=2, label="paper (crosses)")
    ax.set(xlabel="training step", ylabel=ylabel or QUANTITIES.get(metric, metric))
    ax.xaxis.set_major_formatter(
        FuncFormatter(lambda step, _: f"{step / 1000:g}k" if step else "0")
    )
    ax.legend(fontsize=7)
    return ax
