"""A flow's inputs for one run: ``--param`` values, defaults, and secrets read from where they may come from."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Mapping

from ..errors import ConfigError, UsageError
from ..flow.model import Flow

SecretSource = Callable[[str, "str | None"], "str | None"]
"""``source(name, env)``: a secret's value from the environment, a file or a hidden prompt; None when not given."""


def bind_params(flow: Flow, given: Mapping[str, str], *, secret_source: SecretSource) -> tuple[dict[str, str], dict[str, str]]:
    """(plain params, secrets) for ``flow`` from ``--param`` values, defaults and secret sources.

    Secrets never come from ``--param`` (that would put them in argv); ``secret_source(name, env)``
    reads them from the environment, a file or a hidden prompt.
    """
    known = {p.name: p for p in flow.params}
    for name in given:
        if name not in known:
            raise UsageError(f"flow {flow.name} has no param {name!r} (params: {', '.join(known) or 'none'})")
        if known[name].secret:
            raise UsageError(f"param {name!r} is a secret: pass it through ${known[name].env or 'its environment variable'}"
                             f" or a file, never on the command line")
    plain: dict[str, str] = {}
    secrets: dict[str, str] = {}
    for p in flow.params:
        if p.secret:
            value = secret_source(p.name, p.env)
            if value:
                secrets[p.name] = value
            elif p.required:
                raise UsageError(f"flow {flow.name} needs the secret {p.name!r}: set ${p.env}" if p.env
                                 else f"flow {flow.name} needs the secret {p.name!r}")
            continue
        value = given.get(p.name, p.default)
        if value is None:
            if p.required:
                raise UsageError(f"flow {flow.name} needs --param {p.name}=VALUE")
            value = ""
        if p.choices and value not in p.choices:
            raise UsageError(f"param {p.name}={value!r} is not one of: {', '.join(p.choices)}")
        plain[p.name] = value
    return plain, secrets


def read_secret_file(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as err:
        raise ConfigError(f"{path}: cannot read the password file: {err.strerror or err}") from None
