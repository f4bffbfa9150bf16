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


@pytest.fixture
def counted_parses(counted_builds, monkeypatch):
    """Every parse of the font file counted (the costly part a later process should not repeat)."""
    parses: list[str] = []
    make = fonts._make_subset

    def counting(path: str, index: int, chars: str):
        parses.append(chars)
        return make(path, index, chars)

    monkeypatch.setattr(fonts, "_make_subset", counting)
    return parses


def test_a_later_process_reads_the_subset_from_disk(counted_parses):
    """A report of a Chinese phone parsed the whole CJK font (about 0.8 s of CPU) in every run; the subset is
    now kept under the tool's data folder, so the next process (here: an emptied memory cache) reads it."""
    first = fonts._subset("test face", "éàü")
    fonts._build_subset.cache_clear()
    again = fonts._subset("test face", "éàü")
    assert first and again == first
    assert counted_parses == ["éàü"]
    cached = list((fonts.data_home() / fonts.CACHE_DIR).glob("*.otf"))
    assert len(cached) == 1 and cached[0].stat().st_mode & 0o077 == 0


def test_a_subset_built_again_later_is_the_same_bytes(counted_builds, monkeypatch):
    """fontTools stamps the build time into the font by default, so two builds a second apart differed."""
    from fontTools.ttLib.tables import _h_e_a_d

    monkeypatch.setattr(_h_e_a_d, "timestampNow", lambda: 3_000_000_000)
    first = fonts._make_subset(DEJAVU, 0, "é")
    monkeypatch.setattr(_h_e_a_d, "timestampNow", lambda: 3_000_000_001)
    assert first and fonts._make_subset(DEJAVU, 0, "é") == first


def test_a_damaged_cache_file_is_built_again(counted_parses):
    first = fonts._subset("test face", "é")
    [cached] = (fonts.data_home() / fonts.CACHE_DIR).glob("*.otf")
    cached.write_bytes(b"<html>not a font")
    fonts._build_subset.cache_clear()
    assert fonts._subset("test face", "é") == first
    assert len(counted_parses) == 2
    assert cached.read_bytes() == first


def test_an_unwritable_home_still_gives_the_subset(counted_parses, monkeypatch, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data folder should be")
    monkeypatch.setenv("MIUI_AUTOMATOR_HOME", str(blocker))
    assert fonts._subset("test face", "é")
