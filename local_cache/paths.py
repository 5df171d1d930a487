"""Where the local cache lives, and the check that nobody else can read it.

Layout: `<root>/<server slug>/<dispatcher slug>/` holding `requests.json`, `outbox.json` and
their lock files. The root is `$HOTLINE_CACHE_DIR` or the XDG cache dir (`~/.cache/hotline`).
Every directory is 0700 and every file 0600: the cache holds citizens' names, phone numbers
and addresses. A level that group or others can reach, or that another user owns, is refused
with the command that fixes it; hotline never widens or silently narrows a mode it did not set.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import stat
import unicodedata
from pathlib import Path
from urllib.parse import urlsplit

import platformdirs

from local_cache.errors import CacheError, UnsafePermissions

APP_NAME = "hotline"
ENV_ROOT = "HOTLINE_CACHE_DIR"
DIR_MODE = 0o700
FILE_MODE = 0o600
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SLUG_MAX = 48


def cache_root(override: Path | None = None) -> Path:
    """The cache root: `override`, else `$HOTLINE_CACHE_DIR`, else the user's XDG cache dir."""
    if override is not None:
        return Path(override).expanduser()
    env = os.environ.get(ENV_ROOT, "").strip()
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir(APP_NAME))


def normalize_server_url(server_url: str) -> str:
    """`scheme://host:port/path` in lower case with the default port spelled out, no trailing `/`."""
    parts = urlsplit(server_url.strip())
    scheme = (parts.scheme or "http").lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
    except ValueError:  # a port that is not a number: keep the text, it is still an identity
        port = 0
    netloc = f"[{host}]" if ":" in host else host
    return f"{scheme}://{netloc}:{port}{parts.path.rstrip('/')}"


def server_slug(server_url: str) -> str:
    """A readable directory name for a server, e.g. `127.0.0.1_8345-1a2b3c4d`."""
    normal = normalize_server_url(server_url)
    parts = urlsplit(normal)
    readable = _slug(f"{parts.hostname or 'server'}_{parts.port or 0}")
    return f"{readable}-{_digest(normal)}"


def dispatcher_slug(dispatcher: str) -> str:
    """A directory name for a dispatcher: the name itself when it is safe, else a slug + hash."""
    name = unicodedata.normalize("NFC", dispatcher.strip())
    slug = _slug(name)
    if slug != name or not name:
        slug = f"{slug}-{_digest(name)}"
    return slug


def cache_dir(root: Path, server_url: str, dispatcher: str) -> Path:
    """The private cache directory of one dispatcher on one server, created 0700 if missing.

    Every level from the root down is created 0700 whatever the umask; an existing level (or a
    file in the dispatcher's directory) that group/others can access, or another user owns, is
    refused with UnsafePermissions naming the path and the chmod to run.
    """
    root = Path(root).expanduser()
    server_dir = root / server_slug(server_url)
    directory = server_dir / dispatcher_slug(dispatcher)
    for level in (root, server_dir, directory):
        ensure_private_dir(level)
    check_private_files(directory)
    return directory


def ensure_private_dir(path: Path) -> None:
    """Create `path` (and missing parents) 0700, or check that the existing one is private."""
    if not path.exists():
        _make_dirs(path)
    check_private_dir(path)


def check_private_dir(path: Path) -> None:
    """Refuse a directory that is not ours or that group/others can access."""
    info = _stat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise CacheError(f"the hotline cache path {path} exists but is not a directory")
    _check_owner(path, info)
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise UnsafePermissions(_unsafe(path, info, "directory", "700"))


def check_private_files(directory: Path) -> None:
    """Refuse any file directly in `directory` that group/others can access or another user owns."""
    try:
        entries = list(os.scandir(directory))
    except OSError as exc:
        raise CacheError(f"cannot list the hotline cache {directory}: {exc.strerror or exc}") from exc
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue  # gone since the listing: another process's write renamed its temp file
        if stat.S_ISDIR(info.st_mode):
            check_private_dir(Path(entry.path))
            continue
        path = Path(entry.path)
        if stat.S_ISLNK(info.st_mode):
            raise UnsafePermissions(
                f"refusing the hotline cache: {path} is a symbolic link; only hotline's own files"
                f" belong there. Remove it: rm {shlex.quote(str(path))}"
            )
        _check_owner(path, info)
        if stat.S_IMODE(info.st_mode) & 0o077:
            raise UnsafePermissions(_unsafe(path, info, "file", "600"))


def _make_dirs(path: Path) -> None:
    missing: list[Path] = []
    level = path
    while not level.exists():
        missing.append(level)
        if level.parent == level:
            break
        level = level.parent
    for new in reversed(missing):
        try:
            new.mkdir(mode=DIR_MODE)
        except FileExistsError:  # another process made it first: it is checked below
            continue
        except OSError as exc:
            raise CacheError(
                f"cannot create the hotline cache directory {new}: {exc.strerror or exc}"
            ) from exc
        os.chmod(new, DIR_MODE)  # mkdir's mode is masked by the umask; this is not


def _stat(path: Path) -> os.stat_result:
    try:
        return path.stat()
    except OSError as exc:
        raise CacheError(f"cannot read the hotline cache path {path}: {exc.strerror or exc}") from exc


def _check_owner(path: Path, info: os.stat_result) -> None:
    if info.st_uid != os.getuid():
        raise UnsafePermissions(
            f"refusing the hotline cache {path}: it belongs to user id {info.st_uid}, not to you"
            f" ({os.getuid()}). Another user could read or change it; point HOTLINE_CACHE_DIR at"
            " a directory of your own."
        )


def _unsafe(path: Path, info: os.stat_result, what: str, mode: str) -> str:
    return (
        f"refusing the hotline cache {what} {path}: other users can access it"
        f" (mode {stat.S_IMODE(info.st_mode):04o}); it holds citizens' names, phones and addresses."
        f" Run: chmod {mode} {shlex.quote(str(path))}"
    )


def _slug(text: str) -> str:
    kept = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in text)
    kept = kept.lstrip(".")[:_SLUG_MAX]
    return kept or "_"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
