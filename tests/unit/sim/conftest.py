"""Fixtures the simulator's unit tests share: a phone without media files and a shell on it."""

from __future__ import annotations

import pytest

from miui_automator.sim.phone import Phone
from miui_automator.sim.shell import Shell


@pytest.fixture
def phone() -> Phone:
    """A fresh phone per test (a module may override it with a shared one)."""
    return Phone(media_files=0)


@pytest.fixture
def sh(phone: Phone) -> Shell:
    return Shell(phone)
