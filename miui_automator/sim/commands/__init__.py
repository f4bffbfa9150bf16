"""The simulated phone's shell commands, grouped by what they touch; :data:`REGISTRY` maps
each command name to its handler ``(ctx, args) -> exit status``."""

from __future__ import annotations

from typing import Callable

from . import apps, automation, content, core, dumpsys, files, ime, inputs, net, procs, props, screenrecord, text, unzip
from .base import Ctx

Handler = Callable[[Ctx, list[str]], int]

REGISTRY: dict[str, Handler] = {}
for _module in (core, text, files, props, dumpsys, apps, ime, automation, inputs, content, procs, net, screenrecord, unzip):
    REGISTRY.update(_module.COMMANDS)
