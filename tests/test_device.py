"""Device handling without a GPU: every trainer takes ``device`` as a string or a torch.device, and
``benchmarks/gpu_smoke.py`` runs (CPU against CPU here; it exits 0 where there is no CUDA)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch

from mi_tutorial.paper import get_configs
from mi_tutorial.runs import ResultsStore, run_sweep
from mi_tutorial.training import run_config
from mi_tutorial.training.vectorised import run_config_seeds

REPO = Path(__file__).resolve().parents[1]
COLUMNS = ["step", "metric", "value"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _smoke(experiment: str, **changes):
    return get_configs(experiment, "smoke")[0].replace(**changes)


CONFIGS = {
    "multiview": _smoke("critic-capacity", steps=6, eval_every=5),
    "adversarial": _smoke("adversarial", steps=4, eval_every=3),
    "noniid": _smoke("noniid", steps=6),
}


@pytest.mark.parametrize("kind", sorted(CONFIGS))
def test_trainers_accept_a_device_string_or_a_torch_device(kind):
    config = CONFIGS[kind]
    as_string = run_config(config, 0, device="cpu", progress=False)
    as_device = run_config(config, 0, device=torch.device("cpu"), progress=False)
    assert as_string[COLUMNS].equals(as_device[COLUMNS])


@pytest.mark.parametrize("kind", ["multiview", "noniid"])
def test_vectorised_trainers_accept_a_torch_device(kind):
    config = CONFIGS[kind]
    as_string = run_config_seeds(config, [0, 1], device="cpu")
    as_device = run_config_seeds(config, [0, 1], device=torch.device("cpu"))
    for seed in (0, 1):
        assert as_string[seed][COLUMNS].equals(as_device[seed][COLUMNS])


def test_sweep_records_the_device_as_text(tmp_path):
    store = ResultsStore(tmp_path)
    config = CONFIGS["noniid"]
    run_sweep([config], [0], store=store, device=torch.device("cpu"), progress=False)
    meta = store.provenance(config, 0)
    assert meta["device"] == "cpu"
    json.dumps(meta)  # plain JSON


def _gpu_smoke():
    spec = importlib.util.spec_from_file_location("gpu_smoke", REPO / "benchmarks" / "gpu_smoke.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gpu_smoke_without_cuda_says_so_and_succeeds(monkeypatch, capsys):
    gpu_smoke = _gpu_smoke()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert gpu_smoke.main([]) == 0
    assert "no CUDA device; nothing to check" in capsys.readouterr().out


def test_gpu_smoke_checks_pass_cpu_against_cpu(monkeypatch, capsys):
    gpu_smoke = _gpu_smoke()
    monkeypatch.setattr(gpu_smoke, "EXTRA_STEPS", 2)  # the timing is not what is tested here
    assert gpu_smoke.main(["--target", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "6 of 6 trainers agree" in out and "FAIL" not in out


def test_gpu_smoke_compare_flags_differences():
    gpu_smoke = _gpu_smoke()
    records = run_config(CONFIGS["noniid"], 0, progress=False)
    assert gpu_smoke.compare(records, records.copy()) is None
    nudged = records.copy()
    nudged.loc[3, "value"] += 0.1
    assert "step 3 bound" in gpu_smoke.compare(records, nudged)
    assert "rows" in gpu_smoke.compare(records, records.iloc[:-1])
