"""Hierarchies for the screens tests: the simulated phone driven directly (no sockets)."""

from __future__ import annotations

from pathlib import Path

from miui_automator.device.hierarchy import Hierarchy
from miui_automator.screens.page_source import parse_page_source
from miui_automator.sim.faults import parse_faults
from miui_automator.sim.phone import Phone

FIXTURES = Path(__file__).parent / "fixtures"
APPIUM_RENAME_PHONE = FIXTURES / "miui_rename_phone.appium.xml"


def account_phone(variant: str = "hyperos1-en", faults: str = "") -> Phone:
    phone = Phone(variant, faults=parse_faults(faults), clock=lambda: 1000.0, wall_clock=lambda: 1_700_000_000.0)
    ok, message = phone.start_activity(action="android.settings.XIAOMI_ACCOUNT_SYNC_SETTINGS")
    assert ok, message
    return phone


def consent_xml(variant: str = "hyperos1-en") -> str:
    """The carrier consent page (fault ``carrier``) right after Sign out was tapped."""
    phone = account_phone(variant, "carrier")
    phone.top.on_action("logout", None)
    assert phone.current_screen_name() == "carrier_consent"
    return phone.hierarchy_xml()


def signout_dialog_xml(variant: str = "miui14-en") -> tuple[str, str]:
    """(hierarchy, screen name) of the first sign-out dialog over the account page (a dialog window over a
    page; which dialog comes first depends on the variant)."""
    phone = account_phone(variant)
    phone.top.on_action("logout", None)
    name = phone.current_screen_name()
    assert name in ("signout_confirm", "signout_password", "wipe_confirm"), name
    return phone.hierarchy_xml(), name


def parsed(xml: str) -> Hierarchy:
    return parse_page_source(xml)
