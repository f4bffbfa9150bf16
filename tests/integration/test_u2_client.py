"""The real uiautomator2 3.7.1 client against the simulated phone's u2 server, over the real adb server.

Every call here goes uiautomator2 -> adbutils -> adb server (a free port) -> fake adbd ->
``tcp:9008`` -> U2Server, exactly as against a phone running u2.jar.
"""

from __future__ import annotations

import http.client
from concurrent.futures import ThreadPoolExecutor

import pytest
import uiautomator2 as u2


pytestmark = pytest.mark.integration

VARIANTS = ["miui12.5-en", "miui14-en", "hyperos1-en", "hyperos2-zh"]
SETTINGS_LIST = "com.android.settings:id/recycler_view"
PASSWORD_FIELD = "android:id/input"


@pytest.mark.parametrize("variant", VARIANTS)
def test_settings_account_round_trip(connect, variant, wait_until):
    d, sim, _ = connect(variant)
    label = sim.phone.variant.account_label

    info = d.info
    assert info["displayWidth"] == 1080 and info["displayHeight"] == 2400
    assert info["currentPackageName"] == "com.miui.home"

    d.app_start("com.android.settings")
    wait_until(lambda: d.app_current()["package"] == "com.android.settings", timeout=10, message="Settings in front")
    xml = d.dump_hierarchy()
    assert 'package="com.android.settings"' in xml and SETTINGS_LIST in xml
    assert d.info["currentPackageName"] == "com.android.settings"

    image = d.screenshot()
    assert image.size == (1080, 2400)
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is None or len(colours) > 8, "the frame looks blank"

    assert d(scrollable=True).scroll.to(text=label) is True
    assert d(text=label).exists
    d(text=label).click()
    assert d.app_current()["package"] == "com.xiaomi.account"
    assert "com.xiaomi.account:id/" in d.dump_hierarchy()

    d.press("back")
    assert d.app_current()["package"] == "com.android.settings"
    assert d(resourceId=SETTINGS_LIST).exists

    d.xpath(label).click()
    assert d.app_current()["package"] == "com.xiaomi.account"
    d.press("back")
    assert d(resourceId=SETTINGS_LIST).wait(timeout=5)


@pytest.mark.parametrize("variant", VARIANTS)
def test_typing_into_a_password_field(connect, variant):
    d, _, read = connect(variant)
    result = d.shell("am start -n com.android.settings/.MiuiMasterClear")
    assert result.exit_code == 0, result.output
    d(resourceId="com.android.settings:id/erase_data").click()
    field = d(resourceId=PASSWORD_FIELD)
    assert field.wait(timeout=5)
    assert field.info["focused"] is True

    d.send_keys("hello")  # clipboard path: setClipboard, getClipboard echo, pasteClipboard
    assert read(lambda p: p.top.typed.get("password")) == "hello"
    assert field.get_text() == "\u2022" * 5
    assert d.clipboard == "hello"

    field.set_text("secret")
    assert read(lambda p: p.top.typed.get("password")) == "secret"
    assert len(field.get_text()) == 6

    d.press("back")
    assert field.wait_gone(timeout=5)


def test_touch_events_and_named_objects_span_requests(connect):
    d, sim, _ = connect("miui14-en")
    d.app_start("com.android.settings", ".MainSettings")
    about = sim.phone.variant.t("about_phone")
    x, y = d(text=about).center()
    d.touch.down(x, y)
    d.touch.up(x, y)  # a separate HTTP request: the server must remember the down
    assert d(resourceId="com.android.settings:id/action_bar_title_expand", text=about).wait(timeout=5)
    d.press("back")
    row = d(scrollable=True).child_by_text(about, className="android.widget.LinearLayout")
    assert isinstance(row.selector, str)
    assert row.info["clickable"] is True
    row.click()
    assert d.app_current()["package"] == "com.android.settings"
    assert d(text=about, resourceId="com.android.settings:id/action_bar_title_expand").exists


def test_waits_block_on_the_server_without_stalling_it(connect):
    d, _, _ = connect("hyperos1-en")
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(d(text="This never appears").wait, timeout=1.5)
        assert d.info["screenOn"] is True  # answered while the other request is still waiting
        assert not waiting.done()
        assert waiting.result(timeout=15) is False
    assert not d(text="This never appears").exists
    with pytest.raises(u2.UiObjectNotFoundError):
        d(text="This never appears").info


def test_server_crash_is_survived(connect):
    d, _, read = connect("hyperos1-en", faults="u2crash=4")
    events: list[str] = []
    read(lambda p: p.subscribe(events.append))
    dropped = 0
    for _ in range(8):
        try:
            assert d.info["displayWidth"] == 1080
        except (ConnectionError, http.client.HTTPException):
            dropped += 1  # the call that was in flight when the server died; the next one relaunches it
    assert events == ["u2crash"]
    assert dropped == 1  # as on a phone: the request in flight dies with the server, nothing else fails
    assert read(lambda p: p.u2_running) is True
    assert d.dump_hierarchy().startswith("<?xml")


def test_input_refused_by_miui_is_an_rpc_error(connect):
    d, _, read = connect("miui12.5-en", faults="noinput")
    with pytest.raises(u2.exceptions.RPCError) as info:
        d.click(540, 1200)
    assert "java.lang.SecurityException" in str(info.value)
    with pytest.raises(u2.exceptions.RPCError):
        d.press("back")
    assert read(lambda p: p.input_events) >= 2
    assert d.dump_hierarchy().startswith("<?xml")  # reading the screen is still allowed
