"""The front page's findings: counts, names and links generated from small fake ledgers."""

from __future__ import annotations

import pandas as pd
import pytest

from mi_tutorial.report.findings import (
    claim_labels,
    escape_markdown,
    evidence_label,
    experiments_shown,
    findings_lines,
)

LEDGER = "claims-ledger"


def ledger(*rows: tuple[str, str, str, str]) -> pd.DataFrame:
    """A ledger table from (kind, claim, statement, verdict) rows."""
    return pd.DataFrame(rows, columns=["kind", "claim", "statement", "verdict"])


def body(lines: list[str]) -> str:
    return "\n".join(lines)


def test_counts_only_claims_and_names_the_failures_with_links():
    table = ledger(
        ("claim", "1a", "gain ≥ 2 points", "reproduced"),
        ("claim", "1b", "bound above 4.5", "reproduced"),
        ("check", "3", "I_NCE ≤ log K", "reproduced"),
        ("claim", "2", "step 0 equals pixels", "not reproduced"),
        ("claim", "7a", "bilinear ≥ separable", "partially"),
        ("claim", "14a", "CIFAR-10 ordering", "not run"),
    )
    labels = {"1a": "ev-a", "1b": "ev-a", "2": "ev-a", "7a": "ev-b"}
    text = body(findings_lines(table, labels, LEDGER, runs="five runs"))
    # 2 of the 4 decided claims; the check and the claim without runs are not in the count
    assert "**2 of the 4 claims**" in text
    assert "1 check of the implementation not counted" in text
    assert "- **Reproduced**: 1a, 1b ({ref}`ev-a`)." in text
    assert "**Not reproduced** (1): claim 2, *step 0 equals pixels* ({ref}`ev-a`)" in text
    assert "**Partially reproduced** (1" in text and "claim 7a" in text and "{ref}`ev-b`" in text
    # a claim without a chapter links to the full ledger; the check is listed nowhere
    assert "14a ({ref}`claims-ledger`)" in text
    assert "3 (" not in text and "claim 3" not in text
    assert text.startswith(":::{admonition}") and text.endswith(":::")


def test_no_failure_says_none_and_groups_links_by_evidence():
    table = ledger(
        ("claim", "5a", "s", "reproduced"),
        ("claim", "7a", "s", "reproduced"),
        ("claim", "5b", "s", "reproduced"),
    )
    text = body(findings_lines(table, {"5a": "ev-r", "5b": "ev-r", "7a": "ev-c"}, LEDGER))
    assert "**3 of the 3 claims**" in text
    assert "5a, 5b ({ref}`ev-r`); 7a ({ref}`ev-c`)" in text
    assert "**Not reproduced**: none." in text
    assert "Not run yet" not in text and "not counted" not in text


def test_nothing_decided_says_so_instead_of_counting():
    table = ledger(("claim", "1a", "s", "not run"), ("claim", "1b", "s", "not run"))
    text = body(findings_lines(table, {}, LEDGER, runs="no runs"))
    assert "None of the paper's 2 claims has been judged yet" in text
    assert "Reproduced" not in text and "{ref}`claims-ledger`" in text


def test_statements_are_escaped_and_bad_tables_rejected():
    table = ledger(("claim", "9", "a *bold* [link] $x$ | pipe_", "not reproduced"))
    text = body(findings_lines(table, {}, LEDGER))
    assert r"a \*bold\* \[link\] \$x\$ \| pipe\_" in text
    assert escape_markdown("plain 1.0") == "plain 1.0"
    with pytest.raises(ValueError, match="verdict"):
        findings_lines(pd.DataFrame({"claim": ["1"], "statement": ["s"]}), {}, LEDGER)


def test_experiments_shown_reads_literal_arguments_only():
    code = (
        "e5 = ledger.paper_profile_claims('encoder-vs-estimator', \"supervised\")\n"
        "other = paper_profile_claims(name, baselines={'pixel': 0.85})\n"
        "ledger.paper_profile_claims('noniid').style.hide(axis='index')\n"
        "ledger.evaluate_claims(records, 'bijective')\n"
    )
    assert experiments_shown(code) == ("encoder-vs-estimator", "supervised", "noniid")
    # a magic makes the cell invalid Python: the call is still found, keywords still skipped
    magic = "%matplotlib inline\nledger.paper_profile_claims('residual', baselines = 'x')"
    assert experiments_shown(magic) == ("residual",)
    assert experiments_shown("print('paper_profile_claims')") == ()


def test_claim_labels_link_only_the_experiments_a_chapter_shows():
    pairs = [("1a", "bijective"), ("4a", "adversarial"), ("14a", "critic-capacity-cifar")]
    labels = claim_labels(pairs, shown={"bijective", "adversarial"})
    assert labels == {"1a": evidence_label("bijective"), "4a": evidence_label("adversarial")}
    assert evidence_label("critic-capacity") == "claims-evidence-critic-capacity"


def test_the_book_extension_finds_the_chapters_that_show_evidence(tmp_path, monkeypatch):
    """book/_ext/reproduction_findings.py reads the chapters of _toc.yml, skipping removed cells."""
    import json
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "book" / "_ext"))
    import reproduction_findings

    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: index\nchapters:\n  - file: book/05_x\n  - file: book/06_y\n"
    )
    (tmp_path / "book").mkdir()

    def cell(source: str, *tags: str) -> dict:
        return {"cell_type": "code", "metadata": {"tags": list(tags)}, "source": [source]}

    cells = [
        cell("ledger.paper_profile_claims('residual')", "hide-input"),
        cell("ledger.paper_profile_claims('noniid')", "remove-cell"),
        cell("ledger.paper_profile_claims('bijective')", "remove-input", "remove-output"),
        {"cell_type": "markdown", "metadata": {}, "source": "paper_profile_claims('adversarial')"},
    ]
    (tmp_path / "book" / "05_x.ipynb").write_text(json.dumps({"cells": cells}))
    # a notebook outside the table of contents is not a chapter
    (tmp_path / "book" / "07_z.ipynb").write_text(
        json.dumps({"cells": [cell("paper_profile_claims('critic-capacity')")]})
    )
    assert reproduction_findings.chapter_notebooks(tmp_path) == [tmp_path / "book" / "05_x.ipynb"]
    assert reproduction_findings.experiments_in_chapters(tmp_path) == {"residual"}
