"""YAML flow text -> frozen :class:`~miui_automator.flow.model.Flow`, or one ``file:line: message`` error.

Everything a flow refers to is checked here — screens against the catalogue, ``${param}`` references,
secrets, regexes, shell commands (:mod:`~miui_automator.flow.shell_policy`), task arguments, sub-flows
(loaded and parsed recursively, cycles refused) — so nothing is discovered mid-run on a half-reset phone.
This module holds the entry points and the grammar of a flow as a whole (header, params, the step
list and what every step shares); each step kind's own grammar is in
:mod:`~miui_automator.flow.step_grammar` and the node reading in :mod:`~miui_automator.yaml_reader` (shared with the inventory and the catalogue).
Only :class:`~miui_automator.errors.FlowSyntaxError` ever leaves for bad input.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from miui_automator.errors import FlowSyntaxError
from miui_automator.flow.model import (
    ACTION_KINDS, MAX_TIMEOUT, STEP_CLASSES, STEP_KINDS, Flow, Param, RunStep, Step, references,
)
from miui_automator.flow.shell_policy import shell_refusal
from miui_automator.flow.step_grammar import (
    BUILDERS, IDENTIFIER, MAX_NESTING, RULE_WORDS, SELECTOR_KEYS, canonical, is_path_ref,
)
from miui_automator.flow.tasks_api import TaskArg, declared_args
from miui_automator.yaml_reader import TAG, Fields, YamlReader, one_line, read_text, suggest

__all__ = ["FLOW_KEYS", "PARAM_KEYS", "SELECTOR_KEYS", "STEP_KINDS", "FlowParser", "FlowResolver", "Resolver", "is_path_ref", "load_flow", "parse_flow",
           "shell_refusal"]

Resolver = Callable[[str], tuple[str, str]]
"""Maps a ``run`` reference (built-in name or path) to (YAML text, path for messages).

Raises ``LookupError`` or ``OSError`` when there is no such flow; the message is shown to the user.
"""

KnownTasks = Collection[str] | Mapping[str, object]
"""Task names, or name -> :class:`~miui_automator.flow.tasks_api.TaskSpec` (whose arguments are checked)."""

MAX_STEPS_PER_FLOW = 5000
"""Bounds parsing work: YAML aliases can make a small file describe exponentially many steps."""

FLOW_NAME = re.compile(r"[a-z0-9][a-z0-9-]*\Z")
COMMON_KEYS = ("timeout", "optional", "name", "expect")
FLOW_KEYS = ("name", "description", "destructive", "confirm", "params", "steps")
PARAM_KEYS = ("secret", "env", "required", "default", "choices", "description")
_EXTRA_KEYS = {key: kind for kind, cls in STEP_CLASSES.items() for key in cls.extra_keys}
"""Keys some kind takes beside its body (when's then/else) -> that kind, for "belongs to" errors."""


# --- public entry points --------------------------------------------------------------------------


def parse_flow(text: str, path: str = "<string>", *, known_screens: Collection[str],
               resolver: Resolver | None = None, known_tasks: KnownTasks = ()) -> Flow:
    """Parse one flow from YAML ``text``; ``path`` is only used in messages and to resolve relative runs.

    ``known_screens`` is the screen catalogue's vocabulary. ``resolver`` loads ``run`` sub-flows; without
    one, a flow that runs another is an error. ``known_tasks`` are the tasks ``task:`` steps may name: a
    mapping of name -> TaskSpec (as ``miui_automator.tasks.registry()`` returns) checks their arguments;
    a task given by name only takes none.
    """
    return _Loader(known_screens, resolver, known_tasks).parse(text, path)


def load_flow(path_or_name: str | os.PathLike[str], *, known_screens: Collection[str],
              builtin_dir: Path | None = None, known_tasks: KnownTasks = ()) -> Flow:
    """Load a flow by path, or by built-in name from ``builtin_dir`` (``NAME.yaml``), sub-flows included."""
    resolver = FlowResolver(builtin_dir)
    ref = os.fspath(path_or_name)
    try:
        text, path = resolver.read(Path(ref)) if isinstance(path_or_name, os.PathLike) else resolver(ref)
    except (LookupError, OSError) as exc:
        raise FlowSyntaxError(f"{ref}: {exc}", path=ref, line=None) from None
    flow = parse_flow(text, path, known_screens=known_screens, resolver=resolver, known_tasks=known_tasks)
    if not isinstance(path_or_name, os.PathLike) and not is_path_ref(ref) and flow.name != ref:
        raise FlowSyntaxError(f"{path}:{flow.line}: built-in flow file is named '{flow.name}', not '{ref}'",
                              path=path, line=flow.line)
    return flow


class FlowResolver:
    """Finds flows by built-in name (``builtin_dir/NAME.yaml``) or by path, and reads them as UTF-8."""

    def __init__(self, builtin_dir: Path | None = None) -> None:
        self.builtin_dir = builtin_dir

    def names(self) -> list[str]:
        """Built-in flow names, sorted."""
        if self.builtin_dir is None or not self.builtin_dir.is_dir():
            return []
        return sorted(p.stem for p in self.builtin_dir.glob("*.yaml") if FLOW_NAME.match(p.stem))

    def find(self, ref: str) -> Path:
        if is_path_ref(ref):
            return Path(ref)
        if self.builtin_dir is None:
            raise LookupError(f"no built-in flow '{ref}': no built-in flow directory is configured (give a .yaml path)")
        names = self.names()
        if ref not in names:
            hint = suggest(ref, names) or (f" (built-in flows: {', '.join(names)})" if names else "")
            raise LookupError(f"no built-in flow '{ref}'{hint}")
        return self.builtin_dir / f"{ref}.yaml"

    def read(self, path: Path) -> tuple[str, str]:
        if not path.exists():
            raise LookupError(f"no flow file {path}")
        return read_text(path, "the flow file", FlowSyntaxError), str(path)

    def __call__(self, ref: str) -> tuple[str, str]:
        return self.read(self.find(ref))


# --- loading --------------------------------------------------------------------------------------


class _Loader:
    """State shared by a flow and its sub-flows: the screen vocabulary, the resolver, the run stack."""

    def __init__(self, known_screens: Collection[str], resolver: Resolver | None, known_tasks: KnownTasks = ()) -> None:
        self.screens = frozenset(known_screens)
        self.tasks: dict[str, tuple[TaskArg, ...]] = declared_args(known_tasks)
        self.resolver = resolver
        self.stack: list[tuple[str, str]] = []  # (canonical path, path as shown)
        self.cache: dict[str, Flow] = {}

    def parse(self, text: str, path: str) -> Flow:
        key = canonical(path)
        self.stack.append((key, path))
        try:
            flow = FlowParser(self, path).parse(text)
        finally:
            self.stack.pop()
        self.cache[key] = flow
        return flow


class FlowParser(YamlReader):
    """Parses one flow file; ``params`` and ``save-as`` variables are in scope for its templates."""

    error = FlowSyntaxError
    max_seconds = MAX_TIMEOUT

    def __init__(self, loader: _Loader, path: str) -> None:
        super().__init__(path)
        self.loader = loader
        self.params: dict[str, Param] = {}
        self.variables: set[str] = set()
        self.step_count = 0

    # flow-specific scalars

    def regex(self, node: Node, what: str) -> re.Pattern[str]:
        source = self.text(node, what)
        if "${" in source:
            self.fail(node, f"{what} is a regex: params are not substituted in regexes (use text or text_contains)")
        try:
            return re.compile(source)
        except (re.error, OverflowError, RecursionError, ValueError) as exc:
            self.fail(node, f"{what} is not a valid regex: {one_line(str(exc))}")

    def template(self, node: Node, what: str, *, empty_ok: bool = False) -> str:
        """A string that may reference params and variables; secrets and unknown names are refused."""
        value = self.text(node, what, empty_ok=empty_ok)
        try:
            names = references(value)
        except ValueError as exc:
            self.fail(node, f"{what}: {exc}")
        for name in names:
            param = self.params.get(name)
            if param is not None and param.secret:
                self.fail(node, f"secret param '{name}' cannot be used as ${{{name}}} (it would reach logs and "
                                f"command lines); type it with `type: {{secret: {name}}}`")
            if param is None and name not in self.variables:
                known = [*self.params, *self.variables]
                self.fail(node, f"unknown reference ${{{name}}}{suggest(name, known)}")
        return value

    def templates(self, node: Node, what: str) -> tuple[str, ...]:
        """A template or a non-empty list of them (e.g. one text per locale)."""
        if isinstance(node, SequenceNode) and not node.value:
            self.fail(node, f"{what} must not be an empty list")
        return tuple(self.template(item, what) for item in (node.value if isinstance(node, SequenceNode) else [node]))

    def screens(self, node: Node, what: str) -> tuple[str, ...]:
        names = self.texts(node, what)
        for name, item in zip(names, node.value if isinstance(node, SequenceNode) else [node]):
            self.screen(item, name)
        return names

    def screen(self, node: Node, name: str) -> str:
        if name not in self.loader.screens:
            self.fail(node, f"unknown screen '{name}'{suggest(name, self.loader.screens)}")
        return name

    def shell_command(self, node: Node, what: str) -> str:
        command = self.text(node, what)
        if "${" in command:
            self.fail(node, f"{what}: params are not substituted in shell commands (the command is checked as "
                            "read-only when the flow loads); compare outputs with assert instead")
        reason = shell_refusal(command)
        if reason:
            self.fail(node, f"shell command {command!r} is not a read-only check: {reason}")
        return command

    # the flow

    def parse(self, text: str) -> Flow:
        root = self.compose(text)
        if root is None:
            self.fail_at(1, "empty flow file: expected a mapping with 'name' and 'steps'")
        if not isinstance(root, MappingNode):
            self.fail(root, f"a flow must be a mapping with 'name' and 'steps', not {self.kind_of(root)}")
        f = self.fields(root, "flow", FLOW_KEYS)
        name_node = f.require("name", "a flow")
        name = self.text(name_node, "name")
        if not FLOW_NAME.match(name):
            self.fail(name_node, f"flow name {name!r} must be lowercase letters, digits and '-' (e.g. remove-mi-account)")
        description = self.text(f.get("description"), "description", empty_ok=True) if "description" in f else ""
        destructive = self.boolean(f.get("destructive"), "destructive") if "destructive" in f else False
        params = self.parse_params(f.get("params")) if "params" in f else ()
        confirm = self.confirm_param(f.get("confirm")) if "confirm" in f else None
        steps = self.steps(f.require("steps", "a flow"), "steps", 0)
        flow = Flow(name=name, path=self.path, line=self.line(root), steps=steps, description=description,
                      destructive=destructive, params=params, confirm=confirm)
        self.check_destructive_runs(flow)
        self.check_confirmed_runs(flow)
        return flow

    def confirm_param(self, node: Node) -> str:
        """``confirm: NAME``: a plain param of this flow that the user confirms by typing its value."""
        name = self.text(node, "confirm")
        param = self.params.get(name)
        if param is None:
            self.fail(node, f"confirm names a param of this flow, and it has no '{name}'{suggest(name, self.params)}")
        if param.secret:
            self.fail(node, f"confirm: '{name}' is secret; the user confirms a value they can see typed (e.g. an account id)")
        return name

    def check_confirmed_runs(self, flow: Flow) -> None:
        if flow.confirm is not None:
            return
        for item in flow.walk():
            if isinstance(item, RunStep) and item.flow.confirm is not None:
                self.fail_at(item.line, f"flow '{item.flow.name}' asks the user to confirm its '{item.flow.confirm}', so this "
                                        "flow must say 'confirm: PARAM' too (the confirmation happens before anything runs)")

    def check_destructive_runs(self, flow: Flow) -> None:
        if flow.destructive:
            return
        for item in flow.walk():
            if isinstance(item, RunStep) and item.flow.destructive:
                self.fail_at(item.line, f"flow '{item.flow.name}' is destructive, so this flow must say "
                                        "'destructive: true' too (the confirmation and backup gate depend on it)")

    def parse_params(self, node: Node) -> tuple[Param, ...]:
        if isinstance(node, ScalarNode) and node.tag == TAG + "null":
            return ()
        self.mapping(node, "params")
        params = []
        for name, key_node, value in self.pairs(node, "params"):
            if not IDENTIFIER.match(name):
                self.fail(key_node, f"param name {name!r} must be letters, digits and '_' (not starting with a digit)")
            param = self.param(name, key_node, value)
            self.params[name] = param
            params.append(param)
        return tuple(params)

    def param(self, name: str, key_node: Node, node: Node) -> Param:
        line = self.line(key_node)
        if isinstance(node, ScalarNode) and node.tag == TAG + "null":
            return Param(name=name, line=line, required=True)
        if not isinstance(node, MappingNode):
            return Param(name=name, line=line, default=self.text(node, f"default of param '{name}'", empty_ok=True))
        f = self.fields(node, f"param '{name}'", PARAM_KEYS)
        secret = self.boolean(f.get("secret"), "secret") if "secret" in f else False
        env = None
        if "env" in f:
            env = self.text(f.get("env"), "env")
            if not IDENTIFIER.match(env):
                self.fail(f.get("env"), f"env {env!r} is not an environment variable name")
        default = None
        if "default" in f:
            if secret:
                self.fail(f.key_node("default"), f"secret param '{name}' cannot have a default: the password would "
                                                 "sit in the YAML in plaintext (use env: or let the tool prompt)")
            default_node = f.get("default")
            if isinstance(default_node, ScalarNode) and default_node.tag == TAG + "null":
                self.fail(default_node, f"default of param '{name}' is empty; write default: \"\" for an empty string")
            default = self.text(default_node, f"default of param '{name}'", empty_ok=True)
        choices: tuple[str, ...] = ()
        if "choices" in f:
            if secret:
                self.fail(f.key_node("choices"), f"secret param '{name}' cannot have choices (they would be plaintext)")
            choices_node = f.get("choices")
            if not isinstance(choices_node, SequenceNode):
                self.fail(choices_node, f"choices of param '{name}' must be a list")
            choices = self.texts(choices_node, f"a choice of param '{name}'")
            if len(set(choices)) != len(choices):
                self.fail(choices_node, f"choices of param '{name}' repeat a value")
            if default is not None and default not in choices:
                self.fail(f.get("default"), f"default {default!r} of param '{name}' is not one of its choices "
                                            f"({', '.join(choices)})")
        required = default is None
        if "required" in f:
            required = self.boolean(f.get("required"), "required")
            if required and default is not None:
                self.fail(f.key_node("required"), f"param '{name}' has a default, so it cannot be required")
        description = self.text(f.get("description"), "description", empty_ok=True) if "description" in f else ""
        return Param(name=name, line=line, secret=secret, env=env, required=required, default=default,
                       choices=choices, description=description)

    # steps

    def steps(self, node: Node, what: str, depth: int) -> tuple[Step, ...]:
        if depth >= MAX_NESTING:
            self.fail(node, f"steps nested more than {MAX_NESTING} levels deep")
        if not isinstance(node, SequenceNode):
            self.fail(node, f"{what} must be a list of steps (each starting with '-'), not {self.kind_of(node)}")
        if not node.value:
            self.fail(node, f"{what} must not be empty")
        return tuple(self.step(item, depth) for item in node.value)

    def step(self, node: Node, depth: int) -> Step:
        self.step_count += 1
        if self.step_count > MAX_STEPS_PER_FLOW:
            self.fail(node, f"a flow may hold at most {MAX_STEPS_PER_FLOW} steps")
        if not isinstance(node, MappingNode):
            if isinstance(node, ScalarNode) and node.value in RULE_WORDS:
                self.fail(node, f"'{node.value}' is only a drive rule action; a step is a mapping such as 'tap: ...'")
            self.fail(node, f"a step must be a mapping such as 'tap: {{text: OK}}', not {self.kind_of(node)}")
        pairs = self.pairs(node, "step")
        keys = [key for key, _, _ in pairs]
        kinds = [k for k in keys if k in STEP_KINDS and k != "expect"]
        if len(kinds) > 1:
            second = next(kn for k, kn, _ in pairs if k == kinds[1])
            self.fail(second, f"a step has one kind, found '{kinds[0]}' and '{kinds[1]}' "
                              "(start another step with '-')")
        kind = kinds[0] if kinds else "expect" if "expect" in keys else None
        if kind is None:
            key, key_node, _ = next(((k, kn, v) for k, kn, v in pairs if k not in COMMON_KEYS and k not in _EXTRA_KEYS),
                                    (None, node, None))
            if key == "fail":
                self.fail(key_node, "'fail' is only a drive rule action")
            if key is None:
                self.fail(node, f"a step needs a kind: one of {', '.join(STEP_KINDS)}")
            self.fail(key_node, f"unknown step kind '{key}'{suggest(key, STEP_KINDS)}")
        cls = STEP_CLASSES[kind]
        allowed = {kind, "timeout", "optional", "name", *cls.extra_keys}
        if cls.acts:
            allowed.add("expect")
        for key, key_node, _ in pairs:
            if key in allowed:
                continue
            if key == "expect":
                self.fail(key_node, f"'expect' only follows an action step ({', '.join(sorted(ACTION_KINDS))}); "
                                    f"write a separate '- expect: SCREEN' step")
            if key in _EXTRA_KEYS:
                self.fail(key_node, f"'{key}' belongs to a '{_EXTRA_KEYS[key]}' step")
            self.fail(key_node, f"unknown key '{key}' in {kind} step{suggest(key, sorted(allowed))}")
        f = Fields(self, node, pairs)
        common: dict[str, Any] = {"line": self.line(node)}
        timeout = self.seconds(f.get("timeout"), "timeout") if "timeout" in f else None
        if "optional" in f:
            common["optional"] = self.boolean(f.get("optional"), "optional")
        if "name" in f:
            common["name"] = self.text(f.get("name"), "name")
        if "expect" in f and kind != "expect":
            common["expect"] = self.screens(f.get("expect"), "expect")
        body = f.get(kind)
        assert body is not None
        fields = BUILDERS[kind](self, body, f, depth)
        body_timeout = fields.pop("timeout", None)
        if body_timeout is not None and timeout is not None:
            self.fail(f.key_node("timeout"), f"timeout is given twice (in the step and inside {kind})")
        common["timeout"] = timeout or body_timeout or cls.default_timeout
        return cls(**common, **fields)
