"""The sans-IO command-line parser of the simulated phone's sh."""

import pytest

from miui_automator.sim.shell_parse import AndOr, Lit, Redirect, ShellSyntaxError, Sub, Var, Word, parse


def words(source: str) -> list[list]:
    """The parts of every word of every simple command, flattened per command."""
    return [[w.parts for w in cmd.words] for item in parse(source)
            for pipeline in [item.first, *(p for _, p in item.rest)] for cmd in pipeline.commands]


def test_x4exit_line_is_two_commands_with_status_variable():
    script = parse("getprop ro.product.model; echo X4EXIT:$?")
    assert len(script) == 2
    echo = script[1].first.commands[0]
    assert echo.words[1].parts == (Lit("X4EXIT:"), Var("?"))


def test_single_quotes_are_literal_and_double_quotes_expand():
    (cmd,) = words("""echo 'a $HOME b' "c $HOME" d\\ e""")
    assert cmd[1] == (Lit("a $HOME b", True),)
    assert cmd[2] == (Lit("c ", True), Var("HOME", True))
    assert cmd[3] == (Lit("d"), Lit(" ", True), Lit("e"))


def test_empty_quotes_are_a_word():
    (cmd,) = words("echo '' \"\"")
    assert len(cmd) == 3


def test_backslash_inside_double_quotes_only_escapes_specials():
    (cmd,) = words(r'echo "a\"b\$c\d"')
    assert "".join(p.text for p in cmd[1]) == 'a"b$c\\d'


def test_and_or_chain():
    (item,) = parse("a && b || c")
    assert isinstance(item, AndOr)
    assert [op for op, _ in item.rest] == ["&&", "||"]


def test_pipeline_and_negation():
    (item,) = parse("! ls /sdcard | grep -i dcim | wc -l")
    assert item.first.negated
    assert len(item.first.commands) == 3


def test_redirections_with_fds():
    (item,) = parse("cmd >/dev/null 2>&1 >> log 2>err < in &> both")
    redirects = item.first.commands[0].redirects
    assert [(r.fd, r.op) for r in redirects] == [(1, ">"), (2, ">&"), (1, ">>"), (2, ">"), (0, "<"), (-1, ">")]
    assert redirects[1] == Redirect(2, ">&", Word((Lit("1"),)))


def test_digits_not_adjacent_to_redirect_stay_words():
    (cmd,) = words("echo 2 >f")
    assert cmd[1] == (Lit("2"),)


def test_assignment_prefixes_are_split_from_words():
    (item,) = parse("CLASSPATH=/data/local/tmp/u2.jar app_process / com.wetest.uia2.Main -p 9008")
    command = item.first.commands[0]
    assert command.assigns == (("CLASSPATH", Word((Lit("/data/local/tmp/u2.jar"),))),)
    assert command.words[0].literal() == "app_process"


def test_assignment_only_before_the_command_name():
    (item,) = parse("echo A=1")
    assert item.first.commands[0].assigns == ()


def test_command_substitution_and_backticks():
    (cmd,) = words('echo $(getprop "a b") `id -u` "$(echo x)"')
    assert cmd[1] == (Sub('getprop "a b"'),)
    assert cmd[2] == (Sub("id -u"),)
    assert cmd[3][-1] == Sub("echo x", True)


def test_braced_and_special_variables():
    (cmd,) = words("echo ${ANDROID_DATA}x $$ $# $")
    assert cmd[1] == (Var("ANDROID_DATA"), Lit("x"))
    assert cmd[2] == (Var("$"),)
    assert cmd[4] == (Lit("$"),)


def test_comments_and_newlines():
    script = parse("ls # trailing comment\n\necho a#b\n")
    assert len(script) == 2
    assert script[1].first.commands[0].words[1].literal() == "a#b"


def test_background_ampersand_is_a_separator():
    assert len(parse("sleep 1 & echo x")) == 2


def test_empty_line_is_an_empty_script():
    assert parse("   ") == ()


@pytest.mark.parametrize("source, message", [
    ("echo 'open", "no closing quote"),
    ('echo "open', "no closing quote"),
    ("; ls", "';' unexpected"),
    ("ls |", "unexpected end"),
    ("ls &&", "unexpected end"),
    ("ls >", "redirection needs a target"),
    ("ls ;; ls", "';;' unexpected"),
    ("if true; then ls; fi", "not supported"),
    ("(ls)", "not supported"),
    ("echo $(ls", r"missing '\)'"),
])
def test_syntax_errors(source, message):
    with pytest.raises(ShellSyntaxError, match=message):
        parse(source)


def test_a_run_of_plain_characters_is_one_part_up_to_the_next_special_one():
    # md5sum of hundreds of paths is one long line: plain runs are taken whole, the same words as char by char
    assert words("md5sum /sdcard/a-b_c.jpg x#y+z,1=2@%:~;echo ok") == [
        [(Lit("md5sum"),), (Lit("/sdcard/a-b_c.jpg"),), (Lit("x#y+z,1=2@%:~"),)], [(Lit("echo"),), (Lit("ok"),)]]
    assert words("a'b'c$X\\ d") == [[(Lit("a"), Lit("b", True), Lit("c"), Var("X"), Lit(" ", True), Lit("d"))]]
