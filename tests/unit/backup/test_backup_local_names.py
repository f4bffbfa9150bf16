"""Local names on each kind of host, tested here on Linux: the host's rules are a value."""

from __future__ import annotations

import pytest

from miui_automator.backup.inventory import RemoteFile, assign_local_names
from miui_automator.backup.local_names import MACOS, POSIX, WINDOWS, LocalNamer, escape_part


def names(paths: list[str], rules, keep=None) -> list[str]:
    return [f.local for f in assign_local_names([RemoteFile(p, 1, 1) for p in paths], rules=rules, keep=keep)]


def test_linux_keeps_every_name_byte_for_byte():
    odd = b"/sdcard/Download/a:b?\xff%.txt ".decode("utf-8", "surrogateescape")
    assert names([odd, "/sdcard/DCIM/IMG.jpg", "/sdcard/DCIM/img.jpg"], POSIX) == [
        odd.replace("/sdcard", "files"), "files/DCIM/IMG.jpg", "files/DCIM/img.jpg"]


@pytest.mark.parametrize("name, escaped", [
    ('a:b?"c".txt', "a%3Ab%3F%22c%22.txt"),
    ("CON", "%43ON"),
    ("com1.txt", "%63om1.txt"),
    ("nul.tar.gz", "%6Eul.tar.gz"),
    ("console.txt", "console.txt"),
    ("trailing. ", "trailing%2E%20"),
    ("100%.jpg", "100%25.jpg"),
    ("tab\there", "tab%09here"),
    (b"caf\xe9".decode("utf-8", "surrogateescape"), "caf%E9"),
    ("中文.jpg", "中文.jpg"),
])
def test_windows_escapes_what_it_cannot_hold(name, escaped):
    assert escape_part(name, WINDOWS) == escaped


def test_escaping_never_makes_two_names_one():
    names_ = ["a:b", "a%3Ab", "a%b", "a%25b", "CON", "%43ON", "x.", "x%2E"]
    assert len({escape_part(n, WINDOWS) for n in names_}) == len(names_)
    assert len({escape_part(n, MACOS) for n in names_}) == len(names_)


def test_macos_keeps_windows_characters_but_not_bytes_that_are_not_utf8():
    assert escape_part("a:b?.txt", MACOS) == "a:b?.txt"
    assert escape_part(b"\xff.jpg".decode("utf-8", "surrogateescape"), MACOS) == "%FF.jpg"


@pytest.mark.parametrize("rules", [WINDOWS, MACOS])
def test_case_collisions_get_a_stable_distinct_name(rules):
    paths = ["/sdcard/DCIM/IMG.jpg", "/sdcard/DCIM/img.jpg", "/sdcard/DCIM/Img.JPG"]
    first = names(paths, rules)
    assert first[0] == "files/DCIM/IMG.jpg"
    assert len({rules.key(n) for n in first}) == 3
    assert all(n.startswith("files/DCIM/") and "~" in n for n in first[1:])
    assert names(list(reversed(paths)), rules) == list(reversed(first))  # the phone's listing order does not matter


def test_folders_differing_in_case_merge_and_a_file_in_the_way_moves_aside():
    paths = ["/sdcard/DCIM/Camera/a.jpg", "/sdcard/DCIM/camera/b.jpg", "/sdcard/DCIM/camera/A.jpg",
             "/sdcard/Music/x", "/sdcard/Music/X/y.mp3"]
    got = dict(zip(paths, names(paths, WINDOWS)))
    assert got["/sdcard/DCIM/Camera/a.jpg"] == "files/DCIM/Camera/a.jpg"
    assert got["/sdcard/DCIM/camera/b.jpg"] == "files/DCIM/Camera/b.jpg"  # one host folder for both spellings
    assert got["/sdcard/DCIM/camera/A.jpg"].startswith("files/DCIM/Camera/A~")
    # "X/" sorts first and takes the name; the file "x" that would collide with that folder moves aside
    assert got["/sdcard/Music/X/y.mp3"] == "files/Music/X/y.mp3" and got["/sdcard/Music/x"].startswith("files/Music/x~")
    assert len({WINDOWS.key(v) for v in got.values()}) == len(paths)


def test_macos_folds_unicode_normalisation_too():
    composed, decomposed = "/sdcard/DCIM/caf\u00e9.jpg", "/sdcard/DCIM/cafe\u0301.jpg"
    assert len({MACOS.key(n) for n in names([composed, decomposed], MACOS)}) == 2
    assert names([composed, decomposed], POSIX) == ["files/DCIM/caf\u00e9.jpg", "files/DCIM/cafe\u0301.jpg"]


def test_a_resumed_backup_keeps_the_names_files_were_pulled_under():
    """A file pulled as img.jpg keeps that name even if a new IMG.jpg would sort before it now."""
    keep = {"/sdcard/DCIM/img.jpg": "files/DCIM/img.jpg"}
    got = names(["/sdcard/DCIM/IMG.jpg", "/sdcard/DCIM/img.jpg"], WINDOWS, keep)
    assert got[1] == "files/DCIM/img.jpg" and got[0].startswith("files/DCIM/IMG~")


def test_the_namer_alone():
    namer = LocalNamer(WINDOWS)
    assert namer.name("/x/aux", ["files", "aux"]) == "files/%61ux"
    assert namer.name("/x/AUX", ["files", "AUX"]) == "files/%41UX"  # escapes differ in case, keys do not clash
