"""String resources through real adb: binary reads on the device layer, the locale in ``devices`` and
``inspect``, the resolution record of a run, and — once the simulator installs real APKs per locale —
flows passing in the phone's language, and a fleet reading each APK once.

The tests that need the localised simulator (``Phone(locale=...)`` with APKs at their real paths) are
skipped until it is there.
"""

from __future__ import annotations

import json

import pytest

from miui_automator.cli.main import main
from miui_automator.device.android import AndroidDevice
from miui_automator.device.driver import BinaryReader
from miui_automator.strings.apply import catalogue_refs
from miui_automator.strings.cache import StringCache
from miui_automator.strings.refs import TextRef
from miui_automator.strings.resolver import StringResolver
from miui_automator.screens.catalogue import default_catalogue

from shared_strings import shared_locales

pytestmark = pytest.mark.integration

LOGOUT = TextRef("com.xiaomi.account", "logout_account")


def test_binary_reads_are_byte_exact_both_ways(make_phone):
    dev = make_phone("miui14-en", media_files=3)
    phone = AndroidDevice(dev.serial)
    assert isinstance(phone, BinaryReader)
    listing = phone.shell("ls /sdcard/DCIM/Camera").output.split()
    path = f"/sdcard/DCIM/Camera/{listing[0]}"
    pulled = phone.read_file(path)
    streamed = phone.shell_bytes(f"cat {path}")
    assert len(pulled) > 1000 and streamed == pulled, "a shell stream must carry binary unchanged (no text decoding)"


def test_reading_a_file_that_is_not_there_is_one_device_error(make_phone):
    from miui_automator.errors import DeviceError

    phone = AndroidDevice(make_phone("miui14-en").serial)
    with pytest.raises(DeviceError, match=r"pulling a file: .*") as err:
        phone.read_file("/system/app/Nothing/Nothing.apk")
    assert "\n" not in str(err.value)


def test_inspect_prints_the_locale_and_every_resource(make_phone, tmp_path, capsys):
    dev = make_phone("miui14-en")
    assert main(["inspect", "-s", dev.serial, "--out", str(tmp_path), "--strings", "--flow", "remove-mi-account"]) == 0
    out = capsys.readouterr().out
    assert "\nlocale   en-US" in out or "\nlocale   en" in out
    assert "(catalogue + remove-mi-account)" in out
    assert "@com.xiaomi.account:string/logout_account" in out
    assert "@com.miui.cloudservice:string/micloud_wipe_data_retain" in out


def test_a_run_records_how_its_texts_were_resolved(make_phone, tmp_path):
    dev = make_phone("hyperos1-en")
    assert main(["run", "open-account-page", "-s", dev.serial, "--out", str(tmp_path)]) == 0
    (run_dir,) = list(tmp_path.iterdir())
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines()]
    notes = [e["message"] for e in events if e.get("type") == "log"]
    assert any(n.startswith("string resources for locale") for n in notes), notes[:3]


# ------------------------------------------------------------------ with the localised simulator
@pytest.mark.parametrize("locale, text", [("de-DE", "Abmelden"), ("pt-BR", None), ("id-ID", None)])
def test_resources_resolve_in_the_phones_language(make_phone, tmp_path, locale, text):
    dev = make_phone("hyperos1-en", locale=locale, strings=[shared_locales()])
    res = StringResolver(AndroidDevice(dev.serial), StringCache(tmp_path)).resolve(catalogue_refs(default_catalogue()))
    assert res.locale == locale
    assert res.sources["com.xiaomi.account"] in ("unzip", "pull")
    if text is not None:
        assert res.texts[LOGOUT] == text
    assert LOGOUT in res.texts


def test_identical_phones_read_each_apk_once(make_phone, tmp_path):
    cache = StringCache(tmp_path)
    refs = catalogue_refs(default_catalogue())
    first = StringResolver(AndroidDevice(make_phone("hyperos1-en", locale="de-DE", strings=[shared_locales()]).serial), cache).resolve(refs)
    second = StringResolver(AndroidDevice(make_phone("hyperos1-en", locale="de-DE", strings=[shared_locales()]).serial), cache).resolve(refs)
    assert first.bytes_read > 0 and first.tables_read > 0
    assert second.bytes_read == 0 and second.tables_read == 0 and set(second.sources.values()) == {"cache"}
    assert second.texts == first.texts


@pytest.mark.parametrize("locale", ["de-DE", "ru-RU", "en-XA"])
def test_sign_out_passes_in_the_phones_language(make_phone, sim_host, tmp_path, monkeypatch, locale):
    dev = make_phone("hyperos1-en", locale=locale, strings=[shared_locales()], password="Corr3ct-Horse")
    monkeypatch.setenv("MIUI_ACCOUNT_PASSWORD", "Corr3ct-Horse")
    assert main(["run", "remove-mi-account", "-s", dev.serial, "--yes", "--no-backup-gate",
                 "--out", str(tmp_path)]) == 0
    (run_dir,) = list(tmp_path.iterdir())
    assert f'id="locale">{locale}<' in (run_dir / "report.html").read_text(encoding="utf-8")
