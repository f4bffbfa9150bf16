"""MIUI's local backup folder: descript.xml parsing and the whole-folder check."""

from __future__ import annotations

import pytest

from miui_automator.backup.miui import BAK_MAGIC, check_folder, parse_descript
from miui_automator.sim.screens.backup import bak_bytes, descript_xml

SETTINGS = bak_bytes("com.android.settings", "Settings", b"x" * 100)
HOME = bak_bytes("com.miui.home", "系统桌面", b"y" * 300)
ENTRIES = [("com.android.settings", "Settings(com.android.settings).bak", len(SETTINGS)),
           ("com.miui.home", "系统桌面(com.miui.home).bak", len(HOME))]


def folder(entries=ENTRIES) -> bytes:
    return descript_xml("corot", "OS1.0.8.0", 1_760_000_000_000, entries).encode()


def test_parses_what_miui_writes():
    info = parse_descript(folder())
    assert (info.device, info.miui_version, info.date_ms) == ("corot", "OS1.0.8.0", 1_760_000_000_000)
    assert [(p.package, p.bak_file, p.size) for p in info.packages] == ENTRIES


def test_a_whole_folder_has_no_problems():
    sizes = {"Settings(com.android.settings).bak": len(SETTINGS), "系统桌面(com.miui.home).bak": len(HOME), "descript.xml": 1}
    heads = {"Settings(com.android.settings).bak": SETTINGS[:32], "系统桌面(com.miui.home).bak": HOME[:32]}
    assert SETTINGS.startswith(BAK_MAGIC)
    assert check_folder(parse_descript(folder()), sizes, heads) == []


def test_missing_wrong_size_and_bad_header_are_each_named():
    sizes = {"Settings(com.android.settings).bak": len(SETTINGS) - 1, "extra.bak": 5}
    heads = {"Settings(com.android.settings).bak": SETTINGS[:32], "extra.bak": b"PK\x03\x04"}
    problems = check_folder(parse_descript(folder()), sizes, heads)
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
