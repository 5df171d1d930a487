"""A request with a full history, written through a real store at fixed times: returned by the
wrong unit (with a code), dispatched again with a co-unit, signed for, a note, an extension,
resolved with a reply, an unreached callback, an unsatisfied one that reopened it, re-handled,
and closed by a satisfied callback. For the detail's tests and snapshots."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from app_support import SEED_NOW, Central

from api_client.actions import (
    Accept,
    Action,
    AddNote,
    Dispatch,
    Extend,
    LogCallback,
    Resolve,
    Return,
    ReturnCode,
)
from api_client.models import (
    CallerIn,
    ChangesPage,
    Channel,
    LocationIn,
    NewRequest,
    RequestType,
    Satisfaction,
)
from central_api.sql_store import SqlStore
from local_cache.directory import Directory

#: When the call came: two days before the demo data's "now".
RECEIVED = SEED_NOW - timedelta(days=2)

RETURN_REASON = "经核实，该楼为产权单位自管房，不在本社区服务范围，请改派房管所。"
EXTEND_REASON = "需协调产权单位筹措维修资金，申请延期。"
FIRST_REPLY = "已对楼顶防水层进行修补，雨后复查不再渗漏。"
UNHAPPY = "雨后卧室顶棚仍有渗水。"
SECOND_REPLY = "已更换漏雨部位防水卷材，并清理室内积水。"


def _steps(due: datetime) -> list[tuple[timedelta, str, Action]]:
    """(after intake, actor, action) for each step."""

    def minutes(n: int) -> timedelta:
        return timedelta(minutes=n)

    return [
        (minutes(12), "张敏", Dispatch(lead_unit="cc01")),
        (minutes(75), "cc01", Return(code=ReturnCode.needs_other_unit, reason=RETURN_REASON)),
        (minutes(90), "张敏", Dispatch(lead_unit="hm01", co_units=["cc01"])),
        (minutes(130), "hm01", Accept()),
        (minutes(200), "hm01", AddNote(text="已电话联系诉求人，约定明天上午上门查看。")),
        (minutes(600), "hm01", Extend(reason=EXTEND_REASON, new_due_at=due + timedelta(days=2))),
        (minutes(1500), "hm01", Resolve(summary=FIRST_REPLY)),
        (minutes(1620), "回访员王芳", LogCallback(reached=False, note="电话无人接听。")),
        (
            minutes(1700),
            "回访员王芳",
            LogCallback(reached=True, solved=False, satisfaction=Satisfaction.not_satisfied, note=UNHAPPY),
        ),
        (minutes(1760), "hm01", Accept()),
        (minutes(2300), "hm01", Resolve(summary=SECOND_REPLY)),
        (
            minutes(2500),
            "回访员王芳",
            LogCallback(
                reached=True, solved=True, satisfaction=Satisfaction.satisfied, note="诉求人表示满意。"
            ),
        ),
    ]


def full_history_central(tmp: Path) -> tuple[Central, str]:
    """A store holding the one request with a full history, as a page of changes and a directory
    (for a cache filled without a server); and the request's id."""
    store = SqlStore.open(str(tmp / "history.db"))
    moment = [RECEIVED]
    store.clock = lambda: moment[0]
    try:
        new = NewRequest(
            channel=Channel.phone,
            type=RequestType.complaint,
            category="roof_leak",
            description="喂，您好，德胜里一区3号楼顶楼卧室漏雨，墙皮都泡了，请尽快派人来修。",
            location=LocationIn(street="德胜里一区", community="c01", address="德胜里一区3号楼2单元601"),
            caller=CallerIn(name="王女士", phone="13800001234"),
            received_at=RECEIVED,
        )
        request = store.create_request(new, actor="接线员李娜", idempotency_key=None).request
        for after, actor, action in _steps(request.due_at):
            moment[0] = RECEIVED + after
            request = store.apply(
                request.id, action, actor=actor, if_match=request.version, idempotency_key=None
            ).request
        changes, head = store.changes(0, 1000)
        directory = Directory(
            units=store.units(),
            categories=store.categories(),
            communities=store.communities(),
            fetched_at=SEED_NOW,
        )
    finally:
        store.close()
    page = ChangesPage(changes=changes, next_since=changes[-1].seq, head=head, has_more=False)
    return Central(page=page, directory=directory), request.id
