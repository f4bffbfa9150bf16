"""The JSON-RPC envelope of the simulated uiautomator2 server: what jsonrpc4j in u2.jar answers."""

import base64
import io
import json

import pytest
from PIL import Image

from miui_automator.sim.jsonrpc import JsonRpc, android_base64
from miui_automator.sim.phone import InputRefused, Phone


def run(rpc, body):
    """Drive one call to completion, ignoring its poll sleeps; returns the decoded response."""
    call = rpc.handle(body if isinstance(body, bytes) else json.dumps(body).encode())
    try:
        while True:
            next(call)
    except StopIteration as done:
        return json.loads(done.value)


@pytest.fixture
def rpc():
    return JsonRpc(Phone("miui14-en"))


def test_result_key_is_present_even_for_void_and_id_is_echoed(rpc):
    response = run(rpc, {"jsonrpc": "2.0", "id": 7, "method": "clearLastToast", "params": {}})
    assert response == {"jsonrpc": "2.0", "id": 7, "result": None}
    assert run(rpc, {"jsonrpc": "2.0", "id": "abc", "method": "getLastToast"}) == {"jsonrpc": "2.0", "id": "abc", "result": None}


@pytest.mark.parametrize("params", [[], {}, None])
def test_empty_params_in_every_shape(rpc, params):
    body = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    if params is not None:
        body["params"] = params
    assert run(rpc, body)["result"] == "pong"


def test_floats_are_accepted_where_java_wants_int(rpc):
    rpc.phone.start_activity(component="com.android.settings/.MainSettings")
    response = run(rpc, {"jsonrpc": "2.0", "id": 1, "method": "click", "params": [540.0, 1500.7]})
    assert response["result"] is True
    assert rpc.phone.input_events == 1


def test_negative_coordinates_are_false_without_touching(rpc):
    assert run(rpc, {"id": 1, "method": "click", "params": [-1, 10]})["result"] is False
    assert rpc.phone.input_events == 0


def test_unknown_method_and_make_toast_are_method_not_found(rpc):
    for method in ("noSuchMethod", "makeToast", "__init__", "handle"):
        response = run(rpc, {"jsonrpc": "2.0", "id": 3, "method": method, "params": ["hi", 1000]})
        assert response["id"] == 3
        assert response["error"] == {"code": -32601, "message": "method not found"}
        assert "result" not in response


def test_wrong_arity_is_params_invalid(rpc):
    response = run(rpc, {"id": 1, "method": "click", "params": [1]})
    assert response["error"]["code"] == -32602


def test_parse_error_and_invalid_request(rpc):
    assert run(rpc, b"{not json")["error"] == {"code": -32700, "message": "JSON parse error"}
    assert run(rpc, {"id": 4, "params": []})["error"]["code"] == -32600
    assert run(rpc, {"id": 4, "method": "ping", "params": "x"})["error"]["code"] == -32602


def test_missing_object_is_uiobjectnotfound_with_string_data(rpc):
    sel = {"mask": 1, "childOrSibling": [], "childOrSiblingSelector": [], "text": "Nowhere"}
    error = run(rpc, {"id": 1, "method": "objInfo", "params": [sel]})["error"]
    assert error["code"] == -32001
    assert error["message"] == "androidx.test.uiautomator.UiObjectNotFoundException"
    assert isinstance(error["data"], str) and "Nowhere" in error["data"]


def test_input_gate_off_is_a_security_exception():
    phone = Phone("hyperos1-en", faults="noinput")
    rpc = JsonRpc(phone)
    for body in ({"id": 1, "method": "click", "params": [500, 500]}, {"id": 1, "method": "pressKey", "params": ["back"]},
                 {"id": 1, "method": "swipe", "params": [500, 1800, 500, 600, 20]}):
        error = run(rpc, body)["error"]
        assert error["code"] == -32001
        assert error["message"] == "java.lang.SecurityException"
        assert error["data"] == InputRefused.MESSAGE
    assert phone.input_events == 3


def test_bad_regex_is_a_pattern_syntax_exception(rpc):
    sel = {"mask": 4, "textMatches": "(oops"}
    assert run(rpc, {"id": 1, "method": "exist", "params": [sel]})["error"]["message"] == "java.util.regex.PatternSyntaxException"


def test_screenshot_is_wrapped_base64_jpeg(rpc):
    result = run(rpc, {"id": 1, "method": "takeScreenshot", "params": [1, 80]})["result"]
    lines = result.split("\n")
    assert result.endswith("\n") and lines[-1] == ""
    assert all(len(line) == 76 for line in lines[:-2]) and 0 < len(lines[-2]) <= 76
    image = Image.open(io.BytesIO(base64.b64decode(result)))
    assert image.format == "JPEG" and image.size == (1080, 2400)


def test_android_base64_matches_default_flags():
    assert android_base64(b"") == ""
    assert android_base64(b"abc") == "YWJj\n"
    assert android_base64(bytes(57)) == "A" * 76 + "\n"
    assert android_base64(bytes(58)) == "A" * 76 + "\nAA==\n"


def test_dump_is_the_phone_hierarchy(rpc):
    xml = run(rpc, {"id": 1, "method": "dumpWindowHierarchy", "params": [False, 50]})["result"]
    assert xml == rpc.phone.hierarchy_xml()
    assert xml.startswith("<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\r\n<hierarchy rotation=\"0\">")
    active = run(rpc, {"id": 1, "method": "dumpWindowHierarchy", "params": [False, 50, True]})["result"]
    assert 'package="com.android.systemui"' in xml and 'package="com.android.systemui"' not in active


def test_non_ascii_is_sent_as_utf8(rpc):
    phone = Phone("hyperos2-zh")
    raw = JsonRpc(phone).handle(json.dumps({"id": 1, "method": "dumpWindowHierarchy", "params": [False]}).encode())
    with pytest.raises(StopIteration) as done:
        next(raw)
    assert "设置".encode() in done.value.value


def test_a_simulator_bug_is_a_java_runtime_exception(rpc, monkeypatch):
    def broken():
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(rpc.phone, "device_info", broken)
    error = run(rpc, {"id": 1, "method": "deviceInfo"})["error"]
    assert error["message"] == "java.lang.RuntimeException" and "boom" in error["data"]
