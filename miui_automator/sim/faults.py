"""Faults the simulated phone can be told to show, parsed from one spec string.

Spec: ``name[=value]`` items separated by ``;`` or ``,``, for example
``popup=3;slow=0.8;u2crash=25;disconnect=screen:wipe_confirm;noinput;locked;battery=4``.

| item | meaning |
|---|---|
| ``popup[=N]`` | a Xiaomi Cloud promo popup ("Later") appears over the screen after every N-th action (default 3) |
| ``update[=N]`` | an update prompt (Later / Update) appears after every N-th action |
| ``slow=SECONDS`` | screen transitions take this long: the old screen stays visible meanwhile |
| ``u2crash=N`` | the uiautomator2 server dies after N JSON-RPC calls (once) |
| ``disconnect=SECONDS`` or ``disconnect=screen:NAME`` | the phone drops off ADB after SECONDS, or when screen NAME is shown (once) |
| ``noinput`` | ``persist.security.adbinput=0``: input injection is refused, as MIUI does |
| ``locked`` | the screen starts locked (swipe up to unlock) |
| ``screenoff`` | the screen starts off |
| ``battery=PERCENT`` | battery level |
| ``blackframe[=N]`` | the N-th screenshot and later ones are black frames (default 1) |
| ``changing=PATH`` | the file at PATH changes size every time it is read |
| ``carrier`` | a carrier consent page (Agree / Decline) no catalogue entry knows appears when Sign out is tapped |
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..errors import ConfigError


@dataclass(frozen=True)
class Faults:
    popup_every: int = 0
    update_every: int = 0
    slow_seconds: float = 0.0
    u2_crash_after: int = 0
    disconnect_after: float = 0.0
    disconnect_on_screen: str = ""
    no_input: bool = False
    locked: bool = False
    screen_off: bool = False
    battery: int = 0
    black_frame_from: int = 0
    changing_path: str = ""
    carrier_consent: bool = False

    @property
    def active(self) -> bool:
        return self != Faults()


def _int(name: str, value: str | None, default: int | None = None, low: int = 1) -> int:
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
    return n


def _float(name: str, value: str | None) -> float:
    try:
        f = float(value or "")
    except ValueError:
        raise ConfigError(f"fault {name!r}: {value!r} is not a number of seconds") from None
    if f <= 0:
        raise ConfigError(f"fault {name!r}: must be more than 0 seconds")
    return f


def parse_faults(spec: str | None) -> Faults:
    """Parse a fault spec; every error is a one-line :class:`ConfigError`."""
    faults = Faults()
    if not spec:
        return faults
    for raw in spec.replace(",", ";").split(";"):
        item = raw.strip()
        if not item:
            continue
        name, _, value = item.partition("=")
        name = name.strip().lower()
        value = value.strip() if "=" in item else None
        if name == "popup":
            faults = replace(faults, popup_every=_int(name, value, 3))
        elif name == "update":
            faults = replace(faults, update_every=_int(name, value, 3))
        elif name == "slow":
            faults = replace(faults, slow_seconds=_float(name, value))
        elif name == "u2crash":
            faults = replace(faults, u2_crash_after=_int(name, value, 20))
        elif name == "disconnect":
            if value and value.startswith("screen:"):
                screen = value[len("screen:"):]
                if not screen:
                    raise ConfigError("fault 'disconnect': screen:NAME needs a screen name")
                faults = replace(faults, disconnect_on_screen=screen)
            else:
                faults = replace(faults, disconnect_after=_float(name, value))
        elif name == "noinput":
            faults = replace(faults, no_input=True)
        elif name == "locked":
            faults = replace(faults, locked=True)
        elif name == "screenoff":
            faults = replace(faults, screen_off=True)
        elif name == "battery":
            level = _int(name, value, low=0)
            if level > 100:
                raise ConfigError(f"fault 'battery': {level} is above 100")
            faults = replace(faults, battery=level)
        elif name == "blackframe":
            faults = replace(faults, black_frame_from=_int(name, value, 1))
        elif name == "changing":
            if not value:
                raise ConfigError("fault 'changing' needs a file path")
            faults = replace(faults, changing_path=value)
        elif name == "carrier":
            faults = replace(faults, carrier_consent=True)
        else:
            known = "popup, update, slow, u2crash, disconnect, noinput, locked, screenoff, battery, blackframe, changing, carrier"
            raise ConfigError(f"unknown fault {name!r} in {spec!r} (known: {known})")
    return faults
