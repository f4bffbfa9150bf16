"""MIUI's Backup app (com.miui.backup): local backup home, item selection, progress, done.

A finished backup writes ``MIUI/backup/AllBackup/<yyyyMMdd_HHmmss>/`` with ``descript.xml`` (in
MIUI 12.5's layout: per item ``pkgSize``, ``sdSize``, ``state``, ``error``) and one
``<label>(<package>).bak`` per item — a ``MIUI BACKUP`` text header followed by an
Android Backup stream holding a tar — the layout real phones leave behind.
"""

from __future__ import annotations

import io
import tarfile
import time

from ..layout import SIDE, STATUS_H, TITLE_H, Row, action_bar, bottom_button, dialog, scroll_list, text, window
from ..phone import Dialog, Screen
from ..ui import SCREEN_H, SCREEN_W, Node
from ..vfs import STORAGE

PKG = "com.miui.backup"
LIST_ID = f"{PKG}:id/list"
BACKUP_ROOT = f"{STORAGE}/MIUI/backup/AllBackup"
SECONDS_PER_ITEM = 0.4

# (selection key, package, English label, Chinese label)
ITEMS = {
    "sysdata": [("com.android.settings", "Settings", "设置"), ("com.miui.home", "Home screen", "系统桌面")],
    "apps": [("com.whatsapp", "WhatsApp", "WhatsApp"), ("org.telegram.messenger", "Telegram", "Telegram")],
    "contacts": [("com.android.contacts", "Contacts", "联系人"), ("com.android.mms", "Messages", "短信")],
}


def bak_bytes(package: str, label: str, payload: bytes) -> bytes:
    """A ``.bak`` file: MIUI header, then an uncompressed Android Backup stream with a tar."""
    tar_buf = io.BytesIO()
    with tarfile.open(fileobj=tar_buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in ((f"apps/{package}/_manifest", f"1\n{package}\n1\n".encode()), (f"apps/{package}/f/data.bin", payload)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_750_000_000
            tar.addfile(info, io.BytesIO(data))
    header = f"MIUI BACKUP\n2\n{package} {label}\n-1\n0\nANDROID BACKUP\n5\n0\nnone\n".encode()
    return header + tar_buf.getvalue()


def descript_xml(device: str, version: str, date_ms: int, entries: list[tuple[str, str, int]],
                 errors: dict[str, int] | None = None) -> str:
    """MIUI 12.5's layout: per item ``pkgSize``/``sdSize`` (here the ``.bak``'s size and 0) and how it ended
    (``state`` 1, ``error`` 0, or the code in ``errors`` by package)."""
    errors = errors or {}
    packages = "".join(
        f"<package><packageName>{pkg}</packageName><bakFile>{bak}</bakFile><bakType>1</bakType><pkgSize>{size}</pkgSize>"
        f"<sdSize>0</sdSize><state>1</state><error>{errors.get(pkg, 0)}</error></package>"
        for pkg, bak, size in entries)
    total = sum(size for _, _, size in entries)
    return (f"<?xml version='1.0' encoding='utf-8' standalone='yes' ?><MIUI-backup><bakVersion>2</bakVersion>"
            f"<device>{device}</device><miuiVersion>{version}</miuiVersion><date>{date_ms}</date><size>{total}</size>"
            f"<packages>{packages}</packages><filesModifyTime>{date_ms}</filesModifyTime></MIUI-backup>")


class LocalBackupHome(Screen):
    name = "backup_home"
    package = PKG
    activity = "com.miui.backup.local.LocalHomeActivity"

    def build(self) -> Node:
        st = self.phone.state
        root = window(self.package)
        root.add(action_bar(self.t("backup_title"), self.title_id))
        y = STATUS_H + TITLE_H + 40
        latest = self.t("backup_latest", st.last_backup) if st.last_backup else self.t("backup_none")
        root.add(text(latest, (SIDE, y, SCREEN_W - SIDE, y + 90), f"{PKG}:id/latest_backup", "row_summary"))
        root.add(bottom_button(self.t("backup_button"), "new", f"{PKG}:id/backup_btn"))
        return root

    def on_action(self, action: str, node: Node) -> None:
        if action == "new":
            self.phone.push(BackupSelect(self.phone))


class BackupSelect(Screen):
    name = "backup_select"
    package = PKG
    activity = "com.miui.backup.local.BackupSelectActivity"

    def __init__(self, phone) -> None:
        super().__init__(phone)
        self.selected = {"sysdata": False, "apps": False, "contacts": False}

    def build(self) -> Node:
        root = window(self.package)
        root.add(action_bar(self.t("backup_choose"), self.title_id))
        all_on = all(self.selected.values())
        root.add(Node(cls="android.widget.Button", text=self.t("backup_select_all"), rid=f"{PKG}:id/select_all",
                      bounds=(SCREEN_W - 360, STATUS_H + 20, SCREEN_W - 40, STATUS_H + 135), clickable=True,
                      selected=all_on, style="button", action="select_all"))
        rows = [Row(self.t(f"backup_{key}" if key != "sysdata" else "backup_sysdata"), summary=", ".join(lbl for _, lbl, _ in ITEMS[key])
                    if self.phone.locale.language != "zh" else "、".join(zh for _, _, zh in ITEMS[key]),
                    switch=self.selected[key], action=f"toggle:{key}") for key in ITEMS]
        lst, limit = scroll_list(rows, STATUS_H + TITLE_H, SCREEN_H - 300, self.scroll.get(LIST_ID, 0), LIST_ID)
        self.max_scroll[LIST_ID] = limit
        root.add(lst)
        root.add(bottom_button(self.t("backup_start"), "start", f"{PKG}:id/start_backup", enabled=any(self.selected.values())))
        return root

    def on_action(self, action: str, node: Node) -> None:
        if action == "select_all":
            value = not all(self.selected.values())
            self.selected = {k: value for k in self.selected}
        elif action.startswith("toggle:"):
            key = action.split(":", 1)[1]
            self.selected[key] = not self.selected[key]
        elif action == "start" and any(self.selected.values()):
            items = [it for key, on in self.selected.items() if on for it in ITEMS[key]]
            self.phone.replace_top(BackupProgress(self.phone, items))


class BackupProgress(Screen):
    name = "backup_progress"
    package = PKG
    activity = "com.miui.backup.local.BackupProgressActivity"

    def __init__(self, phone, items) -> None:
        super().__init__(phone)
        self.items = items
        self.done = False
        self.stopped = False
        self.started = phone.clock()
        # MIUI makes the folder at the start, writes each item's .bak as it finishes, and descript.xml last.
        self.folder = f"{BACKUP_ROOT}/{time.strftime('%Y%m%d_%H%M%S', time.localtime(phone.wall_clock()))}"
        self.entries: list[tuple[str, str, int]] = []
        phone.state.fs.mkdir(self.folder, parents=True)
        for i, item in enumerate(items):
            phone.after(SECONDS_PER_ITEM * (i + 1), lambda item=item: self.write_item(item))
        phone.after(SECONDS_PER_ITEM * len(items) + 0.3, self.complete)

    def write_item(self, item: tuple[str, str, str]) -> None:
        if self.stopped or self.done:
            return
        pkg, label, label_zh = item
        zh = self.phone.locale.language == "zh"
        name = f"{label_zh if zh else label}({pkg}).bak"
        data = bak_bytes(pkg, label_zh if zh else label, (pkg.encode() * 64)[:2048])
        self.phone.state.fs.write(f"{self.folder}/{name}", data)
        self.entries.append((pkg, name, len(data)))

    def complete(self) -> None:
        if self.stopped or self.done:
            return
        st = self.phone.state
        now = self.phone.wall_clock()
        version = st.props.get("ro.mi.os.version.incremental") or st.props.get("ro.build.version.incremental", "")
        st.fs.write(f"{self.folder}/descript.xml",
                    descript_xml(st.props.get("ro.product.device", ""), version, int(now * 1000), self.entries).encode())
        st.last_backup = time.strftime("%m/%d/%Y %H:%M", time.localtime(now))
        self.done = True
        self.dialog = None

    def build(self) -> Node:
        root = window(self.package)
        y = STATUS_H + 300
        if self.done:
            root.add(text(self.t("backup_finished"), (SIDE, y, SCREEN_W - SIDE, y + 160), f"{PKG}:id/title", "big_title"))
            root.add(bottom_button(self.t("done"), "finish", f"{PKG}:id/done"))
        else:
            root.add(text(self.t("backup_progress"), (SIDE, y, SCREEN_W - SIDE, y + 160), f"{PKG}:id/title", "big_title"))
            root.add(Node(cls="android.widget.ProgressBar", rid=f"{PKG}:id/progress", bounds=(SIDE, y + 220, SCREEN_W - SIDE, y + 260), style="progress"))
            root.add(text(self.t("backup_hint"), (SIDE, y + 300, SCREEN_W - SIDE, y + 380), f"{PKG}:id/hint", "row_summary"))
            root.add(bottom_button(self.t("backup_stop"), "stop", f"{PKG}:id/stop", "button"))
        return root

    def on_action(self, action: str, node: Node) -> None:
        if action == "finish":
            self.phone.pop()
        elif action == "stop":
            self.dialog = AbortBackup(self)
        elif action == "abort_yes":
            self.stopped = True
            self.dialog = None
            self.phone.pop()
        elif action == "abort_no":
            self.dialog = None

    def on_back(self) -> bool:
        if self.done:
            return False
        if self.dialog is None:
            self.dialog = AbortBackup(self)
        else:
            self.dialog = None
        return True


class AbortBackup(Dialog):
    name = "backup_abort_confirm"
    package = PKG

    def build(self) -> Node:
        return dialog(self.package, self.t("backup_stop"), message=self.t("backup_abort"),
                      buttons=[(self.t("cancel"), "abort_no", "button"), (self.t("ok"), "abort_yes", "button_danger")])
