"""E6 (Fig. 4c): :math:`I_{NCE}` and :math:`I_{NWJ}` with dependent (non-i.i.d.) negatives."""

from __future__ import annotations

import pandas as pd

from ..config import NonIIDConfig, RunConfig
from .claims import NOT_RUN, Check, Claim, Outcome, estimator_name, select
from .common import ESTIMATOR_PAIR, Experiment, Study

EXPERIMENT = Experiment(
    "noniid",
    "E6",
    "Fig. 4c",
    "Non-i.i.d. negatives",
    "A concat critic on 2-d Gaussian pairs whose batch shares one latent: with dependent "
    "negatives I_NCE and I_NWJ exceed the true MI (0.0204 nats); with i.i.d. pairs not.",
)
SCHEDULE = {
    "paper": (20_000, 1),  # training-batch bound at every step, smoothed when plotted
    "book": (1_000, 1),  # a short live run; chapter 7b's figure reads the paper-profile runs
    "smoke": (20, 1),
}
SEEDS = {"paper": 1, "book": 1, "smoke": 1}  # Fig. 4c is a single run


def configs(profile: str) -> list[RunConfig]:
    """A concat critic on shared-latent (non-i.i.d.) and i.i.d. batches, once per estimator."""
    steps, eval_every = SCHEDULE[profile]
    return [
        NonIIDConfig(
            experiment=EXPERIMENT.id,
            profile=profile,
            steps=steps,
            eval_every=eval_every,
            estimator=est,
            iid=iid,
            hidden=10,
            layers=5,
            batch_size=128,
            lr=1e-4,
        )
        for est in ESTIMATOR_PAIR
        for iid in (False, True)
    ]


#: An i.i.d. estimate counts as "not above" the true MI up to this margin (nats): the paper's
#: i.i.d. curves sit at ≈0.02, on the true value, with about this much noise.
IID_MARGIN = 0.01


def against_true_mi(iid: bool) -> Check:
    """Claims 12a/12b: the final estimates (mean over the last 10% of steps, on the training
    batches as the paper plots them) exceed the true MI with shared-latent batches (12a) and do
    not exceed it with i.i.d. ones (12b), for each estimator."""

    def check(records: pd.DataFrame, baselines: dict) -> Outcome:
        from ..synthetic import noniid_true_mi

        rows = select(records, EXPERIMENT.id, "bound", iid=iid)
        if rows.empty:
            return NOT_RUN
        true_mi = noniid_true_mi()
        tail = rows[rows["step"] >= rows["step"].max() * 0.9]
        means = tail.groupby("estimator")["value"].mean()
        ok = means > true_mi if not iid else means <= true_mi + IID_MARGIN
        verdict = "reproduced" if ok.all() else "partially" if ok.any() else "not reproduced"
        kind = "i.i.d." if iid else "shared-latent (non-i.i.d.)"
        return Outcome(
            tuple(means),
            verdict,
            f"{kind} estimates, mean over the last 10% of steps (true MI {true_mi:.4f})",
            seeds=int(tail.groupby("estimator")["seed"].nunique().min()),
            cases=tuple(estimator_name(est) for est in means.index),
        )

    return check


CLAIMS = (
    Claim(
        "12a",
        EXPERIMENT.id,
        "4c",
        "shared-Z batches: the I_NCE and I_NWJ estimates exceed the true MI",
        "I_NCE ≈0.18, I_NWJ ≈0.10 vs 0.0204 [Fig, D]",
        against_true_mi(iid=False),
    ),
    Claim(
        "12b",
        EXPERIMENT.id,
        "4c",
        f"i.i.d. batches: the estimates do not exceed the true MI (+{IID_MARGIN})",
        "≈0.02 for both vs 0.0204 [Fig, D]",
        against_true_mi(iid=True),
    ),
)


PAPER_POINTS = (
    ("bound", {"iid": False, "estimator": "infonce"}, ((1000, 0.14), (18000, 0.21))),
    ("bound", {"iid": False, "estimator": "nwj"}, ((5000, 0.08), (20000, 0.11))),
    ("bound", {"iid": True, "estimator": "infonce"}, ((1000, 0.02), (20000, 0.02))),
    ("bound", {"iid": True, "estimator": "nwj"}, ((2000, 0.02), (20000, 0.02))),
)

#: Fig. 4c's final values as chapter 7b compares them: (estimator, i.i.d.?) -> (value read off
#: the figure, its source). Read at ±0.1 nats precision (spec/paper.md E6 [Fig]).
FIG_4C_FINAL: dict[tuple[str, bool], tuple[float, str]] = {
    ("infonce", False): (0.18, "Fig. 4c [Fig]: ≈0.17–0.20"),
    ("nwj", False): (0.10, "Fig. 4c [Fig]: ≈0.08–0.11"),
    ("infonce", True): (0.02, "Fig. 4c [Fig]: ≈0.02, ≤ true MI"),
    ("nwj", True): (0.02, "Fig. 4c [Fig]: ≈0.02, ≤ true MI"),
}
#: |ours − paper| called a match: well inside the ±0.1 nats of reading the plot.
FIG_4C_TOLERANCE = 0.05
#: The true MI of one pair that App. E derives [D], for comparison with our closed form.
PAPER_TRUE_MI = 0.0204
#: The paper smooths Fig. 4c with a Gaussian filter of this many steps.
FIG_4C_SMOOTHING = 100.0

STUDY = Study(EXPERIMENT, configs, SCHEDULE, SEEDS, {}, CLAIMS, PAPER_POINTS)
