"""One process at a time in a run folder: an OS-level lock that dies with the process that holds it.

A training run locks its folder with ``flock`` on the file ``FOLDER/.lock`` for as long as it writes
there. The kernel drops the lock when the process ends, however it ends (Ctrl-C, SIGTERM, SIGKILL, a
crash), so nothing is left to clean up by hand: the file stays, but a file nobody holds locks nothing.
The file holds the process id of its last holder, for the message a second process gets.

``flock`` is POSIX (Linux and macOS, on local disks and NFS v4); on Windows there is no lock and
:func:`hold` does nothing beyond making the folder.
"""

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]  # no locking there

LOCK_NAME = ".lock"
"""The file in a run folder that training locks."""


class FolderInUseError(ValueError):
    """Another process holds the folder's lock: it is training into it."""


class FolderLock:
    """The lock of one folder: :meth:`acquire` or ``FolderInUseError``, then :meth:`release`."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.descriptor: int | None = None

    def acquire(self) -> None:
        """Take the lock at once, making the folder if needed, or raise :class:`FolderInUseError` naming
        the process that holds it (nothing is written then)."""
        if self.folder.exists() and not self.folder.is_dir():
            raise ValueError(f"the run folder {self.folder} is a file; give --out a folder (new or a run's)")
        self.folder.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is not None:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_pid(descriptor)
                os.close(descriptor)
                raise FolderInUseError(
                    f"{self.folder} is in use: process {holder or '(unknown)'} is training into it; wait for it "
                    "to end, or give another folder (--out)"
                ) from None
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode())
        self.descriptor = descriptor

    def release(self) -> None:
        """Give the lock back (closing the file releases it)."""
        if self.descriptor is not None:
            os.close(self.descriptor)
            self.descriptor = None


def _read_pid(descriptor: int) -> int | None:
    try:
        return int(os.pread(descriptor, 32, 0).decode().strip())
    except (OSError, ValueError):
        return None


# The folders this process holds, with how many nested hold()s hold each: train() holds its folder, and
# the command line holds it across train() and finish_run(), in one lock.
_HELD: dict[Path, list] = {}


@contextlib.contextmanager
def hold(folder: str | Path, acquired: FolderLock | None = None) -> Iterator[Path]:
    """Hold ``folder``'s lock for the ``with`` block (:class:`FolderInUseError` if another process has it),
    or the lock ``acquired`` already. Nested holds of one folder in one process share the lock."""
    key = Path(folder).resolve()
    if key in _HELD:
        _HELD[key][1] += 1
    else:
        lock = acquired or FolderLock(folder)
        if acquired is None:
            lock.acquire()
        _HELD[key] = [lock, 1]
    try:
        yield Path(folder)
    finally:
        _HELD[key][1] -= 1
        if _HELD[key][1] == 0:
            _HELD.pop(key)[0].release()


def holder(folder: str | Path) -> int | None:
    """The id of another process that holds ``folder``'s lock (it is training there), else None."""
    path = Path(folder) / LOCK_NAME
    if fcntl is None or not path.is_file() or Path(folder).resolve() in _HELD:
        return None
    descriptor = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _read_pid(descriptor) or -1
    finally:
        os.close(descriptor)  # closing also drops a shared lock taken just now
    return None
