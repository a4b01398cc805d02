r"""Resumable runs: the whole state of a training run between two evaluations, in one file.

A paper-profile run can outlast the session that starts it (E1's RealNVP takes about two hours
for its 21,000 steps on one CPU core). A trainer given a checkpoint path saves, after every
evaluation, everything its next steps depend on:

* the parameters of every module and the optimiser's state (Adam's moments and step counts),
* the states of the run's random streams (training batches and noise; evaluation noise),
* the position in the current epoch's permutation of the training set,
* the records so far and the elapsed training time.

Started again with the same path, ``(config, seed)`` and code, the trainer continues from the last
evaluation and returns records **identical** to those of an uninterrupted run (``elapsed_s`` aside):
on the CPU every step is deterministic, and nothing that influences a later step is left out.
At most ``eval_every`` steps are lost to an interruption.

The file is written atomically (a reader finds the previous checkpoint or the new one, never a
part) and read back with ``torch.load(weights_only=True)``: it holds tensors, numbers and strings
only, never pickled code. :class:`mi_tutorial.runs.ResultsStore` keeps it next to the run's
records as ``seed-N.ckpt`` and deletes it once the finished run is stored.
"""

from __future__ import annotations

import io
import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..config import RunConfig
from ..fileio import atomic_write

#: Bumped if the layout of a checkpoint changes (an older one is then refused, not misread).
CHECKPOINT_FORMAT = 1


#: What to do about a checkpoint that cannot be used.
RESTART_ADVICE = "Delete it, the run restarts from step 0 (or pass another path)."


class CheckpointMismatch(ValueError):
    """A checkpoint belongs to another config, seed or format than the run asked to resume it,
    or is not a checkpoint of this project at all (damaged, truncated or hostile)."""


class CheckpointWriteError(OSError):
    """A checkpoint cannot be written (a full disk, a read-only folder)."""


@dataclass
class TrainingState:
    """What a run needs to continue after an evaluation.

    ``step`` is the next step to run; its evaluation is already in ``records``.
    """

    step: int
    models: dict[str, dict[str, torch.Tensor]]
    optimizer: dict[str, Any]
    generators: dict[str, torch.Tensor]
    epoch_permutation: torch.Tensor
    epoch_position: int
    records: list[tuple[int, str, float, float]]
    elapsed_s: float
    #: The commit the run started from (a resumed run may finish on a later one).
    started_git_commit: str = "unknown"
    #: Steps at which this run was resumed, in order.
    resumed_at: list[int] = field(default_factory=list)
    #: CPU seconds of the training so far (all threads of the process); NaN if an earlier attempt
    #: did not record it (checkpoints written before it was kept).
    cpu_s: float = math.nan


def save_checkpoint(
    path: str | os.PathLike, config: RunConfig, seed: int, state: TrainingState
) -> None:
    """Write ``state`` of run ``(config, seed)`` to ``path`` atomically."""

    payload = {
        "format": CHECKPOINT_FORMAT,
        "config_key": config.key(),
        "seed": int(seed),
        "step": int(state.step),
        "models": {
            name: {key: value.detach().cpu() for key, value in sd.items()}
            for name, sd in state.models.items()
        },
        "optimizer": state.optimizer,
        "generators": state.generators,
        "epoch_permutation": state.epoch_permutation,
        "epoch_position": int(state.epoch_position),
        "records": [list(row) for row in state.records],
        "elapsed_s": float(state.elapsed_s),
        "started_git_commit": state.started_git_commit,
        "resumed_at": [int(s) for s in state.resumed_at],
        "cpu_s": float(state.cpu_s),
    }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, buffer.getvalue())
    except OSError as err:
        raise CheckpointWriteError(
            f"cannot write the checkpoint {path}: {err.strerror or err}. Free some space (or "
            "make the folder writable) and run the same command again: finished runs are kept "
            "and this one resumes from its previous checkpoint."
        ) from err


#: The entries every checkpoint of :data:`CHECKPOINT_FORMAT` holds.
CHECKPOINT_KEYS = (
    "format",
    "config_key",
    "seed",
    "step",
    "models",
    "optimizer",
    "generators",
    "epoch_permutation",
    "epoch_position",
    "records",
    "elapsed_s",
    "started_git_commit",
    "resumed_at",
)


def _read(path: Path, mmap: bool = False) -> dict[str, Any]:
    """The checkpoint's payload; :class:`CheckpointMismatch` for anything else. torch's own
    message is left out: for a file holding code it suggests ``weights_only=False``, which would
    run that code."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except Exception as err:  # a truncated, foreign or hostile file: say which and what to do
        raise CheckpointMismatch(
            f"cannot read the checkpoint {path} ({type(err).__name__}): it is damaged, "
            f"truncated or not a checkpoint of this project. {RESTART_ADVICE}"
        ) from None
    missing = [key for key in CHECKPOINT_KEYS if key not in data] if isinstance(data, dict) else 0
    if missing != []:
        raise CheckpointMismatch(
            f"the checkpoint {path} is not a checkpoint of this project (it lacks "
            f"{missing or 'every entry'}). {RESTART_ADVICE}"
        )
    return data


def load_checkpoint(path: str | os.PathLike, config: RunConfig, seed: int) -> TrainingState | None:
    """The state saved at ``path`` for run ``(config, seed)``, or None if there is no file.

    Raises :class:`CheckpointMismatch` if the file is unreadable or belongs to another config,
    seed or checkpoint format (never resumes the wrong run).
    """
    path = Path(path)
    if not path.is_file():
        return None
    data = _read(path)
    expected = {"format": CHECKPOINT_FORMAT, "config_key": config.key(), "seed": int(seed)}
    found = {key: data.get(key) for key in expected}
    if found != expected:
        raise CheckpointMismatch(
            f"the checkpoint {path} is for {found}, not for {expected}. {RESTART_ADVICE}"
        )
    try:
        return _state(data)
    except (TypeError, ValueError, KeyError, AttributeError) as err:
        raise CheckpointMismatch(
            f"the checkpoint {path} is damaged ({type(err).__name__}: {err}). {RESTART_ADVICE}"
        ) from None


def _state(data: dict[str, Any]) -> TrainingState:
    return TrainingState(
        step=int(data["step"]),
        models=data["models"],
        optimizer=data["optimizer"],
        generators=data["generators"],
        epoch_permutation=data["epoch_permutation"],
        epoch_position=int(data["epoch_position"]),
        records=[(int(s), str(m), float(v), float(e)) for s, m, v, e in data["records"]],
        elapsed_s=float(data["elapsed_s"]),
        started_git_commit=str(data["started_git_commit"]),
        resumed_at=[int(s) for s in data["resumed_at"]],
        cpu_s=float(data.get("cpu_s", math.nan)),
    )


def checkpoint_summary(path: str | os.PathLike) -> dict[str, Any] | None:
    """``{step, elapsed_s, cpu_s, started_git_commit, resumed_at}`` of the checkpoint at ``path``
    (``cpu_s`` NaN if not recorded), or None.

    Cheap (the file is memory-mapped, the weights are not read): for progress reports and for the
    provenance of a resumed run.
    """
    path = Path(path)
    if not path.is_file():
        return None
    data = _read(path, mmap=True)
    keys = ("step", "elapsed_s", "started_git_commit", "resumed_at")
    return {key: data[key] for key in keys} | {"cpu_s": float(data.get("cpu_s", math.nan))}
