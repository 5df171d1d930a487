"""A dispatcher's shift in a real terminal (tmux, 80x24), by keys only, in Chinese and in English.

The installed `hotline demo --serve-only` serves the demo data; the installed `hotline` runs on it
in tmux with a token file (so the test can stop the server and start it again: offline and back).
The shift: a request's history with reasons; a dispatch by pinyin initials (the lead, then a
co-unit's initials in a cleared query); accept; a return with a code and a pasted reason of three
lines holding an escape sequence (kept, never submitted by it); dispatch again; accept; extend;
resolve with a reply; an unhappy callback (it reopens) and a happy one (it closes); a note; a
search by a word and by a phone's last four digits (the audited lookup); a filter; the palette
finding 派单 by its words and by pinyin; help; the dashboard's response rate and its note; what
ctrl+c says; bulk
work naming its count and what it skips; offline (a dispatch and a note kept unsent, `q` asks
first) while a second dispatcher dispatches the same request elsewhere; back online, the conflict
says who did what, and the dispatcher drops their own dispatch.

After each step the screen is read: in the Chinese run no Latin word may show but the few in
`ALLOWED` (key caps, the pinyin a dispatcher types, a file format); the status bar ends with
the dispatcher's whole name and no line the app keeps whole (status bar, footer, queue tabs) ends
cut; every reason typed is found in the detail's history, and on the server through the API.
"""

from __future__ import annotations

import os
import re
import select
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from test_cli import free_port, hotline_command
from tmux_support import ROW, Terminal, first_row, needs_tmux, queue_bar, row_ids

from api_client.actions import Dispatch
from api_client.domain.states import NEW_STATES
from api_client.models import State
from central_api.sql_store import SqlStore
from tui.core.i18n import Lang, Strings

pytestmark = needs_tmux

SIZE = (80, 24)
DISPATCHER = "demo-dispatcher"
#: The dispatcher at the next desk, who takes a request while this one is offline.
SECOND_DISPATCHER = "李娜"
#: The whole shift, from the server's start to the app's end, stays within this many seconds.
BUDGET = 90.0
EXITED = re.compile(r"hotline exited with status (\d+)")
#: Latin words a Chinese screen may show: key caps (as printed on the keys), the pinyin a
#: dispatcher types (the palette's examples: `pd`, `paidan`), and the screenshot's file format.
ALLOWED = frozenset({"esc", "enter", "tab", "ctrl", "shift", "space", "pd", "paidan", "svg"})
LATIN = re.compile(r"[A-Za-z]{2,}")
#: Names a dispatcher writes in the config file as they are, which help shows beside each key:
#: binding ids (`request.dispatch`, or its start where a notification covers the rest: `▌`) and
#: the table that holds them (`[keys]`).
CONFIG_NAMES = re.compile(r"\b[a-z_]+(?:\.[a-z_]+)+\b|\b[a-z_]+(?:\.[a-z_]*)*(?=▌)|\[keys\]")
SCROLLBAR = re.compile(r"\s*[▁▂▃▄▅▆▇█▔]+\s*$")
#: Lines the app keeps whole: the queue tabs (0), the status bar (-2), the footer (-1).
WHOLE_LINES = (0, -2, -1)
#: What a pasted reason holds: three lines and a colour sequence inside the second.
PASTED = "不属于本单位职责\n应由物业公司处理\x1b[31m红色\x1b[0m\n已电话告知居民"
PASTED_KEPT = ("不属于本单位职责", "应由物业公司处理红色", "已电话告知居民")


@dataclass(frozen=True)
class Words:
    """What the screens say in one language (the test's own expectations)."""

    online: str
    offline: str
    unsent: str  # with {n}
    all_tab: str  # the last tab, with {n}
    history: str
    dispatch_title: str
    lead: str
    none: str
    co_units: str
    returned: str
    reopened: str
    closed: str
    extend_title: str
    resolve_title: str
    callback_title: str
    questions: tuple[str, str, str]
    yes: str
    no: str
    reply: str  # how the history quotes a reply, with {text}
    quit_question: str
    quit_how: str  # what ctrl+c says
    dashboard: str
    response_rate: str
    rate_note: str  # in the response rate's definition beside the numbers
    bulk_skip: str
    bulk_count: str  # a pattern: the dialog names how many
    filter_title: str
    palette_dispatch: str
    help_title: str
    looked_up: str
    search: str  # the search field's placeholder
    detail_footer: str
    conflicts: str  # the status bar's count, with {n}
    conflicts_title: str
    conflict_by: str  # who changed the request meanwhile, with {by}
    drop_title: str
    no_conflicts: str


WORDS = {
    "zh": Words(
        online="● 在线",
        offline="离线",
        unsent="未发送操作 {n}",
        all_tab="6 全部 {n}",
        history="办理记录",
        dispatch_title="派单",
        lead="主办：",
        none="（未选）",
        co_units="协办（1/20）：",
        returned="→ 已退单",
        reopened="→ 重办",
        closed="→ 已结案",
        extend_title="延期原因",
        resolve_title="给市民的答复",
        callback_title="联系上市民？",
        questions=("联系上市民？", "问题解决？", "满意度"),
        yes="▐●▌ 是",
        no="▐●▌ 否",
        reply="答复“{text}”",
        quit_question="仍要退出吗",
        quit_how="按 q 退出",
        dashboard="统计看板",
        response_rate="响应率",
        rate_note="时限未到且未签收的派单暂不计入",
        bulk_skip="将跳过",
        bulk_count=r"批量办结：共 1 件",
        filter_title="筛选当前队列",
        palette_dispatch="派单 (d)",
        help_title="按键说明",
        looked_up="已查找",
        search="搜索：",
        detail_footer="esc 返回",
        conflicts="冲突 {n}",
        conflicts_title="冲突：",
        conflict_by="此后 {by} 办理了：",
        drop_title="放弃此操作？",
        no_conflicts="没有冲突",
    ),
    "en": Words(
        online="● online",
        offline="offline",
        unsent="unsent actions {n}",
        all_tab="6 All {n}",
        history="History",
        dispatch_title="Dispatch",
        lead="Lead: ",
        none="(none)",
        co_units="Co-units (1/20): ",
        returned="→ returned",
        reopened="→ reopened",
        closed="→ closed",
        extend_title="New due time",
        resolve_title="Reply to the citizen",
        callback_title="Reached?",
        questions=("Reached?", "Solved?", "Satisfaction"),
        yes="▐●▌ yes",
        no="▐●▌ no",
        reply="reply “{text}”",
        quit_question="quit anyway?",
        quit_how="Press q to quit",
        dashboard="Dashboard",
        response_rate="response",
        rate_note="not counted yet",
        bulk_skip="will be skipped",
        bulk_count=r"resolve: 1 request\b",
        filter_title="Filter the current queue",
        palette_dispatch="Dispatch (d)",
        help_title="Keys",
        looked_up="Looked up",
        search="search:",
        detail_footer="esc Back",
        conflicts="conflicts {n}",
        conflicts_title="Conflicts:",
        conflict_by="Since then {by} did:",
        drop_title="Drop this action?",
        no_conflicts="No conflicts",
    ),
}


# --------------------------------------------------------------------------- the server


class DemoServer:
    """`hotline demo --serve-only` on one database and port, which can be stopped and started
    again (the second time it serves the kept database as it is)."""

    def __init__(self, db: Path, port: int, env: dict[str, str]) -> None:
        self.db, self.port, self.env = db, port, env
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.started = False

    def start(self, timeout: float = 60.0) -> Path:
        """Start serving; the token file the command wrote (removed when it stops). The first
        start takes another free port when another process took this one meanwhile (the port
        was free when chosen; a suite running beside this one may bind it first)."""
        for _ in range(3):
            said, token = self._serve(timeout)
            if token is not None:
                self.started = True
                return token
            if self.started or b"Address already in use" not in said:
                break
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
        raise AssertionError(f"the demo server did not start: {said.decode(errors='replace')}")

    def _serve(self, timeout: float) -> tuple[bytes, Path | None]:
        args = ["demo", "--serve-only", "--db", str(self.db), "--count", "200", "--port", str(self.port)]
        self.process = subprocess.Popen(
            [*hotline_command(), *args], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        said = b""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if not ready:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            said += chunk
            found = re.search(rb"HOTLINE_TOKEN_FILE=(\S+)\n", said)
            if found:
                return said, Path(found.group(1).decode())
        self.stop()
        return said, None

    def stop(self) -> None:
        """Stop it as a person does: ctrl+c."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# --------------------------------------------------------------------------- reading screens


def latin_words(shot: str, typed: tuple[str, ...]) -> list[str]:
    """The Latin words of a screen that are not allowed: the dispatcher's own name and what the
    dispatcher typed are theirs, not the interface's."""
    for own in (DISPATCHER, *typed):
        shot = shot.replace(own, " ")
    shot = CONFIG_NAMES.sub(" ", shot)
    return [word for word in LATIN.findall(shot) if word.lower() not in ALLOWED]


def cut_lines(shot: str) -> list[str]:
    lines = shot.splitlines()
    if len(lines) < SIZE[1]:
        return []
    return [lines[i].rstrip() for i in WHOLE_LINES if lines[i].rstrip().endswith("…")]


def status_line(shot: str) -> str:
    lines = shot.splitlines()
    return lines[SIZE[1] - 2] if len(lines) >= SIZE[1] - 1 else ""


def detail_text(shot: str) -> str:
    """The detail's text as one string: its lines joined (wrapped steps whole again), without
    the indents, the scrollbar, the status bar and the footer."""
    lines = shot.splitlines()[: SIZE[1] - 2]
    return "".join(SCROLLBAR.sub("", line).strip() for line in lines)


class Shift:
    """The terminal, read after each step with the checks every screen must pass."""

    def __init__(self, term: Terminal, lang: Lang) -> None:
        self.term = term
        self.lang = lang
        self.words = WORDS[lang]
        self.typed: list[str] = []

    def look(self, check: Callable[[str], object], what: str, timeout: float = 15.0) -> str:
        shot = self.term.wait(check, what, timeout)
        self.inspect(shot, what)
        return shot

    def inspect(self, shot: str, what: str) -> None:
        if self.lang == "zh":
            english = latin_words(shot, tuple(self.typed))
            assert not english, f"English words {english} on the Chinese screen ({what}):\n{shot}"
        cut = cut_lines(shot)
        assert not cut, f"cut-off lines {cut} ({what}):\n{shot}"
        status = status_line(shot)
        if status.lstrip().startswith(("●", "○")):
            assert status.rstrip().endswith(DISPATCHER), f"the status bar is cut ({what}):\n{shot}"

    def type(self, text: str) -> None:
        self.typed.append(text)
        self.term.type(text)

    def fill(self, text: str) -> str:
        """Type `text` into the focused field, as a person does: a key typed while the field is
        still taking the focus may go elsewhere; seen missing, the field is cleared and typed
        again."""
        self.typed.append(text)
        shown = f"▊  {text[:8]}"
        for attempt in range(3):
            if attempt:
                self.term.tmux("send-keys", "-t", self.term.target, "C-u")
            self.term.type(text)
            try:
                return self.term.wait(lambda x: shown in x, f"{text} in the field", timeout=3)
            except AssertionError:
                continue
        return self.look(lambda x: shown in x, f"{text} in the field")

    def keys(self, *names: str) -> None:
        self.term.keys(*names)

    def cursor_row(self) -> str:
        """The row of the terminal's cursor: the app puts it in the focused field."""
        return self.term.tmux("display-message", "-p", "-t", self.term.target, "#{cursor_y}").strip()

    def tab(self) -> None:
        """Tab to the next field, and wait until the focus is there: keys typed at once would
        still reach the field before (Textual hands Tab up from the field to the screen)."""
        before = self.cursor_row()
        self.keys("Tab")
        end = min(time.monotonic() + 5, self.term.deadline)
        while self.cursor_row() == before:
            assert time.monotonic() < end, f"Tab did not move the focus:\n{self.term.screen()}"
            time.sleep(0.05)

    def queue(self, shot: str) -> bool:
        """Whether the queue screen shows (its tabs and the status bar)."""
        return queue_bar(shot).lstrip().startswith("1 ") and self.words.online in status_line(shot)

    def synced(self, shot: str) -> bool:
        return self.queue(shot) and self.words.unsent.format(n=0) in status_line(shot)

    def detail(self, request_id: str, state: State | None = None) -> Callable[[str], bool]:
        """Whether the screen shows the top of `request_id`'s detail (in `state`)."""

        def shown(shot: str) -> bool:
            head = shot.lstrip()
            return head.startswith(request_id) and (state is None or f"  {self.state(state)}  " in head)

        return shown

    def state(self, state: State) -> str:
        return Strings(self.lang).state(state)

    def new_queue(self, shot: str) -> bool:
        """The queue of new requests, online: every row new."""
        return self.queue(shot) and self.new_rows(shot)

    def plain_queue(self, shot: str) -> bool:
        """The queue screen with no search, filter or marks (its second line: the sort only)."""
        lines = shot.splitlines()
        return self.queue(shot) and len(lines) > 1 and lines[1].lstrip().startswith(("排序", "sort"))

    def escape(self, until: Callable[[str], object], what: str) -> str:
        """One Escape, then the screen once `until` holds. A key is sent only after the screen
        shows the escape taken: ESC and a key at once are alt+key."""
        self.keys("Escape")
        return self.look(until, what)

    def back_to_queue(self) -> str:
        """Escape, one at a time, each once the last one changed the screen, until the queue
        shows no search, filter or marks."""
        shot = self.term.screen()
        for _ in range(6):
            if self.plain_queue(shot):
                return shot
            self.keys("Escape")
            shot = self.term.wait(changed_from(shot), "the escape taken", timeout=5)
        return self.look(self.plain_queue, "the plain queue")

    def search(self, text: str) -> None:
        """`/`, the text (typed again if the field took the focus after its first keys), Enter."""
        self.keys("/")
        self.look(lambda x: x.splitlines()[1].lstrip().startswith(self.words.search), "the search field")
        self.typed.append(text)
        for attempt in range(3):
            if attempt:
                self.term.tmux("send-keys", "-t", self.term.target, "C-u")
            self.term.type(text)
            try:
                self.term.wait(lambda x: x.splitlines()[1].strip() == text, f"{text} typed", timeout=3)
                break
            except AssertionError:
                continue
        self.keys("Enter")

    def open_detail(self, request_id: str) -> str:
        """Find `request_id` in the all-requests queue by a search and open it."""
        self.back_to_queue()
        self.keys("6")
        self.search(request_id)
        self.look(lambda s: row_ids(s) == [request_id], f"{request_id} found by its id")
        self.keys("Enter")
        return self.look(self.detail(request_id), f"the detail of {request_id}")

    def in_history(self, request_id: str, *parts: str, times: int = 1) -> None:
        """Wait for `parts` (each `times` over) in the detail: the newest step is at the
        history's end, so a detail longer than the screen is scrolled down to find them."""

        def found(shot: str) -> bool:
            return all(detail_text(shot).count(part) >= times for part in parts)

        shot = self.look(self.in_detail, f"the detail of {request_id}")
        if found(shot):
            return
        for _ in range(12):  # a reload (the server's confirmation) may scroll it back: again
            self.keys(*["j"] * 40)
            try:
                self.inspect(self.term.wait(found, str(parts), timeout=1.5), str(parts))
                return
            except AssertionError:
                continue
        self.look(found, f"{parts} in the detail of {request_id}")

    def lead_dsj(self, request_id: str, when: str) -> None:
        """`d` on `request_id`, then 德胜街道 picked as the lead by its initials `dsj`."""
        w = self.words
        self.keys("d")
        self.look(
            lambda x: w.dispatch_title in x and request_id in x and "▊" in x, f"the dispatch dialog {when}"
        )
        self.fill("dsj")
        self.look(lambda x: "德胜街道" in x and "▊  dsj " in x, f"units matching dsj {when}")
        self.keys("Enter")
        self.look(lambda x: f"{w.lead}德胜街道" in x, f"the lead picked {when}")

    def left_new(self, request_id: str, queue: Callable[[str], bool]) -> None:
        """After a dispatch from the new requests: the queue shows without `request_id` (and no
        second dialog: keys pressed while a dialog is being prepared open none)."""
        self.look(lambda x: queue(x) and request_id not in row_ids(x), f"{request_id} leaves `new`")

    def new_rows(self, shot: str) -> bool:
        """The queue of requests to dispatch, online or not: every row new, returned or reopened
        (which of them the demo data holds depends on the hour it is seeded at)."""
        table = Strings(self.lang).table.states
        waiting = [f" {table[state]} " for state in NEW_STATES]
        rows = [line for line in shot.splitlines() if ROW.match(line)]
        return (
            queue_bar(shot).lstrip().startswith("1 ")
            and bool(rows)
            and all(any(state in line for state in waiting) for line in rows)
        )

    def in_detail(self, shot: str) -> bool:
        """Whether the detail screen shows (its footer starts with its back key)."""
        lines = shot.splitlines()
        return len(lines) >= SIZE[1] and lines[-1].startswith(self.words.detail_footer)


# --------------------------------------------------------------------------- the test


@pytest.fixture(params=["zh", "en"])
def shift(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Shift, DemoServer, str]]:
    lang: Lang = request.param
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "PYTHONFAULTHANDLER": "1",
        "TERM": "xterm-256color",
        "HOTLINE_CACHE_DIR": str(tmp_path / "cache"),
        "HOTLINE_CONFIG": str(tmp_path / "config.toml"),
        "HOTLINE_LANG": lang,
    }
    server = DemoServer(tmp_path / "demo.db", free_port(), env)
    token = tmp_path / "token"
    try:
        shutil.copyfile(server.start(), token)  # the command removes its own when it stops
        token.chmod(0o600)
        app_env = {**env, "HOTLINE_API_URL": server.url, "HOTLINE_TOKEN_FILE": str(token)}
        hotline = shlex.join(["env", "-i", *(f"{k}={v}" for k, v in app_env.items()), *hotline_command()])
        script = f'{hotline}; echo "hotline exited with status $?"'
        term = Terminal(shlex.join(["sh", "-c", script]), name=f"shift-{lang}", size=SIZE, budget=BUDGET)
        try:
            yield Shift(term, lang), server, token.read_text().strip()
        finally:
            term.close()
    finally:
        server.stop()


def test_a_shift_by_keys_in_a_real_terminal(shift: tuple[Shift, DemoServer, str]) -> None:
    s, server, token = shift
    w = s.words
    s.look(lambda x: s.synced(x) and queue_bar(x).endswith(w.all_tab.format(n=200)), "the first sync", 40)

    # -- dispatch the first new request by pinyin: the lead, then a co-unit in a cleared query
    s.term.press_until("1", s.new_queue, "the new requests")
    s.keys("g")
    request_id = first_row(s.look(lambda x: s.new_queue(x) and first_row(x), "the first new request"))
    assert request_id is not None
    s.lead_dsj(request_id, "first")
    s.type("gw")
    s.look(lambda x: "▊  gw " in x and "国网北京西城供电公司" in x, "the query cleared: only gw")
    s.keys("Enter")
    s.look(lambda x: f"{w.co_units}国网北京西城供电公司" in x, "the co-unit picked")
    s.keys("C-s")
    s.left_new(request_id, s.queue)

    # -- its detail; accept; return with a code and a pasted reason of three lines
    shot = s.open_detail(request_id)
    phone = re.search(r"\d{3}\*{4}(\d{4})", shot)
    assert phone is not None, shot
    s.in_history(request_id, "德胜街道", "国网北京西城供电公司")
    s.keys("a")
    s.look(s.detail(request_id, State.accepted), "accepted")
    s.keys("r")
    s.look(lambda x: "▐○▌ 1 " in x, "the return dialog with its codes")
    s.keys("1")
    s.look(lambda x: "▐●▌ 1 " in x, "code 1 chosen")
    pasted = " / ".join(PASTED_KEPT)

    def whole(shot: str) -> bool:
        return all(line in shot for line in (PASTED_KEPT[0], PASTED_KEPT[2]))

    for _ in range(3):  # the code's key moves the focus to the reason: pasted before, it is lost
        s.term.paste(PASTED)
        try:
            s.term.wait(whole, "the paste in the reason", timeout=3)
            break
        except AssertionError:
            continue
    shot = s.look(whole, "the pasted reason, whole")
    assert "^[" not in shot and "[31m" not in shot and "▐●▌ 1 " in shot, shot  # still the dialog
    s.keys("C-s")
    s.in_history(request_id, w.returned, pasted)

    # -- dispatch again, accept, extend, resolve with a reply
    s.lead_dsj(request_id, "again")
    s.keys("C-s")
    s.in_history(request_id, f"→ {s.state(State.dispatched)}", times=2)
    s.keys("a")
    s.in_history(request_id, f"→ {s.state(State.accepted)}", times=2)
    extension = "等配件到货，厂家周五送到"
    s.keys("e")
    s.look(lambda x: w.extend_title in x, "the extension dialog")
    s.fill(extension)
    s.tab()
    s.fill("+1d")
    s.keys("C-s")
    s.in_history(request_id, extension)
    reply = "已更换电闸，恢复供电"
    s.keys("s")
    s.look(lambda x: w.resolve_title in x, "the resolve dialog")
    s.fill(reply)
    s.keys("C-s")
    s.in_history(request_id, w.reply.format(text=reply))

    # -- an unhappy callback reopens it; resolved again, a happy one closes it; a note
    unhappy = "市民说还是跳闸"
    callback(s, reached=True, solved=False, satisfaction=3, note=unhappy)
    s.in_history(request_id, w.reopened, unhappy)
    s.keys("a")
    s.in_history(request_id, f"→ {s.state(State.accepted)}", times=3)
    second = "重新接线后已正常供电"
    s.keys("s")
    s.look(lambda x: w.resolve_title in x, "the resolve dialog again")
    s.fill(second)
    s.keys("C-s")
    s.in_history(request_id, w.reply.format(text=second))
    callback(s, reached=True, solved=True, satisfaction=1, note="")
    s.in_history(request_id, w.closed)
    note = "市民来电致谢"
    s.keys("n")
    s.look(lambda x: "▊" in x and request_id in x, "the note dialog")
    s.fill(note)
    s.keys("C-s")
    s.in_history(request_id, note)

    # -- search by a word, and by the phone's last four digits (the audited lookup)
    s.back_to_queue()
    s.keys("6")
    s.search("电梯")
    s.look(lambda x: s.queue(x) and row_ids(x) and "电梯" in x, "requests about a lift")
    s.back_to_queue()
    s.search(phone.group(1))
    s.look(lambda x: request_id in row_ids(x) and w.looked_up in x, "the caller's requests by phone")
    s.back_to_queue()

    # -- a filter, the palette (by words and by pinyin), help, the dashboard
    s.keys("f")
    s.look(lambda x: w.filter_title in x, "the filter dialog")
    s.escape(lambda x: w.filter_title not in x and s.plain_queue(x), "the filter closed")
    s.term.press_until("1", s.new_queue, "the new requests again")
    s.keys("g")
    for query in ("派单", "pd"):
        s.keys("C-p")
        s.look(lambda x: "🔎" in x, "the palette")
        s.type(query)
        s.look(lambda x: w.palette_dispatch in x, f"the palette finding {query}")
        s.escape(lambda x: "🔎" not in x and s.plain_queue(x), "the palette closed")
    s.keys("?")
    shot = s.look(lambda x: w.help_title in x, "help")
    for raw in ("exclamation_mark", "asterisk", "question_mark", "circumflex", "ctrl+"):
        assert raw not in shot, (raw, shot)
    s.escape(lambda x: w.help_title not in x and s.plain_queue(x), "help closed")
    s.keys("b")
    s.look(lambda x: w.dashboard in x and w.response_rate in x and "%" in x, "the dashboard")
    s.look(lambda x: w.rate_note in detail_text(x), "the response rate's note: what it does not count yet")
    s.escape(s.plain_queue, "the dashboard closed")
    s.keys("C-c")
    s.look(lambda x: w.quit_how in x and s.plain_queue(x), "ctrl+c says which key quits")

    # -- bulk: an accepted and a new request marked, one resolve that says how many it resolves
    # and what it skips, asked once
    table = Strings(s.lang).table.states
    wanted = [f" {table[state]} " for state in (State.accepted, State.new)]

    def both(shot: str) -> bool:
        rows = [line for line in shot.splitlines() if ROW.match(line)]
        return s.queue(shot) and all(any(state in line for line in rows) for state in wanted)

    s.keys("6", "g")
    rows = [line for line in s.look(both, "every request").splitlines() if ROW.match(line)]
    chosen = sorted(next(i for i, line in enumerate(rows) if state in line) for state in wanted)
    at = 0
    for index in chosen:
        s.keys(*["j"] * (index - at), "space")
        at = index + 1  # marking moves the cursor to the next row
    s.look(lambda x: s.queue(x) and x.count("✓") == 2, "two marked rows")
    s.keys("s")
    shot = s.look(lambda x: w.bulk_skip in x, "the bulk dialog")
    assert re.search(w.bulk_count, shot), shot
    s.fill("已统一处理")
    s.keys("C-s")
    s.look(lambda x: "100%" in x, "the bulk resolve done, asked once")
    s.escape(s.plain_queue, "the bulk report closed")

    # -- offline: the server stops; a dispatch and a note are kept unsent; `q` asks first
    server.stop()
    s.look(lambda x: w.offline in status_line(x), "offline")
    s.keys("1", "g")
    contested = first_row(s.look(lambda x: s.new_rows(x) and first_row(x), "the new requests, offline"))
    assert contested is not None
    s.lead_dsj(contested, "offline")
    s.keys("C-s")
    s.left_new(contested, s.new_rows)
    s.look(lambda x: w.unsent.format(n=1) in status_line(x), "the dispatch kept unsent")
    s.keys("n")
    s.look(lambda x: "▊" in x, "the note dialog offline")
    offline_note = "离线时记下的备注"
    s.fill(offline_note)
    s.keys("C-s")
    s.look(lambda x: w.unsent.format(n=2) in status_line(x), "two actions unsent")
    s.keys("q")
    s.look(lambda x: w.quit_question in x, "quit asks first")
    s.keys("n")
    s.look(lambda x: w.unsent.format(n=2) in status_line(x), "still running")

    # -- meanwhile a second dispatcher, on another of the centre's server processes (the same
    # database), dispatches the same request to another unit
    elsewhere = dispatch_elsewhere(server.db, contested, by=SECOND_DISPATCHER, unit="国网北京西城供电公司")
    server.start()
    s.look(lambda x: w.conflicts.format(n=1) in status_line(x), "back online: one conflict", 40)
    s.keys("C")
    shot = s.look(lambda x: w.conflicts_title in x and contested in x, "the conflict")
    said = detail_text(shot)
    for part in (w.conflict_by.format(by=SECOND_DISPATCHER), elsewhere, s.state(State.dispatched)):
        assert part in said, (part, shot)
    s.keys("x")
    s.look(lambda x: w.drop_title in x, "drop asks first")
    s.keys("y")
    s.look(lambda x: w.no_conflicts in x, "the dispatch dropped, no conflict left")
    s.escape(s.synced, "back online, nothing unsent")
    s.open_detail(contested)
    s.in_history(contested, SECOND_DISPATCHER, elsewhere)
    s.back_to_queue()
    s.keys("q")
    end = min(time.monotonic() + 15, s.term.deadline)
    while not EXITED.search(shot := s.term.history()):
        if time.monotonic() > end:
            raise AssertionError(f"the app did not end after q:\n{shot}")
        time.sleep(0.1)
    exited = EXITED.search(shot)
    assert exited is not None and exited.group(1) == "0", shot

    # -- every reason on the server, through the API
    answer = httpx.get(
        f"{server.url}/v1/requests/{request_id}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    texts = [step.get("text", "") for step in answer.json()["history"]]
    for typed in (pasted, extension, reply, unhappy, second):
        assert typed in texts, (typed, texts)


def dispatch_elsewhere(db: Path, request_id: str, *, by: str, unit: str) -> str:
    """`by` dispatches `request_id` to the unit named `unit`, writing to the database as another
    server process of the centre does (the demo server is stopped meanwhile); the unit's name."""
    store = SqlStore.open(str(db))
    try:
        lead = next(u for u in store.units() if u.name == unit)
        version = store.get_request(request_id).version
        store.apply(request_id, Dispatch(lead_unit=lead.id), actor=by, if_match=version, idempotency_key=None)
    finally:
        store.close()
    return lead.name


def callback(s: Shift, *, reached: bool, solved: bool, satisfaction: int, note: str) -> None:
    """Log a callback from the detail: the answers by their keys, a note, ctrl+s."""
    w = s.words
    s.keys("c")
    s.look(lambda x: w.callback_title in x, "the callback dialog")
    answers = (
        (w.questions[0], "y" if reached else "n", w.yes if reached else w.no),
        (w.questions[1], "y" if solved else "n", w.yes if solved else w.no),
        (w.questions[2], str(satisfaction), f"▐●▌ {satisfaction} "),
    )
    for label, key, chosen in answers:
        # Textual hands Tab up from a question to the dialog: a key typed at once may still
        # reach the question before. The dispatcher waits a moment, and presses again if needed.
        time.sleep(0.3)
        s.term.press_until(key, answer_shown(label, chosen), f"the answer to {label}")
        s.keys("Tab")
    if note:
        s.fill(note)
    shot = s.term.screen()
    assert all(answered(shot, label, chosen) for label, _, chosen in answers), shot
    s.keys("C-s")


def answer_shown(label: str, chosen: str) -> Callable[[str], bool]:
    return lambda shot: answered(shot, label, chosen)


def changed_from(before: str) -> Callable[[str], bool]:
    return lambda shot: shot != before


def answered(shot: str, label: str, chosen: str) -> bool:
    """Whether the dialog's line `label` shows the answer `chosen` (● chosen, ○ not)."""
    return any(label in line and chosen in line for line in shot.splitlines())
