"""One plotting style for the whole book, and the figure helpers the chapters share.

Conventions (the book's template): no plot titles (captions carry the message), lowercase axis
labels, ±1 SD bands across seeds like the paper's ``sns.lineplot(ci="sd")``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from scipy.ndimage import gaussian_filter1d

from .analysis import metric_frame

PALETTE = "colorblind"
LOGCOND_BANDS = (0, 20, 40, 60, 80, 100)


def use_book_style() -> None:
    """Apply the book's matplotlib/seaborn style (call once per chapter)."""
    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE)
    plt.rcParams.update(
        {
            "figure.figsize": (6.4, 3.6),
            "figure.dpi": 110,
            "savefig.dpi": 110,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
        }
    )


def plot_curves(
    records: pd.DataFrame,
    metric: str,
    hue: str | None = None,
    style: str | None = None,
    ax: plt.Axes | None = None,
    ylabel: str | None = None,
    hline: float | None = None,
    hline_label: str | None = None,
) -> plt.Axes:
    """``metric`` over training steps, mean ± 1 SD over seeds, one line per ``hue``/``style``."""
    rows = metric_frame(records, metric)
    ax = ax or plt.gca()
    sns.lineplot(
        data=rows,
        x="step",
        y="value",
        hue=hue,
        style=style,
        errorbar="sd",
        marker="o",
        markersize=4,
        ax=ax,
    )
    if hline is not None:
        ax.axhline(hline, color="0.3", ls="--", lw=1, label=hline_label)
    ax.set(xlabel="training step", ylabel=ylabel or metric)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    return ax


def plot_percentile_bands(
    records: pd.DataFrame,
    metric: str = "logcond",
    ax: plt.Axes | None = None,
    color: str = "C0",
    ylabel: str | None = None,
) -> plt.Axes:
    """Percentile bands (min, 20th, 40th, 60th, 80th, max) of a per-sample metric over steps,
    pooled over seeds — the presentation of the paper's Fig. 2c."""
    rows = metric_frame(records, metric)
    rows = rows[np.isfinite(rows["value"])]
    steps = np.sort(rows["step"].unique())
    q = np.array(
        [np.percentile(rows.loc[rows["step"] == s, "value"], LOGCOND_BANDS) for s in steps]
    )
    ax = ax or plt.gca()
    for i, alpha in enumerate((0.2, 0.35, 0.5, 0.35, 0.2)):  # darker towards the median
        ax.fill_between(steps, q[:, i], q[:, i + 1], color=color, alpha=alpha, lw=0)
    ax.set(xlabel="training step", ylabel=ylabel or metric)
    return ax


def smooth(values: np.ndarray, sigma: float = 100.0) -> np.ndarray:
    """Gaussian smoothing along steps (the paper's Fig. 4c uses σ = 100 steps)."""
    return gaussian_filter1d(np.asarray(values, dtype=float), sigma=sigma, mode="reflect")
