"""Input methods: ``ime`` and the AdbKeyboard's broadcasts.

The phone offers its variant's keyboards plus every input method an installed APK declares
(``pm install`` keeps the APK at the package's path; :func:`installed_imes` reads it back).
Enabled ones live in ``settings secure enabled_input_methods`` and the current one in
``default_input_method``, where Android keeps them. uiautomator2's keyboard
(``com.github.uiautomator/.AdbKeyboard``) takes ``ADB_KEYBOARD_*`` broadcasts only while it is
the current input method, as the real one registers its receiver from the running IME; text
it commits needs no input injection, so MIUI's Security-settings gate does not apply.
"""

from __future__ import annotations

import base64
import binascii

from ..apk import parse_apk
from ..phone import InputRefused
from .base import CommandError, Ctx, short_component

ADB_KEYBOARD_PACKAGE = "com.github.uiautomator"
RESULT_OK, RESULT_CANCELED = -1, 0


def _builtin(phone) -> list[tuple[str, bool]]:
    """(IME id, enabled out of the box) of the variant's own keyboards."""
    imes = [("com.android.inputmethod.latin/.LatinIME", True)]
    if phone.state.props.get("ro.miui.build.region") == "cn":
        imes += [("com.baidu.input_mi/.ImeService", True), ("com.sohu.inputmethod.sogou.xiaomi/.SogouIME", True)]
    if phone.state.props.get("ro.miui.has_security_keyboard") == "1":
        imes.append(("com.miui.securityinputmethod/.MiuiSecurityInputMethodService", False))
    return imes


def installed_imes(phone) -> list[str]:
    """Every input method on the phone: the variant's, then those of installed apps."""
    ids = [ime_id for ime_id, _ in _builtin(phone)]
    fs = phone.state.fs
    for pkg in phone.state.packages:
        if pkg.system or not fs.exists(pkg.path):
            continue
        info = parse_apk(fs.read(pkg.path))
        if info is not None and info.package == pkg.name:
            ids += [short_component(pkg.name, cls) for cls in info.input_methods]
    return ids


def enabled_imes(phone) -> list[str]:
    raw = phone.state.settings["secure"].get("enabled_input_methods")
    if raw is None:
        return [ime_id for ime_id, enabled in _builtin(phone) if enabled]
    return [part.split(";")[0] for part in raw.split(":") if part]


def _set_enabled(phone, ids: list[str]) -> None:
    phone.state.settings["secure"]["enabled_input_methods"] = ":".join(dict.fromkeys(ids))


def forget_package(phone, package: str) -> None:
    """An uninstalled app's input methods are no longer enabled or current."""
    prefix = package + "/"
    _set_enabled(phone, [i for i in enabled_imes(phone) if not i.startswith(prefix)])
    secure = phone.state.settings["secure"]
    if secure.get("default_input_method", "").startswith(prefix):
        secure["default_input_method"] = installed_imes(phone)[0]


def ime(ctx: Ctx, args: list[str]) -> int:
    verb, rest = (args[0], args[1:]) if args else ("", [])
    phone = ctx.phone
    installed = installed_imes(phone)
    if verb == "list":
        enabled = enabled_imes(phone)
        for ime_id in installed:
            if "-a" not in rest and ime_id not in enabled:
                continue
            if "-s" in rest:
                ctx.out(ime_id + "\n")
            else:
                pkg, _, cls = ime_id.partition("/")
                ctx.out(f"{ime_id}:\n  mId={ime_id} mSettingsActivityName=null mIsVrOnly=false\n"
                        f"  Service:\n    ServiceInfo:\n      name={pkg + cls if cls.startswith('.') else cls}\n"
                        f"      packageName={pkg}\n      enabled=true exported=true directBootAware=true\n"
                        "      permission=android.permission.BIND_INPUT_METHOD\n")
        return 0
    if verb in ("set", "enable", "disable") and rest:
        target = rest[-1]
        if target not in installed:
            done = {"set": "selected", "enable": "enabled", "disable": "disabled"}[verb]
            ctx.out(f"Unknown input method {target} cannot be {done} for user #0\n")
            return 255
        enabled = enabled_imes(phone)
        secure = phone.state.settings["secure"]
        if verb == "set":
            secure["default_input_method"] = target
            ctx.out(f"Input method {target} selected for user #0\n")
        elif verb == "enable":
            _set_enabled(phone, enabled + [target])
            ctx.out(f"Input method {target}: {'already' if target in enabled else 'now'} enabled for user #0\n")
        else:
            _set_enabled(phone, [i for i in enabled if i != target])
            if secure.get("default_input_method") == target:
                secure["default_input_method"] = next(i for i in installed if i in enabled_imes(phone))
            ctx.out(f"Input method {target}: {'now' if target in enabled else 'already'} disabled for user #0\n")
        return 0
    if verb == "reset":
        phone.state.settings["secure"].pop("enabled_input_methods", None)
        phone.state.settings["secure"]["default_input_method"] = installed[0]
        ctx.out(f"Reset current and enabled IMEs for user #0\n  Selected: {installed[0]}\n")
        return 0
    raise CommandError("ime <command>:\n  list [-a] [-s]\n  enable [--user <USER_ID>] <ID>\n"
                       "  disable [--user <USER_ID>] <ID>\n  set [--user <USER_ID>] <ID>\n  reset [--user <USER_ID>]", 255)


def keyboard_broadcast(phone, action: str | None, extras: dict[str, str]) -> tuple[int, str] | None:
    """(result code, result data) of an ``ADB_KEYBOARD_*`` broadcast, or None when no receiver
    takes it (the keyboard is not installed or not the current input method)."""
    current = phone.state.settings["secure"].get("default_input_method", "")
    if not action or not action.startswith("ADB_KEYBOARD_") or not current.startswith(ADB_KEYBOARD_PACKAGE + "/") \
            or current not in installed_imes(phone):
        return None
    if action == "ADB_KEYBOARD_GET_CLIPBOARD":
        if phone.clipboard is None:
            return RESULT_CANCELED, "clipboard is empty"
        return RESULT_OK, base64.b64encode(phone.clipboard.encode()).decode()
    if action in ("ADB_KEYBOARD_HIDE", "ADB_KEYBOARD_SHOW", "ADB_KEYBOARD_EDITOR_CODE", "ADB_KEYBOARD_SMART_ENTER"):
        return RESULT_OK, "success"
    if action == "ADB_KEYBOARD_INPUT_KEYCODE":
        try:
            phone.press_key(extras.get("code", ""))
        except InputRefused as exc:
            return RESULT_CANCELED, str(exc)
        return RESULT_OK, "success"
    node = phone.focused_edit()
    if node is None:
        return RESULT_CANCELED, "no input connection"
    if action == "ADB_KEYBOARD_CLEAR_TEXT":
        phone.set_text(node, "")
        return RESULT_OK, "success"
    if action in ("ADB_KEYBOARD_INPUT_TEXT", "ADB_KEYBOARD_SET_TEXT"):
        try:
            text = base64.b64decode(extras.get("text", ""), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return RESULT_CANCELED, "text is not base64"
        phone.set_text(node, text, append=action == "ADB_KEYBOARD_INPUT_TEXT")
        return RESULT_OK, "success"
    return None


COMMANDS = {"ime": ime}
