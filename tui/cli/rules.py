"""`hotline rules`: read and change the central API's routing rules (list, set, delete, the
auto-dispatch switch, history)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from api_client.domain.untrusted_text import one_line
from tui.cli.options import client_options, server_call, settings_from
from tui.cli.output import CliError, say, table
from tui.core.counting import counted

if TYPE_CHECKING:
    from datetime import datetime

    from api_client.client import HotlineClient
    from api_client.models import RoutingRule, RoutingRuleEvent
    from tui.cli.options import Subparsers

__all__ = [
    "add_parser",
    "cmd_rules_auto",
    "cmd_rules_delete",
    "cmd_rules_history",
    "cmd_rules_list",
    "cmd_rules_set",
]


def add_parser(subparsers: Subparsers) -> None:
    rules = subparsers.add_parser(
        "rules",
        help="routing rules (supervisors): list, set, delete, the auto-dispatch switch, history",
        description=(
            "Read and change the central API's routing rules: which units get a category's requests "
            "(in one community, or * any), and whether the server dispatches them itself at intake. "
            "Anyone may list them and read their history; changing them needs a supervisor or admin token."
        ),
    )
    rules_sub = rules.add_subparsers(dest="rules_command", metavar="ACTION", required=True)
    rules_list = rules_sub.add_parser(
        "list", help="every rule as a table", description="Print every routing rule as a table."
    )
    rules_set = rules_sub.add_parser(
        "set",
        help="create a rule, or replace it at its current version",
        description=(
            "Create routing rule ID, or replace it: the rule is read first and its version sent, so a "
            "change someone made meanwhile is refused (exit 1), never overwritten."
        ),
    )
    rules_set.add_argument("rule_id", metavar="ID", help="the rule's id: letters, digits, _ - . (≤ 64)")
    rules_set.add_argument("--category", required=True, metavar="CODE", help="the category code")
    rules_set.add_argument(
        "--community",
        metavar="ID",
        help="a community id, or * for any (default: the rule's current one, * for a new rule)",
    )
    rules_set.add_argument("--lead", required=True, metavar="UNIT", help="the lead unit's id")
    rules_set.add_argument(
        "--co", nargs="+", action="extend", default=[], metavar="UNIT", help="co-units' ids (none by default)"
    )
    rules_set.add_argument(
        "--auto",
        action=argparse.BooleanOptionalAction,
        help="auto-dispatch at intake (default: as the rule is now, off for a new rule)",
    )
    rules_delete = rules_sub.add_parser("delete", help="delete a rule", description="Delete routing rule ID.")
    rules_delete.add_argument("rule_id", metavar="ID", help="the rule's id")
    rules_auto = rules_sub.add_parser(
        "auto",
        help="the surge switch: auto-dispatch on or off for every rule of a category",
        description=(
            "Turn auto-dispatch on or off for every routing rule of CATEGORY (the surge switch); "
            "print the rules it changed."
        ),
    )
    rules_auto.add_argument("category", metavar="CATEGORY", help="the category code")
    rules_auto.add_argument("switch", choices=("on", "off"), help="on or off")
    rules_history = rules_sub.add_parser(
        "history",
        help="who changed which rule, when, and what changed",
        description="Print the changes to the routing rules (to rule ID when given), oldest first.",
    )
    rules_history.add_argument("rule_id", nargs="?", metavar="ID", help="only this rule's changes")
    for rules_parser, handler in (
        (rules_list, cmd_rules_list),
        (rules_set, cmd_rules_set),
        (rules_delete, cmd_rules_delete),
        (rules_auto, cmd_rules_auto),
        (rules_history, cmd_rules_history),
    ):
        client_options(rules_parser)
        rules_parser.set_defaults(handler=handler)


class _RuleNames:
    """The directory's names, to show next to the ids in a rule (the id alone when unknown)."""

    def __init__(self, categories: dict[str, str], communities: dict[str, str]) -> None:
        self.categories = categories
        self.communities = communities

    @classmethod
    async def fetch(cls, client: HotlineClient) -> _RuleNames:
        categories, communities = await asyncio.gather(client.categories(), client.communities())
        return cls({c.code: c.name for c in categories}, {c.id: c.name for c in communities})

    def category(self, code: str) -> str:
        name = self.categories.get(code)
        return f"{code} {name}" if name else code

    def community(self, community_id: str) -> str:
        from api_client.models import ANY_COMMUNITY

        if community_id == ANY_COMMUNITY:
            return f"{ANY_COMMUNITY} (any)"
        name = self.communities.get(community_id)
        return f"{community_id} {name}" if name else community_id


def _rules_table(rules: Sequence[RoutingRule], names: _RuleNames) -> list[str]:
    header = ("ID", "CATEGORY", "COMMUNITY", "LEAD", "CO-UNITS", "AUTO", "VERSION", "UPDATED")
    rows = [
        (
            rule.id,
            names.category(rule.category),
            names.community(rule.community),
            rule.lead_unit,
            ", ".join(rule.co_units) or "-",
            _on_off(rule.auto_dispatch),
            str(rule.version),
            f"{rule.updated_by} {_local_time(rule.updated_at)}",
        )
        for rule in rules
    ]
    return table(header, rows)


def _on_off(flag: bool) -> str:
    return "on" if flag else "off"


def _local_time(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def _rule_summary(rule: RoutingRule) -> str:
    co = ", ".join(rule.co_units) or "none"
    return (
        f"{rule.category} in {rule.community}: lead {rule.lead_unit}; co {co}; "
        f"auto-dispatch {_on_off(rule.auto_dispatch)}"
    )


def _rule_change(event: RoutingRuleEvent) -> str:
    """What one audited change did, in a few words."""
    before, after = event.before, event.after
    if after is None:
        return f"deleted ({_rule_summary(before)}; version {before.version})" if before else "deleted"
    if before is None:
        return f"created: {_rule_summary(after)}"
    fields = (
        ("category", before.category, after.category),
        ("community", before.community, after.community),
        ("lead", before.lead_unit, after.lead_unit),
        ("co", ", ".join(before.co_units) or "none", ", ".join(after.co_units) or "none"),
        ("auto-dispatch", _on_off(before.auto_dispatch), _on_off(after.auto_dispatch)),
    )
    changes = [f"{name} {old} → {new}" for name, old, new in fields if old != new]
    return f"{'; '.join(changes) or 'no change'} (version {before.version} → {after.version})"


def cmd_rules_list(args: argparse.Namespace) -> int:
    async def work(client: HotlineClient) -> int:
        rules, names = await asyncio.gather(client.routing_rules(), _RuleNames.fetch(client))
        if not rules:
            say("no routing rules: every request waits for a dispatcher (`hotline rules set` adds one)")
        else:
            say(*_rules_table(rules, names))
        return 0

    return server_call(args, work)


def cmd_rules_set(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from api_client.errors import InvalidRequest, RuleConflict
    from api_client.models import ANY_COMMUNITY, RoutingRuleIn

    rule_id: str = args.rule_id

    async def work(client: HotlineClient) -> int:
        current = next((rule for rule in await client.routing_rules() if rule.id == rule_id), None)
        try:
            body = RoutingRuleIn(
                category=args.category,
                community=args.community or (current.community if current else ANY_COMMUNITY),
                lead_unit=args.lead,
                co_units=args.co,
                auto_dispatch=args.auto if args.auto is not None else bool(current and current.auto_dispatch),
            )
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            where = ".".join(str(part) for part in first["loc"])
            from tui.core.error_words import describe
            from tui.core.i18n import Strings

            strings = Strings(settings_from(args).resolved_lang())
            message = describe(first["type"], first.get("ctx") or {}, strings, first["msg"])
            raise CliError(one_line(f"invalid rule: {where + ': ' if where else ''}{message}")) from exc
        try:
            rule = await client.put_routing_rule(rule_id, body, version=current.version if current else None)
        except RuleConflict as exc:
            raise CliError(_rule_changed_meanwhile(rule_id, exc.current)) from exc
        except InvalidRequest as exc:
            if exc.status != 428:
                raise
            raise CliError(
                one_line(f"someone created routing rule {rule_id} meanwhile ({exc.detail}); ")
                + "nothing was changed: `hotline rules list` shows it"
            ) from exc
        done = "created" if current is None else f"replaced version {current.version} of"
        say(one_line(f"{done} routing rule {rule.id}, now version {rule.version}:"))
        say(*_rules_table([rule], await _RuleNames.fetch(client)))
        return 0

    return server_call(args, work)


def _rule_changed_meanwhile(rule_id: str, current: RoutingRule | None) -> str:
    if current is None:
        return one_line(
            f"someone deleted routing rule {rule_id} meanwhile; nothing was changed: "
            "`hotline rules list` shows the rules now"
        )
    return one_line(
        f"someone changed routing rule {rule_id} meanwhile: version {current.version} by "
        f"{current.updated_by} at {_local_time(current.updated_at)} ({_rule_summary(current)}); "
        "nothing was changed: run `hotline rules set` again to replace their version"
    )


def cmd_rules_delete(args: argparse.Namespace) -> int:
    async def work(client: HotlineClient) -> int:
        rule = await client.delete_routing_rule(args.rule_id)
        say(one_line(f"deleted routing rule {rule.id} (version {rule.version}: {_rule_summary(rule)})"))
        return 0

    return server_call(args, work)


def cmd_rules_auto(args: argparse.Namespace) -> int:
    category: str = args.category
    switch: str = args.switch

    async def work(client: HotlineClient) -> int:
        before = {(rule.id, rule.version) for rule in await client.routing_rules()}
        rules = await client.set_auto_dispatch(category, switch == "on")
        names = await _RuleNames.fetch(client)
        label = one_line(names.category(category))
        if not rules:
            message = f"no routing rule for {label}: auto-dispatch stays off"
            if switch == "on":
                raise CliError(f"{message}; `hotline rules set` creates one")
            say(message)
            return 0
        changed = [rule for rule in rules if (rule.id, rule.version) not in before]
        say(
            f"auto-dispatch {switch} for {label}: {counted('{n:rule|rules}', n=len(changed))} changed, "
            f"{len(rules) - len(changed):,} already {switch}"
        )
        if changed:
            say(*_rules_table(changed, names))
        return 0

    return server_call(args, work)


def cmd_rules_history(args: argparse.Namespace) -> int:
    rule_id: str | None = args.rule_id

    async def work(client: HotlineClient) -> int:
        events = await client.routing_rule_audit(rule_id)
        if not events:
            say(one_line(f"no changes to routing rule {rule_id}" if rule_id else "no routing rule changes"))
            return 0
        header = ("#", "WHEN", "WHO", "RULE", "ACTION", "CHANGE")
        rows = [(str(e.id), _local_time(e.at), e.actor, e.rule_id, e.action, _rule_change(e)) for e in events]
        say(*table(header, rows))
        return 0

    return server_call(args, work)
