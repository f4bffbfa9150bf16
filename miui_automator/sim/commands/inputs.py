"""``input``: taps, swipes, keys and text injected into the phone model.

MIUI refuses injection from the shell while "USB debugging (Security settings)" is off; the
phone raises :class:`InputRefused` (and counts the attempt), and this command prints what
Android's ``cmd input`` prints when the service throws: the exception and its stack, exit
status 255.
"""

from __future__ import annotations

from ..phone import InputRefused
from .base import CommandError, Ctx, java_exception, to_float, to_int

SOURCES = {"keyboard", "mouse", "joystick", "touchnavigation", "touchpad", "trackball", "dpad", "stylus", "gamepad",
           "touchscreen", "rotaryencoder"}
USAGE = ("Usage: input [<source>] [-d DISPLAY_ID] <command> [<arg>...]\n\nThe commands and default sources are:\n"
         "      text <string> (Default: keyboard)\n"
         "      keyevent [--longpress|--doubletap] <key code number or name> ... (Default: keyboard)\n"
         "      tap <x> <y> (Default: touchscreen)\n"
         "      swipe <x1> <y1> <x2> <y2> [duration(ms)] (Default: touchscreen)\n"
         "      draganddrop <x1> <y1> <x2> <y2> [duration(ms)] (Default: touchscreen)\n"
         "      press (Default: trackball)\n"
         "      roll <dx> <dy> (Default: trackball)\n"
         "      motionevent <DOWN|UP|MOVE|CANCEL> <x> <y> (Default: touchscreen)")
DEFAULT_SWIPE_MS = 300  # InputShellCommand's duration when none (or a negative one) is given
_INJECT_FRAMES = (
    "com.android.server.input.InputManagerService.injectInputEventToTarget(InputManagerService.java:1030)",
    "com.android.server.input.InputManagerService.injectInputEvent(InputManagerService.java:1008)",
    "android.hardware.input.InputManager.injectInputEvent(InputManager.java:1176)",
    "com.android.server.input.InputShellCommand.injectMotionEvent(InputShellCommand.java:141)",
    "com.android.server.input.InputShellCommand.onCommand(InputShellCommand.java:230)",
    "com.android.modules.utils.BasicShellCommandHandler.exec(BasicShellCommandHandler.java:97)",
)
_NPE_FRAMES = (
    "com.android.server.input.InputShellCommand.sendText(InputShellCommand.java:276)",
    "com.android.server.input.InputShellCommand.runText(InputShellCommand.java:262)",
    "com.android.server.input.InputShellCommand.onCommand(InputShellCommand.java:220)",
)


def _need(args: list[str], count: int) -> None:
    if len(args) < count:
        raise CommandError(USAGE, 1)


def _run(ctx: Ctx, verb: str, args: list[str]) -> None:
    phone = ctx.phone
    if verb == "tap":
        _need(args, 2)
        phone.tap(to_float(args[0], "input"), to_float(args[1], "input"))
    elif verb in ("swipe", "draganddrop"):
        _need(args, 4)
        x1, y1, x2, y2 = (to_float(a, "input") for a in args[:4])
        ms = to_int(args[4], "input") if len(args) > 4 else DEFAULT_SWIPE_MS
        if ms < 0:
            ms = DEFAULT_SWIPE_MS
        if (x1, y1) == (x2, y2) and ms >= 400:
            phone.long_tap(x1, y1, ms)  # `input swipe x y x y 1000` is the shell's long press
        else:
            phone.swipe(x1, y1, x2, y2, max(2, ms // 5))
        ctx.session.elapsed += ms / 1000  # the finger is on the glass for the whole duration
    elif verb == "keyevent":
        keys = [a for a in args if a not in ("--longpress", "--doubletap")]
        _need(keys, 1)
        for key in keys:
            phone.press_key(key)
    elif verb == "text":
        _need(args, 1)
        text = " ".join(args).replace("%s", " ")
        if not text.isascii():
            raise CommandError(java_exception(
                "text", "java.lang.NullPointerException: Attempt to get length of null array", _NPE_FRAMES).rstrip("\n"),
                255)
        phone.input_text(text)
    elif verb in ("press", "roll", "motionevent"):
        phone.check_input()
    else:
        raise CommandError(f"Error: Unknown command: {verb}\n{USAGE}", 1)


def input_(ctx: Ctx, args: list[str]) -> int:
    args = list(args)
    if args and args[0] in SOURCES:
        args.pop(0)
    if args[:1] == ["-d"]:
        args = args[2:]
    if not args:
        raise CommandError(USAGE, 1)
    verb, rest = args[0], args[1:]
    try:
        _run(ctx, verb, rest)
    except InputRefused as exc:
        ctx.err(java_exception(verb, str(exc), _INJECT_FRAMES))
        return 255
    return 0


COMMANDS = {"input": input_}
