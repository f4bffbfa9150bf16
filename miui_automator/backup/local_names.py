"""Where each phone file goes in the backup folder, on whatever host the backup is written.

A phone (ext4/FUSE) allows names a host may not: Windows forbids ``<>:"\\|?*``, control
characters, trailing dots and spaces and device names (``CON``, ``com1.txt`` …); Windows
and macOS cannot store bytes that are not UTF-8, and both fold case (macOS also Unicode
normalisation), so ``IMG.jpg`` and ``img.jpg`` from one phone folder would overwrite each
other. The rules of the host are a value (:class:`HostRules`), so each host's logic is tested
on any host.

Names are changed only when the host needs it, and deterministically: a character the host
cannot hold becomes ``%XX`` (its UTF-8 bytes, or the raw byte of a non-UTF-8 name), and
``%`` itself becomes ``%25`` under those rules, so two different names never escape to one.
A name that collides with another when case is folded gets ``~`` and a hash of its own
bytes. The manifest lists every file's phone path beside its local path, which maps each
escaped name back.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import sys
import unicodedata
from dataclasses import dataclass
from typing import Mapping, Sequence

_WINDOWS_CHARS = frozenset('<>:"\\|?*') | frozenset(chr(c) for c in range(32))
_WINDOWS_DEVICES = frozenset({"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {f"COM{i}" for i in "123456789¹²³"}
                             | {f"LPT{i}" for i in "123456789¹²³"})


@dataclass(frozen=True)
class HostRules:
    """What the host's file system refuses or folds together."""

    windows: bool = False  # reserved characters, device names, trailing dot/space
    utf8_only: bool = False  # names must be valid Unicode
    case_insensitive: bool = False  # ``A`` and ``a`` (and, on macOS, NFC and NFD forms) are one name

    @classmethod
    def of_this_host(cls) -> "HostRules":
        if os.name == "nt":
            return WINDOWS
        if sys.platform == "darwin":
            return MACOS
        return POSIX

    @property
    def escapes(self) -> bool:
        return self.windows or self.utf8_only

    def key(self, path: str) -> str:
        """Paths with equal keys are one file on this host."""
        if not self.case_insensitive:
            return path
        return unicodedata.normalize("NFD", path).casefold()


POSIX = HostRules()
MACOS = HostRules(utf8_only=True, case_insensitive=True)
WINDOWS = HostRules(windows=True, utf8_only=True, case_insensitive=True)


def _pct(text: str) -> str:
    return "".join(f"%{b:02X}" for b in text.encode("utf-8", "surrogateescape"))


def escape_part(name: str, rules: HostRules) -> str:
    """One path component as the host can store it (unchanged when the host accepts it)."""
    if not rules.escapes:
        return name
    out = []
    for ch in name:
        if ch == "%" or (rules.windows and ch in _WINDOWS_CHARS) or "\udc80" <= ch <= "\udcff":
            out.append(_pct(ch))
        else:
            out.append(ch)
    text = "".join(out)
    if rules.windows:
        stripped = text.rstrip(" .")
        if stripped != text:
            text = stripped + _pct(text[len(stripped):])
        if text.split(".")[0].rstrip(" ").upper() in _WINDOWS_DEVICES:
            text = _pct(text[0]) + text[1:]
    return text


def _disambiguated(part: str, original: str, n: int) -> str:
    """``IMG~1a2b3c4d.jpg`` for the second ``img.jpg``: the hash of the phone's own name keeps it stable."""
    digest = hashlib.sha256(original.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    stem, ext = posixpath.splitext(part)
    if not stem:
        stem, ext = part, ""
    return f"{stem}~{digest}{ext}" if n == 1 else f"{stem}~{digest}-{n}{ext}"


class LocalNamer:
    """Gives each phone path a local path no other file of the backup shares on this host.

    ``keep`` maps phone paths to the local paths an earlier run already used (from the
    journal): those keep their names, so a resumed backup never moves a pulled file.
    """

    def __init__(self, rules: HostRules, keep: Mapping[str, str] | None = None) -> None:
        self.rules = rules
        self._keep = dict(keep or {})
        self._taken: dict[str, tuple[str, bool]] = {}  # key -> (local path as spelt, is a folder)
        for local in self._keep.values():
            self._claim(local)

    def _claim(self, local: str) -> None:
        parts = local.split("/")
        for i in range(1, len(parts)):
            self._taken.setdefault(self.rules.key("/".join(parts[:i])), ("/".join(parts[:i]), True))
        self._taken[self.rules.key(local)] = (local, False)

    def name(self, remote: str, parts: Sequence[str]) -> str:
        """The local path for ``remote``, whose local path components (prefix first) are ``parts``."""
        kept = self._keep.get(remote)
        if kept is not None:
            return kept
        done: list[str] = []
        for i, original in enumerate(parts):
            last = i == len(parts) - 1
            part = escape_part(original, self.rules)
            n = 0
            candidate = part
            while True:
                held = self._taken.get(self.rules.key("/".join([*done, candidate])))
                if held is None:
                    break
                spelt, is_dir = held
                if is_dir and not last:
                    candidate = spelt.rsplit("/", 1)[-1]  # the same folder: files go where the first spelling went
                    break
                n += 1
                candidate = _disambiguated(part, original, n)
            done.append(candidate)
        local = "/".join(done)
        self._claim(local)
        return local
