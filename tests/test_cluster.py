"""run_sweep's joblib backends: loky (default) and a local Dask cluster through joblib's "dask"
backend; the Dask tests are skipped without ``dask.distributed`` (an optional extra:
``pip install -e '.[cluster]'``)."""

from __future__ import annotations

import joblib
import pytest

from mi_tutorial.paper import get_configs
from mi_tutorial.runs import ResultsStore, run_sweep
from mi_tutorial.training import run_config

try:
    from dask import distributed
except ImportError:  # pragma: no cover - the optional "cluster" extra
    distributed = None

COLUMNS = ["step", "metric", "value", "seed", "config_key"]
WORKERS: list[str] = []  # processes=False: the workers are threads of this process


def run_on_worker(config, seed, *, device="cpu", progress=True, **kwargs):
    """run_config, noting the Dask worker it ran on (get_worker raises outside a worker)."""
    WORKERS.append(distributed.get_worker().address)
    return run_config(config, seed, device=device, progress=progress, **kwargs)


@pytest.fixture(scope="module")
def client():
    if distributed is None:
        pytest.skip("dask.distributed is not installed (pip install -e '.[cluster]')")
    # Two one-thread workers (threads of this process): joblib's dask backend sizes the job by
    # the cluster's total threads, and with a single thread it would run every call sequentially
    # in the calling thread (measured), which would not show that the tasks reach the workers.
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def _configs():
    return [c.replace(steps=5) for c in get_configs("noniid", "smoke")[:2]]


def _sequential(tmp_path):
    return run_sweep(_configs(), [0], store=ResultsStore(tmp_path / "seq"), progress=False)


def test_sweep_in_loky_processes_equals_the_sequential_sweep(tmp_path):
    store = ResultsStore(tmp_path / "loky")
    records = run_sweep(_configs(), [0], store=store, progress=False, n_jobs=2, backend="loky")
    assert records[COLUMNS].equals(_sequential(tmp_path)[COLUMNS])


def test_sweep_runs_on_a_local_dask_cluster(client, tmp_path):
    WORKERS.clear()
    store = ResultsStore(tmp_path / "dask")
    records = run_sweep(
        _configs(), [0], run_on_worker, store=store, progress=False, n_jobs=2, backend="dask"
    )
    assert len(WORKERS) == 2 and set(WORKERS) <= {*client.scheduler_info()["workers"]}
    assert all(store.has(c, 0) for c in _configs())
    assert records[COLUMNS].equals(_sequential(tmp_path)[COLUMNS])


def test_sweep_follows_joblib_parallel_config(client, tmp_path):
    """With backend=None, a surrounding joblib.parallel_config chooses the backend."""
    WORKERS.clear()
    store = ResultsStore(tmp_path / "ctx")
    with joblib.parallel_config(backend="dask"):
        records = run_sweep(_configs(), [0], run_on_worker, store=store, progress=False, n_jobs=2)
    assert len(WORKERS) == 2
    assert records[COLUMNS].equals(_sequential(tmp_path)[COLUMNS])
