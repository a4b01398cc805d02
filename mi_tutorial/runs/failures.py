"""What ``mi-tutorial`` says when a command fails: one line ``mi-tutorial: error: …`` naming what
failed and the action to take, for every failure a user can cause (the traceback only with
``--debug``)."""

from __future__ import annotations

import sys

from ..data import DataError
from ..training import CheckpointMismatch, CheckpointWriteError, TrainingDiverged
from .store import CorruptResultError, ResultsStoreError
from .sweep import WorkerDied

_UNEXPECTED = "This is unexpected: run the same command with --debug and report the traceback."


def failure_message(err: BaseException) -> str:
    """The one line ``mi-tutorial: error: …`` says for ``err``: what failed and what to do."""
    if isinstance(err, PermissionError):
        where = err.filename if err.filename is not None else "a file"
        return f"permission denied for {where}. Check its permissions (and its folder's)."
    known = (
        WorkerDied,
        CorruptResultError,
        ResultsStoreError,
        DataError,
        TrainingDiverged,
        CheckpointMismatch,
        CheckpointWriteError,
    )
    if isinstance(err, known):
        return str(err)
    if isinstance(err, OSError):
        where = f" ({err.filename})" if err.filename is not None else ""
        return (
            f"{err.strerror or err}{where}. Free some space or fix the path, and run the same "
            "command again: finished runs are kept and interrupted ones resume."
        )
    return f"{type(err).__name__}: {err}. {_UNEXPECTED}"


def report_failure(err: Exception, debug: bool) -> int:
    """Print ``mi-tutorial: error: …`` for ``err`` and return the exit status 1; re-raise it with
    ``debug`` (to show the traceback) and for a closed pipe (handled by the caller)."""
    if debug or isinstance(err, BrokenPipeError):
        raise err
    print(f"mi-tutorial: error: {failure_message(err)}", file=sys.stderr)
    return 1
