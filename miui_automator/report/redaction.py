"""Redaction of what a saved hierarchy dump shows: typed secrets, account ids and phone numbers.

A hierarchy dump is the phone's own words, saved as evidence of a failure (``run/artifacts.py``) or by
``inspect``. It can hold a password a phone renders unmasked (the "show password" eye) and the Mi account
id the account page shows. Every dump the tool writes goes through :func:`redact_dump`, so neither
reaches a file in clear, while the dump stays the XML the phone sent (a person can still read the tree).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from ..privacy import mask_text

MASK = "***"

# an attribute value in a dump: uiautomator2 writes attributes with double quotes, escaping what needs it
_ATTRIBUTE = re.compile(r'(?P<name>[\w:-]+)="(?P<value>[^"]*)"')


def redact_secrets(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of a secret value replaced by ``***`` (longest secret first)."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def redact_dump(source: str, secrets: Iterable[str] = ()) -> str:
    """A hierarchy dump fit to save: an attribute whose value equals or contains a secret becomes ``***``
    whole (a field showing the password), any other occurrence of a secret (in the text around the XML,
    or escaped differently) is replaced too, and account ids and phone numbers are masked as everywhere else."""
    secrets = tuple(s for s in secrets if s)
    if secrets:
        escaped = secrets + tuple(html.escape(s, quote=True) for s in secrets)

        def attribute(match: re.Match[str]) -> str:
            value = html.unescape(match["value"])
            if any(s in value for s in secrets):
                return f'{match["name"]}="{MASK}"'
            return match[0]

        source = redact_secrets(_ATTRIBUTE.sub(attribute, source), escaped)
    return mask_text(source)
