"""Reading PyYAML's composed node tree with exact ``file:line`` errors: the parser's YAML plumbing.

Flows are read as nodes, not loaded Python objects: nodes keep the line of every key and value, so
each error names the exact place to fix, and duplicate keys (which ``yaml.safe_load`` silently
merges) can be refused. :class:`NodeReader` knows nothing about flows; the flow grammar in
:mod:`miui_automator.flow.parser` builds on it. Only :class:`~miui_automator.errors.FlowSyntaxError`
leaves this module for bad input.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable
from typing import NoReturn

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

from miui_automator.errors import FlowSyntaxError

__all__ = ["NUMBER_TAGS", "TAG", "TEXT_TAGS", "Fields", "NodeReader", "number", "one_line", "suggest"]

TAG = "tag:yaml.org,2002:"
TEXT_TAGS = frozenset(TAG + t for t in ("str", "int", "float", "bool", "timestamp"))
NUMBER_TAGS = frozenset((TAG + "int", TAG + "float"))
_SCALARS = SafeConstructor()


def suggest(word: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``candidates``, or "" when none is close."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def one_line(text: str) -> str:
    return " ".join(text.split())


def number(node: Node) -> int | float | None:
    """The value of a YAML int or float scalar; None for anything else, including a malformed ``!!int``."""
    if not isinstance(node, ScalarNode) or node.tag not in NUMBER_TAGS:
        return None
    construct = _SCALARS.construct_yaml_int if node.tag == TAG + "int" else _SCALARS.construct_yaml_float
    try:
        return construct(node)
    except (ValueError, TypeError, IndexError, OverflowError):  # PyYAML trusts the tag: `!!int ""` -> IndexError
        return None


class Fields:
    """A mapping node read as unique keys, each remembering its key node for error lines."""

    def __init__(self, reader: NodeReader, node: MappingNode, pairs: list[tuple[str, Node, Node]]) -> None:
        self.node = node
        self.items = {key: (key_node, value) for key, key_node, value in pairs}
        self._reader = reader

    def __contains__(self, key: str) -> bool:
        return key in self.items

    def get(self, key: str) -> Node | None:
        pair = self.items.get(key)
        return pair[1] if pair else None

    def key_node(self, key: str) -> Node:
        return self.items[key][0]

    def require(self, key: str, what: str) -> Node:
        value = self.get(key)
        if value is None:
            self._reader.fail(self.node, f"{what} needs '{key}'")
        return value

    def exactly_one(self, keys: Iterable[str], what: str) -> str:
        present = [k for k in self.items if k in keys]
        if not present:
            self._reader.fail(self.node, f"{what} needs one of: {', '.join(keys)}")
        if len(present) > 1:
            self._reader.fail(self.key_node(present[1]), f"{what} takes only one of {', '.join(keys)}; "
                                                         f"found '{present[0]}' and '{present[1]}'")
        return present[0]


class NodeReader:
    """Reads the nodes of one file; every error is ``path:line: message`` as a FlowSyntaxError."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail_at(self, line: int, message: str) -> NoReturn:
        raise FlowSyntaxError(f"{self.path}:{line}: {message}", path=self.path, line=line)

    def fail(self, node: Node, message: str) -> NoReturn:
        self.fail_at(node.start_mark.line + 1, message)

    @staticmethod
    def line(node: Node) -> int:
        return node.start_mark.line + 1

    def compose(self, text: str) -> Node | None:
        try:
            return yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            detail = " ".join(p for p in (exc.problem, f"({exc.context})" if exc.context else "") if p)
            self.fail_at(mark.line + 1 if mark else 1, f"invalid YAML: {one_line(detail or 'syntax error')}")
        except ReaderError as exc:
            line = text.count("\n", 0, max(exc.position, 0)) + 1
            self.fail_at(line, f"invalid YAML: {one_line(str(exc).splitlines()[0])}")
        except yaml.YAMLError as exc:
            self.fail_at(1, f"invalid YAML: {one_line(str(exc))}")
        except RecursionError:
            self.fail_at(1, "invalid YAML: nested too deeply")

    def pairs(self, node: MappingNode, what: str) -> list[tuple[str, Node, Node]]:
        """(key, key node, value) in order; merge keys (``<<``) expanded; duplicate keys refused."""
        result: list[tuple[str, Node, Node]] = []
        seen: dict[str, Node] = {}
        merged: list[tuple[str, Node, Node]] = []
        for key_node, value in node.value:
            if key_node.tag == TAG + "merge":
                merged.extend(self._merged(value, what, {id(node)}))
                continue
            if not isinstance(key_node, ScalarNode):
                self.fail(key_node, f"keys in {what} must be plain strings")
            key = key_node.value
            if key in seen:
                self.fail(key_node, f"duplicate key '{key}' in {what} (first at line {self.line(seen[key])})")
            seen[key] = key_node
            result.append((key, key_node, value))
        for key, key_node, value in merged:
            if key not in seen:
                seen[key] = key_node
                result.append((key, key_node, value))
        return result

    def _merged(self, value: Node, what: str, active: set[int]) -> list[tuple[str, Node, Node]]:
        sources = value.value if isinstance(value, SequenceNode) else [value]
        out: list[tuple[str, Node, Node]] = []
        for source in sources:
            if not isinstance(source, MappingNode):
                self.fail(value, "a merge key (<<) takes a mapping or a list of mappings")
            if id(source) in active:
                self.fail(value, "a merge key (<<) refers to the mapping it is in")
            for key_node, inner in source.value:
                if key_node.tag == TAG + "merge":
                    out.extend(self._merged(inner, what, active | {id(source)}))
                elif isinstance(key_node, ScalarNode):
                    out.append((key_node.value, key_node, inner))
                else:
                    self.fail(key_node, f"keys in {what} must be plain strings")
        return out

    def fields(self, node: Node, what: str, allowed: Collection[str]) -> Fields:
        node = self.mapping(node, what)
        pairs = self.pairs(node, what)
        for key, key_node, _ in pairs:
            if key not in allowed:
                self.fail(key_node, f"unknown key '{key}' in {what}{suggest(key, allowed)}")
        return Fields(self, node, pairs)

    def mapping(self, node: Node, what: str) -> MappingNode:
        if not isinstance(node, MappingNode):
            self.fail(node, f"{what} must be a mapping, not {self.kind_of(node)}")
        return node

    @staticmethod
    def kind_of(node: Node) -> str:
        if isinstance(node, MappingNode):
            return "a mapping"
        if isinstance(node, SequenceNode):
            return "a list"
        if node.tag == TAG + "null":
            return "empty"
        if node.tag in NUMBER_TAGS and number(node) is not None:
            return f"the number {node.value}"
        if node.tag == TAG + "bool":
            return f"the boolean {node.value}"
        return f"the string {node.value!r}"

    def text(self, node: Node, what: str, *, empty_ok: bool = False) -> str:
        if isinstance(node, ScalarNode) and node.tag not in TEXT_TAGS and node.tag != TAG + "null":
            self.fail(node, f"{what} has an unsupported YAML tag {node.tag}")
        if not isinstance(node, ScalarNode) or node.tag not in TEXT_TAGS:
            self.fail(node, f"{what} must be a string, not {self.kind_of(node)}")
        if not empty_ok and not node.value.strip():
            self.fail(node, f"{what} must not be empty")
        return node.value

    def texts(self, node: Node, what: str) -> tuple[str, ...]:
        """A string or a non-empty list of strings."""
        if isinstance(node, SequenceNode):
            if not node.value:
                self.fail(node, f"{what} must not be an empty list")
            return tuple(self.text(item, what) for item in node.value)
        return (self.text(node, what),)

    def boolean(self, node: Node, what: str) -> bool:
        if isinstance(node, ScalarNode) and node.tag == TAG + "bool":
            value = _SCALARS.bool_values.get(node.value.lower())
            if value is not None:
                return value
        self.fail(node, f"{what} must be true or false, not {self.kind_of(node)}")

    def integer(self, node: Node, what: str, low: int, high: int) -> int:
        value = number(node)
        if not isinstance(value, int):
            self.fail(node, f"{what} must be a whole number, not {self.kind_of(node)}")
        if not low <= value <= high:
            self.fail(node, f"{what} must be between {low} and {high}, not {value}")
        return value
