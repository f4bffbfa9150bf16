"""The simulated MIUI screens, and how intents and components resolve to them."""

from __future__ import annotations

from .account import AccountPage, SignInPage
from .backup import LocalBackupHome
from .browser import BROWSER_COMPONENT, BrowserScreen, opens_in_browser
from .cloud import CloudMain, WipeDataConfirm
from .settings import AboutPhone, DeveloperOptions, FactoryReset, SettingsHome
from .system import CloudPromoPopup, HomeScreen, SetupWizard, UpdatePopup, lockscreen_window

__all__ = [
    "AccountPage", "SignInPage", "BrowserScreen", "LocalBackupHome", "CloudMain", "WipeDataConfirm", "SettingsHome", "AboutPhone",
    "DeveloperOptions", "FactoryReset", "CloudPromoPopup", "HomeScreen", "SetupWizard", "UpdatePopup",
    "lockscreen_window", "home_screen", "resolve_intent",
]


def home_screen(phone):
    return HomeScreen(phone) if phone.state.provisioned else SetupWizard(phone)


def _account(phone):
    return AccountPage(phone) if phone.state.has_xiaomi_account() else SignInPage(phone)


# Components (package/class) that `am start -n` can open. Short ".X" forms are expanded by the caller.
COMPONENTS = {
    "com.android.settings/com.android.settings.MainSettings": SettingsHome,
    "com.android.settings/com.android.settings.Settings": SettingsHome,
    "com.android.settings/com.android.settings.MiuiSettings": SettingsHome,
    "com.android.settings/com.android.settings.SubSettings": AboutPhone,
    "com.android.settings/com.android.settings.MiuiMasterClear": FactoryReset,
    "com.android.settings/com.android.settings.DevelopmentSettings": DeveloperOptions,
    "com.xiaomi.account/com.xiaomi.account.ui.AccountSettingsActivity": _account,
    "com.miui.cloudservice/com.miui.cloudservice.ui.MiCloudMainActivity": CloudMain,
    "com.miui.backup/com.miui.backup.local.LocalHomeActivity": LocalBackupHome,
    "com.miui.backup/com.miui.backup.BackupActivity": LocalBackupHome,
    "com.miui.home/com.miui.home.launcher.Launcher": HomeScreen,
    BROWSER_COMPONENT: BrowserScreen,
}

ACTIONS = {
    "android.settings.SETTINGS": SettingsHome,
    "android.settings.XIAOMI_ACCOUNT_SYNC_SETTINGS": _account,
    "android.settings.DEVICE_INFO_SETTINGS": AboutPhone,
    "android.settings.APPLICATION_DEVELOPMENT_SETTINGS": DeveloperOptions,
    "com.xiaomi.action.MICLOUD_MAIN": CloudMain,
    "com.xiaomi.action.MICLOUD_WIPE_DATA_CONFIRM": WipeDataConfirm,
    "miui.intent.action.BACKUP_SETTINGS": LocalBackupHome,
}

LAUNCHERS = {
    "com.android.settings": SettingsHome,
    "com.xiaomi.account": _account,
    "com.miui.cloudservice": CloudMain,
    "com.miui.backup": LocalBackupHome,
    "com.miui.home": HomeScreen,
    "com.android.browser": BrowserScreen,
}


def resolve_intent(phone, *, component=None, action=None, extras=None, package=None, data=None):
    """(screen, message): the screen an intent opens, or None and the error ``am`` prints."""
    if data and opens_in_browser(component, action, data):
        return BrowserScreen(phone, data), f"Starting: Intent {{ act={action or 'android.intent.action.VIEW'} dat={data} }}"
    if component:
        pkg, _, cls = component.partition("/")
        if cls.startswith("."):
            cls = pkg + cls
        factory = COMPONENTS.get(f"{pkg}/{cls}")
        if factory is None:
            return None, (f"Error type 3\nError: Activity class {{{pkg}/{cls}}} does not exist.")
        return factory(phone), f"Starting: Intent {{ cmp={pkg}/{cls[len(pkg):] if cls.startswith(pkg) else cls} }}"
    if action:
        factory = ACTIONS.get(action)
        if factory is None or (package and package not in LAUNCHERS):
            return None, f"Error: Activity not started, unable to resolve Intent {{ act={action} flg=0x10000000 }}"
        return factory(phone), f"Starting: Intent {{ act={action} }}"
    if package:
        factory = LAUNCHERS.get(package)
        if factory is None:
            return None, f"Error: Activity not started, unable to resolve Intent {{ pkg={package} }}"
        return factory(phone), f"Starting: Intent {{ pkg={package} }}"
    return None, "Error: Activity not started, no component or action given"
