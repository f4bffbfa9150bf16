"""String resources of the simulated phone: Android's decoding of strings.xml, locale fallback,
legacy language codes, the en-XA pseudo-locale and folders laid over the built-in tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from miui_automator.errors import ConfigError
from miui_automator.sim.labels import APPS, LABELS
from miui_automator.sim.strings import (
    BUILTIN_DIR,
    Locale,
    Resources,
    android_format,
    decode,
    load_folder,
    pseudolocalize,
    qualifier_of,
    resources,
)


def write_strings(root: Path, app: str, folder: str, body: str) -> Path:
    path = root / f"{app}.apk" / "res" / folder / "strings.xml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'<?xml version="1.0" encoding="utf-8"?>\n<resources '
                    f'xmlns:xliff="urn:oasis:names:tc:xliff:document:1.2">\n{body}\n</resources>\n', encoding="utf-8")
    return path


# ------------------------------------------------------------------ decoding like aapt2
@pytest.mark.parametrize("raw, text", [
    (r"Can\'t sign out", "Can't sign out"),
    (r"Say \"hi\"", 'Say "hi"'),
    (r"one\ntwo\tthree", "one\ntwo\tthree"),
    (r"\u00e9t\u00E9", "été"),
    ("  lots   of\n   space  ", "lots of space"),
    ('"  kept   as is  "', "  kept   as is  "),
    ('"It\'s" fine', "It's fine"),
    (r"\@home \?attr", "@home ?attr"),
    (r"back\\slash", "back\\slash"),
])
def test_decode_follows_aapt2(raw, text):
    assert decode(raw) == text


def test_markup_cdata_and_references(tmp_path):
    write_strings(tmp_path, "XiaomiAccount", "values", """
    <string name="logout_account">Sign out</string>
    <string name="alias">@string/logout_account</string>
    <string name="styled">Tap <b>Sign out</b> now</string>
    <string name="days">Within <xliff:g id="n">%1$d</xliff:g> days</string>
    <string name="cdata"><![CDATA[<a href=\\"x\\">Help</a>]]></string>
    <string name="cdata_bare"><![CDATA[<a href="x">Help</a>]]></string>
    """)
    res = Resources([load_folder(str(tmp_path))])
    en = Locale.parse("en-US")
    assert res.resolve("XiaomiAccount", "alias", en) == "Sign out"
    assert res.resolve("XiaomiAccount", "styled", en) == "Tap Sign out now"
    assert android_format(res.resolve("XiaomiAccount", "days", en), 3) == "Within 3 days"
    assert res.resolve("XiaomiAccount", "cdata", en) == '<a href="x">Help</a>'
    # CDATA only spares XML escaping: an unescaped quote still opens a quoted span, as in aapt2
    assert res.resolve("XiaomiAccount", "cdata_bare", en) == "<a href=x>Help</a>"


def test_android_format():
    assert android_format("Latest backup: %s", "01/02") == "Latest backup: 01/02"
    assert android_format("%2$s then %1$s, 100%%", "a", "b") == "b then a, 100%"
    assert android_format("no args %d") == "no args %d"


# ------------------------------------------------------------------ locales
@pytest.mark.parametrize("tag, chain, reported", [
    ("pt-BR", ("pt-rBR", "pt", ""), "pt-BR"),
    ("de-DE", ("de-rDE", "de", ""), "de-DE"),
    ("id-ID", ("in-rID", "in", ""), "id-ID"),
    ("in-ID", ("in-rID", "in", ""), "id-ID"),  # the legacy spelling reads as the modern one
    ("he-IL", ("iw-rIL", "iw", ""), "he-IL"),
    ("yi", ("ji", ""), "yi"),
    ("zh_CN", ("zh-rCN", "zh", ""), "zh-CN"),
])
def test_locale_chain_and_legacy_codes(tag, chain, reported):
    locale = Locale.parse(tag)
    assert locale.qualifiers == chain and locale.tag == reported


@pytest.mark.parametrize("tag", ["", "german", "de-DE-x", "d"])
def test_bad_locale_is_a_config_error(tag):
    with pytest.raises(ConfigError, match="locale"):
        Locale.parse(tag)


@pytest.mark.parametrize("folder, qualifier", [
    ("values", ""), ("values-de", "de"), ("values-pt-rBR", "pt-rBR"), ("values-night", None), ("values-sw600dp", None),
])
def test_qualifier_of(folder, qualifier):
    assert qualifier_of(folder) == qualifier


def test_fallback_region_language_default(tmp_path):
    write_strings(tmp_path, "Backup", "values", '<string name="a">A</string><string name="b">B</string><string name="c">C</string>')
    write_strings(tmp_path, "Backup", "values-pt", '<string name="a">A-pt</string><string name="b">B-pt</string>')
    write_strings(tmp_path, "Backup", "values-pt-rBR", '<string name="a">A-br</string>')
    res = Resources([load_folder(str(tmp_path))])
    br = Locale.parse("pt-BR")
    assert [res.resolve("Backup", k, br) for k in "abc"] == ["A-br", "B-pt", "C"]
    assert res.resolve("Backup", "a", Locale.parse("pt-PT")) == "A-pt"
    assert res.resolve("Backup", "missing", br) is None


def test_references_resolve_in_the_configuration_they_appear_in(tmp_path):
    write_strings(tmp_path, "Backup", "values", '<string name="name">Backup</string><string name="title">@string/name</string>')
    write_strings(tmp_path, "Backup", "values-pt", '<string name="name">Cópia</string>')
    write_strings(tmp_path, "Backup", "values-pt-rBR", '<string name="title">@string/name</string>')
    res = Resources([load_folder(str(tmp_path))])
    assert res.config("Backup", "pt-rBR") == {"title": "Cópia"}
    assert res.resolve("Backup", "title", Locale.parse("pt-BR")) == "Cópia"
    assert res.config("Backup", "")["title"] == "Backup"


def test_library_strings_belong_to_every_app(tmp_path):
    write_strings(tmp_path, "miuix", "values", '<string name="back">Back</string><string name="ok">OK (lib)</string>')
    write_strings(tmp_path, "Settings", "values", '<string name="ok">OK</string>')
    res = Resources([load_folder(str(tmp_path))])
    en = Locale.parse("en")
    assert res.resolve("Settings", "back", en) == "Back" and res.resolve("Settings", "ok", en) == "OK"
    assert res.config("Settings", "")["back"] == "Back"


def test_bad_xml_names_the_file_and_line(tmp_path):
    path = write_strings(tmp_path, "Settings", "values-xx", '<string name="a">broken</strin>')
    load_folder.cache_clear()
    with pytest.raises(ConfigError, match=rf"{path}:\d+"):
        load_folder(str(tmp_path))


# ------------------------------------------------------------------ pseudo-locale
def test_pseudolocalize_is_androids_accent_method():
    assert pseudolocalize("Sign out") == "[Šîĝñ öûţ one two]"
    # placeholders are kept (and marked), markup is left alone
    assert pseudolocalize("Latest backup: %s").startswith("[Ļåţéšţ ɓåçķûþ: »%s«")
    assert "<b>" in pseudolocalize("Tap <b>OK</b>")
    # more than three words: the padding is as long as the text
    long = pseudolocalize("a b c d e f")
    assert long.startswith("[å ɓ ç ð é ƒ one") and long.endswith("]")


def test_pseudo_locale_resolves_every_default_string():
    res = resources()
    xa = Locale.parse("en-XA")
    assert xa.pseudo
    assert res.resolve("XiaomiAccount", "logout_account", xa) == "[Šîĝñ öûţ one two]"


# ------------------------------------------------------------------ the built-in tables
def test_every_label_has_a_built_in_english_and_chinese_text():
    res = resources()
    for label, (app, key) in LABELS.items():
        assert res.resolve(app, key, Locale.parse("en-US")), label
        assert res.tables[app]["zh-rCN"].get(key), label


def test_built_in_tables_only_hold_keys_the_simulator_shows():
    shown = {key for _, key in LABELS.values()} | {"button_text_ok", "button_text_cancel", "button_ok", "button_cancel",
                                                     "cloud_find_device"}
    for app, configs in load_folder(str(BUILTIN_DIR)).items():
        for strings in configs.values():
            assert set(strings) <= shown, (app, set(strings) - shown)
    assert set(APPS) >= {"Settings", "XiaomiAccount", "CloudService", "FindDevice", "Backup"}


def test_later_folders_win(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    write_strings(first, "XiaomiAccount", "values-xx", '<string name="logout_account">One</string>')
    write_strings(second, "XiaomiAccount", "values-xx", '<string name="logout_account">Two</string>')
    xx = Locale.parse("xx-XX")
    assert resources((), (str(first), str(second))).resolve("XiaomiAccount", "logout_account", xx) == "Two"
    assert resources((), (str(second), str(first))).resolve("XiaomiAccount", "logout_account", xx) == "One"
