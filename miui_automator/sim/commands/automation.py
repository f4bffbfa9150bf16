"""The UI-automation side of the shell: launching the uiautomator2 server (``app_process``
with ``u2.jar``, or the older ``am instrument``/``uiautomator runtest`` forms),
``uiautomator dump`` (with MIUI's theme-loader noise) and ``screencap``.

The launch is a long-running command: its :data:`HoldFn` keeps ``phone.u2_running`` true
while the host keeps the stream open, and ends the stream when the server dies (the
``u2crash`` fault, a reboot), which is how uiautomator2 notices "server quit unexpectedly".
"""

from __future__ import annotations

import asyncio
import io
import posixpath
import struct
import weakref

from .base import CommandError, Ctx, write_error
from ..ui import hierarchy_xml
from .dumpsys import DISPLAY_ID

U2_MAIN = "com.wetest.uia2.Main"
INSTRUMENT_PACKAGE = "com.github.uiautomator.test"
DEFAULT_DUMP = "/sdcard/window_dump.xml"

U2_STARTUP = ("[server] INFO: [UiAutomator2Server] Starting Server\n"
              "SLF4J: Failed to load class \"org.slf4j.impl.StaticLoggerBinder\".\n"
              "SLF4J: Defaulting to no-operation (NOP) logger implementation\n"
              "SLF4J: See http://www.slf4j.org/codes.html#StaticLoggerBinder for further details.\n")
ALREADY_REGISTERED = ("java.lang.IllegalStateException: UiAutomationService "
                      "android.accessibilityservice.IAccessibilityServiceClient$Stub$Proxy@5deffd5already registered!\n"
                      "\tat android.app.UiAutomationConnection.registerUiTestAutomationServiceLocked"
                      "(UiAutomationConnection.java:520)\n"
                      "\tat android.app.UiAutomationConnection.connect(UiAutomationConnection.java:103)\n")

# MIUI's ThemeCompatibilityLoader logs this on stdout whenever uiautomator starts, before the XML.
MIUI_DUMP_NOISE = (
    "java.io.FileNotFoundException: /data/system/theme_config/theme_compatibility.xml: open failed: ENOENT "
    "(No such file or directory)\n"
    "\tat libcore.io.IoBridge.open(IoBridge.java:574)\n"
    "\tat java.io.FileInputStream.<init>(FileInputStream.java:160)\n"
    "\tat java.io.FileInputStream.<init>(FileInputStream.java:115)\n"
    "\tat miui.content.res.ThemeCompatibilityLoader.getVersion(ThemeCompatibilityLoader.java:108)\n"
    "\tat miui.content.res.ThemeCompatibilityLoader.getConfigDocumentTree(ThemeCompatibilityLoader.java:126)\n"
    "\tat miui.content.res.ThemeCompatibilityLoader.loadConfig(ThemeCompatibilityLoader.java:59)\n"
    "\tat miui.content.res.ThemeCompatibility.<clinit>(ThemeCompatibility.java:31)\n"
    "\tat miui.content.res.ThemeCompatibility.isThemeEnabled(ThemeCompatibility.java:111)\n"
    "\tat android.content.res.MiuiResourcesImpl.<clinit>(MiuiResourcesImpl.java:41)\n"
    "\tat com.android.commands.uiautomator.Launcher.main(Launcher.java:83)\n"
    "\tat com.android.internal.os.RuntimeInit.nativeFinishInit(Native Method)\n"
    "\tat com.android.internal.os.RuntimeInit.main(RuntimeInit.java:355)\n"
    "Caused by: android.system.ErrnoException: open failed: ENOENT (No such file or directory)\n"
    "\tat libcore.io.Linux.open(Native Method)\n"
    "\tat libcore.io.ForwardingOs.open(ForwardingOs.java:567)\n"
    "\tat libcore.io.BlockGuardOs.open(BlockGuardOs.java:273)\n"
    "\tat libcore.io.IoBridge.open(IoBridge.java:560)\n"
    "\t... 11 more\n"
)

# Which launch owns each phone's server now; a stale hold must not stop a newer server.
_owners: "weakref.WeakKeyDictionary[object, object]" = weakref.WeakKeyDictionary()


def u2_launch(ctx: Ctx, startup: str = U2_STARTUP) -> int:
    """Start the uiautomator2 server; it then runs for as long as the stream stays open."""
    phone = ctx.phone
    if phone.u2_running:
        ctx.out(startup.splitlines(keepends=True)[0])
        ctx.err(ALREADY_REGISTERED)
        return 1
    ctx.out(startup)
    launch = object()

    async def serve(closed: asyncio.Event, write) -> None:
        _owners[phone] = launch
        phone.u2_running = True
        stopped = asyncio.Event()
        phone.u2_stop_listeners.add(stopped.set)
        try:
            # Sleep until the host hangs up or the server stops: no polling, so a phone whose
            # server idles costs no CPU however long it idles.
            waits = [asyncio.ensure_future(closed.wait()), asyncio.ensure_future(stopped.wait())]
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waits:
                    waiter.cancel()
        finally:
            phone.u2_stop_listeners.discard(stopped.set)
            if _owners.get(phone) is launch:
                phone.u2_running = False
                del _owners[phone]

    ctx.hold = serve
    return 0


def app_process(ctx: Ctx, args: list[str]) -> int:
    positional = [a for a in args if not a.startswith("-")]
    if len(positional) < 2:
        raise CommandError("Usage: app_process [java-options] cmd-dir start-class-name [options]")
    main_class = positional[1]
    fs = ctx.phone.state.fs
    entries = [fs.lookup(ctx.resolve(j)) for j in ctx.getenv("CLASSPATH").split(":") if j]
    found = any(e is not None and not e.is_dir for e in entries)
    if main_class != U2_MAIN or not found:
        raise CommandError(f"Error: Could not find or load main class {main_class}")
    return u2_launch(ctx)


def _dump(ctx: Ctx, args: list[str]) -> int:
    target = next((a for a in args if not a.startswith("-")), DEFAULT_DUMP)
    phone = ctx.phone
    ctx.out(MIUI_DUMP_NOISE)
    # DumpCommand first waits for an idle screen (waitForIdle(1000, 10000)) and gives up on a busy one.
    timing = phone.timing
    idle_in = phone.idle_in(timing.shell_dump_quiet)
    if idle_in > timing.shell_dump_idle_timeout:
        ctx.session.elapsed += timing.shell_dump_idle_timeout
        ctx.err("ERROR: could not get idle state.\n")
        return 0
    ctx.session.elapsed += idle_in
    windows = phone.live_windows() if idle_in > 0 else phone.windows()  # what is listed once idle
    if not windows:
        ctx.err("ERROR: null root node returned by UiTestAutomationBridge.\n")
        return 0
    xml = hierarchy_xml(windows)
    ctx.session.elapsed += timing.dump(len(xml.encode()))
    if target in ("/dev/tty", "/dev/stdout"):
        ctx.out(xml)
    else:
        norm = ctx.resolve(target)
        parent = phone.state.fs.lookup(posixpath.dirname(norm))
        reason = write_error(norm) or (None if parent is not None and parent.is_dir else "No such file or directory")
        if reason:
            errno = "EACCES" if reason == "Permission denied" else "EROFS" if "Read-only" in reason else "ENOENT"
            raise CommandError(f"java.io.FileNotFoundException: {target}: open failed: {errno} ({reason})")
        phone.state.fs.write(norm, xml.encode("utf-8"))
    ctx.out(f"UI hierchary dumped to: {target}\n")
    return 0


def uiautomator(ctx: Ctx, args: list[str]) -> int:
    if args[:1] == ["dump"]:
        return _dump(ctx, args[1:])
    if args[:1] == ["runtest"]:
        jars = [a for a in args[1:] if a.endswith(".jar")]
        fs = ctx.phone.state.fs
        if not jars or not all(fs.exists(ctx.resolve(j if "/" in j else "/data/local/tmp/" + j)) for j in jars):
            raise CommandError("Error: Could not find or load main class com.android.commands.uiautomator.Launcher")
        return u2_launch(ctx, startup="INSTRUMENTATION_STATUS: current=1\nINSTRUMENTATION_STATUS_CODE: 1\n")
    raise CommandError("Usage: uiautomator <subcommand> [options]\n\nAvailable subcommands:\n\n"
                       "help: displays help message\n\nruntest: executes UI automation tests\n\n"
                       "dump: creates an XML dump of current UI hierarchy\n\nevents: prints out accessibility events "
                       "until terminated")


def _raw_frame(png: bytes) -> bytes:
    """screencap's raw format: width, height, format (1 = RGBA_8888), dataspace, then pixels."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGBA")
    return struct.pack("<4I", image.width, image.height, 1, 0) + image.tobytes()


def screencap(ctx: Ctx, args: list[str]) -> int:
    png = False
    target = None
    it = iter(args)
    for arg in it:
        if arg == "-p":
            png = True
        elif arg == "-d":
            display = next(it, "")
            if display not in (DISPLAY_ID, "0"):
                raise CommandError(f"Display Id '{display}' is not valid.")
        elif arg == "-h":
            ctx.out("usage: screencap [-hp] [-d display-id] [FILENAME]\n")
            return 0
        else:
            target = arg
    if target is not None and target.endswith(".png"):
        png = True
    frame = ctx.phone.screenshot("png")
    ctx.session.elapsed += ctx.phone.timing.screenshot()
    data = frame if png else _raw_frame(frame)
    if target is None:
        ctx.out(data)
        return 0
    norm = ctx.resolve(target)
    parent = ctx.phone.state.fs.lookup(posixpath.dirname(norm))
    reason = write_error(norm) or (None if parent is not None and parent.is_dir else "No such file or directory")
    if reason:
        raise CommandError(f"Error opening file: {target} ({reason})")
    ctx.phone.state.fs.write(norm, data)
    return 0


COMMANDS = {"app_process": app_process, "app_process64": app_process, "uiautomator": uiautomator,
            "screencap": screencap}
