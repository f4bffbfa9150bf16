"""``content query``: the contacts, call-log and SMS providers, printed as Android's
``content`` tool prints rows (``Row: 0 _id=1, display_name=Li A., data1=+86...``).

Each URI has its real column names (the ContactsContract data view has ``data1``, not
``number``; the legacy ``content://contacts/phones`` has ``number``); asking for a column
the table does not have fails the way the provider does. Reads work with MIUI's
Security-settings gate off, as on a real phone.
"""

from __future__ import annotations

import re
from typing import Callable

from .base import CommandError, Ctx

Row = dict[str, object]

_PROVIDER_FRAMES = ("\tat android.database.DatabaseUtils.readExceptionFromParcel(DatabaseUtils.java:172)\n"
                    "\tat android.content.ContentProviderProxy.query(ContentProviderNative.java:478)\n"
                    "\tat com.android.commands.content.Content$QueryCommand.onExecute(Content.java:661)\n"
                    "\tat com.android.commands.content.Content$Command.execute(Content.java:522)\n"
                    "\tat com.android.commands.content.Content.main(Content.java:735)\n")


def _thread_ids(state) -> dict[str, int]:
    return {addr: i + 1 for i, addr in enumerate(dict.fromkeys(m.address for m in state.sms))}


def _names(state) -> dict[str, str]:
    return {c.number: c.name for c in state.contacts}


def _data_phones(state) -> list[Row]:
    return [{"_id": c.id, "contact_id": c.id, "raw_contact_id": c.id, "display_name": c.name, "data1": c.number,
             "data2": 2, "data3": None, "data4": c.number, "mimetype": "vnd.android.cursor.item/phone_v2",
             "is_primary": 0} for c in state.contacts]


def _contacts(state) -> list[Row]:
    return [{"_id": c.id, "display_name": c.name, "has_phone_number": 1, "lookup": f"0r{c.id}-{c.id * 7919:x}",
             "starred": 0, "times_contacted": 0, "photo_id": None} for c in state.contacts]


def _legacy_phones(state) -> list[Row]:
    return [{"_id": c.id, "person": c.id, "isprimary": 1, "type": 2, "label": None, "number": c.number,
             "number_key": c.number[::-1], "name": c.name, "display_name": c.name} for c in state.contacts]


def _calls(state) -> list[Row]:
    names = _names(state)
    return [{"_id": c.id, "number": c.number, "date": c.date_ms, "duration": c.duration, "type": c.type,
             "new": 0, "name": names.get(c.number), "numbertype": 2, "countryiso": "CN", "is_read": 1}
            for c in state.calls]


def _sms(box: int | None) -> Callable[[object], list[Row]]:
    def rows(state) -> list[Row]:
        threads = _thread_ids(state)
        return [{"_id": m.id, "thread_id": threads[m.address], "address": m.address, "person": None, "date": m.date_ms,
                 "date_sent": m.date_ms - 2000 if m.type == 1 else 0, "read": 1, "status": -1, "type": m.type,
                 "subject": None, "body": m.body, "seen": 1} for m in state.sms if box is None or m.type == box]
    return rows


TABLES: dict[str, Callable[[object], list[Row]]] = {
    "content://com.android.contacts/data/phones": _data_phones,
    "content://com.android.contacts/contacts": _contacts,
    "content://contacts/phones": _legacy_phones,
    "content://call_log/calls": _calls,
    "content://sms": _sms(None),
    "content://sms/inbox": _sms(1),
    "content://sms/sent": _sms(2),
}
_AUTHORITY = re.compile(r"content://([^/]+)")
_CONDITION = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=|==|!=|<>|<=|>=|<|>|\s+LIKE\s+)\s*('(?:[^']|'')*'|-?\d+)\s*",
                        re.IGNORECASE)


def _value(text: str) -> object:
    return text[1:-1].replace("''", "'") if text.startswith("'") else int(text)


def _matches(row: Row, where: str) -> bool:
    for clause in re.split(r"\s+AND\s+", where.strip(), flags=re.IGNORECASE):
        m = _CONDITION.fullmatch(clause)
        if not m:
            raise ValueError(f'near "{clause.strip()}": syntax error')
        column, op, raw = m.group(1), m.group(2).strip().upper(), _value(m.group(3))
        if column not in row:
            raise ValueError(f"no such column: {column}")
        have = row[column]
        if op == "LIKE":
            pattern = "^" + re.escape(str(raw)).replace("%", ".*").replace("_", ".") + "$"
            ok = re.match(pattern, str(have), re.IGNORECASE) is not None
        else:
            a, b = (have, raw) if isinstance(have, int) and isinstance(raw, int) else (str(have), str(raw))
            ok = {"=": a == b, "==": a == b, "!=": a != b, "<>": a != b, "<": a < b, ">": a > b, "<=": a <= b,
                  ">=": a >= b}[op]  # type: ignore[operator]
        if not ok:
            return False
    return True


def _format(value: object) -> str:
    return "NULL" if value is None else str(value)


def _query(ctx: Ctx, args: list[str]) -> int:
    options: dict[str, str] = {}
    it = iter(args)
    for arg in it:
        if arg in ("--uri", "--projection", "--where", "--sort", "--user", "--arg"):
            options[arg] = next(it, "")
        else:
            raise CommandError(f"Error: Unknown argument: {arg}", 1)
    uri = options.get("--uri")
    if not uri:
        raise CommandError("Error: Content provider URI not specified", 1)
    table = TABLES.get(uri.rstrip("/"))
    if table is None:
        m = _AUTHORITY.match(uri)
        authority = m.group(1) if m else uri
        known = {_AUTHORITY.match(u).group(1) for u in TABLES}  # type: ignore[union-attr]
        reason = f"Unknown URL {uri}" if authority in known else f"Could not find provider: {authority}"
        raise CommandError(f"Error while accessing provider:{authority}\njava.lang.IllegalArgumentException: {reason}\n"
                           + _PROVIDER_FRAMES.rstrip("\n"), 1)
    rows = table(ctx.phone.state)
    columns = list(rows[0]) if rows else []
    projection = [c for c in options.get("--projection", "").split(":") if c] or columns
    authority = _AUTHORITY.match(uri).group(1)  # type: ignore[union-attr]
    missing = [c for c in projection if rows and c not in rows[0]]
    if missing:
        raise CommandError(f"Error while accessing provider:{authority}\njava.lang.IllegalArgumentException: "
                           f"Invalid column {missing[0]}\n" + _PROVIDER_FRAMES.rstrip("\n"), 1)
    try:
        if options.get("--where"):
            rows = [r for r in rows if _matches(r, options["--where"])]
    except ValueError as exc:
        raise CommandError(f"Error while accessing provider:{authority}\nandroid.database.sqlite.SQLiteException: "
                           f"{exc} (code 1 SQLITE_ERROR)\n" + _PROVIDER_FRAMES.rstrip("\n"), 1) from None
    sort = options.get("--sort", "").split()
    if sort and rows and sort[0] in rows[0]:
        rows.sort(key=lambda r: (r[sort[0]] is None, r[sort[0]]), reverse=len(sort) > 1 and sort[1].upper() == "DESC")
    if not rows:
        ctx.out("No result found.\n")
        return 0
    for n, row in enumerate(rows):
        ctx.out(f"Row: {n} " + ", ".join(f"{c}={_format(row[c])}" for c in projection) + "\n")
    return 0


def content(ctx: Ctx, args: list[str]) -> int:
    if args[:1] == ["query"]:
        return _query(ctx, args[1:])
    if args and args[0] in ("insert", "update", "delete", "call", "read", "write", "gettype"):
        raise CommandError(f"Error: '{args[0]}' is not supported by the simulated phone", 1)
    raise CommandError("usage: adb shell content [subcommand] [options]\n\nusage: adb shell content query --uri <URI> "
                       "[--user <USER_ID>] [--projection <PROJECTION>] [--where <WHERE>] [--sort <SORT_ORDER>]", 1)


COMMANDS = {"content": content}
