"""The frozen flow model the engine executes.

Everything here is built once by :mod:`miui_automator.flow.parser` and never changes, so a flow is
fully checked before the phone is touched. Every step describes itself in one line: logs, the HTML
timeline and JUnit reuse ``describe()`` instead of formatting steps themselves. Descriptions show templates (``${name}``), never parameter values, and a secret
only by its parameter name. All step classes stay in this one module (a little over 500 lines) so the
list of kinds in :data:`STEP_CLASSES` sits next to the classes it names.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import ClassVar, Union

from miui_automator.errors import StepFailed
from miui_automator.flow.selectors import Selector, quote

__all__ = [
    "ACTION_KINDS", "DEFAULT_TIMEOUTS", "DRIVE_MAX_STEPS_CAP", "DRIVE_MAX_STEPS_DEFAULT", "KEYS", "MAX_TIMEOUT",
    "RETRY_TIMES_CAP", "RETRY_TIMES_DEFAULT", "SCROLL_MAX_SWIPES_CAP", "SCROLL_MAX_SWIPES_DEFAULT", "STEP_CLASSES",
    "STEP_KINDS",
    "AssertStep", "Condition", "DoneAction", "DriveStep", "ExpectStep", "FailAction", "Flow", "OpenStep", "Param",
    "PressStep", "RetryStep", "RuleAction", "RunStep", "ScreenshotStep", "ScrollToStep", "Selector", "ShellStep",
    "Step", "StepBase", "TapStep", "TaskStep", "TypeStep", "WaitAction", "WaitForStep", "WhenStep",
    "Item", "references", "resolve",
]

RETRY_TIMES_CAP = 10
RETRY_TIMES_DEFAULT = 3
DRIVE_MAX_STEPS_DEFAULT = 20
DRIVE_MAX_STEPS_CAP = 50
SCROLL_MAX_SWIPES_DEFAULT = 10
SCROLL_MAX_SWIPES_CAP = 50
MAX_TIMEOUT = 24 * 3600.0
"""Upper bound for any ``timeout``: catches milliseconds typed where seconds are meant."""

KEYS = ("back", "home", "enter", "recent")


# --- ${param} templates ---------------------------------------------------------------------------

_TOKEN = re.compile(r"\$\$\{|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)\}|\$\{")


def references(text: str) -> tuple[str, ...]:
    """Names referenced as ``${name}`` in ``text``, in order; ``$${`` is a literal ``${``.

    Raises ``ValueError`` for a ``${`` that does not start a well-formed reference, so a typo such
    as ``${synced data}`` fails at load instead of being typed onto the phone literally.
    """
    names: list[str] = []
    for m in _TOKEN.finditer(text):
        if m.group(0) == "$${":
            continue
        if m.group("name") is None:
            end = text.find("}", m.start())
            shown = text[m.start(): end + 1] if end != -1 else text[m.start():]
            raise ValueError(f"malformed reference {shown!r}: write ${{name}} (letters, digits, _), or $${{ for a literal ${{")
        names.append(m.group("name"))
    return tuple(names)


def resolve(text: str, params: Mapping[str, str]) -> str:
    """Substitute ``${name}`` references with values from ``params``.

    A name without a value is a run-time failure (e.g. a ``save-as`` variable set only in a branch
    that did not run); references were already checked for existence at load time.
    """

    def substitute(m: re.Match[str]) -> str:
        if m.group(0) == "$${":
            return "${"
        name = m.group("name")
        if name is None:  # rejected at load; kept literal so resolve() never raises on odd input
            return m.group(0)
        try:
            return params[name]
        except KeyError:
            raise StepFailed(f"${{{name}}} has no value", param=name) from None

    return _TOKEN.sub(substitute, text)


# --- params ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Param:
    """A flow input. Values are strings; ``secret`` ones may only be typed, never shown or defaulted."""

    name: str
    line: int
    secret: bool = False
    env: str | None = None
    required: bool = False
    default: str | None = None
    choices: tuple[str, ...] = ()
    description: str = ""


# --- conditions -----------------------------------------------------------------------------------

_OP_WORDS = {
    "equals": "equals", "not-equals": "does not equal", "contains": "contains",
    "not-contains": "does not contain", "matches": "matches", "not-matches": "does not match",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Condition:
    """Something the engine can check: the current screen, or a text compared with ``op``.

    ``kind`` is ``screen`` (``screens`` lists alternatives), ``shell`` (``subject`` is the read-only
    command), ``prop`` (``subject`` is the property name), ``param`` (``subject`` is a param or a
    ``save-as`` variable) or ``mi-account`` (``subject`` is ``present`` or ``absent``: whether a Mi account,
    as :func:`miui_automator.device.info.mi_accounts` defines it, is on the phone; no ``op``). ``op`` is
    one of equals, not-equals, contains, not-contains, matches, not-matches; ``value`` is a template for
    the first four, ``pattern`` the compiled regex for the rest.
    """

    kind: str
    line: int
    screens: tuple[str, ...] = ()
    subject: str = ""
    op: str = ""
    value: str = ""
    pattern: re.Pattern[str] | None = None

    OPS: ClassVar[tuple[str, ...]] = tuple(_OP_WORDS)

    def describe(self) -> str:
        if self.kind == "screen":
            return "screen is " + " | ".join(self.screens)
        if self.kind == "mi-account":
            return "a Mi account is on the phone" if self.subject == "present" else "no Mi account is on the phone"
        subject = {"shell": f"shell {quote(self.subject)}"}.get(self.kind, f"{self.kind} {self.subject}")
        operand = f"/{self.pattern.pattern}/" if self.pattern is not None else quote(self.value)
        return f"{subject} {_OP_WORDS[self.op]} {operand}"


# --- steps ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class StepBase:
    """What every step has: its source line, a bound on its duration, and report metadata.

    ``optional`` steps log their failure and let the flow continue. ``expect`` (action steps only)
    names the screen(s) that must follow the action.

    Each step class declares what the parser and the engine need to know about its kind: ``kind`` (the
    YAML key), ``default_timeout`` (seconds when the flow gives no ``timeout``; containers bound everything
    inside), ``acts`` (it changes the screen, so it may carry ``expect:``) and ``extra_keys`` (keys the
    step takes beside its kind, e.g. when's ``then``/``else``). :data:`STEP_CLASSES` collects them.
    """

    line: int
    timeout: float
    optional: bool = False
    name: str | None = None
    expect: tuple[str, ...] = ()

    kind: ClassVar[str] = ""
    default_timeout: ClassVar[float] = 0.0
    acts: ClassVar[bool] = False
    extra_keys: ClassVar[tuple[str, ...]] = ()

    def describe(self) -> str:
        text = self._what()
        if self.expect:
            text += ", expect " + " | ".join(self.expect)
        return text

    @property
    def label(self) -> str:
        """The user's ``name`` for the step if given, else its description."""
        return self.name or self.describe()

    def children(self) -> tuple[Item, ...]:
        """Directly nested steps (in source order); empty for simple steps."""
        return ()

    def _what(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenStep(StepBase):
    """Start an activity by intent action, by component, or an app's launcher activity.

    ``data`` is the intent's data URI (``am start -d``), e.g. a web page for ``android.intent.action.VIEW``.
    """

    kind: ClassVar[str] = "open"
    default_timeout: ClassVar[float] = 20.0
    acts: ClassVar[bool] = True
    action: str | None = None
    component: str | None = None
    app: str | None = None
    extras: tuple[tuple[str, str | int | float | bool], ...] = ()
    data: str | None = None

    def _what(self) -> str:
        if self.action is not None:
            target = f"action {self.action}"
        elif self.component is not None:
            target = f"component {self.component}"
        else:
            target = f"app {self.app}"
        if self.data is not None:
            target += f" {self.data}"
        if self.extras:
            target += " (" + ", ".join(f"{k}={v}" for k, v in self.extras) + ")"
        return f"open {target}"


@dataclass(frozen=True, slots=True, kw_only=True)
class TapStep(StepBase):
    kind: ClassVar[str] = "tap"
    default_timeout: ClassVar[float] = 10.0
    acts: ClassVar[bool] = True
    selector: Selector

    def _what(self) -> str:
        return f"tap {self.selector.describe()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class TypeStep(StepBase):
    """Type ``text`` (a template) or the value of the secret param named ``secret``.

    Secrets go through uiautomator2's input channel, never a shell command line, and are described
    by name only. Without ``into`` the focused field receives the text.
    """

    kind: ClassVar[str] = "type"
    default_timeout: ClassVar[float] = 10.0
    acts: ClassVar[bool] = True
    into: Selector | None = None
    text: str | None = None
    secret: str | None = None

    def _what(self) -> str:
        what = f"secret {quote(self.secret)}" if self.secret is not None else quote(self.text or "")
        where = self.into.describe() if self.into is not None else "the focused field"
        return f"type {what} into {where}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ScrollToStep(StepBase):
    kind: ClassVar[str] = "scroll-to"
    default_timeout: ClassVar[float] = 60.0
    acts: ClassVar[bool] = True
    selector: Selector
    max_swipes: int = SCROLL_MAX_SWIPES_DEFAULT

    def _what(self) -> str:
        return f"scroll to {self.selector.describe()} (max {self.max_swipes} swipes)"


@dataclass(frozen=True, slots=True, kw_only=True)
class PressStep(StepBase):
    kind: ClassVar[str] = "press"
    default_timeout: ClassVar[float] = 5.0
    acts: ClassVar[bool] = True
    key: str

    def _what(self) -> str:
        return f"press {self.key}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpectStep(StepBase):
    """The current screen must be one of ``screens`` (waiting up to ``timeout`` for it)."""

    kind: ClassVar[str] = "expect"
    default_timeout: ClassVar[float] = 15.0
    screens: tuple[str, ...]

    def _what(self) -> str:
        return "expect screen " + " | ".join(self.screens)


@dataclass(frozen=True, slots=True, kw_only=True)
class WaitForStep(StepBase):
    """Wait until one of ``screens`` shows, the ``gone`` element disappears, or ``exists`` appears."""

    kind: ClassVar[str] = "wait-for"
    default_timeout: ClassVar[float] = 60.0
    screens: tuple[str, ...] = ()
    gone: Selector | None = None
    exists: Selector | None = None

    def _what(self) -> str:
        if self.screens:
            return "wait for screen " + " | ".join(self.screens)
        if self.gone is not None:
            return f"wait until {self.gone.describe()} is gone"
        assert self.exists is not None
        return f"wait until {self.exists.describe()} exists"


@dataclass(frozen=True, slots=True, kw_only=True)
class ShellStep(StepBase):
    """Run a read-only shell command (checked at load); ``save_as`` keeps its output as a variable."""

    kind: ClassVar[str] = "shell"
    default_timeout: ClassVar[float] = 30.0
    command: str
    save_as: str | None = None

    def _what(self) -> str:
        saved = f" as ${{{self.save_as}}}" if self.save_as else ""
        return f"shell {quote(self.command)}{saved}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ScreenshotStep(StepBase):
    kind: ClassVar[str] = "screenshot"
    default_timeout: ClassVar[float] = 15.0
    shot_name: str

    def _what(self) -> str:
        return f"screenshot {quote(self.shot_name)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class AssertStep(StepBase):
    kind: ClassVar[str] = "assert"
    default_timeout: ClassVar[float] = 15.0
    condition: Condition

    def _what(self) -> str:
        return f"assert {self.condition.describe()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskStep(StepBase):
    """A named Python task (pulling files, exporting contacts, waiting for a reboot): work that is not
    a screen transition. ``args`` are (name, template) pairs resolved when the step runs."""

    kind: ClassVar[str] = "task"
    default_timeout: ClassVar[float] = 3600.0
    task: str
    args: tuple[tuple[str, str], ...] = ()

    def _what(self) -> str:
        args = ", ".join(f"{k}={quote(v)}" for k, v in self.args)
        return f"task {self.task}" + (f" ({args})" if args else "")


@dataclass(frozen=True, slots=True, kw_only=True)
class RunStep(StepBase):
    """Run another flow, already loaded and validated as ``flow``.

    ``params`` are (sub-flow param, template in this flow); ``secrets`` are (sub-flow secret,
    secret of this flow) — secrets pass by name so their values never appear in a template.
    """

    kind: ClassVar[str] = "run"
    default_timeout: ClassVar[float] = 1800.0
    flow_ref: str
    flow: Flow
    params: tuple[tuple[str, str], ...] = ()
    secrets: tuple[tuple[str, str], ...] = ()

    def _what(self) -> str:
        args = [f"{k}={quote(v)}" for k, v in self.params] + [f"{k}=secret {quote(v)}" for k, v in self.secrets]
        return f"run flow {self.flow.name}" + (f" ({', '.join(args)})" if args else "")


@dataclass(frozen=True, slots=True, kw_only=True)
class WhenStep(StepBase):
    kind: ClassVar[str] = "when"
    default_timeout: ClassVar[float] = 15.0
    extra_keys: ClassVar[tuple[str, ...]] = ("then", "else")
    condition: Condition
    then_steps: tuple[Step, ...]
    else_steps: tuple[Step, ...] = ()

    def _what(self) -> str:
        return f"when {self.condition.describe()}"

    def children(self) -> tuple[Item, ...]:
        return self.then_steps + self.else_steps


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryStep(StepBase):
    """Run ``steps``; if one fails, start them over — at most ``times`` attempts in total."""

    kind: ClassVar[str] = "retry"
    default_timeout: ClassVar[float] = 600.0
    times: int
    steps: tuple[Step, ...]

    def _what(self) -> str:
        return f"retry up to {self.times} times"

    def children(self) -> tuple[Item, ...]:
        return self.steps


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleAction:
    """A drive-rule action that is not a step: ``wait``, ``done`` or ``fail``; each ends its rule."""

    line: int

    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True, slots=True, kw_only=True)
class WaitAction(RuleAction):
    """Do nothing this round: the screen is expected to change on its own (e.g. a progress page)."""

    def describe(self) -> str:
        return "wait"


@dataclass(frozen=True, slots=True, kw_only=True)
class DoneAction(RuleAction):
    """Stop driving successfully even though ``until`` does not hold."""

    def describe(self) -> str:
        return "done"


@dataclass(frozen=True, slots=True, kw_only=True)
class FailAction(RuleAction):
    """Stop the flow with ``message`` (a template): this screen means the goal cannot be reached."""

    message: str

    def describe(self) -> str:
        return f"fail {quote(self.message)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class DriveStep(StepBase):
    """A state machine keyed on the visible screen: identify it, run its rule, until ``until`` holds.

    ``rules`` are (screen name, actions) in source order; at most ``max_steps`` rules run.
    """

    kind: ClassVar[str] = "drive"
    default_timeout: ClassVar[float] = 600.0
    until: Condition
    max_steps: int
    rules: tuple[tuple[str, tuple[Item, ...]], ...]

    def _what(self) -> str:
        return f"drive until {self.until.describe()} (max {self.max_steps} steps)"

    def children(self) -> tuple[Item, ...]:
        return tuple(item for _, items in self.rules for item in items)

    def rule(self, screen: str) -> tuple[Item, ...] | None:
        """The actions for ``screen``, or None when the flow has no rule for it."""
        for name, items in self.rules:
            if name == screen:
                return items
        return None


Step = Union[
    OpenStep, TapStep, TypeStep, ScrollToStep, PressStep, ExpectStep, WaitForStep, ShellStep, ScreenshotStep,
    AssertStep, RunStep, WhenStep, RetryStep, DriveStep, TaskStep,
]
Item = Union[Step, RuleAction]
"""What a drive rule holds: steps and the rule-only actions."""


def _by_kind(*classes: type[StepBase]) -> Mapping[str, type[StepBase]]:
    table: dict[str, type[StepBase]] = {}
    for cls in classes:
        if not cls.kind or cls.kind in table or cls.default_timeout <= 0:
            raise TypeError(f"{cls.__name__}: a step class needs its own kind and a default timeout")
        table[cls.kind] = cls
    return MappingProxyType(table)


STEP_CLASSES: Mapping[str, type[StepBase]] = _by_kind(
    OpenStep, TapStep, TypeStep, ScrollToStep, PressStep, ExpectStep, WaitForStep, ShellStep, ScreenshotStep,
    AssertStep, RunStep, WhenStep, RetryStep, DriveStep, TaskStep,
)
"""Every step kind, in the order the flow reference lists them: the one list the parser's builders and
the engine's handlers are checked against (:mod:`miui_automator.flow.step_registry`)."""

STEP_KINDS: tuple[str, ...] = tuple(STEP_CLASSES)
DEFAULT_TIMEOUTS: Mapping[str, float] = MappingProxyType({k: c.default_timeout for k, c in STEP_CLASSES.items()})
ACTION_KINDS = frozenset(k for k, c in STEP_CLASSES.items() if c.acts)
"""Step kinds that change the screen and so may carry ``expect:``."""


# --- flow -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Flow:
    """A whole flow: its inputs and its steps, with ``path``/``line`` for messages about it.

    ``confirm`` names the param whose value the user must confirm by typing it before the flow runs (the
    account a deletion request is for); None for flows that need no such confirmation.
    """

    name: str
    path: str
    line: int
    steps: tuple[Step, ...]
    description: str = ""
    destructive: bool = False
    params: tuple[Param, ...] = ()
    confirm: str | None = None

    def describe(self) -> str:
        return f"flow {self.name}" + (f": {self.description}" if self.description else "")

    def param(self, name: str) -> Param | None:
        for p in self.params:
            if p.name == name:
                return p
        return None

    def walk(self, *, subflows: bool = False) -> Iterator[Item]:
        """Every step in source order, nested ones (when/retry/drive) right after their parent.

        Drive-rule actions (wait/done/fail) are included. With ``subflows`` the steps of flows
        started by ``run`` follow the run step.
        """
        stack: list[Item] = list(reversed(self.steps))
        while stack:
            item = stack.pop()
            yield item
            if isinstance(item, StepBase):
                nested = list(item.children())
                if subflows and isinstance(item, RunStep):
                    nested += item.flow.steps
                stack.extend(reversed(nested))
