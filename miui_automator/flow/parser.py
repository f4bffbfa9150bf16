"""YAML flow text -> frozen :class:`~miui_automator.flow.model.Flow`, or one ``file:line: message`` error.

The parser works on PyYAML's composed node tree rather than on loaded Python objects: nodes keep
the line of every key and value, so each error names the exact place to fix, and duplicate keys
(which ``yaml.safe_load`` silently merges) can be refused. Everything a flow refers to is checked
here — screens against the catalogue, ``${param}`` references, secrets, regexes, shell commands,
sub-flows (loaded and parsed recursively, cycles refused) — so nothing is discovered mid-run on a
half-reset phone. Only :class:`~miui_automator.errors.FlowSyntaxError` ever leaves this module for
bad input.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from typing import Any, NoReturn

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

from miui_automator.errors import FlowSyntaxError
from miui_automator.flow import model as m
from miui_automator.flow.selectors import MATCH_KEYS, MODIFIER_KEYS, Selector

__all__ = ["FlowResolver", "Resolver", "is_path_ref", "load_flow", "parse_flow", "shell_refusal"]

Resolver = Callable[[str], tuple[str, str]]
"""Maps a ``run`` reference (built-in name or path) to (YAML text, path for messages).

Raises ``LookupError`` or ``OSError`` when there is no such flow; the message is shown to the user.
"""

MAX_NESTING = 16
"""Deepest nesting of step lists (when/retry/drive inside each other); also stops alias loops."""

MAX_STEPS_PER_FLOW = 5000
"""Bounds parsing work: YAML aliases can make a small file describe exponentially many steps."""

FLOW_NAME = re.compile(r"[a-z0-9][a-z0-9-]*\Z")
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_JAVA_PACKAGE = r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)+"
PACKAGE = re.compile(_JAVA_PACKAGE + r"\Z")
COMPONENT = re.compile(_JAVA_PACKAGE + r"/\.?[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)*\Z")
INTENT_ACTION = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*\Z")
PROP_NAME = re.compile(r"[A-Za-z0-9_.\-]+\Z")
SHOT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
DATA_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s\\\"'`$]+\Z")

STEP_KINDS = ("open", "tap", "type", "scroll-to", "press", "expect", "wait-for", "shell", "screenshot", "assert",
              "run", "when", "retry", "drive", "task")
COMMON_KEYS = ("timeout", "optional", "name", "expect")
FLOW_KEYS = ("name", "description", "destructive", "confirm", "params", "steps")
PARAM_KEYS = ("secret", "env", "required", "default", "choices", "description")
SELECTOR_KEYS = MATCH_KEYS + MODIFIER_KEYS
CONDITION_SUBJECTS = ("screen", "shell", "prop", "param")
RULE_WORDS = ("wait", "done")

_TAG = "tag:yaml.org,2002:"
_TEXT_TAGS = frozenset(_TAG + t for t in ("str", "int", "float", "bool", "timestamp"))
_NUMBER_TAGS = frozenset((_TAG + "int", _TAG + "float"))
_SCALARS = SafeConstructor()


def is_path_ref(ref: str) -> bool:
    """A ``run``/CLI flow reference is a path if it has a directory part or a YAML suffix, else a built-in name."""
    return "/" in ref or os.sep in ref or ref.endswith((".yaml", ".yml"))


def _suggest(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _number(node: Node) -> int | float | None:
    """The value of a YAML int or float scalar; None for anything else, including a malformed ``!!int``."""
    if not isinstance(node, ScalarNode) or node.tag not in _NUMBER_TAGS:
        return None
    construct = _SCALARS.construct_yaml_int if node.tag == _TAG + "int" else _SCALARS.construct_yaml_float
    try:
        return construct(node)
    except (ValueError, TypeError, IndexError, OverflowError):  # PyYAML trusts the tag: `!!int ""` -> IndexError
        return None


# --- public entry points --------------------------------------------------------------------------


def parse_flow(text: str, path: str = "<string>", *, known_screens: Collection[str],
               resolver: Resolver | None = None, known_tasks: Collection[str] = ()) -> m.Flow:
    """Parse one flow from YAML ``text``; ``path`` is only used in messages and to resolve relative runs.

    ``known_screens`` is the screen catalogue's vocabulary. ``resolver`` loads ``run`` sub-flows; without
    one, a flow that runs another is an error.
    """
    return _Loader(known_screens, resolver, known_tasks).parse(text, path)


def load_flow(path_or_name: str | os.PathLike[str], *, known_screens: Collection[str],
              builtin_dir: Path | None = None, known_tasks: Collection[str] = ()) -> m.Flow:
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
            hint = _suggest(ref, names) or (f" (built-in flows: {', '.join(names)})" if names else "")
            raise LookupError(f"no built-in flow '{ref}'{hint}")
        return self.builtin_dir / f"{ref}.yaml"

    def read(self, path: Path) -> tuple[str, str]:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise LookupError(f"no flow file {path}") from None
        except OSError as exc:
            raise LookupError(f"cannot read flow file {path}: {exc.strerror or exc}") from None
        try:
            return data.decode("utf-8-sig"), str(path)
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise FlowSyntaxError(f"{path}:{line}: not UTF-8 text", path=str(path), line=line) from None

    def __call__(self, ref: str) -> tuple[str, str]:
        return self.read(self.find(ref))


# --- read-only shell policy -----------------------------------------------------------------------
# Shell steps and shell conditions are checks. This refuses commands that obviously change the
# phone, so a typo'd or copy-pasted `pm clear` cannot hide in a flow; it is a guard against
# mistakes, not a sandbox.

_ALWAYS_MUTATING = frozenset({
    "rm", "rmdir", "mv", "cp", "dd", "mkdir", "touch", "chmod", "chown", "chgrp", "chcon", "ln", "truncate",
    "tee", "mount", "umount", "kill", "killall", "pkill", "reboot", "shutdown", "poweroff", "halt", "input",
    "sendevent", "setprop", "svc", "monkey", "wipe", "recovery", "vdc", "mkfs", "mke2fs", "make_ext4fs",
    "newfs_msdos", "fsck", "e2fsck", "resize2fs", "restorecon", "setenforce", "start", "stop", "fastboot",
    "install", "eval", "source", ".",
})
_VERB_TOOLS = frozenset({
    "am", "pm", "settings", "content", "appops", "ime", "dpm", "locksettings", "bmgr", "sm", "telecom",
    "device_config", "service", "media", "uiautomator", "cmd", "atrace", "lpctl",
})
_MUTATING_VERB_PREFIXES = (
    "start", "stop", "kill", "force", "set", "clear", "reset", "remove", "delete", "put", "install", "uninstall",
    "disable", "enable", "grant", "revoke", "hide", "unhide", "suspend", "unsuspend", "broadcast", "instrument",
    "crash", "restart", "switch", "create", "wipe", "trim", "move", "write", "insert", "update", "call",
    "reboot", "shutdown", "backup", "restore", "fullbackup", "compile", "default-state", "send", "make", "hang",
    "idle", "lock", "unlock", "dismiss", "add", "run", "transport", "init", "activate", "format", "mount",
    "unmount", "partition", "forget", "fstrim", "bg-dexopt", "dexopt", "reconcile",
)
_DUMPSYS_MUTATING = frozenset({
    "set", "unplug", "reset", "force-idle", "unforce", "step", "enable", "disable", "whitelist", "tempwhitelist",
    "put", "delete", "clear", "kill",
})
_SHELLS = frozenset({"sh", "bash", "mksh", "ash", "dash", "zsh"})
_WRAPPERS = frozenset({"sudo", "nohup", "nice", "ionice", "time", "exec", "command", "builtin", "xargs", "env",
                       "timeout", "busybox", "toybox", "chrt", "taskset"})
_KEYWORDS = frozenset({"{", "}", "!", "if", "then", "else", "elif", "fi", "do", "done", "while", "until"})
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_PUNCTUATION = frozenset("();<>|&")


def shell_refusal(command: str) -> str | None:
    """Why ``command`` is not a read-only check, or None if it looks read-only."""
    return _command_refusal(command, 0)


def _command_refusal(command: str, depth: int) -> str | None:
    if not command.strip():
        return "the command is empty"
    for marker, what in (("`", "command substitution"), ("$(", "command substitution"),
                         ("<(", "process substitution"), (">(", "process substitution")):
        if marker in command:
            return f"{what} ({marker}) cannot be checked"
    try:
        tokens = _shell_tokens(command)
    except ValueError as exc:
        return f"it does not parse as a shell command ({exc})"
    segment: list[str] = []
    it = iter(tokens)
    for text, is_operator in it:
        if not is_operator:
            segment.append(text)
        elif ">" in text:
            target = next(it, ("", True))[0]
            if not (target == "/dev/null" or (text.endswith("&") and (target.isdigit() or target == "-"))):
                return f"it redirects output to a file ({text} {target})".rstrip()
        elif "<" in text:
            next(it, None)
        else:
            reason = _segment_refusal(segment, depth)
            if reason:
                return reason
            segment = []
    return _segment_refusal(segment, depth)


def _shell_tokens(command: str) -> list[tuple[str, bool]]:
    """(text, is_operator) tokens: words with quotes removed, and unquoted runs of ``;&|()<>`` (newline is ``;``).

    Tracking quotes matters: ``grep '>' f`` has no redirection, ``'rm' x`` still runs rm.
    """
    tokens: list[tuple[str, bool]] = []
    word: list[str] = []
    in_word = False
    quote = ""
    i = 0

    def end_word() -> None:
        nonlocal in_word
        if in_word:
            tokens.append(("".join(word), False))
            word.clear()
            in_word = False

    while i < len(command):
        char = command[i]
        if quote == "'":
            if char == "'":
                quote = ""
            else:
                word.append(char)
        elif quote == '"':
            if char == '"':
                quote = ""
            elif char == "\\" and i + 1 < len(command) and command[i + 1] in '"\\$`':
                i += 1
                word.append(command[i])
            else:
                word.append(char)
        elif char in "'\"":
            quote, in_word = char, True
        elif char == "\\":
            i += 1
            word.append(command[i] if i < len(command) else "")
            in_word = True
        elif char == "\n":
            end_word()
            tokens.append((";", True))
        elif char.isspace():
            end_word()
        elif char in _PUNCTUATION:
            end_word()
            start = i
            while i < len(command) and command[i] in _PUNCTUATION:
                i += 1
            tokens.append((command[start:i], True))
            continue
        else:
            word.append(char)
            in_word = True
        i += 1
    if quote:
        raise ValueError(f"no closing {quote}")
    end_word()
    return tokens


def _segment_refusal(words: list[str], depth: int) -> str | None:
    i = 0
    while i < len(words):
        word = words[i]
        base = word.rsplit("/", 1)[-1]
        if _ASSIGNMENT.match(word) or word in _KEYWORDS:
            i += 1
        elif base in _SHELLS or base == "su":
            rest = words[i + 1:]
            if "-c" in rest:
                if depth >= 3:
                    return "shells nested too deeply to check"
                inner = rest[rest.index("-c") + 1] if rest.index("-c") + 1 < len(rest) else ""
                return _command_refusal(inner, depth + 1) if inner.strip() else None
            if base == "su":
                i += 1
                while i < len(words) and (words[i].startswith("-") or words[i].isdigit() or words[i] in ("root", "shell")):
                    i += 1
            elif rest:
                return f"'{base}' runs a script that cannot be checked"
            else:
                return None
        elif base == "run-as":
            i += 2
        elif base in _WRAPPERS:
            i += 1
            while i < len(words) and (words[i].startswith("-") or words[i].replace(".", "", 1).isdigit()):
                i += 1
        else:
            break
    if i >= len(words):
        return None
    cmd, args = words[i].rsplit("/", 1)[-1], words[i + 1:]
    if cmd in _ALWAYS_MUTATING:
        return f"'{cmd}' changes the phone"
    verb = _mutating_verb(cmd, args)
    return f"'{cmd} {verb}' changes the phone" if verb else None


def _mutating_verb(cmd: str, args: list[str]) -> str | None:
    """The sub-command that makes ``cmd args`` change state, if it does."""
    plain = [a for a in args if not a.startswith("-")]
    if cmd in _VERB_TOOLS:
        verb_at = 1 if cmd == "cmd" else 0
        if len(plain) > verb_at:
            verb = plain[verb_at].lower()
            if verb.startswith(_MUTATING_VERB_PREFIXES):
                return " ".join(plain[: verb_at + 1])
        return None
    if cmd == "dumpsys" and len(plain) > 1 and plain[1].lower() in _DUMPSYS_MUTATING:
        return " ".join(plain[:2])
    if cmd == "wm" and (len(plain) > 1 or (plain and plain[0] not in ("size", "density"))):
        return " ".join(plain)
    if cmd == "logcat":
        flags = [a for a in args if a in ("-c", "--clear", "-G") or a.startswith("--buffer-size")]
        return flags[0] if flags else None
    if cmd == "sed":
        flags = [a for a in args if a.startswith(("-i", "--in-place"))]
        return flags[0] if flags else None
    if cmd == "find":
        flags = [a for a in args if a in ("-delete", "-exec", "-execdir", "-ok", "-okdir", "-fprint", "-fprintf", "-fls")]
        return flags[0] if flags else None
    return None


# --- loading --------------------------------------------------------------------------------------


def _canonical(path: str) -> str:
    return path if path.startswith("<") else os.path.realpath(path)


class _Loader:
    """State shared by a flow and its sub-flows: the screen vocabulary, the resolver, the run stack."""

    def __init__(self, known_screens: Collection[str], resolver: Resolver | None, known_tasks: Collection[str] = ()) -> None:
        self.screens = frozenset(known_screens)
        self.tasks = frozenset(known_tasks)
        self.resolver = resolver
        self.stack: list[tuple[str, str]] = []  # (canonical path, path as shown)
        self.cache: dict[str, m.Flow] = {}

    def parse(self, text: str, path: str) -> m.Flow:
        key = _canonical(path)
        self.stack.append((key, path))
        try:
            flow = _FlowParser(self, path).parse(text)
        finally:
            self.stack.pop()
        self.cache[key] = flow
        return flow


class _Fields:
    """A mapping node read as unique keys, each remembering its key node for error lines."""

    def __init__(self, parser: _FlowParser, node: MappingNode, pairs: list[tuple[str, Node, Node]]) -> None:
        self.node = node
        self.items = {key: (key_node, value) for key, key_node, value in pairs}
        self._parser = parser

    def __contains__(self, key: str) -> bool:
        return key in self.items

    def get(self, key: str) -> Node | None:
        pair = self.items.get(key)
        return pair[1] if pair else None

    def key_node(self, key: str) -> Node:
        return self.items[key][0]

    def require(self, key: str, what: str) -> Node:
        value = self.get(key)
        if value is None:
            self._parser.fail(self.node, f"{what} needs '{key}'")
        return value

    def exactly_one(self, keys: Iterable[str], what: str) -> str:
        present = [k for k in self.items if k in keys]
        if not present:
            self._parser.fail(self.node, f"{what} needs one of: {', '.join(keys)}")
        if len(present) > 1:
            self._parser.fail(self.key_node(present[1]), f"{what} takes only one of {', '.join(keys)}; "
                                                       f"found '{present[0]}' and '{present[1]}'")
        return present[0]


class _FlowParser:
    """Parses one flow file; ``params`` and ``save-as`` variables are in scope for its templates."""

    def __init__(self, loader: _Loader, path: str) -> None:
        self.loader = loader
        self.path = path
        self.params: dict[str, m.Param] = {}
        self.variables: set[str] = set()
        self.step_count = 0

    # errors and YAML plumbing

    def fail_at(self, line: int, message: str) -> NoReturn:
        raise FlowSyntaxError(f"{self.path}:{line}: {message}", path=self.path, line=line)

    def fail(self, node: Node, message: str) -> NoReturn:
        self.fail_at(node.start_mark.line + 1, message)

    @staticmethod
    def line(node: Node) -> int:
        return node.start_mark.line + 1

    def compose(self, text: str) -> Node | None:
        try:
            return yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            detail = " ".join(p for p in (exc.problem, f"({exc.context})" if exc.context else "") if p)
            self.fail_at(mark.line + 1 if mark else 1, f"invalid YAML: {_one_line(detail or 'syntax error')}")
        except ReaderError as exc:
            line = text.count("\n", 0, max(exc.position, 0)) + 1
            self.fail_at(line, f"invalid YAML: {_one_line(str(exc).splitlines()[0])}")
        except yaml.YAMLError as exc:
            self.fail_at(1, f"invalid YAML: {_one_line(str(exc))}")
        except RecursionError:
            self.fail_at(1, "invalid YAML: nested too deeply")

    def pairs(self, node: MappingNode, what: str) -> list[tuple[str, Node, Node]]:
        """(key, key node, value) in order; merge keys (``<<``) expanded; duplicate keys refused."""
        result: list[tuple[str, Node, Node]] = []
        seen: dict[str, Node] = {}
        merged: list[tuple[str, Node, Node]] = []
        for key_node, value in node.value:
            if key_node.tag == _TAG + "merge":
                merged.extend(self._merged(value, what, {id(node)}))
                continue
            if not isinstance(key_node, ScalarNode):
                self.fail(key_node, f"keys in {what} must be plain strings")
            key = key_node.value
            if key in seen:
                self.fail(key_node, f"duplicate key '{key}' in {what} (first at line {self.line(seen[key])})")
            seen[key] = key_node
            result.append((key, key_node, value))
        for key, key_node, value in merged:
            if key not in seen:
                seen[key] = key_node
                result.append((key, key_node, value))
        return result

    def _merged(self, value: Node, what: str, active: set[int]) -> list[tuple[str, Node, Node]]:
        sources = value.value if isinstance(value, SequenceNode) else [value]
        out: list[tuple[str, Node, Node]] = []
        for source in sources:
            if not isinstance(source, MappingNode):
                self.fail(value, "a merge key (<<) takes a mapping or a list of mappings")
            if id(source) in active:
                self.fail(value, "a merge key (<<) refers to the mapping it is in")
            for key_node, inner in source.value:
                if key_node.tag == _TAG + "merge":
                    out.extend(self._merged(inner, what, active | {id(source)}))
                elif isinstance(key_node, ScalarNode):
                    out.append((key_node.value, key_node, inner))
                else:
                    self.fail(key_node, f"keys in {what} must be plain strings")
        return out

    def fields(self, node: Node, what: str, allowed: Collection[str]) -> _Fields:
        node = self.mapping(node, what)
        pairs = self.pairs(node, what)
        for key, key_node, _ in pairs:
            if key not in allowed:
                self.fail(key_node, f"unknown key '{key}' in {what}{_suggest(key, allowed)}")
        return _Fields(self, node, pairs)

    def mapping(self, node: Node, what: str) -> MappingNode:
        if not isinstance(node, MappingNode):
            self.fail(node, f"{what} must be a mapping, not {self.kind_of(node)}")
        return node

    @staticmethod
    def kind_of(node: Node) -> str:
        if isinstance(node, MappingNode):
            return "a mapping"
        if isinstance(node, SequenceNode):
            return "a list"
        if node.tag == _TAG + "null":
            return "empty"
        if node.tag in _NUMBER_TAGS and _number(node) is not None:
            return f"the number {node.value}"
        if node.tag == _TAG + "bool":
            return f"the boolean {node.value}"
        return f"the string {node.value!r}"

    # scalars

    def text(self, node: Node, what: str, *, empty_ok: bool = False) -> str:
        if isinstance(node, ScalarNode) and node.tag not in _TEXT_TAGS and node.tag != _TAG + "null":
            self.fail(node, f"{what} has an unsupported YAML tag {node.tag}")
        if not isinstance(node, ScalarNode) or node.tag not in _TEXT_TAGS:
            self.fail(node, f"{what} must be a string, not {self.kind_of(node)}")
        if not empty_ok and not node.value.strip():
            self.fail(node, f"{what} must not be empty")
        return node.value

    def texts(self, node: Node, what: str) -> tuple[str, ...]:
        """A string or a non-empty list of strings."""
        if isinstance(node, SequenceNode):
            if not node.value:
                self.fail(node, f"{what} must not be an empty list")
            return tuple(self.text(item, what) for item in node.value)
        return (self.text(node, what),)

    def boolean(self, node: Node, what: str) -> bool:
        if isinstance(node, ScalarNode) and node.tag == _TAG + "bool":
            value = _SCALARS.bool_values.get(node.value.lower())
            if value is not None:
                return value
        self.fail(node, f"{what} must be true or false, not {self.kind_of(node)}")

    def integer(self, node: Node, what: str, low: int, high: int) -> int:
        value = _number(node)
        if not isinstance(value, int):
            self.fail(node, f"{what} must be a whole number, not {self.kind_of(node)}")
        if not low <= value <= high:
            self.fail(node, f"{what} must be between {low} and {high}, not {value}")
        return value

    def seconds(self, node: Node, what: str) -> float:
        value = _number(node)
        if value is None or not math.isfinite(value):
            self.fail(node, f"{what} must be a number of seconds, not {self.kind_of(node)}")
        if not 0 < value <= m.MAX_TIMEOUT:
            self.fail(node, f"{what} must be more than 0 and at most {m.MAX_TIMEOUT:g} seconds, not {value:g}")
        return float(value)

    def regex(self, node: Node, what: str) -> re.Pattern[str]:
        source = self.text(node, what)
        if "${" in source:
            self.fail(node, f"{what} is a regex: params are not substituted in regexes (use text or text_contains)")
        try:
            return re.compile(source)
        except (re.error, OverflowError, RecursionError, ValueError) as exc:
            self.fail(node, f"{what} is not a valid regex: {_one_line(str(exc))}")

    def template(self, node: Node, what: str, *, empty_ok: bool = False) -> str:
        """A string that may reference params and variables; secrets and unknown names are refused."""
        value = self.text(node, what, empty_ok=empty_ok)
        try:
            names = m.references(value)
        except ValueError as exc:
            self.fail(node, f"{what}: {exc}")
        for name in names:
            param = self.params.get(name)
            if param is not None and param.secret:
                self.fail(node, f"secret param '{name}' cannot be used as ${{{name}}} (it would reach logs and "
                                f"command lines); type it with `type: {{secret: {name}}}`")
            if param is None and name not in self.variables:
                known = [*self.params, *self.variables]
                self.fail(node, f"unknown reference ${{{name}}}{_suggest(name, known)}")
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
            self.fail(node, f"unknown screen '{name}'{_suggest(name, self.loader.screens)}")
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

    def parse(self, text: str) -> m.Flow:
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
        flow = m.Flow(name=name, path=self.path, line=self.line(root), steps=steps, description=description,
                      destructive=destructive, params=params, confirm=confirm)
        self.check_destructive_runs(flow)
        self.check_confirmed_runs(flow)
        return flow

    def confirm_param(self, node: Node) -> str:
        """``confirm: NAME``: a plain param of this flow that the user confirms by typing its value."""
        name = self.text(node, "confirm")
        param = self.params.get(name)
        if param is None:
            self.fail(node, f"confirm names a param of this flow, and it has no '{name}'{_suggest(name, self.params)}")
        if param.secret:
            self.fail(node, f"confirm: '{name}' is secret; the user confirms a value they can see typed (e.g. an account id)")
        return name

    def check_confirmed_runs(self, flow: m.Flow) -> None:
        if flow.confirm is not None:
            return
        for item in flow.walk():
            if isinstance(item, m.RunStep) and item.flow.confirm is not None:
                self.fail_at(item.line, f"flow '{item.flow.name}' asks the user to confirm its '{item.flow.confirm}', so this "
                                        "flow must say 'confirm: PARAM' too (the confirmation happens before anything runs)")

    def check_destructive_runs(self, flow: m.Flow) -> None:
        if flow.destructive:
            return
        for item in flow.walk():
            if isinstance(item, m.RunStep) and item.flow.destructive:
                self.fail_at(item.line, f"flow '{item.flow.name}' is destructive, so this flow must say "
                                        "'destructive: true' too (the confirmation and backup gate depend on it)")

    def parse_params(self, node: Node) -> tuple[m.Param, ...]:
        if isinstance(node, ScalarNode) and node.tag == _TAG + "null":
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

    def param(self, name: str, key_node: Node, node: Node) -> m.Param:
        line = self.line(key_node)
        if isinstance(node, ScalarNode) and node.tag == _TAG + "null":
            return m.Param(name=name, line=line, required=True)
        if not isinstance(node, MappingNode):
            return m.Param(name=name, line=line, default=self.text(node, f"default of param '{name}'", empty_ok=True))
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
            if isinstance(default_node, ScalarNode) and default_node.tag == _TAG + "null":
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
        return m.Param(name=name, line=line, secret=secret, env=env, required=required, default=default,
                       choices=choices, description=description)

    # steps

    def steps(self, node: Node, what: str, depth: int) -> tuple[m.Step, ...]:
        if depth >= MAX_NESTING:
            self.fail(node, f"steps nested more than {MAX_NESTING} levels deep")
        if not isinstance(node, SequenceNode):
            self.fail(node, f"{what} must be a list of steps (each starting with '-'), not {self.kind_of(node)}")
        if not node.value:
            self.fail(node, f"{what} must not be empty")
        return tuple(self.step(item, depth) for item in node.value)

    def step(self, node: Node, depth: int) -> m.Step:
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
            key, key_node, _ = next(((k, kn, v) for k, kn, v in pairs if k not in COMMON_KEYS + ("then", "else")),
                                    (None, node, None))
            if key == "fail":
                self.fail(key_node, "'fail' is only a drive rule action")
            if key is None:
                self.fail(node, f"a step needs a kind: one of {', '.join(STEP_KINDS)}")
            self.fail(key_node, f"unknown step kind '{key}'{_suggest(key, STEP_KINDS)}")
        allowed = {kind, "timeout", "optional", "name"}
        if kind in m.ACTION_KINDS:
            allowed.add("expect")
        if kind == "when":
            allowed |= {"then", "else"}
        for key, key_node, _ in pairs:
            if key in allowed:
                continue
            if key == "expect":
                self.fail(key_node, f"'expect' only follows an action step ({', '.join(sorted(m.ACTION_KINDS))}); "
                                    f"write a separate '- expect: SCREEN' step")
            if key in ("then", "else"):
                self.fail(key_node, f"'{key}' belongs to a 'when' step")
            self.fail(key_node, f"unknown key '{key}' in {kind} step{_suggest(key, sorted(allowed))}")
        f = _Fields(self, node, pairs)
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
        fields, body_timeout = self.kind_fields(kind, body, f, depth)
        if body_timeout is not None and timeout is not None:
            self.fail(f.key_node("timeout"), "timeout is given twice (in the step and inside wait-for)")
        common["timeout"] = timeout or body_timeout or m.DEFAULT_TIMEOUTS[kind]
        return _STEP_CLASSES[kind](**common, **fields)

    def kind_fields(self, kind: str, body: Node, f: _Fields, depth: int) -> tuple[dict[str, Any], float | None]:
        """The kind-specific constructor arguments, and a timeout given inside the body (wait-for only)."""
        if kind == "wait-for":
            return self.wait_for(body)
        if kind == "when":
            return self.when(body, f, depth), None
        if kind == "retry":
            return self.retry(body, depth), None
        if kind == "drive":
            return self.drive(body, depth), None
        simple = {
            "open": self.kind_open, "tap": self.kind_tap, "type": self.kind_type, "scroll-to": self.kind_scroll_to,
            "press": self.kind_press, "expect": self.kind_expect, "shell": self.kind_shell,
            "screenshot": self.kind_screenshot, "assert": self.kind_assert, "run": self.kind_run,
            "task": self.kind_task,
        }
        return simple[kind](body), None

    def kind_open(self, body: Node) -> dict[str, Any]:
        f = self.fields(body, "open", ("action", "component", "app", "extras", "data"))
        target = f.exactly_one(("action", "component", "app"), "open")
        value_node = f.get(target)
        value = self.text(value_node, target)
        pattern, example = {"action": (INTENT_ACTION, "android.settings.SETTINGS"),
                            "component": (COMPONENT, "com.android.settings/.MainSettings"),
                            "app": (PACKAGE, "com.miui.backup")}[target]
        if not pattern.match(value):
            self.fail(value_node, f"{target} {value!r} is not valid (e.g. {example})")
        extras: list[tuple[str, str | int | float | bool]] = []
        if "extras" in f:
            if target == "app":
                self.fail(f.key_node("extras"), "extras need an intent (action or component), not app")
            extras_node = self.mapping(f.get("extras"), "extras")
            for key, _, extra in self.pairs(extras_node, "extras"):
                extras.append((key, self.extra_value(extra, key)))
        values: dict[str, Any] = {target: value, "extras": tuple(extras)}
        if "data" in f:
            if target == "app":
                self.fail(f.key_node("data"), "data needs an intent (action or component), not app")
            data_node = f.get("data")
            data = self.text(data_node, "data")
            if not DATA_URI.match(data):
                self.fail(data_node, f"data {data!r} is not a URI (e.g. https://account.xiaomi.com/pass/del); it is "
                                     "literal: no spaces, quotes, backslashes or ${...}")
            values["data"] = data
        return values

    def extra_value(self, node: Node, key: str) -> str | int | float | bool:
        what = f"extra '{key}'"
        if isinstance(node, ScalarNode) and node.tag == _TAG + "bool":
            return self.boolean(node, what)
        if isinstance(node, ScalarNode) and node.tag == _TAG + "int":
            return self.integer(node, what, -(2**63), 2**63 - 1)
        if isinstance(node, ScalarNode) and node.tag == _TAG + "float":
            value = _number(node)
            if value is None or not math.isfinite(value):
                self.fail(node, f"{what} must be a finite number, not {node.value!r}")
            return float(value)
        return self.template(node, what, empty_ok=True)

    def selector(self, node: Node, what: str, *, scroll_ok: bool, extra: Collection[str] = ()) -> tuple[Selector, _Fields | None]:
        """A selector mapping; a string or list of strings is short for ``{text: ...}``."""
        if not isinstance(node, MappingNode):
            if isinstance(node, ScalarNode) and node.tag == _TAG + "null":
                self.fail(node, f"{what} needs a selector (id, text, ...)")
            return Selector(line=self.line(node), text=self.templates(node, f"{what} text")), None
        f = self.fields(node, what, SELECTOR_KEYS + tuple(extra))
        values: dict[str, Any] = {}
        for key in ("id", "text_contains", "desc", "cls", "package"):
            if key in f:
                values[key] = self.template(f.get(key), key)
        if "text" in f:
            values["text"] = self.templates(f.get("text"), "text")
        if "text_matches" in f:
            values["text_matches"] = self.regex(f.get("text_matches"), "text_matches")
        if not values:
            self.fail(node, f"{what} needs at least one of: {', '.join(MATCH_KEYS)}")
        if "index" in f:
            values["index"] = self.integer(f.get("index"), "index", 0, 1000)
        if "last" in f:
            values["last"] = self.boolean(f.get("last"), "last")
            if values["last"] and "index" in values:
                self.fail(f.key_node("last"), "a selector takes index or last, not both")
        if "scroll" in f:
            if not scroll_ok:
                self.fail(f.key_node("scroll"), f"scroll is not allowed in {what} "
                                                "(only tap and type selectors scroll to their element)")
            values["scroll"] = self.boolean(f.get("scroll"), "scroll")
        return Selector(line=self.line(node), **values), f

    def kind_tap(self, body: Node) -> dict[str, Any]:
        return {"selector": self.selector(body, "tap", scroll_ok=True)[0]}

    def kind_type(self, body: Node) -> dict[str, Any]:
        f = self.fields(body, "type", ("into", "text", "secret"))
        which = f.exactly_one(("text", "secret"), "type")
        values: dict[str, Any] = {}
        if "into" in f:
            values["into"] = self.selector(f.get("into"), "into", scroll_ok=True)[0]
        if which == "text":
            values["text"] = self.template(f.get("text"), "text", empty_ok=True)
            return values
        secret_node = f.get("secret")
        name = self.text(secret_node, "secret")
        param = self.params.get(name)
        if param is None:
            self.unknown_secret(secret_node, name)
        if not param.secret:
            self.fail(secret_node, f"param '{name}' is not secret: type it with text: \"${{{name}}}\" "
                                   "or declare it with secret: true")
        values["secret"] = name
        return values

    def kind_scroll_to(self, body: Node) -> dict[str, Any]:
        selector, f = self.selector(body, "scroll-to", scroll_ok=False, extra=("max-swipes",))
        values: dict[str, Any] = {"selector": selector}
        if f is not None and "max-swipes" in f:
            values["max_swipes"] = self.integer(f.get("max-swipes"), "max-swipes", 1, m.SCROLL_MAX_SWIPES_CAP)
        return values

    def kind_press(self, body: Node) -> dict[str, Any]:
        key = self.text(body, "press")
        if key not in m.KEYS:
            self.fail(body, f"press takes one of {', '.join(m.KEYS)}, not {key!r}{_suggest(key, m.KEYS)}")
        return {"key": key}

    def kind_expect(self, body: Node) -> dict[str, Any]:
        return {"screens": self.screens(body, "expect")}

    def wait_for(self, body: Node) -> tuple[dict[str, Any], float | None]:
        if not isinstance(body, MappingNode):
            return {"screens": self.screens(body, "wait-for screen")}, None
        f = self.fields(body, "wait-for", ("screen", "gone", "exists", "timeout"))
        which = f.exactly_one(("screen", "gone", "exists"), "wait-for")
        timeout = self.seconds(f.get("timeout"), "timeout") if "timeout" in f else None
        if which == "screen":
            return {"screens": self.screens(f.get("screen"), "screen")}, timeout
        return {which: self.selector(f.get(which), which, scroll_ok=False)[0]}, timeout

    def kind_shell(self, body: Node) -> dict[str, Any]:
        if not isinstance(body, MappingNode):
            return {"command": self.shell_command(body, "shell command")}
        f = self.fields(body, "shell", ("command", "save-as"))
        values: dict[str, Any] = {"command": self.shell_command(f.require("command", "shell"), "shell command")}
        if "save-as" in f:
            save_node = f.get("save-as")
            name = self.text(save_node, "save-as")
            if not IDENTIFIER.match(name):
                self.fail(save_node, f"save-as {name!r} must be letters, digits and '_' (not starting with a digit)")
            if name in self.params:
                self.fail(save_node, f"save-as '{name}' would hide the param of the same name")
            self.variables.add(name)
            values["save_as"] = name
        return values

    def kind_screenshot(self, body: Node) -> dict[str, Any]:
        name_node = body
        if isinstance(body, MappingNode):
            name_node = self.fields(body, "screenshot", ("name",)).require("name", "screenshot")
        name = self.text(name_node, "screenshot name")
        if not SHOT_NAME.match(name) or len(name) > 100:
            self.fail(name_node, f"screenshot name {name!r} must be letters, digits, '.', '_' and '-' (it names a file)")
        return {"shot_name": name}

    def kind_task(self, body: Node) -> dict[str, Any]:
        """A named Python task (backup, export, wait for reboot…) with template arguments."""
        name_node, args = body, []
        if isinstance(body, MappingNode):
            f = self.fields(body, "task", ("name", "with"))
            name_node = f.require("name", "task")
            if "with" in f:
                with_node = f.get("with")
                if not isinstance(with_node, MappingNode):
                    self.fail(with_node, "task 'with' must be a mapping of argument names to values")
                for key_node, value_node in with_node.value:
                    args.append((self.text(key_node, "task argument name"), self.template(value_node, "task argument", empty_ok=True)))
        name = self.text(name_node, "task name")
        if name not in self.loader.tasks:
            hint = _suggest(name, self.loader.tasks) or f" (tasks: {', '.join(sorted(self.loader.tasks)) or 'none'})"
            self.fail(name_node, f"unknown task {name!r}{hint}")
        return {"task": name, "args": tuple(args)}

    def kind_assert(self, body: Node) -> dict[str, Any]:
        return {"condition": self.condition(body, "assert")}

    def condition(self, node: Node, what: str) -> m.Condition:
        """A screen name or list of names, or a mapping with one subject and (except screen) one comparison."""
        line = self.line(node)
        if not isinstance(node, MappingNode):
            if isinstance(node, ScalarNode) and node.tag == _TAG + "null":
                self.fail(node, f"{what} needs a condition such as {{screen: NAME}}")
            return m.Condition(kind="screen", line=line, screens=self.screens(node, f"{what} screen"))
        f = self.fields(node, what, CONDITION_SUBJECTS + m.Condition.OPS)
        kind = f.exactly_one(CONDITION_SUBJECTS, what)
        ops = [op for op in m.Condition.OPS if op in f]
        subject_node = f.get(kind)
        if kind == "screen":
            if ops:
                self.fail(f.key_node(ops[0]), f"a screen condition takes no '{ops[0]}'")
            return m.Condition(kind="screen", line=line, screens=self.screens(subject_node, "screen"))
        op = f.exactly_one(m.Condition.OPS, f"a {kind} condition")
        if kind == "shell":
            subject = self.shell_command(subject_node, "shell command")
        elif kind == "prop":
            subject = self.text(subject_node, "prop")
            if not PROP_NAME.match(subject):
                self.fail(subject_node, f"prop {subject!r} is not a property name (e.g. ro.miui.ui.version.name)")
        else:
            subject = self.text(subject_node, "param")
            param = self.params.get(subject)
            if param is not None and param.secret:
                self.fail(subject_node, f"secret param '{subject}' cannot be compared (only typed with type: {{secret: ...}})")
            if param is None and subject not in self.variables:
                self.fail(subject_node, f"unknown param '{subject}'{_suggest(subject, [*self.params, *self.variables])}")
        op_node = f.get(op)
        if op in ("matches", "not-matches"):
            return m.Condition(kind=kind, line=line, subject=subject, op=op, pattern=self.regex(op_node, op))
        value = self.template(op_node, op, empty_ok=op in ("equals", "not-equals"))
        if kind == "param" and op in ("equals", "not-equals") and not m.references(value):
            choices = self.params[subject].choices if subject in self.params else ()
            if choices and value not in choices:
                self.fail(op_node, f"{value!r} is not a choice of param '{subject}' ({', '.join(choices)})")
        return m.Condition(kind=kind, line=line, subject=subject, op=op, value=value)

    def kind_run(self, body: Node) -> dict[str, Any]:
        if isinstance(body, MappingNode):
            f = self.fields(body, "run", ("flow", "params"))
            ref_node = f.require("flow", "run")
            args_node = f.get("params")
        else:
            ref_node, args_node = body, None
        ref = self.text(ref_node, "flow")
        flow = self.subflow(ref, ref_node)
        params: list[tuple[str, str]] = []
        secrets: list[tuple[str, str]] = []
        given: set[str] = set()
        if args_node is not None and not (isinstance(args_node, ScalarNode) and args_node.tag == _TAG + "null"):
            for name, key_node, value in self.pairs(self.mapping(args_node, "run params"), "run params"):
                target = flow.param(name)
                if target is None:
                    hint = _suggest(name, [p.name for p in flow.params])
                    self.fail(key_node, f"flow '{flow.name}' has no param '{name}'{hint}")
                given.add(name)
                if isinstance(value, MappingNode):
                    secrets.append((name, self.passed_secret(value, name, target)))
                    continue
                if target.secret:
                    self.fail(value, f"'{name}' is a secret of flow '{flow.name}': pass one of this flow's secrets "
                                     f"with {name}: {{secret: NAME}}")
                text = self.template(value, f"param '{name}'", empty_ok=True)
                if target.choices and not m.references(text) and text not in target.choices:
                    self.fail(value, f"{text!r} is not a choice of param '{name}' ({', '.join(target.choices)})")
                params.append((name, text))
        missing = [p.name for p in flow.params if p.required and not p.secret and not p.env and p.name not in given]
        if missing:
            self.fail(ref_node, f"flow '{flow.name}' needs param(s): {', '.join(missing)}")
        return {"flow_ref": ref, "flow": flow, "params": tuple(params), "secrets": tuple(secrets)}

    def unknown_secret(self, node: Node, name: str) -> NoReturn:
        """Refuse a ``secret:`` naming no param — without echoing it: it may be a password typed in by mistake."""
        secrets = [p.name for p in self.params.values() if p.secret]
        hint = _suggest(name, secrets) or (f" (secret params: {', '.join(secrets)})" if secrets else
                                           " (declare one under params with secret: true)")
        self.fail(node, f"secret: takes the name of a secret param, and this flow has none by that name{hint}")

    def passed_secret(self, node: MappingNode, name: str, target: m.Param) -> str:
        f = self.fields(node, f"param '{name}'", ("secret",))
        secret_node = f.require("secret", f"param '{name}'")
        source = self.text(secret_node, "secret")
        param = self.params.get(source)
        if param is None:
            self.unknown_secret(secret_node, source)
        if not param.secret:
            self.fail(secret_node, f"'{source}' is not a secret param of this flow")
        if not target.secret:
            self.fail(node, f"param '{name}' of the sub-flow is not secret; a secret cannot be passed to it")
        return source

    def subflow(self, ref: str, node: Node) -> m.Flow:
        loader = self.loader
        if loader.resolver is None:
            self.fail(node, f"cannot load flow '{ref}': sub-flows need a resolver (load the flow from a file)")
        lookup = ref
        if is_path_ref(ref) and not os.path.isabs(ref) and not self.path.startswith("<"):
            lookup = os.path.join(os.path.dirname(self.path), ref)
        try:
            text, path = loader.resolver(lookup)
        except (LookupError, OSError, ValueError) as exc:
            self.fail(node, f"run: {_one_line(str(exc))}")
        key = _canonical(path)
        keys = [k for k, _ in loader.stack]
        if key in keys:
            cycle = [shown for _, shown in loader.stack[keys.index(key):]] + [path]
            self.fail(node, f"run would recurse: {' -> '.join(cycle)}")
        flow = loader.cache.get(key) or loader.parse(text, path)
        if not is_path_ref(ref) and flow.name != ref:
            self.fail(node, f"flow file {path} is named '{flow.name}', not '{ref}'")
        return flow

    def when(self, body: Node, f: _Fields, depth: int) -> dict[str, Any]:
        condition = self.condition(body, "when")
        then_node = f.get("then")
        if then_node is None:
            self.fail(f.node, "a when step needs 'then' (the steps to run when the condition holds)")
        values: dict[str, Any] = {"condition": condition, "then_steps": self.steps(then_node, "then", depth + 1)}
        if "else" in f:
            values["else_steps"] = self.steps(f.get("else"), "else", depth + 1)
        return values

    def retry(self, body: Node, depth: int) -> dict[str, Any]:
        f = self.fields(body, "retry", ("times", "steps"))
        times = self.integer(f.get("times"), "times", 1, m.RETRY_TIMES_CAP) if "times" in f else m.RETRY_TIMES_DEFAULT
        return {"times": times, "steps": self.steps(f.require("steps", "retry"), "retry steps", depth + 1)}

    def drive(self, body: Node, depth: int) -> dict[str, Any]:
        f = self.fields(body, "drive", ("until", "max-steps", "rules"))
        until = self.condition(f.require("until", "drive"), "until")
        max_steps = m.DRIVE_MAX_STEPS_DEFAULT
        if "max-steps" in f:
            max_steps = self.integer(f.get("max-steps"), "max-steps", 1, m.DRIVE_MAX_STEPS_CAP)
        rules_node = f.require("rules", "drive")
        if isinstance(rules_node, ScalarNode) and rules_node.tag == _TAG + "null":
            self.fail(rules_node, "drive needs rules: a mapping of screen name -> action")
        rules_node = self.mapping(rules_node, "rules")
        rules = []
        for screen, key_node, value in self.pairs(rules_node, "rules"):
            self.screen(key_node, screen)
            if until.kind == "screen" and screen in until.screens:
                self.fail(key_node, f"the rule for '{screen}' never runs: drive stops when it reaches that screen")
            rules.append((screen, self.rule(value, depth + 1)))
        if not rules:
            self.fail(rules_node, "drive needs at least one rule")
        return {"until": until, "max_steps": max_steps, "rules": tuple(rules)}

    def rule(self, node: Node, depth: int) -> tuple[m.Item, ...]:
        if depth >= MAX_NESTING:
            self.fail(node, f"steps nested more than {MAX_NESTING} levels deep")
        items = node.value if isinstance(node, SequenceNode) else [node]
        if not items:
            self.fail(node, "a rule must not be an empty list")
        actions = [self.rule_item(item, depth) for item in items]
        for action, item in zip(actions[:-1], items[:-1]):
            if isinstance(action, m.RuleAction):
                self.fail(item, f"'{action.describe().split()[0]}' ends a rule: nothing may follow it")
        return tuple(actions)

    def rule_item(self, node: Node, depth: int) -> m.Item:
        line = self.line(node)
        if isinstance(node, ScalarNode):
            word = node.value
            if word == "wait":
                return m.WaitAction(line=line)
            if word == "done":
                return m.DoneAction(line=line)
            self.fail(node, f"a rule action is a step, a list of steps, wait, done or {{fail: message}}, "
                            f"not {self.kind_of(node)}{_suggest(word, RULE_WORDS)}")
        if isinstance(node, MappingNode) and any(key_node.value == "fail" for key_node, _ in node.value
                                                 if isinstance(key_node, ScalarNode)):
            f = self.fields(node, "fail action", ("fail",))
            return m.FailAction(line=line, message=self.template(f.get("fail"), "fail message"))
        return self.step(node, depth)


_STEP_CLASSES: dict[str, type] = {
    "open": m.OpenStep, "tap": m.TapStep, "type": m.TypeStep, "scroll-to": m.ScrollToStep, "press": m.PressStep,
    "expect": m.ExpectStep, "wait-for": m.WaitForStep, "shell": m.ShellStep, "screenshot": m.ScreenshotStep,
    "assert": m.AssertStep, "run": m.RunStep, "when": m.WhenStep, "retry": m.RetryStep, "drive": m.DriveStep,
    "task": m.TaskStep,
}
