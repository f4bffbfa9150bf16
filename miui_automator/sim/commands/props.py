"""System properties, settings and window-manager overrides — and MIUI's refusal to let the
shell change settings while "USB debugging (Security settings)" is off
(WRITE_SECURE_SETTINGS / WRITE_SETTINGS are denied to uid 2000 unless
``persist.security.adbinput`` is 1)."""

from __future__ import annotations

import re

from ..ui import SCREEN_H, SCREEN_W
from .base import CommandError, Ctx, gate_open, java_exception

# Prefixes uid 2000 may set on a user build (property_contexts: shell_prop, log_prop, debug_prop).
SHELL_SETTABLE = ("debug.", "log.", "persist.log.", "persist.debug.", "service.adb.")

_SETTINGS_FRAMES = (
    "com.android.providers.settings.SettingsProvider.enforceWritePermission(SettingsProvider.java:2335)",
    "com.android.providers.settings.SettingsProvider.mutateSecureSetting(SettingsProvider.java:1793)",
    "com.android.providers.settings.SettingsProvider.insertSecureSetting(SettingsProvider.java:1753)",
    "com.android.providers.settings.SettingsProvider.call(SettingsProvider.java:473)",
    "android.content.ContentProvider.call(ContentProvider.java:2596)",
    "android.content.ContentProvider$Transport.call(ContentProvider.java:524)",
    "com.android.providers.settings.SettingsService$MyShellCommand.putForUser(SettingsService.java:380)",
    "com.android.providers.settings.SettingsService$MyShellCommand.onCommand(SettingsService.java:278)",
)
_WM_FRAMES = (
    "com.android.server.wm.WindowManagerService.setForcedDisplaySize(WindowManagerService.java:5903)",
    "com.android.server.wm.WindowManagerShellCommand.runDisplaySize(WindowManagerShellCommand.java:255)",
    "com.android.server.wm.WindowManagerShellCommand.onCommand(WindowManagerShellCommand.java:106)",
    "com.android.modules.utils.BasicShellCommandHandler.exec(BasicShellCommandHandler.java:97)",
)


def getprop(ctx: Ctx, args: list[str]) -> int:
    props = ctx.phone.state.props
    if not args:
        ctx.out("".join(f"[{k}]: [{v}]\n" for k, v in sorted(props.items())))
        return 0
    default = args[1] if len(args) > 1 else ""
    ctx.out(props.get(args[0], default) + "\n")
    return 0


def setprop(ctx: Ctx, args: list[str]) -> int:
    if len(args) != 2:
        raise CommandError("usage: setprop NAME VALUE\n\nSets an Android system property.")
    key, value = args
    if not key.startswith(SHELL_SETTABLE):
        raise CommandError(f"Failed to set property '{key}' to '{value}'.\nSee dmesg for error reason.")
    ctx.phone.state.props[key] = value
    return 0


NAMESPACES = ("system", "secure", "global")
# Rows every phone has from its first boot (SettingsProvider's defaults) unless the phone's own
# state holds another value: tools read them as numbers (adbutils' brightness_mode does int()).
DEFAULTS = {
    "system": {"screen_brightness": "128", "screen_brightness_mode": "1", "accelerometer_rotation": "1",
               "user_rotation": "0", "font_scale": "1.0", "haptic_feedback_enabled": "1"},
    "secure": {"show_ime_with_hard_keyboard": "0"},
    "global": {"wifi_on": "1", "airplane_mode_on": "0", "mobile_data": "1", "auto_time": "1"},
}


def settings(ctx: Ctx, args: list[str]) -> int:
    args = list(args)
    if args[:1] == ["--user"]:
        args = args[2:]
    if len(args) < 2 or args[0] not in ("get", "put", "delete", "list", "reset"):
        raise CommandError("usage:  settings [--user <USER_ID> | current] get namespace key\n"
                           "        settings [--user <USER_ID> | current] put namespace key value\n"
                           "        settings [--user <USER_ID> | current] delete namespace key\n"
                           "        settings [--user <USER_ID> | current] list namespace", 255)
    verb, namespace, rest = args[0], args[1], args[2:]
    if namespace not in NAMESPACES:
        raise CommandError(f"Invalid namespace '{namespace}'", 255)
    table = ctx.phone.state.settings.setdefault(namespace, {})
    if verb == "list":
        rows = dict(DEFAULTS[namespace], **table)
        ctx.out("".join(f"{k}={v}\n" for k, v in sorted(rows.items())))
        return 0
    if not rest:
        raise CommandError(f"settings {verb}: missing key", 255)
    key = rest[0]
    if verb == "get":
        ctx.out((table[key] if key in table else DEFAULTS[namespace].get(key, "null")) + "\n")
        return 0
    if verb == "put" and len(rest) < 2:
        raise CommandError("settings put: missing value", 255)
    if not gate_open(ctx.phone):
        permission = "WRITE_SETTINGS" if namespace == "system" else "WRITE_SECURE_SETTINGS"
        raise CommandError(java_exception(
            verb, f"java.lang.SecurityException: Permission denial: writing to settings requires:"
                  f"android.permission.{permission}", _SETTINGS_FRAMES).rstrip("\n"), 255)
    if verb == "put":
        table[key] = rest[1]
    elif verb == "delete":
        ctx.out(f"Deleted {1 if table.pop(key, None) is not None else 0} rows\n")
    return 0


def wm(ctx: Ctx, args: list[str]) -> int:
    if not args or args[0] not in ("size", "density"):
        if args and args[0] in ("overscan", "scaling", "dismiss-keyguard", "user-rotation", "fixed-to-user-rotation"):
            return 0
        raise CommandError("usage: wm [size|density] [reset|VALUE]", 255)
    state = ctx.phone.state
    verb, rest = args[0], list(args[1:])
    if rest[:1] == ["-d"]:
        rest = rest[2:]  # -d DISPLAY_ID: the phone has one display
    table, key = (state.settings["global"], "display_size_forced") if verb == "size" else \
        (state.settings["secure"], "display_density_forced")
    if not rest:
        if verb == "size":
            ctx.out(f"Physical size: {SCREEN_W}x{SCREEN_H}\n")
            if key in table:
                ctx.out(f"Override size: {table[key].replace(',', 'x')}\n")
        else:
            ctx.out(f"Physical density: {state.props.get('ro.sf.lcd_density', '440')}\n")
            if key in table:
                ctx.out(f"Override density: {table[key]}\n")
        return 0
    value = rest[0]
    if verb == "size" and value != "reset" and not re.fullmatch(r"\d+x\d+", value):
        raise CommandError(f"Error: bad size {value}", 255)
    if verb == "density" and value != "reset" and not value.isdigit():
        raise CommandError(f"Error: bad number {value}", 255)
    if not gate_open(ctx.phone):
        raise CommandError(java_exception(
            verb, "java.lang.SecurityException: Must hold permission android.permission.WRITE_SECURE_SETTINGS",
            _WM_FRAMES).rstrip("\n"), 255)
    if value == "reset":
        table.pop(key, None)
    else:
        table[key] = value.replace("x", ",")
    return 0


_STAYON = {"true": "7", "false": "0", "usb": "2", "ac": "1", "wireless": "4"}


def svc(ctx: Ctx, args: list[str]) -> int:
    if args[:2] == ["power", "stayon"] and len(args) == 3:
        if args[2] not in _STAYON:
            raise CommandError("Usage: svc power stayon [true|false|usb|ac|wireless]")
        if not gate_open(ctx.phone):
            raise CommandError(java_exception(
                "stayon", "java.lang.SecurityException: Permission denial: writing to settings requires:"
                          "android.permission.WRITE_SETTINGS", _SETTINGS_FRAMES[:3]).rstrip("\n"), 255)
        ctx.phone.state.settings["global"]["stay_on_while_plugged_in"] = _STAYON[args[2]]
        return 0
    if args and args[0] in ("power", "wifi", "data", "usb", "nfc", "bluetooth"):
        return 0
    raise CommandError("Available commands:\n    help     Show information about the subcommands\n"
                       "    power    Control the power manager\n    data     Control mobile data connectivity\n"
                       "    wifi     Control the Wi-Fi manager\n    usb      Control Usb state")


# `cmd SERVICE ...`: the services whose shell commands the simulator implements.
CMD_SERVICES = {"package": "pm", "activity": "am", "window": "wm", "settings": "settings", "input": "input",
                "input_method": "ime", "statusbar": None, "notification": None, "power": None, "battery": None,
                "deviceidle": None, "appops": None, "display": None}


def cmd(ctx: Ctx, args: list[str]) -> int:
    if not args or args[0] == "-l":
        ctx.out("Currently running services:\n" + "".join(f"  {s}\n" for s in sorted(CMD_SERVICES)))
        return 0
    service, rest = args[0], args[1:]
    if service not in CMD_SERVICES:
        raise CommandError(f"cmd: Can't find service: {service}", 20)
    target = CMD_SERVICES[service]
    if target is None:
        return 0
    return ctx.session.run_argv([target] + rest, ctx)


COMMANDS = {"getprop": getprop, "setprop": setprop, "settings": settings, "wm": wm, "svc": svc, "cmd": cmd}
