"""A report file is written privately and whole: a new file of an unpredictable name beside the
target (mode 0600, created exclusively, links not followed), fsynced, renamed onto the target; a
target that is a symbolic link or not a regular file is refused and left as it is, by
`write_private` and by `hotline report --output`."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from test_sync_cli import environment, hotline

from tui.core.report.files import UnsafeTarget, write_private


def entries(directory: Path) -> set[str]:
    return {path.name for path in directory.iterdir()}


def test_a_report_is_written_whole_and_private(tmp_path: Path) -> None:
    target = tmp_path / "reports" / "shift.md"
    write_private(target, "first\n")
    assert target.read_text(encoding="utf-8") == "first\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700  # made by hotline
    target.chmod(0o644)
    write_private(target, "second\n")  # replaced: a new file, private again
    assert target.read_text(encoding="utf-8") == "second\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert entries(target.parent) == {"shift.md"}  # no temp file left


def test_the_temp_file_is_unpredictable_private_and_synced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each write uses a new name (never `.shift.md.tmp`), mode 0600 from the start, written to
    disk before the rename; a link planted at the old predictable name is not followed."""
    target = tmp_path / "shift.md"
    victim = tmp_path / "victim"
    victim.write_text("keep\n")
    (tmp_path / ".shift.md.tmp").symlink_to(victim)
    renamed: list[tuple[str, int, bool]] = []
    synced: set[int] = set()
    real_replace, real_fsync = os.replace, os.fsync

    def fsync(fd: int) -> None:
        synced.add(os.fstat(fd).st_ino)
        real_fsync(fd)

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        info = os.lstat(src)
        renamed.append((os.fspath(src), stat.S_IMODE(info.st_mode), info.st_ino in synced))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)  # the one `files` calls
    monkeypatch.setattr(os, "fsync", fsync)
    write_private(target, "one\n")
    write_private(target, "two\n")
    first, second = renamed
    assert first[0] != second[0]
    for name, mode, was_synced in renamed:
        assert Path(name).parent == tmp_path and Path(name).name != ".shift.md.tmp"
        assert mode == 0o600 and was_synced
    assert victim.read_text() == "keep\n" and (tmp_path / ".shift.md.tmp").is_symlink()
    assert target.read_text() == "two\n"


def test_a_symbolic_link_as_target_is_refused_and_left_alone(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep\n")
    link = tmp_path / "shift.md"
    link.symlink_to(victim)
    with pytest.raises(UnsafeTarget, match="is a symbolic link"):
        write_private(link, "report\n")
    assert link.is_symlink() and os.readlink(link) == str(victim)
    assert victim.read_text() == "keep\n"
    dangling = tmp_path / "new.md"
    dangling.symlink_to(tmp_path / "nowhere")
    with pytest.raises(UnsafeTarget, match="is a symbolic link"):
        write_private(dangling, "report\n")
    assert not (tmp_path / "nowhere").exists()
    assert entries(tmp_path) == {"victim", "shift.md", "new.md"}  # no temp file left


def test_a_target_that_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dir.md").mkdir()
    os.mkfifo(tmp_path / "fifo.md")
    for name in ("dir.md", "fifo.md"):
        with pytest.raises(UnsafeTarget, match="is not a regular file"):
            write_private(tmp_path / name, "report\n")
    assert (tmp_path / "dir.md").is_dir() and stat.S_ISFIFO((tmp_path / "fifo.md").lstat().st_mode)
    assert entries(tmp_path) == {"dir.md", "fifo.md"}


def test_a_failed_write_leaves_the_target_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "shift.md"
    target.write_text("old\n")

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="No space left"):
        write_private(target, "new\n")
    assert target.read_text() == "old\n"
    assert entries(tmp_path) == {"shift.md"}


def test_hotline_report_refuses_a_symbolic_link_in_one_line(tmp_path: Path) -> None:
    """Offline (no token: nothing is asked of a server), the report of the empty cache."""
    env = environment(tmp_path, "http://127.0.0.1:9", None, "王") | {"HOTLINE_LANG": "en"}
    victim = tmp_path / "victim"
    victim.write_text("keep\n")
    link = tmp_path / "shift.md"
    link.symlink_to(victim)
    refused = hotline("report", "--output", str(link), env=env)
    assert refused.returncode == 1, refused.stderr
    assert "Traceback" not in refused.stderr
    assert refused.stderr.splitlines()[-1] == (
        f"hotline: refused to write the report: {link} is a symbolic link: "
        "a report is written only to a regular file; nothing was written"
    )
    assert victim.read_text() == "keep\n" and link.is_symlink()

    written = hotline("report", "--format", "json", "--output", str(tmp_path / "out.json"), env=env)
    assert written.returncode == 0, written.stderr
    assert stat.S_IMODE((tmp_path / "out.json").stat().st_mode) == 0o600
    assert (tmp_path / "out.json").read_text().startswith("{")
