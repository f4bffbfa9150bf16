"""The one error tree of the project.

Every error the tool raises on purpose derives from :class:`MiuiAutomatorError` and carries
the exit code the CLI maps it to, so the mapping lives in exactly one place
(``miui_automator.cli.main``) and library callers can still catch by meaning.
Errors carry data (serial, command, output, screen seen, screenshot path) rather than
pre-formatted prose, so reports can show them structurally.
"""

from __future__ import annotations


class MiuiAutomatorError(Exception):
    """Base of every error the tool raises deliberately."""

    exit_code = 1

    def __init__(self, message: str, **data: object) -> None:
        super().__init__(message)
        self.message = message
        self.data = data

    def __str__(self) -> str:  # one line, always
        return self.message.replace("\n", " ")


class UsageError(MiuiAutomatorError):
    """Bad command-line usage or arguments (exit 2)."""

    exit_code = 2


class ConfigError(UsageError):
    """A configuration file (inventory, params, fault spec) is invalid (exit 2)."""


class FlowSyntaxError(ConfigError):
    """A flow file does not parse into the flow model (exit 2)."""


class StepFailed(MiuiAutomatorError):
    """A flow step did not reach its goal (exit 1)."""

    exit_code = 1


class VerificationFailed(StepFailed):
    """A screen transition could not be proven by hierarchy and screenshot (exit 1)."""


class DeviceError(MiuiAutomatorError):
    """The device or the connection to it failed (exit 3)."""

    exit_code = 3


class AutomationRestarted(DeviceError):
    """The on-device uiautomator2 server died during an action and the device layer restarted it.

    The device layer owns restarting; it repeats reads itself but never repeats an action (a tap
    may have landed), so it raises this and the caller decides whether the step is safe to repeat.
    """


class Interrupted(MiuiAutomatorError):
    """The user interrupted the run (exit 130)."""

    exit_code = 130
