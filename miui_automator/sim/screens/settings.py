"""MIUI Settings: the home list (account entry where Global and China ROMs put it), About
phone, Back up and restore, Additional settings, Developer options and Factory reset.
"""

from __future__ import annotations

from ..layout import SIDE, STATUS_H, TITLE_H, Row, action_bar, bottom_button, dialog, scroll_list, text, window
from ..phone import Dialog, Screen
from ..ui import SCREEN_H, SCREEN_W, Node

LIST_ID = "com.android.settings:id/recycler_view"
ERASE_SECONDS = 2.0  # "Erasing…" shows for a moment before the phone reboots (a tool must see it to know the erase began)


class ListScreen(Screen):
    """A Settings-style page: large title, then a scrolling list of rows."""

    package = "com.android.settings"
    title_key = ""

    def title(self) -> str:
        return self.t(self.title_key)

    def rows(self) -> list[Row]:
        return []

    def opens(self) -> dict[str, type[Screen]]:
        """The page each row's action opens; an action not here does nothing."""
        return {}

    def on_action(self, action: str, node: Node) -> None:
        page = self.opens().get(action)
        if page is not None:
            self.phone.push(page(self.phone))

    def build(self) -> Node:
        root = window(self.package)
        root.add(action_bar(self.title(), self.v.title_id, back=True, back_desc=self.t("back")))
        return self.add_list(root, STATUS_H + TITLE_H)

    def add_list(self, root: Node, top: int) -> Node:
        """``root`` with the rows added as the page's scrolling list from ``top`` down."""
        lst, limit = scroll_list(self.rows(), top, SCREEN_H, self.scroll.get(LIST_ID, 0), LIST_ID)
        self.max_scroll[LIST_ID] = limit
        root.add(lst)
        return root


class SettingsHome(ListScreen):
    name = "settings_home"
    activity = "com.android.settings.MainSettings"

    def build(self) -> Node:
        root = window(self.package)
        root.add(Node(cls="android.widget.TextView", text=self.t("settings"), rid="com.android.settings:id/action_bar_title_expand"
                      if "miui:" not in self.v.title_id else self.v.title_id,
                      bounds=(SIDE, STATUS_H + 60, SCREEN_W - SIDE, STATUS_H + 190), style="title"))
        root.add(Node(cls="android.widget.TextView", text=self.t("search"), rid="com.android.settings:id/search_text",
                      bounds=(SIDE, STATUS_H + 210, SCREEN_W - SIDE, STATUS_H + 310), clickable=True, style="search", action="noop"))
        return self.add_list(root, STATUS_H + 330)

    def account_row(self) -> Row:
        st = self.phone.state
        if st.has_xiaomi_account():
            return Row(self.t("account_entry"), summary=self.t("login_summary"), action="account", rid="com.android.settings:id/account_layout")
        return Row(self.t("signin_entry"), action="signin", rid="com.android.settings:id/account_layout")

    def rows(self) -> list[Row]:
        t = self.t
        rows = [
            Row(t("about_phone"), value=self.phone.state.props.get("ro.mi.os.version.name") or
                "MIUI " + self.phone.state.props.get("ro.miui.ui.version.name", "V140")[1:].replace("125", "12.5").replace("140", "14"),
                action="about"),
            Row(t("sim"), action="noop"), Row(t("wifi"), value=t("state_off"), action="noop"), Row(t("bluetooth"), value=t("state_off"), action="noop"),
            Row(t("connection_sharing"), action="noop"),
            Row(t("display"), action="noop"), Row(t("sound"), action="noop"), Row(t("notifications"), action="noop"),
            Row(t("home_screen"), action="noop"), Row(t("wallpaper"), action="noop"),
            Row(t("passwords_security"), action="noop"), Row(t("privacy"), action="noop"), Row(t("battery"), action="noop"),
            Row(t("apps"), action="noop"), Row(t("additional"), action="additional"),
            Row(t("digital_wellbeing"), action="noop"), Row(t("special_features"), action="noop"),
        ]
        account = [self.account_row(), Row(t("cloud"), action="cloud"), Row(t("accounts_sync"), action="noop"), Row(t("google"), action="noop")]
        if self.v.account_entry_top:
            return account[:1] + rows + account[1:]
        return rows + account

    def opens(self) -> dict[str, type[Screen]]:
        from . import AccountPage, CloudMain, SignInPage

        return {"about": AboutPhone, "additional": AdditionalSettings, "account": AccountPage, "signin": SignInPage,
                "cloud": CloudMain if self.phone.state.has_xiaomi_account() else SignInPage}


class AboutPhone(ListScreen):
    name = "about_phone"
    activity = "com.android.settings.SubSettings"
    title_key = "about_phone"

    def rows(self) -> list[Row]:
        p = self.phone.state.props
        t = self.t
        os_name = p.get("ro.mi.os.version.incremental") or p.get("ro.build.version.incremental", "")
        return [
            Row(t("device_name"), value=p.get("ro.product.marketname", ""), action="noop"),
            Row(t("os_version"), value=os_name, action="noop"),
            Row(t("android_version"), value=p.get("ro.build.version.release", ""), action="noop"),
            Row(t("backup_restore"), action="backup"),
            Row(t("factory_reset"), action="reset"),
        ]

    def opens(self) -> dict[str, type[Screen]]:
        return {"backup": BackupAndRestore, "reset": FactoryReset}


class BackupAndRestore(ListScreen):
    name = "backup_and_restore"
    activity = "com.android.settings.SubSettings"
    title_key = "backup_restore"

    def rows(self) -> list[Row]:
        return [Row(self.t("backup_title"), summary=self.t("backup_on_device"), action="local"), Row(self.t("cloud"), action="noop")]

    def opens(self) -> dict[str, type[Screen]]:
        from . import LocalBackupHome

        return {"local": LocalBackupHome}


class AdditionalSettings(ListScreen):
    name = "additional_settings"
    activity = "com.android.settings.SubSettings"
    title_key = "additional"

    def rows(self) -> list[Row]:
        return [Row(self.t("date_time"), action="noop"), Row(self.t("languages_input"), action="noop"),
                Row(self.t("developer_options"), action="dev")]

    def opens(self) -> dict[str, type[Screen]]:
        return {"dev": DeveloperOptions}


class DeveloperOptions(ListScreen):
    name = "developer_options"
    activity = "com.android.settings.SubSettings"
    title_key = "developer_options"

    def rows(self) -> list[Row]:
        st = self.phone.state
        return [
            Row(self.t("usb_debugging"), summary=self.t("usb_debugging_desc"),
                switch=st.settings["global"].get("adb_enabled") == "1", action="toggle:adb"),
            Row(self.t("usb_install"), summary=self.t("usb_install_desc"), switch=st.usb_install, action="toggle:install"),
            Row(self.t("usb_adb_input"), summary=self.t("usb_adb_input_desc"), switch=st.props.get("persist.security.adbinput") == "1", action="toggle:input"),
        ]

    def on_action(self, action: str, node: Node) -> None:
        st = self.phone.state
        if action == "toggle:input":
            st.props["persist.security.adbinput"] = "0" if st.props.get("persist.security.adbinput") == "1" else "1"
        elif action == "toggle:install":
            st.usb_install = not st.usb_install


class FactoryReset(Screen):
    """About phone → Factory reset: warning, Erase all data, Mi account password, final confirm."""

    name = "factory_reset"
    package = "com.android.settings"
    activity = "com.android.settings.MiuiMasterClear"

    def __init__(self, phone) -> None:
        super().__init__(phone)
        self.typed: dict[str, str] = {}
        self.error = ""

    def build(self) -> Node:
        root = window(self.package)
        root.add(action_bar(self.t("factory_reset"), self.v.title_id))
        root.add(text(self.t("reset_warning"), (SIDE, STATUS_H + TITLE_H + 40, SCREEN_W - SIDE, STATUS_H + TITLE_H + 400),
                      "com.android.settings:id/master_clear_desc", "dialog_message"))
        root.add(bottom_button(self.t("erase_all"), "erase", "com.android.settings:id/erase_data", "button_danger"))
        return root

    def on_action(self, action: str, node: Node) -> None:
        st = self.phone.state
        if action == "erase":
            if st.has_xiaomi_account() and st.find_device:
                self.dialog = ResetPasswordDialog(self)
            else:
                self.dialog = ResetConfirmDialog(self)
        elif action == "password_ok":
            if self.phone.state.password_ok(self.typed.get("password", "")):
                self.dialog = ResetConfirmDialog(self)
            else:
                self.error = self.t("bad_password")
        elif action == "cancel":
            self.dialog = None
        elif action == "confirm_erase":
            self.dialog = ErasingDialog(self)
            self.phone.after(ERASE_SECONDS, self.phone.factory_reset)

    def on_text(self, action: str, text_value: str) -> None:
        self.typed[action] = text_value
        self.error = ""


class ResetPasswordDialog(Dialog):
    name = "factory_reset_password"
    package = "com.xiaomi.account"

    def build(self) -> Node:
        owner: FactoryReset = self.owner  # type: ignore[assignment]
        value = owner.typed.get("password", "")
        return dialog(self.package, self.t("password_title"), edit=(value, self.t("password_hint"), "password", True),
                      error=owner.error, buttons=[(self.t("cancel"), "cancel", "button"), (self.t("ok"), "password_ok", "button_primary")])


class ErasingDialog(Dialog):
    name = "factory_reset_erasing"
    package = "com.android.settings"
    cancelable = False

    def build(self) -> Node:
        return dialog(self.package, self.t("erasing"), progress=True)


class ResetConfirmDialog(Dialog):
    name = "factory_reset_confirm"
    package = "com.android.settings"

    def build(self) -> Node:
        return dialog(self.package, self.t("reset_confirm_title"), message=self.t("reset_confirm_message"),
                      buttons=[(self.t("cancel"), "cancel", "button"), (self.t("ok"), "confirm_erase", "button_danger")])


def settings_home(phone) -> SettingsHome:
    return SettingsHome(phone)


__all__ = ["SettingsHome", "AboutPhone", "BackupAndRestore", "AdditionalSettings", "DeveloperOptions", "FactoryReset",
           "dialog", "Dialog"]
