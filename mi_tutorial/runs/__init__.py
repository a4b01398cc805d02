"""Running and keeping runs: the results store (files, locks, provenance) and sweeps over
``(config, seed)`` pairs. Depends on :mod:`mi_tutorial.training`, never the other way round."""

from .store import (
    RECORD_COLUMNS,
    RESULTS_ENV,
    CorruptResultError,
    ResultsStore,
    ResultsStoreError,
    RunFn,
    config_columns,
    default_results_root,
    trained_models,
)
from .sweep import WorkerDied, run_sweep

__all__ = [
    "RECORD_COLUMNS",
    "RESULTS_ENV",
    "CorruptResultError",
    "ResultsStore",
    "ResultsStoreError",
    "RunFn",
    "WorkerDied",
    "config_columns",
    "default_results_root",
    "run_sweep",
    "trained_models",
]
