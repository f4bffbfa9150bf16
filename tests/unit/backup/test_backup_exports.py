"""Exports: ``content query`` parsing, vCard 3.0 building, call log / SMS records, the app list,
and a refusing provider turning into a warning and a manifest note (no sockets: the simulated
phone's shell is called in-process through a tiny driver)."""

from __future__ import annotations

import json

import pytest

from miui_automator.backup import exports as ex
from miui_automator.backup.stages import export_all
from miui_automator.backup.state import BackupState
from miui_automator.device.driver import ShellOutput
from miui_automator.sim.phone import Phone
from miui_automator.sim.shell import Shell


class ShellDriver:
    """Just enough of a Driver: ``shell`` runs on a simulated phone's shell; ``refuse`` fakes MIUI saying no."""

    serial = "fake"

    def __init__(self, phone: Phone, refuse: tuple[str, ...] = ()) -> None:
        self.sh = Shell(phone)
        self.refuse = refuse
        self.commands: list[str] = []

    def shell(self, command: str, timeout_s: float = 30.0) -> ShellOutput:
        self.commands.append(command)
        if any(f"--uri {uri} " in command for uri in self.refuse):
            return ShellOutput(command, "Error while accessing provider:sms\njava.lang.SecurityException: Permission "
                                        "Denial: reading com.android.providers.telephony.SmsProvider uri content://sms "
                                        "from pid=1, uid=2000 requires android.permission.READ_SMS\n"
                                        "\tat android.os.Parcel.x(Parcel.java:1)\n", 1)
        result = Shell(self.sh.phone).run(command)
        return ShellOutput(command, result.combined.decode(), result.rc)


@pytest.fixture(scope="module")
def phone() -> Phone:
    return Phone(media_files=0)


# ---------------------------------------------------------------------- content query text
def test_rows_keep_commas_newlines_and_null_inside_values():
    out = ("Row: 0 _id=1, address=+861, body=Hi, body=fake, see you\nat 8, really\n"
           "Row: 1 _id=2, address=NULL, body=Row: 3 _id=9\n")
    rows = ex.parse_rows(out, ("_id", "address", "body"))
    assert rows == [{"_id": "1", "address": "+861", "body": "Hi, body=fake, see you\nat 8, really"},
                    {"_id": "2", "address": None, "body": "Row: 3 _id=9"}]


def test_no_result_is_an_empty_list_and_a_linker_warning_is_skipped():
    assert ex.parse_rows("No result found.\n", ("_id",)) == []
    assert ex.parse_rows("WARNING: linker: libfoo.so: unused DT entry\nRow: 0 _id=7\n", ("_id",)) == [{"_id": "7"}]


def test_provider_errors_raise_refused_with_the_phones_own_words():
    text = ("Error while accessing provider:sms\njava.lang.SecurityException: Permission Denial: reading sms\n"
            "\tat android.database.DatabaseUtils.readExceptionFromParcel(DatabaseUtils.java:172)\n")
    with pytest.raises(ex.ProviderRefused) as err:
        ex.parse_rows(text, ("_id", "body"), "content://sms")
    assert err.value.uri == "content://sms"
    assert err.value.reason == "Error while accessing provider:sms"


def test_a_row_missing_an_expected_column_is_refused_not_misread():
    with pytest.raises(ex.ProviderRefused, match="column body missing"):
        ex.parse_rows("Row: 0 _id=1, address=+86\n", ("_id", "address", "body"))


def test_parses_what_the_simulated_content_tool_prints(phone):
    driver = ShellDriver(phone)
    sms = ex.run_query(driver, ex.SMS_URI, ex.SMS_COLUMNS, "date ASC")
    assert len(sms) == len(phone.state.sms)
    assert {r["body"] for r in sms} == {m.body for m in phone.state.sms}  # bodies contain ", "
    calls = ex.run_query(driver, ex.CALLS_URI, ex.CALL_COLUMNS)
    assert [r["number"] for r in calls] == [c.number for c in phone.state.calls]


def test_unknown_uri_on_the_simulated_phone_is_refused(phone):
    with pytest.raises(ex.ProviderRefused, match="Error while accessing provider"):
        ex.run_query(ShellDriver(phone), ex.CONTACTS_DATA_URI, ex.DATA_COLUMNS)


# ---------------------------------------------------------------------- vCard
def test_vcard_30_structure_escaping_and_crlf():
    card = ex.vcard(ex.Contact(name="Li, A; \\x", given="A", family="Li", phones=[("+86 138", "CELL")],
                               emails=[("li@example.com", "WORK")], note="line1\nline2", org="Acme; Inc"))
    lines = card.split("\r\n")
    assert lines[:4] == ["BEGIN:VCARD", "VERSION:3.0", "FN:Li\\, A\\; \\\\x", "N:Li;A;;;"]
    assert "TEL;TYPE=CELL:+86 138" in lines
    assert "EMAIL;TYPE=INTERNET,WORK:li@example.com" in lines
    assert "NOTE:line1\\nline2" in lines
    assert "ORG:Acme\\; Inc" in lines
    assert card.endswith("END:VCARD\r\n") and "\n" not in card.replace("\r\n", "")


def test_long_lines_fold_at_75_octets_without_splitting_utf8():
    card = ex.vcard(ex.Contact(name="张" * 60))
    fn_lines = card.split("\r\n")[2:5]
    assert all(len(line.encode()) <= 75 for line in card.split("\r\n"))
    assert fn_lines[1].startswith(" ")
    unfolded = card.replace("\r\n ", "")
    assert "FN:" + "张" * 60 + "\r\n" in unfolded


def test_name_only_contact_has_fn_and_n():
    lines = ex.vcard(ex.Contact(name="Ben D.")).split("\r\n")
    assert "FN:Ben D." in lines and "N:Ben D.;;;;" in lines


def test_contacts_from_the_data_table_group_by_contact():
    item = "vnd.android.cursor.item/"
    rows = [
        {"contact_id": "1", "mimetype": item + "name", "display_name": "Li A", "data1": "Li A", "data2": "A", "data3": "Li"},
        {"contact_id": "1", "mimetype": item + "phone_v2", "display_name": "Li A", "data1": "+861", "data2": "2"},
        {"contact_id": "1", "mimetype": item + "email_v2", "display_name": "Li A", "data1": "a@b.c", "data2": "1"},
        {"contact_id": "2", "mimetype": item + "phone_v2", "display_name": "Bo", "data1": "+862", "data2": "3"},
        {"contact_id": "2", "mimetype": item + "postal-address_v2", "display_name": "Bo", "data1": "1 Road, Town", "data2": "1"},
    ]
    li, bo = ex.contacts_from_data(rows)
    assert (li.given, li.family, li.phones, li.emails) == ("A", "Li", [("+861", "CELL")], [("a@b.c", "HOME")])
    assert bo.phones == [("+862", "WORK")]
    assert bo.addresses == [(("", "", "1 Road, Town", "", "", "", ""), "HOME")]


def test_contacts_from_phone_rows_keep_people_without_numbers():
    people = [{"_id": "1", "display_name": "Li"}, {"_id": "2", "display_name": "No Number"}]
    phones = [{"contact_id": "1", "data1": "+861", "data2": "2", "display_name": "Li"},
              {"contact_id": "1", "data1": "+862", "data2": "1", "display_name": "Li"}]
    li, nobody = ex.contacts_from_phones(people, phones)
    assert li.phones == [("+861", "CELL"), ("+862", "HOME")]
    assert nobody.name == "No Number" and nobody.phones == []


# ---------------------------------------------------------------------- call log, SMS, apps
def test_call_and_sms_records_are_typed():
    row = {"_id": "3", "number": "+86", "date": "1760000000000", "duration": "42", "type": "3", "name": None}
    call = ex.call_records([row])[0]
    assert (call["id"], call["duration_s"], call["type"], call["date_ms"]) == (3, 42, "missed", 1760000000000)
    assert call["date"].startswith("2025-10-")
    sms = ex.sms_records([{"_id": "1", "thread_id": "2", "address": "+86", "date": "1", "date_sent": "0", "read": "1",
                           "type": "2", "body": "hi"}])[0]
    assert (sms["type"], sms["read"], sms["thread_id"]) == ("sent", True, 2)


def test_package_lines_with_equals_in_the_apk_path():
    out = "package:/data/app/~~Ab==/com.whatsapp-1/base.apk=com.whatsapp\npackage:/system/app/Foo/Foo.apk=com.foo\n"
    assert ex.parse_packages(out) == {"com.whatsapp": "/data/app/~~Ab==/com.whatsapp-1/base.apk",
                                      "com.foo": "/system/app/Foo/Foo.apk"}
    apps = ex.app_records(out, "package:com.whatsapp\n")
    assert apps == [{"package": "com.foo", "apk": "/system/app/Foo/Foo.apk", "third_party": False},
                    {"package": "com.whatsapp", "apk": "/data/app/~~Ab==/com.whatsapp-1/base.apk", "third_party": True}]


# ---------------------------------------------------------------------- the export stage
def test_export_stage_writes_every_export(tmp_path, phone):
    state = BackupState.create(tmp_path, {"hardware_serial": "abc"})
    note = export_all(ShellDriver(phone), tmp_path)
    state = BackupState.load(tmp_path)
    assert state.stage("exports") == "done"
    exported = state.data["exports"]
    assert set(exported) == {"contacts", "call_log", "sms", "apps"}
    vcf = (tmp_path / "exports" / "contacts.vcf").read_text(encoding="utf-8")
    assert vcf.count("BEGIN:VCARD") == len(phone.state.contacts) == exported["contacts"]["count"]
    assert phone.state.contacts[0].number in vcf
    sms = json.loads((tmp_path / "exports" / "sms.json").read_text(encoding="utf-8"))
    assert sms["count"] == len(phone.state.sms) and sms["records"][0]["body"] == phone.state.sms[0].body
    apps = json.loads((tmp_path / "exports" / "apps.json").read_text(encoding="utf-8"))
    assert {a["package"] for a in apps["records"] if a["third_party"]} == {p.name for p in phone.state.packages if not p.system}
    assert note == "exported 12 contacts, 15 calls, 20 SMS, 18 apps"


def test_a_refused_provider_is_a_warning_and_a_manifest_note_not_a_failure(tmp_path, phone):
    BackupState.create(tmp_path, {"hardware_serial": "abc"})
    logged: list[tuple[str, str]] = []
    note = export_all(ShellDriver(phone, refuse=(ex.SMS_URI,)), tmp_path, lambda level, message: logged.append((level, message)))
    state = BackupState.load(tmp_path)
    assert state.data["exports"]["sms"] == {"local": None, "refused": "Error while accessing provider:sms", "source": ex.SMS_URI}
    assert not (tmp_path / "exports" / "sms.json").exists()
    assert any(level == "warning" and "sms not exported" in message for level, message in logged)
    assert any("sms not exported" in w for w in state.data["warnings"])
    assert note.endswith("; refused by the phone: SMS")
    assert state.stage("exports") == "done"
