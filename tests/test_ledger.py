"""The ledger's verdicts on synthetic records: one test per verdict kind."""

from __future__ import annotations

import pandas as pd
import pytest

from mi_tutorial import ledger


def _rows(experiment, metric, per_seed_curves, **config):
    rows = []
    for seed, curve in enumerate(per_seed_curves):
        for step, value in curve:
            rows.append(
                {
                    "experiment": experiment,
                    "profile": "book",
                    "metric": metric,
                    "seed": seed,
                    "step": step,
                    "value": value,
                    **config,
                }
            )
    return rows


def _bijective(gain_nce, gain_nwj, seeds=3):
    rows = []
    for estimator, gain in (("infonce", gain_nce), ("nwj", gain_nwj)):
        curves = [[(0, 0.85 + 0.001 * s), (2000, 0.85 + 0.001 * s + gain)] for s in range(seeds)]
        rows += _rows("bijective", "accuracy", curves, estimator=estimator, batch_size=128)
        rows += _rows(
            "bijective",
            "bound",
            [[(0, -1.3), (2000, 4.7)]] * seeds,
            estimator=estimator,
            batch_size=128,
        )
    return pd.DataFrame(rows)


def _verdicts(records, **kw):
    return ledger.evaluate_claims(records, **kw).set_index("claim")


@pytest.mark.parametrize(
    "gain,verdict", [(0.03, "reproduced"), (0.008, "partially"), (-0.01, "not reproduced")]
)
def test_e1_gain_verdicts(gain, verdict):
    table = _verdicts(_bijective(gain, gain))
    assert table.loc["1a", "verdict"] == verdict and table.loc["1b", "verdict"] == verdict
    assert table.loc["1a", "seeds"] == 3
    assert table.loc["1a", "ours"].startswith(f"{gain:+.3f}")


def test_claims_without_records_are_not_run():
    table = _verdicts(_bijective(0.03, 0.03))
    assert table.loc["7a", "verdict"] == "not run" and table.loc["7a", "ours"] == "—"
    assert (ledger.evaluate_claims(pd.DataFrame())["verdict"] == "not run").all()


def test_a_missing_baseline_means_not_run_and_a_given_one_is_used():
    records = _bijective(0.03, 0.03)
    assert _verdicts(records).loc["2", "verdict"] == "not run"
    assert _verdicts(records, baselines={"pixel": 0.851}).loc["2", "verdict"] == "reproduced"
    assert _verdicts(records, baselines={"pixel": 0.80}).loc["2", "verdict"] == "not reproduced"


def test_log_k_ceiling_is_checked_at_every_step():
    records = _bijective(0.03, 0.03)
    assert _verdicts(records).loc["3", "verdict"] == "reproduced"
    records.loc[(records["metric"] == "bound") & (records["estimator"] == "infonce"), "value"] = 5.0
    assert _verdicts(records).loc["3", "verdict"] == "not reproduced"


def _critics(acc):
    rows = []
    for critic, (a_nce, a_nwj, nwj_bound) in acc.items():
        for estimator, a, b in (("infonce", a_nce, 4.7), ("nwj", a_nwj, nwj_bound)):
            rows += _rows(
                "critic-capacity",
                "accuracy",
                [[(0, 0.8), (3000, a)]] * 2,
                critic=critic,
                estimator=estimator,
            )
            rows += _rows(
                "critic-capacity",
                "bound",
                [[(0, 0.0), (3000, b)]] * 2,
                critic=critic,
                estimator=estimator,
            )
    return pd.DataFrame(rows)


def test_critic_ordering_and_tighter_bound_claims():
    paper_like = _critics(
        {
            "bilinear": (0.88, 0.87, 5.5),
            "separable": (0.877, 0.866, 5.5),
            "concat": (0.856, 0.855, 6.2),
        }
    )
    table = _verdicts(paper_like)
    assert table.loc[["7a", "7b", "8", "9"], "verdict"].tolist() == ["reproduced"] * 4
    reversed_ = _critics(
        {"bilinear": (0.85, 0.85, 6.5), "separable": (0.86, 0.86, 5.5), "concat": (0.88, 0.88, 5.0)}
    )
    table = _verdicts(reversed_)
    assert table.loc["7a", "verdict"] == "not reproduced"
    assert table.loc["8", "verdict"] == "not reproduced"


def test_noniid_verdicts():
    def records(shared_value, iid_value):
        rows = []
        for iid, value in ((False, shared_value), (True, iid_value)):
            for estimator in ("infonce", "nwj"):
                rows += _rows(
                    "noniid",
                    "bound",
                    [[(s, value) for s in range(0, 100, 10)]],
                    iid=iid,
                    estimator=estimator,
                )
        return pd.DataFrame(rows)

    assert _verdicts(records(0.15, 0.02)).loc["12", "verdict"] == "reproduced"
    assert _verdicts(records(0.15, 0.2)).loc["12", "verdict"] == "partially"
    assert _verdicts(records(0.0, 0.2)).loc["12", "verdict"] == "not reproduced"


def test_outcome_rejects_unknown_verdicts():
    with pytest.raises(ValueError, match="verdict must be one of"):
        ledger.Outcome((), "sort of")


def test_adversarial_claims_are_judged_per_learning_rate_setting():
    rows = []
    for encoder_lr, late in ((1e-6, 0.855), (1e-5, 0.45)):
        rows += _rows(
            "adversarial",
            "accuracy",
            [[(0, 0.86), (400, 0.858), (800, late)]],
            encoder_lr=encoder_lr,
        )
    table = _verdicts(pd.DataFrame(rows))
    assert table.loc["4a", "verdict"] == "not reproduced"
    assert table.loc["4b", "verdict"] == "reproduced"
