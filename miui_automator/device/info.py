"""What a phone is and what state it is in, from ``getprop`` and ``dumpsys`` text (pure parsing).

The OS is detected in the order Xiaomi's own code uses: HyperOS first
(``ro.mi.os.version.name`` = ``OS1.0``, ``OS2.0``, ...), because HyperOS keeps the MIUI
property ``ro.miui.ui.version.name`` too, frozen at ``V816``; then MIUI (``V12``, ``V125``,
``V130``, ``V140``); otherwise plain Android. Account names are masked here, at the edge (by
:mod:`miui_automator.privacy`), so a Mi account ID never reaches a log, report or ledger in clear.

The text comes from the phone and is untrusted: a value that does not parse (a battery level
``--5``, an SDK level ``³³``) is unknown (None), never an exception.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from ..privacy import mask_account

__all__ = ["DeviceInfo", "XIAOMI_ACCOUNT_TYPES", "mask_account", "mi_accounts", "parse_accounts", "parse_battery", "parse_device_info", "parse_getprop",
           "parse_keyguard", "parse_power"]

HYPEROS, MIUI, ANDROID = "HyperOS", "MIUI", "Android"
XIAOMI_ACCOUNT_TYPES = ("com.xiaomi", "com.xiaomi.unactivated")
"""Account types that bind a Mi/Xiaomi account to the phone: a signed-in one, and one whose registration was
never activated (Settings then offers "Sign in", yet the phone holds it). See :func:`mi_accounts`."""
SUPPORTED = {MIUI: ("12", "12.5", "13", "14"), HYPEROS: ("1", "2")}
HYPEROS_MIUI_PLACEHOLDER = "V816"  # what ro.miui.ui.version.name says on every HyperOS build

_GETPROP = re.compile(r"^\[(?P<key>[^\]\n]+)\]: \[(?P<value>.*?)\][ \t\r]*(?=\n\[|\n*\Z)", re.M | re.S)
_ACCOUNT = re.compile(r"Account \{name=(?P<name>.*), type=(?P<type>[^,}\s]+)\}")
_USER_BLOCK = re.compile(r"^\s*User UserInfo\{(?P<id>\d+):", re.M)
_HYPEROS_NAME = re.compile(r"OS(?P<major>\d+)(?:\.(?P<minor>\d+))?")
_MIUI_NAME = re.compile(r"V(?P<digits>\d+)")
_POWERED = re.compile(r"^\s*(?:AC|USB|Wireless|Dock) powered: true\s*$", re.M | re.I)
_KEYGUARD_KEYS = ("mDreamingLockscreen", "isStatusBarKeyguard", "mShowingLockscreen")
_INTEGER = re.compile(r"[+-]?[0-9]{1,9}", re.ASCII)  # str.isdigit() also accepts "³" and "①", which int() refuses
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # terminal escapes and NULs a broken ROM may answer with


@dataclass(frozen=True)
class DeviceInfo:
    """One phone as preflight, ``devices`` and reports show it. Unknown values are ``None``/""."""

    serial: str
    model: str = ""
    market_name: str = ""
    brand: str = ""
    device: str = ""
    os_family: str = ANDROID
    os_version: str = ""
    os_label: str = ""
    variant: str = ""
    android_version: str = ""
    sdk: int | None = None
    locale: str = ""
    region: str = ""
    mi_account: str | None = None
    mi_account_present: bool = False
    other_accounts: tuple[tuple[str, str], ...] = ()
    battery_level: int | None = None
    charging: bool | None = None
    screen_on: bool | None = None
    locked: bool | None = None
    adb_input_enabled: bool = False
    hardware_serial: str = ""  # ro.serialno: the phone's own identity, the same on any USB host or port

    @property
    def supported(self) -> bool:
        """MIUI 12-14 or HyperOS 1-2: the builds whose screens the catalogue describes."""
        return self.os_version in SUPPORTED.get(self.os_family, ())

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["other_accounts"] = [{"name": name, "type": kind} for name, kind in self.other_accounts]
        data["supported"] = self.supported
        return data


def parse_int(text: str | None) -> int | None:
    """A whole number written in ASCII digits, else None: a phone's answer is never trusted to parse."""
    text = (text or "").strip()
    return int(text) if _INTEGER.fullmatch(text) else None


def parse_getprop(output: str) -> dict[str, str]:
    """``getprop`` output (``[key]: [value]`` lines; a value may span lines) as a dict.

    Control characters are dropped from keys and values: a value is shown in a terminal and a report.
    """
    return {_CONTROL.sub("", m["key"]): _CONTROL.sub("", m["value"])
            for m in _GETPROP.finditer(output.replace("\r\n", "\n"))}


def parse_accounts(dumpsys_account_output: str) -> list[tuple[str, str]]:
    """(name, type) of the accounts in ``dumpsys account``, unmasked, in order, without repeats.

    Only the owner's block (``User UserInfo{0:...}``) counts when the dump has user blocks: a
    work profile's or second user's accounts are not the ones a sign-out removes.
    """
    text = dumpsys_account_output
    blocks = list(_USER_BLOCK.finditer(text))
    if blocks:
        owner = next((i for i, m in enumerate(blocks) if m["id"] == "0"), None)
        if owner is None:
            return []
        end = blocks[owner + 1].start() if owner + 1 < len(blocks) else len(text)
        text = text[blocks[owner].start():end]
    found = [(m["name"], m["type"]) for m in _ACCOUNT.finditer(text)]
    return list(dict.fromkeys(found))


def mi_accounts(dumpsys_account_output: str) -> list[str]:
    """The Mi/Xiaomi accounts on the phone (unmasked names), from ``dumpsys account``.

    The one definition of "a Mi account is on the phone", used by ``DeviceInfo``, the ``mi-account``
    flow condition and the tasks: both :data:`XIAOMI_ACCOUNT_TYPES` count, because either ties the
    phone to a Xiaomi account (a reset phone would stay bound to it).
    """
    return [name for name, kind in parse_accounts(dumpsys_account_output) if kind in XIAOMI_ACCOUNT_TYPES]


def parse_battery(dumpsys_battery_output: str) -> tuple[int | None, bool | None]:
    """(level in percent, charging) from ``dumpsys battery``; None for what the text does not say.

    Charging means power is connected (any ``... powered: true``) or status 2 (charging).
    """
    fields: dict[str, str] = {}
    for line in dumpsys_battery_output.splitlines():
        key, sep, value = line.strip().partition(":")
        if sep and key:
            fields.setdefault(key.strip().lower(), value.strip())
    level = parse_int(fields.get("level"))
    scale = parse_int(fields.get("scale"))
    if level is not None and scale is not None and scale > 0 and scale != 100:
        level = round(level * 100 / scale)
    if level is not None and not 0 <= level <= 100:
        level = None  # a level the phone cannot have is unknown, not a number to act on
    if not fields:
        return level, None
    charging = bool(_POWERED.search(dumpsys_battery_output)) or fields.get("status") == "2"
    return level, charging


def parse_power(dumpsys_power_output: str) -> bool | None:
    """Whether the screen is on, from ``dumpsys power`` (``mWakefulness=Awake``), else None."""
    match = re.search(r"mWakefulness=(\w+)", dumpsys_power_output)
    if match:
        return match[1] == "Awake"
    match = re.search(r"Display Power: state=(\w+)", dumpsys_power_output)
    if match:
        return match[1].upper() == "ON"
    match = re.search(r"mHoldingDisplaySuspendBlocker=(\w+)", dumpsys_power_output)
    if match:
        return match[1] == "true"
    return None


def parse_keyguard(window_dump: str) -> bool | None:
    """Whether the keyguard is showing, from ``dumpsys window``; None when the dump does not say."""
    seen = False
    for key in _KEYGUARD_KEYS:
        for match in re.finditer(key + r"=(\w+)", window_dump):
            seen = True
            if match[1] == "true":
                return True
    return False if seen else None


def _os(props: dict[str, str]) -> tuple[str, str, str]:
    """(family, version, build) HyperOS before MIUI, as the module docstring says."""
    hyper = props.get("ro.mi.os.version.name", "")
    miui = props.get("ro.miui.ui.version.name", "")
    incremental = props.get("ro.build.version.incremental", "")
    if hyper or miui == HYPEROS_MIUI_PLACEHOLDER:
        build = props.get("ro.mi.os.version.incremental") or incremental
        match = _HYPEROS_NAME.fullmatch(hyper) or _HYPEROS_NAME.match(build)
        if match:
            minor = match["minor"]
            version = match["major"] + (f".{minor}" if minor and minor != "0" else "")
        else:
            version = props.get("ro.mi.os.version.code", "")
        return HYPEROS, version, build
    match = _MIUI_NAME.fullmatch(miui)
    if match:
        digits = match["digits"]
        version = digits if len(digits) <= 2 else digits[:2] + ("" if digits[2:] == "0" else "." + digits[2:])
        return MIUI, version, incremental
    return ANDROID, props.get("ro.build.version.release", ""), incremental


def _locale(props: dict[str, str]) -> str:
    for key in ("persist.sys.locale", "ro.product.locale"):
        if props.get(key):
            return props[key]
    language = props.get("persist.sys.language") or props.get("ro.product.locale.language", "")
    country = props.get("persist.sys.country") or props.get("ro.product.locale.region", "")
    return f"{language}-{country}" if language and country else language


def _region(props: dict[str, str]) -> str:
    """The build's market: cn for China builds, global for international ones (mod_device ending in _global)."""
    build_region = props.get("ro.miui.build.region", "").lower()
    if build_region:
        return "cn" if build_region == "cn" else "global"
    mod_device = props.get("ro.product.mod_device", "")
    if mod_device:
        return "global" if "_global" in mod_device else "cn"
    region = props.get("ro.miui.region") or props.get("ro.vendor.miui.region", "")
    if region:
        return "cn" if region.upper() == "CN" else "global"
    return ""


def parse_device_info(
    serial: str,
    props: dict[str, str],
    *,
    accounts_dump: str = "",
    battery_dump: str = "",
    power_dump: str = "",
    window_dump: str = "",
) -> DeviceInfo:
    """Build a :class:`DeviceInfo` from properties and the dumpsys outputs that were read."""
    family, version, build = _os(props)
    if family == ANDROID:
        label = f"Android {version}".strip()
    else:
        label = f"{family} {version}".strip() + (f" ({build})" if build else "")
    locale = _locale(props)
    language = re.split(r"[-_]", locale, maxsplit=1)[0].lower() if locale else ""
    variant = f"{family.lower()}{version}" + (f"-{language}" if language else "")
    accounts = parse_accounts(accounts_dump)
    xiaomi = mi_accounts(accounts_dump)
    others = tuple((mask_account(name), kind) for name, kind in accounts if kind not in XIAOMI_ACCOUNT_TYPES)
    level, charging = parse_battery(battery_dump)
    market = props.get("ro.product.marketname") or props.get("ro.product.odm.marketname") \
        or props.get("ro.product.vendor.marketname", "")
    return DeviceInfo(
        serial=serial,
        model=props.get("ro.product.model", ""),
        market_name=market,
        brand=props.get("ro.product.brand", ""),
        device=props.get("ro.product.device", ""),
        os_family=family,
        os_version=version,
        os_label=label,
        variant=variant,
        android_version=props.get("ro.build.version.release", ""),
        sdk=parse_int(props.get("ro.build.version.sdk")),
        locale=locale,
        region=_region(props),
        mi_account=mask_account(xiaomi[0]) if xiaomi else None,
        mi_account_present=bool(xiaomi),
        other_accounts=others,
        battery_level=level,
        charging=charging,
        screen_on=parse_power(power_dump),
        locked=parse_keyguard(window_dump),
        adb_input_enabled=props.get("persist.security.adbinput", "").lower() in ("1", "true"),
        hardware_serial=props.get("ro.serialno") or props.get("ro.boot.serialno") or serial,
    )
