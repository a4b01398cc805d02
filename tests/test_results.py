"""Tests for the results store and the sweep runner (a fake run function; no training)."""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mi_tutorial.config import MultiViewConfig, NonIIDConfig, config_from_dict
from mi_tutorial.runs import (
    RESULTS_ENV,
    CorruptResultError,
    ResultsStore,
    ResultsStoreError,
    config_columns,
    run_sweep,
)

CONFIG = MultiViewConfig(
    experiment="test-exp",
    profile="smoke",
    steps=20,
    eval_every=10,
    encoder_kwargs={"hidden": (32,), "out_dim": 16},
    dataset="digits",
)


def fake_records(config, seed: int, n: int = 50, float32: bool = False) -> pd.DataFrame:
    """Deterministic awkward floats (tiny, huge, NaN, inf) that a lossy CSV would change."""
    rng = np.random.default_rng([seed, int(config.key(), 16) % 2**32])
    values = rng.standard_normal(n) * 10.0 ** rng.integers(-30, 30, n)
    values[:4] = [np.nan, np.inf, -np.inf, 1 / 3]
    return pd.DataFrame(
        {
            "step": np.repeat(np.arange(n // 2) * config.eval_every, 2),
            "metric": ["accuracy", "bound"] * (n // 2),
            "value": values.astype(np.float32) if float32 else values,
            "elapsed_s": rng.random(n),
        }
    )


class FakeRun:
    """Records calls; optionally fails on a given call to simulate an interrupted sweep."""

    def __init__(self, fail_on: int | None = None) -> None:
        self.calls: list[tuple[str, int]] = []
        self.fail_on = fail_on

    def __call__(self, config, seed, *, device="cpu", progress=True):
        self.calls.append((config.key(), seed))
        if self.fail_on is not None and len(self.calls) == self.fail_on:
            raise KeyboardInterrupt("simulated interruption")
        return fake_records(config, seed)


def module_level_run(config, seed, *, device="cpu", progress=True):
    return fake_records(config, seed)


# --------------------------------------------------------------------------------------------------
# Store
# --------------------------------------------------------------------------------------------------


def test_roundtrip_is_exact_and_layout_matches(tmp_path):
    store = ResultsStore(tmp_path)
    records = fake_records(CONFIG, 3)
    assert not store.has(CONFIG, 3) and store.load(CONFIG, 3) is None
    path = store.save(CONFIG, 3, records, wall_time=1.5, device="cpu")
    assert path == tmp_path / "smoke" / "test-exp" / CONFIG.key() / "seed-3.csv"
    assert path.with_suffix(".json").is_file()
    assert store.has(CONFIG, 3) and not store.has(CONFIG, 4)
    back = store.load(CONFIG, 3)
    assert back is not None
    np.testing.assert_array_equal(back["value"].to_numpy(), records["value"].to_numpy())
    np.testing.assert_array_equal(back["elapsed_s"].to_numpy(), records["elapsed_s"].to_numpy())
    assert back["step"].dtype == np.int64
    assert list(back["metric"]) == list(records["metric"])


def test_numpy_integer_seed_is_accepted(tmp_path):
    store = ResultsStore(tmp_path)
    store.save(CONFIG, np.int64(2), fake_records(CONFIG, 2), wall_time=np.float32(1.0))
    assert store.provenance(CONFIG, 2)["seed"] == 2 and store.has(CONFIG, np.int64(2))


def test_float32_values_are_widened_exactly(tmp_path):
    store = ResultsStore(tmp_path)
    records = fake_records(CONFIG, 0, float32=True)
    store.save(CONFIG, 0, records, wall_time=0.0)
    back = store.load(CONFIG, 0)
    expected = records["value"].to_numpy().astype(np.float64)
    np.testing.assert_array_equal(back["value"].to_numpy(), expected)


def test_provenance_contents(tmp_path):
    store = ResultsStore(tmp_path)
    path = store.save(CONFIG, 1, fake_records(CONFIG, 1), wall_time=2.25, device="cpu")
    meta = store.provenance(CONFIG, 1)
    assert meta["seed"] == 1 and meta["wall_time_s"] == 2.25 and meta["device"] == "cpu"
    assert meta["rows"] == 50 and meta["config_key"] == CONFIG.key()
    assert meta["csv_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert config_from_dict(meta["config"]) == CONFIG
    assert config_from_dict(meta["config"]).key() == CONFIG.key()
    assert isinstance(meta["git_commit"], str) and meta["git_commit"]
    for name in ("python", "torch", "numpy", "sklearn", "mi_tutorial"):
        assert meta["versions"][name]
    assert meta["machine"]["cpu_count"] >= 1 and meta["machine"]["platform"]
    assert meta["machine"]["adam_kernel"] == "fused"  # the default (see training.optim)
    assert meta["timestamp"].endswith("+00:00")
    with pytest.raises(FileNotFoundError, match="run it first"):
        store.provenance(CONFIG, 99)


def test_root_resolution(tmp_path, monkeypatch):
    monkeypatch.delenv(RESULTS_ENV, raising=False)
    repo = Path(__file__).resolve().parents[1]
    assert ResultsStore().root == repo / "results"
    monkeypatch.setenv(RESULTS_ENV, str(tmp_path / "env-root"))
    assert ResultsStore().root == tmp_path / "env-root"
    assert ResultsStore(tmp_path / "explicit").root == tmp_path / "explicit"


@pytest.mark.parametrize("damage", ["truncate", "edit", "delete-csv", "bad-json"])
def test_corrupted_result_is_detected(tmp_path, damage):
    store = ResultsStore(tmp_path)
    csv_path = store.save(CONFIG, 0, fake_records(CONFIG, 0), wall_time=0.0)
    json_path = csv_path.with_suffix(".json")
    data = csv_path.read_bytes()
    if damage == "truncate":
        csv_path.write_bytes(data[: len(data) // 2])
    elif damage == "edit":  # same length, one digit changed
        i = data.index(b"\n") + 1
        csv_path.write_bytes(data[:i] + (b"1" if data[i : i + 1] != b"1" else b"2") + data[i + 1 :])
    elif damage == "delete-csv":
        csv_path.unlink()
    else:
        json_path.write_text("{not json")
    with pytest.raises(CorruptResultError) as err:
        store.load(CONFIG, 0)
    message = str(err.value)
    assert "seed-0" in message and "--force" in message and "Delete" in message


def test_csv_without_json_counts_as_not_run(tmp_path):
    store = ResultsStore(tmp_path)
    csv_path, _ = store.paths(CONFIG, 0)
    csv_path.parent.mkdir(parents=True)
    csv_path.write_text("step,metric,value\n0,accuracy,0.5\n")  # an interrupted save
    assert not store.has(CONFIG, 0) and store.load(CONFIG, 0) is None


def test_unwritable_root_names_path_and_env_var(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    store = ResultsStore(blocker / "results")
    with pytest.raises(ResultsStoreError) as err:
        store.save(CONFIG, 0, fake_records(CONFIG, 0), wall_time=0.0)
    assert str(blocker) in str(err.value) and RESULTS_ENV in str(err.value)


def test_save_rejects_non_tidy_records(tmp_path):
    store = ResultsStore(tmp_path)
    with pytest.raises(ValueError, match="metric"):
        store.save(CONFIG, 0, pd.DataFrame({"step": [0], "value": [1.0]}), wall_time=0.0)
    with pytest.raises(TypeError, match="DataFrame"):
        store.save(CONFIG, 0, [1, 2, 3], wall_time=0.0)
    assert not store.has(CONFIG, 0)


def _hammer(root: str, worker: int, rounds: int) -> None:
    store = ResultsStore(root)
    for r in range(rounds):
        # Every writer saves *different* records (another elapsed_s) for the same (config, seed).
        records = fake_records(CONFIG, 0)
        records["elapsed_s"] = float(worker * 1000 + r)
        store.save(CONFIG, 0, records, wall_time=float(worker), device="cpu")
        loaded = store.load(CONFIG, 0)  # must never see a mismatched CSV/JSON pair
        assert loaded is not None and len(loaded) == len(records)


def test_concurrent_saves_do_not_corrupt(tmp_path):
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    procs = [ctx.Process(target=_hammer, args=(str(tmp_path), w, 15)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    store = ResultsStore(tmp_path)
    back = store.load(CONFIG, 0)
    meta = store.provenance(CONFIG, 0)
    # The surviving CSV was written by the same writer as the surviving JSON.
    assert back["elapsed_s"].iloc[0] // 1000 == meta["wall_time_s"]
    leftovers = [p.name for p in store.run_dir(CONFIG).iterdir() if p.suffix == ".tmp"]
    assert leftovers == []


def test_load_all_adds_config_columns_and_filters(tmp_path):
    store = ResultsStore(tmp_path)
    other = CONFIG.replace(estimator="nwj")
    noniid = NonIIDConfig(experiment="other-exp", profile="book", steps=5)
    store.save(CONFIG, 0, fake_records(CONFIG, 0), wall_time=0.0)
    store.save(other, 1, fake_records(other, 1), wall_time=0.0)
    store.save(noniid, 0, fake_records(noniid, 0), wall_time=0.0)
    everything = store.load_all()
    assert len(everything) == 150
    smoke = store.load_all(profile="smoke")
    assert set(smoke["estimator"]) == {"infonce", "nwj"} and len(smoke) == 100
    assert set(smoke["seed"]) == {0, 1}
    assert set(smoke["encoder_kwargs"]) == {json.dumps({"hidden": [32], "out_dim": 16})}
    assert set(store.load_all(experiment="other-exp")["kind"]) == {"noniid"}
    assert store.load_all(profile="paper").empty


def test_config_columns_are_flat_and_hashable():
    cols = config_columns(CONFIG)
    assert cols["config_key"] == CONFIG.key() and cols["kind"] == "multiview"
    for value in cols.values():
        hash(value)


# --------------------------------------------------------------------------------------------------
# Sweeps
# --------------------------------------------------------------------------------------------------


def test_sweep_runs_missing_pairs_then_uses_the_cache(tmp_path, capsys):
    store = ResultsStore(tmp_path)
    configs = [CONFIG, CONFIG.replace(estimator="nwj")]
    run = FakeRun()
    first = run_sweep(configs, 2, run, store=store, progress=False)
    assert len(run.calls) == 4
    assert "0 cached, 4 run" in capsys.readouterr().out
    second = run_sweep(configs, [0, 1], run, store=store, progress=False)
    assert len(run.calls) == 4  # nothing re-run
    assert "4 cached, 0 run" in capsys.readouterr().out
    pd.testing.assert_frame_equal(first, second)
    assert {"step", "metric", "value", "seed", "estimator", "config_key", "steps"} <= set(first)
    assert len(first) == 4 * 50
    assert sorted(first.groupby(["estimator", "seed"]).size().index) == [
        ("infonce", 0),
        ("infonce", 1),
        ("nwj", 0),
        ("nwj", 1),
    ]
    run_sweep(configs, [1], run, store=store, force=True, progress=False)
    assert len(run.calls) == 6  # force re-runs


def test_interrupted_sweep_resumes(tmp_path):
    store = ResultsStore(tmp_path)
    configs = [CONFIG.replace(estimator=e) for e in ("infonce", "nwj", "dv")]
    run = FakeRun(fail_on=3)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(configs, 1, run, store=store, progress=False)
    assert [store.has(c, 0) for c in configs] == [True, True, False]
    resumed = FakeRun()
    out = run_sweep(configs, 1, resumed, store=store, progress=False)
    assert resumed.calls == [(configs[2].key(), 0)]
    assert set(out["estimator"]) == {"infonce", "nwj", "dv"}


def _other_process_runs(store, config, seed, *, stores_it: bool, hold_s: float = 0.5):
    """A thread standing in for another sweep: it claims ``(config, seed)`` (the same flock a
    second process would take), holds it ``hold_s`` seconds and stores the run if asked to."""
    import threading

    from mi_tutorial.fileio import locked as _locked

    claimed = threading.Event()

    def work():
        with _locked(store.running_lock_path(config, seed), exclusive=True):
            claimed.set()
            time.sleep(hold_s)
            if stores_it:
                store.save(config, seed, fake_records(config, seed), wall_time=1.0)

    thread = threading.Thread(target=work)
    thread.start()
    claimed.wait()
    return thread


@pytest.mark.parametrize("stores_it", [True, False])
def test_two_sweeps_share_a_store_without_running_a_pair_twice(tmp_path, capsys, stores_it):
    store = ResultsStore(tmp_path)
    busy, free = CONFIG, CONFIG.replace(estimator="nwj")
    other = _other_process_runs(store, busy, 0, stores_it=stores_it)
    run = FakeRun()
    out = run_sweep([busy, free], [0], run, store=store, progress=False)
    other.join()
    # The free pair is run first; the busy one is waited for, and run here only if the other
    # process stopped without storing it.
    expected = [(free.key(), 0)] + ([] if stores_it else [(busy.key(), 0)])
    assert run.calls == expected
    assert "waiting for seed 0 of test-exp/" in capsys.readouterr().err
    assert set(out["estimator"]) == {"infonce", "nwj"}


def test_sweep_validates_arguments(tmp_path):
    store = ResultsStore(tmp_path)
    with pytest.raises(ValueError, match="duplicates"):
        run_sweep([CONFIG], [0, 0], FakeRun(), store=store)
    with pytest.raises(TypeError, match="RunConfig"):
        run_sweep([{"steps": 3}], 1, FakeRun(), store=store)
    with pytest.raises(ValueError, match="n_jobs"):
        run_sweep([CONFIG], 1, FakeRun(), store=store, n_jobs=0)


def test_parallel_sweep_matches_sequential(tmp_path):
    configs = [CONFIG.replace(estimator=e) for e in ("infonce", "nwj")]
    parallel = run_sweep(
        configs, 2, module_level_run, store=ResultsStore(tmp_path / "p"), n_jobs=2, progress=False
    )
    sequential = run_sweep(
        configs, 2, module_level_run, store=ResultsStore(tmp_path / "s"), progress=False
    )
    pd.testing.assert_frame_equal(parallel, sequential)


def test_provenance_names_the_cuda_device_that_ran(monkeypatch):
    import torch

    from mi_tutorial.provenance import environment_info

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda d: f"gpu {torch.device(d).index}")
    assert environment_info("cuda:1")["machine"]["cuda_device"] == "gpu 1"
    assert environment_info("cpu")["machine"]["cuda_device"] is None


# --------------------------------------------------------------------------------------------------
# A stored run is trusted only if it is what its path says (issue 26)
# --------------------------------------------------------------------------------------------------

OTHER = CONFIG.replace(lr=CONFIG.lr * 2)


def _copy_pair(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in (".csv", ".json"):
        target.with_suffix(suffix).write_bytes(source.with_suffix(suffix).read_bytes())


def _assert_refused(store: ResultsStore, config, seed: int, expected: str) -> None:
    with pytest.raises(CorruptResultError) as err:
        store.load(config, seed)
    message = str(err.value)
    assert expected in message, message
    assert f"seed-{seed}.json" in message
    assert "Delete" in message and "re-run" in message and "git checkout" in message


@pytest.mark.parametrize("payload", ["[]", "null", '"text"', "3"])
def test_json_that_is_not_an_object_is_corrupt(tmp_path, payload):
    store = ResultsStore(tmp_path)
    _, json_path = store.paths(CONFIG, 0)
    store.save(CONFIG, 0, fake_records(CONFIG, 0), wall_time=0.0)
    json_path.write_text(payload)
    _assert_refused(store, CONFIG, 0, "not an object")
    with pytest.raises(CorruptResultError, match="not an object"):
        store.load_all()


def test_run_copied_into_another_configs_folder_is_refused(tmp_path):
    store = ResultsStore(tmp_path)
    csv_path = store.save(CONFIG, 0, fake_records(CONFIG, 0), wall_time=0.0)
    _copy_pair(csv_path, store.paths(OTHER, 0)[0])
    _assert_refused(store, OTHER, 0, f"is for config '{CONFIG.key()}'")
    assert store.load(CONFIG, 0) is not None  # the original is still fine


def test_seed_copied_to_another_seed_is_refused(tmp_path):
    store = ResultsStore(tmp_path)
    csv_path = store.save(CONFIG, 0, fake_records(CONFIG, 0), wall_time=0.0)
    _copy_pair(csv_path, store.paths(CONFIG, 1)[0])
    _assert_refused(store, CONFIG, 1, "is for seed 0, not the seed 1")
    with pytest.raises(CorruptResultError, match="seed 0, not the seed 1"):
        run_sweep([CONFIG], [0, 1], module_level_run, store=store, progress=False)


@pytest.mark.parametrize(("field", "value"), [("lr", 0.5), ("seed", 3), ("estimator", "nwj")])
def test_json_whose_config_was_edited_is_refused(tmp_path, field, value):
    store = ResultsStore(tmp_path)
    _, json_path = store.paths(CONFIG, 0)
    store.save(CONFIG, 0, fake_records(CONFIG, 0), wall_time=0.0)
    meta = json.loads(json_path.read_text())
    if field == "seed":
        meta["seed"] = value
        expected = "is for seed 3"
    else:
        meta["config"][field] = value
        expected = "(edited by hand?)"
    json_path.write_text(json.dumps(meta))
    _assert_refused(store, CONFIG, 0, expected)


def test_json_with_an_invalid_config_is_refused(tmp_path):
    store = ResultsStore(tmp_path)
    _, json_path = store.paths(CONFIG, 0)
    store.save(CONFIG, 0, fake_records(CONFIG, 0), wall_time=0.0)
    meta = json.loads(json_path.read_text())
    meta["config"]["kind"] = "bogus"
    json_path.write_text(json.dumps(meta))
    _assert_refused(store, CONFIG, 0, "holds no valid config")


def test_run_copied_into_another_experiments_folder_is_refused(tmp_path):
    store = ResultsStore(tmp_path)
    csv_path = store.save(CONFIG, 0, fake_records(CONFIG, 0), wall_time=0.0)
    _copy_pair(csv_path, tmp_path / "smoke" / "other-exp" / CONFIG.key() / "seed-0.csv")
    with pytest.raises(CorruptResultError, match="is a run of smoke/test-exp, not of smoke/other"):
        store.load_all()


def test_hostile_weights_file_is_refused_without_torch_advice(tmp_path):
    import pickle

    store = ResultsStore(tmp_path)
    store.save(CONFIG, 0, fake_records(CONFIG, 0), wall_time=0.0, models={"critic": {}})
    path, (_, json_path) = store.model_path(CONFIG, 0), store.paths(CONFIG, 0)

    class Hostile:
        def __reduce__(self):
            return (print, ("pwned",))

    path.write_bytes(pickle.dumps(Hostile()))
    with pytest.raises(CorruptResultError, match="does not match the SHA-256") as err:
        store.load_models(CONFIG, 0)
    # a hostile payload whose digest was also put into the JSON
    meta = json.loads(json_path.read_text())
    meta["models_sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    json_path.write_text(json.dumps(meta))
    with pytest.raises(CorruptResultError, match="not a weights file of this project") as err:
        store.load_models(CONFIG, 0)
    assert "weights_only=False" not in str(err.value) and str(path) in str(err.value)
    assert "Delete it" in str(err.value)


# --------------------------------------------------------------------------------------------------
# Shared folders (issue 26)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("umask", "mode"), [(0o002, 0o664), (0o022, 0o644), (0o077, 0o600)])
def test_stored_files_respect_the_umask(tmp_path, umask, mode):
    import os

    store = ResultsStore(tmp_path)
    before = os.umask(umask)
    try:
        store.save(CONFIG, 0, fake_records(CONFIG, 0), wall_time=0.0, models={"critic": {}})
    finally:
        os.umask(before)
    csv_path, json_path = store.paths(CONFIG, 0)
    for path in (csv_path, json_path, store.model_path(CONFIG, 0)):
        assert path.stat().st_mode & 0o777 == mode, path


def test_the_running_lock_names_its_holder_while_held_only(tmp_path):
    import os

    from mi_tutorial.fileio import read_holder

    store = ResultsStore(tmp_path)
    seen = []

    def run(config, seed, *, device="cpu", progress=True):
        seen.append(read_holder(store.running_lock_path(config, seed)))
        return fake_records(config, seed)

    run_sweep([CONFIG], [0], run, store=store, progress=False)
    assert seen[0]["pid"] == str(os.getpid()) and seen[0]["started"].startswith("20")
    assert read_holder(store.running_lock_path(CONFIG, 0)) == {}


def test_waiting_sweep_says_who_holds_the_run(tmp_path, capsys, monkeypatch):
    import os
    import threading

    from mi_tutorial.fileio import holder_note, locked

    store = ResultsStore(tmp_path)
    claimed, release = threading.Event(), threading.Event()

    def other():
        with locked(store.running_lock_path(CONFIG, 0), exclusive=True, holder=holder_note()):
            claimed.set()
            release.wait(10)

    thread = threading.Thread(target=other)
    thread.start()
    claimed.wait()
    timer = threading.Timer(0.5, release.set)
    timer.start()
    run_sweep([CONFIG], [0], FakeRun(), store=store, progress=False)
    thread.join()
    err = capsys.readouterr().err
    assert f"waiting for seed 0 of test-exp/{CONFIG.key()}: held by PID {os.getpid()} on " in err
    assert (
        " since 20" in err and "if that process is stopped" in err and f"kill {os.getpid()}" in err
    )


def test_summary_counts_only_what_this_process_ran(tmp_path, capsys):
    store = ResultsStore(tmp_path)
    busy, free = CONFIG, CONFIG.replace(estimator="nwj")
    other = _other_process_runs(store, busy, 0, stores_it=True)
    run_sweep([busy, free], [0], FakeRun(), store=store, progress=False)
    other.join()
    out = capsys.readouterr().out
    assert "2 run(s): 0 cached, 1 run, 1 run by another process meanwhile in" in out
    run_sweep([busy, free], [0], FakeRun(), store=store, progress=False)
    assert "2 run(s): 2 cached, 0 run in" in capsys.readouterr().out


def test_dirty_means_changed_code_not_changed_results(tmp_path, monkeypatch):
    """A checkout that re-made a committed run still holds the committed code: only changes
    outside results/ make the provenance say dirty."""
    import subprocess

    import mi_tutorial.provenance as provenance

    repo = tmp_path / "repo"
    (repo / "mi_tutorial").mkdir(parents=True)
    (repo / "results").mkdir()
    (repo / "mi_tutorial" / "code.py").write_text("x = 1\n")
    (repo / "results" / "seed-0.csv").write_text("step\n0\n")
    git = ["git", "-C", str(repo), "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    fake_module = repo / "mi_tutorial" / "provenance.py"
    monkeypatch.setattr(provenance, "__file__", str(fake_module))

    def state():
        provenance.git_state.cache_clear()
        return provenance.git_state()

    try:
        assert state()[1] is False
        (repo / "results" / "seed-0.csv").write_text("step\n0\n1\n")  # a re-made run
        assert state()[1] is False
        (repo / "mi_tutorial" / "code.py").write_text("x = 2\n")  # changed code
        assert state()[1] is True
    finally:
        provenance.git_state.cache_clear()


def test_provenance_says_whether_the_concat_critic_ran_compiled(monkeypatch):
    from mi_tutorial.provenance import environment_info

    assert environment_info("cpu")["machine"]["concat_critic_kernel"] == "compiled"
    monkeypatch.setenv("MI_TUTORIAL_COMPILE", "0")
    assert environment_info("cpu")["machine"]["concat_critic_kernel"] == "eager"
