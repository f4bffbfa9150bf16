"""``devices.yaml`` -> a frozen :class:`Inventory`, or one ``file:line: message`` error.

A lab describes its phones once: which adb servers to ask (the local one and USB hosts sharing
their phones over the network), which phones to take (by serial, with a label, or by rules on
model and OS variant), the params of each and where its account password comes from. Everything
is checked at load (DESIGN principle 7), on PyYAML's composed node tree so every error names the
line to fix; nothing is discovered half-way through resetting thirty phones.

Passwords are never in the file: ``password:`` takes ``{env: NAME}`` or ``{file: PATH}``, and a
plaintext value — or a param whose name says it is a secret — is refused with its line.
"""

from __future__ import annotations

import difflib
import fnmatch
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, NoReturn

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

from ..errors import ConfigError

LOCAL = "local"
"""The adb server of this machine (``$ANDROID_ADB_SERVER_PORT``, else 5037)."""

TOP_KEYS = ("servers", "parallel", "phone-timeout", "defaults", "devices")
DEFAULTS_KEYS = ("params", "password")
DEVICE_KEYS = ("serial", "match", "label", "server", "params", "password", "skip")
MATCH_KEYS = ("model", "variant", "os", "server")
PASSWORD_KEYS = ("env", "file")
SECRET_WORDS = re.compile(r"(^|[_-])(password|passwd|passcode|pass|pwd|secret|token|pin|credentials?)($|[_-])", re.I)
SERVER = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(?P<port>\d{1,5})\Z")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_TAG = "tag:yaml.org,2002:"


def normalize_server(text: str) -> str:
    """``local`` or ``host:port`` (a bare port means this host); ValueError for anything else."""
    text = text.strip()
    if text == LOCAL:
        return LOCAL
    if text.isdigit():
        text = f"127.0.0.1:{text}"
    m = SERVER.match(text)
    if not m or not 0 < int(m["port"]) < 65536:
        raise ValueError(f"adb server {text!r} is not 'local' or host:port")
    return text


def server_address(server: str) -> str | None:
    """What :func:`miui_automator.device.android.adb_client` takes: None for the local server."""
    return None if server == LOCAL else server


@dataclass(frozen=True)
class PasswordSource:
    """Where a phone's account password is read from when a flow needs it: an env var or a file."""

    env: str | None = None
    file: Path | None = None
    origin: str = ""  # file:line of the inventory entry, for messages

    def read(self) -> str | None:
        """The password; None when the variable is not set (a flow whose password is optional goes on)."""
        if self.env:
            return os.environ.get(self.env) or None
        assert self.file is not None
        try:
            return self.file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as err:
            raise ConfigError(f"{self.origin}: cannot read the password file {self.file}: {err.strerror or err}") from None

    def describe(self) -> str:
        return f"${self.env}" if self.env else str(self.file)

    def as_dict(self) -> dict[str, str]:
        """What the ledger keeps to read the password again on resume: the source, never the value."""
        return {"env": self.env} if self.env else {"file": str(self.file)}

    @classmethod
    def from_dict(cls, data: Mapping[str, str] | None, origin: str) -> PasswordSource | None:
        if not data:
            return None
        return cls(env=data.get("env"), file=Path(data["file"]) if data.get("file") else None, origin=origin)


@dataclass(frozen=True)
class PhoneFacts:
    """What selection looks at: where the phone is attached and what it is."""

    server: str
    serial: str
    hardware_serial: str = ""
    model: str = ""
    market_name: str = ""
    variant: str = ""
    os_label: str = ""


@dataclass(frozen=True)
class Entry:
    """One item of ``devices:``: a phone by serial, or a rule matching phones by what they are."""

    line: int
    origin: str
    serial: str | None = None
    label: str = ""
    server: str | None = None
    match: tuple[tuple[str, tuple[str, ...]], ...] = ()
    params: tuple[tuple[str, str, int], ...] = ()  # (name, value, line)
    password: PasswordSource | None = None
    skip: bool = False

    @property
    def is_rule(self) -> bool:
        return self.serial is None

    def matches(self, phone: PhoneFacts) -> bool:
        if self.server is not None and phone.server != self.server:
            return False
        if self.serial is not None:
            return self.serial in (phone.serial, phone.hardware_serial)
        values = {"model": (phone.model, phone.market_name), "variant": (phone.variant,), "os": (phone.os_label,),
                  "server": (phone.server,)}
        return all(any(fnmatch.fnmatchcase(v, p) for v in values[key] if v for p in patterns)
                   for key, patterns in self.match)

    def describe(self) -> str:
        if self.serial is not None:
            return f"serial {self.serial}"
        return "rule " + (", ".join(f"{k}={'|'.join(p)}" for k, p in self.match) or "(every phone)")


@dataclass(frozen=True)
class Inventory:
    path: Path
    servers: tuple[str, ...] = (LOCAL,)
    entries: tuple[Entry, ...] = ()
    parallel: int | None = None
    phone_timeout_s: float | None = None
    default_params: tuple[tuple[str, str, int], ...] = ()
    default_password: PasswordSource | None = None

    def select(self, phone: PhoneFacts) -> Entry | None:
        """The entry that owns ``phone``: a serial entry first, else the first matching rule; None if none
        does or the owner says ``skip``."""
        owner = next((e for e in self.entries if not e.is_rule and e.matches(phone)), None) \
            or next((e for e in self.entries if e.is_rule and e.matches(phone)), None)
        return None if owner is None or owner.skip else owner

    @property
    def listed(self) -> tuple[Entry, ...]:
        """The phones named by serial (not skipped): the run misses them if they are not attached."""
        return tuple(e for e in self.entries if not e.is_rule and not e.skip)

    def params_for(self, entry: Entry | None) -> dict[str, tuple[str, str]]:
        """name -> (value, file:line); the entry's values over the defaults."""
        merged = {name: (value, f"{self.path}:{line}") for name, value, line in self.default_params}
        for name, value, line in entry.params if entry else ():
            merged[name] = (value, f"{self.path}:{line}")
        return merged

    def password_for(self, entry: Entry | None) -> PasswordSource | None:
        return (entry.password if entry else None) or self.default_password


def load_inventory(path: str | os.PathLike[str]) -> Inventory:
    """Read and validate an inventory file; :class:`ConfigError` with ``file:line`` on any problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"{path}: cannot read the inventory: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}:1: the inventory is not UTF-8 text") from None
    return parse_inventory(text, path)


def parse_inventory(text: str, path: str | os.PathLike[str] = "devices.yaml") -> Inventory:
    return _Parser(Path(path)).parse(text)


class _Parser:
    def __init__(self, path: Path) -> None:
        self.path = path

    # ------------------------------------------------------------------ plumbing
    def fail(self, node: Node | int, message: str) -> NoReturn:
        line = node if isinstance(node, int) else node.start_mark.line + 1
        raise ConfigError(f"{self.path}:{line}: {message}", path=str(self.path), line=line)

    def origin(self, node: Node) -> str:
        return f"{self.path}:{node.start_mark.line + 1}"

    def compose(self, text: str) -> Node | None:
        try:
            return yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            self.fail(mark.line + 1 if mark else 1, f"invalid YAML: {' '.join(str(exc.problem or 'syntax error').split())}")
        except ReaderError as exc:
            self.fail(text.count("\n", 0, max(exc.position, 0)) + 1, "invalid YAML: not a printable character")
        except yaml.YAMLError as exc:
            self.fail(1, f"invalid YAML: {' '.join(str(exc).split())}")

    def fields(self, node: Node, what: str, allowed: Iterable[str]) -> dict[str, tuple[Node, Node]]:
        """key -> (key node, value node); unknown and duplicate keys refused."""
        if not isinstance(node, MappingNode):
            self.fail(node, f"{what} must be a mapping")
        allowed = tuple(allowed)
        out: dict[str, tuple[Node, Node]] = {}
        for key_node, value in node.value:
            if not isinstance(key_node, ScalarNode):
                self.fail(key_node, f"keys in {what} must be plain strings")
            key = key_node.value
            if key in out:
                self.fail(key_node, f"duplicate key '{key}' in {what} (first at line {out[key][0].start_mark.line + 1})")
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                hint = f" (did you mean '{close[0]}'?)" if close else f" (known: {', '.join(allowed)})"
                self.fail(key_node, f"unknown key '{key}' in {what}{hint}")
            out[key] = (key_node, value)
        return out

    def scalar(self, node: Node, what: str) -> str:
        if not isinstance(node, ScalarNode) or node.tag == _TAG + "null":
            self.fail(node, f"{what} must be a single value")
        return node.value

    def text(self, node: Node, what: str) -> str:
        value = self.scalar(node, what).strip()
        if not value:
            self.fail(node, f"{what} must not be empty")
        return value

    def number(self, node: Node, what: str, integer: bool) -> float:
        raw = self.scalar(node, what)
        try:
            value = int(raw) if integer else float(raw)
        except ValueError:
            self.fail(node, f"{what} must be a {'whole ' if integer else ''}number, not {raw!r}")
        if value <= 0:
            self.fail(node, f"{what} must be more than 0")
        return value

    def boolean(self, node: Node, what: str) -> bool:
        if not isinstance(node, ScalarNode) or node.tag != _TAG + "bool":
            self.fail(node, f"{what} must be true or false")
        return node.value.lower() in ("true", "yes", "on")

    def items(self, node: Node, what: str) -> list[Node]:
        if not isinstance(node, SequenceNode):
            self.fail(node, f"{what} must be a list")
        return list(node.value)

    # ------------------------------------------------------------------ the file
    def parse(self, text: str) -> Inventory:
        root = self.compose(text)
        if root is None:
            self.fail(1, "the inventory is empty (it needs at least 'devices:')")
        top = self.fields(root, "the inventory", TOP_KEYS)
        if "devices" not in top:
            self.fail(root, "the inventory needs 'devices:' (phones by serial, or rules such as '- match: {}')")
        servers = self.servers(top["servers"][1]) if "servers" in top else (LOCAL,)
        params: tuple[tuple[str, str, int], ...] = ()
        password = None
        if "defaults" in top:
            defaults = self.fields(top["defaults"][1], "defaults", DEFAULTS_KEYS)
            if "params" in defaults:
                params = self.params(defaults["params"][1])
            if "password" in defaults:
                password = self.password(defaults["password"][1])
        entries = tuple(self.entry(node, servers) for node in self.items(top["devices"][1], "devices"))
        if not entries:
            self.fail(top["devices"][1], "devices: needs at least one entry")
        self.unique(entries)
        return Inventory(
            path=self.path, servers=servers, entries=entries,
            parallel=int(self.number(top["parallel"][1], "parallel", True)) if "parallel" in top else None,
            phone_timeout_s=self.number(top["phone-timeout"][1], "phone-timeout", False) if "phone-timeout" in top else None,
            default_params=params, default_password=password)

    def servers(self, node: Node) -> tuple[str, ...]:
        out: list[str] = []
        for item in self.items(node, "servers"):
            try:
                server = normalize_server(self.text(item, "a server"))
            except ValueError as err:
                self.fail(item, f"{err} (e.g. local, 192.168.1.20:5037)")
            if server in out:
                self.fail(item, f"server {server} is listed twice")
            out.append(server)
        if not out:
            self.fail(node, "servers: needs at least one adb server (e.g. local)")
        return tuple(out)

    def entry(self, node: Node, servers: tuple[str, ...]) -> Entry:
        f = self.fields(node, "a device entry", DEVICE_KEYS)
        if ("serial" in f) == ("match" in f):
            self.fail(node, "a device entry needs either 'serial' (one phone) or 'match' (a rule), not "
                      + ("both" if "serial" in f else "neither"))
        server = None
        if "server" in f:
            server = self.known_server(f["server"][1], servers)
        match: tuple[tuple[str, tuple[str, ...]], ...] = ()
        if "match" in f:
            match = self.match(f["match"][1], servers)
            if "label" in f:
                self.fail(f["label"][0], "a label names one phone: put it on a 'serial:' entry, not on a rule")
        return Entry(
            line=node.start_mark.line + 1, origin=self.origin(node),
            serial=self.text(f["serial"][1], "serial") if "serial" in f else None,
            label=self.text(f["label"][1], "label") if "label" in f else "",
            server=server, match=match,
            params=self.params(f["params"][1]) if "params" in f else (),
            password=self.password(f["password"][1]) if "password" in f else None,
            skip=self.boolean(f["skip"][1], "skip") if "skip" in f else False)

    def known_server(self, node: Node, servers: tuple[str, ...]) -> str:
        try:
            server = normalize_server(self.text(node, "server"))
        except ValueError as err:
            self.fail(node, str(err))
        if server not in servers:
            self.fail(node, f"server {server} is not in servers: ({', '.join(servers)})")
        return server

    def match(self, node: Node, servers: tuple[str, ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
        out = []
        for key, (key_node, value) in self.fields(node, "match", MATCH_KEYS).items():
            if key == "server":
                out.append((key, (self.known_server(value, servers),)))
                continue
            values = self.items(value, f"match {key}") if isinstance(value, SequenceNode) else [value]
            patterns = tuple(self.text(v, f"match {key}") for v in values)
            if not patterns:
                self.fail(value, f"match {key} needs at least one pattern")
            out.append((key, patterns))
        return tuple(out)

    def params(self, node: Node) -> tuple[tuple[str, str, int], ...]:
        out = []
        for name, (key_node, value) in self.fields(node, "params", self.keys_of(node)).items():
            if SECRET_WORDS.search(name):
                self.fail(key_node, f"param '{name}' looks like a secret: secrets never go in the inventory; "
                          "use password: {env: NAME} or {file: PATH}")
            out.append((name, self.scalar(value, f"param '{name}'"), key_node.start_mark.line + 1))
        return tuple(out)

    @staticmethod
    def keys_of(node: Node) -> list[str]:
        return [k.value for k, _ in node.value if isinstance(k, ScalarNode)] if isinstance(node, MappingNode) else []

    def password(self, node: Node) -> PasswordSource:
        if isinstance(node, ScalarNode) and node.tag != _TAG + "null":
            self.fail(node, "plaintext password refused: passwords never go in the inventory; "
                      "use password: {env: NAME} or password: {file: PATH}")
        f = self.fields(node, "password", PASSWORD_KEYS)
        if len(f) != 1:
            self.fail(node, "password takes exactly one of env: NAME or file: PATH")
        if "env" in f:
            name = self.text(f["env"][1], "password env")
            if not ENV_NAME.match(name):
                self.fail(f["env"][1], f"password env {name!r} is not an environment variable name")
            return PasswordSource(env=name, origin=self.origin(node))
        file = Path(os.path.expanduser(self.text(f["file"][1], "password file")))
        if not file.is_absolute():
            file = self.path.parent / file
        return PasswordSource(file=file, origin=self.origin(node))

    def unique(self, entries: tuple[Entry, ...]) -> None:
        serials: dict[tuple[str, str | None], Entry] = {}
        labels: dict[str, Entry] = {}
        for e in entries:
            if e.serial is not None:
                key = (e.serial, e.server)
                if key in serials:
                    self.fail(e.line, f"serial {e.serial} is listed twice (first at line {serials[key].line})")
                serials[key] = e
            if e.label:
                if e.label in labels:
                    self.fail(e.line, f"label {e.label!r} is used twice (first at line {labels[e.label].line})")
                labels[e.label] = e


__all__ = ["LOCAL", "Entry", "Inventory", "PasswordSource", "PhoneFacts", "load_inventory", "normalize_server",
           "parse_inventory", "server_address"]
