"""``screens suggest``: entries from what the phone shows, stable matchers only, checked against
the catalogue before anything is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from miui_automator.errors import ConfigError, UsageError
from miui_automator.screens.catalogue import Catalogue, default_catalogue
from miui_automator.screens.overlay import load_catalogue
from miui_automator.screens.suggest import suggest, write_entry
from screens_helpers import APPIUM_RENAME_PHONE, consent_xml, parsed, signout_dialog_xml


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("MIUI_AUTOMATOR_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MIUI_AUTOMATOR_CATALOGUE", raising=False)
    return tmp_path / "home"


@pytest.mark.parametrize("variant", ["hyperos1-en", "hyperos2-zh"])
def test_consent_page_entry_uses_ids_first_and_no_changing_values(variant) -> None:
    h = parsed(consent_xml(variant))
    s = suggest("carrier_consent", h, default_catalogue(), activity="com.carrier.consent.ConsentActivity")
    matchers = s.entry["signatures"][0]["all"]
    assert matchers[:2] == [{"id": "com.carrier.consent:id/consent_title"}, {"id": "com.carrier.consent:id/consent_message"}]
    assert s.entry["package"] == "com.carrier.consent" and "overlay" not in s.entry
    assert all(not any(ch.isdigit() for ch in m.get("text", "")) for m in matchers)
    assert s.identified_as == "carrier_consent"
    assert 'activity: "com.carrier.consent.ConsentActivity"' in s.yaml


def test_a_dialog_over_a_known_page_becomes_an_overlay_that_wins(tmp_path) -> None:
    xml, name = signout_dialog_xml("miui12.5-en")
    # a carrier ROM's own wording of the dialog: the catalogue no longer knows it
    xml = xml.replace('package="com.xiaomi.account"', 'package="com.carrier.account"')
    h = parsed(xml)
    s = suggest("carrier_signout_confirm", h, default_catalogue())
    assert s.entry["overlay"] is True and s.entry["package"] == "com.carrier.account"
    assert s.identified_as == "carrier_signout_confirm"


def test_a_settings_page_gets_its_field_id_and_title_not_its_layout_or_typed_text() -> None:
    h = parsed(APPIUM_RENAME_PHONE.read_text(encoding="utf-8"))
    s = suggest("rename_phone", h, default_catalogue())
    assert s.identified_as == "rename_phone"
    texts = [m.get("text") for m in s.entry["signatures"][0]["all"]]
    assert "小风的MI 8 SE" not in texts, "what is typed into an edit field is never a matcher"
    matchers = s.entry["signatures"][0]["all"]
    assert {"id": "com.android.settings:id/device_name"} in matchers
    assert {"id": "miui:id/action_bar_title", "text": "Rename phone"} in matchers
    assert not any(m.get("id", "").endswith(("content_frame", "content_parent", "main_content")) for m in matchers)


def test_suggest_refuses_bad_names_and_clashes_with_saved_screens() -> None:
    h = parsed(consent_xml())
    with pytest.raises(UsageError, match="lower_snake_case"):
        suggest("Carrier-Consent", h, default_catalogue())
    with pytest.raises(UsageError, match="also matches the saved screen"):
        suggest("carrier_consent", h, default_catalogue(), others={"older_consent": parsed(consent_xml("miui14-en"))})


def test_a_screen_with_nothing_stable_cannot_be_taught() -> None:
    xml = ('<hierarchy rotation="0"><node index="0" text="12:30" resource-id="" class="android.widget.TextView" '
           'package="com.example.clock" bounds="[0,0][1080,2400]" /></hierarchy>')
    with pytest.raises(UsageError, match="nothing stable"):
        suggest("clock", parsed(xml), default_catalogue())


def test_write_entry_creates_appends_and_refuses_duplicates(tmp_path) -> None:
    path = tmp_path / "cat" / "catalogue.yaml"
    first = suggest("carrier_consent", parsed(consent_xml()), default_catalogue())
    write_entry(path, first)
    assert "carrier_consent" in Catalogue.load(path)
    second = suggest("rename_phone", parsed(APPIUM_RENAME_PHONE.read_text(encoding="utf-8")), load_catalogue([path]))
    write_entry(path, second)
    loaded = Catalogue.load(path)
    assert {"carrier_consent", "rename_phone"} <= set(loaded.names)
    with pytest.raises(ConfigError, match=r"catalogue\.yaml:\d+: screen 'carrier_consent' is already in this file"):
        write_entry(path, first)


def test_write_entry_leaves_a_file_it_cannot_extend_unchanged(tmp_path) -> None:
    path = tmp_path / "catalogue.yaml"
    original = ("screens:\n  mine:\n    package: com.example.app\n    signatures:\n      - all:\n"
                "          - {text: Hello}\nversion: 1\n")
    path.write_text(original, encoding="utf-8")
    s = suggest("carrier_consent", parsed(consent_xml()), default_catalogue())
    with pytest.raises(ConfigError, match="the file is unchanged"):
        write_entry(path, s)
    assert path.read_text(encoding="utf-8") == original
