"""The ``@package:string/key`` syntax, the phone's locale and Android's order of resource folders."""

from __future__ import annotations

import pytest

from miui_automator.strings.locale import normalise, phone_locale, qualifier_chain
from miui_automator.strings.refs import TextRef, parse_ref, split_texts

from phones import ApkPhone


def test_a_reference_names_app_and_key():
    ref = parse_ref("@com.xiaomi.account:string/logout_account")
    assert ref == TextRef("com.xiaomi.account", "logout_account")
    assert ref.written == "@com.xiaomi.account:string/logout_account"
    assert str(ref) == "com.xiaomi.account:string/logout_account"


@pytest.mark.parametrize("text", ["@com.xiaomi.account:strings/logout", "@logout_account", "@com.x:string/",
                                  "@com.x:string/a b", "@com.x:string/${x}", "@:string/k"])
def test_a_malformed_reference_is_refused(text):
    with pytest.raises(ValueError, match="not a string resource"):
        parse_ref(text)


def test_literals_and_references_split_in_order_and_double_at_escapes():
    literals, refs = split_texts(["@a.b:string/k", "Sign out", "@@home", "Sign out", "@a.b:string/k", "退出登录"])
    assert literals == ("Sign out", "@home", "Sign out", "退出登录")
    assert refs == (TextRef("a.b", "k"),)


@pytest.mark.parametrize("tag, norm", [("de-DE", "de-DE"), ("de_DE", "de-DE"), ("pt-rBR", "pt-BR"), ("ru", "ru"),
                                       ("zh-Hans-CN", "zh-CN"), ("EN-xa", "en-XA"), ("es-419", "es-419"),
                                       ("null", None), ("", None), ("de-DE,en-US", None)])
def test_locales_are_normalised(tag, norm):
    assert normalise(tag) == norm


@pytest.mark.parametrize("locale, chain", [
    ("pt-BR", ("pt-rBR", "pt", "")),
    ("de", ("de", "")),
    ("id-ID", ("id-rID", "in-rID", "id", "in", "")),
    ("in-ID", ("in-rID", "id-rID", "in", "id", "")),
    ("he-IL", ("he-rIL", "iw-rIL", "he", "iw", "")),
    ("iw", ("iw", "he", "")),
    ("yi", ("yi", "ji", "")),
    ("ji", ("ji", "yi", "")),
    ("en-XA", ("en-rXA", "en", "")),
    ("", ("",)),
])
def test_android_folder_order_with_legacy_codes_both_ways(locale, chain):
    assert qualifier_chain(locale) == chain


def test_phone_locale_prefers_persist_sys_locale():
    assert phone_locale(ApkPhone({}, locale="ru-RU", system_locales="de-DE,en-US")) == "ru-RU"


def test_phone_locale_falls_back_to_system_locales_then_product_locale():
    assert phone_locale(ApkPhone({}, locale="", system_locales="pl-PL,en-US")) == "pl-PL"
    assert phone_locale(ApkPhone({}, locale="", system_locales="", product_locale="hi-IN")) == "hi-IN"
    assert phone_locale(ApkPhone({}, locale="", system_locales="", product_locale="")) == ""
