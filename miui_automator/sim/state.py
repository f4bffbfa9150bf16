"""Everything a simulated phone remembers that is not on screen: accounts, files, providers,
settings, packages, battery — the data that shell commands read and screens change.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field

from .variants import Variant
from .vfs import STORAGE, VirtualFS

DEFAULT_ACCOUNT_ID = "1234567890"
DEFAULT_PASSWORD = "demo-password"  # documented default of `sim start`; never a real secret
XIAOMI = "com.xiaomi"
XIAOMI_UNACTIVATED = "com.xiaomi.unactivated"  # an account added but whose registration was never activated
INSTALL_PROP = "persist.security.adbinstall"  # Developer options > "Install via USB"


@dataclass
class Account:
    name: str
    type: str


@dataclass
class Contact:
    id: int
    name: str
    number: str


@dataclass
class Call:
    id: int
    number: str
    date_ms: int
    duration: int
    type: int  # 1 incoming, 2 outgoing, 3 missed


@dataclass
class Sms:
    id: int
    address: str
    date_ms: int
    body: str
    type: int  # 1 inbox, 2 sent


@dataclass
class Package:
    name: str
    path: str
    version_name: str = "1.0"
    version_code: int = 1
    system: bool = True


SYSTEM_PACKAGES = [
    ("com.android.settings", "/system/priv-app/Settings/Settings.apk"),
    ("com.xiaomi.account", "/system/priv-app/XiaomiAccount/XiaomiAccount.apk"),
    ("com.miui.cloudservice", "/system/priv-app/CloudService/CloudService.apk"),
    ("com.miui.backup", "/system/priv-app/Backup/Backup.apk"),
    ("com.xiaomi.finddevice", "/system/priv-app/FindDevice/FindDevice.apk"),
    ("com.miui.securitycenter", "/system/priv-app/SecurityCenter/SecurityCenter.apk"),
    ("com.miui.home", "/system/priv-app/MiuiHome/MiuiHome.apk"),
    ("com.android.systemui", "/system_ext/priv-app/MiuiSystemUI/MiuiSystemUI.apk"),
    ("com.android.providers.contacts", "/system/priv-app/ContactsProvider/ContactsProvider.apk"),
    ("com.android.providers.telephony", "/system/priv-app/TelephonyProvider/TelephonyProvider.apk"),
    ("com.android.mms", "/system/priv-app/MiuiMms/MiuiMms.apk"),
    ("com.android.contacts", "/system/priv-app/Contacts/Contacts.apk"),
    ("com.miui.gallery", "/system/priv-app/MiuiGallery/MiuiGallery.apk"),
    ("com.android.browser", "/system/priv-app/Browser/Browser.apk"),
    ("com.miui.securityinputmethod", "/system/app/SecurityInputMethod/SecurityInputMethod.apk"),
]
USER_PACKAGES = [
    ("com.whatsapp", "2.24.10.74"),
    ("org.telegram.messenger", "10.12.0"),
    ("com.spotify.music", "8.9.36"),
]

# What a fresh phone carries on /sdcard: (folder, extension, share of files).
MEDIA_LAYOUT = [
    ("DCIM/Camera", "IMG_{date}_{n:06d}.jpg", 0.40),
    ("DCIM/Camera", "VID_{date}_{n:06d}.mp4", 0.10),
    ("Pictures/Screenshots", "Screenshot_{date}_{n:06d}.png", 0.15),
    ("Movies", "clip_{n:04d}.mp4", 0.05),
    ("Music", "track_{n:04d}.mp3", 0.10),
    ("Documents", "document_{n:04d}.pdf", 0.10),
    ("Download", "download_{n:04d}.zip", 0.05),
    ("MIUI/sound_recorder", "Recording_{n:04d}.mp3", 0.05),
]


@dataclass
class PhoneState:
    """All non-screen state. ``seed`` makes every generated thing deterministic."""

    variant: Variant
    seed: int = 0
    account_id: str = DEFAULT_ACCOUNT_ID
    password_digest: bytes = b""
    signed_in: bool = True
    find_device: bool = True
    password_changed_recently: bool = False
    props: dict[str, str] = field(default_factory=dict)
    accounts: list[Account] = field(default_factory=list)
    settings: dict[str, dict[str, str]] = field(default_factory=dict)
    contacts: list[Contact] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    sms: list[Sms] = field(default_factory=list)
    packages: list[Package] = field(default_factory=list)
    battery: int = 87
    charging: bool = True
    screen_on: bool = True
    locked: bool = False
    provisioned: bool = True
    factory_resets: int = 0  # erases this phone has been through (a retail phone leaves ADB at the first)
    wipe_choice: str | None = None  # Keep/Remove answer of the last sign-out
    last_backup: str | None = None  # folder name of the last local backup
    fs: VirtualFS = field(default_factory=VirtualFS)
    shell_history: list[str] = field(default_factory=list)

    def set_password(self, password: str) -> None:
        """Keep only a digest: the simulator's own state must not hold the secret either."""
        self.password_digest = hashlib.sha256(password.encode()).digest()

    def password_ok(self, password: str) -> bool:
        return hashlib.sha256(password.encode()).digest() == self.password_digest

    def has_xiaomi_account(self) -> bool:
        return any(a.type == XIAOMI for a in self.accounts)

    def has_unactivated_account(self) -> bool:
        """A Xiaomi account the phone holds but whose registration was not activated: Settings shows
        "Sign in", yet ``dumpsys account`` lists it, as a real phone does."""
        return any(a.type == XIAOMI_UNACTIVATED for a in self.accounts)

    @property
    def usb_install(self) -> bool:
        """Developer options > "Install via USB": ``pm install`` over adb is refused while it is off."""
        return self.props.get(INSTALL_PROP) == "1"

    @usb_install.setter
    def usb_install(self, on: bool) -> None:
        self.props[INSTALL_PROP] = "1" if on else "0"

    @property
    def adb_enabled(self) -> bool:
        """Developer options > "USB debugging": off on a freshly erased retail phone."""
        return self.settings.get("global", {}).get("adb_enabled") == "1"

    def sign_out(self) -> None:
        self.accounts = [a for a in self.accounts if a.type not in (XIAOMI, XIAOMI_UNACTIVATED)]
        self.signed_in = False
        self.find_device = False


def new_state(
    variant: Variant,
    *,
    seed: int = 0,
    account_id: str = DEFAULT_ACCOUNT_ID,
    password: str = DEFAULT_PASSWORD,
    signed_in: bool = True,
    find_device: bool = True,
    unactivated_account: bool = False,
    serial: str | None = None,
    media_files: int = 40,
    media_bytes: int = 24 * 1024 * 1024,
    clock=None,
) -> PhoneState:
    """A phone as its owner left it: signed in, with photos, contacts, messages and apps.

    ``serial`` is the hardware serial (``ro.serialno``); by default it comes from ``seed``
    (see :func:`hardware_serial`). ``unactivated_account`` adds a ``com.xiaomi.unactivated``
    account for ``account_id``.
    """
    rng = random.Random(seed)
    fs = VirtualFS(clock) if clock else VirtualFS()
    state = PhoneState(variant=variant, seed=seed, account_id=account_id, fs=fs, signed_in=signed_in, find_device=find_device and signed_in)
    state.set_password(password)
    rng.getrandbits(32)  # hardware_serial(seed)'s draw, made either way so the rest of the phone does not shift
    serial = serial or hardware_serial(seed)
    state.props = dict(variant.props)
    state.props.update({
        "ro.serialno": serial,
        "ro.boot.serialno": serial,
        "persist.sys.timezone": "Asia/Shanghai" if variant.locale.startswith("zh") else "Europe/London",
        "ro.build.fingerprint": f"Xiaomi/{variant.props['ro.product.name']}/{variant.props['ro.product.device']}:"
        f"{variant.props['ro.build.version.release']}/{variant.props['ro.build.version.incremental']}:user/release-keys",
        "ro.build.characteristics": "default",
        "ro.sf.lcd_density": "440",
        "gsm.sim.state": "READY",
    })
    state.accounts = [Account(f"owner{seed}@gmail.com", "com.google")]
    if signed_in:
        state.accounts.append(Account(account_id, XIAOMI))
    if unactivated_account:
        state.accounts.append(Account(account_id, XIAOMI_UNACTIVATED))
    state.accounts.append(Account("+8613800000000", "com.whatsapp"))
    state.settings = {
        "system": {"screen_brightness": "128", "screen_off_timeout": "600000"},
        "secure": {
            "default_input_method": "com.android.inputmethod.latin/.LatinIME",
            "enable_miui_security_ime": "1",
            "android_id": f"{rng.getrandbits(64):016x}",
        },
        "global": {"adb_enabled": "1", "development_settings_enabled": "1", "device_provisioned": "1", "stay_on_while_plugged_in": "0"},
    }
    first = ["Li", "Wang", "Anna", "Ben", "Chen", "Dora", "Eli", "Fang", "Gus", "Hui"]
    state.contacts = [Contact(i + 1, f"{first[i % len(first)]} {chr(65 + i % 26)}.", f"+86138{rng.randrange(10**8):08d}") for i in range(12)]
    base_ms = 1_760_000_000_000
    state.calls = [Call(i + 1, state.contacts[i % 12].number, base_ms + i * 3_600_000, rng.randrange(5, 600), 1 + i % 3) for i in range(15)]
    state.sms = [Sms(i + 1, state.contacts[i % 12].number, base_ms + i * 600_000, f"Message {i + 1}, see you at {8 + i % 10}:00", 1 + i % 2) for i in range(20)]
    state.packages = [Package(name, path) for name, path in SYSTEM_PACKAGES]
    state.packages += [Package(name, f"/data/app/~~{rng.getrandbits(48):012x}==/{name}-1/base.apk", ver, 100 + i, False) for i, (name, ver) in enumerate(USER_PACKAGES)]
    populate_media(state, media_files, media_bytes, rng)
    return state


def hardware_serial(seed: int, port: int | None = None) -> str:
    """An 8-hex-digit ``ro.serialno``: from ``seed`` alone (what :func:`new_state` draws), or from
    ``seed`` and the phone's adbd ``port`` so that phones in separate simulators never share one."""
    if port is None:
        return f"{random.Random(seed).getrandbits(32):08x}"
    return hashlib.sha256(f"miui-automator-sim:{seed}:{port}".encode()).hexdigest()[:8]


def populate_media(state: PhoneState, count: int, total_bytes: int, rng: random.Random) -> None:
    """Deterministic synthetic photos, videos, music and documents on shared storage."""
    for folder in ("DCIM/Camera", "Pictures", "Movies", "Music", "Documents", "Download", "Android/data", "MIUI"):
        state.fs.mkdir(f"{STORAGE}/{folder}", parents=True)
    if count <= 0:
        return
    avg = max(1, total_bytes // count)
    n = 0
    for folder, pattern, share in MEDIA_LAYOUT:
        for _ in range(max(1, round(count * share))):
            if n >= count:
                return
            size = max(1, int(avg * (0.5 + rng.random())))
            name = pattern.format(date=f"2025{1 + n % 12:02d}{1 + n % 28:02d}", n=n)
            state.fs.add_synthetic(f"{STORAGE}/{folder}/{name}", size, seed=state.seed * 1_000_003 + n, mtime=1_750_000_000 + n * 3600)
            n += 1
