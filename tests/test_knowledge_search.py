"""Searching the knowledge base as a call-taker types: measured on hand-written queries
(`bench/handwritten/knowledge_queries.jsonl`), and the order of what is found."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson

from api_client.knowledge import KnowledgeEntry
from central_api.knowledge_seed import seed_entries
from tui.core.knowledge_search import KnowledgeIndex

QUERIES = Path(__file__).resolve().parent.parent / "bench" / "handwritten" / "knowledge_queries.jsonl"
TODAY = date(2026, 12, 7)
#: Measured on the 48 hand-written queries: 44 find their entry in the first three (91.7 %),
#: 43 first.
TOP3_AT_LEAST = 0.9


def entries() -> list[KnowledgeEntry]:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    return [
        KnowledgeEntry(id=entry_id, **entry.model_dump(), version=1, updated_by="seed", updated_at=at)
        for entry_id, entry in seed_entries()
    ]


def entry(entry_id: str, title: str, **fields: object) -> KnowledgeEntry:
    return KnowledgeEntry.model_validate(
        {
            "id": entry_id,
            "title": title,
            "answer": fields.pop("answer", "答复"),
            "version": 1,
            "updated_by": "seed",
            "updated_at": datetime(2026, 1, 1, tzinfo=UTC),
            **fields,
        }
    )


def test_the_hand_written_queries() -> None:
    index = KnowledgeIndex(entries())
    queries = [orjson.loads(line) for line in QUERIES.read_bytes().splitlines() if line.strip()]
    known = {e.id for e in entries()}
    assert len(queries) >= 40 and all(q["entry"] in known for q in queries)
    found = 0
    for query in queries:
        top = [e.id for e in index.search(query["query"], today=TODAY, limit=3)]
        found += query["entry"] in top
    assert found / len(queries) >= TOP3_AT_LEAST, f"{found} of {len(queries)} in the top 3"


def test_pinyin_initials_and_a_homophone_slip() -> None:
    index = KnowledgeIndex(entries())
    for query in ("dibao", "ydjy", "异地就医", "身分证丢了"):
        assert index.search(query, today=TODAY, limit=1), query
    assert index.search("ydjy", today=TODAY)[0].id == "kb-yidi-jiuyi"
    assert index.search("身分证丢了", today=TODAY)[0].id == "kb-shenfenzheng"


def test_entries_in_force_come_first_and_the_others_follow() -> None:
    today = TODAY
    old = entry("old", "供暖补贴", keywords=["供暖补贴"], valid_until=today - timedelta(days=1))
    later = entry("later", "供暖补贴新政", valid_from=today + timedelta(days=1))
    gone = entry("gone", "供暖补贴", withdrawn=True)
    current = entry("now", "供暖补贴申请")
    weak = entry("weak", "停车", answer="补办停车证")  # shares one character: left out
    index = KnowledgeIndex([old, later, gone, weak, current])
    assert [e.id for e in index.search("供暖补贴", today=today)] == ["now", "old", "later", "gone"]


def test_a_category_comes_first_and_an_empty_query_lists_everything() -> None:
    a = entry("a", "停车咨询", category="parking")
    b = entry("b", "停车收费", category="policy_enquiry")
    index = KnowledgeIndex([b, a])
    assert index.search("停车", today=TODAY, category="parking")[0].id == "a"
    assert [e.id for e in index.search("", today=TODAY)] == ["b", "a"]
    assert [e.id for e in index.search("", today=TODAY, category="parking")] == ["a", "b"]
    assert index.search("没有这样的词", today=TODAY) == []
    assert len(index.search("", today=TODAY, limit=1)) == 1
