"""Tests for mi_tutorial.report.against_paper: the chapters' tables and plots against the paper."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from mi_tutorial import paper  # noqa: E402
from mi_tutorial.report import against_paper  # noqa: E402


def records(rows: list[tuple[str, int, int, str, float]], **columns) -> pd.DataFrame:
    """Tidy records from (estimator, seed, step, metric, value) tuples."""
    frame = pd.DataFrame(rows, columns=["estimator", "seed", "step", "metric", "value"])
    return frame.assign(config_key=frame["estimator"], profile="book", **columns)


def test_curve_averages_seeds_and_reports_a_non_finite_step_as_nan():
    recs = records(
        [
            ("infonce", 0, 0, "accuracy", 0.80),
            ("infonce", 1, 0, "accuracy", 0.90),
            ("infonce", 0, 10, "accuracy", math.nan),
            ("infonce", 1, 10, "accuracy", 0.95),
        ]
    )
    values = against_paper.curve(recs, "accuracy", estimator="infonce")
    assert values[0] == pytest.approx(0.85)
    assert math.isnan(values[10])  # never averaged in
    assert against_paper.change(values) == ("diverged", pytest.approx(math.nan, nan_ok=True))


@pytest.mark.parametrize(
    ("first", "last", "word"),
    [(0.80, 0.85, "rose"), (0.85, 0.80, "fell"), (0.85, 0.851, "stayed flat")],
)
def test_change_reads_a_fall_as_a_fall(first, last, word):
    move, delta = against_paper.change(pd.Series([first, last], index=[0, 10]))
    assert move == word
    assert delta == pytest.approx(last - first)


def test_logcond_curve_is_the_pooled_median():
    recs = records([("nwj", s, 0, "logcond", v) for s, v in ((0, 1.0), (0, 2.0), (1, 9.0))])
    assert against_paper.curve(recs, "logcond")[0] == 2.0


def test_the_paper_bound_is_compared_with_the_training_batch_bound():
    nce_points = dict(
        next(
            pts
            for where, pts in paper.paper_points("bijective", "bound")
            if where["estimator"] == "infonce"
        )
    )
    rows = []
    for step in (0, 1000):
        rows += [
            ("infonce", 0, step, "accuracy", 0.87),
            ("infonce", 0, step, "bound", 1.0),
            ("infonce", 0, step, "train_bound", math.nan if step == 0 else 4.4),
        ]
    table = against_paper.paper_comparison(records(rows), "bijective")
    bound = table[table["quantity"].str.startswith("bound") & (table["step"] == 1000)]
    assert len(bound) == 1  # only I_NCE was run; I_NWJ's paper curve has no rows
    row = bound.iloc[0]
    assert row["ours"] == 4.4 and row[against_paper.HELD_OUT_COLUMN] == 1.0
    assert row["paper"] == nce_points[1000]
    assert row["verdict"].startswith("matches")
    step0 = table[table["quantity"].str.startswith("bound") & (table["step"] == 0)].iloc[0]
    assert step0["verdict"].startswith("no training batch")
    later = table[table["step"] == 20000]
    assert later["verdict"].str.startswith("not reached").all()


def test_adversarial_comparison_is_per_setting_and_plots():
    rows = [("x", 0, s, "accuracy", 0.86 - s / 1e4) for s in (0, 400, 800)]
    recs = records(rows).drop(columns="estimator")
    recs["setting"] = ["paper"] * 3
    table = against_paper.paper_comparison(recs, "adversarial", by="setting")
    assert set(table["run"]) == {"paper"}
    assert table.loc[table["step"] == 800, "verdict"].iloc[0].startswith("differs")
    fig, ax = plt.subplots()
    against_paper.plot_against_paper(recs, "adversarial", "accuracy", ax, by="setting")
    assert any(t.get_text() == "paper (one run)" for t in ax.get_legend().get_texts())
    plt.close(fig)


def test_claim_sentences_state_each_verdict():
    table = pd.DataFrame(
        [
            {"claim": "1a", "statement": "s", "ours": "+0.033", "seeds": 1, "verdict": "reproduced",
             "what ours measures": "gain"},
            {"claim": "1b", "statement": "t", "ours": "—", "seeds": 0, "verdict": "not run",
             "what ours measures": ""},
        ]
    )  # fmt: skip
    text = against_paper.claim_sentences(table)
    assert "Claim 1a (s): **reproduced**, ours +0.033 over 1 seed(s); gain." in text
    assert "Claim 1b (t): not run yet." in text


def test_claim_sentences_name_an_earlier_version_of_the_runs_once():
    rows = [
        {"claim": c, "statement": "s", "ours": "+0.1", "seeds": 1, "verdict": "partially",
         "what ours measures": f"note {c}; runs of the first version"}
        for c in ("1a", "1b")
    ]  # fmt: skip
    text = against_paper.claim_sentences(pd.DataFrame(rows))
    assert text.count("runs of the first version") == 1
    assert "; note 1a." in text and text.endswith("(All are runs of the first version.)")
