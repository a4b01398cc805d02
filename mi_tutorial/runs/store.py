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

:func:`mi_tutorial.runs.run_sweep` runs every ``(config, seed)`` pair that is not cached yet (optionally in parallel
processes with joblib's loky backend, or on a cluster through joblib's Dask or Ray backend) and
returns all records, tidy, with the config fields and the seed as extra columns.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import io
import json
import os
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._validation import check_int
from ..config import RunConfig, config_from_dict
from ..fileio import fsync_dir, locked, write_temp
from ..provenance import environment_info

if TYPE_CHECKING:  # the store itself needs no torch: listing and reading runs stay light
    from torch import nn

    from ..data import TwoViews

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
    return Path(__file__).resolve().parents[2] / "results"


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


def with_config(records: pd.DataFrame, config: RunConfig, seed: int) -> pd.DataFrame:
    records = records.copy()
    records["seed"] = seed
    for name, value in config_columns(config).items():
        records[name] = [value] * len(records) if isinstance(value, (tuple, list)) else value
    return records


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


def _fix(json_path: Path) -> str:
    """What to do about a damaged or misplaced stored pair."""
    return (
        f"Delete {json_path.parent / json_path.stem}.* and re-run it (or rerun with --force, "
        f"force=True), or restore the files from git (git checkout -- {json_path.parent})."
    )


_JSON_TYPES = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}
_JSON_TYPES[type(None)] = "null"


def _identity_problem(meta: object, json_path: Path) -> str | None:
    """Why ``meta`` (a parsed run JSON) is not the run its path ``<key>/seed-<n>.json`` names, or
    None. The config key is re-derived from the stored ``config``, so a JSON whose config was
    edited, a pair copied into another config's folder or copied to another seed's name, is
    refused rather than reported as the run its path names."""
    if not isinstance(meta, dict):
        kind = _JSON_TYPES.get(type(meta), type(meta).__name__)
        return f"{json_path} holds a JSON {kind}, not an object"
    key, seed = json_path.parent.name, json_path.stem.removeprefix("seed-")
    if meta.get("config_key") != key:
        return f"{json_path} is for config {meta.get('config_key')!r} but lies in the folder {key}"
    if str(meta.get("seed")) != seed or not isinstance(meta.get("seed"), int):
        return f"{json_path} is for seed {meta.get('seed')!r}, not the seed {seed} of its name"
    try:
        config = config_from_dict(meta["config"])
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        return f"{json_path} holds no valid config ({type(err).__name__}: {err})"
    if config.key() != key:
        return f"the config in {json_path} has the key {config.key()}, not {key} (edited by hand?)"
    folders = (json_path.parents[2].name, json_path.parents[1].name)
    if folders != (config.profile, config.experiment):
        return (
            f"{json_path} is a run of {config.profile}/{config.experiment}, not of "
            f"{folders[0]}/{folders[1]}"
        )
    return None


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
        :mod:`mi_tutorial.training.checkpoint`); deleted once the run is stored."""
        return self.paths(config, seed)[0].with_suffix(".ckpt")

    # ---- reading -----------------------------------------------------------------------------
    def has(self, config: RunConfig, seed: int) -> bool:
        """True when a complete run is stored (its JSON exists: it is written last)."""
        return self.paths(config, seed)[1].is_file()

    def has_models(self, config: RunConfig, seed: int) -> bool:
        """True when the run is stored *with* its trained weights."""
        if not self.has(config, seed):
            return False
        meta = self.provenance(config, seed)
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
                "rerun it with keep_models=True (paper.run / run_sweep)."
            )
        data = path.read_bytes()
        fix = "Delete it and rerun the run with --force (force=True) and keep_models=True."
        if hashlib.sha256(data).hexdigest() != meta["models_sha256"]:
            raise CorruptResultError(
                f"{path} does not match the SHA-256 recorded in its JSON (damaged or replaced). "
                + fix
            )
        try:
            with warnings.catch_warnings():  # torch warns about the protocol before refusing
                warnings.simplefilter("ignore")
                states = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        except Exception as err:  # never torch's advice to load it with weights_only=False
            raise CorruptResultError(
                f"{path} is not a weights file of this project ({type(err).__name__}): it holds "
                f"something other than tensors; never load it unrestricted. {fix}"
            ) from None
        if not isinstance(states, dict) or not all(isinstance(v, dict) for v in states.values()):
            raise CorruptResultError(f"{path} does not hold a state_dict per module. {fix}")
        return states

    def _read_pair(self, csv_path: Path, json_path: Path) -> tuple[dict, pd.DataFrame] | None:
        """Read and verify one pair; retry briefly in case a writer replaced it mid-read."""
        problem = ""
        for attempt in range(5):
            if not json_path.is_file():
                return None
            with locked(json_path.with_suffix(".lock"), exclusive=False):
                try:
                    meta = json.loads(json_path.read_text(encoding="utf-8"))
                    data = csv_path.read_bytes()
                except FileNotFoundError:
                    problem = f"{csv_path.name} is missing although {json_path.name} exists"
                    data = None
                except (json.JSONDecodeError, UnicodeDecodeError) as err:
                    problem = f"{json_path} is not valid JSON ({err})"
                    data = None
            if data is not None and _identity_problem(meta, json_path) is not None:
                break  # not a torn read: retrying cannot help
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
        if data is not None:
            problem = _identity_problem(meta, json_path) or problem
        raise CorruptResultError(f"corrupt stored result: {problem}. {_fix(json_path)}")

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
                    frames.append(with_config(records, config, seed))
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
            frames.append(with_config(records, config_from_dict(meta["config"]), meta["seed"]))
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
        from ..training.optim import adam_kernel  # here, not at import: listing runs needs no torch

        environment = environment_info(device)
        environment["machine"]["adam_kernel"] = adam_kernel()
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
            **environment,
            **(provenance or {}),
        }
        blob = (json.dumps(meta, indent=1, default=list, sort_keys=False) + "\n").encode()
        target, temps = csv_path.parent, []
        try:
            csv_path.parent.mkdir(parents=True, exist_ok=True)
            with locked(json_path.with_suffix(".lock"), exclusive=True):
                # Both files are written to fsynced temporaries *before* either is moved into
                # place, so a full disk (or any write error) leaves the previous pair, or
                # nothing, never a new CSV next to an old JSON.
                files.append((json_path, blob))
                for target, content in files:
                    temps.append(write_temp(target, content))
                for (target, _), tmp in zip(files, temps, strict=True):
                    os.replace(tmp, target)
                if models is None:  # stale weights of an earlier run must not outlive it
                    self.model_path(config, seed).unlink(missing_ok=True)
            fsync_dir(csv_path.parent)
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


def trained_models(
    store: ResultsStore,
    config: RunConfig,
    seed: int,
    data: tuple[TwoViews, TwoViews] | None = None,
) -> dict[str, nn.Module]:
    """The modules of the stored run ``(config, seed)`` with their trained weights, in eval mode.

    The run must have been stored with ``keep_models=True`` (else ``FileNotFoundError``).
    """
    from ..training.runner import build_models  # torch, only when weights are loaded

    models = build_models(config, seed, data)
    states = store.load_models(config, seed)
    for name, module in models.items():
        module.load_state_dict(states[name])
        module.eval()
    return models
