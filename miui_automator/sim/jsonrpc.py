"""The uiautomator2 JSON-RPC service (what u2.jar's ``AutomatorServiceImpl`` answers), without I/O.

:meth:`JsonRpc.handle` takes one request body and is a generator: it yields the seconds to
wait between polls (``waitForExists`` and friends block on a real device) and returns the
response bytes. The caller owns the sleeping, so the event loop is never blocked and unit
tests can drive a wait step by step while they change the phone.

Envelope rules follow jsonrpc4j as configured by ``com.wetest.uia2.Main``: the ``id`` is
echoed, ``result`` is always present (``null`` for void), ``params`` may be a list, ``{}`` or
missing, numbers are coerced the way Jackson does (``200.0`` -> ``200``). Exceptions become
``{"code": -32001, "message": <java class>, "data": <text>}``; an unknown method is jsonrpc4j's
``-32601 "method not found"`` (``makeToast`` is one: it is not in the jar's interface).

The module is longer than most because :class:`JsonRpc` is the jar's one service interface:
every method shares the server's state (named UiObjects, watchers, the configurator, the touch in
progress, the cached tree), so they stay methods of one class; the selector matching is in
selector.py and the screen model in phone.py.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import uuid
from types import GeneratorType
from typing import Any, Callable, Generator

from .phone import InputRefused, Phone
from .selector import MASKS, Selector, SelectorError, Tree, child_selector, parse_selector
from .ui import Node, hierarchy_xml

log = logging.getLogger(__name__)

JAVA_ERROR = -32001
NOT_FOUND = "androidx.test.uiautomator.UiObjectNotFoundException"
SECURITY = "java.lang.SecurityException"

POLL_SECONDS = 0.05  # how often a blocking wait re-reads the screen (selector waits: the timing profile's)
MAX_SEARCH_SWIPES = 30  # UiScrollable's default for scrollIntoView
SCROLL_FRACTION = 0.6  # one scroll step moves this share of the list's height
FLING_FRACTION = 2.0
LONG_PRESS_MS = 400  # ViewConfiguration's long-press timeout
MAX_HOLD_MS = 10_000  # a click [x, y, ms] or a gesture never holds the request longer than this
STEP_SECONDS = 0.005  # UiAutomator injects one move of a swipe or drag every 5 ms
TOUCH_SLOP = 24  # px a touch may wander and still be a tap
SWIPE_MARGIN = 5  # UiObject.swipe* stays this far inside the object's bounds
CORNER_INSET = 5  # UiObject.clickTopLeft/BottomRight offset
UI_OBJECT_TTL = 60.0  # the jar forgets named UiObjects after a minute

# UiDevice.press* names the jar's pressKey knows (anything else is false without injecting).
JAR_KEYS = {
    "home": 3, "back": 4, "left": 21, "right": 22, "up": 19, "down": 20, "center": 23, "menu": 82, "search": 84,
    "enter": 66, "delete": 67, "del": 67, "recent": 187, "volume_up": 24, "volume_down": 25, "volume_mute": 164,
    "camera": 27, "power": 26,
}

DEFAULT_IDLE_TIMEOUT_MS = 10_000  # UiDevice.waitForIdle() without a timeout: androidx's default
# What com.github.uiautomator.stub.AutomatorServiceImpl sets at start (waitForIdleTimeout 0, not 10 s).
DEFAULT_CONFIGURATOR = {
    "actionAcknowledgmentTimeout": 500, "keyInjectionDelay": 0, "scrollAcknowledgmentTimeout": 200,
    "waitForIdleTimeout": 0, "waitForSelectorTimeout": 0,
}

Wait = Generator[float, None, Any]


class Hold(float):
    """Seconds a call must take in full - a finger on the glass, a shell command's own time - so the
    frame clock (``frames.py``) may end it a little after its time, never before."""

# Calls that inject input: under a timing profile each answers after the phone's input latency.
INPUT_CALLS = frozenset({
    "click", "longClick", "pressKey", "pressKeyCode", "setText", "clearTextField", "clearInputText", "pasteClipboard",
    "wakeUp", "sleep",
})


class RpcError(Exception):
    """A JSON-RPC error object; ``data`` is omitted when None, as jsonrpc4j does."""

    def __init__(self, code: int, message: str, data: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def java_error(java_class: str, data: str) -> RpcError:
    return RpcError(JAVA_ERROR, java_class, data)


def not_found(what: str) -> RpcError:
    return java_error(NOT_FOUND, what)


def params_invalid() -> RpcError:
    return RpcError(-32602, "method parameters invalid")


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def android_base64(data: bytes) -> str:
    """``Base64.encodeToString(data, Base64.DEFAULT)``: 76-character lines, each ending in ``\\n``."""
    return base64.encodebytes(data).decode("ascii")


# ---------------------------------------------------------------- Jackson-style argument coercion
def _arity(args: tuple, *allowed: int) -> None:
    if len(args) not in allowed:
        raise params_invalid()


def _num(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise params_invalid()
    try:
        return float(value)
    except ValueError:
        raise params_invalid() from None


def _int(value: Any) -> int:
    return int(_num(value))


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise params_invalid()


def _str(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise params_invalid()


def _answer(arity: int, result: Any = None) -> Callable[..., Any]:
    """A method u2.jar answers without looking at the phone: its arguments are counted and
    ``result`` is the answer (None: a void method)."""

    def method(self: "JsonRpc", *args: Any) -> Any:
        _arity(args, arity)
        return result

    return method


def _scroller(arity: int, fraction: float, many: bool = False) -> Callable[..., Any]:
    """A UiScrollable method (``target, vertical, ...``): one scroll by ``fraction`` of the target's
    height, or with ``many`` up to ``args[2]`` of them (to the beginning or the end)."""

    def method(self: "JsonRpc", *args: Any) -> bool:
        _arity(args, arity)
        if many:
            return self._scroll_many(args[0], _bool(args[1]), fraction, _int(args[2]))
        return self._scroll(args[0], _bool(args[1]), fraction)

    return method


class JsonRpc:
    """One u2.jar server instance for one phone: named UiObjects, touch state and settings live here."""

    def __init__(self, phone: Phone) -> None:
        self.phone = phone
        self._objects: dict[str, tuple[dict[str, Any], float]] = {}
        self._watchers: set[str] = set()
        self._touch: list[float] | None = None  # x0, y0, t0, wandered
        self._configurator = dict(DEFAULT_CONFIGURATOR)
        self._tree: Tree | None = None
        self._tree_source: list[Node] | None = None

    # ------------------------------------------------------------ envelope
    def handle(self, body: bytes) -> Generator[float, None, bytes]:
        """Answer one request body; yields seconds to sleep while a call waits on the screen."""
        try:
            request = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return encode({"jsonrpc": "2.0", "id": None, "error": RpcError(-32700, "JSON parse error").to_json()})
        request_id = request.get("id") if isinstance(request, dict) else None
        try:
            method, args = self._unpack(request)
            result = method(*args)
            if isinstance(result, GeneratorType):
                result = yield from result
            cost = self._cost(request["method"], result)
            if cost > 0:
                yield cost  # the phone's own time for this call (timing.py); 0 under "instant"
        except RpcError as exc:
            return encode({"jsonrpc": "2.0", "id": request_id, "error": exc.to_json()})
        except InputRefused as exc:
            return encode({"jsonrpc": "2.0", "id": request_id, "error": java_error(SECURITY, str(exc)).to_json()})
        except SelectorError as exc:
            return encode({"jsonrpc": "2.0", "id": request_id, "error": java_error(exc.java_class, str(exc)).to_json()})
        except Exception as exc:  # a bug in the simulator must still look like a server error, not kill it
            log.exception("u2 JSON-RPC %r failed", request.get("method"))
            error = java_error("java.lang.RuntimeException", f"java.lang.RuntimeException: {type(exc).__name__}: {exc}")
            return encode({"jsonrpc": "2.0", "id": request_id, "error": error.to_json()})
        return encode({"jsonrpc": "2.0", "id": request_id, "result": result})

    def _unpack(self, request: Any) -> tuple[Callable[..., Any], tuple]:
        if not isinstance(request, dict) or not isinstance(request.get("method"), str):
            raise RpcError(-32600, "invalid request")
        name = request["method"]
        method = getattr(self, "rpc_" + name, None) if name.isidentifier() else None
        if method is None:
            raise RpcError(-32601, "method not found")
        params = request.get("params")
        if params is None or params == {}:
            return method, ()
        if not isinstance(params, list):
            raise params_invalid()
        return method, tuple(params)

    def _cost(self, name: str, result: Any) -> float:
        """Seconds a real phone spends on call ``name`` that returned ``result``."""
        timing = self.phone.timing
        if name == "dumpWindowHierarchy" and isinstance(result, str):
            return timing.dump(len(result.encode("utf-8")))
        if name == "takeScreenshot" and result is not None:
            return timing.screenshot()
        if name in INPUT_CALLS:
            return timing.input()
        return 0.0

    def _idle_wait(self, timeout_ms: int) -> Wait:
        """UiDevice.waitForIdle(timeout): back once the screen is idle or ``timeout_ms`` have passed."""
        deadline = self.phone.clock() + max(0, timeout_ms) / 1000
        while True:
            left = deadline - self.phone.clock()
            idle_in = self.phone.idle_in()
            if idle_in <= 0 or left <= 0:
                return None
            yield min(idle_in, left)

    # ------------------------------------------------------------ screen queries
    def _current(self) -> Tree:
        windows = self.phone.windows()
        if self._tree is None or windows is not self._tree_source:
            self._tree, self._tree_source = Tree(windows), windows
        return self._tree

    def _selector_json(self, target: Any) -> dict[str, Any]:
        if isinstance(target, dict):
            return target
        if isinstance(target, str):
            entry = self._objects.get(target)
            if entry is None or self.phone.clock() - entry[1] > UI_OBJECT_TTL:
                raise not_found(f"UiObject {target} not found!")
            return entry[0]
        raise params_invalid()

    def _selector(self, target: Any) -> Selector:
        return parse_selector(self._selector_json(target))

    def _find(self, target: Any) -> tuple[Tree, int]:
        selector = self._selector(target)
        tree = self._current()
        found = tree.find(selector)
        if found is None:
            raise not_found(str(selector))
        return tree, found

    def _node(self, target: Any) -> Node:
        tree, i = self._find(target)
        return tree.nodes[i]

    def _exists(self, selector: Selector) -> bool:
        return self._current().find(selector) is not None

    def _name(self, selector_json: dict[str, Any]) -> str:
        now = self.phone.clock()
        self._objects = {k: v for k, v in self._objects.items() if now - v[1] <= UI_OBJECT_TTL}
        name = str(uuid.uuid4())
        self._objects[name] = (selector_json, now)
        return name

    @staticmethod
    def _poll(check: Callable[[], bool], timeout_ms: int, interval: float = POLL_SECONDS) -> Wait:
        """True as soon as ``check`` passes, False once ``timeout_ms`` of polling has gone by."""
        for _ in range(max(0, math.ceil(timeout_ms / (interval * 1000)))):
            if check():
                return True
            yield interval
        return check()

    def _selector_poll(self, check: Callable[[], bool], timeout_ms: int) -> Wait:
        """A selector wait as uiautomator runs it: under a phone's clock it looks once a second, so an
        element that shows just after a look is seen up to a second late (scripts built on these waits
        pay that on every screen change); event-driven waits (window updates) use :meth:`_poll`."""
        return self._poll(check, timeout_ms, self.phone.timing.selector_poll or POLL_SECONDS)

    # ------------------------------------------------------------ service
    rpc_ping = _answer(0, "pong")

    def rpc_deviceInfo(self, *args: Any) -> dict[str, Any]:
        _arity(args, 0)
        return self.phone.device_info()

    def rpc_getLastToast(self, *args: Any) -> str | None:
        _arity(args, 0)
        return self.phone.last_toast

    def rpc_clearLastToast(self, *args: Any) -> None:
        _arity(args, 0)
        self.phone.last_toast = None

    def rpc_dumpWindowHierarchy(self, *args: Any) -> Wait:
        """The dump first waits for idle as long as the configurator says (the jar sets 0)."""
        _arity(args, 1, 2, 3)
        _bool(args[0])
        active_only = len(args) == 3 and _bool(args[2])
        yield from self._idle_wait(self._configurator["waitForIdleTimeout"])
        if active_only:
            return hierarchy_xml(self.phone.windows()[-1:])
        return self.phone.hierarchy_xml()

    def rpc_takeScreenshot(self, *args: Any) -> str | None:
        _arity(args, 2, 3)
        if len(args) == 3:
            return None  # the file-writing overload: u2 3.7 never uses it, and the jar may return null
        scale, quality = _num(args[0]), max(0, min(100, _int(args[1])))
        return android_base64(self.phone.screenshot("jpeg", quality, scale))

    def rpc_freezeRotation(self, *args: Any) -> None:
        _arity(args, 1)
        _bool(args[0])

    def rpc_setOrientation(self, *args: Any) -> None:
        _arity(args, 1)
        _str(args[0])

    rpc_getLastTraversedText = _answer(0)
    rpc_clearLastTraversedText = _answer(0)
    rpc_openNotification = _answer(0, True)
    rpc_openQuickSettings = _answer(0, True)

    def rpc_isScreenOn(self, *args: Any) -> bool:
        _arity(args, 0)
        return self.phone.state.screen_on

    def rpc_wakeUp(self, *args: Any) -> None:
        _arity(args, 0)
        if not self.phone.state.screen_on:
            self.phone.check_input()  # UiDevice.wakeUp injects KEYCODE_POWER
            self.phone.wake()

    def rpc_sleep(self, *args: Any) -> None:
        _arity(args, 0)
        if self.phone.state.screen_on:
            self.phone.check_input()
            self.phone.sleep()

    def rpc_waitForIdle(self, *args: Any) -> Wait:
        """No accessibility event for the quiet time (none under ``instant``) and no animation."""
        _arity(args, 0, 1)
        timeout = _int(args[0]) if args else DEFAULT_IDLE_TIMEOUT_MS
        return self._idle_wait(timeout)

    def rpc_waitForWindowUpdate(self, *args: Any) -> Wait | bool:
        _arity(args, 2)
        package, timeout = _str(args[0]), _int(args[1])
        if package is not None and package != self.phone.focus()[0]:
            return False
        version = self.phone.version

        def updated() -> bool:
            self.phone.tick()
            return self.phone.version != version

        return self._poll(updated, timeout)

    def rpc_getConfigurator(self, *args: Any) -> dict[str, int]:
        _arity(args, 0)
        return dict(self._configurator)

    def rpc_setConfigurator(self, *args: Any) -> dict[str, int]:
        _arity(args, 1)
        if not isinstance(args[0], dict):
            raise params_invalid()
        for key, value in args[0].items():
            if key in self._configurator and value is not None:
                self._configurator[key] = _int(value)
        return dict(self._configurator)

    def rpc_launchApp(self, *args: Any) -> bool:
        _arity(args, 1)
        return self.phone.launch_app(_str(args[0]) or "")

    def rpc_executeShellCommand(self, *args: Any) -> Wait:
        _arity(args, 2)
        from .shell import Shell

        result = Shell(self.phone).run(_str(args[0]) or "")
        if result.duration > 0:
            yield Hold(result.duration)  # the command's own time (sleep, md5sum, the shell round trip)
        return {"stdout": result.stdout.decode("utf-8", "replace"), "stderr": result.stderr.decode("utf-8", "replace"),
                "returnCode": result.rc}

    # ------------------------------------------------------------ watchers (u2 3.7 watches client-side)
    def rpc_registerClickUiObjectWatcher(self, *args: Any) -> None:
        _arity(args, 3)
        self._watchers.add(str(args[0]))

    rpc_registerPressKeyskWatcher = rpc_registerClickUiObjectWatcher

    def rpc_removeWatcher(self, *args: Any) -> None:
        _arity(args, 1)
        self._watchers.discard(str(args[0]))

    def rpc_getWatchers(self, *args: Any) -> list[str]:
        _arity(args, 0)
        return sorted(self._watchers)

    rpc_hasWatcherTriggered = _answer(1, False)
    rpc_hasAnyWatcherTriggered = _answer(0, False)
    rpc_resetWatcherTriggers = _answer(0)
    rpc_runWatchers = _answer(0)

    # ------------------------------------------------------------ keys, clipboard, text
    def rpc_pressKey(self, *args: Any) -> bool:
        _arity(args, 1)
        code = JAR_KEYS.get((_str(args[0]) or "").lower())
        return False if code is None else self.phone.press_key(code)

    def rpc_pressKeyCode(self, *args: Any) -> bool:
        _arity(args, 1, 2)
        return self.phone.press_key(_int(args[0]))

    def rpc_setClipboard(self, *args: Any) -> None:
        _arity(args, 2)
        _str(args[0])
        self.phone.clipboard = _str(args[1])

    def rpc_getClipboard(self, *args: Any) -> str | None:
        _arity(args, 0)
        return self.phone.clipboard

    def rpc_pasteClipboard(self, *args: Any) -> None:
        """Ctrl+V into the focused field: key injection, so the input gate applies."""
        _arity(args, 0)
        if self.phone.clipboard:
            self.phone.input_text(self.phone.clipboard)
        else:
            self.phone.check_input()

    def rpc_clearInputText(self, *args: Any) -> None:
        """Ctrl+A, Del in the focused field."""
        _arity(args, 0)
        self.phone.check_input()
        node = self.phone.focused_edit()
        if node is not None:
            self.phone.set_text(node, "")

    def rpc_getText(self, *args: Any) -> str:
        _arity(args, 1)
        tree, i = self._find(args[0])
        return tree.info(i)["text"]

    def rpc_setText(self, *args: Any) -> bool:
        """Click to focus (an injected touch), then ACTION_SET_TEXT; only edit fields take text."""
        _arity(args, 2)
        node = self._node(args[0])
        text = _str(args[1]) or ""
        self.phone.check_input()
        if not node.cls.endswith("EditText"):
            return False
        return self.phone.set_text(node, text)

    def rpc_clearTextField(self, *args: Any) -> None:
        _arity(args, 1)
        node = self._node(args[0])
        if node.cls.endswith("EditText"):
            self.phone.set_text(node, "")

    # ------------------------------------------------------------ touches
    def _center(self, target: Any) -> tuple[int, int]:
        return self._node(target).center

    def _point(self, target: Any, corner: str | None) -> tuple[int, int] | None:
        corner = (corner or "center").lower()
        if corner in ("c", "center"):
            return self._center(target)
        left, top, right, bottom = self._node(target).bounds
        if corner in ("tl", "topleft"):
            return left + CORNER_INSET, top + CORNER_INSET
        if corner in ("br", "bottomright"):
            return right - CORNER_INSET, bottom - CORNER_INSET
        return None

    def _press(self, x: int, y: int, ms: int) -> Wait:
        self.phone.check_input()  # touch down
        yield Hold(min(max(ms, 0), MAX_HOLD_MS) / 1000)
        return self.phone.long_tap(x, y, ms) if ms >= LONG_PRESS_MS else self.phone.tap(x, y)

    def rpc_click(self, *args: Any) -> Wait | bool:
        if args and isinstance(args[0], (dict, str)):
            _arity(args, 1, 2)
            point = self._point(args[0], _str(args[1]) if len(args) == 2 else None)
            return False if point is None else self.phone.tap(*point)
        _arity(args, 2, 3)
        x, y = _int(args[0]), _int(args[1])
        if x < 0 or y < 0:
            return False
        if len(args) == 3:
            return self._press(x, y, _int(args[2]))
        return self.phone.tap(x, y)

    def rpc_longClick(self, *args: Any) -> bool:
        _arity(args, 1, 2)
        if not isinstance(args[0], (dict, str)):
            raise params_invalid()
        point = self._point(args[0], _str(args[1]) if len(args) == 2 else None)
        return False if point is None else self.phone.long_tap(*point)

    def rpc_clickAndWaitForNewWindow(self, *args: Any) -> Wait:
        _arity(args, 2)
        x, y = self._center(args[0])
        timeout = _int(args[1])
        before = self.phone.current_screen_name()
        self.phone.tap(x, y)
        return self._poll(lambda: self.phone.current_screen_name() != before, timeout)

    def rpc_swipe(self, *args: Any) -> Wait | bool:
        if args and isinstance(args[0], (dict, str)):
            _arity(args, 3, 4)
            percent = _num(args[2]) if len(args) == 4 else 1.0
            return self._swipe_object(args[0], _str(args[1]) or "", percent, _int(args[-1]))
        _arity(args, 5)
        sx, sy, ex, ey, steps = (_int(a) for a in args)
        return self._gesture(self.phone.swipe(sx, sy, ex, ey, steps), steps)

    def rpc_drag(self, *args: Any) -> Wait:
        _arity(args, 5)
        sx, sy, ex, ey, steps = (_int(a) for a in args)
        return self._gesture(self.phone.swipe(sx, sy, ex, ey, steps), steps)

    @staticmethod
    def _gesture(done: bool, steps: int) -> Wait:
        """Answer once the gesture is over: UiAutomator moves the finger one step every 5 ms."""
        yield Hold(min(max(steps, 0) * STEP_SECONDS, MAX_HOLD_MS / 1000))
        return done

    def rpc_swipePoints(self, *args: Any) -> Wait | bool:
        _arity(args, 2)
        if not isinstance(args[0], list):
            raise params_invalid()
        points = [_int(v) for v in args[0]]
        if len(points) < 4:
            return False
        steps = _int(args[1])
        done = self.phone.swipe(points[0], points[1], points[-2], points[-1], steps)
        return self._gesture(done, steps * (len(points) // 2 - 1))

    def _swipe_object(self, target: Any, direction: str, percent: float, steps: int) -> Wait | bool:
        left, top, right, bottom = self._node(target).bounds
        cx, cy = (left + right) // 2, (top + bottom) // 2
        half_h = (bottom - top - 2 * SWIPE_MARGIN) * percent / 2
        half_w = (right - left - 2 * SWIPE_MARGIN) * percent / 2
        moves = {
            "up": (cx, cy + half_h, cx, cy - half_h), "down": (cx, cy - half_h, cx, cy + half_h),
            "left": (cx + half_w, cy, cx - half_w, cy), "right": (cx - half_w, cy, cx + half_w, cy),
        }
        direction = direction.lower()
        move = next((m for name, m in moves.items() if direction in (name, name[0])), None)
        if move is None:
            return False
        return self._gesture(self.phone.swipe(*(int(v) for v in move), steps), steps)

    def rpc_dragTo(self, *args: Any) -> Wait:
        _arity(args, 3, 4)
        sx, sy = self._center(args[0])
        if len(args) == 3:
            ex, ey = self._center(args[1])
        else:
            ex, ey = _int(args[1]), _int(args[2])
        steps = _int(args[-1])
        return self._gesture(self.phone.swipe(sx, sy, ex, ey, steps), steps)

    def rpc_injectInputEvent(self, *args: Any) -> bool:
        """Raw touches: a down and an up close together are a tap (long if held), anything else a swipe."""
        _arity(args, 4)
        action, x, y = _int(args[0]), _num(args[1]), _num(args[2])
        if action not in (0, 1, 2):
            return False
        if action == 0:
            self.phone.check_input()
            self._touch = [x, y, self.phone.clock(), 0.0]
            return True
        touch = self._touch
        if action == 2 or touch is None:
            self.phone.check_input()
            if touch is not None:
                touch[3] = max(touch[3], math.hypot(x - touch[0], y - touch[1]))
            return True
        self._touch = None
        x0, y0, t0, wandered = touch
        if max(wandered, math.hypot(x - x0, y - y0)) <= TOUCH_SLOP:
            held_ms = round((self.phone.clock() - t0) * 1000)
            return self.phone.long_tap(x0, y0, held_ms) if held_ms >= LONG_PRESS_MS else self.phone.tap(x0, y0)
        return self.phone.swipe(x0, y0, x, y, 10)

    def rpc_gesture(self, *args: Any) -> bool:
        _arity(args, 6)
        self._node(args[0])
        self.phone.check_input()
        return True

    def rpc_pinchIn(self, *args: Any) -> bool:
        _arity(args, 3)
        self._node(args[0])
        self.phone.check_input()
        return True

    rpc_pinchOut = rpc_pinchIn

    # ------------------------------------------------------------ objects
    def rpc_exist(self, *args: Any) -> bool:
        _arity(args, 1)
        try:
            return self._exists(self._selector(args[0]))
        except RpcError:
            if isinstance(args[0], str):
                return False
            raise

    def rpc_count(self, *args: Any) -> int:
        _arity(args, 1)
        return len(self._current().select(self._selector(args[0])))

    def rpc_objInfo(self, *args: Any) -> dict[str, Any]:
        _arity(args, 1)
        tree, i = self._find(args[0])
        return tree.info(i)

    def rpc_objInfoOfAllInstances(self, *args: Any) -> list[dict[str, Any]]:
        _arity(args, 1)
        tree = self._current()
        return [tree.info(i) for i in tree.select(self._selector(args[0]))]

    def rpc_waitForExists(self, *args: Any) -> Wait:
        _arity(args, 2)
        selector = self._selector(args[0])
        return self._selector_poll(lambda: self._exists(selector), _int(args[1]))

    def rpc_waitUntilGone(self, *args: Any) -> Wait:
        _arity(args, 2)
        selector = self._selector(args[0])
        return self._selector_poll(lambda: not self._exists(selector), _int(args[1]))

    # ------------------------------------------------------------ scrolling (UiScrollable)
    def _scroll(self, target: Any, vertical: bool, fraction: float) -> bool:
        """One swipe inside the scrollable object; False when it cannot move further that way."""
        node = self._node(target)
        self.phone.check_input()
        if not vertical:
            return False  # MIUI Settings lists only scroll vertically
        top, bottom = node.bounds[1], node.bounds[3]
        delta = int(math.copysign(max(1, int((bottom - top) * abs(fraction))), fraction))
        if node.scrollable and node.rid:
            return self.phone.scroll_list(node.rid, delta)
        return self.phone.scroll_at(*node.center, delta)

    def _scroll_many(self, target: Any, vertical: bool, fraction: float, max_swipes: int) -> bool:
        for _ in range(max(0, max_swipes)):
            if not self._scroll(target, vertical, fraction):
                break
        return True

    rpc_scrollForward = _scroller(3, SCROLL_FRACTION)
    rpc_scrollBackward = _scroller(3, -SCROLL_FRACTION)
    rpc_flingForward = _scroller(2, FLING_FRACTION)
    rpc_flingBackward = _scroller(2, -FLING_FRACTION)
    rpc_scrollToBeginning = _scroller(4, -SCROLL_FRACTION, many=True)
    rpc_scrollToEnd = _scroller(4, SCROLL_FRACTION, many=True)
    rpc_flingToBeginning = _scroller(3, -FLING_FRACTION, many=True)
    rpc_flingToEnd = _scroller(3, FLING_FRACTION, many=True)

    def _scroll_into_view(self, container: Any, target: dict[str, Any], vertical: bool) -> bool:
        """UiScrollable.scrollIntoView: from the top, scroll until a child matching ``target`` shows."""
        wanted = parse_selector(child_selector(self._selector_json(container), target))
        if self._exists(wanted):
            return True
        self._scroll_many(container, vertical, -SCROLL_FRACTION, MAX_SEARCH_SWIPES)
        if self._exists(wanted):
            return True
        for _ in range(MAX_SEARCH_SWIPES):
            scrolled = self._scroll(container, vertical, SCROLL_FRACTION)
            if self._exists(wanted):
                return True
            if not scrolled:
                return False
        return False

    def rpc_scrollTo(self, *args: Any) -> bool:
        _arity(args, 3)
        if not isinstance(args[1], dict):
            raise params_invalid()
        return self._scroll_into_view(args[0], args[1], _bool(args[2]))

    # ------------------------------------------------------------ named UiObjects (legacy API)
    def _child_by(self, field: str, contains: bool, args: tuple) -> str:
        _arity(args, 3, 4)
        collection, child, text = args[0], args[1], _str(args[2])
        if not isinstance(child, dict) or text is None:
            raise params_invalid()
        container = self._selector_json(collection)
        tree, at = self._find(container)
        scroll = _bool(args[3]) if len(args) == 4 else tree.nodes[at].scrollable
        if scroll:
            self._scroll_into_view(container, {"mask": MASKS[field], field: text}, True)
        tree = self._current()
        attr = "text" if field == "text" else "desc"
        probe = parse_selector({"mask": MASKS[field], field: text})
        for k, row in enumerate(tree.select(parse_selector(child_selector(container, child)))):
            own = tree.attr(row, attr)
            if (text in own) if contains else (own == text):
                return self._name(child_selector(container, child, k))
            if any(probe.first.matches(tree, i) for i in range(row + 1, tree.end[row])):
                return self._name(child_selector(container, child, k))
        raise not_found(f'for {"text" if field == "text" else "description"}= "{text}"')

    def rpc_childByText(self, *args: Any) -> str:
        return self._child_by("text", False, args)

    def rpc_childByDescription(self, *args: Any) -> str:
        return self._child_by("descriptionContains", True, args)

    def rpc_childByInstance(self, *args: Any) -> str:
        _arity(args, 3)
        if not isinstance(args[1], dict):
            raise params_invalid()
        return self._name(child_selector(self._selector_json(args[0]), args[1], _int(args[2])))

    def rpc_getUiObject(self, *args: Any) -> str:
        _arity(args, 1)
        self._find(args[0])
        return self._name(self._selector_json(args[0]))

    def rpc_getChild(self, *args: Any) -> str | None:
        _arity(args, 2)
        return self._relative(args, "child")

    def rpc_getFromParent(self, *args: Any) -> str | None:
        _arity(args, 2)
        return self._relative(args, "sibling")

    def _relative(self, args: tuple, kind: str) -> str | None:
        if not isinstance(args[1], dict):
            raise params_invalid()
        entry = self._objects.get(_str(args[0]) or "")
        if entry is None:
            return None
        base = dict(entry[0])
        base["childOrSibling"] = list(base.get("childOrSibling") or []) + [kind]
        base["childOrSiblingSelector"] = list(base.get("childOrSiblingSelector") or []) + [args[1]]
        return self._name(base)

    def rpc_removeUiObject(self, *args: Any) -> None:
        _arity(args, 1)
        self._objects.pop(_str(args[0]) or "", None)

    def rpc_getUiObjects(self, *args: Any) -> list[str]:
        _arity(args, 0)
        return list(self._objects)
