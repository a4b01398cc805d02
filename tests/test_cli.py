"""Tests for the ``mi-tutorial`` command line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import mi_tutorial.data as data_module
import mi_tutorial.results as results_module
from mi_tutorial.cli import main
from mi_tutorial.experiments import experiment_ids


def fake_run_config(config, seed, *, device="cpu", progress=True, data=None):
    rng = np.random.default_rng([seed, int(config.key(), 16) % 2**32])
    steps = range(0, config.steps, config.eval_every)
    rows = [(s, m, float(rng.random()), 0.0) for s in steps for m in ("accuracy", "bound")]
    return pd.DataFrame(rows, columns=["step", "metric", "value", "elapsed_s"])


@pytest.fixture
def fake_training(monkeypatch):
    monkeypatch.setattr(results_module, "_default_run_fn", lambda: fake_run_config)


def test_list_shows_every_experiment_and_profile(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in experiment_ids():
        assert name in out
    for word in ("smoke", "book", "paper", "Fig. 4c", "21,000 steps"):
        assert word in out


def test_help_and_missing_command(capsys):
    assert main(["--help"]) == 0
    assert "run" in capsys.readouterr().out
    assert main(["run", "--help"]) == 0
    assert "--profile" in capsys.readouterr().out
    assert main([]) == 2


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["run", "critic-capacty"], "Did you mean 'critic-capacity'"),
        (["run", "nope"], "Choose one of: adversarial, bijective, critic-capacity"),
        (["run", "noniid", "--profile", "fast"], "unknown profile 'fast'"),
        (["run", "noniid", "--seeds", "two"], "bad --seeds 'two'"),
        (["run", "noniid", "--seeds", "0"], "bad --seeds '0'"),
        (["run", "noniid", "--seeds", "1,1"], "duplicates"),
        (["run", "noniid", "--jobs", "0"], "--jobs"),
        (["run", "noniid", "--device", "tpu"], "unknown device 'tpu'"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2_with_a_message(capsys, argv, expected):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_cuda_is_a_usage_error(tmp_path, capsys, fake_training):
    assert (
        main(
            ["run", "noniid", "--profile", "smoke", "--device", "cuda", "--results", str(tmp_path)]
        )
        == 2
    )
    assert "CUDA is not available" in capsys.readouterr().err


def test_run_prints_a_summary_and_reuses_the_cache(tmp_path, capsys, fake_training):
    argv = [
        "run",
        "critic-capacity",
        "--profile",
        "smoke",
        "--seeds",
        "0,2",
        "--results",
        str(tmp_path),
        "--quiet",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "0 cached, 12 run" in out and "deviates from the paper" in out
    for word in ("bilinear", "separable", "concat", "accuracy", "bound", "±"):
        assert word in out
    assert len(list(tmp_path.rglob("seed-2.json"))) == 6
    assert main(argv) == 0
    assert "12 cached, 0 run" in capsys.readouterr().out


def test_corrupt_store_exits_1_and_says_how_to_fix(tmp_path, capsys, fake_training):
    argv = ["run", "noniid", "--profile", "smoke", "--results", str(tmp_path), "--quiet"]
    assert main(argv) == 0
    csv_path = next(tmp_path.rglob("seed-0.csv"))
    csv_path.write_text(csv_path.read_text()[:-20])
    capsys.readouterr()
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "corrupt" in err and "--force" in err and "Traceback" not in err
    assert main([*argv, "--force"]) == 0


def test_data_command(tmp_path, capsys, monkeypatch):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "t10k-labels-idx1-ubyte").write_bytes(b"x" * 10)
    calls = []

    def fake_ensure(root=None, allow_download=True):
        calls.append(root)
        return tmp_path

    monkeypatch.setattr(data_module, "ensure_mnist", fake_ensure)
    assert main(["data", "--root", str(tmp_path)]) == 0
    assert calls == [tmp_path]
    out = capsys.readouterr().out
    assert str(raw) in out and "t10k-labels-idx1-ubyte" in out

    def failing(root=None, allow_download=True):
        raise data_module.DataError("MNIST not found; set MI_TUTORIAL_DATA")

    monkeypatch.setattr(data_module, "ensure_mnist", failing)
    assert main(["data"]) == 1
    assert "MI_TUTORIAL_DATA" in capsys.readouterr().err


def test_run_critic_capacity_smoke_end_to_end(tmp_path, capsys):
    pytest.importorskip("mi_tutorial.critics")
    argv = [
        "run",
        "critic-capacity",
        "--profile",
        "smoke",
        "--seeds",
        "1",
        "--results",
        str(tmp_path),
        "--quiet",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "0 cached, 6 run" in out
    table = out.split("run_sweep:")[1]
    for word in ("bilinear", "separable", "concat", "infonce", "nwj", "accuracy", "bound"):
        assert word in table
    assert len(list(tmp_path.glob("smoke/critic-capacity/*/seed-0.json"))) == 6
