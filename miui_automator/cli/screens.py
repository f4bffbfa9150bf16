"""``miui-automator screens list | identify | suggest | export | import``: see why the tool did not
recognise a screen, teach it, and share what was taught (thin commands over ``screens/``).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import MiuiAutomatorError, UsageError

SERVER_HELP = "adb server to use: host:port (a USB host sharing its phones), default the local one."
CATALOGUE_HELP = "A user catalogue laid over the built-in one (repeatable; also $MIUI_AUTOMATOR_CATALOGUE)."


def catalogue_option(fn):
    """``--catalogue FILE`` (repeatable), shared by every command that identifies screens."""
    return click.option("--catalogue", "catalogues", multiple=True, metavar="FILE",
                        type=click.Path(dir_okay=False, path_type=Path), help=CATALOGUE_HELP)(fn)


def _catalogue(catalogues: tuple[Path, ...]):
    from ..screens.overlay import load_catalogue

    return load_catalogue(catalogues)


@click.group("screens")
def screens() -> None:
    """Explain and teach screens: list the catalogue, identify a screen, suggest an entry, share bundles."""


@screens.command("list")
@click.option("-s", "--serial", default=None, help="Show only the signatures for this phone's OS variant.")
@click.option("--server", default=None, help=SERVER_HELP)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@catalogue_option
def list_cmd(serial: str | None, server: str | None, as_json: bool, catalogues: tuple[Path, ...]) -> None:
    """Every screen and popup the catalogue knows, with package, activity and matchers."""
    cat = _catalogue(catalogues)
    variant = None
    if serial is not None:
        from .flows import _driver

        variant = _driver(serial, server).info().variant
    origin = getattr(cat, "origin", lambda sig: cat.source)
    rows = []
    for screen in cat.screens:
        sigs = [s for s in screen.signatures if s.applies_to(variant)]
        rows.append({
            "name": screen.name, "kind": "popup" if screen.popup else "overlay" if screen.overlay else "screen",
            "package": screen.package, "activity": screen.activity, "description": screen.description,
            "signatures": [{"declared": f"{origin(s)}:{s.line}", "package": s.package, "variants": list(s.variants),
                            "all": [m.describe() for m in s.all], "any": [m.describe() for m in s.any]} for s in sigs],
            "dismiss": [m.describe() for m in screen.dismiss],
        })
    if as_json:
        click.echo(json.dumps({"source": cat.source, "variant": variant, "screens": rows}, indent=1, ensure_ascii=False))
        return
    click.echo(f"catalogue {cat.source}" + (f" (signatures for {variant})" if variant else ""))
    for row in rows:
        click.echo(f"{row['name']:<26} {row['kind']:<8} {row['package'] or '(any package)'}"
                   + (f"  {row['activity']}" if row["activity"] else ""))
        for sig in row["signatures"]:
            head = f"    - {sig['declared']}"
            if sig["package"] and sig["package"] != row["package"]:
                head += f" package {sig['package']}"
            if sig["variants"]:
                head += f" on {', '.join(sig['variants'])}"
            click.echo(head)
            for m in sig["all"]:
                click.echo(f"        all: {m}")
            if sig["any"]:
                click.echo(f"        any: {' | '.join(sig['any'])}")
        if row["dismiss"]:
            click.echo(f"    dismiss: {' | '.join(row['dismiss'])}")


@screens.command("identify")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("-s", "--serial", default=None, help="Identify the screen on this phone now.")
@click.option("--server", default=None, help=SERVER_HELP)
@click.option("--variant", default=None, help="OS variant whose signatures apply (e.g. hyperos2-zh); default: the phone's, or all.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--failed-only", is_flag=True, help="Show only the checks that failed.")
@catalogue_option
def identify_cmd(file: Path | None, serial: str | None, server: str | None, variant: str | None, as_json: bool,
                 failed_only: bool, catalogues: tuple[Path, ...]) -> None:
    """The screen in FILE (uiautomator dump, Appium page source, run failure dump) or on the phone,
    or the closest candidates with the checks that held and failed."""
    from ..screens.explain import explain, render_text

    h, phone_variant, _ = _hierarchy(file, serial, server)
    cat = _catalogue(catalogues)
    exp = explain(cat, h, variant or phone_variant)
    if as_json:
        click.echo(json.dumps(exp.as_dict(), indent=1, ensure_ascii=False))
        return
    for line in render_text(exp, failed_only=failed_only):
        click.echo(line)


def _hierarchy(file: Path | None, serial: str | None, server: str | None):
    """(hierarchy, variant or None, driver or None) from a file or the phone (exactly one of them)."""
    from ..screens.page_source import read_hierarchy

    if file is not None and serial is not None:
        raise UsageError("give a hierarchy FILE or -s SERIAL, not both")
    if file is not None:
        return read_hierarchy(file), None, None
    from .flows import _driver

    driver = _driver(serial, server)
    return driver.hierarchy(), driver.info().variant, driver


@screens.command("suggest")
@click.argument("name")
@click.option("-s", "--serial", default=None, help="Teach the screen on this phone now (default: the only one attached).")
@click.option("--server", default=None, help=SERVER_HELP)
@click.option("--from", "from_file", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Teach the screen in this saved hierarchy instead (a failure dump, uiautomator dump, Appium page source).")
@click.option("--to", "to_file", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Catalogue file to add the entry to (default: your user catalogue).")
@click.option("--print", "print_only", is_flag=True, help="Only print the entry; write nothing.")
@catalogue_option
def suggest_cmd(name: str, serial: str | None, server: str | None, from_file: Path | None, to_file: Path | None,
                print_only: bool, catalogues: tuple[Path, ...]) -> None:
    """Write a catalogue entry NAME for the screen on the phone now (or in --from FILE), checked
    against the catalogue: it must identify this screen and no other known screen."""
    from ..screens.overlay import evidence_dir, evidence_roots, user_catalogue_path
    from ..screens.suggest import evidence_hierarchies, suggest, write_entry

    h, _, driver = _hierarchy(from_file, serial, server)
    target = to_file or user_catalogue_path()
    extra = [*catalogues, target] if target.is_file() else list(catalogues)
    cat = _catalogue(tuple(extra))
    activity = None
    if driver is not None:
        package, activity = driver.current_app()
        if package != _top_package(h):
            activity = None  # the focused activity belongs to another window than the one taught
    others: dict = {}
    for root in [*evidence_roots(), target.parent / "screens"]:
        others.update(evidence_hierarchies(root))
    try:
        suggestion = suggest(name, h, cat, activity=activity or None, others=others)
        for note in suggestion.notes:
            click.echo(f"note: {note}", err=True)
        if print_only:
            click.echo(suggestion.yaml, nl=False)
            return
        write_entry(target, suggestion)
    except MiuiAutomatorError as err:
        if err.data.get("entry"):  # the entry that was refused, to finish by hand
            click.echo(str(err.data["entry"]), nl=False)
        raise
    folder = evidence_dir(target, name)
    _save_evidence(folder, h, driver, from_file)
    click.echo(suggestion.yaml, nl=False)
    click.echo(f"added screen {name} to {target} (identifies this screen as {suggestion.identified_as}); "
               f"evidence in {folder}")


def _top_package(h) -> str:
    from ..screens.suggest import top_window

    return top_window(h)[1]


def _save_evidence(folder: Path, h, driver, from_file: Path | None) -> None:
    """The redacted hierarchy and screenshot that justify the entry, for bundles and later checks."""
    from PIL import Image

    from ..screens.redact import redact_hierarchy, redact_screenshot

    folder.mkdir(parents=True, exist_ok=True)
    xml, boxes = redact_hierarchy(h.source)
    (folder / "hierarchy.xml").write_text(xml, encoding="utf-8")
    image = None
    if driver is not None:
        image = driver.screenshot()
    elif from_file is not None:  # a run's failure dump sits beside its screenshot (5-failed.xml, 5-failed.jpg)
        for suffix in (".png", ".jpg", ".jpeg"):
            sibling = from_file.with_suffix(suffix)
            if sibling.is_file():
                image = Image.open(sibling)
                break
    if image is not None:
        redact_screenshot(image, boxes).save(folder / "screenshot.png")


@screens.command("export")
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The bundle to write (.zip).")
@catalogue_option
def export_cmd(out: Path, catalogues: tuple[Path, ...]) -> None:
    """Bundle the taught screens (catalogue entries + redacted evidence) for a colleague."""
    from ..screens.bundle import export_bundle

    summary = export_bundle(out, list(catalogues) or None)
    click.echo(f"{summary.path}: {len(summary.screens)} screen(s) ({', '.join(summary.screens)}), "
               f"evidence for {len(summary.evidence)}")


@screens.command("import")
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", default=None, help="Install under this name (default: the bundle's file name).")
def import_cmd(bundle: Path, name: str | None) -> None:
    """Install a bundle made by `screens export`, after validating all of it."""
    from ..screens.bundle import import_bundle

    summary = import_bundle(bundle, name)
    click.echo(f"imported {len(summary.screens)} screen(s) ({', '.join(summary.screens)}) into {summary.path}")
