"""The browser, and the account.xiaomi.com pages a user deletes a Xiaomi Account with.

A real browser's WebView exposes a page through the accessibility tree: one
``android.webkit.WebView`` node whose children are ``android.view.View`` (text),
``android.widget.EditText`` (inputs; HTML ids become resource-ids), ``android.widget.CheckBox``
and ``android.widget.Button`` nodes, with the texts as content. The pages here are built the same
way, under the browser's URL bar, so flows identify them by content exactly as on a phone.

What the pages show comes from the phone's :class:`~miui_automator.sim.account_server.AccountServer`:
https://account.xiaomi.com/pass/del asks to sign in, then shows the consequences of deleting the
account (with a checkbox that enables "Delete Xiaomi Account"), or, while a deletion is pending,
the day it completes and a "Cancel deletion" button. Signing in to a deleted account says so.
Every navigation shows the browser's progress bar for :data:`LOAD_SECONDS` first. A browser opened
anew is not signed in (no cookies are modelled).

The pages speak the browser's language, the phone's, unless a URL asks for one with ``_locale``
(``?_locale=en_US``), which the tab then keeps, as the site's language cookie does. The simulator has
these pages in English and Chinese only; in any other language it shows the English ones accented
the way Android's pseudo-locale is (:func:`~miui_automator.sim.strings.pseudolocalize`), texts no flow
can know: a flow that left the page's language to the phone meets a page it does not recognise, as
it would on a German phone.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qsl, urlsplit

from ..account_server import BAD_CREDENTIALS, DELETED, PENDING, SIGNED_IN
from ..layout import SIDE, STATUS_H
from ..phone import Screen
from ..strings import pseudolocalize
from ..ui import SCREEN_H, SCREEN_W, Node

PKG = "com.android.browser"
ACTIVITY = "com.android.browser.BrowserActivity"
BROWSER_COMPONENT = f"{PKG}/{ACTIVITY}"
VIEW_ACTION = "android.intent.action.VIEW"
ACCOUNT_HOST = "account.xiaomi.com"
DELETE_PATH = "/pass/del"
LOGIN_PATH = "/fe/service/login"
LOAD_SECONDS = 0.3

URL_BAR_BOTTOM = STATUS_H + 160
WEB_TOP = URL_BAR_BOTTOM
VIEW = "android.view.View"
EDIT = "android.widget.EditText"
PHONE_HINT = "+86 138****0000"

# The catalogue name of each page, for current_screen_name() and the catalogue tests.
PAGE_NAMES = {
    "loading": "web_loading", "signin": "web_signin", "consequences": "web_delete_consequences",
    "requested": "web_deletion_requested", "cancelled": "web_deletion_cancelled",
    "sms_check": "web_page_unknown", "not_found": "web_page_unknown", "blank": "web_page_unknown",
}

# Xiaomi's own wording for these pages is not in the ROM string research; these texts are the
# simulator's, in the two languages the variants use. {label} is the variant's account name.
_TEXTS = {
    "en": {
        "signin_title": "{label}",
        "signin_sub": "Sign in to manage or delete your account",
        "user_hint": "Email/Phone/{label} ID",
        "password_hint": "Password",
        "sign_in": "Sign in",
        "bad": "Account or password is incorrect",
        "deleted": "This {label} has been deleted and can't be used to sign in",
        "before_title": "Before you delete your account",
        "account_line": "Account: {masked}",
        "permanent": "Deleting your account is permanent. Once it is deleted:",
        "bullets": (
            "• You can't sign in to this account or recover it.",
            "• Everything stored in Xiaomi Cloud — photos, contacts, messages, notes and backups — is erased.",
            "• Purchases, balances, coupons and memberships are forfeited.",
            "• Devices still signed in to this account can't use Find device.",
        ),
        "waiting": "Your account will be deleted {days} days after you submit this request. Until then you can "
                   "cancel the request by signing in here.",
        "agree": "I have read and understand the consequences",
        "delete": "Delete {label}",
        "requested_title": "Deletion requested",
        "requested": "Your {label} {masked} will be deleted on {date}.",
        "requested_note": "Until then you can sign in here and cancel the deletion. After that day the account "
                          "and its data can't be recovered.",
        "cancel": "Cancel deletion",
        "cancelled_title": "Deletion cancelled",
        "cancelled": "Your {label} {masked} will not be deleted. You can keep using it.",
        "sms_title": "Verify it's you",
        "sms": "Enter the code we sent to {phone}",
        "code_hint": "Verification code",
        "verify": "Verify",
        "not_found": "The page you requested doesn't exist.",
        "url_hint": "Search or type URL",
    },
    "zh": {
        "signin_title": "小米账号",
        "signin_sub": "登录以管理或注销您的账号",
        "user_hint": "邮箱/手机号码/小米ID",
        "password_hint": "密码",
        "sign_in": "登录",
        "bad": "账号或密码错误",
        "deleted": "该小米账号已注销，无法登录",
        "before_title": "注销账号前请确认",
        "account_line": "账号：{masked}",
        "permanent": "账号注销后将无法恢复。注销后：",
        "bullets": (
            "• 您将无法登录或找回此账号。",
            "• 小米云服务中的照片、联系人、短信、便签和备份等数据将被清除。",
            "• 已购买的内容、余额、优惠券和会员权益将作废。",
            "• 仍登录此账号的设备将无法使用查找设备。",
        ),
        "waiting": "提交申请{days}天后账号将被注销。在此期间，您可以登录此页面撤销注销申请。",
        "agree": "我已阅读并知晓注销账号的后果",
        "delete": "注销小米账号",
        "requested_title": "注销申请已提交",
        "requested": "您的小米账号 {masked} 将于{date}注销。",
        "requested_note": "在此之前，您可以登录此页面撤销注销。此后账号及其数据将无法恢复。",
        "cancel": "撤销注销",
        "cancelled_title": "已撤销注销申请",
        "cancelled": "您的小米账号 {masked} 不会被注销，可以继续使用。",
        "sms_title": "身份验证",
        "sms": "请输入发送至 {phone} 的验证码",
        "code_hint": "验证码",
        "verify": "验证",
        "not_found": "您访问的页面不存在",
        "url_hint": "搜索或输入网址",
    },
}


def opens_in_browser(component: str | None, action: str | None, data: str) -> bool:
    """An http(s) URL viewed with ACTION_VIEW, or given to the browser's own activity."""
    if urlsplit(data).scheme.lower() not in ("http", "https"):
        return False
    if component:
        pkg, _, cls = component.partition("/")
        return f"{pkg}/{pkg + cls if cls.startswith('.') else cls}" == BROWSER_COMPONENT
    return action == VIEW_ACTION


def asked_language(query: str) -> str | None:
    """The language a URL's ``_locale`` asks account.xiaomi.com for (``en_US`` → ``en``), if any."""
    for key, value in parse_qsl(query):
        if key == "_locale" and value:
            return value.replace("-", "_").split("_")[0].lower()
    return None


def masked(account_id: str) -> str:
    """How the pages show an account id: ``123****890``."""
    return account_id[:3] + "****" + account_id[-3:] if len(account_id) > 6 else account_id[:1] + "****"


def _lines(value: str, per_line: int = 46) -> int:
    units = sum(2 if ord(ch) > 0x2E80 else 1 for ch in value)
    return max(1, -(-units // per_line))


class BrowserScreen(Screen):
    """One browser tab: the URL bar, the progress bar while loading, and the page in a WebView."""

    package = PKG
    activity = ACTIVITY

    def __init__(self, phone, url: str | None = None) -> None:
        super().__init__(phone)
        self.url = ""
        self.page = "blank"
        self.account: str | None = None  # signed in on account.xiaomi.com in this tab
        self.error = ""  # sign-in error shown: bad | deleted
        self.agreed = False
        self.focus: str | None = None
        self.typed: dict[str, str] = {}
        self._navigation = 0
        self.asked: str | None = None  # the language a URL asked for (``_locale``), kept for the tab
        if url:
            self.open(url)

    @property
    def name(self) -> str:  # type: ignore[override]
        if self.page == "signin" and self.error:
            return "web_account_deleted" if self.error == DELETED else "web_signin_failed"
        return PAGE_NAMES[self.page]

    @property
    def language(self) -> str:
        """The pages' language: the one a URL asked for, else the phone's."""
        return self.asked or self.phone.locale.language

    @property
    def texts(self) -> dict:
        return _TEXTS["zh" if self.language == "zh" else "en"]

    def shown(self, text: str) -> str:
        """``text`` as the page shows it: accented in a language the simulator has no texts for."""
        return text if self.language in _TEXTS else pseudolocalize(text)

    def txt(self, key: str, **values: str) -> str:
        # The web pages speak the page's language, not the ROM's: a Chinese ROM's 小米账号 never shows
        # inside an English page.
        zh = self.language == "zh"
        label = self.v.account_label if zh == self.v.locale.startswith("zh") else ("小米账号" if zh else "Xiaomi Account")
        return self.shown(self.texts[key].format(label=label, **values))

    # ------------------------------------------------------------- navigation
    def open(self, url: str) -> None:
        """Load ``url``: what it shows is decided by the server when the load completes."""
        parts = urlsplit(url)
        path = parts.path.rstrip("/")
        self.asked = asked_language(parts.query) or self.asked
        query = f"?{parts.query}" if parts.query else ""
        if (parts.hostname or "") != ACCOUNT_HOST or path not in (DELETE_PATH, LOGIN_PATH):
            self._load("not_found", url)
        elif path == LOGIN_PATH or self.account is None:
            self._load("signin", f"https://{ACCOUNT_HOST}{LOGIN_PATH}{query}")
        else:
            self._load(None, f"https://{ACCOUNT_HOST}{DELETE_PATH}{query}")

    def _load(self, page: str | None, url: str) -> None:
        """Show the progress bar, then ``page`` (None: the deletion page for the account's state)."""
        self._navigation += 1
        navigation = self._navigation
        self.page, self.url, self.focus, self.agreed = "loading", url, None, False

        def loaded() -> None:
            if navigation == self._navigation:
                self.page = page or self._deletion_page()

        self.phone.after(LOAD_SECONDS, loaded)
        self.phone.changed()

    def _deletion_page(self) -> str:
        server = self.phone.account_server
        assert self.account is not None
        status = server.status(self.account)
        if status == DELETED:
            self.account, self.error = None, DELETED
            return "signin"
        if server.sms_check:
            return "sms_check"
        return "requested" if status == PENDING else "consequences"

    # ------------------------------------------------------------- actions
    def on_action(self, action: str, node: Node) -> None:
        server = self.phone.account_server
        if action in ("username", "pwd", "code"):
            self.focus = action
        elif action == "sign_in":
            user = self.typed.get("username", "").strip()
            result = server.sign_in(user, self.typed.pop("pwd", ""))
            if result == SIGNED_IN:
                self.account, self.error = user, ""
                self.open(f"https://{ACCOUNT_HOST}{DELETE_PATH}")
            else:
                self.error = DELETED if result == DELETED else BAD_CREDENTIALS
                self._load("signin", self.url)
        elif action == "agree":
            self.agreed = not self.agreed
        elif action == "delete" and self.agreed and self.account is not None:
            server.request_deletion(self.account)
            self._load(None, self.url)
        elif action == "cancel_deletion" and self.account is not None:
            server.cancel_deletion(self.account)
            self._load("cancelled", self.url)

    def on_text(self, action: str, text_value: str) -> None:
        self.typed[action] = text_value
        self.focus = action

    # ------------------------------------------------------------- drawing
    def build(self) -> Node:
        root = Node(cls="android.widget.FrameLayout", package=PKG, rid="android:id/content",
                    bounds=(0, STATUS_H, SCREEN_W, SCREEN_H), style="window")
        shown = self.url.split("://", 1)[-1]
        root.add(Node(cls="android.widget.TextView", text=shown, hint=self.txt("url_hint"), rid=f"{PKG}:id/url",
                      bounds=(SIDE - 24, STATUS_H + 20, SCREEN_W - SIDE + 24, URL_BAR_BOTTOM - 24), clickable=True,
                      focusable=True, style="urlbar", action="noop"))
        if self.page == "loading":
            root.add(Node(cls="android.widget.ProgressBar", rid=f"{PKG}:id/progress",
                          bounds=(0, URL_BAR_BOTTOM - 10, SCREEN_W, URL_BAR_BOTTOM), style="progress"))
        web = Node(cls="android.webkit.WebView", bounds=(0, WEB_TOP, SCREEN_W, SCREEN_H), focusable=True, style="webview")
        root.add(web)
        page = _Page(web)
        getattr(self, "_page_" + self.page)(page)
        return root

    def _page_loading(self, page: "_Page") -> None:
        """Nothing yet: the WebView is blank until the page arrives."""

    _page_blank = _page_loading

    def _page_signin(self, page: "_Page") -> None:
        page.heading(self.txt("signin_title"))
        page.paragraph(self.txt("signin_sub"))
        page.field("username", self.txt("user_hint"), self.typed.get("username", ""), self.focus)
        page.field("pwd", self.txt("password_hint"), self.typed.get("pwd", ""), self.focus, password=True)
        if self.error:
            page.paragraph(self.txt("bad" if self.error == BAD_CREDENTIALS else "deleted"), style="error")
        page.button(self.txt("sign_in"), "sign_in")

    def _page_consequences(self, page: "_Page") -> None:
        assert self.account is not None
        page.heading(self.txt("before_title"))
        page.paragraph(self.txt("account_line", masked=masked(self.account)))
        page.paragraph(self.txt("permanent"))
        for bullet in self.texts["bullets"]:
            page.paragraph(self.shown(bullet))
        page.paragraph(self.txt("waiting", days=str(self.phone.account_server.waiting_days)))
        page.checkbox(self.txt("agree"), "agree", self.agreed)
        page.button(self.txt("delete"), "delete", style="button_danger", enabled=self.agreed)

    def _page_requested(self, page: "_Page") -> None:
        assert self.account is not None
        ends = self.phone.account_server.deletion_date(self.account)
        assert ends is not None
        page.heading(self.txt("requested_title"))
        page.paragraph(self.txt("requested", masked=masked(self.account), date=self._date(ends)))
        page.paragraph(self.txt("requested_note"))
        page.button(self.txt("cancel"), "cancel_deletion", style="button")

    def _page_cancelled(self, page: "_Page") -> None:
        assert self.account is not None
        page.heading(self.txt("cancelled_title"))
        page.paragraph(self.txt("cancelled", masked=masked(self.account)))

    def _page_sms_check(self, page: "_Page") -> None:
        page.heading(self.txt("sms_title"))
        page.paragraph(self.txt("sms", phone=PHONE_HINT))
        page.field("code", self.txt("code_hint"), self.typed.get("code", ""), self.focus)
        page.button(self.txt("verify"), "noop")

    def _page_not_found(self, page: "_Page") -> None:
        page.heading("404")
        page.paragraph(self.txt("not_found"))

    def _date(self, day: date) -> str:
        return f"{day.year}年{day.month}月{day.day}日" if self.language == "zh" else day.isoformat()


class _Page:
    """Lays web content out top to bottom inside the WebView, as the page's HTML would flow."""

    def __init__(self, web: Node) -> None:
        self.web = web
        self.y = WEB_TOP + 80
        self.width = SCREEN_W - 2 * SIDE

    def _add(self, node: Node, height: int, gap: int = 36) -> None:
        self.web.add(node)
        self.y += height + gap

    def heading(self, value: str) -> None:
        self._add(Node(cls=VIEW, text=value, bounds=(SIDE, self.y, SCREEN_W - SIDE, self.y + 100), style="dialog_title"), 100)

    def paragraph(self, value: str, style: str = "dialog_message") -> None:
        height = _lines(value) * 58 + 12
        self._add(Node(cls=VIEW, text=value, bounds=(SIDE, self.y, SCREEN_W - SIDE, self.y + height), style=style), height, 24)

    def field(self, html_id: str, hint: str, value: str, focus: str | None, password: bool = False) -> None:
        self._add(Node(cls=EDIT, text=value, hint=hint, rid=html_id, bounds=(SIDE, self.y, SCREEN_W - SIDE, self.y + 150),
                       clickable=True, focusable=True, focused=focus == html_id, password=password, style="edit",
                       action=html_id), 150)

    def checkbox(self, label: str, action: str, checked: bool) -> None:
        height = max(120, _lines(label, 40) * 58 + 20)
        self._add(Node(cls="android.widget.CheckBox", text=label, bounds=(SIDE, self.y, SCREEN_W - SIDE, self.y + height),
                       checkable=True, checked=checked, clickable=True, focusable=True, style="checkbox", action=action),
                  height)

    def button(self, label: str, action: str, style: str = "button_primary", enabled: bool = True) -> None:
        self._add(Node(cls="android.widget.Button", text=label, bounds=(SIDE, self.y, SCREEN_W - SIDE, self.y + 140),
                       clickable=True, focusable=True, enabled=enabled, style=style, action=action), 140)
