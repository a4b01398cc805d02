"""Chapter 3's bookkeeping: the figure of the two views, the table of module sizes against the
paper's, the initialisation study's verdicts and the table of our reference points against the
paper's. The paper's numbers come from :mod:`mi_tutorial.paper.setup`.

**Diverged runs are reported, never averaged in**: a seed whose final accuracy is not finite is
named as diverged and left out of the mean (:func:`final_accuracies`).
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..critics import make_critic
from ..encoders import count_parameters, make_encoder
from ..paper import setup
from .analysis import at_step

#: Our verdict rule for the reference table (not the paper's): "reproduces" within this many
#: accuracy points (absolute) of a value the paper states only approximately.
TOLERANCE = 0.01
#: Accuracy gap (points) below which two initialisations count as ending level.
LEVEL_POINTS = 0.5


def plot_two_views(views, image_shape: tuple[int, int], half_rows: int, n: int = 6) -> plt.Figure:
    """``n`` images of ``views`` (rows: the image, its top view, its bottom view)."""
    fig, axes = plt.subplots(3, n, figsize=(6.4, 3.4))
    half_shape = (half_rows, image_shape[1])
    gap = np.full((image_shape[0] - half_rows, image_shape[1]), np.nan)
    for col in range(n):
        top = views.top[col].reshape(half_shape).numpy()
        bottom = views.bottom[col].reshape(half_shape).numpy()
        for row, image in enumerate((np.vstack([top, bottom]), np.vstack([top, gap]), bottom)):
            ax = axes[row, col]
            ax.imshow(image, cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
        axes[0, col].set_xlabel(f"label {int(views.labels[col])}", fontsize=8)
        axes[0, col].xaxis.set_label_position("top")
    for row, name in enumerate(("image x", "top view", "bottom view")):
        axes[row, 0].set_ylabel(name, fontsize=8)
    fig.tight_layout()
    return fig


def size_table(
    encoder_sizes: dict[str, dict],
    critic_sizes: dict[str, dict],
    view_dim: int = 392,
    code_dim: int = 100,
) -> pd.DataFrame:
    """Parameter counts of our modules at the given sizes (built, not typed in), next to the
    paper's stated counts (:mod:`mi_tutorial.paper.setup`)."""
    rows = []
    for name, kwargs in encoder_sizes.items():
        rows.append(
            {
                "module": f"encoder: {name}",
                "paper's size": ", ".join(f"{k}={v}" for k, v in kwargs.items()),
                "parameters (ours)": count_parameters(make_encoder(name, view_dim, **kwargs)),
                "paper": setup.ENCODER_PARAMETERS.get(name) or "not stated",
            }
        )
    for name, kwargs in critic_sizes.items():
        critic = make_critic(name, code_dim, code_dim, **kwargs)
        rows.append(
            {
                "module": f"critic: {name} ({code_dim}-d codes)",
                "paper's size": ", ".join(f"{k}={v}" for k, v in kwargs.items())
                or f"W: {code_dim} x {code_dim}",
                "parameters (ours)": count_parameters(critic),
                "paper": setup.CRITIC_PARAMETERS.get(name, "not stated"),
            }
        )
    return pd.DataFrame(rows)


def final_accuracies(records: pd.DataFrame, step: int, **where) -> tuple[float, list[int]]:
    """Mean over seeds of the accuracy at ``step`` for the runs matching ``where``, over the
    seeds whose value is finite, and the seeds that diverged (non-finite values)."""
    rows = at_step(records, "accuracy", step)
    for column, value in where.items():
        rows = rows[rows[column] == value]
    per_seed = rows.groupby("seed")["value"].mean()
    ok = np.isfinite(per_seed.astype(float))
    mean = float(per_seed[ok].mean()) if ok.any() else math.nan
    return mean, [int(seed) for seed in per_seed.index[~ok]]


def init_findings(records: pd.DataFrame, pixel_accuracy: float) -> dict:
    """The numbers and sentences of the initialisation study (keys prefixed ``ch3_``)."""
    final_step = int(at_step(records, "accuracy")["step"].max())
    acc, acc0, diverged = {}, {}, []
    for init in ("glorot", "torch"):
        acc[init], bad = final_accuracies(records, final_step, init=init)
        acc0[init], _ = final_accuracies(records, 0, init=init)
        diverged += [f"{init} seed {seed}" for seed in bad]
    gap = 100.0 * (acc["glorot"] - acc["torch"])
    if not math.isfinite(gap):
        verdict = "no comparison is possible: every seed of one initialisation diverged"
    elif gap > LEVEL_POINTS:
        verdict = "Glorot-uniform ends higher than the PyTorch default"
    elif gap < -LEVEL_POINTS:
        verdict = "the PyTorch default ends higher than Glorot-uniform"
    else:
        verdict = f"the two initialisations end within {LEVEL_POINTS} points of each other"

    def beats(init: str) -> str:
        if not math.isfinite(acc[init]):
            return "diverged before reaching"
        return "beats" if acc[init] > pixel_accuracy else "does not beat"

    decides = {beats("glorot"), beats("torch")} == {"beats", "does not beat"}
    return {
        "ch3_init_step": final_step,
        "ch3_acc_glorot": acc["glorot"],
        "ch3_acc_torch": acc["torch"],
        "ch3_acc0_glorot": acc0["glorot"],
        "ch3_acc0_torch": acc0["torch"],
        "ch3_init_gap": abs(gap),
        "ch3_init_verdict": verdict,
        "ch3_glorot_vs_pixels": beats("glorot"),
        "ch3_torch_vs_pixels": beats("torch"),
        "ch3_init_consequence": (
            "So in these runs this detail of the official code decides whether the MLP encoders "
            "beat the pixel baseline at all."
            if decides
            else "In these runs the initialisation does not decide whether the encoders beat the "
            "pixel baseline."
        )
        + (f" Diverged, and left out of the means: {', '.join(diverged)}." if diverged else ""),
    }


def reference_table(ours: dict[str, float], comparable: bool) -> pd.DataFrame:
    """Our value of each of the paper's §3 reference points (:data:`setup.REFERENCE_POINTS`) with
    a verdict by :data:`TOLERANCE`; ``ours`` maps a point's quantity to our value (missing: not
    measured), ``comparable`` is False at the smoke profile (8x8 digits)."""
    rows = []
    for point in setup.REFERENCE_POINTS:
        value = ours.get(point.quantity)
        if value is None:
            verdict = "not measured at this profile"
        elif not math.isfinite(value):
            verdict = "diverged"
        elif not comparable:
            verdict = "not comparable (smoke profile: 8x8 digits)"
        else:
            verdict = "reproduces" if abs(value - point.value) <= TOLERANCE else "differs"
        rows.append(
            {
                "quantity": point.quantity,
                "paper": point.value,
                "source": point.source,
                "ours": "—" if value is None else f"{value:.4f}",
                "verdict": verdict,
            }
        )
    return pd.DataFrame(rows)
