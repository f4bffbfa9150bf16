"""A simulated phone speaks its locale: labels from the string tables (real ROM texts where the
shared folder has them, English where a translation lacks a key), legacy codes, the pseudo-locale,
a language made up here, and the properties/settings that report the language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from miui_automator.sim.phone import Phone
from miui_automator.sim.shell import Shell
from miui_automator.sim.ui import find_all
from miui_automator.sim.variants import VARIANTS
from shared_strings import shared_locales


# Data, not labels: the clock, account id, sizes, versions, model names, the account avatar letter.
DATA = re.compile(r"[\d:./ ]+( GB)?( / [\d.]+ GB)?|\d+\*+\d+|OS[\d.]+\w*|V[\d.]+\w*|\d+|[A-Za-z]|Xiaomi 13T Pro|Google")


def texts(phone: Phone) -> set[str]:
    return {n.text for n in find_all(phone.windows()) if n.text}


def open_account(phone: Phone) -> None:
    ok, message = phone.start_activity(action="android.settings.XIAOMI_ACCOUNT_SYNC_SETTINGS")
    assert ok, message


def open_settings(phone: Phone) -> None:
    ok, message = phone.start_activity(action="android.settings.SETTINGS")
    assert ok, message


@pytest.fixture(scope="module")
def shared() -> Path:
    return shared_locales()


def test_german_phone_shows_rom_texts_and_english_where_german_lacks_a_key(shared):
    phone = Phone(locale="de-DE", strings=[shared], media_files=0)
    open_account(phone)
    assert {"Abmelden", "Gerätesuche", "Xiaomi-Konto"} <= texts(phone)
    phone.go_home()
    open_settings(phone)
    shown = texts(phone)
    # about_settings has no German text in the shared folder: Android shows the default (English)
    assert "About phone" in shown and "Benachrichtigungen & Kontrollzentrum" in shown
    assert phone.text("account_entry") == "Xiaomi-Konto"  # the entry at the bottom of the list


def test_indonesian_phone_reads_values_in(shared):
    phone = Phone(locale="id-ID", strings=[shared], media_files=0)
    assert phone.state.props["persist.sys.locale"] == "id-ID"
    assert (shared / "XiaomiAccount.apk" / "res" / "values-in").is_dir()
    open_account(phone)
    assert phone.text("sign_out") in texts(phone) and phone.text("sign_out") != "Sign out"


def test_portuguese_brazil_reads_the_region_folder(shared):
    phone = Phone(locale="pt-BR", strings=[shared], media_files=0)
    assert phone.text("backup_title") != Phone(media_files=0).text("backup_title")


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_pseudo_locale_accents_every_label(variant):
    phone = Phone(variant, locale="en-XA", media_files=0)
    open_account(phone)
    shown = [t for t in texts(phone) if not DATA.fullmatch(t)]
    assert "[Šîĝñ öûţ one two]" in shown
    assert all(t.startswith("[") and t.endswith("]") for t in shown), shown


def every_window(phone: Phone) -> list[tuple[str, str]]:
    """(where, text) of every screen and dialog the simulator can show, opened in the model."""
    from miui_automator.sim.screens import account, backup, cloud, settings, system

    screens = [settings.SettingsHome, settings.AboutPhone, settings.BackupAndRestore, settings.AdditionalSettings,
               settings.DeveloperOptions, settings.FactoryReset, account.AccountPage, account.SignInPage,
               backup.LocalBackupHome, backup.BackupSelect, lambda p: backup.BackupProgress(p, backup.ITEMS["sysdata"]),
               cloud.CloudMain, cloud.WipeDataConfirm, system.HomeScreen, system.SetupWizard]
    dialogs = {settings.FactoryReset: [settings.ResetPasswordDialog, settings.ErasingDialog, settings.ResetConfirmDialog],
               account.AccountPage: [account.ConfirmSignOut, account.PasswordDialog, account.FindDeviceFailed,
                                     account.SigningOut, system.CloudPromoPopup, system.UpdatePopup]}
    seen = []
    for factory in screens:
        screen = factory(phone)
        phone.push(screen)
        seen += [(screen.name, t) for t in texts(phone)]
        for dialog in dialogs.get(type(screen), []):
            screen.dialog = dialog(screen)
            seen += [(dialog.__name__, t) for t in texts(phone)]
        screen.dialog = None
        if isinstance(screen, backup.BackupProgress):
            screen.dialog = backup.AbortBackup(screen)
            seen += [("AbortBackup", t) for t in texts(phone)]
            screen.done, screen.dialog = True, None
            seen += [("backup_done", t) for t in texts(phone)]
        phone.pop()
    phone.sleep()
    phone.wake()
    return seen + [("keyguard", t) for t in texts(phone)]


def test_pseudo_locale_reaches_every_screen_and_dialog():
    """A literal a screen forgot to take from the string tables shows up unaccented here."""
    seen = every_window(Phone(locale="en-XA", media_files=0))
    assert len({where for where, _ in seen}) >= 20
    # The backup item summaries list other apps' names (WhatsApp, Telegram, ...): data of the model.
    assert not {(where, t) for where, t in seen if not t.startswith("[") and not DATA.fullmatch(t)
                and not (where == "backup_select" and ", " in t)}


def test_a_language_made_up_here(tmp_path):
    res = tmp_path / "XiaomiAccount.apk" / "res" / "values-xx"
    res.mkdir(parents=True)
    (res / "strings.xml").write_text('<resources><string name="logout_account">Zorp out</string>'
                                     '<string name="app_name">Zorp\\\'s account</string></resources>')
    phone = Phone(locale="xx-XX", strings=[tmp_path], media_files=0)
    open_account(phone)
    assert {"Zorp out", "Zorp's account"} <= texts(phone)
    assert "Find device" in texts(phone)  # no xx text: the default
    assert Phone(media_files=0).text("sign_out") == "Sign out"  # other phones are untouched


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_built_in_locales_keep_todays_texts(variant):
    phone = Phone(variant, media_files=0)
    open_account(phone)
    expected = "退出登录" if variant.endswith("zh") else "Sign out"
    assert expected in texts(phone)
    assert phone.text("account_title") == phone.variant.account_label


def test_getprop_settings_and_screen_agree():
    phone = Phone(locale="ru-RU", media_files=0)
    sh = Shell(phone)
    assert sh.run("getprop persist.sys.locale").stdout == b"ru-RU\n"
    assert sh.run("settings get system system_locales").stdout == b"ru-RU\n"
    phone.factory_reset()
    assert phone.state.props["persist.sys.locale"] == "ru-RU"  # a reset keeps the ROM's language setting


def test_password_dialog_formats_its_placeholder():
    phone = Phone("miui14-en", media_files=0)
    assert phone.text("password_recent", 3).startswith("You've changed your password within last 3 days")
    assert "%" not in Phone(locale="en-XA", media_files=0).text("password_recent", 3)
