"""``devices.yaml`` -> a frozen :class:`Inventory`, or one ``file:line: message`` error.

A lab describes its phones once: which adb servers to ask (the local one and USB hosts sharing
their phones over the network), which phones to take (by serial, with a label, or by rules on
model and OS variant), the params of each and where its account password comes from. Everything
is checked at load, so nothing is discovered half-way through resetting thirty phones. The file is
read by :class:`~miui_automator.yaml_reader.YamlReader` like flows and the screen catalogue are (the
same merge keys, strict types, duplicate keys refused, size/depth/alias bounds, every error naming
its line); this module holds only the inventory's grammar.

Passwords are never in the file: ``password:`` takes ``{env: NAME}`` or ``{file: PATH}``, and a
plaintext value — or a param whose name says it is a secret — is refused with its line.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from yaml.nodes import Node, ScalarNode

from .. import secret_env
from ..errors import ConfigError
from ..yaml_reader import YamlReader, is_null, read_text

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
MAX_PARALLEL = 512
"""Most phones at once that ``parallel:`` may ask for (the same bound as ``--parallel``)."""


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
            return secret_env.read(self.env)
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
class PhoneEntry:
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
    entries: tuple[PhoneEntry, ...] = ()
    parallel: int | None = None
    phone_timeout_s: float | None = None
    default_params: tuple[tuple[str, str, int], ...] = ()
    default_password: PasswordSource | None = None

    def select(self, phone: PhoneFacts) -> PhoneEntry | None:
        """The entry that owns ``phone``: a serial entry first, else the first matching rule; None if none
        does or the owner says ``skip``."""
        owner = next((e for e in self.entries if not e.is_rule and e.matches(phone)), None) \
            or next((e for e in self.entries if e.is_rule and e.matches(phone)), None)
        return None if owner is None or owner.skip else owner

    @property
    def listed(self) -> tuple[PhoneEntry, ...]:
        """The phones named by serial (not skipped): the run misses them if they are not attached."""
        return tuple(e for e in self.entries if not e.is_rule and not e.skip)

    def params_for(self, entry: PhoneEntry | None) -> dict[str, tuple[str, str]]:
        """name -> (value, file:line); the entry's values over the defaults."""
        merged = {name: (value, f"{self.path}:{line}") for name, value, line in self.default_params}
        for name, value, line in entry.params if entry else ():
            merged[name] = (value, f"{self.path}:{line}")
        return merged

    def password_for(self, entry: PhoneEntry | None) -> PasswordSource | None:
        return (entry.password if entry else None) or self.default_password


def load_inventory(path: str | os.PathLike[str]) -> Inventory:
    """Read and validate an inventory file; :class:`ConfigError` with ``file:line`` on any problem."""
    return parse_inventory(read_text(path, "the inventory"), path)


def parse_inventory(text: str, path: str | os.PathLike[str] = "devices.yaml") -> Inventory:
    return _Parser(Path(path)).parse(text)


class _Parser(YamlReader):
    """The inventory grammar; reading YAML (bounds, merge keys, strict types) is :class:`YamlReader`'s."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.file = path

    def origin(self, node: Node) -> str:
        return f"{self.path}:{self.line(node)}"

    def parse(self, text: str) -> Inventory:
        root = self.compose(text)
        if root is None:
            self.fail_at(1, "the inventory is empty (it needs at least 'devices:')")
        top = self.fields(root, "the inventory", TOP_KEYS)
        devices = top.get("devices")
        if devices is None:
            self.fail(root, "the inventory needs 'devices:' (phones by serial, or rules such as '- match: {}')")
        servers = self.servers(top.get("servers")) if "servers" in top else (LOCAL,)
        params: tuple[tuple[str, str, int], ...] = ()
        password = None
        if "defaults" in top:
            defaults = self.fields(top.get("defaults"), "defaults", DEFAULTS_KEYS)
            if "params" in defaults:
                params = self.params(defaults.get("params"))
            if "password" in defaults:
                password = self.password(defaults.get("password"))
        entries = tuple(self.entry(node, servers) for node in self.sequence(devices, "devices"))
        if not entries:
            self.fail(devices, "devices: needs at least one entry")
        self.unique(entries)
        return Inventory(
            path=self.file, servers=servers, entries=entries,
            parallel=self.integer(top.get("parallel"), "parallel", 1, MAX_PARALLEL) if "parallel" in top else None,
            phone_timeout_s=self.seconds(top.get("phone-timeout"), "phone-timeout") if "phone-timeout" in top else None,
            default_params=params, default_password=password)

    def servers(self, node: Node) -> tuple[str, ...]:
        out: list[str] = []
        for item in self.sequence(node, "servers"):
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

    def entry(self, node: Node, servers: tuple[str, ...]) -> PhoneEntry:
        f = self.fields(node, "a device entry", DEVICE_KEYS)
        if ("serial" in f) == ("match" in f):
            self.fail(node, "a device entry needs either 'serial' (one phone) or 'match' (a rule), not "
                      + ("both" if "serial" in f else "neither"))
        server = self.known_server(f.get("server"), servers) if "server" in f else None
        match: tuple[tuple[str, tuple[str, ...]], ...] = ()
        if "match" in f:
            match = self.match(f.get("match"), servers)
            if "label" in f:
                self.fail(f.key_node("label"), "a label names one phone: put it on a 'serial:' entry, not on a rule")
        return PhoneEntry(
            line=self.line(node), origin=self.origin(node),
            serial=self.text(f.get("serial"), "serial").strip() if "serial" in f else None,
            label=self.text(f.get("label"), "label").strip() if "label" in f else "",
            server=server, match=match,
            params=self.params(f.get("params")) if "params" in f else (),
            password=self.password(f.get("password")) if "password" in f else None,
            skip=self.boolean(f.get("skip"), "skip") if "skip" in f else False)

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
        for key, (_, value) in self.fields(node, "match", MATCH_KEYS).items.items():
            if key == "server":
                out.append((key, (self.known_server(value, servers),)))
            else:
                out.append((key, tuple(p.strip() for p in self.texts(value, f"match {key}"))))
        return tuple(out)

    def params(self, node: Node) -> tuple[tuple[str, str, int], ...]:
        out = []
        for name, key_node, value in self.pairs(self.mapping(node, "params"), "params"):
            if SECRET_WORDS.search(name):
                self.fail(key_node, f"param '{name}' looks like a secret: secrets never go in the inventory; "
                          "use password: {env: NAME} or {file: PATH}")
            out.append((name, self.text(value, f"param '{name}'", empty_ok=True), self.line(key_node)))
        return tuple(out)

    def password(self, node: Node) -> PasswordSource:
        if isinstance(node, ScalarNode) and not is_null(node):
            self.fail(node, "plaintext password refused: passwords never go in the inventory; "
                      "use password: {env: NAME} or password: {file: PATH}")
        f = self.fields(node, "password", PASSWORD_KEYS)
        which = f.exactly_one(PASSWORD_KEYS, "password")
        value = f.get(which)
        if which == "env":
            name = self.text(value, "password env").strip()
            if not ENV_NAME.match(name):
                self.fail(value, f"password env {name!r} is not an environment variable name")
            secret_env.withdraw([name])  # before any child process (the adb server) could inherit it
            return PasswordSource(env=name, origin=self.origin(node))
        file = Path(os.path.expanduser(self.text(value, "password file").strip()))
        if not file.is_absolute():
            file = self.file.parent / file
        return PasswordSource(file=file, origin=self.origin(node))

    def unique(self, entries: tuple[PhoneEntry, ...]) -> None:
        serials: dict[tuple[str, str | None], PhoneEntry] = {}
        labels: dict[str, PhoneEntry] = {}
        for e in entries:
            if e.serial is not None:
                key = (e.serial, e.server)
                if key in serials:
                    self.fail_at(e.line, f"serial {e.serial} is listed twice (first at line {serials[key].line})")
                serials[key] = e
            if e.label:
                if e.label in labels:
                    self.fail_at(e.line, f"label {e.label!r} is used twice (first at line {labels[e.label].line})")
                labels[e.label] = e


__all__ = ["LOCAL", "MAX_PARALLEL", "PhoneEntry", "Inventory", "PasswordSource", "PhoneFacts", "load_inventory",
           "normalize_server", "parse_inventory", "server_address"]
