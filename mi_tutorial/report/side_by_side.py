"""Our runs beside the paper's numbers, like with like: the pieces chapters 5 and 6 share.

Two bound quantities are recorded per run (:data:`~mi_tutorial.paper.claims.PAPER_BOUND`): the mean
bound over the training batches since the previous evaluation (``train_bound``, what the official
notebook reports and the paper plots) and the bound on the held-out test set (``bound``). Every
helper here names which one it shows. Values that are not finite (a diverged run) are never
averaged in: they are counted and reported as diverged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ..paper import CLAIMS
from ..paper.claims import HELD_OUT_BOUND, PAPER_BOUND
from .ledger import CHAPTER_COLUMNS, evaluate_claims

#: How the two bound quantities are labelled in every table and figure of the chapters.
QUANTITY_LABELS = {
    PAPER_BOUND: "training batches (the paper's quantity)",
    HELD_OUT_BOUND: "held-out test set",
}


def finite_mean(values: Sequence[float]) -> tuple[float, float, int]:
    """(mean, SD, number of non-finite values) over the finite ``values``; NaN if none is finite.

    The SD is the sample SD (ddof = 1), NaN for fewer than two finite values.
    """
    array = np.asarray(values, dtype=float)
    finite = array[np.isfinite(array)]
    n_bad = int(array.size - finite.size)
    if finite.size == 0:
        return math.nan, math.nan, n_bad
    sd = float(finite.std(ddof=1)) if finite.size > 1 else math.nan
    return float(finite.mean()), sd, n_bad


def value_text(values: Sequence[float], digits: int = 3) -> str:
    """``0.123`` (one value), ``0.123 ± 0.004`` (mean ± SD over seeds), with "k diverged" added when
    some values are not finite, "diverged" when none is, and "—" for no value at all."""
    mean, sd, n_bad = finite_mean(values)
    if math.isnan(mean):
        return "diverged" if n_bad else "—"
    text = f"{mean:.{digits}f}" if math.isnan(sd) else f"{mean:.{digits}f} ± {sd:.{digits}f}"
    return f"{text} ({n_bad} diverged)" if n_bad else text


def per_seed_at(records: pd.DataFrame, metric: str, step: int | None = None, **where) -> pd.Series:
    """One value of ``metric`` per seed for the runs matching ``where``: at the last evaluation at
    or before ``step`` (default: each run's last evaluation). Empty if nothing matches."""
    rows = records[records["metric"] == metric]
    for column, value in where.items():
        rows = rows[rows[column] == value]
    if step is not None:
        rows = rows[rows["step"] <= step]
    if rows.empty:
        return pd.Series(dtype=float)
    rows = rows[rows["step"] == rows.groupby("seed")["step"].transform("max")]
    return rows.groupby("seed")["value"].mean()


def claims_table(
    records: pd.DataFrame, experiments: Sequence[str], baselines: dict | None = None
) -> pd.DataFrame:
    """The ledger's claims about ``experiments`` judged on ``records`` (any profile), in the
    columns a chapter shows (sanity checks left out)."""
    claims = tuple(c for c in CLAIMS if c.experiment in experiments and c.kind == "claim")
    return evaluate_claims(records, baselines, claims)[CHAPTER_COLUMNS]


def runs_to_show(paper_runs: pd.DataFrame, live_runs: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The committed ``paper``-profile runs where there are any, else this build's runs, with a
    phrase saying which (for the sentence above a figure)."""
    if not paper_runs.empty:
        seeds, steps = int(paper_runs["seed"].nunique()), int(paper_runs["step"].max())
        return paper_runs, (
            f"the committed paper-profile runs ({seeds} seed(s) per configuration, evaluated up "
            f"to step {steps:,}), read from the results store; nothing is trained for them here"
        )
    steps = int(live_runs["step"].max())
    return live_runs, (
        f"this build's runs ({steps:,} steps): no paper-profile run is stored in this results "
        "folder, so the figures fall back on them"
    )


def both_bounds(records: pd.DataFrame, target: bool = False) -> pd.DataFrame:
    """The ``train_bound`` and ``bound`` rows as one metric, ``"bound"``, with a ``quantity``
    column labelling each (:data:`QUANTITY_LABELS`). ``target``: the rows hold
    ``|bound − target|`` instead, i.e. L_t of the mean bound, per quantity. Non-finite rows are
    dropped (a plot cannot show them; tables report them as diverged)."""
    rows = records[records["metric"].isin(list(QUANTITY_LABELS))].copy()
    rows["quantity"] = rows["metric"].map(QUANTITY_LABELS)
    if target:
        rows["value"] = (rows["value"] - rows["target"]).abs()
    rows["metric"] = "bound"
    return rows[np.isfinite(rows["value"])]


def lines(
    rows: pd.DataFrame,
    ax: plt.Axes,
    hue: str,
    hue_order: Sequence[str],
    style: str | None = None,
    ylabel: str = "",
    style_order: Sequence[str] | None = None,
) -> dict[str, tuple]:
    """Mean ± 1 SD over seeds against training steps, one colour per ``hue`` level in
    ``hue_order`` and a line style per ``style`` level in ``style_order`` (the book's style, as :func:`mi_tutorial.report.plotting.plot_curves`); returns
    the colour of each level so that the paper's points can be drawn in it."""
    palette = dict(zip(hue_order, sns.color_palette(n_colors=len(hue_order)), strict=True))
    sns.lineplot(
        data=rows,
        x="step",
        y="value",
        hue=hue,
        hue_order=list(hue_order),
        palette=palette,
        style=style,
        style_order=None if style_order is None else list(style_order),
        errorbar="sd",
        marker="o",
        markersize=3,
        ax=ax,
    )
    ax.set(xlabel="training step", ylabel=ylabel)
    return palette


def mark_points(ax: plt.Axes, points: Sequence[tuple[int, float]], color, label: str = "") -> None:
    """The paper's values read off its figures, as crosses."""
    steps, values = zip(*points, strict=True) if points else ((), ())
    ax.plot(steps, values, "x", color=color, ms=8, mew=2, label=label or None)
