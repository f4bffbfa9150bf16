"""The simulated phone: state + a stack of screens + faults, behind one facade that the
shell, the uiautomator2 server and the transport all use.

Everything here runs on one event-loop thread (the transport's), so the model needs no
locks. Time comes from one injectable clock; work that takes time on a real phone (a backup
running, signing out, a reboot) is scheduled as timers that :meth:`Phone.tick` fires. Faults
(``faults.py``) act only through the hooks the phone calls at fixed moments (``self.faults``).

The module is longer than most because it is the one facade every other part of the simulator
calls (shell, uiautomator2 server, transport, screens); the screens themselves live in
``screens/``, the faults in ``faults.py``, how long things take in ``timing.py`` and the frames
of a transition in ``animation.py``.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from .account_server import AccountServer
from .animation import Animation
from .apps import apply_locale, install_apps
from .faults import FaultSet, parse_faults
from .labels import resource_of
from .layout import status_bar
from .state import DEFAULT_ACCOUNT_ID, DEFAULT_PASSWORD, PhoneState, new_state
from .strings import Locale, android_format, resources
from .timing import HIERARCHY_SWITCH, Timing
from .ui import SCREEN_H, SCREEN_W, Node, hierarchy_xml, hit_test
from .variants import Variant, get_variant

KEYCODES = {
    "home": 3, "back": 4, "call": 5, "endcall": 6, "up": 19, "down": 20, "left": 21, "right": 22,
    "center": 23, "volume_up": 24, "volume_down": 25, "power": 26, "camera": 27, "clear": 28,
    "tab": 61, "space": 62, "enter": 66, "del": 67, "delete": 67, "menu": 82, "search": 84,
    "recent": 187, "app_switch": 187, "volume_mute": 164, "wakeup": 224, "sleep": 223,
}


class InputRefused(Exception):
    """Input injection refused: MIUI's "USB debugging (Security settings)" is off."""

    MESSAGE = ("java.lang.SecurityException: Injecting input events requires the caller (or the source of the "
               "instrumentation, if any) to have the INJECT_EVENTS permission.")

    def __init__(self) -> None:
        super().__init__(self.MESSAGE)


@dataclass
class Timer:
    due: float
    fn: Callable[[], None]


class Screen:
    """An activity instance. Subclasses build their window and react to actions."""

    name = "unknown"
    package = ""
    activity = ""

    def __init__(self, phone: "Phone") -> None:
        self.phone = phone
        self.scroll: dict[str, int] = {}
        self.max_scroll: dict[str, int] = {}
        self.dialog: "Dialog | None" = None

    @property
    def v(self) -> Variant:
        return self.phone.variant

    def t(self, label: str, *args: object) -> str:
        return self.phone.text(label, *args, package=self.package)

    @property
    def title_id(self) -> str:
        """The resource-id of this app's page titles: the variant's Settings one, in this screen's package."""
        return self.v.title_id.replace("com.android.settings", self.package)

    def build(self) -> Node:
        raise NotImplementedError

    def on_action(self, action: str, node: Node) -> None:
        """A tap on a node whose ``action`` is set; "back" is handled for everyone."""

    def on_text(self, action: str, text: str) -> None:
        """Text typed into an edit field whose ``action`` is given."""

    def on_back(self) -> bool:
        """True when the screen handled back itself (default: close the dialog if one is open)."""
        if self.dialog is not None and self.dialog.cancelable:
            self.dialog = None
            return True
        return False

    def on_resume(self) -> None:
        """Called when the screen comes back to the top of the stack."""

    @property
    def current_name(self) -> str:
        return self.dialog.name if self.dialog is not None else self.name


class Dialog:
    """A dialog window on top of its screen; ``owner`` receives its actions by default."""

    name = "dialog"
    package = ""
    cancelable = True

    def __init__(self, owner: Screen) -> None:
        self.owner = owner
        self.phone = owner.phone

    def t(self, label: str, *args: object) -> str:
        return self.phone.text(label, *args, package=self.package or self.owner.package)

    def build(self) -> Node:
        raise NotImplementedError

    def on_action(self, action: str, node: Node) -> None:
        self.owner.on_action(action, node)

    def on_text(self, action: str, text: str) -> None:
        self.owner.on_text(action, text)


class Phone:
    """One simulated Xiaomi phone."""

    def __init__(
        self,
        variant: str | Variant = "hyperos1-en",
        *,
        seed: int = 0,
        account_id: str = DEFAULT_ACCOUNT_ID,
        password: str = DEFAULT_PASSWORD,
        signed_in: bool = True,
        find_device: bool = True,
        unactivated_account: bool = False,
        serial: str | None = None,
        keep_adb_after_reset: bool = False,
        faults: FaultSet | str | None = None,
        media_files: int = 40,
        media_bytes: int = 24 * 1024 * 1024,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        locale: str | None = None,
        strings: Sequence[str | os.PathLike] = (),
        timing: str | Timing = "instant",
        link: str | None = None,
    ) -> None:
        self.variant = variant if isinstance(variant, Variant) else get_variant(variant)
        # The phone's language (``persist.sys.locale``) and its apps' string tables: the
        # variant's own by default, ``strings`` folders laid over them (see strings.py).
        self.locale = Locale.parse(locale or self.variant.locale)
        self.resources = resources(self.variant.strings, tuple(str(Path(f).resolve()) for f in strings))
        self.clock = clock
        # How long the phone takes for things (timing.py); "instant" answers at once.
        self.timing = timing if isinstance(timing, Timing) else Timing(timing, link, seed)
        self._wall_clock = wall_clock
        self.time_offset = 0.0  # seconds added to the wall clock by advance_time()
        # A parsed set is a template: this phone gets its own fault objects (counters, fired flags).
        self.faults: FaultSet = parse_faults(faults) if isinstance(faults, str) or faults is None else faults.fresh()
        self.keep_adb_after_reset = keep_adb_after_reset
        self._init_args = dict(seed=seed, account_id=account_id, signed_in=signed_in, find_device=find_device,
                               unactivated_account=unactivated_account, serial=serial, media_files=media_files,
                               media_bytes=media_bytes)
        self.state: PhoneState = self._new_state(password, self._init_args)
        self._password_digest = self.state.password_digest
        self.account_server = AccountServer(self.wall_clock)
        self.account_server.register(account_id, self._password_digest)
        self.started = clock()
        self.input_events = 0
        self.actions = 0
        self.version = 0
        self.screenshots_taken = 0
        self.clipboard: str | None = None
        self.last_toast: str | None = None
        self._u2_running = False
        # Called once when the uiautomator2 server stops (its launch stream waits on this, not a poll).
        self.u2_stop_listeners: set[Callable[[], None]] = set()
        self.u2_calls = 0
        self.plugged = True
        self._timers: list[Timer] = []
        self._listeners: list[Callable[[str], None]] = []
        self._timer_listeners: list[Callable[[], None]] = []
        self._frozen: tuple[list[Node], float] | None = None
        self.animation: Animation | None = None  # the transition on screen (timing profiles only)
        self.changed_at = clock()  # the last change uiautomator's idle rule would notice
        self._scene_before: tuple = ()
        self._windows_cache: tuple[int, list[Node]] | None = None
        self._xml_cache: tuple[list[Node], str] | None = None
        self._owners: dict[int, object] = {}
        self._shot_cache: dict[tuple, bytes] = {}
        self.popup: Dialog | None = None
        self.stack: list[Screen] = []
        self.faults.boot(self)
        self._boot()

    # ----------------------------------------------------------------- lifecycle
    def _new_state(self, password: str, args: dict) -> PhoneState:
        state = new_state(self.variant, password=password, clock=self.wall_clock, **args)
        apply_locale(state, self.locale)
        install_apps(state, self.resources, self.variant)
        return state

    def text(self, label: str, *args: object, package: str = "") -> str:
        """What ``label`` (a name in labels.py) reads on a window of ``package``, in the phone's
        locale; ``args`` fill its ``%s``/``%d`` placeholders."""
        app, key = resource_of(label, package)
        value = self.resources.resolve(app, key, self.locale)
        if value is None:
            raise KeyError(f"{app}:string/{key} (label {label!r}) is in no string table")
        return android_format(value, *args) if args else value

    def set_serial(self, serial: str) -> None:
        """Give the phone its hardware serial (``ro.serialno``) once its port is known; before ``adb connect``."""
        self._init_args["serial"] = serial
        self.state.props["ro.serialno"] = self.state.props["ro.boot.serialno"] = serial

    @property
    def serial(self) -> str:
        """The hardware serial (``ro.serialno``), the phone's identity on any USB host or port."""
        return self.state.props["ro.serialno"]

    def _boot(self) -> None:
        from .screens import home_screen

        self.stack = [home_screen(self)]
        self.popup = None
        self.changed()

    def subscribe(self, listener: Callable[[str], None]) -> None:
        """Transport hooks: receives "unplug", "replug" and "reboot"."""
        self._listeners.append(listener)

    def watch_timers(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` whenever a timer is set: the host sleeps until the next due timer
        (``next_due``), and a new one may be sooner."""
        self._timer_listeners.append(listener)

    def _emit(self, event: str) -> None:
        for listener in list(self._listeners):
            listener(event)

    def unplug(self) -> None:
        if self.plugged:
            self.plugged = False
            self._emit("unplug")

    def replug(self) -> None:
        """The cable is back: the adb server sees the phone again, unless USB debugging is off."""
        if not self.plugged and self.state.adb_enabled:
            self.plugged = True
            self._emit("replug")

    def factory_reset(self, downtime: float = 2.0) -> None:
        """Erase everything and reboot into the setup wizard.

        A retail phone (the default) leaves ADB for good once the erase starts: USB debugging,
        its authorisations and "USB debugging (Security settings)" are wiped with the rest, so
        the phone never comes back to the adb server and its screen (setup wizard) is only seen
        in the model. An engineering/test build (``keep_adb_after_reset``) keeps ADB, the
        authorisation and input on and is back on ADB after ``downtime`` seconds.
        """
        self.unplug()
        args = dict(self._init_args, signed_in=False, find_device=False, unactivated_account=False, media_files=0)
        fresh = self._new_state("", args)
        fresh.password_digest = self._password_digest
        fresh.provisioned = False
        fresh.factory_resets = self.state.factory_resets + 1
        fresh.accounts, fresh.contacts, fresh.calls, fresh.sms = [], [], [], []
        fresh.packages = [p for p in fresh.packages if p.system]
        fresh.settings["global"]["device_provisioned"] = "0"
        if self.keep_adb_after_reset:
            fresh.props["persist.security.adbinput"] = self.state.props.get("persist.security.adbinput", "1")
        else:
            fresh.settings["global"].update(adb_enabled="0", development_settings_enabled="0")
            fresh.props["persist.security.adbinput"] = "0"
        self.state = fresh
        self.u2_running = False
        self._shot_cache.clear()
        self.animation = None
        self._boot()
        if self.keep_adb_after_reset:
            self.after(downtime, self.replug)

    # ----------------------------------------------------------------- time
    def wall_clock(self) -> float:
        """Seconds since the epoch on the phone (and at Xiaomi's servers): the injected clock plus
        whatever :meth:`advance_time` added."""
        return self._wall_clock() + self.time_offset

    def advance_time(self, *, days: float = 0, seconds: float = 0) -> None:
        """Move the wall clock forward (e.g. past an account deletion's 30-day waiting period);
        timers run on the monotonic clock and are not affected."""
        self.time_offset += days * 24 * 3600 + seconds
        self.changed()

    def after(self, seconds: float, fn: Callable[[], None]) -> None:
        self._timers.append(Timer(self.clock() + seconds, fn))
        for listener in list(self._timer_listeners):
            listener()

    def next_due(self) -> float:
        """When the next timer is due on the phone's clock (``inf``: none is set)."""
        return min((t.due for t in self._timers), default=math.inf)

    def tick(self) -> None:
        """Fire due timers and the faults' tick hooks. Cheap; called on every read."""
        now = self.clock()
        if self._timers:
            due = [t for t in self._timers if t.due <= now]
            if due:
                self._timers = [t for t in self._timers if t.due > now]
                for t in sorted(due, key=lambda t: t.due):
                    t.fn()
                self.changed()
        self.faults.tick(self, now)

    def changed(self) -> None:
        self.version += 1
        self._windows_cache = None
        self.changed_at = self.clock()

    def idle_in(self, quiet: float | None = None) -> float:
        """Seconds until uiautomator would find the screen idle: no change for ``quiet`` seconds
        (the timing profile's rule by default) and no animation running; ``inf`` on a screen a
        fault keeps busy for ever (``noidle``)."""
        self.tick()
        if self.faults.busy(self, self.current_screen_name()):
            return math.inf
        last = self.changed_at
        if self.animation is not None:
            last = max(last, self.animation.end)
        quiet = self.timing.idle_quiet if quiet is None else quiet
        return max(0.0, last + quiet - self.clock())

    # ----------------------------------------------------------------- screens
    @property
    def top(self) -> Screen:
        return self.stack[-1]

    def push(self, screen: Screen) -> None:
        self.stack.append(screen)
        self.changed()

    def pop(self) -> None:
        if len(self.stack) > 1:
            self.stack.pop()
            self.top.on_resume()
        self.changed()

    def replace_top(self, screen: Screen) -> None:
        self.stack[-1] = screen
        self.changed()

    def go_home(self) -> None:
        from .screens import home_screen

        self.stack = [home_screen(self)]
        self.changed()

    def current_screen_name(self) -> str:
        if not self.state.screen_on:
            return "screen_off"
        if self.state.locked:
            return "lockscreen"
        if self.popup is not None:
            return self.popup.name
        return self.top.current_name

    def focus(self) -> tuple[str, str]:
        """(package, activity) of the focused window, as ``dumpsys window`` reports it."""
        self.tick()
        if self.state.locked or not self.state.screen_on:
            return "com.android.systemui", "NotificationShade"
        screen = self.top
        return screen.package, screen.activity

    def windows(self) -> list[Node]:
        """The window roots on screen now (status bar first, topmost last)."""
        self.tick()
        if self._frozen is not None:
            frozen, until = self._frozen
            if self.clock() < until:
                return frozen
            self._frozen = None
        return self.live_windows()

    def live_windows(self) -> list[Node]:
        """The windows of the model as it is, even while a frozen frame is still shown."""
        if self._windows_cache is not None and self._windows_cache[0] == self.version:
            return self._windows_cache[1]
        owners: dict[int, object] = {}
        wins = [status_bar(time.strftime("%H:%M", time.localtime(self.wall_clock())), self.state.battery)]
        if not self.state.screen_on:
            wins = []
        elif self.state.locked:
            from .screens import lockscreen_window

            wins.append(lockscreen_window(self))
        else:
            screen = self.top
            win = screen.build()
            wins.append(win)
            self._own(win, screen, owners)
            if screen.dialog is not None:
                dw = screen.dialog.build()
                wins.append(dw)
                self._own(dw, screen.dialog, owners)
            if self.popup is not None:
                pw = self.popup.build()
                wins.append(pw)
                self._own(pw, self.popup, owners)
        self.faults.shown(self, self.current_screen_name(), wins)
        self._owners = owners
        self._windows_cache = (self.version, wins)
        return wins

    @staticmethod
    def _own(win: Node, owner: object, owners: dict[int, object]) -> None:
        for node in win.walk():
            if node.action is not None:
                owners[id(node)] = owner

    def hierarchy_xml(self) -> str:
        """The dump of the windows on screen, serialised once per frame shown: every change
        builds a new window list (:meth:`live_windows`), so the same list means the same XML."""
        wins = self.windows()
        if self._xml_cache is None or self._xml_cache[0] is not wins:
            self._xml_cache = (wins, hierarchy_xml(wins))
        return self._xml_cache[1]

    def screenshot(self, fmt: str = "png", quality: int = 80, scale: float = 1.0) -> bytes:
        """PNG or JPEG bytes of the current frame, rendered from the same tree as the dump."""
        from .render import encode, render

        wins = self.windows()
        self.screenshots_taken += 1
        black = self.faults.screenshot(self, self.screenshots_taken) or not self.state.screen_on
        animation = self.animation
        if animation is not None and self.clock() >= animation.end:
            self.animation = animation = None
        if animation is not None and animation.running(self.clock()) and not black:
            image = animation.frame(lambda w: render(w, SCREEN_W, SCREEN_H), self.live_windows(), self.clock())
            return encode(image, fmt, quality=quality, scale=scale)
        key = (id(wins), self.version, fmt, quality, scale, black)
        cached = self._shot_cache.get(key)
        if cached is None:
            image = render(wins, SCREEN_W, SCREEN_H, black=black)
            cached = encode(image, fmt, quality=quality, scale=scale)
            if len(self._shot_cache) > 16:
                self._shot_cache.clear()
            self._shot_cache[key] = cached
        return cached

    # ----------------------------------------------------------------- input
    def check_input(self) -> None:
        """Count the injection attempt and refuse it the way MIUI does when the gate is off."""
        self.input_events += 1
        if self.state.props.get("persist.security.adbinput", "0") != "1":
            raise InputRefused()

    def _before_action(self) -> list[Node]:
        wins = self.windows()
        self._scene_before = self._scene()
        return wins

    def _after_action(self, before: list[Node], version: int) -> None:
        if self.version != version:
            self.actions += 1
            self.faults.after_action(self)
            self.faults.transition(self, before)
            self._animate(before, self._scene_before)

    def _scene(self) -> tuple:
        """What decides the kind of a transition: the activity on top, its dialog, a popup."""
        top = self.top  # the objects themselves (compared by identity): an id could be reused
        return (top, top.dialog, self.popup, self.state.locked, self.state.screen_on)

    def _animate(self, before: list[Node], scene: tuple) -> None:
        """Start the transition animation a change from ``scene`` makes (none under ``instant``).

        An activity transition keeps the old screen in the hierarchy for the first part of the
        animation, then lists the new one while the frames are still sliding; a dialog is
        listed at once while it fades in.
        """
        now_scene = self._scene()
        if now_scene[3:] != scene[3:] or not scene:
            return  # the keyguard or the display switched: no window animation
        kind = ("activity" if now_scene[0] is not scene[0] else
                "dialog" if any(a is not b for a, b in zip(now_scene[1:3], scene[1:3])) else None)
        seconds = self.timing.transition(kind) if kind else 0.0
        if seconds <= 0:
            return
        now = self.clock()
        start = now
        if kind == "activity":
            switch = now + seconds * HIERARCHY_SWITCH
            if self._frozen is not None and self._frozen[1] > switch:
                start = self._frozen[1] - seconds * HIERARCHY_SWITCH  # a slower fault's freeze decides
            else:
                self._frozen = (before, switch)
        self.animation = Animation(kind, before, start, seconds)

    def freeze(self, frame: list[Node], seconds: float) -> None:
        """Keep showing ``frame`` for ``seconds``, touches ignored, as a screen animating in does."""
        self._frozen = (frame, self.clock() + seconds)

    def tap(self, x: float, y: float) -> bool:
        self.check_input()
        before = self._before_action()
        version = self.version
        if self._frozen is not None:
            return True  # the touch lands on a screen that is still animating: nothing happens
        node = hit_test(before, x, y)
        if node is not None and node.action is not None and node.enabled:
            self.dispatch(node)
        elif self.state.locked:
            pass
        self._after_action(before, version)
        return True

    def dispatch(self, node: Node) -> None:
        owner = self._owners.get(id(node))
        action = node.action or ""
        if action == "back":
            self.back()
            return
        if isinstance(owner, (Screen, Dialog)):
            owner.on_action(action, node)
        self.changed()

    def long_tap(self, x: float, y: float, ms: int = 500) -> bool:
        return self.tap(x, y)

    def swipe(self, x1: float, y1: float, x2: float, y2: float, steps: int = 10) -> bool:
        self.check_input()
        before = self._before_action()
        version = self.version
        if self._frozen is not None:
            return True  # like a tap, a swipe on a screen that is still animating in is lost
        if self.state.locked:
            if y1 - y2 > 300:
                self.state.locked = False
                self.changed()
        else:
            self.scroll_at(x1, y1, int(y1 - y2))
        self._after_action(before, version)
        return True

    def scroll_at(self, x: float, y: float, delta: int) -> bool:
        """Scroll the scrollable list under (x, y) by ``delta`` pixels; False at the end."""
        for win in reversed(self.windows()):
            if not win.contains(x, y):
                continue
            for node in win.walk():
                if node.scrollable and node.contains(x, y) and node.rid:
                    return self.scroll_list(node.rid, delta)
            return False
        return False

    def scroll_list(self, rid: str, delta: int) -> bool:
        screen = self.top
        old = screen.scroll.get(rid, 0)
        limit = screen.max_scroll.get(rid, 0)
        new = max(0, min(limit, old + delta))
        if new == old:
            return False
        screen.scroll[rid] = new
        self.changed()
        return True

    def press_key(self, key: str | int) -> bool:
        """Press a key by uiautomator2 name or Android keycode; False for an unknown name."""
        self.check_input()
        if isinstance(key, str):
            code = KEYCODES.get(key.lower())
            if code is None:
                if key.isdigit():
                    code = int(key)
                elif key.upper().startswith("KEYCODE_"):
                    code = KEYCODES.get(key[8:].lower())
                if code is None:
                    return False
        else:
            code = key
        before = self._before_action()
        version = self.version
        if code == 4:
            self.back()
        elif code == 3:
            if not self.state.locked:
                self.go_home()
        elif code in (26, 223):
            if code == 26 and not self.state.screen_on:
                self.wake()
            else:
                self.sleep()
        elif code == 224:
            self.wake()
        elif code == 82 and self.state.locked:
            self.state.locked = False
            self.changed()
        self._after_action(before, version)
        return True

    def back(self) -> None:
        if self.state.locked:
            return
        if self.popup is not None:
            self.popup = None
        elif not self.top.on_back():
            if len(self.stack) > 1:
                self.pop()
        self.changed()

    def wake(self) -> None:
        if not self.state.screen_on:
            self.state.screen_on = True
            self.changed()

    def sleep(self) -> None:
        self.state.screen_on = False
        self.state.locked = True
        self.changed()

    def focused_edit(self) -> Node | None:
        for win in reversed(self.windows()):
            for node in win.walk():
                if node.focused and node.cls.endswith("EditText"):
                    return node
        return None

    def input_text(self, text: str) -> bool:
        """Type into the focused edit field (``input text``, paste). False when nothing has focus."""
        self.check_input()
        node = self.focused_edit()
        if node is None:
            return False
        return self.set_text(node, text, append=True)

    def set_text(self, node: Node, text: str, append: bool = False) -> bool:
        owner = self._owners.get(id(node))
        if not isinstance(owner, (Screen, Dialog)) or node.action is None:
            return False
        current = "" if node.text == node.hint else node.text
        owner.on_text(node.action, (getattr(owner, "typed", {}).get(node.action, current) + text) if append else text)
        self.changed()
        return True

    # ----------------------------------------------------------------- apps
    def start_activity(self, component: str | None = None, action: str | None = None,
                       extras: dict[str, str] | None = None, package: str | None = None,
                       data: str | None = None) -> tuple[bool, str]:
        """``am start``: returns (ok, message) with the message a phone prints on failure."""
        from .screens import resolve_intent

        screen, message = resolve_intent(self, component=component, action=action, extras=extras or {}, package=package,
                                         data=data)
        if screen is None:
            return False, message
        if self.state.locked:
            return True, message
        before = self._before_action()
        self.push(screen)
        self.faults.transition(self, before)
        self._animate(before, self._scene_before)
        return True, message

    def launch_app(self, package: str) -> bool:
        ok, _ = self.start_activity(package=package)
        return ok

    def force_stop(self, package: str) -> None:
        kept = [s for s in self.stack if s.package != package]
        if not kept:
            from .screens import home_screen

            kept = [home_screen(self)]
        if kept != self.stack:
            self.stack = kept
            self.top.on_resume()
            self.changed()

    def toast(self, message: str) -> None:
        self.last_toast = message

    # ----------------------------------------------------------------- uiautomator2 server
    @property
    def u2_running(self) -> bool:
        return self._u2_running

    @u2_running.setter
    def u2_running(self, running: bool) -> None:
        self._u2_running = running
        if not running:
            listeners, self.u2_stop_listeners = self.u2_stop_listeners, set()
            for listener in listeners:
                listener()

    def u2_call(self) -> bool:
        """Count one JSON-RPC call; False when the server has just crashed (a fault's ``u2_call`` hook)."""
        if not self.u2_running:
            return False
        self.u2_calls += 1
        if not self.faults.u2_call(self):
            self.u2_running = False
            self._emit("u2crash")
            return False
        return True

    def device_info(self) -> dict:
        pkg, _ = self.focus()
        return {
            "currentPackageName": pkg,
            "displayWidth": SCREEN_W,
            "displayHeight": SCREEN_H,
            "displayRotation": 0,
            "displaySizeDpX": 393,
            "displaySizeDpY": 873,
            "productName": self.state.props.get("ro.product.name", ""),
            "naturalOrientation": True,
            "screenOn": self.state.screen_on,
            "sdkInt": int(self.state.props.get("ro.build.version.sdk", "33")),
        }

    def banner(self) -> str:
        p = self.state.props
        return (f"device::ro.product.name={p['ro.product.name']};ro.product.model={p['ro.product.model']};"
                f"ro.product.device={p['ro.product.device']};")
