"""The one YAML reader of the project: bounded composing and typed node access, errors as ``file:line: message``.

Flows, the fleet inventory and the screen catalogue each have their own grammar, but they read YAML
the same way, so a feature (a merge key, a quoted number, a duplicate key) means the same thing in
every file. The reader works on PyYAML's composed node tree rather than on loaded Python objects:
nodes keep the line of every key and value, so each error names the place to fix, and duplicate keys
(which ``yaml.safe_load`` silently merges) are refused.

Every file is untrusted input that must not hang a lab, so reading is bounded before the work is
done, not after: the file size before it is read (:data:`MAX_FILE_BYTES`), the nesting depth while
composing, before Python's recursion limit can be hit (:data:`MAX_DEPTH`), the entries of any one
list or mapping (:data:`MAX_ENTRIES`), and the nodes the document holds once every alias is counted
as a copy of what it names (:data:`MAX_NODES`) — an alias costs the size of its subtree, so an
"alias bomb" is refused after composing a few thousand nodes instead of being walked for minutes.
A recursive alias (a collection that contains itself) is refused too: it is infinitely deep.

A grammar subclasses :class:`YamlReader` (or holds one) and raises its own error class:
:class:`~miui_automator.errors.ConfigError` by default, ``FlowSyntaxError`` for flows.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Callable, Collection, Iterable
from typing import Any, NoReturn

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, MappingEndEvent, MappingStartEvent, ScalarEvent, SequenceEndEvent, SequenceStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

from .errors import ConfigError

__all__ = ["MAX_DEPTH", "MAX_ENTRIES", "MAX_FILE_BYTES", "MAX_NODES", "NUMBER_TAGS", "TAG", "TEXT_TAGS", "Fields",
           "YamlReader", "is_null", "number", "one_line", "read_text", "suggest"]

MAX_FILE_BYTES = 1024 * 1024
"""Largest YAML file read (1 MiB): a flow, a lab's inventory or a catalogue is a few dozen KiB."""

MAX_DEPTH = 100
"""Deepest nesting of lists and mappings; the deepest flow allowed (16 nested step lists) needs about 70."""

MAX_ENTRIES = 5000
"""Most items in one list or keys in one mapping: as many steps as a flow may hold, phones as a lab has."""

MAX_NODES = 200_000
"""Most YAML nodes in a document, each alias counted as a copy of the subtree it names."""

TAG = "tag:yaml.org,2002:"
TEXT_TAGS = frozenset(TAG + t for t in ("str", "int", "float", "bool", "timestamp"))
NUMBER_TAGS = frozenset((TAG + "int", TAG + "float"))
_SCALARS = SafeConstructor()
_SHOWN = 60  # longest value quoted in a message


def suggest(word: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or ``""``."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def one_line(text: str) -> str:
    return " ".join(text.split())


def is_null(node: Node | None) -> bool:
    """True for an empty value (``key:``, ``~``, ``null``)."""
    return isinstance(node, ScalarNode) and node.tag == TAG + "null"


def number(node: Node) -> int | float | None:
    """The value of a YAML int or float scalar; None for anything else, including a malformed ``!!int``."""
    if not isinstance(node, ScalarNode) or node.tag not in NUMBER_TAGS:
        return None
    construct = _SCALARS.construct_yaml_int if node.tag == TAG + "int" else _SCALARS.construct_yaml_float
    try:
        return construct(node)
    except (ValueError, TypeError, IndexError, OverflowError):  # PyYAML trusts the tag: `!!int ""` -> IndexError
        return None


def read_text(path: str | os.PathLike[str], what: str, error: type[ConfigError] = ConfigError) -> str:
    """The UTF-8 text of a YAML file, refused past :data:`MAX_FILE_BYTES` before more than that is read.

    ``what`` names the file in messages ("the inventory").
    """
    shown = os.fspath(path)
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise error(f"{shown}: cannot read {what}: {exc.strerror or exc}", path=shown, line=None) from None
    if len(data) > MAX_FILE_BYTES:
        line = data.count(b"\n", 0, MAX_FILE_BYTES) + 1
        raise error(f"{shown}:{line}: {_too_large()}", path=shown, line=line)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise error(f"{shown}:{line}: {what} is not UTF-8 text", path=shown, line=line) from None


def _too_large() -> str:
    return f"the file is larger than {MAX_FILE_BYTES / 2**20:g} MiB, the most a YAML file may hold here"


# --- composing, bounded -----------------------------------------------------------------------------


class _Refused(Exception):
    """A bound or rule the composer enforces, with the 1-based line it applies to."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader whose composer enforces :data:`MAX_DEPTH`, :data:`MAX_ENTRIES` and :data:`MAX_NODES`.

    Only composing is used (never construction), so these three methods are the whole cost of a
    document; they follow PyYAML's ``Composer`` with the bounds added.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0
        self.nodes = 0  # nodes so far, aliases counted as copies
        self.sizes: dict[int, int] = {}  # id(anchored node) -> its size, once it is complete

    def spend(self, count: int, line: int) -> None:
        self.nodes += count
        if self.nodes > MAX_NODES:
            raise _Refused(line, f"the document holds more than {MAX_NODES:,} YAML nodes once its aliases are "
                                 "expanded (each alias counts as a copy of what it names)")

    def compose_node(self, parent: Node | None, index: object) -> Node:
        event = self.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, AliasEvent):
            self.get_event()
            node = self.anchors.get(event.anchor)
            if node is None:
                raise yaml.composer.ComposerError(None, None, f"found undefined alias {event.anchor!r}", event.start_mark)
            size = self.sizes.get(id(node))
            if size is None:  # the anchored collection is still being composed: it would contain itself
                if isinstance(index, ScalarNode) and index.tag == TAG + "merge":
                    raise _Refused(line, "a merge key (<<) refers to the mapping it is in")
                raise _Refused(line, f"invalid YAML: alias *{event.anchor} is inside the collection it names "
                                     "(a collection cannot contain itself)")
            self.spend(size, line)
            return node
        if event.anchor is not None and event.anchor in self.anchors:
            raise yaml.composer.ComposerError(f"found duplicate anchor {event.anchor!r}; first occurrence",
                                              self.anchors[event.anchor].start_mark, "second occurrence", event.start_mark)
        if self.depth >= MAX_DEPTH:
            raise _Refused(line, f"invalid YAML: nested too deeply (more than {MAX_DEPTH} levels)")
        before = self.nodes
        self.spend(1, line)
        self.depth += 1
        self.descend_resolver(parent, index)
        if isinstance(event, ScalarEvent):
            node = self.compose_scalar_node(event.anchor)
        elif isinstance(event, SequenceStartEvent):
            node = self.compose_sequence_node(event.anchor)
        else:
            assert isinstance(event, MappingStartEvent), event
            node = self.compose_mapping_node(event.anchor)
        self.ascend_resolver()
        self.depth -= 1
        if event.anchor is not None:
            self.sizes[id(node)] = self.nodes - before
        return node

    def compose_sequence_node(self, anchor: str | None) -> SequenceNode:
        def add_item(node: SequenceNode) -> None:
            node.value.append(self.compose_node(node, len(node.value)))

        return self._compose_collection(anchor, SequenceNode, SequenceEndEvent, add_item,
                                        f"a list holds more than {MAX_ENTRIES} items (list starts at line {{start}})")

    def compose_mapping_node(self, anchor: str | None) -> MappingNode:
        def add_pair(node: MappingNode) -> None:
            key = self.compose_node(node, None)
            node.value.append((key, self.compose_node(node, key)))

        return self._compose_collection(anchor, MappingNode, MappingEndEvent, add_pair,
                                        f"a mapping holds more than {MAX_ENTRIES} keys (mapping starts at line {{start}})")

    def _compose_collection(self, anchor: str | None, node_class: type, end_event: type,
                            add_entry: Callable[[Any], None], too_many: str) -> Any:
        """PyYAML's composition of a list or mapping, refusing more than ``MAX_ENTRIES`` entries
        (``too_many`` names the line the collection starts at as ``{start}``)."""
        start = self.get_event()
        tag = start.tag
        if tag is None or tag == "!":
            tag = self.resolve(node_class, None, start.implicit)
        node = node_class(tag, [], start.start_mark, None, flow_style=start.flow_style)
        if anchor is not None:
            self.anchors[anchor] = node
        while not self.check_event(end_event):
            if len(node.value) >= MAX_ENTRIES:
                raise _Refused(self.peek_event().start_mark.line + 1, too_many.format(start=start.start_mark.line + 1))
            add_entry(node)
        node.end_mark = self.get_event().end_mark
        return node


# --- typed node access ------------------------------------------------------------------------------


class Fields:
    """A mapping node read as unique keys, each remembering its key node for error lines."""

    def __init__(self, reader: YamlReader, node: MappingNode, pairs: list[tuple[str, Node, Node]]) -> None:
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
        keys = tuple(keys)
        present = [k for k in self.items if k in keys]
        if not present:
            self._reader.fail(self.node, f"{what} needs one of: {', '.join(keys)}")
        if len(present) > 1:
            self._reader.fail(self.key_node(present[1]), f"{what} takes only one of {', '.join(keys)}; "
                                                         f"found '{present[0]}' and '{present[1]}'")
        return present[0]


class YamlReader:
    """Reads one YAML file for a grammar: bounded composing, typed values, and ``path:line: message`` errors.

    ``error`` is the class raised (a :class:`ConfigError`); ``max_seconds`` bounds :meth:`seconds`.
    Subclasses may set both as class attributes.
    """

    error: type[ConfigError] = ConfigError
    max_seconds: float = 24 * 3600.0

    def __init__(self, path: str | os.PathLike[str], error: type[ConfigError] | None = None) -> None:
        self.path = os.fspath(path)
        if error is not None:
            self.error = error

    # errors

    def fail_at(self, line: int, message: str) -> NoReturn:
        raise self.error(f"{self.path}:{line}: {message}", path=self.path, line=line)

    def fail(self, node: Node, message: str) -> NoReturn:
        self.fail_at(node.start_mark.line + 1, message)

    @staticmethod
    def line(node: Node) -> int:
        return node.start_mark.line + 1

    # the document

    def compose(self, text: str) -> Node | None:
        """The root node of ``text`` (None for an empty document), within every bound of this module."""
        if len(text) > MAX_FILE_BYTES:
            self.fail_at(text.count("\n", 0, MAX_FILE_BYTES) + 1, _too_large())
        loader = None
        try:
            loader = _BoundedLoader(text)  # checks every character first: ReaderError
            return loader.get_single_node()
        except _Refused as exc:
            self.fail_at(exc.line, exc.message)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            detail = " ".join(p for p in (exc.problem, f"({exc.context})" if exc.context else "") if p)
            self.fail_at(mark.line + 1 if mark else 1, f"invalid YAML: {one_line(detail or 'syntax error')}")
        except ReaderError as exc:
            line = text.count("\n", 0, max(exc.position, 0)) + 1
            self.fail_at(line, f"invalid YAML: {one_line(str(exc).splitlines()[0])}")
        except yaml.YAMLError as exc:
            self.fail_at(1, f"invalid YAML: {one_line(str(exc))}")
        except RecursionError:  # only if the caller's own stack is already deep: MAX_DEPTH keeps composing shallow
            self.fail_at(1, "invalid YAML: nested too deeply")
        finally:
            if loader is not None:
                loader.dispose()

    # collections

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
        """A mapping whose keys must be among ``allowed`` (unknown keys refused with a suggestion)."""
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

    def sequence(self, node: Node, what: str) -> list[Node]:
        """The items of a list."""
        if not isinstance(node, SequenceNode):
            self.fail(node, f"{what} must be a list, not {self.kind_of(node)}")
        return list(node.value)

    @staticmethod
    def kind_of(node: Node) -> str:
        """What a node is, for messages: "a list", "empty", "the number 3", "the string 'x'"."""
        if isinstance(node, MappingNode):
            return "a mapping"
        if isinstance(node, SequenceNode):
            return "a list"
        if node.tag == TAG + "null":
            return "empty"
        value = node.value if len(node.value) <= _SHOWN else node.value[:_SHOWN] + "..."
        if node.tag in NUMBER_TAGS and number(node) is not None:
            return f"the number {value}"
        if node.tag == TAG + "bool":
            return f"the boolean {value}"
        return f"the string {value!r}"

    # scalars

    def text(self, node: Node, what: str, *, empty_ok: bool = False) -> str:
        """A scalar as written (``3`` and ``yes`` are text too: a name or a label may be digits)."""
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
        """A YAML integer in [low, high]; a quoted ``"3"`` is a string and refused."""
        value = number(node)
        if not isinstance(value, int):
            self.fail(node, f"{what} must be a whole number, not {self.kind_of(node)}")
        if not low <= value <= high:
            self.fail(node, f"{what} must be between {low} and {high}, not {value}")
        return value

    def seconds(self, node: Node, what: str) -> float:
        """A YAML number of seconds, more than 0 and at most :attr:`max_seconds`."""
        value = number(node)
        if value is None or not math.isfinite(value):
            self.fail(node, f"{what} must be a number of seconds, not {self.kind_of(node)}")
        if not 0 < value <= self.max_seconds:
            self.fail(node, f"{what} must be more than 0 and at most {self.max_seconds:g} seconds, not {value:g}")
        return float(value)
