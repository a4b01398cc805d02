"""The reproduction's findings in a few lines: the front page's summary of the claims ledger.

Pure functions, from the ledger table of :func:`mi_tutorial.report.ledger.evaluate_claims` (one
row per claim, with its ``kind`` and ``verdict``) to MyST Markdown lines. Only rows of kind
``claim`` are counted; ``check`` rows hold by construction for a correct implementation and are
never reproductions (see :data:`mi_tutorial.paper.claims.KINDS`).

Each claim links to its *evidence*: the section of a chapter that shows the claim's table. Which
section that is the caller decides (the book's Sphinx extension finds the chapters that call
:func:`~mi_tutorial.report.ledger.paper_profile_claims`; :func:`experiments_shown` reads such a
call); here a claim only names a cross-reference label, or the fallback label of the full ledger.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping

import pandas as pd

#: The name of the call a chapter uses to show the paper-profile claims of its experiments.
EVIDENCE_CALL = "paper_profile_claims"
_CALL_PATTERN = re.compile(rf"{EVIDENCE_CALL}\s*\(([^)]*)\)")
_STRING_ARGUMENT = re.compile(r"""\s*(["'])([\w.-]+)\1\s*""")
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]<>|{}$#])")


def evidence_label(experiment: str) -> str:
    """The cross-reference label of the section that shows ``experiment``'s paper-profile claims,
    e.g. ``claims-evidence-critic-capacity``."""
    return f"claims-evidence-{experiment}"


def experiments_shown(code: str) -> tuple[str, ...]:
    """The experiment ids passed as string literals to ``paper_profile_claims(...)`` in ``code``
    (a chapter's code cell), in order of appearance, without repeats.

    Keyword arguments (``baselines=...``) are not experiments. Code that is not valid Python (an
    IPython magic) is read with a regular expression instead of the parser.
    """
    found: list[str] = []
    try:
        tree = ast.parse(code)
    except SyntaxError:
        for arguments in _CALL_PATTERN.findall(code):
            matches = (_STRING_ARGUMENT.fullmatch(part) for part in arguments.split(","))
            found += [match[2] for match in matches if match]
    else:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", None))
            if name == EVIDENCE_CALL:
                found += [
                    arg.value
                    for arg in node.args
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                ]
    return tuple(dict.fromkeys(found))


def escape_markdown(text: str) -> str:
    """``text`` with Markdown's and MyST's special characters escaped, so it renders verbatim."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", str(text))


def _reference(label: str) -> str:
    return f"{{ref}}`{label}`"


def _claims_with_links(rows: pd.DataFrame, labels: Mapping[str, str], fallback: str) -> str:
    """``1a, 1b (link); 5a (link)``: the claim ids of ``rows``, grouped by their evidence."""
    groups: dict[str, list[str]] = {}
    for claim in rows["claim"]:
        groups.setdefault(labels.get(claim, fallback), []).append(str(claim))
    return "; ".join(f"{', '.join(ids)} ({_reference(label)})" for label, ids in groups.items())


def _named_claims(rows: pd.DataFrame, labels: Mapping[str, str], fallback: str) -> str:
    """Each claim of ``rows`` with its statement and the link to its evidence."""
    return "; ".join(
        f"claim {row.claim}, *{escape_markdown(row.statement)}* "
        f"({_reference(labels.get(row.claim, fallback))})"
        for row in rows.itertuples(index=False)
    )


def _count(n: int, singular: str, plural: str) -> str:
    return f"{n} {singular if n == 1 else plural}"


def findings_lines(
    table: pd.DataFrame,
    labels: Mapping[str, str],
    fallback: str,
    runs: str = "the runs at the paper's settings committed to this repository",
) -> list[str]:
    """The findings as MyST Markdown lines: how many claims reproduce, which do not, and where.

    ``table``: the ledger (columns ``kind``, ``claim``, ``statement``, ``verdict``; rows of kind
    ``check`` are left out). ``labels``: claim id -> the cross-reference label of the section
    showing its evidence; a claim without one links to ``fallback`` (the full ledger). ``runs``:
    what the verdicts were judged on, for the opening sentence. Claims that reproduce are listed
    by id; those that reproduce partially or not at all are named with their statements; claims
    without runs are counted apart and never in the denominator. Returns an admonition block.
    """
    missing = {"claim", "statement", "verdict"} - set(table.columns)
    if missing:
        raise ValueError(f"the ledger table lacks the columns {sorted(missing)}")
    claims = table[table["kind"] == "claim"] if "kind" in table else table
    decided = claims[claims["verdict"] != "not run"]
    by_verdict = {v: decided[decided["verdict"] == v] for v in ("reproduced", "partially")}
    failed = decided[decided["verdict"] == "not reproduced"]
    not_run = claims[claims["verdict"] == "not run"]
    n_checks = len(table) - len(claims)

    lines = [":::{admonition} The reproduction in brief", ":class: tip", ""]
    if decided.empty:
        lines += [
            f"None of the paper's {_count(len(claims), 'claim', 'claims')} has been judged yet: "
            f"{runs} decide none of them. The ledger is in {_reference(fallback)}.",
            ":::",
        ]
        return lines
    reproduced, partial = by_verdict["reproduced"], by_verdict["partially"]
    lines += [
        f"Judged on {runs}, **{len(reproduced)} of the {len(decided)} claims** of the paper that "
        f"those runs decide reproduce"
        + (
            f" ({_count(n_checks, 'check', 'checks')} of the implementation not counted)."
            if n_checks
            else "."
        ),
        "",
    ]
    if not reproduced.empty:
        lines.append(f"- **Reproduced**: {_claims_with_links(reproduced, labels, fallback)}.")
    if not partial.empty:
        lines.append(
            f"- **Partially reproduced** ({len(partial)}; the effect points the paper's way but "
            f"is weaker than its tolerance): {_named_claims(partial, labels, fallback)}."
        )
    if not failed.empty:
        lines.append(
            f"- **Not reproduced** ({len(failed)}): {_named_claims(failed, labels, fallback)}."
        )
    else:
        lines.append("- **Not reproduced**: none.")
    if not not_run.empty:
        lines.append(
            f"- **Not run yet** ({_count(len(not_run), 'claim', 'claims')} without committed "
            f"runs): {_claims_with_links(not_run, labels, fallback)}."
        )
    lines += [
        "",
        f"Every claim, with the paper's value and ours, is in {_reference(fallback)}.",
        ":::",
    ]
    return lines


def claim_labels(
    claim_experiments: Iterable[tuple[str, str]], shown: Iterable[str]
) -> dict[str, str]:
    """Claim id -> evidence label, for the claims whose experiment a chapter shows.

    ``claim_experiments``: (claim id, experiment id) pairs; ``shown``: the experiment ids for which
    a chapter section exists (e.g. from :func:`experiments_shown` over the chapters' code).
    """
    shown = set(shown)
    return {
        claim: evidence_label(experiment)
        for claim, experiment in claim_experiments
        if experiment in shown
    }
