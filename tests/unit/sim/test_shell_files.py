"""Toybox file tools over the phone's VFS: formats, checksums, permissions."""

import hashlib
import re

import pytest

from miui_automator.sim.phone import Phone

LS_LONG = re.compile(r"[-d][rwx-]{9} +\d+ +\S+ +\S+ +\d+ \d{4}-\d\d-\d\d \d\d:\d\d .+")


@pytest.fixture
def phone():
    return Phone(media_files=12, media_bytes=256 * 1024)


def out(sh, cmd: str) -> str:
    return sh.run(cmd).stdout.decode()


def media(phone) -> list[str]:
    return [p for p, _ in phone.state.fs.walk_files("/storage/emulated/0")]


def test_md5sum_matches_hashlib_of_the_vfs_bytes(sh, phone):
    path = media(phone)[0]
    expected = hashlib.md5(phone.state.fs.read(path)).hexdigest()
    shown = path.replace("/storage/emulated/0", "/sdcard")
    assert out(sh, f"md5sum {shown}") == f"{expected}  {shown}\n"
    assert out(sh, f"toybox md5sum {shown}") == f"{expected}  {shown}\n"
    assert expected in out(sh, f"md5 {shown}")


def test_md5sum_of_a_pushed_jar_and_missing_file(sh, phone):
    jar = b"PK\x03\x04" + bytes(range(256)) * 10
    phone.state.fs.write("/data/local/tmp/u2.jar", jar, mode=0o100755)
    assert hashlib.md5(jar).hexdigest() in out(sh, "toybox md5sum /data/local/tmp/u2.jar")
    result = sh.run("md5sum /data/local/tmp/u2.jar /data/local/tmp/none")
    assert result.rc == 1
    assert result.stderr == b"md5sum: /data/local/tmp/none: No such file or directory\n"
    assert result.stdout.count(b"\n") == 1


def test_sha256sum_many_files(sh, phone):
    paths = media(phone)[:3]
    lines = out(sh, "sha256sum " + " ".join(paths)).splitlines()
    assert [line.split("  ") for line in lines] == [[hashlib.sha256(phone.state.fs.read(p)).hexdigest(), p]
                                                   for p in paths]


def test_ls_plain_and_long(sh, phone):
    names = out(sh, "ls /sdcard/DCIM/Camera").splitlines()
    assert names == sorted(names) and names
    long = out(sh, "ls -l /sdcard/DCIM/Camera").splitlines()
    assert long[0].startswith("total ")
    assert all(LS_LONG.fullmatch(line) for line in long[1:])
    first = long[1].split()
    assert first[0] == "-rw-rw----" and first[2:4] == ["u0_a123", "media_rw"]
    size = phone.state.fs.lookup(f"/sdcard/DCIM/Camera/{names[0]}").size
    assert first[4] == str(size) and first[-1] == names[0]


def test_ls_missing_and_denied(sh):
    result = sh.run("ls /sdcard/nothing")
    assert (result.rc, result.stderr) == (1, b"ls: /sdcard/nothing: No such file or directory\n")
    assert sh.run("ls /data").stderr == b"ls: /data: Permission denied\n"
    assert sh.run("ls /data/data").rc == 1


def test_ls_hidden_recursive_and_dir_flag(sh):
    sh.run("mkdir -p /sdcard/t/sub && touch /sdcard/t/.hidden /sdcard/t/sub/f")
    assert out(sh, "ls /sdcard/t") == "sub\n"
    assert out(sh, "ls -a /sdcard/t") == ".\n..\n.hidden\nsub\n"
    assert out(sh, "ls -R /sdcard/t") == "/sdcard/t:\nsub\n\n/sdcard/t/sub:\nf\n"
    assert out(sh, "ls -d /sdcard/t") == "/sdcard/t\n"


def test_stat_format(sh, phone):
    path = media(phone)[0]
    entry = phone.state.fs.lookup(path)
    assert out(sh, f"stat -c '%s %Y %n' {path}") == f"{entry.size} {entry.mtime} {path}\n"
    assert out(sh, f"stat -c '%F %a %A' {path}") == "regular file 660 -rw-rw----\n"
    assert out(sh, "stat -c %F /sdcard/DCIM") == "directory\n"
    result = sh.run("stat -c %s /sdcard/none")
    assert result.rc == 1 and result.stderr == b"stat: '/sdcard/none': No such file or directory\n"


def test_find_lists_every_file_with_the_given_prefix(sh, phone):
    found = out(sh, "find /sdcard -type f").splitlines()
    assert sorted(found) == sorted(p.replace("/storage/emulated/0", "/sdcard") for p in media(phone))
    dirs = out(sh, "find /sdcard/DCIM -type d").splitlines()
    assert dirs == ["/sdcard/DCIM", "/sdcard/DCIM/Camera"]
    jpgs = out(sh, "find /sdcard -name '*.jpg' -maxdepth 3").splitlines()
    assert jpgs and all(p.endswith(".jpg") for p in jpgs)
    assert sh.run("find /sdcard/none").rc == 1


def test_du_and_df(sh, phone):
    total_kib = int(out(sh, "du -s /sdcard").split("\t")[0])
    assert total_kib * 1024 >= phone.state.fs.usage("/storage/emulated/0")
    assert out(sh, "du -sb /sdcard/Music").split("\t") == [str(phone.state.fs.usage("/sdcard/Music")), "/sdcard/Music\n"]
    df = out(sh, "df /sdcard").splitlines()
    assert df[0].split()[:2] == ["Filesystem", "1K-blocks"]
    fields = df[1].split()
    assert fields[0] == "/dev/fuse" and fields[-1] == "/storage/emulated"
    assert int(fields[1]) == 128_000_000_000 // 1024
    assert int(fields[2]) * 1024 >= phone.state.fs.usage("/")
    assert out(sh, "df -h /data").splitlines()[1].split()[-1] == "/data"


def test_rm_mkdir_touch(sh, phone):
    assert sh.run("mkdir /sdcard/new").rc == 0
    assert sh.run("mkdir /sdcard/new").stderr == b"mkdir: '/sdcard/new': File exists\n"
    assert sh.run("mkdir /sdcard/a/b").rc == 1
    assert sh.run("mkdir -p /sdcard/a/b && touch /sdcard/a/b/f").rc == 0
    assert phone.state.fs.exists("/storage/emulated/0/a/b/f")
    assert sh.run("rm /sdcard/a").stderr == b"rm: /sdcard/a: Is a directory\n"
    assert sh.run("rm -rf /sdcard/a").rc == 0 and not phone.state.fs.exists("/sdcard/a")
    assert sh.run("rm /sdcard/a").stderr == b"rm: /sdcard/a: No such file or directory\n"
    assert sh.run("rm -f /sdcard/a").rc == 0


def test_rmdir_removes_only_empty_directories_and_goes_on_after_an_error(sh, phone):
    assert sh.run("mkdir -p /sdcard/full/inner /sdcard/empty && touch /sdcard/file").rc == 0
    result = sh.run("rmdir /sdcard/full /sdcard/file /sdcard/none /sdcard/empty /system/bin")
    assert result.rc == 1
    assert result.stderr.decode().splitlines() == [
        "rmdir: '/sdcard/full': Directory not empty",
        "rmdir: '/sdcard/file': Not a directory",
        "rmdir: '/sdcard/none': No such file or directory",
        "rmdir: '/system/bin': Read-only file system",
    ]
    assert not phone.state.fs.exists("/storage/emulated/0/empty")
    assert phone.state.fs.exists("/storage/emulated/0/full/inner")
    assert sh.run("rmdir /sdcard/full/inner").rc == 0


def test_writes_outside_shell_areas_are_refused(sh):
    assert sh.run("mkdir /system/x").stderr == b"mkdir: '/system/x': Read-only file system\n"
    assert sh.run("touch /data/system/x").rc == 1
    assert sh.run("rm /system/bin").rc == 1


def test_cp_and_mv_keep_content(sh, phone):
    src = media(phone)[0]
    data = phone.state.fs.read(src)
    assert sh.run(f"cp {src} /data/local/tmp/copy").rc == 0
    assert phone.state.fs.read("/data/local/tmp/copy") == data
    sh.run("mkdir /data/local/tmp/dir && mv /data/local/tmp/copy /data/local/tmp/dir/")
    assert phone.state.fs.read("/data/local/tmp/dir/copy") == data
    assert not phone.state.fs.exists("/data/local/tmp/copy")
    sh.run("cp -r /data/local/tmp/dir /data/local/tmp/dir2")
    assert phone.state.fs.read("/data/local/tmp/dir2/copy") == data
    assert sh.run("cp /sdcard/none /data/local/tmp/x").rc == 1


def test_cat_is_binary_clean(sh, phone):
    blob = bytes(range(256)) * 4
    phone.state.fs.write("/data/local/tmp/blob", blob)
    assert sh.run("cat /data/local/tmp/blob").stdout == blob
    assert sh.run("cat /data/local/tmp/none").stderr == b"cat: /data/local/tmp/none: No such file or directory\n"
