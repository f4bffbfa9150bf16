"""The Mi/Xiaomi Account app: the account page, the sign-in page, and sign-out.

Sign-out walks the dialogs in the order the variant's ROM shows them
(:attr:`Variant.signout_order`): confirm, the "Find device" password prompt, and Xiaomi
Cloud's Keep/Remove screen; then "Signing out…" and back to Settings, signed out.
"""

from __future__ import annotations

from ..layout import BUTTON, SIDE, STATUS_H, TITLE_H, Row, action_bar, dialog, scroll_list, text, window
from ..phone import Dialog, Screen
from ..ui import SCREEN_H, SCREEN_W, Node
from ..variants import CONFIRM, PASSWORD, WIPE
from .carrier import intercepts_sign_out

LIST_ID = "com.xiaomi.account:id/list"
PKG = "com.xiaomi.account"
SIGNING_OUT_SECONDS = 1.2
PASSWORD_CHANGE_DAYS = 3  # a password changed this recently blocks turning off Find device


class ProfileRow(Row):
    def __init__(self, nickname: str, account_id: str) -> None:
        super().__init__(nickname, height=380)
        self.account_id = account_id

    def build(self, top: int, title_rid: str) -> Node:
        row = Node(cls="android.widget.LinearLayout", rid=f"{PKG}:id/account_info", bounds=(0, top, SCREEN_W, top + self.height), style="profile")
        row.add(Node(cls="android.widget.ImageView", rid=f"{PKG}:id/avatar", desc="avatar", bounds=(SIDE, top + 40, SIDE + 220, top + 260), style="avatar"))
        row.add(text(self.title, (SIDE + 260, top + 60, SCREEN_W - SIDE, top + 150), f"{PKG}:id/user_name", "row_title"))
        row.add(text(self.account_id, (SIDE + 260, top + 160, SCREEN_W - SIDE, top + 240), f"{PKG}:id/user_id", "row_summary"))
        return row


class ButtonRow(Row):
    def __init__(self, label: str, action: str, rid: str) -> None:
        super().__init__(label, action=action, rid=rid, height=240)

    def build(self, top: int, title_rid: str) -> Node:
        return Node(cls=BUTTON, text=self.title, rid=self.rid, bounds=(SIDE, top + 60, SCREEN_W - SIDE, top + 200),
                    clickable=True, focusable=True, style="button_danger", action=self.action)


class AccountPage(Screen):
    name = "account"
    package = PKG
    activity = "com.xiaomi.account.ui.AccountSettingsActivity"

    def __init__(self, phone) -> None:
        super().__init__(phone)
        self.pending: list[str] = []
        self.typed: dict[str, str] = {}
        self.error = ""

    def rows(self) -> list[Row]:
        t, st = self.t, self.phone.state
        return [
            ProfileRow(t("xiaomi_user"), st.account_id),
            Row(t("personal_info"), action="noop"),
            Row(t("account_security"), action="noop"),
            Row(t("cloud_service"), summary="5 GB", action="cloud"),
            Row(t("find_device"), value=t("find_device_on") if st.find_device else t("find_device_off"), action="noop"),
            Row(t("mi_pay"), action="noop"),
            Row(t("devices"), action="noop"),
            Row(t("privacy_account"), action="noop"),
            Row(t("family_sharing"), action="noop"),
            Row(t("signin_history"), action="noop"),
            Row(t("help"), action="noop"),
            ButtonRow(t("sign_out"), "logout", f"{PKG}:id/logout_btn"),
        ]

    def build(self) -> Node:
        root = window(self.package)
        root.add(action_bar(self.t("account_title"), self.title_id, back_desc=self.t("back")))
        lst, limit = scroll_list(self.rows(), STATUS_H + TITLE_H, SCREEN_H, self.scroll.get(LIST_ID, 0), LIST_ID)
        self.max_scroll[LIST_ID] = limit
        root.add(lst)
        return root

    # ------------------------------------------------------------- sign-out state machine
    def on_action(self, action: str, node: Node) -> None:
        from .cloud import CloudMain

        if action == "cloud":
            self.phone.push(CloudMain(self.phone))
        elif action == "logout":
            order = list(self.v.signout_order)
            if not self.phone.state.find_device:
                order = [s for s in order if s != PASSWORD]
            self.pending = order
            if intercepts_sign_out(self):  # the carrier consent fault (sim/screens/carrier.py)
                return
            self.advance()
        elif action == "confirm":
            self.advance()
        elif action == "cancel":
            self.abort()
        elif action == "password_ok":
            self.check_password()
        elif action == "failed_ok":
            self.abort()

    def on_text(self, action: str, text_value: str) -> None:
        self.typed[action] = text_value
        self.error = ""

    def on_back(self) -> bool:
        if self.dialog is not None:
            if self.dialog.cancelable:
                self.abort()
            return True
        return False

    def on_resume(self) -> None:
        """Coming back from Xiaomi Cloud's Keep/Remove screen continues the sequence."""
        if self.pending and self.pending[0] == "_wipe_wait" and self.phone.state.wipe_choice is not None:
            self.advance()

    def abort(self) -> None:
        self.pending = []
        self.typed.clear()
        self.error = ""
        self.dialog = None

    def advance(self) -> None:
        self.dialog = None
        self.error = ""
        if not self.pending:
            self.finish()
            return
        step = self.pending[0]
        if step == CONFIRM:
            self.pending.pop(0)
            self.pending.insert(0, "_confirm_wait")
            self.dialog = ConfirmSignOut(self)
        elif step == "_confirm_wait":
            self.pending.pop(0)
            self.advance()
        elif step == PASSWORD:
            self.pending.pop(0)
            self.pending.insert(0, "_password_wait")
            self.typed.pop("password", None)
            self.dialog = PasswordDialog(self)
        elif step == "_password_wait":
            self.pending.pop(0)
            self.advance()
        elif step == WIPE:
            from .cloud import WipeDataConfirm

            self.phone.state.wipe_choice = None
            self.pending.pop(0)
            self.pending.insert(0, "_wipe_wait")
            self.phone.push(WipeDataConfirm(self.phone))
        elif step == "_wipe_wait":
            self.pending.pop(0)
            self.advance()

    def check_password(self) -> None:
        st = self.phone.state
        if not st.password_ok(self.typed.get("password", "")):
            self.error = self.t("bad_password")
            self.typed.pop("password", None)
            return
        if st.password_changed_recently:
            self.pending = []
            self.dialog = FindDeviceFailed(self)
            return
        st.find_device = False
        self.advance()

    def finish(self) -> None:
        self.pending = []
        self.dialog = SigningOut(self)

        def done() -> None:
            st = self.phone.state
            if st.wipe_choice == "remove":
                st.contacts = []
            st.sign_out()
            self.phone.state.wipe_choice = None
            self.dialog = None
            # The account page finishes; Settings (or whatever opened it) is back on top.
            self.phone.stack = [s for s in self.phone.stack if s.package != PKG and s.package != "com.miui.cloudservice"] or self.phone.stack[:1]
            if not self.phone.stack or self.phone.stack[-1] is self:
                from . import home_screen

                self.phone.stack = [home_screen(self.phone)]
            self.phone.top.on_resume()
            self.phone.changed()

        self.phone.after(SIGNING_OUT_SECONDS, done)


class ConfirmSignOut(Dialog):
    name = "signout_confirm"
    package = PKG

    def build(self) -> Node:
        return dialog(self.package, self.t("sign_out"), message=self.t("sign_out_message"),
                      buttons=[(self.t("cancel"), "cancel", "button"), (self.t("confirm_sign_out"), "confirm", "button_danger")])


class PasswordDialog(Dialog):
    package = PKG

    @property
    def name(self) -> str:  # type: ignore[override]
        return "signout_wrong_password" if self.owner.error else "signout_password"

    def build(self) -> Node:
        owner: AccountPage = self.owner  # type: ignore[assignment]
        value = owner.typed.get("password", "")
        return dialog(self.package, self.t("password_title"), message=self.t("find_device") + " · " + owner.phone.state.account_id,
                      edit=(value, self.t("password_hint"), "password", True), error=owner.error,
                      buttons=[(self.t("cancel"), "cancel", "button"), (self.t("verify"), "password_ok", "button_primary")])


class FindDeviceFailed(Dialog):
    name = "find_device_failed"
    package = PKG
    cancelable = True

    def build(self) -> Node:
        return dialog(self.package, self.t("find_device_failed_title"), message=self.t("password_recent", PASSWORD_CHANGE_DAYS),
                      buttons=[(self.t("ok"), "failed_ok", "button_primary")])


class SigningOut(Dialog):
    name = "signing_out"
    package = PKG
    cancelable = False

    def build(self) -> Node:
        return dialog(self.package, self.t("removing_account"), progress=True)


class SignInPage(Screen):
    """The signed-out entry's target: the Xiaomi Account sign-in page."""

    name = "signin"
    package = PKG
    activity = "com.xiaomi.passport.ui.internal.AccountLoginActivity"

    def build(self) -> Node:
        root = window(self.package)
        root.add(action_bar(self.t("account_title"), self.title_id))
        y = STATUS_H + TITLE_H + 60
        root.add(Node(cls="android.widget.EditText", text=self.t("account_name_hint"),
                      hint=self.t("account_name_hint"), rid=f"{PKG}:id/et_account_name",
                      bounds=(SIDE, y, SCREEN_W - SIDE, y + 150), clickable=True, focusable=True, style="edit", action="noop"))
        root.add(Node(cls="android.widget.EditText", text=self.t("password_hint"), hint=self.t("password_hint"),
                      rid=f"{PKG}:id/et_account_password", bounds=(SIDE, y + 190, SCREEN_W - SIDE, y + 340),
                      clickable=True, focusable=True, style="edit", action="noop"))
        root.add(Node(cls=BUTTON, text=self.t("sign_in"), rid=f"{PKG}:id/btn_login",
                      bounds=(SIDE, y + 420, SCREEN_W - SIDE, y + 560), clickable=True, style="button_primary", action="noop"))
        return root
