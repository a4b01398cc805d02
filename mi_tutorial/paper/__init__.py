r"""The paper's experiments as named lists of run configs, at three sizes ("profiles").

==========================  ====  ==============  ============================================================
id                          code  figures         question
==========================  ====  ==============  ============================================================
bijective                   E1    Fig. 1a, 1b     invertible RealNVP encoders: MI is constant, yet accuracy rises
adversarial                 E2    Fig. 1c         an invertible encoder trained *against* a linear classifier
residual                    E3    Fig. 2, 5       residual MLPs that may become ill-conditioned (coupled noise)
critic-capacity             E4    Fig. 3, 6       bilinear vs separable vs concat critics
encoder-vs-estimator        E5    Fig. 4a/b, 7    MLP vs ConvNet at matched :math:`I_{EST} = t`
noniid                      E6    Fig. 4c         :math:`I_{NCE}`, :math:`I_{NWJ}` with dependent negatives
supervised                  S     §3 (text)       MLP and ConvNet trained end to end with labels (E5's reference)
critic-capacity-cifar       E7    Fig. 8          E4 on CIFAR-10 (App. G)
encoder-vs-estimator-cifar  E8    Fig. 9          E5 on CIFAR-10 (App. G)
initialisation              R1    (none)          ours: Glorot-uniform vs PyTorch-default init of E4's MLP
metric-learning             R2    (none)          ours: InfoNCE vs K-pair (shared encoder) vs triplet loss
mi-benchmark                B1    (none)          beyond the paper: every bound x critic on tasks of known MI
==========================  ====  ==============  ============================================================

E1–E8 are the paper's; R1 is a finding of this reproduction and R2 an experiment that the derivation of
§4 suggests but the paper does not run (neither is in the paper). E7 and E8 need CIFAR-10, which cannot be
downloaded on the machines that build the book: :func:`experiment_ids` leaves them out unless asked
(``include_cifar10=True``), so the book never runs them; ``mi-tutorial run`` and ``mi-tutorial
list`` know them. B1 is a benchmark beyond the paper (no claims): it is left out likewise unless
asked (``include_beyond=True``) and has its own chapter.

Profiles:

* ``"paper"`` — exactly the paper / official code: Adam lr 1e-4, batch 128, 21,000 steps evaluated
  every 1,000 (points 0, 1k, …, 20k), 20 seeds; E2 a single 4,001-step run evaluated every 400; E6
  20,000 steps, one run per series; E7/E8 (App. G) lr 1e-5 and 63,000 steps (3×), on CIFAR-10.
  Hours on a CPU; meant for a GPU.
* ``"book"`` — what the book executes in CI: the *whole* book must run in ≤ 30 min on 2 CPU cores,
  so every experiment is shortened (arithmetic in :data:`BOOK_BUDGET`); one seed. E7/E8 have a
  book profile too (3× E4/E5's book steps, on CIFAR-10), but the book does not run it.
* ``"smoke"`` — seconds, for tests: sklearn's 8×8 digits (two 32-d views), tiny encoders, 21 steps.
  This holds for E7/E8 too: their smoke runs check the wiring (configs, learning rate, store) on
  digits and need no CIFAR-10; the CIFAR-10 code path itself (1,536-d views, the 3-channel ConvNet)
  is tested on synthetic CIFAR-shaped arrays.

:func:`profile_deviations` lists, in words, how a profile differs from the paper profile.

One module per experiment declares, together, its :class:`Experiment` record, its configs per
profile (``configs(profile)``), its schedule and seeds per profile, its deviations in words, its
claims (:class:`~mi_tutorial.paper.claims.Claim`) and the paper's numbers for it; this package
assembles them into the registry below, and :mod:`mi_tutorial.report` judges the claims.

:mod:`.estimation` is not a study of the paper: it holds the budget of chapter 2b's estimator
benchmark (after Poole et al., 2019) and the numbers of that paper which the chapter quotes.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from .._validation import check_seeds, choose
from ..config import PROFILES, RunConfig
from ..runs import ResultsStore, RunFn, run_sweep
from . import (
    adversarial,
    bijective,
    cifar10,
    critic_capacity,
    encoder_vs_estimator,
    initialisation,
    metric_learning,
    mi_benchmark,
    noniid,
    residual,
    supervised,
)
from .adversarial import (
    ADVERSARIAL_SETTINGS,
    INVERTIBLE_ERROR,
    AdversarialSetting,
    adversarial_setting,
    adversarial_settings,
    worst_reconstruction_error,
)
from .adversarial import finding as adversarial_finding
from .cifar10 import CIFAR10_LR, CIFAR10_OF, CIFAR10_VIEW_SHAPE
from .claims import NOT_RUN, VERDICTS, Check, Claim, Outcome, claim_order
from .common import (
    BOOK_BUDGET,
    BOOK_ENCODERS,
    BOOK_EVAL_BATCHES,
    CRITIC_KWARGS,
    ENCODER_SIZES,
    ESTIMATOR_PAIR,
    PAPER_ENCODERS,
    PAPER_SEEDS,
    SMOKE_ENCODERS,
    Experiment,
    Schedule,
    Study,
)
from .deviations import config_deviations
from .metric_learning import METRIC_LEARNING_VARIANTS
from .supervised import SUPERVISED_EXPERIMENT, SUPERVISED_REFERENCE

__all__ = [
    "ADVERSARIAL_SETTINGS",
    "BOOK_BUDGET",
    "BOOK_ENCODERS",
    "BOOK_EVAL_BATCHES",
    "CIFAR10_LR",
    "CIFAR10_OF",
    "CIFAR10_VIEW_SHAPE",
    "CLAIMS",
    "CRITIC_KWARGS",
    "ENCODER_SIZES",
    "ESTIMATOR_PAIR",
    "EXPERIMENTS",
    "INVERTIBLE_ERROR",
    "METRIC_LEARNING_VARIANTS",
    "NOT_RUN",
    "PAPER_ENCODERS",
    "PAPER_POINTS",
    "PAPER_SEEDS",
    "SCHEDULES",
    "SMOKE_ENCODERS",
    "STUDIES",
    "SUPERVISED_EXPERIMENT",
    "SUPERVISED_REFERENCE",
    "VERDICTS",
    "AdversarialSetting",
    "Check",
    "Claim",
    "Experiment",
    "Outcome",
    "Study",
    "adversarial_setting",
    "adversarial_finding",
    "adversarial_settings",
    "default_seeds",
    "describe",
    "experiment_ids",
    "get_configs",
    "paper_points",
    "print_deviations",
    "profile_deviations",
    "run",
    "schedule",
    "stored_records",
    "study",
    "worst_reconstruction_error",
]

#: Every experiment's declarations, in the paper's order (E1 … E8, then R1, R2, then B1).
STUDIES: tuple[Study, ...] = (
    bijective.STUDY,
    adversarial.STUDY,
    residual.STUDY,
    critic_capacity.STUDY,
    encoder_vs_estimator.STUDY,
    noniid.STUDY,
    supervised.STUDY,
    cifar10.CRITIC_CAPACITY_CIFAR,
    cifar10.ENCODER_VS_ESTIMATOR_CIFAR,
    initialisation.STUDY,
    metric_learning.STUDY,
    mi_benchmark.STUDY,
)
_BY_ID: dict[str, Study] = {s.experiment.id: s for s in STUDIES}

EXPERIMENTS: dict[str, Experiment] = {s.experiment.id: s.experiment for s in STUDIES}
#: (steps, eval_every) per profile and experiment.
SCHEDULES: dict[str, dict[str, Schedule]] = {
    profile: {s.experiment.id: s.schedule[profile] for s in STUDIES} for profile in PROFILES
}
#: The claims ledger: every claim of §4 of the project's paper spec, in its order (1 … 14).
CLAIMS: tuple[Claim, ...] = tuple(sorted((c for s in STUDIES for c in s.claims), key=claim_order))
#: Values read off the paper's figures ([Fig] in the project's paper spec, about ±0.002 accuracy
#: and ±0.1 nats), as (experiment, metric, config filter, [(step, value), ...]). Used to overlay the
#: paper's curves on ours; they are the paper's numbers, not results of this project.
PAPER_POINTS: tuple[tuple[str, str, dict, tuple[tuple[int, float], ...]], ...] = tuple(
    (s.experiment.id, *points) for s in STUDIES for points in s.paper_points
)


def study(experiment: str) -> Study:
    """The declarations of ``experiment``; a ``ValueError`` with suggestions for an unknown id."""
    return _BY_ID[choose(experiment, _BY_ID, "experiment")]


def _profile(name: str) -> str:
    return choose(name, PROFILES, "profile")


def experiment_ids(include_cifar10: bool = False, include_beyond: bool = False) -> list[str]:
    """The experiment ids in the paper's order (E1 … E8, then R1, R2, then B1).

    The CIFAR-10 experiments (E7, E8) are left out unless ``include_cifar10``: CIFAR-10 cannot be
    downloaded on the machines that build the book, so whatever loops over "every experiment" (the
    book's report) skips them by default. The benchmark beyond the paper (B1, no claims) is left
    out unless ``include_beyond``.
    """
    return [
        e.id
        for e in EXPERIMENTS.values()
        if (include_cifar10 or not e.cifar10) and (include_beyond or not e.beyond_paper)
    ]


def describe(experiment: str) -> str:
    """One paragraph: code, figures, title and what the experiment shows."""
    e = study(experiment).experiment
    return f"{e.code} ({e.figures}) {e.title}: {e.description}"


def get_configs(experiment: str, profile: str = "book") -> list[RunConfig]:
    """The run configs of ``experiment`` at ``profile`` ("smoke", "book" or "paper")."""
    return study(experiment).configs(_profile(profile))


def default_seeds(experiment: str, profile: str = "book") -> list[int]:
    """Seeds ``0 … n-1``: 20 for the paper's averaged figures, 1 for single-run ones and below."""
    profile = _profile(profile)
    return list(range(study(experiment).seeds[profile]))


def schedule(experiment: str, profile: str = "book") -> Schedule:
    """``(steps, eval_every)`` of the runs of ``experiment`` at ``profile``."""
    return study(experiment).schedule[_profile(profile)]


def run(
    experiment: str,
    profile: str = "book",
    seeds: int | list[int] | None = None,
    *,
    store: ResultsStore | None = None,
    force: bool = False,
    device: str = "cpu",
    progress: bool = True,
    n_jobs: int = 1,
    run_fn: RunFn | None = None,
    keep_models: bool = False,
) -> pd.DataFrame:
    """Run (or load from the results store) every config × seed of ``experiment`` at ``profile``.

    ``seeds``: a count ``n`` (seeds 0 … n-1), a list of seeds, or ``None`` for
    :func:`default_seeds`. Returns tidy records with the config fields and ``seed`` as columns.
    ``keep_models``: also store the trained weights (see :func:`mi_tutorial.runs.run_sweep`).
    """
    configs = get_configs(experiment, profile)
    seeds = default_seeds(experiment, profile) if seeds is None else check_seeds(seeds)
    return run_sweep(
        configs,
        seeds,
        run_fn,
        store=store,
        force=force,
        device=device,
        progress=progress,
        n_jobs=n_jobs,
        keep_models=keep_models,
    )


def stored_records(
    profile: str,
    store: ResultsStore | None = None,
    experiments: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Every stored run of the current configs of ``experiments`` at ``profile``; trains nothing.

    ``experiments`` defaults to all of them, CIFAR-10 included. Every seed found in the store
    counts (not only :func:`default_seeds`), so a paper-profile sweep run with ``--seeds 3`` is
    reported with its three seeds. Runs stored under configs the code no longer builds (cache keys
    of an older version) are left out, with one labelled exception: an experiment that declares
    an earlier version (:attr:`Study.earlier`, E1 and E2 before the notebook's RealNVP
    permutations) shows that version's runs for each config that has no run of its own yet, with
    a ``variant`` column naming the difference (empty on the current configs' rows). Returns tidy
    records with the config fields and ``seed`` as columns (like :func:`run`); an empty frame if
    nothing is stored. Raises :class:`mi_tutorial.runs.CorruptResultError` for a damaged stored run.
    """
    profile = _profile(profile)
    store = store if store is not None else ResultsStore()
    ids = experiment_ids(include_cifar10=True) if experiments is None else list(experiments)
    frames = [_stored_or_earlier(store, study(experiment), profile) for experiment in ids]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else store.load_stored([])


def _stored_or_earlier(store: ResultsStore, s: Study, profile: str) -> pd.DataFrame:
    """The stored runs of the current configs; where the experiment declares an earlier version,
    each config without a stored run shows its earlier version's runs instead, with a ``variant``
    column saying what differs (empty for the current configs' runs)."""
    current = s.configs(profile)
    if s.earlier is None:
        return store.load_stored(current)
    frames = []
    for config, before in zip(current, s.earlier(profile), strict=True):
        records = store.load_stored([config])
        if records.empty:
            records = store.load_stored([before])
            records = records.assign(variant=s.earlier_label) if not records.empty else records
        frames.append(records)
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else store.load_stored([])


def profile_deviations(experiment: str, profile: str) -> list[str]:
    """How ``profile`` deviates from the paper for ``experiment``, as sentences for a chapter.

    Derived from the configs themselves (so it cannot drift from them), plus the experiment's notes
    that a config diff cannot show. The ``"paper"`` profile gives an empty list.
    """
    s, profile = study(experiment), _profile(profile)
    out = config_deviations(
        s.configs("paper"), s.configs(profile), s.seeds["paper"], s.seeds[profile]
    )
    return out + list(s.notes.get(profile, ()))


def print_deviations(experiment: str, profile: str) -> None:
    """Print :func:`profile_deviations` as a list (what the chapters show next to each figure)."""
    lines = profile_deviations(experiment, profile)
    print(f"Profile {profile!r}: deviations from the paper for {experiment!r}:")
    for line in lines or ["none (this is the paper's configuration)"]:
        print(f"  - {line}")


def paper_points(experiment: str, metric: str) -> list[tuple[dict, tuple[tuple[int, float], ...]]]:
    """The paper's read-off points for one experiment and metric, with their config filters."""
    return [
        (where, pts) for exp, met, where, pts in PAPER_POINTS if exp == experiment and met == metric
    ]
