"""The knowledge base's cache: fetched from a real server, kept in a private file, read back
offline (by a session too), recovered from bad files."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from api_client.client import HotlineClient
from api_client.errors import NotFound
from api_client.knowledge import KnowledgeEntry, KnowledgeEntryIn
from api_client.models import Role
from central_api.knowledge_seed import seed_entries, seed_knowledge
from central_api.server import LiveServer
from local_cache.errors import UnsafePermissions
from local_cache.knowledge_file import (
    FILE_NAME,
    SCHEMA,
    KnowledgeCache,
    KnowledgeFile,
    default_path,
    fetch_knowledge,
)
from tui.core.session import Session

FETCHED = datetime(2026, 12, 7, 8, 30, tzinfo=UTC)


def demo(**changes: object) -> KnowledgeCache:
    entries = [
        KnowledgeEntry(id=entry_id, **entry.model_dump(), version=1, updated_by="seed", updated_at=FETCHED)
        for entry_id, entry in seed_entries()[:5]
    ]
    fields: dict[str, object] = {"entries": entries, "fetched_at": FETCHED, **changes}
    return KnowledgeCache.model_validate(fields)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_fetch_from_a_real_server_and_edit_it_through_the_client(live_server: LiveServer) -> None:
    seed_knowledge(live_server.store)
    token = live_server.store.create_token("supervisor-1", Role.supervisor)
    async with HotlineClient(live_server.url, token) as client:
        fetched = await fetch_knowledge(client)
        assert fetched is not None and [e.id for e in fetched.entries] == [i for i, _ in seed_entries()]
        made = await client.create_knowledge_entry(
            KnowledgeEntryIn(title="新条目", answer="答复", valid_from=FETCHED.date())
        )
        assert made.id.startswith("KB-") and made.valid_from == FETCHED.date()
        replaced = await client.replace_knowledge_entry(
            made.id, KnowledgeEntryIn(title="新条目二", answer="答复"), version=1
        )
        assert replaced.version == 2 and replaced.valid_from is None
        with pytest.raises(Exception) as stale:
            await client.replace_knowledge_entry(made.id, KnowledgeEntryIn(title="x", answer="y"), version=1)
        assert getattr(stale.value, "code", None) == "knowledge_version_mismatch"
        withdrawn = await client.withdraw_knowledge_entry(made.id, version=2)
        assert withdrawn.withdrawn
        assert [e.action for e in await client.knowledge_audit(made.id)] == ["create", "replace", "withdraw"]
        again = await fetch_knowledge(client)
    assert again is not None and again.entry(made.id) == withdrawn


async def test_a_server_without_a_knowledge_base_gives_none() -> None:
    class Old:
        async def knowledge(self) -> list[KnowledgeEntry]:
            raise NotFound("no such route", status=404)

    assert await fetch_knowledge(Old()) is None


def test_save_and_load_privately(tmp_path: Path) -> None:
    cache = tmp_path / "cache" / "server" / "张敏"
    file = KnowledgeFile(default_path(cache))
    assert file.path.name == FILE_NAME
    assert file.load() is None and file.messages == []
    umask = os.umask(0o022)
    try:
        file.save(demo())
    finally:
        os.umask(umask)
    assert mode(file.path) == 0o600
    assert mode(cache) == 0o700
    loaded = KnowledgeFile(file.path).load()
    assert loaded == demo() and loaded is not None
    assert loaded.entry("kb-dibao") is not None and loaded.entry("nope") is None


def test_save_refuses_a_directory_others_can_read(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o755)
    with pytest.raises(UnsafePermissions):
        KnowledgeFile(shared / FILE_NAME).save(demo())


def _document(**changes: object) -> bytes:
    body: dict[str, object] = {"schema": SCHEMA, "knowledge": demo().model_dump(mode="json")}
    body.update(changes)
    return orjson.dumps(body)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x00\xff garbage", "not valid JSON"),
        (b"", "empty"),
        (_document(schema=SCHEMA + 1), "newer hotline"),
        (_document(knowledge={"entries": "many"}), "not a knowledge base"),
    ],
)
def test_a_bad_file_is_moved_aside(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / FILE_NAME
    path.write_bytes(content)
    os.chmod(path, 0o600)
    file = KnowledgeFile(path)
    assert file.load() is None
    [message] = file.messages
    assert reason in message and "fetched again" in message and not path.exists()
    [aside] = [p for p in tmp_path.iterdir() if p.name.startswith(f"{FILE_NAME}.bad-")]
    assert aside.read_bytes() == content


def test_a_session_opens_with_the_saved_knowledge_base(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    session = Session.open(cache, api_url="http://127.0.0.1:1", dispatcher="张敏", token=None)
    try:
        assert session.knowledge is None
        session.set_knowledge(demo())
    finally:
        session.close()
    again = Session.open(cache, api_url="http://127.0.0.1:1", dispatcher="张敏", token=None)
    try:
        assert again.knowledge == demo()
    finally:
        again.close()
