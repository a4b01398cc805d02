"""Files that are never seen half-written: atomic replacement and advisory locks.

Shared by the results store (:mod:`mi_tutorial.runs.store`) and training checkpoints
(:mod:`mi_tutorial.training.checkpoint`). Each file is written to a temporary file in the same
directory, flushed, fsynced and moved into place with :func:`os.replace`, so a reader finds the old
file or the new one, never a part.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

try:  # POSIX advisory locks; elsewhere saves are still atomic per file, just not paired.
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


def fsync_dir(directory: Path) -> None:
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


def write_temp(path: Path, data: bytes) -> Path:
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
    tmp = write_temp(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def locked(lock_path: Path, exclusive: bool, wait: bool = True) -> Iterator[bool]:
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
