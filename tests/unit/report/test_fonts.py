"""The report's embedded font subsets: built once for many reports rendered at the same moment (a fleet)."""

from __future__ import annotations

import threading

import pytest

from miui_automator.report import fonts

DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


@pytest.fixture
def counted_builds(monkeypatch):
    """Every build of a subset counted; the font is a small one so the test stays fast."""
    import os

    if not os.path.exists(DEJAVU):
        pytest.skip("DejaVu Sans is not installed")
    builds: list[str] = []

    def font_file(source: str):
        builds.append(source)
        return DEJAVU, 0

    monkeypatch.setattr(fonts, "_font_file", font_file)
    fonts._build_subset.cache_clear()
    yield builds
    fonts._build_subset.cache_clear()


def test_reports_rendered_at_once_build_one_subset(counted_builds):
    """16 phones finishing together used to build 16 copies of the same subset at once (seconds of CPU and
    hundreds of MB for the CJK face); the first now builds it and the others reuse it."""
    threads = 12
    start = threading.Barrier(threads)
    results: list[bytes | None] = []

    def render() -> None:
        start.wait(timeout=10)
        results.append(fonts._subset("test face", "éàü"))

    workers = [threading.Thread(target=render) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=30)
    assert len(results) == threads
    assert results[0] and all(r == results[0] for r in results)
    assert counted_builds == ["test face"]


def test_other_characters_get_their_own_subset(counted_builds):
    one, other = fonts._subset("test face", "é"), fonts._subset("test face", "ü")
    assert one != other
    assert fonts._subset("test face", "é") == one
    assert counted_builds == ["test face", "test face"]
