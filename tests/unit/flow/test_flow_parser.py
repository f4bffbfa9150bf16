"""The flow language: what loads into which model, and every way a flow is refused with file:line."""

from __future__ import annotations

import dataclasses
import re
import textwrap
from pathlib import Path

import pytest

from miui_automator.errors import FlowSyntaxError, StepFailed
from miui_automator.flow import model
from miui_automator.flow.parser import FlowResolver, load_flow, parse_flow, shell_refusal
from miui_automator.flow.selectors import Selector
from miui_automator.tasks import registry

FIXTURES = Path(__file__).parent / "fixtures"
SCREENS = (
    "launcher lockscreen setup_wizard settings_home about_phone backup_and_restore additional_settings "
    "developer_options factory_reset factory_reset_password factory_reset_confirm account signin signout_confirm "
    "signout_password find_device_failed signing_out wipe_confirm cloud backup_home backup_select backup_progress "
    "backup_done backup_abort_confirm cloud_promo_popup update_popup"
).split()

HEADER = """\
name: t
params:
  password: {secret: true, env: PW}
  mode: {default: keep, choices: [keep, remove]}
  label: {default: Keep}
steps:
"""


def flow_text(steps: str) -> str:
    """A flow with the standard params and ``steps`` (YAML list items, dedented); steps start on line 7."""
    return HEADER + textwrap.indent(textwrap.dedent(steps).strip("\n"), "  ") + "\n"


def parse(steps: str, resolver=None) -> model.Flow:
    return parse_flow(flow_text(steps), "t.yaml", known_screens=SCREENS, resolver=resolver)


def parse_error(text: str, resolver=None, path: str = "t.yaml") -> FlowSyntaxError:
    with pytest.raises(FlowSyntaxError) as info:
        parse_flow(text, path, known_screens=SCREENS, resolver=resolver)
    return info.value


def step_error(steps: str, resolver=None) -> FlowSyntaxError:
    return parse_error(flow_text(steps), resolver)


def only_step(steps: str, resolver=None) -> model.Step:
    flow = parse(steps, resolver)
    assert len(flow.steps) == 1
    return flow.steps[0]


def resolver_of(flows: dict[str, str]):
    def resolve(ref: str) -> tuple[str, str]:
        if ref not in flows:
            raise LookupError(f"no flow '{ref}'")
        return textwrap.dedent(flows[ref]), f"{ref}.yaml"
    return resolve


# --- the full example ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example() -> model.Flow:
    return load_flow("remove-mi-account", known_screens=SCREENS, builtin_dir=FIXTURES)


def test_example_flow_header_and_params(example: model.Flow) -> None:
    assert (example.name, example.destructive, example.line) == ("remove-mi-account", True, 2)  # line 1 is a comment
    assert example.description == "Sign the Xiaomi Account out of this phone"
    assert example.path == str(FIXTURES / "remove-mi-account.yaml")
    password, synced, label, backup_dir = example.params
    assert password == model.Param(name="password", line=6, secret=True, env="MIUI_ACCOUNT_PASSWORD", required=True,
                               description="Mi account password")
    assert (synced.default, synced.choices, synced.required) == ("keep", ("keep", "remove"), False)
    assert label.default == "Keep" and backup_dir.default == ""
    assert example.param("synced_data") is synced and example.param("nope") is None


def test_example_flow_steps_and_their_lines(example: model.Flow) -> None:
    kinds = [type(s).__name__ for s in example.steps]
    assert kinds == ["OpenStep", "OpenStep", "OpenStep", "TapStep", "TapStep", "TapStep", "TypeStep", "TypeStep",
                     "ScrollToStep", "PressStep", "ExpectStep", "WaitForStep", "ShellStep", "ScreenshotStep",
                     "AssertStep", "RunStep", "WhenStep", "RetryStep", "DriveStep"]
    assert [s.line for s in example.steps[:4]] == [11, 13, 14, 15]
    first = example.steps[0]
    assert first == model.OpenStep(line=11, timeout=model.DEFAULT_TIMEOUTS["open"], expect=("account",),
                               action="android.settings.XIAOMI_ACCOUNT_SYNC_SETTINGS",
                               extras=(("account_type", "com.xiaomi"),))
    assert example.steps[11].timeout == 120.0 and example.steps[11].screens == ("backup_done",)
    assert example.steps[5].selector.text_matches.pattern == "Sign in to (Mi|Xiaomi) Account"
    assert example.steps[5].selector.scroll is True
    assert example.steps[8].max_swipes == 15


def test_example_flow_drive_rules_in_source_order(example: model.Flow) -> None:
    drive = example.steps[-1]
    assert isinstance(drive, model.DriveStep)
    assert drive.max_steps == 12 and drive.until == model.Condition(kind="screen", line=38, screens=("settings_home",))
    assert [screen for screen, _ in drive.rules] == ["signout_confirm", "signout_password", "wipe_confirm",
                                                     "signing_out", "find_device_failed", "account"]
    assert [type(i).__name__ for i in drive.rule("signout_password")] == ["TypeStep", "TapStep"]
    assert drive.rule("signing_out") == (model.WaitAction(line=44),)
    assert isinstance(drive.rule("find_device_failed")[0], model.FailAction)
    assert drive.rule("launcher") is None


def test_example_flow_describes_every_step_without_values(example: model.Flow) -> None:
    lines = [item.describe() for item in example.walk()]
    assert lines[0] == ("open action android.settings.XIAOMI_ACCOUNT_SYNC_SETTINGS (account_type=com.xiaomi), "
                        "expect account")
    assert 'type secret "password" into id android:id/input' in lines
    assert 'type "hello ${synced_data}" into cls android.widget.EditText' in lines
    assert 'tap text "Sign out" | "退出登录"' in lines
    assert 'scroll to text "Sign out" | "退出登录" (max 15 swipes)' in lines
    assert 'assert shell "dumpsys account" does not contain "type=com.xiaomi"' in lines
    assert 'run flow verify-account-removed (account_type="com.xiaomi")' in lines
    assert "drive until screen is settings_home (max 12 steps)" in lines
    assert "wait" in lines and 'tap text "${synced_data_label}"' in lines


def test_walk_visits_nested_steps_in_source_order_and_subflows_on_request(example: model.Flow) -> None:
    lines = [item.line for item in example.walk()]
    assert lines == sorted(lines)  # the example has one item per line, so source order is line order
    assert len(lines) == 29
    with_subflows = list(example.walk(subflows=True))
    assert len(with_subflows) == 30
    run_index = next(i for i, s in enumerate(with_subflows) if isinstance(s, model.RunStep))
    assert with_subflows[run_index + 1].describe() == 'assert shell "dumpsys account" does not contain "type=${account_type}"'


def test_model_is_frozen_and_hashable(example: model.Flow) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        example.name = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        example.steps[0].timeout = 1  # type: ignore[misc]
    assert hash(example) == hash(load_flow("remove-mi-account", known_screens=SCREENS, builtin_dir=FIXTURES))
    assert not hasattr(example.steps[0], "__dict__")  # slots


# --- templates ---------------------------------------------------------------------------------------


def test_resolve_substitutes_and_unescapes() -> None:
    assert model.resolve("hello ${a} and ${b_2}", {"a": "x", "b_2": "y"}) == "hello x and y"
    assert model.resolve("literal $${a} $5 ${a}", {"a": "x"}) == "literal ${a} $5 x"
    assert model.resolve("${a}", {"a": "${b}"}) == "${b}"  # values are not re-expanded


def test_resolve_without_a_value_is_a_step_failure() -> None:
    with pytest.raises(StepFailed, match=r"\$\{out\} has no value") as info:
        model.resolve("x ${out}", {})
    assert info.value.data == {"param": "out"}


@pytest.mark.parametrize("text", ["${}", "${a b}", "${a", "x ${1a}", "${a-b}"])
def test_malformed_references_are_value_errors(text: str) -> None:
    with pytest.raises(ValueError, match="malformed reference"):
        model.references(text)


def test_references_lists_names_in_order() -> None:
    assert model.references("${b} $${c} ${a} ${b}") == ("b", "a", "b")


# --- describe() ------------------------------------------------------------------------------------


def test_selector_describe_names_every_part() -> None:
    sel = Selector(line=1, id="a:id/b", text=("Sign out", "退出登录"), text_matches=re.compile("x+"),
                   text_contains='say "hi"', desc="Back", cls="android.widget.Button", package="com.x", index=2,
                   scroll=True)
    assert sel.describe() == ('id a:id/b, text "Sign out" | "退出登录", text matching /x+/, '
                              'text containing "say \\"hi\\"", desc "Back", cls android.widget.Button, package com.x, '
                              "index 2, scrolling until found")
    assert Selector(line=1, text=("OK",), last=True).describe() == 'text "OK", last match'


@pytest.mark.parametrize(("step", "description"), [
    ("- open: {component: com.android.settings/.MainSettings}", "open component com.android.settings/.MainSettings"),
    ("- open: {app: com.miui.backup}\n  expect: [backup_home, cloud_promo_popup]",
     "open app com.miui.backup, expect backup_home | cloud_promo_popup"),
    ("- tap: OK", 'tap text "OK"'),
    ("- type: {text: hi}", 'type "hi" into the focused field'),
    ("- type: {secret: password, into: {text_contains: Password}}", 'type secret "password" into text containing "Password"'),
    ("- scroll-to: [A, B]", 'scroll to text "A" | "B" (max 10 swipes)'),
    ("- press: home", "press home"),
    ("- expect: [account, signin]", "expect screen account | signin"),
    ("- wait-for: backup_done", "wait for screen backup_done"),
    ("- wait-for: {gone: {text: Signing out…}}", 'wait until text "Signing out…" is gone'),
    ("- wait-for: {exists: {id: a:id/b}}", "wait until id a:id/b exists"),
    ("- shell: getprop ro.build.version.incremental", 'shell "getprop ro.build.version.incremental"'),
    ("- screenshot: entry", 'screenshot "entry"'),
    ("- assert: settings_home", "assert screen is settings_home"),
    ("- assert: {prop: ro.miui.ui.version.name, matches: '^V1[24]'}", "assert prop ro.miui.ui.version.name matches /^V1[24]/"),
    ("- assert: {param: mode, not-equals: keep}", 'assert param mode does not equal "keep"'),
    ("- assert: {shell: dumpsys account, not-matches: 'type=com\\.xiaomi'}",
     'assert shell "dumpsys account" does not match /type=com\\.xiaomi/'),
    ("- when: {screen: signin}\n  then: [{press: back}]", "when screen is signin"),
    ("- retry: {steps: [{press: back}]}", "retry up to 3 times"),
])
def test_each_step_kind_describes_itself(step: str, description: str) -> None:
    assert only_step(step).describe() == description


def test_label_prefers_the_users_name() -> None:
    steps = parse("- {press: back, name: Leave the dialog}\n- press: back").steps
    assert [s.label for s in steps] == ["Leave the dialog", "press back"]


# --- what loads ------------------------------------------------------------------------------------


def test_common_step_keys() -> None:
    step = only_step("- tap: {id: a:id/b}\n  timeout: 2.5\n  optional: yes\n  name: close promo\n  expect: account")
    assert (step.timeout, step.optional, step.name, step.expect) == (2.5, True, "close promo", ("account",))


def test_default_timeouts_per_kind() -> None:
    flow = parse("- press: back\n- shell: dumpsys account\n- drive: {until: account, rules: {signin: done}}")
    assert [s.timeout for s in flow.steps] == [model.DEFAULT_TIMEOUTS[k] for k in ("press", "shell", "drive")]


def test_shorthand_forms() -> None:
    flow = parse("""
        - tap: [Sign out, 退出登录]
        - scroll-to: Sign out
        - wait-for: [backup_done, backup_home]
        - shell: dumpsys account
        - screenshot: done
        - assert: [account, signin]
        - when: signin
          then: [{press: back}]
    """)
    assert flow.steps[0].selector == Selector(line=7, text=("Sign out", "退出登录"))
    assert flow.steps[1].selector.text == ("Sign out",)
    assert flow.steps[2].screens == ("backup_done", "backup_home")
    assert flow.steps[3].command == "dumpsys account" and flow.steps[3].save_as is None
    assert flow.steps[4].shot_name == "done"
    assert flow.steps[5].condition.screens == ("account", "signin")
    assert flow.steps[6].condition.kind == "screen"


def test_param_shorthands_and_required_defaults() -> None:
    flow = parse_flow("name: p\nparams:\n  a: keep\n  b:\n  c: {}\n  d: {required: false}\n  e: 3\nsteps: [{press: back}]",
                      known_screens=SCREENS)
    a, b, c, d, e = flow.params
    assert (a.default, a.required) == ("keep", False)
    assert (b.default, b.required) == (None, True)
    assert (c.required, d.required) == (True, False)
    assert e.default == "3"  # scalars keep the text the user wrote


def test_scalars_keep_their_yaml_text() -> None:
    step = only_step("- tap: {text: [yes, 010, 1.50, 2024-01-01, null_not]}")
    assert step.selector.text == ("yes", "010", "1.50", "2024-01-01", "null_not")


def test_open_extras_keep_their_types() -> None:
    step = only_step("- open: {action: a.B, extras: {s: x, i: 3, f: 1.5, b: true, t: '${mode}', q: '7'}}")
    assert step.extras == (("s", "x"), ("i", 3), ("f", 1.5), ("b", True), ("t", "${mode}"), ("q", "7"))


def test_save_as_variables_are_usable_after_they_are_saved() -> None:
    flow = parse("""
        - shell: {command: getprop ro.product.model, save-as: model}
        - tap: {text: "${model}"}
        - assert: {param: model, contains: "Redmi"}
    """)
    assert flow.steps[1].selector.text == ("${model}",)
    assert flow.steps[2].condition == model.Condition(kind="param", line=9, subject="model", op="contains", value="Redmi")


def test_yaml_anchors_aliases_and_merge_keys() -> None:
    flow = parse("""
        - tap: &signout {text: [Sign out, 退出登录]}
        - scroll-to: *signout
        - tap: {<<: *signout, last: true}
    """)
    assert flow.steps[0].selector.text == flow.steps[1].selector.text == flow.steps[2].selector.text
    assert flow.steps[2].selector.last is True


def test_when_with_else_and_param_condition() -> None:
    step = only_step("""
        - when: {param: mode, equals: remove}
          then: [{tap: Remove}]
          else: [{tap: Keep}, {screenshot: kept}]
          name: pick
    """)
    assert isinstance(step, model.WhenStep)
    assert step.condition.describe() == 'param mode equals "remove"'
    assert [s.describe() for s in step.children()] == ['tap text "Remove"', 'tap text "Keep"', 'screenshot "kept"']


def test_wait_for_timeout_inside_or_outside() -> None:
    flow = parse("- wait-for: {screen: backup_done, timeout: 120}\n- wait-for: {screen: backup_done}\n  timeout: 90")
    assert [s.timeout for s in flow.steps] == [120.0, 90.0]


def test_drive_until_a_condition_and_done() -> None:
    step = only_step("""
        - drive:
            until: {shell: dumpsys account, not-contains: type=com.xiaomi}
            rules:
              account: [{scroll-to: Sign out}, {tap: Sign out}]
              settings_home: done
    """)
    assert step.until.kind == "shell" and step.max_steps == model.DRIVE_MAX_STEPS_DEFAULT
    assert step.rule("settings_home") == (model.DoneAction(line=11),)


# --- errors: file:line and message ---------------------------------------------------------------------


def test_error_carries_path_and_line_and_is_one_line() -> None:
    error = step_error("- press: back\n- tpa: {text: OK}")
    assert str(error) == "t.yaml:8: unknown step kind 'tpa' (did you mean 'tap'?)"
    assert error.data == {"path": "t.yaml", "line": 8}
    assert error.exit_code == 2


@pytest.mark.parametrize(("text", "line", "message"), [
    ("", 1, "empty flow file"),
    ("# only a comment\n", 1, "empty flow file"),
    ("- a\n- b\n", 1, "a flow must be a mapping with 'name' and 'steps', not a list"),
    ("just text\n", 1, "not the string 'just text'"),
    ("name: a\nsteps: [{press: back}]\nstep: []\n", 3, "unknown key 'step' in flow (did you mean 'steps'?)"),
    ("name: a\nname: b\nsteps: [{press: back}]\n", 2, "duplicate key 'name' in flow (first at line 1)"),
    ("steps: [{press: back}]\n", 1, "a flow needs 'name'"),
    ("name: a\n", 1, "a flow needs 'steps'"),
    ("name: Remove_Account\nsteps: [{press: back}]\n", 1, "flow name 'Remove_Account' must be lowercase"),
    ("name: a\nsteps: []\n", 2, "steps must not be empty"),
    ("name: a\nsteps: {press: back}\n", 2, "steps must be a list of steps"),
    ("name: a\ndestructive: maybe\nsteps: [{press: back}]\n", 2, "destructive must be true or false, not the string 'maybe'"),
    ("name: a\nsteps:\n  - press: back\n  - wait\n", 4, "'wait' is only a drive rule action"),
    ("name: a\nsteps:\n  - fail: no\n", 3, "'fail' is only a drive rule action"),
    ("name: a\nsteps:\n  - 42\n", 3, "a step must be a mapping"),
    ("name: !!binary aGk=\nsteps: [{press: back}]\n", 1, "unsupported YAML tag tag:yaml.org,2002:binary"),
    ("name: !custom a\nsteps: [{press: back}]\n", 1, "unsupported YAML tag !custom"),
    ("name: a\n? [x]\n: y\nsteps: [{press: back}]\n", 2, "keys in flow must be plain strings"),
])
def test_flow_level_errors(text: str, line: int, message: str) -> None:
    error = parse_error(text)
    assert error.data["line"] == line
    assert str(error).startswith(f"t.yaml:{line}: ")
    assert message in str(error)


@pytest.mark.parametrize(("text", "line", "message"), [
    ("name: a\nsteps: x: y\n", 2, "invalid YAML: mapping values are not allowed here"),
    ("name: a\nsteps:\n\t- press: back\n", 3, "invalid YAML: found character '\\t' that cannot start any token"),
    ("name: a\nsteps: [{press: back}\n", 3, "invalid YAML: expected ',' or ']'"),
    ("name: a\n---\nname: b\n", 2, "invalid YAML: but found another document (expected a single document"),
    ("name: a\nsteps: [x]\n\x00\n", 3, "invalid YAML: unacceptable character"),
    ("name: a\nsteps: *nowhere\n", 2, "invalid YAML: found undefined alias 'nowhere'"),
    ("name: a\nsteps: " + "[" * 3000 + "]" * 3000 + "\n", 2, "invalid YAML: nested too deeply"),
])
def test_malformed_yaml_becomes_one_line_with_its_line(text: str, line: int, message: str) -> None:
    error = parse_error(text)
    assert str(error).startswith(f"t.yaml:{line}: {message}")
    assert "\n" not in str(error)


@pytest.mark.parametrize(("steps", "line", "message"), [
    # unknown keys and kinds, with suggestions
    ("- tap: {txt: OK}", 7, "unknown key 'txt' in tap (did you mean 'text'?)"),
    ("- tap: {text: OK}\n  tiemout: 3", 8, "unknown key 'tiemout' in tap step (did you mean 'timeout'?)"),
    ("- scrollto: OK", 7, "unknown step kind 'scrollto' (did you mean 'scroll-to'?)"),
    ("- {timeout: 3, optional: true}", 7, "a step needs a kind"),
    ("- tap: OK\n  type: {text: x}", 8, "a step has one kind, found 'tap' and 'type'"),
    ("- tap: {text: OK, text: Cancel}", 7, "duplicate key 'text' in tap (first at line 7)"),
    ("- press: back\n  press: home", 8, "duplicate key 'press' in step (first at line 7)"),
    # screens
    ("- expect: setings_home", 7, "unknown screen 'setings_home' (did you mean 'settings_home'?)"),
    ("- expect: [account, nowhere]", 7, "unknown screen 'nowhere'"),
    ("- tap: OK\n  expect: acount", 8, "unknown screen 'acount' (did you mean 'account'?)"),
    ("- expect: []", 7, "expect must not be an empty list"),
    # expect / then / else placement
    ("- shell: dumpsys account\n  expect: account", 8, "'expect' only follows an action step"),
    ("- expect: account\n  timeout: 0", 8, "timeout must be more than 0"),
    ("- tap: OK\n  then: [{press: back}]", 8, "'then' belongs to a 'when' step"),
    ("- when: {screen: signin}", 7, "a when step needs 'then'"),
    ("- when: {screen: signin}\n  then: []", 8, "then must not be empty"),
    ("- when: {screen: signin, equals: x}\n  then: [{press: back}]", 7, "a screen condition takes no 'equals'"),
    # types and ranges
    ("- press: back\n  timeout: -1", 8, "timeout must be more than 0 and at most 86400 seconds, not -1"),
    ("- press: back\n  timeout: '5'", 8, "timeout must be a number of seconds, not the string '5'"),
    ("- press: back\n  timeout: .inf", 8, "timeout must be a number of seconds"),
    ("- press: back\n  timeout: 90000", 8, "at most 86400 seconds"),
    ("- press: back\n  optional: maybe", 8, "optional must be true or false, not the string 'maybe'"),
    ("- press: back\n  name: [a]", 8, "name must be a string, not a list"),
    ("- press: bak", 7, "press takes one of back, home, enter, recent, not 'bak' (did you mean 'back'?)"),
    ("- retry: {times: three, steps: [{press: back}]}", 7, "times must be a whole number, not the string 'three'"),
    ("- retry: {times: 11, steps: [{press: back}]}", 7, "times must be between 1 and 10, not 11"),
    ("- retry: {times: 0, steps: [{press: back}]}", 7, "times must be between 1 and 10, not 0"),
    ("- retry: {times: !!int '', steps: [{press: back}]}", 7, "times must be a whole number"),
    ("- retry: {times: 2}", 7, "retry needs 'steps'"),
    ("- scroll-to: {text: OK, max-swipes: 0}", 7, "max-swipes must be between 1 and 50"),
    # selectors
    ("- tap: {}", 7, "tap needs at least one of: id, text"),
    ("- tap:", 7, "tap needs a selector"),
    ("- tap: {index: 1, last: true}", 7, "tap needs at least one of"),
    ("- tap: {text: OK, index: 1, last: true}", 7, "a selector takes index or last, not both"),
    ("- tap: {text: OK, index: -1}", 7, "index must be between 0 and 1000"),
    ("- tap: {text: ''}", 7, "text must not be empty"),
    ("- tap: {text: []}", 7, "text must not be an empty list"),
    ("- tap: {text: [OK, {a: b}]}", 7, "text must be a string, not a mapping"),
    ("- tap: {text_matches: 'Sign (in'}", 7, "text_matches is not a valid regex: missing ), unterminated subpattern"),
    ("- tap: {text_matches: '${mode}'}", 7, "params are not substituted in regexes"),
    ("- scroll-to: {text: OK, scroll: true}", 7, "scroll is not allowed in scroll-to"),
    ("- wait-for: {gone: {text: OK, scroll: true}}", 7, "scroll is not allowed in gone"),
    # type
    ("- type: {into: {id: a:id/b}, text: x, secret: password}", 7,
     "type takes only one of text, secret; found 'text' and 'secret'"),
    ("- type: {into: {id: a:id/b}}", 7, "type needs one of: text, secret"),
    ("- type: {secret: mode}", 7, "param 'mode' is not secret"),
    ("- type: {secret: pasword}", 7, "this flow has none by that name (did you mean 'password'?)"),
    ("- type: {secret: hunter2}", 7, "this flow has none by that name (secret params: password)"),
    # open
    ("- open: {action: a.B, app: com.x.y}", 7, "open takes only one of action, component, app"),
    ("- open: {extras: {a: 1}}", 7, "open needs one of: action, component, app"),
    ("- open: {component: com.android.settings}", 7, "component 'com.android.settings' is not valid"),
    ("- open: {app: backup}", 7, "app 'backup' is not valid (e.g. com.miui.backup)"),
    ("- open: {app: com.miui.backup, extras: {a: 1}}", 7, "extras need an intent"),
    ("- open: {action: a.B, extras: {a: .nan}}", 7, "extra 'a' must be a finite number"),
    ("- open: {action: a.B, extras: {a: [1]}}", 7, "extra 'a' must be a string, not a list"),
    # wait-for, screenshot, shell save-as
    ("- wait-for: {screen: account, gone: OK}", 7, "wait-for takes only one of screen, gone, exists"),
    ("- wait-for: {screen: account, timeout: 3}\n  timeout: 4", 8, "timeout is given twice"),
    ("- screenshot: {}", 7, "screenshot needs 'name'"),
    ("- screenshot: ../etc/passwd", 7, "screenshot name '../etc/passwd' must be letters"),
    ("- shell: {command: dumpsys account, save-as: mode}", 7, "save-as 'mode' would hide the param"),
    ("- shell: {command: dumpsys account, save-as: 1x}", 7, "save-as '1x' must be letters"),
    ("- shell: {save-as: x}", 7, "shell needs 'command'"),
    # references and secrets
    ("- tap: {text: '${nope}'}", 7, "unknown reference ${nope}"),
    ("- tap: {text: '${mdoe}'}", 7, "unknown reference ${mdoe} (did you mean 'mode'?)"),
    ("- tap: {text: 'a ${mode b}'}", 7, "text: malformed reference '${mode b}'"),
    ("- tap: {text: '${model}'}\n- shell: {command: getprop ro.product.model, save-as: model}", 7,
     "unknown reference ${model}"),
    ("- type: {text: '${password}'}", 7, "secret param 'password' cannot be used as ${password}"),
    ("- tap: {text: ['OK', 'pw ${password}']}", 7, "secret param 'password' cannot be used as ${password}"),
    ("- open: {action: a.B, extras: {pw: '${password}'}}", 7, "secret param 'password' cannot be used"),
    ("- assert: {param: password, equals: x}", 7, "secret param 'password' cannot be compared"),
    ("- assert: {param: mode, contains: '${password}'}", 7, "secret param 'password' cannot be used"),
    ("- assert: {param: nope, equals: x}", 7, "unknown param 'nope'"),
    ("- assert: {param: mode, equals: delete}", 7, "'delete' is not a choice of param 'mode' (keep, remove)"),
    # conditions
    ("- assert: {prop: 'ro x', equals: y}", 7, "prop 'ro x' is not a property name"),
    ("- assert: {prop: ro.x}", 7, "a prop condition needs one of: equals"),
    ("- assert: {prop: ro.x, equals: a, contains: b}", 7, "a prop condition takes only one of"),
    ("- assert: {screen: account, prop: ro.x}", 7, "assert takes only one of screen, shell, prop, param"),
    ("- assert: {prop: ro.x, matches: '('}", 7, "matches is not a valid regex"),
    ("- assert: {shel: ls}", 7, "unknown key 'shel' in assert (did you mean 'shell'?)"),
    # drive
    ("- drive: {until: account}", 7, "drive needs 'rules'"),
    ("- drive: {until: account, rules: }", 7, "drive needs rules"),
    ("- drive: {until: account, rules: {}}", 7, "drive needs at least one rule"),
    ("- drive: {rules: {signin: done}}", 7, "drive needs 'until'"),
    ("- drive: {until: account, max-steps: 51, rules: {signin: done}}", 7, "max-steps must be between 1 and 50"),
    ("- drive: {until: account, max-steps: 0, rules: {signin: done}}", 7, "max-steps must be between 1 and 50"),
    ("- drive:\n    until: account\n    rules:\n      signn: done", 10, "unknown screen 'signn' (did you mean 'signin'?)"),
    ("- drive:\n    until: account\n    rules:\n      signin: wiat", 10, "a rule action is a step, a list of steps, wait, "
     "done or {fail: message}, not the string 'wiat' (did you mean 'wait'?)"),
    ("- drive:\n    until: account\n    rules:\n      signin: [wait, {press: back}]", 10, "'wait' ends a rule"),
    ("- drive:\n    until: account\n    rules:\n      signin: []", 10, "a rule must not be an empty list"),
    ("- drive:\n    until: account\n    rules:\n      signin:", 10, "not empty"),
    ("- drive:\n    until: [account, signin]\n    rules:\n      signin: done", 10, "the rule for 'signin' never runs"),
    ("- drive:\n    until: account\n    rules:\n      signin: {fail: '', x: 1}", 10, "unknown key 'x' in fail action"),
    ("- drive:\n    until: account\n    rules:\n      signin: {fail: ''}", 10, "fail message must not be empty"),
    ("- drive:\n    until: account\n    rules:\n      signin: {tap: OK, expect: nowhere}", 10, "unknown screen 'nowhere'"),
    ("- drive:\n    until: account\n    rules:\n      signin: done\n      signin: wait", 11, "duplicate key 'signin' in rules"),
    # run without a resolver
    ("- run: other", 7, "cannot load flow 'other': sub-flows need a resolver"),
])
def test_step_errors(steps: str, line: int, message: str) -> None:
    error = step_error(steps)
    assert str(error).startswith(f"t.yaml:{line}: "), str(error)
    assert message in str(error)


def test_a_password_typed_into_secret_is_not_echoed() -> None:
    error = str(parse_error("name: a\nsteps:\n  - type: {secret: Tr0ub4dor&3}\n"))
    assert "Tr0ub4dor" not in error
    assert error.endswith("(declare one under params with secret: true)")
    error = str(step_error("- run: {flow: sub, params: {pw: {secret: Tr0ub4dor}}}", resolver_of({"sub": SUB})))
    assert "Tr0ub4dor" not in error and "secret params: password" in error


def test_param_errors() -> None:
    def param_error(params: str) -> str:
        return str(parse_error(f"name: p\nparams:\n{textwrap.indent(params, '  ')}\nsteps: [{{press: back}}]\n"))

    assert param_error("pw: {secret: true, default: hunter2}") == (
        "t.yaml:3: secret param 'pw' cannot have a default: the password would sit in the YAML in plaintext "
        "(use env: or let the tool prompt)")
    assert param_error("pw: {secret: true, choices: [a]}").startswith("t.yaml:3: secret param 'pw' cannot have choices")
    assert param_error("m: {default: x, choices: [a, b]}").startswith("t.yaml:3: default 'x' of param 'm' is not one of")
    assert param_error("m: {default: a, required: true}") == "t.yaml:3: param 'm' has a default, so it cannot be required"
    assert param_error("m: {default: }").startswith("t.yaml:3: default of param 'm' is empty")
    assert param_error("m: {env: 'NOT VALID'}").startswith("t.yaml:3: env 'NOT VALID' is not an environment variable")
    assert param_error("m: {choices: a}") == "t.yaml:3: choices of param 'm' must be a list"
    assert param_error("m: {choices: [a, a]}") == "t.yaml:3: choices of param 'm' repeat a value"
    assert param_error("m: {secrte: true}") == "t.yaml:3: unknown key 'secrte' in param 'm' (did you mean 'secret'?)"
    assert param_error("9m: x") == "t.yaml:3: param name '9m' must be letters, digits and '_' (not starting with a digit)"
    assert param_error("a: x\na: y") == "t.yaml:4: duplicate key 'a' in params (first at line 3)"
    assert param_error("m: [a]") == "t.yaml:3: default of param 'm' must be a string, not a list"


# --- read-only shell policy -----------------------------------------------------------------------------


@pytest.mark.parametrize("command", [
    "rm -rf /sdcard/DCIM", "input tap 1 2", "am start -n com.x/.A", "pm clear com.xiaomi.account",
    "settings put secure x 1", "reboot", "reboot recovery", "echo x > /sdcard/f", "echo x >> /sdcard/f",
    "sh -c 'rm x'", "su -c 'pm clear x'", "su 0 rm x", "dumpsys battery set level 5", "cmd package uninstall com.x",
    "find /sdcard -name x -delete", "find / -exec rm {} +", "ls $(rm x)", "ls `rm x`", "ls; rm x", "ls && reboot",
    "ls || svc power stayon true", "ls | xargs rm", "wm size 100x100", "wm density reset", "/system/bin/rm x",
    "FOO=1 rm x", "busybox rm x", "toybox rm x", "logcat -c", "setprop persist.security.adbinput 1",
    "content delete --uri content://x", "appops set com.x CAMERA deny", "bmgr backupnow --all", "sed -i s/a/b/ f",
    "cmd activity force-stop com.x", "am broadcast -a x", "pm uninstall -k --user 0 com.x", "(rm x)", "{ rm x; }",
    "ls\nrm x", "timeout 5 rm x", "nohup reboot", "cat x | tee /sdcard/y", "pm grant com.x android.permission.X",
    "service call phone 1", "monkey -p com.x 1", "'rm' x", "sh script.sh", "eval ls", "cat <(rm x)",
    "echo 'unbalanced", "", "r\\m x", 'echo "$(reboot)"',
])
def test_mutating_shell_commands_are_refused(command: str) -> None:
    assert shell_refusal(command)


@pytest.mark.parametrize("command", [
    "dumpsys account", "getprop ro.miui.ui.version.name", "pm list packages -3", "pm path com.miui.backup",
    "settings get secure android_id", "ls /sdcard 2>/dev/null", "dumpsys window | grep mCurrentFocus",
    "cmd package list packages", "wm size", "wm density", "content query --uri content://sms", "cat /proc/meminfo",
    "logcat -d -t 100", "ls -la /sdcard/MIUI/backup/AllBackup 2>&1", "df -h /data", "dumpsys battery",
    "dumpsys package com.xiaomi.account", "am get-current-user", "uiautomator dump /dev/null", "id; whoami",
    "su -c 'dumpsys account'", "grep -c 'type=com.xiaomi' /dev/null", "echo '> not a redirect'", "stat /sdcard",
    "grep '>' /dev/null", "grep 'a|b' /dev/null", 'echo "rm is only a word here"', "ls 2>&1 | grep -v rm",
])
def test_read_only_shell_commands_pass(command: str) -> None:
    assert shell_refusal(command) is None


def test_mutating_shell_in_steps_and_conditions_is_a_load_error() -> None:
    assert str(step_error("- shell: pm clear com.xiaomi.account")) == (
        "t.yaml:7: shell command 'pm clear com.xiaomi.account' is not a read-only check: 'pm clear' changes the phone")
    assert "'reboot' changes the phone" in str(step_error("- assert: {shell: reboot, contains: x}"))
    assert "'rm' changes" in str(step_error("- when: {shell: 'ls; rm x', equals: ''}\n  then: [{press: back}]"))
    assert "'input' changes" in str(step_error("- drive: {until: {shell: input keyevent 3, contains: x}, "
                                                "rules: {signin: done}}"))
    assert "not substituted in shell commands" in str(step_error("- shell: ls ${mode}"))


# --- sub-flows ---------------------------------------------------------------------------------------


SUB = """\
name: sub
params:
  mode: {choices: [keep, remove]}
  pw: {secret: true}
  note: {default: ''}
steps: [{press: back}]
"""


def test_run_resolves_validates_and_passes_params_and_secrets() -> None:
    step = only_step("- run: {flow: sub, params: {mode: '${mode}', pw: {secret: password}, note: hi}}",
                     resolver_of({"sub": SUB}))
    assert isinstance(step, model.RunStep)
    assert (step.flow_ref, step.flow.name, step.flow.path) == ("sub", "sub", "sub.yaml")
    assert step.params == (("mode", "${mode}"), ("note", "hi"))
    assert step.secrets == (("pw", "password"),)
    assert step.describe() == 'run flow sub (mode="${mode}", note="hi", pw=secret "password")'


@pytest.mark.parametrize(("steps", "line", "message"), [
    ("- run: nope", 7, "run: no flow 'nope'"),
    ("- run: sub", 7, "flow 'sub' needs param(s): mode"),
    ("- run: {flow: sub, params: {mdoe: keep}}", 7, "flow 'sub' has no param 'mdoe' (did you mean 'mode'?)"),
    ("- run: {flow: sub, params: {mode: delete}}", 7, "'delete' is not a choice of param 'mode' (keep, remove)"),
    ("- run: {flow: sub, params: {mode: keep, pw: x}}", 7, "'pw' is a secret of flow 'sub'"),
    ("- run: {flow: sub, params: {mode: keep, pw: {secret: mode}}}", 7, "'mode' is not a secret param of this flow"),
    ("- run: {flow: sub, params: {mode: {secret: password}}}", 7, "param 'mode' of the sub-flow is not secret"),
    ("- run: {flow: sub, params: {mode: '${password}'}}", 7, "secret param 'password' cannot be used"),
    ("- run: {flow: sub, params: [mode]}", 7, "run params must be a mapping"),
    ("- run: {flow: sub, parms: {}}", 7, "unknown key 'parms' in run (did you mean 'params'?)"),
    ("- run: renamed", 7, "flow file renamed.yaml is named 'other', not 'renamed'"),
    ("- run: {flow: sub, params: {mode: keep}}\n- run: danger", 8, "flow 'danger' is destructive, so this flow must say"),
])
def test_run_errors(steps: str, line: int, message: str) -> None:
    flows = {"sub": SUB, "renamed": "name: other\nsteps: [{press: back}]\n",
             "danger": "name: danger\ndestructive: true\nsteps: [{press: back}]\n"}
    error = step_error(steps, resolver_of(flows))
    assert str(error).startswith(f"t.yaml:{line}: "), str(error)
    assert message in str(error)


def test_errors_inside_a_subflow_name_the_subflow_file() -> None:
    error = step_error("- run: broken", resolver_of({"broken": "name: broken\nsteps:\n  - tap: {}\n"}))
    assert str(error).startswith("broken.yaml:3: tap needs at least one of")
    assert error.data == {"path": "broken.yaml", "line": 3}


def test_recursion_through_run_is_refused() -> None:
    flows = {"a": "name: a\nsteps: [{run: b}]\n", "b": "name: b\nsteps:\n  - press: back\n  - run: a\n"}
    error = step_error("- run: a", resolver_of(flows))
    assert str(error) == "b.yaml:4: run would recurse: a.yaml -> b.yaml -> a.yaml"
    error = step_error("- run: self", resolver_of({"self": "name: self\nsteps: [{run: self}]\n"}))
    assert "run would recurse: self.yaml -> self.yaml" in str(error)


def test_a_subflow_used_twice_is_loaded_once() -> None:
    calls: list[str] = []
    resolve = resolver_of({"sub": "name: sub\nsteps: [{press: back}]\n"})

    def counting(ref: str) -> tuple[str, str]:
        calls.append(ref)
        return resolve(ref)

    flow = parse("- run: sub\n- retry: {steps: [{run: sub}]}", counting)
    assert flow.steps[0].flow is flow.steps[1].steps[0].flow
    assert calls == ["sub", "sub"]


# --- nesting and alias bombs ---------------------------------------------------------------------------


def test_nesting_depth_is_bounded() -> None:
    inner = "{press: back}"
    for _ in range(20):
        inner = f"{{retry: {{steps: [{inner}]}}}}"
    assert "steps nested more than 16 levels deep" in str(step_error(f"- {inner}"))


def test_recursive_alias_in_steps_is_refused() -> None:
    text = "name: a\nsteps: &s\n  - retry: {steps: *s}\n"
    assert "alias *s is inside the collection it names" in str(parse_error(text))


def test_alias_bomb_is_bounded() -> None:
    text = "name: a\nsteps:\n  - &a0 {press: back}\n"
    for level in range(1, 8):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        text += f"  - &a{level} {{retry: {{steps: [{refs}]}}}}\n"  # 10**7 steps if expanded
    assert "YAML nodes once its aliases are expanded" in str(parse_error(text))


def test_merge_key_loops_are_refused() -> None:
    assert "merge key" in str(step_error("- tap: &m {text: OK, <<: *m}"))
    assert "merge key (<<) takes a mapping" in str(step_error("- tap: {<<: [x]}"))


# --- loading from files ---------------------------------------------------------------------------------


def test_load_by_path_and_relative_run(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "check.yaml").write_text("name: check\nsteps: [{assert: settings_home}]\n")
    main = tmp_path / "main.yaml"
    main.write_text("name: main\nsteps:\n  - run: lib/check.yaml\n", encoding="utf-8")
    flow = load_flow(main, known_screens=SCREENS)
    assert flow.path == str(main)
    assert flow.steps[0].flow.path == str(tmp_path / "lib" / "check.yaml")
    assert load_flow(str(main), known_screens=SCREENS) == flow


def test_load_by_builtin_name_needs_the_builtin_dir() -> None:
    with pytest.raises(FlowSyntaxError) as info:
        load_flow("remove-mi-account", known_screens=SCREENS)
    assert str(info.value).startswith("remove-mi-account: no built-in flow 'remove-mi-account': no built-in flow directory")
    with pytest.raises(FlowSyntaxError) as info:
        load_flow("remove-mi-acount", known_screens=SCREENS, builtin_dir=FIXTURES)
    assert str(info.value) == ("remove-mi-acount: no built-in flow 'remove-mi-acount' "
                               "(did you mean 'remove-mi-account'?)")
    assert FlowResolver(FIXTURES).names() == ["remove-mi-account", "verify-account-removed"]


def test_load_errors_for_files(tmp_path: Path) -> None:
    with pytest.raises(FlowSyntaxError, match=r"missing\.yaml: no flow file .*missing\.yaml"):
        load_flow(tmp_path / "missing.yaml", known_screens=SCREENS)
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"name: a\nsteps:\n  - tap: \xff\xfe\n")
    with pytest.raises(FlowSyntaxError) as info:
        load_flow(bad, known_screens=SCREENS)
    assert str(info.value) == f"{bad}:3: the flow file is not UTF-8 text"
    bom = tmp_path / "bom.yaml"
    bom.write_bytes("\ufeffname: a\nsteps: [{press: back}]\n".encode())
    assert load_flow(bom, known_screens=SCREENS).name == "a"
    with pytest.raises(FlowSyntaxError, match="cannot read the flow file"):
        load_flow(tmp_path, known_screens=SCREENS)


def test_run_of_a_missing_file_names_the_run_line(tmp_path: Path) -> None:
    main = tmp_path / "main.yaml"
    main.write_text("name: main\nsteps:\n  - press: back\n  - run: gone.yaml\n")
    with pytest.raises(FlowSyntaxError) as info:
        load_flow(main, known_screens=SCREENS)
    assert str(info.value) == f"{main}:4: run: no flow file {tmp_path / 'gone.yaml'}"


def test_a_builtin_flow_must_carry_its_file_name(tmp_path: Path) -> None:
    (tmp_path / "wipe.yaml").write_text("name: erase\nsteps: [{press: back}]\n")
    with pytest.raises(FlowSyntaxError) as info:
        load_flow("wipe", known_screens=SCREENS, builtin_dir=tmp_path)
    assert str(info.value) == f"{tmp_path / 'wipe.yaml'}:1: built-in flow file is named 'erase', not 'wipe'"
    assert load_flow(tmp_path / "wipe.yaml", known_screens=SCREENS).name == "erase"  # a path may hold any name


# --- the reference documentation stays true -------------------------------------------------------------


DOCS = Path(__file__).resolve().parents[3] / "docs" / "flows.md"
DOC_FLOWS = {
    "verify-account-removed": "name: verify-account-removed\nsteps: [{assert: settings_home}]\n",
    "checks/account.yaml": "name: account-check\nparams: {account_type: {}}\nsteps: [{press: back}]\n",
    "sign-in": "name: sign-in\nparams: {password: {secret: true}}\nsteps: [{type: {secret: password}}]\n",
}
DOC_HEADER = """\
name: doc
destructive: true
params:
  password: {secret: true}
  synced_data: {default: keep, choices: [keep, remove]}
  synced_data_label: {default: Keep}
steps:
  - shell: {command: dumpsys account, save-as: accounts}
"""


def doc_yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)


def test_every_yaml_example_in_the_reference_loads() -> None:
    blocks = doc_yaml_blocks()
    assert len(blocks) >= 15
    for block in blocks:
        if block.startswith("name:"):
            text = block
        elif block.startswith("params:"):
            text = "name: doc\n" + block + "steps: [{press: back}]\n"
        else:
            text = DOC_HEADER + textwrap.indent(block, "  ")
        try:
            parse_flow(text, "doc.yaml", known_screens=SCREENS, resolver=resolver_of(DOC_FLOWS),
                       known_tasks=registry())
        except FlowSyntaxError as exc:
            pytest.fail(f"docs/flows.md example does not load: {exc}\n{block}")
