"""schemathesis against a live server: every operation of `/openapi.json`, all checks, no failure.

The server is `LiveServer` (what `hotline serve` runs) over a fresh PostgreSQL database (the
production store, whose column types are the strict ones) seeded with a few requests, a routing
rule and tokens. schemathesis runs as its command line (`schemathesis run --checks all`),
deterministic and bounded (`MAX_EXAMPLES` per operation), with an admin's bearer token and a
partner's key for Open311; its report is the failure message. The event stream is read for one
event or a moment. `schemathesis_hooks.py` says which refusals of schema-valid data are
allowed (those for the state of the data, and those JSON Schema has no words for).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pg_support import Db
from schemathesis_hooks import REASON_STATUSES
from server_helpers import new_request

from api_client.actions import Dispatch
from api_client.models import NewRequest, Role, RoutingRuleIn
from central_api.knowledge_seed import seed_knowledge
from central_api.server import LiveServer

#: Generated cases per operation and phase; the whole run takes about a minute on two cores.
MAX_EXAMPLES = 40
#: The subprocess's own limit (the test's timeout is above it).
RUN_SECONDS = 420
#: Seconds schemathesis waits for an answer; an event stream is read for at most STREAM_SECONDS.
REQUEST_SECONDS = 30
STREAM_SECONDS = 5
#: Cases for `GET /v1/events` (each may wait STREAM_SECONDS for an event that does not come).
STREAM_EXAMPLES = 8
HOOKS = Path(__file__).with_name("schemathesis_hooks.py")
#: schemathesis's own defaults for the two checks whose statuses the run widens.
ACCEPTED = ("2xx", "3xx", "401", "403", "404", "409", "429", "5xx")
MISSING_HEADER = ("400", "401", "403", "406", "415", "422")

pytestmark = [
    pytest.mark.timeout(RUN_SECONDS + 60),
    pytest.mark.stores("postgres"),  # a minute or two a run: one store
]


def _schemathesis() -> str:
    beside = Path(sys.executable).with_name("schemathesis")
    found = str(beside) if beside.exists() else shutil.which("schemathesis")
    if found is None:
        pytest.fail("schemathesis is not installed (it is in the `test` extra)")
    return found


def _new(category: str, community: str, phone: str) -> NewRequest:
    location = {"street": "德胜里一区", "community": community, "address": "德胜里一区 3-2-401"}
    body = new_request(category=category, location=location, caller={"name": "王女士", "phone": phone})
    return NewRequest.model_validate(body)


@dataclass(frozen=True)
class Seeded:
    """A live server, the tokens the run uses, and what exists on it."""

    server: LiveServer
    admin: str
    partner: str
    request_ids: list[str]
    rule_ids: list[str]


@pytest.fixture
def seeded(tmp_db: Db) -> Iterator[Seeded]:
    """A live server with requests in a few states, a routing rule, an admin and a partner."""
    server = LiveServer(tmp_db).start()
    try:
        store = server.store
        ids = [
            store.create_request(
                _new(category, community, f"1380013800{i}"), actor="seed", idempotency_key=None
            ).request.id
            for i, (category, community) in enumerate(
                [("roof_leak", "c01"), ("noise", "c02"), ("waterlogging", "c01"), ("parking", "")]
            )
        ]
        store.apply(ids[0], Dispatch(lead_unit="cc01"), actor="seed", if_match=1, idempotency_key=None)
        rule = RoutingRuleIn(category="roof_leak", community="c01", lead_unit="cc01")
        store.put_routing_rule("roof-c01", rule, actor="seed", if_match=None)
        seed_knowledge(store)
        yield Seeded(
            server,
            admin=store.create_token("fuzz-admin", Role.admin),
            partner=store.create_token("fuzz-partner", Role.partner),
            request_ids=ids,
            rule_ids=["roof-c01"],
        )
    finally:
        server.stop()


def _toml(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)  # JSON's strings, numbers and arrays are TOML's


def _config(seeded: Seeded) -> str:
    """schemathesis.toml: how much to generate, credentials, the statuses allowed for schema-valid
    data, and the values that exist on the server (drawn now and then instead of random text, to
    get past the lookups)."""
    store = seeded.server.store
    known = {
        "categories": [c.code for c in store.categories()],
        "communities": [c.id for c in store.communities()],
        "units": [u.id for u in store.units()],
        "requests": seeded.request_ids,
        "rules": seeded.rule_ids,
        "knowledge": [entry.id for entry in store.knowledge_entries()],
    }
    bindings = {
        "body.category": "categories",
        "query.service_code": "categories",
        "path.service_code": "categories",
        "body.service_code": "categories",
        "body.location.community": "communities",
        "body.lead_unit": "units",
        "body.co_units[*]": "units",
        "path.unit_id": "units",
        "query.unit": "units",
        "path.request_id": "requests",
        "path.service_request_id": "requests",
        "body.parent_id": "requests",
        "path.rule_id": "rules",
        "query.rule": "rules",
        "path.entry_id": "knowledge",
        "query.entry": "knowledge",
        "body.entry_id": "knowledge",
    }
    lines = [
        f"request-timeout = {REQUEST_SECONDS}",
        "[generation]",
        f"max-examples = {MAX_EXAMPLES}",
        "deterministic = true",
        "[auth.openapi.bearer]",
        f"bearer = {_toml(seeded.admin)}",
        # Open311 takes the partner's key in any of three places
        "[auth.openapi.api_key_header]",
        f"api_key = {_toml(seeded.partner)}",
        "[auth.openapi.api_key_query]",
        f"api_key = {_toml(seeded.partner)}",
        "[auth.openapi.api_key_bearer]",
        f"bearer = {_toml(seeded.partner)}",
        "[checks.positive_data_acceptance]",
        f"expected-statuses = {_toml([*ACCEPTED, *REASON_STATUSES])}",
        # RFC 6585: 428 is the answer to a request that lacks its precondition header (If-Match)
        "[checks.missing_required_header]",
        f"expected-statuses = {_toml([*MISSING_HEADER, '428'])}",
    ]
    for name, values in known.items():
        lines += [f"[dictionaries.{name}]", f"values = {_toml(values)}"]
    lines.append("[parameters]")
    lines += [
        f"{_toml(key)} = {{ dictionary = {_toml(name)}, probability = 0.7 }}"
        for key, name in bindings.items()
    ]
    # the key travels in a declared header or the query; one in the form too would be a second key
    lines.append('"body.api_key" = ""')
    # an event stream lasts until the server stops: read one event, or wait a moment for none
    lines += [
        "[[operations]]",
        'include-path = "/v1/events"',
        "max-stream-events = 1",
        f"request-timeout = {STREAM_SECONDS}",
        "[operations.generation]",
        f"max-examples = {STREAM_EXAMPLES}",
    ]
    return "\n".join(lines) + "\n"


def run_schemathesis(seeded: Seeded, workdir: Path) -> tuple[int, str]:
    """Run schemathesis against the seeded server with every check; its exit status and report."""
    config = workdir / "schemathesis.toml"
    config.write_text(_config(seeded), encoding="utf-8")
    command = [
        _schemathesis(),
        "--config-file",
        str(config),
        "--no-color",
        "run",
        f"{seeded.server.url}/openapi.json",
        "--checks",
        "all",
        "--workers",
        "1",
    ]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": HOOKS.stem,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HOOKS.parent), os.environ.get("PYTHONPATH")])),
    }
    run = subprocess.run(
        command, cwd=workdir, env=env, capture_output=True, text=True, timeout=RUN_SECONDS, check=False
    )
    return run.returncode, run.stdout + run.stderr


def test_schemathesis_finds_no_failure(seeded: Seeded, tmp_path: Path) -> None:
    status, report = run_schemathesis(seeded, tmp_path)
    assert status == 0, report[-30_000:]
    tested = re.search(r"Tested: (\d+)", report)
    selected = re.search(r"Selected: (\d+)/(\d+)", report)
    assert tested and selected, report[-5_000:]
    assert int(tested.group(1)) == int(selected.group(1)) == int(selected.group(2)), report[-5_000:]
