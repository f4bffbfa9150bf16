"""Where the real ROM texts are: ``../shared/miui-strings/locales`` next to the repository (a
checkout one folder deeper, like a worktree under ``wt/``, finds the same folder). They are
read at run time and never copied into the repository; tests that need them skip without."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_CANDIDATES = (REPO.parent / "shared", REPO.parent.parent / "shared")


def shared_locales() -> Path:
    """The folder of translation sets (``<App>.apk/res/values-*/strings.xml``), or skip the test."""
    for base in _CANDIDATES:
        folder = base / "miui-strings" / "locales"
        if folder.is_dir():
            return folder
    pytest.skip(f"real ROM texts not found at {_CANDIDATES[0] / 'miui-strings' / 'locales'}")
