"""Resumable runs: an interrupted multi-view run continues from its last evaluation and ends with
exactly the records of an uninterrupted run (sklearn digits, tiny models, tens of steps)."""

from __future__ import annotations

import json
import math
import time

import pandas as pd
import pytest
import torch

import mi_tutorial.training.multiview as train_module
from mi_tutorial.config import MultiViewConfig
from mi_tutorial.runs import ResultsStore, run_sweep
from mi_tutorial.training import run_config, train_multiview
from mi_tutorial.training.checkpoint import CheckpointMismatch, checkpoint_summary, load_checkpoint

SMALL = {"hidden": (32,), "out_dim": 16}
NO_CLOCK = ["step", "metric", "value"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _config(**changes) -> MultiViewConfig:
    base = {
        "dataset": "digits",
        "encoder": "mlp",
        "encoder_kwargs": SMALL,
        "critic": "separable",
        "critic_kwargs": {"hidden": 8, "out": 8},
        "estimator": "nwj",
        "steps": 31,
        "eval_every": 10,
        "batch_size": 64,
        "lr": 1e-2,
        "noise_std": 0.05,  # exercises the noise streams too
    }
    base.update(changes)
    return MultiViewConfig(**base)


class Interrupt(Exception):
    """Stands in for a killed process."""


def _interrupt_after(monkeypatch, n_batches: int) -> None:
    """Make the n-th training batch of the next run raise :class:`Interrupt`."""
    original = train_module.EpochBatches.next
    calls = {"n": 0}

    def next_batch(self):
        calls["n"] += 1
        if calls["n"] == n_batches:
            raise Interrupt
        return original(self)

    monkeypatch.setattr(train_module.EpochBatches, "next", next_batch)


@pytest.fixture(scope="module")
def uninterrupted() -> pd.DataFrame:
    return run_config(_config(), 3, progress=False)


@pytest.mark.parametrize("stop_at", [15, 27])
def test_resumed_run_equals_uninterrupted_run(tmp_path, monkeypatch, uninterrupted, stop_at):
    path = tmp_path / "run.ckpt"
    with monkeypatch.context() as patch:
        _interrupt_after(patch, stop_at)
        with pytest.raises(Interrupt):
            run_config(_config(), 3, progress=False, checkpoint=path)
    saved = checkpoint_summary(path)
    assert saved["step"] == 10 * ((stop_at - 1) // 10)  # the last evaluation before the stop
    assert saved["resumed_at"] == []
    models: dict = {}
    resumed = run_config(_config(), 3, progress=False, checkpoint=path, models=models)
    pd.testing.assert_frame_equal(resumed[NO_CLOCK], uninterrupted[NO_CLOCK], check_exact=True)
    assert resumed["elapsed_s"].is_monotonic_increasing  # one clock across both attempts
    assert checkpoint_summary(path)["resumed_at"] == [saved["step"]]
    # and the weights equal an uninterrupted run's
    reference: dict = {}
    run_config(_config(), 3, progress=False, models=reference)
    for name in ("g1", "g2", "critic"):
        for key, value in reference[name].state_dict().items():
            assert torch.equal(models[name].state_dict()[key], value), (name, key)


def test_checkpoint_of_another_run_is_refused(tmp_path):
    path = tmp_path / "run.ckpt"
    run_config(_config(steps=11), 0, progress=False, checkpoint=path)
    assert load_checkpoint(path, _config(steps=11), 0).step == 10
    with pytest.raises(CheckpointMismatch, match="Delete it"):
        run_config(_config(steps=11), 1, progress=False, checkpoint=path)  # other seed
    with pytest.raises(CheckpointMismatch, match="Delete it"):
        run_config(_config(steps=11, lr=1e-3), 0, progress=False, checkpoint=path)  # other config


def test_damaged_checkpoint_is_refused_with_advice(tmp_path):
    path = tmp_path / "run.ckpt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointMismatch, match="Delete it, the run restarts from step 0"):
        train_multiview(_config(steps=11), 0, progress=False, checkpoint=path)


def test_no_checkpoint_file_means_no_state():
    assert checkpoint_summary("/nonexistent/run.ckpt") is None
    assert load_checkpoint("/nonexistent/run.ckpt", _config(), 0) is None


def _interrupted_sweep(tmp_path, monkeypatch) -> tuple[ResultsStore, MultiViewConfig]:
    """A store holding seed 3 of :func:`_config` interrupted at step 24 (saved at step 20)."""
    store, config = ResultsStore(tmp_path), _config()
    with monkeypatch.context() as patch:
        _interrupt_after(patch, 25)
        with pytest.raises(Interrupt):
            run_sweep([config], [3], store=store, progress=False)
    return store, config


def test_sweep_resumes_an_interrupted_run_and_cleans_up(tmp_path, monkeypatch, uninterrupted):
    store, config = _interrupted_sweep(tmp_path, monkeypatch)
    assert store.checkpoint_path(config, 3).is_file() and not store.has(config, 3)
    records = run_sweep([config], [3], store=store, progress=False)
    pd.testing.assert_frame_equal(  # read back from CSV: str dtype, exact floats
        records[NO_CLOCK], uninterrupted[NO_CLOCK], check_exact=True, check_dtype=False
    )
    assert not store.checkpoint_path(config, 3).exists()  # deleted once the run is stored
    meta = json.loads(store.paths(config, 3)[1].read_text())
    assert meta["resumed_at_steps"] == [20]
    assert meta["started_git_commit"] == meta["git_commit"]
    assert meta["wall_time_s"] >= records["elapsed_s"].max()
    assert meta["cpu_time_s"] > 0.0


def test_cpu_time_adds_the_earlier_attempts(tmp_path, monkeypatch):
    store, config = _interrupted_sweep(tmp_path, monkeypatch)
    earlier = checkpoint_summary(store.checkpoint_path(config, 3))["cpu_s"]
    assert earlier > 0.0
    # the resumed attempt alone, measured around the sweep, is less than what the run records
    cpu_start = time.process_time()
    run_sweep([config], [3], store=store, progress=False)
    this_attempt = time.process_time() - cpu_start
    assert store.provenance(config, 3)["cpu_time_s"] == pytest.approx(
        earlier + this_attempt, abs=0.05 + 0.1 * this_attempt
    )


def test_checkpoint_without_cpu_time_leaves_it_out(tmp_path, monkeypatch):
    """A checkpoint written before ``cpu_s`` was kept resumes; the run's CPU time is unknown."""
    store, config = _interrupted_sweep(tmp_path, monkeypatch)
    path = store.checkpoint_path(config, 3)
    data = torch.load(path, weights_only=True)
    del data["cpu_s"]
    torch.save(data, path)
    assert math.isnan(checkpoint_summary(path)["cpu_s"])
    run_sweep([config], [3], store=store, progress=False)
    meta = store.provenance(config, 3)
    assert meta["resumed_at_steps"] == [20] and "cpu_time_s" not in meta


def test_cpu_time_does_not_count_waiting(tmp_path):
    """Wall time grows while a run waits (paused, or sharing the cores); CPU time does not."""

    def run_fn(config, seed, *, device, progress):
        time.sleep(0.3)
        return pd.DataFrame({"step": [0], "metric": ["bound"], "value": [1.0], "elapsed_s": [0.0]})

    store = ResultsStore(tmp_path)
    run_sweep([_config()], [0], run_fn, store=store, progress=False)
    meta = store.provenance(_config(), 0)
    assert meta["wall_time_s"] >= 0.3 > 0.2 > meta["cpu_time_s"]


def test_force_discards_a_checkpoint(tmp_path, monkeypatch):
    store, config = _interrupted_sweep(tmp_path, monkeypatch)
    run_sweep([config], [3], store=store, progress=False, force=True)
    meta = json.loads(store.paths(config, 3)[1].read_text())
    assert "resumed_at_steps" not in meta  # ran from step 0


def test_run_fn_without_checkpoint_argument_still_works(tmp_path):
    def run_fn(config, seed, *, device, progress):
        return pd.DataFrame({"step": [0], "metric": ["bound"], "value": [1.0], "elapsed_s": [0.0]})

    store = ResultsStore(tmp_path)
    records = run_sweep([_config()], [0], run_fn, store=store, progress=False)
    assert records["value"].tolist() == [1.0]
    assert not store.checkpoint_path(_config(), 0).exists()


# --------------------------------------------------------------------------------------------------
# A corrupt, hostile or unwritable checkpoint is a clear error (issue 26)
# --------------------------------------------------------------------------------------------------


class _Hostile:
    def __reduce__(self):
        return (print, ("pwned",))


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("hostile", r"\(UnpicklingError\): it is damaged, truncated or not a checkpoint"),
        ("raw-pickle", "damaged, truncated or not a checkpoint"),
        ("list", "lacks every entry"),
        ("partial", r"lacks \['seed', 'step'"),
        ("truncated", "damaged, truncated"),
    ],
)
def test_hostile_or_foreign_checkpoint_is_refused_with_advice(tmp_path, payload, expected):
    import io
    import pickle

    path = tmp_path / "run.ckpt"
    config = _config(steps=11)
    if payload == "raw-pickle":
        path.write_bytes(pickle.dumps(_Hostile()))
    elif payload == "truncated":
        run_config(config, 0, progress=False, checkpoint=path)
        path.write_bytes(path.read_bytes()[:200])
    else:
        buffer = io.BytesIO()
        content = {"list": [1, 2], "hostile": {"models": _Hostile()}}.get(
            payload, {"format": 1, "config_key": config.key()}
        )
        torch.save(content, buffer)
        path.write_bytes(buffer.getvalue())
    for call in (
        lambda: train_multiview(config, 0, progress=False, checkpoint=path),
        lambda: checkpoint_summary(path),
    ):
        with pytest.raises(CheckpointMismatch, match=expected) as err:
            call()
        message = str(err.value)
        assert str(path) in message and "Delete it, the run restarts from step 0" in message
        assert "weights_only" not in message


def test_checkpoint_of_other_models_is_refused_with_advice(tmp_path):
    path = tmp_path / "run.ckpt"
    run_config(_config(steps=11), 0, progress=False, checkpoint=path)
    state = torch.load(path, weights_only=True)
    state["models"]["g1"] = {"weight": torch.zeros(2)}
    torch.save(state, path)
    with pytest.raises(CheckpointMismatch, match="does not fit this run's models"):
        train_multiview(_config(steps=11), 0, progress=False, checkpoint=path)


def test_disk_full_while_writing_a_checkpoint_says_what_to_do(tmp_path, monkeypatch):
    import errno
    import os

    from mi_tutorial import fileio
    from mi_tutorial.training import CheckpointWriteError

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(fileio.os, "fsync", full)
    path = tmp_path / "run.ckpt"
    with pytest.raises(CheckpointWriteError) as err:
        train_multiview(_config(steps=11), 0, progress=False, checkpoint=path)
    message = str(err.value)
    assert str(path) in message and "No space left on device" in message
    assert "Free some space" in message and "run the same command again" in message
    assert list(tmp_path.iterdir()) == []  # no partial file left behind
