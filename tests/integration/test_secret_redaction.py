"""A phone that shows the password field unmasked (fault ``showpassword``) must not put the typed
password into any file of the run: the hierarchy dumps have it cut out, and every screenshot of the
screen it was typed on has the field blacked out."""

from __future__ import annotations

import json

import pytest
from PIL import Image, ImageStat

from miui_automator import run
from miui_automator.device.android import AndroidDevice
from miui_automator.sim.faults import parse_faults

pytestmark = pytest.mark.integration

CANARY = "Canary-Pw-4417"
FIELD = "android:id/input"

TYPE_THEN_FAIL = """
name: type-then-fail
params:
  password: {secret: true, env: TEST_REDACTION_PASSWORD}
steps:
  - open: {action: android.settings.XIAOMI_ACCOUNT_SYNC_SETTINGS}
  - wait-for: {screen: account, timeout: 10}
  - scroll-to: {id: com.xiaomi.account:id/logout_btn}
  - tap: {id: com.xiaomi.account:id/logout_btn}
  - drive:
      until: signout_password
      max-steps: 4
      rules:
        wipe_confirm: {tap: {text: [Keep, 保留在手机上]}}
        signout_confirm: {tap: {text: [Sign out, 确认退出], last: true}}
  - type: {into: {id: android:id/input}, secret: password}
  - screenshot: {name: password-typed}
  - expect: settings_home
    timeout: 1
"""


def test_an_unmasked_password_reaches_no_file(make_phone, tmp_path):
    dev = make_phone("hyperos1-en", password=CANARY, faults=parse_faults("showpassword"))
    driver = AndroidDevice(dev.serial)
    path = tmp_path / "flow.yaml"
    path.write_text(TYPE_THEN_FAIL, encoding="utf-8")
    flow = run.load(str(path))
    run_dir = tmp_path / "run"
    outcome = run.execute(run.RunPlan(flow, driver.info(), {}, {"password": CANARY}), driver, run_dir=run_dir)
    assert outcome.result.exit_code == 1, outcome.result.error
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]

    # the phone really shows the password: the field's text is the canary
    h = driver.hierarchy()
    field = h.first(id=FIELD)
    assert field is not None and field.text == CANARY, "the fault must show the field unmasked"

    for f in run_dir.rglob("*"):
        if f.is_file():
            assert CANARY.encode() not in f.read_bytes(), f
    assert CANARY not in outcome.result.error

    # the failure dump keeps the tree with the field's text replaced
    failed = next(e for e in events if e["type"] == "step_failed")
    xml = (run_dir / failed["hierarchy_path"]).read_text(encoding="utf-8")
    assert 'resource-id="android:id/input"' in xml and 'text="***"' in xml

    # the screenshot taken right after typing, and the failure's, are black inside the field's bounds
    shots = {e["kind"]: e["path"] for e in events if e["type"] == "screenshot"}
    left, top, right, bottom = field.bounds
    for kind in ("evidence-password-typed", "failed"):
        with Image.open(run_dir / shots[kind]) as img:
            inside = ImageStat.Stat(img.convert("L").crop((left, top, right, bottom)))
            outside = ImageStat.Stat(img.convert("L").crop((0, 0, img.width, top)))
        assert inside.extrema[0][1] < 24, (kind, inside.extrema)  # JPEG noise stays near black
        assert outside.stddev[0] > 5, "the rest of the frame is still evidence"
