"""Sans-IO parser for the small POSIX sh subset the simulated phone's ``/system/bin/sh`` runs.

Real tools send one-line command lines: ``getprop ro.product.model; echo X4EXIT:$?``,
``rm -f /data/local/tmp/uidump.xml; uiautomator dump ... && echo success``,
``CLASSPATH=/data/local/tmp/u2.jar app_process / com.wetest.uia2.Main -p 9008``. This module
turns such a line into an immutable tree (lists of and-or chains of pipelines of simple
commands); expansion of ``$?``/``$VAR``/``$(...)`` and globs happens later, at run time,
because ``$?`` depends on what ran before. No I/O, no phone: text in, tree out.

Supported: words with single/double quotes and backslash escapes (POSIX rules), ``;``,
newlines, ``&`` (run in the foreground: the model has no background jobs), ``&&``, ``||``,
``!``, ``|``, ``#`` comments, ``VAR=x`` prefixes, redirections ``[n]>``, ``[n]>>``,
``[n]<``, ``[n]>&m``, ``&>``, and ``$?``, ``$$``, ``$NAME``, ``${NAME}``, ``$(...)``,
backticks. Compound commands (``if``, ``for``, ``(...)``, ``{ ...; }``) are refused with a
syntax error that says so, rather than being run wrongly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGN_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=")
_SPECIAL_VARS = "?$#!-0123456789@*"
_UNSUPPORTED_WORDS = {"if", "then", "elif", "else", "fi", "for", "while", "until", "do", "done", "case", "esac",
                      "function", "select", "{", "}", "[["}


class ShellSyntaxError(Exception):
    """The command line does not parse; the message is what mksh would print after ``sh: ``."""


@dataclass(frozen=True)
class Lit:
    """Literal text; ``quoted`` text is exempt from field splitting and globbing."""

    text: str
    quoted: bool = False


@dataclass(frozen=True)
class Var:
    """A parameter expansion: ``$?``, ``$NAME``, ``${NAME}``."""

    name: str
    quoted: bool = False


@dataclass(frozen=True)
class Sub:
    """A command substitution: ``$(source)`` or a backtick pair."""

    source: str
    quoted: bool = False


Part = Lit | Var | Sub


@dataclass(frozen=True)
class Word:
    parts: tuple[Part, ...]

    def literal(self) -> str | None:
        """The word's text when it needs no expansion, else None."""
        if all(isinstance(p, Lit) for p in self.parts):
            return "".join(p.text for p in self.parts)  # type: ignore[union-attr]
        return None


@dataclass(frozen=True)
class Redirect:
    """``fd op target``: op is one of ``>``, ``>>``, ``<``, ``>&``, ``<&``."""

    fd: int
    op: str
    target: Word


@dataclass(frozen=True)
class Command:
    assigns: tuple[tuple[str, Word], ...]
    words: tuple[Word, ...]
    redirects: tuple[Redirect, ...]


@dataclass(frozen=True)
class Pipeline:
    commands: tuple[Command, ...]
    negated: bool = False


@dataclass(frozen=True)
class AndOr:
    first: Pipeline
    rest: tuple[tuple[str, Pipeline], ...] = ()


Script = tuple[AndOr, ...]


# ----------------------------------------------------------------------------- lexer
@dataclass(frozen=True)
class _Op:
    text: str


@dataclass(frozen=True)
class _Redir:
    fd: int | None
    op: str


_Token = Word | _Op | _Redir


# Characters that mean nothing special to the lexer in the middle of a word (a "#" there is ordinary too).
_PLAIN_RUN = re.compile(r"[^ \t\r\n;&|<>()'\"\\$`]+")


class _Lexer:
    def __init__(self, source: str) -> None:
        self.s = source
        self.i = 0
        self.tokens: list[_Token] = []
        self.parts: list[Part] = []
        self.started = False

    # word assembly
    def _add(self, part: Part) -> None:
        self.started = True
        if isinstance(part, Lit) and self.parts and isinstance(self.parts[-1], Lit) and self.parts[-1].quoted == part.quoted:
            self.parts[-1] = Lit(self.parts[-1].text + part.text, part.quoted)
        else:
            self.parts.append(part)

    def _flush(self) -> None:
        if self.started:
            self.tokens.append(Word(tuple(self.parts)))
        self.parts = []
        self.started = False

    def _fd_prefix(self) -> int | None:
        """A word made only of unquoted digits right before ``<``/``>`` is the fd number."""
        if self.started and len(self.parts) == 1 and isinstance(self.parts[0], Lit):
            part = self.parts[0]
            if not part.quoted and part.text.isdigit() and len(part.text) == 1:
                self.parts = []
                self.started = False
                return int(part.text)
        return None

    def run(self) -> list[_Token]:
        s = self.s
        while self.i < len(s):
            c = s[self.i]
            if c in " \t\r":
                self._flush()
                self.i += 1
            elif c == "\n":
                self._flush()
                self.tokens.append(_Op("\n"))
                self.i += 1
            elif c == "#" and not self.started:
                end = s.find("\n", self.i)
                self.i = len(s) if end < 0 else end
            elif c in ";&|":
                self._operator(c)
            elif c in "<>":
                self._redirect(c)
            elif c in "()":
                raise ShellSyntaxError(f"syntax error: '{c}' unexpected (subshells are not supported by the simulated shell)")
            elif c == "'":
                end = s.find("'", self.i + 1)
                if end < 0:
                    raise ShellSyntaxError("syntax error: no closing quote")
                self._add(Lit(s[self.i + 1:end], True))
                self.i = end + 1
            elif c == '"':
                self._double_quoted()
            elif c == "\\":
                if self.i + 1 >= len(s):
                    self._add(Lit("\\"))
                    self.i += 1
                elif s[self.i + 1] == "\n":
                    self.i += 2  # line continuation
                else:
                    self._add(Lit(s[self.i + 1], True))
                    self.i += 2
            elif c == "$":
                self._dollar(quoted=False)
            elif c == "`":
                self._backtick(quoted=False)
            else:
                # a run of ordinary characters at once: an md5sum of 256 paths is 11 KB of them
                end = _PLAIN_RUN.match(s, self.i).end()  # type: ignore[union-attr]
                self._add(Lit(s[self.i:end]))
                self.i = end
        self._flush()
        return self.tokens

    def _operator(self, c: str) -> None:
        s = self.s
        if c == "&" and s.startswith("&>", self.i):
            self._flush()
            self.i += 2
            if s.startswith(">", self.i):
                self.i += 1
                self.tokens.append(_Redir(-1, ">>"))
            else:
                self.tokens.append(_Redir(-1, ">"))
            return
        self._flush()
        two = s[self.i:self.i + 2]
        if two in ("&&", "||", ";;"):
            if two == ";;":
                raise ShellSyntaxError("syntax error: ';;' unexpected")
            self.tokens.append(_Op(two))
            self.i += 2
        else:
            self.tokens.append(_Op(c))
            self.i += 1

    def _redirect(self, c: str) -> None:
        s = self.s
        fd = self._fd_prefix()
        self._flush()
        nxt = s[self.i + 1:self.i + 2]
        if c == ">" and nxt == ">":
            op, size = ">>", 2
        elif nxt == "&":
            op, size = c + "&", 2
        elif c == ">" and nxt == "|":
            op, size = ">", 2
        else:
            op, size = c, 1
        self.i += size
        self.tokens.append(_Redir(fd, op))

    def _double_quoted(self) -> None:
        s = self.s
        self.i += 1
        self._add(Lit("", True))  # "" is an (empty) word of its own
        while True:
            if self.i >= len(s):
                raise ShellSyntaxError("syntax error: no closing quote")
            c = s[self.i]
            if c == '"':
                self.i += 1
                return
            if c == "\\" and self.i + 1 < len(s) and s[self.i + 1] in '$`"\\\n':
                if s[self.i + 1] != "\n":
                    self._add(Lit(s[self.i + 1], True))
                self.i += 2
            elif c == "$":
                self._dollar(quoted=True)
            elif c == "`":
                self._backtick(quoted=True)
            else:
                self._add(Lit(c, True))
                self.i += 1

    def _dollar(self, quoted: bool) -> None:
        s = self.s
        nxt = s[self.i + 1:self.i + 2]
        if nxt == "(":
            end = _matching_paren(s, self.i + 2)
            self._add(Sub(s[self.i + 2:end], quoted))
            self.i = end + 1
        elif nxt == "{":
            end = s.find("}", self.i + 2)
            if end < 0:
                raise ShellSyntaxError("syntax error: missing '}'")
            name = s[self.i + 2:end]
            if not (NAME_RE.fullmatch(name) or (len(name) == 1 and name in _SPECIAL_VARS)):
                raise ShellSyntaxError(f"${{{name}}}: bad substitution")
            self._add(Var(name, quoted))
            self.i = end + 1
        elif nxt and nxt in _SPECIAL_VARS:
            self._add(Var(nxt, quoted))
            self.i += 2
        else:
            m = NAME_RE.match(s, self.i + 1)
            if m:
                self._add(Var(m.group(0), quoted))
                self.i = m.end()
            else:
                self._add(Lit("$", quoted))
                self.i += 1

    def _backtick(self, quoted: bool) -> None:
        s = self.s
        j = self.i + 1
        buf = []
        while j < len(s) and s[j] != "`":
            if s[j] == "\\" and j + 1 < len(s) and s[j + 1] in "`\\$":
                buf.append(s[j + 1])
                j += 2
            else:
                buf.append(s[j])
                j += 1
        if j >= len(s):
            raise ShellSyntaxError("syntax error: no closing quote")
        self._add(Sub("".join(buf), quoted))
        self.i = j + 1


def _matching_paren(s: str, start: int) -> int:
    """Index of the ``)`` closing a ``$(`` whose body starts at ``start`` (quotes respected)."""
    depth = 1
    i = start
    while i < len(s):
        c = s[i]
        if c == "\\":
            i += 2
            continue
        if c == "'":
            end = s.find("'", i + 1)
            if end < 0:
                break
            i = end + 1
            continue
        if c == '"':
            i += 1
            while i < len(s) and s[i] != '"':
                i += 2 if s[i] == "\\" else 1
            i += 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ShellSyntaxError("syntax error: missing ')'")


# ----------------------------------------------------------------------------- grammar
class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.toks = tokens
        self.i = 0

    def _peek(self) -> _Token | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def _is_op(self, *texts: str) -> bool:
        tok = self._peek()
        return isinstance(tok, _Op) and tok.text in texts

    def _skip_newlines(self) -> None:
        while self._is_op("\n"):
            self.i += 1

    def script(self) -> Script:
        items: list[AndOr] = []
        self._skip_newlines()
        while self._peek() is not None:
            items.append(self.and_or())
            if self._peek() is None:
                break
            if not self._is_op(";", "&", "\n"):
                raise self._unexpected()
            self.i += 1
            self._skip_newlines()
        return tuple(items)

    def and_or(self) -> AndOr:
        first = self.pipeline()
        rest = []
        while self._is_op("&&", "||"):
            op = self._peek().text  # type: ignore[union-attr]
            self.i += 1
            self._skip_newlines()
            rest.append((op, self.pipeline()))
        return AndOr(first, tuple(rest))

    def pipeline(self) -> Pipeline:
        negated = False
        tok = self._peek()
        if isinstance(tok, Word) and tok.literal() == "!":
            negated = True
            self.i += 1
        commands = [self.command()]
        while self._is_op("|"):
            self.i += 1
            self._skip_newlines()
            commands.append(self.command())
        return Pipeline(tuple(commands), negated)

    def command(self) -> Command:
        assigns: list[tuple[str, Word]] = []
        words: list[Word] = []
        redirects: list[Redirect] = []
        while True:
            tok = self._peek()
            if isinstance(tok, Word):
                self.i += 1
                if not words:
                    assign = _assignment(tok)
                    if assign is not None:
                        assigns.append(assign)
                        continue
                    if tok.literal() in _UNSUPPORTED_WORDS:
                        raise ShellSyntaxError(f"syntax error: '{tok.literal()}' is not supported by the simulated shell")
                words.append(tok)
            elif isinstance(tok, _Redir):
                self.i += 1
                target = self._peek()
                if not isinstance(target, Word):
                    raise self._unexpected("syntax error: redirection needs a target")
                self.i += 1
                redirects.append(Redirect(1 if tok.fd is None and tok.op.startswith(">") else
                                          0 if tok.fd is None else tok.fd, tok.op, target))
            else:
                break
        if not (assigns or words or redirects):
            raise self._unexpected()
        return Command(tuple(assigns), tuple(words), tuple(redirects))

    def _unexpected(self, message: str | None = None) -> ShellSyntaxError:
        if message:
            return ShellSyntaxError(message)
        tok = self._peek()
        if tok is None:
            return ShellSyntaxError("syntax error: unexpected end of command")
        text = tok.text if isinstance(tok, _Op) else tok.op if isinstance(tok, _Redir) else "word"
        return ShellSyntaxError(f"syntax error: '{text}' unexpected")


def _assignment(word: Word) -> tuple[str, Word] | None:
    first = word.parts[0] if word.parts else None
    if not isinstance(first, Lit) or first.quoted:
        return None
    m = _ASSIGN_RE.match(first.text)
    if not m:
        return None
    rest_text = first.text[m.end():]
    parts: tuple[Part, ...] = ((Lit(rest_text),) if rest_text else ()) + word.parts[1:]
    return m.group(1), Word(parts)


def parse(source: str) -> Script:
    """Parse one command line (or several lines) into a :data:`Script`."""
    return _Parser(_Lexer(source).run()).script()
