"""Method handlers of the simulated uiautomator2 server, run against the phone model directly."""

import json

import pytest

from miui_automator.sim.jsonrpc import POLL_SECONDS, JsonRpc
from miui_automator.sim.phone import Phone
from miui_automator.sim.selector import MASKS

LIST = "com.android.settings:id/recycler_view"


def sel(**fields):
    body = {"mask": 0, "childOrSibling": [], "childOrSiblingSelector": []}
    for key, value in fields.items():
        body[key] = value
        body["mask"] |= MASKS[key]
    return body


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class Client:
    """Calls one method; ``start`` returns the live generator for stepping through a wait."""

    def __init__(self, phone):
        self.phone = phone
        self.rpc = JsonRpc(phone)

    def start(self, method, *params):
        return self.rpc.handle(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode())

    def __call__(self, method, *params):
        call, sleeps = self.start(method, *params), []
        try:
            while True:
                sleeps.append(next(call))
        except StopIteration as done:
            response = json.loads(done.value)
        self.last_sleeps = sleeps
        if "error" in response:
            raise AssertionError(response["error"])
        return response["result"]

    def error(self, method, *params):
        call = self.start(method, *params)
        with pytest.raises(StopIteration) as done:
            while True:
                next(call)
        return json.loads(done.value.value)["error"]


def finish(call, sent=None):
    try:
        while True:
            call.send(sent)
    except StopIteration as done:
        return json.loads(done.value)["result"]


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def u2(clock):
    phone = Phone("hyperos1-en", clock=clock)
    return Client(phone)


def settings(u2):
    ok, _ = u2.phone.start_activity(component="com.android.settings/.MainSettings")
    assert ok and u2.phone.current_screen_name() == "settings_home"


def password_dialog(u2):
    """Factory reset -> Erase all data: a dialog with a focused password field."""
    u2.phone.start_activity(component="com.android.settings/.MiuiMasterClear")
    assert u2("click", sel(resourceId="com.android.settings:id/erase_data")) is True
    assert u2.phone.current_screen_name() == "factory_reset_password"
    return u2.phone.top


def test_selector_click_taps_the_center_and_navigates(u2):
    settings(u2)
    label = u2.phone.variant.account_label
    assert u2("scrollTo", sel(scrollable=True), sel(text=label), True) is True
    assert u2("exist", sel(text=label)) is True
    assert u2("click", sel(text=label)) is True
    assert u2.phone.focus()[0] == "com.xiaomi.account"
    assert u2("pressKey", "back") is True
    assert u2.phone.current_screen_name() == "settings_home"


def test_scroll_to_gives_up_after_bounded_swipes(u2, monkeypatch):
    settings(u2)
    swipes = []
    real = u2.phone.scroll_list
    monkeypatch.setattr(u2.phone, "scroll_list", lambda rid, delta: swipes.append(delta) or real(rid, delta))
    assert u2("scrollTo", sel(scrollable=True), sel(text="No such row"), True) is False
    assert 0 < len(swipes) <= 61
    assert u2("scrollTo", sel(scrollable=True), sel(text="No such row"), False) is False  # horizontal: nothing moves


def test_scroll_forward_until_the_end_then_back_to_the_top(u2):
    settings(u2)
    top = u2.phone.top
    moves = 0
    while u2("scrollForward", sel(scrollable=True), True, 55):
        moves += 1
        assert moves < 20
    assert moves >= 1 and top.scroll[LIST] == top.max_scroll[LIST]
    step = top.scroll[LIST]
    assert u2("scrollBackward", sel(scrollable=True), True, 55) is True and top.scroll[LIST] < step
    assert u2("scrollToBeginning", sel(scrollable=True), True, 500, 55) is True
    assert top.scroll[LIST] == 0
    assert u2("flingToEnd", sel(scrollable=True), True, 500) is True
    assert top.scroll[LIST] == top.max_scroll[LIST]
    assert u2("flingForward", sel(scrollable=True), True) is False
    assert u2.error("scrollForward", sel(text="Nope"), True, 55)["message"].endswith("UiObjectNotFoundException")


def test_wait_for_exists_polls_without_blocking_until_the_node_appears(u2):
    call = u2.start("waitForExists", sel(resourceId=LIST), 20000)
    assert next(call) == POLL_SECONDS
    assert next(call) == POLL_SECONDS
    settings(u2)
    assert finish(call) is True


def test_wait_for_exists_is_bounded_by_its_timeout(u2):
    assert u2("waitForExists", sel(text="never"), 200) is False
    assert u2.last_sleeps == [POLL_SECONDS] * 4
    assert u2("waitForExists", sel(text="never"), 0) is False and u2.last_sleeps == []


def test_wait_until_gone(u2):
    settings(u2)
    call = u2.start("waitUntilGone", sel(resourceId=LIST), 5000)
    assert next(call) == POLL_SECONDS
    u2.phone.press_key("back")
    assert finish(call) is True
    assert u2("waitUntilGone", sel(resourceId="com.android.systemui:id/clock"), 100) is False


def test_wait_for_window_update(u2):
    call = u2.start("waitForWindowUpdate", None, 1000)
    assert next(call) == POLL_SECONDS
    settings(u2)
    assert finish(call) is True
    assert u2("waitForWindowUpdate", "com.other.app", 1000) is False and u2.last_sleeps == []


def test_touch_events_down_up_is_a_tap_and_a_drag_is_a_swipe(u2, clock):
    settings(u2)
    label = u2.phone.variant.account_label
    u2("scrollTo", sel(scrollable=True), sel(text=label), True)
    before = u2.phone.top.scroll[LIST]
    assert before > 0
    assert u2("injectInputEvent", 0, 540.0, 1000.0, 0) is True
    for y in (1400.0, 1800.0, 2000.0):
        assert u2("injectInputEvent", 2, 540.0, y, 0) is True
    assert u2("injectInputEvent", 1, 540.0, 2000.0, 0) is True
    assert u2.phone.top.scroll[LIST] < before and u2.phone.current_screen_name() == "settings_home"
    assert u2("scrollTo", sel(scrollable=True), sel(text=label), True) is True
    x, y = (lambda b: ((b["left"] + b["right"]) / 2, (b["top"] + b["bottom"]) / 2))(u2("objInfo", sel(text=label))["bounds"])
    u2("injectInputEvent", 0, x, y, 0)
    clock.now += 0.05
    u2("injectInputEvent", 1, x + 3, y, 0)
    assert u2.phone.focus()[0] == "com.xiaomi.account"
    assert u2("injectInputEvent", 5, x, y, 0) is False


def test_long_touch_is_a_long_tap(u2, clock, monkeypatch):
    settings(u2)
    presses = []
    monkeypatch.setattr(u2.phone, "long_tap", lambda x, y, ms=500: presses.append((x, y, ms)) or True)
    u2("injectInputEvent", 0, 300.0, 900.0, 0)
    clock.now += 0.8
    u2("injectInputEvent", 1, 300.0, 900.0, 0)
    assert presses == [(300.0, 900.0, 800)]
    assert u2("click", 300, 900, 600) is True and u2.last_sleeps == [0.6] and presses[-1] == (300, 900, 600)


def test_clipboard_echo_and_paste_into_the_focused_field(u2):
    dialog_owner = password_dialog(u2)
    assert u2("setClipboard", None, "hello") is None
    assert u2("getClipboard") == "hello"
    assert u2("pasteClipboard") is None
    assert dialog_owner.typed["password"] == "hello"
    assert u2("getText", sel(resourceId="android:id/input")) == "\u2022" * 5
    assert u2("clearInputText") is None
    assert dialog_owner.typed["password"] == ""
    assert u2("getText", sel(resourceId="android:id/input")) == u2.phone.variant.t("password_hint")


def test_set_text_and_clear_text_field(u2):
    owner = password_dialog(u2)
    edit = sel(className="android.widget.EditText")
    events = u2.phone.input_events
    assert u2("setText", edit, "secret") is True
    assert owner.typed["password"] == "secret" and u2.phone.input_events == events + 1
    assert u2("clearTextField", edit) is None and owner.typed["password"] == ""
    assert u2("setText", sel(resourceId="android:id/alertTitle"), "x") is False


def test_press_keys(u2):
    settings(u2)
    assert u2("pressKey", "wakeup") is False and u2.phone.input_events == 0
    assert u2("pressKey", "BACK") is True and u2.phone.current_screen_name() == "launcher"
    settings(u2)
    assert u2("pressKeyCode", 4.0) is True and u2.phone.current_screen_name() == "launcher"
    assert u2("pressKeyCode", 4, 0) is True


def test_screen_power(u2):
    assert u2("isScreenOn") is True
    assert u2("sleep") is None and u2("isScreenOn") is False
    assert u2("dumpWindowHierarchy", False) == u2.phone.hierarchy_xml()
    assert u2("wakeUp") is None and u2("isScreenOn") is True


def test_count_and_all_instances(u2):
    settings(u2)
    titles = sel(resourceId="android:id/title")
    infos = u2("objInfoOfAllInstances", titles)
    assert u2("count", titles) == len(infos) > 3
    assert [i["text"] for i in infos][:1] == [u2.phone.variant.t("about_phone")]
    assert u2("count", sel(resourceId="android:id/title", instance=1)) == 1
    assert u2("objInfo", sel(resourceId="android:id/title", instance=1))["text"] == infos[1]["text"]


def test_child_by_text_names_an_object_usable_later(u2):
    settings(u2)
    label = u2.phone.variant.account_label
    row = sel(className="android.widget.LinearLayout")
    name = u2("childByText", sel(scrollable=True), row, label)
    assert isinstance(name, str) and name in u2("getUiObjects")
    assert u2("exist", name) is True
    assert u2("objInfo", name)["resourceName"] == "com.android.settings:id/account_layout"
    assert u2("click", name) is True and u2.phone.focus()[0] == "com.xiaomi.account"
    assert u2("exist", "no-such-name") is False
    assert u2.error("objInfo", "no-such-name")["data"] == "UiObject no-such-name not found!"
    assert u2("removeUiObject", name) is None and u2("exist", name) is False


def test_named_objects_expire_like_the_jar(u2, clock):
    settings(u2)
    name = u2("getUiObject", sel(resourceId=LIST))
    assert u2("exist", name) is True
    clock.now += 61
    assert u2("exist", name) is False


def test_child_by_description_and_instance(u2):
    settings(u2)
    first = u2("childByInstance", sel(scrollable=True), sel(resourceId="android:id/title"), 0)
    assert u2("getText", first) == u2.phone.variant.t("about_phone")
    u2.phone.go_home()
    name = u2("childByDescription", sel(resourceId="com.miui.home:id/workspace"), sel(clickable=True), "Sett")
    assert u2("getText", name) == u2.phone.variant.t("settings")
    assert "not found" not in name


def test_swipe_drag_and_points_scroll_the_list(u2):
    settings(u2)
    top = u2.phone.top
    assert u2("swipe", 540, 2000, 540, 1200, 20) is True and top.scroll[LIST] > 0
    assert u2("drag", 540, 1200, 540, 2000, 20) is True and top.scroll[LIST] == 0
    assert u2("swipePoints", [540, 2000, 540, 1600, 540, 1200], 10) is True and top.scroll[LIST] > 0
    assert u2("swipePoints", [540, 2000], 10) is False
    assert u2("swipe", sel(scrollable=True), "down", 20) is True and top.scroll[LIST] == 0
    assert u2("swipe", sel(scrollable=True), "up", 0.5, 20) is True and top.scroll[LIST] > 0
    assert u2("swipe", sel(scrollable=True), "sideways", 20) is False


def test_misc_service_calls(u2):
    assert u2("ping") == "pong"
    assert u2("deviceInfo")["displayWidth"] == 1080
    assert u2("freezeRotation", True) is None and u2("setOrientation", "natural") is None
    assert u2("openNotification") is True and u2("openQuickSettings") is True
    assert u2("waitForIdle", 1000) is None
    assert u2("getConfigurator")["actionAcknowledgmentTimeout"] == 500
    assert u2("setConfigurator", {"waitForIdleTimeout": 100.0})["waitForIdleTimeout"] == 100
    assert u2("registerClickUiObjectWatcher", "w", [], sel(text="OK")) is None and u2("getWatchers") == ["w"]
    assert u2("hasAnyWatcherTriggered") is False
    assert u2("launchApp", "com.android.settings") is True and u2.phone.current_screen_name() == "settings_home"
    assert u2("launchApp", "com.nope") is False
    shell = u2("executeShellCommand", "getprop ro.product.model", 1000)
    assert shell == {"stdout": u2.phone.state.props["ro.product.model"] + "\n", "stderr": "", "returnCode": 0}
    u2.phone.toast("Saved")
    assert u2("getLastToast") == "Saved" and u2("clearLastToast") is None and u2("getLastToast") is None


def test_click_and_wait_for_new_window(u2):
    settings(u2)
    about = sel(text=u2.phone.variant.t("about_phone"))
    assert u2("clickAndWaitForNewWindow", about, 1000) is True and u2.phone.current_screen_name() == "about_phone"
    assert u2("longClick", sel(resourceId="android:id/title", instance=0), "tl") is True
