"""The installed `hotline sync` and `hotline status`, run as a dispatcher would run them."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

from faultservers import Conn, FaultServer, response
from test_sync_support import World, hotline_script, make_engine, seed, server_act

from api_client.actions import AddNote, Dispatch
from central_api.server import LiveServer
from local_cache.local_store import LocalStore
from local_cache.paths import cache_dir


def environment(tmp: Path, url: str, token: str | None, dispatcher: str | None = None) -> dict[str, str]:
    """HOTLINE_* for one dispatcher: the token in a 0600 file, the cache under `tmp`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env |= {
        "HOTLINE_API_URL": url,
        "HOTLINE_CACHE_DIR": str(tmp / "cache-root"),
        "HOTLINE_CONFIG": str(tmp / "no-config.toml"),
    }
    if token is not None:
        token_file = tmp / "token"
        token_file.write_text(token + "\n")
        token_file.chmod(0o600)
        env["HOTLINE_TOKEN_FILE"] = str(token_file)
    if dispatcher is not None:
        env["HOTLINE_DISPATCHER"] = dispatcher
    return env


def hotline(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [hotline_script(), *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def store_of(tmp: Path, url: str, name: str) -> LocalStore:
    """The cache `hotline` uses for `name` on `url` (as the app would open it)."""
    return LocalStore.open(cache_dir(tmp / "cache-root", url, name), server_url=url, dispatcher=name)


def synced_cache(
    live_server: LiveServer, tmp: Path, name: str, count: int
) -> tuple[World, dict[str, str], LocalStore]:
    """`count` requests on the server, synced by `hotline sync` into `name`'s cache, opened."""
    world = World(live_server, seed(live_server, count), tmp)
    env = environment(tmp, live_server.url, live_server.create_token(name), name)
    assert hotline("sync", env=env).returncode == 0
    return world, env, store_of(tmp, live_server.url, name)


async def test_sync_and_status_through_an_outage(live_server: LiveServer, tmp_path: Path) -> None:
    world = World(live_server, seed(live_server, 10), tmp_path)
    token = live_server.create_token("张敏")
    env = environment(tmp_path, live_server.url, token)  # no dispatcher: asked from /v1/me

    first = hotline("sync", env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == (
        f"pushed 0 actions, 0 conflicts, pulled 10 changes (cursor 10) from {live_server.url}"
    )

    store = store_of(tmp_path, live_server.url, "张敏")  # the dispatcher works in the app ...
    for request_id in world.ids[:3]:
        store.record(request_id, AddNote(text=f"note on {request_id}"), actor="张敏")
    store.close()
    live_server.stop()  # ... and the network goes down

    offline_env = {**env, "HOTLINE_DISPATCHER": "张敏"}
    failed = hotline("sync", env=offline_env)
    assert failed.returncode == 1
    assert failed.stderr.startswith("hotline: cannot reach the central API at http://127.0.0.1:")
    assert failed.stderr.rstrip().endswith("; 3 actions stay pending")
    assert "Traceback" not in failed.stderr

    status = hotline("status", env=offline_env)  # needs no network
    assert status.returncode == 0, status.stderr
    fields = dict(line.split(None, 1) for line in status.stdout.splitlines() if not line.startswith(" "))
    assert fields["server"] == live_server.url and fields["dispatcher"] == "张敏"
    assert fields["cached"] == "10 requests" and fields["cursor"] == "10"
    assert fields["pending"] == "3 actions" and fields["conflicts"] == "0"
    assert fields["last"].startswith("sync ") and "never" not in fields["last"]
    assert Path(fields["cache"]).is_dir()

    live_server.start()
    synced = hotline("sync", env=env)
    assert synced.returncode == 0, synced.stderr
    assert (
        f"pushed 3 actions, 0 conflicts, pulled 3 changes (cursor 13) from {live_server.url}" in synced.stdout
    )
    for request_id in world.ids[:3]:
        assert [n.text for n in live_server.store.get_request(request_id).notes] == [f"note on {request_id}"]
    after = hotline("status", env=env)
    assert "pending     0 actions" in after.stdout and "cursor      13" in after.stdout


async def test_status_lists_conflicts_and_sync_points_to_them(
    live_server: LiveServer, tmp_path: Path
) -> None:
    world, env, store = synced_cache(live_server, tmp_path, "李", 3)
    store.record(world.ids[0], Dispatch(lead_unit="cc02"), actor="李")
    store.close()
    server_act(live_server, world.ids[0], Dispatch(lead_unit="cc01"), actor="王")

    synced = hotline("sync", env=env)
    assert synced.returncode == 0, synced.stderr  # a conflict is a result, not a failure
    assert "pushed 0 actions, 1 conflict," in synced.stdout
    assert "1 conflict waits for you: `hotline status` lists them" in synced.stdout

    status = hotline("status", env={**env, "HOTLINE_LANG": "en"})  # the conflict in English words
    assert status.returncode == 0
    assert "conflicts   1" in status.stdout
    [line] = [line for line in status.stdout.splitlines() if line.startswith("  ")]
    said = f"  {world.ids[0]}  dispatch  changed by someone else first: Request {world.ids[0]} was changed"
    assert line.startswith(said), line


async def test_a_bad_page_fails_the_sync_clearly_and_moves_nothing(tmp_path: Path) -> None:
    async def serve(conn: Conn) -> None:
        await conn.send(
            response(200, {"changes": [{"seq": 1}], "next_since": 1, "head": 1, "has_more": False})
        )

    async with FaultServer(serve) as fault:
        env = environment(tmp_path, fault.url, "some-token", "zhang")
        proc = await asyncio.create_subprocess_exec(
            hotline_script(), "sync", env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 1
    assert err.decode().strip() == (
        "hotline: the central API sent an invalid answer to GET /v1/changes: field 'changes.0.action':"
        " Field required; 0 actions stay pending"
    )
    assert "cursor 0" in out.decode()
    status = await asyncio.to_thread(hotline, "status", env=env)
    assert "cursor      0" in status.stdout


def test_sync_refuses_while_another_process_syncs_the_cache(live_server: LiveServer, tmp_path: Path) -> None:
    env = environment(tmp_path, live_server.url, live_server.create_token("zhang"), "zhang")
    owner = store_of(tmp_path, live_server.url, "zhang")  # the app, running
    try:
        assert owner.is_sync_owner
        result = hotline("sync", env=env)
    finally:
        owner.close()
    assert result.returncode == 1
    assert "another hotline process is syncing the cache" in result.stderr
    assert hotline("sync", env=env).returncode == 0


def test_missing_settings_and_an_unsafe_cache_are_clear_errors(tmp_path: Path) -> None:
    env = environment(tmp_path, "http://127.0.0.1:9", None)
    no_token = hotline("sync", env=env)
    assert no_token.returncode == 1 and no_token.stderr.startswith("hotline: no token")
    no_name = hotline("status", env=env)
    assert no_name.returncode == 1
    assert "the dispatcher name is needed to find the cache: set HOTLINE_DISPATCHER" in no_name.stderr

    named = {**env, "HOTLINE_DISPATCHER": "zhang"}
    empty = hotline("status", env=named)
    assert empty.returncode == 0 and "last sync   never" in empty.stdout
    root = tmp_path / "cache-root"
    root.chmod(0o755)
    unsafe = hotline("status", env=named)
    assert unsafe.returncode == 1 and f"chmod 700 {root}" in unsafe.stderr


async def test_status_asks_the_server_for_the_name_when_it_can(
    live_server: LiveServer, tmp_path: Path
) -> None:
    world = World(live_server, seed(live_server, 2), tmp_path)
    env = environment(tmp_path, live_server.url, live_server.create_token("王"))
    store = store_of(tmp_path, live_server.url, "王")
    await make_engine(store, world.dispatcher("helper").client()).pull()
    store.close()
    status = hotline("status", env=env)
    assert status.returncode == 0, status.stderr
    assert "dispatcher  王" in status.stdout and "cached      2 requests" in status.stdout
    for person in world.people:
        for client in person.clients:
            await client.aclose()


async def test_a_damaged_cache_file_is_moved_aside_and_pulled_again_keeping_the_outbox(
    live_server: LiveServer, tmp_path: Path
) -> None:
    world, env, store = synced_cache(live_server, tmp_path, "张敏", 10)
    store.record(world.ids[0], AddNote(text="before the damage"), actor="张敏")
    cache = store.directory
    store.close()
    requests_file = cache / "requests.json"
    data = requests_file.read_bytes()
    requests_file.write_bytes(data[: len(data) // 2])  # a disk that lost the end of the file

    status = hotline("status", env=env)
    assert status.returncode == 0, status.stderr
    assert "could not be used" in status.stdout and "will be downloaded again" in status.stdout
    assert "Actions not yet sent are kept in the outbox." in status.stdout
    assert "pending     1 action" in status.stdout and "Traceback" not in status.stderr

    synced = hotline("sync", env=env)
    assert synced.returncode == 0, synced.stderr
    assert "pushed 1 action" in synced.stdout and "pulled 11 changes (cursor 11)" in synced.stdout
    assert [n.text for n in live_server.store.get_request(world.ids[0]).notes] == ["before the damage"]
    kept = [p for p in cache.iterdir() if p.name.startswith("requests.json") and p != requests_file]
    # the damaged copy is kept for a person to look at (among whatever else was moved aside)
    assert any(p.read_bytes() == data[: len(data) // 2] for p in kept), kept
    again = hotline("status", env=env)
    assert "cached      10 requests" in again.stdout and "could not be used" not in again.stdout
