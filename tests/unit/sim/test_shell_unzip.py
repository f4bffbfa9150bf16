"""The on-phone ``unzip`` (Android's ziptool): list, stream and extract members of an APK."""

from __future__ import annotations

import io
import zipfile

import pytest

from miui_automator.sim.labels import APPS
from miui_automator.sim.phone import Phone

_, ACCOUNT_APK = APPS["XiaomiAccount"]


@pytest.fixture(scope="module")
def phone():
    return Phone(media_files=0)


def test_list(sh, phone):
    result = sh.run(f"unzip -l {ACCOUNT_APK}")
    lines = result.stdout.decode().splitlines()
    assert result.rc == 0 and lines[0] == f"Archive:  {ACCOUNT_APK}"
    assert lines[1].split() == ["Length", "Date", "Time", "Name"]
    names = [line.split()[-1] for line in lines[3:-2]]
    assert names == ["AndroidManifest.xml", "resources.arsc"]
    sizes = zipfile.ZipFile(io.BytesIO(phone.state.fs.read(ACCOUNT_APK))).infolist()
    assert lines[-1].split() == [str(sum(i.file_size for i in sizes)), "2", "files"]
    assert sh.run(f"unzip -lq {ACCOUNT_APK}").stdout.decode().splitlines()[0].split()[0] == "Length"


def test_stream_one_member_byte_for_byte(sh, phone):
    arsc = zipfile.ZipFile(io.BytesIO(phone.state.fs.read(ACCOUNT_APK))).read("resources.arsc")
    assert sh.run(f"unzip -p {ACCOUNT_APK} resources.arsc").stdout == arsc
    assert sh.run(f"unzip -p {ACCOUNT_APK} resources.arsc | wc -c").stdout.decode().strip() == str(len(arsc))


def test_extract_where_shell_may_write(sh, phone):
    assert sh.run(f"unzip -q {ACCOUNT_APK} AndroidManifest.xml -d /data/local/tmp/x").rc == 0
    assert phone.state.fs.exists("/data/local/tmp/x/AndroidManifest.xml")
    again = sh.run(f"unzip -q {ACCOUNT_APK} AndroidManifest.xml -d /data/local/tmp/x")
    assert again.rc == 1 and b"already exists" in again.stderr
    refused = sh.run(f"unzip -o {ACCOUNT_APK} -d /system/x")
    assert refused.rc == 1 and b"Read-only file system" in refused.stderr


@pytest.mark.parametrize("cmd, message", [
    ("unzip -p /system/app/Nope/Nope.apk", b"couldn't open /system/app/Nope/Nope.apk"),
    (f"unzip -p {ACCOUNT_APK} classes.dex", b"couldn't find classes.dex"),
    ("unzip -p /system", b"couldn't open /system"),
    ("unzip -Z x.zip", b"invalid option -- Z"),
    ("unzip", b"missing archive filename"),
])
def test_errors(sh, cmd, message):
    result = sh.run(cmd)
    assert result.rc == 1 and message in result.stderr


def test_not_a_zip(sh, phone):
    phone.state.fs.write("/data/local/tmp/plain.txt", b"hello")
    result = sh.run("unzip -l /data/local/tmp/plain.txt")
    assert result.rc == 1 and b"Invalid file" in result.stderr
