"""The claims ledger: the paper's testable claims, checked against our stored records.

The claims live with their experiments in :mod:`mi_tutorial.paper` (``paper.CLAIMS``, see
:mod:`mi_tutorial.paper.claims` for what a claim, a check and a verdict are).
:func:`evaluate_claims` runs every check and returns the ledger table — generated, never typed.

Every claim of §4 of the project's paper spec has a row: 1–12 on MNIST and the synthetic data,
13 (the InfoNCE / K-pair identity, checked by computation on score matrices, needs no records) and
14 (the CIFAR-10 appendix: claims 7, 8 and 10 on the runs of ``critic-capacity-cifar`` and
``encoder-vs-estimator-cifar``). Claim 11 (supervised references) reads the ``supervised``
experiment. :func:`compute_baselines` gives the
reference values the checks compare with, :func:`ledger_markdown` the table as Markdown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..paper import CLAIMS, VERDICTS, Claim, Outcome, stored_records
from ..paper.claims import select, variant_note
from ..runs import ResultsStore

#: The columns of :func:`paper_profile_claims`, the table a chapter shows.
CHAPTER_COLUMNS = ["claim", "statement", "paper", "ours", "seeds", "what ours measures", "verdict"]


def _ours(outcome: Outcome) -> str:
    """Our value as the ledger prints it: one value, one per case, or mean ± sd over seeds."""
    values = np.asarray(outcome.values, dtype=float)
    if values.size == 0:
        return "—"
    if outcome.cases:
        return ", ".join(f"{case}: {v:+.3f}" for case, v in zip(outcome.cases, values, strict=True))
    if values.size == 1:
        return f"{values[0]:+.3f}"
    return f"{values.mean():+.3f} ± {values.std(ddof=1):.3f}"


def ledger_row(claim: Claim, records: pd.DataFrame, baselines: dict) -> dict:
    """One row of the ledger: ``claim`` checked on ``records``, with the seeds and profile(s)."""
    outcome = claim.check(records, baselines)
    subset = select(records, claim.experiment, "accuracy")
    if subset.empty:
        subset = select(records, claim.experiment, "bound")
    profiles = sorted(subset["profile"].dropna().unique()) if "profile" in subset else []
    if outcome.verdict == "not run":
        n_seeds = 0
    elif outcome.seeds is not None:
        n_seeds = outcome.seeds
    else:
        n_seeds = int(subset["seed"].nunique()) if "seed" in subset and len(subset) else 0
    note = outcome.note
    variant = outcome.variant if outcome.variant is not None else variant_note(subset)
    if variant and outcome.verdict != "not run":
        note = f"{note}; {variant}".lstrip("; ")
    return {
        "kind": claim.kind,
        "claim": claim.id,
        "figure": claim.figure,
        "statement": claim.statement,
        "paper": claim.paper_value,
        "ours": _ours(outcome),
        "what ours measures": note,
        "seeds": n_seeds,
        "profile": ", ".join(profiles) or "—",
        "verdict": outcome.verdict,
    }


def evaluate_claims(
    records: pd.DataFrame, baselines: dict | None = None, claims: tuple[Claim, ...] = CLAIMS
) -> pd.DataFrame:
    """The ledger table: one row per claim with the paper's value, ours (mean ± sd over seeds, or
    one value per case where the claim compares cases, see :class:`~mi_tutorial.paper.Outcome`),
    the number of seeds, the profile(s) of the records, and the verdict."""
    baselines = dict(baselines or {})
    return pd.DataFrame([ledger_row(claim, records, baselines) for claim in claims])


def paper_profile_claims(
    *experiment_ids: str, baselines: dict | None = None, store: ResultsStore | None = None
) -> pd.DataFrame:
    """The claims about ``experiment_ids``, judged on their stored ``paper``-profile runs.

    What a chapter shows under "At the paper's settings": trains nothing, reads every stored seed
    of the experiments' current paper configs (:func:`mi_tutorial.paper.stored_records`,
    ``store`` defaulting to the results folder); a claim without runs says ``not run``. Columns:
    claim, statement, paper, ours, seeds, what ours measures, verdict (sanity checks, see
    :data:`~mi_tutorial.paper.claims.KINDS`, are left out). Raises ``ValueError`` for an
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
    return table[table["kind"] == "claim"][CHAPTER_COLUMNS].reset_index(drop=True)


def compute_baselines(profile: str, root=None) -> dict[str, float]:
    """The reference values the checks compare with, for records of ``profile``.

    ``{"pixel": a}``, where ``a`` is the linear-probe test accuracy on the raw MNIST top halves
    (the paper's ≈0.85 [T]; :func:`mi_tutorial.evaluation.pixel_baseline`), at the ``book`` and
    ``paper`` profiles, which train on MNIST; claim 2 compares the step-0 accuracy with it. At the
    ``smoke`` profile the runs use sklearn's digits, where no baseline of the paper applies: ``{}``.
    ``root``: the MNIST data root (default ``$MI_TUTORIAL_DATA``). Raises
    :class:`mi_tutorial.data.DataError` if MNIST is missing and cannot be fetched.
    """
    from .._validation import choose
    from ..config import PROFILES

    if choose(profile, PROFILES, "profile") == "smoke":
        return {}
    from ..data import load_views
    from ..evaluation import pixel_baseline

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
    claims, checks = split_checks(table)
    lines += _markdown_rows(claims)
    if "verdict" in claims:
        lines += ["", verdict_counts(claims)]
    if not checks.empty:
        lines += [
            "",
            "Checks (hold by construction or algebra for a correct implementation; not counted "
            "as reproductions):",
            "",
            *_markdown_rows(checks),
        ]
    return "\n".join(lines) + "\n"


def split_checks(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the claims, the sanity checks) of a ledger table, without the ``kind`` column."""
    if "kind" not in table:
        return table, table.iloc[0:0]
    is_check = table["kind"] == "check"
    return (
        table[~is_check].drop(columns="kind").reset_index(drop=True),
        table[is_check].drop(columns="kind").reset_index(drop=True),
    )


def verdict_counts(claims: pd.DataFrame) -> str:
    """ "14 reproduced, 3 partially, …" over the claims of a table (checks left out)."""
    counts = claims["verdict"].value_counts()
    return ", ".join(f"{int(counts.get(v, 0))} {v}" for v in VERDICTS) + "."


def _markdown_rows(table: pd.DataFrame) -> list[str]:
    columns = list(table.columns)
    lines = ["| " + " | ".join(_markdown_cell(c) for c in columns) + " |"]
    lines.append("|" + "|".join("---" for _ in columns) + "|")
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(_markdown_cell(v) for v in row) + " |")
    return lines
