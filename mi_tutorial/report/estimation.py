r"""Figures, tables and guarded verdict sentences of the estimator benchmark (chapter 2b).

The records are those of :func:`mi_tutorial.training.estimation.run_grid` and the error tables
those of :func:`~mi_tutorial.training.estimation.error_table`. Every sentence is computed from them
and guarded: an estimate that is not finite or lies more than :data:`DIVERGED_NATS` from every MI
level is reported as *diverged*, never averaged into a comparison.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

from ..paper import estimation as bench
from .plotting import smooth

#: Labels of the estimators in figures and tables.
ESTIMATOR_LABELS = {
    "infonce": "I_NCE",
    "nwj": "I_NWJ",
    "dv": "I_DV",
    "js": "I_JS",
    "smile": "SMILE (τ = 5)",
    "interpolated": "I_α (α = 0.01)",
}
#: An estimate this far from every level (2–10 nats) is a blow-up, not an estimate; a step-to-step
#: standard deviation this large is one too.
DIVERGED_NATS = 100.0


def diverged(value: float, scale: float = DIVERGED_NATS) -> bool:
    """True for a non-finite value or one beyond ``scale`` in absolute value."""
    return not math.isfinite(value) or abs(value) > scale


def _error(errors: pd.DataFrame, where: dict, level: float, column: str) -> float:
    rows = errors[errors["true_mi"] == level]
    for key, value in where.items():
        rows = rows[rows[key] == value]
    return float(rows[column].iloc[0]) if len(rows) else float("nan")


def plot_staircase(
    staircase: pd.DataFrame, levels: Sequence[float], log_k: float, sigma: float
) -> plt.Figure:
    """One panel per estimator: raw (light) and smoothed (dark) estimate, mean over seeds; the
    true MI (black) and the InfoNCE ceiling (dashed)."""
    fig, axes = plt.subplots(2, 3, figsize=(9.6, 5.2), sharex=True, sharey=True)
    for ax, est in zip(axes.flat, bench.STAIRCASE_ESTIMATORS, strict=True):
        rows = staircase[staircase["estimator"] == est]
        wide = rows.pivot_table(index="step", columns="seed", values="value")
        truth = rows.groupby("step")["true_mi"].first()
        smoothed = np.vstack([smooth(wide[s].ffill().bfill().to_numpy(), sigma) for s in wide])
        ax.plot(wide.index, wide.mean(axis=1), color="C0", alpha=0.25, lw=0.6)
        ax.plot(wide.index, smoothed.mean(axis=0), color="C0", lw=1.5)
        ax.plot(truth.index, truth.to_numpy(), color="k", lw=1)
        ax.axhline(log_k, color="0.4", ls="--", lw=1)
        ax.set(ylim=(-1, max(levels) + 3), xlabel="training step", ylabel="MI [nats]")
        ax.text(0.03, 0.92, ESTIMATOR_LABELS[est], transform=ax.transAxes, fontsize=9)
    fig.tight_layout()
    return fig


def plot_bias_variance(errors: pd.DataFrame) -> plt.Figure:
    """Bias, variance and MSE against the true MI, one line per estimator (log variance/MSE)."""
    fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.2))
    for est in bench.STAIRCASE_ESTIMATORS:
        rows = errors[errors["estimator"] == est]
        for ax, column in zip(axes, ("bias", "variance", "mse"), strict=True):
            ax.plot(rows["true_mi"], rows[column], marker="o", ms=4, label=ESTIMATOR_LABELS[est])
    for ax, label in zip(axes, ("bias [nats]", "variance [nats²]", "mse [nats²]"), strict=True):
        ax.set(xlabel="true MI [nats]", ylabel=label)
    axes[1].set_yscale("log")
    axes[2].set_yscale("log")
    axes[0].axhline(0, color="0.4", lw=0.8)
    axes[2].legend(fontsize=7)
    fig.tight_layout()
    return fig


def error_display(errors: pd.DataFrame):
    """The bias/variance/MSE table as a styled frame (diverged cells say so)."""
    table = errors.assign(estimator=errors["estimator"].map(ESTIMATOR_LABELS))
    table = table.rename(columns={"true_mi": "true MI"})[
        ["estimator", "true MI", "bias", "variance", "mse"]
    ]
    return table.style.hide(axis="index").format(
        {
            "true MI": "{:.0f}",
            "bias": lambda v: "diverged" if diverged(v) else f"{v:+.2f}",
            "variance": lambda v: "diverged" if diverged(v, DIVERGED_NATS**2) else f"{v:.3g}",
            "mse": lambda v: "diverged" if diverged(v, DIVERGED_NATS**2) else f"{v:.3g}",
        }
    )


def variance_trend(levels: Sequence[float], variances: Sequence[float]) -> tuple[str, str | None]:
    r"""Read a variance curve over *all* its levels: a least-squares fit of
    :math:`\log \mathrm{Var}` on the level (reported as the fitted factor from the first to the
    last level), its Spearman rank correlation with the level, and the levels where it falls.

    Returns (sentence, verdict): "holds" when it grows by more than
    :data:`~mi_tutorial.paper.estimation.GROWTH_FACTOR` and steadily (rank correlation at least
    :data:`~mi_tutorial.paper.estimation.STEADY_RANK`), "partly" when it grows but not steadily,
    "does not hold" otherwise, and None when a level diverged or fewer than two are readable.
    """
    points = sorted(zip(levels, variances, strict=True))
    bad = [lvl for lvl, v in points if diverged(v, DIVERGED_NATS**2) or v <= 0]
    if bad:
        return (
            "the curve cannot be read as a trend, because the estimate diverged at "
            + ", ".join(f"{lvl:g}" for lvl in bad)
            + " nats",
            None,
        )
    if len(points) < 2:
        return "one level only, so there is no trend to read", None
    xs = np.array([p[0] for p in points])
    logs = np.log([p[1] for p in points])
    slope = float(np.polyfit(xs, logs, 1)[0])
    factor = math.exp(slope * (xs[-1] - xs[0]))
    rank = float(stats.spearmanr(xs, logs).statistic) if len(xs) > 2 else 1.0
    falls = [f"{xs[i]:g}–{xs[i + 1]:g}" for i in range(len(xs) - 1) if logs[i + 1] <= logs[i]]
    fit = (
        f"a least-squares fit of log variance on the level, over all {len(xs)} levels, gives a "
        f"factor of {factor:.1f} from {xs[0]:g} to {xs[-1]:g} nats; rank correlation with the "
        f"level {rank:.2f}"
    )
    where = f"it falls between {', '.join(falls)} nats"
    if factor > bench.GROWTH_FACTOR and not falls:
        return f"it grows at every level ({fit})", "holds"
    if factor > bench.GROWTH_FACTOR and rank >= bench.STEADY_RANK:
        return f"it grows overall ({fit}) but not at every level: {where}", "holds"
    if factor > bench.GROWTH_FACTOR:
        return (
            f"it is larger at high MI than at low MI ({fit}), but it does not grow steadily: "
            f"{where}",
            "partly",
        )
    if factor < 1 / bench.GROWTH_FACTOR:
        return f"it falls overall ({fit})", "does not hold"
    return f"it shows no clear trend with the true MI at this budget ({fit})", "does not hold"


def staircase_findings(
    staircase: pd.DataFrame, errors: pd.DataFrame, levels: Sequence[float], log_k: float
) -> dict:
    """The numbers and sentences of the staircase, keyed by glue name (without the chapter
    prefix), and the verdicts of the literature table under ``"verdicts"``."""
    top, bottom = max(levels), min(levels)
    nce_values = staircase.loc[staircase["estimator"] == "infonce", "value"].to_numpy()
    nce_max = float(np.max(nce_values)) if np.isfinite(nce_values).all() else float("nan")
    nce_top = _error(errors, {"estimator": "infonce"}, top, "bias") + top
    ordered = sorted(levels)
    nwj_vars = [_error(errors, {"estimator": "nwj"}, lvl, "variance") for lvl in ordered]
    var_text, var_holds = variance_trend(ordered, nwj_vars)
    nce_var_top = _error(errors, {"estimator": "infonce"}, top, "variance")
    nwj_var_top = nwj_vars[-1]
    if not math.isfinite(nce_max):
        ceiling = "cannot be checked (a batch estimate is not finite)"
    else:
        ceiling = "never exceeds" if nce_max <= log_k + 1e-6 else "exceeds (this would be a bug)"
    if diverged(nwj_var_top, DIVERGED_NATS**2) or not math.isfinite(nce_var_top):
        compare = "not comparable (a top-level variance diverged)"
    else:
        compare = "larger" if nwj_var_top > nce_var_top else "not larger"
    nce_ok = math.isfinite(nce_top) and nce_top < top - bench.FAR_BELOW_NATS
    return {
        "top": float(top),
        "bottom": float(bottom),
        "nce_max": nce_max,
        "nce_top": float(nce_top),
        "nce_var_top": nce_var_top,
        "nwj_var_top": nwj_var_top,
        "ceiling_verdict": ceiling,
        "ceiling_note": (
            "this level lies above the ceiling, so the gap cannot be trained away, only narrowed by"
            " a larger batch"
            if top > log_k
            else "this level lies below the ceiling, so the gap here is under-training, not the "
            "ceiling"
        ),
        "nwj_var_curve": ", ".join(
            f"diverged at {lvl:g}" if diverged(v, DIVERGED_NATS**2) else f"{v:.3g} at {lvl:g}"
            for v, lvl in zip(nwj_vars, ordered, strict=True)
        ),
        "var_verdict": var_text,
        "var_compare": compare,
        "verdicts": {
            "ceiling": (
                f"max batch estimate {nce_max:.3f} vs log K = {log_k:.3f}",
                None if not math.isfinite(nce_max) else nce_max <= log_k + 1e-6,
            ),
            "nce_bias": (
                f"estimate {nce_top:.2f} at {top:g} nats",
                None if not math.isfinite(nce_top) else nce_ok,
            ),
            "nwj_variance": (var_text, var_holds),
        },
    }


def plot_tasks(task_errors: pd.DataFrame, levels: Sequence[float], log_k: float) -> plt.Figure:
    """Estimated against true MI, one panel per estimator, one colour per task, solid separable
    and dashed concatenated critic; the diagonal is the truth, the dotted line log K."""
    fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.3), sharey=True)
    for ax, est in zip(axes, bench.TASK_ESTIMATORS, strict=True):
        for color, task in enumerate(bench.TASKS):
            for critic, ls in zip(bench.TASK_CRITICS, ("-", "--"), strict=True):
                rows = task_errors[
                    (task_errors["estimator"] == est)
                    & (task_errors["task"] == task)
                    & (task_errors["critic"] == critic)
                ]
                ax.plot(
                    rows["true_mi"],
                    rows["estimate"],
                    ls=ls,
                    marker="o",
                    ms=3,
                    color=f"C{color}",
                    label=f"{task}, {critic}",
                )
        grid = np.array(levels)
        ax.plot(grid, grid, color="k", lw=0.8)
        ax.axhline(log_k, color="0.4", ls=":", lw=1)
        ax.set(xlabel="true MI [nats]", ylabel="estimate [nats]", ylim=(-2, grid.max() + 2))
        ax.text(0.03, 0.92, ESTIMATOR_LABELS[est], transform=ax.transAxes, fontsize=9)
    axes[0].legend(fontsize=6)
    fig.tight_layout()
    return fig


def task_display(task_errors: pd.DataFrame):
    """Estimates per task × estimator (rows) and critic × level (columns); diverged cells say so."""
    pivot = task_errors.assign(
        estimator=task_errors["estimator"].map(ESTIMATOR_LABELS),
        **{"true MI": task_errors["true_mi"].map("{:g} nats".format)},
    ).pivot_table(index=["task", "estimator"], columns=["critic", "true MI"], values="estimate")
    return pivot.style.format(lambda v: f"diverged ({v:.3g})" if diverged(v) else f"{v:.2f}")


def task_findings(task_errors: pd.DataFrame, level: float) -> dict:
    """Sentences comparing the Gaussian and the cubed pair at ``level`` (separable critic) and
    the two critics cell by cell; diverged estimates are named, never compared."""

    def estimate(task: str, est: str, critic: str = "separable", lvl: float = level) -> float:
        rows = task_errors[
            (task_errors["task"] == task)
            & (task_errors["estimator"] == est)
            & (task_errors["critic"] == critic)
            & (task_errors["true_mi"] == lvl)
        ]
        return float(rows["estimate"].iloc[0]) if len(rows) else float("nan")

    ests = bench.TASK_ESTIMATORS
    gauss = {e: estimate("gaussian", e) for e in ests}
    cubic = {e: estimate("cubic", e) for e in ests}
    broken = [e for e in ests if diverged(gauss[e]) or diverged(cubic[e])]
    shifts = {e: cubic[e] - gauss[e] for e in ests if e not in broken}
    label = ESTIMATOR_LABELS
    if shifts:
        largest = max(shifts, key=lambda e: abs(shifts[e]))
        moves = abs(shifts[largest]) > bench.MOVES_NATS
        shift_sentence = (
            f"{'the estimates move' if moves else 'the estimates barely move'} under the cube: "
            f"among the estimates that did not diverge, the largest shift is for "
            f"{label[largest]} (separable critic), whose estimate goes from {gauss[largest]:.2f} "
            f"on the Gaussian pair to {cubic[largest]:.2f} on the cubed one, a shift of "
            f"{shifts[largest]:+.2f} nats caused by nothing but a change of coordinates"
        )
        invariance = (f"{label[largest]}: {shifts[largest]:+.2f} nats at {level:g} nats", moves)
    else:
        shift_sentence = "every estimator diverged on one of the two pairs, so no shift is read"
        invariance = ("every estimator diverged", None)
    diverged_note = " ".join(
        f"{label[e]} diverged on the {'cubed' if diverged(cubic[e]) else 'Gaussian'} pair "
        f"(estimate {cubic[e] if diverged(cubic[e]) else gauss[e]:.4g} nats): heavy tails made "
        "the batch average of its exponential term blow up — a failure of the estimator, not a "
        "change of coordinates — so it is left out of the comparison."
        for e in broken
    )
    # Critic against critic, cell by cell, only where neither estimate diverged.
    wide = task_errors.pivot_table(
        index=["task", "estimator", "true_mi"], columns="critic", values="estimate"
    )
    finite = wide[~wide.map(diverged).any(axis=1)]
    truth = finite.index.get_level_values("true_mi").to_numpy()
    sep_closer = (finite["separable"] - truth).abs() < (finite["concat"] - truth).abs()
    n_cells, n_sep = int(len(finite)), int(sep_closer.sum())
    left_out = len(wide) - n_cells
    if 2 * n_sep > n_cells:
        critic_verdict = "the separable critic is closer to the truth more often"
    elif 2 * n_sep < n_cells:
        critic_verdict = "the concatenated critic is closer to the truth more often"
    else:
        critic_verdict = "neither critic is closer to the truth more often"
    left = f" ({left_out} cell(s) where a critic diverged are left out)" if left_out else ""
    return {
        "mid": float(level),
        "shift_sentence": shift_sentence,
        "shifts": "; ".join(
            f"{label[e]} diverged" if e in broken else f"{label[e]} {shifts[e]:+.2f}" for e in ests
        ),
        "diverged_note": diverged_note or "No estimator diverged at this level.",
        "critic_sentence": (
            f"the separable critic's estimate is closer to the truth in {n_sep} of {n_cells} "
            f"cases{left}, so {critic_verdict}"
        ),
        "verdicts": {"invariance": invariance},
    }


def literature_table(verdicts: dict, profile: str):
    """The literature's statements (:data:`mi_tutorial.paper.estimation.LITERATURE`) against our
    numbers. A verdict is True/False (holds/does not hold), a sentence such as "partly", or None
    (a diverged reading, which is not judged)."""
    rows = []
    for key, claim, source in bench.LITERATURE:
        ours, ok = verdicts[key]
        if isinstance(ok, str):
            verdict = ok
        else:
            verdict = "not judged (diverged)" if ok is None else "holds" if ok else "does not hold"
        if profile == "smoke":
            verdict += " (smoke profile: too short to judge)"
        rows.append({"claim": claim, "source": source, "ours": ours, "verdict": verdict})
    return pd.DataFrame(rows).style.hide(axis="index")
