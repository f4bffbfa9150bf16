"""Secrets leave the process environment before anything can inherit them.

A password given as ``MIUI_ACCOUNT_PASSWORD=… miui-automator run …`` sits in ``os.environ``,
and every child process inherits it: the adb server that adbutils starts on demand keeps
running after the CLI exits, so ``/proc/<adb pid>/environ`` would show the password for as
long as that server lives. So the CLI withdraws every secret-looking variable at start-up
(and the variables a flow or an inventory names as secret sources, as soon as they are
parsed) into this process's memory, and children are spawned with :func:`scrubbed_environ`.

The environment is process-wide state, so the withdrawn values are too: one holder per
process, mirroring ``os.environ`` itself.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, MutableMapping

SECRET_NAME = re.compile(r"PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|CREDENTIAL", re.IGNORECASE)

_withdrawn: dict[str, str] = {}


def looks_secret(name: str) -> bool:
    """A variable whose name says it holds a secret."""
    return bool(SECRET_NAME.search(name))


def withdraw(names: Iterable[str] = (), environ: MutableMapping[str, str] | None = None) -> None:
    """Move the secret-looking variables, and ``names``, out of ``environ`` into this process's memory."""
    env = os.environ if environ is None else environ
    wanted = set(names)
    for name in [n for n in env if n in wanted or looks_secret(n)]:
        value = env.pop(name)
        if value:
            _withdrawn[name] = value


def read(name: str) -> str | None:
    """The secret in variable ``name`` (withdrawing it now if it was still in the environment)."""
    if name in os.environ:
        withdraw([name])
    return _withdrawn.get(name) or None


def scrubbed_environ(base: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]:
    """A copy of ``base`` (default ``os.environ``) without any secret-looking variable, for child processes."""
    env = {k: v for k, v in (os.environ if base is None else base).items()
           if not looks_secret(k) and k not in _withdrawn}
    env.update(extra)
    return env


def forget() -> None:
    """Drop every withdrawn value (tests; a long-lived process done with its secrets)."""
    _withdrawn.clear()
