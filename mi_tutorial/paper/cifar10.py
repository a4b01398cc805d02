"""E7 (Fig. 8) and E8 (Fig. 9): E4 and E5 on CIFAR-10 (the paper's App. G).

paper.md E7 [T]: "same encoder and critic architectures; only the input layer is changed for the
flattened image halves", Adam lr 1e-5 instead of 1e-4, 3× the iterations. paper.md E8: "as E5,
adapted as in E7". Nothing else changes (batch 128, bilinear/separable/concat critics of E4,
t ∈ {2, 4} of E5, the same linear probe). The paper writes "32 × 14 × 3" for a half; a half of a
32 × 32 × 3 image is 16 × 32 × 3 = 1,536 values (paper.md §5.10), which is what we feed. The
number of runs is not stated for App. G; we keep E4/E5's 20 seeds.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from ..config import RunConfig
from .claims import Check, Claim, Outcome
from .common import AVERAGED_SEEDS, SMOKE_SCHEDULE, Experiment, Schedule, Study
from .critic_capacity import EXPERIMENT as E4
from .critic_capacity import SCHEDULE as E4_SCHEDULE
from .critic_capacity import configs as e4_configs
from .critic_capacity import critic_ordering, tighter_bound_worse_accuracy
from .encoder_vs_estimator import EXPERIMENT as E5
from .encoder_vs_estimator import SCHEDULE as E5_SCHEDULE
from .encoder_vs_estimator import configs as e5_configs
from .encoder_vs_estimator import convnet_beats_mlp

CIFAR10_LR = 1e-5
#: (height, width, channels) of one CIFAR-10 half; equals :data:`mi_tutorial.data.CIFAR10_VIEW_SHAPE`
#: (kept here so that listing experiments does not import torch).
CIFAR10_VIEW_SHAPE = (16, 32, 3)
#: The note of every CIFAR-10 experiment at the smoke profile.
SMOKE_NOTES = ("the smoke runs use sklearn's digits, not CIFAR-10: they check the wiring only",)


def three_times(twin: dict[str, Schedule]) -> dict[str, Schedule]:
    """paper.md E7/E8 [T]: "3× the iterations" of E4/E5 (plots span 0–60k), derived from the twin's
    schedule so the two cannot drift apart. Paper: 3 × 21,000 = 63,000 steps with the official
    evaluation every 1,000 (Fig. 9's L_t curves are read at ≈2k resolution), i.e. points 0, 1k, …,
    62k. Book (never executed by the book, which has no CIFAR-10): 3× the twin's updates with as
    many evaluations, N·3k + 1 steps evaluated every 3k."""
    (paper_steps, paper_every), (book_steps, book_every) = twin["paper"], twin["book"]
    return {
        "paper": (3 * paper_steps, paper_every),
        "book": (3 * (book_steps - 1) + 1, 3 * book_every),
        "smoke": SMOKE_SCHEDULE,
    }


def on_cifar10(
    experiment: str, schedule: dict[str, Schedule], twin: Callable[[str], list[RunConfig]]
) -> Callable[[str], list[RunConfig]]:
    """The builder of a CIFAR-10 experiment: its MNIST ``twin``'s configs with App. G's changes.

    At the ``smoke`` profile the runs stay on sklearn's digits (no CIFAR-10 needed, seconds): they
    check the experiment's wiring only, like every smoke run.
    """

    def configs(profile: str) -> list[RunConfig]:
        steps, eval_every = schedule[profile]
        out = []
        for config in twin(profile):
            changes: dict = {
                "experiment": experiment,
                "steps": steps,
                "eval_every": eval_every,
                "lr": CIFAR10_LR,
            }
            if profile != "smoke":
                changes["dataset"] = "cifar10"
                if config.encoder == "convnet":  # the input layer: 3 channels, 16 × 32 pixels
                    kwargs = dict(config.encoder_kwargs)
                    changes["encoder_kwargs"] = kwargs | {"input_shape": CIFAR10_VIEW_SHAPE}
            out.append(config.replace(**changes))
        return out

    return configs


def needs_cifar10(check: Check, experiment: str) -> Check:
    """``check`` with a note on what runs it when its CIFAR-10 records are missing."""

    def wrapped(records: pd.DataFrame, baselines: dict) -> Outcome:
        outcome = check(records, baselines)
        if outcome.verdict != "not run":
            return outcome
        return Outcome(
            (),
            "not run",
            "needs CIFAR-10, not run here: where it can be downloaded run `mi-tutorial data "
            f"--cifar10`, then `mi-tutorial run {experiment} --profile paper`",
        )

    return wrapped


# --- E7 -------------------------------------------------------------------------------------------
E7 = Experiment(
    "critic-capacity-cifar",
    "E7",
    "Fig. 8 (App. G)",
    "Critic capacity on CIFAR-10",
    "E4 on the top/bottom halves of CIFAR-10 images (16 x 32 x 3 each) with lr 1e-5 and "
    "3x the iterations: the same critic ordering on a lower accuracy scale (paper: "
    "0.348 / 0.338 / 0.313 with I_NCE). Needs CIFAR-10 (mi-tutorial data --cifar10).",
    cifar10=True,
)
E7_SCHEDULE = three_times(E4_SCHEDULE)
E7_CLAIMS = (
    Claim(
        "14a",
        E7.id,
        "8",
        "CIFAR-10, I_NCE: accuracy bilinear ≥ separable > concat (claim 7a)",
        "0.348 / 0.338 / 0.313 [Fig]",
        needs_cifar10(critic_ordering("infonce", E7.id), E7.id),
    ),
    Claim(
        "14b",
        E7.id,
        "8",
        "CIFAR-10, I_NWJ: accuracy bilinear ≥ separable > concat (claim 7b)",
        "0.340 / 0.336 / 0.313 [Fig]",
        needs_cifar10(critic_ordering("nwj", E7.id), E7.id),
    ),
    Claim(
        "14c",
        E7.id,
        "8",
        "CIFAR-10: concat critic has higher test I_NWJ but lower accuracy than bilinear (claim 8)",
        "I_NWJ ≈6.0–6.1 vs ≈3.0–3.2 [Fig]",
        needs_cifar10(tighter_bound_worse_accuracy(E7.id), E7.id),
    ),
)
CRITIC_CAPACITY_CIFAR = Study(
    E7,
    on_cifar10(E7.id, E7_SCHEDULE, e4_configs),
    E7_SCHEDULE,
    AVERAGED_SEEDS,
    {"smoke": SMOKE_NOTES},
    E7_CLAIMS,
)

# --- E8 -------------------------------------------------------------------------------------------
E8 = Experiment(
    "encoder-vs-estimator-cifar",
    "E8",
    "Fig. 9 (App. G)",
    "Encoder architecture vs estimator on CIFAR-10",
    "E5 on CIFAR-10 halves with lr 1e-5 and 3x the iterations: the ConvNet beats the MLP "
    "for every estimator and t (paper: about 0.39-0.41 vs 0.34). Needs CIFAR-10 "
    "(mi-tutorial data --cifar10).",
    cifar10=True,
)
E8_SCHEDULE = three_times(E5_SCHEDULE)
E8_CLAIMS = (
    Claim(
        "14d",
        E8.id,
        "9",
        "CIFAR-10, matched I_EST = t: ConvNet beats MLP by ≥ 2.5 points for every (estimator, t) "
        "(claim 10)",
        "≈0.39–0.415 vs ≈0.34 [Fig]",
        needs_cifar10(convnet_beats_mlp(E8.id), E8.id),
    ),
)
ENCODER_VS_ESTIMATOR_CIFAR = Study(
    E8,
    on_cifar10(E8.id, E8_SCHEDULE, e5_configs),
    E8_SCHEDULE,
    AVERAGED_SEEDS,
    {"book": ("I_NWJ is left out, as in E5's book profile",), "smoke": SMOKE_NOTES},
    E8_CLAIMS,
)

#: Each CIFAR-10 experiment (App. G) and the MNIST experiment whose configs it adapts.
CIFAR10_OF: dict[str, str] = {
    E7.id: E4.id,
    E8.id: E5.id,
}
