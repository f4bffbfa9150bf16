"""One YAML dialect: the same feature behaves the same in a flow, the inventory, the catalogue and the reader.

The flow parser is called as it is today (``load_flow``), so these tests also pin down that handing
its YAML plumbing to :mod:`miui_automator.yaml_reader` changes nothing a flow author can see, except
that hostile files are refused sooner.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from miui_automator.errors import ConfigError, FlowSyntaxError
from miui_automator.flow.parser import MAX_NESTING, MAX_STEPS_PER_FLOW, load_flow
from miui_automator.fleet.inventory import load_inventory
from miui_automator.screens.catalogue import load_catalogue
from miui_automator.yaml_reader import MAX_DEPTH, MAX_ENTRIES, MAX_NODES, YamlReader, read_text

REPO = Path(__file__).resolve().parents[3]
SCREENS = ("a", "b")
DIALECTS = ("flow", "inventory", "catalogue", "reader")


def load(dialect: str, path: Path) -> object:
    if dialect == "flow":
        return load_flow(path, known_screens=SCREENS)
    if dialect == "inventory":
        return load_inventory(path)
    if dialect == "catalogue":
        return load_catalogue(path)
    reader = YamlReader(path)
    root = reader.compose(read_text(path, "the file"))
    return {key: value for key, _, value in reader.pairs(reader.mapping(root, "top"), "top")}


def written(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "file.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def refused(dialect: str, tmp_path: Path, text: str) -> tuple[int, str]:
    path = written(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load(dialect, path)
    assert isinstance(info.value, FlowSyntaxError) == (dialect == "flow")
    found = re.match(rf"{re.escape(str(path))}:(\d+): ([^\n]+)\Z", str(info.value))
    assert found, str(info.value)
    return int(found[1]), found[2]


# --- merge keys ---------------------------------------------------------------------------------------
# Three values, x y z: the first mapping gives x and y, the second y and z, and the mapping that merges
# both says x itself. Explicit keys win, then the first merged mapping: x=explicit, y=first, z=second.

MERGES = {
    "flow": "name: t\nsteps:\n  - tap: &a {text: first, desc: first}\n  - tap: &b {desc: second, cls: second}\n"
            "  - tap: {<<: [*a, *b], text: explicit}\n",
    "inventory": "devices:\n  - serial: s1\n    params: &a {x: first, y: first}\n  - serial: s2\n"
                 "    params: &b {y: second, z: second}\n  - serial: s3\n    params: {<<: [*a, *b], x: explicit}\n",
    "catalogue": "screens:\n  a:\n    package: com.x.y\n    signatures:\n      - all: [&a {text: first, desc: first}]\n"
                 "      - all: [&b {desc: second, cls: second}]\n      - all: [{<<: [*a, *b], text: explicit}]\n",
    "reader": "a: &a {x: first, y: first}\nb: &b {y: second, z: second}\nc: {<<: [*a, *b], x: explicit}\n",
}


def merged_values(dialect: str, loaded: object) -> tuple[str, ...]:
    if dialect == "flow":
        s = loaded.steps[2].selector
        return s.text[0], s.desc, s.cls
    if dialect == "inventory":
        return tuple(value for _, value, _ in sorted(loaded.entries[2].params))
    if dialect == "catalogue":
        m = loaded.get("a").signatures[2].all[0]
        return m.texts[0], m.desc, m.cls
    return tuple(value.value for _, _, value in sorted(YamlReader("r").pairs(loaded["c"], "c"), key=lambda p: p[0]))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_merge_keys_mean_the_same_everywhere(dialect: str, tmp_path: Path) -> None:
    loaded = load(dialect, written(tmp_path, MERGES[dialect]))
    assert merged_values(dialect, loaded) == ("explicit", "first", "second")


# --- duplicate keys, wrong types, malformed YAML ----------------------------------------------------
# Each dialect's file, with a hole ({}) on line 3 that a test fills in.

SHAPES = {
    "flow": "name: t\nsteps:\n  - retry: {}\n",
    "inventory": "devices:\n  - match: {{}}\n{}\n",
    "catalogue": "screens:\n  a:\n    package: com.x.y\n    signatures: [{{package: com.x.y}}]\n".replace("  a:\n", "  a:\n{}\n", 1),
    "reader": "a: 1\nb: 2\n{}\n",
}
DUPLICATES = {  # a key given twice: first on line 2, again on line 3
    "flow": "name: t\nsteps: [{press: back}]\nsteps: [{press: home}]\n",
    "inventory": "devices: [{match: {}}]\nparallel: 2\nparallel: 3\n",
    "catalogue": "version: 1\nscreens: {a: {package: com.x.y, signatures: [{package: com.x.y}]}}\nscreens: {}\n",
    "reader": "a: 1\nb: 2\nb: 3\n",
}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_duplicate_key_is_refused_at_the_second_naming_the_first(dialect: str, tmp_path: Path) -> None:
    line, message = refused(dialect, tmp_path, DUPLICATES[dialect])
    assert line == 3
    assert re.fullmatch(r"duplicate key '\w+' in [\w ]+ \(first at line 2\)", message), message


WHOLE_NUMBERS = {  # a quoted number where a whole number belongs, on line 3
    "flow": "name: t\nsteps:\n  - retry: {times: '3', steps: [{press: back}]}\n",
    "inventory": "devices: [{match: {}}]\n\nparallel: '3'\n",
    "catalogue": "screens: {a: {package: com.x.y, signatures: [{package: com.x.y}]}}\n\nversion: '3'\n",
    "reader": "a: 1\nb: 2\nn: '3'\n",
}
BOOLEANS = {  # a quoted boolean where true or false belongs, on line 3
    "flow": "name: t\nsteps:\n  - {press: back, optional: 'true'}\n",
    "inventory": "devices:\n  - serial: s1\n    skip: 'true'\n",
    "catalogue": "screens:\n  a:\n    popup: 'true'\n    package: com.x.y\n    signatures: [{package: com.x.y}]\n",
    "reader": "a: 1\nb: 2\nn: 'true'\n",
}


def read_typed(dialect: str, tmp_path: Path, text: str, method: str) -> object:
    if dialect != "reader":
        return load(dialect, written(tmp_path, text))
    reader = YamlReader(written(tmp_path, text))
    node = reader.fields(reader.compose(text), "top", ("a", "b", "n")).get("n")
    return reader.integer(node, "n", 1, 9) if method == "integer" else reader.boolean(node, "n")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_quoted_number_is_not_a_number_anywhere(dialect: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        read_typed(dialect, tmp_path, WHOLE_NUMBERS[dialect], "integer")
    assert re.search(r":3: [\w' -]+ must be a whole number, not the string '3'\Z", str(info.value)), str(info.value)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_quoted_boolean_is_not_a_boolean_anywhere(dialect: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        read_typed(dialect, tmp_path, BOOLEANS[dialect], "boolean")
    assert re.search(r":3: [\w':  -]+ must be true or false, not the string 'true'\Z", str(info.value)), str(info.value)


def test_plain_scalars_are_text_as_written_wherever_text_belongs(tmp_path: Path) -> None:
    """``On``, ``yes`` and ``007`` are YAML 1.1 booleans and numbers, but where text belongs they are the words."""
    flow = load("flow", written(tmp_path, "name: t\nsteps:\n  - tap: {text: [On, Off, '007', 007]}\n"))
    assert flow.steps[0].selector.text == ("On", "Off", "007", "007")
    catalogue = load("catalogue", written(tmp_path, "screens:\n  a:\n    package: com.x.y\n"
                                                    "    signatures: [{all: [{text: [On, Off, '007', 007]}]}]\n"))
    assert catalogue.get("a").signatures[0].all[0].texts == ("On", "Off", "007")
    inventory = load("inventory", written(tmp_path, "devices:\n  - {serial: 007, label: yes, params: {a: On}}\n"))
    entry = inventory.entries[0]
    assert (entry.serial, entry.label, entry.params[0][1]) == ("007", "yes", "On")


MALFORMED = [  # (line 3 of the file, the message every dialect gives)
    ("\t- x", "invalid YAML: found character '\\t' that cannot start any token"),
    ("\x00", "invalid YAML: unacceptable character #x0000: special characters are not allowed"),
    ("c: *nowhere", "invalid YAML: found undefined alias 'nowhere'"),
    ("c: [unclosed", "invalid YAML: expected ',' or ']', but got '<stream end>' (while parsing a flow sequence)"),
    # Nesting too deep is refused by every dialect too (see test_yaml_reader.py), but today's flow parser
    # names line 1 wherever it is: the reader names the line where the bound is crossed.
]
HEADS = {  # two valid lines; the malformed third line ends the file
    "flow": "name: t\nsteps: [{press: back}]\n",
    "inventory": "devices: [{match: {}}]\nparallel: 2\n",
    "catalogue": "screens: {a: {package: com.x.y, signatures: [{package: com.x.y}]}}\nversion: 1\n",
    "reader": "a: 1\nb: 2\n",
}


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(("bad", "message"), MALFORMED, ids=("tab", "nul", "alias", "unclosed"))
def test_malformed_yaml_gives_the_same_message_everywhere(dialect: str, bad: str, message: str, tmp_path: Path) -> None:
    line, said = refused(dialect, tmp_path, HEADS[dialect] + bad + "\n")
    expected_line = 4 if bad.startswith("c: [unclosed") else 3  # the end of the stream is the line after
    assert line == expected_line
    assert said.startswith(message)


# --- the reader against the flow parser's limits ------------------------------------------------------


def shape(node: Node | None) -> object:
    """A node tree as nested tuples (tag, line, value) — equal trees compose the same YAML the same way."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    if isinstance(node, ScalarNode):
        return node.tag, line, node.value, node.style
    if isinstance(node, SequenceNode):
        return node.tag, line, tuple(shape(item) for item in node.value)
    assert isinstance(node, MappingNode)
    return node.tag, line, tuple((shape(k), shape(v)) for k, v in node.value)


SHIPPED = sorted((REPO / "miui_automator" / "flows").glob("*.yaml")) + [
    REPO / "miui_automator" / "screens" / "catalogue.yaml", REPO / "devices.yaml",
    *sorted((REPO / "tests" / "unit" / "flow" / "fixtures").glob("*.yaml"))]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_file_composes_exactly_as_pyyaml_composes_it(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert shape(YamlReader(path).compose(text)) == shape(yaml.compose(text, Loader=yaml.SafeLoader))


SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6)
DOCUMENTS = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(st.text(max_size=4), inner, max_size=4), max_leaves=25)


@settings(max_examples=60, deadline=None)
@given(data=DOCUMENTS, shared=DOCUMENTS, flow_style=st.booleans())
def test_any_document_within_the_bounds_composes_exactly_as_pyyaml_composes_it(data: object, shared: object,
                                                                               flow_style: bool) -> None:
    # The same object twice is dumped as an anchor and an alias.
    text = yaml.safe_dump({"data": data, "first": shared, "again": shared}, default_flow_style=flow_style,
                          allow_unicode=True)
    assert shape(YamlReader("t.yaml").compose(text)) == shape(yaml.compose(text, Loader=yaml.SafeLoader))


def drive_nest(levels: int) -> str:
    """A flow whose steps nest ``levels`` drive rules deep: the deepest YAML a flow may need per level."""
    step = "{press: back}"
    for _ in range(levels):
        step = f"{{drive: {{until: a, rules: {{b: [{step}]}}}}}}"
    return f"name: t\nsteps:\n  - {step}\n"


def test_the_deepest_flow_the_flow_grammar_allows_is_within_max_depth(tmp_path: Path) -> None:
    deepest = drive_nest(MAX_NESTING - 1)
    assert load("flow", written(tmp_path, deepest)).name == "t"
    assert YamlReader("t.yaml").compose(deepest) is not None
    line, message = refused("flow", tmp_path, drive_nest(MAX_NESTING))
    assert f"nested more than {MAX_NESTING} levels deep" in message  # the flow's own bound, not the reader's


def count_nodes(node: Node) -> int:
    if isinstance(node, SequenceNode):
        return 1 + sum(count_nodes(item) for item in node.value)
    if isinstance(node, MappingNode):
        return 1 + sum(count_nodes(k) + count_nodes(v) for k, v in node.value)
    return 1


def test_the_most_steps_a_flow_may_hold_are_within_max_entries_and_max_nodes(tmp_path: Path) -> None:
    assert MAX_STEPS_PER_FLOW <= MAX_ENTRIES
    text = "name: t\nsteps:\n" + "  - press: back\n" * MAX_STEPS_PER_FLOW
    assert len(load("flow", written(tmp_path, text)).steps) == MAX_STEPS_PER_FLOW
    assert YamlReader("t.yaml").compose(text) is not None
    rich = YamlReader("t.yaml").compose("tap: {text: [OK, Done], id: x, cls: y, index: 1, scroll: true}\n"
                                        "expect: [a, b]\ntimeout: 5\noptional: true\nname: step")
    assert count_nodes(rich) * MAX_STEPS_PER_FLOW < MAX_NODES  # 5000 such steps stay within the node bound


def test_hostile_flows_are_refused_by_both_with_one_file_line(tmp_path: Path) -> None:
    """Today's flow parser refuses these only after walking them; the reader refuses them while composing."""
    bomb = "name: t\nsteps:\n  - &a0 {press: back}\n" + "".join(
        f"  - &a{n} {{retry: {{steps: [{', '.join([f'*a{n - 1}'] * 10)}]}}}}\n" for n in range(1, 8))
    too_many = "name: t\nsteps:\n" + "  - press: back\n" * (MAX_ENTRIES + 1)
    deep = "name: t\nsteps: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    for text, reader_says in ((bomb, f"more than {MAX_NODES:,} YAML nodes"), (too_many, f"more than {MAX_ENTRIES} items"),
                              (deep, "nested too deeply")):
        refused("flow", tmp_path, text)
        with pytest.raises(FlowSyntaxError, match=rf"^t.yaml:\d+: [^\n]*{reader_says}"):
            YamlReader("t.yaml", FlowSyntaxError).compose(text)
