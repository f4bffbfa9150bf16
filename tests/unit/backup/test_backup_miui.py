"""MIUI's local backup folder: descript.xml parsing and the whole-folder check."""

from __future__ import annotations

import pytest

from miui_automator.backup.miui import BAK_MAGIC, check_folder, parse_descript
from miui_automator.sim.screens.backup import bak_bytes, descript_xml

SETTINGS = bak_bytes("com.android.settings", "Settings", b"x" * 100)
HOME = bak_bytes("com.miui.home", "系统桌面", b"y" * 300)
ENTRIES = [("com.android.settings", "Settings(com.android.settings).bak", len(SETTINGS)),
           ("com.miui.home", "系统桌面(com.miui.home).bak", len(HOME))]


# descript.xml as a real MIUI 12.5.6 phone (cepheus) writes it: per item pkgSize/sdSize/state/error, no <size>.
REAL_DESCRIPT = (
    "<?xml version='1.0' encoding='utf-8' standalone='yes' ?><MIUI-backup><bakVersion>2</bakVersion>"
    "<device>cepheus</device><miuiVersion>V12.5.6.0.RFACNXM</miuiVersion><date>1650000000000</date>"
    "<size>4122640883</size><packages>"
    "<package><packageName>com.android.mms</packageName><bakFile>短信设置(com.android.mms).bak</bakFile>"
    "<bakType>1</bakType><pkgSize>7905280</pkgSize><sdSize>0</sdSize><state>1</state><error>0</error></package>"
    "<package><packageName>com.miui.home</packageName><bakFile>系统桌面(com.miui.home).bak</bakFile>"
    "<bakType>1</bakType><pkgSize>52162560</pkgSize><sdSize>0</sdSize><state>1</state><error>0</error></package>"
    "</packages><filesModifyTime>1650000000000</filesModifyTime></MIUI-backup>").encode()
REAL_NAMES = ["短信设置(com.android.mms).bak", "系统桌面(com.miui.home).bak"]


def folder(entries=ENTRIES, errors=None) -> bytes:
    return descript_xml("corot", "OS1.0.8.0", 1_760_000_000_000, entries, errors).encode()


def test_parses_the_layout_a_real_miui_phone_writes():
    info = parse_descript(REAL_DESCRIPT)
    assert (info.device, info.miui_version, info.date_ms) == ("cepheus", "V12.5.6.0.RFACNXM", 1_650_000_000_000)
    mms = info.packages[0]
    assert (mms.package, mms.bak_file, mms.size, mms.pkg_size, mms.sd_size, mms.state, mms.error) == \
        ("com.android.mms", REAL_NAMES[0], None, 7905280, 0, "1", "0")
    assert not info.failed


def test_a_real_folder_is_whole_although_pkgsize_is_not_the_bak_size():
    sizes = {REAL_NAMES[0]: 1234, REAL_NAMES[1]: 5678, "descript.xml": 1}
    heads = {name: BAK_MAGIC for name in REAL_NAMES}
    assert check_folder(parse_descript(REAL_DESCRIPT), sizes, heads) == []


def test_an_item_miui_reports_as_failed_is_a_problem():
    failed = REAL_DESCRIPT.replace(b"<state>1</state><error>0</error></package><package><packageName>com.miui.home",
                                   b"<state>1</state><error>3</error></package><package><packageName>com.miui.home")
    info = parse_descript(failed)
    assert [p.package for p in info.failed] == ["com.android.mms"]
    sizes = {REAL_NAMES[0]: 1234, REAL_NAMES[1]: 5678}
    assert check_folder(info, sizes, {name: BAK_MAGIC for name in REAL_NAMES}) == [
        "MIUI reports com.android.mms as not backed up (error 3)"]


def test_the_simulator_writes_the_real_layout():
    info = parse_descript(folder(errors={"com.miui.home": 5}))
    assert (info.device, info.miui_version, info.date_ms) == ("corot", "OS1.0.8.0", 1_760_000_000_000)
    assert [(p.package, p.bak_file, p.pkg_size, p.size, p.error) for p in info.packages] == \
        [(pkg, bak, size, None, err) for (pkg, bak, size), err in zip(ENTRIES, ("0", "5"))]
    assert [p.package for p in info.failed] == ["com.miui.home"]


def test_a_whole_folder_has_no_problems():
    sizes = {"Settings(com.android.settings).bak": len(SETTINGS), "系统桌面(com.miui.home).bak": len(HOME), "descript.xml": 1}
    heads = {"Settings(com.android.settings).bak": SETTINGS[:32], "系统桌面(com.miui.home).bak": HOME[:32]}
    assert SETTINGS.startswith(BAK_MAGIC)
    assert check_folder(parse_descript(folder()), sizes, heads) == []


def test_older_layouts_size_is_compared_and_missing_and_bad_header_are_each_named():
    xml = (b"<MIUI-backup><bakVersion>2</bakVersion><packages>"
           b"<package><packageName>com.android.settings</packageName><bakFile>Settings(com.android.settings).bak</bakFile>"
           b"<size>%d</size></package><package><packageName>com.miui.home</packageName>"
           b"<bakFile>\xe7\xb3\xbb\xe7\xbb\x9f\xe6\xa1\x8c\xe9\x9d\xa2(com.miui.home).bak</bakFile></package>"
           b"</packages></MIUI-backup>") % len(SETTINGS)
    sizes = {"Settings(com.android.settings).bak": len(SETTINGS) - 1, "extra.bak": 5}
    heads = {"Settings(com.android.settings).bak": SETTINGS[:32], "extra.bak": b"PK\x03\x04"}
    problems = check_folder(parse_descript(xml), sizes, heads)
    assert problems == [
        f"Settings(com.android.settings).bak is {len(SETTINGS) - 1} bytes, descript.xml lists {len(SETTINGS)}",
        "系统桌面(com.miui.home).bak (listed for com.miui.home) is missing",
        "extra.bak does not start with 'MIUI BACKUP' (not a MIUI backup file, or damaged)",
    ]


def test_a_package_without_size_is_checked_for_presence_only():
    xml = (b"<MIUI-backup><bakVersion>2</bakVersion><packages><package><packageName>a</packageName>"
           b"<bakFile>a.bak</bakFile></package></packages></MIUI-backup>")
    info = parse_descript(xml)
    assert info.packages[0].size is None
    assert check_folder(info, {"a.bak": 999}, {"a.bak": BAK_MAGIC}) == []


@pytest.mark.parametrize("xml, message", [
    (b"<MIUI-backup><bakVersion>2", "not well-formed"),
    (b"<backup><bakVersion>2</bakVersion></backup>", "root <backup>"),
    (b"<MIUI-backup><packages/></MIUI-backup>", "no <bakVersion>"),
    (b"<MIUI-backup><bakVersion>2</bakVersion><packages/></MIUI-backup>", "lists no packages"),
    (b"<MIUI-backup><bakVersion>2</bakVersion><packages><package><packageName>a</packageName></package></packages>"
     b"</MIUI-backup>", "package a has no <bakFile>"),
])
def test_a_broken_descript_says_what_is_wrong(xml, message):
    with pytest.raises(ValueError, match=message):
        parse_descript(xml)
