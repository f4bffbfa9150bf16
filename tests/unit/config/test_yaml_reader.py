"""The shared YAML reader: typed node access, and the bounds that keep a hostile file from hanging a lab.

Every bound is checked through each loader that reads YAML with it (the reader itself, the fleet
inventory, the screen catalogue), on a file built just over the bound: each must be refused with one
line naming ``file:line``, long before the work the bound exists to prevent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from yaml.nodes import MappingNode

from miui_automator.errors import ConfigError, FlowSyntaxError
from miui_automator.fleet.inventory import load_inventory
from miui_automator.screens.catalogue import load_catalogue
from miui_automator.yaml_reader import MAX_DEPTH, MAX_ENTRIES, MAX_FILE_BYTES, MAX_NODES, YamlReader, read_text


def read_with_reader(path: Path) -> object:
    return YamlReader(path).compose(read_text(path, "the file"))


LOADERS: dict[str, Callable[[Path], object]] = {
    "reader": read_with_reader,
    "inventory": load_inventory,
    "catalogue": load_catalogue,
}

# Each dialect's file up to a key whose value a test fills in; the value starts on the last line.
PREFIX = {
    "reader": "key: ",
    "inventory": "devices:\n  - match: {}\n    params: ",
    "catalogue": "screens:\n  a:\n    package: com.x.y\n    signatures: ",
}


def refusal(kind: str, path: Path) -> tuple[int, str]:
    """(line, message) of the one-line error ``kind``'s loader gives for ``path``."""
    with pytest.raises(ConfigError) as info:
        LOADERS[kind](path)
    text = str(info.value)
    assert "\n" not in text
    found = re.match(rf"{re.escape(str(path))}:(\d+): (.+)\Z", text)
    assert found, text
    assert info.value.data == {"path": str(path), "line": int(found[1])}
    return int(found[1]), found[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hostile.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# --- bounds, through every loader -------------------------------------------------------------------


@pytest.mark.parametrize("kind", LOADERS)
def test_nesting_past_max_depth_is_refused_at_its_line(kind: str, tmp_path: Path) -> None:
    deep = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    path = write(tmp_path, PREFIX[kind] + deep + "\n")
    line = PREFIX[kind].count("\n") + 1
    assert refusal(kind, path) == (line, f"invalid YAML: nested too deeply (more than {MAX_DEPTH} levels)")


@pytest.mark.parametrize("kind", LOADERS)
def test_thirty_thousand_levels_are_no_recursion_error(kind: str, tmp_path: Path) -> None:
    path = write(tmp_path, PREFIX[kind] + "{a: " * 30_000 + "x" + "}" * 30_000 + "\n")
    assert "nested too deeply" in refusal(kind, path)[1]


def test_block_style_nesting_names_the_line_where_the_bound_is_crossed(tmp_path: Path) -> None:
    text = "".join(" " * level + f"k{level}:\n" for level in range(MAX_DEPTH + 5))
    line, message = refusal("reader", write(tmp_path, text))
    assert line == MAX_DEPTH and "nested too deeply" in message


@pytest.mark.parametrize("kind", LOADERS)
def test_alias_expansion_past_max_nodes_is_refused_at_the_alias(kind: str, tmp_path: Path) -> None:
    keys = 1000  # the anchored mapping is 2001 nodes, so about 100 aliases cross the bound
    aliases = MAX_NODES // (2 * keys) + 2
    big = "{" + ", ".join(f"k{i}: v" for i in range(keys)) + "}"
    text = PREFIX[kind] + f"[&big {big},\n" + "      *big,\n" * aliases + "      x]\n"
    line, message = refusal(kind, write(tmp_path, text))
    assert message.startswith(f"the document holds more than {MAX_NODES:,} YAML nodes once its aliases are expanded")
    assert text.splitlines()[line - 1].strip() == "*big,"


def test_an_alias_costs_its_whole_subtree_so_nested_aliases_multiply(tmp_path: Path) -> None:
    """The classic "billion laughs": ten aliases per level, nine levels; refused within the first levels."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 10) + "]" for n in range(1, 9)]
    line, message = refusal("reader", write(tmp_path, "\n".join(lines) + "\n"))
    assert line == 6 and "aliases are expanded" in message  # a5 would hold 10**6 nodes


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    assert refusal("reader", write(tmp_path, "a: &x\n  - b\n  - *x\n")) == (
        3, "invalid YAML: alias *x is inside the collection it names (a collection cannot contain itself)")
    assert refusal("reader", write(tmp_path, "a: &m {b: 1, <<: *m}\n")) == (
        1, "a merge key (<<) refers to the mapping it is in")


@pytest.mark.parametrize("kind", LOADERS)
def test_a_list_past_max_entries_is_refused_at_the_first_item_too_many(kind: str, tmp_path: Path) -> None:
    items = "".join(f"      - s{i}\n" for i in range(MAX_ENTRIES + 1))
    path = write(tmp_path, PREFIX[kind] + "\n" + items)
    line = PREFIX[kind].count("\n") + 2 + MAX_ENTRIES
    first = line - MAX_ENTRIES
    assert refusal(kind, path) == (line, f"a list holds more than {MAX_ENTRIES} items (list starts at line {first})")


def test_a_mapping_past_max_entries_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "".join(f"k{i}: v\n" for i in range(MAX_ENTRIES + 1)))
    assert refusal("reader", path) == (MAX_ENTRIES + 1, f"a mapping holds more than {MAX_ENTRIES} keys "
                                                        "(mapping starts at line 1)")


def test_the_bounds_themselves_are_allowed(tmp_path: Path) -> None:
    reader = YamlReader("ok.yaml")
    assert len(reader.compose("".join(f"- s{i}\n" for i in range(MAX_ENTRIES))).value) == MAX_ENTRIES
    depth = MAX_DEPTH - 1  # the root list is the first level
    assert reader.compose("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    assert reader.compose("k: " + "[" * depth + "]" * depth) is not None
    text = "# " + "x" * (MAX_FILE_BYTES - 10) + "\nk: v\n"
    assert len(text.encode()) <= MAX_FILE_BYTES
    assert isinstance(reader.compose(text), MappingNode)


@pytest.mark.parametrize("kind", LOADERS)
def test_a_file_past_max_file_bytes_is_refused_before_it_is_parsed(kind: str, tmp_path: Path) -> None:
    comment = "# " + "x" * 1021 + "\n"  # 1 KiB a line
    text = PREFIX[kind] + "[x]\n" + comment * (MAX_FILE_BYTES // len(comment)) + "[unclosed\n"
    line, message = refusal(kind, write(tmp_path, text))
    assert message == f"the file is larger than {MAX_FILE_BYTES / 2**20:g} MiB, the most a YAML file may hold here"
    assert line == text.encode().count(b"\n", 0, MAX_FILE_BYTES) + 1  # not the syntax error at the end


@pytest.mark.parametrize("kind", LOADERS)
def test_the_file_bound_counts_bytes_and_reads_no_further(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "hostile.yaml"
    # Fewer characters than the bound but more bytes; past the bound, bytes that are not UTF-8.
    path.write_bytes((PREFIX[kind] + "[x]\n# " + "é" * (MAX_FILE_BYTES // 2) + "\n").encode() + b"\xff" * 100)
    assert refusal(kind, path) == (PREFIX[kind].count("\n") + 2,
                                   "the file is larger than 1 MiB, the most a YAML file may hold here")


def test_text_given_directly_is_bounded_too() -> None:
    with pytest.raises(ConfigError, match=r"^t.yaml:3: the file is larger than 1 MiB"):
        YamlReader("t.yaml").compose("a: 1\n\n" + "#" * MAX_FILE_BYTES)


def test_a_file_that_is_not_utf8_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"a: 1\nb: caf\xe9\n")
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(path))}:2: the file is not UTF-8 text$"):
        read_text(path, "the file")


def test_a_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope.yaml: cannot read the file: No such file"):
        read_text(tmp_path / "nope.yaml", "the file")


# --- typed node access ------------------------------------------------------------------------------


def node_of(text: str) -> tuple[YamlReader, MappingNode]:
    reader = YamlReader("t.yaml")
    root = reader.compose(text)
    assert isinstance(root, MappingNode)
    return reader, root


def test_the_error_class_is_the_grammars() -> None:
    reader = YamlReader("f.yaml", FlowSyntaxError)
    with pytest.raises(FlowSyntaxError, match=r"^f.yaml:2: invalid YAML: expected the node content"):
        reader.compose("a: [\n")


def test_merge_keys_explicit_keys_win_then_the_first_merged_mapping() -> None:
    reader, root = node_of("a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc: {<<: [*a, *b], x: 3}\n")
    c = reader.fields(root, "top", ("a", "b", "c")).get("c")
    assert [(k, v.value) for k, _, v in reader.pairs(c, "c")] == [("x", "3"), ("y", "1"), ("z", "2")]


@pytest.mark.parametrize(("text", "message"), [
    ("a: 1\nb: 2\na: 3\n", "t.yaml:3: duplicate key 'a' in top (first at line 1)"),
    ("a: 1\nbb: 2\n", "t.yaml:2: unknown key 'bb' in top (did you mean 'b'?)"),
    ("? [a]\n: 1\n", "t.yaml:1: keys in top must be plain strings"),
    ("a: {<<: [x]}\n", "t.yaml:1: a merge key (<<) takes a mapping or a list of mappings"),
])
def test_mapping_errors(text: str, message: str) -> None:
    reader, root = node_of(text)
    with pytest.raises(ConfigError) as info:
        fields = reader.fields(root, "top", ("a", "b"))
        reader.fields(fields.get("a"), "a", ())
    assert str(info.value) == message


@pytest.mark.parametrize(("value", "method", "message"), [
    ('"3"', "integer", "n must be a whole number, not the string '3'"),
    ("3.5", "integer", "n must be a whole number, not the number 3.5"),
    ("9", "integer", "n must be between 1 and 5, not 9"),
    ("0x10", "integer", "n must be between 1 and 5, not 16"),
    ("'yes'", "boolean", "n must be true or false, not the string 'yes'"),
    ("3", "boolean", "n must be true or false, not the number 3"),
    ("'10'", "seconds", "n must be a number of seconds, not the string '10'"),
    (".inf", "seconds", "n must be a number of seconds, not the number .inf"),
    ("0", "seconds", "n must be more than 0 and at most 86400 seconds, not 0"),
    ("[a]", "text", "n must be a string, not a list"),
    ("", "text", "n must be a string, not empty"),
    ("' '", "text", "n must not be empty"),
    ("!!binary aGk=", "text", "n has an unsupported YAML tag tag:yaml.org,2002:binary"),
    ("'" + "x" * 200 + "'", "boolean", "n must be true or false, not the string '" + "x" * 60 + "...'"),
])
def test_scalar_types_are_strict(value: str, method: str, message: str) -> None:
    reader, root = node_of(f"n: {value}\n")
    node = reader.fields(root, "top", ("n",)).get("n")
    args = (1, 5) if method == "integer" else ()
    with pytest.raises(ConfigError) as info:
        getattr(reader, method)(node, "n", *args)
    assert str(info.value) == f"t.yaml:1: {message}"


def test_scalars_read_as_written() -> None:
    reader, root = node_of("i: 0x10\nb: off\ns: 2.5e+1\nt: yes\nq: '007'\n")
    f = reader.fields(root, "top", ("i", "b", "s", "t", "q"))
    assert reader.integer(f.get("i"), "i", 0, 99) == 16
    assert reader.boolean(f.get("b"), "b") is False
    assert reader.seconds(f.get("s"), "s") == 25.0
    assert reader.text(f.get("t"), "t") == "yes"  # a name or label may look like a boolean: text is as written
    assert reader.texts(f.get("q"), "q") == ("007",)
