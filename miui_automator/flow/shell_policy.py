"""The read-only shell policy: which shell commands a flow may run as a check.

Shell steps and shell conditions are checks. This refuses commands that obviously change the
phone, so a typo'd or copy-pasted ``pm clear`` cannot hide in a flow; it is a guard against
mistakes, not a sandbox. The parser applies it to every command when a flow loads.
"""

from __future__ import annotations

import re

__all__ = ["shell_refusal"]

_ALWAYS_MUTATING = frozenset({
    "rm", "rmdir", "mv", "cp", "dd", "mkdir", "touch", "chmod", "chown", "chgrp", "chcon", "ln", "truncate",
    "tee", "mount", "umount", "kill", "killall", "pkill", "reboot", "shutdown", "poweroff", "halt", "input",
    "sendevent", "setprop", "svc", "monkey", "wipe", "recovery", "vdc", "mkfs", "mke2fs", "make_ext4fs",
    "newfs_msdos", "fsck", "e2fsck", "resize2fs", "restorecon", "setenforce", "start", "stop", "fastboot",
    "install", "eval", "source", ".",
})
_VERB_TOOLS = frozenset({
    "am", "pm", "settings", "content", "appops", "ime", "dpm", "locksettings", "bmgr", "sm", "telecom",
    "device_config", "service", "media", "uiautomator", "cmd", "atrace", "lpctl",
})
_MUTATING_VERB_PREFIXES = (
    "start", "stop", "kill", "force", "set", "clear", "reset", "remove", "delete", "put", "install", "uninstall",
    "disable", "enable", "grant", "revoke", "hide", "unhide", "suspend", "unsuspend", "broadcast", "instrument",
    "crash", "restart", "switch", "create", "wipe", "trim", "move", "write", "insert", "update", "call",
    "reboot", "shutdown", "backup", "restore", "fullbackup", "compile", "default-state", "send", "make", "hang",
    "idle", "lock", "unlock", "dismiss", "add", "run", "transport", "init", "activate", "format", "mount",
    "unmount", "partition", "forget", "fstrim", "bg-dexopt", "dexopt", "reconcile",
)
_DUMPSYS_MUTATING = frozenset({
    "set", "unplug", "reset", "force-idle", "unforce", "step", "enable", "disable", "whitelist", "tempwhitelist",
    "put", "delete", "clear", "kill",
})
_SHELLS = frozenset({"sh", "bash", "mksh", "ash", "dash", "zsh"})
_WRAPPERS = frozenset({"sudo", "nohup", "nice", "ionice", "time", "exec", "command", "builtin", "xargs", "env",
                       "timeout", "busybox", "toybox", "chrt", "taskset"})
_KEYWORDS = frozenset({"{", "}", "!", "if", "then", "else", "elif", "fi", "do", "done", "while", "until"})
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_PUNCTUATION = frozenset("();<>|&")


def shell_refusal(command: str) -> str | None:
    """Why ``command`` is not a read-only check, or None if it looks read-only."""
    return _command_refusal(command, 0)


def _command_refusal(command: str, depth: int) -> str | None:
    if not command.strip():
        return "the command is empty"
    for marker, what in (("`", "command substitution"), ("$(", "command substitution"),
                         ("<(", "process substitution"), (">(", "process substitution")):
        if marker in command:
            return f"{what} ({marker}) cannot be checked"
    try:
        tokens = _shell_tokens(command)
    except ValueError as exc:
        return f"it does not parse as a shell command ({exc})"
    segment: list[str] = []
    it = iter(tokens)
    for text, is_operator in it:
        if not is_operator:
            segment.append(text)
        elif ">" in text:
            target = next(it, ("", True))[0]
            if not (target == "/dev/null" or (text.endswith("&") and (target.isdigit() or target == "-"))):
                return f"it redirects output to a file ({text} {target})".rstrip()
        elif "<" in text:
            next(it, None)
        else:
            reason = _segment_refusal(segment, depth)
            if reason:
                return reason
            segment = []
    return _segment_refusal(segment, depth)


def _shell_tokens(command: str) -> list[tuple[str, bool]]:
    """(text, is_operator) tokens: words with quotes removed, and unquoted runs of ``;&|()<>`` (newline is ``;``).

    Tracking quotes matters: ``grep '>' f`` has no redirection, ``'rm' x`` still runs rm.
    """
    tokens: list[tuple[str, bool]] = []
    word: list[str] = []
    in_word = False
    quote = ""
    i = 0

    def end_word() -> None:
        nonlocal in_word
        if in_word:
            tokens.append(("".join(word), False))
            word.clear()
            in_word = False

    while i < len(command):
        char = command[i]
        if quote == "'":
            if char == "'":
                quote = ""
            else:
                word.append(char)
        elif quote == '"':
            if char == '"':
                quote = ""
            elif char == "\\" and i + 1 < len(command) and command[i + 1] in '"\\$`':
                i += 1
                word.append(command[i])
            else:
                word.append(char)
        elif char in "'\"":
            quote, in_word = char, True
        elif char == "\\":
            i += 1
            word.append(command[i] if i < len(command) else "")
            in_word = True
        elif char == "\n":
            end_word()
            tokens.append((";", True))
        elif char.isspace():
            end_word()
        elif char in _PUNCTUATION:
            end_word()
            start = i
            while i < len(command) and command[i] in _PUNCTUATION:
                i += 1
            tokens.append((command[start:i], True))
            continue
        else:
            word.append(char)
            in_word = True
        i += 1
    if quote:
        raise ValueError(f"no closing {quote}")
    end_word()
    return tokens


def _segment_refusal(words: list[str], depth: int) -> str | None:
    i = 0
    while i < len(words):
        word = words[i]
        base = word.rsplit("/", 1)[-1]
        if _ASSIGNMENT.match(word) or word in _KEYWORDS:
            i += 1
        elif base in _SHELLS or base == "su":
            rest = words[i + 1:]
            if "-c" in rest:
                if depth >= 3:
                    return "shells nested too deeply to check"
                inner = rest[rest.index("-c") + 1] if rest.index("-c") + 1 < len(rest) else ""
                return _command_refusal(inner, depth + 1) if inner.strip() else None
            if base == "su":
                i += 1
                while i < len(words) and (words[i].startswith("-") or words[i].isdigit() or words[i] in ("root", "shell")):
                    i += 1
            elif rest:
                return f"'{base}' runs a script that cannot be checked"
            else:
                return None
        elif base == "run-as":
            i += 2
        elif base in _WRAPPERS:
            i += 1
            while i < len(words) and (words[i].startswith("-") or words[i].replace(".", "", 1).isdigit()):
                i += 1
        else:
            break
    if i >= len(words):
        return None
    cmd, args = words[i].rsplit("/", 1)[-1], words[i + 1:]
    if cmd in _ALWAYS_MUTATING:
        return f"'{cmd}' changes the phone"
    verb = _mutating_verb(cmd, args)
    return f"'{cmd} {verb}' changes the phone" if verb else None


def _mutating_verb(cmd: str, args: list[str]) -> str | None:
    """The sub-command that makes ``cmd args`` change state, if it does."""
    plain = [a for a in args if not a.startswith("-")]
    if cmd in _VERB_TOOLS:
        verb_at = 1 if cmd == "cmd" else 0
        if len(plain) > verb_at:
            verb = plain[verb_at].lower()
            if verb.startswith(_MUTATING_VERB_PREFIXES):
                return " ".join(plain[: verb_at + 1])
        return None
    if cmd == "dumpsys" and len(plain) > 1 and plain[1].lower() in _DUMPSYS_MUTATING:
        return " ".join(plain[:2])
    if cmd == "wm" and (len(plain) > 1 or (plain and plain[0] not in ("size", "density"))):
        return " ".join(plain)
    if cmd == "logcat":
        flags = [a for a in args if a in ("-c", "--clear", "-G") or a.startswith("--buffer-size")]
        return flags[0] if flags else None
    if cmd == "sed":
        flags = [a for a in args if a.startswith(("-i", "--in-place"))]
        return flags[0] if flags else None
    if cmd == "find":
        flags = [a for a in args if a in ("-delete", "-exec", "-execdir", "-ok", "-okdir", "-fprint", "-fprintf", "-fls")]
        return flags[0] if flags else None
    return None
