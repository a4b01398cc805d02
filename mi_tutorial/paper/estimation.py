"""The estimator benchmark of chapter 2b: ours, after Poole et al. (2019, §4), not a study of
Tschannen et al. — so it has no claims in the ledger, only the budget per profile and the
literature's numbers that chapter 2b compares against.

The benchmark trains one critic per estimator on synthetic pairs of known MI
(:mod:`mi_tutorial.training.estimation`); every number of Poole et al. that the chapter quotes is
typed here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._validation import choose
from ..config import PROFILES
from ..synthetic import STAIRCASE
from ..training.estimation import DEFAULT_CRITIC_KWARGS

#: Poole et al.'s staircase: 4,000 steps per MI level, critics of width 256 (separable: two hidden
#: layers, embedding 32), d = 20, K = 64, Adam 5e-4 (the defaults of ``EstimationConfig``).
POOLE_STEPS_PER_LEVEL = 4_000
POOLE_SEPARABLE_LAYERS = 2
POOLE_CONCAT = DEFAULT_CRITIC_KWARGS["concat"]

#: The estimators of the staircase (every bound of chapter 2) and of the task comparison.
STAIRCASE_ESTIMATORS = ("infonce", "nwj", "dv", "js", "smile", "interpolated")
TASK_ESTIMATORS = ("infonce", "nwj", "smile")
TASKS = ("gaussian", "cubic", "student_t")
TASK_CRITICS = ("separable", "concat")

#: Monte-Carlo samples of the Student-t MI check of chapter 2, per profile.
MONTE_CARLO_SAMPLES = {"smoke": 2_000, "book": 20_000, "paper": 200_000}


@dataclass(frozen=True)
class Budget:
    """What chapter 2b trains at one profile: the staircase (``levels`` × ``steps_per_level``,
    ``seeds`` seeds) and the task comparison (``task_levels`` × ``task_steps``, one seed), with the
    concatenated critic's size ``concat``."""

    levels: tuple[float, ...]
    steps_per_level: int
    seeds: int
    task_levels: tuple[float, ...]
    task_steps: int
    concat: dict


BUDGETS = {
    "smoke": Budget((2.0, 4.0), 20, 1, (2.0, 4.0), 20, {"hidden": 16, "layers": 1}),
    "book": Budget(STAIRCASE, 400, 2, (2.0, 4.0, 6.0), 300, {"hidden": 128, "layers": 2}),
    "paper": Budget(STAIRCASE, POOLE_STEPS_PER_LEVEL, 5, STAIRCASE, 4_000, dict(POOLE_CONCAT)),
}


def budget(profile: str) -> Budget:
    """The chapter's :class:`Budget` at ``profile`` ("paper" = Poole et al.'s staircase)."""
    return BUDGETS[choose(profile, PROFILES, "profile")]


def staircase_deviations(profile: str, n_seeds: int) -> list[str]:
    """How the staircase at ``profile`` differs from Poole et al.'s, in words."""
    b = budget(profile)
    out = []
    if b.steps_per_level != POOLE_STEPS_PER_LEVEL:
        out.append(
            f"{b.steps_per_level:,} steps per level (Poole et al.: {POOLE_STEPS_PER_LEVEL:,})"
        )
    out.append(f"{n_seeds} seed(s)")
    out.append(f"separable critic with one hidden layer (Poole et al.: {POOLE_SEPARABLE_LAYERS})")
    return out


def concat_deviation(profile: str) -> str:
    """The concatenated critic's size at ``profile`` next to Poole et al.'s."""
    ours = ", ".join(f"{k}={v}" for k, v in budget(profile).concat.items())
    theirs = ", ".join(f"{k}={v}" for k, v in POOLE_CONCAT.items())
    return f"Concatenated critic in this profile: {ours} (Poole et al.: {theirs})."


#: The literature's statements that chapter 2b checks: (key, statement, source).
LITERATURE = (
    ("ceiling", "I_NCE never exceeds log K", "[T] Tschannen et al. footnote 5; Poole et al. 2019"),
    ("nce_bias", "I_NCE is biased far below the truth at high MI", "Poole et al. 2019, Fig. 2"),
    ("nwj_variance", "I_NWJ's variance grows with the true MI", "Poole et al. 2019, Fig. 2"),
    (
        "invariance",
        "an invertible map of y leaves MI unchanged but moves the estimates",
        "invariance (chapter 1); Tschannen et al. §3.1",
    ),
)
#: "Far below" in the nce_bias statement: more than this many nats under the top level.
FAR_BELOW_NATS = 2.0
#: "Grows": the fitted end-to-end growth of the NWJ variance exceeds this factor.
GROWTH_FACTOR = 2.0
#: "Steadily": a Spearman rank correlation of the variance with the level at least this large.
STEADY_RANK = 0.7
#: "Moves": a shift of the estimate larger than this many nats.
MOVES_NATS = 0.1
