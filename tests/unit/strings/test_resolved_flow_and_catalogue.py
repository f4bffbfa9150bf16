"""Resolution as a run sees it: a flow and a catalogue copied per phone with the phone's own texts, the
engine matching them unchanged, and unresolved resources named with the locale when nothing matches."""

from __future__ import annotations

import textwrap

import pytest

from miui_automator.device.driver import ShellOutput
from miui_automator.device.hierarchy import parse_hierarchy
from miui_automator.errors import ConfigError, DeviceError
from miui_automator.flow.engine import BaseListener, Engine
from miui_automator.flow.parser import parse_flow
from miui_automator.flow.selectors import UNRESOLVED
from miui_automator.flow.waits import FakeClock
from miui_automator.screens.catalogue import parse_catalogue
from miui_automator.strings.apply import catalogue_refs, flow_refs, resolve_catalogue, resolve_flow
from miui_automator.strings.refs import TextRef
from miui_automator.strings.resolver import Resolution

LOGOUT = TextRef("com.xiaomi.account", "logout_account")
KEEP = TextRef("com.miui.cloudservice", "micloud_wipe_data_retain")
REMOVE = TextRef("com.miui.cloudservice", "micloud_wipe_data_remove")

CATALOGUE = """\
version: 1
screens:
  account:
    package: com.xiaomi.account
    signatures:
      - all:
          - text: ["@com.xiaomi.account:string/logout_account", Sign out]
  wipe_confirm:
    package: com.miui.cloudservice
    signatures:
      - all:
          - text: ["@com.miui.cloudservice:string/micloud_wipe_data_retain"]
          - text: ["@com.miui.cloudservice:string/micloud_wipe_data_remove", Remove]
"""


def page(package: str, *texts: str) -> str:
    nodes = "".join(f'<node index="{i}" text="{t}" resource-id="" class="android.widget.Button" package="{package}" '
                    f'content-desc="" clickable="true" bounds="[0,{100 * i}][1080,{100 * i + 90}]" />'
                    for i, t in enumerate(texts))
    return (f'<?xml version="1.0" encoding="UTF-8"?><hierarchy rotation="0"><node index="0" text="" resource-id="" '
            f'class="android.widget.FrameLayout" package="{package}" content-desc="" clickable="false" '
            f'bounds="[0,0][1080,2400]">{nodes}</node></hierarchy>')


class Phone:
    serial = "fake-de"

    def __init__(self, xml: str) -> None:
        self.xml = xml
        self.taps: list[tuple[int, int]] = []

    def hierarchy(self):
        return parse_hierarchy(self.xml)

    def screenshot(self):
        raise DeviceError("no screenshots in this fake")

    def window_size(self):
        return 1080, 2400

    def tap(self, x, y):
        self.taps.append((x, y))

    def shell(self, command, timeout_s=None):
        return ShellOutput(command, "", 0)


class Events(BaseListener):
    def __init__(self):
        self.failed: list[str] = []

    def step_failed(self, step_id, step, error, obs, duration_s):
        self.failed.append(str(error))


def flow(steps: str):
    text = "name: t\nsteps:\n" + textwrap.indent(textwrap.dedent(steps).strip("\n"), "  ") + "\n"
    return parse_flow(text, "t.yaml", known_screens=["account", "wipe_confirm"])


def german(missing=()) -> Resolution:
    res = Resolution("de-DE", texts={LOGOUT: "Abmelden", KEEP: "Behalten", REMOVE: "Löschen"})
    for ref in missing:
        del res.texts[ref]
        res.missing[ref] = "not found for de-DE"
    return res


def run(phone, f, catalogue):
    events = Events()
    engine = Engine(phone, catalogue, clock=FakeClock(), listeners=[events], verify=False)
    return engine.run(f, {}, {}), events


def test_the_engine_taps_the_phones_own_text():
    f = flow('- tap: {text: ["@com.xiaomi.account:string/logout_account", Sign out]}')
    cat = parse_catalogue(CATALOGUE)
    phone = Phone(page("com.xiaomi.account", "Konto", "Abmelden"))
    result, _ = run(phone, resolve_flow(f, german()), resolve_catalogue(cat, german()))
    assert result.outcome == "passed", result.error
    assert phone.taps == [(540, 145)]


def test_unresolved_the_same_flow_finds_nothing_on_a_german_phone():
    f = flow('- tap: {text: ["@com.xiaomi.account:string/logout_account", Sign out]}')
    phone = Phone(page("com.xiaomi.account", "Konto", "Abmelden"))
    result, _ = run(phone, f, parse_catalogue(CATALOGUE))
    assert result.outcome == "failed" and phone.taps == []


def test_a_reference_only_selector_never_matches_everything_and_names_the_resource():
    f = flow('- tap: "@com.xiaomi.account:string/logout_account"')
    assert f.steps[0].selector.text == (UNRESOLVED,)
    resolved = resolve_flow(f, german(missing=[LOGOUT]))
    assert resolved.steps[0].selector.text == (UNRESOLVED,)
    phone = Phone(page("com.xiaomi.account", "Konto", "Abmelden"))
    result, events = run(phone, resolved, resolve_catalogue(parse_catalogue(CATALOGUE), german()))
    assert result.outcome == "failed" and phone.taps == []
    assert "com.xiaomi.account:string/logout_account not found for de-DE" in events.failed[0]


def test_every_selector_is_resolved_nested_steps_and_sub_flows_included():
    sub = "name: sub\nsteps:\n  - tap: '@com.miui.cloudservice:string/micloud_wipe_data_retain'\n"
    text = textwrap.dedent("""\
        name: t
        steps:
          - when: {screen: account}
            then:
              - scroll-to: {text: ["@com.xiaomi.account:string/logout_account"]}
          - drive:
              until: account
              rules:
                wipe_confirm:
                  - tap: {text: ["@com.miui.cloudservice:string/micloud_wipe_data_remove", Remove]}
          - wait-for: {gone: {text: ["@com.xiaomi.account:string/logout_account"]}}
          - run: sub
        """)
    f = parse_flow(text, "t.yaml", known_screens=["account", "wipe_confirm"], resolver=lambda ref: (sub, "sub.yaml"))
    assert flow_refs(f) == {LOGOUT, KEEP, REMOVE}
    resolved = resolve_flow(f, german())
    texts = [s.text for item in resolved.walk(subflows=True) for s in
             [getattr(item, "selector", None) or getattr(item, "gone", None)] if s is not None]
    assert texts == [("Abmelden",), ("Löschen", "Remove"), ("Abmelden",), ("Behalten",)]
    assert flow_refs(f) == flow_refs(resolved)
    assert f.steps[0].then_steps[0].selector.text == (UNRESOLVED,), "the parsed flow itself is left unchanged"


def test_a_phone_text_with_a_template_mark_is_matched_literally():
    f = flow('- tap: "@com.xiaomi.account:string/logout_account"')
    res = Resolution("de-DE", texts={LOGOUT: "Preis ${x}"})
    phone = Phone(page("com.xiaomi.account", "Preis ${x}"))
    result, _ = run(phone, resolve_flow(f, res), parse_catalogue(CATALOGUE))
    assert result.outcome == "passed", result.error
    assert phone.taps == [(540, 45)]


def test_the_catalogue_identifies_by_resolved_texts():
    cat = parse_catalogue(CATALOGUE)
    assert catalogue_refs(cat) == {LOGOUT, KEEP, REMOVE}
    h = parse_hierarchy(page("com.miui.cloudservice", "Behalten", "Löschen"))
    assert cat.identify(h).name == "unknown"
    assert resolve_catalogue(cat, german()).identify(h).name == "wipe_confirm"


def test_an_unknown_screen_names_the_unresolved_resources_of_its_app_and_the_locale():
    res = Resolution("pl-PL", texts={LOGOUT: "Wyloguj", REMOVE: "Usuń"},
                     missing={KEEP: "not found for pl-PL"})
    cat = resolve_catalogue(parse_catalogue(CATALOGUE), res)
    ident = cat.identify(parse_hierarchy(page("com.miui.cloudservice", "Zachowaj", "Usuń")))
    assert ident.name == "unknown"
    assert ident.seen.startswith("com.miui.cloudservice:string/micloud_wipe_data_retain not found for pl-PL; "
                                 "the phone shows: package com.miui.cloudservice; texts: Zachowaj, Usuń")
    other = cat.identify(parse_hierarchy(page("com.android.settings", "Ustawienia")))
    assert "micloud_wipe_data_retain" not in other.seen, "only the resources of the apps on screen are named"


def test_a_malformed_reference_in_the_catalogue_names_its_line():
    bad = CATALOGUE.replace("string/micloud_wipe_data_retain", "strings/micloud_wipe_data_retain")
    with pytest.raises(ConfigError, match=r"^catalogue.yaml:12: .*not a string resource"):
        parse_catalogue(bad)


def test_a_malformed_reference_in_a_flow_names_its_line():
    from miui_automator.errors import FlowSyntaxError
    with pytest.raises(FlowSyntaxError, match=r"t.yaml:4: .*not a string resource"):
        flow('- press: back\n- tap: {text: ["@com.xiaomi.account:logout_account"]}')
