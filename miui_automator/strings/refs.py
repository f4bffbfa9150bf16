"""How a flow or the screen catalogue names a text by its Android string resource.

A label such as "Sign out" is, on the phone, the resource ``com.xiaomi.account:string/logout_account``
in whatever language the phone speaks. Flows and ``screens/catalogue.yaml`` may write
``"@com.xiaomi.account:string/logout_account"`` wherever they write a ``text`` alternative; the
run resolves it from the phone's own APK (:mod:`miui_automator.strings.resolver`). Any text that
starts with ``@`` is a reference and must be well-formed, so a typo is a load error instead of a
literal that never matches; ``@@`` starts a literal text with one ``@``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

MARK = "@"
ESCAPE = "@@"
_REF = re.compile(r"@(?P<package>[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*):string/(?P<key>[A-Za-z_][A-Za-z0-9_.]*)\Z")


@dataclass(frozen=True, order=True, slots=True)
class TextRef:
    """One string resource: the app (package) whose APK holds it and its key."""

    package: str
    key: str

    def __str__(self) -> str:
        return f"{self.package}:string/{self.key}"

    @property
    def written(self) -> str:
        """As a flow writes it: ``@package:string/key``."""
        return MARK + str(self)


def parse_ref(text: str) -> TextRef | None:
    """The reference ``text`` names, or None for a literal text.

    Raises ``ValueError`` (with a one-line reason) for a text that starts with ``@`` but is no
    well-formed reference.
    """
    if not text.startswith(MARK) or text.startswith(ESCAPE):
        return None
    m = _REF.match(text)
    if m is None:
        raise ValueError(f"{text!r} is not a string resource: write @PACKAGE:string/KEY "
                         "(e.g. @com.xiaomi.account:string/logout_account), or @@ for a text starting with @")
    return TextRef(m.group("package"), m.group("key"))


def split_texts(texts: Iterable[str]) -> tuple[tuple[str, ...], tuple[TextRef, ...]]:
    """(literal texts with ``@@`` unescaped, references) of a list of alternatives, in order (references without repeats).

    Raises ``ValueError`` for a malformed reference.
    """
    literals: list[str] = []
    refs: list[TextRef] = []
    for text in texts:
        ref = parse_ref(text)
        if ref is None:
            literals.append(text[1:] if text.startswith(ESCAPE) else text)
        else:
            refs.append(ref)
    return tuple(literals), tuple(dict.fromkeys(refs))
