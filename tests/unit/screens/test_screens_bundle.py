"""Screen bundles: export what was taught with redacted evidence, import it after validating all
of it, refuse zips that do not look like bundles."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from miui_automator.errors import ConfigError, UsageError
from miui_automator.screens.bundle import export_bundle, import_bundle
from miui_automator.screens.overlay import evidence_dir, load_catalogue, user_catalogue_path
from miui_automator.screens.redact import redact_hierarchy
from miui_automator.screens.suggest import suggest, write_entry
from miui_automator.screens.catalogue import default_catalogue
from screens_helpers import consent_xml, parsed


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("MIUI_AUTOMATOR_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MIUI_AUTOMATOR_CATALOGUE", raising=False)
    return tmp_path / "home"


def _teach(raw_xml: str) -> Path:
    """What `screens suggest` leaves: the entry in the user catalogue and its evidence beside it,
    but with an unredacted dump, as a careless hand might have saved it."""
    path = user_catalogue_path()
    write_entry(path, suggest("carrier_consent", parsed(raw_xml), default_catalogue()))
    folder = evidence_dir(path, "carrier_consent")
    folder.mkdir(parents=True)
    (folder / "hierarchy.xml").write_text(raw_xml, encoding="utf-8")
    Image.new("RGB", (1080, 2400), (255, 255, 255)).save(folder / "screenshot.png")
    return path


def test_export_then_import_on_another_machine(tmp_path, home, monkeypatch) -> None:
    raw = consent_xml()
    _teach(raw)
    bundle = tmp_path / "lab.zip"
    summary = export_bundle(bundle)
    assert summary.screens == ("carrier_consent",) and summary.evidence == ("carrier_consent",)
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        dump = zf.read("screens/carrier_consent/hierarchy.xml").decode("utf-8")
        shot = Image.open(io.BytesIO(zf.read("screens/carrier_consent/screenshot.png")))
    assert {"manifest.json", "catalogues/1-catalogue.yaml", "screens/carrier_consent/screenshot.png"} <= names
    assert "7700 900123" not in dump, "evidence is redacted again on export"
    _, boxes = redact_hierarchy(raw)
    left, top, right, bottom = boxes[0]
    assert shot.getpixel(((left + right) // 2, (top + bottom) // 2)) == (0, 0, 0)

    # a colleague with an empty user folder
    monkeypatch.setenv("MIUI_AUTOMATOR_HOME", str(tmp_path / "colleague"))
    assert "carrier_consent" not in load_catalogue()
    installed = import_bundle(bundle)
    assert installed.path == tmp_path / "colleague" / "imported" / "lab"
    assert load_catalogue().identify(parsed(consent_xml("miui14-en"))).name == "carrier_consent"
    import_bundle(bundle)  # importing again replaces the older copy
    assert len(list((tmp_path / "colleague" / "imported").iterdir())) == 1


def test_export_without_anything_taught_is_a_usage_error(tmp_path) -> None:
    with pytest.raises(UsageError, match="no user catalogue to export"):
        export_bundle(tmp_path / "empty.zip")


def _zip(path: Path, members: dict[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


MANIFEST = json.dumps({"format": "miui-automator-screens", "version": 1})
GOOD = ("version: 1\nscreens:\n  carrier_consent:\n    package: com.carrier.consent\n    signatures:\n"
        "      - all:\n          - {id: com.carrier.consent:id/consent_title}\n")


@pytest.mark.parametrize("members, error", [
    ({"manifest.json": MANIFEST, "catalogues/1.yaml": GOOD, "../../evil.sh": "x"}, "unexpected file '../../evil.sh'"),
    ({"catalogues/1.yaml": GOOD}, "no manifest.json"),
    ({"manifest.json": MANIFEST.replace("1}", "9}"), "catalogues/1.yaml": GOOD}, "version 9"),
    ({"manifest.json": MANIFEST}, "holds no catalogue"),
    ({"manifest.json": MANIFEST, "catalogues/1.yaml": GOOD, "screens/other/hierarchy.xml": "<hierarchy/>"},
     "no catalogue in the bundle defines"),
    ({"manifest.json": MANIFEST, "catalogues/1.yaml": GOOD, "screens/carrier_consent/screenshot.png": b"not a png"},
     "not a PNG"),
])
def test_bad_bundles_are_refused_and_nothing_is_installed(tmp_path, home, members, error) -> None:
    bundle = _zip(tmp_path / "bad.zip", members)
    with pytest.raises(UsageError, match=error):
        import_bundle(bundle)
    assert not (home / "imported").exists()


def test_evidence_the_bundles_catalogue_does_not_recognise_is_refused(tmp_path, home) -> None:
    other = consent_xml().replace("com.carrier.consent:id/consent_title", "com.carrier.consent:id/other_title")
    bundle = _zip(tmp_path / "b.zip", {"manifest.json": MANIFEST, "catalogues/1.yaml": GOOD,
                                       "screens/carrier_consent/hierarchy.xml": other})
    with pytest.raises(UsageError, match="identified as 'unknown', not 'carrier_consent'"):
        import_bundle(bundle)
    assert not (home / "imported").exists()


def test_a_broken_catalogue_in_a_bundle_names_bundle_member_and_line(tmp_path, home) -> None:
    bundle = _zip(tmp_path / "b.zip", {"manifest.json": MANIFEST,
                                       "catalogues/1.yaml": GOOD.replace("signatures:", "signatures: oops\n    x:")})
    with pytest.raises(ConfigError, match=r"b\.zip:catalogues/1\.yaml:\d+: "):
        import_bundle(bundle)
