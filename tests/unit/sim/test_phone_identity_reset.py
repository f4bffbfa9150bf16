"""The simulated phone's identity (hardware serial), the unactivated Xiaomi account, and a
factory reset as a retail phone does it (gone from ADB for good) or an engineering build
(back on ADB) — all on the phone model, no sockets."""

from __future__ import annotations

from miui_automator.sim.phone import Phone
from miui_automator.sim.screens.settings import ERASE_SECONDS
from miui_automator.sim.shell import Shell
from miui_automator.sim.state import hardware_serial
from miui_automator.sim.ui import find_all


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# ----------------------------------------------------------------------------- identity
def test_the_seeded_serial_is_as_before_and_the_port_makes_it_unique() -> None:
    assert Phone(media_files=0).serial == hardware_serial(0) == "d82c07cd"
    assert Phone(media_files=0, seed=3).serial == hardware_serial(3)
    by_port = {hardware_serial(0, port) for port in range(5600, 5700)}
    assert len(by_port) == 100 and hardware_serial(0) not in by_port
    assert hardware_serial(0, 5600) == hardware_serial(0, 5600) != hardware_serial(1, 5600)


def test_a_given_serial_is_the_phones_everywhere_and_survives_a_reset() -> None:
    phone = Phone(media_files=0, serial="5f3a9c01", keep_adb_after_reset=True)
    shell = Shell(phone)
    assert shell.run("getprop ro.serialno").stdout == b"5f3a9c01\n"
    phone.set_serial("77aa00bb")
    assert shell.run("getprop ro.boot.serialno").stdout == b"77aa00bb\n"
    contacts = [c.number for c in phone.state.contacts]
    assert contacts == [c.number for c in Phone(media_files=0).state.contacts]  # only the serial moved
    phone.factory_reset(0)
    assert phone.serial == "77aa00bb" and phone.state.props["ro.boot.serialno"] == "77aa00bb"


# ----------------------------------------------------------------------------- unactivated account
def test_an_unactivated_account_shows_in_dumpsys_but_not_in_settings() -> None:
    phone = Phone("hyperos2-zh", media_files=0, signed_in=False, unactivated_account=True)
    accounts = Shell(phone).run("dumpsys account").stdout.decode()
    assert "Account {name=1234567890, type=com.xiaomi.unactivated}" in accounts
    assert "Account {name=1234567890, type=com.xiaomi}" not in accounts
    assert phone.state.has_unactivated_account() and not phone.state.has_xiaomi_account()
    phone.start_activity(component="com.android.settings/.MainSettings")
    assert find_all(phone.windows(), text=phone.variant.signin_label)
    plain = Shell(Phone("hyperos2-zh", media_files=0, signed_in=False)).run("dumpsys account").stdout.decode()
    assert "Account {name=1234567890" not in plain


def test_a_factory_reset_removes_the_unactivated_account() -> None:
    phone = Phone(media_files=0, unactivated_account=True)
    phone.factory_reset(0)
    assert not phone.state.has_unactivated_account() and phone.state.accounts == []


# ----------------------------------------------------------------------------- factory reset
def erase_from_settings(phone: Phone, clock: FakeClock) -> None:
    """About phone > Factory reset > Erase all data > OK, then let "Erasing…" run out."""
    phone.start_activity(component="com.android.settings/.MiuiMasterClear")
    phone.tap(*find_all(phone.windows(), text=phone.variant.t("erase_all"))[0].center)
    assert phone.current_screen_name() == "factory_reset_confirm"
    phone.tap(*find_all(phone.windows(), text=phone.variant.t("ok"))[-1].center)
    assert phone.current_screen_name() == "factory_reset_erasing"
    clock.now += ERASE_SECONDS + 0.5
    phone.tick()


def test_a_retail_phone_leaves_adb_for_good_once_the_erase_starts() -> None:
    clock = FakeClock()
    phone = Phone("hyperos2-zh", media_files=3, signed_in=False, clock=clock)
    events: list[str] = []
    phone.subscribe(events.append)
    erase_from_settings(phone, clock)
    assert events == ["unplug"] and not phone.plugged
    clock.now += 600
    phone.tick()
    phone.replug()  # the cable goes back in: USB debugging is off, so adb still sees nothing
    assert events == ["unplug"] and not phone.plugged
    st = phone.state
    assert phone.current_screen_name() == "setup_wizard" and st.factory_resets == 1 and not st.provisioned
    assert not st.adb_enabled and st.settings["global"]["development_settings_enabled"] == "0"
    assert st.props["persist.security.adbinput"] == "0"
    assert st.fs.usage("/sdcard/DCIM") == 0


def test_an_engineering_build_keeps_adb_and_input_across_a_reset() -> None:
    clock = FakeClock()
    phone = Phone("miui14-en", media_files=3, signed_in=False, clock=clock, keep_adb_after_reset=True)
    events: list[str] = []
    phone.subscribe(events.append)
    phone.factory_reset(2.0)
    assert events == ["unplug"]
    clock.now += 2.1
    phone.tick()
    assert events == ["unplug", "replug"] and phone.plugged
    assert phone.current_screen_name() == "setup_wizard" and phone.state.factory_resets == 1
    assert phone.state.adb_enabled and phone.state.props["persist.security.adbinput"] == "1"
