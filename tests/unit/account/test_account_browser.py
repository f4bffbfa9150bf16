"""The simulated browser and account.xiaomi.com, driven directly (no sockets) on every variant: every
page is identified by the catalogue as the simulator means it, the 30-day clock, cancelling, the shell's
``am start -d``, and the renderer's web styles (page, address bar, checkbox)."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from PIL import Image, ImageChops

from miui_automator.account.tasks import deletion_date
from miui_automator.device.hierarchy import parse_hierarchy
from miui_automator.screens.catalogue import default_catalogue, identify
from miui_automator.sim.phone import Phone
from miui_automator.sim.render import BLUE, CARD, render
from miui_automator.sim.shell import Shell
from miui_automator.sim.state import DEFAULT_ACCOUNT_ID, DEFAULT_PASSWORD
from miui_automator.sim.ui import SCREEN_H, SCREEN_W, find_all
from miui_automator.sim.variants import VARIANTS

URL = "https://account.xiaomi.com/pass/del"
NOON = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc).timestamp()


class Browser:
    """One phone with the deletion page open; the monotonic clock runs the page loads."""

    def __init__(self, variant: str, **phone_kwargs) -> None:
        self.now = 1000.0
        self.phone = Phone(variant, clock=lambda: self.now, wall_clock=lambda: NOON, media_files=0, **phone_kwargs)
        self.seen: list[tuple[str, str, str]] = []

    def open(self, url: str = URL) -> None:
        ok, message = self.phone.start_activity(action="android.intent.action.VIEW", data=url)
        assert ok, message
        self.check("loading")
        self.loaded()

    def loaded(self) -> None:
        self.now += 1
        self.phone.tick()

    def check(self, step: str) -> str:
        """Identify the page and record it against what the simulator says it shows."""
        h = parse_hierarchy(self.phone.hierarchy_xml())
        got = identify(h, self.phone.variant.name).name
        self.seen.append((step, self.phone.current_screen_name(), got))
        return got

    def node(self, **attrs):
        nodes = find_all(self.phone.windows(), **attrs)
        assert nodes, f"no {attrs} on {self.phone.current_screen_name()}"
        return nodes[0]

    def tap(self, **attrs) -> None:
        self.phone.tap(*self.node(**attrs).center)

    def sign_in(self, password: str = DEFAULT_PASSWORD, account: str = DEFAULT_ACCOUNT_ID) -> None:
        for rid, value in (("username", account), ("pwd", password)):
            self.tap(rid=rid)
            assert self.node(rid=rid).focused
            assert self.phone.set_text(self.node(rid=rid), value)
        self.check("sign-in filled")
        self.tap(cls="android.widget.Button")
        self.check("signing in")
        self.loaded()

    def mismatches(self) -> list[str]:
        return [f"{step}: simulator shows {want!r}, identify says {got!r}" for step, want, got in self.seen if want != got]


@pytest.fixture(params=sorted(VARIANTS))
def variant(request) -> str:
    return request.param



def texts(b: Browser) -> set[str]:
    return {t for t in parse_hierarchy(b.phone.hierarchy_xml()).texts() if t}


@pytest.mark.parametrize("locale, url, language", [
    ("zh-CN", URL, "zh"),  # no _locale: the phone's language
    ("de-DE", URL, "other"),  # a language the flows cannot know: the page is not recognised
    ("de-DE", URL + "?_locale=en_US", "en"),  # asked for: English, whatever the phone speaks
    ("zh-CN", URL + "?_locale=en_US", "en"),
    ("en-US", URL + "?_locale=zh_CN", "zh"),
])
def test_the_pages_speak_the_language_a_url_asks_for_else_the_phones(locale: str, url: str, language: str) -> None:
    b = Browser("hyperos1-en", locale=locale)
    b.open(url)
    sign_in = {"zh": "登录", "en": "Sign in", "other": None}[language]
    assert (b.check("sign-in page") == "web_signin") is (sign_in is not None)
    if sign_in is None:
        assert b.check("sign-in page") == "web_page_unknown" and not texts(b) & {"Sign in", "登录"}
        return
    assert sign_in in texts(b)
    b.sign_in()  # the redirect after signing in keeps the language, as the site's cookie does
    assert b.check("consequences") == "web_delete_consequences"
    assert ("注销小米账号" in texts(b)) is (language == "zh")


def test_every_web_page_is_identified_as_the_simulator_shows_it(variant: str) -> None:
    b = Browser(variant)
    b.open()
    b.check("sign-in page")
    b.sign_in(password="wrong")
    b.check("wrong password")
    assert b.phone.current_screen_name() == "web_signin_failed"
    assert b.node(rid="pwd").text == ""  # the page clears the password it refused
    b.sign_in()
    assert b.check("consequences") == "web_delete_consequences"
    delete = b.node(cls="android.widget.Button")
    assert not delete.enabled and delete.text in ("Delete Mi Account", "Delete Xiaomi Account", "注销小米账号")
    b.tap(cls="android.widget.Button")
    assert b.phone.account_server.status(DEFAULT_ACCOUNT_ID) == "active", "a disabled button does nothing"
    b.tap(cls="android.widget.CheckBox")
    assert b.node(cls="android.widget.CheckBox").checked and b.node(cls="android.widget.Button").enabled
    b.check("consequences, ticked")
    b.tap(cls="android.widget.Button")
    b.check("requesting")
    b.loaded()
    assert b.check("requested") == "web_deletion_requested"
    assert b.phone.account_server.status(DEFAULT_ACCOUNT_ID) == "pending"
    assert deletion_date(parse_hierarchy(b.phone.hierarchy_xml()).texts()) == date(2026, 12, 30)
    b.tap(cls="android.widget.Button")
    b.loaded()
    assert b.check("cancelled") == "web_deletion_cancelled"
    assert b.phone.account_server.status(DEFAULT_ACCOUNT_ID) == "active"

    again = Browser(variant)
    again.phone.account_server.request_deletion(DEFAULT_ACCOUNT_ID)
    again.open()
    again.sign_in()
    assert again.check("pending, signed in again") == "web_deletion_requested"
    again.phone.advance_time(days=30)
    again.open()
    again.sign_in()
    assert again.check("after 30 days") == "web_account_deleted"

    unknown = Browser(variant)
    unknown.phone.account_server.sms_check = True
    unknown.open()
    unknown.sign_in()
    assert unknown.check("sms check") == "web_page_unknown"
    unknown.open("https://example.com/pass/del")
    assert unknown.check("another site") == "web_page_unknown"

    browsers = [b, again, unknown]
    problems = [m for br in browsers for m in br.mismatches()]
    assert not problems, "\n".join(problems)
    seen = {want for br in browsers for _, want, _ in br.seen}
    web_screens = {name for name in default_catalogue().names if name.startswith("web_")}
    assert seen == web_screens


def test_a_consequences_page_that_changed_is_not_recognised() -> None:
    b = Browser("hyperos1-en")
    b.phone.account_server.waiting_days = 15
    b.open()
    b.sign_in()
    assert b.phone.top.page == "consequences"
    assert b.check("15 days") == "web_page_unknown"


def test_web_pages_are_only_trusted_on_account_xiaomi_com() -> None:
    b = Browser("miui14-en")
    b.open()
    xml = b.phone.hierarchy_xml().replace("account.xiaomi.com/fe/service/login", "account.xiaomi.com.evil.example/login")
    assert identify(parse_hierarchy(xml), "miui14-en").name == "web_page_unknown"


def test_the_waiting_period_ends_after_30_days_not_before() -> None:
    phone = Phone("hyperos2-zh", wall_clock=lambda: NOON, media_files=0)
    server = phone.account_server
    server.request_deletion(DEFAULT_ACCOUNT_ID)
    assert server.deletion_date(DEFAULT_ACCOUNT_ID) == date(2026, 12, 30)
    phone.advance_time(days=29, seconds=86399)
    assert server.status(DEFAULT_ACCOUNT_ID) == "pending" and server.cancel_deletion(DEFAULT_ACCOUNT_ID)
    server.request_deletion(DEFAULT_ACCOUNT_ID)
    phone.advance_time(days=30)
    assert server.status(DEFAULT_ACCOUNT_ID) == "deleted"
    assert not server.cancel_deletion(DEFAULT_ACCOUNT_ID)
    assert server.sign_in(DEFAULT_ACCOUNT_ID, DEFAULT_PASSWORD) == "deleted"
    assert server.sign_in("5555555555", DEFAULT_PASSWORD) == "bad"
    assert phone.wall_clock() == NOON + 60 * 86400 - 1
    assert Shell(phone).run("date +%s").stdout.decode().strip() == str(int(NOON + 60 * 86400 - 1))


def test_the_account_server_survives_a_factory_reset() -> None:
    phone = Phone("miui14-en", media_files=0)
    phone.account_server.request_deletion(DEFAULT_ACCOUNT_ID)
    phone.factory_reset(0)
    assert phone.account_server.status(DEFAULT_ACCOUNT_ID) == "pending"


def test_am_start_with_data_opens_the_browser_and_other_uris_do_not() -> None:
    phone = Phone("hyperos1-en", media_files=0)
    shell = Shell(phone)
    result = shell.run(f"am start -a android.intent.action.VIEW -d {URL}")
    assert result.rc == 0, result.stderr
    assert f"dat={URL}" in result.stdout.decode()
    assert phone.focus() == ("com.android.browser", "com.android.browser.BrowserActivity")
    assert phone.current_screen_name() == "web_loading"
    result = shell.run("am start -a android.intent.action.VIEW -d tel:10086")
    assert result.rc != 0 and "unable to resolve Intent" in result.stderr.decode()
    result = shell.run(f"am start -n com.android.browser/.BrowserActivity -d {URL}")
    assert result.rc == 0 and phone.top.url.endswith(("/pass/del", "/fe/service/login"))


def test_web_styles_draw_a_white_page_an_address_pill_and_the_checkbox_state() -> None:
    b = Browser("hyperos1-en")
    b.open()
    b.sign_in()
    wins = b.phone.windows()
    before = render(wins, SCREEN_W, SCREEN_H)
    web = b.node(cls="android.webkit.WebView")
    left, top, right, bottom = web.bounds
    assert before.getpixel((left + 10, bottom - 10)) == CARD
    url = b.node(rid="com.android.browser:id/url")
    strip = before.crop((url.bounds[0] + 100, url.bounds[1], url.bounds[2], url.bounds[3]))
    assert len(strip.getcolors(100_000)) > 10, "the address is drawn in the pill"
    box = b.node(cls="android.widget.CheckBox")
    b.tap(cls="android.widget.CheckBox")
    after = render(b.phone.windows(), SCREEN_W, SCREEN_H)
    x, y = box.bounds[0] + 8, (box.bounds[1] + box.bounds[3]) // 2
    assert before.getpixel((x, y)) != BLUE and after.getpixel((x, y)) == BLUE
    label = (box.bounds[0] + 100, box.bounds[1], box.bounds[2], box.bounds[3])
    assert ImageChops.difference(before.crop(label), after.crop(label)).getbbox() is None, "only the box changes"
    assert isinstance(after, Image.Image) and after.size == (SCREEN_W, SCREEN_H)
