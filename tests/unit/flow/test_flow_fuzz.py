"""Random YAML must either parse into a Flow or fail with FlowSyntaxError — never any other exception.

Three generators: arbitrary text (mostly not YAML), arbitrary nested data dumped as YAML with a mix of
real flow keys and junk, and flow-shaped documents whose step bodies use the real vocabulary with
random values, so the generated input reaches deep into the step parsers rather than stopping at the
first top-level check.
"""

from __future__ import annotations

import os

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from miui_automator.errors import FlowSyntaxError
from miui_automator.flow.model import Flow
from miui_automator.flow.parser import FLOW_KEYS, PARAM_KEYS, SELECTOR_KEYS, STEP_KINDS, parse_flow, shell_refusal
from miui_automator.tasks import registry

TASKS = {name: spec for name, spec in registry().items() if name in ("wait-for-reboot", "backup-miui-pull")}
"""Two tasks with declared arguments (seconds, flag), so argument checking is fuzzed too."""
SCREENS = ["settings_home", "account", "signout_confirm", "signout_password", "backup_done", "wipe_confirm"]
VOCABULARY = sorted(set(FLOW_KEYS + PARAM_KEYS + SELECTOR_KEYS + STEP_KINDS + (
    "timeout", "optional", "expect", "then", "else", "action", "component", "app", "extras", "into", "secret",
    "max-swipes", "screen", "gone", "exists", "command", "save-as", "prop", "param", "equals", "not-equals",
    "contains", "not-contains", "matches", "not-matches", "flow", "times", "steps", "until", "max-steps", "rules",
    "fail", "wait", "done", "password", "mode",
)))
WORDS = VOCABULARY + SCREENS + [
    "back", "home", "${mode}", "${password}", "${nope}", "${", "$${x}", "rm -rf /", "dumpsys account", "(",
    "com.miui.backup", "com.android.settings/.MainSettings", "android.settings.SETTINGS", "sub", "self", "broken",
]

SUBFLOWS = {
    "sub": "name: sub\nparams: {mode: {default: a, choices: [a, b]}}\nsteps: [{press: back}]\n",
    "self": "name: self\nsteps: [{run: self}]\n",
    "broken": "name: broken\nsteps: [{tap: {}}]\n",
}


def resolver(ref: str) -> tuple[str, str]:
    try:
        return SUBFLOWS[ref], f"<{ref}>"
    except KeyError:
        raise LookupError(f"no flow {ref!r}") from None


FUZZ = settings(max_examples=int(os.environ.get("FLOW_FUZZ_EXAMPLES", "250")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
"""FLOW_FUZZ_EXAMPLES=5000 digs deeper when the parser changes; the default keeps the suite fast."""


def check(text: str) -> None:
    try:
        flow = parse_flow(text, "fuzz.yaml", known_screens=SCREENS, resolver=resolver, known_tasks=TASKS)
    except FlowSyntaxError as exc:
        assert exc.data["path"] == "fuzz.yaml" or str(exc).startswith("<")
        assert "\n" not in str(exc)
        return
    assert isinstance(flow, Flow)
    for step in flow.walk(subflows=True):
        assert isinstance(step.describe(), str)


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 60), st.floats(allow_nan=True), st.text(max_size=12),
    st.sampled_from(WORDS),
)
keys = st.one_of(st.sampled_from(VOCABULARY), st.text(max_size=8))
data = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4)),
    max_leaves=30,
)


@FUZZ
@given(st.text(max_size=300))
def test_random_text_only_raises_flow_syntax_error(text: str) -> None:
    check(text)


@FUZZ
@given(data)
def test_random_yaml_data_only_raises_flow_syntax_error(value: object) -> None:
    check(yaml.safe_dump(value, allow_unicode=True))


# Flow-shaped documents: real keys for each step kind, values mostly plausible, sometimes wrong.
words = st.sampled_from(["OK", "Sign out", "退出登录", "${mode}", "${out}", "${password}", "${nope}", "$${x}", "${", "",
                         "a(b", "com.x:id/y"])
regexes = st.sampled_from(["Sign (in|out)", "(", "a{2,}", "${mode}", "[z-a]"])
screen = st.sampled_from(SCREENS + ["nowhere", ""])
screens = st.one_of(screen, st.lists(screen, max_size=3))
commands = st.sampled_from(["dumpsys account", "getprop ro.x", "rm -rf /", "ls | grep x", "am start -n a/.B", "echo 'open",
                            "sh -c 'pm clear x'", "ls > /sdcard/x", "ls ${mode}", "su -c", "a && b || c; d", "`x`"])
names = st.sampled_from(["mode", "password", "out", "nope", "9x"])
task_args = st.sampled_from(["gone_timeout", "back_timeout", "required", "gone_timout"])


def plausible(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly ``strategy``, sometimes any scalar — the wrong type in the right place."""
    return st.one_of(strategy, strategy, strategy, scalars)


selector = plausible(st.one_of(words, st.fixed_dictionaries({}, optional={
    "id": words, "text": st.one_of(words, st.lists(words, max_size=3)), "text_matches": regexes, "text_contains": words,
    "desc": words, "cls": words, "package": words, "index": st.integers(-1, 3), "last": st.booleans(),
    "scroll": st.booleans(),
})))
comparisons = {op: plausible(words) for op in ("equals", "not-equals", "contains", "not-contains")}
condition = plausible(st.one_of(screens, st.fixed_dictionaries({}, optional={
    "screen": screens, "shell": commands, "prop": st.sampled_from(["ro.x", "bad prop"]), "param": names,
    "matches": regexes, **comparisons,
})))
step = st.deferred(lambda: st.one_of(*(kind_step(kind) for kind in STEP_KINDS)))
step_list = st.lists(step, max_size=3)
bodies = {
    "open": plausible(st.fixed_dictionaries({}, optional={
        "action": st.sampled_from(["android.settings.SETTINGS", "not an action"]),
        "component": st.sampled_from(["com.android.settings/.MainSettings", "nope"]),
        "app": st.sampled_from(["com.miui.backup", "x"]),
        "extras": st.dictionaries(st.text(max_size=4), scalars, max_size=2),
    })),
    "tap": selector,
    "type": plausible(st.fixed_dictionaries({}, optional={"into": selector, "text": words, "secret": names})),
    "scroll-to": plausible(st.one_of(selector, st.fixed_dictionaries({"text": words, "max-swipes": st.integers(0, 60)}))),
    "press": plausible(st.sampled_from(["back", "home", "enter", "recent", "bak"])),
    "expect": plausible(screens),
    "wait-for": plausible(st.one_of(screens, st.fixed_dictionaries({}, optional={
        "screen": screens, "gone": selector, "exists": selector, "timeout": st.one_of(st.floats(-1, 200), scalars),
    }))),
    "shell": plausible(st.one_of(commands, st.fixed_dictionaries({"command": commands}, optional={"save-as": names}))),
    "screenshot": plausible(st.one_of(words, st.fixed_dictionaries({"name": st.sampled_from(["shot-1", "bad name"])}))),
    "assert": condition,
    "run": plausible(st.one_of(
        st.sampled_from(["sub", "self", "broken", "missing"]),
        st.fixed_dictionaries({"flow": st.sampled_from(["sub", "self", "broken"])}, optional={
            "params": st.dictionaries(names, st.one_of(words, st.fixed_dictionaries({"secret": names})), max_size=2),
        }),
    )),
    "when": condition,
    "retry": plausible(st.fixed_dictionaries({"steps": step_list}, optional={"times": st.integers(-1, 12)})),
    "drive": plausible(st.fixed_dictionaries({"until": condition, "rules": st.dictionaries(screen, st.one_of(
        st.sampled_from(["wait", "done", "wiat"]), st.fixed_dictionaries({"fail": words}), step, step_list,
    ), max_size=3)}, optional={"max-steps": st.integers(0, 60)})),
    "task": plausible(st.one_of(st.sampled_from(["wait-for-reboot", "no-such-task"]), st.fixed_dictionaries(
        {"name": st.sampled_from(["wait-for-reboot", "backup-miui-pull", "nope"])},
        optional={"with": plausible(st.dictionaries(st.one_of(words, task_args), st.one_of(scalars, words), max_size=2))}))),
}
modifiers = {"timeout": plausible(st.floats(0, 100)), "optional": plausible(st.booleans()), "name": words}


def kind_step(kind: str) -> st.SearchStrategy:
    extra = {"expect": screens} if kind in ("open", "tap", "type", "press", "scroll-to") else {}
    required = {kind: bodies[kind], **({"then": step_list} if kind == "when" else {})}
    optional = {**modifiers, **extra, **({"else": step_list} if kind == "when" else {})}
    return st.fixed_dictionaries(required, optional=optional)


params = st.one_of(
    st.just({"password": {"secret": True, "env": "PW"}, "mode": {"default": "a", "choices": ["a", "b"]}}),
    st.dictionaries(names, st.one_of(scalars, st.dictionaries(st.sampled_from(PARAM_KEYS), scalars, max_size=3)),
                    max_size=3),
)


@FUZZ
@given(destructive=st.booleans(), params=params, steps=st.lists(step, min_size=1, max_size=4))
def test_flow_shaped_documents_only_raise_flow_syntax_error(destructive: bool, params: object, steps: object) -> None:
    document = {"name": "fuzz-flow", "destructive": destructive, "params": params, "steps": steps}
    check(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))


@FUZZ
@given(st.data())
def test_damaged_valid_flows_only_raise_flow_syntax_error(draw: st.DataObject) -> None:
    text = VALID
    cut = draw.draw(st.integers(0, len(text)))
    insert = draw.draw(st.sampled_from(["", ":", "-", " ", "\n", "[", "{", "}", "'", '"', "\t", "&a", "*a", "!!int "]))
    drop = draw.draw(st.integers(0, 3))
    check(text[:cut] + insert + text[cut + drop:])


VALID = """\
name: fuzz-flow
destructive: true
params:
  password: {secret: true, env: PW}
  mode: {default: a, choices: [a, b]}
steps:
  - open: {action: android.settings.SETTINGS, extras: {n: 1}}
    expect: settings_home
  - tap: {text: [Sign out, 退出登录], scroll: true}
  - type: {into: {id: android:id/input}, secret: password}
  - shell: {command: dumpsys account, save-as: out}
  - assert: {param: out, contains: "${mode}"}
  - run: {flow: sub, params: {mode: "${mode}"}}
  - when: {param: mode, equals: b}
    then: [{press: back}]
  - retry: {times: 2, steps: [{wait-for: {gone: {text: x}, timeout: 3}}]}
  - drive:
      until: [settings_home]
      rules:
        account: [{tap: {id: a}}, wait]
        signout_confirm: {fail: "no ${mode}"}
"""


def test_the_damage_base_flow_is_valid() -> None:
    flow = parse_flow(VALID, "fuzz.yaml", known_screens=SCREENS, resolver=resolver)
    assert flow.name == "fuzz-flow"
    assert len(list(flow.walk())) == 14


@FUZZ
@given(st.one_of(st.text(max_size=80), st.lists(st.sampled_from(WORDS + [";", "|", "&&", ">", "2>&1", "'", '"', "\\",
                                                                       "sh", "-c", "su", "busybox", "\n"]),
                                                max_size=8).map(" ".join)))
def test_shell_policy_never_raises(command: str) -> None:
    reason = shell_refusal(command)
    assert reason is None or (isinstance(reason, str) and reason)
