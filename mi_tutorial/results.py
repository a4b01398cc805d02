"""The results store: a file cache of training records keyed by ``(config, seed)``, with provenance.

A run is a pure function of ``(config, seed)`` (see :mod:`mi_tutorial.config`), so its records can
be cached on disk and reused by the book, the CLI and the claim checks. The layout is ::

    <root>/<profile>/<experiment>/<config.key()>/seed-<n>.csv    the tidy records
    <root>/<profile>/<experiment>/<config.key()>/seed-<n>.json   provenance (written last)
    <root>/<profile>/<experiment>/<config.key()>/seed-<n>.pt     trained weights (optional)

The weights are kept only when asked for (``keep_models=True``): a ``state_dict`` per module
(``{"g1": …, "g2": …, "critic": …}`` for a multi-view run), saved with :func:`torch.save` and read
back with ``torch.load(weights_only=True)``, which unpickles tensors and plain containers only.

``<root>`` is the ``root`` argument, else ``$MI_TUTORIAL_RESULTS``, else ``<repo>/results``.

**Exactness.** Floats are written in their shortest round-trip form (pandas' default, ``repr``), so
a record read back from the store is bit-identical to the one that was written; float32 columns are
widened to float64 first (exactly). This lets determinism tests compare cached and fresh runs.

**Atomicity.** Each file is written to a temporary file in the same directory, flushed, fsynced and
moved into place with :func:`os.replace`, CSV (and weights) first and JSON last, so *a JSON file
exists only for a complete run*. The JSON holds the SHA-256 of the CSV (and of the weights), so a
damaged or truncated file is detected on load. Two processes saving the same ``(config, seed)`` hold an exclusive ``flock`` on
``seed-<n>.lock`` while they replace the pair, so the CSV and the JSON always belong together
(readers retry briefly instead of locking, so a read-only store works too).

:func:`run_sweep` runs every ``(config, seed)`` pair that is not cached yet (optionally in parallel
processes with joblib's loky backend, or on a cluster through joblib's Dask or Ray backend) and
returns all records, tidy, with the config fields and the seed as extra columns.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import inspect
import io
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._validation import check_int, check_seeds
from .config import RunConfig, config_from_dict

try:  # POSIX advisory locks; elsewhere saves are still atomic per file, just not paired.
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

#: Environment variable that overrides the default results root.
RESULTS_ENV = "MI_TUTORIAL_RESULTS"
#: Columns every record table must have.
RECORD_COLUMNS = ("step", "metric", "value")
#: Bumped if the on-disk format changes.
STORE_FORMAT = 1

RunFn = Callable[..., pd.DataFrame]


class ResultsStoreError(OSError):
    """The results root cannot be created or written."""


class CorruptResultError(RuntimeError):
    """A stored result does not match its provenance (damaged, truncated or edited by hand)."""


def default_results_root() -> Path:
    """``$MI_TUTORIAL_RESULTS`` if set, else ``<repo>/results`` (repo = the package's parent)."""
    env = os.environ.get(RESULTS_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return Path(__file__).resolve().parents[1] / "results"


# --------------------------------------------------------------------------------------------------
# Provenance helpers
# --------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def git_state() -> tuple[str, bool | None]:
    """(commit, dirty) of the repository holding the package, or ("unknown", None).

    Read once, when this module is imported (see below): the commit of the code this process
    runs, even if the checkout changes while a long run trains."""
    repo = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, timeout=10
        )
        if commit.returncode != 0:
            return "unknown", None
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=10,
        )
        dirty = bool(status.stdout.strip()) if status.returncode == 0 else None
        return commit.stdout.strip(), dirty
    except (OSError, subprocess.SubprocessError):
        return "unknown", None


git_state()  # at import, not at the first save, hours later


def _version(module: str) -> str:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:  # any failure just means "unknown"
        return "unknown"


def cpu_model() -> str:
    """The processor's model name (Linux ``/proc/cpuinfo``), else :func:`platform.processor`."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def torch_build() -> dict[str, str]:
    """What decides torch's CPU arithmetic: the BLAS/LAPACK it was built with, whether oneDNN
    (MKLDNN) is in, and the SIMD level its kernels dispatch to on this processor."""
    import torch

    config = torch.__config__.show()
    wanted = ("BLAS_INFO", "LAPACK_INFO", "USE_MKLDNN", "USE_OPENMP")
    out = {
        name.lower(): value
        for name, value in re.findall(r"(\w+)=([^,\n]*)", config)
        if name in wanted
    }
    out["mkldnn_available"] = str(torch.backends.mkldnn.is_available())
    out["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    return out


def environment_info(device: str) -> dict[str, Any]:
    """Versions, machine and git state recorded with every saved run."""
    import torch

    commit, dirty = git_state()
    return {
        "git_commit": commit,
        "git_dirty": dirty,
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "sklearn": _version("scikit-learn"),
            "mi_tutorial": _version("mi-tutorial"),
        },
        "device": str(device),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "cpu_model": cpu_model(),
            "torch_threads": torch.get_num_threads(),
            "torch_interop_threads": torch.get_num_interop_threads(),
            "torch_build": torch_build(),
            "cuda_device": (
                torch.cuda.get_device_name(torch.device(device))  # cuda:N names device N
                if str(device).startswith("cuda") and torch.cuda.is_available()
                else None
            ),
        },
    }


def config_columns(config: RunConfig) -> dict[str, Any]:
    """The config as flat column values: ``*_kwargs`` dicts become sorted JSON strings, so the
    columns stay hashable for ``groupby``; ``config_key`` identifies the config."""
    out: dict[str, Any] = {}
    for name, value in config.to_dict().items():
        if isinstance(value, dict):
            value = json.dumps(value, sort_keys=True, default=list)
        out[name] = value
    out["config_key"] = config.key()
    return out


def _with_config(records: pd.DataFrame, config: RunConfig, seed: int) -> pd.DataFrame:
    records = records.copy()
    records["seed"] = seed
    for name, value in config_columns(config).items():
        records[name] = [value] * len(records) if isinstance(value, (tuple, list)) else value
    return records


# --------------------------------------------------------------------------------------------------
# Atomic file writing
# --------------------------------------------------------------------------------------------------


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable (best effort: not every platform can open a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_temp(path: Path, data: bytes) -> Path:
    """Write ``data`` to a fsynced temporary file next to ``path`` and return its path.

    On any error (a full disk, an interrupt) the temporary file is removed before re-raising, so
    nothing half-written is left behind.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Path(tmp)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path``: fsynced temporary file in the same directory, then os.replace
    (a reader sees the old file or the new one, never a part)."""
    tmp = _write_temp(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _locked(lock_path: Path, exclusive: bool, wait: bool = True) -> Iterator[bool]:
    """An advisory ``flock`` on ``lock_path``, held for the block; yields True while held. With
    ``wait=False`` it yields False at once if another process holds the lock. A no-op (True) where
    locks are unavailable (Windows, or a read-only store when only reading)."""
    if fcntl is None:
        yield True
        return
    try:
        if exclusive:
            lock_path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(lock_path, "a+b")  # closed below (that releases the lock)
    except OSError:
        if exclusive:
            raise
        yield True
        return
    try:
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        try:
            fcntl.flock(fh.fileno(), mode | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        fh.close()


def _records_to_csv(records: pd.DataFrame) -> bytes:
    records = records.copy()
    for name in records.columns:
        if records[name].dtype == np.float32 or records[name].dtype == np.float16:
            records[name] = records[name].astype(np.float64)  # exact widening
    # pandas writes floats in their shortest round-trip form (repr): exact and compact.
    return records.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _state_dicts_bytes(models: dict[str, Any]) -> bytes:
    """``torch.save`` bytes of ``{name: state_dict}`` (modules are turned into their state_dict)."""
    import torch

    if not isinstance(models, dict) or not all(isinstance(k, str) for k in models):
        raise TypeError("models must be a dict {name: nn.Module or state_dict}.")
    states = {}
    for name, module in models.items():
        state = module.state_dict() if hasattr(module, "state_dict") else module
        states[name] = {key: value.detach().cpu() for key, value in state.items()}
    buffer = io.BytesIO()
    torch.save(states, buffer)
    return buffer.getvalue()


def _csv_to_records(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), keep_default_na=False, na_values=[""])


# --------------------------------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------------------------------


class ResultsStore:
    """Records + provenance on disk, one CSV/JSON pair per ``(config, seed)``.

    >>> store = ResultsStore("/tmp/results")                    # doctest: +SKIP
    >>> store.save(config, 0, records, wall_time=12.5, device="cpu")  # doctest: +SKIP
    >>> store.load(config, 0)                                   # doctest: +SKIP
    """

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self.root = (
            Path(root).expanduser().resolve() if root is not None else default_results_root()
        )

    def __repr__(self) -> str:
        return f"ResultsStore({str(self.root)!r})"

    # ---- paths -------------------------------------------------------------------------------
    def run_dir(self, config: RunConfig) -> Path:
        """``<root>/<profile>/<experiment>/<config.key()>``."""
        return self.root / config.profile / config.experiment / config.key()

    def paths(self, config: RunConfig, seed: int) -> tuple[Path, Path]:
        """The (CSV, JSON) paths for ``(config, seed)``."""
        seed = check_int(seed, "seed", minimum=0)
        directory = self.run_dir(config)
        return directory / f"seed-{seed}.csv", directory / f"seed-{seed}.json"

    def model_path(self, config: RunConfig, seed: int) -> Path:
        """The path of the trained weights of ``(config, seed)`` (present only if they were kept)."""
        return self.paths(config, seed)[0].with_suffix(".pt")

    def running_lock_path(self, config: RunConfig, seed: int) -> Path:
        """The lock a process holds while it runs ``(config, seed)``, so that two sweeps sharing
        this store never train the same run at once."""
        return self.paths(config, seed)[0].with_suffix(".running")

    def checkpoint_path(self, config: RunConfig, seed: int) -> Path:
        """Where an unfinished run of ``(config, seed)`` keeps its resumable state (see
        :mod:`mi_tutorial.checkpoint`); deleted once the run is stored."""
        return self.paths(config, seed)[0].with_suffix(".ckpt")

    # ---- reading -----------------------------------------------------------------------------
    def has(self, config: RunConfig, seed: int) -> bool:
        """True when a complete run is stored (its JSON exists: it is written last)."""
        return self.paths(config, seed)[1].is_file()

    def has_models(self, config: RunConfig, seed: int) -> bool:
        """True when the run is stored *with* its trained weights."""
        if not self.has(config, seed):
            return False
        meta = json.loads(self.paths(config, seed)[1].read_text(encoding="utf-8"))
        return "models_sha256" in meta and self.model_path(config, seed).is_file()

    def load_models(self, config: RunConfig, seed: int) -> dict[str, dict[str, Any]]:
        """The stored ``state_dict`` of every module of ``(config, seed)``, on the CPU.

        Raises ``FileNotFoundError`` if the run was stored without its weights (rerun it with
        ``keep_models=True``) and :class:`CorruptResultError` if the file does not match the
        SHA-256 in the run's JSON.
        """
        import torch

        meta = self.provenance(config, seed)
        path = self.model_path(config, seed)
        if "models_sha256" not in meta or not path.is_file():
            raise FileNotFoundError(
                f"seed {seed} of config {config.key()} is stored without its trained weights; "
                "rerun it with keep_models=True (experiments.run / run_sweep)."
            )
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != meta["models_sha256"]:
            raise CorruptResultError(
                f"{path} does not match the SHA-256 recorded in its JSON (damaged or replaced). "
                "Rerun the run with force=True and keep_models=True."
            )
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)

    def _read_pair(self, csv_path: Path, json_path: Path) -> tuple[dict, pd.DataFrame] | None:
        """Read and verify one pair; retry briefly in case a writer replaced it mid-read."""
        problem = ""
        for attempt in range(5):
            if not json_path.is_file():
                return None
            with _locked(json_path.with_suffix(".lock"), exclusive=False):
                try:
                    meta = json.loads(json_path.read_text(encoding="utf-8"))
                    data = csv_path.read_bytes()
                except FileNotFoundError:
                    problem = f"{csv_path.name} is missing although {json_path.name} exists"
                    data = None
                except (json.JSONDecodeError, UnicodeDecodeError) as err:
                    problem = f"{json_path} is not valid JSON ({err})"
                    data = None
            if data is not None:
                digest = hashlib.sha256(data).hexdigest()
                if digest == meta.get("csv_sha256"):
                    records = _csv_to_records(data)
                    if len(records) != meta.get("rows"):
                        problem = f"{csv_path} has {len(records)} rows, expected {meta.get('rows')}"
                    else:
                        return meta, records
                else:
                    problem = (
                        f"{csv_path} does not match the SHA-256 recorded in {json_path.name} "
                        "(damaged or truncated)"
                    )
            time.sleep(0.05 * (attempt + 1))
        raise CorruptResultError(
            f"corrupt stored result: {problem}. Delete {csv_path.parent / csv_path.stem}.* "
            "or rerun with --force (force=True) to recompute it."
        )

    def load(self, config: RunConfig, seed: int) -> pd.DataFrame | None:
        """The stored records of ``(config, seed)``, or ``None`` if it has not been run.

        Raises :class:`CorruptResultError` if the CSV does not match the SHA-256 in its JSON.
        """
        pair = self._read_pair(*self.paths(config, seed))
        return None if pair is None else pair[1]

    def provenance(self, config: RunConfig, seed: int) -> dict[str, Any]:
        """The JSON provenance of a stored run (``FileNotFoundError`` if it is not stored)."""
        csv_path, json_path = self.paths(config, seed)
        if not json_path.is_file():
            raise FileNotFoundError(
                f"no stored run for seed {seed} of config {config.key()} under {self.root}; "
                "run it first (run_sweep or `mi-tutorial run`)."
            )
        pair = self._read_pair(csv_path, json_path)
        assert pair is not None
        return pair[0]

    def stored_seeds(self, config: RunConfig) -> list[int]:
        """The seeds of ``config`` with a complete stored run, ascending."""
        suffixes = (p.stem.removeprefix("seed-") for p in self.run_dir(config).glob("seed-*.json"))
        return sorted(int(s) for s in suffixes if s.isdigit())

    def load_stored(self, configs: Iterable[RunConfig]) -> pd.DataFrame:
        """Every stored seed of ``configs`` (trains nothing), tidy with the config fields and
        ``seed`` as columns, like :func:`run_sweep`; an empty frame if nothing is stored."""
        frames = []
        for config in configs:
            for seed in self.stored_seeds(config):
                records = self.load(config, seed)
                if records is not None:  # removed meanwhile
                    frames.append(_with_config(records, config, seed))
        if not frames:
            return pd.DataFrame(columns=[*RECORD_COLUMNS, "seed"])
        return pd.concat(frames, ignore_index=True)

    def load_all(self, profile: str | None = None, experiment: str | None = None) -> pd.DataFrame:
        """Every stored run (optionally of one profile / experiment), tidy, with the config fields
        and ``seed`` as columns. Empty DataFrame if nothing is stored."""
        pattern = f"{profile or '*'}/{experiment or '*'}/*/seed-*.json"
        frames = []
        for json_path in sorted(self.root.glob(pattern)):
            pair = self._read_pair(json_path.with_suffix(".csv"), json_path)
            if pair is None:  # removed meanwhile
                continue
            meta, records = pair
            frames.append(_with_config(records, config_from_dict(meta["config"]), meta["seed"]))
        if not frames:
            return pd.DataFrame(columns=[*RECORD_COLUMNS, "seed"])
        return pd.concat(frames, ignore_index=True)

    # ---- writing -----------------------------------------------------------------------------
    def save(
        self,
        config: RunConfig,
        seed: int,
        records: pd.DataFrame,
        wall_time: float,
        device: str = "cpu",
        models: dict[str, Any] | None = None,
        provenance: dict[str, Any] | None = None,
    ) -> Path:
        """Store ``records`` of ``(config, seed)`` atomically and return the CSV path.

        ``models``: optional ``{name: nn.Module or state_dict}``; their weights are stored next to
        the records (see :meth:`load_models`). ``provenance``: extra JSON-able fields for the
        run's JSON (e.g. where a resumed run was resumed).
        """
        if not isinstance(records, pd.DataFrame):
            raise TypeError(f"records must be a pandas DataFrame, got {type(records).__name__}.")
        missing = [c for c in RECORD_COLUMNS if c not in records.columns]
        if missing:
            raise ValueError(
                f"records lack the column(s) {missing}; a run must return long/tidy records with "
                f"columns {list(RECORD_COLUMNS)} (got {list(records.columns)})."
            )
        seed = check_int(seed, "seed", minimum=0)  # also turns numpy integers into int for JSON
        csv_path, json_path = self.paths(config, seed)
        data = _records_to_csv(records)
        files = [(csv_path, data)]
        weights: dict[str, Any] = {}
        if models is not None:
            blob_models = _state_dicts_bytes(models)
            digest = hashlib.sha256(blob_models).hexdigest()
            weights = {"models": sorted(models), "models_sha256": digest}
            files.append((self.model_path(config, seed), blob_models))
        meta = {
            "format": STORE_FORMAT,
            "config": config.to_dict(),
            "config_key": config.key(),
            "seed": seed,
            "rows": len(records),
            "columns": list(records.columns),
            "csv_sha256": hashlib.sha256(data).hexdigest(),
            **weights,
            "wall_time_s": float(wall_time),
            "timestamp": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            **environment_info(device),
            **(provenance or {}),
        }
        blob = (json.dumps(meta, indent=1, default=list, sort_keys=False) + "\n").encode()
        target, temps = csv_path.parent, []
        try:
            csv_path.parent.mkdir(parents=True, exist_ok=True)
            with _locked(json_path.with_suffix(".lock"), exclusive=True):
                # Both files are written to fsynced temporaries *before* either is moved into
                # place, so a full disk (or any write error) leaves the previous pair, or
                # nothing, never a new CSV next to an old JSON.
                files.append((json_path, blob))
                for target, content in files:
                    temps.append(_write_temp(target, content))
                for (target, _), tmp in zip(files, temps, strict=True):
                    os.replace(tmp, target)
                if models is None:  # stale weights of an earlier run must not outlive it
                    self.model_path(config, seed).unlink(missing_ok=True)
            _fsync_dir(csv_path.parent)
        except OSError as err:
            for tmp in temps:
                with contextlib.suppress(OSError):
                    tmp.unlink()
            raise ResultsStoreError(
                f"cannot write {target}: {err}. Free some disk space, or choose a writable folder "
                f"with --results DIR or the environment variable {RESULTS_ENV}."
            ) from err
        return csv_path

    def check_writable(self) -> None:
        """Raise :class:`ResultsStoreError` unless a file can be created under the root.

        :func:`run_sweep` calls this before training anything, so an unwritable ``--results``
        folder fails at once instead of after the first (possibly hours-long) run.
        """
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(dir=self.root, prefix=".write-test.", suffix=".tmp")
            os.close(fd)
            os.unlink(probe)
        except OSError as err:
            raise ResultsStoreError(
                f"cannot write results under {self.root}: {err}. Choose a writable folder with "
                f"--results DIR or the environment variable {RESULTS_ENV}."
            ) from err


# --------------------------------------------------------------------------------------------------
# Sweeps
# --------------------------------------------------------------------------------------------------


def _default_run_fn() -> RunFn:
    from .train import run_config

    return run_config


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
) -> float | None:
    """Run one pair, store it and return its wall time (executed in a worker when n_jobs > 1).

    The pair is claimed first (:meth:`ResultsStore.running_lock_path`): if another process is
    running it, return None at once (``wait=False``) or wait for it and return 0.0 if that process
    stored it. If ``run_fn`` takes a ``checkpoint`` argument (as
    :func:`mi_tutorial.train.run_config` does), the run saves its state to
    :meth:`ResultsStore.checkpoint_path` as it goes and resumes from there after an interruption;
    the wall time then adds the earlier attempts' training time, and the provenance says at which
    steps the run was resumed and from which commit it started.

    The provenance also keeps ``cpu_time_s``: the CPU seconds of the run's process (all its
    threads), which unlike the wall time does not grow while other jobs share the cores or the
    process is paused. It is left out when an earlier attempt's checkpoint did not record it, and
    it overcounts under a *threaded* parallel backend (other runs share the process).
    """
    from .checkpoint import checkpoint_summary

    with _locked(store.running_lock_path(config, seed), exclusive=True, wait=wait) as mine:
        if not mine:
            return None
        stored = store.has_models if keep_models else store.has
        if not force and stored(config, seed):  # another process ran it while we waited
            return 0.0
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
        return wall


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
    :func:`mi_tutorial.train.run_config`. Finished pairs are saved as soon as each one finishes,
    so an interrupted sweep resumes where it stopped; an interrupted multi-view run itself
    continues from its last evaluation (:meth:`ResultsStore.checkpoint_path`). Sweeps in several
    processes may share a store: a pair being run by one is skipped by the others until the end,
    then waited for (:meth:`ResultsStore.running_lock_path`). With ``n_jobs > 1`` the missing
    pairs run in parallel processes (joblib, loky backend; joblib limits each worker's BLAS/OpenMP threads to
    ``cpu_count // n_jobs``). The returned records are always the ones read back from the store,
    so a fresh run and a cached one give identical frames. Columns: the record columns, ``seed``,
    then the config fields (see :func:`config_columns`).

    ``keep_models=True`` also stores each run's trained weights (``run_fn`` is then called with
    ``models={}`` to fill, as :func:`mi_tutorial.train.run_config` does); a cached run stored
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
    if todo and n_jobs == 1:
        # Pairs another process is running are left for last, then waited for (or run, if that
        # process stopped without storing them): two sweeps over one store share the work.
        busy = [
            (config, seed)
            for config, seed in todo
            if _run_and_save(
                run_fn, config, seed, store, device, progress, keep_models, force, wait=False
            )
            is None
        ]
        for config, seed in busy:
            print(
                f"run_sweep: waiting for another process running seed {seed} of "
                f"{config.experiment}/{config.key()}",
                file=sys.stderr,
            )
            _run_and_save(run_fn, config, seed, store, device, progress, keep_models, force)
    elif todo:
        from joblib import Parallel, delayed, parallel_config

        # parallel_config (not Parallel(backend=...)) registers joblib's lazily loaded backends
        # such as "dask"; with backend=None it leaves any surrounding configuration in force.
        chosen = contextlib.nullcontext() if backend is None else parallel_config(backend=backend)
        with chosen:
            Parallel(n_jobs=min(n_jobs, len(todo)))(
                delayed(_run_and_save)(
                    run_fn, config, seed, store, device, False, keep_models, force
                )
                for config, seed in todo
            )
    frames = []
    for config, seed in pairs:
        records = store.load(config, seed)
        if records is None:
            raise ResultsStoreError(
                f"seed {seed} of config {config.key()} was run but is not in {store.root}; "
                "was the store deleted during the sweep?"
            )
        frames.append(_with_config(records, config, seed))
    print(
        f"run_sweep: {len(pairs)} run(s): {len(pairs) - len(todo)} cached, {len(todo)} run"
        f" in {time.perf_counter() - start:.1f} s (store: {store.root})",
        file=sys.stdout,
    )
    if not frames:
        return pd.DataFrame(columns=[*RECORD_COLUMNS, "seed"])
    return pd.concat(frames, ignore_index=True)
