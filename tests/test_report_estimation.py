"""The report layer of chapters 2b, 7 and 7b: verdict sentences read whole curves and report
diverged numbers as diverged, never averaging or ranking them."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mi_tutorial.paper import estimation as bench
from mi_tutorial.report import estimation, metric_learning


def test_variance_trend_reads_every_level_not_the_two_ends():
    # Grows steadily though it dips once: holds, and the dip is named.
    text, verdict = estimation.variance_trend([2, 4, 6, 8, 10], [1.0, 4.0, 3.0, 16.0, 64.0])
    assert verdict == "holds" and "not at every level" in text and "4–6" in text
    text, verdict = estimation.variance_trend([2, 4, 6], [1.0, 3.0, 9.0])
    assert verdict == "holds" and "at every level" in text
    # The book run's curve: low at 2 nats, then no steady growth. The two ends alone (×141)
    # would say "grows"; read over every level it only partly does.
    curve = [0.0582, 8.81, 1.73, 1.51, 8.23]
    text, verdict = estimation.variance_trend([2, 4, 6, 8, 10], curve)
    assert verdict == "partly" and "does not grow steadily" in text and "4–6, 6–8" in text
    # A curve that rises then falls back has no trend, although one step up is large.
    text, verdict = estimation.variance_trend([2, 4, 6], [1.0, 50.0, 1.0])
    assert verdict == "does not hold" and "no clear trend" in text


@pytest.mark.parametrize("bad", [math.nan, math.inf, 1e9])
def test_variance_trend_refuses_a_diverged_level(bad):
    text, verdict = estimation.variance_trend([2, 4, 6], [1.0, bad, 4.0])
    assert verdict is None and "diverged at 4" in text


def _task_errors(cubic_nwj: float) -> pd.DataFrame:
    rows = []
    for task in bench.TASKS:
        for est in bench.TASK_ESTIMATORS:
            for critic in bench.TASK_CRITICS:
                estimate = 3.5 if task == "gaussian" else 3.0
                if task == "cubic" and est == "nwj" and critic == "separable":
                    estimate = cubic_nwj
                rows.append(
                    {"task": task, "estimator": est, "critic": critic, "true_mi": 4.0}
                    | {"estimate": estimate, "bias": estimate - 4.0}
                )
    return pd.DataFrame(rows)


def test_a_diverged_estimate_is_named_not_reported_as_a_shift():
    facts = estimation.task_findings(_task_errors(-5e4), 4.0)
    assert "I_NWJ diverged" in facts["shifts"]
    assert "I_NWJ diverged on the cubed pair" in facts["diverged_note"]
    assert "-5e+04" not in facts["shift_sentence"] and "-0.50" in facts["shift_sentence"]
    assert "1 cell(s) where a critic diverged are left out" in facts["critic_sentence"]
    ours, moves = facts["verdicts"]["invariance"]
    assert moves is True and "-0.50" in ours


def test_literature_table_does_not_judge_a_diverged_reading():
    verdicts = {key: ("x", True) for key, _, _ in bench.LITERATURE}
    verdicts["nwj_variance"] = ("diverged", None)
    verdicts["invariance"] = ("x", "partly")
    table = estimation.literature_table(verdicts, "book").data
    assert list(table["verdict"]) == ["holds", "holds", "not judged (diverged)", "partly"]


def test_triplet_is_tested_against_both_infonce_variants():
    sentences = metric_learning.accuracy_sentences
    assert sentences({"bilinear": 0.90, "inner": 0.95, "neg_sqdist": 0.80})[1] == (
        "below both InfoNCE variants"
    )
    # Below the better one, but not below the worse: not "below both".
    assert (
        "not clearly below the other"
        in sentences({"bilinear": 0.90, "inner": 0.95, "neg_sqdist": 0.9})[1]
    )
    assert "diverged" in sentences({"bilinear": 0.9, "inner": math.nan, "neg_sqdist": 0.8})[1]


def _noniid(shared: float, iid: float) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [
        {"estimator": est, "iid": flag, "seed": 0, "step": step, "metric": "bound"}
        | {"value": (iid if flag else shared) + 0.001 * rng.standard_normal()}
        for est in ("infonce", "nwj")
        for flag in (False, True)
        for step in range(100)
    ]
    return pd.DataFrame(rows)


def test_fig4c_comparison_judges_and_guards():
    table, facts = metric_learning.fig4c_comparison(_noniid(0.15, 0.0), 0.0204, 0.83)
    assert facts["e6_verdict"].startswith("reproduces")
    assert facts["e6_cond_compare"].startswith("Both non-i.i.d. estimates stay far below")
    assert len(table) == 5
    table, facts = metric_learning.fig4c_comparison(_noniid(math.nan, 0.0), 0.0204, 0.83)
    assert facts["e6_verdict"].startswith("does not fully reproduce")
    assert facts["e6_cond_compare"].startswith("A diverged estimate")
    assert (table["ours"] == "diverged").sum() == 2
