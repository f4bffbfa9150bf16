"""The flow engine against simulated phones through the real adb server, adbutils and uiautomator2:
every step kind, and every way a transition can fail verification.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from miui_automator.cli.main import main
from miui_automator.device.android import AndroidDevice
from miui_automator import run
from miui_automator.screens.catalogue import default_catalogue
from miui_automator.sim.faults import parse_faults
from miui_automator.sim.timing import PROFILES, Timing

pytestmark = pytest.mark.integration

EVERY_KIND = """
name: every-kind
description: one of each step kind
params:
  who: {default: tester}
  password: {secret: true, env: TEST_FLOW_PASSWORD}
steps:
  - open: {component: com.android.settings/.MainSettings}
    expect: settings_home
  - shell: {command: "getprop ro.product.model", save-as: model}
  - assert: {prop: ro.product.brand, equals: Xiaomi}
  - assert: {param: who, equals: tester}
  - when: {screen: settings_home}
    then:
      - scroll-to: {text_matches: "(Mi|Xiaomi) Account|小米账号", max-swipes: 15}
    else:
      - press: home
  - retry:
      times: 2
      steps:
        - tap: {text_matches: "(Mi|Xiaomi) Account|小米账号", scroll: true}
          expect: account
  - press: back
  - expect: settings_home
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
  - tap: {text: [OK, 验证]}
    expect: [signing_out, settings_home]
  - wait-for: {screen: settings_home, timeout: 15}
  - run: {flow: ./sub.yaml}
"""

SUB = r"""
name: sub
steps:
  - assert: {shell: "dumpsys account", not-matches: 'Account \{name=[^,]*, type=com\.xiaomi\}'}
"""


def _run(serial: str, text: str, tmp_path: Path, secrets=None, name="flow.yaml", **kw):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    (tmp_path / "sub.yaml").write_text(SUB, encoding="utf-8")
    flow = run.load(str(path))
    driver = AndroidDevice(serial)
    info = driver.info()
    plain = {p.name: p.default or "" for p in flow.params if not p.secret}
    run_dir = tmp_path / "run"
    outcome = run.execute(run.RunPlan(flow, info, plain, secrets or {}), driver, run_dir=run_dir, **kw)
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    return outcome, events


def test_every_step_kind_runs_and_proves_each_transition(make_phone, sim_host, tmp_path):
    dev = make_phone("hyperos1-en", password="s3cret-typed")
    outcome, events = _run(dev.serial, EVERY_KIND, tmp_path, secrets={"password": "s3cret-typed"})
    assert outcome.result.outcome == "passed", outcome.result.error
    kinds = {e["kind"] for e in events if e["type"] == "step_start"}
    assert kinds >= {"open", "shell", "assert", "when", "scroll-to", "retry", "tap", "wait-for", "drive", "type",
                     "screenshot", "press", "expect", "run"}
    shots = [e for e in events if e["type"] == "screenshot"]
    assert any(e["annotated_path"] for e in shots), "taps leave annotated screenshots"
    for e in shots:
        assert (outcome.run_dir / e["path"]).stat().st_size > 10_000
    # the secret reached the phone's password field (the account is gone), and was written nowhere
    assert sim_host.call(lambda: dev.phone.state.has_xiaomi_account()) is False
    for f in outcome.run_dir.rglob("*"):
        if f.is_file():
            assert b"s3cret-typed" not in f.read_bytes(), f
    assert not any("s3cret-typed" in cmd for cmd in sim_host.call(lambda: list(dev.phone.state.shell_history)))
    assert (outcome.run_dir / "report.html").exists() and (outcome.run_dir / "junit.xml").exists()


def test_unexpected_screen_fails_with_what_was_seen(make_phone, tmp_path):
    dev = make_phone("miui14-en")
    flow = """
name: wrong-screen
steps:
  - open: {component: com.android.settings/.MainSettings}
    expect: account
    timeout: 2
"""
    outcome, events = _run(dev.serial, flow, tmp_path)
    assert outcome.result.exit_code == 1
    failed = [e for e in events if e["type"] == "step_failed"][0]
    assert failed["screen_seen"] == "settings_home"
    assert "expected screen account" in failed["error"]
    assert (outcome.run_dir / failed["hierarchy_path"]).read_text().startswith("<?xml")
    assert (outcome.run_dir / failed["screenshot_path"]).exists()


def test_tap_that_changes_nothing_fails(make_phone, tmp_path):
    dev = make_phone("hyperos1-en")
    flow = """
name: dead-tap
steps:
  - open: {component: com.android.settings/.SubSettings}
  - tap: {text: "Device name"}
    timeout: 2
"""
    outcome, events = _run(dev.serial, flow, tmp_path)
    assert outcome.result.exit_code == 1
    assert "changed nothing" in outcome.result.error


def test_black_frame_fails_verification(make_phone, tmp_path):
    dev = make_phone("hyperos1-en", faults=parse_faults("blackframe=1"))
    flow = """
name: black
steps:
  - open: {component: com.android.settings/.MainSettings}
    expect: settings_home
"""
    outcome, _ = _run(dev.serial, flow, tmp_path)
    assert outcome.result.exit_code == 1
    assert "not a real frame" in outcome.result.error


@pytest.mark.parametrize("spec", ["popup=2", "update=2", "slow=0.6", "u2crash=15"])
def test_faults_are_survived(make_phone, tmp_path, spec):
    dev = make_phone("miui12.5-en", faults=parse_faults(spec))
    outcome, events = _run(dev.serial, (run.BUILTIN_DIR / "open-account-page.yaml").read_text(), tmp_path)
    assert outcome.result.outcome == "passed", outcome.result.error
    if spec.startswith(("popup", "update")):
        assert any(e["type"] == "popup_dismissed" for e in events)


def test_refused_input_is_caught_by_preflight(make_phone, capsys):
    dev = make_phone("hyperos2-zh", faults=parse_faults("noinput"))
    code = main(["run", "open-account-page", "-s", dev.serial, "--dry-run"])
    assert code == 3
    assert "USB debugging (Security settings)" in capsys.readouterr().err


def test_dry_run_injects_no_input(make_phone, sim_host, capsys, tmp_path):
    dev = make_phone("miui14-en")
    before = sim_host.call(lambda: dev.phone.input_events)
    code = main(["run", "open-account-page", "-s", dev.serial, "--dry-run", "--out", str(tmp_path)])
    assert code == 0
    assert "Nothing was tapped" in capsys.readouterr().out
    assert sim_host.call(lambda: dev.phone.input_events) == before
    assert not any(tmp_path.iterdir())


def test_identify_on_every_variant(make_phone):
    for variant in ("miui12.5-en", "miui14-en", "hyperos1-en", "hyperos2-zh"):
        dev = make_phone(variant)
        driver = AndroidDevice(dev.serial)
        driver.start(component="com.android.settings/.MainSettings")
        assert default_catalogue().identify(driver.hierarchy(), variant).name == "settings_home"


def test_bad_flow_is_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nsteps:\n  - tapp: {text: x}\n")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"{bad}:3" in err


def test_a_task_argument_bad_at_run_time_fails_the_step_and_ends_the_record(make_phone, tmp_path):
    dev = make_phone("miui14-en")
    flow = """
name: bad-task-arg
params:
  gone: {default: soon}
steps:
  - task: {name: wait-for-reboot, with: {gone_timeout: "${gone}"}}
  - shell: {command: "getprop ro.product.model"}
"""
    outcome, events = _run(dev.serial, flow, tmp_path)
    assert (outcome.result.outcome, outcome.result.exit_code) == ("failed", 2)
    failed = [e for e in events if e["type"] == "step_failed"]
    assert [e["step"] for e in failed] == ["1"] and "gone_timeout='soon' is not a number of seconds" in failed[0]["error"]
    assert events[-1]["type"] == "run_end" and events[-1]["outcome"] == "failed"
    assert [e["step"] for e in events if e["type"] == "step_start"] == ["1"]


class _Shots:
    """A phone's driver that logs its screenshots, reads and taps in order; ``frozen``: its capture stopped
    updating (every frame is the first one), as a stuck capture path does."""

    def __init__(self, driver: AndroidDevice, frozen: bool = False) -> None:
        self._driver = driver
        self._frozen = frozen
        self._frame = None
        self.calls: list[str] = []

    def __getattr__(self, name):
        return getattr(self._driver, name)

    def hierarchy(self):
        self.calls.append("read")
        return self._driver.hierarchy()

    def tap(self, x, y):
        self.calls.append("tap")
        return self._driver.tap(x, y)

    def screenshot(self):
        self.calls.append("shot")
        if not self._frozen:
            return self._driver.screenshot()
        if self._frame is None:
            self._frame = self._driver.screenshot()
        return self._frame.copy()


def _run_on(driver, text: str, tmp_path: Path):
    path = tmp_path / "flow.yaml"
    path.write_text(text, encoding="utf-8")
    flow = run.load(str(path))
    outcome = run.execute(run.RunPlan(flow, driver.info()), driver, run_dir=tmp_path / "run")
    events = [json.loads(line) for line in (outcome.run_dir / "events.jsonl").read_text().splitlines()]
    return outcome, events


def test_a_frame_that_did_not_change_while_the_hierarchy_did_fails(make_phone, tmp_path):
    dev = make_phone("hyperos1-en")
    flow = """
name: frozen
steps:
  - open: {component: com.android.settings/.MainSettings}
    expect: settings_home
  - tap: {text: About phone}
    expect: about_phone
"""
    outcome, events = _run_on(_Shots(AndroidDevice(dev.serial), frozen=True), flow, tmp_path)
    assert outcome.result.exit_code == 1
    assert "the hierarchy changed but the screenshot did not" in outcome.result.error
    assert [e["step"] for e in events if e["type"] == "step_failed"] == ["2"]


TWO_TAPS = """
name: two-taps
steps:
  - open: {component: com.android.settings/.MainSettings}
    expect: settings_home
  - tap: {text: About phone}
    expect: about_phone
  - tap: {text: Back up and restore}
    expect: backup_and_restore
"""


def test_an_action_is_shown_on_the_frame_it_was_aimed_at_beside_the_settled_one(make_phone, tmp_path):
    dev = make_phone("hyperos1-en")
    counting = _Shots(AndroidDevice(dev.serial))
    outcome, events = _run_on(counting, TWO_TAPS, tmp_path)
    assert outcome.result.outcome == "passed", outcome.result.error
    shots = {(e["step"], e["kind"]): e for e in events if e["type"] == "screenshot"}
    before, after = shots[("2", "before")], shots[("2", "after")]
    assert (before["screen"], after["screen"]) == ("settings_home", "about_phone")
    assert before["annotated_path"] and not after["annotated_path"] and after["tap"] is None
    left, top, right, bottom = before["target"]
    assert left <= before["tap"][0] <= right and top <= before["tap"][1] <= bottom
    assert shots[("3", "before")]["screen"] == "about_phone"
    # the before-frame is the previous step's after-frame: between two taps the proof takes two reads, a
    # frame beside the second and one more agreeing with it; a re-taken "before" would be a third frame
    taps = [i for i, call in enumerate(counting.calls) if call == "tap"]
    between = counting.calls[taps[0] + 1: taps[1]]
    assert between.count("shot") == between.count("read") >= 2
    with Image.open(outcome.run_dir / shots[("2", "after")]["path"]) as a, \
            Image.open(outcome.run_dir / shots[("3", "before")]["path"]) as b:
        assert ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None


def test_a_screen_that_never_goes_idle_is_proved_within_the_budget(make_phone, tmp_path):
    from miui_automator.flow import waits

    import uiautomator2 as u2

    dev = make_phone("hyperos1-en", faults=parse_faults("noidle=about_phone"))
    # A uiautomator2 server that waits for an idle screen before each dump (the jar's default is 0 s; a
    # client or an older server may raise it): on About phone every read then waits out the 3.5 s.
    u2.connect(dev.serial).jsonrpc.setConfigurator({"waitForIdleTimeout": 3500})
    outcome, events = _run(dev.serial, TWO_TAPS, tmp_path)
    assert outcome.result.outcome == "passed", outcome.result.error
    done = {e["step"]: e for e in events if e["type"] == "step_done"}
    assert "about_phone never goes idle" in done["2"]["note"] and "about_phone never goes idle" in done["3"]["note"]
    assert all(done[s]["duration_s"] <= waits.BUSY_STEP_BUDGET_S for s in ("2", "3"))
    assert any("never went idle" in e["message"] for e in events if e["type"] == "log")


# Reads far faster than the slide: the phone lists About phone 40% into a 1.2 s slide, so two equal reads
# (and a frame beside the second) come long before the page has settled.
QUICK_READS_LONG_SLIDE = dataclasses.replace(PROFILES["phone"], name="quick-reads", dump_s=0.01, dump_per_kb_s=0.0,
                                             screenshot_s=0.01, input_s=0.01, activity_s=1.2)


def test_the_after_frame_is_the_settled_one_when_reads_outrun_the_slide(make_phone, sim_host, wait_until, tmp_path):
    dev = make_phone("hyperos1-en", timing=Timing(QUICK_READS_LONG_SLIDE, seed=7))
    driver = AndroidDevice(dev.serial)
    outcome, events = _run_on(driver, TWO_TAPS.rsplit("  - tap: {text: Back up and restore}", 1)[0], tmp_path)
    assert outcome.result.outcome == "passed", outcome.result.error
    wait_until(lambda: sim_host.call(lambda: dev.phone.idle_in()) == 0, timeout=10, message="the slide over")
    settled = driver.screenshot().convert("L")
    after = next(e for e in events if e["type"] == "screenshot" and e["step"] == "2" and e["kind"] == "after")
    with Image.open(outcome.run_dir / after["path"]) as kept:
        assert after["screen"] == "about_phone"
        # JPEG noise stays far below the 10%+ offset of any frame caught mid-slide
        assert ImageStat.Stat(ImageChops.difference(kept.convert("L"), settled)).mean[0] < 2
