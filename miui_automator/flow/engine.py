"""The flow engine: runs a parsed :class:`Flow` on a :class:`Driver`, proving every transition.

The engine reports and listeners act: it knows no filesystem; screenshots, reports and the ledger
are written by listeners on its step events. Time comes from one injectable clock and every wait is
bounded (:mod:`miui_automator.flow.waits`). Each step kind has one handler, registered in
:data:`HANDLERS` and checked against the model's kinds when this module loads.

The device layer owns the uiautomator2 server: it restarts it and repeats reads itself. When an
action failed because the server died it raises :class:`~miui_automator.errors.AutomationRestarted`
(the action may or may not have landed); the engine then repeats that step at most
``AUTOMATION_RESTARTS_PER_STEP`` times, and any other device error ends the run. Whatever a step
raises, the run record ends with ``run_end``.

Transition verification: after each action the engine waits for the hierarchy to change (when a
change is expected) and settle (two equal reads in a row), identifies the screen, takes a
screenshot and checks it is a real frame that differs from the previous one. A tap that changed
nothing, an unexpected screen or a black frame fails the step with what was seen attached. Every
read after the first following an action is taken with a screenshot beside it (two connections to
the phone), so a frame costs no round trip of its own; but a phone lists the new screen while it is
still sliding in, so equal reads alone do not prove the frame settled: the frame kept is one that the
next frame agrees with.
A screen that never goes idle (an animation: every hierarchy read waits out the phone's idle
timeout) is remembered as busy; its steps are proved by the screenshot and one late read, within
``waits.BUSY_STEP_BUDGET_S``, and the run's log says so.

Evidence: a step that acts leaves the observation it was aimed at on its result (``before``: the
frame, the tap point or swipe, the target's bounds) beside the settled one, so the record shows the
action on the frame it was aimed at, never on the screen that replaced it.

Secrets: the engine is the only part that knows a secret was typed and into which field, so every
observation it emits carries a :class:`Redaction` (the secret values; the field's bounds while it is on
screen; any node showing a secret in plain text) for the listeners that save frames and dumps to apply.

The handlers share the engine's view of the phone (the last verified frame, an observation still
fresh after an action, the screens known never to go idle), which is why they are methods of one
class and this module runs to about 650 lines.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Callable, Mapping

from ..device.driver import Driver
from ..device.hierarchy import HNode, Hierarchy
from ..device.info import mi_accounts
from ..errors import AutomationRestarted, DeviceError, MiuiAutomatorError, StepFailed, VerificationFailed
from ..screens.catalogue import Catalogue
from ..vision.frames import check_frame, frames_differ
from . import waits
from .model import (AssertStep, Condition, DoneAction, DriveStep, ExpectStep, FailAction, Flow, OpenStep, PressStep,
                    RetryStep, RunStep, ScreenshotStep, ScrollToStep, Selector, ShellStep, Step, TapStep, TaskStep, TypeStep,
                    WaitAction, WaitForStep, WhenStep, resolve)
from .listeners import BaseListener, Box, Listener, Observation, Redaction
from .step_registry import KindTable
from .tasks_api import TaskContext

__all__ = ["HANDLERS", "BaseListener", "Engine", "Listener", "Observation", "Redaction", "RunResult"]

Handler = Callable[..., tuple["Observation | None", str]]
HANDLERS: KindTable[Handler] = KindTable("handler")
"""Step kind -> ``Engine`` method ``(self, step, step_id, variables, secrets) -> (observation, note)``."""


@dataclass
class RunResult:
    outcome: str  # passed | failed | error | interrupted
    exit_code: int
    error: str = ""
    duration_s: float = 0.0
    variables: dict[str, str] = field(default_factory=dict)


class _StepError(Exception):
    """Carries the observation of a failure up to the step boundary."""

    def __init__(self, error: MiuiAutomatorError, obs: Observation | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.obs = obs


class Engine:
    """Runs flows on one phone."""

    def __init__(self, driver: Driver, catalogue: Catalogue, *, clock: waits.Clock | None = None,
                 listeners: list | None = None, variant: str | None = None, verify: bool = True,
                 settle_timeout_s: float = waits.SETTLE_TIMEOUT_S, tasks: Mapping[str, Callable] | None = None) -> None:
        self.driver = driver
        self.catalogue = catalogue
        self.clock = clock or waits.SystemClock()
        self.listeners = list(listeners or [])
        self.variant = variant
        self.verify = verify
        self.settle_timeout_s = settle_timeout_s
        self.tasks = dict(tasks or {})
        self._last: Observation | None = None
        self._fresh: Observation | None = None
        self._shooter: ThreadPoolExecutor | None = None  # takes screenshots while the hierarchy is read
        self._size: tuple[int, int] | None = None
        self._secrets: dict[str, str] = {}
        self._typed: tuple[Box, str] | None = None  # the field a secret was typed into, and on which screen
        self._proof_note = ""  # how the step being run was proved, when not the usual way (for its record)
        self._busy: set[str] = set()  # screens seen never going idle: their reads each wait out the idle timeout
        self._budget_end: float | None = None  # while proving a step: when it must end if it meets a busy screen
        self._met_busy: str | None = None  # the busy screen the step being proved met, if any

    # ================================================================ public
    def run(self, flow: Flow, params: Mapping[str, str], secrets: Mapping[str, str], start_at: int = 1) -> RunResult:
        """Run ``flow``. ``params`` are plain values; ``secrets`` never leave the engine except typed.

        ``start_at`` (a top-level step number) resumes a run whose earlier steps completed before: they are
        skipped, never repeated (a fleet resumed after its controller died must not redo a destructive step).
        """
        if start_at < 1:
            raise ValueError(f"start_at must be 1 or more, not {start_at}")
        started = self.clock.now()
        self._secrets = dict(secrets)
        self._typed = None
        self._emit("run_start", flow, {k: v for k, v in params.items()})
        variables = dict(params)
        try:
            return self._run(flow, variables, started, start_at)
        finally:
            if self._shooter is not None:
                self._shooter.shutdown(wait=True)
                self._shooter = None

    def _run(self, flow: Flow, variables: dict[str, str], started: float, start_at: int) -> RunResult:
        try:
            self._steps(flow.steps, "", variables, self._secrets, start_at)
        except _StepError as failure:
            err = failure.error
            outcome = "error" if isinstance(err, DeviceError) else "failed"
            result = RunResult(outcome, err.exit_code, str(err), self.clock.now() - started, variables)
        except KeyboardInterrupt:
            result = RunResult("interrupted", 130, "interrupted", self.clock.now() - started, variables)
            self._emit("run_end", result.outcome, result.exit_code, result.duration_s, result.error)
            raise
        except Exception as exc:  # a bug: the record still says how the run ended before the traceback
            result = RunResult("error", MiuiAutomatorError.exit_code, f"internal error: {type(exc).__name__}: {exc}",
                               self.clock.now() - started, variables)
            self._emit("run_end", result.outcome, result.exit_code, result.duration_s, result.error)
            raise
        else:
            result = RunResult("passed", 0, "", self.clock.now() - started, variables)
        self._emit("run_end", result.outcome, result.exit_code, result.duration_s, result.error)
        return result

    def observe(self, screenshot: bool = False) -> Observation:
        """The screen now: its hierarchy identified, and with ``screenshot`` a frame taken while the
        hierarchy is read (both cost the phone hundreds of milliseconds; side by side they cost one)."""
        if not screenshot:
            return self._observe()
        if self._shooter is None:  # one worker for the run: starting a thread per frame costs a fleet seconds
            self._shooter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="screenshot")
        pending = self._shooter.submit(self._frame_and_size)
        try:
            obs = self._observe()
        except BaseException:
            wait([pending])  # the frame's call ends before the read's error goes up
            raise
        obs.screenshot = pending.result()
        return obs

    def _frame_and_size(self):
        """A frame, and the window's size the first time (a frame is checked against it)."""
        frame = self.driver.screenshot()
        self._window_size()
        return frame

    def _observe(self) -> Observation:
        started = self.clock.now()
        h = self.driver.hierarchy()
        slow = self.clock.now() - started >= waits.BUSY_READ_S
        ident = self.catalogue.identify(h, self.variant)
        if slow or ident.name in self._busy:
            self._met_busy = ident.name
        if slow and ident.name not in self._busy:
            self._busy.add(ident.name)
            self._emit("log", "warning", f"screen {ident.name} never went idle: a hierarchy read took "
                       f"{self.clock.now() - started:.1f} s; its steps are proved by the screenshot and one late "
                       f"hierarchy read, within {waits.BUSY_STEP_BUDGET_S:g} s")
        return Observation(h, ident, redaction=self._redaction(h, ident.name))

    def _redaction(self, h: Hierarchy, screen: str) -> Redaction | None:
        """What the files made of this observation must hide: every secret of the run as text, and on screen
        the field a secret was typed into (until the screen changes or the field goes) plus any node that
        shows a secret in plain text (a field rendered unmasked, wherever it has moved)."""
        secrets = tuple(sorted({v for v in self._secrets.values() if v}, key=len, reverse=True))
        if not secrets:
            return None
        boxes: list[Box] = []
        if self._typed is not None:
            box, typed_on = self._typed
            if screen == typed_on and any(n.bounds == box for n in h.nodes):
                boxes.append(box)
            else:
                self._typed = None  # the screen changed or the field went: later frames show something else
        boxes += [n.bounds for n in h.nodes if n.text and any(secret in n.text for secret in secrets)]
        return Redaction(secrets, tuple(dict.fromkeys(boxes)))

    # ================================================================ plumbing
    def _emit(self, event: str, *args) -> None:
        for listener in self.listeners:
            getattr(listener, event, lambda *a: None)(*args)

    def _steps(self, steps, prefix: str, variables: dict[str, str], secrets: Mapping[str, str], start_at: int = 1) -> None:
        """Run ``steps`` in order; those before ``start_at`` and those after a failure are reported skipped."""
        for i, step in enumerate(steps, 1):
            if i < start_at:
                reason = f"completed in an earlier run, resuming at step {start_at}"
                self._emit("log", "info", f"step {prefix}{i} skipped: {reason}")
                self._emit("step_skipped", f"{prefix}{i}", step, reason)
                continue
            try:
                self._step(step, f"{prefix}{i}", variables, secrets)
            except _StepError:
                for j, rest in enumerate(steps[i:], i + 1):
                    self._emit("step_skipped", f"{prefix}{j}", rest, f"step {prefix}{i} failed")
                raise

    def _step(self, step: Step, step_id: str, variables: dict[str, str], secrets: Mapping[str, str]) -> None:
        self._emit("step_start", step_id, step)
        started = self.clock.now()
        restarts = 0
        self._proof_note = ""
        while True:
            try:
                obs, note = HANDLERS[step.kind](self, step, step_id, variables, secrets)
                note = "; ".join(filter(None, (note, self._proof_note)))
                break
            except AutomationRestarted as err:  # the device layer restarted uiautomator2 under this step's action
                if restarts < waits.AUTOMATION_RESTARTS_PER_STEP:
                    restarts += 1
                    self._fresh = None
                    self._emit("log", "warning", f"step {step_id}: repeating it, uiautomator2 was restarted after: {err}")
                    continue
                failure = _StepError(err, self._safe_observation())
            except MiuiAutomatorError as err:  # raised by this step itself
                failure = _StepError(err, self._safe_observation())
            except _StepError as failed:  # a verification of this step, or a nested step that already failed
                failure = failed
            self._emit("step_failed", step_id, step, failure.error, failure.obs, self.clock.now() - started)
            if step.optional:
                self._emit("log", "warning", f"optional step {step_id} failed: {failure.error}")
                return
            raise failure from None
        self._emit("step_done", step_id, step, obs, self.clock.now() - started, note)

    def _safe_observation(self) -> Observation | None:
        try:
            return self.observe(screenshot=True)
        except MiuiAutomatorError:
            return self._last

    def _fail(self, message: str, obs: Observation | None, cls=StepFailed, **data) -> _StepError:
        if obs is not None:
            seen = obs.ident.seen
            for secret in obs.redaction.secrets if obs.redaction else ():  # a field shown unmasked lists the password
                seen = seen.replace(secret, "***")
            message = f"{message} (screen seen: {obs.screen}; {seen})"
        return _StepError(cls(message, **data), obs)

    def _window_size(self) -> tuple[int, int]:
        if self._size is None:
            self._size = self.driver.window_size()
        return self._size

    # ================================================================ observation helpers
    def _settled(self, before_fp: str | None, expect_change: bool, timeout_s: float, shot: bool = False) -> Observation:
        """Wait (bounded) for a change if one is expected, then for two equal reads in a row.

        With ``shot`` every read but the first (taken as the screen begins to change) has a frame beside
        it (the phone answers both at once), and the frame must be settled too: a phone lists the new
        screen while it is still sliding in, so two equal reads can both fall inside the slide. The frames of the last two reads must agree, or, when the
        hierarchy agrees but the frame moved, one more frame must agree with the last. A page whose frames
        never stop moving (an animation on it) ends after ``waits.MOVING_FRAMES_S`` with the latest frame,
        and the step's record says so. On a busy screen (see :meth:`observe`) the late read is not
        confirmed: a second one would wait out the idle timeout again.
        """
        deadline = self.clock.now() + timeout_s
        obs = self.observe()  # right after the action the screen has barely begun to change: no frame yet
        if expect_change and before_fp is not None:
            while obs.hierarchy.fingerprint() == before_fp and self.clock.now() < self._bounded(deadline):
                self.clock.sleep(waits.SETTLE_INTERVAL_S)
                obs = self.observe(screenshot=shot)
        if obs.screen in self._busy:
            if shot:  # a frame beside the late read would show the screen as the read began
                obs.screenshot = self.driver.screenshot()
            return obs
        settle_deadline = min(deadline, self.clock.now() + self.settle_timeout_s)
        moving_since: float | None = None  # when the hierarchy settled while the frames still moved
        while True:
            if not shot:
                self.clock.sleep(waits.SETTLE_INTERVAL_S)
            nxt = self.observe(screenshot=shot)
            same = nxt.hierarchy.fingerprint() == obs.hierarchy.fingerprint()
            if nxt.screen in self._busy or self.clock.now() >= settle_deadline or (same and not shot):
                return nxt
            if same:
                if obs.screenshot is not None and not frames_differ(obs.screenshot, nxt.screenshot):
                    return nxt
                later = self.driver.screenshot()
                moved, nxt.screenshot = frames_differ(nxt.screenshot, later), later
                if not moved:
                    return nxt
                moving_since = self.clock.now() if moving_since is None else moving_since
                if self.clock.now() - moving_since >= waits.MOVING_FRAMES_S:
                    self._proof_note = "; ".join(filter(None, (self._proof_note, (
                        f"screen {nxt.screen} kept moving {waits.MOVING_FRAMES_S:g} s after its hierarchy settled "
                        "(an animation on the page?): the frame shown is the last one taken"))))
                    return nxt
                self.clock.sleep(waits.SETTLE_INTERVAL_S)
            else:
                moving_since = None
            obs = nxt

    def _bounded(self, deadline: float) -> float:
        """``deadline``, brought forward to the step's budget once the step met a never-idle screen."""
        if self._met_busy is not None and self._budget_end is not None:
            return min(deadline, self._budget_end)
        return deadline

    def _current(self) -> Observation:
        """The screen now. Right after a verified action the settled observation is still current
        (nothing happens on a phone between two steps but what the flow does), so it is reused once
        instead of reading the phone again."""
        if self._fresh is not None:
            obs, self._fresh = self._fresh, None
            return obs
        # the run's first action needs a before-frame and there is no earlier one to reuse: take it now,
        # side by side with this read
        return self.observe(screenshot=self.verify and self._last is None)

    def _dismiss_popups(self, step_id: str) -> Observation:
        """Close known popups (promo, update prompts) before an action; bounded."""
        obs = self._current()
        for _ in range(waits.POPUP_DISMISS_MAX):
            popup = obs.ident.popup
            if popup is None or popup.screen is None:
                return obs
            node = popup.screen.dismiss_node(obs.hierarchy)
            if node is None:
                return obs
            x, y = node.center
            aimed = Observation(obs.hierarchy, obs.ident, obs.screenshot, tap=(x, y), target=node.bounds,
                                redaction=obs.redaction)
            self.driver.tap(x, y)
            obs = self._settled(aimed.hierarchy.fingerprint(), True, waits.DEFAULT_STEP_TIMEOUT_S)
            obs.before = aimed
            self._emit("popup_dismissed", step_id, popup.name, obs)
        return obs

    def _find(self, sel: Selector, h: Hierarchy, variables: Mapping[str, str]) -> HNode | None:
        texts = tuple(resolve(t, variables) for t in sel.text) or None
        nodes = h.find(id=resolve(sel.id, variables) if sel.id else None, text=texts,
                       text_matches=sel.text_matches.pattern if sel.text_matches is not None else None,
                       text_contains=resolve(sel.text_contains, variables) if sel.text_contains else None,
                       cls=sel.cls, desc=resolve(sel.desc, variables) if sel.desc else None,
                       package=sel.package)
        if not nodes:
            return None
        if sel.last:
            return nodes[-1]
        if sel.index is not None:
            return nodes[sel.index] if sel.index < len(nodes) else None
        return nodes[0]

    def _locate(self, sel: Selector, variables, timeout_s: float, scroll: bool, max_swipes: int, step_id: str):
        """Find the element, scrolling the page if asked; (node, observation) or a failure."""
        deadline = self.clock.now() + timeout_s
        obs = self._dismiss_popups(step_id)
        swipes = still = 0
        while True:
            node = self._find(sel, obs.hierarchy, variables)
            if node is not None:
                return node, obs
            if scroll and swipes < max_swipes:
                # two swipes in a row that move nothing mean the end of the list (one may land on a
                # screen that is still animating in, and be lost)
                still = 0 if self._swipe_up(obs) else still + 1
                scroll = still < 2
                swipes += 1
                obs = self._dismiss_popups(step_id)
                continue
            if self.clock.now() >= deadline:
                raise self._fail(f"{sel.describe()} not found", self._with_shot(obs))
            self.clock.sleep(waits.POLL_INTERVAL_S)
            obs = self._dismiss_popups(step_id)

    def _swipe_up(self, obs: Observation) -> bool:
        """Scroll the main list one page; False when the page did not move (end reached)."""
        scrollables = [n for n in obs.hierarchy.nodes if n.scrollable]
        w, h = self._window_size()
        if scrollables:
            target = max(scrollables, key=lambda n: n.area)
            l, t, r, b = target.bounds
            x, y1, y2 = (l + r) // 2, t + (b - t) * 3 // 4, t + (b - t) // 4
        else:
            x, y1, y2 = w // 2, h * 3 // 4, h // 4
        before = obs.hierarchy.fingerprint()
        self.driver.swipe(x, y1, x, y2, 0.2)
        # a list that scrolls changes soon after the swipe (a slow phone still animates meanwhile);
        # one that is at its end never does, so the wait for a change is short
        after = self._settled(before, True, waits.SCROLL_CHANGE_TIMEOUT_S)
        return after.hierarchy.fingerprint() != before

    def _with_shot(self, obs: Observation) -> Observation:
        if obs.screenshot is None:
            try:
                obs.screenshot = self.driver.screenshot()
            except MiuiAutomatorError:
                pass
        return obs

    # ================================================================ verification
    def _verify(self, step: Step, before: Observation, action: Callable[[], None], *, expect_change: bool,
                tap=None, swipe=None, target: Box | None = None) -> Observation:
        if before.screenshot is None and self.verify:
            last = self._last
            same = last is not None and last.screenshot is not None and \
                last.hierarchy.fingerprint() == before.hierarchy.fingerprint()
            before.screenshot = last.screenshot if same else self.driver.screenshot()
        before_fp = before.hierarchy.fingerprint()
        aimed = Observation(before.hierarchy, before.ident, before.screenshot, tap=tap, swipe=swipe, target=target,
                            redaction=before.redaction)
        self._budget_end = self.clock.now() + waits.BUSY_STEP_BUDGET_S
        self._met_busy = before.screen if before.screen in self._busy else None
        try:
            action()
            after = self._proved(step, before_fp, expect_change)
            if self._met_busy is not None:
                self._proof_note = (f"screen {self._met_busy} never goes idle: proved by the screenshot and one "
                                    "late hierarchy read")
        finally:
            self._budget_end = self._met_busy = None
        after.before = aimed
        if not self.verify:
            self._fresh = Observation(after.hierarchy, after.ident, redaction=after.redaction)
            return after
        frame = check_frame(after.screenshot, self._window_size())
        if not frame.ok:
            raise self._fail(f"screenshot is not a real frame: {frame.reason}", after, VerificationFailed)
        if step.expect and after.screen not in step.expect:
            raise self._fail(f"expected screen {' | '.join(step.expect)}, but the phone shows {after.screen}", after,
                             VerificationFailed, expected=list(step.expect), seen=after.screen)
        if expect_change:
            if after.hierarchy.fingerprint() == before_fp:
                raise self._fail("the action changed nothing on screen", after, VerificationFailed)
            if not frames_differ(before.screenshot, after.screenshot):
                raise self._fail("the hierarchy changed but the screenshot did not", after, VerificationFailed)
        self._last = after
        self._fresh = Observation(after.hierarchy, after.ident, redaction=after.redaction)
        return after

    def _proved(self, step: Step, before_fp: str, expect_change: bool) -> Observation:
        """The settled observation after an action (with its frame when verifying), waiting up to the
        step's timeout for one of its expected screens."""
        timeout = step.timeout
        after = self._settled(before_fp, expect_change, min(timeout, waits.DEFAULT_STEP_TIMEOUT_S), shot=self.verify)
        if step.expect:
            deadline = self.clock.now() + timeout
            while after.screen not in step.expect and self.clock.now() < self._bounded(deadline):
                self.clock.sleep(waits.POLL_INTERVAL_S)
                after = self._settled(None, False, waits.DEFAULT_STEP_TIMEOUT_S, shot=self.verify)
        return after

    # ================================================================ step kinds
    @HANDLERS.register("open")
    def _do_open(self, step: OpenStep, step_id, variables, secrets):
        before = self._dismiss_popups(step_id)
        extras = {k: resolve(str(v), variables) for k, v in step.extras}
        target = {"data": step.data} if step.data is not None else {}  # drivers without data support stay usable
        obs = self._verify(step, before, lambda: self.driver.start(
            component=step.component, action=step.action, extras=extras, package=step.app, **target), expect_change=False)
        return obs, ""

    @HANDLERS.register("tap")
    def _do_tap(self, step: TapStep, step_id, variables, secrets):
        node, before = self._locate(step.selector, variables, step.timeout, step.selector.scroll,
                                    waits.SCROLL_MAX_SWIPES, step_id)
        x, y = node.center
        obs = self._verify(step, before, lambda: self.driver.tap(x, y), expect_change=True, tap=(x, y),
                           target=node.bounds)
        return obs, f"tapped {node.text or node.rid or node.cls} at {x},{y}"

    @HANDLERS.register("type")
    def _do_type(self, step: TypeStep, step_id, variables, secrets):
        if step.secret is not None:
            if step.secret not in secrets:
                raise StepFailed(f"secret {step.secret!r} has no value")
            value = secrets[step.secret]
        else:
            value = resolve(step.text or "", variables)
        if step.into is not None:
            node, before = self._locate(step.into, variables, step.timeout, step.into.scroll, waits.SCROLL_MAX_SWIPES, step_id)
            x, y = node.center
        else:
            before, x, y = self._dismiss_popups(step_id), None, None
            node = next((n for n in before.hierarchy.nodes if n.focused), None)
        if step.secret is not None and node is not None:
            # set before typing, so every observation from here on (a failed check of this very step too)
            # blacks the field out while it is on screen
            self._typed = (node.bounds, before.screen)
        obs = self._verify(step, before, lambda: self.driver.type_text(value, x=x, y=y), expect_change=True,
                           tap=(x, y) if x is not None else None, target=node.bounds if node is not None else None)
        return obs, "typed a secret" if step.secret else f"typed {len(value)} characters"

    @HANDLERS.register("scroll-to")
    def _do_scroll_to(self, step: ScrollToStep, step_id, variables, secrets):
        node, obs = self._locate(step.selector, variables, step.timeout, True, step.max_swipes, step_id)
        return self._with_shot(obs), f"found {node.text or node.rid}"

    @HANDLERS.register("press")
    def _do_press(self, step: PressStep, step_id, variables, secrets):
        before = self._dismiss_popups(step_id)
        obs = self._verify(step, before, lambda: self.driver.press(step.key), expect_change=step.key in ("back", "home")
                           and before.screen != "launcher")
        return obs, ""

    @HANDLERS.register("expect")
    def _do_expect(self, step: ExpectStep, step_id, variables, secrets):
        obs = waits.wait_for(lambda: self._matching_screen(step.screens, step_id), step.timeout, self.clock)
        if not obs:
            seen = self._with_shot(self.observe())
            raise self._fail(f"expected screen {' | '.join(step.screens)}, but the phone shows {seen.screen}", seen,
                             VerificationFailed, expected=list(step.screens), seen=seen.screen)
        return self._with_shot(obs), obs.screen

    def _matching_screen(self, screens, step_id) -> Observation | None:
        obs = self._dismiss_popups(step_id)
        return obs if obs.screen in screens else None

    @HANDLERS.register("wait-for")
    def _do_wait_for(self, step: WaitForStep, step_id, variables, secrets):
        def probe() -> Observation | None:
            obs = self._dismiss_popups(step_id)
            if step.screens:
                return obs if obs.screen in step.screens else None
            if step.gone is not None:
                return obs if self._find(step.gone, obs.hierarchy, variables) is None else None
            return obs if self._find(step.exists, obs.hierarchy, variables) is not None else None

        obs = waits.wait_for(probe, step.timeout, self.clock, interval_s=0.25)
        if not obs:
            raise self._fail(f"timed out after {step.timeout:g} s: {step.describe()}", self._with_shot(self.observe()))
        return self._with_shot(obs), ""

    @HANDLERS.register("shell")
    def _do_shell(self, step: ShellStep, step_id, variables, secrets):
        out = self.driver.shell(resolve(step.command, variables), step.timeout)
        if step.save_as:
            variables[step.save_as] = out.output
        return None, f"exit {out.exit_code}"

    @HANDLERS.register("screenshot")
    def _do_screenshot(self, step: ScreenshotStep, step_id, variables, secrets):
        obs = self.observe(screenshot=True)
        frame = check_frame(obs.screenshot, self._window_size())
        if self.verify and not frame.ok:
            raise self._fail(f"screenshot is not a real frame: {frame.reason}", obs, VerificationFailed)
        self._emit("evidence", step_id, step.shot_name, obs)
        return obs, step.shot_name

    @HANDLERS.register("assert")
    def _do_assert(self, step: AssertStep, step_id, variables, secrets):
        ok, detail, obs = self._check(step.condition, variables, step_id)
        if not ok:
            label = step.name or step.condition.describe()  # the flow's own words say why it matters
            raise self._fail(f"assertion failed: {label} ({detail})", obs)
        return obs, detail

    @HANDLERS.register("run")
    def _do_run(self, step: RunStep, step_id, variables, secrets):
        sub_vars = {p.name: p.default or "" for p in step.flow.params if not p.secret}
        sub_vars.update({name: resolve(template, variables) for name, template in step.params})
        sub_secrets = {name: secrets[src] for name, src in step.secrets if src in secrets}
        self._steps(step.flow.steps, f"{step_id}.", sub_vars, sub_secrets)
        return None, f"flow {step.flow.name} done"

    @HANDLERS.register("task")
    def _do_task(self, step: TaskStep, step_id, variables, secrets):
        fn = self.tasks.get(step.task)
        if fn is None:
            raise StepFailed(f"task {step.task!r} is not available in this run")
        ctx = TaskContext(self.driver, {k: resolve(v, variables) for k, v in step.args}, variables, self.clock, step_id,
                          lambda level, message: self._emit("log", level, message),
                          lambda figure: self._emit("progress", step_id, figure),
                          lambda h: self.catalogue.identify(h, self.variant))
        try:
            note = fn(ctx) or ""
        except MiuiAutomatorError:
            raise
        except Exception as exc:  # a task is Python code: its bug fails the step, never the whole tool
            detail = " ".join(str(exc).split()) or "no message"
            raise StepFailed(f"task {step.task} failed: {type(exc).__name__}: {detail}", task=step.task) from exc
        finally:
            self._fresh = None  # a task may have changed anything on the phone
        return None, note

    @HANDLERS.register("when")
    def _do_when(self, step: WhenStep, step_id, variables, secrets):
        ok, detail, _ = self._check(step.condition, variables, step_id)
        self._steps(step.then_steps if ok else step.else_steps, f"{step_id}.", variables, secrets)
        return None, ("then" if ok else "else") + f" ({detail})"

    @HANDLERS.register("retry")
    def _do_retry(self, step: RetryStep, step_id, variables, secrets):
        for attempt in range(1, step.times + 1):
            try:
                self._steps(step.steps, f"{step_id}.{attempt}.", variables, secrets)
                return None, f"succeeded on attempt {attempt}"
            except _StepError as failure:
                # a phone that is gone stays gone; a restarted uiautomator2 (AutomationRestarted) is worth another try
                gone = isinstance(failure.error, DeviceError) and not isinstance(failure.error, AutomationRestarted)
                if attempt == step.times or gone:
                    raise
                self._emit("log", "warning", f"step {step_id}: attempt {attempt} failed: {failure.error}")
        raise AssertionError("unreachable")

    @HANDLERS.register("drive")
    def _do_drive(self, step: DriveStep, step_id, variables, secrets):
        deadline = self.clock.now() + step.timeout
        rounds = 0
        while True:
            obs = self._dismiss_popups(step_id)
            ok, detail, obs2 = self._check(step.until, variables, step_id, obs)
            if ok:
                return self._with_shot(obs2 or obs), f"reached after {rounds} rules"
            if rounds >= step.max_steps:
                raise self._fail(f"drive did not reach {step.until.describe()} within {step.max_steps} steps", self._with_shot(obs))
            if self.clock.now() >= deadline:
                raise self._fail(f"drive timed out after {step.timeout:g} s before {step.until.describe()}", self._with_shot(obs))
            items = step.rule(obs.screen)
            if items is None:
                # An unknown or transitional screen: wait for it to change before giving up.
                changed = waits.wait_for(lambda: self._changed_from(obs), waits.DEFAULT_STEP_TIMEOUT_S, self.clock)
                if not changed:
                    raise self._fail(f"no rule for screen {obs.screen} while driving to {step.until.describe()}", self._with_shot(obs))
                continue
            rounds += 1
            for n, item in enumerate(items, 1):
                if isinstance(item, WaitAction):
                    waits.wait_for(lambda: self._changed_from(obs), waits.DEFAULT_WAIT_FOR_TIMEOUT_S, self.clock, 0.25)
                    break
                if isinstance(item, DoneAction):
                    return self._with_shot(obs), f"done on {obs.screen}"
                if isinstance(item, FailAction):
                    raise self._fail(resolve(item.message, variables), self._with_shot(obs))
                self._step(item, f"{step_id}.{rounds}.{n}", variables, secrets)

    def _changed_from(self, obs: Observation) -> Observation | None:
        now = self.observe()
        return now if now.hierarchy.fingerprint() != obs.hierarchy.fingerprint() else None

    # ================================================================ conditions
    def _check(self, cond: Condition, variables, step_id, obs: Observation | None = None):
        if cond.kind == "screen":
            obs = obs or self._dismiss_popups(step_id)
            return obs.screen in cond.screens, f"screen {obs.screen}", obs
        if cond.kind == "mi-account":  # names stay out of the report: only how many
            found = mi_accounts(self.driver.shell("dumpsys account").output)
            return bool(found) == (cond.subject == "present"), f"{len(found)} Mi account(s) on the phone", obs
        if cond.kind == "shell":
            # a command's output can name the owner's accounts and data: reports say only how much there was
            text = self.driver.shell(resolve(cond.subject, variables)).output
            detail = f"{len(text.splitlines())} lines of output"
        elif cond.kind == "prop":
            text = self.driver.shell(f"getprop {cond.subject}").output.strip()
            detail = f"{cond.subject}={_short(text)}"
        else:
            text = variables.get(cond.subject, "")
            detail = f"{cond.subject}={_short(text)}"
        return _compare(cond, text, variables), detail, obs


def _compare(cond: Condition, text: str, variables) -> bool:
    op = cond.op
    if op in ("matches", "not-matches"):
        found = bool(cond.pattern.search(text)) if cond.pattern is not None else False
        return found if op == "matches" else not found
    value = resolve(cond.value, variables)
    return {"equals": text.strip() == value, "not-equals": text.strip() != value, "contains": value in text,
            "not-contains": value not in text}[op]


def _short(text: str, limit: int = 80) -> str:
    one = re.sub(r"\s+", " ", text).strip()
    return one if len(one) <= limit else one[: limit - 1] + "…"


HANDLERS.require_complete()
