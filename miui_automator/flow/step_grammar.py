"""The grammar of each step kind: one builder per kind turns the step's YAML body into the keyword
arguments of its model class.

Builders are registered by kind in :data:`BUILDERS`, which must cover every kind of
:data:`~miui_automator.flow.model.STEP_CLASSES` (checked when this module loads). Each takes the
:class:`~miui_automator.flow.parser.FlowParser` reading the file (its node readers, the params and
variables in scope, the loader for sub-flows), the step's body node, the step's own fields (``when``
reads ``then``/``else`` there) and the nesting depth. The parser handles what every step shares
(``timeout``, ``optional``, ``name``, ``expect``).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any, NoReturn

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from miui_automator.flow.model import (
    DRIVE_MAX_STEPS_CAP, DRIVE_MAX_STEPS_DEFAULT, KEYS, RETRY_TIMES_CAP, RETRY_TIMES_DEFAULT, SCROLL_MAX_SWIPES_CAP,
    Condition, DoneAction, FailAction, Flow, Item, Param, RuleAction, WaitAction, references,
)
from miui_automator.flow.selectors import MATCH_KEYS, MODIFIER_KEYS, UNRESOLVED, Selector
from miui_automator.strings.refs import split_texts
from miui_automator.flow.step_registry import KindTable
from miui_automator.yaml_reader import TAG, Fields, number, one_line, suggest

if TYPE_CHECKING:
    from miui_automator.flow.parser import FlowParser

__all__ = ["BUILDERS", "IDENTIFIER", "MAX_NESTING", "RULE_WORDS", "SELECTOR_KEYS", "canonical", "is_path_ref"]

Builder = Callable[["FlowParser", Node, Fields, int], dict[str, Any]]
BUILDERS: KindTable[Builder] = KindTable("builder")
"""Step kind -> builder; a builder may return ``timeout`` when the body holds one (wait-for)."""

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_JAVA_PACKAGE = r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)+"
PACKAGE = re.compile(_JAVA_PACKAGE + r"\Z")
COMPONENT = re.compile(_JAVA_PACKAGE + r"/\.?[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)*\Z")
INTENT_ACTION = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*\Z")
PROP_NAME = re.compile(r"[A-Za-z0-9_.\-]+\Z")
SHOT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
DATA_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s\\\"'`$]+\Z")
SELECTOR_KEYS = MATCH_KEYS + MODIFIER_KEYS
CONDITION_SUBJECTS = ("screen", "shell", "prop", "param", "mi-account")
MI_ACCOUNT_STATES = ("present", "absent")
MAX_NESTING = 16
"""Deepest nesting of step lists (when/retry/drive inside each other); also stops alias loops."""
RULE_WORDS = ("wait", "done")


def is_path_ref(ref: str) -> bool:
    """A ``run``/CLI flow reference is a path if it has a directory part or a YAML suffix, else a built-in name."""
    return "/" in ref or os.sep in ref or ref.endswith((".yaml", ".yml"))


def canonical(path: str) -> str:
    return path if path.startswith("<") else os.path.realpath(path)


@BUILDERS.register("open")
def build_open(p: FlowParser, body: Node, step: Fields, depth: int) -> dict[str, Any]:
    f = p.fields(body, "open", ("action", "component", "app", "extras", "data"))
    target = f.exactly_one(("action", "component", "app"), "open")
    value_node = f.get(target)
    value = p.text(value_node, target)
    pattern, example = {"action": (INTENT_ACTION, "android.settings.SETTINGS"),
                        "component": (COMPONENT, "com.android.settings/.MainSettings"),
                        "app": (PACKAGE, "com.miui.backup")}[target]
    if not pattern.match(value):
        p.fail(value_node, f"{target} {value!r} is not valid (e.g. {example})")
    extras: list[tuple[str, str | int | float | bool]] = []
    if "extras" in f:
        if target == "app":
            p.fail(f.key_node("extras"), "extras need an intent (action or component), not app")
        extras_node = p.mapping(f.get("extras"), "extras")
        for key, _, extra in p.pairs(extras_node, "extras"):
            extras.append((key, extra_value(p, extra, key)))
    values: dict[str, Any] = {target: value, "extras": tuple(extras)}
    if "data" in f:
        if target == "app":
            p.fail(f.key_node("data"), "data needs an intent (action or component), not app")
        data_node = f.get("data")
        data = p.text(data_node, "data")
        if not DATA_URI.match(data):
            p.fail(data_node, f"data {data!r} is not a URI (e.g. https://account.xiaomi.com/pass/del); it is "
                                 "literal: no spaces, quotes, backslashes or ${...}")
        values["data"] = data
    return values


def extra_value(p: FlowParser, node: Node, key: str) -> str | int | float | bool:
    what = f"extra '{key}'"
    if isinstance(node, ScalarNode) and node.tag == TAG + "bool":
        return p.boolean(node, what)
    if isinstance(node, ScalarNode) and node.tag == TAG + "int":
        return p.integer(node, what, -(2**63), 2**63 - 1)
    if isinstance(node, ScalarNode) and node.tag == TAG + "float":
        value = number(node)
        if value is None or not math.isfinite(value):
            p.fail(node, f"{what} must be a finite number, not {node.value!r}")
        return float(value)
    return p.template(node, what, empty_ok=True)


def selector(p: FlowParser, node: Node, what: str, *, scroll_ok: bool, extra: Collection[str] = ()) -> tuple[Selector, Fields | None]:
    """A selector mapping; a string or list of strings is short for ``{text: ...}``."""
    if not isinstance(node, MappingNode):
        if isinstance(node, ScalarNode) and node.tag == TAG + "null":
            p.fail(node, f"{what} needs a selector (id, text, ...)")
        return Selector(line=p.line(node), **selector_texts(p, node, f"{what} text")), None
    f = p.fields(node, what, SELECTOR_KEYS + tuple(extra))
    values: dict[str, Any] = {}
    for key in ("id", "text_contains", "desc", "cls", "package"):
        if key in f:
            values[key] = p.template(f.get(key), key)
    if "text" in f:
        values.update(selector_texts(p, f.get("text"), "text"))
    if "text_matches" in f:
        values["text_matches"] = p.regex(f.get("text_matches"), "text_matches")
    if not values:
        p.fail(node, f"{what} needs at least one of: {', '.join(MATCH_KEYS)}")
    if "index" in f:
        values["index"] = p.integer(f.get("index"), "index", 0, 1000)
    if "last" in f:
        values["last"] = p.boolean(f.get("last"), "last")
        if values["last"] and "index" in values:
            p.fail(f.key_node("last"), "a selector takes index or last, not both")
    if "scroll" in f:
        if not scroll_ok:
            p.fail(f.key_node("scroll"), f"scroll is not allowed in {what} "
                                            "(only tap and type selectors scroll to their element)")
        values["scroll"] = p.boolean(f.get("scroll"), "scroll")
    return Selector(line=p.line(node), **values), f


def selector_texts(p: FlowParser, node: Node, what: str) -> dict[str, Any]:
    """``text`` alternatives: literal texts (``${...}`` allowed) and ``@package:string/key`` resources."""
    try:
        literals, refs = split_texts(p.templates(node, what))
    except ValueError as exc:
        p.fail(node, f"{what}: {exc}")
    if refs and not literals:
        literals = (UNRESOLVED,)
    return {"text": literals, "text_refs": refs}


@BUILDERS.register("tap")
def build_tap(p: FlowParser, body: Node, step: Fields, depth: int) -> dict[str, Any]:
    return {"selector": selector(p, body, "tap", scroll_ok=True)[0]}


@BUILDERS.register("type")
def build_type(p: FlowParser, body: Node, step: Fields, depth: int) -> dict[str, Any]:
    f = p.fields(body, "type", ("into", "text", "secret"))
    which = f.exactly_one(("text", "secret"), "type")
    values: dict[str, Any] = {}
    if "into" in f:
        values["into"] = selector(p, f.get("into"), "into", scroll_ok=True)[0]
    if which == "text":
        values["text"] = p.template(f.get("text"), "text", empty_ok=True)
        return values
    secret_node = f.get("secret")
    name = p.text(secret_node, "secret")
    param = p.params.get(name)
    if param is None:
        unknown_secret(p, secret_node, name)
    if not param.secret:
        p.fail(secret_node, f"param '{name}' is not secret: type it with text: \"${{{name}}}\" "
                               "or declare it with secret: true")
    values["secret"] = name
    return values


@BUILDERS.register("scroll-to")
def build_scroll_to(p: FlowParser, body: Node, step: Fields, depth: int) -> dict[str, Any]:
    found, f = selector(p, body, "scroll-to", scroll_ok=False, extra=("max-swipes",))
    values: dict[str, Any] = {"selector": found}
    if f is not None and "max-swipes" in f:
        values["max_swipes"] = p.integer(f.get("max-swipes"), "max-swipes", 1, SCROLL_MAX_SWIPES_CAP)
    return values


@BUILDERS.register("press")
def build_press(p: FlowParser, body: Node, step: Fields, depth: int) -> dict[str, Any]:
    key = p.text(body, "press")
    if key not in KEYS:
        p.fail(body, f"press takes one of {', '.join(KEYS)}, not {key!r}{suggest(key, KEYS)}")
    return {"key": key}


@BUILDERS.register("expect")
def build_expect(p: FlowParser, body: Node, step: Fields, depth: int) -> dict[str, Any]:
    return {"screens": p.screens(body, "expect")}


@BUILDERS.register("wait-for")
def build_wait_for(p: FlowParser, body: Node, step: Fields, depth: int) -> dict[str, Any]:
    """A timeout inside the body (``wait-for: {screen: x, timeout: 5}``) comes back as ``timeout``."""
    if not isinstance(body, MappingNode):
        return {"screens": p.screens(body, "wait-for screen")}
    f = p.fields(body, "wait-for", ("screen", "gone", "exists", "timeout"))
    which = f.exactly_one(("screen", "gone", "exists"), "wait-for")
    values: dict[str, Any] = {"timeout": p.seconds(f.get("timeout"), "timeout")} if "timeout" in f else {}
    if which == "screen":
        return values | {"screens": p.screens(f.get("screen"), "screen")}
    return values | {which: selector(p, f.get(which), which, scroll_ok=False)[0]}


@BUILDERS.register("shell")
def build_shell(p: FlowParser, body: Node, step: Fields, depth: int) -> dict[str, Any]:
    if not isinstance(body, MappingNode):
        return {"command": p.shell_command(body, "shell command")}
    f = p.fields(body, "shell", ("command", "save-as"))
    values: dict[str, Any] = {"command": p.shell_command(f.require("command", "shell"), "shell command")}
    if "save-as" in f:
        save_node = f.get("save-as")
        name = p.text(save_node, "save-as")
        if not IDENTIFIER.match(name):
            p.fail(save_node, f"save-as {name!r} must be letters, digits and '_' (not starting with a digit)")
        if name in p.params:
            p.fail(save_node, f"save-as '{name}' would hide the param of the same name")
        p.variables.add(name)
        values["save_as"] = name
    return values


@BUILDERS.register("screenshot")
def build_screenshot(p: FlowParser, body: Node, step: Fields, depth: int) -> dict[str, Any]:
    name_node = body
    if isinstance(body, MappingNode):
        name_node = p.fields(body, "screenshot", ("name",)).require("name", "screenshot")
    name = p.text(name_node, "screenshot name")
    if not SHOT_NAME.match(name) or len(name) > 100:
        p.fail(name_node, f"screenshot name {name!r} must be letters, digits, '.', '_' and '-' (it names a file)")
    return {"shot_name": name}


@BUILDERS.register("task")
def build_task(p: FlowParser, body: Node, step: Fields, depth: int) -> dict[str, Any]:
    """A named Python task (backup, export, wait for reboot…) with arguments it declares.

    Unknown arguments are refused, required ones demanded, and literal values (those without ``${...}``)
    converted to the argument's type here; values with references are converted when the step runs.
    """
    name_node, with_node = body, None
    if isinstance(body, MappingNode):
        f = p.fields(body, "task", ("name", "with"))
        name_node, with_node = f.require("name", "task"), f.get("with")
    name = p.text(name_node, "task name")
    declared = p.loader.tasks.get(name)
    if declared is None:
        hint = suggest(name, p.loader.tasks) or f" (tasks: {', '.join(sorted(p.loader.tasks)) or 'none'})"
        p.fail(name_node, f"unknown task {name!r}{hint}")
    by_name = {arg.name: arg for arg in declared}
    args = []
    if with_node is not None and not (isinstance(with_node, ScalarNode) and with_node.tag == TAG + "null"):
        if not isinstance(with_node, MappingNode):
            p.fail(with_node, "task 'with' must be a mapping of argument names to values")
        for key, key_node, value_node in p.pairs(with_node, "task arguments"):
            arg = by_name.get(key)
            if arg is None:
                hint = suggest(key, by_name) or (f" (arguments: {', '.join(by_name)})" if by_name else
                                                  " (it takes no arguments)")
                p.fail(key_node, f"task '{name}' has no argument '{key}'{hint}")
            value = p.template(value_node, f"task argument '{key}'", empty_ok=True)
            if not references(value):
                try:
                    arg.convert(value)
                except ValueError as exc:
                    p.fail(value_node, f"task '{name}': {exc}")
            args.append((key, value))
    missing = [arg.name for arg in declared if arg.required and arg.name not in {k for k, _ in args}]
    if missing:
        p.fail(name_node, f"task '{name}' needs argument(s): {', '.join(missing)} (give them under 'with')")
    return {"task": name, "args": tuple(args)}


@BUILDERS.register("assert")
def build_assert(p: FlowParser, body: Node, step: Fields, depth: int) -> dict[str, Any]:
    return {"condition": condition(p, body, "assert")}


def condition(p: FlowParser, node: Node, what: str) -> Condition:
    """A screen name or list of names, or a mapping with one subject and (except screen) one comparison."""
    line = p.line(node)
    if not isinstance(node, MappingNode):
        if isinstance(node, ScalarNode) and node.tag == TAG + "null":
            p.fail(node, f"{what} needs a condition such as {{screen: NAME}}")
        return Condition(kind="screen", line=line, screens=p.screens(node, f"{what} screen"))
    f = p.fields(node, what, CONDITION_SUBJECTS + Condition.OPS)
    kind = f.exactly_one(CONDITION_SUBJECTS, what)
    ops = [op for op in Condition.OPS if op in f]
    subject_node = f.get(kind)
    if kind == "screen":
        if ops:
            p.fail(f.key_node(ops[0]), f"a screen condition takes no '{ops[0]}'")
        return Condition(kind="screen", line=line, screens=p.screens(subject_node, "screen"))
    if kind == "mi-account":
        if ops:
            p.fail(f.key_node(ops[0]), f"a mi-account condition takes no '{ops[0]}'")
        state = p.text(subject_node, "mi-account")
        if state not in MI_ACCOUNT_STATES:
            p.fail(subject_node, f"mi-account is {' or '.join(MI_ACCOUNT_STATES)}, not {state!r}")
        return Condition(kind=kind, line=line, subject=state)
    op = f.exactly_one(Condition.OPS, f"a {kind} condition")
    if kind == "shell":
        subject = p.shell_command(subject_node, "shell command")
    elif kind == "prop":
        subject = p.text(subject_node, "prop")
        if not PROP_NAME.match(subject):
            p.fail(subject_node, f"prop {subject!r} is not a property name (e.g. ro.miui.ui.version.name)")
    else:
        subject = p.text(subject_node, "param")
        param = p.params.get(subject)
        if param is not None and param.secret:
            p.fail(subject_node, f"secret param '{subject}' cannot be compared (only typed with type: {{secret: ...}})")
        if param is None and subject not in p.variables:
            p.fail(subject_node, f"unknown param '{subject}'{suggest(subject, [*p.params, *p.variables])}")
    op_node = f.get(op)
    if op in ("matches", "not-matches"):
        return Condition(kind=kind, line=line, subject=subject, op=op, pattern=p.regex(op_node, op))
    value = p.template(op_node, op, empty_ok=op in ("equals", "not-equals"))
    if kind == "param" and op in ("equals", "not-equals") and not references(value):
        choices = p.params[subject].choices if subject in p.params else ()
        if choices and value not in choices:
            p.fail(op_node, f"{value!r} is not a choice of param '{subject}' ({', '.join(choices)})")
    return Condition(kind=kind, line=line, subject=subject, op=op, value=value)


@BUILDERS.register("run")
def build_run(p: FlowParser, body: Node, step: Fields, depth: int) -> dict[str, Any]:
    if isinstance(body, MappingNode):
        f = p.fields(body, "run", ("flow", "params"))
        ref_node = f.require("flow", "run")
        args_node = f.get("params")
    else:
        ref_node, args_node = body, None
    ref = p.text(ref_node, "flow")
    flow = subflow(p, ref, ref_node)
    params: list[tuple[str, str]] = []
    secrets: list[tuple[str, str]] = []
    given: set[str] = set()
    if args_node is not None and not (isinstance(args_node, ScalarNode) and args_node.tag == TAG + "null"):
        for name, key_node, value in p.pairs(p.mapping(args_node, "run params"), "run params"):
            target = flow.param(name)
            if target is None:
                hint = suggest(name, [q.name for q in flow.params])
                p.fail(key_node, f"flow '{flow.name}' has no param '{name}'{hint}")
            given.add(name)
            if isinstance(value, MappingNode):
                secrets.append((name, passed_secret(p, value, name, target)))
                continue
            if target.secret:
                p.fail(value, f"'{name}' is a secret of flow '{flow.name}': pass one of this flow's secrets "
                                 f"with {name}: {{secret: NAME}}")
            text = p.template(value, f"param '{name}'", empty_ok=True)
            if target.choices and not references(text) and text not in target.choices:
                p.fail(value, f"{text!r} is not a choice of param '{name}' ({', '.join(target.choices)})")
            params.append((name, text))
    missing = [p.name for p in flow.params if p.required and not p.secret and not p.env and p.name not in given]
    if missing:
        p.fail(ref_node, f"flow '{flow.name}' needs param(s): {', '.join(missing)}")
    return {"flow_ref": ref, "flow": flow, "params": tuple(params), "secrets": tuple(secrets)}


def unknown_secret(p: FlowParser, node: Node, name: str) -> NoReturn:
    """Refuse a ``secret:`` naming no param — without echoing it: it may be a password typed in by mistake."""
    secrets = [p.name for p in p.params.values() if p.secret]
    hint = suggest(name, secrets) or (f" (secret params: {', '.join(secrets)})" if secrets else
                                       " (declare one under params with secret: true)")
    p.fail(node, f"secret: takes the name of a secret param, and this flow has none by that name{hint}")


def passed_secret(p: FlowParser, node: MappingNode, name: str, target: Param) -> str:
    f = p.fields(node, f"param '{name}'", ("secret",))
    secret_node = f.require("secret", f"param '{name}'")
    source = p.text(secret_node, "secret")
    param = p.params.get(source)
    if param is None:
        unknown_secret(p, secret_node, source)
    if not param.secret:
        p.fail(secret_node, f"'{source}' is not a secret param of this flow")
    if not target.secret:
        p.fail(node, f"param '{name}' of the sub-flow is not secret; a secret cannot be passed to it")
    return source


def subflow(p: FlowParser, ref: str, node: Node) -> Flow:
    loader = p.loader
    if loader.resolver is None:
        p.fail(node, f"cannot load flow '{ref}': sub-flows need a resolver (load the flow from a file)")
    lookup = ref
    if is_path_ref(ref) and not os.path.isabs(ref) and not p.path.startswith("<"):
        lookup = os.path.join(os.path.dirname(p.path), ref)
    try:
        text, path = loader.resolver(lookup)
    except (LookupError, OSError, ValueError) as exc:
        p.fail(node, f"run: {one_line(str(exc))}")
    key = canonical(path)
    keys = [k for k, _ in loader.stack]
    if key in keys:
        cycle = [shown for _, shown in loader.stack[keys.index(key):]] + [path]
        p.fail(node, f"run would recurse: {' -> '.join(cycle)}")
    flow = loader.cache.get(key) or loader.parse(text, path)
    if not is_path_ref(ref) and flow.name != ref:
        p.fail(node, f"flow file {path} is named '{flow.name}', not '{ref}'")
    return flow


@BUILDERS.register("when")
def build_when(p: FlowParser, body: Node, step: Fields, depth: int) -> dict[str, Any]:
    cond = condition(p, body, "when")
    then_node = step.get("then")
    if then_node is None:
        p.fail(step.node, "a when step needs 'then' (the steps to run when the condition holds)")
    values: dict[str, Any] = {"condition": cond, "then_steps": p.steps(then_node, "then", depth + 1)}
    if "else" in step:
        values["else_steps"] = p.steps(step.get("else"), "else", depth + 1)
    return values


@BUILDERS.register("retry")
def build_retry(p: FlowParser, body: Node, step: Fields, depth: int) -> dict[str, Any]:
    f = p.fields(body, "retry", ("times", "steps"))
    times = p.integer(f.get("times"), "times", 1, RETRY_TIMES_CAP) if "times" in f else RETRY_TIMES_DEFAULT
    return {"times": times, "steps": p.steps(f.require("steps", "retry"), "retry steps", depth + 1)}


@BUILDERS.register("drive")
def build_drive(p: FlowParser, body: Node, step: Fields, depth: int) -> dict[str, Any]:
    f = p.fields(body, "drive", ("until", "max-steps", "rules"))
    until = condition(p, f.require("until", "drive"), "until")
    max_steps = DRIVE_MAX_STEPS_DEFAULT
    if "max-steps" in f:
        max_steps = p.integer(f.get("max-steps"), "max-steps", 1, DRIVE_MAX_STEPS_CAP)
    rules_node = f.require("rules", "drive")
    if isinstance(rules_node, ScalarNode) and rules_node.tag == TAG + "null":
        p.fail(rules_node, "drive needs rules: a mapping of screen name -> action")
    rules_node = p.mapping(rules_node, "rules")
    rules = []
    for screen, key_node, value in p.pairs(rules_node, "rules"):
        p.screen(key_node, screen)
        if until.kind == "screen" and screen in until.screens:
            p.fail(key_node, f"the rule for '{screen}' never runs: drive stops when it reaches that screen")
        rules.append((screen, rule(p, value, depth + 1)))
    if not rules:
        p.fail(rules_node, "drive needs at least one rule")
    return {"until": until, "max_steps": max_steps, "rules": tuple(rules)}


def rule(p: FlowParser, node: Node, depth: int) -> tuple[Item, ...]:
    if depth >= MAX_NESTING:
        p.fail(node, f"steps nested more than {MAX_NESTING} levels deep")
    items = node.value if isinstance(node, SequenceNode) else [node]
    if not items:
        p.fail(node, "a rule must not be an empty list")
    actions = [rule_item(p, item, depth) for item in items]
    for action, item in zip(actions[:-1], items[:-1]):
        if isinstance(action, RuleAction):
            p.fail(item, f"'{action.describe().split()[0]}' ends a rule: nothing may follow it")
    return tuple(actions)


def rule_item(p: FlowParser, node: Node, depth: int) -> Item:
    line = p.line(node)
    if isinstance(node, ScalarNode):
        word = node.value
        if word == "wait":
            return WaitAction(line=line)
        if word == "done":
            return DoneAction(line=line)
        p.fail(node, f"a rule action is a step, a list of steps, wait, done or {{fail: message}}, "
                        f"not {p.kind_of(node)}{suggest(word, RULE_WORDS)}")
    if isinstance(node, MappingNode) and any(key_node.value == "fail" for key_node, _ in node.value
                                             if isinstance(key_node, ScalarNode)):
        f = p.fields(node, "fail action", ("fail",))
        return FailAction(line=line, message=p.template(f.get("fail"), "fail message"))
    return p.step(node, depth)


BUILDERS.require_complete()
