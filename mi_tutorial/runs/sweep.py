"""Sweeps: run every ``(config, seed)`` pair that is not stored yet, in this process or in parallel
(joblib's loky processes, or a Dask or Ray cluster through joblib's backends), and return all
records, tidy, with the config fields and the seed as extra columns."""

from __future__ import annotations

import contextlib
import datetime as _dt
import inspect
import math
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any

import pandas as pd

from .._validation import check_int, check_seeds
from ..config import RunConfig
from ..fileio import holder_note, locked, read_holder
from ..provenance import git_state
from .store import RECORD_COLUMNS, ResultsStore, ResultsStoreError, RunFn, with_config

#: What :func:`_run_and_save` did with a pair.
RAN, STORED_ELSEWHERE, BUSY = "ran", "stored elsewhere", "busy"
#: Seconds between two reports of a process waiting for a pair another process is running.
WAIT_REPORT_EVERY_S = 300.0
#: Seconds between two attempts to take a pair's lock while waiting for it.
WAIT_POLL_S = 0.2


class WorkerDied(RuntimeError):
    """A parallel worker process was killed (out of memory, or by a signal) during a sweep."""


def _default_run_fn() -> RunFn:
    from ..training import run_config  # torch is imported when something trains, not before

    return run_config


def waiting_message(store: ResultsStore, config: RunConfig, seed: int) -> str:
    """Who holds the pair's lock (as written by :func:`mi_tutorial.fileio.holder_note`) and what
    to do if it never finishes."""
    lock = store.running_lock_path(config, seed)
    holder = read_holder(lock)
    pid, host, started = holder.get("pid"), holder.get("host", "?"), holder.get("started")
    what = f"waiting for seed {seed} of {config.experiment}/{config.key()}"
    if pid is None or started is None:
        return f"{what}: held by another process (it did not record its PID; lock {lock})"
    try:
        age = (_dt.datetime.now(_dt.UTC) - _dt.datetime.fromisoformat(started)).total_seconds()
    except ValueError:
        age = math.nan
    return (
        f"{what}: held by PID {pid} on {host} since {started} ({age:.0f} s); if that process is "
        f"stopped (Ctrl-Z) resume it (fg) or end it (kill {pid}): its lock is then released and "
        "this process runs the pair (an ended run resumes from its checkpoint)."
    )


@contextlib.contextmanager
def _claimed(store: ResultsStore, config: RunConfig, seed: int, wait: bool) -> Iterator[bool]:
    """Hold the pair's running lock for the block (yields True), or yield False at once if another
    process holds it and ``wait`` is False; while waiting, say who holds it (every
    :data:`WAIT_REPORT_EVERY_S` seconds)."""
    lock, last_report = store.running_lock_path(config, seed), -math.inf
    while True:
        with locked(lock, exclusive=True, wait=False, holder=holder_note()) as mine:
            if mine:
                yield True
                return
        if not wait:
            yield False
            return
        if time.monotonic() - last_report >= WAIT_REPORT_EVERY_S:
            print(waiting_message(store, config, seed), file=sys.stderr)
            last_report = time.monotonic()
        time.sleep(WAIT_POLL_S)


def _run_and_save(
    run_fn: RunFn,
    config: RunConfig,
    seed: int,
    store: ResultsStore,
    device: str,
    progress: bool,
    keep_models: bool = False,
    force: bool = False,
    wait: bool = True,
) -> str:
    """Run one pair, store it and return :data:`RAN` (executed in a worker when n_jobs > 1).

    The pair is claimed first (:meth:`ResultsStore.running_lock_path`, whose file then holds this
    process's PID and start time): if another process is running it, return :data:`BUSY` at once
    (``wait=False``) or wait for it, saying who holds it, and return :data:`STORED_ELSEWHERE` if
    that process stored it. If ``run_fn`` takes a ``checkpoint`` argument (as
    :func:`mi_tutorial.training.run_config` does), the run saves its state to
    :meth:`ResultsStore.checkpoint_path` as it goes and resumes from there after an interruption;
    the wall time then adds the earlier attempts' training time, and the provenance says at which
    steps the run was resumed and from which commit it started.

    The provenance also keeps ``cpu_time_s``: the CPU seconds of the run's process (all its
    threads), which unlike the wall time does not grow while other jobs share the cores or the
    process is paused. It is left out when an earlier attempt's checkpoint did not record it, and
    it overcounts under a *threaded* parallel backend (other runs share the process).
    """
    from ..training.checkpoint import checkpoint_summary

    git_state()  # the commit of the code that trains, read before hours of training
    with _claimed(store, config, seed, wait) as mine:
        if not mine:
            return BUSY
        stored = store.has_models if keep_models else store.has
        if not force and stored(config, seed):  # another process ran it while we waited
            return STORED_ELSEWHERE
        models: dict | None = {} if keep_models else None
        extra: dict[str, Any] = {"models": models} if keep_models else {}
        checkpoint = store.checkpoint_path(config, seed)
        if force:
            checkpoint.unlink(missing_ok=True)
        earlier = None
        if "checkpoint" in inspect.signature(run_fn).parameters:
            extra["checkpoint"] = checkpoint
            earlier = checkpoint_summary(checkpoint)
            if earlier is not None:
                print(
                    f"resuming seed {seed} of {config.experiment}/{config.key()} from step "
                    f"{earlier['step']} ({checkpoint})",
                    file=sys.stderr,
                )
        start, cpu_start = time.perf_counter(), time.process_time()
        records = run_fn(config, seed, device=device, progress=progress, **extra)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        provenance: dict[str, Any] = {}
        if earlier is not None:  # resumed: count the earlier attempts' saved training time
            wall, cpu = wall + earlier["elapsed_s"], cpu + earlier["cpu_s"]
            provenance = {
                "resumed_at_steps": [*earlier["resumed_at"], earlier["step"]],
                "started_git_commit": earlier["started_git_commit"],
            }
        if math.isfinite(cpu):  # an earlier attempt's checkpoint may not have recorded it
            provenance["cpu_time_s"] = cpu
        store.save(
            config,
            seed,
            records,
            wall_time=wall,
            device=device,
            models=models,
            provenance=provenance,
        )
        checkpoint.unlink(missing_ok=True)
        return RAN


def _run_parallel(
    todo: list[tuple[RunConfig, int]],
    run_fn: RunFn,
    store: ResultsStore,
    device: str,
    keep_models: bool,
    force: bool,
    n_jobs: int,
    backend: str | None,
) -> list[str]:
    """:func:`_run_and_save` for every pair of ``todo`` in joblib workers; their outcomes."""
    from joblib import Parallel, delayed, parallel_config

    # parallel_config (not Parallel(backend=...)) registers joblib's lazily loaded backends
    # such as "dask"; with backend=None it leaves any surrounding configuration in force.
    chosen = contextlib.nullcontext() if backend is None else parallel_config(backend=backend)
    try:
        with chosen:
            return Parallel(n_jobs=min(n_jobs, len(todo)))(
                delayed(_run_and_save)(
                    run_fn, config, seed, store, device, False, keep_models, force
                )
                for config, seed in todo
            )
    except Exception as err:
        if type(err).__name__ != "TerminatedWorkerError":  # joblib's (loky's) dead worker
            raise
        raise WorkerDied(
            "a worker process died (out of memory?); run the same command again: finished runs "
            "are kept and interrupted ones resume (use fewer --jobs if it happens again)."
        ) from err


def run_sweep(
    configs: Iterable[RunConfig],
    seeds: int | Iterable[int],
    run_fn: RunFn | None = None,
    *,
    store: ResultsStore | None = None,
    force: bool = False,
    device: str = "cpu",
    progress: bool = True,
    n_jobs: int = 1,
    keep_models: bool = False,
    backend: str | None = None,
) -> pd.DataFrame:
    """Run (or load from ``store``) every ``(config, seed)`` pair and return all records, tidy.

    ``run_fn(config, seed, *, device, progress) -> DataFrame`` defaults to
    :func:`mi_tutorial.training.run_config`. Finished pairs are saved as soon as each one finishes,
    so an interrupted sweep resumes where it stopped; an interrupted multi-view run itself
    continues from its last evaluation (:meth:`ResultsStore.checkpoint_path`). Sweeps in several
    processes may share a store: a pair being run by one is skipped by the others until the end,
    then waited for (:meth:`ResultsStore.running_lock_path`). With ``n_jobs > 1`` the missing
    pairs run in parallel processes (joblib, loky backend; joblib limits each worker's BLAS/OpenMP threads to
    ``cpu_count // n_jobs``). The returned records are always the ones read back from the store,
    so a fresh run and a cached one give identical frames. Columns: the record columns, ``seed``,
    then the config fields (see :func:`config_columns`).

    ``keep_models=True`` also stores each run's trained weights (``run_fn`` is then called with
    ``models={}`` to fill, as :func:`mi_tutorial.training.run_config` does); a cached run stored
    without weights is run again. Read them with :meth:`ResultsStore.load_models`.

    ``backend``: the joblib backend for ``n_jobs > 1`` (a registered name such as ``"loky"``,
    ``"dask"``, ``"ray"``). ``None`` (the default) means joblib's active
    configuration: ``"loky"``, unless the call sits inside ``with
    joblib.parallel_config(backend=...)``; a ``backend`` given here is applied with
    ``joblib.parallel_config`` around the sweep, so it overrides such a context. For a Dask cluster,
    create a ``dask.distributed.Client`` first and pass ``backend="dask"`` (or use the context
    manager); for Ray, call ``ray.util.joblib.register_ray()`` first. Each ``(config, seed)``
    pair is one joblib task, so ``n_jobs`` caps how many run at once; the workers must see the
    same results root (a shared file system) and the data, because every task saves its own
    result. ``n_jobs == 1`` runs in this process, whatever the backend.
    """
    configs = list(configs)
    for config in configs:
        if not isinstance(config, RunConfig):
            raise TypeError(f"configs must be RunConfig objects, got {type(config).__name__}.")
    seeds = check_seeds(seeds)
    n_jobs = check_int(n_jobs, "n_jobs", minimum=1)
    store = store if store is not None else ResultsStore()
    run_fn = run_fn if run_fn is not None else _default_run_fn()
    pairs = list(dict.fromkeys((c, s) for c in configs for s in seeds))  # dedupe, keep order

    stored = store.has_models if keep_models else store.has
    todo = [(c, s) for c, s in pairs if force or not stored(c, s)]
    if todo:
        store.check_writable()  # fail before training, not after the first run
    start = time.perf_counter()
    outcomes: list[str] = []
    if todo and n_jobs == 1:
        # Pairs another process is running are left for last, then waited for (or run, if that
        # process stopped without storing them): two sweeps over one store share the work.
        busy = []
        for config, seed in todo:
            args = (run_fn, config, seed, store, device, progress, keep_models, force)
            outcomes.append(_run_and_save(*args, wait=False))
            if outcomes[-1] == BUSY:
                busy.append(args)
        outcomes += [_run_and_save(*args) for args in busy]
    elif todo:
        outcomes = _run_parallel(todo, run_fn, store, device, keep_models, force, n_jobs, backend)
    frames = []
    for config, seed in pairs:
        records = store.load(config, seed)
        if records is None:
            raise ResultsStoreError(
                f"seed {seed} of config {config.key()} was run but is not in {store.root}; "
                "was the store deleted during the sweep?"
            )
        frames.append(with_config(records, config, seed))
    ran, elsewhere = outcomes.count(RAN), outcomes.count(STORED_ELSEWHERE)
    print(
        f"run_sweep: {len(pairs)} run(s): {len(pairs) - len(todo)} cached, {ran} run"
        + (f", {elsewhere} run by another process meanwhile" if elsewhere else "")
        + f" in {time.perf_counter() - start:.1f} s (store: {store.root})",
        file=sys.stdout,
    )
    if not frames:
        return pd.DataFrame(columns=[*RECORD_COLUMNS, "seed"])
    return pd.concat(frames, ignore_index=True)
