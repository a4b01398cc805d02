"""The claims ledger: the paper's testable claims as data, checked against our stored records.

Each :class:`Claim` carries the paper's statement, figure, value (with its source tag from the
project's paper spec: [T] text, [Fig] read off a figure, [D] derived) and a *check*: a function of
the tidy records (see :mod:`mi_tutorial.training`) that returns our value (one number per seed) and a
verdict. :func:`evaluate_claims` runs every check and returns the ledger table — generated, never
typed. Verdicts:

* ``reproduced`` — our mean meets the paper's claim within the stated tolerance;
* ``partially`` — the effect points the paper's way but is weaker than the tolerance asks;
* ``not reproduced`` — the effect is absent or reversed;
* ``not run`` — the records needed for the check are missing (e.g. an experiment not yet run at
  this profile, or a baseline that was not computed).

Every claim of §4 of the project's paper spec has a row: 1–12 on MNIST and the synthetic data,
13 (the InfoNCE / K-pair identity, checked by computation on score matrices, needs no records) and
14 (the CIFAR-10 appendix: claims 7, 8 and 10 on the runs of ``critic-capacity-cifar`` and
``encoder-vs-estimator-cifar``). Claim 11 (supervised references) reads the ``supervised``
experiment. :func:`compute_baselines` gives the
reference values the checks compare with, :func:`ledger_markdown` the table as Markdown.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .estimators import PAPER_ESTIMATOR_NAMES
from .experiments import ADVERSARIAL_SETTINGS, adversarial_settings, stored_records
from .runs import ResultsStore

VERDICTS = ("reproduced", "partially", "not reproduced", "not run")
LOG_128 = math.log(128)


@dataclass(frozen=True)
class Outcome:
    """Our side of a claim: per-seed values (shown as mean ± sd) and the verdict."""

    values: tuple[float, ...]
    verdict: str
    note: str = ""
    #: Seeds behind the value (the fewest that any compared group has); None: the seeds of the
    #: claim's experiment in the records.
    seeds: int | None = None
    #: Labels of the values when each one is a case (a configuration, averaged over its seeds)
    #: rather than a seed; the ledger then lists them one by one instead of as mean ± sd.
    cases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")
        if self.cases and len(self.cases) != len(self.values):
            raise ValueError(
                f"{len(self.cases)} case labels for {len(self.values)} values: give one per value."
            )


NOT_RUN = Outcome((), "not run")
Check = Callable[[pd.DataFrame, dict], Outcome]


@dataclass(frozen=True)
class Claim:
    id: str
    experiment: str
    figure: str
    statement: str
    paper_value: str  #: the paper's number(s) with their source tag
    check: Check


# ------------------------------------------------------------------------------------------ helpers
def _select(records: pd.DataFrame, experiment: str, metric: str, **where) -> pd.DataFrame:
    if records.empty or not {"experiment", "metric"} <= set(records.columns):
        return pd.DataFrame(columns=["seed", "step", "value"])
    rows = records[(records["experiment"] == experiment) & (records["metric"] == metric)]
    for column, value in where.items():
        if column not in rows:
            return rows.iloc[0:0]
        rows = rows[rows[column].isna()] if value is None else rows[rows[column] == value]
    return rows


def _per_seed(rows: pd.DataFrame, step: str | int = "last") -> pd.Series:
    """One value per seed at the first/last recorded step (per-sample metrics are averaged)."""
    if rows.empty:
        return pd.Series(dtype=float)
    if step == "last":
        rows = rows[rows["step"] == rows.groupby("seed")["step"].transform("max")]
    elif step == "first":
        rows = rows[rows["step"] == rows.groupby("seed")["step"].transform("min")]
    else:
        rows = rows[rows["step"] == step]
    return rows.groupby("seed")["value"].mean()


def _median_per_seed(rows: pd.DataFrame, step: str) -> pd.Series:
    if rows.empty:
        return pd.Series(dtype=float)
    pick = "max" if step == "last" else "min"
    rows = rows[rows["step"] == rows.groupby("seed")["step"].transform(pick)]
    return rows.groupby("seed")["value"].median()


def _common_seeds(per_seed: dict[str, pd.Series]) -> pd.DataFrame | None:
    """The per-seed series side by side, on the seeds that all of them have (a sweep may be
    half done); None if there is no such seed."""
    table = pd.concat(per_seed, axis=1).dropna()
    return None if table.empty else table


def _grade(value: float, full: float, partial: float = 0.0) -> str:
    """``reproduced`` if value ≥ full, ``partially`` if value > partial, else ``not reproduced``."""
    if value >= full:
        return "reproduced"
    return "partially" if value > partial else "not reproduced"


# ------------------------------------------------------------------------------------------ checks
def _e1_gain(estimator: str) -> Check:
    def check(records: pd.DataFrame, baselines: dict) -> Outcome:
        rows = _select(records, "bijective", "accuracy", estimator=estimator)
        gain = _per_seed(rows, "last") - _per_seed(rows, "first")
        if gain.empty:
            return NOT_RUN
        return Outcome(tuple(gain), _grade(gain.mean(), 0.02), seeds=len(gain))

    return check


def _e1_start_at_pixels(records: pd.DataFrame, baselines: dict) -> Outcome:
    start = _per_seed(_select(records, "bijective", "accuracy"), "first")
    if start.empty or "pixel" not in baselines:
        return NOT_RUN
    gap = start - baselines["pixel"]
    verdict = "reproduced" if abs(gap.mean()) <= 0.01 else "not reproduced"
    note = f"step-0 accuracy {start.mean():.3f} minus our pixel baseline {baselines['pixel']:.3f}"
    return Outcome(tuple(gap), verdict, note)


def _e1_nce_below_log_k(records: pd.DataFrame, baselines: dict) -> Outcome:
    rows = _select(records, "bijective", "bound", estimator="infonce")
    if rows.empty:
        return NOT_RUN
    worst = rows.groupby("seed")["value"].max()
    ceiling = float(np.log(rows["batch_size"].iloc[0])) if "batch_size" in rows else LOG_128
    verdict = "reproduced" if (worst <= ceiling + 1e-6).all() else "not reproduced"
    return Outcome(
        tuple(worst), verdict, f"max over steps; log K = {ceiling:.3f}", seeds=len(worst)
    )


#: Largest reconstruction error :math:`\max|g^{-1}(g(x)) - x|` (pixels in [0, 1]) at which an
#: encoder still counts as numerically invertible.
INVERTIBLE_ERROR = 1e-3


def worst_reconstruction_error(values: pd.Series) -> float:
    """The largest reconstruction error, +inf if any is NaN (an inverse that broke down)."""
    return math.inf if values.isna().any() else float(values.max())


def _e2_first_1k(records: pd.DataFrame, setting: str, metric: str) -> pd.DataFrame:
    """E2 records of ``metric`` for one setting, steps 0 to 1,000."""
    rows = _select(records, "adversarial", metric)
    if rows.empty or "encoder_kwargs" not in rows:
        return rows.iloc[0:0]
    rows = rows[adversarial_settings(rows) == setting]
    return rows[rows["step"] <= 1000]


def _e2_collapse(setting: str) -> Check:
    """Claim 4: the probe's drop from step 0 within 1k encoder steps, for one E2 setting
    (:data:`~mi_tutorial.experiments.ADVERSARIAL_SETTINGS`). The paper's point is a bad encoder
    *at maximal MI*, so a drop while the encoder is no longer numerically invertible (reconstruction
    error above :data:`INVERTIBLE_ERROR` at those steps) counts as ``partially`` at best. The note
    adds the lowest accuracy of the classifier trained *against* the encoder."""

    def check(records: pd.DataFrame, baselines: dict) -> Outcome:
        rows = _e2_first_1k(records, setting, "accuracy")
        if rows.empty:
            return NOT_RUN
        drop = _per_seed(rows, "first") - rows.groupby("seed")["value"].min()
        verdict = _grade(drop.mean(), 0.25, 0.02)
        note = f"drop from step 0 within 1k steps ({ADVERSARIAL_SETTINGS[setting].describe()})"
        adversary = _e2_first_1k(records, setting, "classifier_accuracy")
        adversary = adversary[adversary["step"] > 0]
        if not adversary.empty:
            lowest = adversary.groupby("seed")["value"].min().mean()
            note += f"; the jointly trained classifier's own accuracy falls to {lowest:.2f}"
        worst = worst_reconstruction_error(
            _e2_first_1k(records, setting, "reconstruction_error")["value"]
        )
        if worst > INVERTIBLE_ERROR:  # False when not recorded (NaN)
            note += (
                f"; but the encoder is not numerically invertible by then (reconstruction error "
                f"{worst:.1e}): not at maximal MI"
            )
            verdict = "partially" if verdict == "reproduced" else verdict
        return Outcome(tuple(drop), verdict, note, seeds=len(drop))

    return check


def _e3_conditioning(estimator: str, paper_median: float) -> Check:
    def check(records: pd.DataFrame, baselines: dict) -> Outcome:
        rows = _select(records, "residual", "logcond", estimator=estimator)
        growth = _median_per_seed(rows, "last") - _median_per_seed(rows, "first")
        if growth.empty:
            return NOT_RUN
        return Outcome(
            tuple(growth),
            _grade(growth.mean(), 0.5 * paper_median),
            "growth of the median log condition number",
            seeds=len(growth),
        )

    return check


def _e3_accuracy(records: pd.DataFrame, baselines: dict) -> Outcome:
    rows = _select(records, "residual", "accuracy")
    gain = _per_seed(rows, "last") - _per_seed(rows, "first")
    if gain.empty:
        return NOT_RUN
    return Outcome(tuple(gain), _grade(gain.mean(), 0.02), "mean over both estimators")


def _e3_nce_worse_conditioned(records: pd.DataFrame, baselines: dict) -> Outcome:
    nce = _median_per_seed(_select(records, "residual", "logcond", estimator="infonce"), "last")
    nwj = _median_per_seed(_select(records, "residual", "logcond", estimator="nwj"), "last")
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


def _e4_ordering(estimator: str, experiment: str = "critic-capacity") -> Check:
    """Claims 7a/7b (and 14a/14b on CIFAR-10): final accuracy bilinear ≥ separable > concat."""

    def check(records: pd.DataFrame, baselines: dict) -> Outcome:
        acc = _common_seeds(
            {
                c: _per_seed(
                    _select(records, experiment, "accuracy", critic=c, estimator=estimator)
                )
                for c in ("bilinear", "separable", "concat")
            }
        )
        if acc is None:
            return NOT_RUN
        margin = acc["separable"] - acc["concat"]
        ok_sep = acc["bilinear"].mean() >= acc["separable"].mean() - 0.005
        if margin.mean() > 0 and ok_sep:
            verdict = "reproduced"
        elif margin.mean() > 0 or ok_sep:
            verdict = "partially"
        else:
            verdict = "not reproduced"
        return Outcome(
            tuple(acc["bilinear"] - acc["concat"]),
            verdict,
            "bilinear minus concat accuracy",
            seeds=len(acc),
        )

    return check


def _tighter_bound_worse_accuracy(experiment: str = "critic-capacity") -> Check:
    """Claim 8 (and 14c): with I_NWJ, concat has the higher test bound but the lower accuracy."""

    def check(records: pd.DataFrame, baselines: dict) -> Outcome:
        def final(metric: str, critic: str) -> pd.Series:
            return _per_seed(_select(records, experiment, metric, critic=critic, estimator="nwj"))

        # seeds present for both critics only (a sweep may be half done)
        bound_gap = (final("bound", "concat") - final("bound", "bilinear")).dropna()
        acc_gap = (final("accuracy", "bilinear") - final("accuracy", "concat")).dropna()
        if bound_gap.empty or acc_gap.empty:
            return NOT_RUN
        both = bound_gap.mean() > 0 and acc_gap.mean() > 0
        verdict = (
            "reproduced" if both else ("partially" if acc_gap.mean() > 0 else "not reproduced")
        )
        return Outcome(
            tuple(bound_gap),
            verdict,
            "concat minus bilinear test I_NWJ",
            seeds=min(len(bound_gap), len(acc_gap)),
        )

    return check


def _e4_nce_close(records: pd.DataFrame, baselines: dict) -> Outcome:
    finals = _common_seeds(
        {
            c: _per_seed(
                _select(records, "critic-capacity", "bound", critic=c, estimator="infonce")
            )
            for c in ("bilinear", "separable", "concat")
        }
    )
    if finals is None:
        return NOT_RUN
    means = finals.mean()
    spread = float(means.max() - means.min())
    return Outcome(
        (spread,), _grade(-spread, -0.05, -0.2), "max minus min final I_NCE", seeds=len(finals)
    )


def _convnet_beats_mlp(experiment: str = "encoder-vs-estimator") -> Check:
    """Claim 10 (and 14d): ConvNet final accuracy − MLP's ≥ 2.5 points for every (estimator, t)."""

    def check(records: pd.DataFrame, baselines: dict) -> Outcome:
        rows = _select(records, experiment, "accuracy")
        if rows.empty:
            return NOT_RUN
        gaps, seeds, cases, unpaired = [], [], [], []
        for (estimator, target), group in rows.groupby(["estimator", "target"]):
            pair = _common_seeds(
                {e: _per_seed(group[group["encoder"] == e]) for e in ("convnet", "mlp")}
            )
            case = f"{PAPER_ESTIMATOR_NAMES.get(estimator, estimator)}, t={target:g}"
            if pair is None:
                unpaired.append(case)
                continue
            gaps.append(pair["convnet"].mean() - pair["mlp"].mean())
            seeds.append(len(pair))
            cases.append(case)
        if not gaps:
            encoders = sorted(set(rows["encoder"]))
            return Outcome(
                (),
                "not run",
                f"needs both encoders on common seeds; stored: {', '.join(encoders)} only"
                if len(encoders) == 1
                else "",
            )
        note = "ConvNet minus MLP, per (estimator, t)"
        if unpaired:
            note += f"; not yet run with both encoders: {'; '.join(unpaired)}"
        return Outcome(
            tuple(gaps),
            _grade(min(gaps), 0.025),
            note,
            seeds=min(seeds),
            cases=tuple(cases),
        )

    return check


#: Paper §3 [T]: an MLP or ConvNet trained end to end with labels reaches about 94% on x_top.
SUPERVISED_REFERENCE = 0.94
SUPERVISED_EXPERIMENT = "supervised"


def _supervised_reference(records: pd.DataFrame, baselines: dict) -> Outcome:
    r"""Claim 11: both supervised encoders reach ≈94% (within 2 points) and are about equal.

    Reads the end-to-end test accuracy (metric ``classifier_accuracy``) of the ``supervised``
    experiment's two encoders (column ``encoder`` ∈ {mlp, convnet}). Verdict: ``reproduced`` if
    both final accuracies are within 0.02 of 0.94 *and* within 0.015 of each other;
    ``partially`` if only one of the two holds.
    """
    rows = _select(records, SUPERVISED_EXPERIMENT, "classifier_accuracy")
    if "encoder" not in rows:
        rows = rows.assign(encoder=pd.Series(dtype=object))
    acc = {name: _per_seed(rows[rows["encoder"] == name]) for name in ("mlp", "convnet")}
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
    verdict = (
        "reproduced" if near and equal else ("partially" if near or equal else "not reproduced")
    )
    return Outcome(
        (mlp, conv),
        verdict,
        "final end-to-end test accuracy",
        seeds=min(len(acc["mlp"]), len(acc["convnet"])),
        cases=("MLP", "ConvNet"),
    )


#: Score matrices for claim 13: (K, scale of the entries, shared encoder?). Large entries (scale
#: 30) test that both sides stay finite and agree where a naive exp would be far from 1.
_IDENTITY_CASES: tuple[tuple[int, float, bool], ...] = (
    (2, 1.0, False),
    (16, 1.0, False),
    (128, 1.0, False),
    (128, 30.0, False),
    (512, 5.0, False),
    (128, 1.0, True),
)


def _nce_kpair_identity(records: pd.DataFrame, baselines: dict) -> Outcome:
    r"""Claim 13: for every score matrix :math:`S` (K × K),

    .. math:: \log K + \frac1K\sum_i \big(S_{ii} - \operatorname{lse}_j S_{ij}\big)
              = \log K - \frac1K\sum_i \log\Big(1 + \sum_{j \ne i} e^{S_{ij} - S_{ii}}\Big),

    and with :math:`S = \Phi\Psi^\top` from one shared encoder the right side is
    :math:`\log K - L_{K\text{-pair-mc}}`. Checked in float64 on the fixed score matrices of
    ``_IDENTITY_CASES`` (random Gaussian entries; the shared case uses a linear encoder and inner
    products): the library's ``infonce`` against ``log K - k_pair_loss`` and against the literal
    right-hand side. Needs no records; ``reproduced`` when every difference is below 1e-9.
    """
    import torch

    from . import estimators

    gen = torch.Generator().manual_seed(13)
    diffs = []
    for k, scale, shared in _IDENTITY_CASES:
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


def _needs_cifar10(check: Check, experiment: str) -> Check:
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


def _e6_noniid(records: pd.DataFrame, baselines: dict) -> Outcome:
    from .synthetic import noniid_true_mi

    rows = _select(records, "noniid", "bound")
    if rows.empty:
        return NOT_RUN
    true_mi = noniid_true_mi()
    tail = rows[rows["step"] >= rows["step"].max() * 0.9]
    means = tail.groupby(["iid", "estimator"])["value"].mean()
    shared = {est: v for (iid, est), v in means.items() if not iid}
    iid = [v for (iid_, _), v in means.items() if iid_]
    if not shared or not iid:
        return NOT_RUN
    above = all(v > true_mi for v in shared.values())
    below = all(v <= true_mi + 0.01 for v in iid)
    verdict = (
        "reproduced" if above and below else ("partially" if above or below else "not reproduced")
    )
    return Outcome(
        tuple(shared.values()),
        verdict,
        f"non-i.i.d. estimates, mean over the last 10% of steps (true MI {true_mi:.4f})",
        seeds=int(tail.groupby(["iid", "estimator"])["seed"].nunique().min()),
        cases=tuple(PAPER_ESTIMATOR_NAMES.get(est, est) for est in shared),
    )


CLAIMS: tuple[Claim, ...] = (
    Claim(
        "1a",
        "bijective",
        "1b",
        "RealNVP + I_NCE: accuracy gain from step 0 to the end ≥ 2 points",
        "+3.4 points (0.862 → 0.896) [Fig]",
        _e1_gain("infonce"),
    ),
    Claim(
        "1b",
        "bijective",
        "1b",
        "RealNVP + I_NWJ: accuracy gain from step 0 to the end ≥ 2 points",
        "+2.8 points (0.862 → 0.890) [Fig]",
        _e1_gain("nwj"),
    ),
    Claim(
        "2",
        "bijective",
        "1b",
        "step-0 accuracy equals the pixel baseline within 1 point",
        "≈0.862 vs ≈0.85 [Fig, T]",
        _e1_start_at_pixels,
    ),
    Claim(
        "3",
        "bijective",
        "1a",
        "test I_NCE ≤ log K at every step",
        "≈4.75 ≤ log 128 = 4.85 [Fig, D]",
        _e1_nce_below_log_k,
    ),
    Claim(
        "4a",
        "adversarial",
        "1c",
        "adversarial encoder (paper's lr 1e-4 / 1e-6, shift-only couplings): accuracy drops "
        "≥ 25 points within 1k steps",
        "0.86 → 0.45 by 0.8k [Fig]",
        _e2_collapse("paper"),
    ),
    Claim(
        "4b",
        "adversarial",
        "1c",
        "the same with the official notebook's lr 1e-3 / 1e-5 (shift-only couplings)",
        "0.86 → 0.45 by 0.8k [Fig]",
        _e2_collapse("notebook lr"),
    ),
    Claim(
        "4c",
        "adversarial",
        "1c",
        "the same as the official notebook runs it: lr 1e-3 / 1e-5, affine couplings",
        "0.86 → 0.45 by 0.8k [Fig]",
        _e2_collapse("notebook"),
    ),
    Claim(
        "5a",
        "residual",
        "2c",
        "I_NCE: median log condition number grows from 0 (to ≈4.6)",
        "0 → ≈4.6 at 20k [Fig]",
        _e3_conditioning("infonce", 4.6),
    ),
    Claim(
        "5b",
        "residual",
        "5",
        "I_NWJ: median log condition number grows from 0 (to ≈3.4)",
        "0 → ≈3.4 at 20k [Fig]",
        _e3_conditioning("nwj", 3.4),
    ),
    Claim(
        "5c",
        "residual",
        "2a",
        "residual MLP: accuracy rises ≥ 2 points (≈0.84 → ≈0.88)",
        "+4 points [Fig]",
        _e3_accuracy,
    ),
    Claim(
        "6",
        "residual",
        "2c, 5",
        "final median log-condition larger with I_NCE than with I_NWJ",
        "≈4.6 vs ≈3.4 [Fig]",
        _e3_nce_worse_conditioned,
    ),
    Claim(
        "7a",
        "critic-capacity",
        "3a",
        "I_NCE: accuracy bilinear ≥ separable > concat",
        "0.880 / 0.877 / 0.856 [Fig]",
        _e4_ordering("infonce"),
    ),
    Claim(
        "7b",
        "critic-capacity",
        "3b",
        "I_NWJ: accuracy bilinear ≥ separable > concat",
        "0.870 / 0.866 / 0.855 [Fig]",
        _e4_ordering("nwj"),
    ),
    Claim(
        "8",
        "critic-capacity",
        "3c",
        "concat critic: higher test I_NWJ but lower accuracy than bilinear",
        "I_NWJ ≈6.2 vs ≈5.5 [Fig]",
        _tighter_bound_worse_accuracy(),
    ),
    Claim(
        "9",
        "critic-capacity",
        "6",
        "I_NCE: all critics end within 0.05 nats of each other",
        "≈4.72 / 4.72 / 4.70 [Fig]",
        _e4_nce_close,
    ),
    Claim(
        "10",
        "encoder-vs-estimator",
        "4a, 4b",
        "at matched I_EST = t, ConvNet beats MLP by ≥ 2.5 points for every (estimator, t)",
        "+3.6 to +4.5 points [Fig, D]",
        _convnet_beats_mlp(),
    ),
    Claim(
        "11",
        SUPERVISED_EXPERIMENT,
        "(§3 text)",
        "supervised references: MLP and ConvNet trained end to end on x_top both reach ≈94%",
        "≈0.94 for both [T]",
        _supervised_reference,
    ),
    Claim(
        "12",
        "noniid",
        "4c",
        "shared-Z batches: estimates exceed the true MI; i.i.d.: they do not",
        "I_NCE ≈0.18, I_NWJ ≈0.10 vs 0.0204 [Fig, D]",
        _e6_noniid,
    ),
    Claim(
        "13",
        "(none: a derivation)",
        "§4, App. C",
        "I_NCE = log K − L_K-pair-mc for every score matrix (shared encoder: Sohn's loss)",
        "exact identity [T]",
        _nce_kpair_identity,
    ),
    Claim(
        "14a",
        "critic-capacity-cifar",
        "8",
        "CIFAR-10, I_NCE: accuracy bilinear ≥ separable > concat (claim 7a)",
        "0.348 / 0.338 / 0.313 [Fig]",
        _needs_cifar10(_e4_ordering("infonce", "critic-capacity-cifar"), "critic-capacity-cifar"),
    ),
    Claim(
        "14b",
        "critic-capacity-cifar",
        "8",
        "CIFAR-10, I_NWJ: accuracy bilinear ≥ separable > concat (claim 7b)",
        "0.340 / 0.336 / 0.313 [Fig]",
        _needs_cifar10(_e4_ordering("nwj", "critic-capacity-cifar"), "critic-capacity-cifar"),
    ),
    Claim(
        "14c",
        "critic-capacity-cifar",
        "8",
        "CIFAR-10: concat critic has higher test I_NWJ but lower accuracy than bilinear (claim 8)",
        "I_NWJ ≈6.0–6.1 vs ≈3.0–3.2 [Fig]",
        _needs_cifar10(
            _tighter_bound_worse_accuracy("critic-capacity-cifar"), "critic-capacity-cifar"
        ),
    ),
    Claim(
        "14d",
        "encoder-vs-estimator-cifar",
        "9",
        "CIFAR-10, matched I_EST = t: ConvNet beats MLP by ≥ 2.5 points for every (estimator, t) "
        "(claim 10)",
        "≈0.39–0.415 vs ≈0.34 [Fig]",
        _needs_cifar10(
            _convnet_beats_mlp("encoder-vs-estimator-cifar"), "encoder-vs-estimator-cifar"
        ),
    ),
)


def evaluate_claims(
    records: pd.DataFrame, baselines: dict | None = None, claims: tuple[Claim, ...] = CLAIMS
) -> pd.DataFrame:
    """The ledger table: one row per claim with the paper's value, ours (mean ± sd over seeds, or
    one value per case where the claim compares cases, see :class:`Outcome`),
    the number of seeds, the profile(s) of the records, and the verdict."""
    baselines = dict(baselines or {})
    rows = []
    for claim in claims:
        outcome = claim.check(records, baselines)
        values = np.asarray(outcome.values, dtype=float)
        subset = _select(records, claim.experiment, "accuracy")
        if subset.empty:
            subset = _select(records, claim.experiment, "bound")
        profiles = sorted(subset["profile"].dropna().unique()) if "profile" in subset else []
        if outcome.verdict == "not run":
            n_seeds = 0
        elif outcome.seeds is not None:
            n_seeds = outcome.seeds
        else:
            n_seeds = int(subset["seed"].nunique()) if "seed" in subset and len(subset) else 0
        if values.size == 0:
            ours = "—"
        elif outcome.cases:
            ours = ", ".join(
                f"{case}: {v:+.3f}" for case, v in zip(outcome.cases, values, strict=True)
            )
        elif values.size == 1:
            ours = f"{values[0]:+.3f}"
        else:
            ours = f"{values.mean():+.3f} ± {values.std(ddof=1):.3f}"
        rows.append(
            {
                "claim": claim.id,
                "figure": claim.figure,
                "statement": claim.statement,
                "paper": claim.paper_value,
                "ours": ours,
                "what ours measures": outcome.note,
                "seeds": n_seeds,
                "profile": ", ".join(profiles) or "—",
                "verdict": outcome.verdict,
            }
        )
    return pd.DataFrame(rows)


def paper_profile_claims(
    *experiment_ids: str, baselines: dict | None = None, store: ResultsStore | None = None
) -> pd.DataFrame:
    """The claims about ``experiment_ids``, judged on their stored ``paper``-profile runs.

    What a chapter shows under "At the paper's settings": trains nothing, reads every stored seed
    of the experiments' current paper configs (:func:`mi_tutorial.experiments.stored_records`,
    ``store`` defaulting to the results folder); a claim without runs says ``not run``. Columns:
    claim, statement, paper, ours, seeds, what ours measures, verdict. Raises ``ValueError`` for an
    experiment no claim is about.
    """
    claims = tuple(claim for claim in CLAIMS if claim.experiment in experiment_ids)
    unknown = set(experiment_ids) - {claim.experiment for claim in claims}
    if unknown or not experiment_ids:
        known = {claim.experiment for claim in CLAIMS if not claim.experiment.startswith("(")}
        what = f"no claim of the ledger is about {sorted(unknown)}" if unknown else "no experiment"
        raise ValueError(f"{what}; experiments with claims: {', '.join(sorted(known))}.")
    records = stored_records("paper", store, experiment_ids)
    table = evaluate_claims(records, baselines, claims)
    return table[["claim", "statement", "paper", "ours", "seeds", "what ours measures", "verdict"]]


def compute_baselines(profile: str, root=None) -> dict[str, float]:
    """The reference values the checks compare with, for records of ``profile``.

    ``{"pixel": a}``, where ``a`` is the linear-probe test accuracy on the raw MNIST top halves
    (the paper's ≈0.85 [T]; :func:`mi_tutorial.evaluation.pixel_baseline`), at the ``book`` and
    ``paper`` profiles, which train on MNIST; claim 2 compares the step-0 accuracy with it. At the
    ``smoke`` profile the runs use sklearn's digits, where no baseline of the paper applies: ``{}``.
    ``root``: the MNIST data root (default ``$MI_TUTORIAL_DATA``). Raises
    :class:`mi_tutorial.data.DataError` if MNIST is missing and cannot be fetched.
    """
    from ._validation import choose
    from .config import PROFILES

    if choose(profile, PROFILES, "profile") == "smoke":
        return {}
    from .data import load_views
    from .evaluation import pixel_baseline

    return {"pixel": pixel_baseline(load_views("train", root), load_views("test", root))}


def _markdown_cell(value) -> str:
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def ledger_markdown(table: pd.DataFrame, title: str | None = None, preamble: str = "") -> str:
    """The ledger ``table`` (from :func:`evaluate_claims`) as a GitHub-flavoured Markdown table,
    preceded by an optional ``# title`` and ``preamble`` paragraph and followed by the counts of
    each verdict. Pipes in cells are escaped."""
    lines = []
    if title:
        lines += [f"# {title}", ""]
    if preamble:
        lines += [preamble, ""]
    columns = list(table.columns)
    lines.append("| " + " | ".join(_markdown_cell(c) for c in columns) + " |")
    lines.append("|" + "|".join("---" for _ in columns) + "|")
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(_markdown_cell(v) for v in row) + " |")
    if "verdict" in table:
        counts = table["verdict"].value_counts()
        lines += ["", ", ".join(f"{int(counts.get(v, 0))} {v}" for v in VERDICTS) + "."]
    return "\n".join(lines) + "\n"


#: Values read off the paper's figures ([Fig] in the project's paper spec, about ±0.002 accuracy
#: and ±0.1 nats), as (experiment, metric, config filter, [(step, value), ...]). Used to overlay the
#: paper's curves on ours; they are the paper's numbers, not results of this project.
PAPER_POINTS: tuple[tuple[str, str, dict, tuple[tuple[int, float], ...]], ...] = (
    (
        "bijective",
        "accuracy",
        {"estimator": "infonce"},
        ((0, 0.862), (1000, 0.872), (5000, 0.889), (10000, 0.892), (20000, 0.896)),
    ),
    (
        "bijective",
        "accuracy",
        {"estimator": "nwj"},
        ((0, 0.862), (1000, 0.866), (5000, 0.879), (10000, 0.883), (20000, 0.890)),
    ),
    (
        "bijective",
        "bound",
        {"estimator": "infonce"},
        ((0, -1.3), (1000, 4.4), (5000, 4.7), (10000, 4.75), (20000, 4.75)),
    ),
    (
        "bijective",
        "bound",
        {"estimator": "nwj"},
        ((1000, 3.5), (5000, 4.8), (10000, 5.0), (20000, 5.7)),
    ),
    (
        "adversarial",
        "accuracy",
        {},
        (
            (0, 0.86),
            (400, 0.77),
            (800, 0.45),
            (1200, 0.46),
            (1600, 0.51),
            (2000, 0.46),
            (2400, 0.41),
            (2800, 0.555),
            (3200, 0.50),
            (3600, 0.48),
            (4000, 0.48),
        ),
    ),
    (
        "residual",
        "accuracy",
        {"estimator": "infonce"},
        ((0, 0.840), (1000, 0.869), (3000, 0.879), (20000, 0.880)),
    ),
    (
        "residual",
        "accuracy",
        {"estimator": "nwj"},
        ((0, 0.840), (1000, 0.860), (5000, 0.874), (10000, 0.880), (20000, 0.878)),
    ),
    (
        "critic-capacity",
        "accuracy",
        {"critic": "bilinear", "estimator": "infonce"},
        ((0, 0.80), (1000, 0.855), (20000, 0.880)),
    ),
    (
        "critic-capacity",
        "accuracy",
        {"critic": "separable", "estimator": "infonce"},
        ((0, 0.80), (1000, 0.851), (20000, 0.877)),
    ),
    (
        "critic-capacity",
        "accuracy",
        {"critic": "concat", "estimator": "infonce"},
        ((0, 0.80), (1000, 0.815), (20000, 0.856)),
    ),
    (
        "critic-capacity",
        "accuracy",
        {"critic": "bilinear", "estimator": "nwj"},
        ((0, 0.80), (20000, 0.870)),
    ),
    (
        "critic-capacity",
        "accuracy",
        {"critic": "separable", "estimator": "nwj"},
        ((0, 0.80), (20000, 0.866)),
    ),
    (
        "critic-capacity",
        "accuracy",
        {"critic": "concat", "estimator": "nwj"},
        ((0, 0.80), (20000, 0.855)),
    ),
    (
        "encoder-vs-estimator",
        "accuracy",
        {"encoder": "convnet", "target": 4.0, "estimator": "infonce"},
        ((0, 0.82), (1000, 0.890), (20000, 0.906)),
    ),
    (
        "encoder-vs-estimator",
        "accuracy",
        {"encoder": "convnet", "target": 2.0, "estimator": "infonce"},
        ((0, 0.82), (20000, 0.895)),
    ),
    (
        "encoder-vs-estimator",
        "accuracy",
        {"encoder": "mlp", "target": 4.0, "estimator": "infonce"},
        ((0, 0.80), (20000, 0.870)),
    ),
    (
        "encoder-vs-estimator",
        "accuracy",
        {"encoder": "mlp", "target": 2.0, "estimator": "infonce"},
        ((0, 0.80), (20000, 0.850)),
    ),
    ("noniid", "bound", {"iid": False, "estimator": "infonce"}, ((1000, 0.14), (18000, 0.21))),
    ("noniid", "bound", {"iid": False, "estimator": "nwj"}, ((5000, 0.08), (20000, 0.11))),
    ("noniid", "bound", {"iid": True, "estimator": "infonce"}, ((1000, 0.02), (20000, 0.02))),
    ("noniid", "bound", {"iid": True, "estimator": "nwj"}, ((2000, 0.02), (20000, 0.02))),
)


def paper_points(experiment: str, metric: str) -> list[tuple[dict, tuple[tuple[int, float], ...]]]:
    """The paper's read-off points for one experiment and metric, with their config filters."""
    return [
        (where, pts) for exp, met, where, pts in PAPER_POINTS if exp == experiment and met == metric
    ]
