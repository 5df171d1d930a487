"""Where the dashboard writes a shift report, and writing a report file privately."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

__all__ = ["report_path", "write_private"]


def report_path(now: datetime) -> Path:
    """Where the dashboard writes a shift report: the user's data dir (`$XDG_DATA_HOME/hotline`)."""
    import platformdirs

    stamp = now.astimezone().strftime("%Y%m%d-%H%M%S")
    return Path(platformdirs.user_data_dir("hotline")) / "reports" / f"shift-{stamp}.md"


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` whole (a temp file, then rename), mode 0600 in a 0700 directory
    when hotline makes it: a report names citizens' addresses. OSError propagates."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, path)
    except OSError:
        temp.unlink(missing_ok=True)
        raise
