r"""B1 (beyond the paper): every bound × critic on every task of known MI, three seeds.

Not an experiment of Tschannen et al. (2020): a ground-truth benchmark in the spirit of Czyż et
al. (2023, "Beyond normal") and of Poole et al.'s (2019) staircase, run on this package's bounds.
It makes no claim about the paper, so the claims ledger has none for it and
:func:`mi_tutorial.paper.experiment_ids` leaves it out unless asked (``include_beyond=True``).

One setting for every task, stated once and not tuned per task: :math:`K = 64` pairs per step,
Adam (lr :math:`5 \cdot 10^{-4}`), 2,000 steps, the training-batch estimate recorded every 20
steps; critics with one hidden layer of 96 ReLU units (separable: a 32-d embedding per side;
concat: on :math:`[x, y]`), Glorot-uniform initialisation; the bounds' default settings
(:math:`I_\alpha` with :math:`\alpha = 0.01` and baseline :math:`a(x) = 1`, SMILE with
:math:`\tau = 5`, trained with JS as its authors do; JS reports :math:`I_{NWJ}` of its scores).
"""

from __future__ import annotations

from ..config import MIBenchmarkConfig, RunConfig
from ..registry import BOUNDS
from .common import Experiment, Study

EXPERIMENT = Experiment(
    "mi-benchmark",
    "B1",
    "(none)",
    "Ground-truth MI benchmark",
    "Every bound (I_NCE, I_NWJ, TUBA, DV, JS, I_alpha, SMILE) with a separable and a concat "
    "critic on every task of known MI (Gaussian, Student-t, their invertible transforms, the "
    "staircase, the non-i.i.d. sampler): bias, variance and ceilings. Beyond the paper.",
    beyond_paper=True,
)

#: The critics compared (the paper's bilinear critic needs d_x = d_y and is left out).
BENCHMARK_CRITICS = ("separable", "concat")
#: (steps, eval_every) per profile.
SCHEDULE = {"paper": (2_000, 20), "book": (150, 10), "smoke": (20, 5)}
SEEDS = {"paper": 3, "book": 1, "smoke": 1}
#: The tasks per profile: all of them for the paper profile, a few seconds' worth for the book
#: (which reads the stored paper-profile runs for its leaderboard) and for the tests.
BOOK_TASKS = ("gaussian-sparse-3x3",)
SMOKE_TASKS = ("gaussian-1x1", "staircase")
#: Critic widths per profile (hidden units, separable embedding size).
SIZES = {"paper": (96, 32), "book": (96, 32), "smoke": (16, 8)}


def tasks(profile: str) -> tuple[str, ...]:
    """The task names of ``profile`` (the task library imports torch: only when asked)."""
    from ..mi_tasks import benchmark_task_names

    return {"paper": benchmark_task_names(), "book": BOOK_TASKS, "smoke": SMOKE_TASKS}[profile]


def configs(profile: str) -> list[RunConfig]:
    """Every task × bound × critic of ``profile``, with the one shared setting."""
    steps, eval_every = SCHEDULE[profile]
    hidden, out = SIZES[profile]
    return [
        MIBenchmarkConfig(
            experiment=EXPERIMENT.id,
            profile=profile,
            steps=steps,
            eval_every=eval_every,
            batch_size=64,
            lr=5e-4,
            task=task,
            estimator=estimator,
            critic=critic,
            hidden=hidden,
            out=out,
        )
        for task in tasks(profile)
        for estimator in BOUNDS
        for critic in BENCHMARK_CRITICS
    ]


NOTES = {
    "book": (
        "the book profile trains one task live for a few seconds; the leaderboard is read from "
        "the stored paper-profile runs",
    ),
    "smoke": ("tiny critics and 20 steps: checks the wiring only",),
}

STUDY = Study(EXPERIMENT, configs, SCHEDULE, SEEDS, NOTES)
