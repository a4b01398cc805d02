"""Tests for the ``mi-tutorial`` command line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import mi_tutorial.data as data_module
import mi_tutorial.runs.sweep as sweep_module
from mi_tutorial.cli import main
from mi_tutorial.paper import experiment_ids


def fake_run_config(config, seed, *, device="cpu", progress=True, data=None):
    rng = np.random.default_rng([seed, int(config.key(), 16) % 2**32])
    steps = range(0, config.steps, config.eval_every)
    rows = [(s, m, float(rng.random()), 0.0) for s in steps for m in ("accuracy", "bound")]
    return pd.DataFrame(rows, columns=["step", "metric", "value", "elapsed_s"])


@pytest.fixture
def fake_training(monkeypatch):
    monkeypatch.setattr(sweep_module, "_default_run_fn", lambda: fake_run_config)


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


# ---------------------------------------------------------------- list / data --cifar10 / report
def test_list_shows_the_cifar_experiments(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for word in ("critic-capacity-cifar", "encoder-vs-estimator-cifar", "E7", "Fig. 9", "63,000"):
        assert word in out
    assert "mi-tutorial data --cifar10" in out


def test_data_cifar10_command(tmp_path, capsys, monkeypatch):
    folder = tmp_path / data_module.CIFAR10_DIR
    folder.mkdir()
    (folder / "test_batch").write_bytes(b"x" * 12)
    monkeypatch.setattr(data_module, "ensure_cifar10", lambda root=None: tmp_path)
    assert main(["data", "--cifar10", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert str(folder) in out and "test_batch" in out

    def unreachable(root=None):
        raise data_module.DataError("CIFAR-10 not found ...; run `mi-tutorial data --cifar10`")

    monkeypatch.setattr(data_module, "ensure_cifar10", unreachable)
    assert main(["data", "--cifar10"]) == 1
    err = capsys.readouterr().err
    assert "mi-tutorial data --cifar10" in err and "Traceback" not in err


def _store_runs(root, experiment, profile, accuracy_by_critic, seeds=(0, 1)):
    """Stored runs of every current config of ``experiment``; final accuracy per critic."""
    from mi_tutorial.paper import get_configs
    from mi_tutorial.runs import ResultsStore

    store = ResultsStore(root)
    for config in get_configs(experiment, profile):
        final = accuracy_by_critic[config.critic][config.estimator]
        bound = 4.7 if config.estimator == "infonce" else 6.2 if config.critic == "concat" else 5.5
        frame = pd.DataFrame(
            {
                "step": [0, 0, 0, 1000, 1000, 1000],
                "metric": ["accuracy", "bound", "train_bound"] * 2,
                "value": [0.8, 0.0, float("nan"), final, bound - 1.0, bound],
            }
        )
        for seed in seeds:
            store.save(config, seed, frame, wall_time=1.0)
    return store


PAPER_LIKE = {
    "bilinear": {"infonce": 0.88, "nwj": 0.87},
    "separable": {"infonce": 0.877, "nwj": 0.866},
    "concat": {"infonce": 0.856, "nwj": 0.855},
}


@pytest.fixture
def fixed_baselines(monkeypatch):
    import mi_tutorial.report.ledger as ledger_module

    calls = []

    def baselines(profile, root=None):
        calls.append(profile)
        return {"pixel": 0.851}

    monkeypatch.setattr(ledger_module, "compute_baselines", baselines)
    return calls


def test_report_writes_the_ledger_for_the_paper_profile(tmp_path, capsys, fixed_baselines):
    _store_runs(tmp_path, "critic-capacity", "paper", PAPER_LIKE)
    assert main(["report", "--results", str(tmp_path)]) == 0  # --profile paper by default
    captured = capsys.readouterr()
    out = captured.out
    assert fixed_baselines == ["paper"]
    assert "12 stored run(s) at the 'paper' profile" in out and "critic-capacity" in out
    assert "pixel 0.8510" in out
    for word in ("7a", "14d", "reproduced", "not run", "statement"):
        assert word in out
    csv_path, md_path = tmp_path / "paper" / "ledger.csv", tmp_path / "paper" / "ledger.md"
    assert f"wrote {csv_path}" in out and f"wrote {md_path}" in out
    table = pd.read_csv(csv_path, dtype={"claim": str}).set_index("claim")
    assert len(table) == 30  # one row per claim and check of the ledger
    assert table.loc[["3", "13"], "kind"].tolist() == ["check", "check"]
    assert "checks (hold by construction" in out
    assert table.loc[["7a", "7b", "8", "9a", "9b"], "verdict"].tolist() == ["reproduced"] * 5
    assert table.loc["7a", "seeds"] == 2 and table.loc["7a", "profile"] == "paper"
    assert table.loc["13", "verdict"] == "reproduced"
    assert table.loc[["1a", "11", "14a", "14d"], "verdict"].tolist() == ["not run"] * 4
    markdown = md_path.read_text()
    assert markdown.startswith("# Claims ledger (paper profile)")
    assert "mi-tutorial report --profile paper" in markdown and "pixel 0.8510" in markdown
    assert "| 7a | 3a |" in markdown and "not run.\n\nChecks (" in markdown
    # What remains: the report's seeds stored per experiment, and the commands for the rest.
    assert "E4 critic-capacity       12/18" in out
    assert "mi-tutorial run critic-capacity --profile paper --seeds 3" in out
    remaining = pd.read_csv(tmp_path / "paper" / "coverage.csv").set_index("experiment")
    assert remaining.loc["critic-capacity", ["stored", "missing"]].tolist() == [12, 6]
    assert remaining.loc["bijective", "stored"] == 0
    # A second report says that it replaces the files.
    assert main(["report", "--results", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"replaced {csv_path}" in out and f"replaced {md_path}" in out
    assert f"wrote {csv_path.with_name('coverage.csv')}" not in out  # replaced as well


def test_report_reads_cifar_runs_and_honours_profile_and_out(tmp_path, capsys, fixed_baselines):
    cifar_like = {
        "bilinear": {"infonce": 0.348, "nwj": 0.340},
        "separable": {"infonce": 0.338, "nwj": 0.336},
        "concat": {"infonce": 0.313, "nwj": 0.313},
    }
    _store_runs(tmp_path, "critic-capacity-cifar", "smoke", cifar_like, seeds=(0,))
    _store_runs(tmp_path, "critic-capacity", "paper", PAPER_LIKE)  # another profile: ignored
    out_dir = tmp_path / "reports"
    argv = ["report", "--profile", "smoke", "--results", str(tmp_path), "--out", str(out_dir)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "6 stored run(s) at the 'smoke' profile" in out
    table = pd.read_csv(out_dir / "ledger.csv", dtype={"claim": str}).set_index("claim")
    assert table.loc[["14a", "14b", "14c"], "verdict"].tolist() == ["reproduced"] * 3
    assert table.loc["7a", "verdict"] == "not run"
    assert not (tmp_path / "smoke" / "ledger.csv").exists()


def test_report_with_an_empty_store_or_no_mnist_still_writes_the_ledger(
    tmp_path, capsys, monkeypatch
):
    import mi_tutorial.report.ledger as ledger_module

    def no_mnist(profile, root=None):
        raise data_module.DataError("MNIST not found under /nowhere")

    monkeypatch.setattr(ledger_module, "compute_baselines", no_mnist)
    assert main(["report", "--profile", "book", "--results", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "no stored runs at the 'book' profile" in captured.err
    assert "mi-tutorial run EXPERIMENT --profile book" in captured.err
    assert "pixel baseline was not computed (MNIST not found" in captured.err
    table = pd.read_csv(tmp_path / "book" / "ledger.csv", dtype={"claim": str})
    assert set(table.loc[table["claim"] != "13", "verdict"]) == {"not run"}
    # --no-baselines does not even try.
    monkeypatch.setattr(ledger_module, "compute_baselines", lambda *a, **k: pytest.fail("called"))
    assert main(["report", "--profile", "book", "--results", str(tmp_path), "--no-baselines"]) == 0
    assert "pixel baseline" not in capsys.readouterr().err


def test_report_errors_exit_1_or_2_with_a_message(tmp_path, capsys, fixed_baselines):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(["report", "--results", str(tmp_path), "--out", str(blocker)]) == 1
    err = capsys.readouterr().err
    assert "cannot write the ledger" in err and "--out DIR" in err and "Traceback" not in err
    assert main(["report", "--profile", "fast"]) == 2
    assert "unknown profile 'fast'" in capsys.readouterr().err
    store = _store_runs(tmp_path / "r", "critic-capacity", "paper", PAPER_LIKE, seeds=(0,))
    csv_path = next(store.root.rglob("seed-0.csv"))
    csv_path.write_text(csv_path.read_text()[:-5])
    assert main(["report", "--results", str(store.root)]) == 1
    err = capsys.readouterr().err
    assert "corrupt" in err and "Traceback" not in err


# --------------------------------------------------------------------------------------------------
# One error path (issue 26): `mi-tutorial: error: …`, status != 0, the action; --debug traceback
# --------------------------------------------------------------------------------------------------


def _smoke(tmp_path, experiment: str = "noniid", *extra: str) -> list[str]:
    return ["run", experiment, "--profile", "smoke", "--results", str(tmp_path), "--quiet", *extra]


@pytest.mark.parametrize(
    ("seeds", "expected"),
    [
        ("0,,1", "bad --seeds '0,,1': an empty item"),
        ("0,1,", "an empty item"),
        (",", "an empty item"),
        ("", "seeds is empty"),
        ("99999999999999999999", "number of seeds must be at most 10,000"),
        (str(10**20), "number of seeds must be at most 10,000"),
        ("0,99999999999999999999", "seed must be < 4,294,967,296, got 99999999999999999999"),
        ("4294967296,1", "seed must be < 4,294,967,296, got 4294967296"),
        ("-1,2", "seed must be >= 0, got -1"),
    ],
)
def test_bad_seeds_are_usage_errors_before_anything_trains(tmp_path, capsys, seeds, expected):
    calls = []
    argv = _smoke(tmp_path, "noniid", f"--seeds={seeds}")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sweep_module, "_default_run_fn", lambda: calls.append)
        assert main(argv) == 2
    err = capsys.readouterr().err
    assert expected in err and "2**32" in err and "Traceback" not in err
    assert calls == [] and not any(tmp_path.iterdir())


def test_largest_seed_is_accepted(capsys):
    from mi_tutorial.cli import _seeds

    assert _seeds("0,4294967295") == [0, 2**32 - 1] and _seeds("3") == [0, 1, 2]


def test_library_seed_checks():
    from mi_tutorial._validation import check_seeds

    with pytest.raises(ValueError, match="seed must be < 4,294,967,296"):
        check_seeds([2**32])
    with pytest.raises(ValueError, match="at most 10,000, got 100000000000000000000"):
        check_seeds(10**20)
    with pytest.raises(ValueError, match="seed must be < 4,294,967,296"):
        check_seeds(np.array([0, 2**40]))
    assert check_seeds([0, 2**32 - 1]) == [0, 2**32 - 1]


def test_stored_json_that_is_not_an_object_exits_1(tmp_path, capsys, fake_training):
    assert main(_smoke(tmp_path)) == 0
    json_path = next(tmp_path.rglob("seed-0.json"))
    json_path.write_text("[]")
    capsys.readouterr()
    assert main(_smoke(tmp_path)) == 1
    err = capsys.readouterr().err
    assert err.startswith("mi-tutorial: error: corrupt stored result: ")
    assert f"{json_path} holds a JSON array, not an object" in err and "git checkout" in err
    assert "Traceback" not in err
    assert main(["report", "--profile", "smoke", "--results", str(tmp_path), "--no-baselines"]) == 1
    assert "not an object" in capsys.readouterr().err


def test_debug_shows_the_traceback(tmp_path, capsys, fake_training):
    from mi_tutorial.runs import CorruptResultError

    assert main(_smoke(tmp_path)) == 0
    next(tmp_path.rglob("seed-0.json")).write_text("null")
    with pytest.raises(CorruptResultError, match="not an object"):
        main(["--debug", *_smoke(tmp_path)])
    with pytest.raises(CorruptResultError, match="not an object"):
        main([*_smoke(tmp_path), "--debug"])


def test_unexpected_error_says_to_rerun_with_debug(tmp_path, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(sweep_module, "_default_run_fn", lambda: broken)
    assert main(_smoke(tmp_path)) == 1
    err = capsys.readouterr().err
    assert "mi-tutorial: error: ZeroDivisionError: division by zero." in err
    assert "--debug" in err and "Traceback" not in err


def test_hostile_checkpoint_exits_1_with_the_fix(tmp_path, capsys):
    import pickle

    from mi_tutorial.paper import get_configs
    from mi_tutorial.runs import ResultsStore

    config = get_configs("noniid", "smoke")[0]
    path = ResultsStore(tmp_path).checkpoint_path(config, 0)
    path.parent.mkdir(parents=True)
    path.write_bytes(pickle.dumps(print))
    assert main(_smoke(tmp_path, "noniid", "--seeds", "1")) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"mi-tutorial: error: cannot read the checkpoint {path}")
    assert "Delete it, the run restarts from step 0" in err
    assert "weights_only" not in err and "Traceback" not in err


def test_disk_full_while_writing_a_checkpoint_exits_1(tmp_path, capsys, monkeypatch):
    import errno
    import os

    import mi_tutorial.training.checkpoint as checkpoint_module

    def full(path, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(checkpoint_module, "atomic_write", full)
    assert main(_smoke(tmp_path, "critic-capacity", "--seeds", "1")) == 1
    err = capsys.readouterr().err
    assert err.startswith("mi-tutorial: error: cannot write the checkpoint ")
    assert "No space left on device" in err and "Free some space" in err
    assert "run the same command again" in err and "Traceback" not in err
    assert list(tmp_path.rglob("seed-0.json")) == []


def test_killed_worker_exits_1_and_says_to_rerun(tmp_path, capsys, monkeypatch):
    import os
    import signal

    def killed(config, seed, **kwargs):  # a closure: pickled by value into the worker
        os.kill(os.getpid(), signal.SIGKILL)

    monkeypatch.setattr(sweep_module, "_default_run_fn", lambda: killed)
    assert main(_smoke(tmp_path, "noniid", "--seeds", "0,1", "--jobs", "2")) == 1
    err = capsys.readouterr().err
    assert "mi-tutorial: error: a worker process died (out of memory?); run the same " in err
    assert "finished runs are kept and interrupted ones resume" in err
    assert "Traceback" not in err


def test_unreadable_results_file_names_it(tmp_path, capsys, fake_training, monkeypatch):
    from pathlib import Path

    assert main(_smoke(tmp_path)) == 0
    original = Path.read_bytes

    def denied(self):
        if self.suffix == ".csv":
            raise PermissionError(13, "Permission denied", str(self))
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    capsys.readouterr()
    assert main(_smoke(tmp_path)) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"mi-tutorial: error: permission denied for {tmp_path}")
    assert "seed-0.csv. Check its permissions" in err and "Traceback" not in err


def test_unreadable_data_file_names_it(capsys, monkeypatch):
    def denied(root=None, allow_download=True):
        raise PermissionError(13, "Permission denied", "/data/MNIST/raw/train-images-idx3-ubyte")

    monkeypatch.setattr(data_module, "ensure_mnist", denied)
    assert main(["data"]) == 1
    err = capsys.readouterr().err
    assert err == (
        "mi-tutorial: error: permission denied for /data/MNIST/raw/train-images-idx3-ubyte. "
        "Check its permissions (and its folder's).\n"
    )


def test_closed_pipe_ends_quietly():
    import subprocess
    import sys

    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from mi_tutorial.cli import main; raise SystemExit(main(['list']))",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # the reader goes away before anything is written (like `| head -0`)
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 141
    assert err == ""
