"""System surfaces: the launcher, the keyguard, the setup wizard after a reset, and the
promo/update popups that MIUI apps throw over whatever is on screen.
"""

from __future__ import annotations

from ..layout import SIDE, STATUS_H, dialog, text, window
from ..phone import Dialog, Screen
from ..ui import SCREEN_H, SCREEN_W, Node

LAUNCHER_APPS = [
    ("settings", "com.android.settings", "Settings"),
    ("cloud", "com.miui.cloudservice", "Xiaomi Cloud"),
    ("backup_title", "com.miui.backup", "Backup"),
]


class HomeScreen(Screen):
    name = "launcher"
    package = "com.miui.home"
    activity = "com.miui.home.launcher.Launcher"

    def build(self) -> Node:
        root = window(self.package, style="launcher")
        workspace = Node(cls="android.widget.FrameLayout", rid="com.miui.home:id/workspace",
                         bounds=(0, STATUS_H, SCREEN_W, SCREEN_H - 300), style="list")
        root.add(workspace)
        size = 220
        for i, (key, pkg, _) in enumerate(LAUNCHER_APPS):
            left = SIDE + i * (size + 60)
            top = SCREEN_H - 620
            workspace.add(Node(cls="android.widget.TextView", text=self.t(key) if key != "backup_title" else self.t("backup_app"),
                               desc=self.t(key), bounds=(left, top, left + size, top + size + 60), clickable=True,
                               style="app_icon", action=f"launch:{pkg}", package="com.miui.home"))
        return root

    def on_action(self, action: str, node: Node) -> None:
        if action.startswith("launch:"):
            self.phone.launch_app(action.split(":", 1)[1])


class SetupWizard(Screen):
    """What a phone shows after a factory reset: not provisioned, no account."""

    name = "setup_wizard"
    package = "com.android.provision"
    activity = "com.android.provision.activities.DefaultActivity"

    def build(self) -> Node:
        root = window(self.package)
        root.add(text(self.t("setup_welcome"), (SIDE, 800, SCREEN_W - SIDE, 950), "com.android.provision:id/title", "big_title"))
        root.add(Node(cls="android.widget.Button", text=self.t("next"), rid="com.android.provision:id/next",
                      bounds=(SIDE, SCREEN_H - 260, SCREEN_W - SIDE, SCREEN_H - 120), clickable=True,
                      style="button_primary", action="noop"))
        return root


def lockscreen_window(phone) -> Node:
    root = Node(cls="android.widget.FrameLayout", package="com.android.systemui", rid="com.android.systemui:id/keyguard_root",
                bounds=(0, STATUS_H, SCREEN_W, SCREEN_H), style="keyguard")
    root.add(text("10:24", (SIDE, 400, SCREEN_W - SIDE, 640), "com.android.systemui:id/keyguard_clock", "big_title"))
    root.add(text(phone.text("lockscreen_hint"), (SIDE, SCREEN_H - 300, SCREEN_W - SIDE, SCREEN_H - 220),
                  "com.android.systemui:id/keyguard_indication_text", "text"))
    return root


class CloudPromoPopup(Dialog):
    """Xiaomi Cloud's storage promo, shown over any screen (AdPopupActivity-style)."""

    name = "cloud_promo_popup"
    package = "com.miui.cloudservice"

    def build(self) -> Node:
        return dialog(self.package, self.t("cloud_promo_title"), message=self.t("cloud_promo_message"),
                      buttons=[(self.t("later"), "dismiss", "button"), (self.t("update_now"), "dismiss", "button_primary")])

    def on_action(self, action: str, node: Node) -> None:
        self.phone.popup = None


class UpdatePopup(CloudPromoPopup):
    name = "update_popup"
    package = "com.xiaomi.account"

    def build(self) -> Node:
        title, msg = self.t("update_title"), self.t("update_message")
        return dialog(self.package, title, message=msg,
                      buttons=[(self.t("later"), "dismiss", "button"), (self.t("update_now"), "dismiss", "button_primary")])
