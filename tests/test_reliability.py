"""Reliability (issue 12): bad input gets a clear error, interrupted work loses nothing, the same
``(config, seed)`` gives the same records in any process, and nothing is deserialised unsafely.

Bad-input cases already tested elsewhere (referenced, not repeated here):

* missing data root, ``ensure_mnist(root, allow_download=False)`` — test_data.py
  ``test_missing_data_root_without_download_is_a_clear_error``
* corrupted / truncated / missing IDX file — test_data.py ``test_corrupted_idx_file_is_refused``,
  ``test_truncated_idx_file_is_refused``, ``test_missing_file_is_named``
* checksum mismatch of a rebuilt file (nothing written) — test_data.py
  ``test_checksum_mismatch_is_refused_and_nothing_is_written``
* hostile pickle (refused, never runs) — test_data.py ``test_hostile_pickle_is_refused_and_never_runs``
* corrupted stored result (truncated, edited, CSV deleted, bad JSON) — test_results.py
  ``test_corrupted_result_is_detected``; through the CLI — test_cli.py
  ``test_corrupt_store_exits_1_and_says_how_to_fix``
* a chapter cell raising — test_pipeline.py ``test_a_failing_cell_names_the_chapter_and_the_cell``
* NaN/inf loss — test_train.py ``test_nan_objective_raises_with_step_and_estimator``,
  ``test_nan_inputs_raise_training_diverged``, ``test_huge_learning_rate_diverges``
* two processes saving the same ``(config, seed)`` — test_results.py
  ``test_concurrent_saves_do_not_corrupt`` (and the determinism test below shares one store)
"""

from __future__ import annotations

import ast
import contextlib
import errno
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import mi_tutorial.runs.store as results_module
import mi_tutorial.runs.sweep as sweep_module
from mi_tutorial import paper
from mi_tutorial._validation import check_seeds
from mi_tutorial.cli import main
from mi_tutorial.config import AdversarialConfig, MultiViewConfig, NonIIDConfig
from mi_tutorial.critics import make_critic
from mi_tutorial.data import add_shared_noise
from mi_tutorial.encoders import make_encoder
from mi_tutorial.estimators import estimate
from mi_tutorial.nn_init import apply_init
from mi_tutorial.runs import (
    CorruptResultError,
    ResultsStore,
    ResultsStoreError,
    run_sweep,
)
from mi_tutorial.synthetic import rho_for_mi
from mi_tutorial.training import run_config

REPO = Path(__file__).resolve().parents[1]
SMOKE = MultiViewConfig(
    experiment="reliability", profile="smoke", dataset="digits", steps=3, eval_every=2, batch_size=8
)


def _env(tmp_path: Path) -> dict[str, str]:
    """Environment for child processes: one thread each (2 shared cores), a scratch results root."""
    env = dict(os.environ)
    env.update(
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        MI_TUTORIAL_RESULTS=str(tmp_path / "default-results"),
        MPLBACKEND="Agg",
    )
    return env


def fake_records(config, seed) -> pd.DataFrame:
    rng = np.random.default_rng([seed, int(config.key(), 16) % 2**32])
    steps = range(0, config.steps, config.eval_every)
    rows = [(s, m, float(rng.random()), 0.0) for s in steps for m in ("accuracy", "bound")]
    return pd.DataFrame(rows, columns=["step", "metric", "value", "elapsed_s"])


class CountingRun:
    """A fake ``run_fn`` that remembers what it was asked to run."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def __call__(self, config, seed, *, device="cpu", progress=True):
        self.calls.append((config.key(), seed))
        return fake_records(config, seed)


# ==================================================================================================
# 1. Bad inputs: a clear error naming the bad value (and the fix), nothing half-written
# ==================================================================================================

BAD_VALUES = [
    # (id, call, exception, message that must appear)
    ("steps=0", lambda: MultiViewConfig(steps=0), ValueError, r"steps must be >= 1, got 0"),
    ("steps<0", lambda: NonIIDConfig(steps=-5), ValueError, r"steps must be >= 1, got -5"),
    (
        "steps float",
        lambda: MultiViewConfig(steps=2.5),
        TypeError,
        r"steps must be an integer.*2\.5",
    ),
    ("eval_every=0", lambda: MultiViewConfig(eval_every=0), ValueError, r"eval_every.*got 0"),
    (
        "batch_size=1",
        lambda: MultiViewConfig(batch_size=1),
        ValueError,
        r"batch_size must be >= 2, got 1",
    ),
    ("noniid batch=1", lambda: NonIIDConfig(batch_size=1), ValueError, r"batch_size must be >= 2"),
    ("lr=0", lambda: MultiViewConfig(lr=0.0), ValueError, r"lr must be > 0, got 0\.0"),
    (
        "noise<0",
        lambda: MultiViewConfig(noise_std=-0.1),
        ValueError,
        r"noise_std must be >= 0.*-0\.1",
    ),
    (
        "noise nan",
        lambda: MultiViewConfig(noise_std=float("nan")),
        ValueError,
        r"noise_std must be finite",
    ),
    (
        "noise<0 (data)",
        lambda: add_shared_noise(torch.zeros(2, 3), torch.zeros(2, 3), -1.0),
        ValueError,
        r"noise std must be >= 0.*-1\.0",
    ),
    ("t<0", lambda: MultiViewConfig(target=-1.0), ValueError, r"target t must be >= 0.*-1\.0"),
    ("t inf", lambda: MultiViewConfig(target=float("inf")), ValueError, r"target t must be finite"),
    ("mi<0", lambda: rho_for_mi(-0.5), ValueError, r"mi must be >= 0.*-0\.5"),
    (
        "classifier_steps=0",
        lambda: AdversarialConfig(classifier_steps=0),
        ValueError,
        r"classifier_steps must be >= 1, got 0",
    ),
    ("seeds float", lambda: check_seeds([0, 1.5]), TypeError, r"seed must be an integer.*1\.5"),
    ("seeds str", lambda: check_seeds("3"), TypeError, r"integer count or a list.*'3'"),
    ("seeds count float", lambda: check_seeds(2.0), TypeError, r"2\.0"),
    ("seeds bool", lambda: check_seeds([True]), TypeError, r"seed must be an integer.*True"),
    ("seeds 0", lambda: check_seeds(0), ValueError, r"number of seeds must be >= 1, got 0"),
    ("seeds negative", lambda: check_seeds([3, -1]), ValueError, r"seed must be >= 0, got -1"),
    ("seeds empty", lambda: check_seeds([]), ValueError, r"seeds is empty.*e\.g\. \[0\]"),
    ("seeds duplicate", lambda: check_seeds([1, 1]), ValueError, r"duplicates: \[1, 1\]"),
    ("run seed float", lambda: run_config(SMOKE, 0.5, progress=False), TypeError, r"seed.*0\.5"),
    ("run seed<0", lambda: run_config(SMOKE, -1, progress=False), ValueError, r"seed must be >= 0"),
]


@pytest.mark.parametrize(
    ("call", "exception", "message"),
    [case[1:] for case in BAD_VALUES],
    ids=[case[0] for case in BAD_VALUES],
)
def test_bad_values_name_the_value_and_the_limit(call, exception, message):
    with pytest.raises(exception, match=message):
        call()


UNKNOWN_NAMES = [
    # (kind, call with a typo, the suggestion that must appear)
    ("experiment", lambda: paper.get_configs("critic-capacty", "smoke"), "'critic-capacity'"),
    ("profile", lambda: paper.get_configs("noniid", "papr"), "'paper'"),
    ("profile", lambda: paper.run("noniid", "smoek", run_fn=CountingRun()), "'smoke'"),
    ("encoder", lambda: make_encoder("convent", input_dim=32), "'convnet'"),
    ("critic", lambda: make_critic("separble", 4, 4), "'separable'"),
    ("estimator", lambda: estimate("infonec", torch.zeros(3, 3)), "'infonce'"),
    ("init scheme", lambda: apply_init(torch.nn.Linear(2, 2), "glorott"), "glorot"),
    (
        "dataset",
        lambda: run_config(SMOKE.replace(dataset="digit"), 0, progress=False),
        "'digits'",
    ),
    (
        "estimator",
        lambda: run_config(SMOKE.replace(estimator="nwjj"), 0, progress=False),
        "'nwj'",
    ),
]


@pytest.mark.parametrize(
    ("kind", "call", "suggestion"),
    UNKNOWN_NAMES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(UNKNOWN_NAMES)],
)
def test_unknown_names_are_refused_with_suggestions(kind, call, suggestion):
    with pytest.raises(ValueError) as err:
        call()
    message = str(err.value)
    assert f"unknown {kind}" in message and suggestion in message and "Choose one of" in message


def test_bad_sweep_arguments_write_nothing(tmp_path):
    root = tmp_path / "results"
    run = CountingRun()
    with pytest.raises(TypeError, match=r"seed must be an integer.*'1'"):
        run_sweep([SMOKE], [0, "1"], run, store=ResultsStore(root), progress=False)
    with pytest.raises(ValueError, match="unknown experiment"):
        paper.run("criticcapacity", "smoke", store=ResultsStore(root), run_fn=run, progress=False)
    with pytest.raises(TypeError, match=r"seed must be an integer.*0\.5"):
        paper.run("noniid", "smoke", [0.5], store=ResultsStore(root), run_fn=run, progress=False)
    assert run.calls == [] and not root.exists()


def test_unwritable_results_folder_fails_before_any_training(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where the results folder should be")
    run = CountingRun()
    with pytest.raises(ResultsStoreError) as err:
        run_sweep([SMOKE], 2, run, store=ResultsStore(blocker / "results"), progress=False)
    message = str(err.value)
    assert str(blocker / "results") in message
    assert "--results" in message and results_module.RESULTS_ENV in message
    assert run.calls == [], "training ran although its result could never be saved"


def test_cli_unwritable_results_folder_exits_1_without_traceback(tmp_path, monkeypatch, capsys):
    run = CountingRun()
    monkeypatch.setattr(sweep_module, "_default_run_fn", lambda: run)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    argv = ["run", "noniid", "--profile", "smoke", "--results", str(blocker), "--quiet"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert str(blocker) in err and "--results" in err and "Traceback" not in err
    assert run.calls == []


@pytest.mark.parametrize("failing", ["csv", "json"])
def test_disk_full_leaves_no_partial_file_and_names_the_path(tmp_path, monkeypatch, failing):
    store = ResultsStore(tmp_path)
    csv_path, json_path = store.paths(SMOKE, 0)
    real_fsync, calls = os.fsync, []

    def fsync_until_full(fd):
        calls.append(fd)
        # Data has been written to the temporary file by now: the disk fills up on the flush.
        if len(calls) == (1 if failing == "csv" else 2):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_fsync(fd)

    monkeypatch.setattr(results_module.os, "fsync", fsync_until_full)
    with pytest.raises(ResultsStoreError) as err:
        store.save(SMOKE, 0, fake_records(SMOKE, 0), wall_time=1.0)
    message = str(err.value)
    assert str(csv_path if failing == "csv" else json_path) in message
    assert "No space left on device" in message and "--results" in message
    left = sorted(p.name for p in csv_path.parent.iterdir() if p.suffix != ".lock")
    assert left == [], f"partial files left behind: {left}"
    assert not store.has(SMOKE, 0) and store.load(SMOKE, 0) is None


def test_disk_full_on_overwrite_keeps_the_previous_result(tmp_path, monkeypatch):
    store = ResultsStore(tmp_path)
    first = fake_records(SMOKE, 0)
    store.save(SMOKE, 0, first, wall_time=1.0)
    before = store.provenance(SMOKE, 0)
    real_fsync, calls = os.fsync, []

    def full_on_json(fd):
        calls.append(fd)
        if len(calls) == 2:  # the new CSV is complete, the new JSON cannot be written
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_fsync(fd)

    monkeypatch.setattr(results_module.os, "fsync", full_on_json)
    second = fake_records(SMOKE, 0).assign(value=0.5)
    with pytest.raises(ResultsStoreError, match="No space left"):
        store.save(SMOKE, 0, second, wall_time=2.0)
    monkeypatch.undo()
    pd.testing.assert_frame_equal(store.load(SMOKE, 0), first, check_exact=True)
    assert store.provenance(SMOKE, 0) == before
    assert not [p for p in store.run_dir(SMOKE).iterdir() if p.suffix == ".tmp"]


def test_corrupt_result_is_not_silently_used_by_sweeps_or_load_all(tmp_path):
    store = ResultsStore(tmp_path)
    run = CountingRun()
    run_sweep([SMOKE], 1, run, store=store, progress=False)
    csv_path, _ = store.paths(SMOKE, 0)
    text = csv_path.read_text()
    csv_path.write_text(text.replace("accuracy", "accuracz", 1))  # same length, wrong content
    with pytest.raises(CorruptResultError, match=r"seed-0.*SHA-256.*--force"):
        run_sweep([SMOKE], 1, run, store=store, progress=False)
    with pytest.raises(CorruptResultError, match="seed-0"):
        store.load_all()
    assert len(run.calls) == 1
    fixed = run_sweep([SMOKE], 1, run, store=store, force=True, progress=False)
    assert len(run.calls) == 2 and "accuracz" not in set(fixed["metric"])


CLI_USAGE_ERRORS = [
    (["run", "critic-capacty"], "Did you mean 'critic-capacity'"),
    (["run", "noniid", "--profile", "papr"], "Did you mean 'paper'"),
    (["run", "noniid", "--seeds", "1.5"], "bad --seeds '1.5': not integers"),
    (["run", "noniid", "--seeds", "-1"], "number of seeds must be >= 1, got -1"),
    (["run", "noniid", "--seeds", "0,-2"], "seed must be >= 0, got -2"),
    (["run", "noniid", "--seeds", ""], "seeds is empty"),
    (["run", "noniid", "--jobs", "two"], "--jobs: expected an integer >= 1, got 'two'"),
    (["run"], "required: EXPERIMENT"),
]


@pytest.mark.parametrize(("argv", "expected"), CLI_USAGE_ERRORS)
def test_cli_usage_errors_exit_2_in_process(argv, expected, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err


def test_cli_usage_errors_exit_2_as_a_real_process(tmp_path):
    """The installed entry point, not just ``main()``: status 2, a message and no traceback."""
    cases = CLI_USAGE_ERRORS[:2]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "mi_tutorial.cli", *argv],
            cwd=REPO,
            env=_env(tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv, _ in cases
    ]
    for (argv, expected), proc in zip(cases, procs, strict=True):
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 2, (argv, out, err)
        assert expected in err and "Traceback" not in err + out, (argv, err)


# ==================================================================================================
# 2. Interrupted sweeps: SIGKILL in the middle, rerun, nothing lost, nothing corrupt
# ==================================================================================================


def _finished(results: Path) -> dict[Path, tuple]:
    """Every finished run (its JSON exists): mtimes, provenance timestamp and CSV digest."""
    out = {}
    for json_path in sorted(results.rglob("seed-*.json")):
        csv_path = json_path.with_suffix(".csv")
        meta = json.loads(json_path.read_text())
        out[json_path] = (
            csv_path.stat().st_mtime_ns,
            json_path.stat().st_mtime_ns,
            meta["timestamp"],
            meta["csv_sha256"],
        )
    return out


def test_killed_sweep_resumes_and_reuses_every_finished_run(tmp_path, capsys):
    results = tmp_path / "results"
    argv = ["run", "critic-capacity", "--profile", "smoke", "--seeds", "2"]
    argv += ["--results", str(results), "--quiet"]
    configs = paper.get_configs("critic-capacity", "smoke")
    n_pairs = 2 * len(configs)
    proc = subprocess.Popen(
        [sys.executable, "-m", "mi_tutorial.cli", *argv],
        cwd=REPO,
        env=_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not list(results.rglob("seed-*.json")):
            assert proc.poll() is None, f"the sweep stopped early: {proc.stderr.read()}"
            assert time.monotonic() < deadline, "no run finished within 120 s"
            time.sleep(0.02)
        time.sleep(0.05)  # into the next pair
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    before = _finished(results)
    assert 1 <= len(before) < n_pairs, "the sweep was not interrupted in the middle"

    with _one_thread():
        assert main(argv) == 0  # rerun (in this process)
    out = capsys.readouterr().out
    assert f"{len(before)} cached, {n_pairs - len(before)} run" in out

    after = _finished(results)
    assert len(after) == n_pairs
    for path, state in before.items():
        assert after[path] == state, f"{path} was recomputed or rewritten"
    store = ResultsStore(results)
    everything = store.load_all()  # verifies every CSV against the SHA-256 in its JSON
    assert everything.groupby(["config_key", "seed"]).ngroups == n_pairs
    for config in configs:
        for seed in range(2):
            records = store.load(config, seed)
            final = records[records["metric"].isin(["accuracy", "bound"])]["value"]
            assert len(final) == 6 and np.isfinite(final.to_numpy()).all()
    # A run killed while saving can leave a hidden temporary file, never a visible pair.
    for csv_path in results.rglob("seed-*.csv"):
        assert csv_path.with_suffix(".json").is_file(), f"{csv_path} has no provenance"


# ==================================================================================================
# 3. Determinism: same (config, seed) in two separate processes -> bit-identical records
# ==================================================================================================


def determinism_run(out: str | Path, shared: str | Path) -> None:
    """Run two smoke configs (coupled noise + Jacobians; non-i.i.d. batches) with seeds 0 and 1,
    save them to the ``shared`` store and write their records, without ``elapsed_s``, to ``out``.
    Called once in this process and once in a child process."""
    out, store = Path(out), ResultsStore(shared)
    out.mkdir(parents=True)
    for name in ("residual", "noniid"):
        config = paper.get_configs(name, "smoke")[0]
        for seed in (0, 1):
            records = run_config(config, seed, progress=False)
            store.save(config, seed, records, wall_time=0.0)  # both processes write one store
            records.drop(columns="elapsed_s").to_csv(out / f"{name}-seed{seed}.csv", index=False)


@contextlib.contextmanager
def _one_thread():
    """Match the children (OMP_NUM_THREADS=1) and spare the 2 shared cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def test_same_seed_is_bit_identical_across_processes(tmp_path):
    shared = tmp_path / "shared-store"
    child_code = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
        "import test_reliability as t; t.determinism_run(sys.argv[1], sys.argv[2])"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", child_code, str(tmp_path / "child"), str(shared)],
        cwd=REPO,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with _one_thread():
            determinism_run(tmp_path / "parent", shared)
    finally:
        out, err = child.communicate(timeout=240)
    assert child.returncode == 0, err[-3000:]
    store = ResultsStore(shared)
    for name in ("residual", "noniid"):
        config = paper.get_configs(name, "smoke")[0]
        runs = {}
        for seed in (0, 1):
            mine = (tmp_path / "parent" / f"{name}-seed{seed}.csv").read_bytes()
            theirs = (tmp_path / "child" / f"{name}-seed{seed}.csv").read_bytes()
            assert mine == theirs, f"{name} seed {seed} differs between two processes"
            runs[seed] = pd.read_csv(tmp_path / "parent" / f"{name}-seed{seed}.csv")
            stored = store.load(config, seed).drop(columns="elapsed_s")
            pd.testing.assert_frame_equal(stored, runs[seed], check_exact=True)
        assert len(runs[0]) == len(runs[1]) > 0
        assert not np.array_equal(runs[0]["value"], runs[1]["value"]), f"{name}: seed ignored"


# ==================================================================================================
# 4. No unsafe deserialisation anywhere in the shipped code
# ==================================================================================================

SCANNED = ("mi_tutorial", "book", "benchmarks", "scripts")
#: The one permitted use: data.py's unpickler that resolves numpy arrays and nothing else.
ALLOWED = {("mi_tutorial/data.py", "pickle.Unpickler")}
_ALWAYS_UNSAFE = re.compile(
    r"(^|\.)(c?pickle|dill|cloudpickle|marshal|_pickle)\.(loads?|Unpickler)$"
    r"|(^|\.)(shelve\.open|joblib\.load|read_pickle|jsonpickle\.decode|yaml\.unsafe_load"
    r"|yaml\.unsafe_load_all)$"
)
_PICKLING_MODULES = {"pickle", "_pickle", "cPickle", "dill", "cloudpickle", "marshal", "shelve"}


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def _keyword(call: ast.Call, name: str) -> ast.AST | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def unsafe_uses(source: str, filename: str) -> list[str]:
    """``file:line what`` for every unsafe deserialisation (or eval/exec) in ``source``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # a notebook cell with IPython magics: blank those lines and retry
        cleaned = "\n".join(
            "" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()
        )
        tree = ast.parse(cleaned)
    found = []

    def flag(node: ast.AST, what: str) -> None:
        if (filename, what) not in ALLOWED:
            found.append(f"{filename}:{node.lineno} {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in _PICKLING_MODULES:
            for alias in node.names:
                if alias.name in ("load", "loads", "Unpickler", "open", "*"):
                    flag(node, f"from {node.module} import {alias.name}")
        if isinstance(node, ast.Attribute):
            name = _dotted(node)
            if name and _ALWAYS_UNSAFE.search(name):
                flag(node, name)
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func) or ""
        if name in ("eval", "exec", "builtins.eval", "builtins.exec", "__import__"):
            flag(node, f"{name}(")
        elif name == "torch.load" or name.endswith(".torch.load"):
            weights_only = _keyword(node, "weights_only")
            if not (isinstance(weights_only, ast.Constant) and weights_only.value is True):
                flag(node, "torch.load( without weights_only=True")
        elif name in ("yaml.load", "yaml.load_all"):
            loader = _keyword(node, "Loader")
            if loader is None and len(node.args) > 1:
                loader = node.args[1]
            loader_name = _dotted(loader) if loader is not None else None
            if not (loader_name and loader_name.split(".")[-1] in ("SafeLoader", "CSafeLoader")):
                flag(node, f"{name}( without SafeLoader")
        elif name in ("np.load", "numpy.load"):
            allow = _keyword(node, "allow_pickle")
            if isinstance(allow, ast.Constant) and allow.value is True:
                flag(node, f"{name}(allow_pickle=True)")
    return found


def _sources():
    for top in SCANNED:
        for path in sorted((REPO / top).rglob("*")):
            if any(part in (".ipynb_checkpoints", "_build", "__pycache__") for part in path.parts):
                continue
            rel = path.relative_to(REPO).as_posix()
            if path.suffix == ".py":
                yield rel, path.read_text(encoding="utf-8")
            elif path.suffix == ".ipynb":
                nb = json.loads(path.read_text(encoding="utf-8"))
                for i, cell in enumerate(nb.get("cells", [])):
                    if cell.get("cell_type") == "code":
                        source = cell.get("source", "")
                        yield (
                            f"{rel}#cell{i}",
                            "".join(source) if isinstance(source, list) else source,
                        )


def test_no_unsafe_deserialisation_in_the_package_book_or_benchmarks():
    sources = list(_sources())
    assert any(rel == "mi_tutorial/data.py" for rel, _ in sources)
    found = [hit for rel, source in sources for hit in unsafe_uses(source, rel)]
    assert found == [], "unsafe deserialisation or eval/exec:\n" + "\n".join(found)


def test_the_only_allowed_unpickler_is_restricted():
    """The allowed ``pickle.Unpickler`` subclass must override ``find_class`` (numpy only)."""
    tree = ast.parse((REPO / "mi_tutorial" / "data.py").read_text(encoding="utf-8"))
    subclasses = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        and any(_dotted(base) == "pickle.Unpickler" for base in node.bases)
    ]
    assert len(subclasses) == 1
    methods = {n.name for n in subclasses[0].body if isinstance(n, ast.FunctionDef)}
    assert "find_class" in methods


def test_the_scanner_catches_every_pattern():
    bad = """
import pickle, yaml, torch, numpy as np, joblib, marshal
from pickle import loads
import pandas as pd
pickle.load(open("f", "rb"))
pickle.loads(b"")
f = pickle.loads
class U(pickle.Unpickler): pass
torch.load("m.pt")
torch.load("m.pt", weights_only=False)
yaml.load(text)
yaml.load(text, Loader=yaml.FullLoader)
yaml.unsafe_load(text)
eval("1 + 1")
exec("x = 1")
np.load("a.npy", allow_pickle=True)
joblib.load("m.joblib")
marshal.loads(b"")
pd.read_pickle("x.pkl")
"""
    good = """
%matplotlib inline
import torch, yaml, numpy as np, ast
model.eval()
torch.load("m.pt", weights_only=True)
yaml.load(text, Loader=yaml.SafeLoader)
yaml.safe_load(text)
np.load("a.npy")
ast.literal_eval("[1, 2]")
"""
    flagged = {int(hit.split(":")[1].split()[0]) for hit in unsafe_uses(bad, "bad.py")}
    expected = {
        number
        for number, line in enumerate(bad.splitlines(), start=1)
        if line and not line.startswith("import ")
    }
    assert flagged == expected, sorted(expected - flagged)
    assert unsafe_uses(good, "good.py") == []
    # The allow-list is per file: the same subclass elsewhere is flagged.
    assert (
        unsafe_uses("import pickle\nclass U(pickle.Unpickler): pass\n", "mi_tutorial/data.py") == []
    )
    assert unsafe_uses("import pickle\nclass U(pickle.Unpickler): pass\n", "mi_tutorial/x.py")
