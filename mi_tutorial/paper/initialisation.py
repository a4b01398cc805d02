"""R1 (ours, not in the paper): Glorot-uniform vs PyTorch-default initialisation of E4's MLP."""

from __future__ import annotations

from ..config import RunConfig
from .common import (
    AVERAGED_SEEDS,
    PAPER_SCHEDULE,
    SMOKE_SCHEDULE,
    Experiment,
    Study,
    critic_kwargs,
    multiview,
)

EXPERIMENT = Experiment(
    "initialisation",
    "R1",
    "(none; ours)",
    "Weight initialisation",
    "Not in the paper, a finding of this reproduction: E4's MLP encoders + bilinear "
    "critic + I_NCE with Glorot-uniform weights and zero biases (the Keras default of the "
    "official code) vs PyTorch's default initialisation.",
)
SCHEDULE = {
    "paper": PAPER_SCHEDULE,  # E4's schedule
    "book": (3_001, 500),
    "smoke": SMOKE_SCHEDULE,
}


def configs(profile: str) -> list[RunConfig]:
    """Critic-capacity's MLP + bilinear + I_NCE run, once per weight-initialisation scheme."""
    return [
        multiview(
            EXPERIMENT.id,
            profile,
            SCHEDULE[profile],
            "mlp",
            critic="bilinear",
            estimator="infonce",
            critic_kwargs=critic_kwargs("bilinear", profile),
            init=init,
        )
        for init in ("glorot", "torch")
    ]


STUDY = Study(EXPERIMENT, configs, SCHEDULE, AVERAGED_SEEDS)
