"""Tasks every flow may use."""

from __future__ import annotations

from ..errors import DeviceError, StepFailed
from . import TaskContext, task


@task("wait-for-reboot")
def wait_for_reboot(ctx: TaskContext) -> str:
    """Wait for the phone to leave ADB and come back (a reboot or factory reset), bounded."""
    gone_s = float(ctx.arg("gone_timeout", "60"))
    back_s = float(ctx.arg("back_timeout", "300"))
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
