"""A simulated factory reset seen through the real adb server: a retail phone leaves ADB for good
once the erase starts (its screen shows the setup wizard, in the model only); an engineering
build comes back on ADB, fresh. Also the "show password" fault through real uiautomator2."""

from __future__ import annotations

import adbutils
import pytest

from miui_automator.errors import DeviceError
from miui_automator.sim.host import adb_connect, device_state, wait_for_state
from miui_automator.sim.state import DEFAULT_PASSWORD
from miui_automator.sim.ui import find_all

pytestmark = pytest.mark.integration


def tap(device: adbutils.AdbDevice, sim_host, dev, text: str) -> None:
    x, y = sim_host.call(lambda: find_all(dev.phone.windows(), text=text)[-1].center)
    device.shell(f"input tap {x} {y}")


def erase(adb_port: int, sim_host, dev) -> None:
    """Settings > Factory reset > Erase all data > OK, all through adb shell."""
    device = adbutils.AdbClient(port=adb_port).device(dev.serial)
    t = dev.phone.variant.t
    device.shell("am start -n com.android.settings/.MiuiMasterClear")
    tap(device, sim_host, dev, t("erase_all"))
    assert sim_host.call(dev.phone.current_screen_name) == "factory_reset_confirm"
    tap(device, sim_host, dev, t("ok"))


def test_a_retail_phone_is_gone_from_adb_after_the_erase(adb_port, make_phone, sim_host, wait_until):
    dev = make_phone("miui14-en", signed_in=False)
    erase(adb_port, sim_host, dev)
    wait_until(lambda: device_state(dev.serial, adb_port) != "device", 10, message="the phone leaving adb")
    wait_until(lambda: sim_host.call(dev.phone.current_screen_name) == "setup_wizard", 10, message="setup wizard")
    sim_host.call(dev.phone.replug)  # cable back in: USB debugging was erased with the rest
    with pytest.raises(DeviceError):
        adb_connect(dev.serial, adb_port, timeout=3)
    assert sim_host.call(lambda: (dev.phone.plugged, dev.phone.state.factory_resets, dev.phone.state.adb_enabled)) == (
        False, 1, False)


def test_an_engineering_build_comes_back_on_adb_fresh(adb_port, make_phone, sim_host, wait_until):
    dev = make_phone("hyperos2-zh", signed_in=False, keep_adb_after_reset=True)
    serial_no = sim_host.call(lambda: dev.phone.serial)
    erase(adb_port, sim_host, dev)
    wait_until(lambda: sim_host.call(lambda: dev.phone.state.factory_resets) == 1, 10, message="the erase")
    wait_for_state(dev.serial, adb_port, "device", timeout=15)
    device = adbutils.AdbClient(port=adb_port).device(dev.serial)
    assert device.shell("settings get global device_provisioned").strip() == "0"
    assert device.shell("getprop ro.serialno").strip() == serial_no
    assert sim_host.call(dev.phone.current_screen_name) == "setup_wizard"


@pytest.mark.parametrize("faults, shown", [("", False), ("showpassword", True)])
def test_showpassword_through_uiautomator2(make_phone, sim_host, faults, shown):
    import uiautomator2 as u2

    dev = make_phone("hyperos1-en", faults=faults)
    d = u2.connect(dev.serial)
    d.shell("am start -n com.android.settings/.MiuiMasterClear")
    d(text=dev.phone.variant.t("erase_all")).click()
    d(className="android.widget.EditText").set_text(DEFAULT_PASSWORD)
    xml = d.dump_hierarchy()
    assert (f'text="{DEFAULT_PASSWORD}"' in xml) is shown
    assert ('password="true"' in xml) is not shown
