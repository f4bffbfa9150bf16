"""Choosing the phones of a fleet run and binding each one's params and password — before the first tap."""

from __future__ import annotations

import pytest

from miui_automator.device.info import DeviceInfo
from miui_automator.errors import ConfigError, UsageError
from miui_automator.fleet.inventory import LOCAL, parse_inventory
from miui_automator.fleet.plan import Probe, bind, dedupe, flow_digest, phone_key, plan_phones, select
from miui_automator import run

FLOW = """
name: needs-things
params:
  synced_data: {default: keep, choices: [keep, remove]}
  password: {secret: true, env: TEST_FLEET_FLOW_PW}
steps:
  - shell: {command: "getprop ro.product.model"}
  - shell: {command: "getprop ro.build.version.release"}
"""

INVENTORY = """
defaults:
  params: {synced_data: keep, miui_backup: "false"}
  password: {env: TEST_FLEET_INV_PW}
devices:
  - serial: 127.0.0.1:5600
    label: bench-01
    params: {synced_data: remove}
  - serial: hw-listed-but-absent
  - match: {variant: "miui*"}
"""


@pytest.fixture
def flow(tmp_path):
    path = tmp_path / "needs-things.yaml"
    path.write_text(FLOW)
    return run.load(str(path))


@pytest.fixture
def inventory(tmp_path):
    return parse_inventory(INVENTORY, tmp_path / "devices.yaml")


def probe(serial: str, variant: str = "hyperos1-en", hw: str = "", server: str = LOCAL, answering: bool = True) -> Probe:
    if not answering:
        return Probe(server, serial, "unauthorized", problem="device is unauthorized")
    return Probe(server, serial, "device", device=object(), info=DeviceInfo(serial=serial, model="M", variant=variant,
                                                                            hardware_serial=hw or f"hw-{serial}"))


def test_inventory_selection_with_listed_phones_missing(inventory):
    probes = [probe("127.0.0.1:5600"), probe("127.0.0.1:5601", "miui14-en"), probe("127.0.0.1:5602", "hyperos2-zh")]
    sel = select(probes, inventory=inventory)
    assert [(p.serial, e.label) for p, e in sel.chosen] == [("127.0.0.1:5600", "bench-01"), ("127.0.0.1:5601", "")]
    [(name, server, why)] = sel.missing
    assert (name, server) == ("hw-listed-but-absent", "") and why.endswith("devices.yaml:9 but not attached")


def test_inventory_selection_narrowed_by_label_or_serial(inventory):
    probes = [probe("127.0.0.1:5600"), probe("127.0.0.1:5601", "miui14-en")]
    sel = select(probes, inventory=inventory, names=("bench-01", "ghost"))
    assert [p.serial for p, _ in sel.chosen] == ["127.0.0.1:5600"]
    assert [m[0] for m in sel.missing] == ["ghost"]


def test_rules_never_take_a_phone_that_does_not_answer(inventory):
    sel = select([probe("127.0.0.1:5609", answering=False)], inventory=inventory)
    assert sel.chosen == [] and "not selected" in sel.notes[0]
    listed = select([probe("127.0.0.1:5600", answering=False)], inventory=inventory)
    assert [p.serial for p, _ in listed.chosen] == ["127.0.0.1:5600"]  # listed by serial: reported, as an error


def test_all_and_serial_selection_without_inventory():
    probes = [probe("a"), probe("b", hw="hw-b"), probe("c", answering=False)]
    assert [p.serial for p, _ in select(probes, everything=True).chosen] == ["a", "b", "c"]
    sel = select(probes, names=("hw-b", "zz"))
    assert [p.serial for p, _ in sel.chosen] == ["b"]  # by ro.serialno too
    assert sel.missing == [("zz", "", "not attached to any adb server in use")]


def test_the_same_phone_on_two_servers_runs_once():
    one = probe("usb1", hw="same")
    two = probe("127.0.0.1:7000", hw="same", server="10.0.0.2:5037")
    kept, notes = dedupe([one, two, probe("other")])
    assert [p.serial for p in kept] == ["usb1", "other"]
    assert "same phone" in notes[0]


def test_phone_key_prefers_the_hardware_serial():
    assert phone_key("local", "127.0.0.1:5600", DeviceInfo(serial="x", hardware_serial="abc")) == "abc"
    assert phone_key("10.0.0.2:5037", "usb1", None) == "10.0.0.2:5037/usb1"


def test_bind_takes_declared_params_lets_cli_win_and_reads_the_inventory_password(flow, inventory, monkeypatch):
    monkeypatch.setenv("TEST_FLEET_INV_PW", "inv-secret")
    entry = inventory.entries[0]
    params, secrets = bind(flow, inventory_params=inventory.params_for(entry), cli_params={},
                           password=inventory.password_for(entry), password_file=None, prompt=None, phone="bench-01")
    assert params == {"synced_data": "remove"}  # miui_backup is not this flow's: left out
    assert secrets == {"password": "inv-secret"}
    params, _ = bind(flow, inventory_params=inventory.params_for(entry), cli_params={"synced_data": "keep"},
                     password=inventory.password_for(entry), password_file=None, prompt=None, phone="bench-01")
    assert params == {"synced_data": "keep"}


def test_bind_errors_name_the_phone_or_the_inventory_line(flow, inventory, monkeypatch, tmp_path):
    monkeypatch.delenv("TEST_FLEET_INV_PW", raising=False)
    monkeypatch.delenv("TEST_FLEET_FLOW_PW", raising=False)
    with pytest.raises(ConfigError, match=r"devices.yaml:4: flow needs-things needs the password, but \$TEST_FLEET_INV_PW"):
        bind(flow, inventory_params={}, cli_params={}, password=inventory.default_password, password_file=None, prompt=None,
             phone="p")
    with pytest.raises(UsageError, match=r"^p: flow needs-things has no param 'nope'"):
        bind(flow, inventory_params={}, cli_params={"nope": "1"}, password=None, password_file=None, prompt=None, phone="p")
    with pytest.raises(UsageError, match=r"^p: param synced_data='sometimes' is not one of"):
        bind(flow, inventory_params={"synced_data": ("sometimes", "devices.yaml:3")}, cli_params={}, password=None,
             password_file=None, prompt=lambda name: "typed", phone="p")
    with pytest.raises(UsageError, match=r"devices.yaml:7: param 'password' is a secret"):
        bind(flow, inventory_params={"password": ("x", "devices.yaml:7")}, cli_params={}, password=None, password_file=None,
             prompt=None, phone="p")
    pw = tmp_path / "pw"
    pw.write_text("from-file\n")
    _, secrets = bind(flow, inventory_params={}, cli_params={}, password=None, password_file=str(pw), prompt=None, phone="p")
    assert secrets == {"password": "from-file"}
    monkeypatch.setenv("TEST_FLEET_FLOW_PW", "flow-env")
    _, secrets = bind(flow, inventory_params={}, cli_params={}, password=None, password_file=None, prompt=None, phone="p")
    assert secrets == {"password": "flow-env"}


def test_plan_phones_keeps_problems_as_plans_and_never_stores_the_password_value(flow, inventory, monkeypatch):
    monkeypatch.setenv("TEST_FLEET_INV_PW", "inv-secret")
    probes = [probe("127.0.0.1:5600"), probe("127.0.0.1:5601", "miui14-en")]
    plans = plan_phones(flow, select(probes, inventory=inventory), inventory=inventory, cli_params={}, password_file=None,
                        prompt=None)
    assert [(p.name, p.problem_status) for p in plans] == [("bench-01", ""), ("127.0.0.1:5601", ""),
                                                           ("hw-listed-but-absent", "missing")]
    assert plans[0].password == {"env": "TEST_FLEET_INV_PW"} and plans[0].secrets == {"password": "inv-secret"}
    assert "inv-secret" not in repr(plans[0].password)


def test_flow_digest_changes_when_top_level_steps_change(flow, tmp_path):
    path = tmp_path / "other.yaml"
    path.write_text(FLOW.replace("ro.build.version.release", "ro.build.version.sdk"))
    assert flow_digest(flow) == flow_digest(run.load(str(tmp_path / "needs-things.yaml")))
    assert flow_digest(flow) != flow_digest(run.load(str(path)))


def test_only_the_named_phones_are_probed_when_their_adb_serials_say_which(inventory):
    from miui_automator.fleet.plan import Attached, worth_probing

    attached = [Attached(LOCAL, f"127.0.0.1:{5600 + i}", "device") for i in range(16)]
    assert [a.serial for a in worth_probing(attached, ("127.0.0.1:5603",))] == ["127.0.0.1:5603"]
    assert [a.serial for a in worth_probing(attached, ("bench-01",), inventory)] == ["127.0.0.1:5600"]
    assert len(worth_probing(attached, ("127.0.0.1:5603", "hw-only-a-probe-knows"))) == 16
    assert len(worth_probing(attached, ())) == 16
