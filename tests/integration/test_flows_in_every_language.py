"""Every built-in flow, unchanged, on simulated phones in the languages Xiaomi phones speak.

The phones show the real ROM texts of ``../shared/miui-strings/locales`` (German, Russian, Spanish,
Portuguese, Indonesian under Android's legacy ``values-in``, Hindi, Japanese, Chinese), English where
a translation lacks a key, or Android's pseudo-locale ``en-XA`` where every text is accented and
lengthened: a text the tool did not resolve from the phone's own APKs would not match anything.
A language made up here, which no file of the project knows, proves nothing is memorised.

Each language is a test of its own, so the test runner spreads them over its workers (one test of
all ten ran for over two minutes, near its time limit on a loaded machine). The phones of the variant
test work side by side, one thread each, through the same CLI entry point a user runs (as ``fleet run``
drives many phones from one process).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
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


def _run(flow: str, serial: str, out: Path, *extra: str) -> str | None:
    """None when ``flow`` passed on the phone, else why not (its failed steps, from its record)."""
    folder = out / flow
    code = main(["run", flow, "-s", serial, "--out", str(folder), *extra])
    if code == 0:
        return None
    runs = sorted(folder.iterdir()) if folder.is_dir() else []
    why = ""
    if runs and (runs[-1] / "events.jsonl").exists():
        events = [json.loads(line) for line in (runs[-1] / "events.jsonl").read_text(encoding="utf-8").splitlines()]
        why = "; ".join(str(e.get("error") or e.get("message")) for e in events
                        if e["type"] in ("step_failed", "run_end") or e.get("level") in ("warning", "error"))
    return f"{flow} exited {code}: {why}"


def _side_by_side(jobs: dict[str, callable]) -> None:
    """Run each job in its own thread; fail naming every job that did not pass."""
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        results = {name: pool.submit(job) for name, job in jobs.items()}
    failed = {name: result.result() for name, result in results.items() if result.result()}
    assert not failed, "\n".join(f"{name}: {why}" for name, why in failed.items())


def _phone(make_phone, variant: str, locale: str, strings: list[Path], **kw):
    return make_phone(variant, locale=locale, strings=strings, password=PASSWORD, **SMALL, **kw)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_built_in_flow_in_ten_languages(make_phone, sim_host, env, locale):
    """One test per language, so the test runner spreads the ten over its workers."""
    variant = LOCALES[locale]
    strings = [shared_locales()]
    owner, deleted, lab = (_phone(make_phone, variant, locale, strings),
                           _phone(make_phone, variant, locale, strings),
                           _phone(make_phone, variant, locale, strings, keep_adb_after_reset=True))
    out = env / locale
    steps = [
        ("backup", owner.serial),
        ("request-account-deletion", owner.serial, "--yes", "--confirm-account", ACCOUNT),
        ("cancel-account-deletion", owner.serial, "--param", f"account={ACCOUNT}"),
        ("remove-mi-account", owner.serial, "--yes"),
        ("verify-account-removed", owner.serial),
        ("factory-reset", owner.serial, "--yes"),  # a retail phone: it leaves ADB once the erase starts
        ("request-account-deletion", deleted.serial, "--yes", "--no-backup-gate", "--confirm-account", ACCOUNT),
        None,  # the 30-day waiting period passes
        ("verify-account-deleted", deleted.serial, "--param", f"account={ACCOUNT}"),
        ("reset-test-device", lab.serial, "--yes", "--param", "keeps_adb=true"),
    ]
    for step in steps:
        if step is None:
            sim_host.call(lambda: deleted.phone.advance_time(days=30))
            continue
        flow, serial, *extra = step
        why = _run(flow, serial, out / serial.replace(":", "_"), *extra)
        assert why is None, f"{locale}: {why}"
    erased = sim_host.call(lambda: (owner.phone.state.factory_resets, lab.phone.state.has_xiaomi_account()))
    assert erased == (1, False), f"{locale}: the flows passed but the phones were not erased and signed out"


def test_backup_and_sign_out_on_every_variant_in_german_and_the_pseudo_locale(make_phone, sim_host, env):
    strings = [shared_locales()]
    phones = {f"{variant} {locale}": _phone(make_phone, variant, locale, strings)
              for variant in VARIANTS for locale in ("de-DE", "en-XA")}

    def pair(name: str):
        def job() -> str | None:
            phone = phones[name]
            out = env / name.replace(" ", "-")
            why = _run("backup", phone.serial, out) or _run("remove-mi-account", phone.serial, out, "--yes")
            if why is None and sim_host.call(lambda: phone.phone.state.has_xiaomi_account()):
                why = "remove-mi-account passed but the account is still on the phone"
            return why
        return job

    _side_by_side({name: pair(name) for name in phones})


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
    assert _run("remove-mi-account", phone.serial, env, "--yes", "--no-backup-gate") is None
    assert sim_host.call(lambda: phone.phone.state.has_xiaomi_account()) is False
    (record,) = (env / "remove-mi-account").glob("*/events.jsonl")
    assert "string resources for locale xx-XX" in record.read_text(encoding="utf-8")
