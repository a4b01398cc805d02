"""S (§3, text): MLP and ConvNet trained end to end with labels, the reference point of E5."""

from __future__ import annotations

import pandas as pd

from ..config import RunConfig, SupervisedConfig
from .claims import Claim, Outcome, both_or_either, per_seed, select
from .common import ENCODER_SIZES, PAPER_SCHEDULE, SMOKE_SCHEDULE, Experiment, Study

#: Paper §3 [T]: an MLP or ConvNet trained end to end with labels reaches about 94% on x_top.
SUPERVISED_REFERENCE = 0.94

EXPERIMENT = Experiment(
    "supervised",
    "S",
    "§3 (text)",
    "Supervised references",
    "The paper's reference point for E5: the MLP and the ConvNet encoder with a linear "
    f"head, trained end to end with the labels of the top halves (paper: about "
    f"{SUPERVISED_REFERENCE:.0%} for both). Records the end-to-end test accuracy and the "
    "protocol's linear probe.",
)
SUPERVISED_EXPERIMENT = EXPERIMENT.id
SCHEDULE = {
    "paper": PAPER_SCHEDULE,  # the paper does not state it; E5's schedule
    "book": (501, 500),  # ≈1 epoch: proves the trainer runs; claim 11 reads the paper runs
    "smoke": SMOKE_SCHEDULE,
}
SEEDS = {"paper": 3, "book": 1, "smoke": 1}  # the paper gives a number in the text


def configs(profile: str) -> list[RunConfig]:
    """The MLP and the ConvNet encoder, each with a linear head trained on the labels."""
    steps, eval_every = SCHEDULE[profile]
    common = {"dataset": "digits", "batch_size": 64} if profile == "smoke" else {}
    return [
        SupervisedConfig(
            experiment=EXPERIMENT.id,
            profile=profile,
            steps=steps,
            eval_every=eval_every,
            encoder=encoder,
            encoder_kwargs=ENCODER_SIZES[profile][encoder],
            **common,
        )
        for encoder in ("mlp", "convnet")
    ]


def supervised_reference(records: pd.DataFrame, baselines: dict) -> Outcome:
    r"""Claim 11: both supervised encoders reach ≈94% (within 2 points) and are about equal.

    Reads the end-to-end test accuracy (metric ``classifier_accuracy``) of the ``supervised``
    experiment's two encoders (column ``encoder`` ∈ {mlp, convnet}). Verdict: ``reproduced`` if
    both final accuracies are within 0.02 of 0.94 *and* within 0.015 of each other;
    ``partially`` if only one of the two holds.
    """
    rows = select(records, EXPERIMENT.id, "classifier_accuracy")
    if "encoder" not in rows:
        rows = rows.assign(encoder=pd.Series(dtype=object))
    acc = {name: per_seed(rows[rows["encoder"] == name]) for name in ("mlp", "convnet")}
    if any(v.empty for v in acc.values()):
        return Outcome(
            (),
            "not run",
            "needs the supervised MLP and ConvNet trained end to end on the top halves: "
            "`mi-tutorial run supervised` at this profile",
        )
    mlp, conv = acc["mlp"].mean(), acc["convnet"].mean()
    near = all(abs(a - SUPERVISED_REFERENCE) <= 0.02 for a in (mlp, conv))
    equal = abs(conv - mlp) <= 0.015
    return Outcome(
        (mlp, conv),
        both_or_either(near, equal),
        "final end-to-end test accuracy",
        seeds=min(len(acc["mlp"]), len(acc["convnet"])),
        cases=("MLP", "ConvNet"),
    )


CLAIMS = (
    Claim(
        "11",
        EXPERIMENT.id,
        "(§3 text)",
        "supervised references: MLP and ConvNet trained end to end on x_top both reach "
        f"≈{SUPERVISED_REFERENCE:.0%}",
        f"≈{SUPERVISED_REFERENCE:.2f} for both [T]",
        supervised_reference,
    ),
)

STUDY = Study(EXPERIMENT, configs, SCHEDULE, SEEDS, {}, CLAIMS)
