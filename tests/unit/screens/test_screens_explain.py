"""``screens identify``: saved hierarchies in every format read the same, and the explanation
names the closest screens with the checks that failed and what the phone showed instead."""

from __future__ import annotations

import json

import pytest

from miui_automator.errors import UsageError
from miui_automator.screens.catalogue import default_catalogue
from miui_automator.screens.explain import explain, render_text
from miui_automator.screens.page_source import parse_page_source, read_hierarchy
from screens_helpers import APPIUM_RENAME_PHONE, consent_xml, signout_dialog_xml, parsed


# ------------------------------------------------------------------ reading saved hierarchies
def test_real_miui_appium_page_source_parses_and_names_candidates() -> None:
    h = read_hierarchy(APPIUM_RENAME_PHONE)
    assert h.main_package == "com.android.settings"
    assert h.first(id="miui:id/action_bar_title").text == "Rename phone"
    exp = explain(default_catalogue(), h)
    assert exp.identification.name == "unknown"
    names = [c.screen.name for c in exp.candidates]
    assert "about_phone" in names, names
    about = next(c for c in exp.candidates if c.screen.name == "about_phone")
    (failed,) = about.failed
    assert failed.near and "that id with text 'Rename phone'" in failed.instead
    # every candidate shown is in the app on screen, ahead of screens of other apps
    assert all(c.screen.package == "com.android.settings" for c in exp.candidates[:3])


def test_webdriver_json_answer_and_illegal_characters_are_read() -> None:
    xml = APPIUM_RENAME_PHONE.read_text(encoding="utf-8").replace("Rename phone", "Rename\x01 phone&#x1b;")
    h = parse_page_source(json.dumps({"sessionId": "abc", "value": xml}))
    assert h.first(id="miui:id/action_bar_title").text == "Rename phone"


def test_a_file_that_is_not_a_hierarchy_is_one_usage_error(tmp_path) -> None:
    junk = tmp_path / "notes.xml"
    junk.write_text("<html><body>hello</body></html>", encoding="utf-8")
    with pytest.raises(UsageError, match="notes.xml: not a UI hierarchy"):
        read_hierarchy(junk)
    with pytest.raises(UsageError, match="cannot read"):
        read_hierarchy(tmp_path / "missing.xml")


# ------------------------------------------------------------------ explanations
def test_a_known_screen_comes_first_as_a_match() -> None:
    xml, name = signout_dialog_xml("miui12.5-en")
    exp = explain(default_catalogue(), parsed(xml))
    assert exp.identification.name == name
    first = exp.candidates[0]
    assert first.screen.name == name and first.matched and not first.failed
    assert render_text(exp)[0] == f"screen   {name}"


def test_an_unknown_screen_with_nothing_close_says_so_and_masks_the_phone_number() -> None:
    exp = explain(default_catalogue(), parsed(consent_xml()))
    assert exp.identification.name == "unknown" and exp.closest is None
    lines = render_text(exp)
    assert "no known screen shares a single check" in lines[-1]
    assert "7700 900123" not in "\n".join(lines) and "7700 900123" not in json.dumps(exp.as_dict())


def test_matched_agrees_with_identify_for_every_signature() -> None:
    cat = default_catalogue()
    for xml in (signout_dialog_xml("miui12.5-en")[0], signout_dialog_xml("hyperos2-zh")[0], consent_xml("hyperos2-zh")):
        h = parsed(xml)
        exp = explain(cat, h, limit=100)
        matched = {c.screen.name for c in exp.candidates if c.matched}
        ident = cat.identify(h)
        assert set(ident.candidates) <= matched
        if ident.popup:
            assert ident.popup.name in matched


def test_failed_check_reports_text_in_another_package() -> None:
    # the Xiaomi Account "Sign out?" dialog, but drawn by another app: the text is there, the package is not
    xml, name = signout_dialog_xml("miui12.5-en")
    xml = xml.replace('package="com.xiaomi.account"', 'package="com.example.clone"')
    exp = explain(default_catalogue(), parsed(xml), limit=50)
    cand = next(c for c in exp.candidates if c.screen.name == name)
    assert not cand.matched
    assert any("com.example.clone" in c.instead for c in cand.failed)
