"""Redaction of what is saved for a screen: hierarchy dumps and screenshots that leave the phone.

A taught screen is kept with the dump and screenshot that justify it, and bundles of them are
shared between labs, so they get the treatment reports get (``report/render.py`` masks account
ids the same way): account ids, e-mail addresses and phone numbers are masked with
:func:`~miui_automator.device.info.mask_account`; secret values given by the caller become
``***``; and nothing typed into an edit field survives — its text is dropped (its hint stays), in
the dump and, blacked out, in the screenshot, whether or not the field says it is a password.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lxml import etree
from PIL import Image, ImageDraw

from ..device.info import mask_account
from .page_source import page_source_xml

MASK = "***"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# A run of digits with the separators phone numbers use; masked when it holds 6 digits or more.
_NUMBER = re.compile(r"\+?\d[\d \-().]*\d")
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[:.]\d{2}")
_MIN_DIGITS = 6
_TEXT_ATTRS = ("text", "content-desc")
_BOUNDS = re.compile(r"\[(-?\d+),(-?\d+)\]\[(-?\d+),(-?\d+)\]")


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with secrets, e-mail addresses, account ids and phone numbers masked."""
    for secret in secrets:
        if secret and secret in text:
            return MASK
    text = _EMAIL.sub(lambda m: mask_account(m.group()), text)

    def number(m: re.Match[str]) -> str:
        value = m.group()
        if sum(ch.isdigit() for ch in value) < _MIN_DIGITS or _DATE.fullmatch(value):
            return value
        return mask_account(value)

    return _NUMBER.sub(number, text)


def _is_edit(el: etree._Element) -> bool:
    cls = el.get("class") or el.tag
    return el.get("password") == "true" or cls.endswith("EditText") or "AutoCompleteTextView" in cls


def redact_hierarchy(xml: str | bytes, secrets: Iterable[str] = ()) -> tuple[str, list[tuple[int, int, int, int]]]:
    """(the redacted hierarchy XML, the bounds to black out in the matching screenshot).

    Only the ``<hierarchy>`` document is kept (a MIUI stack trace around it is dropped).
    """
    secrets = [s for s in secrets if s]
    text = xml.decode("utf-8", "replace") if isinstance(xml, (bytes, bytearray)) else xml
    text = page_source_xml(text)
    start = text.find("<hierarchy")
    end = text.rfind("</hierarchy>")
    body = text[start:end + len("</hierarchy>")] if start >= 0 and end > start else text[start:] if start >= 0 else text
    parser = etree.XMLParser(huge_tree=True, resolve_entities=False, no_network=True)
    root = etree.fromstring(body.encode("utf-8"), parser)
    boxes: list[tuple[int, int, int, int]] = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        changed = False
        if _is_edit(el) and el.get("text") and el.get("text") != el.get("hint"):
            el.set("text", "")
            changed = True
        for attr in _TEXT_ATTRS:
            value = el.get(attr)
            if value:
                masked = redact_text(value, secrets)
                if masked != value:
                    el.set(attr, masked)
                    changed = True
        if changed or _is_edit(el):  # an edit field is blacked out even when empty: a "show password" eye
            match = _BOUNDS.fullmatch(el.get("bounds", ""))
            if match:
                boxes.append(tuple(int(g) for g in match.groups()))  # type: ignore[arg-type]
    out = etree.tostring(root, encoding="unicode")
    return "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n" + out + "\n", boxes


def redact_screenshot(image: Image.Image, boxes: Iterable[tuple[int, int, int, int]]) -> Image.Image:
    """A copy of ``image`` with every box (a masked text, an edit field) filled black."""
    out = image.convert("RGB")
    draw = ImageDraw.Draw(out)
    for left, top, right, bottom in boxes:
        if right > left and bottom > top:
            draw.rectangle((left, top, right - 1, bottom - 1), fill=(0, 0, 0))
    return out
