"""`content query` over the contacts, call-log and SMS providers, in the real row format."""

import re

import pytest

from miui_automator.sim.phone import Phone
from miui_automator.sim.shell import Shell

ROW = re.compile(r"Row: (\d+) (.*)")


@pytest.fixture(scope="module")
def phone():
    return Phone(media_files=0)


def rows(sh, cmd: str) -> list[dict[str, str]]:
    result = sh.run(cmd)
    assert result.rc == 0, result.stderr
    parsed = []
    for n, line in enumerate(result.stdout.decode().splitlines()):
        m = ROW.fullmatch(line)
        assert m and int(m.group(1)) == n
        # values are printed raw (a body may hold ", "), so split only before the next "column="
        parsed.append(dict(kv.split("=", 1) for kv in re.split(r", (?=[a-z_0-9]+=)", m.group(2))))
    return parsed


def test_legacy_phones_uri_has_name_and_number(sh, phone):
    got = rows(sh, "content query --uri content://contacts/phones")
    assert len(got) == len(phone.state.contacts)
    first = phone.state.contacts[0]
    assert got[0]["_id"] == "1"
    assert (got[0]["display_name"], got[0]["number"]) == (first.name, first.number)


def test_data_phones_uses_data1_and_projection(sh, phone):
    got = rows(sh, "content query --uri content://com.android.contacts/data/phones --projection display_name:data1")
    assert [list(r) for r in got[:1]] == [["display_name", "data1"]]
    assert [(r["display_name"], r["data1"]) for r in got] == [(c.name, c.number) for c in phone.state.contacts]


def test_unknown_column_fails_like_the_provider(sh):
    result = sh.run("content query --uri content://com.android.contacts/data/phones --projection number")
    assert result.rc == 1
    assert b"Error while accessing provider:com.android.contacts" in result.stderr
    assert b"Invalid column number" in result.stderr


def test_contacts_table(sh, phone):
    got = rows(sh, "content query --uri content://com.android.contacts/contacts --projection _id:display_name")
    assert [r["display_name"] for r in got] == [c.name for c in phone.state.contacts]


def test_call_log(sh, phone):
    got = rows(sh, "content query --uri content://call_log/calls")
    assert len(got) == len(phone.state.calls)
    call = phone.state.calls[0]
    assert {k: got[0][k] for k in ("number", "date", "duration", "type")} == {
        "number": call.number, "date": str(call.date_ms), "duration": str(call.duration), "type": str(call.type)}


def test_sms_with_where_and_sort(sh, phone):
    got = rows(sh, "content query --uri content://sms --projection _id:address:body:type --where 'type=1' "
                   "--sort '_id DESC'")
    inbox = [m for m in phone.state.sms if m.type == 1]
    assert [int(r["_id"]) for r in got] == sorted((m.id for m in inbox), reverse=True)
    assert got[-1]["body"] == inbox[0].body  # bodies with commas are printed raw, as Android does
    assert len(rows(sh, "content query --uri content://sms/sent")) == len(phone.state.sms) - len(inbox)


def test_reads_work_with_the_gate_off():
    phone = Phone(media_files=0)
    phone.state.props["persist.security.adbinput"] = "0"
    assert len(rows(Shell(phone), "content query --uri content://sms")) == len(phone.state.sms)


def test_no_rows_and_bad_where(sh):
    assert sh.run("content query --uri content://sms --where \"address='nobody'\"").stdout == b"No result found.\n"
    bad = sh.run("content query --uri content://sms --where 'nonsense here'")
    assert bad.rc == 1 and b"SQLiteException" in bad.stderr


def test_unknown_provider(sh):
    result = sh.run("content query --uri content://com.example.nothing/items")
    assert result.rc == 1
    assert b"Could not find provider: com.example.nothing" in result.stderr
