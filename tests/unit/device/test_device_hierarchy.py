"""Parsing UI hierarchy dumps: real MIUI output with junk around it, zero-width characters, the
look-ups flows use, and the fingerprint that decides whether a screen has settled."""

from __future__ import annotations

import dataclasses
import time
from xml.sax.saxutils import quoteattr

import pytest

from miui_automator.device.hierarchy import MAX_DEPTH, HierarchyError, HNode, parse_hierarchy
from miui_automator.errors import DeviceError

# What MIUI's `uiautomator dump /dev/tty` prints around the XML (openatx / AppAgent#101 reports).
MIUI_JUNK_BEFORE = (
    "java.io.FileNotFoundException: /data/system/theme_config/theme_compatibility.xml: open failed: ENOENT "
    "(No such file or directory)\n"
    "\tat libcore.io.IoBridge.open(IoBridge.java:492)\n"
    "\tat java.io.FileInputStream.<init>(FileInputStream.java:160)\n"
    "\tat miui.content.res.ThemeCompatibilityLoader.getVersion(ThemeCompatibilityLoader.java:108)\n"
    "\tat miui.content.res.ThemeCompatibility.<clinit>(ThemeCompatibility.java:31)\n"
)
MIUI_JUNK_AFTER = "UI hierchary dumped to: /dev/tty\n"

# A real MIUI page source (MI 8 SE, Settings > Rename phone, English; Appium names elements after their
# class), trimmed to the action bar and the content, attributes wrapped. Source: zxffffffff/appium-easy-pc README.
REAL_MIUI_DUMP = """<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>
<hierarchy index="0" class="hierarchy" rotation="0" width="1080" height="2029">
  <android.widget.FrameLayout index="0" package="com.android.settings" class="android.widget.FrameLayout" text=""
      checkable="false" checked="false" clickable="false" enabled="true" focusable="false" focused="false"
      long-clickable="false" password="false" scrollable="false" selected="false" bounds="[0,0][1080,2029]"
      displayed="true">
    <android.widget.FrameLayout index="0" package="com.android.settings" class="android.widget.FrameLayout" text=""
        resource-id="miui:id/action_bar_overlay_layout" checkable="false" checked="false" clickable="false"
        enabled="true" focusable="false" focused="false" long-clickable="false" password="false" scrollable="false"
        selected="false" bounds="[0,0][1080,2029]" displayed="true">
      <android.view.ViewGroup index="1" package="com.android.settings" class="android.view.ViewGroup" text=""
          resource-id="miui:id/action_bar" checkable="false" checked="false" clickable="false" enabled="true"
          focusable="false" focused="false" long-clickable="false" password="false" scrollable="false" selected="false"
          bounds="[0,85][1080,402]" displayed="true">
        <android.widget.Button index="0" package="com.android.settings" class="android.widget.Button" text=""
            content-desc="Cancel" resource-id="android:id/button1" checkable="false" checked="false" clickable="true"
            enabled="true" focusable="true" focused="false" long-clickable="false" password="false" scrollable="false"
            selected="false" bounds="[66,115][166,215]" displayed="true" />
        <android.widget.Button index="2" package="com.android.settings" class="android.widget.Button" text=""
            content-desc="OK" resource-id="android:id/button2" checkable="false" checked="false" clickable="true"
            enabled="true" focusable="true" focused="false" long-clickable="false" password="false" scrollable="false"
            selected="false" bounds="[914,115][1014,215]" displayed="true" />
        <android.widget.TextView index="0" package="com.android.settings" class="android.widget.TextView"
            text="Rename phone" resource-id="miui:id/action_bar_title" checkable="false" checked="false"
            clickable="false" enabled="true" focusable="true" focused="false" long-clickable="false" password="false"
            scrollable="false" selected="false" bounds="[74,252][698,369]" displayed="true" />
      </android.view.ViewGroup>
      <android.widget.EditText index="0" package="com.android.settings" class="android.widget.EditText"
          text="小风的MI 8 SE" resource-id="com.android.settings:id/device_name" checkable="false" checked="false"
          clickable="true" enabled="true" focusable="true" focused="true" long-clickable="true" password="false"
          scrollable="false" selected="false" bounds="[30,440][1050,602]" displayed="true" hint="Enter name" />
      <android.widget.TextView index="1" package="com.android.settings" class="android.widget.TextView"
          text="Other nearby devices can see this name." checkable="false" checked="false" clickable="false"
          enabled="true" focusable="false" focused="false" long-clickable="false" password="false" scrollable="false"
          selected="false" bounds="[0,602][1080,684]" displayed="true" />
    </android.widget.FrameLayout>
  </android.widget.FrameLayout>
</hierarchy>"""

U2_HEAD = "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\r\n"


def node(cls: str = "android.widget.TextView", *children: str, text: str = "", rid: str = "", pkg: str = "com.android.settings",
         desc: str = "", bounds: tuple[int, int, int, int] = (0, 0, 0, 0), **flags: bool) -> str:
    """One uiautomator2-format <node> with every attribute the dumper writes."""
    names = ("checkable", "checked", "clickable", "enabled", "focusable", "focused", "scrollable", "long-clickable", "password",
             "selected")
    values = {name: flags.get(name.replace("-", "_"), name == "enabled") for name in names}
    attrs = (f'index="0" text={quoteattr(text)} resource-id="{rid}" class="{cls}" package="{pkg}" content-desc={quoteattr(desc)} '
             + " ".join(f'{k}="{str(v).lower()}"' for k, v in values.items())
             + ' visible-to-user="true" bounds="[{},{}][{},{}]" drawing-order="0" hint="" display-id="0"'.format(*bounds))
    return f"<node {attrs}>{''.join(children)}</node>" if children else f"<node {attrs} />"


def account_screen(clock: str = "10:24", row: str = "Find device", checked: bool = False, dialog: bool = True) -> str:
    """Status bar + Xiaomi Account page + (optionally) a sign-out dialog from the same app."""
    status = node("android.widget.FrameLayout",
                  node(text=clock, rid="com.android.systemui:id/clock", pkg="com.android.systemui", bounds=(64, 30, 260, 90)),
                  rid="com.android.systemui:id/status_bar", pkg="com.android.systemui", bounds=(0, 0, 1080, 110))
    page = node("android.widget.FrameLayout",
                node(text="Xiaomi Account", rid="com.xiaomi.account:id/action_bar_title_expand", pkg="com.xiaomi.account",
                     bounds=(64, 260, 1016, 380)),
                node("androidx.recyclerview.widget.RecyclerView",
                     node("android.widget.LinearLayout",
                          node(text=row, rid="android:id/title", pkg="com.xiaomi.account", bounds=(64, 450, 780, 530)),
                          node("android.widget.CheckBox", rid="android:id/checkbox", pkg="com.xiaomi.account",
                               bounds=(860, 450, 1016, 530), checkable=True, checked=checked, clickable=True),
                          pkg="com.xiaomi.account", bounds=(0, 420, 1080, 560), clickable=True),
                     node("android.widget.Button", text="Sign out", rid="com.xiaomi.account:id/logout_btn",
                          pkg="com.xiaomi.account", bounds=(64, 2100, 1016, 2240), clickable=True),
                     rid="com.xiaomi.account:id/list", pkg="com.xiaomi.account", bounds=(0, 410, 1080, 2400), scrollable=True),
                rid="android:id/content", pkg="com.xiaomi.account", bounds=(0, 110, 1080, 2400))
    windows = [status, page]
    if dialog:
        windows.append(node("android.widget.FrameLayout",
                            node(text="Sign out", rid="android:id/alertTitle", pkg="com.xiaomi.account",
                                 bounds=(84, 1930, 996, 2010)),
                            node("android.widget.Button", text="Cancel", rid="android:id/button2", pkg="com.xiaomi.account",
                                 bounds=(84, 2200, 520, 2330), clickable=True),
                            node("android.widget.Button", text="Sign out", rid="android:id/button1", pkg="com.xiaomi.account",
                                 bounds=(560, 2200, 996, 2330), clickable=True),
                            rid="android:id/content", pkg="com.xiaomi.account", bounds=(30, 1880, 1050, 2360)))
    return U2_HEAD + '<hierarchy rotation="0">' + "".join(windows) + "</hierarchy>"


# ------------------------------------------------------------------------------- parsing
def test_real_miui_dump_with_junk_before_and_after() -> None:
    h = parse_hierarchy(MIUI_JUNK_BEFORE + REAL_MIUI_DUMP + "\n" + MIUI_JUNK_AFTER)
    assert len(h.roots) == 1
    assert h.main_package == "com.android.settings"
    title = h.first(id="miui:id/action_bar_title")
    assert title is not None and title.text == "Rename phone" and title.cls == "android.widget.TextView"
    name = h.first(cls="android.widget.EditText")
    assert name is not None and name.text == "小风的MI 8 SE" and name.hint == "Enter name" and name.focused
    assert [b.desc for b in h.find(cls="android.widget.Button")] == ["Cancel", "OK"]
    assert h.first(desc="OK").center == (964, 165)


def test_bytes_input_and_byte_order_mark() -> None:
    h = parse_hierarchy(("\ufeff" + REAL_MIUI_DUMP).encode("utf-8"))
    assert h.first(text="小风的MI 8 SE") is not None


def test_zero_width_characters_are_removed() -> None:
    xml = account_screen(row="Find\u200b device\u200e", dialog=False).replace("Sign out", "Sign\u200d out\ufeff")
    h = parse_hierarchy(xml)
    assert h.first(text="Find device") is not None
    assert h.first(id="com.xiaomi.account:id/logout_btn").text == "Sign out"
    assert all("\u200b" not in t and "\ufeff" not in t for t in h.texts())


def test_uiautomator2_dump_windows_and_tree_shape() -> None:
    h = parse_hierarchy(account_screen())
    assert [r.package for r in h.roots] == ["com.android.systemui", "com.xiaomi.account", "com.xiaomi.account"]
    assert [r.window for r in h.roots] == [0, 1, 2]
    assert h.packages == {"com.android.systemui", "com.xiaomi.account"}
    assert h.main_package == "com.xiaomi.account"
    assert h.nodes[0] is h.roots[0] and len(h.nodes) == 13 and len(h) == 13
    row = h.first(text="Find device")
    assert row.depth == 3 and row.window == 1
    button = h.first(id="com.xiaomi.account:id/logout_btn")
    assert button.bounds == (64, 2100, 1016, 2240) and button.center == (540, 2170) and button.area == 952 * 140
    listing = h.first(id="com.xiaomi.account:id/list")
    assert listing.scrollable and len(listing.children) == 2 and listing.children[1] is button
    with pytest.raises(dataclasses.FrozenInstanceError):
        button.text = "x"  # type: ignore[misc]
    assert repr(button) == "HNode(Button, text='Sign out', id='com.xiaomi.account:id/logout_btn', bounds=[64,2100][1016,2240])"


def test_main_package_is_the_largest_non_systemui_window() -> None:
    dialog = node("android.widget.FrameLayout", node(text="Later", pkg="com.miui.cloudservice", bounds=(100, 2000, 500, 2100)),
                  pkg="com.miui.cloudservice", bounds=(30, 1900, 1050, 2360))
    xml = account_screen(dialog=False).replace("</hierarchy>", dialog + "</hierarchy>")
    h = parse_hierarchy(xml)
    assert h.main_package == "com.xiaomi.account"
    assert "com.miui.cloudservice" in h.packages


def test_empty_self_closed_hierarchy_parses_to_no_nodes() -> None:
    h = parse_hierarchy(U2_HEAD + '<hierarchy rotation="1" />\n' + MIUI_JUNK_AFTER)
    assert h.nodes == () and h.roots == () and h.rotation == 1 and h.main_package == ""
    assert h.summary() == "package ?; texts: (none)"


@pytest.mark.parametrize(
    ("dump", "message"),
    [
        ("", "empty hierarchy dump"),
        ("   \n", "empty hierarchy dump"),
        ("ERROR: could not get idle state.\n", "no <hierarchy> in dump: 'ERROR: could not get idle state.'"),
        (U2_HEAD + '<hierarchy rotation="0"><node text="a"></hierarchy>', "malformed hierarchy XML"),
        (MIUI_JUNK_BEFORE, "no <hierarchy> in dump"),
    ],
)
def test_junk_raises_a_one_line_hierarchy_error(dump: str, message: str) -> None:
    with pytest.raises(HierarchyError) as caught:
        parse_hierarchy(dump)
    err = caught.value
    assert message in str(err)
    assert "\n" not in str(err)
    assert isinstance(err, ValueError) and isinstance(err, DeviceError) and err.exit_code == 3


def test_wrong_input_type_is_a_hierarchy_error() -> None:
    with pytest.raises(HierarchyError, match="text or bytes"):
        parse_hierarchy(None)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------- look-ups
@pytest.fixture()
def h():
    return parse_hierarchy(account_screen())


def test_find_by_id_and_id_alternatives(h) -> None:
    assert [n.text for n in h.find(id="android:id/button1")] == ["Sign out"]
    both = h.find(id=["android:id/button1", "com.xiaomi.account:id/logout_btn"])
    assert [n.rid for n in both] == ["com.xiaomi.account:id/logout_btn", "android:id/button1"]  # document order
    assert h.find(id="android:id/nothing") == []


def test_find_by_exact_text_and_alternatives(h) -> None:
    assert len(h.find(text="Sign out")) == 3
    assert h.find(text="Sign") == []
    found = h.find(text=("Cancel", "Xiaomi Account", "Mi Account"))
    assert [n.text for n in found] == ["Xiaomi Account", "Cancel"]


def test_find_by_regex_contains_class_desc_package_clickable(h) -> None:
    assert [n.text for n in h.find(text_matches=r"\d+:\d+")] == ["10:24"]
    assert h.find(text_matches=r"Sign") == []  # a full match, not a search
    assert [n.text for n in h.find(text_contains="Account")] == ["Xiaomi Account"]
    assert [n.rid for n in h.find(cls="android.widget.CheckBox")] == ["android:id/checkbox"]
    assert h.find(desc="nothing") == []
    assert {n.package for n in h.find(package="com.android.systemui")} == {"com.android.systemui"}
    clickable_sign_out = h.find(text="Sign out", clickable=True)
    assert [n.rid for n in clickable_sign_out] == ["com.xiaomi.account:id/logout_btn", "android:id/button1"]
    assert h.find(text="Sign out", clickable=True, id="android:id/button1")[0].bounds == (560, 2200, 996, 2330)


def test_first_returns_none_when_nothing_matches(h) -> None:
    assert h.first(text="Nope") is None
    assert h.first(text="Cancel").rid == "android:id/button2"


def test_texts_and_summary_leave_out_the_status_bar(h) -> None:
    assert h.texts() == ["Xiaomi Account", "Find device", "Sign out", "Cancel"]
    summary = h.summary()
    assert summary == "package com.xiaomi.account; texts: Xiaomi Account, Find device, Sign out, Cancel"
    assert "10:24" not in summary
    assert h.summary(limit=2) == "package com.xiaomi.account; texts: Xiaomi Account, Find device, … (+2 more)"


def test_summary_names_other_packages_and_shortens_long_texts() -> None:
    long_text = "Some items from the following apps are synced with Xiaomi Cloud and more"
    dialog = node("android.widget.FrameLayout", node(text=long_text, pkg="com.miui.cloudservice", bounds=(100, 2000, 900, 2100)),
                  pkg="com.miui.cloudservice", bounds=(30, 1900, 1050, 2360))
    h = parse_hierarchy(account_screen(dialog=False).replace("</hierarchy>", dialog + "</hierarchy>"))
    summary = h.summary()
    assert summary.startswith("package com.xiaomi.account (+ com.miui.cloudservice); texts: ")
    assert "Some items from the following apps are …" in summary


def test_lockscreen_summary_falls_back_to_systemui_texts() -> None:
    hint = node(text="Swipe up to unlock", pkg="com.android.systemui", rid="com.android.systemui:id/keyguard_indication_text",
                bounds=(64, 2100, 1016, 2180))
    keyguard = node("android.widget.FrameLayout", hint, pkg="com.android.systemui", bounds=(0, 110, 1080, 2400))
    h = parse_hierarchy(U2_HEAD + f'<hierarchy rotation="0">{keyguard}</hierarchy>')
    assert h.main_package == "com.android.systemui"
    assert h.texts() == ["Swipe up to unlock"]


def test_clickable_at_returns_the_innermost_clickable_node(h) -> None:
    assert h.clickable_at(700, 2250).rid == "android:id/button1"
    assert h.clickable_at(900, 490).rid == "android:id/checkbox"  # the switch inside the clickable row
    assert h.clickable_at(300, 490).cls == "android.widget.LinearLayout"
    assert h.clickable_at(540, 1000) is None


def test_elements_lists_what_a_flow_author_needs(h) -> None:
    elements = h.elements()
    logout = next(e for e in elements if e["id"] == "com.xiaomi.account:id/logout_btn")
    assert logout == {"text": "Sign out", "desc": "", "id": "com.xiaomi.account:id/logout_btn", "class": "android.widget.Button",
                      "package": "com.xiaomi.account", "bounds": [64, 2100, 1016, 2240], "clickable": True}
    assert all(e["text"] or e["desc"] or e["id"] or e["clickable"] for e in elements)


# ------------------------------------------------------------------------------- fingerprint
def test_fingerprint_ignores_the_status_bar_clock() -> None:
    before = parse_hierarchy(account_screen(clock="10:24"))
    after = parse_hierarchy(account_screen(clock="10:25"))
    assert before.first(text="10:25") is None and after.first(text="10:25") is not None
    assert before.fingerprint() == after.fingerprint()


def test_fingerprint_changes_with_row_text_switch_state_and_dialog() -> None:
    base = parse_hierarchy(account_screen()).fingerprint()
    assert parse_hierarchy(account_screen()).fingerprint() == base
    assert parse_hierarchy(account_screen(row="Find device (on)")).fingerprint() != base
    assert parse_hierarchy(account_screen(checked=True)).fingerprint() != base
    assert parse_hierarchy(account_screen(dialog=False)).fingerprint() != base


def test_node_is_hashable_by_identity() -> None:
    h = parse_hierarchy(account_screen())
    a, b = h.find(text="Sign out")[:2]
    assert isinstance(a, HNode) and a != b and len({a, b, a}) == 2


def test_parse_timing_on_a_60kb_dump() -> None:
    rows = "".join(node("android.widget.LinearLayout", node(text=f"Row {i}", rid="android:id/title", bounds=(64, i, 780, i + 80)),
                        node(text=f"Summary {i}", rid="android:id/summary", bounds=(64, i + 80, 780, i + 120)),
                        bounds=(0, i, 1080, i + 140), clickable=True) for i in range(50))
    root = node("android.widget.FrameLayout", rows, bounds=(0, 0, 1080, 2400))
    xml = U2_HEAD + f'<hierarchy rotation="0">{root}</hierarchy>'
    assert len(xml) > 55_000
    start = time.perf_counter()
    h = parse_hierarchy(xml)
    elapsed = (time.perf_counter() - start) * 1000
    print(f"\nparse {len(xml) / 1024:.0f} KB / {len(h.nodes)} nodes: {elapsed:.2f} ms")
    assert len(h.nodes) == 151 and h.first(text="Row 49") is not None


# ------------------------------------------------------------------------------- a phone answering garbage
def nested(levels: int) -> str:
    inner = '<node text="deepest" bounds="[0,0][1,1]" />'
    for i in range(levels - 1):
        inner = f'<node index="{i % 3}" text="" package="p">{inner}</node>'
    return f'{U2_HEAD}<hierarchy rotation="0">{inner}</hierarchy>'


def test_a_deep_dump_parses_without_recursion() -> None:
    h = parse_hierarchy(nested(900))
    deepest = h.first(text="deepest")
    assert deepest.depth == 899 and deepest.package == "p" and h.nodes[-1] is deepest
    assert [n.depth for n in h.nodes] == list(range(900))
    assert h.roots[0].children[0] is h.nodes[1]


def test_a_dump_nested_beyond_the_cap_is_a_clean_error() -> None:
    with pytest.raises(HierarchyError, match=f"deeper than {MAX_DEPTH} levels"):
        parse_hierarchy(nested(MAX_DEPTH + 1))


def test_indexes_bounds_and_rotation_that_do_not_parse_are_defaults() -> None:
    h = parse_hierarchy(f'{U2_HEAD}<hierarchy rotation="³"><node index="³" bounds="[0,0][¹,2]" text="a" />'
                        f'<node index="٣" bounds="[0,0][99999999999,2]" text="b" /></hierarchy>')
    assert h.rotation == 0
    assert [(n.index, n.bounds) for n in h.nodes] == [(0, (0, 0, 0, 0)), (0, (0, 0, 0, 0))]


def test_device_text_quoted_in_a_hierarchy_error_is_masked() -> None:
    with pytest.raises(HierarchyError) as caught:
        parse_hierarchy("Account {name=1234567890, type=com.xiaomi}")
    assert "1234567890" not in str(caught.value) and "12******90" in str(caught.value)
    assert "1234567890" not in str(caught.value.data)


def test_the_summary_masks_the_account_id_on_screen() -> None:
    h = parse_hierarchy(f'{U2_HEAD}<hierarchy rotation="0"><node text="Xiaomi account" package="com.xiaomi.account" />'
                        '<node text="1234567890" package="com.xiaomi.account" />'
                        '<node text="+86 138 0013 8000" package="com.xiaomi.account" /></hierarchy>')
    assert h.summary() == "package com.xiaomi.account; texts: Xiaomi account, 12******90, +86 *** **** **00"
    assert h.first(text="1234567890") is not None  # look-ups still see what the phone shows
