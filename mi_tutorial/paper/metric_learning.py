"""R2 (ours; suggested by the derivation of §4, not run in the paper): InfoNCE vs K-pair vs triplet loss.

Claim 13 of the ledger, the identity between I_NCE and the multi-class K-pair loss that makes
variant (b) Sohn's loss, is checked here by computation; it needs no runs.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..config import RunConfig
from .claims import Claim, Outcome
from .common import AVERAGED_SEEDS, PAPER_SCHEDULE, SMOKE_SCHEDULE, Experiment, Study, multiview

EXPERIMENT = Experiment(
    "metric-learning",
    "R2",
    "(none; ours)",
    "Metric-learning objectives",
    "Suggested by the derivation of §4, not run in the paper: E4's MLP encoder trained with InfoNCE + "
    "bilinear critic (separate encoders), InfoNCE with a shared encoder and inner-product "
    "critic (= Sohn's multi-class K-pair loss), and a triplet loss with one negative per "
    "anchor; linear-probe accuracy at equal steps.",
)
SCHEDULE = {
    "paper": PAPER_SCHEDULE,  # E4's schedule
    "book": (3_001, 500),
    "smoke": SMOKE_SCHEDULE,
}

#: R2's variants: (critic, objective, shared encoder). (a) is E4's MLP + bilinear + I_NCE run.
METRIC_LEARNING_VARIANTS: tuple[tuple[str, str, bool], ...] = (
    ("bilinear", "infonce", False),  # (a) the paper's setup: g1, g2 separate, f(x, y) = x^T W y
    ("inner", "infonce", True),  # (b) g1 = g2, f(x, y) = x^T y: I_NCE = log K - L_K-pair-mc
    ("neg_sqdist", "triplet", True),  # (c) g1 = g2, triplet loss on -||x - y||^2, margin 1
)


def configs(profile: str) -> list[RunConfig]:
    """One MLP-encoder run per metric-learning variant (see METRIC_LEARNING_VARIANTS)."""
    return [
        multiview(
            EXPERIMENT.id,
            profile,
            SCHEDULE[profile],
            "mlp",
            critic=critic,
            estimator=objective,
            shared_encoder=shared,
        )
        for critic, objective, shared in METRIC_LEARNING_VARIANTS
    ]


#: Score matrices for claim 13: (K, scale of the entries, shared encoder?). Large entries (scale
#: 30) test that both sides stay finite and agree where a naive exp would be far from 1.
IDENTITY_CASES: tuple[tuple[int, float, bool], ...] = (
    (2, 1.0, False),
    (16, 1.0, False),
    (128, 1.0, False),
    (128, 30.0, False),
    (512, 5.0, False),
    (128, 1.0, True),
)


def nce_kpair_identity(records: pd.DataFrame, baselines: dict) -> Outcome:
    r"""Claim 13: for every score matrix :math:`S` (K × K),

    .. math:: \log K + \frac1K\sum_i \big(S_{ii} - \operatorname{lse}_j S_{ij}\big)
              = \log K - \frac1K\sum_i \log\Big(1 + \sum_{j \ne i} e^{S_{ij} - S_{ii}}\Big),

    and with :math:`S = \Phi\Psi^\top` from one shared encoder the right side is
    :math:`\log K - L_{K\text{-pair-mc}}`. Checked in float64 on the fixed score matrices of
    :data:`IDENTITY_CASES` (random Gaussian entries; the shared case uses a linear encoder and inner
    products): the library's ``infonce`` against ``log K - k_pair_loss`` and against the literal
    right-hand side. Needs no records; ``reproduced`` when every difference is below 1e-9.
    """
    import torch

    from .. import estimators

    gen = torch.Generator().manual_seed(13)
    diffs = []
    for k, scale, shared in IDENTITY_CASES:
        if shared:
            g = torch.randn(8, 4, generator=gen, dtype=torch.float64)  # one linear encoder
            x = torch.randn(k, 8, generator=gen, dtype=torch.float64)
            y = x + 0.5 * torch.randn(k, 8, generator=gen, dtype=torch.float64)
            scores = (x @ g) @ (y @ g).T  # S_ij = φ(x_i)ᵀ φ(y_j)
        else:
            scores = scale * torch.randn(k, k, generator=gen, dtype=torch.float64)
        nce = float(estimators.infonce(scores))
        via_library = math.log(k) - float(estimators.k_pair_loss(scores))
        s = scores.numpy()
        margins = s - np.diag(s)[:, None]  # S_ij - S_ii
        np.fill_diagonal(margins, -np.inf)  # j ≠ i
        peak = margins.max(axis=1)
        literal = math.log(k) - float(
            np.mean(np.logaddexp(0.0, peak + np.log(np.exp(margins - peak[:, None]).sum(axis=1))))
        )
        diffs.append(max(abs(nce - via_library), abs(nce - literal)))
    worst = max(diffs)
    return Outcome(
        (worst,),
        "reproduced" if worst <= 1e-9 else "not reproduced",
        f"max |I_NCE - (log K - L_K-pair)| = {worst:.1e} over {len(diffs)} score matrices "
        "(float64); a computation, needs no runs",
    )


CLAIMS = (
    Claim(
        "13",
        "(none: a derivation)",
        "§4, App. C",
        "I_NCE = log K − L_K-pair-mc for every score matrix (shared encoder: Sohn's loss)",
        "exact identity [T]",
        nce_kpair_identity,
        kind="check",  # an algebraic identity: checked by computation, not an experiment
    ),
)

STUDY = Study(EXPERIMENT, configs, SCHEDULE, AVERAGED_SEEDS, {}, CLAIMS)
