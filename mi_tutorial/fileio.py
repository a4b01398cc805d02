"""Files that are never seen half-written: atomic replacement and advisory locks.

Shared by the results store (:mod:`mi_tutorial.runs.store`) and training checkpoints
(:mod:`mi_tutorial.training.checkpoint`). Each file is written to a temporary file in the same
directory, flushed, fsynced and moved into place with :func:`os.replace`, so a reader finds the old
file or the new one, never a part.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


def current_umask() -> int:
    """The process's umask: from ``/proc/self/status`` on Linux (no side effect), else by setting
    it and setting it back (not thread-safe, hence only the fallback)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_temp(path: Path, data: bytes) -> Path:
    """Write ``data`` to a fsynced temporary file next to ``path`` and return its path.

    The file gets the permissions of any new file (``0o666`` less the umask), so a results folder
    shared through a group (umask 002) stays writable and readable by the group.

    On any error (a full disk, an interrupt) the temporary file is removed before re-raising, so
    nothing half-written is left behind.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if hasattr(os, "fchmod"):  # mkstemp's 0600 would ignore the umask
            os.fchmod(fd, 0o666 & ~current_umask())
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


def holder_note() -> str:
    """Who holds a lock: this process's PID, host and the time it took the lock (ISO, UTC)."""
    started = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    return f"pid={os.getpid()}\nhost={socket.gethostname()}\nstarted={started}\n"


def read_holder(lock_path: Path) -> dict[str, str]:
    """The :func:`holder_note` fields written into ``lock_path`` by its holder (empty if none)."""
    try:
        text = lock_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    pairs = (line.partition("=") for line in text.splitlines())
    return {key: value for key, sep, value in pairs if sep}


@contextlib.contextmanager
def locked(
    lock_path: Path, exclusive: bool, wait: bool = True, holder: str | None = None
) -> Iterator[bool]:
    """An advisory ``flock`` on ``lock_path``, held for the block; yields True while held. With
    ``wait=False`` it yields False at once if another process holds the lock. A no-op (True) where
    locks are unavailable (Windows, or a read-only store when only reading).

    ``holder`` (with ``exclusive``): text written into the lock file while the lock is held, so
    that a process waiting for it can say who holds it (:func:`read_holder`); cleared on release.
    """
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
        _write_note(fh, holder)
        try:
            yield True
        finally:
            _write_note(fh, "" if holder is not None else None)
    finally:
        fh.close()


def _write_note(fh: Any, note: str | None) -> None:
    """Replace the content of the open lock file ``fh`` with ``note`` (best effort)."""
    if note is None:
        return
    with contextlib.suppress(OSError):
        fh.truncate(0)
        fh.write(note.encode("utf-8"))
        fh.flush()
