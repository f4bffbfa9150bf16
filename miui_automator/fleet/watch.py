"""Station mode: run the flow on every phone as it is plugged in, until stopped.

The adb servers are polled (``host:devices``, a bounded request, every :data:`POLL_INTERVAL_S`) rather
than tracked over a long-lived ``track-devices`` stream: polling serves any number of servers from one
loop, survives a remote server going away and coming back, and never blocks on a dead socket. A phone
is taken when it shows up in state ``device``; it is taken again only after it has left (unplugged)
and come back, never while its run is going (a phone that reboots during a reset stays one run).
Phones already attached when the station starts are taken too.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Mapping

from ..errors import MiuiAutomatorError
from .inventory import Inventory
from .ledger import ERROR
from .plan import PhonePlan, check, list_attached, plan_phones, probe_one, select
from .pool import Ticket
from .orchestrator import Fleet

POLL_INTERVAL_S = 0.5


class Station:
    """Watches ``servers`` and hands every new phone that the selection takes to ``fleet``."""

    def __init__(self, fleet: Fleet, servers: tuple[str, ...], *, inventory: Inventory | None, names: tuple[str, ...],
                 cli_params: Mapping[str, str], password_file: str | None, prompt: Callable[[str], str | None] | None,
                 poll_s: float = POLL_INTERVAL_S) -> None:
        self.fleet = fleet
        self.servers = servers
        self.inventory = inventory
        self.names = names
        self.cli_params = dict(cli_params)
        self.password_file = password_file
        self.prompt = prompt
        self.poll_s = poll_s
        self.present: set[tuple[str, str]] = set()
        self.active: set[tuple[str, str]] = set()
        self._unreachable: set[str] = set()
        self._lock = threading.Lock()

    def run(self, *, stop: threading.Event, max_devices: int | None = None, timeout_s: float | None = None) -> None:
        """Take phones until ``stop`` is set, ``max_devices`` were taken or ``timeout_s`` passed; then let the
        phones being run finish (each still bounded by the phone timeout)."""
        deadline = time.monotonic() + timeout_s if timeout_s is not None else None
        while not stop.is_set():
            if max_devices is not None and self.fleet.taken >= max_devices:
                break
            if deadline is not None and time.monotonic() >= deadline:
                break
            self.poll()
            self.fleet.pool.service(self.poll_s)
        self.fleet.wait()

    def poll(self) -> None:
        attached, unreachable = list_attached(self.servers)
        for server, why in unreachable.items():
            if server not in self._unreachable:
                self.fleet.view.note(f"adb server {server} unreachable ({why}); still watching")
        self._unreachable = set(unreachable)
        listed = {(a.server, a.serial): a.state for a in attached}
        with self._lock:
            self.present = {sid for sid in self.present if sid in listed or sid[0] in unreachable}
            for sid, state in listed.items():
                if state != "device" or sid in self.present:
                    continue
                self.present.add(sid)
                if sid in self.active:
                    continue
                self.active.add(sid)
                self.fleet.pool.submit(f"{sid[0]}/{sid[1]}", lambda ticket, sid=sid: self._take(sid, ticket))

    def _take(self, sid: tuple[str, str], ticket: Ticket) -> None:
        """Probe, select and bind one new phone, then run it; a phone not selected is left alone."""
        try:
            probe = probe_one(*sid)
            if probe.problem:
                self.fleet.view.note(f"{sid[1]} on {sid[0]}: {probe.problem}; not taken")
                return
            selection = select([probe], inventory=self.inventory, names=self.names,
                               everything=self.inventory is None and not self.names)
            if not selection.chosen:
                return
            selection.missing.clear()  # a station waits for phones; one not here yet is not missing
            try:
                plan = check(self.fleet.flow, plan_phones(self.fleet.flow, selection, inventory=self.inventory,
                                                          cli_params=self.cli_params, password_file=self.password_file,
                                                          prompt=self.prompt)[0],
                             no_backup_gate=self.fleet.options.no_backup_gate)
            except MiuiAutomatorError as err:
                entry = selection.chosen[0][1]
                plan = PhonePlan(key=probe.key, server=probe.server, serial=probe.serial, label=entry.label if entry else "",
                                 info=probe.info, problem=str(err), problem_status=ERROR, problem_code=err.exit_code)
            self.fleet.record(plan)
            if plan.problem or ticket.cancelled.is_set():
                return
            self.fleet.run_phone(plan, ticket)
        finally:
            with self._lock:
                self.active.discard(sid)
