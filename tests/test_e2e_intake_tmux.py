"""Taking calls in a real terminal (tmux, 80x24, Chinese), by keys only: the installed `hotline`
on the installed `hotline demo --serve-only` (stopped and started again for the offline part).

1. A call taken in by keys (category and place by type-ahead, the caller, the description) in
   under 25 keys besides the typed text, recorded with ctrl+s and dispatched with one more key.
2. The same with the server stopped: recorded and dispatched offline; once the server is back,
   taken in exactly once, its dispatch after it.
3. A call about a leak where an open leak request is: the form offers that request, one key links
   the call; the request then has two callers (the detail lists the repeat caller) and a chase.

The screen is read after each step; what the server holds is checked through its API.
"""

from __future__ import annotations

import os
import shlex
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_cli import free_port, hotline_command
from test_e2e_shift_tmux import DemoServer
from tmux_support import Terminal, needs_tmux, queue_bar, row_ids

pytestmark = needs_tmux

SIZE = (80, 24)
#: The whole test, from the server's start to the last check, stays within this many seconds.
BUDGET = 180.0
#: The open leak a repeat call is about, and the place of the other calls.
LEAK_PLACE = "德胜里一区3号楼"
OTHER_PLACE = "德胜里一区2号楼"


@dataclass
class Calls:
    """The terminal, the demo server, and how to ask the server (its URL and the token)."""

    term: Terminal
    server: DemoServer
    token: str
    keys: int = 0  # keys pressed in the form that are not typed text

    def press(self, *names: str) -> None:
        self.keys += len(names)
        self.term.keys(*names)

    def fill(self, label: str, text: str) -> str:
        """Type `text` into the field in focus, which must be the field `label`, as a person does:
        seen elsewhere (the key that moved the focus did not reach the app in time), it is taken
        out again, tab pressed once more and the text typed again."""
        for _ in range(3):
            self.term.type(text)
            try:
                return self.term.wait(lambda s: in_field(s, label, text), f"{text} in {label}", timeout=4)
            except AssertionError:
                self.term.keys(*["BSpace"] * len(text), "Tab")
        return self.term.wait(lambda s: in_field(s, label, text), f"{text} in {label}")

    def until_server(self, check: Callable[[], object], what: str, timeout: float = 30.0) -> None:
        """Wait until `check()` (which asks the server) is true."""
        end = min(time.monotonic() + timeout, self.term.deadline)
        while not check():
            if time.monotonic() > end:
                raise AssertionError(f"timed out waiting for {what}; the screen:\n{self.term.screen()}")
            time.sleep(0.3)

    def api(self) -> httpx.Client:
        return httpx.Client(
            timeout=30, base_url=self.server.url, headers={"Authorization": f"Bearer {self.token}"}
        )

    def calls_of(self, phone: str) -> list[dict[str, Any]]:
        """The requests on the server whose caller has this phone (shown masked: by its first
        three and last four digits), read from the change feed."""
        latest: dict[str, dict[str, Any]] = {}
        since = 0
        with self.api() as client:
            while True:
                answer = client.get("/v1/changes", params={"since": since, "limit": 1000})
                assert answer.status_code == 200, answer.text
                page = answer.json()
                for change in page["changes"]:
                    latest[change["request"]["id"]] = change["request"]
                since = page["next_since"]
                if not page["has_more"]:
                    break
        masked = f"{phone[:3]}****{phone[-4:]}"
        return [r for r in latest.values() if r["caller"]["phone"] == masked]


def in_field(shot: str, label: str, text: str) -> bool:
    """Whether the form's field `label` (类别, 地点, 来电人, 电话, 诉求) shows `text`."""
    for line in shot.splitlines():
        row = line.strip()
        if row.startswith("来电人"):
            name, _, phone = row.partition("电话")
            if label in ("来电人", "电话"):
                return text in (name if label == "来电人" else phone)
        elif row.startswith(label):
            return text in row
    return False


def status_line(shot: str) -> str:
    lines = shot.splitlines()
    return lines[SIZE[1] - 2] if len(lines) >= SIZE[1] - 1 else ""


def queue(shot: str) -> bool:
    return queue_bar(shot).lstrip().startswith("1 ")


def synced(shot: str) -> bool:
    return queue(shot) and "在线" in status_line(shot) and "未发送操作 0" in status_line(shot)


def the_form(shot: str) -> bool:
    return shot.lstrip().startswith("接线受理")


@pytest.fixture
def calls(tmp_path: Path) -> Iterator[Calls]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "PYTHONFAULTHANDLER": "1",
        "TERM": "xterm-256color",
        "HOTLINE_CACHE_DIR": str(tmp_path / "cache"),
        "HOTLINE_CONFIG": str(tmp_path / "config.toml"),
        "HOTLINE_LANG": "zh",
    }
    server = DemoServer(tmp_path / "demo.db", free_port(), env)
    token = tmp_path / "token"
    try:
        shutil.copyfile(server.start(), token)  # the command removes its own when it stops
        token.chmod(0o600)
        app_env = {**env, "HOTLINE_API_URL": server.url, "HOTLINE_TOKEN_FILE": str(token)}
        hotline = shlex.join(["env", "-i", *(f"{k}={v}" for k, v in app_env.items()), *hotline_command()])
        script = f'{hotline}; echo "hotline exited with status $?"'
        term = Terminal(shlex.join(["sh", "-c", script]), name="intake", size=SIZE, budget=BUDGET)
        try:
            yield Calls(term, server, token.read_text().strip())
        finally:
            term.close()
    finally:
        server.stop()


def open_leak(c: Calls) -> str:
    """An open roof leak at `LEAK_PLACE`, dispatched to its property company (through the API)."""
    body = {
        "channel": "phone",
        "type": "help",
        "category": "roof_leak",
        "description": "德胜里一区3号楼顶层漏雨，屋里往下滴水",
        "location": {"community": "c01", "address": LEAK_PLACE},
        "caller": {"name": "王秀兰", "phone": "13800001111"},
    }
    with c.api() as client:
        made = client.post("/v1/requests", json=body)
        assert made.status_code == 201, made.text
        request = made.json()
        dispatched = client.post(
            f"/v1/requests/{request['id']}/actions",
            json={"action": "dispatch", "lead_unit": "pm01"},
            headers={"If-Match": f'"{request["version"]}"'},
        )
        assert dispatched.status_code == 200, dispatched.text
    return str(request["id"])


def take_call(c: Calls, *, place: str, phone: str, description: str) -> str:
    """A roof leak taken in by keys: the form opened, the category and the place by type-ahead,
    the caller, the description. The form on screen."""
    c.keys = 0
    c.press("i")
    c.term.wait(the_form, "the intake form")
    c.fill("类别", "fwly")
    c.term.wait(lambda s: "房屋漏雨" in s, "the category offered")
    c.press("Enter")
    c.term.wait(lambda s: "24小时 · 建议单位" in s, "the category's tier and units")
    c.fill("地点", place)
    c.term.wait(lambda s: "德胜里社区 › 德胜里一区 ›" in s, "the place offered")
    c.press("Enter")
    c.term.wait(lambda s: "负责：" in s, "the place's covering units")
    c.fill("来电人", "李建国")
    c.press("Tab")
    c.fill("电话", phone)
    c.press("Tab", "Tab")
    return c.fill("诉求", description)


def test_calls_taken_in_by_keys_online_offline_and_a_repeat_call(calls: Calls) -> None:
    c = calls
    leak = open_leak(c)
    c.term.wait(synced, "the queues, synced", timeout=60)

    # 1. Online: recorded, then dispatched with one more key.
    take_call(c, place=OTHER_PLACE, phone="13912340001", description="二号楼楼道顶上漏雨")
    c.press("C-s")
    c.term.wait(lambda s: "已记录 T-" in s, "the call recorded")
    assert c.keys < 25, c.keys
    c.press("C-g")
    c.term.wait(lambda s: "已派单：" in s, "the call dispatched")
    assert c.keys == 8, c.keys  # i, enter, enter, tab, tab, tab, ctrl+s; then ctrl+g
    c.press("Escape")
    c.until_server(lambda: len(c.calls_of("13912340001")) == 1, "the call on the server")
    c.until_server(lambda: c.calls_of("13912340001")[0]["state"] == "dispatched", "its dispatch")
    [online] = c.calls_of("13912340001")
    assert (online["state"], online["lead_unit"]) == ("dispatched", "pm01")
    assert [step["action"] for step in online["history"]] == ["intake", "dispatch"]

    # 2. Offline: the server stops; the call and its dispatch wait; the server comes back.
    c.server.stop()
    c.term.wait(lambda s: "离线" in status_line(s), "offline", timeout=30)
    take_call(c, place=OTHER_PLACE, phone="13912340002", description="二号楼顶层又漏雨了")
    c.press("C-s")
    c.term.wait(lambda s: "离线，联网后自动受理" in s, "the call recorded offline")
    c.press("C-g")
    c.term.wait(lambda s: "已派单：" in s, "the call dispatched offline")
    c.press("Escape")
    c.term.wait(lambda s: queue(s) and "未发送操作 2" in status_line(s), "two actions unsent")
    c.server.start()
    c.until_server(lambda: c.calls_of("13912340002"), "the offline call taken in", timeout=60)
    c.until_server(lambda: c.calls_of("13912340002")[0]["state"] == "dispatched", "its dispatch")
    c.term.wait(synced, "nothing left unsent")
    [offline] = c.calls_of("13912340002")  # taken in exactly once
    assert (offline["state"], offline["lead_unit"]) == ("dispatched", "pm01")
    assert [step["action"] for step in offline["history"]] == ["intake", "dispatch"]

    # 3. A repeat call about the open leak: offered while typing, linked with one key.
    take_call(c, place=LEAK_PLACE, phone="13912340003", description="三号楼楼顶漏雨好几天了")
    shot = c.term.wait(lambda s: leak in s and "可能是同一事件" in s, "the open leak offered")
    for _ in range(5):
        if any(line.lstrip().startswith(f"▶ {leak}") for line in shot.splitlines()):
            break
        c.term.keys("C-n")
        shot = c.term.wait(lambda s: "▶" in s, "the next likely same request")
    c.press("C-l")
    c.term.wait(lambda s: f"已作为 {leak} 的重复来电记录并催办" in s, "the call linked and the leak chased")
    c.press("Escape")
    c.until_server(lambda: [r["state"] for r in c.calls_of("13912340003")] == ["merged"], "the repeat call")
    c.term.wait(synced, "nothing left unsent")
    [repeat] = c.calls_of("13912340003")
    assert (repeat["state"], repeat["merged_into"]) == ("merged", leak)
    with c.api() as client:
        parent = client.get(f"/v1/requests/{leak}").json()
    assert parent["chases"] == 1 and parent["history"][-1]["action"] == "chase"

    # The leak's detail: both callers, the repeat call's by its id, and the chase.
    c.term.keys("6")
    c.term.wait(lambda s: queue(s) and len(row_ids(s)) > 1, "every request")
    c.term.keys("/")
    c.term.wait(lambda s: s.splitlines()[1].lstrip().startswith("搜索"), "the search")
    c.term.type(leak)
    c.term.wait(lambda s: leak in s.splitlines()[1], f"{leak} typed in the search")
    c.term.keys("Enter")
    c.term.wait(lambda s: row_ids(s) == [leak], f"{leak} found")
    c.term.keys("Enter")
    c.term.wait(
        lambda s: s.lstrip().startswith(leak) and "并入的来电人" in s and repeat["id"] in s and "王**" in s,
        "the leak's detail with both callers",
    )
    c.term.keys("End")
    c.term.wait(lambda s: "催办" in s, "the chase in the leak's history")
