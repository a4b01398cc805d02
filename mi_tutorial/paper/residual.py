"""E3 (Fig. 2, 5): residual MLPs that may become ill-conditioned (coupled noise)."""

from __future__ import annotations

import pandas as pd

from ..config import RunConfig
from .claims import NOT_RUN, Check, Claim, Outcome, grade, median_per_seed, per_seed, select
from .common import (
    AVERAGED_SEEDS,
    ESTIMATOR_PAIR,
    PAPER_SCHEDULE,
    SMOKE_SCHEDULE,
    Experiment,
    Study,
    multiview,
)

EXPERIMENT = Experiment(
    "residual",
    "E3",
    "Fig. 2, 5",
    "Ill-conditioned encoders",
    "Residual MLPs start at the identity; with coupled input noise, maximising the bounds "
    "makes their Jacobians ill-conditioned while accuracy rises.",
)
#: The book profile is a short live run that proves the code path (its chapter's figures read the
#: committed paper-profile runs): 300 updates, evaluated at 0, 150 and 300.
SCHEDULE = {"paper": PAPER_SCHEDULE, "book": (301, 150), "smoke": SMOKE_SCHEDULE}
#: The paper's linear probe on the noisy top halves (σ = 0.05), "about 84%" (§3.1) [T].
PAPER_NOISY_PIXEL_BASELINE = 0.84

#: The paper's median log condition number at 20k steps, per estimator (Fig. 2c, 5) [Fig].
PAPER_LOGCOND = {"infonce": 4.6, "nwj": 3.4}


def configs(profile: str) -> list[RunConfig]:
    """A residual MLP pair with a bilinear critic, once per estimator. Coupled noise σ = 0.05 (the
    same vector on both halves, fresh every step) + Jacobian log-condition numbers at every
    evaluation."""
    return [
        multiview(
            EXPERIMENT.id,
            profile,
            SCHEDULE[profile],
            "residual_mlp",
            critic="bilinear",
            estimator=est,
            noise_std=0.05,
            eval_jacobian=True,
        )
        for est in ESTIMATOR_PAIR
    ]


def conditioning_growth(estimator: str) -> Check:
    """Claims 5a/5b: growth of the median log condition number, graded against half the paper's."""
    paper_median = PAPER_LOGCOND[estimator]

    def check(records: pd.DataFrame, baselines: dict) -> Outcome:
        rows = select(records, EXPERIMENT.id, "logcond", estimator=estimator)
        growth = median_per_seed(rows, "last") - median_per_seed(rows, "first")
        if growth.empty:
            return NOT_RUN
        return Outcome(
            tuple(growth),
            grade(growth.mean(), 0.5 * paper_median),
            "growth of the median log condition number",
            seeds=len(growth),
        )

    return check


def accuracy_gain(records: pd.DataFrame, baselines: dict) -> Outcome:
    """Claim 5c: the accuracy gain from step 0 to the end, both estimators together."""
    rows = select(records, EXPERIMENT.id, "accuracy")
    gain = per_seed(rows, "last") - per_seed(rows, "first")
    if gain.empty:
        return NOT_RUN
    return Outcome(tuple(gain), grade(gain.mean(), 0.02), "mean over both estimators")


def nce_worse_conditioned(records: pd.DataFrame, baselines: dict) -> Outcome:
    """Claim 6: the final median log-condition is larger with I_NCE than with I_NWJ."""
    nce = median_per_seed(select(records, EXPERIMENT.id, "logcond", estimator="infonce"), "last")
    nwj = median_per_seed(select(records, EXPERIMENT.id, "logcond", estimator="nwj"), "last")
    if nce.empty or nwj.empty:
        return NOT_RUN
    both = pd.concat([nce, nwj], axis=1).dropna()  # seeds run with both estimators
    if both.empty:
        return NOT_RUN
    diff = both.iloc[:, 0].mean() - both.iloc[:, 1].mean()
    return Outcome(
        (float(diff),),
        "reproduced" if diff > 0 else "not reproduced",
        "final median log-condition, I_NCE minus I_NWJ",
        seeds=len(both),
    )


_NCE, _NWJ = PAPER_LOGCOND["infonce"], PAPER_LOGCOND["nwj"]
CLAIMS = (
    Claim(
        "5a",
        EXPERIMENT.id,
        "2c",
        f"I_NCE: median log condition number grows from 0 (to ≈{_NCE:g})",
        f"0 → ≈{_NCE:g} at 20k [Fig]",
        conditioning_growth("infonce"),
    ),
    Claim(
        "5b",
        EXPERIMENT.id,
        "5",
        f"I_NWJ: median log condition number grows from 0 (to ≈{_NWJ:g})",
        f"0 → ≈{_NWJ:g} at 20k [Fig]",
        conditioning_growth("nwj"),
    ),
    Claim(
        "5c",
        EXPERIMENT.id,
        "2a",
        "residual MLP: accuracy rises ≥ 2 points (≈0.84 → ≈0.88)",
        "+4 points [Fig]",
        accuracy_gain,
    ),
    Claim(
        "6",
        EXPERIMENT.id,
        "2c, 5",
        "final median log-condition larger with I_NCE than with I_NWJ",
        f"≈{_NCE:g} vs ≈{_NWJ:g} [Fig]",
        nce_worse_conditioned,
    ),
)

PAPER_POINTS = (
    (
        "accuracy",
        {"estimator": "infonce"},
        ((0, 0.840), (1000, 0.869), (3000, 0.879), (20000, 0.880)),
    ),
    (
        "accuracy",
        {"estimator": "nwj"},
        ((0, 0.840), (1000, 0.860), (5000, 0.874), (10000, 0.880), (20000, 0.878)),
    ),
    # Fig. 2b: the bound as the official notebook reports it (on training batches) [Fig]
    ("bound", {"estimator": "infonce"}, ((0, -1.3), (1000, 4.4), (20000, 4.8))),
    ("bound", {"estimator": "nwj"}, ((1000, 3.2), (2000, 2.9), (20000, 4.5))),
    # Fig. 2c, 5: the median log condition number; 0 at the identity it starts from [D]
    ("logcond", {"estimator": "infonce"}, ((0, 0.0), (20000, _NCE))),
    ("logcond", {"estimator": "nwj"}, ((0, 0.0), (20000, _NWJ))),
)

STUDY = Study(EXPERIMENT, configs, SCHEDULE, AVERAGED_SEEDS, {}, CLAIMS, PAPER_POINTS)
