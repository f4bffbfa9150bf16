"""Which string resource each label of the simulated screens is: the screens ask for a label by
a short name (``"sign_out"``) and get the text of (app, key) in the phone's locale.

Keys are the ones real MIUI/HyperOS APKs use for that label, so a tool that resolves
``com.xiaomi.account:string/logout_account`` from the phone finds exactly what the screen shows.
Keys starting ``sim_`` are project-local: no ROM key is known for that label (or the label
belongs to an app the simulator does not install, like the launcher or the keyguard), so the
text lives under a key of ours in the nearest simulated app; other languages fall back to the
default text for them, as Android does for a string a translation lacks.
"""

from __future__ import annotations

SETTINGS, ACCOUNT, CLOUD, FIND, BACKUP, MIUIX = "Settings", "XiaomiAccount", "CloudService", "FindDevice", "Backup", "miuix"

# The apps the simulator installs: app (translation-set name) → (package, path on the phone).
APPS: dict[str, tuple[str, str]] = {
    SETTINGS: ("com.android.settings", "/system/priv-app/Settings/Settings.apk"),
    ACCOUNT: ("com.xiaomi.account", "/system/app/XiaomiAccount/XiaomiAccount.apk"),
    CLOUD: ("com.miui.cloudservice", "/system/priv-app/CloudService/CloudService.apk"),
    FIND: ("com.xiaomi.finddevice", "/system/priv-app/FindDevice/FindDevice.apk"),
    BACKUP: ("com.miui.backup", "/system/priv-app/Backup/Backup.apk"),
}
APP_OF_PACKAGE = {pkg: app for app, (pkg, _) in APPS.items()}

LABELS: dict[str, tuple[str, str]] = {
    # Settings home and its pages
    "settings": (SETTINGS, "dashboard_title"),
    "search": (SETTINGS, "search_hint"),
    "about_phone": (SETTINGS, "about_settings"),
    "my_device": (SETTINGS, "my_device"),
    "sim": (SETTINGS, "sim_management_title"),
    "wifi": (SETTINGS, "wifi_settings"),
    "state_off": (SETTINGS, "sim_state_off"),  # a row's "Off" value: no ROM key known
    "bluetooth": (SETTINGS, "bluetooth_settings_title"),
    "connection_sharing": (SETTINGS, "connection_and_sharing"),
    "display": (SETTINGS, "display_settings"),
    "sound": (SETTINGS, "sound_vibrate_settings"),
    "notifications": (SETTINGS, "notification_control_center"),
    "home_screen": (SETTINGS, "home_title"),
    "wallpaper": (SETTINGS, "wallpaper_settings_title"),
    "passwords_security": (SETTINGS, "password_and_security"),
    "privacy": (SETTINGS, "privacy_protection"),
    "battery": (SETTINGS, "battery_settings"),
    "apps": (SETTINGS, "apps_dashboard_title"),
    "additional": (SETTINGS, "advanced_settings"),
    "digital_wellbeing": (SETTINGS, "wellbing_title"),
    "special_features": (SETTINGS, "miui_special_feature"),
    "accounts_sync": (SETTINGS, "sync_settings"),
    "google": (SETTINGS, "google_title"),
    "cloud": (SETTINGS, "micloud_service_title"),
    "account_entry": (SETTINGS, "xiaomi_account"),
    "signin_entry": (SETTINGS, "unlogin_account_title"),
    "login_summary": (SETTINGS, "login_account_summary"),
    "backup_restore": (SETTINGS, "privacy_settings_new"),
    "factory_reset": (SETTINGS, "master_clear_title_new"),
    "developer_options": (SETTINGS, "development_settings_title"),
    "usb_debugging": (SETTINGS, "enable_adb"),
    "usb_debugging_desc": (SETTINGS, "enable_adb_summary"),
    "usb_install": (SETTINGS, "usb_install_app"),
    "usb_install_desc": (SETTINGS, "usb_install_app_desc"),
    "usb_adb_input": (SETTINGS, "usb_adb_input"),
    "usb_adb_input_desc": (SETTINGS, "usb_adb_input_desc"),
    "device_name": (SETTINGS, "device_name"),
    "os_version": (SETTINGS, "os_version"),
    "android_version": (SETTINGS, "firmware_version"),
    "date_time": (SETTINGS, "date_and_time"),
    "languages_input": (SETTINGS, "sim_languages_input"),
    "erase_all": (SETTINGS, "main_clear_button_text"),
    "reset_warning": (SETTINGS, "master_clear_apply_step_1"),
    "reset_confirm_title": (SETTINGS, "main_clear_confirm_title"),
    "reset_confirm_message": (SETTINGS, "sim_reset_confirm_message"),  # no ROM key known
    "erasing": (SETTINGS, "factory_reset_loading"),
    "next": (SETTINGS, "button_text_next_step"),
    "setup_welcome": (SETTINGS, "welcome"),
    # System UI, launcher, updater: apps the simulator does not install
    "lockscreen_hint": (SETTINGS, "sim_lockscreen_hint"),
    "update_title": (SETTINGS, "sim_update_title"),
    "update_message": (SETTINGS, "sim_update_message"),
    "update_now": (SETTINGS, "sim_update_now"),
    "later": (SETTINGS, "sim_later"),
    "back": (MIUIX, "actionbar_button_up_description"),
    # Xiaomi Account app and the sign-out dialogs
    "account_title": (ACCOUNT, "app_name"),
    "xiaomi_user": (ACCOUNT, "sim_xiaomi_user"),
    "family_sharing": (ACCOUNT, "sim_family_sharing"),
    "signin_history": (ACCOUNT, "sim_signin_history"),
    "account_name_hint": (ACCOUNT, "sim_account_name_hint"),
    "sign_in": (ACCOUNT, "sim_sign_in"),
    "cloud_service": (ACCOUNT, "cloud_service"),
    "find_device": (ACCOUNT, "find_device"),
    "find_device_on": (ACCOUNT, "find_device_open"),
    "find_device_off": (ACCOUNT, "find_device_close"),
    "account_security": (ACCOUNT, "account_security"),
    "personal_info": (ACCOUNT, "account_user_base_info"),
    "mi_pay": (ACCOUNT, "sim_payments"),  # no ROM key known
    "devices": (ACCOUNT, "account_bind_devices"),
    "privacy_account": (ACCOUNT, "sim_privacy"),  # no ROM key known
    "help": (ACCOUNT, "help_center"),
    "sign_out": (ACCOUNT, "logout_account"),
    "confirm_sign_out": (ACCOUNT, "passport_remove_confirm"),
    "sign_out_message": (ACCOUNT, "delete_bank_card_message"),
    "cancel": (ACCOUNT, "cancel"),
    "ok": (ACCOUNT, "ok"),
    "password_title": (ACCOUNT, "passport_quick_login_title"),
    "password_hint": (ACCOUNT, "passport_input_password_hint"),
    "verify": (ACCOUNT, "sim_verify"),  # the password dialog's confirm button: no ROM key known
    "bad_password": (ACCOUNT, "passport_bad_authentication"),
    "checking_password": (ACCOUNT, "passport_checking_account"),
    "find_device_failed_title": (ACCOUNT, "turn_off_find_device_failed_title"),
    "password_recent": (ACCOUNT, "find_device_error_password_recently_changed"),  # %d: days
    "removing_account": (ACCOUNT, "removing_account"),
    # Xiaomi Cloud
    "turning_off_find_device": (CLOUD, "micloud_find_device_close_progress"),
    "cloud_storage": (CLOUD, "cloud_storage_default_title"),
    "cloud_gallery": (CLOUD, "e2ee_data_protection_label_gallery"),
    "cloud_contacts": (CLOUD, "micloud_label_name_contacts"),
    "cloud_messages": (CLOUD, "e2ee_data_protection_label_sms"),
    "cloud_notes": (CLOUD, "micloud_label_name_notes"),
    "wipe_label": (CLOUD, "micloud_wipe_data_confirm_label"),
    "wipe_title": (CLOUD, "micloud_wipe_data_confirm_title"),
    "wipe_remove": (CLOUD, "micloud_wipe_data_remove"),
    "wipe_keep": (CLOUD, "micloud_wipe_data_retain"),
    "cloud_promo_title": (CLOUD, "sim_promo_title"),  # the simulator's own promo popup
    "cloud_promo_message": (CLOUD, "sim_promo_message"),
    # Backup app
    "backup_app": (BACKUP, "app_name"),
    "backup_title": (BACKUP, "local_home_title"),
    "backup_on_device": (BACKUP, "local_main_backup_and_restore"),
    "backup_button": (BACKUP, "button_backup"),
    "backup_choose": (BACKUP, "backup_data"),
    "backup_select_all": (BACKUP, "select_all"),
    "backup_sysdata": (BACKUP, "local_select_sysdata"),
    "backup_apps": (BACKUP, "local_select_userapp"),
    "backup_contacts": (BACKUP, "local_select_account_contact"),
    "backup_start": (BACKUP, "local_button_backup_data"),
    "backup_progress": (BACKUP, "backup_progress"),
    "backup_hint": (BACKUP, "backup_hint"),
    "backup_stop": (BACKUP, "cancel_backup"),
    "backup_abort": (BACKUP, "abort_backup_confirm"),
    "backup_finished": (BACKUP, "backup_finished"),
    "backup_latest": (BACKUP, "sim_latest_backup"),  # %s: the date; no ROM key known
    "backup_none": (BACKUP, "local_no_backup"),
    "done": (BACKUP, "done"),
}

# The same label in another app's window is that app's own string.
IN_APP: dict[tuple[str, str], str] = {
    ("ok", SETTINGS): "button_text_ok",
    ("cancel", SETTINGS): "button_text_cancel",
    ("ok", BACKUP): "button_ok",
    ("cancel", BACKUP): "button_cancel",
    ("find_device", CLOUD): "cloud_find_device",
}


def resource_of(label: str, package: str = "") -> tuple[str, str]:
    """(app, key) of ``label`` in a window of ``package``."""
    app, key = LABELS[label]
    here = APP_OF_PACKAGE.get(package)
    if here is not None and (label, here) in IN_APP:
        return here, IN_APP[(label, here)]
    return app, key
