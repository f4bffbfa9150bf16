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
    """Wait for the phone to leave ADB and come back (a reboot or factory reset), bounded."""
    wait_gone(ctx, ctx.args["gone_timeout"])
    return wait_back(ctx, ctx.args["back_timeout"])


def wait_gone(ctx: TaskContext, seconds: float) -> None:
    """Return once the phone no longer answers over ADB; :class:`StepFailed` if it still does after ``seconds``."""
    deadline = ctx.clock.now() + seconds
    while ctx.clock.now() < deadline:
        try:
            ctx.driver.shell("echo alive", timeout_s=5)
        except DeviceError:
            return
        ctx.clock.sleep(0.25)
    raise StepFailed(f"{ctx.driver.serial}: the phone did not restart within {seconds:g} s")


def wait_back(ctx: TaskContext, seconds: float) -> str:
    """Wait (bounded) for a phone that left ADB to be back and booted; :class:`DeviceError` if it is not.

    Once it is back, the device layer is asked to restart uiautomator2: it owns that server, and the
    one that ran before the reboot is gone.
    """
    deadline = ctx.clock.now() + seconds
    while ctx.clock.now() < deadline:
        try:
            if ctx.driver.shell("getprop sys.boot_completed", timeout_s=5).output.strip() == "1":
                ctx.driver.restart_automation()
                return "the phone restarted and is back"
        except DeviceError:
            pass
        ctx.clock.sleep(0.5)
    raise DeviceError(f"{ctx.driver.serial}: the phone did not come back within {seconds:g} s of restarting")


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
