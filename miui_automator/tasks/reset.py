"""The last tap of a factory reset, and an honest account of what happened after it.

A retail phone turns USB debugging off when it is erased: once the erase starts it leaves ADB for good
and comes back only as a fresh phone in its setup wizard, seen by whoever stands next to it. So the
tool cannot watch the phone come back; it proves everything it can before and at the tap instead —
the erase confirmation is on screen, no Mi account is on the phone (the flow asserts that right before),
and "Erasing…" shows right after the tap — and then counts the phone leaving ADB as the erase having
started. A phone that goes away at any other moment (before or during the tap, before "Erasing…" was
seen) is a device error: nobody knows whether it is erasing.

An engineering or test build keeps ADB through the reset (``keeps_adb: true``): the task then waits for
it to come back, and the flow checks it is fresh as before.
"""

from __future__ import annotations

from ..errors import AutomationRestarted, DeviceError, StepFailed
from ..flow.waits import wait_for
from . import TaskArg, TaskContext, task
from .builtin import REBOOT_ARGS, wait_back, wait_gone

CONFIRM_SCREEN = "factory_reset_confirm"
ERASING_SCREEN = "factory_reset_erasing"
ERASING_SEEN_TIMEOUT_S = 10.0
"""How long after the tap "Erasing…" may take to show (it replaces the dialog at once on the phones seen)."""
ERASING_POLL_S = 0.05  # the dialog shows for about a second before a retail phone drops off: look often

RETAIL_NOTE = ("erase confirmed ('Erasing…' on screen) and the phone left ADB, as a retail phone does when it is "
               "erased: USB debugging is off from now on and the phone shows its setup wizard")


def _gone_before_erasing(ctx: TaskContext, when: str, err: DeviceError) -> DeviceError:
    return DeviceError(f"{ctx.driver.serial}: the phone left ADB {when}, before 'Erasing…' was seen: whether it is "
                       f"being erased is unknown — look at the phone ({err})", serial=ctx.driver.serial)


@task("confirm-factory-reset",
      TaskArg("id", "text", "android:id/button1", "the confirmation button's resource-id (Android's positive button: "
              "the same in every language)"),
      TaskArg("text", "text", "", "the button's texts, separated by |, where it has no id"),
      TaskArg("keeps_adb", "flag", "false", "the phone keeps USB debugging through the reset (engineering/test build)"),
      *REBOOT_ARGS)
def confirm_factory_reset(ctx: TaskContext) -> str:
    """Tap the final "Erase" on the confirmation, see "Erasing…", see the phone leave ADB; with ``keeps_adb``
    also wait for it to come back (the flow then checks it is fresh)."""
    texts = tuple(t for t in ctx.args["text"].split("|") if t)
    h = ctx.driver.hierarchy()
    screen = ctx.identify(h).name
    if screen != CONFIRM_SCREEN:
        raise StepFailed(f"the erase confirmation is not on screen (screen {screen}): nothing was tapped")
    nodes = (h.find(id=ctx.args["id"]) if ctx.args["id"] else []) or (h.find(text=texts) if texts else [])
    if not nodes:
        wanted = " | ".join(filter(None, (ctx.args["id"], *texts)))
        raise StepFailed(f"confirmation button {wanted} not found ({h.summary()}): nothing was tapped")
    x, y = nodes[-1].center
    try:
        ctx.driver.tap(x, y)
    except AutomationRestarted as err:  # the tap may or may not have landed: the screen says which
        ctx.log("warning", f"uiautomator2 was restarted while confirming the erase: {err}")
    except DeviceError as err:
        raise _gone_before_erasing(ctx, "while the erase was being confirmed", err) from None

    last = [screen]

    def erasing() -> bool:
        last[0] = ctx.identify(ctx.driver.hierarchy()).name
        return last[0] == ERASING_SCREEN

    try:
        seen = wait_for(erasing, ERASING_SEEN_TIMEOUT_S, ctx.clock, ERASING_POLL_S)
    except DeviceError as err:
        raise _gone_before_erasing(ctx, "right after the erase was confirmed", err) from None
    if not seen:
        raise StepFailed(f"'Erasing…' did not show within {ERASING_SEEN_TIMEOUT_S:g} s of confirming the erase "
                         f"(screen {last[0]})")
    ctx.log("info", "'Erasing…' is on screen right after the erase was confirmed")
    wait_gone(ctx, ctx.args["gone_timeout"])
    if not ctx.args["keeps_adb"]:
        return RETAIL_NOTE
    back = wait_back(ctx, ctx.args["back_timeout"])
    return f"erase confirmed ('Erasing…' on screen); {back} (this build keeps USB debugging through a reset)"
