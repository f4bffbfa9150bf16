"""Tasks every flow may use."""

from __future__ import annotations

from ..device.info import mask_account, mi_accounts, parse_accounts
from ..errors import DeviceError, StepFailed
from . import TaskArg, TaskContext, task

REBOOT_ARGS = (
    TaskArg("gone_timeout", "seconds", "60", "how long the phone may take to leave ADB"),
    TaskArg("back_timeout", "seconds", "300", "how long it may take to come back once gone"),
)


@task("wait-for-reboot", *REBOOT_ARGS)
def wait_for_reboot(ctx: TaskContext) -> str:
    """Wait for the phone to leave ADB and come back (a reboot or factory reset), bounded.

    Once it is back, the device layer is asked to restart uiautomator2: it owns that server, and the
    one that ran before the reboot is gone.
    """
    gone_s: float = ctx.args["gone_timeout"]
    back_s: float = ctx.args["back_timeout"]
    deadline = ctx.clock.now() + gone_s
    while ctx.clock.now() < deadline:
        try:
            ctx.driver.shell("echo alive", timeout_s=5)
        except DeviceError:
            break
        ctx.clock.sleep(0.25)
    else:
        raise StepFailed(f"{ctx.driver.serial}: the phone did not restart within {gone_s:g} s")
    deadline = ctx.clock.now() + back_s
    while ctx.clock.now() < deadline:
        try:
            if ctx.driver.shell("getprop sys.boot_completed", timeout_s=5).output.strip() == "1":
                ctx.driver.restart_automation()
                return "the phone restarted and is back"
        except DeviceError:
            pass
        ctx.clock.sleep(0.5)
    raise DeviceError(f"{ctx.driver.serial}: the phone did not come back within {back_s:g} s of restarting")


@task("list-accounts")
def list_accounts(ctx: TaskContext) -> str:
    """Every account on the phone, masked, first in the report: the linked services people forget."""
    dump = ctx.driver.shell("dumpsys account").output
    accounts = parse_accounts(dump)
    for name, kind in accounts:
        ctx.log("info", f"account on the phone: {kind} {mask_account(name)}")
    xiaomi = mi_accounts(dump)
    listed = ", ".join(f"{kind} {mask_account(name)}" for name, kind in accounts) or "none"
    if not xiaomi:
        return f"no Mi account on the phone: nothing to do (accounts: {listed})"
    return f"accounts: {listed}"


@task("confirm-and-wait-for-reboot", TaskArg("text", "text", None, "the button's texts, separated by |"), *REBOOT_ARGS)
def confirm_and_wait_for_reboot(ctx: TaskContext) -> str:
    """Tap the final confirmation (texts in ``text``, separated by |) and wait out the reboot it starts.

    A normal tap step would try to verify the next screen of a phone that is already going away.
    """
    texts = tuple(t for t in ctx.args["text"].split("|") if t)
    h = ctx.driver.hierarchy()
    nodes = h.find(text=texts)
    if not nodes:
        raise StepFailed(f"confirmation button {' | '.join(texts)} not found ({h.summary()})")
    x, y = nodes[-1].center
    try:
        ctx.driver.tap(x, y)
    except DeviceError as err:  # the phone may already be rebooting while it answers
        ctx.log("info", f"the phone went away while confirming: {err}")
    return wait_for_reboot(ctx)
