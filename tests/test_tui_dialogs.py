"""tui.ui.screens.dispatch, .transitions and .workflow_dialogs: the dialogs, driven by keyboard with
Pilot in an 80x24 terminal, in Chinese and English, asserting the action models they return and the
workflow rules they show and refuse inline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from rich.cells import cell_len
from textual.app import App
from textual.geometry import Region
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Label, OptionList, RadioButton, Static

from api_client.actions import (
    AddNote,
    Close,
    CloseCode,
    Dispatch,
    Extend,
    LogCallback,
    Reopen,
    Resolve,
    Return,
    ReturnCode,
)
from api_client.domain import bounds
from api_client.models import (
    Callback,
    Caller,
    Channel,
    Location,
    Request,
    RequestType,
    Satisfaction,
    State,
    Step,
    Tier,
    UnitKind,
)
from central_api.catalogue import UNITS, unit_by_id
from tui.core.due_input import ERROR_CODES
from tui.core.i18n import MESSAGES, Lang, Strings
from tui.ui.screens.dispatch import MAX_CO_UNITS, DispatchDialog
from tui.ui.screens.transitions import BulkScope, ConfirmDialog, NoteDialog, ReopenDialog
from tui.ui.screens.workflow_dialogs import (
    CallbackDialog,
    CloseDialog,
    ExtendDialog,
    ResolveDialog,
    ReturnDialog,
)

SIZE = (80, 24)
BEIJING = timezone(timedelta(hours=8))
DUE = datetime(2026, 11, 25, 16, 0, tzinfo=BEIJING)
NOW = DUE - timedelta(hours=6)
EVIL = "楼道灯不亮[bold red]x[/] [@click=app.quit] \x1b[2J\x07 完"
EVIL_SHOWN = ("[bold red]x[/]", "[@click=app.quit]", "␛[2J␇")

ZH = Strings("zh")
EN = Strings("en")


def make_request(description: str = "德胜里一区3号楼楼道灯不亮，老人上下楼不便", **fields: Any) -> Request:
    request = Request(
        id="R-000042",
        received_at=DUE - timedelta(hours=24),
        channel=Channel.phone,
        type=RequestType.help,
        category="street_light",
        description=description,
        location=Location(street="德胜里一区", community="c01"),
        caller=Caller(name="张女士", phone="13800000000"),
        tier=Tier.h24,
        due_at=DUE,
        state=State.accepted,
        version=3,
        change_seq=17,
    )
    return request.model_copy(update=fields)


class Host(App[None]):
    """Pushes one dialog and keeps what it dismisses with."""

    def __init__(self, dialog: ModalScreen[Any]) -> None:
        super().__init__()
        self.dialog = dialog
        self.results: list[object] = []

    def on_mount(self) -> None:
        self.push_screen(self.dialog, self.results.append)


async def drive(dialog: ModalScreen[Any], *keys: str, keymap: dict[str, str] | None = None) -> Host:
    """Runs `dialog` in an 80x24 host, presses `keys`; the host keeps running afterwards only
    inside this call, so assertions on the live screen go through `run` below."""
    host = Host(dialog)
    async with host.run_test(size=SIZE) as pilot:
        if keymap:
            host.set_keymap(keymap)
        await pilot.pause()
        await pilot.press(*keys)
        await pilot.pause()
    return host


def typed(text: str) -> list[str]:
    """The key presses that type `text` (a space is the `space` key)."""
    return ["space" if char == " " else char for char in text]


def text_of(widget: Widget) -> str:
    """What `widget` shows on screen, line by line."""
    return "\n".join(widget.render_line(y).text.rstrip() for y in range(widget.size.height))


def dispatch_dialog(strings: Strings = ZH, description: str | None = None) -> DispatchDialog:
    request = make_request() if description is None else make_request(description)
    return DispatchDialog(request, UNITS, ["st-city", "cc01"], strings)


# --------------------------------------------------------------------------- dispatch


def test_the_demo_directory_has_the_units_these_tests_pick() -> None:
    units = {unit_id: unit_by_id(unit_id) for unit_id in ("st-city", "st-enforce", "st-welfare", "cc17")}
    assert {unit_id: unit and unit.name for unit_id, unit in units.items()} == {
        "st-city": "德胜街道城市管理办公室",
        "st-enforce": "德胜街道城管执法队",
        "st-welfare": "德胜街道民生保障办公室",
        "cc17": "石油大院社区居委会",
    }
    assert [unit.id for unit in UNITS if not unit.on_duty] == ["cc17"]


async def test_dispatch_by_pinyin_initials_with_a_lead_and_two_co_units() -> None:
    dialog = dispatch_dialog()
    host = Host(dialog)
    async with host.run_test(size=SIZE) as pilot:
        await pilot.press("d", "s", "j")
        shown = [option.id for option in dialog.query_one("#matches", OptionList).options]
        # the suggested unit first, then every 德胜街道… office; nothing else matches `dsj`
        assert shown == ["st-city", "st-enforce", "st-welfare", "st-safety", "st-commdev"]
        assert isinstance(dialog.focused, Input)
        await pilot.press("enter", "down", "enter", "down", "enter")
        assert dialog.lead == "st-city"
        assert dialog.co_units == ["st-enforce", "st-welfare"]
        picked = text_of(dialog.query_one("#picked", Static))
        assert "德胜街道城市管理办公室" in picked
        assert "德胜街道城管执法队, 德胜街道民生保障办公室" in picked
        assert "2/20" in picked
        assert isinstance(dialog.focused, Input)  # the query kept focus all along
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert host.results == [Dispatch(lead_unit="st-city", co_units=["st-enforce", "st-welfare"])]


async def test_picking_a_co_unit_again_removes_it_and_enter_on_an_empty_query_dispatches() -> None:
    keys = ["d", "s", "j", "enter", "down", "enter", "down", "enter", "up", "enter", "ctrl+u", "enter"]
    host = await drive(dispatch_dialog(EN), *keys)
    assert host.results == [Dispatch(lead_unit="st-city", co_units=["st-welfare"])]


async def test_picking_the_lead_again_keeps_it_and_ctrl_r_clears_it() -> None:
    dialog = dispatch_dialog(EN)
    host = Host(dialog)
    async with host.run_test(size=SIZE) as pilot:
        await pilot.press("d", "s", "j", "enter", "down", "enter", "up", "enter")
        assert dialog.lead == "st-city"  # enter on the lead never un-chooses it
        assert dialog.co_units == ["st-enforce"]
        assert dialog.error_text == "Already the lead (^r clears the lead)"
        await pilot.press("ctrl+r")
        assert dialog.lead is None and dialog.co_units == ["st-enforce"]
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert host.screen is dialog
        assert dialog.error_text == "Choose a lead unit first"
        assert "Choose a lead unit first" in text_of(dialog.query_one("#error", Static))
        # with no lead, a co-unit picked becomes the lead
        await pilot.press("down", "enter", "ctrl+s")
        await pilot.pause()
    assert host.results == [Dispatch(lead_unit="st-enforce", co_units=[])]


async def test_typing_after_a_pick_starts_a_new_query() -> None:
    """`rl` Enter `adl`: the second query replaces the first (it is selected after a pick)."""
    dialog = dispatch_dialog(ZH)
    host = Host(dialog)
    async with host.run_test(size=SIZE) as pilot:
        await pilot.press("r", "l", "enter")
        assert dialog.lead == "ut-heat"
        await pilot.press("a", "d", "l")
        assert dialog.query_one("#query", Input).value == "adl"
        first = dialog.query_one("#matches", OptionList).get_option_at_index(0)
        assert first.id == "cc11"  # 安德路社区居委会: the whole name, before 安德里北街…
        await pilot.press("enter", "enter")  # pick it, then enter again dispatches
        await pilot.pause()
    assert host.results == [Dispatch(lead_unit="ut-heat", co_units=["cc11"])]


async def test_escape_cancels_the_dispatch() -> None:
    host = await drive(dispatch_dialog(), "d", "s", "j", "enter", "escape")
    assert host.results == [None]


async def test_off_duty_units_are_marked_and_can_be_picked() -> None:
    dialog = dispatch_dialog()
    host = Host(dialog)
    async with host.run_test(size=SIZE) as pilot:
        await pilot.press(*typed("cc17"))
        matches = dialog.query_one("#matches", OptionList)
        assert [option.id for option in matches.options] == ["cc17"]
        prompt = str(matches.get_option_at_index(0).prompt)
        assert "不在岗" in prompt
        assert ZH(f"dispatch.kind.{UnitKind.community}") in prompt
        await pilot.press("enter", "ctrl+s")
        await pilot.pause()
    assert host.results == [Dispatch(lead_unit="cc17")]


async def test_suggested_units_come_first_and_are_marked() -> None:
    dialog = dispatch_dialog(EN)
    host = Host(dialog)
    async with host.run_test(size=SIZE):
        matches = dialog.query_one("#matches", OptionList)
        ids = [option.id for option in matches.options]
        assert ids[:2] == ["st-city", "cc01"]
        assert len(ids) == len(UNITS)
        assert str(matches.get_option_at_index(0).prompt).startswith("★")
        assert not str(matches.get_option_at_index(2).prompt).startswith("★")
        assert "on duty" in str(matches.get_option_at_index(0).prompt)


async def test_no_more_than_twenty_co_units() -> None:
    dialog = dispatch_dialog(EN)
    host = Host(dialog)
    async with host.run_test(size=SIZE) as pilot:
        await pilot.press("e", "enter")  # the lead; `e` is in the pinyin of every unit
        assert dialog.query_one("#matches", OptionList).option_count > MAX_CO_UNITS + 1
        for _ in range(MAX_CO_UNITS):
            await pilot.press("down", "enter")
        assert len(dialog.co_units) == MAX_CO_UNITS
        await pilot.press("down", "enter")
        assert len(dialog.co_units) == MAX_CO_UNITS
        assert dialog.error_text == "At most 20 co-units"
        await pilot.press("ctrl+s")
        await pilot.pause()
    [result] = host.results
    assert isinstance(result, Dispatch)
    assert len(result.co_units) == MAX_CO_UNITS


async def test_no_match_says_so_and_enter_picks_nothing() -> None:
    dialog = dispatch_dialog()
    host = Host(dialog)
    async with host.run_test(size=SIZE) as pilot:
        await pilot.press(*typed("zzzz"), "enter")
        assert dialog.lead is None
        assert dialog.error_text == "没有匹配的单位"
        assert "没有匹配的单位" in text_of(dialog.query_one("#matches", OptionList))


async def test_dispatch_bindings_can_be_remapped_and_the_hint_follows() -> None:
    dialog = dispatch_dialog(EN)
    host = Host(dialog)
    async with host.run_test(size=SIZE) as pilot:
        host.set_keymap({"dispatch.confirm": "f2"})
        dialog.refresh_hint()
        assert "f2 dispatch" in text_of(dialog.query_one("#hint", Static))
        await pilot.press("enter", "ctrl+s")
        assert host.screen is dialog
        await pilot.press("f2")
        await pilot.pause()
    assert host.results == [Dispatch(lead_unit="st-city")]


# --------------------------------------------------------------------------- text dialogs

TEXT_DIALOGS: list[tuple[Callable[[Request, Strings], ModalScreen[Any]], Callable[[str], object], bool]] = [
    (ReopenDialog, lambda text: Reopen(reason=text), True),
    (NoteDialog, lambda text: AddNote(text=text), True),
]


@pytest.mark.parametrize(("factory", "model", "required"), TEXT_DIALOGS)
@pytest.mark.parametrize("key", ["enter", "ctrl+s"])
async def test_text_dialogs_return_their_model(
    factory: Callable[[Request, Strings], ModalScreen[Any]],
    model: Callable[[str], object],
    required: bool,
    key: str,
) -> None:
    host = await drive(factory(make_request(), ZH), *typed("不属于本单位职责 见附件"), key)
    assert host.results == [model("不属于本单位职责 见附件")]


@pytest.mark.parametrize(("factory", "model", "required"), TEXT_DIALOGS)
async def test_text_dialogs_refuse_an_empty_required_field(
    factory: Callable[[Request, Strings], ModalScreen[Any]],
    model: Callable[[str], object],
    required: bool,
) -> None:
    dialog = factory(make_request(), EN)
    host = Host(dialog)
    async with host.run_test(size=SIZE) as pilot:
        await pilot.press("space", "space", "enter")
        await pilot.pause()
        if not required:
            assert host.results == [model("")]
            return
        assert host.results == []
        assert host.screen is dialog
        error = text_of(dialog.query_one("#error", Static))
        assert error.endswith("is required")
        await pilot.press("backspace", "backspace", *typed("ok"), "enter")
        await pilot.pause()
    assert host.results == [model("ok")]


async def test_required_message_in_chinese() -> None:
    dialog = ReopenDialog(make_request(), ZH)
    host = Host(dialog)
    async with host.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+s")
        assert dialog.error_text == "重办原因不能为空"
        assert host.screen is dialog


@pytest.mark.parametrize("factory", [factory for factory, _, _ in TEXT_DIALOGS] + [ResolveDialog])
async def test_text_dialogs_escape_returns_none(
    factory: Callable[[Request, Strings], ModalScreen[Any]],
) -> None:
    host = await drive(factory(make_request(), EN), *typed("half typed"), "escape")
    assert host.results == [None]


# --------------------------------------------------------------------------- resolve, return, close


async def test_resolve_needs_the_reply_to_the_citizen() -> None:
    dialog = ResolveDialog(make_request(), ZH)
    host = Host(dialog)
    async with host.run_test(size=SIZE) as pilot:
        assert "给市民的答复" in text_of(dialog.query_one(".label", Label))
        assert dialog.query_one("#text", Input).placeholder == "必填"
        await pilot.press("space", "enter")
        assert dialog.error_text == "办结须填写给市民的答复"  # the state machine's rule, in words
        assert host.screen is dialog
        await pilot.press(*typed("已更换灯泡"), "enter")
        await pilot.pause()
    assert host.results == [Resolve(summary="已更换灯泡")]


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_return_lists_its_codes_and_takes_one_by_number(lang: Lang) -> None:
    strings = Strings(lang)
    dialog = ReturnDialog(make_request(), strings)
    host = Host(dialog)
    async with host.run_test(size=SIZE) as pilot:
        listed = [str(button.label) for button in dialog.query_one("#code").query(RadioButton)]
        assert listed == [f"{n} {strings(f'return_code.{code}')}" for n, code in enumerate(ReturnCode, 1)]
        await pilot.press(*typed("xyz"), "ctrl+s")  # the list has the focus: letters choose nothing
        assert dialog.error_text == strings(
            "transition.code.required", field=strings("transition.return.code")
        )
        await pilot.press("3")  # a code moves on to the reason
        assert dialog.focused is dialog.query_one("#text", Input)
        await pilot.press(*typed("应由供电公司主办"), "enter")
        await pilot.pause()
    assert host.results == [Return(code=ReturnCode.needs_other_unit, reason="应由供电公司主办")]


async def test_return_needs_its_reason_too() -> None:
    dialog = ReturnDialog(make_request(), ZH)
    host = Host(dialog)
    async with host.run_test(size=SIZE) as pilot:
        await pilot.press("1", "enter")
        assert dialog.error_text == "退单原因不能为空"
        await pilot.press("escape")
        await pilot.pause()
    assert host.results == [None]


def resolved(unreached: int) -> Request:
    at = DUE - timedelta(hours=5)
    callbacks = [
        Callback(reached=False, by="回访员", at=at + timedelta(hours=i + 1)) for i in range(unreached)
    ]
    return make_request(state=State.resolved, resolved_at=at, callbacks=callbacks)


async def test_close_as_unreachable_only_after_enough_unreached_callbacks() -> None:
    dialog = CloseDialog(resolved(2), ZH)
    host = Host(dialog)
    async with host.run_test(size=SIZE) as pilot:
        rule = text_of(dialog.query_one("#rule", Static))
        assert "办结后未联系上 2 次，满 3 次可选“无法联系”" in rule.replace("\n", "")
        await pilot.press("1", "enter")
        assert dialog.error_text == (
            "诉求 R-000042 办结后只有 2 次未联系上的回访，满 3 次才能按“无法联系”结案"
        )
        assert host.screen is dialog
    host = await drive(CloseDialog(resolved(bounds.MIN_UNREACHED_CALLBACKS), ZH), "1", "enter")
    assert host.results == [Close(code=CloseCode.unreachable)]


async def test_close_for_another_reason_needs_it_in_words() -> None:
    dialog = CloseDialog(resolved(0), EN)
    host = Host(dialog)
    async with host.run_test(size=SIZE) as pilot:
        assert dialog.query_one("#text", Input).placeholder == "required with “Other”"
        await pilot.press("ctrl+s")
        assert dialog.error_text == "Choose: Why it is closed"
        await pilot.press("4", "enter")
        assert dialog.error_text == "“Other” needs the reason in words"
        await pilot.press(*typed("moved away"), "enter")
        await pilot.pause()
    assert host.results == [Close(code=CloseCode.other, reason="moved away")]
    host = await drive(CloseDialog(resolved(0), EN), "3", "enter")  # withdrawn: no words needed
    assert host.results == [Close(code=CloseCode.withdrawn)]


async def test_a_dialog_for_many_requests_refuses_only_what_the_body_lacks() -> None:
    scope = BulkScope(count=5, skipped=1, first_id="R-000042", action="close")
    dialog = CloseDialog(resolved(0), ZH, scope=scope)
    host = Host(dialog)
    async with host.run_test(size=SIZE) as pilot:
        assert "满 3 次" in text_of(dialog.query_one("#rule", Static)) and "0 次" not in text_of(
            dialog.query_one("#rule", Static)
        )
        await pilot.press("1", "enter")  # each request's callbacks are counted when it is recorded
        await pilot.pause()
    assert host.results == [Close(code=CloseCode.unreachable)]
    dialog = ResolveDialog(
        make_request(), ZH, scope=BulkScope(count=3, skipped=0, first_id="R-000042", action="resolve")
    )
    host = Host(dialog)
    async with host.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        assert dialog.error_text == "办结须填写给市民的答复"


# --------------------------------------------------------------------------- extend


def extend_dialog(strings: Strings = ZH) -> ExtendDialog:
    return ExtendDialog(make_request(), strings, clock=lambda: NOW, tz=BEIJING)


async def test_extend_by_two_hours_shows_the_new_due_time_as_typed() -> None:
    dialog = extend_dialog()
    host = Host(dialog)
    async with host.run_test(size=SIZE) as pilot:
        await pilot.press(*typed("需协调供电公司"), "tab", "+", "2")
        assert "当前期限：2026-11-25 16:00" in text_of(dialog.query_one("#current", Static))
        assert "看不懂" in text_of(dialog.query_one("#parsed", Static))  # `+2` is not a time yet
        await pilot.press("h")
        assert text_of(dialog.query_one("#parsed", Static)) == "新期限：2026-11-25 18:00（延后 2时00分）"
        await pilot.press("enter")
        await pilot.pause()
    assert host.results == [Extend(reason="需协调供电公司", new_due_at=DUE + timedelta(hours=2))]


async def test_extend_to_an_absolute_time() -> None:
    host = await drive(extend_dialog(EN), *typed("parts on order"), "tab", *typed("11-26 18:00"), "ctrl+s")
    assert host.results == [
        Extend(reason="parts on order", new_due_at=datetime(2026, 11, 26, 18, 0, tzinfo=BEIJING))
    ]


async def test_extend_to_a_time_before_the_current_due_is_refused() -> None:
    dialog = extend_dialog(EN)
    host = Host(dialog)
    async with host.run_test(size=SIZE) as pilot:
        await pilot.press(*typed("parts on order"), "tab", *typed("15:00"))
        later = "The new due time must be later than the current one, 2026-11-25 16:00"
        assert text_of(dialog.query_one("#parsed", Static)) == later
        await pilot.press("enter")
        await pilot.pause()
        assert host.results == []
        assert host.screen is dialog
        assert dialog.error_text == later
        # corrected: the refusal goes, the extension is returned
        await pilot.press("ctrl+u", *typed("+1d"))
        assert dialog.error_text == ""
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert host.results == [Extend(reason="parts on order", new_due_at=DUE + timedelta(days=1))]


async def test_extend_needs_a_reason_and_a_due_time() -> None:
    dialog = extend_dialog()
    host = Host(dialog)
    async with host.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+s")
        assert dialog.error_text == "请输入新期限，如 +2h、+3d、18:00"
        await pilot.press("tab", *typed("+3d"), "ctrl+s")
        assert dialog.error_text == "延期原因不能为空"
        assert host.screen is dialog
        await pilot.press("escape")
        await pilot.pause()
    assert host.results == [None]


async def test_extend_shows_its_limits_and_refuses_past_them() -> None:
    extended = [
        Step(action=action, by="pm01", at=DUE - timedelta(hours=h), state=State.extended)
        for action, h in (("dispatch", 30), ("extend", 20), ("extend", 10))
    ]
    dialog = ExtendDialog(
        make_request(state=State.extended, history=extended), ZH, clock=lambda: NOW, tz=BEIJING
    )
    host = Host(dialog)
    async with host.run_test(size=SIZE) as pilot:
        limits = text_of(dialog.query_one("#limits", Static)).replace("\n", "")
        assert "本轮已延期 2 次，最多 2 次；每次最多延后 30 天" in limits
        await pilot.press(*typed("还要等材料"), "tab", *typed("+1d"), "enter")
        assert dialog.error_text == "诉求 R-000042 本轮办理已延期 2 次，最多 2 次"
        assert host.screen is dialog
    dialog = extend_dialog(EN)
    host = Host(dialog)
    async with host.run_test(size=SIZE) as pilot:
        await pilot.press(*typed("a new roof"), "tab", *typed("+31d"), "enter")
        assert "needs a supervisor" in dialog.error_text  # what a dispatcher's token would be refused
        await pilot.press("ctrl+u", *typed("+30d"), "enter")
        await pilot.pause()
    assert host.results == [Extend(reason="a new roof", new_due_at=DUE + timedelta(days=30))]


# --------------------------------------------------------------------------- callback


async def test_callback_reached_solved_satisfied() -> None:
    host = await drive(CallbackDialog(make_request(), ZH), "y", "tab", "y", "tab", "1", "ctrl+s")
    assert host.results == [LogCallback(reached=True, solved=True, satisfaction=Satisfaction.satisfied)]


async def test_callback_reached_not_solved_not_satisfied_with_a_note() -> None:
    keys = ["y", "tab", "n", "tab", "3", "tab", *typed("灯还是不亮"), "enter"]
    host = await drive(CallbackDialog(make_request(), ZH), *keys)
    assert host.results == [
        LogCallback(reached=True, solved=False, satisfaction=Satisfaction.not_satisfied, note="灯还是不亮")
    ]


async def test_callback_not_reached_skips_the_answers() -> None:
    dialog = CallbackDialog(make_request(), EN)
    host = Host(dialog)
    async with host.run_test(size=SIZE) as pilot:
        await pilot.press("y", "tab", "y", "shift+tab", "n")  # answers given, then: not reached after all
        assert dialog.query_one("#solved").disabled
        assert dialog.query_one("#satisfaction").disabled
        await pilot.press("tab")
        assert dialog.focused is dialog.query_one("#note", Input)  # the answers are skipped
        await pilot.press(*typed("no answer, twice"), "enter")
        await pilot.pause()
    assert host.results == [LogCallback(reached=False, note="no answer, twice")]


async def test_callback_with_arrows_and_space() -> None:
    keys = ["space", "tab", "right", "space", "tab", "right", "space", "ctrl+s"]
    host = await drive(CallbackDialog(make_request(), EN), *keys)
    assert host.results == [LogCallback(reached=True, solved=False, satisfaction=Satisfaction.basically)]


async def test_callback_refusals_stay_in_the_dialog() -> None:
    dialog = CallbackDialog(make_request(), EN)
    host = Host(dialog)
    async with host.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+s")
        assert dialog.error_text == "Say whether the citizen was reached"
        await pilot.press("y", "ctrl+s")
        assert dialog.error_text == "A callback that reached the citizen needs solved and satisfaction"
        assert "needs solved" in text_of(dialog.query_one("#error", Static))
        assert host.screen is dialog
        await pilot.press("escape")
        await pilot.pause()
    assert host.results == [None]


@pytest.mark.parametrize(
    ("keys", "said"),
    [
        (["y", "tab", "y", "tab", "2"], "已解决且满意：保存后自动结案"),
        (["y", "tab", "n", "tab", "1"], "未解决或不满意：保存后自动退回重办，重新计算期限"),
        (["y", "tab", "y", "tab", "3"], "未解决或不满意：保存后自动退回重办，重新计算期限"),
        (["n"], "未联系上：办结后第 3 次；满 3 次可按“无法联系”结案"),
        (["y"], ""),  # not all answered yet
    ],
)
async def test_callback_says_what_its_answers_will_do(keys: list[str], said: str) -> None:
    dialog = CallbackDialog(resolved(2), ZH)
    host = Host(dialog)
    async with host.run_test(size=SIZE) as pilot:
        await pilot.press(*keys)
        await pilot.pause()
        assert text_of(dialog.query_one("#outcome", Static)).replace("\n", "") == said


# --------------------------------------------------------------------------- confirm


@pytest.mark.parametrize(("key", "answer"), [("y", True), ("enter", True), ("n", False), ("escape", False)])
async def test_confirm_dialog(key: str, answer: bool) -> None:
    host = await drive(ConfirmDialog("签收？", "签收 R-000042", ZH, request=make_request()), key)
    assert host.results == [answer]


async def test_confirm_dialog_shows_its_body_literally() -> None:
    dialog = ConfirmDialog("Accept?", "Sign for [b]this[/b]?", EN)
    host = Host(dialog)
    async with host.run_test(size=SIZE):
        assert text_of(dialog.query_one("#body", Static)) == "Sign for [b]this[/b]?"
        assert text_of(dialog.query_one("#hint", Static)) == "y/⏎ yes  n/esc no"


# --------------------------------------------------------------------------- every dialog


def test_every_composed_message_key_exists() -> None:
    """Keys the dialogs put together at run time (unit kinds, due-time refusals, titles)."""
    keys = [f"dispatch.kind.{kind}" for kind in UnitKind]
    keys += [f"transition.extend.error.{code}" for code in ERROR_CODES]
    keys += [
        f"transition.{name}.{part}"
        for name in ("return", "reopen", "note", "resolve", "close")
        for part in ("title", "field")
    ]
    keys += [f"transition.{name}.code" for name in ("return", "close")]
    keys += [f"return_code.{code}" for code in ReturnCode] + [f"close_code.{code}" for code in CloseCode]
    keys += [f"transition.callback.{answer}" for answer in Satisfaction]
    for key in keys:
        assert key in MESSAGES, key


DIALOGS: dict[str, Callable[[Request, Strings], ModalScreen[Any]]] = {
    "dispatch": lambda request, strings: DispatchDialog(request, UNITS, ["st-city"], strings),
    "return": ReturnDialog,
    "reopen": ReopenDialog,
    "note": NoteDialog,
    "resolve": ResolveDialog,
    "close": CloseDialog,
    "extend": lambda request, strings: ExtendDialog(request, strings, clock=lambda: NOW, tz=BEIJING),
    "callback": CallbackDialog,
    "confirm": lambda request, strings: ConfirmDialog("?", "?", strings, request=request),
}


@pytest.mark.parametrize("name", DIALOGS)
async def test_the_request_is_shown_literally(name: str) -> None:
    dialog = DIALOGS[name](make_request(EVIL), ZH)
    host = Host(dialog)
    async with host.run_test(size=SIZE) as pilot:
        header = dialog.query_one("#request", Static)
        assert str(header.content) == "R-000042\n楼道灯不亮[bold red]x[/] [@click=app.quit] ␛[2J␇ 完"
        shown = text_of(header)
        assert shown.splitlines()[0] == "R-000042"
        for piece in EVIL_SHOWN:
            assert piece in shown
        assert "\x1b" not in shown
        assert "\x07" not in shown
        await pilot.click(header, offset=(30, 1))  # on the would-be link: nothing happens
        await pilot.pause()
        assert host.is_running
        assert host.screen is dialog
        assert host.results == []


def _inside(outer: Region, widget: Widget) -> bool:
    return outer.contains_region(widget.region)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", DIALOGS)
async def test_every_dialog_fits_80x24(name: str, lang: Lang) -> None:
    strings = Strings(lang)
    dialog = DIALOGS[name](make_request("很长的描述" * 30), strings)
    host = Host(dialog)
    async with host.run_test(size=SIZE) as pilot:
        await pilot.pause()
        box = dialog.query_one("#dialog")
        assert _inside(dialog.region, box)
        inner = box.content_region
        essential = [dialog.query_one(f"#{id}") for id in ("request", "hint")]
        essential += list(dialog.query(Input)) + list(dialog.query(RadioButton))
        if name == "dispatch":
            essential += [dialog.query_one("#matches"), dialog.query_one("#picked")]
        for widget in essential:
            assert widget.region.height > 0, widget
            assert _inside(inner, widget), (widget, widget.region, inner)
        hint = dialog.query_one("#hint", Static)
        assert cell_len(str(hint.content)) <= hint.region.width
        for button in dialog.query(RadioButton):
            assert cell_len(str(button.label)) + 4 <= button.region.width
        if name == "dispatch":
            assert dialog.query_one("#matches", OptionList).region.height >= 5
        assert dialog.query_one("#request", Static).region.height == 2
