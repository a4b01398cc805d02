"""Trained weights in the results store: ``keep_models=True`` stores each run's ``state_dict``s,
``trained_models`` rebuilds the modules with them, and ``build_models`` gives the exact initial
modules of a run (the parameters its trainer starts from)."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from mi_tutorial import paper
from mi_tutorial.data import digits_views
from mi_tutorial.runs import CorruptResultError, ResultsStore, run_sweep, trained_models
from mi_tutorial.training import build_models, run_config


@pytest.fixture(scope="module")
def digits():
    return digits_views("train"), digits_views("test")


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize("experiment", ["critic-capacity", "adversarial", "noniid"])
def test_build_models_is_the_trainers_starting_point(experiment, digits):
    config = paper.get_configs(experiment, "smoke")[0].replace(steps=1)
    data = None if experiment == "noniid" else digits
    first = build_models(config, 3, data)
    again = build_models(config, 3, data)
    other_seed = build_models(config, 4, data)
    assert first.keys() == again.keys()
    assert all(_same_weights(first[k], again[k]) for k in first)
    assert not all(_same_weights(first[k], other_seed[k]) for k in first)


def test_keep_models_stores_and_reloads_the_trained_weights(tmp_path, digits):
    store = ResultsStore(tmp_path)
    config = paper.get_configs("critic-capacity", "smoke")[0].replace(steps=5, eval_every=5)
    models: dict[str, torch.nn.Module] = {}
    records = run_config(config, 0, progress=False, data=digits, models=models)
    store.save(config, 0, records, wall_time=1.0, models=models)
    assert store.has_models(config, 0)
    assert store.provenance(config, 0)["models"] == ["critic", "g1", "g2"]

    loaded = trained_models(store, config, 0, data=digits)
    assert all(_same_weights(loaded[k], models[k]) for k in models)
    assert not loaded["g1"].training
    # ... and they differ from the initial ones: training moved them
    start = build_models(config, 0, digits)
    assert not _same_weights(start["g1"], loaded["g1"])

    # saving again without weights removes the stale file
    store.save(config, 0, records, wall_time=1.0)
    assert not store.has_models(config, 0) and not store.model_path(config, 0).exists()
    with pytest.raises(FileNotFoundError, match="keep_models=True"):
        store.load_models(config, 0)


def test_damaged_weights_are_detected(tmp_path, digits):
    store = ResultsStore(tmp_path)
    config = paper.get_configs("critic-capacity", "smoke")[0].replace(steps=2, eval_every=2)
    models: dict[str, torch.nn.Module] = {}
    records = run_config(config, 0, progress=False, data=digits, models=models)
    store.save(config, 0, records, wall_time=1.0, models=models)
    path = store.model_path(config, 0)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(CorruptResultError, match="SHA-256"):
        store.load_models(config, 0)


def test_save_rejects_bad_models(tmp_path):
    store = ResultsStore(tmp_path)
    config = paper.get_configs("critic-capacity", "smoke")[0]
    records = pd.DataFrame({"step": [0], "metric": ["bound"], "value": [1.0]})
    with pytest.raises(TypeError, match="models must be a dict"):
        store.save(config, 0, records, wall_time=1.0, models=[torch.nn.Linear(2, 2)])


def test_sweep_with_keep_models_reruns_runs_stored_without_weights(tmp_path, capsys):
    store = ResultsStore(tmp_path)
    config = paper.get_configs("noniid", "smoke")[0].replace(steps=5)
    plain = run_sweep([config], [0], store=store, progress=False)
    assert not store.has_models(config, 0)
    kept = run_sweep([config], [0], store=store, progress=False, keep_models=True)
    assert "0 cached, 1 run" in capsys.readouterr().out
    assert store.has_models(config, 0)
    pd.testing.assert_frame_equal(plain.drop(columns="elapsed_s"), kept.drop(columns="elapsed_s"))
    run_sweep([config], [0], store=store, progress=False, keep_models=True)
    assert "1 cached, 0 run" in capsys.readouterr().out
    critic = trained_models(store, config, 0)["critic"]
    assert sum(p.numel() for p in critic.parameters()) > 0


def test_build_models_is_thread_safe(digits):
    """Initialisation seeds torch's process-wide RNG; runs in threads of one process (a threaded
    Dask worker) must still get exactly their seed's initial weights."""
    from concurrent.futures import ThreadPoolExecutor

    config = paper.get_configs("critic-capacity", "smoke")[0]
    expected = {seed: build_models(config, seed, digits)["g1"] for seed in range(8)}
    with ThreadPoolExecutor(max_workers=4) as pool:
        built = list(
            pool.map(lambda s: (s, build_models(config, s, digits)["g1"]), [*range(8)] * 4)
        )
    assert all(_same_weights(module, expected[seed]) for seed, module in built)
