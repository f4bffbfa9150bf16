"""What account deletion added to the flow language — ``open: {data: URI}`` and the flow key
``confirm: PARAM`` — the built-in deletion flows, and the tasks that record into the ledger."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from miui_automator.account.ledger import DeletionLedger
from miui_automator.account.tasks import deletion_date, record_account_deleted, record_deletion_requested
from miui_automator.device.driver import ShellOutput
from miui_automator.device.hierarchy import parse_hierarchy
from miui_automator.errors import FlowSyntaxError, StepFailed
from miui_automator.flow import model as m
from miui_automator import run
from miui_automator.flow.engine import Engine
from miui_automator.flow.parser import parse_flow
from miui_automator.flow.waits import FakeClock
from miui_automator.screens.catalogue import default_catalogue
from miui_automator.tasks import TaskContext

SCREENS = default_catalogue().names
URL = "https://account.xiaomi.com/pass/del"


def parse(text: str, resolver=None) -> m.Flow:
    return parse_flow(textwrap.dedent(text), "t.yaml", known_screens=SCREENS, resolver=resolver)


def error(text: str, resolver=None) -> str:
    with pytest.raises(FlowSyntaxError) as info:
        parse(text, resolver)
    return str(info.value)


def test_open_takes_a_data_uri_and_describes_it() -> None:
    flow = parse(f"""\
        name: t
        steps:
          - open: {{action: android.intent.action.VIEW, data: "{URL}"}}
            expect: web_loading
          - open: {{component: com.android.browser/.BrowserActivity, data: "{URL}"}}
          - open: {{action: android.settings.SETTINGS}}
        """)
    first, second, third = flow.steps
    assert isinstance(first, m.OpenStep) and first.data == URL and first.action == "android.intent.action.VIEW"
    assert first.describe() == f"open action android.intent.action.VIEW {URL}, expect web_loading"
    assert second.data == URL and third.data is None


@pytest.mark.parametrize("body, message", [
    ("{app: com.android.browser, data: https://x.example}", "t.yaml:4: data needs an intent (action or component), not app"),
    ('{action: android.intent.action.VIEW, data: "https://x.example/a b"}',
     "t.yaml:4: data 'https://x.example/a b' is not a URI"),
    ('{action: android.intent.action.VIEW, data: "https://x.example/${p}"}', "is literal"),
    ('{action: android.intent.action.VIEW, data: "no-scheme"}', "is not a URI"),
    ('{action: android.intent.action.VIEW, data: ""}', "t.yaml:4: data must not be empty"),
    ("{action: android.intent.action.VIEW, url: https://x.example}", "unknown key 'url' in open"),
])
def test_bad_data_fails_at_load_with_its_line(body: str, message: str) -> None:
    assert message in error(f"name: t\nparams: {{p: {{default: x}}}}\nsteps:\n  - open: {body}\n")


def test_confirm_names_a_plain_param() -> None:
    flow = parse("""\
        name: t
        destructive: true
        confirm: account
        params: {account: {default: ""}, password: {secret: true}}
        steps: [{press: back}]
        """)
    assert flow.confirm == "account"
    assert parse("name: t\nsteps: [{press: back}]\n").confirm is None
    assert error("name: t\nconfirm: acount\nparams: {account: {default: ''}}\nsteps: [{press: back}]\n") == \
        "t.yaml:2: confirm names a param of this flow, and it has no 'acount' (did you mean 'account'?)"
    assert "is secret" in error("name: t\nconfirm: pw\nparams: {pw: {secret: true}}\nsteps: [{press: back}]\n")
    assert "unknown key 'confrim' in flow (did you mean 'confirm'?)" in error("name: t\nconfrim: a\nsteps: [{press: back}]\n")


def test_a_flow_running_a_confirmed_flow_must_confirm_too() -> None:
    sub = "name: sub\nconfirm: account\nparams: {account: {default: ''}}\nsteps: [{press: back}]\n"

    def resolver(ref: str) -> tuple[str, str]:
        return sub, "sub.yaml"

    message = error("name: t\nsteps:\n  - press: back\n  - run: sub\n", resolver)
    assert message.startswith("t.yaml:4: flow 'sub' asks the user to confirm its 'account'")
    ok = parse("name: t\nconfirm: account\nparams: {account: {default: ''}}\n"
               "steps:\n  - run: {flow: sub, params: {account: '${account}'}}\n", resolver)
    assert ok.confirm == "account"


def test_builtin_deletion_flows_load_with_their_safety_marks() -> None:
    request = run.load("request-account-deletion")
    assert request.destructive and request.confirm == "account"
    assert request.param("password").secret and request.param("account").default == ""
    for name in ("cancel-account-deletion", "verify-account-deleted"):
        flow = run.load(name)
        assert not flow.destructive and flow.confirm is None and flow.param("account").required
    for flow in (request, run.load("cancel-account-deletion"), run.load("verify-account-deleted")):
        opens = [s for s in flow.walk() if isinstance(s, m.OpenStep)]
        assert [s.data for s in opens] == [URL + "?_locale=en_US"]  # the pages in English on any phone
        (drive,) = [s for s in flow.walk() if isinstance(s, m.DriveStep)]
        assert isinstance(drive.rule("web_page_unknown")[0], m.FailAction), "an unknown page must stop the flow"
        assert isinstance(drive.rule("web_signin_failed")[0], m.FailAction)


# ------------------------------------------------------------------------------ engine and tasks
PAGE = """<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><hierarchy rotation="0">
<node index="0" text="" resource-id="android:id/content" class="android.widget.FrameLayout" package="com.android.browser"
 content-desc="" clickable="false" bounds="[0,110][1080,2400]">
<node index="0" text="{text}" resource-id="" class="android.view.View" package="com.android.browser" content-desc=""
 clickable="false" bounds="[64,400][1016,500]" /></node></hierarchy>"""


class FakeDriver:
    """Just enough of a phone for ``open`` without verification and for the ledger tasks. Its ``start`` has no
    ``data`` parameter, like drivers written before it existed."""

    serial = "emulator-5554"

    def __init__(self, text: str = "") -> None:
        self.text = text
        self.started: list[dict] = []

    def hierarchy(self):
        return parse_hierarchy(PAGE.format(text=self.text))

    def start(self, *, component=None, action=None, extras=None, package=None, **more) -> None:
        self.started.append(dict(component=component, action=action, extras=extras, package=package, **more))

    def shell(self, command: str, timeout_s: float = 30.0) -> ShellOutput:
        assert command == "getprop ro.serialno"
        return ShellOutput(command, "a1b2c3d4\n", 0)


def test_engine_passes_data_only_when_the_step_has_it() -> None:
    flow = parse(f"""\
        name: t
        steps:
          - open: {{action: android.intent.action.VIEW, data: "{URL}"}}
          - open: {{action: android.settings.SETTINGS}}
        """)
    driver = FakeDriver()
    result = Engine(driver, default_catalogue(), clock=FakeClock(), verify=False).run(flow, {}, {})
    assert result.outcome == "passed", result.error
    assert driver.started[0]["data"] == URL and driver.started[0]["action"] == "android.intent.action.VIEW"
    assert "data" not in driver.started[1]


def context(driver: FakeDriver, **args: str) -> TaskContext:
    return TaskContext(driver, args, {}, FakeClock(), "4")


def test_record_tasks_write_the_ledger(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    page = FakeDriver("Your Xiaomi Account 123****890 will be deleted on 2026-12-30.")
    note = record_deletion_requested(context(page, account="1234567890", ledger=str(path)))
    assert "12******90" in note and "2026-12-30" in note and "1234567890" not in note
    note = record_account_deleted(context(FakeDriver(), account="1234567890", ledger=str(path)))
    with DeletionLedger(path) as ledger:
        (entry,) = ledger.entries()
    assert (entry.account, entry.device, entry.status) == ("12******90", "a1b2c3d4", "completed")
    assert entry.ends_on.isoformat() == "2026-12-30"


def test_record_tasks_refuse_without_a_date_or_an_account(tmp_path: Path) -> None:
    with pytest.raises(StepFailed, match="no date"):
        record_deletion_requested(context(FakeDriver("Deletion requested"), account="1", ledger=str(tmp_path / "l")))
    with pytest.raises(StepFailed, match="needs the account id"):
        record_account_deleted(context(FakeDriver(), account=" ", ledger=str(tmp_path / "l")))
    assert not (tmp_path / "l").exists()


@pytest.mark.parametrize("texts, day", [
    (["Your Mi Account 123****890 will be deleted on 2026-12-30."], "2026-12-30"),
    (["注销申请已提交", "您的小米账号 123****890 将于2027年1月5日注销。"], "2027-01-05"),
    (["account.xiaomi.com/pass/del", "No date here", "2026-13-45 is not a day", "2026-02-01"], "2026-02-01"),
    (["nothing"], None),
])
def test_deletion_date_reads_both_languages(texts: list[str], day: str | None) -> None:
    found = deletion_date(texts)
    assert (found.isoformat() if found else None) == day
