"""A throwaway PostgreSQL cluster from the installed binaries, for tests, `bench/load.py` and
operators trying the server.

    with PgCluster.start(Path("/tmp/x")) as cluster:
        url = cluster.create_database("hotline")   # postgresql+psycopg://postgres@127.0.0.1:PORT/hotline

`initdb` and `pg_ctl` come from `pg_config --bindir`. The cluster listens on 127.0.0.1 only, on a
free port, with no Unix socket (so clusters running side by side never clash), trusts every
connection from 127.0.0.1 as the superuser `postgres`, and trades durability for speed (no fsync):
it is for data that may be lost. initdb refuses to run as root, so under root the server runs as
the `postgres` user, in a directory that user owns. `stop()` (also called at exit) shuts it down.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

#: The cluster's superuser (and the OS user the server runs as under root).
SUPERUSER = "postgres"
#: Enough for the connection pools of the test suite's servers and of `bench/load.py`'s processes.
MAX_CONNECTIONS = 300
#: Settings of a throwaway cluster: loopback TCP only, fast and not durable.
SETTINGS: dict[str, str] = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "max_connections": str(MAX_CONNECTIONS),
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}
_START_ATTEMPTS = 5  # another process may take the free port between choosing it and binding it
_TIMEOUT_S = 60
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class PgUnavailable(Exception):
    """PostgreSQL cannot be started here: the message says why, in one sentence."""


@dataclass(frozen=True)
class _RunAs:
    """The OS user the server programs run as (None: the current user)."""

    user: str | None
    uid: int
    gid: int

    def options(self) -> dict[str, Any]:
        if self.user is None:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


def find_bindir() -> Path:
    """The directory of PostgreSQL's server programs (`pg_config --bindir`, else the usual places)."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config is not None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=_TIMEOUT_S
            )
            candidates.append(Path(out.stdout.strip()))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version, reverse=True)
    on_path = shutil.which("initdb")
    if on_path is not None:
        candidates.append(Path(on_path).parent)
    for bindir in candidates:
        if all(os.access(bindir / program, os.X_OK) for program in ("initdb", "pg_ctl", "postgres")):
            return bindir
    raise PgUnavailable(
        "PostgreSQL's server programs (initdb, pg_ctl) were not found: install PostgreSQL"
        " (its `pg_config --bindir` names where they are)"
    )


def _version(bindir: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in bindir.parent.name.split(".") if part.isdigit())


def _run_as() -> _RunAs:
    if os.geteuid() != 0:
        return _RunAs(None, os.getuid(), os.getgid())
    try:
        entry = pwd.getpwnam(SUPERUSER)
    except KeyError:
        raise PgUnavailable(
            f"PostgreSQL refuses to run as root and there is no `{SUPERUSER}` user to run it as"
        ) from None
    return _RunAs(SUPERUSER, entry.pw_uid, entry.pw_gid)


def _reachable(path: Path, who: _RunAs) -> bool:
    """Whether `who` may enter `path` and every directory above it."""
    if who.user is None:
        return True
    for directory in (path, *path.parents):
        mode = directory.stat()
        if mode.st_uid == who.uid:
            allowed = mode.st_mode & 0o100
        elif mode.st_gid == who.gid:
            allowed = mode.st_mode & 0o010
        else:
            allowed = mode.st_mode & 0o001
        if not allowed:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


class PgCluster:
    """A running throwaway cluster. `start()` makes one; `stop()` ends it (idempotent)."""

    def __init__(self, bindir: Path, home: Path, *, run_as: _RunAs, private_home: bool) -> None:
        self.bindir = bindir
        #: The directory holding the data directory and the server's log, owned by the server's user.
        self.home = home
        self.data_dir = home / "data"
        self.log_file = home / "postgres.log"
        self.host = "127.0.0.1"
        self.port = 0
        self.user = SUPERUSER
        self._run_as = run_as
        self._private_home = private_home  # a directory of our own outside base_dir: removed at stop
        self._running = False

    @classmethod
    def start(
        cls, base_dir: Path, *, bindir: Path | None = None, settings: Mapping[str, str] | None = None
    ) -> PgCluster:
        """initdb and start a new cluster under `base_dir` (or, when the server's user may not
        enter `base_dir`, in a private directory of the system's temp dir), with `settings` over
        `SETTINGS` (values as postgresql.conf spells them). Raises PgUnavailable."""
        programs = bindir if bindir is not None else find_bindir()
        if not all(os.access(programs / p, os.X_OK) for p in ("initdb", "pg_ctl", "postgres")):
            raise PgUnavailable(f"PostgreSQL's server programs (initdb, pg_ctl) are not in {programs}")
        run_as = _run_as()
        base = Path(base_dir).resolve()
        base.mkdir(parents=True, exist_ok=True)
        private = not _reachable(base, run_as)
        home = Path(tempfile.mkdtemp(prefix="hotline-pg-", dir=None if private else base))
        if run_as.user is not None:
            os.chown(home, run_as.uid, run_as.gid)
        cluster = cls(programs, home, run_as=run_as, private_home=private)
        try:
            cluster._initdb({**SETTINGS, **(settings or {})})
            cluster._start_server()
        except (OSError, subprocess.SubprocessError) as exc:
            cluster._abandon()
            raise PgUnavailable(f"PostgreSQL did not start: {exc}") from exc
        except BaseException:
            cluster._abandon()
            raise
        atexit.register(cluster.stop)
        return cluster

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(args),
            capture_output=True,
            text=True,
            cwd=self.home,
            timeout=_TIMEOUT_S,
            env={**os.environ, "LC_ALL": "C"},
            **self._run_as.options(),
        )

    def _initdb(self, settings: Mapping[str, str]) -> None:
        done = self._run(
            str(self.bindir / "initdb"),
            "--pgdata",
            str(self.data_dir),
            "--username",
            SUPERUSER,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
        )
        if done.returncode != 0:
            raise PgUnavailable(f"initdb failed: {_last_line(done.stderr or done.stdout)}")
        lines = "".join(f"{key} = {value}\n" for key, value in settings.items())
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# a throwaway cluster (central_api.sql.pg_cluster)\n" + lines)
        (self.data_dir / "pg_hba.conf").write_text(
            "# TYPE DATABASE USER ADDRESS METHOD\nhost all all 127.0.0.1/32 trust\n", encoding="utf-8"
        )

    def _start_server(self) -> None:
        for _ in range(_START_ATTEMPTS):
            self.port = _free_port()
            done = self._run(
                str(self.bindir / "pg_ctl"),
                "--pgdata",
                str(self.data_dir),
                "--log",
                str(self.log_file),
                "--options",
                f"-p {self.port}",
                "--wait",
                "--timeout",
                str(_TIMEOUT_S),
                "start",
            )
            if done.returncode == 0:
                self._running = True
                return
            log = (
                self.log_file.read_text(encoding="utf-8", errors="replace") if self.log_file.exists() else ""
            )
            if "could not bind" not in log and "already in use" not in log:
                raise PgUnavailable(
                    f"PostgreSQL did not start: {_last_line(log or done.stderr or done.stdout)}"
                )
            self._pg_ctl_stop("immediate")  # a server that half-started must not linger
        raise PgUnavailable(f"PostgreSQL found no free port to listen on after {_START_ATTEMPTS} tries")

    def _pg_ctl_stop(self, mode: str) -> bool:
        done = self._run(
            str(self.bindir / "pg_ctl"), "--pgdata", str(self.data_dir), "--mode", mode, "--wait", "stop"
        )
        return done.returncode == 0

    def url(self, name: str) -> str:
        """The SQLAlchemy URL of the database `name` in this cluster."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{name}"

    def _admin(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(
            host=self.host, port=self.port, user=self.user, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(statement.encode())

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """Create the database `name` (lower-case letters, digits, `_`), a copy of the database
        `template` when given (no session may be open on it), and return its URL."""
        for given in (name, template or name):
            if not _NAME.fullmatch(given):
                raise ValueError(f"not a database name for a throwaway cluster: {given!r}")
        self._admin(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop the database `name`, ending its open sessions; nothing when it does not exist."""
        if not _NAME.fullmatch(name):
            raise ValueError(f"not a database name for a throwaway cluster: {name!r}")
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    @property
    def running(self) -> bool:
        return self._running

    def stop(self) -> None:
        """Shut the server down (`pg_ctl stop -m fast`, immediate when that fails); idempotent."""
        atexit.unregister(self.stop)
        if self._running:
            self._running = False
            stopped = False
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                stopped = self._pg_ctl_stop("fast")
            if not stopped:
                with contextlib.suppress(OSError, subprocess.SubprocessError):
                    self._pg_ctl_stop("immediate")
        self._remove_home()

    def _abandon(self) -> None:
        """After a failed start: no server left running, no private directory left behind."""
        if (self.data_dir / "postmaster.pid").exists():
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                self._pg_ctl_stop("immediate")
        self._remove_home()

    def _remove_home(self) -> None:
        if self._private_home:
            shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> PgCluster:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
