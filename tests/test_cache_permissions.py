"""The cache is private: 0700 directories, 0600 files whatever the umask; a cache others can
read (or another user owns) is refused with the chmod to run."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import platformdirs
import pytest
from cache_worker import page_of, synthetic

from api_client.actions import AddNote
from local_cache import LocalStore, UnsafePermissions, cache_dir, cache_root
from local_cache.paths import dispatcher_slug, server_slug

SERVER = "http://127.0.0.1:8345"


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_cache_root_override_then_env_then_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_CACHE_DIR", str(tmp_path / "env"))
    assert cache_root(tmp_path / "given") == tmp_path / "given"
    assert cache_root() == tmp_path / "env"
    monkeypatch.delenv("HOTLINE_CACHE_DIR")
    assert cache_root() == Path(platformdirs.user_cache_dir("hotline"))


def test_directory_names_are_readable_and_distinct() -> None:
    slug = server_slug("http://127.0.0.1:8345")
    assert slug.startswith("127.0.0.1_8345-") and len(slug) == len("127.0.0.1_8345-") + 8
    assert server_slug("http://127.0.0.1:8345/") == slug == server_slug("HTTP://127.0.0.1:8345")
    assert server_slug("https://127.0.0.1:8345") != slug
    assert server_slug("https://hotline.example.org").startswith("hotline.example.org_443-")
    assert dispatcher_slug("zhang-min") == "zhang-min"
    assert dispatcher_slug("王芳") == "王芳"
    assert dispatcher_slug("a b") != dispatcher_slug("a_b")
    for hostile in ("../../etc", "..", "", "a/b"):
        assert "/" not in dispatcher_slug(hostile) and not dispatcher_slug(hostile).startswith(".")


def test_every_level_is_created_0700_and_every_file_0600(tmp_path: Path, umask_022: None) -> None:
    root = tmp_path / "deep" / "root"
    directory = cache_dir(root, SERVER, "王芳")
    assert directory.parent.parent == root
    for level in (tmp_path / "deep", root, directory.parent, directory):
        assert mode(level) == 0o700, level
    with LocalStore.open(directory, server_url=SERVER, dispatcher="王芳") as store:
        store.apply_page(page_of([synthetic(1)], 0))
        store.flush()
        store.record("R-000001", AddNote(text="hello"), actor="王芳")
    files = sorted(os.listdir(directory))
    assert {"outbox.json", "requests.json", "sync.lock"} <= set(files)
    for name in files:
        assert mode(directory / name) == 0o600, name


def test_a_restrictive_umask_still_gives_usable_0700(tmp_path: Path) -> None:
    old = os.umask(0o277)
    try:
        directory = cache_dir(tmp_path / "root", SERVER, "d")
    finally:
        os.umask(old)
    assert mode(directory) == 0o700 and mode(tmp_path / "root") == 0o700


@pytest.mark.parametrize("level", [0, 1, 2])
def test_a_directory_others_can_read_is_refused(tmp_path: Path, umask_022: None, level: int) -> None:
    root = tmp_path / "root"
    directory = cache_dir(root, SERVER, "d")
    loose = [root, directory.parent, directory][level]
    loose.chmod(0o755)
    with pytest.raises(UnsafePermissions) as refused:
        cache_dir(root, SERVER, "d")
    assert str(loose) in str(refused.value) and "chmod 700" in str(refused.value)
    assert "0755" in str(refused.value)


def test_a_file_others_can_read_is_refused(tmp_path: Path, umask_022: None) -> None:
    directory = cache_dir(tmp_path / "root", SERVER, "d")
    with LocalStore.open(directory, server_url=SERVER, dispatcher="d") as store:
        store.apply_page(page_of([synthetic(1)], 0))
    (directory / "requests.json").chmod(0o644)
    with pytest.raises(UnsafePermissions) as refused:
        LocalStore.open(directory, server_url=SERVER, dispatcher="d")
    assert f"chmod 600 {directory / 'requests.json'}" in str(refused.value)
    with pytest.raises(UnsafePermissions):
        cache_dir(tmp_path / "root", SERVER, "d")
    (directory / "requests.json").chmod(0o600)
    LocalStore.open(directory, server_url=SERVER, dispatcher="d").close()


def test_local_store_refuses_a_loose_directory_it_is_given(tmp_path: Path, umask_022: None) -> None:
    directory = tmp_path / "cache"
    directory.mkdir(mode=0o755)
    with pytest.raises(UnsafePermissions, match="chmod 700"):
        LocalStore.open(directory, server_url=SERVER, dispatcher="d")
    assert os.listdir(directory) == []  # nothing was written into it


def test_local_store_creates_a_missing_directory_private(tmp_path: Path, umask_022: None) -> None:
    with LocalStore.open(tmp_path / "new", server_url=SERVER, dispatcher="d"):
        pass
    assert mode(tmp_path / "new") == 0o700


@pytest.mark.skipif(os.getuid() != 0, reason="only root can give a directory to another user")
def test_a_directory_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    directory = cache_dir(root, SERVER, "d")
    os.chown(directory, 65534, 65534)
    with pytest.raises(UnsafePermissions, match="belongs to user id 65534"):
        cache_dir(root, SERVER, "d")
    with pytest.raises(UnsafePermissions, match="belongs to user id 65534"):
        LocalStore.open(directory, server_url=SERVER, dispatcher="d")


def test_a_symbolic_link_in_the_cache_is_refused(tmp_path: Path, umask_022: None) -> None:
    directory = cache_dir(tmp_path / "root", SERVER, "d")
    (tmp_path / "elsewhere.json").write_text("{}")
    (directory / "requests.json").symlink_to(tmp_path / "elsewhere.json")
    with pytest.raises(UnsafePermissions, match="symbolic link"):
        LocalStore.open(directory, server_url=SERVER, dispatcher="d")


def test_a_file_renamed_away_while_the_cache_is_checked_is_no_error(
    tmp_path: Path, umask_022: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process's atomic write renames its temp file between the listing and the check
    (seen with two processes on one cache): the open goes on."""
    directory = cache_dir(tmp_path / "root", SERVER, "d")
    LocalStore.open(directory, server_url=SERVER, dispatcher="d").close()
    temp = directory / ".outbox.json.1234.5678.tmp"
    temp.write_bytes(b"{}")
    temp.chmod(0o600)
    listing = os.scandir

    def list_then_rename(path: Any) -> Iterator[os.DirEntry[str]]:
        entries = list(listing(path))
        if temp.exists():
            temp.unlink()  # what the other process's os.replace does to the temp name
        return iter(entries)

    monkeypatch.setattr("local_cache.paths.os.scandir", list_then_rename)
    LocalStore.open(directory, server_url=SERVER, dispatcher="d").close()
    assert not temp.exists()
