"""The screen catalogue: the packaged YAML, load-time validation with file:line errors, and the
matching rules of ``identify`` (package, all/any, overlays, specificity, variants, popups)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from miui_automator.device.hierarchy import parse_hierarchy
from miui_automator.errors import ConfigError
from miui_automator.screens import Catalogue, default_catalogue, identify

VOCABULARY = {
    "launcher", "lockscreen", "setup_wizard", "settings_home", "about_phone", "backup_and_restore", "additional_settings",
    "developer_options", "factory_reset", "factory_reset_password", "factory_reset_confirm",
    "factory_reset_erasing", "signout_wrong_password", "account", "signin",
    "signout_confirm", "signout_password", "find_device_failed", "signing_out", "wipe_confirm", "cloud", "backup_home",
    "backup_select", "backup_progress", "backup_done", "backup_abort_confirm", "cloud_promo_popup", "update_popup",
    "web_loading", "web_signin", "web_signin_failed", "web_account_deleted", "web_delete_consequences",
    "web_deletion_requested", "web_deletion_cancelled", "web_page_unknown",
}


def window(package: str, *nodes: tuple[str, str], bounds: str = "[0,110][1080,2400]") -> str:
    """A window of ``package`` holding (resource-id, text) nodes."""
    children = "".join(
        f'<node index="{i}" text="{text}" resource-id="{rid}" class="android.widget.TextView" package="{package}" '
        f'content-desc="" clickable="true" bounds="[0,{200 + 100 * i}][1080,{300 + 100 * i}]" />'
        for i, (rid, text) in enumerate(nodes))
    return (f'<node index="0" text="" resource-id="android:id/content" class="android.widget.FrameLayout" package="{package}" '
            f'content-desc="" bounds="{bounds}">{children}</node>')


def hierarchy(*windows: str):
    return parse_hierarchy('<?xml version="1.0" encoding="UTF-8"?><hierarchy rotation="0">' + "".join(windows) + "</hierarchy>")


def catalogue_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "catalogue.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------- the packaged catalogue
def test_packaged_catalogue_has_exactly_the_flow_vocabulary() -> None:
    catalogue = default_catalogue()
    assert set(catalogue.names) == VOCABULARY
    assert catalogue is default_catalogue()  # loaded once per process
    assert [p.name for p in catalogue.popups()] == ["cloud_promo_popup", "update_popup"]
    assert all(p.dismiss for p in catalogue.popups())
    assert catalogue.get("account").activity == "com.xiaomi.account.ui.AccountSettingsActivity"
    assert catalogue.get("wipe_confirm").action == "com.xiaomi.action.MICLOUD_WIPE_DATA_CONFIRM"
    assert "account" in catalogue and "nope" not in catalogue


def test_get_unknown_screen_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="no screen 'nope' in catalogue.yaml .*account"):
        default_catalogue().get("nope")


def test_real_miui_page_outside_the_catalogue_is_unknown() -> None:
    h = hierarchy(window("com.android.settings", ("miui:id/action_bar_title", "Rename phone"),
                         ("", "Other nearby devices can see this name.")))
    ident = identify(h)
    assert ident.name == "unknown" and not ident.known and ident.popup is None and ident.candidates == ()
    assert ident.seen == "package com.android.settings; texts: Rename phone, Other nearby devices can see this name."


def test_hyperos_wlan_title_is_not_mistaken_for_a_catalogue_screen() -> None:
    h = hierarchy(window("com.android.settings", ("com.android.settings:id/action_bar_title_expand", "WLAN")))
    assert identify(h, "hyperos2-zh").name == "unknown"


def test_account_title_seen_on_hyperos_identifies_the_account_page() -> None:
    h = hierarchy(window("com.xiaomi.account", ("com.xiaomi.account:id/action_bar_title_expand", "小米账号"),
                         ("com.xiaomi.account:id/logout_btn", "退出登录")))
    ident = identify(h, "hyperos2-zh")
    assert ident.name == "account" and ident.screen is default_catalogue().get("account")


# ------------------------------------------------------------------------------- matching rules
RULES = """\
version: 1
screens:
  page:
    package: com.example.app
    signatures:
      - all:
          - text: [Page, Seite]
  page_detail:
    package: com.example.app
    signatures:
      - all:
          - text: [Page, Seite]
        any:
          - id: com.example.app:id/detail
          - text: Details
  dialog:
    package: com.example.app
    overlay: true
    signatures:
      - all:
          - {id: android:id/alertTitle, text: ["Delete?"]}
  over_other_app:
    overlay: true
    signatures:
      - all:
          - text: [Password]
          - {text: [Erase], package: com.example.settings}
  only_new_os:
    package: com.example.other
    signatures:
      - variants: [hyperos]
        all:
          - text: [Shared]
      - variants: [miui12.5-en]
        all:
          - text: [Old wording]
  promo:
    package: com.example.app
    popup: true
    dismiss: {text: [Later]}
    signatures:
      - all:
          - text: [Later]
  floating_page:
    package: com.example.float
    signatures:
      - package: com.example.float
"""


@pytest.fixture()
def rules(tmp_path: Path) -> Catalogue:
    return Catalogue.load(catalogue_file(tmp_path, RULES))


def test_package_must_match(rules: Catalogue) -> None:
    assert rules.identify(hierarchy(window("com.example.app", ("", "Seite")))).name == "page"
    assert rules.identify(hierarchy(window("com.example.elsewhere", ("", "Seite")))).name == "unknown"


def test_any_is_required_and_the_most_specific_signature_wins(rules: Catalogue) -> None:
    plain = rules.identify(hierarchy(window("com.example.app", ("", "Page"))))
    assert plain.name == "page" and plain.candidates == ("page",)
    detailed = rules.identify(hierarchy(window("com.example.app", ("", "Page"), ("com.example.app:id/detail", "x"))))
    assert detailed.name == "page_detail" and detailed.candidates == ("page_detail", "page")


def test_overlay_beats_the_page_below(rules: Catalogue) -> None:
    h = hierarchy(window("com.example.app", ("", "Page"), ("", "Details")),
                  window("com.example.app", ("android:id/alertTitle", "Delete?"), bounds="[30,1800][1050,2360]"))
    ident = rules.identify(h)
    assert ident.name == "dialog" and ident.candidates == ("dialog", "page_detail", "page")


def test_matcher_package_overrides_the_signature(rules: Catalogue) -> None:
    erase_here = hierarchy(window("com.example.settings", ("", "Erase")), window("com.example.account", ("", "Password")))
    assert rules.identify(erase_here).name == "over_other_app"
    erase_elsewhere = hierarchy(window("com.example.app", ("", "Erase")), window("com.example.account", ("", "Password")))
    assert rules.identify(erase_elsewhere).name == "unknown"


def test_variants_restrict_signatures(rules: Catalogue) -> None:
    new = hierarchy(window("com.example.other", ("", "Shared")))
    assert rules.identify(new, "hyperos2-zh").name == "only_new_os"
    assert rules.identify(new, "hyperos1-en").name == "only_new_os"
    assert rules.identify(new, "miui12.5-en").name == "unknown"
    assert rules.identify(new).name == "only_new_os"  # no variant given: every signature applies
    old = hierarchy(window("com.example.other", ("", "Old wording")))
    assert rules.identify(old, "miui12.5-en").name == "only_new_os"
    assert rules.identify(old, "miui14-en").name == "unknown"


def test_popup_is_reported_apart_and_its_window_is_left_out(rules: Catalogue) -> None:
    h = hierarchy(window("com.example.float", ("", "x")),
                  window("com.example.app", ("", "Page"), ("", "Later"), bounds="[30,1800][1050,2360]"))
    ident = rules.identify(h)
    assert ident.popup is not None and ident.popup.name == "promo" and ident.popup.candidates == ("promo",)
    assert ident.name == "floating_page"  # "Page" sits in the popup's window, so "page" does not match
    assert ident.candidates == ("floating_page",)
    button = ident.popup.screen.dismiss_node(h)
    assert button is not None and button.text == "Later"


def test_package_only_signature_needs_the_package_on_screen(rules: Catalogue) -> None:
    assert rules.identify(hierarchy(window("com.example.float"))).name == "floating_page"
    assert rules.identify(hierarchy(window("com.example.nothing"))).name == "unknown"


# ------------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("screens:\n  a:\n    package: com.x.y\n    signatures:\n      - all:\n          - texts: [A]\n",
         6, "unknown key 'texts' in a.all matcher"),
        ("screens:\n  a:\n    package: com.x.y\n    signatures:\n      - all: [{text: A}]\n  a:\n    package: com.x.y\n",
         6, "duplicate key 'a' in screens (first at line 2)"),
        ("screens:\n  a:\n    package: com.x.y\n    signatures:\n      - all:\n          - text_matches: '(['\n",
         6, "bad regex '(['"),
        ("screens:\n  a:\n    package: com.x.y\n    popup: true\n    signatures:\n      - all: [{text: A}]\n",
         4, "popup 'a' needs 'dismiss'"),
        ("screens:\n  a:\n    signatures:\n      - variants: [miui14]\n", 4, "matches nothing"),
        ("screens:\n  a:\n    package: com.x.y\n    signatures:\n      - all:\n          - text: []\n",
         6, "a.all: 'text' must not be an empty list"),
        ("screens:\n  a:\n    package: com.x.y\n    signatures:\n      - all:\n          - text: [{On: Off}]\n",
         6, "a.all: 'text' must be a string, not a mapping"),
        ("screens:\n  a:\n    package: com.x.y\n    popup: 'yes'\n    signatures: [{package: com.x.y}]\n",
         4, "a: 'popup' must be true or false, not the string 'yes'"),
        ("screens:\n  a:\n    package: com.x.y\n    signatures:\n      - variants: [MIUI 14]\n",
         5, "'variants' must list OS variants"),
        ("screens:\n  Bad-Name:\n    package: com.x.y\n    signatures: [{package: com.x.y}]\n", 2, "must be lower_snake_case"),
        ("screens:\n  a:\n    package: not a package\n    signatures: [{all: [{text: A}]}]\n",
         3, "is not an Android package name"),
        ("screens:\n  a:\n    package: com.x.y\n    signatures: []\n", 4, "needs a non-empty list of 'signatures'"),
        ("screens:\n  a:\n    package: com.x.y\n    dismiss: {text: A}\n    signatures: [{all: [{text: A}]}]\n",
         4, "'dismiss' is only for popups"),
        ("screens:\n  a:\n    package: com.x.y\n    signatures:\n      - all:\n          - package: com.x.z\n",
         6, "needs a node criterion besides 'package'"),
        ("version: 2\nscreens: {}\n", 1, "unsupported catalogue version 2"),
        ("screens: {}\n", 1, "'screens' must be a non-empty mapping"),
        ("- just\n- a list\n", 1, "must be a mapping with a 'screens' key"),
        ("screens:\n  a: [unclosed\n", 3, "invalid YAML"),
        ("extra: 1\nscreens:\n  a: {package: com.x.y, signatures: [{package: com.x.y}]}\n",
         1, "unknown key 'extra' in catalogue"),
    ],
)
def test_invalid_catalogue_fails_with_file_and_line(tmp_path: Path, body: str, line: int, message: str) -> None:
    path = catalogue_file(tmp_path, body)
    with pytest.raises(ConfigError) as caught:
        Catalogue.load(path)
    err = caught.value
    assert str(err).startswith(f"{path}:{line}: "), str(err)
    assert message in str(err)
    assert err.data["line"] == line and err.data["path"] == str(path) and err.exit_code == 2


def test_missing_catalogue_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read screen catalogue"):
        Catalogue.load(tmp_path / "absent.yaml")


def test_errors_in_the_packaged_file_are_labelled_catalogue_yaml() -> None:
    from miui_automator.screens.catalogue import parse_catalogue

    with pytest.raises(ConfigError, match=r"^catalogue.yaml:1: "):
        parse_catalogue("[]")
