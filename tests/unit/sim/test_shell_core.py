"""The simulated sh itself: lists, status, expansion, redirection, pipes — run on a Phone, no sockets."""

import pytest

from miui_automator.sim.phone import Phone
from miui_automator.sim.shell import Shell, ShellResult


@pytest.fixture(scope="module")
def phone():
    return Phone(media_files=8, media_bytes=64 * 1024)


def out(sh, cmd: str) -> str:
    return sh.run(cmd).stdout.decode()


def test_result_keeps_its_positional_interface():
    result = ShellResult(b"o", b"e", 3)
    assert (result.stdout, result.stderr, result.rc, result.hold) == (b"o", b"e", 3, None)
    assert result.combined == b"oe"


def test_every_command_line_is_recorded(sh, phone):
    sh.run("echo one; echo two")
    sh.run("nosuchthing")
    assert phone.state.shell_history[-2:] == ["echo one; echo two", "nosuchthing"]


def test_unknown_command_is_mksh_message_and_127(sh):
    result = sh.run("frobnicate --now")
    assert result.rc == 127
    assert result.stderr == b"/system/bin/sh: frobnicate: inaccessible or not found\n"
    assert result.stdout == b""


def test_x4exit_trick_reports_status_last_even_after_stderr(sh):
    result = sh.run("ls /nope; echo X4EXIT:$?")
    combined = result.combined.decode()
    assert combined.endswith("X4EXIT:1\n")
    marker = combined.rfind("X4EXIT:")
    assert int(combined[marker + len("X4EXIT:"):]) == 1
    assert "No such file or directory" in combined[:marker]


def test_status_variable_follows_each_command(sh):
    assert out(sh, "false; echo $?; true; echo $?; nosuch 2>/dev/null; echo $?") == "1\n0\n127\n"


def test_and_or_short_circuit(sh):
    assert out(sh, "true && echo yes || echo no") == "yes\n"
    assert out(sh, "false && echo yes || echo no") == "no\n"
    assert out(sh, "false || false || echo last") == "last\n"
    assert sh.run("false && echo never").rc == 1


def test_negated_pipeline(sh):
    assert sh.run("! false").rc == 0
    assert sh.run("! true").rc == 1


def test_exit_stops_the_line_with_its_status(sh):
    result = sh.run("echo before; exit 3; echo after")
    assert (result.stdout, result.rc) == (b"before\n", 3)


def test_syntax_error_is_reported_by_sh(sh):
    result = sh.run("echo 'unterminated")
    assert result.rc == 1
    assert result.stderr.startswith(b"/system/bin/sh: syntax error")


def test_quoting_preserves_spaces_and_specials(sh):
    assert out(sh, "echo 'a  b' \"c  d\" e\\ \\ f") == "a  b c  d e  f\n"
    assert out(sh, "echo 'it''s' \"$\" '$HOME'") == "its $ $HOME\n"


def test_echo_flags(sh):
    assert out(sh, "echo -n abc") == "abc"
    assert out(sh, "echo -e 'a\\tb\\nc'") == "a\tb\nc\n"
    assert out(sh, "echo 'a\\tb'") == "a\\tb\n"


def test_variables_prefix_and_assignment(sh):
    assert out(sh, "X=1; echo $X${X}") == "11\n"
    assert out(sh, "Y=2 env | grep '^Y='; echo [$Y]") == "Y=2\n[]\n"
    assert out(sh, "echo $EXTERNAL_STORAGE") == "/sdcard\n"


def test_unquoted_expansion_splits_fields_quoted_does_not(sh):
    assert out(sh, "V='a   b'; printf '<%s>' $V; printf '<%s>' \"$V\"") == "<a><b><a   b>"


def test_command_substitution(sh, phone):
    serial = phone.state.props["ro.serialno"]
    assert out(sh, "echo serial=$(getprop ro.serialno)") == f"serial={serial}\n"
    assert out(sh, "echo `echo nested`") == "nested\n"


def test_sh_dash_c_runs_a_nested_line(sh):
    result = sh.run("sh -c 'echo inner; exit 4'; echo X4EXIT:$?")
    assert result.stdout == b"inner\nX4EXIT:4\n"


def test_redirect_to_file_and_append(sh, phone):
    sh.run("echo first > /sdcard/note.txt; echo second >> /sdcard/note.txt")
    assert phone.state.fs.read("/storage/emulated/0/note.txt") == b"first\nsecond\n"
    assert out(sh, "cat /sdcard/note.txt") == "first\nsecond\n"


def test_redirect_creates_empty_file_even_without_output(sh, phone):
    sh.run("true > /data/local/tmp/empty")
    assert phone.state.fs.read("/data/local/tmp/empty") == b""


def test_stderr_redirections(sh):
    assert sh.run("ls /nope 2>/dev/null").stderr == b""
    both = sh.run("ls /nope 2>&1")
    assert both.stderr == b"" and b"/nope" in both.stdout
    quiet = sh.run("ls /nope >/dev/null 2>&1; echo done")
    assert (quiet.stdout, quiet.stderr) == (b"done\n", b"")
    # order matters: 2>&1 first copies the *old* stdout (the terminal), then stdout goes away
    assert b"/nope" in sh.run("ls /nope 2>&1 >/dev/null").stdout


def test_stdout_to_stderr(sh):
    result = sh.run("echo oops >&2")
    assert (result.stdout, result.stderr) == (b"", b"oops\n")


def test_cannot_redirect_into_read_only_system(sh):
    result = sh.run("echo x > /system/build.prop")
    assert result.rc == 1
    assert result.stderr == b"/system/bin/sh: can't create /system/build.prop: Read-only file system\n"


def test_input_redirection(sh):
    sh.run("echo hello > /data/local/tmp/in.txt")
    assert out(sh, "cat < /data/local/tmp/in.txt") == "hello\n"
    assert b"can't open" in sh.run("cat < /data/local/tmp/missing").stderr


def test_pipes_grep_head_wc(sh):
    assert out(sh, "getprop | grep -c '\\[ro.product.model\\]'") == "1\n"
    assert out(sh, "printf 'a\\nB\\nc\\n' | grep -i b") == "B\n"
    assert out(sh, "printf 'a\\nB\\nc\\n' | grep -v B | wc -l") == "2\n"
    assert out(sh, "printf 'one\\ntwo\\nthree\\n' | head -n 2") == "one\ntwo\n"
    assert out(sh, "printf 'one\\ntwo\\nthree\\n' | tail -n 1") == "three\n"
    assert out(sh, "echo abc123def45 | grep -oE '[0-9]+'") == "123\n45\n"
    assert sh.run("echo abc | grep -q zzz").rc == 1


def test_pipeline_status_is_the_last_command(sh):
    assert sh.run("false | true").rc == 0
    assert sh.run("true | false").rc == 1


def test_globs_expand_against_the_phone_files(sh):
    sh.run("mkdir -p /data/local/tmp/g && touch /data/local/tmp/g/a.txt /data/local/tmp/g/b.txt /data/local/tmp/g/c.log")
    assert out(sh, "echo /data/local/tmp/g/*.txt") == "/data/local/tmp/g/a.txt /data/local/tmp/g/b.txt\n"
    assert out(sh, "echo '/data/local/tmp/g/*.txt'") == "/data/local/tmp/g/*.txt\n"
    assert out(sh, "echo /data/local/tmp/g/*.none") == "/data/local/tmp/g/*.none\n"
    assert out(sh, "cd /data/local/tmp/g && echo *.log") == "c.log\n"


def test_xargs_runs_commands_on_input(sh):
    sh.run("echo abc > /data/local/tmp/x1; echo def > /data/local/tmp/x2")
    lines = out(sh, "ls /data/local/tmp/x1 /data/local/tmp/x2 | xargs md5sum").splitlines()
    assert [line.split()[1] for line in lines] == ["/data/local/tmp/x1", "/data/local/tmp/x2"]


def test_test_and_brackets(sh):
    assert sh.run("test -d /sdcard").rc == 0
    assert sh.run("[ -f /sdcard ]").rc == 1
    assert sh.run("[ 3 -gt 2 ] && [ abc = abc ]").rc == 0
    assert sh.run("[ -e /sdcard").rc == 2


def test_sleep_returns_immediately(sh):
    result = sh.run("sleep 30; echo awake")
    assert (result.stdout, result.rc) == (b"awake\n", 0)


def test_toybox_dispatch_and_unknown_applet(sh):
    assert out(sh, "toybox echo hi") == "hi\n"
    result = sh.run("toybox frob")
    assert result.rc == 127
    assert result.stderr == b"toybox: Unknown command frob\n"


def test_absolute_command_paths(sh):
    assert out(sh, "/system/bin/getprop ro.product.brand") == "Xiaomi\n"
    sh.run("echo x > /data/local/tmp/script")
    assert sh.run("/data/local/tmp/script").rc == 126


def test_identity_commands(sh):
    assert out(sh, "whoami") == "shell\n"
    assert out(sh, "id").startswith("uid=2000(shell) gid=2000(shell)")
    assert out(sh, "uname -m") == "aarch64\n"
    assert out(sh, "getenforce") == "Enforcing\n"
    assert out(sh, "which getprop md5sum nosuch") == "/system/bin/getprop\n/system/bin/md5sum\n"
    assert sh.run("which nosuch").rc == 1


def test_date_epoch_follows_the_phone_clock():
    phone = Phone(media_files=0, wall_clock=lambda: 1_750_000_000.0)
    assert Shell(phone).run("date +%s").stdout == b"1750000000\n"


def test_assignment_takes_the_status_of_its_substitution(sh):
    assert out(sh, "X=$(false); echo $?; Y=$(echo ok); echo $? $Y") == "1\n0 ok\n"


def test_small_text_tools(sh):
    assert out(sh, "printf 'b\\na\\nb\\n' | sort -u") == "a\nb\n"
    assert out(sh, "printf '3\\n10\\n2\\n' | sort -n -r") == "10\n3\n2\n"
    assert out(sh, "echo a:b:c | cut -d : -f 2,3") == "b:c\n"
    assert out(sh, "basename /sdcard/DCIM/x.jpg .jpg; dirname /sdcard/DCIM/x.jpg") == "x\n/sdcard/DCIM\n"
    assert out(sh, "printf '%s=%d\\n' a 1 b 2") == "a=1\nb=2\n"
    assert out(sh, "echo hello | wc -c") == "6\n"


def test_head_and_tail_count_lines_and_bytes_from_either_end(sh):
    text = "printf 'one\\ntwo\\nthree\\n'"
    assert out(sh, f"{text} | head -c 5") == "one\nt"
    assert out(sh, f"{text} | tail -c 6") == "three\n"
    assert out(sh, f"{text} | tail -n +2") == "two\nthree\n"
    assert out(sh, f"{text} | tail -c +9") == "three\n"
    assert out(sh, f"{text} | tail -n 0") == ""
    assert out(sh, f"{text} | head -2") == "one\ntwo\n"
    result = sh.run("tail /sdcard/no-such-file")
    assert result.rc == 1 and b"no-such-file" in result.stderr
