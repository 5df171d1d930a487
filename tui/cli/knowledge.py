"""`hotline kb`: read and edit the central API's knowledge base (知识库): list, show, add, edit,
withdraw, history. Editing needs a supervisor or admin token; an entry to add or edit is read from
a TOML or JSON file (the fields of `api_client.knowledge.KnowledgeEntryIn`)."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from api_client.domain.untrusted_text import one_line
from tui.cli.options import client_options, server_call
from tui.cli.output import CliError, say, table

if TYPE_CHECKING:
    from api_client.client import HotlineClient
    from api_client.knowledge import KnowledgeEntry, KnowledgeEntryIn, KnowledgeEvent
    from tui.cli.options import Subparsers

__all__ = [
    "add_parser",
    "cmd_kb_add",
    "cmd_kb_edit",
    "cmd_kb_history",
    "cmd_kb_list",
    "cmd_kb_show",
    "cmd_kb_withdraw",
    "read_entry",
]

_FILE_HELP = (
    "a TOML or JSON file with title, answer and optionally category, keywords (a list), "
    "valid_from, valid_until (dates) and owner"
)


def add_parser(subparsers: Subparsers) -> None:
    kb = subparsers.add_parser(
        "kb",
        help="the knowledge base (supervisors): list, show, add, edit, withdraw, history",
        description=(
            "Read and edit the central API's knowledge base: the policy answers call-takers give to "
            "answer an enquiry directly. Anyone may read it; editing needs a supervisor or admin "
            "token. Every edit is kept in its history."
        ),
    )
    kb_sub = kb.add_subparsers(dest="kb_command", metavar="ACTION", required=True)
    kb_list = kb_sub.add_parser("list", help="every entry as a table", description="Print the entries.")
    kb_list.add_argument("--all", action="store_true", help="withdrawn entries too")
    kb_show = kb_sub.add_parser(
        "show",
        help="one entry as JSON",
        description="Print entry ID: a line about it, then its fields as one line of JSON (for `kb edit`).",
    )
    kb_show.add_argument("entry_id", metavar="ID", help="the entry's id")
    kb_add = kb_sub.add_parser("add", help="add an entry from a file", description="Add an entry.")
    kb_add.add_argument("file", type=Path, metavar="FILE", help=_FILE_HELP)
    kb_edit = kb_sub.add_parser(
        "edit",
        help="replace an entry from a file",
        description=(
            "Replace entry ID with the file's: the entry is read first and its version sent, so a "
            "change someone made meanwhile is refused (exit 1), never overwritten."
        ),
    )
    kb_edit.add_argument("entry_id", metavar="ID", help="the entry's id")
    kb_edit.add_argument("file", type=Path, metavar="FILE", help=_FILE_HELP)
    kb_withdraw = kb_sub.add_parser(
        "withdraw",
        help="withdraw an entry",
        description="Withdraw entry ID: it stays in the list, marked, and no answer may cite it.",
    )
    kb_withdraw.add_argument("entry_id", metavar="ID", help="the entry's id")
    kb_history = kb_sub.add_parser(
        "history",
        help="who edited which entry, when",
        description="Print the edits of the knowledge base (of entry ID when given), oldest first.",
    )
    kb_history.add_argument("entry_id", nargs="?", metavar="ID", help="only this entry's edits")
    for kb_parser, handler in (
        (kb_list, cmd_kb_list),
        (kb_show, cmd_kb_show),
        (kb_add, cmd_kb_add),
        (kb_edit, cmd_kb_edit),
        (kb_withdraw, cmd_kb_withdraw),
        (kb_history, cmd_kb_history),
    ):
        client_options(kb_parser)
        kb_parser.set_defaults(handler=handler)


def read_entry(path: Path) -> KnowledgeEntryIn:
    """The entry in a TOML file (`.toml`) or a JSON one (any other name); CliError when it is not one."""
    import tomllib

    import orjson
    from pydantic import ValidationError

    from api_client.knowledge import KnowledgeEntryIn

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CliError(one_line(f"cannot read {path}: {exc.strerror or exc}")) from exc
    try:
        fields = tomllib.loads(data.decode()) if path.suffix.lower() == ".toml" else orjson.loads(data)
    except (tomllib.TOMLDecodeError, orjson.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CliError(
            one_line(f"{path} is not valid {'TOML' if path.suffix == '.toml' else 'JSON'}: {exc}")
        ) from exc
    if not isinstance(fields, dict):
        raise CliError(one_line(f"{path} must hold one entry (a table of fields)"))
    try:
        return KnowledgeEntryIn.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise CliError(
            one_line(f"invalid entry in {path}: {where + ': ' if where else ''}{first['msg']}")
        ) from exc


def _status(entry: KnowledgeEntry, today: date) -> str:
    if entry.withdrawn:
        return "withdrawn"
    if entry.valid_from is not None and today < entry.valid_from:
        return f"from {entry.valid_from}"
    if entry.valid_until is not None and entry.valid_until < today:
        return f"expired {entry.valid_until}"
    return "in force"


def _table(entries: list[KnowledgeEntry]) -> list[str]:
    today = date.today()
    header = ("ID", "STATUS", "CATEGORY", "TITLE", "OWNER", "VERSION")
    rows = [
        (e.id, _status(e, today), e.category or "-", e.title, e.owner or "-", str(e.version)) for e in entries
    ]
    return table(header, rows)


def cmd_kb_list(args: argparse.Namespace) -> int:
    async def work(client: HotlineClient) -> int:
        entries = [e for e in await client.knowledge() if args.all or not e.withdrawn]
        if not entries:
            say("the knowledge base is empty (`hotline kb add FILE` adds an entry)")
        else:
            say(*_table(entries))
        return 0

    return server_call(args, work)


def cmd_kb_show(args: argparse.Namespace) -> int:
    async def work(client: HotlineClient) -> int:
        import orjson

        entry = await client.knowledge_entry(args.entry_id)
        fields = entry.model_dump(mode="json", include=_WRITTEN)
        say(f"# {entry.id}, version {entry.version}, by {entry.updated_by}", orjson.dumps(fields).decode())
        return 0

    return server_call(args, work)


#: The fields a supervisor writes (`KnowledgeEntryIn`'s).
_WRITTEN = {"title", "answer", "category", "keywords", "valid_from", "valid_until", "owner"}


def cmd_kb_add(args: argparse.Namespace) -> int:
    entry = read_entry(args.file)

    async def work(client: HotlineClient) -> int:
        made = await client.create_knowledge_entry(entry)
        say(one_line(f"added knowledge-base entry {made.id}: {made.title}"))
        return 0

    return server_call(args, work)


def cmd_kb_edit(args: argparse.Namespace) -> int:
    entry = read_entry(args.file)

    async def work(client: HotlineClient) -> int:
        current = await client.knowledge_entry(args.entry_id)
        replaced = await client.replace_knowledge_entry(current.id, entry, version=current.version)
        say(one_line(f"replaced version {current.version} of {replaced.id}, now version {replaced.version}"))
        return 0

    return server_call(args, work)


def cmd_kb_withdraw(args: argparse.Namespace) -> int:
    async def work(client: HotlineClient) -> int:
        entry = await client.withdraw_knowledge_entry(args.entry_id)
        say(one_line(f"withdrew knowledge-base entry {entry.id} (version {entry.version}): {entry.title}"))
        return 0

    return server_call(args, work)


def _change(event: KnowledgeEvent) -> str:
    after, before = event.after, event.before
    if event.action == "create" and after is not None:
        return f"created: {after.title}"
    if event.action == "withdraw":
        return "withdrawn"
    if after is not None and before is not None:
        changed = [name for name in sorted(_WRITTEN) if getattr(before, name) != getattr(after, name)]
        return f"replaced: {', '.join(changed) or 'no change'} (version {before.version} → {after.version})"
    return event.action


def cmd_kb_history(args: argparse.Namespace) -> int:
    async def work(client: HotlineClient) -> int:
        events = await client.knowledge_audit(args.entry_id)
        if not events:
            say("no edits")
            return 0
        rows = [
            (event.at.astimezone().strftime("%Y-%m-%d %H:%M"), event.actor, event.entry_id, _change(event))
            for event in events
        ]
        say(*table(("WHEN", "WHO", "ENTRY", "WHAT"), rows))
        return 0

    return server_call(args, work)
