"""The redaction the engine attaches to its observations after typing a secret into a field a phone shows
unmasked: the secret values, the field's bounds while it is on screen, and failure messages without it."""

from __future__ import annotations

import textwrap

from miui_automator.device.hierarchy import parse_hierarchy
from miui_automator.flow.engine import BaseListener, Engine
from miui_automator.flow.parser import parse_flow
from miui_automator.flow.waits import FakeClock
from miui_automator.screens.catalogue import default_catalogue

SECRET = "Canary-Pw-4417"
FIELD = (64, 600, 1016, 700)


def page(field_text: str | None) -> str:
    field = "" if field_text is None else (
        f'<node index="1" text="{field_text}" resource-id="android:id/input" class="android.widget.EditText"'
        ' package="com.example" content-desc="" clickable="true" focused="true" password="false"'
        ' bounds="[64,600][1016,700]" />')
    return ("<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><hierarchy rotation=\"0\">"
            '<node index="0" text="" resource-id="android:id/content" class="android.widget.FrameLayout"'
            ' package="com.example" content-desc="" clickable="false" bounds="[0,0][1080,2400]">'
            '<node index="0" text="Password" resource-id="" class="android.widget.TextView" package="com.example"'
            f' content-desc="" clickable="false" bounds="[64,400][1016,500]" />{field}'
            '<node index="2" text="Next" resource-id="a:id/next" class="android.widget.Button" package="com.example"'
            ' content-desc="" clickable="true" bounds="[64,800][1016,900]" /></node></hierarchy>')


class UnmaskedPhone:
    """A password field that shows what is typed; tapping Next leaves the page (and the field) behind."""

    serial = "fake-1"

    def __init__(self) -> None:
        self.field: str | None = ""

    def hierarchy(self):
        return parse_hierarchy(page(self.field))

    def screenshot(self):
        from miui_automator.errors import DeviceError
        raise DeviceError("no screenshots in this fake")

    def window_size(self) -> tuple[int, int]:
        return 1080, 2400

    def type_text(self, text: str, x=None, y=None) -> None:
        self.field = text

    def tap(self, x: int, y: int) -> None:
        self.field = None


class Keep(BaseListener):
    def __init__(self) -> None:
        self.done: list = []
        self.failed: list = []

    def step_done(self, step_id, step, obs, duration_s, note):
        self.done.append((step_id, obs))

    def step_failed(self, step_id, step, error, obs, duration_s):
        self.failed.append((step_id, error, obs))


def run(steps: str):
    text = "name: t\nparams: {pw: {secret: true, env: T_PW}}\nsteps:\n" + textwrap.indent(textwrap.dedent(steps).strip("\n"), "  ")
    flow = parse_flow(text + "\n", "t.yaml", known_screens=default_catalogue().names, known_tasks={})
    keep = Keep()
    engine = Engine(UnmaskedPhone(), default_catalogue(), clock=FakeClock(), listeners=[keep], verify=False)
    return engine.run(flow, {}, {"pw": SECRET}), keep


def test_the_typed_field_is_blacked_out_and_failure_text_hides_the_secret():
    result, keep = run("""
        - type: {into: {id: android:id/input}, secret: pw}
        - tap: {text: "No such button"}
          timeout: 1
    """)
    assert result.exit_code == 1
    _, typed = keep.done[0]
    assert typed.redaction.secrets == (SECRET,) and typed.redaction.boxes == (FIELD,)
    _, error, seen = keep.failed[0]
    assert seen.redaction.boxes == (FIELD,), "the field is still on screen: still blacked out"
    assert SECRET not in str(error) and SECRET not in result.error and "***" in str(error)


def test_the_blackout_ends_when_the_field_goes():
    result, keep = run("""
        - type: {into: {id: android:id/input}, secret: pw}
        - tap: {text: Next}
        - tap: {text: "No such button"}
          timeout: 1
    """)
    assert result.exit_code == 1
    _, left = keep.done[1]
    assert left.redaction.secrets == (SECRET,) and left.redaction.boxes == ()
