"""Xiaomi Cloud (com.miui.cloudservice): the main page and the "Delete synced items from
this device?" screen that sign-out opens (MICLOUD_WIPE_DATA_CONFIRM).
"""

from __future__ import annotations

from ..layout import SIDE, STATUS_H, TITLE_H, Row, action_bar, button, scroll_list, text, window
from ..phone import Screen
from ..ui import SCREEN_H, SCREEN_W, Node

PKG = "com.miui.cloudservice"
LIST_ID = f"{PKG}:id/list"


class CloudMain(Screen):
    name = "cloud"
    package = PKG
    activity = "com.miui.cloudservice.ui.MiCloudMainActivity"

    def build(self) -> Node:
        root = window(self.package)
        root.add(action_bar(self.t("cloud"), self.title_id))
        rows = [Row(self.t("cloud_storage"), summary="1.2 GB / 5 GB", action="noop"),
                Row(self.t("cloud_gallery"), switch=True, action="noop"),
                Row(self.t("cloud_contacts"), switch=True, action="noop"),
                Row(self.t("cloud_messages"), switch=True, action="noop"),
                Row(self.t("cloud_notes"), switch=False, action="noop"),
                Row(self.t("find_device"), value=self.t("find_device_on") if self.phone.state.find_device else self.t("find_device_off"), action="noop")]
        lst, limit = scroll_list(rows, STATUS_H + TITLE_H, SCREEN_H, self.scroll.get(LIST_ID, 0), LIST_ID)
        self.max_scroll[LIST_ID] = limit
        root.add(lst)
        return root


class WipeDataConfirm(Screen):
    name = "wipe_confirm"
    package = PKG
    activity = "com.miui.cloudservice.ui.MiCloudWipeDataConfirmActivity"

    def build(self) -> Node:
        root = window(self.package)
        y = STATUS_H + 120
        root.add(text(self.t("wipe_label"), (SIDE, y, SCREEN_W - SIDE, y + 200), f"{PKG}:id/title", "big_title"))
        root.add(text(self.t("wipe_title"), (SIDE, y + 230, SCREEN_W - SIDE, y + 480), f"{PKG}:id/summary", "dialog_message"))
        apps = [self.t("cloud_gallery"), self.t("cloud_contacts"), self.t("cloud_messages")]
        for i, app in enumerate(apps):
            root.add(text(app, (SIDE, y + 540 + i * 130, SCREEN_W - SIDE, y + 640 + i * 130), f"{PKG}:id/app_name", "row_title"))
        half = (SCREEN_W - 2 * SIDE - 30) // 2
        root.add(button(self.t("wipe_remove"), (SIDE, SCREEN_H - 260, SIDE + half, SCREEN_H - 120), "remove", f"{PKG}:id/btn_remove", "button"))
        root.add(button(self.t("wipe_keep"), (SIDE + half + 30, SCREEN_H - 260, SCREEN_W - SIDE, SCREEN_H - 120), "keep", f"{PKG}:id/btn_keep", "button_primary"))
        return root

    def on_action(self, action: str, node: Node) -> None:
        if action in ("keep", "remove"):
            self.phone.state.wipe_choice = action
            self.phone.pop()

    def on_back(self) -> bool:
        # Backing out of the choice abandons the sign-out.
        self.phone.state.wipe_choice = None
        self.phone.pop()
        owner = self.phone.top
        if hasattr(owner, "abort"):
            owner.abort()
        return True
