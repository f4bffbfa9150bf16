"""A fake phone for the resolver: apps installed as APKs holding string tables, answering the shell
commands the resolver sends (``getprop``, ``settings``, ``pm list packages``, ``pm path``, ``dumpsys package``,
``unzip -p``)
and adb pulls, and counting the bytes it sends."""

from __future__ import annotations

import shlex
import threading

from miui_automator.device.driver import ShellOutput
from miui_automator.errors import DeviceError

from arsc_writer import build_apk, build_arsc


class ApkPhone:
    serial = "fake-apk"

    def __init__(self, apps: dict[str, dict[str, dict[str, str]]], *, locale: str = "de-DE", system_locales: str = "",
                 product_locale: str = "", unzip: bool = True, versions: dict[str, str] | None = None,
                 lists_versions: bool = True) -> None:
        self.apps = {package: (f"/system/app/{package.split('.')[-1]}/{package.split('.')[-1]}.apk", tables)
                     for package, tables in apps.items()}
        self.locale, self.system_locales, self.product_locale = locale, system_locales, product_locale
        self.unzip = unzip
        self.lists_versions = lists_versions  # `pm list packages --show-versioncode` (Android 9+)
        self.versions = versions or {}
        self.bytes_sent = 0
        self.table_reads = 0
        self.commands: list[str] = []
        self._lock = threading.Lock()

    def _apk(self, path: str) -> tuple[str, dict[str, dict[str, str]]] | None:
        for package, (apk, tables) in self.apps.items():
            if apk == path:
                return package, tables
        return None

    def shell(self, command: str, timeout_s: float | None = None) -> ShellOutput:
        self.commands.append(command)
        words = shlex.split(command)
        if words == ["getprop", "persist.sys.locale"]:
            return ShellOutput(command, self.locale + "\n", 0)
        if words == ["getprop", "ro.product.locale"]:
            return ShellOutput(command, self.product_locale + "\n", 0)
        if words[:3] == ["settings", "get", "system"]:
            return ShellOutput(command, (self.system_locales or "null") + "\n", 0)
        if words[:3] == ["pm", "list", "packages"]:
            if "--show-versioncode" in words and not self.lists_versions:
                return ShellOutput(command, "Error: Unknown option: --show-versioncode\n", 255)
            return ShellOutput(command, "".join(
                f"package:{apk}={package} versionCode:{self.versions.get(package, '1400')}\n"
                for package, (apk, _) in self.apps.items()), 0)
        if words[:2] == ["pm", "path"]:
            found = self.apps.get(words[2])
            return ShellOutput(command, f"package:{found[0]}\n" if found else "", 0 if found else 1)
        if words[:2] == ["dumpsys", "package"]:
            if words[2] not in self.apps:
                return ShellOutput(command, "", 0)
            return ShellOutput(command, f"Packages:\n  Package [{words[2]}]\n    versionCode="
                               f"{self.versions.get(words[2], '1400')} minSdk=30 targetSdk=34\n", 0)
        return ShellOutput(command, f"/system/bin/sh: {words[0]}: inaccessible or not found\n", 127)

    def shell_bytes(self, command: str, timeout_s: float | None = None) -> bytes:
        self.commands.append(command)
        words = shlex.split(command)
        found = self._apk(words[2]) if words[:2] == ["unzip", "-p"] and len(words) == 4 else None
        if not self.unzip or found is None:
            data = f"/system/bin/sh: {words[0]}: inaccessible or not found\n".encode()
        else:
            data = build_arsc(found[0], found[1])
            with self._lock:
                self.table_reads += 1
        with self._lock:
            self.bytes_sent += len(data)
        return data

    def read_file(self, path: str, timeout_s: float | None = None) -> bytes:
        self.commands.append(f"pull {path}")
        found = self._apk(path)
        if found is None:
            raise DeviceError(f"{self.serial}: pulling a file: no such file", serial=self.serial)
        data = build_apk(found[0], found[1])
        with self._lock:
            self.table_reads += 1
            self.bytes_sent += len(data)
        return data


ACCOUNT = {
    "": {"logout_account": "Sign out", "find_device": "Find device", "ok": "OK"},
    "de": {"logout_account": "Abmelden", "find_device": "Gerätesuche"},
    "pt": {"logout_account": "Terminar sessão"},
    "pt-rBR": {"logout_account": "Sair"},
    "in": {"logout_account": "Keluar"},
    "iw": {"logout_account": "התנתק"},
    "zh-rCN": {"logout_account": "退出登录"},
}
CLOUD = {
    "": {"micloud_wipe_data_retain": "Keep", "micloud_wipe_data_remove": "Remove"},
    "de": {"micloud_wipe_data_remove": "Löschen"},
}
