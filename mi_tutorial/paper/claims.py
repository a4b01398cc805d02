"""The vocabulary of the claims ledger: claims, outcomes, verdicts and the helpers checks share.

Each :class:`Claim` carries the paper's statement, figure, value (with its source tag from the
project's paper spec: [T] text, [Fig] read off a figure, [D] derived) and a *check*: a function of
the tidy records (see :mod:`mi_tutorial.training`) that returns our value (one number per seed) and a
verdict. Verdicts:

* ``reproduced`` — our mean meets the paper's claim within the stated tolerance;
* ``partially`` — the effect points the paper's way but is weaker than the tolerance asks;
* ``not reproduced`` — the effect is absent or reversed;
* ``not run`` — the records needed for the check are missing (e.g. an experiment not yet run at
  this profile, or a baseline that was not computed).

The claims themselves live with their experiments (one module per experiment in
:mod:`mi_tutorial.paper`); :func:`mi_tutorial.report.ledger.evaluate_claims` runs them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

VERDICTS = ("reproduced", "partially", "not reproduced", "not run")
#: A ``claim`` is something the paper found that could have come out otherwise; a ``check`` holds
#: by construction or algebra for a correct implementation (e.g. I_NCE ≤ log K for any score
#: matrix). Checks are shown apart and never counted as reproductions.
KINDS = ("claim", "check")

#: The two MI-bound quantities a run records. ``train_bound`` (the mean bound over the training
#: batches since the previous evaluation) is what the official notebook reports as its "test" bound
#: (its ``get_testing_loss`` reads the training iterator; paper spec §5.4, §7), so a value read off
#: the paper's figures is compared with it; ``bound`` is the bound on the held-out test set, shown
#: beside it.
PAPER_BOUND, HELD_OUT_BOUND = "train_bound", "bound"


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
    #: Which of the claim's own runs are of an earlier version (:func:`variant_note` of them);
    #: None: the check does not say, and the ledger describes the experiment's runs instead.
    variant: str | None = None

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")
        if self.cases and len(self.cases) != len(self.values):
            raise ValueError(
                f"{len(self.cases)} case labels for {len(self.values)} values: give one per value."
            )


NOT_RUN = Outcome((), "not run")
#: A claim's check: (tidy records, baselines such as ``{"pixel": 0.85}``) -> our outcome.
Check = Callable[[pd.DataFrame, dict], Outcome]


@dataclass(frozen=True)
class Claim:
    """One testable claim of the paper: where it is, what it says, the paper's number, our check."""

    id: str
    experiment: str
    figure: str
    statement: str
    paper_value: str  #: the paper's number(s) with their source tag
    check: Check
    kind: str = "claim"  #: see :data:`KINDS`

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")


def claim_order(claim: Claim) -> tuple[int, str]:
    """Sort key of a claim id as the paper spec numbers them: "2" < "4a" < "4b" < "10"."""
    number, suffix = re.fullmatch(r"(\d+)(\D*)", claim.id).groups()
    return int(number), suffix


def estimator_name(estimator: str) -> str:
    """The paper's name of an estimator ("I_NCE", "I_NWJ"), else the id itself.

    Imported on call: :mod:`mi_tutorial.estimators` imports torch, which listing the experiments
    does not need.
    """
    from ..estimators import PAPER_ESTIMATOR_NAMES

    return PAPER_ESTIMATOR_NAMES.get(estimator, estimator)


# ---------------------------------------------------------------------------- selecting records
def select(records: pd.DataFrame, experiment: str, metric: str, **where) -> pd.DataFrame:
    """The rows of ``metric`` of ``experiment`` whose columns equal ``where`` (None: missing)."""
    if records.empty or not {"experiment", "metric"} <= set(records.columns):
        return pd.DataFrame(columns=["seed", "step", "value"])
    rows = records[(records["experiment"] == experiment) & (records["metric"] == metric)]
    for column, value in where.items():
        if column not in rows:
            return rows.iloc[0:0]
        rows = rows[rows[column].isna()] if value is None else rows[rows[column] == value]
    return rows


def variant_note(records: pd.DataFrame) -> str:
    """Which of ``records`` are runs of an earlier version of their configs (the ``variant``
    column of :func:`mi_tutorial.paper.stored_records`): ``""`` if none, ``"runs of <variant>"``
    if all, else the same for how many of the configurations."""
    if "variant" not in records or not records["variant"].notna().any():
        return ""
    earlier = records["variant"].notna()
    label = records.loc[earlier, "variant"].iloc[0]
    old, total = records.loc[earlier, "config_key"].nunique(), records["config_key"].nunique()
    return f"runs of {label}" + ("" if old == total else f" for {old} of {total} configurations")


def per_seed(rows: pd.DataFrame, step: str | int = "last") -> pd.Series:
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


def median_per_seed(rows: pd.DataFrame, step: str) -> pd.Series:
    """The median per seed of a per-sample metric at the ``"first"`` or ``"last"`` step."""
    if rows.empty:
        return pd.Series(dtype=float)
    pick = "max" if step == "last" else "min"
    rows = rows[rows["step"] == rows.groupby("seed")["step"].transform(pick)]
    return rows.groupby("seed")["value"].median()


def common_seeds(series: dict[str, pd.Series]) -> pd.DataFrame | None:
    """The per-seed series side by side, on the seeds that all of them have (a sweep may be
    half done); None if there is no such seed."""
    table = pd.concat(series, axis=1).dropna()
    return None if table.empty else table


# ---------------------------------------------------------------------------------- grading
def grade(value: float, full: float, partial: float = 0.0) -> str:
    """``reproduced`` if value ≥ full, ``partially`` if value > partial, else ``not reproduced``."""
    if value >= full:
        return "reproduced"
    return "partially" if value > partial else "not reproduced"


def both_or_either(first: bool, second: bool) -> str:
    """``reproduced`` if both conditions hold, ``partially`` if one does, else ``not
    reproduced``."""
    if first and second:
        return "reproduced"
    return "partially" if first or second else "not reproduced"


def mean_text(values: pd.Series) -> str:
    """``0.123`` for one value, ``0.123 ± 0.004`` (SD over seeds) for several, ``—`` for none."""
    values = values.dropna()
    if values.empty:
        return "—"
    if len(values) == 1:
        return f"{values.iloc[0]:.3f}"
    return f"{values.mean():.3f} ± {values.std(ddof=1):.3f}"


def held_out_note(compared: str, held_out: pd.Series) -> str:
    """The note of a bound claim: which quantity the verdict compares, and the held-out one."""
    return (
        f"{compared} on training batches (the notebook's quantity, compared with the paper); "
        f"on the held-out test set: {mean_text(held_out)}"
    )
