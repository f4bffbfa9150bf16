"""OS variants of the simulated phone: the texts, orders and properties that differ between
MIUI 12.5, MIUI 14, HyperOS 1 and HyperOS 2 (China ROM, Chinese UI).

Texts are string resources (``labels.py`` says which, ``res/`` holds the built-in English and
Chinese tables); a variant lists only where its ROM words a string differently. The order of the sign-out dialogs differs between
versions — the flows must drive them as a state machine, and so the simulator models each
order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .labels import ACCOUNT, SETTINGS

# The dialogs a sign-out walks through, by name; each variant lists them in its own order.
CONFIRM, PASSWORD, WIPE = "confirm", "password", "wipe"

@dataclass(frozen=True)
class Variant:
    """One OS build the simulator can be."""

    name: str
    description: str
    locale: str  # the language the ROM ships with (``persist.sys.locale`` unless the phone is given another)
    props: dict[str, str]
    account_label: str  # "Mi Account" / "Xiaomi Account" / 小米账号
    signin_label: str  # the signed-out Settings entry
    account_entry_top: bool  # China ROMs put the account entry first in Settings
    signout_order: tuple[str, ...]
    title_id: str  # resource-id of sub-page titles: miuix large title, or the old MIUI action bar
    settings_activity: str = ".MiuiSettings"
    extra_rows: tuple[str, ...] = field(default=())
    # This ROM's own wording where it differs from the built-in default texts: (app, key, text).
    strings: tuple[tuple[str, str, str], ...] = ()

    def t(self, label: str) -> str:
        """The built-in text of ``label`` (see ``labels.py``) in this ROM's own language."""
        from .labels import resource_of
        from .strings import Locale, resources

        app, key = resource_of(label)
        return resources(self.strings).resolve(app, key, Locale.parse(self.locale)) or ""


def _props(*, model: str, name: str, device: str, marketname: str, android: str, sdk: str, build: str,
           ui: tuple[str, str], region: str, country: str, locale: str, hyperos: str = "",
           extra: dict[str, str] | None = None) -> dict[str, str]:
    """The build properties of one ROM: what every Xiaomi user build shares, and this one's values.

    ``ui`` is (``ro.miui.ui.version.name``, ``.code``); ``hyperos`` the HyperOS version ("1.0")
    for the ``ro.mi.os.*`` properties HyperOS ROMs add; ``extra`` overrides anything.
    """
    props = {
        "ro.product.brand": "Xiaomi",
        "ro.product.manufacturer": "Xiaomi",
        "ro.product.cpu.abi": "arm64-v8a",
        "ro.build.type": "user",
        "ro.debuggable": "0",
        "ro.secure": "1",
        "persist.sys.usb.config": "mtp,adb",
        "sys.boot_completed": "1",
        "ro.miui.has_security_keyboard": "0",
        "persist.security.adbinput": "1",
        "persist.security.adbinstall": "1",
        "ro.product.model": model, "ro.product.name": name, "ro.product.device": device,
        "ro.product.marketname": marketname, "ro.product.mod_device": name,
        "ro.build.version.release": android, "ro.build.version.sdk": sdk,
        "ro.build.version.incremental": build, "ro.miui.ui.version.name": ui[0], "ro.miui.ui.version.code": ui[1],
        "ro.miui.build.region": region, "ro.miui.region": country,
        "persist.sys.locale": locale, "ro.product.locale": locale,
    }
    if hyperos:
        props.update({"ro.mi.os.version.name": f"OS{hyperos}", "ro.mi.os.version.code": hyperos.split(".")[0],
                      "ro.mi.os.version.incremental": build})
    props.update(extra or {})
    return props


VARIANTS: dict[str, Variant] = {}


def _register(v: Variant) -> None:
    VARIANTS[v.name] = v


_register(Variant(
    name="miui12.5-en",
    description="MIUI 12.5, Android 11, Global ROM, English — says \"Mi Account\"",
    locale="en-US",
    props=_props(model="M2007J20CG", name="surya_global", device="surya", marketname="POCO X3 NFC",
                 android="11", sdk="30", build="V12.5.4.0.RJGMIXM", ui=("V125", "11"),
                 region="global", country="GB", locale="en-US"),
    account_label="Mi Account",
    signin_label="Sign in to Mi Account",
    account_entry_top=False,
    signout_order=(CONFIRM, WIPE, PASSWORD),
    title_id="miui:id/action_bar_title",
    strings=((SETTINGS, "xiaomi_account", "Mi Account"), (SETTINGS, "unlogin_account_title", "Sign in to Mi Account"),
             (ACCOUNT, "app_name", "Mi Account")),
))
_register(Variant(
    name="miui14-en",
    description="MIUI 14, Android 13, Global ROM, English",
    locale="en-US",
    props=_props(model="2201116SG", name="veux_global", device="veux", marketname="Redmi Note 11 Pro 5G",
                 android="13", sdk="33", build="V14.0.6.0.TKCMIXM", ui=("V140", "14"),
                 region="global", country="GB", locale="en-US"),
    account_label="Xiaomi Account",
    signin_label="Sign in to Xiaomi Account",
    account_entry_top=False,
    signout_order=(PASSWORD, CONFIRM, WIPE),
    title_id="com.android.settings:id/action_bar_title_expand",
))
_register(Variant(
    name="hyperos1-en",
    description="Xiaomi HyperOS 1, Android 14, Global ROM, English",
    locale="en-US",
    props=_props(model="23078PND5G", name="corot_global", device="corot", marketname="Xiaomi 13T Pro",
                 android="14", sdk="34", build="OS1.0.8.0.UMFMIXM", ui=("V816", "816"), hyperos="1.0",
                 region="global", country="GB", locale="en-US"),
    account_label="Xiaomi Account",
    signin_label="Sign in to Xiaomi Account",
    account_entry_top=False,
    signout_order=(WIPE, PASSWORD),
    title_id="com.android.settings:id/action_bar_title_expand",
))
_register(Variant(
    name="hyperos2-zh",
    description="Xiaomi HyperOS 2, Android 15, China ROM, Chinese UI",
    locale="zh-CN",
    props=_props(model="23127PN0CC", name="houji", device="houji", marketname="Xiaomi 14",
                 android="15", sdk="35", build="OS2.0.6.0.VNCCNXM", ui=("V816", "816"), hyperos="2.0",
                 region="cn", country="CN", locale="zh-CN", extra={"ro.miui.has_security_keyboard": "1"}),
    account_label="小米账号",
    signin_label="登录小米帐号",
    account_entry_top=True,
    signout_order=(CONFIRM, PASSWORD, WIPE),
    title_id="com.android.settings:id/action_bar_title_expand",
))


def get_variant(name: str) -> Variant:
    try:
        return VARIANTS[name]
    except KeyError:
        raise KeyError(f"unknown variant {name!r} (known: {', '.join(VARIANTS)})") from None
