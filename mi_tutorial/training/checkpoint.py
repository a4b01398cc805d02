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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..config import RunConfig
from ..fileio import atomic_write

#: Bumped if the layout of a checkpoint changes (an older one is then refused, not misread).
CHECKPOINT_FORMAT = 1


class CheckpointMismatch(ValueError):
    """A checkpoint belongs to another config, seed or format than the run asked to resume it."""


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
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, buffer.getvalue())


def _read(path: Path, mmap: bool = False) -> dict[str, Any]:
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except Exception as err:  # a truncated or foreign file: say which and what to do
        raise CheckpointMismatch(
            f"cannot read the checkpoint {path}: {err}. Delete it to start the run from step 0."
        ) from err


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
            f"the checkpoint {path} is for {found}, not for {expected}. Delete it (or pass "
            "another path) to start this run from step 0."
        )
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
