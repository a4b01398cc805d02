"""Summaries and figure helpers on synthetic tidy records."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from mi_tutorial.report import analysis, plotting


@pytest.fixture()
def records():
    rows = []
    for critic, base in (("bilinear", 0.88), ("concat", 0.85)):
        for seed in range(3):
            for step in (0, 500, 1000):
                rows.append(
                    (critic, seed, step, "accuracy", base - 0.05 * (step == 0) + 0.01 * seed)
                )
                for v in np.linspace(0, step / 250, 4):
                    rows.append((critic, seed, step, "logcond", v))
    return pd.DataFrame(rows, columns=["critic", "seed", "step", "metric", "value"])


def test_summarize_takes_the_last_step_by_default(records):
    table = analysis.summarize(records, "accuracy", by=["critic"]).set_index("critic")
    assert table.loc["bilinear", "mean"] == pytest.approx(0.89)
    assert table.loc["concat", "sd"] == pytest.approx(0.01)
    assert table.loc["concat", "n"] == 3


def test_summarize_at_a_given_step_and_mean_at(records):
    table = analysis.summarize(records, "accuracy", by=["critic"], step=0).set_index("critic")
    assert table.loc["bilinear", "mean"] == pytest.approx(0.84)
    assert analysis.mean_at(records, "accuracy", critic="concat") == pytest.approx(0.86)


def test_unknown_metric_and_step_are_clear_errors(records):
    with pytest.raises(ValueError, match="metric 'acc' not in records; available"):
        analysis.summarize(records, "acc", by=["critic"])
    with pytest.raises(ValueError, match="no 'accuracy' recorded at step 7"):
        analysis.at_step(records, "accuracy", 7)


def test_plot_helpers_draw(records):
    fig, (a, b) = plt.subplots(1, 2)
    plotting.plot_curves(records, "accuracy", hue="critic", ax=a, hline=0.85, hline_label="pixels")
    plotting.plot_percentile_bands(records, ax=b)
    assert len(a.lines) >= 2 and len(b.collections) == 5
    plt.close(fig)


def test_smooth_preserves_a_constant_and_damps_noise():
    assert np.allclose(plotting.smooth(np.full(500, 0.3)), 0.3)
    noise = np.random.default_rng(0).normal(size=5000)
    assert plotting.smooth(noise, 100).std() < 0.1 * noise.std()


def test_curve_and_value_at(records):
    values = analysis.curve(records, "accuracy", critic="concat")
    assert list(values.index) == [0, 500, 1000]
    assert values.loc[500] == pytest.approx(0.86)
    assert analysis.value_at(records, "accuracy", critic="concat") == pytest.approx(0.86)
    assert analysis.value_at(records, "accuracy", step=400, critic="concat") == pytest.approx(0.81)
    with pytest.raises(ValueError, match="no 'accuracy' records match"):
        analysis.curve(records, "accuracy", critic="nope")


def test_print_deviations(capsys):
    from mi_tutorial import paper

    paper.print_deviations("critic-capacity", "paper")
    assert "none (this is the paper's configuration)" in capsys.readouterr().out
    paper.print_deviations("critic-capacity", "book")
    assert "steps" in capsys.readouterr().out
