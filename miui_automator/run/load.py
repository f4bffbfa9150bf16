"""Finding a flow: a built-in one by name, or a YAML file by path, validated completely before it runs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from .. import secret_env
from ..flow.model import Flow
from ..flow.parser import FlowResolver, load_flow
from ..screens.overlay import load_catalogue
from ..tasks import registry

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "flows"


def resolver() -> FlowResolver:
    return FlowResolver(BUILTIN_DIR)


def builtin_flows() -> list[str]:
    return resolver().names()


def load(ref: str, catalogue_args: Sequence[str | Path] = ()) -> Flow:
    """A built-in flow by name, or a YAML file by path; validated completely (tasks, sub-flows, and screen names
    against the built-in catalogue with the user's catalogues, ``catalogue_args`` among them, laid over it)."""
    path = Path(ref)
    flow = load_flow(path if path.suffix in (".yaml", ".yml") or os.sep in ref else ref,
                     known_screens=load_catalogue(catalogue_args).names, builtin_dir=BUILTIN_DIR, known_tasks=registry())
    # The flow names where its secrets come from: take them out of the environment before any child process
    # (the adb server above all) can inherit them.
    secret_env.withdraw(p.env for p in flow.params if p.secret and p.env)
    return flow
