"""OS variants of the simulated phone: the texts, orders and properties that differ between
MIUI 12.5, MIUI 14, HyperOS 1 and HyperOS 2 (China ROM, Chinese UI).

Texts are the labels real ROMs show (see shared/miui-strings); where the research only found
a text in one language it is used as seen. The order of the sign-out dialogs differs between
versions — the flows must drive them as a state machine, and so the simulator models each
order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The dialogs a sign-out walks through, by name; each variant lists them in its own order.
CONFIRM, PASSWORD, WIPE = "confirm", "password", "wipe"

_EN_COMMON = {
    "settings": "Settings",
    "search": "Search settings",
    "about_phone": "About phone",
    "my_device": "My device",
    "sim": "SIM cards & mobile networks",
    "wifi": "Wi-Fi",
    "bluetooth": "Bluetooth",
    "connection_sharing": "Connection & sharing",
    "display": "Display",
    "sound": "Sound & vibration",
    "notifications": "Notifications & Control center",
    "home_screen": "Home screen",
    "wallpaper": "Wallpaper",
    "passwords_security": "Passwords & security",
    "privacy": "Privacy protection",
    "battery": "Battery",
    "apps": "Apps",
    "additional": "Additional settings",
    "digital_wellbeing": "Digital Wellbeing & parental controls",
    "special_features": "Special features",
    "accounts_sync": "Accounts & sync",
    "google": "Google",
    "cloud": "Xiaomi Cloud",
    "login_summary": "Manage accounts, cloud services, payments, and more",
    "backup_restore": "Back up and restore",
    "factory_reset": "Factory reset",
    "developer_options": "Developer options",
    "usb_debugging": "USB debugging",
    "usb_install": "Install via USB",
    "usb_install_desc": "Allow installing apps via USB",
    "usb_adb_input": "USB debugging (Security settings)",
    "usb_adb_input_desc": "Allow granting permissions and simulating input via USB debugging",
    # account app
    "cloud_service": "Xiaomi Cloud",
    "find_device": "Find device",
    "find_device_on": "On",
    "find_device_off": "Off",
    "account_security": "Account security",
    "personal_info": "Personal info",
    "mi_pay": "Payments",
    "devices": "Devices",
    "privacy_account": "Privacy",
    "help": "Help",
    "sign_out": "Sign out",
    "confirm_sign_out": "Sign out",
    "sign_out_message": "Mi Pay bank cards and NFC cards will be deleted after you sign out.",
    "cancel": "Cancel",
    "ok": "OK",
    "done": "Done",
    "later": "Later",
    "update_now": "Update",
    "password_title": "Enter your password",
    "password_hint": "Enter password",
    "verify": "OK",
    "bad_password": "Invalid username or password",
    "checking_password": "Checking password…",
    "find_device_failed_title": "Can't turn off Find device",
    "password_recent": "You've changed your password within last 3 days. Can't turn off Find device now due to security reasons.",
    "turning_off_find_device": "Turning off Find device…",
    "removing_account": "Signing out…",
    "wipe_label": "Delete synced items from this device?",
    "wipe_title": "Some items from the following apps are synced with Xiaomi Cloud. You can delete them from this device still keeping them in the cloud.",
    "wipe_remove": "Remove",
    "wipe_keep": "Keep",
    "cloud_promo_title": "Get more Xiaomi Cloud storage",
    "cloud_promo_message": "Back up photos, contacts and messages automatically.",
    # backup app
    "backup_title": "Back up locally",
    "backup_on_device": "On this device",
    "backup_button": "Back up",
    "backup_choose": "Choose items to back up",
    "backup_select_all": "Select all",
    "backup_sysdata": "System",
    "backup_apps": "Apps",
    "backup_contacts": "Accounts & contacts",
    "backup_start": "Back up",
    "backup_progress": "Backing up…",
    "backup_hint": "Keep your device powered on",
    "backup_stop": "Stop",
    "backup_finished": "Backed up successfully",
    "backup_latest": "Latest backup: %s",
    "backup_none": "No backups.",
    # factory reset
    "erase_all": "Erase all data",
    "reset_warning": "All data on your phone will be erased, including your accounts, system and app data, photos, videos and other files.",
    "reset_confirm_title": "Erase all data?",
    "reset_confirm_message": "Data can't be restored after it's erased.",
    "next": "Next",
    "erasing": "Erasing…",
    "lockscreen_hint": "Swipe up to unlock",
    "setup_welcome": "Welcome",
}

_ZH = {
    "settings": "设置",
    "search": "搜索设置项",
    "about_phone": "我的设备",
    "my_device": "我的设备",
    "sim": "双卡和移动网络",
    "wifi": "WLAN",
    "bluetooth": "蓝牙",
    "connection_sharing": "连接与共享",
    "display": "显示",
    "sound": "声音与振动",
    "notifications": "通知与控制中心",
    "home_screen": "桌面",
    "wallpaper": "壁纸与个性化",
    "passwords_security": "密码与安全",
    "privacy": "隐私保护",
    "battery": "电池",
    "apps": "应用设置",
    "additional": "更多设置",
    "digital_wellbeing": "健康使用设备",
    "special_features": "特色功能",
    "accounts_sync": "账号与同步",
    "google": "Google",
    "cloud": "小米云服务",
    "login_summary": "管理帐号、云服务等",
    "backup_restore": "备份与恢复",
    "factory_reset": "恢复出厂设置",
    "developer_options": "开发者选项",
    "usb_debugging": "USB调试",
    "usb_install": "USB安装",
    "usb_install_desc": "允许通过USB安装应用",
    "usb_adb_input": "USB调试（安全设置）",
    "usb_adb_input_desc": "允许通过USB调试修改权限或模拟点击",
    "cloud_service": "云服务",
    "find_device": "查找设备",
    "find_device_on": "已开启",
    "find_device_off": "未开启",
    "account_security": "账号安全",
    "personal_info": "个人信息",
    "mi_pay": "支付信息",
    "devices": "我的设备",
    "privacy_account": "隐私",
    "help": "帮助",
    "sign_out": "退出登录",
    "confirm_sign_out": "确认退出",
    "sign_out_message": "退出小米账号后，将会从设备中删除绑定的Mi Pay银行卡和模拟的门卡",
    "cancel": "取消",
    "ok": "确定",
    "done": "完成",
    "later": "以后再说",
    "update_now": "立即升级",
    "password_title": "系统需要验证您的小米账号",
    "password_hint": "请输入账号密码",
    "verify": "验证",
    "bad_password": "用户名密码不匹配",
    "checking_password": "正在验证密码…",
    "find_device_failed_title": "无法关闭查找设备",
    "password_recent": "您于3天内修改过小米账号密码，为了保护设备安全，暂时无法关闭查找设备",
    "turning_off_find_device": "正在关闭查找设备…",
    "removing_account": "正在退出账号…",
    "wipe_label": "是否删除本机上的同步数据？",
    "wipe_title": "以下应用的部分数据已同步至小米云服务。您可以从本机删除这些数据，云端仍会保留。",
    "wipe_remove": "从手机上删除",
    "wipe_keep": "保留在手机上",
    "cloud_promo_title": "升级云空间",
    "cloud_promo_message": "自动备份照片、联系人和短信。",
    "backup_title": "本地备份",
    "backup_on_device": "本地备份与恢复",
    "backup_button": "新建备份",
    "backup_choose": "备份数据",
    "backup_select_all": "全选",
    "backup_sysdata": "系统数据",
    "backup_apps": "软件程序",
    "backup_contacts": "账号和通讯录",
    "backup_start": "开始备份",
    "backup_progress": "正在备份...",
    "backup_hint": "请勿重启、关闭手机以免造成数据损坏",
    "backup_stop": "停止备份",
    "backup_finished": "备份完毕",
    "backup_latest": "上次备份时间：%s",
    "backup_none": "当前无备份",
    "erase_all": "清除所有数据",
    "reset_warning": "将清除手机中的所有数据，包括账号、系统及应用数据、照片、视频和其他文件。",
    "reset_confirm_title": "确定清除所有数据？",
    "reset_confirm_message": "清除后数据将无法恢复。",
    "next": "下一步",
    "erasing": "正在清除…",
    "lockscreen_hint": "向上滑动解锁",
    "setup_welcome": "欢迎",
}


@dataclass(frozen=True)
class Variant:
    """One OS build the simulator can be."""

    name: str
    description: str
    locale: str
    texts: dict[str, str]
    props: dict[str, str]
    account_label: str  # "Mi Account" / "Xiaomi Account" / 小米账号
    signin_label: str  # the signed-out Settings entry
    account_entry_top: bool  # China ROMs put the account entry first in Settings
    signout_order: tuple[str, ...]
    title_id: str  # resource-id of sub-page titles: miuix large title, or the old MIUI action bar
    settings_activity: str = ".MiuiSettings"
    extra_rows: tuple[str, ...] = field(default=())

    def t(self, key: str) -> str:
        return self.texts[key]


def _props(**overrides: str) -> dict[str, str]:
    base = {
        "ro.product.brand": "Xiaomi",
        "ro.product.manufacturer": "Xiaomi",
        "ro.product.cpu.abi": "arm64-v8a",
        "ro.build.type": "user",
        "ro.debuggable": "0",
        "ro.secure": "1",
        "persist.sys.usb.config": "mtp,adb",
        "sys.boot_completed": "1",
        "ro.miui.has_security_keyboard": "0",
        "persist.security.adbinput": "1",
        "persist.security.adbinstall": "1",
    }
    base.update(overrides)
    return base


VARIANTS: dict[str, Variant] = {}


def _register(v: Variant) -> None:
    VARIANTS[v.name] = v


_register(Variant(
    name="miui12.5-en",
    description="MIUI 12.5, Android 11, Global ROM, English — says \"Mi Account\"",
    locale="en-US",
    texts=dict(_EN_COMMON),
    props=_props(**{
        "ro.product.model": "M2007J20CG", "ro.product.name": "surya_global", "ro.product.device": "surya",
        "ro.product.marketname": "POCO X3 NFC", "ro.product.mod_device": "surya_global",
        "ro.build.version.release": "11", "ro.build.version.sdk": "30",
        "ro.build.version.incremental": "V12.5.4.0.RJGMIXM", "ro.miui.ui.version.name": "V125",
        "ro.miui.ui.version.code": "11", "ro.miui.build.region": "global", "ro.miui.region": "GB",
        "persist.sys.locale": "en-US", "ro.product.locale": "en-US",
    }),
    account_label="Mi Account",
    signin_label="Sign in to Mi Account",
    account_entry_top=False,
    signout_order=(CONFIRM, WIPE, PASSWORD),
    title_id="miui:id/action_bar_title",
))
_register(Variant(
    name="miui14-en",
    description="MIUI 14, Android 13, Global ROM, English",
    locale="en-US",
    texts=dict(_EN_COMMON),
    props=_props(**{
        "ro.product.model": "2201116SG", "ro.product.name": "veux_global", "ro.product.device": "veux",
        "ro.product.marketname": "Redmi Note 11 Pro 5G", "ro.product.mod_device": "veux_global",
        "ro.build.version.release": "13", "ro.build.version.sdk": "33",
        "ro.build.version.incremental": "V14.0.6.0.TKCMIXM", "ro.miui.ui.version.name": "V140",
        "ro.miui.ui.version.code": "14", "ro.miui.build.region": "global", "ro.miui.region": "GB",
        "persist.sys.locale": "en-US", "ro.product.locale": "en-US",
    }),
    account_label="Xiaomi Account",
    signin_label="Sign in to Xiaomi Account",
    account_entry_top=False,
    signout_order=(PASSWORD, CONFIRM, WIPE),
    title_id="com.android.settings:id/action_bar_title_expand",
))
_register(Variant(
    name="hyperos1-en",
    description="Xiaomi HyperOS 1, Android 14, Global ROM, English",
    locale="en-US",
    texts=dict(_EN_COMMON),
    props=_props(**{
        "ro.product.model": "23078PND5G", "ro.product.name": "corot_global", "ro.product.device": "corot",
        "ro.product.marketname": "Xiaomi 13T Pro", "ro.product.mod_device": "corot_global",
        "ro.build.version.release": "14", "ro.build.version.sdk": "34",
        "ro.build.version.incremental": "OS1.0.8.0.UMFMIXM", "ro.miui.ui.version.name": "V816",
        "ro.miui.ui.version.code": "816", "ro.mi.os.version.name": "OS1.0", "ro.mi.os.version.code": "1",
        "ro.mi.os.version.incremental": "OS1.0.8.0.UMFMIXM", "ro.miui.build.region": "global",
        "ro.miui.region": "GB", "persist.sys.locale": "en-US", "ro.product.locale": "en-US",
    }),
    account_label="Xiaomi Account",
    signin_label="Sign in to Xiaomi Account",
    account_entry_top=False,
    signout_order=(WIPE, PASSWORD),
    title_id="com.android.settings:id/action_bar_title_expand",
))
_register(Variant(
    name="hyperos2-zh",
    description="Xiaomi HyperOS 2, Android 15, China ROM, Chinese UI",
    locale="zh-CN",
    texts=dict(_ZH),
    props=_props(**{
        "ro.product.model": "23127PN0CC", "ro.product.name": "houji", "ro.product.device": "houji",
        "ro.product.marketname": "Xiaomi 14", "ro.product.mod_device": "houji",
        "ro.build.version.release": "15", "ro.build.version.sdk": "35",
        "ro.build.version.incremental": "OS2.0.6.0.VNCCNXM", "ro.miui.ui.version.name": "V816",
        "ro.miui.ui.version.code": "816", "ro.mi.os.version.name": "OS2.0", "ro.mi.os.version.code": "2",
        "ro.mi.os.version.incremental": "OS2.0.6.0.VNCCNXM", "ro.miui.build.region": "cn",
        "ro.miui.region": "CN", "persist.sys.locale": "zh-CN", "ro.product.locale": "zh-CN",
        "ro.miui.has_security_keyboard": "1",
    }),
    account_label="小米账号",
    signin_label="登录小米帐号",
    account_entry_top=True,
    signout_order=(CONFIRM, PASSWORD, WIPE),
    title_id="com.android.settings:id/action_bar_title_expand",
))


def get_variant(name: str) -> Variant:
    try:
        return VARIANTS[name]
    except KeyError:
        raise KeyError(f"unknown variant {name!r} (known: {', '.join(VARIANTS)})") from None
