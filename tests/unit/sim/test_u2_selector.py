"""uiautomator Selector matching over the simulated view tree, and the ObjInfo it reports."""

import re

import pytest

from miui_automator.sim.selector import MASKS, SelectorError, Tree, child_selector, parse_selector
from miui_automator.sim.ui import Node, hierarchy_xml


def sel(**fields):
    """Selector JSON exactly as uiautomator2's Selector class builds it."""
    body = {"mask": 0, "childOrSibling": [], "childOrSiblingSelector": []}
    for key, value in fields.items():
        body[key] = value
        body["mask"] |= MASKS[key]
    return body


def chain(base, *steps):
    for kind, sub in steps:
        base["childOrSibling"].append(kind)
        base["childOrSiblingSelector"].append(sub)
    return base


def windows():
    status = Node(package="com.android.systemui", rid="com.android.systemui:id/status_bar", bounds=(0, 0, 1080, 110))
    status.add(Node(cls="android.widget.TextView", text="10:24", rid="com.android.systemui:id/clock", bounds=(64, 30, 260, 90)))
    app = Node(package="com.android.settings", rid="android:id/content", bounds=(0, 110, 1080, 2400))
    lst = Node(cls="androidx.recyclerview.widget.RecyclerView", rid="com.android.settings:id/recycler_view",
               bounds=(0, 440, 1080, 2400), scrollable=True, focusable=True)
    for i, title in enumerate(["About phone", "Wi-Fi", "Xiaomi Account"]):
        row = Node(cls="android.widget.LinearLayout", bounds=(0, 440 + i * 170, 1080, 610 + i * 170), clickable=True,
                   focusable=True, rid="com.android.settings:id/account_layout" if "Account" in title else "")
        row.add(Node(cls="android.widget.TextView", text=title, rid="android:id/title",
                     bounds=(64, 470 + i * 170, 780, 580 + i * 170)))
        if title == "Wi-Fi":
            row.add(Node(cls="android.widget.CheckBox", rid="android:id/checkbox", checkable=True, checked=True,
                         clickable=True, bounds=(860, 480, 1016, 570)))
        lst.add(row)
    app.add(Node(cls="android.widget.ImageButton", desc="Back navigation", rid="android:id/up", clickable=True,
                 long_clickable=True, bounds=(40, 130, 175, 245)), lst)
    dialog = Node(package="com.xiaomi.account", bounds=(30, 1800, 1050, 2360))
    dialog.add(Node(cls="android.widget.EditText", text="secret", hint="Enter password", password=True, focused=True,
                    focusable=True, selected=True, rid="android:id/input", bounds=(84, 1900, 996, 2050)),
               Node(cls="android.widget.Button", text="OK", rid="android:id/button1", enabled=False,
                    bounds=(550, 2100, 996, 2230)))
    return [status, app, dialog]


@pytest.fixture
def tree():
    return Tree(windows())


def texts(tree, selector):
    return [tree.attr(i, "text") or tree.nodes[i].rid or tree.nodes[i].cls for i in tree.select(parse_selector(selector))]


@pytest.mark.parametrize("selector, expected", [
    (sel(text="Wi-Fi"), ["Wi-Fi"]),
    (sel(textContains="Account"), ["Xiaomi Account"]),
    (sel(textMatches="(About|Wi).*"), ["About phone", "Wi-Fi"]),
    (sel(textMatches="bout"), []),  # Java matches() is a full match
    (sel(textStartsWith="Xiao"), ["Xiaomi Account"]),
    (sel(className="android.widget.Button"), ["OK"]),
    (sel(classNameMatches=r".*\.(Button|EditText)"), ["\u2022" * 6, "OK"]),
    (sel(description="Back navigation"), ["android:id/up"]),
    (sel(descriptionContains="navig"), ["android:id/up"]),
    (sel(descriptionMatches="Back.*"), ["android:id/up"]),
    (sel(descriptionStartsWith="Back"), ["android:id/up"]),
    (sel(checkable=True), ["android:id/checkbox"]),
    (sel(checked=True), ["android:id/checkbox"]),
    (sel(longClickable=True), ["android:id/up"]),
    (sel(scrollable=True), ["com.android.settings:id/recycler_view"]),
    (sel(enabled=False), ["OK"]),
    (sel(focused=True), ["\u2022" * 6]),
    (sel(selected=True), ["\u2022" * 6]),
    (sel(resourceId="android:id/title"), ["About phone", "Wi-Fi", "Xiaomi Account"]),
    (sel(resourceIdMatches=r"com\.android\.systemui:id/.*"), ["com.android.systemui:id/status_bar", "10:24"]),
    (sel(resourceId="android:id/title", instance=2), ["Xiaomi Account"]),
    (sel(resourceId="android:id/title", instance=3), []),
    (sel(className="android.widget.TextView", index=0, packageName="com.android.settings"),
     ["About phone", "Wi-Fi", "Xiaomi Account"]),
])
def test_each_mask_bit_filters(tree, selector, expected):
    assert texts(tree, selector) == expected


def test_fields_without_their_mask_bit_are_ignored(tree):
    assert len(tree.select(parse_selector({"mask": 0x01, "text": "Wi-Fi", "className": "nope"}))) == 1


def test_package_is_inherited_from_the_window_root(tree):
    assert texts(tree, sel(packageName="com.xiaomi.account", className="android.widget.Button")) == ["OK"]
    assert texts(tree, sel(packageNameMatches="com\\.android\\.sys.*", text="10:24")) == ["10:24"]
    clock = tree.find(parse_selector(sel(text="10:24")))
    assert tree.info(clock)["packageName"] == "com.android.systemui"


def test_clickable_and_focusable_count(tree):
    assert len(tree.select(parse_selector(sel(clickable=True)))) == 5  # back, 3 rows, checkbox
    assert len(tree.select(parse_selector(sel(focusable=True)))) == 5  # list, 3 rows, edit


def test_child_and_sibling_chains(tree):
    rows_with_checkbox = chain(sel(className="android.widget.LinearLayout"), ("child", sel(checkable=True)))
    assert texts(tree, rows_with_checkbox) == ["android:id/checkbox"]
    title_next_to_switch = chain(sel(className="android.widget.CheckBox"), ("sibling", sel(resourceId="android:id/title")))
    assert texts(tree, title_next_to_switch) == ["Wi-Fi"]
    nth_title_in_list = chain(sel(scrollable=True), ("child", sel(resourceId="android:id/title", instance=1)))
    assert texts(tree, nth_title_in_list) == ["Wi-Fi"]
    assert texts(tree, child_selector(sel(scrollable=True), sel(text="Xiaomi Account"))) == ["Xiaomi Account"]
    assert texts(tree, child_selector(sel(text="OK"), sel(text="Xiaomi Account"))) == []


def test_instance_order_is_the_dump_order(tree):
    wins = windows()
    order = re.findall(r' class="([^"]+)"', hierarchy_xml(wins))
    flat = Tree(wins)
    assert [n.cls for n in flat.nodes] == order
    everything = flat.select(parse_selector(sel()))
    assert everything == list(range(len(order)))


def test_password_text_is_masked_as_in_the_dump(tree):
    edit = tree.find(parse_selector(sel(resourceId="android:id/input")))
    assert tree.info(edit)["text"] == "\u2022" * 6
    assert tree.select(parse_selector(sel(text="secret"))) == []


def test_objinfo_shape(tree):
    info = tree.info(tree.find(parse_selector(sel(text="Wi-Fi"))))
    assert info["bounds"] == {"left": 64, "top": 640, "right": 780, "bottom": 750}
    assert info["visibleBounds"] == info["bounds"]
    assert info["contentDescription"] is None
    assert info["resourceName"] == "android:id/title"
    assert info["className"] == "android.widget.TextView"
    assert info["childCount"] == 0 and info["enabled"] is True and info["clickable"] is False
    up = tree.info(tree.find(parse_selector(sel(description="Back navigation"))))
    assert up["contentDescription"] == "Back navigation" and up["longClickable"] is True
    row = tree.info(tree.find(parse_selector(sel(resourceId="com.android.settings:id/account_layout"))))
    assert row["childCount"] == 1 and row["text"] == ""


def test_visible_bounds_are_clipped_to_the_screen():
    off = Node(package="p", bounds=(-50, 2300, 1200, 2600))
    info = Tree([off]).info(0)
    assert info["bounds"] == {"left": -50, "top": 2300, "right": 1200, "bottom": 2600}
    assert info["visibleBounds"] == {"left": 0, "top": 2300, "right": 1080, "bottom": 2400}


def test_bad_regex_is_a_java_pattern_syntax_error():
    with pytest.raises(SelectorError) as info:
        parse_selector(sel(textMatches="(unclosed"))
    assert info.value.java_class == "java.util.regex.PatternSyntaxException"


def test_not_a_selector_is_refused():
    with pytest.raises(SelectorError):
        parse_selector("text=OK")
    with pytest.raises(SelectorError):
        parse_selector({"mask": MASKS["text"]})  # the bit is set but the field is missing


def test_description_reads_like_uiselector_to_string():
    assert str(parse_selector(sel(text="OK", clickable=True))) == "UiSelector[TEXT=OK, CLICKABLE=true]"
    nested = str(parse_selector(chain(sel(scrollable=True), ("child", sel(text="A")))))
    assert nested == "UiSelector[SCROLLABLE=true, CHILD=UiSelector[TEXT=A]]"
