"""Reverse forwarding (``adb reverse``): the phone's table of reverse listeners.

``reverse:forward:tcp:6100;tcp:7100`` asks the phone to listen on its port 6100 and carry each
connection made there to the host's port 7100. Here a phone-side client (``nc localhost 6100``)
looks the port up with :meth:`ReverseTable.connect`, which opens a stream *to the host* named
after the rule's local end, through the adb connection that set the rule up. That is the only
case in which a device may send OPEN: the adb server records the rule when it passes the
``reverse:forward`` request on, and it aborts on a device OPEN for anything it did not record.

Rules belong to the adb connection that made them, as in adbd: when that connection drops,
its rules go (:meth:`ReverseTable.drop`).
"""

from __future__ import annotations

import re
import weakref
from typing import Awaitable, Callable

from .streamio import StreamIO

Dialer = Callable[[str], Awaitable[StreamIO | None]]

_SPEC = re.compile(r"(tcp:\d+|localabstract:.+|localreserved:.+|localfilesystem:.+|jdwp:\d+|vsock:\d+:\d+)")
FIRST_EPHEMERAL_PORT = 38_001  # where the phone's kernel hands out ports for `tcp:0`


class ReverseError(Exception):
    """A refused reverse command; the message is what adbd sends after FAIL."""


class ReverseTable:
    def __init__(self) -> None:
        self._rules: dict[str, tuple[str, Dialer]] = {}
        self._next_port = FIRST_EPHEMERAL_PORT

    def forward(self, remote: str, local: str, dialer: Dialer, norebind: bool = False) -> str:
        """Add ``remote`` -> ``local``; returns the bound remote (``tcp:0`` gets a real port)."""
        if not _SPEC.fullmatch(remote) or remote.startswith("jdwp:"):
            raise ReverseError(f"cannot bind listener: unknown socket specification '{remote}'")
        if not _SPEC.fullmatch(local):
            raise ReverseError(f"unknown socket specification '{local}'")
        if remote == "tcp:0":
            while f"tcp:{self._next_port}" in self._rules:
                self._next_port += 1
            remote = f"tcp:{self._next_port}"
            self._next_port += 1
        elif norebind and remote in self._rules:
            raise ReverseError("cannot rebind existing socket")
        self._rules[remote] = (local, dialer)
        return remote

    def remove(self, remote: str) -> None:
        if self._rules.pop(remote, None) is None:
            raise ReverseError(f"listener '{remote}' not found")

    def clear(self) -> None:
        self._rules.clear()

    def drop(self, dialer: Dialer) -> None:
        """The adb connection behind ``dialer`` went away: so do its rules."""
        self._rules = {r: rule for r, rule in self._rules.items() if rule[1] != dialer}

    def listing(self) -> list[tuple[str, str]]:
        return [(remote, local) for remote, (local, _) in self._rules.items()]

    def listens(self, remote: str) -> bool:
        return remote in self._rules

    async def connect(self, remote: str) -> StreamIO | None:
        """A phone-side connect to ``remote``: a stream to the host, or None if refused."""
        rule = self._rules.get(remote)
        if rule is None:
            return None
        local, dialer = rule
        return await dialer(local)


_tables: "weakref.WeakKeyDictionary[object, ReverseTable]" = weakref.WeakKeyDictionary()


def table_for(phone) -> ReverseTable:
    """The reverse listeners of ``phone`` (shared by its adbd connections and its shell)."""
    table = _tables.get(phone)
    if table is None:
        table = _tables[phone] = ReverseTable()
    return table
