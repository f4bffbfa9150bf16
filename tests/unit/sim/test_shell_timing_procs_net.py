"""What a real phone's shell shows for processes, time-taking commands and the network."""

import re

import pytest

from miui_automator.sim.commands.procs import U2_PID


def rows(text: bytes) -> list[list[str]]:
    return [line.split() for line in text.decode().splitlines()[1:]]


def test_ps_lists_the_u2_server_as_user_shell_with_A_and_with_u(sh, phone):
    phone.u2_running = True
    for command in ("ps -A", "ps -u shell", "ps -u 2000"):
        listing = rows(sh.run(command).stdout)
        assert ["shell", str(U2_PID)] in [r[:2] for r in listing if r[-1] == "app_process"], command
    assert {r[0] for r in rows(sh.run("ps -u shell").stdout)} == {"shell"}


def test_kill_stops_the_u2_server_and_refuses_other_users_processes(sh, phone):
    phone.u2_running = True
    assert sh.run(f"kill {U2_PID}").rc == 0 and not phone.u2_running
    other = sh.run("kill 1")
    assert other.rc == 1 and other.stderr == b"/system/bin/sh: kill: 1: Operation not permitted\n"
    gone = sh.run("kill -9 99999")
    assert gone.rc == 1 and b"No such process" in gone.stderr


@pytest.mark.parametrize("command, seconds", [
    ("sleep 2", 2.0), ("sleep 1.5; echo x", 1.5), ("sleep 1m", 60.0), ("echo $(sleep 1)", 1.0),
    ("sh -c 'sleep 1'", 1.0), ("input swipe 100 1500 100 500 2000", 2.0), ("input swipe 100 1500 100 500", 0.3),
    ("input draganddrop 100 1500 100 500 700", 0.7), ("timeout 1 sleep 5", 1.0), ("echo quick", 0.0),
])
def test_commands_take_their_time(sh, command, seconds):
    assert sh.run(command).duration == pytest.approx(seconds)


def test_timeout_cuts_a_long_command_with_status_124(sh):
    assert sh.run("timeout 1 sleep 5").rc == 124
    assert sh.run("timeout 5 sleep 1").rc == 0
    assert sh.run("sleep x").rc == 1


def test_settings_every_phone_has_are_numbers(sh):
    assert int(sh.run("settings get system screen_brightness").stdout) == 128
    assert int(sh.run("settings get system screen_brightness_mode").stdout) in (0, 1)
    assert sh.run("settings get system no_such_row").stdout == b"null\n"


def test_wlan_address_agrees_between_ip_and_ifconfig(sh):
    addr = sh.run("ip addr show wlan0").stdout.decode()
    ip = re.search(r"inet (\d+\.\d+\.\d+\.\d+)/24 brd \S+ scope global wlan0", addr).group(1)
    assert f"inet addr:{ip} " in sh.run("ifconfig wlan0").stdout.decode()
    assert f"dev wlan0 proto kernel scope link src {ip}" in sh.run("ip route").stdout.decode()
    assert sh.run("ip addr show dev wlan0").stdout.decode() == addr
    assert sh.run("ip addr show eth0").rc == 1


def test_logcat_formats(sh):
    threadtime = sh.run("logcat -d").stdout.decode().splitlines()[1]
    assert re.fullmatch(r"\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} +\d+ +\d+ I ActivityManager: .+", threadtime)
    timed = sh.run("logcat -v time -d").stdout.decode().splitlines()[1]
    assert re.fullmatch(r"\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} I/ActivityManager\( *\d+\): .+", timed)
