"""AndroidDevice against a misbehaving phone faked at the adbutils and JSON-RPC layers (no sockets).

The fakes replace what AndroidDevice talks to - the adb client, adbutils' raw ``shell`` and
uiautomator2's HTTP request - and leave the real parsing code of adbutils and uiautomator2 in
between, so garbage takes the same path it takes from a phone. Every case must end in one
DeviceError that names the phone and the operation, never in another exception.
"""

from __future__ import annotations

import io
import json
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import adbutils
import pytest
import uiautomator2.core as u2core
from PIL import Image

from miui_automator.device.android import AUTOMATION_RESTARTS_PER_CALL, AndroidDevice, Automation, Deadlines
from miui_automator.device.deadline import DeadlineClient
from miui_automator.errors import AutomationRestarted, DeviceError

SERIAL = "PHONE42"
XML = ('<?xml version="1.0" ?><hierarchy rotation="0"><node text="Sign out" package="com.xiaomi.account" '
       'bounds="[0,0][1080,2400]" /></hierarchy>')


class FakeAdb(adbutils.AdbDevice):
    """adbutils' own device with the wire replaced by a script: ``shell`` answers ``replies[command]``."""

    def __init__(self, client: adbutils.AdbClient) -> None:
        super().__init__(client, serial=SERIAL)
        self.replies: dict[str, bytes | Exception] = {}

    def shell(self, cmdargs, stream=False, timeout=None, encoding="utf-8", rstrip=True):  # noqa: ANN001
        command = cmdargs if isinstance(cmdargs, str) else " ".join(cmdargs)
        reply = next((r for prefix, r in self.replies.items() if command.startswith(prefix)), b"")
        if isinstance(reply, Exception):
            raise reply
        return reply if encoding is None else reply.decode(encoding)


class FakeClient(DeadlineClient):
    def __init__(self, state: str = "device") -> None:
        super().__init__(host="127.0.0.1", port=9)
        self.state = state
        self.adb = FakeAdb(self)

    def list(self, extended: bool = False) -> list[adbutils.AdbDeviceInfo]:
        return [adbutils.AdbDeviceInfo(serial=SERIAL, state=self.state)]

    def device(self, serial=None, transport_id=None) -> adbutils.AdbDevice:  # noqa: ANN001
        return self.adb


class Rpc:
    """uiautomator2's HTTP request replaced by a script of answers per JSON-RPC method; counts restarts."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.answers: dict[str, list[bytes | Exception]] = {}
        self.calls: list[str] = []
        self.starts = 0
        self.stops = 0
        monkeypatch.setattr(u2core, "_http_request", self._request)
        monkeypatch.setattr(u2core.BasicUiautomatorServer, "start_uiautomator", self._start)
        monkeypatch.setattr(u2core.BasicUiautomatorServer, "stop_uiautomator", self._stop)

    def _start(self, *server) -> None:  # noqa: ANN002
        self.starts += 1

    def _stop(self, *server, wait: bool = True) -> None:  # noqa: ANN002
        self.stops += 1

    def answer(self, method: str, *replies: bytes | Exception | object) -> None:
        self.answers[method] = [r if isinstance(r, (bytes, Exception)) else json.dumps({"jsonrpc": "2.0", "id": 1,
                                                                                         "result": r}).encode()
                                for r in replies]

    def _request(self, dev, port, method, path, data=None, timeout=10.0, print_request=False):  # noqa: ANN001
        name = data["method"] if data else path
        self.calls.append(name)
        queue = self.answers.get(name) or [json.dumps({"jsonrpc": "2.0", "id": 1, "result": True}).encode()]
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(reply, Exception):
            raise reply
        return u2core.HTTPResponse(reply)


@pytest.fixture
def rpc(monkeypatch: pytest.MonkeyPatch) -> Rpc:
    return Rpc(monkeypatch)


@pytest.fixture
def phone(rpc: Rpc) -> AndroidDevice:
    return AndroidDevice(SERIAL, client=FakeClient(), deadlines=Deadlines(shell_s=2, rpc_s=2, start_s=2))


def device_error(call: Callable[[], object], kind: type[DeviceError] = DeviceError) -> DeviceError:
    with pytest.raises(DeviceError) as caught:
        call()
    assert type(caught.value) is kind, caught.value
    assert str(caught.value).startswith(f"{SERIAL}: ") and "\n" not in str(caught.value)
    assert caught.value.exit_code == 3 and caught.value.__cause__ is None
    return caught.value


# ---------------------------------------------------------------- shell and properties
def test_a_garbled_shell_exit_marker_is_a_device_error(phone: AndroidDevice) -> None:
    phone.adb.replies["dumpsys battery"] = b"level: 50\nX4EXIT:NaN\n"  # adbutils then does int(b'NaN\n')
    err = device_error(lambda: phone.shell("dumpsys battery"))
    assert "shell dumpsys" in str(err) and "ValueError" in str(err)


def test_a_shell_reply_without_exit_marker_is_a_device_error(phone: AndroidDevice) -> None:
    phone.adb.replies["getprop"] = b"[ro.product.model]: [x]\n"
    assert "shell getprop" in str(device_error(phone.props))


def test_garbage_properties_are_unknown_not_fatal(phone: AndroidDevice) -> None:
    phone.adb.replies = {
        "getprop": b"[ro.build.version.sdk]: [\xc2\xb3\xc2\xb3]\n[ro.product.model]: [M2012K11AG]\nX4EXIT:0\n",
        "dumpsys battery": b"  level: --5\n  scale: 100\nX4EXIT:0\n",
        "dumpsys": b"X4EXIT:0\n",
    }
    info = phone.info()
    assert info.sdk is None and info.battery_level is None and info.model == "M2012K11AG"


def test_device_text_in_an_error_is_masked(phone: AndroidDevice) -> None:
    phone.adb.replies["dumpsys account"] = adbutils.AdbError("closed while sending Account {name=1234567890, "
                                                             "type=com.xiaomi} and owner0@gmail.com")
    err = device_error(lambda: phone.shell("dumpsys account"))
    assert "1234567890" not in str(err) and "owner0@" not in str(err)
    assert "12******90" in str(err) and "ow**r0@gmail.com" in str(err)


def test_a_failed_start_quotes_the_phone_masked(phone: AndroidDevice) -> None:
    phone.adb.replies["am start"] = b"Error: no activity for user 1234567890\nX4EXIT:1\n"
    err = device_error(lambda: phone.start(action="android.settings.SYNC_SETTINGS", extras={"account": "9876543210"}))
    assert "12******90" in str(err) and "98******10" in str(err)
    assert "1234567890" not in str(err) + str(err.data) and "9876543210" not in str(err) + str(err.data)


def test_an_unexpected_exception_at_the_boundary_is_a_device_error(phone: AndroidDevice) -> None:
    phone.adb.replies["wm size"] = RuntimeError("anything at all")
    err = device_error(phone.window_size)
    assert "window size" in str(err) and "RuntimeError: anything at all" in str(err)


def test_an_absurd_window_size_is_a_device_error(phone: AndroidDevice) -> None:
    phone.adb.replies["wm size"] = b"Physical size: 0x-5\nX4EXIT:0\n"
    assert "window size" in str(device_error(phone.window_size))


# ---------------------------------------------------------------- JSON-RPC answering garbage
@pytest.mark.parametrize("body", [
    b'{"jsonrpc": "2.0", "id": 1, "result": "<?xml',  # cut off mid-way
    b"<html>502 Bad Gateway</html>",  # not JSON
    b"null",  # JSON, but not an answer
    b'{"jsonrpc": "2.0", "id": 1, "result": null}',  # an answer of nothing: uiautomator2 then fails with TypeError
    b'{"jsonrpc": "2.0", "id": 1, "result": 42}',
    b'{"jsonrpc": "2.0", "id": 1, "error": "not an object"}',
], ids=["cut-off", "html", "null", "null-result", "number-result", "error-not-object"])
def test_a_hierarchy_answered_with_garbage_is_a_device_error(phone: AndroidDevice, rpc: Rpc, body: bytes) -> None:
    rpc.answer("dumpWindowHierarchy", body)
    err = device_error(phone.hierarchy)
    assert "reading the UI hierarchy" in str(err)
    assert rpc.stops == AUTOMATION_RESTARTS_PER_CALL  # garbage: the server was restarted once, the read repeated once
    assert rpc.calls.count("dumpWindowHierarchy") == 1 + AUTOMATION_RESTARTS_PER_CALL


def test_a_read_is_repeated_after_a_restart(phone: AndroidDevice, rpc: Rpc) -> None:
    rpc.answer("dumpWindowHierarchy", ConnectionResetError("server died"), XML)
    assert phone.hierarchy().first(text="Sign out") is not None
    assert rpc.stops == 1 and rpc.calls.count("dumpWindowHierarchy") == 2


def test_two_calls_that_meet_the_same_dead_server_restart_it_once(phone: AndroidDevice, rpc: Rpc,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    rpc.answer("dumpWindowHierarchy", ConnectionResetError("server died"), ConnectionResetError("server died"), XML)
    both_failed = threading.Barrier(2, timeout=5)
    request = rpc._request

    def failing_together(*args, **kwargs):  # noqa: ANN002, ANN003
        try:
            return request(*args, **kwargs)
        except ConnectionResetError:
            both_failed.wait()  # neither restarts before the other has met the dead server
            raise

    monkeypatch.setattr(u2core, "_http_request", failing_together)
    _ = phone.u2
    with ThreadPoolExecutor(max_workers=2) as pool:
        reads = [pool.submit(phone.hierarchy) for _ in range(2)]
        assert all(r.result(timeout=10).first(text="Sign out") is not None for r in reads)
    assert rpc.stops == 1  # a second restart would have killed the server the first one started


def test_an_action_that_may_have_landed_is_not_repeated(phone: AndroidDevice, rpc: Rpc) -> None:
    rpc.answer("click", ConnectionResetError("server died mid-call"))
    err = device_error(lambda: phone.tap(540, 1200), AutomationRestarted)
    assert "tap at 540,1200" in str(err) and "restarted" in str(err)
    assert rpc.calls.count("click") == 1 and rpc.stops == 1


def test_an_action_that_never_left_is_repeated_after_the_restart(phone: AndroidDevice, rpc: Rpc) -> None:
    refused = u2core.HTTPError("Unable to connect to uiautomator2 server")
    refused.__cause__ = adbutils.AdbError("connection refused")
    rpc.answer("pressKey", refused, True)
    phone.press("back")
    assert rpc.calls.count("pressKey") == 2 and rpc.stops == 1


def test_an_answered_refusal_restarts_nothing(phone: AndroidDevice, rpc: Rpc) -> None:
    rpc.answer("click", json.dumps({"jsonrpc": "2.0", "id": 1, "error": {
        "code": -32001, "message": "java.lang.SecurityException: Injecting to another application requires "
                                   "INJECT_EVENTS permission"}}).encode())
    err = device_error(lambda: phone.tap(1, 2))
    assert "MIUI refused the input" in str(err) and rpc.stops == 0


def test_a_failed_restart_is_one_device_error(phone: AndroidDevice, rpc: Rpc, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(server) -> None:  # noqa: ANN001
        raise u2core.LaunchUiAutomationError("server quit unexpectly", "Account {name=1234567890, type=com.xiaomi}")

    rpc.answer("dumpWindowHierarchy", ConnectionResetError("gone"))
    phone.u2  # started while the fake start still works
    monkeypatch.setattr(u2core.BasicUiautomatorServer, "start_uiautomator", broken)
    err = device_error(phone.hierarchy)
    assert "restarting uiautomator2 failed too" in str(err) and "1234567890" not in str(err.data)


def test_typing_errors_never_quote_the_text(phone: AndroidDevice, rpc: Rpc) -> None:
    rpc.answer("exist", True)
    rpc.answer("setText", json.dumps({"jsonrpc": "2.0", "id": 1, "error": {
        "code": -32002, "message": "failed to set text hunter2", "data": "hunter2"}}).encode())
    err = device_error(lambda: phone.type_text("hunter2"))
    assert "hunter2" not in str(err) and "typing failed" in str(err)


def test_automation_sends_each_call_once(rpc: Rpc) -> None:
    """uiautomator2's own jsonrpc_call restarts and repeats on a connection error; Automation never does."""
    d = Automation(FakeClient().adb)
    rpc.answer("click", u2core.HTTPError("server went away"))
    with pytest.raises(u2core.HTTPError):
        d.click(1, 2)
    assert rpc.calls.count("click") == 1 and rpc.stops == 0


# ---------------------------------------------------------------- screenshots
def png(size: tuple[int, int], mode: str = "RGB") -> bytes:
    """Noise (so a cut-off file really misses pixels), or for mode "1" a flat image that compresses to nothing."""
    image = Image.new("1", size) if mode == "1" else Image.frombytes("RGB", size, random.randbytes(size[0] * size[1] * 3))
    buf = io.BytesIO()
    image.convert(mode).save(buf, "PNG")
    return buf.getvalue()


def b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


@pytest.mark.parametrize("answer, expected", [
    (b64(png((5000, 5000), "1")), "larger than any screen"),  # a decompression bomb
    (b64(png((40, 80))[:200]), "screenshot does not decode"),  # a PNG cut off
    ("%%% not base64 %%%", "screenshot does not decode"),
    (12345, "not base64 text"),
], ids=["bomb", "cut-off", "not-base64", "not-text"])
def test_a_screenshot_that_does_not_decode_is_a_device_error(phone: AndroidDevice, rpc: Rpc, answer: object,
                                                             expected: str) -> None:
    rpc.answer("takeScreenshot", answer)
    assert expected in str(device_error(phone.screenshot))


def test_the_screencap_fallback_is_decoded_in_full(phone: AndroidDevice, rpc: Rpc) -> None:
    rpc.answer("takeScreenshot", None)
    phone.adb.replies["screencap"] = png((40, 80))[:300]  # adbutils' own fallback would return a lazy image
    assert "does not decode" in str(device_error(phone.screenshot))
    phone.adb.replies["screencap"] = png((40, 80))
    assert phone.screenshot().size == (40, 80)


def test_a_good_screenshot_is_a_loaded_rgb_image(phone: AndroidDevice, rpc: Rpc) -> None:
    rpc.answer("takeScreenshot", b64(png((40, 80), "RGBA")))
    image = phone.screenshot()
    assert image.mode == "RGB" and image.size == (40, 80)


# ---------------------------------------------------------------- the adb server
def test_an_unauthorized_phone_is_named_with_a_hint(rpc: Rpc) -> None:
    err = device_error(lambda: AndroidDevice(SERIAL, client=FakeClient("unauthorized")))
    assert "accept the USB debugging prompt" in str(err)


def test_a_hierarchy_that_is_not_xml_names_the_phone_and_is_masked(phone: AndroidDevice, rpc: Rpc) -> None:
    from miui_automator.device.hierarchy import HierarchyError

    rpc.answer("dumpWindowHierarchy", "ERROR: Account {name=1234567890, type=com.xiaomi}")
    err = device_error(phone.hierarchy, HierarchyError)
    assert "reading the UI hierarchy: no <hierarchy> in dump" in str(err) and "12******90" in str(err)
    assert err.data["serial"] == SERIAL and "1234567890" not in str(err.data)
    assert rpc.stops == 0  # the server answered: nothing to restart


@pytest.mark.parametrize("answered, full", [(".ui.AccountSettingsActivity", "com.xiaomi.account.ui.AccountSettingsActivity"),
                                            ("com.other.Main", "com.other.Main")])
def test_current_app_names_the_activity_in_full(phone: AndroidDevice, monkeypatch: pytest.MonkeyPatch,
                                                answered: str, full: str) -> None:
    from types import SimpleNamespace

    monkeypatch.setattr(phone.adb, "app_current",
                        lambda: SimpleNamespace(package="com.xiaomi.account", activity=answered), raising=False)
    assert phone.current_app() == ("com.xiaomi.account", full)
