"""Faults as objects: the registry parses specs and writes the help, each fault acts through its
hooks on the phone model (no sockets), and phones never share a fault's run-time state."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import ClassVar

import pytest

from miui_automator.errors import ConfigError
from miui_automator.sim.faults import BUILTIN_FAULTS, Fault, FaultRegistry, parse_faults
from miui_automator.sim.phone import InputRefused, Phone
from miui_automator.sim.render import render
from miui_automator.sim.shell import Shell
from miui_automator.sim.state import DEFAULT_PASSWORD
from miui_automator.sim.ui import SCREEN_H, SCREEN_W, find_all


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def settings(phone: Phone) -> Phone:
    ok, message = phone.start_activity(component="com.android.settings/.MainSettings")
    assert ok, message
    return phone


def tap_text(phone: Phone, text: str) -> None:
    phone.tap(*find_all(phone.windows(), text=text)[0].center)


# ----------------------------------------------------------------------------- registry and parsing
def test_every_fault_parses_and_writes_back_its_spec() -> None:
    spec = ("popup=2;update=4;slow=0.5;u2crash=7;disconnect=screen:account;noinput;noinstall;showpassword;"
            "locked;screenoff;battery=4;blackframe=3;changing=/sdcard/x.bin;carrier;noidle=about_phone")
    faults = parse_faults(spec)
    assert faults.names == [kind.name for kind in BUILTIN_FAULTS]
    assert faults.spec == spec
    assert parse_faults(faults.spec).spec == spec
    assert parse_faults("disconnect=2.5").spec == "disconnect=2.5"


def test_defaults_commas_and_the_last_of_a_name_wins() -> None:
    faults = parse_faults(" popup , u2crash ; blackframe;popup=5 ")
    assert faults.spec == "popup=5;u2crash=20;blackframe=1"
    assert parse_faults("").names == [] and not parse_faults(None)


@pytest.mark.parametrize("spec, message", [
    ("popup=often", "fault 'popup': 'often' is not a whole number"),
    ("popup=0", "fault 'popup': 0 is below 1"),
    ("slow", "fault 'slow' needs a number of seconds"),
    ("slow=fast", "fault 'slow': 'fast' is not a number of seconds"),
    ("slow=-1", "fault 'slow': must be more than 0 seconds"),
    ("battery", "fault 'battery' needs a value"),
    ("battery=101", "fault 'battery': 101 is above 100"),
    ("disconnect=screen:", "screen:NAME needs a screen name"),
    ("changing", "fault 'changing' needs a file path"),
    ("noinput=1", "fault 'noinput' takes no value"),
    ("meteor", "unknown fault 'meteor'"),
])
def test_bad_specs_are_one_line_config_errors(spec: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_faults(spec)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_unknown_fault_lists_the_registry_names() -> None:
    with pytest.raises(ConfigError) as err:
        parse_faults("meteor")
    for kind in BUILTIN_FAULTS:
        assert kind.name in str(err.value)


def test_help_has_one_line_per_fault_with_its_usage() -> None:
    lines = FaultRegistry().help_text().splitlines()
    assert len(lines) == len(BUILTIN_FAULTS)
    for line, kind in zip(lines, BUILTIN_FAULTS):
        assert line.startswith(kind.name + kind.usage) and kind.help in line


@dataclass
class Meteor(Fault):
    name: ClassVar[str] = "meteor"
    help: ClassVar[str] = "the battery is flat"

    def boot(self, phone: Phone) -> None:
        phone.state.battery = 0


def test_registries_are_instances_a_new_fault_needs_no_phone_edit() -> None:
    mine = FaultRegistry([*BUILTIN_FAULTS, Meteor])
    assert "meteor" in mine.help_text() and "meteor" not in FaultRegistry().help_text()
    with pytest.raises(ConfigError):
        FaultRegistry().parse("meteor")
    assert Phone(media_files=0, faults=mine.parse("meteor")).state.battery == 0
    with pytest.raises(ValueError):
        mine.register(Meteor)


# ----------------------------------------------------------------------------- per-phone state
def test_two_phones_from_one_spec_do_not_share_fault_state() -> None:
    clock = FakeClock()
    template = parse_faults("disconnect=5;u2crash=2")
    first, second = Phone(media_files=0, faults=template, clock=clock), Phone(media_files=0, faults=template, clock=clock)
    assert first.faults.get("u2crash") is not second.faults.get("u2crash")
    first.u2_running = second.u2_running = True
    assert first.u2_call() and not first.u2_call()  # the first phone's server dies at its 2nd call
    assert second.u2_call() and not second.u2_call()  # ... and so does the second's, independently
    clock.now += 5
    first.tick()
    assert not first.plugged
    second.tick()
    assert not second.plugged  # the first phone's disconnect did not use up the second's


# ----------------------------------------------------------------------------- each fault's hooks
@pytest.mark.parametrize("spec, popup", [("popup=2", "cloud_promo_popup"), ("update=2", "update_popup"),
                                         ("popup=2;update=2", "cloud_promo_popup")])
def test_popups_come_after_every_nth_action(spec: str, popup: str) -> None:
    phone = settings(Phone("miui14-en", media_files=0, faults=spec))
    tap_text(phone, phone.variant.t("about_phone"))
    assert phone.popup is None
    phone.back()
    tap_text(phone, phone.variant.t("about_phone"))
    assert phone.popup is not None and phone.popup.name == popup


def test_slow_keeps_the_old_frame_and_ignores_touches() -> None:
    clock = FakeClock()
    phone = Phone("miui14-en", media_files=0, faults="slow=1.5", clock=clock)
    before = phone.windows()
    settings(phone)
    assert phone.windows() is before and phone.current_screen_name() == "settings_home"
    clock.now += 1.6
    assert find_all(phone.windows(), text=phone.variant.t("about_phone"))


def test_u2crash_kills_the_server_once() -> None:
    phone = Phone(media_files=0, faults="u2crash=3")
    events: list[str] = []
    phone.subscribe(events.append)
    phone.u2_running = True
    assert [phone.u2_call() for _ in range(3)] == [True, True, False]
    assert events == ["u2crash"] and not phone.u2_running
    phone.u2_running = True  # restarted: it does not crash again
    assert all(phone.u2_call() for _ in range(10))


def test_disconnect_after_seconds_and_on_a_named_screen() -> None:
    clock = FakeClock()
    timed = Phone(media_files=0, faults="disconnect=2", clock=clock)
    clock.now += 1.9
    timed.tick()
    assert timed.plugged
    clock.now += 0.2
    timed.tick()
    assert not timed.plugged
    on_screen = Phone("miui14-en", media_files=0, faults="disconnect=screen:settings_home", clock=clock)
    on_screen.windows()
    clock.now += 1
    on_screen.tick()
    assert on_screen.plugged
    settings(on_screen)
    on_screen.windows()
    clock.now += 0.1
    on_screen.tick()
    assert not on_screen.plugged


def test_noinput_refuses_injection() -> None:
    phone = Phone(media_files=0, faults="noinput")
    with pytest.raises(InputRefused):
        phone.tap(10, 10)


def test_noinstall_turns_install_via_usb_off_and_pm_install_is_refused() -> None:
    phone = Phone("hyperos1-en", media_files=0, faults="noinstall")
    assert phone.state.usb_install is False and phone.state.props["persist.security.adbinstall"] == "0"
    phone.state.fs.write("/data/local/tmp/com.example.tool.apk", b"PK\x03\x04apk")
    refused = Shell(phone).run("pm install /data/local/tmp/com.example.tool.apk")
    assert refused.rc == 1 and b"INSTALL_FAILED_USER_RESTRICTED" in refused.stdout
    assert Phone("hyperos1-en", media_files=0).state.usb_install is True


def test_install_via_usb_toggle_in_developer_options_is_the_same_state() -> None:
    phone = Phone("miui14-en", media_files=0)
    phone.start_activity(component="com.android.settings/.DevelopmentSettings")
    tap_text(phone, phone.variant.t("usb_install"))
    assert phone.state.usb_install is False
    tap_text(phone, phone.variant.t("usb_install"))
    assert phone.state.usb_install is True


def password_dialog(faults: str) -> Phone:
    """Factory reset's Mi-account password prompt with the password typed in."""
    phone = Phone("miui14-en", media_files=0, faults=faults)
    phone.start_activity(component="com.android.settings/.MiuiMasterClear")
    tap_text(phone, phone.variant.t("erase_all"))
    assert phone.current_screen_name() == "factory_reset_password"
    assert phone.input_text(DEFAULT_PASSWORD)
    return phone


def test_showpassword_puts_the_typed_password_in_the_hierarchy_and_the_picture() -> None:
    masked, shown = password_dialog(""), password_dialog("showpassword")
    assert DEFAULT_PASSWORD not in masked.hierarchy_xml() and 'password="true"' in masked.hierarchy_xml()
    assert f'text="{DEFAULT_PASSWORD}"' in shown.hierarchy_xml() and 'password="true"' not in shown.hierarchy_xml()
    (field,) = [n for n in shown.windows()[-1].walk() if n.cls.endswith("EditText")]
    box = field.bounds
    unmasked = copy.deepcopy(masked.windows())
    for window in unmasked:
        for node in window.walk():
            node.password = False
    plain = render(unmasked, SCREEN_W, SCREEN_H).crop(box)
    assert render(shown.windows(), SCREEN_W, SCREEN_H).crop(box).tobytes() == plain.tobytes()
    assert render(masked.windows(), SCREEN_W, SCREEN_H).crop(box).tobytes() != plain.tobytes()


@pytest.mark.parametrize("spec, screen", [("locked", "lockscreen"), ("screenoff", "screen_off")])
def test_locked_and_screenoff_at_boot(spec: str, screen: str) -> None:
    phone = Phone(media_files=0, faults=spec)
    assert phone.current_screen_name() == screen and phone.state.locked


def test_battery_level_and_not_charging() -> None:
    phone = Phone(media_files=0, faults="battery=4")
    assert (phone.state.battery, phone.state.charging) == (4, False)


def test_blackframe_from_the_nth_screenshot() -> None:
    phone = Phone(media_files=0, faults="blackframe=2")
    first, second = phone.screenshot(), phone.screenshot()
    assert first != second
    assert second == Phone(media_files=0, faults="blackframe=1").screenshot()


def test_changing_file_grows_on_every_read() -> None:
    phone = Phone(media_files=0, faults="changing=/sdcard/Download/big.bin")
    assert phone.state.fs.lookup("/sdcard/Download/big.bin") is None  # no such file: nothing to hook
    path = next(p for p, _ in Phone(media_files=5).state.fs.walk_files("/sdcard") if p.endswith(".jpg"))
    changing = Phone(media_files=5, faults=f"changing={path}")
    size = changing.state.fs.lookup(path).size
    changing.state.fs.read(path)
    assert changing.state.fs.lookup(path).size > size


def test_the_simulator_doc_lists_every_fault() -> None:
    from pathlib import Path

    doc = (Path(__file__).parents[3] / "docs" / "simulator.md").read_text()
    for kind in BUILTIN_FAULTS:
        assert f"| `{kind.name}{kind.usage.replace('|', chr(92) + '|')}` |" in doc, kind.name
