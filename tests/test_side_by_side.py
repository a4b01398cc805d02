"""The chapters' tables and sentences against the paper (report.side_by_side, report.critic_capacity,
report.encoder_vs_estimator), on small synthetic records: both bound quantities are labelled, the
paper's side comes from mi_tutorial.paper, and non-finite values are reported as diverged."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from mi_tutorial.paper.critic_capacity import CRITICS, PAPER_ACCURACY, PAPER_FINAL_BOUND
from mi_tutorial.report import critic_capacity as e4
from mi_tutorial.report import encoder_vs_estimator as e5
from mi_tutorial.report.side_by_side import (
    QUANTITY_LABELS,
    both_bounds,
    claims_table,
    finite_mean,
    runs_to_show,
    value_text,
)


def test_value_text_reports_non_finite_values_as_diverged_and_does_not_average_them():
    assert value_text([0.5]) == "0.500"
    assert value_text([1.0, 3.0]) == f"2.000 ± {math.sqrt(2):.3f}"
    assert value_text([1.0, 3.0, math.inf]) == f"2.000 ± {math.sqrt(2):.3f} (1 diverged)"
    assert value_text([math.nan, -math.inf]) == "diverged"
    assert value_text([]) == "—"
    assert finite_mean([2.0, math.nan])[:1] == (2.0,)


def _e4_records(train: dict, held: dict, acc: dict, seeds=(0, 1)) -> pd.DataFrame:
    rows = []
    for (critic, estimator), value in train.items():
        for seed in seeds:
            for metric, v in (
                ("train_bound", value),
                ("bound", held[(critic, estimator)]),
                ("accuracy", acc[(critic, estimator)]),
            ):
                rows.append(
                    {
                        "experiment": "critic-capacity",
                        "profile": "paper",
                        "dataset": "mnist",
                        "critic": critic,
                        "estimator": estimator,
                        "batch_size": 128,
                        "seed": seed,
                        "step": 20000,
                        "metric": metric,
                        "value": v,
                    }
                )
    return pd.DataFrame(rows)


KEYS = [(c, e) for e in ("infonce", "nwj") for c in CRITICS]


def test_e4_table_puts_the_paper_beside_the_same_quantity_and_labels_the_held_out_one():
    train = {k: 4.7 if k[1] == "infonce" else 5.0 + i for i, k in enumerate(KEYS)}
    held = {k: v - 0.5 for k, v in train.items()}
    held[("bilinear", "nwj")] = math.inf
    records = _e4_records(train, held, {k: 0.87 for k in KEYS})
    table = e4.comparison_table(records)
    row = table.loc[("I_NWJ", "concat")]
    assert row["accuracy, paper"] == f"{PAPER_ACCURACY[('concat', 'nwj')]:.3f}"
    assert row["bound, paper"] == f"{PAPER_FINAL_BOUND[('concat', 'nwj')]:.2f}"
    assert row["bound on training batches, ours"] == f"{train[('concat', 'nwj')]:.2f} ± 0.00"
    assert "not the paper's quantity" in " ".join(table.columns)
    assert table.loc[("I_NWJ", "bilinear")].iloc[4] == "diverged"
    assert set(table["seeds"]) == {2}


def test_e4_sentences_read_both_quantities_and_the_ledger_verdict():
    train = {k: 4.72 if k[1] == "infonce" else 5.5 for k in KEYS}
    held = {k: 4.40 if k[1] == "infonce" else 1.0 for k in KEYS}
    held[("concat", "nwj")] = math.nan
    records = _e4_records(train, held, {k: 0.87 for k in KEYS})
    claims = claims_table(records, ["critic-capacity"])
    assert claims.set_index("claim").loc["9b", "verdict"] == "reproduced"
    text = e4.log_k_text(records, claims)
    assert "4.72 / 4.72 / 4.72" in text and "4.40 / 4.40 / 4.40" in text
    assert "claim 9b" in text and "reproduced" in text and "would not meet" in text
    nwj = e4.nwj_levels_text(records)
    assert "1.00 / 1.00 / diverged" in nwj and "not averaged in" in nwj
    assert "within 0.00 nats of its values, at its level" in e4.nwj_levels_text(
        _e4_records(PAPER_FINAL_BOUND, held, {k: 0.87 for k in KEYS})
    )
    empty = records.iloc[0:0]
    assert "not judged" in e4.log_k_text(empty, claims_table(empty, ["critic-capacity"]))


def _e5_records(train_lt: float, held_lt: float, conv_acc: float = 0.90) -> pd.DataFrame:
    rows = []
    for encoder in ("mlp", "convnet"):
        for t in (2.0, 4.0):
            for seed in (0, 1):
                for step in (7000, 20000):
                    for metric, v in (
                        ("train_bound", t - train_lt),
                        ("bound", t - held_lt),
                        ("objective", held_lt),
                        ("accuracy", conv_acc if encoder == "convnet" else 0.86),
                    ):
                        rows.append(
                            {
                                "experiment": "encoder-vs-estimator",
                                "profile": "paper",
                                "dataset": "mnist",
                                "encoder": encoder,
                                "estimator": "infonce",
                                "target": t,
                                "batch_size": 128,
                                "seed": seed,
                                "step": step,
                                "metric": metric,
                                "value": v,
                            }
                        )
    return pd.DataFrame(rows)


def test_e5_premise_is_counted_on_both_quantities():
    records = _e5_records(train_lt=0.02, held_lt=0.3)
    text = e5.matched_text(records)
    assert "8 of 8 runs have L_t < 0.1 on training batches" in text
    assert "0 of 8 on the held-out test set" in text
    assert "lower than on training batches in 8 of 8 runs" in text
    table = e5.comparison_table(records)
    assert table.loc[("I_NCE", "4", "ConvNet"), "L_t at 7k, training batches"] == "0.020 ± 0.000"
    assert "not the paper's quantity" in " ".join(table.columns)
    assert "+4.0 to +4.0 points" in e5.gap_text(records)
    assert "does not lead" in e5.gap_text(_e5_records(0.02, 0.3, conv_acc=0.85))
    empty = pd.DataFrame(columns=["metric", "value", "step", "seed"])  # a fresh results folder
    assert "not judged" in e5.matched_text(empty)
    assert "no run is stored" in e5.gap_text(empty)
    assert "No paper-profile run" in e5.targets_text(empty)


def test_runs_to_show_prefers_the_committed_runs_and_says_which():
    live = _e5_records(0.0, 0.0).assign(step=1000)
    committed = _e5_records(0.0, 0.0)
    shown, text = runs_to_show(committed, live)
    assert shown is committed and "committed paper-profile runs" in text
    shown, text = runs_to_show(committed.iloc[0:0], live)
    assert shown is live and "this build's runs" in text


def test_both_bounds_labels_each_quantity_and_drops_non_finite_rows():
    records = _e5_records(0.1, 0.5)
    records.loc[records.index[1], "value"] = math.inf  # a held-out bound
    rows = both_bounds(records, target=True)
    assert set(rows["quantity"]) == set(QUANTITY_LABELS.values())
    assert len(rows) == 2 * 16 - 1  # 16 (encoder, t, seed, step) rows per quantity
    by_quantity = rows.groupby("quantity")["value"].mean()
    assert by_quantity[QUANTITY_LABELS["train_bound"]] == pytest.approx(0.1)
    assert by_quantity[QUANTITY_LABELS["bound"]] == pytest.approx(0.5)


def _adam_records(accuracy: dict[str, list[float]]) -> pd.DataFrame:
    rows = []
    for adam, values in accuracy.items():
        for seed, acc in enumerate(values):
            for metric, v in (("accuracy", acc), ("train_bound", 4.72), ("bound", 4.41)):
                rows.append(
                    {
                        "experiment": "critic-capacity",
                        "config_key": f"key-{adam}",
                        "adam": adam,
                        "critic": "bilinear",
                        "seed": seed,
                        "step": 20000,
                        "metric": metric,
                        "value": v,
                    }
                )
    return pd.DataFrame(rows)


def test_adam_comparison_reads_both_optimisers_and_judges_against_the_seed_spread():
    from mi_tutorial.paper.critic_capacity import adam_variants

    keras, tf1 = adam_variants()
    assert (keras.adam, tf1.adam) == ("keras", "tf1") and keras.key() != tf1.key()
    table, sentence = e4.adam_comparison(
        _adam_records({"keras": [0.880, 0.884], "tf1": [0.881, 0.883]})
    )
    assert list(table.index) == ["keras", "tf1"]
    assert "I_NCE, training batches (the paper's quantity)" in table.columns
    assert "+0.0 points, within the spread" in sentence and "(2 seeds)" in sentence
    _, apart = e4.adam_comparison(_adam_records({"keras": [0.880, 0.881], "tf1": [0.90, 0.901]}))
    assert "+2.0 points, larger than the spread" in apart
    _, missing = e4.adam_comparison(_adam_records({"keras": [0.88]}))
    assert "adam='tf1'" in missing
    assert e4.adam_comparison(pd.DataFrame())[1].startswith("no paper-profile run")
