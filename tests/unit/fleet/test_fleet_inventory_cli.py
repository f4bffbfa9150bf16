"""A hostile ``devices.yaml`` through the real command line: one line naming file:line, exit 2, no traceback.

The inventory is refused while it loads, before any adb server or phone is asked, so no simulator
is needed; the files are the ones from the bug report (they used to hang or crash the CLI).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def hostile_inventories() -> dict[str, tuple[str, str]]:
    """name -> (file text, what the error says)."""
    keys = ", ".join(f"k{i}: v" for i in range(2000))
    return {
        "30000 levels of nesting": ("devices:\n  - match: {}\n    params: " + "{a: " * 30_000 + "x" + "}" * 30_000 + "\n",
                                    "nested too deeply"),
        "a 2000-key map aliased 4000 times": (
            f"defaults:\n  params: &p {{{keys}}}\ndevices:\n" + "  - {match: {}, params: *p}\n" * 4000,
            "YAML nodes once its aliases are expanded"),
        "300000 phones": ("devices:\n" + "".join(f"  - serial: s{i:06d}\n" for i in range(300_000)),
                          "the file is larger than 1 MiB"),
    }


@pytest.mark.parametrize("name", hostile_inventories())
def test_fleet_run_refuses_a_hostile_inventory_in_one_line(name: str, tmp_path: Path) -> None:
    text, says = hostile_inventories()[name]
    inventory = tmp_path / "devices.yaml"
    inventory.write_text(text, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "miui_automator.cli.main", "fleet", "run", "open-account-page",
         "--inventory", str(inventory), "--yes"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr[:2000]
    assert lines[0].startswith(f"error: {inventory}:") and says in lines[0], lines[0]
    line_number = lines[0][len(f"error: {inventory}:"):].split(":", 1)[0]
    assert line_number.isdigit()
    assert not (tmp_path / "runs").exists()  # refused before a ledger or a run folder was made
