"""Reading string tables: one written by the tests' minimal writer and one real table built by aapt2
(the uiautomator2 helper APK, installed with the uiautomator2 dependency)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import uiautomator2

from miui_automator.strings.arsc import ArscError, strings_from_arsc

from arsc_writer import build_arsc
from phones import ACCOUNT


def test_every_locale_folder_and_key_is_read():
    table = strings_from_arsc(build_arsc("com.xiaomi.account", ACCOUNT))
    assert table[""]["logout_account"] == "Sign out"
    assert table["de"] == {"logout_account": "Abmelden", "find_device": "Gerätesuche"}
    assert table["pt-rBR"]["logout_account"] == "Sair"
    assert table["in"]["logout_account"] == "Keluar"
    assert table["iw"]["logout_account"] == "התנתק"
    assert table["zh-rCN"]["logout_account"] == "退出登录"


@pytest.mark.parametrize("data", [b"", b"PK\x03\x04 not a table", b"\x02\x00\x0c\x00\xff\xff\xff\xff\x01\x00\x00\x00"])
def test_bytes_that_are_no_table_are_one_error(data):
    with pytest.raises(ArscError):
        strings_from_arsc(data)


def test_a_cut_off_table_is_one_error():
    data = build_arsc("com.xiaomi.account", ACCOUNT)
    with pytest.raises(ArscError):
        strings_from_arsc(data[: len(data) // 2])


def test_a_real_aapt2_table_resolves_per_locale():
    apk = Path(uiautomator2.__file__).parent / "assets" / "app-uiautomator.apk"
    if not apk.is_file():
        pytest.skip("uiautomator2 ships no helper APK in this version")
    with zipfile.ZipFile(apk) as z:
        table = strings_from_arsc(z.read("resources.arsc"))
    assert table[""]["abc_action_bar_up_description"] == "Navigate up"
    assert table["de"]["abc_action_bar_up_description"] == "Nach oben"
    assert {"pt-rBR", "in", "iw", "zh-rCN", "ru", "hi", "ja"} <= set(table)
