"""Partner keys and public Open311 reads, driven by third-party GeoReport v2 clients from PyPI.

`georeport` (lists services, reads service requests without a key) and `civicbot`'s Open311
client (posts with a key: georeport has no POST, and the `open311` package is Python 2 only)
against a real `hotline serve --open311-public`. A partner's token works only under
`/open311/v2/`; the key may come in a header; what is public names no caller and masks numbers.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from civicbot.http import HttpTransport, RateLimiter  # type: ignore[import-untyped]
from civicbot.open311 import Open311Client  # type: ignore[import-untyped]
from civicbot.registry import Endpoint  # type: ignore[import-untyped]
from conftest import bearer
from georeport import GeoReport  # type: ignore[import-untyped]
from hypothesis import given
from hypothesis import strategies as st
from pg_support import Db
from server_helpers import new_request
from test_cli import free_port, hotline_command, run

from api_client.domain.personal_data import mask_digit_runs
from api_client.models import Role
from central_api.server import LiveServer

CALLER_FIELDS = {"first_name", "last_name", "phone", "email", "device_id", "account_id", "caller"}
#: A phone-like run: 7 digits or more, spaces or dashes between them.
DIGIT_RUN = re.compile(r"\d(?:[\s\-]{0,3}\d){6,}")
PHONE = "13912345678"
REPORT = {
    "address_string": "德胜里一区3号楼2单元502，电话 139 1234 5678",
    "description": f"楼道灯坏了一周，有事请打 {PHONE} 或 010-6234-5678 找王女士。",
    "first_name": "芳",
    "last_name": "王",
    "phone": "13800138000",
    "email": "wang@example.cn",
    "attributes": {"community": "c01"},
}


@pytest.fixture
def public_server(tmp_db: Db) -> Iterator[tuple[str, Db]]:
    """`hotline serve --open311-public` as a real subprocess on a free port."""
    port = free_port()
    db = tmp_db
    proc = subprocess.Popen(
        [*hotline_command(), "serve", "--db", str(db), "--port", str(port), "--open311-public"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # one pipe, read to its end below: a full pipe would stall the server
        text=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    line = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if "listening on" in line or not line:
            break
    assert f"http://127.0.0.1:{port}" in line, (line, proc.poll())
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{port}", db
    finally:
        proc.terminate()
        assert proc.wait(timeout=60) == 0


def partner_token(db: Db, name: str = "city-app") -> str:
    made = run("token", "create", name, "--role", "partner", "--db", str(db))
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


def assert_public(item: dict[str, Any]) -> None:
    """No caller field, no phone of the caller, no phone-like run in the free text."""
    assert not CALLER_FIELDS & set(item)
    assert "13800138000" not in str(item) and "芳" not in str(item) and "wang@" not in str(item)
    for name in ("description", "address"):
        assert not DIGIT_RUN.search(item[name] or ""), item[name]


def test_a_third_party_client_lists_posts_with_a_partner_key_and_reads_publicly(
    public_server: tuple[str, Db],
) -> None:
    url, db = public_server
    key = partner_token(db)
    reader = GeoReport(f"{url}/open311/v2")  # no api_key: public reads
    services = reader.get_service_list()
    assert "roof_leak" in {s["service_code"] for s in services}

    endpoint = Endpoint(id="hotline", name="hotline", base_url=f"{url}/open311/v2", write=True)
    poster = Open311Client(endpoint, transport=HttpTransport(rate_limiter=RateLimiter(min_interval=0)))
    sent = poster.create_request("street_light", dry_run=False, confirm="SEND", api_key=key, **REPORT)
    [created] = sent.response
    request_id = created["service_request_id"]

    by_id = reader.get_service_request(request_id)
    assert by_id["service_request_id"] == request_id and by_id["service_code"] == "street_light"
    assert by_id["status"] == "open"
    assert "139****5678" in by_id["description"] and "139 **** 5678" in by_id["address"]
    assert_public(by_id)
    today = time.strftime("%Y-%m-%d")
    for found in (
        reader.get_service_requests(service_code="street_light", status="open"),
        reader.get_service_requests(start_date=f"{today}T00:00:00+08:00", status="open,closed"),
        reader.get_service_requests(service_request_id=request_id),
    ):
        assert request_id in [item["service_request_id"] for item in found]
        for item in found:
            assert_public(item)

    with httpx.Client(base_url=url, headers=bearer(key), timeout=10) as partner:
        for path in ("/v1/changes", f"/v1/requests/{request_id}"):
            refused = partner.get(path)
            assert refused.status_code == 403 and refused.json()["code"] == "partner_not_allowed"
        posted = partner.post("/v1/requests", json=new_request())
        assert posted.status_code == 403 and posted.json()["code"] == "partner_not_allowed"
        keyed = partner.get(f"/open311/v2/requests/{request_id}.json")  # with its key: as before
        assert keyed.json()[0]["description"] == REPORT["description"]
    assert (
        httpx.post(f"{url}/open311/v2/requests.json", data={"service_code": "noise"}, timeout=30).status_code
        == 403
    )


def test_a_partner_token_is_refused_on_every_v1_route(live_server: LiveServer) -> None:
    token = live_server.create_token("city-app", Role.partner)
    spec = httpx.get(f"{live_server.url}/openapi.json", timeout=10).json()
    with httpx.Client(base_url=live_server.url, headers=bearer(token), timeout=10) as partner:
        for path, item in spec["paths"].items():
            if not path.startswith("/v1/") or path == "/v1/health":
                continue
            concrete = re.sub(r"\{[^}]+\}", "x", path)
            for method in item:
                answer = partner.request(method.upper(), concrete, json={})
                assert answer.status_code == 403, (method, path, answer.text)
                assert answer.json()["code"] == "partner_not_allowed"
        assert partner.get("/open311/v2/requests.json").status_code == 200


def test_reads_need_a_key_unless_public(live_server: LiveServer) -> None:
    answer = httpx.get(f"{live_server.url}/open311/v2/requests.json", timeout=10)
    assert answer.status_code == 403
    assert answer.json() == [{"code": 403, "description": "api_key was not provided"}]
    assert httpx.get(f"{live_server.url}/open311/v2/services.json", timeout=10).status_code == 200


def test_the_key_may_come_in_a_header(tmp_db: Db) -> None:
    with LiveServer(tmp_db, open311_public=True) as server:
        key = server.create_token("city-app", Role.partner)
        base = f"{server.url}/open311/v2"
        form = {"service_code": "noise", "address_string": "德胜里", "description": "夜里施工"}
        for headers in ({"X-Api-Key": key}, bearer(key)):
            made = httpx.post(f"{base}/requests.json", data=form, headers=headers, timeout=10)
            assert made.status_code == 201, made.text
        both = httpx.post(
            f"{base}/requests.json",
            data={**form, "api_key": "another"},
            headers={"X-Api-Key": key},
            timeout=30,
        )
        assert both.status_code == 400 and "more than once" in both.json()[0]["description"]
        wrong = httpx.get(f"{base}/requests.json", headers={"X-Api-Key": "not-a-token"}, timeout=10)
        assert wrong.status_code == 403  # a wrong key is refused even where reads are public
        server.store.revoke_token("city-app", actor="test")
        revoked = httpx.post(f"{base}/requests.json", data=form, headers={"X-Api-Key": key}, timeout=10)
        assert revoked.status_code == 403 and revoked.json()[0]["description"] == "api_key is not valid"
        assert server.store.head() == 2


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("电话13912345678", "电话139****5678"),
        ("call 139 1234 5678 now", "call 139 **** 5678 now"),
        ("139 - 1234 - 5678", "139 - **** - 5678"),
        ("010-6234-5678", "010-****-5678"),
        ("座机 62345678。", "座机 ******78。"),
        ("１３９１２３４５６７８", "１３９****５６７８"),
        ("幺三九一二三四五六七八", "幺三九****五六七八"),
        ("3号楼2单元502，123456", "3号楼2单元502，123456"),  # fewer than 7 digits: kept
        ("", ""),
    ],
)
def test_phone_like_runs_are_masked(text: str, masked: str) -> None:
    assert mask_digit_runs(text) == masked


@given(st.text(alphabet=st.sampled_from("0123456789１２３一二三 -–.x号")))
def test_masking_leaves_no_run_and_keeps_the_rest(text: str) -> None:
    masked = mask_digit_runs(text)
    assert len(masked) == len(text)
    assert all(a == b or b == "*" for a, b in zip(text, masked, strict=True))
    assert mask_digit_runs(masked) == masked  # nothing left to mask
