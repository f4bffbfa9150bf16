"""The catalogue against the simulated phone: drive the phone model directly (no sockets) through
every screen it has, on every OS variant, and check that ``identify`` names each one exactly as
the simulator does. The simulator was built from the same MIUI facts as the catalogue, so a
disagreement is a bug in one of them."""

from __future__ import annotations

import time

import pytest

from miui_automator.device.hierarchy import parse_hierarchy
from miui_automator.screens.catalogue import default_catalogue, identify
from miui_automator.sim.faults import parse_faults
from miui_automator.sim.phone import Phone
from miui_automator.sim.state import DEFAULT_PASSWORD
from miui_automator.sim.ui import find_all
from miui_automator.sim.variants import VARIANTS

SETTINGS_LIST = "com.android.settings:id/recycler_view"
ALL_VARIANTS = sorted(VARIANTS)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float, phone: Phone) -> None:
        self.now += seconds
        phone.tick()


class Tour:
    """Walks one simulated phone and records (step, expected, identified) for every screen seen."""

    def __init__(self, phone: Phone, clock: FakeClock | None = None) -> None:
        self.p = phone
        self.clock = clock
        self.seen: list[tuple[str, str, str]] = []

    @property
    def t(self):
        return self.p.variant.t

    def expected(self) -> tuple[str, str | None]:
        """(screen, popup) the simulator shows; its finished backup_progress is the catalogue's backup_done."""
        top = self.p.top
        name = top.current_name
        if name == "backup_progress" and getattr(top, "done", False):
            name = "backup_done"
        if self.p.state.locked:
            name = "lockscreen"
        return name, (self.p.popup.name if self.p.popup is not None else None)

    def check(self, step: str) -> None:
        h = parse_hierarchy(self.p.hierarchy_xml())
        screen, popup = self.expected()
        for variant in (self.p.variant.name, None):
            got = identify(h, variant)
            self.seen.append((f"{step} [{variant or 'any variant'}]", screen, got.name))
            got_popup = got.popup.name if got.popup is not None else None
            self.seen.append((f"{step} [{variant or 'any variant'}] popup", str(popup), str(got_popup)))

    def mismatches(self) -> list[str]:
        return [f"{step}: simulator shows {want!r}, identify says {got!r}" for step, want, got in self.seen if want != got]

    def names(self) -> set[str]:
        return {want for step, want, _ in self.seen if not step.endswith("popup")} | \
            {want for step, want, _ in self.seen if step.endswith("popup") and want != "None"}

    # ---------------------------------------------------------------- actions
    def tap(self, **attrs: object) -> None:
        nodes = find_all(self.p.windows(), **attrs)
        assert nodes, f"nothing to tap with {attrs} on {self.p.current_screen_name()}"
        self.p.tap(*nodes[-1].center)

    def tap_in_list(self, list_id: str, **attrs: object) -> None:
        for _ in range(30):
            nodes = find_all(self.p.windows(), **attrs)
            if nodes:
                self.p.tap(*nodes[-1].center)
                return
            if not self.p.scroll_list(list_id, 500):
                break
        raise AssertionError(f"no {attrs} in list {list_id} on {self.p.current_screen_name()}")

    def type_password(self, password: str = DEFAULT_PASSWORD) -> None:
        field = find_all(self.p.windows(), rid="android:id/input")
        assert field, f"no password field on {self.p.current_screen_name()}"
        assert self.p.set_text(field[0], password)

    def open_settings(self) -> None:
        ok, message = self.p.start_activity(component="com.android.settings/.MainSettings")
        assert ok, message


def settings_and_backup(tour: Tour) -> None:
    p, t = tour.p, tour.t
    tour.check("boot")
    tour.open_settings()
    tour.check("settings")
    assert p.scroll_list(SETTINGS_LIST, 10_000)
    tour.check("settings scrolled to the end")
    p.scroll_list(SETTINGS_LIST, -10_000)
    tour.tap(text=t("about_phone"), rid="android:id/title")
    tour.check("about phone")
    tour.tap(text=t("backup_restore"))
    tour.check("back up and restore")
    tour.tap(text=t("backup_title"), rid="android:id/title")
    tour.check("backup home, no backups")
    tour.tap(text=t("backup_button"))
    tour.check("backup select")
    tour.tap(rid="com.miui.backup:id/select_all")
    tour.check("backup select, all selected")
    tour.tap(rid="com.miui.backup:id/start_backup")
    tour.check("backup running")
    tour.tap(rid="com.miui.backup:id/stop")
    tour.check("abort backup?")
    tour.tap(rid="android:id/button2")  # Cancel: keep backing up
    tour.check("backup running again")
    assert tour.clock is not None
    tour.clock.advance(60, p)
    tour.check("backup finished")
    tour.tap(rid="com.miui.backup:id/done")
    tour.check("backup home, latest backup")


def developer_options(tour: Tour) -> None:
    t = tour.t
    tour.open_settings()
    tour.tap_in_list(SETTINGS_LIST, text=t("additional"))
    tour.check("additional settings")
    tour.tap(text=t("developer_options"))
    tour.check("developer options")


def factory_reset_dialogs(tour: Tour) -> None:
    p, t = tour.p, tour.t
    ok, message = p.start_activity(component="com.android.settings/.MiuiMasterClear")
    assert ok, message
    tour.check("factory reset")
    tour.tap(rid="com.android.settings:id/erase_data")
    tour.check("factory reset password")
    tour.type_password()
    tour.check("factory reset password typed")
    tour.tap(rid="android:id/button1")
    tour.check("factory reset confirm")
    tour.tap(rid="android:id/button2")  # Cancel
    tour.check("factory reset after cancel")
    assert t("factory_reset")


def account_and_cloud(tour: Tour) -> None:
    p, t = tour.p, tour.t
    ok, message = p.start_activity(action="android.settings.XIAOMI_ACCOUNT_SYNC_SETTINGS")
    assert ok, message
    tour.check("account")
    tour.tap(text=t("cloud_service"), rid="android:id/title")
    tour.check("cloud")
    p.press_key("back")
    tour.check("account again")


def walk_signout(tour: Tour, label: str) -> str:
    """Answer every sign-out dialog the variant shows, in its order; returns the screen it ends on."""
    p, t = tour.p, tour.t
    tour.tap(rid="com.xiaomi.account:id/logout_btn")
    for step in range(6):
        name = p.current_screen_name()
        tour.check(f"{label} step {step}")
        if name == "signout_confirm":
            tour.tap(text=t("confirm_sign_out"), rid="android:id/button1")
        elif name == "wipe_confirm":
            tour.tap(text=t("wipe_keep"))
        elif name == "signout_password":
            tour.type_password("not-the-password")
            tour.tap(rid="android:id/button1")
            assert p.current_screen_name() == "signout_wrong_password"
            tour.check(f"{label} step {step}, wrong password")
            tour.type_password()
            tour.check(f"{label} step {step}, password typed")
            tour.tap(rid="android:id/button1")
        else:
            return name
    raise AssertionError(f"sign-out did not end: {p.current_screen_name()}")


def sign_out_and_reset(tour: Tour) -> None:
    p, t = tour.p, tour.t
    p.state.password_changed_recently = True
    assert walk_signout(tour, "sign-out, password changed recently") == "find_device_failed"
    tour.tap(rid="android:id/button1")  # OK
    tour.check("account after the failed sign-out")
    p.state.password_changed_recently = False
    assert walk_signout(tour, "sign-out") == "signing_out"
    assert tour.clock is not None
    tour.clock.advance(5, p)
    tour.check("after sign-out")
    assert not p.state.has_xiaomi_account()
    ok, message = p.start_activity(action="android.settings.XIAOMI_ACCOUNT_SYNC_SETTINGS")
    assert ok, message
    tour.check("sign-in page")
    ok, message = p.start_activity(component="com.android.settings/.MiuiMasterClear")
    assert ok, message
    tour.tap(rid="com.android.settings:id/erase_data")
    tour.check("factory reset confirm, signed out")
    tour.tap(rid="android:id/button1")
    tour.check("setup wizard after erase")
    assert t("setup_welcome")


@pytest.fixture(params=ALL_VARIANTS)
def variant(request) -> str:
    return request.param


def test_identify_names_every_simulated_screen(variant: str) -> None:
    clock = FakeClock()
    tour = Tour(Phone(variant, clock=clock), clock)
    settings_and_backup(tour)
    developer_options(tour)
    factory_reset_dialogs(tour)
    account_and_cloud(tour)
    sign_out_and_reset(tour)

    locked = Tour(Phone(variant, faults=parse_faults("locked")))
    locked.check("locked at boot")

    reset = Tour(Phone(variant, clock=clock))
    reset.p.factory_reset(0)
    reset.check("factory_reset(0)")

    popups = []
    for spec in ("popup=1", "update=1"):
        pop = Tour(Phone(variant, faults=parse_faults(spec)))
        pop.open_settings()
        pop.tap(text=pop.t("about_phone"), rid="android:id/title")
        assert pop.p.popup is not None, f"{spec} showed no popup"
        pop.check(f"{spec} over about phone")
        popups.append(pop)

    tours = [tour, locked, reset, *popups]
    problems = [m for tr in tours for m in tr.mismatches()]
    assert not problems, "\n".join(problems)

    seen = set().union(*(tr.names() for tr in tours))
    # account.xiaomi.com in the browser is toured in tests/unit/account/test_account_browser.py
    expected = {name for name in default_catalogue().names if not name.startswith("web_")}
    if variant == "hyperos1-en":  # HyperOS 1 signs out without a confirmation dialog (wipe, password)
        expected.discard("signout_confirm")
    assert expected - seen == set(), f"catalogue screens never shown on {variant}: {sorted(expected - seen)}"
    assert seen - expected == set(), f"simulator screens missing from the catalogue: {sorted(seen - expected)}"


def test_popup_dismiss_selector_finds_the_later_button(variant: str) -> None:
    for spec, name in (("popup=1", "cloud_promo_popup"), ("update=1", "update_popup")):
        pop = Tour(Phone(variant, faults=parse_faults(spec)))
        pop.open_settings()
        pop.tap(text=pop.t("about_phone"), rid="android:id/title")
        h = parse_hierarchy(pop.p.hierarchy_xml())
        ident = identify(h, variant)
        assert ident.popup is not None and ident.popup.name == name
        node = ident.popup.screen.dismiss_node(h)
        assert node is not None and node.text == pop.t("later")
        pop.p.faults = parse_faults("")  # no new popup after this tap
        pop.p.tap(*node.center)
        assert pop.p.popup is None
        after = identify(parse_hierarchy(pop.p.hierarchy_xml()), variant)
        assert after.popup is None and after.name == "about_phone"


def _big_hierarchy_xml() -> str:
    """A ~60 KB dump: the windows of the settings home repeated, as a long real-phone dump would be."""
    phone = Phone("hyperos1-en")
    phone.start_activity(component="com.android.settings/.MainSettings")
    xml = phone.hierarchy_xml()
    body = xml[xml.index("<hierarchy"):]
    body = body[body.index(">") + 1: body.rindex("</hierarchy>")]
    head = xml[: xml.index("<hierarchy")] + '<hierarchy rotation="0">'
    copies = -(-60_000 // len(body))
    return head + body * copies + "</hierarchy>"


def test_identify_timing_on_a_60kb_hierarchy() -> None:
    xml = _big_hierarchy_xml()
    assert len(xml) >= 50_000
    start = time.perf_counter()
    h = parse_hierarchy(xml)
    parse_ms = (time.perf_counter() - start) * 1000
    catalogue = default_catalogue()
    catalogue.identify(h)  # builds the lazy indexes once
    runs = 200
    start = time.perf_counter()
    for _ in range(runs):
        ident = catalogue.identify(h, "hyperos1-en")
    identify_ms = (time.perf_counter() - start) * 1000 / runs
    print(f"\n{len(xml) / 1024:.0f} KB, {len(h.nodes)} nodes: parse {parse_ms:.2f} ms, identify {identify_ms:.3f} ms")
    assert ident.name == "settings_home"
