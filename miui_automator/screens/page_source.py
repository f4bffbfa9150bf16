"""Saved screen hierarchies read from a file, whatever tool saved them.

People bring the screen they are stuck on in the form their tool saved it: ``uiautomator dump``
output (often with MIUI's stack trace around it), uiautomator2's ``dump_hierarchy()``, a run's
failure dump (``runs/.../screens/*-failed.xml``), or an Appium page source — either the XML that
Appium Inspector saves (elements named after their class under a ``<hierarchy>`` root) or the raw
WebDriver ``GET /source`` answer, ``{"value": "<?xml ...>"}``. All of them become the same
:class:`~miui_automator.device.hierarchy.Hierarchy` the engine identifies, so ``screens identify``
says exactly what a run would have said.

Appium's server copies texts into attributes without filtering characters XML 1.0 forbids (a NUL
or an escape code in a text field), which a strict parser refuses; those are dropped here, since
no catalogue matcher could name them anyway.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..device.hierarchy import Hierarchy, HierarchyError, parse_hierarchy
from ..errors import UsageError

# Raw control characters and character references to them (both are illegal in XML 1.0).
_RAW_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_REF_CONTROL = re.compile(r"&#(?:x0*(?:[0-8bBcCeEfF]|1[0-9a-fA-F])|0*(?:[0-8]|1[124-9]|2[0-9]|3[01]));")
MAX_BYTES = 64 * 1024 * 1024  # a dump of a huge list is a few MB; anything far larger is not a dump


def page_source_xml(text: str) -> str:
    """The hierarchy XML inside ``text``: unwraps a WebDriver JSON answer, drops illegal characters."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError:
            data = None
        value = data.get("value") if isinstance(data, dict) else None
        if isinstance(value, str):
            text = value
    return _REF_CONTROL.sub("", _RAW_CONTROL.sub("", text))


def parse_page_source(text: str | bytes) -> Hierarchy:
    """A :class:`Hierarchy` from any supported dump text; :class:`HierarchyError` when it holds none."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", errors="replace")
    return parse_hierarchy(page_source_xml(text))


def read_hierarchy(path: str | Path) -> Hierarchy:
    """Read and parse a saved hierarchy; every problem is one :class:`UsageError` naming the file."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise UsageError(f"{path}: {path.stat().st_size} bytes is too large for a UI hierarchy dump")
        data = path.read_bytes()
    except OSError as err:
        raise UsageError(f"{path}: cannot read the hierarchy: {err.strerror or err}") from None
    try:
        return parse_page_source(data)
    except HierarchyError as err:
        raise UsageError(f"{path}: not a UI hierarchy (uiautomator dump or Appium page source): {err}") from None
