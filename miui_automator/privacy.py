"""Masking of account ids and phone numbers: the one function every text the tool writes goes through.

A Mi account id is a number of seven to ten digits (or the e-mail address / phone number the
account was registered with); phones also answer with Google and messenger account names, and
errors from the phone quote raw ``dumpsys`` lines such as ``Account {name=1234567890, ...}``.
All of these are personal data: they are masked in the middle (``12******90``) wherever they
appear, so a log, report, ledger or error message never shows one in clear while a person who
knows the account can still recognise it.

Masking is idempotent (a masked id holds ``*`` and is never matched again), and it leaves
version strings (``V14.0.23.0``), coordinates, bounds, ports and short numbers alone.
"""

from __future__ import annotations

import re

MIN_ID_DIGITS = 7  # Mi account ids have 7-10 digits; shorter numbers are counts, sizes, ports

_ACCOUNT_NAME = re.compile(r"(Account \{name=)(?P<name>[^,}\n]*)(?=, type=)")
_EMAIL = re.compile(r"(?<![\w.+*-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# +86 138 0013 8000, +8613800138000, 138-0013-8000, and bare runs of 7+ digits; never a digit run
# that is part of a word, a dotted version or a decimal number, nor the date of a time stamp the tool
# names folders with (20261202-040955: a backup or run folder a report must show as it is).
_NUMBER = re.compile(
    r"(?<![\w.*])(?:"
    r"\+\d{1,3}(?:[ -]?\d){6,14}"
    r"|\d{3}-\d{3,4}-\d{4}"
    r"|\d{%d,}(?!-\d{6}\b)" % MIN_ID_DIGITS +
    r")(?![\w*]|\.\d)",
    re.ASCII,
)


def mask_account(name: str) -> str:
    """Hide the middle of one account name: ``1234567890`` -> ``12******90``.

    For e-mail addresses only the part before ``@`` is masked; names of four characters or less
    keep only their first character. A name already masked (holding ``*``) is returned as it is.
    """
    if "*" in name:
        return name
    local, at, domain = name.partition("@")
    if len(local) <= 4:
        masked = local[:1] + "*" * max(0, len(local) - 1)
    else:
        masked = local[:2] + "*" * (len(local) - 4) + local[-2:]
    return masked + at + domain


def _mask_number(match: re.Match[str]) -> str:
    text = match[0]
    digits = [i for i, ch in enumerate(text) if ch.isdigit()]
    keep = set(digits[:2] + digits[-2:])
    return "".join(ch if (i in keep or not ch.isdigit()) else "*" for i, ch in enumerate(text))


def mask_text(text: str) -> str:
    """``text`` with every account name, e-mail address, Mi account id and phone number masked."""
    if not text:
        return text
    text = _ACCOUNT_NAME.sub(lambda m: m[1] + mask_account(m["name"]), text)
    text = _EMAIL.sub(lambda m: mask_account(m[0]), text)
    return _NUMBER.sub(_mask_number, text)
