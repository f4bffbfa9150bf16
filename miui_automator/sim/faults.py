"""Faults the simulated phone can be told to show: each one an object with hooks, in one registry.

A fault spec is ``name[=value]`` items separated by ``;`` or ``,``, for example
``popup=3;slow=0.8;u2crash=25;disconnect=screen:wipe_confirm;noinput;locked;battery=4;noidle=about_phone``.
``miui-automator sim faults`` (and ``sim start --help``) print the list this module's registry
holds; nothing else keeps a copy of it.

Why objects: a fault is one idea ("the uiautomator2 server dies after N calls") that needs a
value parsed, some state of its own (has it fired yet?) and a say at one or two moments of the
phone's life. The phone calls every fault's hook at each of those moments
(:class:`FaultSet` does the fan-out), so adding a fault is one class here and one line in
:data:`BUILTIN_FAULTS`, with no edit to ``phone.py``.

Hooks (all optional, default: do nothing):

- ``boot(phone)`` once, when the phone is made: change its starting state.
- ``after_action(phone)`` after an input (tap, swipe, key) changed what is on screen.
- ``transition(phone, before)`` a new screen is about to show (after an input, or ``am start``);
  ``before`` is the frame that was on screen.
- ``shown(phone, name, windows)`` a frame was built: the top screen's name and its windows.
- ``screenshot(phone, count) -> bool`` the ``count``-th screenshot is taken: True makes it black.
- ``u2_call(phone) -> bool`` one uiautomator2 JSON-RPC call: False kills the server now.
- ``tick(phone, now)`` whenever the phone reads its clock (every request) or fires its timers.
  Nothing wakes a quiet phone for a tick: a fault that acts at a set time sets a timer
  (``phone.after``) in ``boot``, and the simulator host wakes for the phone's next timer.
- ``busy(phone, name) -> bool`` uiautomator asks whether screen ``name`` is idle: True keeps it
  busy (an animation that never ends), so idle waits run out their timeout.

Fault objects carry per-phone state, so a parsed :class:`FaultSet` is a template: a phone takes
:meth:`FaultSet.fresh` copies and two phones started from one spec never share a counter.

The module is longer than most (about 500 lines) on purpose: every fault kind, its help line and
the registry that parses and lists them stay in one file, so the list a user sees is the list here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Iterable, Iterator

from ..errors import ConfigError

if TYPE_CHECKING:
    from .phone import Phone
    from .ui import Node


# ---------------------------------------------------------------------- value parsing
def _int(name: str, value: str | None, default: int | None = None, low: int = 1, high: int | None = None) -> int:
    if value is None or value == "":
        if default is None:
            raise ConfigError(f"fault {name!r} needs a value")
        return default
    try:
        n = int(value)
    except ValueError:
        raise ConfigError(f"fault {name!r}: {value!r} is not a whole number") from None
    if n < low:
        raise ConfigError(f"fault {name!r}: {n} is below {low}")
    if high is not None and n > high:
        raise ConfigError(f"fault {name!r}: {n} is above {high}")
    return n


def _seconds(name: str, value: str | None) -> float:
    if not value:
        raise ConfigError(f"fault {name!r} needs a number of seconds")
    try:
        f = float(value)
    except ValueError:
        raise ConfigError(f"fault {name!r}: {value!r} is not a number of seconds") from None
    if f <= 0:
        raise ConfigError(f"fault {name!r}: must be more than 0 seconds")
    return f


def _flag(name: str, value: str | None) -> None:
    if value is not None:
        raise ConfigError(f"fault {name!r} takes no value (got {value!r})")


# ---------------------------------------------------------------------- the base class
@dataclass
class Fault:
    """One fault: ``name``, ``usage`` and ``help`` make its line of the help text."""

    name: ClassVar[str] = ""
    usage: ClassVar[str] = ""  # what may follow the name, e.g. "[=N]" or "=SECONDS"
    help: ClassVar[str] = ""

    @classmethod
    def parse(cls, value: str | None) -> "Fault":
        """The fault for ``name=value`` (``value`` None when there was no ``=``); one-line ConfigError if bad."""
        _flag(cls.name, value)
        return cls()

    @property
    def spec(self) -> str:
        """This fault written back as a spec item."""
        return self.name

    def fresh(self) -> "Fault":
        """A copy with the same settings and none of the run-time state."""
        return dataclasses.replace(self)

    def boot(self, phone: "Phone") -> None:
        pass

    def after_action(self, phone: "Phone") -> None:
        pass

    def transition(self, phone: "Phone", before: list["Node"]) -> None:
        pass

    def shown(self, phone: "Phone", name: str, windows: list["Node"]) -> None:
        pass

    def screenshot(self, phone: "Phone", count: int) -> bool:
        return False

    def u2_call(self, phone: "Phone") -> bool:
        return True

    def tick(self, phone: "Phone", now: float) -> None:
        pass

    def busy(self, phone: "Phone", name: str) -> bool:
        return False


class ValueFault(Fault):
    """A fault set by one value: its first field, read from the spec by ``read`` and written back
    by ``write``, so a fault with a value declares only how its value is read."""

    @classmethod
    def read(cls, value: str | None):
        raise NotImplementedError

    @staticmethod
    def write(value) -> str:
        return str(value)

    @classmethod
    def parse(cls, value: str | None) -> "Fault":
        return cls(cls.read(value))

    @property
    def spec(self) -> str:
        return f"{self.name}={self.write(getattr(self, dataclasses.fields(self)[0].name))}"


class CountFault(ValueFault):
    """A fault with one whole number, ``low``..``high``; ``default`` when none is given (None: required)."""

    default: ClassVar[int | None] = None
    low: ClassVar[int] = 1
    high: ClassVar[int | None] = None

    @classmethod
    def read(cls, value: str | None) -> int:
        return _int(cls.name, value, cls.default, cls.low, cls.high)


class TextFault(ValueFault):
    """A fault with one required word (a path, a screen name); ``missing`` says what to give."""

    missing: ClassVar[str] = ""

    @classmethod
    def read(cls, value: str | None) -> str:
        if not value:
            raise ConfigError(f"fault {cls.name!r} needs {cls.missing}")
        return value


class StartFault(Fault):
    """A fault that only changes how the phone starts: ``starts`` names the phone-state fields it sets at boot."""

    starts: ClassVar[dict[str, object]] = {}

    def boot(self, phone: "Phone") -> None:
        for attribute, value in self.starts.items():
            setattr(phone.state, attribute, value)


# ---------------------------------------------------------------------- the faults
@dataclass
class Popup(CountFault):
    name: ClassVar[str] = "popup"
    usage: ClassVar[str] = "[=N]"
    help: ClassVar[str] = 'a Xiaomi Cloud promo popup ("Later") over the screen after every N-th action (default 3)'
    default: ClassVar[int | None] = 3
    every: int = 3

    def popup(self, phone: "Phone"):
        from .screens import CloudPromoPopup

        return CloudPromoPopup(phone.top)

    def after_action(self, phone: "Phone") -> None:
        # One popup at a time: with popup and update both due, the first in BUILTIN_FAULTS wins.
        if phone.popup is None and not phone.state.locked and phone.actions % self.every == 0:
            phone.popup = self.popup(phone)
            phone.changed()


@dataclass
class Update(Popup):
    name: ClassVar[str] = "update"
    help: ClassVar[str] = "an update prompt (Later / Update) over the screen after every N-th action (default 3)"

    def popup(self, phone: "Phone"):
        from .screens import UpdatePopup

        return UpdatePopup(phone.top)


@dataclass
class Slow(ValueFault):
    name: ClassVar[str] = "slow"
    usage: ClassVar[str] = "=SECONDS"
    help: ClassVar[str] = "screen transitions take this long; the old screen stays visible and ignores touches meanwhile"
    seconds: float = 0.5

    @classmethod
    def read(cls, value: str | None) -> float:
        return _seconds(cls.name, value)

    @staticmethod
    def write(value: float) -> str:
        return f"{value:g}"

    def transition(self, phone: "Phone", before: list["Node"]) -> None:
        phone.freeze(before, self.seconds)


@dataclass
class U2Crash(CountFault):
    name: ClassVar[str] = "u2crash"
    usage: ClassVar[str] = "[=N]"
    help: ClassVar[str] = "the uiautomator2 server dies after N JSON-RPC calls, once (default 20)"
    default: ClassVar[int | None] = 20
    after: int = 20
    crashed: bool = field(default=False, init=False)

    def u2_call(self, phone: "Phone") -> bool:
        if not self.crashed and phone.u2_calls >= self.after:
            self.crashed = True
            return False
        return True


@dataclass
class Disconnect(Fault):
    name: ClassVar[str] = "disconnect"
    usage: ClassVar[str] = "=SECONDS|screen:NAME"
    help: ClassVar[str] = "the phone drops off ADB SECONDS after it started, or when screen NAME is shown (once)"
    seconds: float = 0.0
    screen: str = ""
    fired: bool = field(default=False, init=False)

    @classmethod
    def parse(cls, value: str | None) -> "Fault":
        if value and value.startswith("screen:"):
            screen = value[len("screen:"):]
            if not screen:
                raise ConfigError("fault 'disconnect': screen:NAME needs a screen name")
            return cls(screen=screen)
        return cls(seconds=_seconds(cls.name, value))

    @property
    def spec(self) -> str:
        return f"{self.name}=screen:{self.screen}" if self.screen else f"{self.name}={self.seconds:g}"

    def boot(self, phone: "Phone") -> None:
        if self.seconds:  # a timer, so the simulator host wakes for it (host.py sleeps until the next one)
            phone.after(self.seconds, lambda: self._fire(phone))

    def _fire(self, phone: "Phone") -> None:
        if not self.fired:
            self.fired = True
            phone.unplug()

    def shown(self, phone: "Phone", name: str, windows: list["Node"]) -> None:
        if self.screen == name and not self.fired:
            self.fired = True
            phone.after(0.05, phone.unplug)  # the frame that showed the screen still goes out


@dataclass
class NoInput(Fault):
    name: ClassVar[str] = "noinput"
    help: ClassVar[str] = ('"USB debugging (Security settings)" off (persist.security.adbinput=0): '
                           "input injection is refused, as MIUI does")

    def boot(self, phone: "Phone") -> None:
        phone.state.props["persist.security.adbinput"] = "0"


@dataclass
class NoInstall(StartFault):
    name: ClassVar[str] = "noinstall"
    help: ClassVar[str] = '"Install via USB" off (persist.security.adbinstall=0): pm install is refused'
    starts: ClassVar[dict[str, object]] = {"usb_install": False}


@dataclass
class ShowPassword(Fault):
    name: ClassVar[str] = "showpassword"
    help: ClassVar[str] = ('password fields show what is typed (the "show password" eye is on): the text is plain '
                           "in the hierarchy and on screenshots")

    def shown(self, phone: "Phone", name: str, windows: list["Node"]) -> None:
        for window in windows:
            for node in window.walk():
                node.password = False


@dataclass
class Locked(StartFault):
    name: ClassVar[str] = "locked"
    help: ClassVar[str] = "the screen starts locked (swipe up to unlock)"
    starts: ClassVar[dict[str, object]] = {"locked": True}


@dataclass
class ScreenOff(StartFault):
    name: ClassVar[str] = "screenoff"
    help: ClassVar[str] = "the screen starts off (and locked)"
    starts: ClassVar[dict[str, object]] = {"screen_on": False, "locked": True}


@dataclass
class Battery(CountFault):
    name: ClassVar[str] = "battery"
    usage: ClassVar[str] = "=PERCENT"
    help: ClassVar[str] = "battery level, not charging"
    low: ClassVar[int] = 0
    high: ClassVar[int | None] = 100
    level: int = 50

    def boot(self, phone: "Phone") -> None:
        phone.state.battery = self.level
        phone.state.charging = False


@dataclass
class BlackFrame(CountFault):
    name: ClassVar[str] = "blackframe"
    usage: ClassVar[str] = "[=N]"
    help: ClassVar[str] = "the N-th screenshot and every later one is a black frame (default 1)"
    default: ClassVar[int | None] = 1
    start: int = 1

    def screenshot(self, phone: "Phone", count: int) -> bool:
        return count >= self.start


@dataclass
class Changing(TextFault):
    name: ClassVar[str] = "changing"
    usage: ClassVar[str] = "=PATH"
    help: ClassVar[str] = "the file at PATH grows every time it is read (a file that changes while it is pulled)"
    missing: ClassVar[str] = "a file path"
    path: str = ""

    def boot(self, phone: "Phone") -> None:
        from .vfs import normpath

        def grow(entry) -> None:
            entry.content().extend(b"\0" * 4096)
            entry.mtime += 1

        entry = phone.state.fs.lookup(normpath(self.path))
        if entry is not None:
            entry.on_read = grow


@dataclass
class Carrier(Fault):
    name: ClassVar[str] = "carrier"
    help: ClassVar[str] = ("a carrier consent page (Agree / Decline) that no catalogue entry knows appears when Sign out "
                           "is tapped (sim/screens/carrier.py)")


@dataclass
class NoIdle(TextFault):
    """A screen that never settles: MIUI's About phone animates its logo for ever, so every idle
    wait on it runs out. `uiautomator dump` gives up with "ERROR: could not get idle state."
    after its 10 s (the timing profile's figure; ``Timing(shell_dump_idle_timeout=...)`` shortens
    it for tests) and uiautomator2 answers only after its own idle wait (``waitForIdle(timeout)``,
    and the ``waitForIdleTimeout`` of ``setConfigurator`` before each dump)."""

    name: ClassVar[str] = "noidle"
    usage: ClassVar[str] = "=SCREEN"
    help: ClassVar[str] = ('screen SCREEN never becomes idle (an endless animation): `uiautomator dump` fails with '
                           '"could not get idle state" after its idle timeout, uiautomator2 idle waits run out')
    missing: ClassVar[str] = "a screen name, e.g. noidle=about_phone"
    screen: str = ""

    def busy(self, phone: "Phone", name: str) -> bool:
        return name == self.screen


# The faults every registry starts with, in the order their hooks run and help lists them.
BUILTIN_FAULTS: tuple[type[Fault], ...] = (
    Popup, Update, Slow, U2Crash, Disconnect, NoInput, NoInstall, ShowPassword, Locked, ScreenOff, Battery,
    BlackFrame, Changing, Carrier, NoIdle,
)


# ---------------------------------------------------------------------- a phone's faults
class FaultSet:
    """The faults one phone shows, in registry order, and the fan-out of every hook to them."""

    def __init__(self, faults: Iterable[Fault] = ()) -> None:
        self._faults: tuple[Fault, ...] = tuple(faults)

    def __iter__(self) -> Iterator[Fault]:
        return iter(self._faults)

    def __len__(self) -> int:
        return len(self._faults)

    def __bool__(self) -> bool:
        return bool(self._faults)

    def __repr__(self) -> str:
        return f"FaultSet({self.spec!r})"

    @property
    def spec(self) -> str:
        """The set written back as a spec string (parses to an equal set)."""
        return ";".join(f.spec for f in self._faults)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self._faults]

    def get(self, name: str) -> Fault | None:
        return next((f for f in self._faults if f.name == name), None)

    def fresh(self) -> "FaultSet":
        """New fault objects with the same settings: one phone's run-time state is never another's."""
        return FaultSet(f.fresh() for f in self._faults)

    # hooks ------------------------------------------------------------
    def boot(self, phone: "Phone") -> None:
        for f in self._faults:
            f.boot(phone)

    def after_action(self, phone: "Phone") -> None:
        for f in self._faults:
            f.after_action(phone)

    def transition(self, phone: "Phone", before: list["Node"]) -> None:
        for f in self._faults:
            f.transition(phone, before)

    def shown(self, phone: "Phone", name: str, windows: list["Node"]) -> None:
        for f in self._faults:
            f.shown(phone, name, windows)

    def screenshot(self, phone: "Phone", count: int) -> bool:
        """True when any fault blacks out this screenshot (every fault still sees it)."""
        return any([f.screenshot(phone, count) for f in self._faults])

    def u2_call(self, phone: "Phone") -> bool:
        """False when any fault kills the uiautomator2 server on this call."""
        return all([f.u2_call(phone) for f in self._faults])

    def tick(self, phone: "Phone", now: float) -> None:
        for f in self._faults:
            f.tick(phone, now)

    def busy(self, phone: "Phone", name: str) -> bool:
        return any(f.busy(phone, name) for f in self._faults)


# ---------------------------------------------------------------------- the registry
class FaultRegistry:
    """Fault kinds by name: parses specs and writes the help text. Each registry is its own copy."""

    def __init__(self, kinds: Iterable[type[Fault]] = BUILTIN_FAULTS) -> None:
        self._kinds: dict[str, type[Fault]] = {}
        for kind in kinds:
            self.register(kind)

    def register(self, kind: type[Fault]) -> type[Fault]:
        if not kind.name or kind.name in self._kinds:
            raise ValueError(f"fault kind {kind.__name__} needs a new, non-empty name (got {kind.name!r})")
        self._kinds[kind.name] = kind
        return kind

    @property
    def names(self) -> list[str]:
        return list(self._kinds)

    def parse(self, spec: str | None) -> FaultSet:
        """Parse a fault spec; every error is a one-line :class:`ConfigError`. A name given twice: the last wins."""
        chosen: dict[str, Fault] = {}
        for raw in (spec or "").replace(",", ";").split(";"):
            item = raw.strip()
            if not item:
                continue
            name, eq, value = item.partition("=")
            name = name.strip().lower()
            kind = self._kinds.get(name)
            if kind is None:
                raise ConfigError(f"unknown fault {name!r} in {spec!r} (known: {', '.join(self._kinds)})")
            chosen[name] = kind.parse(value.strip() if eq else None)
        return FaultSet(chosen[name] for name in self._kinds if name in chosen)

    def help_rows(self) -> list[tuple[str, str]]:
        """(``name[usage]``, what it does) for every fault, in registry order."""
        return [(kind.name + kind.usage, kind.help) for kind in self._kinds.values()]

    def help_text(self) -> str:
        rows = self.help_rows()
        width = max(len(usage) for usage, _ in rows)
        return "\n".join(f"{usage:<{width}}  {text}" for usage, text in rows)


def parse_faults(spec: str | None) -> FaultSet:
    """Parse ``spec`` with a registry of the built-in faults."""
    return FaultRegistry().parse(spec)
