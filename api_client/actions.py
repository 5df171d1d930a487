"""Dispatcher actions on a request: the bodies of `POST /v1/requests/{id}/actions`.

Each action is one model, told apart by its `action` field. The local outbox
stores them as they are and replays them to the server.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, TypeAdapter, model_validator
from pydantic_core import PydanticCustomError

from api_client.domain import bounds
from api_client.input_types import DueAt, Identifier, OptionalText, RequiredText, WireEnum, WireTier
from api_client.models import Incoming, Satisfaction, Tier


class ReturnCode(WireEnum):
    """Why a unit hands an order back (退单)."""

    not_our_duty = "not_our_duty"  # 不属于本单位职责
    wrong_address = "wrong_address"  # 地址有误或不在本辖区
    needs_other_unit = "needs_other_unit"  # 须由其他单位主办
    duplicate = "duplicate"  # 重复诉求，已在办理
    other = "other"


class CloseCode(WireEnum):
    """Why a resolved request is closed by hand: a valid callback closes (or reopens) it by itself."""

    unreachable = "unreachable"  # 多次回访未联系上 (`bounds.MIN_UNREACHED_CALLBACKS`)
    declined = "declined"  # 市民拒绝回访评价
    withdrawn = "withdrawn"  # 市民撤回诉求
    other = "other"  # the reason says what


class Dispatch(Incoming):
    """派单: a lead unit (首接负责) and any co-units that must join."""

    action: Literal["dispatch"] = "dispatch"
    lead_unit: Identifier
    co_units: list[Identifier] = Field(default_factory=list, max_length=bounds.MAX_CO_UNITS)

    @model_validator(mode="after")
    def _lead_not_co(self) -> Dispatch:
        if self.lead_unit in self.co_units:
            raise PydanticCustomError(
                "lead_unit_is_co_unit", "the lead unit cannot also be a co-unit", {"unit": self.lead_unit}
            )
        if len(set(self.co_units)) != len(self.co_units):
            twice = next(u for u in self.co_units if self.co_units.count(u) > 1)
            raise PydanticCustomError("co_unit_twice", "a co-unit is listed twice", {"unit": twice})
        return self


class Accept(Incoming):
    """签收: the lead unit signs for the order."""

    action: Literal["accept"] = "accept"


class Return(Incoming):
    """退单: the unit hands the order back, with a code and the reason in words. A body without a
    code (an older client's) counts as `other`."""

    action: Literal["return"] = "return"
    code: ReturnCode = ReturnCode.other
    reason: RequiredText


class Extend(Incoming):
    """延期: a new due time, later than the current one and within `bounds.due_window`; a reason
    is required. More than `bounds.MAX_EXTENSION` past the current due time needs a supervisor
    (`api_client.domain.lifecycle.check_extension`); at most `bounds.MAX_EXTENSIONS` per round."""

    action: Literal["extend"] = "extend"
    reason: RequiredText
    new_due_at: DueAt


class Resolve(Incoming):
    """办结: the unit reports the request handled, with its reply to the citizen (`summary`): the
    state machine refuses a blank one (`reply_required`)."""

    action: Literal["resolve"] = "resolve"
    summary: OptionalText = ""


class LogCallback(Incoming):
    """回访: reached the citizen? solved? satisfied?"""

    action: Literal["callback"] = "callback"
    reached: bool
    solved: bool | None = None
    satisfaction: Satisfaction | None = None
    note: OptionalText = ""

    @model_validator(mode="after")
    def _answers_when_reached(self) -> LogCallback:
        if self.reached and (self.solved is None or self.satisfaction is None):
            raise PydanticCustomError(
                "callback_answers_missing",
                "a callback that reached the citizen needs 'solved' and 'satisfaction'",
            )
        if not self.reached and (self.solved is not None or self.satisfaction is not None):
            raise PydanticCustomError(
                "callback_answers_unexpected", "a callback that did not reach the citizen has no answers"
            )
        return self


class Close(Incoming):
    """结案 by hand, with a code (`lifecycle` says when each is allowed); `other` needs the reason
    in words. A body without a code (an older client's) counts as `other` when it has a reason."""

    action: Literal["close"] = "close"
    code: CloseCode | None = None
    reason: OptionalText = ""


class Reopen(Incoming):
    """重办: back to the units, e.g. after an unsatisfied callback; a reason is required."""

    action: Literal["reopen"] = "reopen"
    reason: RequiredText


class Merge(Incoming):
    """并单: this request duplicates `parent_id`; its caller still gets a callback."""

    action: Literal["merge"] = "merge"
    parent_id: Identifier


class Unmerge(Incoming):
    """Undo a merge: the request returns to the state it had before."""

    action: Literal["unmerge"] = "unmerge"


class Escalate(Incoming):
    """提级响应: a higher priority — a shorter deadline tier, its deadline counted from now when
    that is sooner. A reason is required. Used on a whole cluster of reports of one incident."""

    action: Literal["escalate"] = "escalate"
    tier: WireTier = Tier.h2
    reason: RequiredText


class AddNote(Incoming):
    action: Literal["note"] = "note"
    text: RequiredText


class Chase(Incoming):
    """催办: remind the unit that has the request (a repeat call about it, or a dispatcher's
    reminder when it is overdue); counted on the request (`Request.chases`) and shown to the unit."""

    action: Literal["chase"] = "chase"
    text: OptionalText = ""


class AnswerDirectly(Incoming):
    """直接答复: an enquiry answered on the call from the knowledge base entry `entry_id`: the
    request is closed at once, with no dispatch. `text` is what the citizen was told, when it
    adds to the entry."""

    action: Literal["answer"] = "answer"
    entry_id: Identifier
    text: OptionalText = ""


Action = Annotated[
    Dispatch
    | Accept
    | Return
    | Extend
    | Resolve
    | LogCallback
    | Close
    | Reopen
    | Merge
    | Unmerge
    | Escalate
    | AddNote
    | Chase
    | AnswerDirectly,
    Field(discriminator="action"),
]
ACTION_ADAPTER: TypeAdapter[Action] = TypeAdapter(Action)
