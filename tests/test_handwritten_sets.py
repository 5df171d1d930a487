"""The hand-written peak-event sets (bench/handwritten/*.jsonl): every line a valid labelled request.

Each file is one event written by hand (see bench/handwritten/README.md): at least 400 requests,
ids unique across all sets, categories and communities from the catalogue, and every labelled
incident reported at least twice (a request nothing else reports carries no label).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from central_api.catalogue import CATEGORIES, COMMUNITIES

HANDWRITTEN = Path(__file__).resolve().parent.parent / "bench" / "handwritten"
#: The peak-event sets: each with its notes (NAME.md); the other files here are other measures'.
SETS = sorted(p for p in HANDWRITTEN.glob("*.jsonl") if p.with_suffix(".md").exists())

FIELDS = {"id", "incident", "category", "community", "address", "description", "received_at", "voice", "why"}
VOICES = {
    "call_taker",
    "dialect",
    "elderly",
    "follow_up",
    "typo",
    "fullwidth",
    "wrong_community",
    "landmark",
    "other",
}
ID = re.compile(r"[A-Z][A-Z0-9]*-\d{4}")
MIN_REQUESTS = 400


def records(path: Path) -> list[dict[str, Any]]:
    """Every line of `path` as a JSON object (a line that is not one fails the test)."""
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        row = json.loads(line)
        assert isinstance(row, dict), f"{path.name}:{number} is not an object"
        rows.append(row)
    return rows


def test_the_rainstorm_set_is_there() -> None:
    assert HANDWRITTEN / "rainstorm.jsonl" in SETS


@pytest.mark.parametrize("path", SETS, ids=lambda p: p.stem)
def test_every_record_is_valid(path: Path) -> None:
    categories = {c.code for c in CATEGORIES}
    communities = {c.id for c in COMMUNITIES}
    for row in records(path):
        where = f"{path.name} {row.get('id')}"
        assert set(row) == FIELDS, where
        assert isinstance(row["id"], str) and ID.fullmatch(row["id"]), where
        assert row["incident"] is None or (isinstance(row["incident"], str) and row["incident"]), where
        assert row["category"] in categories, where
        assert row["community"] in communities, where
        assert isinstance(row["address"], str), where
        assert isinstance(row["description"], str) and row["description"].strip(), where
        assert isinstance(row["why"], str), where
        assert row["voice"] in VOICES, where
        received = datetime.fromisoformat(row["received_at"])
        assert received.utcoffset() is not None, where


@pytest.mark.parametrize("path", SETS, ids=lambda p: p.stem)
def test_an_event_has_enough_requests(path: Path) -> None:
    assert len(records(path)) >= MIN_REQUESTS


@pytest.mark.parametrize("path", SETS, ids=lambda p: p.stem)
def test_every_labelled_incident_has_two_reports(path: Path) -> None:
    sizes = Counter(row["incident"] for row in records(path) if row["incident"] is not None)
    lonely = sorted(incident for incident, size in sizes.items() if size < 2)
    assert not lonely, f"{path.name}: incidents with one report: {lonely}"


def test_ids_are_unique_across_all_sets() -> None:
    counts = Counter(row["id"] for path in SETS for row in records(path))
    assert not [rid for rid, n in counts.items() if n > 1]
