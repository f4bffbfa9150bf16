"""DeviceInfo from getprop and dumpsys text: OS detection order (HyperOS before MIUI), the variant
guess, account masking, battery / screen / keyguard state."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from miui_automator.device.info import (
    DeviceInfo,
    mask_account,
    parse_accounts,
    parse_battery,
    parse_device_info,
    parse_getprop,
    parse_keyguard,
    parse_power,
)
from miui_automator.sim.state import new_state
from miui_automator.sim.variants import VARIANTS

ACCOUNTS_DUMP = """\
User UserInfo{0:Owner:c13} running:
  Accounts: 3
    Account {name=owner0@gmail.com, type=com.google}
    Account {name=1234567890, type=com.xiaomi}
    Account {name=+8613800000000, type=com.whatsapp}

  Active Sessions: 0

  RegisteredServicesCache: 3 services
    ServiceInfo: AuthenticatorDescription {type=com.xiaomi}, ComponentInfo{com.xiaomi.account/.AuthService}, uid 10093

User UserInfo{10:Work profile:1030}:
  Accounts: 1
    Account {name=9876543210, type=com.xiaomi}
"""

BATTERY_DUMP = """\
Current Battery Service state:
  AC powered: false
  USB powered: true
  Wireless powered: false
  Max charging current: 500000
  status: 2
  health: 2
  present: true
  level: 87
  scale: 100
  voltage: 4321
  temperature: 301
  technology: Li-poly
"""

POWER_AWAKE = """\
POWER MANAGER (dumpsys power)

Power Manager State:
  mDirty=0x0
  mWakefulness=Awake
  mWakefulnessChanging=false
  mHoldingDisplaySuspendBlocker=true
"""

WINDOW_LOCKED = """\
WINDOW MANAGER POLICY STATE (dumpsys window policy)
    mShowingLockscreen=false mShowingDream=false mDreamingLockscreen=true
    isStatusBarKeyguard=true
"""

WINDOW_UNLOCKED = """\
    mShowingLockscreen=false mShowingDream=false mDreamingLockscreen=false
    isStatusBarKeyguard=false
"""


def sim_props(variant: str) -> dict[str, str]:
    return new_state(VARIANTS[variant], media_files=0).props


# ------------------------------------------------------------------------------- getprop
def test_parse_getprop_lines_empty_and_multiline_values() -> None:
    output = ("[ro.product.model]: [2201116SG]\r\n[persist.security.adbinput]: []\n"
              "[ro.build.description]: [first line\nsecond line]\n[ro.miui.ui.version.name]: [V140]\n")
    props = parse_getprop(output)
    assert props == {
        "ro.product.model": "2201116SG",
        "persist.security.adbinput": "",
        "ro.build.description": "first line\nsecond line",
        "ro.miui.ui.version.name": "V140",
    }


def test_parse_getprop_ignores_noise() -> None:
    assert parse_getprop("") == {}
    assert parse_getprop("error: device offline\n") == {}


# ------------------------------------------------------------------------------- OS detection
@pytest.mark.parametrize(
    ("variant", "family", "version", "label", "region", "locale", "market"),
    [
        ("miui12.5-en", "MIUI", "12.5", "MIUI 12.5 (V12.5.4.0.RJGMIXM)", "global", "en-US", "POCO X3 NFC"),
        ("miui14-en", "MIUI", "14", "MIUI 14 (V14.0.6.0.TKCMIXM)", "global", "en-US", "Redmi Note 11 Pro 5G"),
        ("hyperos1-en", "HyperOS", "1", "HyperOS 1 (OS1.0.8.0.UMFMIXM)", "global", "en-US", "Xiaomi 13T Pro"),
        ("hyperos2-zh", "HyperOS", "2", "HyperOS 2 (OS2.0.6.0.VNCCNXM)", "cn", "zh-CN", "Xiaomi 14"),
    ],
)
def test_simulated_variants(variant: str, family: str, version: str, label: str, region: str, locale: str, market: str) -> None:
    props = sim_props(variant)
    info = parse_device_info("serial-1", props)
    assert (info.os_family, info.os_version, info.os_label) == (family, version, label)
    assert info.variant == variant  # the guess names the simulator's own variant
    assert (info.region, info.locale, info.market_name) == (region, locale, market)
    assert info.model == props["ro.product.model"] and info.device == props["ro.product.device"] and info.brand == "Xiaomi"
    assert info.android_version == props["ro.build.version.release"] and info.sdk == int(props["ro.build.version.sdk"])
    assert info.supported and info.adb_input_enabled and info.serial == "serial-1"


def test_hyperos_is_detected_before_its_leftover_miui_property() -> None:
    props = {"ro.miui.ui.version.name": "V816", "ro.mi.os.version.name": "OS2.0",
             "ro.mi.os.version.incremental": "OS2.0.216.0.VMFEUXM"}
    info = parse_device_info("s", props)
    assert (info.os_family, info.os_version, info.os_label) == ("HyperOS", "2", "HyperOS 2 (OS2.0.216.0.VMFEUXM)")


def test_v816_alone_still_means_hyperos() -> None:
    info = parse_device_info("s", {"ro.miui.ui.version.name": "V816", "ro.build.version.incremental": "OS1.0.3.0.TKXCNXM"})
    assert (info.os_family, info.os_version) == ("HyperOS", "1")
    unknown = parse_device_info("s", {"ro.miui.ui.version.name": "V816"})
    assert (unknown.os_family, unknown.os_version, unknown.supported) == ("HyperOS", "", False)


def test_miui13_china_build() -> None:
    props = {
        "ro.product.model": "2201123C", "ro.product.brand": "Xiaomi", "ro.product.device": "cupid",
        "ro.product.mod_device": "cupid",
        "ro.miui.ui.version.name": "V130", "ro.miui.ui.version.code": "13", "ro.build.version.incremental": "V13.0.12.0.SLCCNXM",
        "ro.build.version.release": "12", "ro.build.version.sdk": "31", "ro.product.locale": "zh-CN",
        "persist.security.adbinput": "0",
    }
    info = parse_device_info("abc", props)
    assert (info.os_family, info.os_version, info.os_label) == ("MIUI", "13", "MIUI 13 (V13.0.12.0.SLCCNXM)")
    assert (info.variant, info.region, info.supported) == ("miui13-zh", "cn", True)
    assert not info.adb_input_enabled


def test_plain_android_is_not_supported() -> None:
    props = {"ro.product.model": "Pixel 7", "ro.product.brand": "google", "ro.build.version.release": "14",
             "ro.build.version.sdk": "34", "persist.sys.locale": "de-DE"}
    info = parse_device_info("p7", props)
    assert (info.os_family, info.os_version, info.os_label, info.variant) == ("Android", "14", "Android 14", "android14-de")
    assert info.region == "" and not info.supported and info.sdk == 34


@pytest.mark.parametrize(
    ("props", "version", "supported"),
    [
        ({"ro.miui.ui.version.name": "V12"}, "12", True),
        ({"ro.miui.ui.version.name": "V125"}, "12.5", True),
        ({"ro.miui.ui.version.name": "V140"}, "14", True),
        ({"ro.miui.ui.version.name": "V11"}, "11", False),
        ({"ro.miui.ui.version.name": "V9"}, "9", False),
        ({"ro.mi.os.version.name": "OS1.0"}, "1", True),
        ({"ro.mi.os.version.name": "OS3.0"}, "3", False),
    ],
)
def test_versions_and_support(props: dict[str, str], version: str, supported: bool) -> None:
    info = parse_device_info("s", props)
    assert info.os_version == version and info.supported is supported


def test_region_from_mod_device_and_miui_region() -> None:
    assert parse_device_info("s", {"ro.product.mod_device": "veux_global"}).region == "global"
    assert parse_device_info("s", {"ro.miui.region": "CN"}).region == "cn"
    assert parse_device_info("s", {"ro.miui.build.region": "eea"}).region == "global"


# ------------------------------------------------------------------------------- accounts
def test_mask_account() -> None:
    assert mask_account("1234567890") == "12******90"
    assert mask_account("owner0@gmail.com") == "ow**r0@gmail.com"
    assert mask_account("abcd") == "a***"
    assert mask_account("") == ""


def test_parse_accounts_reads_only_the_owner() -> None:
    assert parse_accounts(ACCOUNTS_DUMP) == [
        ("owner0@gmail.com", "com.google"), ("1234567890", "com.xiaomi"), ("+8613800000000", "com.whatsapp")]


def test_parse_accounts_without_user_blocks_and_without_the_owner() -> None:
    assert parse_accounts("Account {name=42, type=com.xiaomi}\nAccount {name=42, type=com.xiaomi}\n") == [("42", "com.xiaomi")]
    assert parse_accounts("User UserInfo{10:Work:30}:\n  Account {name=1, type=com.xiaomi}\n") == []
    assert parse_accounts("") == []


def test_device_info_masks_the_mi_account() -> None:
    info = parse_device_info("s", sim_props("miui14-en"), accounts_dump=ACCOUNTS_DUMP)
    assert info.mi_account == "12******90" and info.mi_account_present
    assert info.other_accounts == (("ow**r0@gmail.com", "com.google"), ("+8**********00", "com.whatsapp"))
    dumped = json.dumps(info.as_dict())
    assert "1234567890" not in dumped and "owner0@gmail.com" not in dumped


def test_unactivated_xiaomi_account_counts_and_none_is_none() -> None:
    unactivated = parse_device_info("s", {}, accounts_dump="Account {name=55512345678, type=com.xiaomi.unactivated}")
    assert unactivated.mi_account_present and unactivated.mi_account == "55*******78"
    none = parse_device_info("s", {}, accounts_dump="User UserInfo{0:Owner:c13}:\n  Accounts: 0\n")
    assert none.mi_account is None and not none.mi_account_present and none.other_accounts == ()


# ------------------------------------------------------------------------------- battery, power, keyguard
def test_parse_battery() -> None:
    assert parse_battery(BATTERY_DUMP) == (87, True)
    unplugged = (BATTERY_DUMP.replace("USB powered: true", "USB powered: false").replace("status: 2", "status: 3")
                 .replace("level: 87", "level: 4"))
    assert parse_battery(unplugged) == (4, False)
    assert parse_battery("  level: 25\n  scale: 50\n  status: 3\n") == (50, False)
    assert parse_battery("") == (None, None)


def test_parse_power() -> None:
    assert parse_power(POWER_AWAKE) is True
    assert parse_power(POWER_AWAKE.replace("Awake", "Asleep").replace("Blocker=true", "Blocker=false")) is False
    assert parse_power("  mWakefulness=Dozing\n") is False
    assert parse_power("  mHoldingDisplaySuspendBlocker=true\n") is True
    assert parse_power("Display Power: state=OFF\n") is False
    assert parse_power("") is None


def test_parse_keyguard() -> None:
    assert parse_keyguard(WINDOW_LOCKED) is True
    assert parse_keyguard("    mShowingLockscreen=true\n") is True
    assert parse_keyguard(WINDOW_UNLOCKED) is False
    assert parse_keyguard("") is None


def test_device_info_with_every_dump() -> None:
    info = parse_device_info("s", sim_props("hyperos2-zh"), accounts_dump=ACCOUNTS_DUMP, battery_dump=BATTERY_DUMP,
                             power_dump=POWER_AWAKE, window_dump=WINDOW_UNLOCKED)
    assert (info.battery_level, info.charging, info.screen_on, info.locked) == (87, True, True, False)
    bare = parse_device_info("s", sim_props("hyperos2-zh"))
    assert (bare.battery_level, bare.charging, bare.screen_on, bare.locked) == (None, None, None, None)


def test_as_dict_is_json_ready_and_says_supported() -> None:
    info = parse_device_info("s", sim_props("miui12.5-en"), accounts_dump=ACCOUNTS_DUMP)
    data = json.loads(json.dumps(info.as_dict()))
    assert data["supported"] is True and data["os_label"] == "MIUI 12.5 (V12.5.4.0.RJGMIXM)"
    assert data["other_accounts"][0] == {"name": "ow**r0@gmail.com", "type": "com.google"}
    assert set(data) == {f.name for f in dataclasses.fields(DeviceInfo)} | {"supported"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.locked = True  # type: ignore[misc]


# ---------------------------------------------------------------- a phone answering garbage

@pytest.mark.parametrize("level", ["--5", "³³", "①", "5-", "-5", "101", "", "NaN", "1e3", "٣"])
def test_a_battery_level_that_does_not_parse_is_unknown(level: str) -> None:
    assert parse_battery(f"  level: {level}\n  scale: 100\n  status: 2\n") == (None, True)


def test_battery_scale_that_does_not_parse_is_ignored() -> None:
    assert parse_battery("level: 40\nscale: ³\n") == (40, False)
    assert parse_battery("level: 2\nscale: 4\n") == (50, False)
    assert parse_battery("level: 9\nscale: -4\n") == (9, False)


@pytest.mark.parametrize("sdk", ["³³", "--5", "33.0", "thirty", "", "99999999999999999999"])
def test_an_sdk_level_that_does_not_parse_is_unknown(sdk: str) -> None:
    info = parse_device_info("abc", {"ro.build.version.sdk": sdk, "ro.product.model": "23049PCD8G"})
    assert info.sdk is None and info.model == "23049PCD8G"


def test_control_characters_from_getprop_never_reach_a_terminal() -> None:
    props = parse_getprop("[ro.product.model]: [Red\x1b[2Jmi\x00 Note\x07]\n")
    assert props["ro.product.model"] == "Red[2Jmi Note"


FIELDS = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
LINES = st.lists(st.tuples(st.sampled_from(["level", "scale", "status", "AC powered", "mWakefulness", "x"]), FIELDS),
                 max_size=8).map(lambda pairs: "\n".join(f"  {k}: {v}" for k, v in pairs))


@settings(max_examples=200, deadline=None)
@given(props=st.dictionaries(st.sampled_from(["ro.build.version.sdk", "ro.mi.os.version.name", "ro.miui.ui.version.name",
                                              "ro.build.version.incremental", "persist.sys.locale", "ro.product.mod_device",
                                              "ro.mi.os.version.incremental", "ro.serialno"]), FIELDS),
       battery=LINES, power=LINES, accounts=FIELDS)
def test_no_property_or_dump_the_phone_sends_is_fatal(props: dict[str, str], battery: str, power: str, accounts: str) -> None:
    info = parse_device_info("abc", props, accounts_dump=f"Account {{name={accounts}, type=com.xiaomi}}",
                             battery_dump=battery, power_dump=power, window_dump=power)
    assert info.battery_level is None or 0 <= info.battery_level <= 100
    assert info.sdk is None or isinstance(info.sdk, int)
    json.dumps(info.as_dict())
