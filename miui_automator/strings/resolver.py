"""Resolving string resources on one phone, in its language, from its own APKs.

One ``pm list packages -f --show-versioncode`` names every app's APK and versionCode (the cache key,
with the locale) in a single round trip; a phone whose ``pm`` lacks that option (before Android 9) is
asked per app instead (``pm path``, ``dumpsys package``). On a cache miss the resource table is read with
``unzip -p APK resources.arsc`` where the phone has ``unzip`` (only the table crosses the cable),
else the whole APK is pulled and the table taken out of it here. Everything the phone says is
untrusted: a path, a version or a table that does not parse leaves that app's texts unresolved
(the flow's literal texts still apply) with the reason recorded, and so does an APK the phone
cannot send; a phone that is gone fails at its next shell command or at the run's first step.
"""

from __future__ import annotations

import io
import re
import shlex
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..device.driver import BinaryReader, Driver
from ..errors import DeviceError
from .arsc import ArscError, looks_like_arsc, strings_from_arsc
from .cache import StringCache
from .locale import phone_locale, qualifier_chain
from .refs import TextRef

ARSC_NAME = "resources.arsc"
MAX_TABLE_BYTES = 256 << 20
"""A resource table inflating past this is a zip bomb, not an app's strings (real ones are a few MB)."""
_APK_PATH = re.compile(r"/[A-Za-z0-9._/@+=~-]+\.apk\Z")  # Android 11+ installs under /data/app/~~<hash>==/
_VERSION = re.compile(r"\bversionCode=(\d{1,19})\b")
_LISTED = re.compile(r"package:(?P<path>/\S*?\.apk)=(?P<package>[A-Za-z0-9._]+)(?: versionCode:(?P<version>\d{1,19}))?\Z")
LIST_COMMAND = "pm list packages -f --show-versioncode"


def parse_package_list(output: str) -> dict[str, tuple[str, str | None]]:
    """``pm list packages -f --show-versioncode`` as package -> (APK path, versionCode or None).

    A line is ``package:/data/app/~~x==/com.foo-y==/base.apk=com.foo versionCode:123``: the path may hold
    ``=`` itself, so the package is the name after the ``.apk=`` that leaves a package name (and version) to the
    end of the line. Lines that do not have this shape, and
    paths a shell could read as more than one word, are left out: they are the phone's text, not a fact.
    """
    found: dict[str, tuple[str, str | None]] = {}
    for line in output.splitlines():
        m = _LISTED.match(line.strip())
        if m is not None and _APK_PATH.match(m["path"]):
            found.setdefault(m["package"], (m["path"], m["version"]))
    return found


@dataclass
class Resolution:
    """What one phone calls each resource: ``texts`` resolved, ``missing`` with the reason, and the cost."""

    locale: str
    texts: dict[TextRef, str] = field(default_factory=dict)
    missing: dict[TextRef, str] = field(default_factory=dict)
    bytes_read: int = 0
    tables_read: int = 0
    cache_hits: int = 0
    sources: dict[str, str] = field(default_factory=dict)
    """package -> how its table was read: ``cache``, ``unzip``, ``pull``, or why not."""

    def text(self, ref: TextRef) -> str | None:
        return self.texts.get(ref)

    def why_missing(self, ref: TextRef) -> str:
        """``com.miui.cloudservice:string/micloud_wipe_data_retain not found for pl-PL`` (with the app's problem, if any)."""
        return f"{ref} {self.missing.get(ref) or 'not resolved'}"


def merge_chain(table: dict[str, dict[str, str]], locale: str) -> dict[str, str]:
    """Every key's text as Android picks it for ``locale``: the first folder of :func:`qualifier_chain` holding it."""
    merged: dict[str, str] = {}
    for qualifier in reversed(qualifier_chain(locale)):
        merged.update(table.get(qualifier, {}))
    return merged


class StringResolver:
    """Reads and caches the string tables of one phone's apps."""

    def __init__(self, driver: Driver, cache: StringCache | None = None) -> None:
        self.driver = driver
        self.cache = cache if cache is not None else StringCache()
        self._listed: dict[str, tuple[str, str | None]] | None = None  # the phone's package list, read once

    def _installed(self) -> dict[str, tuple[str, str | None]]:
        """Every app's (APK, versionCode) from one shell round trip; empty when the phone's ``pm`` cannot list
        them that way (each app is then asked for on its own)."""
        if self._listed is None:
            out = self.driver.shell(LIST_COMMAND)
            self._listed = parse_package_list(out.output) if out.exit_code == 0 else {}
        return self._listed

    def resolve(self, refs: Iterable[TextRef], locale: str | None = None) -> Resolution:
        """Each of ``refs`` in the phone's locale (read from the phone unless given)."""
        if not isinstance(self.driver, BinaryReader):  # nothing can be read: not even the locale is asked for
            result = Resolution(locale or "")
            for ref in set(refs):
                result.missing[ref] = "not read: this connection cannot read the phone's files"
            return result
        refs = sorted(set(refs))
        result = Resolution(locale or "")
        try:
            result.locale = phone_locale(self.driver) if locale is None else locale
            by_package: dict[str, list[TextRef]] = {}
            for ref in refs:
                by_package.setdefault(ref.package, []).append(ref)
            for package, wanted in by_package.items():
                strings, problem = self._strings(package, result.locale, result)
                for ref in wanted:
                    text = strings.get(ref.key) if strings is not None else None
                    if text:
                        result.texts[ref] = text
                    else:
                        result.missing[ref] = problem or f"not found for {result.locale or 'the default locale'}"
        except DeviceError as err:  # the phone stopped answering: the run records it at its first step
            for ref in refs:
                if ref not in result.texts:
                    result.missing.setdefault(ref, f"not read: {err}")
        return result

    def table(self, package: str, locale: str, result: Resolution | None = None) -> dict[str, str] | None:
        """Every string of ``package`` as the phone shows it in ``locale`` (key -> text), or None when unreadable:
        what ``inspect --strings`` searches to name the key of a text on screen."""
        return self._strings(package, locale, result or Resolution(locale))[0]

    # ------------------------------------------------------------------ one app
    def _strings(self, package: str, locale: str, result: Resolution) -> tuple[dict[str, str] | None, str]:
        """(the app's strings for ``locale``, "") or (None, why not)."""
        listed = self._installed()
        if listed:
            apk, code = listed.get(package, (None, None))
        else:
            apk, code = self._apk_path(package), None
        if apk is None:
            result.sources[package] = "not installed"
            return None, f"not found: {package} is not installed"
        version = code or self._version(package)
        read: list[str] = []

        def load() -> dict[str, str]:
            data, how = self._table(apk, result)
            read.append(how)
            return merge_chain(strings_from_arsc(data), locale)

        try:
            strings, hit = self.cache.get_or_load(package, version, locale, load)
        except ArscError as err:
            result.sources[package] = f"unreadable ({err})"
            return None, f"not read: {package}'s {ARSC_NAME} is unreadable ({err})"
        except DeviceError as err:  # the APK could not be read (a phone that is gone fails the next step anyway)
            result.sources[package] = f"unreadable ({err})"
            return None, f"not read: {package}'s APK could not be read ({err})"
        result.sources[package] = "cache" if hit else read[0]
        result.cache_hits += hit
        return strings, ""

    def _apk_path(self, package: str) -> str | None:
        """The base APK ``pm path`` names (split APKs list ``base.apk`` first; the strings are in it)."""
        out = self.driver.shell(f"pm path {shlex.quote(package)}")
        paths = [line.strip()[len("package:"):] for line in out.output.splitlines() if line.strip().startswith("package:")]
        paths = [p for p in paths if _APK_PATH.match(p)]
        if not paths:
            return None
        base = [p for p in paths if p.endswith("/base.apk")]
        return (base or paths)[0]

    def _version(self, package: str) -> str:
        """versionCode from ``dumpsys package``; "unknown" shares one cache entry per locale, so a phone that
        hides it still benefits (an app updated meanwhile is then re-read only once the cache is cleared)."""
        out = self.driver.shell(f"dumpsys package {shlex.quote(package)}")
        m = _VERSION.search(out.output)
        return m.group(1) if m else "unknown"

    def _table(self, apk: str, result: Resolution) -> tuple[bytes, str]:
        """The raw resources.arsc of ``apk`` and how it was read."""
        reader = self.driver
        assert isinstance(reader, BinaryReader)
        # Trying unzip costs one short answer ("unzip: not found") where the phone lacks it; no probe needed.
        data = reader.shell_bytes(f"unzip -p {shlex.quote(apk)} {ARSC_NAME}")
        result.bytes_read += len(data)
        if looks_like_arsc(data):
            result.tables_read += 1
            return data, "unzip"
        data = reader.read_file(apk)
        result.bytes_read += len(data)
        result.tables_read += 1
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as apk_zip:
                if apk_zip.getinfo(ARSC_NAME).file_size > MAX_TABLE_BYTES:
                    raise ValueError(f"{ARSC_NAME} larger than {MAX_TABLE_BYTES} bytes")
                return apk_zip.read(ARSC_NAME), "pull"
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, RuntimeError) as err:
            raise ArscError(f"the APK holds no readable {ARSC_NAME}: {err}") from None
