"""devices.yaml -> frozen Inventory: selection rules, password sources, and errors that name file:line."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from miui_automator.errors import ConfigError
from miui_automator.fleet.inventory import LOCAL, PhoneFacts, load_inventory, normalize_server, parse_inventory

REPO = Path(__file__).resolve().parents[3]

GOOD = """
servers:
  - local
  - 192.168.1.20:5037
parallel: 4
phone-timeout: 600
defaults:
  password: {env: LAB_PASSWORD}
  params: {synced_data: keep}
devices:
  - serial: 127.0.0.1:5600
    label: bench-01
    params: {synced_data: remove}
  - serial: abcd1234
    label: spare
    password: {file: pw.txt}
  - serial: 127.0.0.1:5609
    skip: true
  - match: {variant: "hyperos*", server: 192.168.1.20:5037}
    params: {miui_backup: "false"}
  - match: {model: ["M2007*", "22011*"]}
  - match: {}
"""


def phone(serial="127.0.0.1:5601", server=LOCAL, **kw) -> PhoneFacts:
    return PhoneFacts(server=server, serial=serial, **kw)


def test_good_inventory_is_frozen_and_complete(tmp_path):
    inv = parse_inventory(GOOD, tmp_path / "devices.yaml")
    assert inv.servers == (LOCAL, "192.168.1.20:5037")
    assert (inv.parallel, inv.phone_timeout_s) == (4, 600.0)
    assert inv.default_password.env == "LAB_PASSWORD"
    spare = inv.entries[1]
    assert spare.password.file == tmp_path / "pw.txt"  # relative to the inventory file
    with pytest.raises(dataclasses.FrozenInstanceError):
        inv.parallel = 9  # type: ignore[misc]


def test_selection_serial_entries_win_then_first_matching_rule(tmp_path):
    inv = parse_inventory(GOOD, tmp_path / "devices.yaml")
    bench = inv.select(phone("127.0.0.1:5600", variant="hyperos1-en"))
    assert bench.label == "bench-01"
    by_hardware = inv.select(phone("emulator-5554", hardware_serial="abcd1234"))
    assert by_hardware.label == "spare"
    assert inv.select(phone("127.0.0.1:5609")) is None  # skip: true
    remote = inv.select(phone(server="192.168.1.20:5037", variant="hyperos2-zh"))
    assert remote.match == (("variant", ("hyperos*",)), ("server", ("192.168.1.20:5037",)))
    local_hyperos = inv.select(phone(variant="hyperos2-zh", model="23127PN0CC"))
    assert local_hyperos.match == ()  # the remote-only rule does not take a local phone
    poco = inv.select(phone(model="M2007J20CG"))
    assert poco.match == (("model", ("M2007*", "22011*")),)
    assert [e.serial for e in inv.listed] == ["127.0.0.1:5600", "abcd1234"]


def test_params_merge_defaults_under_entry_with_their_lines(tmp_path):
    inv = parse_inventory(GOOD, tmp_path / "devices.yaml")
    merged = inv.params_for(inv.entries[0])
    assert merged["synced_data"][0] == "remove"
    assert merged["synced_data"][1] == f"{tmp_path / 'devices.yaml'}:13"
    assert inv.params_for(None)["synced_data"][0] == "keep"
    assert inv.password_for(inv.entries[0]).env == "LAB_PASSWORD"
    assert inv.password_for(inv.entries[1]).file.name == "pw.txt"


def test_password_sources_read_env_and_file(tmp_path, monkeypatch):
    (tmp_path / "pw.txt").write_text("s3cret\n")
    inv = parse_inventory(GOOD, tmp_path / "devices.yaml")
    monkeypatch.delenv("LAB_PASSWORD", raising=False)
    assert inv.default_password.read() is None
    monkeypatch.setenv("LAB_PASSWORD", "from-env")
    assert inv.default_password.read() == "from-env"
    assert inv.entries[1].password.read() == "s3cret"
    assert inv.entries[1].password.as_dict() == {"file": str(tmp_path / "pw.txt")}
    (tmp_path / "pw.txt").unlink()
    with pytest.raises(ConfigError, match=r"devices.yaml:16: cannot read the password file"):
        inv.entries[1].password.read()


@pytest.mark.parametrize("text, line, words", [
    ("devices:\n  - serial: a\n    password: hunter2\n", 3, "plaintext password refused"),
    ("defaults:\n  password: 'hunter2'\ndevices:\n  - match: {}\n", 2, "plaintext password refused"),
    ("devices:\n  - match: {}\n    params:\n      mi_password: x\n", 4, "looks like a secret"),
    ("devices:\n  - match: {}\n    params: {pin: '1234'}\n", 3, "looks like a secret"),
    ("devics:\n  - match: {}\n", 1, "unknown key 'devics' in the inventory (did you mean 'devices'?)"),
    ("devices:\n  - match: {}\n    parms: {}\n", 3, "did you mean 'params'"),
    ("devices:\n  - serial: a\n    serial: b\n", 3, "duplicate key 'serial'"),
    ("devices:\n  - serial: a\n    match: {}\n", 2, "either 'serial' (one phone) or 'match' (a rule), not both"),
    ("devices:\n  - label: x\n", 2, "not neither"),
    ("servers: [local, 'nohost']\ndevices:\n  - match: {}\n", 1, "is not 'local' or host:port"),
    ("servers: [local, local]\ndevices:\n  - match: {}\n", 1, "listed twice"),
    ("devices:\n  - serial: a\n    server: 10.0.0.1:5037\n", 3, "is not in servers"),
    ("devices:\n  - serial: a\n  - serial: a\n", 3, "serial a is listed twice (first at line 2)"),
    ("devices:\n  - {serial: a, label: x}\n  - {serial: b, label: x}\n", 3, "label 'x' is used twice"),
    ("devices:\n  - match: {}\n    label: x\n", 3, "a label names one phone"),
    ("devices:\n  - match: {colour: red}\n", 2, "unknown key 'colour' in match"),
    ("parallel: 0\ndevices:\n  - match: {}\n", 1, "parallel must be between 1 and 512, not 0"),
    ("parallel: \"8\"\ndevices:\n  - match: {}\n", 1, "parallel must be a whole number, not the string '8'"),
    ("parallel: 2.5\ndevices:\n  - match: {}\n", 1, "parallel must be a whole number, not the number 2.5"),
    ("phone-timeout: '600'\ndevices:\n  - match: {}\n", 1, "phone-timeout must be a number of seconds, not the string"),
    ("phone-timeout: soon\ndevices:\n  - match: {}\n", 1, "phone-timeout must be a number"),
    ("devices:\n  - serial: a\n    skip: maybe\n", 3, "skip must be true or false"),
    ("devices:\n  - match: {}\n    password: {env: A, file: b}\n", 3, "password takes only one of env, file"),
    ("devices:\n  - match: {}\n    password: {env: 'not a name'}\n", 3, "not an environment variable name"),
    ("devices: []\n", 1, "needs at least one entry"),
    ("servers: [local]\n", 1, "needs 'devices:'"),
    ("", 1, "the inventory is empty"),
    ("devices:\n  - match: {}\n  - [unclosed\n", 4, "invalid YAML"),
])
def test_errors_name_file_and_line(text, line, words):
    with pytest.raises(ConfigError) as exc:
        parse_inventory(text, "lab/devices.yaml")
    message = str(exc.value)
    assert message.startswith(f"lab/devices.yaml:{line}: "), message
    assert words in message
    assert "hunter2" not in message


def test_load_reports_an_unreadable_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the inventory"):
        load_inventory(tmp_path / "nope.yaml")


def test_shipped_devices_yaml_is_valid_and_selects_every_simulated_phone(monkeypatch):
    inv = load_inventory(REPO / "devices.yaml")
    assert inv.servers == (LOCAL,)
    assert inv.default_password.env == "MIUI_ACCOUNT_PASSWORD"
    assert inv.select(phone("127.0.0.1:5600")).label == "bench-01"
    for variant in ("miui12.5-en", "miui14-en", "hyperos1-en", "hyperos2-zh"):
        assert inv.select(phone("127.0.0.1:5601", variant=variant, model="X")) is not None


@pytest.mark.parametrize("given, expected", [("local", "local"), ("5038", "127.0.0.1:5038"), ("host.lan:5037", "host.lan:5037"),
                                             ("[::1]:5037", "[::1]:5037")])
def test_normalize_server(given, expected):
    assert normalize_server(given) == expected


@pytest.mark.parametrize("bad", ["host", "host:0", "host:99999", ""])
def test_normalize_server_refuses(bad):
    with pytest.raises(ValueError):
        normalize_server(bad)


def test_merge_keys_reuse_an_entry_as_in_flows(tmp_path):
    inv = parse_inventory("devices:\n"
                          "  - &bench {serial: a, params: {synced_data: remove}, password: {env: BENCH}}\n"
                          "  - <<: *bench\n"
                          "    serial: b\n", tmp_path / "devices.yaml")
    b = inv.entries[1]
    assert (b.serial, b.params, b.password.env) == ("b", (("synced_data", "remove", 2),), "BENCH")
