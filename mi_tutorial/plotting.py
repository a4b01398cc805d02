"""One plotting style for the whole book, and the figure helpers the chapters share.

Conventions (the book's template): no plot titles (captions carry the message), lowercase axis
labels, ±1 SD bands across seeds like the paper's ``sns.lineplot(ci="sd")``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import seaborn as sns

PALETTE = "colorblind"


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
