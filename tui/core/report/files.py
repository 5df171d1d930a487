"""Where the dashboard writes a shift report, and writing a report file privately."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from datetime import datetime
from pathlib import Path

__all__ = ["UnsafeTarget", "report_path", "write_private"]


class UnsafeTarget(OSError):
    """The target exists and is not a regular file (a symbolic link, a directory, a device …):
    a report is never written through it."""


def report_path(now: datetime) -> Path:
    """Where the dashboard writes a shift report: the user's data dir (`$XDG_DATA_HOME/hotline`)."""
    import platformdirs

    stamp = now.astimezone().strftime("%Y%m%d-%H%M%S")
    return Path(platformdirs.user_data_dir("hotline")) / "reports" / f"shift-{stamp}.md"


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` whole, mode 0600 (a report names citizens' addresses), in a 0700
    directory when hotline makes it: a new file of an unpredictable name beside the target
    (`mkstemp`: created exclusively, symbolic links not followed), fsynced, then renamed onto
    `path`. A target that is a symbolic link or not a regular file is refused (`UnsafeTarget`)
    and left as it is. OSError propagates."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    _check_target(path)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        _check_target(path)  # again, just before the rename: it may have been swapped meanwhile
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _sync_directory(path.parent)


def _check_target(path: Path) -> None:
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISLNK(mode):
        raise UnsafeTarget(f"{path} is a symbolic link: a report is written only to a regular file")
    if not stat.S_ISREG(mode):
        raise UnsafeTarget(f"{path} is not a regular file: a report is written only to a regular file")


def _sync_directory(directory: Path) -> None:
    """Make the rename durable (where the platform lets a directory be fsynced)."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
