"""The run layer resolves before the engine starts: a German phone's own texts are tapped, the run's log
says what was resolved and what fell back, and the report shows the phone's locale."""

from __future__ import annotations

import json

from miui_automator.device.info import DeviceInfo
from miui_automator.flow.parser import parse_flow
from miui_automator.run.execute import execute
from miui_automator.run.plan import RunPlan
from miui_automator.screens.catalogue import default_catalogue
from miui_automator.strings.cache import StringCache

from phones import ACCOUNT, ApkPhone
from test_resolved_flow_and_catalogue import Phone, page


class GermanPhone(ApkPhone, Phone):
    """Its APKs (and shell) from ApkPhone, its screen and taps from the catalogue tests' Phone."""

    def __init__(self) -> None:
        ApkPhone.__init__(self, {"com.xiaomi.account": ACCOUNT}, locale="de-DE")
        Phone.__init__(self, page("com.xiaomi.account", "Xiaomi-Konto", "Abmelden"))


def test_execute_taps_the_phones_words_and_records_the_locale(tmp_path):
    flow = parse_flow('name: t\nsteps:\n  - tap: {text: ["@com.xiaomi.account:string/logout_account", Sign out]}\n',
                      "t.yaml", known_screens=default_catalogue().names)
    phone = GermanPhone()
    outcome = execute(RunPlan(flow, DeviceInfo(serial=phone.serial)), phone, run_dir=tmp_path / "run", verify=False,
                      string_cache=StringCache(tmp_path / "cache"))
    assert outcome.result.outcome == "passed", outcome.result.error
    assert phone.taps == [(540, 145)]
    events = [json.loads(line) for line in (tmp_path / "run" / "events.jsonl").read_text(encoding="utf-8").splitlines()]
    assert events[0]["type"] == "run_start" and events[0]["device"]["locale"] == "de-DE"
    logs = [e["message"] for e in events if e["type"] == "log"]
    assert logs[0].startswith("string resources for locale de-DE:")
    assert any(m.startswith("com.miui.cloudservice:string/") and "com.miui.cloudservice is not installed" in m
               for m in logs), "an app missing is named once, with its keys"
    assert len([m for m in logs if m.startswith("com.miui.cloudservice:")]) == 1
    assert 'id="locale">de-DE<' in (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
