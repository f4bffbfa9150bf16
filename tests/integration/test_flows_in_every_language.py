"""Every built-in flow, unchanged, on simulated phones in the languages Xiaomi phones speak.

The phones show the real ROM texts of ``../shared/miui-strings/locales`` (German, Russian, Spanish,
Portuguese, Indonesian under Android's legacy ``values-in``, Hindi, Japanese, Chinese), English where
a translation lacks a key, or Android's pseudo-locale ``en-XA`` where every text is accented and
lengthened: a text the tool did not resolve from the phone's own APKs would not match anything.
A language made up here, which no file of the project knows, proves nothing is memorised.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from miui_automator.cli.main import main
from shared_strings import shared_locales

pytestmark = pytest.mark.integration

VARIANTS = ["miui12.5-en", "miui14-en", "hyperos1-en", "hyperos2-zh"]
PASSWORD = "Corr3ct-Horse"
ACCOUNT = "1234567890"
# Each language on one OS variant, round the four.
LOCALES = {"en-US": "miui14-en", "zh-CN": "hyperos2-zh", "de-DE": "hyperos1-en", "ru-RU": "miui12.5-en",
           "es-ES": "miui14-en", "pt-BR": "hyperos1-en", "id-ID": "hyperos2-zh", "hi-IN": "miui12.5-en",
           "ja-JP": "miui14-en", "en-XA": "hyperos1-en"}
SMALL = {"media_files": 3, "media_bytes": 64 * 1024}


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MIUI_ACCOUNT_PASSWORD", PASSWORD)
    monkeypatch.setenv("MIUI_AUTOMATOR_LEDGER", str(tmp_path / "ledger.sqlite3"))
    monkeypatch.setenv("MIUI_AUTOMATOR_BACKUPS", str(tmp_path / "backups"))
    return tmp_path


def _run(flow: str, serial: str, out: Path, *extra: str) -> None:
    code = main(["run", flow, "-s", serial, "--out", str(out / flow), *extra])
    runs = sorted((out / flow).iterdir()) if (out / flow).is_dir() else []
    why = ""
    if code and runs:
        events = [json.loads(line) for line in (runs[-1] / "events.jsonl").read_text(encoding="utf-8").splitlines()]
        why = "; ".join(str(e.get("error") or e.get("message")) for e in events
                        if e["type"] in ("step_failed", "run_end") or e.get("level") in ("warning", "error"))
    assert code == 0, f"{flow} exited {code}: {why}"


def _phone(make_phone, variant: str, locale: str, strings: list[Path], **kw):
    return make_phone(variant, locale=locale, strings=strings, password=PASSWORD, **SMALL, **kw)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_built_in_flow_in(locale, make_phone, sim_host, env):
    strings = [shared_locales()]
    variant = LOCALES[locale]
    phone = _phone(make_phone, variant, locale, strings)
    _run("backup", phone.serial, env)
    _run("request-account-deletion", phone.serial, env, "--yes", "--confirm-account", ACCOUNT)
    _run("cancel-account-deletion", phone.serial, env, "--param", f"account={ACCOUNT}")
    _run("remove-mi-account", phone.serial, env, "--yes")
    _run("verify-account-removed", phone.serial, env)
    _run("factory-reset", phone.serial, env, "--yes")  # a retail phone: it leaves ADB once the erase starts
    assert sim_host.call(lambda: phone.phone.state.factory_resets) == 1

    deleted = _phone(make_phone, variant, locale, strings)
    _run("request-account-deletion", deleted.serial, env, "--yes", "--no-backup-gate", "--confirm-account", ACCOUNT)
    sim_host.call(lambda: deleted.phone.advance_time(days=30))
    _run("verify-account-deleted", deleted.serial, env, "--param", f"account={ACCOUNT}")

    lab = _phone(make_phone, variant, locale, strings, keep_adb_after_reset=True)
    _run("reset-test-device", lab.serial, env, "--yes", "--param", "keeps_adb=true")
    assert sim_host.call(lambda: lab.phone.state.has_xiaomi_account()) is False


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("locale", ["de-DE", "en-XA"])
def test_backup_and_sign_out_on_every_variant(variant, locale, make_phone, sim_host, env):
    phone = _phone(make_phone, variant, locale, [shared_locales()])
    _run("backup", phone.serial, env)
    _run("remove-mi-account", phone.serial, env, "--yes")
    assert sim_host.call(lambda: phone.phone.state.has_xiaomi_account()) is False


def test_sign_out_in_a_language_no_file_of_the_project_knows(make_phone, sim_host, env, tmp_path):
    """Language "xx": every label of the sign-out written by this test, in words nobody ships."""
    made_up = {
        "XiaomiAccount": {"logout_account": "Ausloggo", "passport_logout_account": "Ausloggo",
                          "passport_remove_confirm": "Ausloggo ja", "passport_quick_login_title": "Kodo entra",
                          "passport_input_password_hint": "Kodo", "removing_account": "Ausloggando…", "ok": "Bono",
                          "find_device": "Trovo", "cloud_service": "Nubo", "app_name": "Kontigo"},
        "CloudService": {"micloud_wipe_data_retain": "Tenigo", "micloud_wipe_data_remove": "Forigo",
                         "micloud_wipe_data_confirm_label": "Forigi la sinkronigitajn?"},
        "Settings": {"xiaomi_account": "Kontigo", "unlogin_account_title": "Ensalutu Kontigon"},
    }
    root = tmp_path / "xx-strings"
    for app, strings in made_up.items():
        folder = root / f"{app}.apk" / "res" / "values-xx"
        folder.mkdir(parents=True)
        body = "".join(f'  <string name="{k}">{v}</string>\n' for k, v in strings.items())
        (folder / "strings.xml").write_text(f'<?xml version="1.0" encoding="utf-8"?>\n<resources>\n{body}</resources>\n',
                                            encoding="utf-8")
    phone = _phone(make_phone, "hyperos1-en", "xx-XX", [root])
    _run("remove-mi-account", phone.serial, env, "--yes", "--no-backup-gate")
    assert sim_host.call(lambda: phone.phone.state.has_xiaomi_account()) is False
