"""A carrier's consent page that some operator ROMs put into the Mi Account sign-out.

No catalogue entry describes it — on purpose: it is the simulated "screen the tool does not
know" (fault ``carrier``) that ``miui-automator screens identify`` explains and ``screens suggest``
teaches. It is a full-screen activity of the carrier's own app, pushed when Sign out is tapped;
"Agree" continues the sign-out where it was, "Decline" (or back) abandons it. Like real consent
pages it shows values that change from phone to phone (the plan's phone number, the time of the
request), which a taught entry must not rely on.
"""

from __future__ import annotations

from ..layout import SIDE, STATUS_H, button, text, window
from ..phone import Screen
from ..ui import SCREEN_H, SCREEN_W, Node

PKG = "com.carrier.consent"
PLAN_NUMBER = "+44 7700 900123"

_TEXTS = {
    "en": {"title": "Your carrier needs your consent", "header": "Carrier services",
           "message": "Signing out of your Xiaomi Account unlinks this phone from the carrier plan below.",
           "agree": "Agree", "decline": "Decline", "plan": "Plan number", "requested": "Requested at"},
    "zh": {"title": "运营商需要您的同意", "header": "运营商服务", "message": "退出小米账号会解除本机与下方运营商套餐的绑定。",
           "agree": "同意", "decline": "拒绝", "plan": "套餐号码", "requested": "请求时间"},
}


def intercepts_sign_out(page) -> bool:
    """Push the consent page over the account page when the fault is on; True when it did."""
    if page.phone.faults.get("carrier") is None:
        return False
    page.phone.push(CarrierConsent(page.phone, page))
    return True


class CarrierConsent(Screen):
    name = "carrier_consent"  # the name a user might teach; the catalogue does not know it
    package = PKG
    activity = "com.carrier.consent.ConsentActivity"

    def __init__(self, phone, owner) -> None:
        super().__init__(phone)
        self.owner = owner

    def build(self) -> Node:
        t = _TEXTS["zh" if self.v.locale.startswith("zh") else "en"]
        root = window(self.package)
        y = STATUS_H + 80
        root.add(text(t["header"], (SIDE, y, SCREEN_W - SIDE, y + 70), "", "row_summary"))
        root.add(text(t["title"], (SIDE, y + 100, SCREEN_W - SIDE, y + 300), f"{PKG}:id/consent_title", "big_title"))
        root.add(text(t["message"], (SIDE, y + 330, SCREEN_W - SIDE, y + 560), f"{PKG}:id/consent_message", "dialog_message"))
        root.add(text(f"{t['plan']}: {PLAN_NUMBER}", (SIDE, y + 600, SCREEN_W - SIDE, y + 680), "", "row_title"))
        stamp = self.phone.wall_clock()
        clock = f"{int(stamp // 3600 % 24):02d}:{int(stamp // 60 % 60):02d}"
        root.add(text(f"{t['requested']} {clock}", (SIDE, y + 700, SCREEN_W - SIDE, y + 770), "", "row_summary"))
        half = (SCREEN_W - 2 * SIDE - 30) // 2
        root.add(button(t["decline"], (SIDE, SCREEN_H - 260, SIDE + half, SCREEN_H - 120), "decline",
                        f"{PKG}:id/btn_decline", "button"))
        root.add(button(t["agree"], (SIDE + half + 30, SCREEN_H - 260, SCREEN_W - SIDE, SCREEN_H - 120), "agree",
                        f"{PKG}:id/btn_agree", "button_primary"))
        return root

    def on_action(self, action: str, node: Node) -> None:
        if action == "agree":
            self._leave()
            self.owner.advance()
        elif action == "decline":
            self._leave()
            self.owner.abort()

    def on_back(self) -> bool:
        self._leave()
        self.owner.abort()
        return True

    def _leave(self) -> None:
        if self.phone.top is self:
            self.phone.pop()
