"""The ledger and the coverage table as plain text for a terminal (``mi-tutorial report``)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from .ledger import split_checks, verdict_counts

#: Columns of the ledger printed in the terminal as a table (the files hold every column).
LEDGER_COLUMNS = ("claim", "verdict", "seeds", "ours", "paper", "statement")
COVERAGE_COLUMNS = ("experiment", "stored", "in progress", "hours", "est. hours left", "command")


def text_table(rows: list[list[str]], header: Sequence[str]) -> str:
    """Left-aligned plain-text columns separated by two spaces."""
    widths = [max(len(str(h)), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    lines = [list(header), *rows]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def ledger_text(table: pd.DataFrame) -> str:
    """The claims, the checks apart, what each 'ours' measures, and the verdict counts."""
    claims, checks = split_checks(table)
    parts = []
    for heading, part in (
        ("", claims),
        ("checks (hold by construction or algebra; not counted as reproductions):\n", checks),
    ):
        rows = [[str(v) for v in row] for row in part[list(LEDGER_COLUMNS)].itertuples(index=False)]
        parts.append(heading + text_table(rows, LEDGER_COLUMNS))
    notes = [(c, n) for c, n in zip(table["claim"], table["what ours measures"], strict=True) if n]
    if notes:
        parts.append(
            "what 'ours' measures / why not run:\n"
            + "\n".join(f"  {claim:<4} {note}" for claim, note in notes)
        )
    parts.append(verdict_counts(claims))
    return "\n\n".join(parts)


def coverage_text(table: pd.DataFrame) -> str:
    """:func:`mi_tutorial.report.coverage.coverage`'s table for a terminal."""
    rows = [
        [
            f"{r['code']} {r['experiment']}",
            f"{r['stored']}/{r['stored'] + r['missing']}",
            r["in progress"] or "-",
            f"{r['hours stored']:.2f}",
            "unknown" if math.isnan(r["est. hours missing"]) else f"{r['est. hours missing']:.1f}",
            r["command"] or "-",
        ]
        for _, r in table.iterrows()
    ]
    return text_table(rows, COVERAGE_COLUMNS)
