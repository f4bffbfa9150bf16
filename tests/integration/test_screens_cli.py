"""Explain and teach screens through the CLI, on a simulated phone whose sign-out shows a carrier
consent page no catalogue entry knows (fault ``carrier``): the run fails with the identify hint,
``screens suggest`` teaches the page, and a copy of the flow with a rule for it passes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from miui_automator.cli.main import main
from miui_automator.run import BUILTIN_DIR
from miui_automator.sim.faults import parse_faults
from miui_automator.sim.screens.carrier import PLAN_NUMBER

pytestmark = pytest.mark.integration

PASSWORD = "Corr3ct-Horse"
RULE_AFTER = "            signing_out: wait\n"


@pytest.fixture(autouse=True)
def user_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("MIUI_AUTOMATOR_HOME", str(home))
    monkeypatch.delenv("MIUI_AUTOMATOR_CATALOGUE", raising=False)
    return home


def _flow_with_rule(tmp_path: Path) -> Path:
    text = (BUILTIN_DIR / "remove-mi-account.yaml").read_text(encoding="utf-8")
    assert RULE_AFTER in text
    text = text.replace(RULE_AFTER, RULE_AFTER + "            carrier_consent:\n"
                                                  "              tap: {id: com.carrier.consent:id/btn_agree}\n")
    path = tmp_path / "flows" / "remove-mi-account-carrier.yaml"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    return path


def test_unknown_screen_is_explained_taught_and_then_driven(make_phone, sim_host, tmp_path, monkeypatch, capsys):
    dev = make_phone("hyperos1-en", password=PASSWORD, faults=parse_faults("carrier"))
    monkeypatch.setenv("MIUI_ACCOUNT_PASSWORD", PASSWORD)

    # 1. The run stops on the consent page and says how to see why and how to teach it.
    first = tmp_path / "first"
    code = main(["run", "remove-mi-account", "-s", dev.serial, "--yes", "--no-backup-gate", "--out", str(first)])
    out, err = capsys.readouterr()
    assert code == 1, out + err
    assert "the phone showed a screen the catalogue does not know" in out
    (dump,) = re.findall(r"screens identify (\S+-failed\.xml)", out)
    assert Path(dump).is_file()
    assert f"screens suggest NAME --from {dump}" in out
    (run,) = [p for p in first.iterdir() if p.is_dir()]
    html = (run / "report.html").read_text(encoding="utf-8")
    assert "screens identify" in html and "closest known screen" in html
    assert sim_host.call(lambda: dev.phone.current_screen_name()) == "carrier_consent"

    # 2. identify on the saved dump: unknown, and nothing in the catalogue is close.
    assert main(["screens", "identify", dump]) == 0
    out = capsys.readouterr().out
    assert "screen   unknown" in out and "Your carrier needs your consent" in out
    assert PLAN_NUMBER not in out, "a phone number from the screen reached the terminal unmasked"

    # 3. suggest on the phone now writes an entry that avoids the plan number and the time.
    taught = tmp_path / "carrier.yaml"
    assert main(["screens", "suggest", "carrier_consent", "-s", dev.serial, "--to", str(taught)]) == 0
    out = capsys.readouterr().out
    entry = taught.read_text(encoding="utf-8")
    assert "carrier_consent:" in entry and "com.carrier.consent:id/consent_title" in entry
    assert "activity: \"com.carrier.consent.ConsentActivity\"" in entry
    assert "7700" not in entry and "Requested" not in entry
    evidence = tmp_path / "screens" / "carrier_consent"
    assert (evidence / "hierarchy.xml").is_file() and (evidence / "screenshot.png").is_file()
    assert "7700 900123" not in (evidence / "hierarchy.xml").read_text(encoding="utf-8")

    # identify now names it, with the taught catalogue only
    assert main(["screens", "identify", dump, "--catalogue", str(taught)]) == 0
    assert "screen   carrier_consent" in capsys.readouterr().out

    # 4. A copy of the flow with a rule for the new screen: invalid without the catalogue, passes with it.
    flow = _flow_with_rule(tmp_path)
    assert main(["validate", str(flow)]) == 2
    assert "carrier_consent" in capsys.readouterr().err
    assert main(["validate", str(flow), "--catalogue", str(taught)]) == 0
    capsys.readouterr()
    second = tmp_path / "second"
    code = main(["run", str(flow), "-s", dev.serial, "--yes", "--no-backup-gate", "--out", str(second),
                 "--catalogue", str(taught)])
    assert code == 0, capsys.readouterr()
    assert sim_host.call(lambda: dev.phone.state.has_xiaomi_account()) is False
    (run,) = [p for p in second.iterdir() if p.is_dir()]
    events = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
    assert any(e["type"] == "step_done" and e.get("screen") == "carrier_consent" for e in events)
    assert any(e["type"] == "step_start" and "btn_agree" in e.get("description", "") for e in events), "the rule ran"

def test_identify_on_the_phone_and_list(make_phone, capsys):
    dev = make_phone("miui14-en")
    assert main(["screens", "identify", "-s", dev.serial, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["screen"] == "launcher" and data["candidates"][0]["matched"] is True
    assert main(["screens", "list", "-s", dev.serial]) == 0
    out = capsys.readouterr().out
    assert "(signatures for miui14-en)" in out and "wipe_confirm" in out
