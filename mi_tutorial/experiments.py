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
==========================  ====  ==============  ============================================================

E1–E8 are the paper's; R1 is a finding of this reproduction and R2 an experiment the paper argues
for (§4) but does not run (neither is in the paper). E7 and E8 need CIFAR-10, which cannot be
downloaded on the machines that build the book: :func:`experiment_ids` leaves them out unless asked
(``include_cifar10=True``), so the book never runs them; ``mi-tutorial run`` and ``mi-tutorial
list`` know them.

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
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._validation import check_seeds, choose
from .config import (
    PROFILES,
    AdversarialConfig,
    MultiViewConfig,
    NonIIDConfig,
    RunConfig,
    SupervisedConfig,
)
from .runs import RECORD_COLUMNS, ResultsStore, RunFn, run_sweep


@dataclass(frozen=True)
class Experiment:
    """One experiment of the paper: an id, the paper's figure(s) and what it shows."""

    id: str
    code: str
    figures: str
    title: str
    description: str
    #: True for the App. G experiments, whose book and paper profiles train on CIFAR-10.
    cifar10: bool = False


EXPERIMENTS: dict[str, Experiment] = {
    e.id: e
    for e in (
        Experiment(
            "bijective",
            "E1",
            "Fig. 1a, 1b",
            "Bijective encoders",
            "RealNVP encoders are invertible, so the true MI between the two codes never changes; "
            "maximising I_NCE or I_NWJ still raises the linear-probe accuracy.",
        ),
        Experiment(
            "adversarial",
            "E2",
            "Fig. 1c",
            "Adversarially trained bijective encoder",
            "An invertible RealNVP is trained so that a linear classifier on its output predicts "
            "uniformly; MI stays maximal while linear accuracy collapses (one run).",
        ),
        Experiment(
            "residual",
            "E3",
            "Fig. 2, 5",
            "Ill-conditioned encoders",
            "Residual MLPs start at the identity; with coupled input noise, maximising the bounds "
            "makes their Jacobians ill-conditioned while accuracy rises.",
        ),
        Experiment(
            "critic-capacity",
            "E4",
            "Fig. 3, 6",
            "Critic capacity",
            "MLP encoders with bilinear, separable or concat (MLP) critics: the tightest I_NWJ "
            "(concat critic) gives the worst representation.",
        ),
        Experiment(
            "encoder-vs-estimator",
            "E5",
            "Fig. 4a, 4b, 7",
            "Encoder architecture vs estimator",
            "MLP and ConvNet encoders trained to the same bound value t in {2, 4} (loss |I_EST - t|)"
            ": the ConvNet wins for every estimator and t.",
        ),
        Experiment(
            "noniid",
            "E6",
            "Fig. 4c",
            "Non-i.i.d. negatives",
            "A concat critic on 2-d Gaussian pairs whose batch shares one latent: with dependent "
            "negatives I_NCE and I_NWJ exceed the true MI (0.0204 nats); with i.i.d. pairs not.",
        ),
        Experiment(
            "supervised",
            "S",
            "§3 (text)",
            "Supervised references",
            "The paper's reference point for E5: the MLP and the ConvNet encoder with a linear "
            "head, trained end to end with the labels of the top halves (paper: about 94% for "
            "both). Records the end-to-end test accuracy and the protocol's linear probe.",
        ),
        Experiment(
            "critic-capacity-cifar",
            "E7",
            "Fig. 8 (App. G)",
            "Critic capacity on CIFAR-10",
            "E4 on the top/bottom halves of CIFAR-10 images (16 x 32 x 3 each) with lr 1e-5 and "
            "3x the iterations: the same critic ordering on a lower accuracy scale (paper: "
            "0.348 / 0.338 / 0.313 with I_NCE). Needs CIFAR-10 (mi-tutorial data --cifar10).",
            cifar10=True,
        ),
        Experiment(
            "encoder-vs-estimator-cifar",
            "E8",
            "Fig. 9 (App. G)",
            "Encoder architecture vs estimator on CIFAR-10",
            "E5 on CIFAR-10 halves with lr 1e-5 and 3x the iterations: the ConvNet beats the MLP "
            "for every estimator and t (paper: about 0.39-0.41 vs 0.34). Needs CIFAR-10 "
            "(mi-tutorial data --cifar10).",
            cifar10=True,
        ),
        Experiment(
            "initialisation",
            "R1",
            "(none; ours)",
            "Weight initialisation",
            "Not in the paper, a finding of this reproduction: E4's MLP encoders + bilinear "
            "critic + I_NCE with Glorot-uniform weights and zero biases (the Keras default of the "
            "official code) vs PyTorch's default initialisation.",
        ),
        Experiment(
            "metric-learning",
            "R2",
            "(none; ours)",
            "Metric-learning objectives",
            "Argued in §4 but not run in the paper: E4's MLP encoder trained with InfoNCE + "
            "bilinear critic (separate encoders), InfoNCE with a shared encoder and inner-product "
            "critic (= Sohn's multi-class K-pair loss), and a triplet loss with one negative per "
            "anchor; linear-probe accuracy at equal steps.",
        ),
    )
}

ESTIMATOR_PAIR = ("infonce", "nwj")  # the two bounds every MNIST experiment compares
PAPER_SEEDS = 20  # "averaged over 20 runs" (§3); Fig. 1c and Fig. 4c are single runs

# --- encoder sizes ---------------------------------------------------------------------------------
# Paper (§3, official notebook). The RealNVP is shift-only (additive, volume-preserving couplings),
# init std 1e-4 so it starts at ≈ a fixed permutation; the bilinear critic follows the encoder's
# out_dim automatically (100×100 for MLP/ConvNet codes, 392×392 for RealNVP/residual MLP).
# Fresh permutations per encoder and seed, each block permute → coupling, as in the notebook
# (encoders.RealNVP). The E1/E2 runs made before this setting existed used "shared" permutations;
# their configs do not name it, so they keep their keys.
_NOTEBOOK_PERMUTATIONS = {"permutations": "notebook"}
PAPER_ENCODERS: dict[str, dict] = {
    "mlp": {"hidden": (300, 300), "out_dim": 100},
    "convnet": {"input_shape": (14, 28), "out_dim": 100},
    "residual_mlp": {"layers": 5, "init_std": 1e-4},
    "realnvp": {
        "couplings": 30,
        "hidden": (512, 512),
        "shift_only": True,
        "init_std": 1e-4,
        **_NOTEBOOK_PERMUTATIONS,
    },
}
# Book: only the RealNVP is shrunk (30 × [512, 512] costs ≈186 ms/step on 2 cores).
BOOK_ENCODERS: dict[str, dict] = {
    **PAPER_ENCODERS,
    "realnvp": {
        "couplings": 10,
        "hidden": (256, 256),
        "shift_only": True,
        "init_std": 1e-4,
        **_NOTEBOOK_PERMUTATIONS,
    },
}
# Smoke: digits views are 32-d (a 4×8 half of an 8×8 image).
SMOKE_ENCODERS: dict[str, dict] = {
    "mlp": {"hidden": (32,), "out_dim": 16},
    "convnet": {"input_shape": (4, 8), "out_dim": 16},
    "residual_mlp": {"layers": 2, "init_std": 1e-4},
    "realnvp": {
        "couplings": 2,
        "hidden": (16, 16),
        "shift_only": True,
        "init_std": 1e-4,
        **_NOTEBOOK_PERMUTATIONS,
    },
}
ENCODER_SIZES = {"paper": PAPER_ENCODERS, "book": BOOK_ENCODERS, "smoke": SMOKE_ENCODERS}

# Paper critics for 100-d codes (§3.2): separable φ = 100 → 100 ReLU → 100 (40,400 parameters in
# total), concat [x, y] → 200 ReLU → 1 (40,401).
CRITIC_KWARGS: dict[str, dict] = {
    "bilinear": {},
    "separable": {"hidden": 100, "out": 100},
    "concat": {"hidden": 200, "layers": 1},
}

# --- schedules: (steps, eval_every) ----------------------------------------------------------------
# "steps" counts updates and evaluation happens *before* the update of a step divisible by
# eval_every, so N·k + 1 steps evaluate at 0, k, …, N·k (the official 21,000/1,000 evaluates up to
# 20k and leaves the last 1,000 updates unevaluated; the book uses N·k + 1 so the last update counts).
SCHEDULES: dict[str, dict[str, tuple[int, int]]] = {
    "paper": {
        "bijective": (21_000, 1_000),
        "adversarial": (4_001, 400),  # official: 4001 iterations, probe every 400
        "residual": (21_000, 1_000),
        "critic-capacity": (21_000, 1_000),
        "encoder-vs-estimator": (21_000, 1_000),
        "noniid": (20_000, 1),  # training-batch bound at every step, smoothed when plotted
        "supervised": (21_000, 1_000),  # the paper does not state it; E5's schedule
        "initialisation": (21_000, 1_000),  # E4's schedule
        "metric-learning": (21_000, 1_000),  # E4's schedule
    },
    "book": {
        "bijective": (2_001, 500),
        "adversarial": (801, 200),  # the paper's collapse happens by 800 encoder steps
        "residual": (3_001, 500),
        "critic-capacity": (3_001, 500),
        "encoder-vs-estimator": (2_001, 1_000),  # 3,001 took 8.9 min of chapter 6's 8
        "noniid": (5_000, 1),
        "supervised": (1_001, 1_000),  # ≈2 epochs: a reference point, not a curve
        "initialisation": (3_001, 500),
        "metric-learning": (3_001, 500),
    },
    "smoke": {name: (21, 10) for name in EXPERIMENTS} | {"noniid": (20, 1)},
}

#: Each CIFAR-10 experiment (App. G) and the MNIST experiment whose configs it adapts.
CIFAR10_OF: dict[str, str] = {
    "critic-capacity-cifar": "critic-capacity",
    "encoder-vs-estimator-cifar": "encoder-vs-estimator",
}
# paper.md E7/E8 [T]: "3× the iterations" of E4/E5 (plots span 0–60k), derived from the twins'
# schedules so the two cannot drift apart. Paper: 3 × 21,000 = 63,000 steps with the official
# evaluation every 1,000 (Fig. 9's L_t curves are read at ≈2k resolution), i.e. points 0, 1k, …,
# 62k. Book (never executed by the book, which has no CIFAR-10): 3× the twin's updates with as many
# evaluations, N·3k + 1 steps evaluated every 3k.
for _cifar, _twin in CIFAR10_OF.items():
    _steps, _every = SCHEDULES["paper"][_twin]
    SCHEDULES["paper"][_cifar] = (3 * _steps, _every)
    _steps, _every = SCHEDULES["book"][_twin]
    SCHEDULES["book"][_cifar] = (3 * (_steps - 1) + 1, 3 * _every)
del _cifar, _twin, _steps, _every

#: Book-profile cost estimate on 2 CPU cores: ms/step at batch 128 from
#: ``benchmarks/bench_steps.py --quick`` on the project machine (MLP + bilinear 4, + separable 5,
#: + concat 9–17, ConvNet 65–77, residual MLP 10–11, RealNVP 10×[256,256] 33–49; a ConvNet step
#: is 9.1 GFLOP, so ≥ 31–44 ms even at the 205–296 GFLOP/s matmul roofline). One evaluation = encoding
#: the 70k top halves + the linear probe (≈2–4 s for the small encoders, ≈10 s with the ConvNet's
#: 0.83 TFLOP of encoding) + the test bound on 20 batches (``eval_batches=20``, about as many as the
#: official notebook averaged) + E3's 128 Jacobians (≈3 s).
#: E5 is the expensive one: both estimators would cost ≈ 16 min of ConvNet training alone, so the
#: book runs I_NCE only (the paper profile runs both) and evaluates every 1,000 steps as the paper.
BOOK_BUDGET = """\
E1 bijective    2 runs × (2,000 steps × ≈45 ms + 5 evals × ≈4 s)                       ≈ 3.7 min
E2 adversarial  2 lr settings × (800 × (10 classifier updates on a frozen forward ≈8 ms
                + 1 encoder update ≈23 ms) + 300 warm-up × 8 ms + 5 probes × ≈4 s)     ≈ 3.6 min
E3 residual     2 runs × (3,000 × 10.5 ms + 7 evals × (probe ≈3 s + Jacobians ≈3 s))    ≈ 2.5 min
E4 critics      2 estimators × 3,000 × (4 + 5 + 12) ms + 6 runs × 7 evals × ≈2 s        ≈ 3.5 min
E5 encoders     I_NCE only: MLP 2 runs × (2,000 × 4 ms + 3 evals × 2 s)                ≈ 0.5 min
                ConvNet 2 runs × (2,000 × 75 ms + 3 evals × ≈10 s)                     ≈ 6.0 min
E6 noniid       4 runs × 5,000 steps × ≈4.6 ms                                         ≈ 1.5 min
R1 init         2 runs × (3,000 × 4 ms + 7 evals × ≈2 s)  (one is E4's config)        ≈ 0.7 min
R2 metric       3 runs × (3,000 × ≈4 ms + 7 evals × ≈2 s)                              ≈ 1.3 min
total                                                                                  ≈ 23.3 min
plus chapter 2's synthetic estimator benchmark (≈2–3 min), kernel starts and the HTML build.
"""


#: Test batches of 128 for the book's bound evaluations (the official notebook averaged ≈20).
BOOK_EVAL_BATCHES = 20


def _experiment(name: str) -> Experiment:
    return EXPERIMENTS[choose(name, EXPERIMENTS, "experiment")]


def _profile(name: str) -> str:
    return choose(name, PROFILES, "profile")


def _multiview(experiment: str, profile: str, encoder: str, **fields) -> MultiViewConfig:
    steps, eval_every = SCHEDULES[profile][experiment]
    common: dict = {
        "smoke": {"dataset": "digits", "batch_size": 64},
        "book": {"eval_batches": BOOK_EVAL_BATCHES},
        "paper": {},  # the bound on the whole test set (78 batches of 128), as §3 states
    }[profile]
    return MultiViewConfig(
        experiment=experiment,
        profile=profile,
        steps=steps,
        eval_every=eval_every,
        encoder=encoder,
        encoder_kwargs=ENCODER_SIZES[profile][encoder],
        **common,
        **fields,
    )


def _bijective(profile: str) -> list[RunConfig]:
    return [
        _multiview("bijective", profile, "realnvp", critic="bilinear", estimator=est)
        for est in ESTIMATOR_PAIR
    ]


@dataclass(frozen=True)
class AdversarialSetting:
    """One way to run E2: Adam learning rates of the classifier and the encoder, and the coupling."""

    classifier_lr: float
    encoder_lr: float
    shift_only: bool  # True: additive (volume-preserving) couplings; False: affine

    def describe(self) -> str:
        coupling = "shift-only" if self.shift_only else "affine"
        return f"lr {self.classifier_lr:g} / {self.encoder_lr:g}, {coupling} couplings"


#: E2's settings, the paper's first (the default). The paper's App. B: lr 1e-4 (classifier) and
#: 1e-6 (encoder), "the same RealNVP" as E1, i.e. shift-only couplings. The official notebook's
#: ``train_adversarial(lr=1e-3)``: lr 1e-3 and 1e-5 (= 0.01 × lr), and a RealNVP built without
#: ``shift_only`` (affine couplings, scale 1e-7 + softplus). "notebook lr" changes only the learning
#: rates, so each of the two differences is measured on its own. Every profile runs all three: with
#: 1e-6 an encoder weight moves by at most ≈1e-6 per step, so in a short run the RealNVP barely
#: leaves its initial permutation.
ADVERSARIAL_SETTINGS: dict[str, AdversarialSetting] = {
    "paper": AdversarialSetting(1e-4, 1e-6, shift_only=True),
    "notebook lr": AdversarialSetting(1e-3, 1e-5, shift_only=True),
    "notebook": AdversarialSetting(1e-3, 1e-5, shift_only=False),
}


def adversarial_setting(classifier_lr: float, encoder_lr: float, encoder_kwargs) -> str:
    """The name in :data:`ADVERSARIAL_SETTINGS` of an E2 run (from its config, or a record's
    columns: ``encoder_kwargs`` may be the stored JSON string), else a description of it."""
    if isinstance(encoder_kwargs, str):
        encoder_kwargs = json.loads(encoder_kwargs)
    shift_only = bool(dict(encoder_kwargs).get("shift_only", True))  # RealNVP's default
    run = AdversarialSetting(float(classifier_lr), float(encoder_lr), shift_only)
    for name, setting in ADVERSARIAL_SETTINGS.items():
        if (
            math.isclose(run.classifier_lr, setting.classifier_lr)
            and math.isclose(run.encoder_lr, setting.encoder_lr)
            and run.shift_only == setting.shift_only
        ):
            return name
    return run.describe()


def adversarial_settings(records: pd.DataFrame) -> pd.Series:
    """:func:`adversarial_setting` of every row of E2 records (a column for grouping and legends)."""
    columns = ["classifier_lr", "encoder_lr", "encoder_kwargs"]
    return pd.Series(
        [adversarial_setting(*row) for row in records[columns].itertuples(index=False)],
        index=records.index,
        dtype=object,
    )


def _adversarial(profile: str) -> list[RunConfig]:
    steps, eval_every = SCHEDULES[profile]["adversarial"]
    fields: dict = {
        "paper": {"warmup_steps": 1_000},
        "book": {"warmup_steps": 300},  # 1,200 steps can't afford the paper's 1,000 warm-up ones
        "smoke": {"warmup_steps": 5, "dataset": "digits", "batch_size": 64},
    }[profile]
    classifier_steps = (
        2 if profile == "smoke" else 10
    )  # paper: 10 classifier steps per encoder step
    return [
        AdversarialConfig(
            experiment="adversarial",
            profile=profile,
            steps=steps,
            eval_every=eval_every,
            encoder="realnvp",
            encoder_kwargs=ENCODER_SIZES[profile]["realnvp"] | {"shift_only": setting.shift_only},
            classifier_lr=setting.classifier_lr,
            encoder_lr=setting.encoder_lr,
            classifier_steps=classifier_steps,
            **fields,
        )
        for setting in ADVERSARIAL_SETTINGS.values()
    ]


def _residual(profile: str) -> list[RunConfig]:
    # Coupled noise σ = 0.05 (the same vector on both halves, fresh every step) + Jacobian
    # log-condition numbers at every evaluation.
    return [
        _multiview(
            "residual",
            profile,
            "residual_mlp",
            critic="bilinear",
            estimator=est,
            noise_std=0.05,
            eval_jacobian=True,
        )
        for est in ESTIMATOR_PAIR
    ]


def _critic_capacity(profile: str) -> list[RunConfig]:
    return [
        _multiview(
            "critic-capacity",
            profile,
            "mlp",
            critic=critic,
            estimator=est,
            critic_kwargs=_critic_kwargs(critic, profile),
        )
        for critic in ("bilinear", "separable", "concat")
        for est in ESTIMATOR_PAIR
    ]


def _critic_kwargs(critic: str, profile: str) -> dict:
    if profile == "smoke" and critic != "bilinear":
        return {"hidden": 16, "out": 16} if critic == "separable" else {"hidden": 16, "layers": 1}
    return CRITIC_KWARGS[critic]


def _initialisation(profile: str) -> list[RunConfig]:
    """R1: critic-capacity's MLP + bilinear + I_NCE run, once per weight-initialisation scheme."""
    return [
        _multiview(
            "initialisation",
            profile,
            "mlp",
            critic="bilinear",
            estimator="infonce",
            critic_kwargs=_critic_kwargs("bilinear", profile),
            init=init,
        )
        for init in ("glorot", "torch")
    ]


#: R2's variants: (critic, objective, shared encoder). (a) is E4's MLP + bilinear + I_NCE run.
METRIC_LEARNING_VARIANTS: tuple[tuple[str, str, bool], ...] = (
    ("bilinear", "infonce", False),  # (a) the paper's setup: g1, g2 separate, f(x, y) = x^T W y
    ("inner", "infonce", True),  # (b) g1 = g2, f(x, y) = x^T y: I_NCE = log K - L_K-pair-mc
    ("neg_sqdist", "triplet", True),  # (c) g1 = g2, triplet loss on -||x - y||^2, margin 1
)


def _metric_learning(profile: str) -> list[RunConfig]:
    """R2: one MLP-encoder run per metric-learning variant (see METRIC_LEARNING_VARIANTS)."""
    return [
        _multiview(
            "metric-learning",
            profile,
            "mlp",
            critic=critic,
            estimator=objective,
            shared_encoder=shared,
        )
        for critic, objective, shared in METRIC_LEARNING_VARIANTS
    ]


def _encoder_vs_estimator(profile: str) -> list[RunConfig]:
    estimators = ("infonce",) if profile == "book" else ESTIMATOR_PAIR  # see BOOK_BUDGET
    return [
        _multiview(
            "encoder-vs-estimator",
            profile,
            encoder,
            critic="bilinear",
            estimator=est,
            target=float(t),
        )
        for encoder in ("mlp", "convnet")
        for t in (2, 4)
        for est in estimators
    ]


def _supervised(profile: str) -> list[RunConfig]:
    steps, eval_every = SCHEDULES[profile]["supervised"]
    common = {"dataset": "digits", "batch_size": 64} if profile == "smoke" else {}
    return [
        SupervisedConfig(
            experiment="supervised",
            profile=profile,
            steps=steps,
            eval_every=eval_every,
            encoder=encoder,
            encoder_kwargs=ENCODER_SIZES[profile][encoder],
            **common,
        )
        for encoder in ("mlp", "convnet")
    ]


def _noniid(profile: str) -> list[RunConfig]:
    steps, eval_every = SCHEDULES[profile]["noniid"]
    return [
        NonIIDConfig(
            experiment="noniid",
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


# --- App. G: E4 and E5 on CIFAR-10 --------------------------------------------------------------
# paper.md E7 [T]: "same encoder and critic architectures; only the input layer is changed for the
# flattened image halves", Adam lr 1e-5 instead of 1e-4, 3× the iterations (SCHEDULES above).
# paper.md E8: "as E5, adapted as in E7". Nothing else changes (batch 128, bilinear/separable/concat
# critics of E4, t ∈ {2, 4} of E5, the same linear probe). The paper writes "32 × 14 × 3" for a
# half; a half of a 32 × 32 × 3 image is 16 × 32 × 3 = 1,536 values (paper.md §5.10), which is
# what we feed. The number of runs is not stated for App. G; we keep E4/E5's 20 seeds.
CIFAR10_LR = 1e-5
#: (height, width, channels) of one CIFAR-10 half; equals :data:`mi_tutorial.data.CIFAR10_VIEW_SHAPE`
#: (kept here so that listing experiments does not import torch).
CIFAR10_VIEW_SHAPE = (16, 32, 3)


def _on_cifar10(experiment: str) -> Callable[[str], list[RunConfig]]:
    """The builder of a CIFAR-10 experiment: its MNIST twin's configs with App. G's changes.

    At the ``smoke`` profile the runs stay on sklearn's digits (no CIFAR-10 needed, seconds): they
    check the experiment's wiring only, like every smoke run.
    """
    twin = CIFAR10_OF[experiment]

    def build(profile: str) -> list[RunConfig]:
        steps, eval_every = SCHEDULES[profile][experiment]
        configs = []
        for config in _BUILDERS[twin](profile):
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
            configs.append(config.replace(**changes))
        return configs

    return build


_BUILDERS: dict[str, Callable[[str], list[RunConfig]]] = {
    "bijective": _bijective,
    "adversarial": _adversarial,
    "residual": _residual,
    "critic-capacity": _critic_capacity,
    "encoder-vs-estimator": _encoder_vs_estimator,
    "noniid": _noniid,
    "supervised": _supervised,
    "critic-capacity-cifar": _on_cifar10("critic-capacity-cifar"),
    "encoder-vs-estimator-cifar": _on_cifar10("encoder-vs-estimator-cifar"),
    "initialisation": _initialisation,
    "metric-learning": _metric_learning,
}

# Number of seeds (0, 1, …, n-1) per profile; the paper's single-run figures stay single runs.
_SEEDS: dict[str, dict[str, int]] = {
    "paper": {name: PAPER_SEEDS for name in EXPERIMENTS}
    | {"adversarial": 1, "noniid": 1, "supervised": 3},  # supervised: a number in the text
    "book": {name: 1 for name in EXPERIMENTS},
    "smoke": {name: 1 for name in EXPERIMENTS},
}

# Deviations that a config diff cannot show, or the reason for one (said in words).
_NOTES: dict[tuple[str, str], list[str]] = {
    ("adversarial", "book"): [
        "the warm-up is shortened with the run (300 of 1,200 steps) to fit the book's time budget",
    ],
    ("encoder-vs-estimator", "book"): [
        "I_NWJ is left out: four more ConvNet runs would double the chapter's ≈9 min on 2 cores",
    ],
    ("encoder-vs-estimator-cifar", "book"): [
        "I_NWJ is left out, as in E5's book profile",
    ],
    **{
        (experiment, "smoke"): [
            "the smoke runs use sklearn's digits, not CIFAR-10: they check the wiring only",
        ]
        for experiment in CIFAR10_OF
    },
}


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


def experiment_ids(include_cifar10: bool = False) -> list[str]:
    """The experiment ids in the paper's order (E1 … E8, then R1, R2).

    The CIFAR-10 experiments (E7, E8) are left out unless ``include_cifar10``: CIFAR-10 cannot be
    downloaded on the machines that build the book, so whatever loops over "every experiment" (the
    book's report) skips them by default.
    """
    return [e.id for e in EXPERIMENTS.values() if include_cifar10 or not e.cifar10]


def describe(experiment: str) -> str:
    """One paragraph: code, figures, title and what the experiment shows."""
    e = _experiment(experiment)
    return f"{e.code} ({e.figures}) {e.title}: {e.description}"


def get_configs(experiment: str, profile: str = "book") -> list[RunConfig]:
    """The run configs of ``experiment`` at ``profile`` ("smoke", "book" or "paper")."""
    return _BUILDERS[_experiment(experiment).id](_profile(profile))


def default_seeds(experiment: str, profile: str = "book") -> list[int]:
    """Seeds ``0 … n-1``: 20 for the paper's averaged figures, 1 for single-run ones and below."""
    return list(range(_SEEDS[_profile(profile)][_experiment(experiment).id]))


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
    of an older version) are left out, so they cannot mix with current ones. Returns tidy records
    with the config fields and ``seed`` as columns (like :func:`run`); an empty frame if nothing
    is stored. Raises :class:`mi_tutorial.runs.CorruptResultError` for a damaged stored run.
    """
    profile = _profile(profile)
    store = store if store is not None else ResultsStore()
    ids = experiment_ids(include_cifar10=True) if experiments is None else list(experiments)
    return store.load_stored(
        config for experiment in ids for config in get_configs(experiment, profile)
    )


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_fmt(v)}" for k, v in value.items()) + "}" if value else "{}"
    if isinstance(value, tuple):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)


def _flat(fields: dict) -> dict:
    """Config fields with dict values (``*_kwargs``) spread into ``name.key`` entries, so a
    deviation names the one setting that differs."""
    out: dict = {}
    for name, value in fields.items():
        if isinstance(value, dict) and value:
            out |= {f"{name}.{key}": inner for key, inner in value.items()}
        else:
            out[name] = value
    return out


def _variant(config: RunConfig) -> tuple:
    """What distinguishes the runs *within* an experiment (independent of the profile's sizes)."""
    names = (
        "kind",
        "encoder",
        "critic",
        "estimator",
        "target",
        "iid",
        "init",
        "classifier_lr",
        "encoder_lr",
    )
    variant = tuple((name, getattr(config, name)) for name in names if hasattr(config, name))
    encoder_kwargs = dict(getattr(config, "encoder_kwargs", ()))
    if "shift_only" in encoder_kwargs:  # E2's coupling is a setting, not a size
        variant += (("shift_only", encoder_kwargs["shift_only"]),)
    return variant


def profile_deviations(experiment: str, profile: str) -> list[str]:
    """How ``profile`` deviates from the paper for ``experiment``, as sentences for a chapter.

    Derived from the configs themselves (so it cannot drift from them), plus notes that a config
    diff cannot show. The ``"paper"`` profile gives an empty list.
    """
    e, profile = _experiment(experiment), _profile(profile)
    paper, ours = get_configs(e.id, "paper"), get_configs(e.id, profile)
    out: list[str] = []
    n_paper, n_ours = len(default_seeds(e.id, "paper")), len(default_seeds(e.id, profile))
    if n_ours != n_paper:
        out.append(f"{n_ours} seed(s) per run instead of {n_paper}")
    missing = {_variant(c) for c in paper} - {_variant(c) for c in ours}
    for variant in sorted(missing, key=str):
        shown = [(k, v) for k, v in variant[1:] if (k, v) != ("init", "glorot")]  # the default
        out.append("not run: " + ", ".join(f"{k}={_fmt(v)}" for k, v in shown))
    by_variant = {_variant(c): c for c in paper}
    diffs: dict[str, tuple[set, set]] = {}
    for config in ours:
        reference = by_variant.get(_variant(config))
        if reference is None:
            continue
        mine, theirs = _flat(config.to_dict()), _flat(reference.to_dict())
        for name in mine:
            if name in ("profile",) or mine[name] == theirs.get(name):
                continue
            seen = diffs.setdefault(name, (set(), set()))
            seen[0].add(_fmt(theirs.get(name)))
            seen[1].add(_fmt(mine[name]))
    for name, (theirs, mine) in diffs.items():
        if name == "eval_batches":  # None = the whole test set
            theirs = {"the whole test set" if v == "None" else f"{v} batches" for v in theirs}
            mine = {"the whole test set" if v == "None" else f"{v} batches" for v in mine}
        out.append(f"{name}: {' / '.join(sorted(mine))} (paper: {' / '.join(sorted(theirs))})")
    return out + _NOTES.get((e.id, profile), [])


# --------------------------------------------------------------------------------------------------
# Summaries
# --------------------------------------------------------------------------------------------------

SUMMARY_METRICS = ("accuracy", "bound", "objective")
_NOT_LABELS = {*RECORD_COLUMNS, "elapsed_s", "seed", "config_key", "profile", "experiment"}


def print_deviations(experiment: str, profile: str) -> None:
    """Print :func:`profile_deviations` as a list (what the chapters show next to each figure)."""
    lines = profile_deviations(experiment, profile)
    print(f"Profile {profile!r}: deviations from the paper for {experiment!r}:")
    for line in lines or ["none (this is the paper's configuration)"]:
        print(f"  - {line}")


def label_columns(records: pd.DataFrame) -> list[str]:
    """The config columns that tell the configs in ``records`` apart (the runs' labels).

    Columns are taken in order, ``*_kwargs`` last, and kept only if they split the configs
    further, so e.g. ``critic_kwargs`` is dropped when ``critic`` already names the runs.
    """
    per_config = records.drop_duplicates("config_key").astype(str)
    candidates = [c for c in per_config.columns if c not in _NOT_LABELS]
    candidates.sort(key=lambda c: c.endswith("_kwargs"))  # stable: plain fields first
    labels: list[str] = []
    groups = 1
    for column in candidates:
        n = len(per_config.groupby([*labels, column]))
        if n > groups:
            labels.append(column)
            groups = n
    return labels or ["experiment"]


def final_summary(
    records: pd.DataFrame, metrics: tuple[str, ...] = SUMMARY_METRICS
) -> pd.DataFrame:
    """Final value of each metric per run, then mean, sd and n over seeds, one row per
    (config, metric). For per-step series (E6, ``eval_every == 1``) the "final value" is the mean
    over the last 10% of steps, since a single training batch is very noisy."""
    if records.empty:
        return pd.DataFrame(columns=["metric", "step", "mean", "sd", "n"])
    labels = label_columns(records)
    rows = []
    for (key, seed), run_records in records.groupby(["config_key", "seed"], sort=False):
        first = run_records.iloc[0]
        for metric in metrics:
            series = run_records[run_records["metric"] == metric]
            if series.empty:
                continue
            last_step = int(series["step"].max())
            if "eval_every" in first and first["eval_every"] == 1 and last_step >= 10:
                value = series[series["step"] >= 0.9 * last_step]["value"].mean()
            else:
                value = series[series["step"] == last_step]["value"].mean()
            rows.append(
                {
                    **{c: first[c] for c in labels},
                    "config_key": key,
                    "seed": seed,
                    "metric": metric,
                    "step": last_step,
                    "value": float(value),
                }
            )
    finals = pd.DataFrame(rows)
    grouped = finals.groupby([*labels, "config_key", "metric"], sort=False, dropna=False)
    summary = grouped.agg(
        step=("step", "max"), mean=("value", "mean"), sd=("value", "std"), n=("value", "size")
    ).reset_index()
    summary["sd"] = summary["sd"].fillna(0.0)
    return summary.drop(columns="config_key")


def format_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """``final_summary`` as a wide table of strings "mean ± sd" (one column per metric)."""
    if summary.empty:
        return summary
    labels = [c for c in summary.columns if c not in ("metric", "step", "mean", "sd", "n")]
    summary = summary.copy()
    summary["text"] = [
        f"{m:.4f}" if n < 2 else f"{m:.4f} ± {s:.4f}"
        for m, s, n in zip(summary["mean"], summary["sd"], summary["n"], strict=True)
    ]
    for column in labels:
        summary[column] = summary[column].map(_label_text)
    wide = summary.pivot_table(
        index=labels, columns="metric", values="text", aggfunc="first", sort=False
    )
    steps = summary.groupby(labels, sort=False)["step"].max()
    seeds = summary.groupby(labels, sort=False)["n"].max()
    wide.insert(0, "seeds", seeds)
    wide.insert(0, "final step", steps)
    ordered = [m for m in SUMMARY_METRICS if m in wide.columns]
    others = [c for c in wide.columns if c not in ordered]
    return wide[others + ordered]


def _label_text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, (float, np.floating)):
        return f"{value:g}"
    return str(value)
