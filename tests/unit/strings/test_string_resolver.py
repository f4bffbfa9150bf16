"""Resolving resources on one phone: its locale with Android's fallbacks, unzip or pull, apps or keys
missing, and the on-disk cache shared by a fleet (one read per app version and locale)."""

from __future__ import annotations

import json
import os
import stat
from concurrent.futures import ThreadPoolExecutor

from miui_automator.errors import DeviceError
from miui_automator.strings.cache import StringCache
from miui_automator.strings.refs import TextRef
from miui_automator.strings.resolver import LIST_COMMAND, StringResolver, parse_package_list

from phones import ACCOUNT, CLOUD, ApkPhone

LOGOUT = TextRef("com.xiaomi.account", "logout_account")
FIND = TextRef("com.xiaomi.account", "find_device")
OK = TextRef("com.xiaomi.account", "ok")
KEEP = TextRef("com.miui.cloudservice", "micloud_wipe_data_retain")
REMOVE = TextRef("com.miui.cloudservice", "micloud_wipe_data_remove")
APPS = {"com.xiaomi.account": ACCOUNT, "com.miui.cloudservice": CLOUD}


def resolve(phone, tmp_path, refs=(LOGOUT, FIND, OK, KEEP, REMOVE)):
    return StringResolver(phone, StringCache(tmp_path / "cache")).resolve(refs)


def test_german_phone_reads_german_with_english_fallback(tmp_path):
    phone = ApkPhone(APPS, locale="de-DE")
    res = resolve(phone, tmp_path)
    assert res.locale == "de-DE"
    assert res.texts == {LOGOUT: "Abmelden", FIND: "Gerätesuche", OK: "OK", KEEP: "Keep", REMOVE: "Löschen"}
    assert res.missing == {}
    assert res.sources == {"com.xiaomi.account": "unzip", "com.miui.cloudservice": "unzip"}
    assert any(c.startswith("unzip -p /system/app/account/account.apk resources.arsc") for c in phone.commands)
    assert res.bytes_read == phone.bytes_sent > 0


def test_region_then_language_then_default(tmp_path):
    assert resolve(ApkPhone(APPS, locale="pt-BR"), tmp_path / "br").texts[LOGOUT] == "Sair"
    assert resolve(ApkPhone(APPS, locale="pt-PT"), tmp_path / "pt").texts[LOGOUT] == "Terminar sessão"
    assert resolve(ApkPhone(APPS, locale="fr-FR"), tmp_path / "fr").texts[LOGOUT] == "Sign out"


def test_legacy_language_codes(tmp_path):
    assert resolve(ApkPhone(APPS, locale="id-ID"), tmp_path / "id").texts[LOGOUT] == "Keluar"
    assert resolve(ApkPhone(APPS, locale="he-IL"), tmp_path / "he").texts[LOGOUT] == "התנתק"


def test_without_unzip_the_apk_is_pulled(tmp_path):
    phone = ApkPhone(APPS, locale="de-DE", unzip=False)
    res = resolve(phone, tmp_path)
    assert res.texts[LOGOUT] == "Abmelden"
    assert res.sources["com.xiaomi.account"] == "pull"
    assert "pull /system/app/account/account.apk" in phone.commands


def test_a_missing_app_or_key_is_named_with_the_locale(tmp_path):
    phone = ApkPhone({"com.xiaomi.account": ACCOUNT}, locale="pl-PL")
    gone = TextRef("com.xiaomi.account", "no_such_key")
    res = resolve(phone, tmp_path, (LOGOUT, gone, KEEP))
    assert res.texts == {LOGOUT: "Sign out"}
    assert res.why_missing(gone) == "com.xiaomi.account:string/no_such_key not found for pl-PL"
    assert res.why_missing(KEEP) == ("com.miui.cloudservice:string/micloud_wipe_data_retain not found: "
                                     "com.miui.cloudservice is not installed")


def test_an_unreadable_table_leaves_the_app_unresolved(tmp_path):
    class Garbled(ApkPhone):
        def shell_bytes(self, command, timeout_s=None):
            return b"\x02\x00\x0c\x00" + b"\xff" * 40

        def read_file(self, path, timeout_s=None):
            return b"PK\x05\x06" + b"\x00" * 18  # an empty zip: no resources.arsc

    res = resolve(Garbled(APPS), tmp_path, (LOGOUT,))
    assert LOGOUT not in res.texts
    assert "unreadable" in res.why_missing(LOGOUT)


def test_a_driver_that_cannot_read_bytes_resolves_nothing_and_says_why(tmp_path):
    class TextOnly:
        serial = "text-only"

        def shell(self, command, timeout_s=None):
            raise AssertionError(f"nothing to ask a phone whose files cannot be read: {command}")

    phone = TextOnly()
    res = resolve(phone, tmp_path, (LOGOUT,))
    assert res.locale == "" and res.texts == {}
    assert "cannot read the phone's files" in res.why_missing(LOGOUT)


def test_the_cache_serves_identical_phones_without_reading(tmp_path):
    first, second = ApkPhone(APPS, locale="de-DE"), ApkPhone(APPS, locale="de-DE")
    resolve(first, tmp_path)
    res = resolve(second, tmp_path)
    assert res.texts[LOGOUT] == "Abmelden" and res.cache_hits == 2
    assert second.table_reads == 0 and second.bytes_sent == 0 and res.bytes_read == 0
    assert set(res.sources.values()) == {"cache"}


def test_the_cache_key_is_package_version_and_locale(tmp_path):
    resolve(ApkPhone(APPS, locale="de-DE"), tmp_path)
    other_locale = ApkPhone(APPS, locale="ru-RU")
    resolve(other_locale, tmp_path)
    assert other_locale.table_reads == 2
    updated = ApkPhone(APPS, locale="de-DE", versions={"com.xiaomi.account": "1500"})
    resolve(updated, tmp_path)
    assert updated.table_reads == 1  # only the updated app is read again
    files = sorted(p.relative_to(tmp_path / "cache").as_posix() for p in (tmp_path / "cache").rglob("*.json"))
    assert files == ["com.miui.cloudservice/1400/de-DE.json", "com.miui.cloudservice/1400/ru-RU.json",
                     "com.xiaomi.account/1400/de-DE.json", "com.xiaomi.account/1400/ru-RU.json",
                     "com.xiaomi.account/1500/de-DE.json"]


def test_cache_files_are_private_and_a_corrupt_one_is_read_again(tmp_path):
    resolve(ApkPhone(APPS, locale="de-DE"), tmp_path)
    path = tmp_path / "cache" / "com.xiaomi.account" / "1400" / "de-DE.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text(encoding="utf-8"))["strings"]["logout_account"] == "Abmelden"
    path.write_text("{not json", encoding="utf-8")
    again = ApkPhone(APPS, locale="de-DE")
    assert resolve(again, tmp_path).texts[LOGOUT] == "Abmelden"
    assert again.table_reads == 1
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_parallel_fleet_reads_each_apk_once(tmp_path):
    phones = [ApkPhone(APPS, locale="de-DE") for _ in range(12)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(lambda phone: resolve(phone, tmp_path), phones))
    assert all(r.texts[LOGOUT] == "Abmelden" and r.texts[REMOVE] == "Löschen" for r in results)
    assert sum(p.table_reads for p in phones) == 2  # one read per app for the whole fleet
    assert os.listdir(tmp_path / "cache" / "com.xiaomi.account" / "1400").count("de-DE.json") == 1


def test_an_apk_the_phone_cannot_send_leaves_its_app_unresolved(tmp_path):
    class Unreadable(ApkPhone):
        def read_file(self, path, timeout_s=None):
            raise DeviceError(f"{self.serial}: pulling a file: AdbError: open failed: No such file or directory",
                              serial=self.serial)

    res = resolve(Unreadable(APPS, unzip=False), tmp_path, (LOGOUT,))
    assert res.texts == {} and "APK could not be read" in res.why_missing(LOGOUT)
    assert not list((tmp_path / "cache").rglob("*.json")), "nothing is cached for an app that was not read"


def test_an_apps_whole_table_in_the_phones_locale_for_finding_keys(tmp_path):
    resolver = StringResolver(ApkPhone(APPS), StringCache(tmp_path / "cache"))
    table = resolver.table("com.xiaomi.account", "de-DE")
    assert table == {"logout_account": "Abmelden", "find_device": "Gerätesuche", "ok": "OK"}
    assert resolver.table("com.example.absent", "de-DE") is None


def test_a_phone_that_stops_answering_leaves_the_rest_unresolved_without_raising(tmp_path):
    class Gone(ApkPhone):
        def shell_bytes(self, command, timeout_s=None):
            if "XiaomiAccount" in command or "account" in command:
                raise DeviceError(f"{self.serial}: shell unzip: device offline", serial=self.serial)
            return super().shell_bytes(command, timeout_s)

    res = resolve(Gone(APPS), tmp_path)
    assert res.texts == {KEEP: "Keep", REMOVE: "Löschen"}
    assert "device offline" in res.why_missing(LOGOUT)


def test_one_shell_round_trip_names_every_apps_apk_and_version(tmp_path):
    phone = ApkPhone(APPS)
    resolve(phone, tmp_path)
    assert not [c for c in phone.commands if c.startswith(("pm path", "dumpsys package"))]
    assert phone.commands.count(LIST_COMMAND) == 1


def test_a_phone_without_show_versioncode_is_asked_per_app(tmp_path):
    phone = ApkPhone(APPS, lists_versions=False)
    res = resolve(phone, tmp_path)
    assert res.texts[LOGOUT] == "Abmelden"
    assert any(c.startswith("pm path") for c in phone.commands)
    assert any(c.startswith("dumpsys package") for c in phone.commands)


def test_the_package_list_is_parsed_as_untrusted_text():
    listed = parse_package_list(
        "package:/data/app/~~kYJ3xz_Aq0sWd7hmRA8D1g==/com.xiaomi.account-Y3lSXg==/base.apk=com.xiaomi.account "
        "versionCode:540\n"
        "package:/system/priv-app/Settings/Settings.apk=com.android.settings versionCode:33\n"
        "package:/system/app/Old/Old.apk=com.old.app\n"
        "package:/data/app/x;reboot/base.apk=com.evil versionCode:1\n"
        "garbage line\n"
        "package:relative.apk=com.relative versionCode:2\n")
    assert listed == {
        "com.xiaomi.account": ("/data/app/~~kYJ3xz_Aq0sWd7hmRA8D1g==/com.xiaomi.account-Y3lSXg==/base.apk", "540"),
        "com.android.settings": ("/system/priv-app/Settings/Settings.apk", "33"),
        "com.old.app": ("/system/app/Old/Old.apk", None),
    }
