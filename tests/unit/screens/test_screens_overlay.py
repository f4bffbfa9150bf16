"""User catalogues over the built-in one: new screens, new signatures for known screens, where
they are found, and errors that name the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from miui_automator.errors import ConfigError
from miui_automator.screens.catalogue import default_catalogue
from miui_automator.screens.overlay import load_catalogue, overlay_paths
from screens_helpers import APPIUM_RENAME_PHONE, consent_xml, parsed

CONSENT = """version: 1
screens:
  carrier_consent:
    package: com.carrier.consent
    overlay: true
    signatures:
      - all:
          - {id: com.carrier.consent:id/consent_title}
"""

RENAME = """version: 1
screens:
  about_phone:            # a new wording for a known screen: no package, so the screen's is used
    signatures:
      - all:
          - {id: miui:id/action_bar_title, text: Rename phone}
"""


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("MIUI_AUTOMATOR_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MIUI_AUTOMATOR_CATALOGUE", raising=False)
    return tmp_path / "home"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_without_user_catalogues_the_built_in_one_is_used() -> None:
    assert load_catalogue() is default_catalogue()


def test_a_new_screen_is_identified_and_known_by_name(tmp_path) -> None:
    cat = load_catalogue([_write(tmp_path / "mine.yaml", CONSENT)])
    assert "carrier_consent" in cat and "account" in cat
    assert cat.identify(parsed(consent_xml())).name == "carrier_consent"
    sig = cat.get("carrier_consent").signatures[0]
    assert cat.origin(sig) == str(tmp_path / "mine.yaml")


def test_a_known_name_adds_a_signature_with_the_screens_package(tmp_path) -> None:
    h = parsed(APPIUM_RENAME_PHONE.read_text(encoding="utf-8"))
    assert default_catalogue().identify(h).name == "unknown"
    cat = load_catalogue([_write(tmp_path / "rename.yaml", RENAME)])
    about = cat.get("about_phone")
    assert len(about.signatures) == len(default_catalogue().get("about_phone").signatures) + 1
    assert about.signatures[-1].package == "com.android.settings"
    assert cat.identify(h).name == "about_phone"


def test_per_user_file_env_list_and_option_apply_in_order(home, tmp_path, monkeypatch) -> None:
    user = _write(home / "catalogue.yaml", CONSENT)
    imported = _write(home / "imported" / "lab" / "1-catalogue.yaml", RENAME)
    env_a = _write(tmp_path / "a.yaml", RENAME.replace("about_phone", "renamed_a"))
    env_b = _write(tmp_path / "b.yaml", RENAME.replace("about_phone", "renamed_b"))
    option = _write(tmp_path / "c.yaml", RENAME.replace("about_phone", "renamed_c"))
    monkeypatch.setenv("MIUI_AUTOMATOR_CATALOGUE", f"{env_a}:{env_b}:")
    assert overlay_paths([option]) == [user, imported, env_a, env_b, option]
    cat = load_catalogue([option])
    assert {"carrier_consent", "renamed_a", "renamed_b", "renamed_c"} <= set(cat.names)


def test_a_named_file_that_does_not_exist_is_an_error(tmp_path, monkeypatch) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: no such screen catalogue \(--catalogue\)"):
        load_catalogue([tmp_path / "nope.yaml"])
    monkeypatch.setenv("MIUI_AUTOMATOR_CATALOGUE", str(tmp_path / "gone.yaml"))
    with pytest.raises(ConfigError, match=r"gone\.yaml: no such screen catalogue \(listed in \$MIUI_AUTOMATOR_CATALOGUE\)"):
        load_catalogue()


@pytest.mark.parametrize("text, where, message", [
    (CONSENT.replace("overlay: true", "overlay: maybe"), 5, "'overlay' must be true or false"),
    (CONSENT.replace("          - {id: com.carrier.consent:id/consent_title}\n", ""), 7, "non-empty list of matchers"),
    (CONSENT.replace("package: com.carrier.consent", "pakage: com.carrier.consent"), 4, "unknown key 'pakage'"),
    (RENAME.replace("about_phone:", "about_phone:\n    overlay: true"), 3, "already known as a full page"),
    (RENAME.replace("about_phone:", "update_popup:\n    popup: false"), 3, None),
    (RENAME.replace("about_phone:", "account:\n    popup: true\n    dismiss: {text: OK}"), 3, "not a popup"),
])
def test_errors_name_the_file_and_line(tmp_path, text, where, message) -> None:
    path = _write(tmp_path / "bad.yaml", text)
    if message is None:  # restating a known popup's flag as false is harmless: signatures are added
        load_catalogue([path])
        return
    with pytest.raises(ConfigError) as err:
        load_catalogue([path])
    assert str(err.value).startswith(f"{path}:{where}: "), str(err.value)
    assert message in str(err.value)


def test_a_changed_file_is_read_again(tmp_path) -> None:
    path = _write(tmp_path / "mine.yaml", CONSENT)
    assert "carrier_consent" in load_catalogue([path])
    path.write_text(CONSENT.replace("carrier_consent", "carrier_consent_v2") + "\n", encoding="utf-8")
    assert "carrier_consent_v2" in load_catalogue([path])
