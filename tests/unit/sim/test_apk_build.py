"""The simulated apps' APKs are real: standard APK tools (androguard, which the tool side uses,
and apkutils, adbutils' own parser) read their manifest and every string in every locale."""

from __future__ import annotations

import io
import struct
import zipfile
import pytest
from lxml import etree

from miui_automator.sim.apk_build import build_apk
from miui_automator.sim.labels import APPS
from miui_automator.sim.phone import Phone
from miui_automator.sim.strings import Locale, decode
from shared_strings import shared_locales

androguard_apk = pytest.importorskip("androguard.core.apk", reason="androguard is in the test extras")
apkutils = pytest.importorskip("apkutils")

CONFIGS = {
    "": {"app_name": "Xiaomi Account", "logout_account": "Sign out", "quote": "Can't \"stop\"", "only_default": "Help"},
    "de": {"app_name": "Xiaomi-Konto", "logout_account": "Abmelden", "quote": "Geht \"nicht\""},
    "pt-rBR": {"logout_account": "Sair"},
    "in": {"logout_account": "Keluar"},
    "zh-rCN": {"logout_account": "退出登录"},
}


@pytest.fixture(autouse=True)
def _quiet_androguard():
    from loguru import logger

    logger.remove()


def androguard_strings(data: bytes, package: str, key: str) -> dict[str, str]:
    """locale ("" for default, "de", "pt-rBR") → value, as androguard resolves it."""
    apk = androguard_apk.APK(data, raw=True)
    arsc = apk.get_android_resources()
    rid = arsc.get_res_id_by_key(package, "string", key)
    out = {}
    for config, value in arsc.get_resolved_res_configs(rid):
        lang, region = config.get_language(), config.get_country()
        lang = "" if lang == "\x00\x00" else lang
        region = "" if region == "\x00\x00" else region
        out[f"{lang}-r{region}" if region else lang] = value
    return out


def test_manifest_reads_back_with_androguard_and_apkutils():
    data = build_apk("com.xiaomi.account", 35123456, "OS2.0.6.0-abc", CONFIGS)
    apk = androguard_apk.APK(data, raw=True)
    assert apk.get_package() == "com.xiaomi.account"
    assert apk.get_androidversion_code() == "35123456" and apk.get_androidversion_name() == "OS2.0.6.0-abc"
    assert apk.get_app_name() == "Xiaomi Account"  # android:label="@string/app_name", resolved
    with apkutils.APK.from_bytes(data) as other:
        assert other.get_package_name() == "com.xiaomi.account"
        assert 'android:versionCode="35123456"' in other.get_manifest()


def test_every_locale_reads_back_with_androguard():
    data = build_apk("com.xiaomi.account", 1, "1", CONFIGS)
    assert androguard_strings(data, "com.xiaomi.account", "logout_account") == {
        "": "Sign out", "de": "Abmelden", "pt-rBR": "Sair", "in": "Keluar", "zh-rCN": "退出登录"}
    assert androguard_strings(data, "com.xiaomi.account", "quote") == {"": "Can't \"stop\"", "de": "Geht \"nicht\""}
    assert androguard_strings(data, "com.xiaomi.account", "only_default") == {"": "Help"}


def apkutils_strings(data: bytes, package: str, locale: str) -> dict[str, str]:
    """key → value of one locale ("\x00\x00" for default), as apkutils exports it."""
    with apkutils.APK.from_bytes(data) as apk:
        xml = apk.get_arsc().get_string_resources(package, locale)
    return {el.get("name"): el.text or "" for el in etree.fromstring(xml).iter("string")}


def test_every_locale_reads_back_with_apkutils():
    data = build_apk("com.xiaomi.account", 1, "1", CONFIGS)
    with apkutils.APK.from_bytes(data) as apk:
        assert set(apk.get_arsc().get_locales("com.xiaomi.account")) >= {"de", "pt-rBR", "in", "zh-rCN"}
    values = {q: apkutils_strings(data, "com.xiaomi.account", q)["logout_account"] for q in ("de", "pt-rBR", "in", "zh-rCN")}
    assert values == {"de": "Abmelden", "pt-rBR": "Sair", "in": "Keluar", "zh-rCN": "退出登录"}
    assert apkutils_strings(data, "com.xiaomi.account", "\x00\x00")["quote"] == "Can't \"stop\""


def test_resources_arsc_is_stored_and_aligned():
    """Android 11+ refuses an APK whose resources.arsc is compressed or not 4-byte aligned."""
    data = build_apk("com.example", 1, "1", CONFIGS)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo("resources.arsc")
        assert info.compress_type == zipfile.ZIP_STORED
        name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
        assert (info.header_offset + 30 + name_len + extra_len) % 4 == 0
        assert z.testzip() is None


def test_three_letter_languages_and_numeric_regions_pack_like_android():
    data = build_apk("com.example", 1, "1", {"": {"a": "A"}, "fil": {"a": "Fil"}, "es-r419": {"a": "Lat"}})
    assert set(androguard_strings(data, "com.example", "a").values()) == {"A", "Fil", "Lat"}
    from miui_automator.sim.apk_build import _pack

    assert _pack("fil", "a") == bytes([0x05, 0xAD]) and _pack("419", "0") == bytes([0x24, 0xA4])


def test_long_strings_use_two_byte_lengths():
    long = "x" * 300 + "é" * 200
    data = build_apk("com.example", 1, "1", {"": {"long": long}})
    assert androguard_strings(data, "com.example", "long") == {"": long}


@pytest.fixture(scope="module")
def shared():
    return shared_locales()


@pytest.fixture(scope="module")
def german_phone(shared):
    return Phone(locale="de-DE", strings=[shared], media_files=0)


def test_installed_apk_holds_the_shared_german_text(german_phone, shared):
    package, path = APPS["XiaomiAccount"]
    data = german_phone.state.fs.read(path)
    shared = etree.parse(str(shared / "XiaomiAccount.apk" / "res" / "values-de" / "strings.xml"))
    expected = decode("".join(shared.find(".//string[@name='logout_account']").itertext()))
    parsed = androguard_strings(data, package, "logout_account")
    assert parsed["de"] == expected == german_phone.text("sign_out")
    assert parsed["en-rXA"] == "[Šîĝñ öûţ one two]"  # aapt2 with pseudo-locales on compiles en-XA too
    assert apkutils_strings(data, package, "de")["logout_account"] == expected


def test_version_code_changes_with_the_string_tables(german_phone):
    plain = Phone(media_files=0)
    versions = {p.name: p.version_code for p in plain.state.packages}
    assert all(versions[pkg] != p.version_code for p in german_phone.state.packages for pkg, _ in APPS.values() if p.name == pkg)
    assert Locale.parse(german_phone.state.props["persist.sys.locale"]).tag == "de-DE"


def test_phones_share_one_copy_of_each_apk():
    _, path = APPS["Settings"]
    one, two = Phone(media_files=0), Phone(seed=2, media_files=0)
    assert one.state.fs.read(path) is two.state.fs.read(path)
    one.state.fs.lookup(path).content().extend(b"changed")  # what the "changing" fault does to a file
    assert one.state.fs.read(path).endswith(b"changed") and not two.state.fs.read(path).endswith(b"changed")
    assert one.state.fs.lookup(path).size == two.state.fs.lookup(path).size + len(b"changed")
