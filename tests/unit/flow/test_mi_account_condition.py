"""The ``mi-account`` condition: one definition of "a Mi account is on the phone" (signed in or
unactivated, :func:`miui_automator.device.info.mi_accounts`) for every flow that asks, and the
built-in flows asking it that way instead of carrying their own regexes."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from miui_automator.device.driver import ShellOutput
from miui_automator.device.info import mi_accounts
from miui_automator.errors import FlowSyntaxError
from miui_automator.flow.engine import Engine
from miui_automator.flow.parser import parse_flow
from miui_automator.flow.waits import FakeClock
from miui_automator.screens.catalogue import default_catalogue

FLOWS = Path(__file__).parents[3] / "miui_automator" / "flows"
SIGNED_IN = "Accounts: 2\n  Account {name=owner@gmail.com, type=com.google}\n  Account {name=1234567890, type=com.xiaomi}\n"
UNACTIVATED = "Accounts: 1\n  Account {name=5551234567, type=com.xiaomi.unactivated}\n"
NONE = "Accounts: 1\n  Account {name=owner@gmail.com, type=com.google}\n"
SECOND_USER_ONLY = ("User UserInfo{0:Owner:c13}:\n  Accounts: 0\n"
                    "User UserInfo{10:Work:30}:\n  Accounts: 1\n  Account {name=1234567890, type=com.xiaomi}\n")


def flow(steps: str):
    text = "name: t\nsteps:\n" + textwrap.indent(textwrap.dedent(steps).strip("\n"), "  ") + "\n"
    return parse_flow(text, "t.yaml", known_screens=default_catalogue().names)


class AccountsDriver:
    """Answers ``dumpsys account`` with a fixed dump and records the commands run."""

    serial = "fake-1"

    def __init__(self, dump: str) -> None:
        self.dump = dump
        self.commands: list[str] = []

    def shell(self, command: str, timeout_s: float = 30.0) -> ShellOutput:
        self.commands.append(command)
        return ShellOutput(command, self.dump if command == "dumpsys account" else "", 0)


def check(dump: str, state: str):
    driver = AccountsDriver(dump)
    engine = Engine(driver, default_catalogue(), clock=FakeClock(), listeners=[], verify=False, tasks={})
    result = engine.run(flow(f"- assert: {{mi-account: {state}}}"), {}, {})
    return result, driver


@pytest.mark.parametrize("dump, present", [(SIGNED_IN, True), (UNACTIVATED, True), (NONE, False),
                                           (SECOND_USER_ONLY, False), ("", False)])
def test_one_definition_counts_signed_in_and_unactivated_accounts_of_the_owner(dump, present) -> None:
    assert bool(mi_accounts(dump)) is present
    assert check(dump, "present")[0].outcome == ("passed" if present else "failed")
    assert check(dump, "absent")[0].outcome == ("failed" if present else "passed")


def test_the_condition_reads_dumpsys_account_and_reports_a_count_never_a_name() -> None:
    result, driver = check(UNACTIVATED, "absent")
    assert driver.commands == ["dumpsys account"]
    assert result.exit_code == 1
    assert "1 Mi account(s) on the phone" in result.error and "5551234567" not in result.error
    assert "no Mi account is on the phone" in result.error


def test_it_is_a_condition_everywhere_conditions_go() -> None:
    loaded = flow("""
        - when: {mi-account: present}
          then:
            - drive: {until: {mi-account: absent}, rules: {account: wait}}
    """)
    when = loaded.steps[0]
    assert (when.condition.kind, when.condition.subject) == ("mi-account", "present")
    assert when.condition.describe() == "a Mi account is on the phone"
    assert when.then_steps[0].until.describe() == "no Mi account is on the phone"


@pytest.mark.parametrize("condition, message", [
    ("{mi-account: gone}", "t.yaml:3: mi-account is present or absent, not 'gone'"),
    ("{mi-account: absent, equals: x}", "t.yaml:3: a mi-account condition takes no 'equals'"),
    ("{mi-account: [absent]}", "t.yaml:3:"),
])
def test_a_bad_mi_account_condition_is_refused_at_load_naming_the_line(condition, message) -> None:
    with pytest.raises(FlowSyntaxError) as info:
        flow(f"\n- assert: {condition}")
    assert str(info.value).startswith(message), str(info.value)


@pytest.mark.parametrize("name", ["remove-mi-account", "verify-account-removed", "factory-reset"])
def test_built_in_flows_ask_through_the_condition_not_a_regex_of_their_own(name) -> None:
    text = (FLOWS / f"{name}.yaml").read_text()
    assert "mi-account:" in text
    assert "com\\.xiaomi" not in text and "type=com.xiaomi" not in text
