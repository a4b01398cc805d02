"""The report helpers behind chapters 3 and 8: tables, verdict sentences and the rule that a
diverged value is reported and never averaged in. Small synthetic inputs, no training."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest
import torch

from mi_tutorial import paper
from mi_tutorial.paper import setup
from mi_tutorial.report import multiview_setup as ch3
from mi_tutorial.report import usable_information as ch8


def _records(values: dict[tuple[str, int, int], float]) -> pd.DataFrame:
    """Tidy accuracy records from {(init, seed, step): value}."""
    return pd.DataFrame(
        [
            {"init": init, "seed": seed, "step": step, "metric": "accuracy", "value": value}
            for (init, seed, step), value in values.items()
        ]
    )


def test_size_table_counts_our_modules_and_quotes_the_paper():
    sizes = ch3.size_table(paper.PAPER_ENCODERS, paper.CRITIC_KWARGS).set_index("module")
    assert sizes.loc["encoder: mlp", "parameters (ours)"] == 238_300
    assert sizes.loc["encoder: convnet", "paper"] == "220k [T]"
    assert sizes.loc["encoder: realnvp", "paper"] == "not stated"
    assert sizes.loc["critic: bilinear (100-d codes)", "parameters (ours)"] == 10_000
    assert sizes.loc["critic: bilinear (100-d codes)", "paper"].endswith("[D]")


def test_a_diverged_seed_is_named_and_left_out_of_the_mean():
    records = _records(
        {
            ("glorot", 0, 0): 0.80,
            ("glorot", 1, 0): 0.80,
            ("glorot", 0, 10): 0.90,
            ("glorot", 1, 10): math.nan,
            ("torch", 0, 0): 0.80,
            ("torch", 1, 0): 0.80,
            ("torch", 0, 10): 0.70,
            ("torch", 1, 10): 0.72,
        }
    )
    mean, diverged = ch3.final_accuracies(records, 10, init="glorot")
    assert mean == pytest.approx(0.90) and diverged == [1]
    found = ch3.init_findings(records, pixel_accuracy=0.85)
    assert found["ch3_init_verdict"].startswith("Glorot-uniform ends higher")
    assert (
        found["ch3_glorot_vs_pixels"] == "beats" and found["ch3_torch_vs_pixels"] == "does not beat"
    )
    assert "decides" in found["ch3_init_consequence"]
    assert "glorot seed 1" in found["ch3_init_consequence"]


def test_all_seeds_diverged_gives_no_verdict():
    records = _records({("glorot", 0, 0): 0.8, ("glorot", 0, 5): math.inf})
    records = pd.concat([records, _records({("torch", 0, 0): 0.8, ("torch", 0, 5): 0.9})])
    found = ch3.init_findings(records, pixel_accuracy=0.85)
    assert "no comparison" in found["ch3_init_verdict"]
    assert found["ch3_glorot_vs_pixels"].startswith("diverged")


def test_reference_table_verdicts():
    ours = {setup.PIXELS.quantity: setup.PIXELS.value + 0.005, setup.NOISY_PIXELS.quantity: 0.5}
    table = ch3.reference_table(ours, comparable=True).set_index("quantity")["verdict"]
    assert table[setup.PIXELS.quantity] == "reproduces"
    assert table[setup.NOISY_PIXELS.quantity] == "differs"
    assert table[setup.SUPERVISED.quantity] == "not measured at this profile"
    smoke = ch3.reference_table(ours, comparable=False).set_index("quantity")["verdict"]
    assert smoke[setup.PIXELS.quantity].startswith("not comparable")
    nan = ch3.reference_table({setup.PIXELS.quantity: math.nan}, comparable=True)
    assert nan.set_index("quantity").loc[setup.PIXELS.quantity, "verdict"] == "diverged"


def _rep(name, experiment, codes, until=math.nan):
    return ch8.Representation(name, experiment, codes, codes[:10], 0.9, until)


def test_exploded_or_non_finite_codes_count_as_diverged():
    ok = torch.randn(20, 3)
    assert not _rep("a", "E4", ok).diverged
    assert _rep("b", "E2", ok.clone().index_fill_(0, torch.tensor([2]), math.nan)).diverged
    assert _rep("c", "E2", ok * 1e7).diverged


def _probes() -> pd.DataFrame:
    rows = {
        "pixels": ("pixels", 0.85, 0.86, 0.97, 1.6, 0.40, 0.38),
        "E1 RealNVP, I_NCE": ("E1", 0.87, 0.87, 0.97, 1.7, 0.38, 0.36),
        "E2 adversarial, notebook setting": ("E2", 0.50, 0.80, 0.95, 1.0, 0.60, 0.50),
        "E4 bilinear critic, I_NCE": ("E4", 0.88, 0.89, 0.96, 1.8, 0.35, 0.34),
        "E4 concat critic, I_NCE": ("E4", 0.85, 0.87, math.nan, 1.5, 0.42, 0.40),
    }
    columns = [
        "experiment",
        "paper_accuracy",
        "linear_accuracy",
        "mlp_accuracy",
        "I_V",
        "paper_objective",
        "linear_objective",
    ]
    table = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
    table["H_V(Y)"] = 2.3
    return table


def test_findings_leave_non_finite_probe_values_out_and_name_them():
    probes = _probes()
    codes = torch.randn(20, 3)
    reps = [
        _rep("pixels", "pixels", codes),
        _rep("E1 RealNVP, I_NCE", "E1", codes),
        _rep("E2 adversarial, notebook setting", "E2", codes, until=800.0),
        _rep("E2 adversarial, exploded", "E2", codes * 1e9, until=math.inf),
    ]
    found = ch8.vinfo_findings(reps, probes)
    assert "E2 adversarial, exploded (codes not finite" in found["ch8_diverged"]
    assert "E4 concat critic, I_NCE (mlp_accuracy not finite)" in found["ch8_diverged"]
    assert "notebook setting from step 800" in found["ch8_invertibility"]
    assert found["ch8_iv_bij_min_name"] == "E2 adversarial, notebook setting"
    probe = ch8.probe_findings(probes)
    assert math.isfinite(probe["ch8_spread_mlp"])  # the NaN MLP accuracy is not in the span
    assert probe["ch8_spread_mlp"] == pytest.approx(0.02)
    assert probe["ch8_e4_best_mlp"] == probe["ch8_e4_worst_mlp"] == "E4 bilinear critic, I_NCE"


def test_protocol_findings_on_a_small_table():
    probes = _probes()
    sensitivity = pd.DataFrame(
        {"SAGA range": [0.001, math.nan], "largest change": [0.04, math.inf]},
        index=["E4 bilinear critic, I_NCE", "E4 concat critic, I_NCE"],
    )
    found = ch8.protocol_findings(probes, sensitivity)
    assert found["ch8_concat_gap_paper"] == pytest.approx(0.03)
    assert found["ch8_concat_gap_converged"] == pytest.approx(0.02)
    assert found["ch8_concat_verdict"] == "shrinks"
    assert found["ch8_change_max"] == pytest.approx(0.04)  # inf is not a change we report
    assert found["ch8_saga_verdict"] == "barely matters"
    assert found["ch8_probe_verdict"].startswith("the protocol's own settings move")
    assert found["ch8_bij_worst"] == "E2 adversarial, notebook setting"


def test_probe_table_skips_diverged_representations():
    torch.manual_seed(0)
    labels = torch.arange(40) % 4
    codes = torch.nn.functional.one_hot(labels, 4).float() + 0.1 * torch.randn(40, 4)
    reps = [
        ch8.Representation("good", "E4", codes, codes),
        ch8.Representation("bad", "E4", codes * math.inf, codes),
    ]
    table = ch8.probe_table(
        reps, (labels, labels), linear_iterations=20, mlp={"hidden": 8, "epochs": 1}, seed=0
    )
    assert list(table.index) == ["good"]
    assert table.loc["good", "linear_accuracy"] > 0.9
