"""Contacts (vCard 3.0), call log and SMS (JSON) read through ``content query``, and the app list.

``content query`` prints ``Row: N col=value, col=value`` with values raw: a message body may
hold ``, `` or a newline. Rows are therefore split only where the next ``Row: N+1 <first
column>=`` begins and values only where the next *expected* column begins, which is why every
query names its projection and puts free text last.

The text parsing and vCard building are pure; :func:`run_query` is the only place that asks
the phone. A provider that refuses (MIUI may deny SMS or call-log reads to the shell user)
raises :class:`ProviderRefused`; callers record that as a warning instead of failing silently.
"""

from __future__ import annotations

import json
import shlex
import time
from dataclasses import dataclass, field
from typing import Sequence

from ..device.driver import Driver

Row = dict[str, "str | None"]

CONTACTS_DATA_URI = "content://com.android.contacts/data"
CONTACTS_URI = "content://com.android.contacts/contacts"
PHONES_URI = "content://com.android.contacts/data/phones"
CALLS_URI = "content://call_log/calls"
SMS_URI = "content://sms"

DATA_COLUMNS = ("contact_id", "mimetype", "data2", "data3", "data4", "data5", "data6", "data7", "data8", "data9", "data10",
                "display_name", "data1")
CONTACT_COLUMNS = ("_id", "display_name")
PHONE_COLUMNS = ("contact_id", "data2", "data3", "display_name", "data1")
CALL_COLUMNS = ("_id", "number", "date", "duration", "type", "name")
SMS_COLUMNS = ("_id", "thread_id", "address", "date", "date_sent", "read", "type", "body")

CALL_TYPES = {1: "incoming", 2: "outgoing", 3: "missed", 4: "voicemail", 5: "rejected", 6: "blocked", 7: "answered_externally"}
SMS_TYPES = {1: "inbox", 2: "sent", 3: "draft", 4: "outbox", 5: "failed", 6: "queued"}
PHONE_TYPES = {1: "HOME", 2: "CELL", 3: "WORK", 4: "WORK,FAX", 5: "HOME,FAX", 6: "PAGER", 7: "VOICE", 12: "PREF"}
EMAIL_TYPES = {1: "HOME", 2: "WORK"}
ADDRESS_TYPES = {1: "HOME", 2: "WORK"}

MIME = "vnd.android.cursor.item/"
QUERY_TIMEOUT_S = 60.0
_REFUSAL_MARKS = ("Error while accessing provider", "Exception", "Permission Denial", "Error:")


class ProviderRefused(Exception):
    """The phone did not hand out the rows; ``reason`` is its own first line of complaint."""

    def __init__(self, uri: str, reason: str) -> None:
        super().__init__(f"{uri}: {reason}")
        self.uri = uri
        self.reason = reason


# ---------------------------------------------------------------------- content query text
def query_command(uri: str, columns: Sequence[str], sort: str | None = None) -> str:
    cmd = f"content query --uri {uri} --projection {':'.join(columns)}"
    return cmd + (f" --sort {shlex.quote(sort)}" if sort else "")


def parse_rows(output: str, columns: Sequence[str], uri: str = "") -> list[Row]:
    """Rows of ``content query`` output for a known projection; ``NULL`` becomes None."""
    text = output.replace("\r\n", "\n")
    if text.strip() in ("", "No result found."):
        return []
    first = f"Row: 0 {columns[0]}="
    start = 0 if text.startswith(first) else text.find("\n" + first) + 1  # a linker warning may come first
    if not text.startswith(first, start):
        raise ProviderRefused(uri, _first_complaint(text))
    rows: list[Row] = []
    n = 0
    while start >= 0:
        head = f"Row: {n} "
        nxt = text.find(f"\nRow: {n + 1} {columns[0]}=", start)
        body = text[start + len(head): nxt if nxt >= 0 else len(text)]
        rows.append(_parse_values(body.removesuffix("\n") if nxt < 0 else body, columns, uri))
        start = nxt + 1 if nxt >= 0 else -1
        n += 1
    return rows


def _parse_values(body: str, columns: Sequence[str], uri: str) -> Row:
    row: Row = {}
    pos = 0
    for i, col in enumerate(columns):
        key = f"{col}="
        if not body.startswith(key, pos):
            raise ProviderRefused(uri, f"unexpected row text near {body[pos:pos + 40]!r}")
        pos += len(key)
        end = body.find(f", {columns[i + 1]}=", pos) if i + 1 < len(columns) else len(body)
        if end < 0:
            raise ProviderRefused(uri, f"column {columns[i + 1]} missing in a row")
        value = body[pos:end]
        row[col] = None if value == "NULL" else value
        pos = end + 2
    return row


def _first_complaint(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("\tat ")]
    for line in lines:
        if any(mark in line for mark in _REFUSAL_MARKS):
            return line[:300]
    return (lines[0] if lines else "no output")[:300]


def run_query(driver: Driver, uri: str, columns: Sequence[str], sort: str | None = None) -> list[Row]:
    out = driver.shell(query_command(uri, columns, sort), timeout_s=QUERY_TIMEOUT_S)
    if out.exit_code != 0 and not out.output.startswith("Row: "):
        raise ProviderRefused(uri, _first_complaint(out.output))
    return parse_rows(out.output, columns, uri)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


# ---------------------------------------------------------------------- contacts and vCard
@dataclass
class Contact:
    name: str = ""
    given: str = ""
    family: str = ""
    middle: str = ""
    prefix: str = ""
    suffix: str = ""
    nickname: str = ""
    phones: list[tuple[str, str]] = field(default_factory=list)  # (number, TYPE)
    emails: list[tuple[str, str]] = field(default_factory=list)
    # ((po box, extended, street, city, region, postcode, country), TYPE)
    addresses: list[tuple[tuple[str, ...], str]] = field(default_factory=list)
    org: str = ""
    title: str = ""
    note: str = ""
    urls: list[str] = field(default_factory=list)
    birthday: str = ""


def contacts_from_data(rows: Sequence[Row]) -> list[Contact]:
    """Contacts from the ContactsContract data table (one row per name, number, e-mail, ...)."""
    by_id: dict[str, Contact] = {}
    for r in rows:
        c = by_id.setdefault(r.get("contact_id") or "", Contact())
        kind = (r.get("mimetype") or "").removeprefix(MIME)
        d = {k: r.get(k) or "" for k in DATA_COLUMNS}
        c.name = c.name or d["display_name"]
        if kind == "name":
            c.name = d["data1"] or c.name
            c.given, c.family, c.prefix, c.middle, c.suffix = d["data2"], d["data3"], d["data4"], d["data5"], d["data6"]
        elif kind == "phone_v2" and d["data1"]:
            c.phones.append((d["data1"], PHONE_TYPES.get(_int(d["data2"]) or 0, "VOICE")))
        elif kind == "email_v2" and d["data1"]:
            c.emails.append((d["data1"], EMAIL_TYPES.get(_int(d["data2"]) or 0, "INTERNET")))
        elif kind == "postal-address_v2":
            parts = ("", "", d["data4"], d["data7"], d["data8"], d["data9"], d["data10"])
            if not any(parts):
                parts = ("", "", d["data1"], "", "", "", "")
            c.addresses.append((parts, ADDRESS_TYPES.get(_int(d["data2"]) or 0, "")))
        elif kind == "organization":
            c.org, c.title = d["data1"], d["data4"]
        elif kind == "note":
            c.note = d["data1"]
        elif kind == "nickname":
            c.nickname = d["data1"]
        elif kind == "website" and d["data1"]:
            c.urls.append(d["data1"])
        elif kind == "contact_event" and _int(d["data2"]) == 3:
            c.birthday = d["data1"]
    return [c for c in by_id.values() if c.name or c.phones or c.emails]


def contacts_from_phones(contact_rows: Sequence[Row], phone_rows: Sequence[Row]) -> list[Contact]:
    """Contacts from the contacts list and the phone-number view: names and numbers only."""
    by_id: dict[str, Contact] = {r.get("_id") or "": Contact(name=r.get("display_name") or "") for r in contact_rows}
    for r in phone_rows:
        c = by_id.setdefault(r.get("contact_id") or "", Contact(name=r.get("display_name") or ""))
        if r.get("data1"):
            c.phones.append((r["data1"] or "", PHONE_TYPES.get(_int(r.get("data2")) or 0, "VOICE")))
    return [c for c in by_id.values() if c.name or c.phones]


def vcard_escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def fold_line(line: str, limit: int = 75) -> str:
    """RFC 2425 folding: lines of at most ``limit`` octets, continuations starting with a space, UTF-8 kept whole."""
    out: list[str] = []
    current = ""
    size = 0
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > limit:
            out.append(current)
            current, size = " ", 1
        current += ch
        size += n
    out.append(current)
    return "\r\n".join(out)


def vcard(contact: Contact) -> str:
    e = vcard_escape
    fn = contact.name or " ".join(p for p in (contact.given, contact.family) if p) or (
        contact.phones[0][0] if contact.phones else contact.emails[0][0] if contact.emails else "")
    if contact.given or contact.family:
        n = ";".join(e(p) for p in (contact.family, contact.given, contact.middle, contact.prefix, contact.suffix))
    else:
        n = f"{e(fn)};;;;"
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"FN:{e(fn)}", f"N:{n}"]
    if contact.nickname:
        lines.append(f"NICKNAME:{e(contact.nickname)}")
    lines += [f"TEL;TYPE={kind}:{e(number)}" for number, kind in contact.phones]
    lines += [f"EMAIL;TYPE={'INTERNET,' + kind if kind != 'INTERNET' else kind}:{e(addr)}" for addr, kind in contact.emails]
    for parts, kind in contact.addresses:
        lines.append(f"ADR{';TYPE=' + kind if kind else ''}:" + ";".join(e(p) for p in parts))
    if contact.org:
        lines.append(f"ORG:{e(contact.org)}")
    if contact.title:
        lines.append(f"TITLE:{e(contact.title)}")
    lines += [f"URL:{e(url)}" for url in contact.urls]
    if contact.birthday:
        lines.append(f"BDAY:{e(contact.birthday)}")
    if contact.note:
        lines.append(f"NOTE:{e(contact.note)}")
    lines.append("END:VCARD")
    return "".join(fold_line(line) + "\r\n" for line in lines)


def vcards(contacts: Sequence[Contact]) -> str:
    return "".join(vcard(c) for c in contacts)


def read_contacts(driver: Driver) -> tuple[list[Contact], str]:
    """(contacts, how): the full data table where the phone allows it, else names and numbers."""
    try:
        rows = run_query(driver, CONTACTS_DATA_URI, DATA_COLUMNS, "contact_id ASC")
        return contacts_from_data(rows), CONTACTS_DATA_URI
    except ProviderRefused:
        phones = run_query(driver, PHONES_URI, PHONE_COLUMNS)
        try:
            people = run_query(driver, CONTACTS_URI, CONTACT_COLUMNS)
        except ProviderRefused:
            people = []
        return contacts_from_phones(people, phones), PHONES_URI


# ---------------------------------------------------------------------- call log, SMS, apps
def _iso(ms: int | None) -> str | None:
    if not ms:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(ms / 1000))


def call_records(rows: Sequence[Row]) -> list[dict[str, object]]:
    out = []
    for r in rows:
        date, kind = _int(r.get("date")), _int(r.get("type"))
        out.append({"id": _int(r.get("_id")), "number": r.get("number"), "name": r.get("name"), "date_ms": date,
                    "date": _iso(date), "duration_s": _int(r.get("duration")), "type": CALL_TYPES.get(kind or 0, str(kind))})
    return out


def sms_records(rows: Sequence[Row]) -> list[dict[str, object]]:
    out = []
    for r in rows:
        date, kind = _int(r.get("date")), _int(r.get("type"))
        out.append({"id": _int(r.get("_id")), "thread_id": _int(r.get("thread_id")), "address": r.get("address"),
                    "date_ms": date, "date": _iso(date), "date_sent_ms": _int(r.get("date_sent")),
                    "read": r.get("read") == "1", "type": SMS_TYPES.get(kind or 0, str(kind)), "body": r.get("body")})
    return out


def parse_packages(output: str) -> dict[str, str]:
    """``package:<apk path>=<name>`` lines of ``pm list packages -f`` as {name: apk path} (a path may hold ``=``)."""
    found = {}
    for line in output.splitlines():
        line = line.strip()
        if not line.startswith("package:"):
            continue
        path, _, name = line[len("package:"):].rpartition("=")  # without -f: ("", "", name)
        found[name] = path
    return found


def app_records(all_output: str, third_party_output: str) -> list[dict[str, object]]:
    apks = parse_packages(all_output)
    user = set(parse_packages(third_party_output))
    return [{"package": name, "apk": apks[name], "third_party": name in user} for name in sorted(apks)]


def json_document(kind: str, source: str, records: list[dict[str, object]]) -> bytes:
    return (json.dumps({"kind": kind, "source": source, "count": len(records), "records": records},
                       indent=1, ensure_ascii=False) + "\n").encode("utf-8")
