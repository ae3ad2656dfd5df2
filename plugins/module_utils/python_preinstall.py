# -*- coding: utf-8 -*-
# Copyright: luban-ci contributors
# Apache License 2.0 (see LICENSE)
"""CPython preinstalled in the python-uv buildpack, for the builds that only update a venv.

When only an app's dependencies change, the buildpack keeps the previous image's python layer and
needs CPython just to build the venv on. Installing it again from the mirror writes ~48 MB and
~2,000 files into the layers volume (0.3-1.0 s in a build container). A copy made once, when the
buildpack is packaged, is linked into the layer's path instead and the link removed before the
export. The buildpack uses a copy only when its record names the archive (by sha256), the uv
version, the Python version and the architecture of the build; anything else installs as before.

A copy stands in for an install only if uv's install does not depend on where it is made: uv
rewrites a python-build-standalone archive's ``sysconfig`` data with the directory it installs
into. So the copy is made in a scratch directory with a unique name, and it is refused when any of
its files (or link targets) names that directory.

This file does no process or network work (the module runs uv); it reads the mirror's downloads
list and the trees on disk, and holds the catalog of the module's messages.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from .catalog import Entry, Fields, shown, with_fields
from .catalog import render as render_entry

__all__ = ["CATALOG", "KEY", "MACHINE_ARCH", "PreinstallError", "UV_ARCH", "Wanted", "copy_name", "directory_references",
           "newest", "offered", "record", "resolve", "stale", "usable_copy"]

# CNB target architecture -> the name uv's downloads use.
UV_ARCH = {"amd64": "x86_64", "arm64": "aarch64"}
# A machine's name for its architecture (os.uname().machine) -> CNB architecture.
MACHINE_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
RECORD_SUFFIX = ".json"
# What a copy's record holds: the values of the buildpack's python layer key it stands in for.
KEY = ("python", "archive", "uv", "arch")

# Written by the module itself: counts, the machine's and the architecture's names, and ``offered``,
# the mirror's versions each already shown (quoted) by catalog.shown.
_FIELDS = Fields(plain=frozenset({"count", "machine", "arch", "offered"}), long=frozenset({"detail"}))
CATALOG: dict[str, Entry] = with_fields(_FIELDS, {
    "no_mirror": Entry(
        "CPython is not preinstalled: there is no CPython mirror at {path}. Builds install CPython as "
        "before; build the mirror (make python-mirror) or point python_buildpack_preinstall_mirror_dir "
        "at the one builds mount as their uv-python-mirror binding, to preinstall it."
    ),
    "mirror_unreadable": Entry(
        "The CPython mirror {path} has no readable download-metadata.json ({detail}). CPython is "
        "preinstalled from that mirror, the one builds mount as their uv-python-mirror binding. "
        "Build it (make python-mirror) or point python_buildpack_preinstall_mirror_dir at one."
    ),
    "bad_request": Entry(
        "{python} is not a CPython version to preinstall. Each entry is a version line (3.12) or an "
        "exact version (3.12.1). Fix python_buildpack_preinstall_pythons."
    ),
    "not_in_mirror": Entry(
        "The CPython mirror {path} has no CPython {python} for linux-{arch}-gnu, so it cannot be "
        "preinstalled. It offers: {offered}. Preinstall a version the mirror has, or add it to the mirror."
    ),
    "install_failed": Entry(
        "uv could not install CPython {python} from the mirror {path} to preinstall it: {detail}. "
        "The buildpack is left without it. Check the mirror (make python-mirror rebuilds and verifies it)."
    ),
    "other_machine": Entry(
        "CPython is not preinstalled: this machine ({machine}) cannot run the {arch} uv that makes the "
        "copy. Builds install CPython from the mirror as before; package the buildpack on an {arch} "
        "Linux machine to preinstall it."
    ),
    "no_uv": Entry(
        "CPython is not preinstalled: there is no uv for {arch}, this machine's architecture, at {path}. "
        "Builds install CPython from the mirror as before; vendor uv for {arch} "
        "(python_buildpack_arches) to preinstall it."
    ),
    "path_dependent": Entry(
        "CPython {python} is not preinstalled: uv wrote the directory it installed into in {count} of "
        "its files ({examples}), so a copy made elsewhere would differ from the install a build makes. "
        "Builds install it from the mirror as before."
    ),
})


class PreinstallError(Exception):
    """A preinstall that cannot be made; ``code`` is its catalog key."""

    def __init__(self, code: str, **fields: object) -> None:
        self.code = code
        super().__init__(render_entry(CATALOG[code], **fields).text)


def copy_name(version: str, arch: str) -> str:
    """The directory uv installs a CPython into (and a copy of it is kept under)."""
    return f"cpython-{version}-linux-{UV_ARCH.get(arch, arch)}-gnu"


def usable_copy(directory: Path, key: dict[str, str]) -> Path | None:
    """The copy under ``directory`` that stands in for the install ``key`` (python, archive, uv,
    arch) describes: its record holds exactly these values and its interpreter is there. Else None.
    The module asks this to skip a copy already made; the buildpack, to use one."""
    version = key.get("python", "")
    name = copy_name(version, key.get("arch", ""))
    try:
        found = json.loads((directory / f"{name}{RECORD_SUFFIX}").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    minor = ".".join(version.split(".")[:2])
    if found != {k: key.get(k) for k in KEY} or not (directory / name / "bin" / f"python{minor}").is_file():
        return None
    return directory / name


class Wanted:
    """One CPython to preinstall: its exact version, the mirror's archive and the record kept beside it."""

    def __init__(self, version: str, arch: str, sha256: str, uv_version: str) -> None:
        self.version, self.arch = version, arch
        self.name = copy_name(version, arch)
        self.record = {"python": version, "archive": f"sha256:{sha256}", "uv": uv_version, "arch": arch}

    def current(self, dest: Path) -> bool:
        """Whether ``dest`` holds this copy already."""
        return usable_copy(dest, self.record) is not None


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def offered(entries: object, arch: str) -> dict[str, str | None]:
    """The CPython builds a downloads list (uv's ``download-metadata.json``) offers for
    linux-<arch>-gnu, as version -> sha256 (None where the list gives none): only the default
    builds, no prerelease and no variant (freethreaded, debug) of the build or the CPU, the ones uv
    picks for a plain version request. Anything but a JSON object offers nothing."""
    found: dict[str, str | None] = {}
    for entry in entries.values() if isinstance(entries, dict) else ():
        if not isinstance(entry, dict):
            continue
        # uv's list gives the architecture as {"family": ..., "variant": ...} (a plain name in older lists).
        entry_arch = entry.get("arch")
        family, arch_variant = (entry_arch.get("family"), entry_arch.get("variant")) if isinstance(entry_arch, dict) else (
            entry_arch, None)
        if (entry.get("name"), entry.get("os"), family, entry.get("libc")) != ("cpython", "linux", UV_ARCH.get(arch, arch), "gnu"):
            continue
        if entry.get("prerelease") or entry.get("variant") or arch_variant:
            continue
        try:
            version = ".".join(str(int(entry[k])) for k in ("major", "minor", "patch"))
        except (KeyError, TypeError, ValueError):
            continue
        found[version] = entry.get("sha256") if isinstance(entry.get("sha256"), str) else None
    return found


def newest(versions: Iterable[str], request: str) -> str | None:
    """The version uv installs for a request: an exact version if offered, else a line's newest patch."""
    matching = sorted((v for v in versions if v == request or v.startswith(request + ".")), key=_version_key)
    if request.count(".") == 2:
        matching = [v for v in matching if v == request]
    return matching[-1] if matching else None


def resolve(mirror: Path, request: str, arch: str, uv_version: str) -> Wanted:
    """The mirror's CPython for a version line (its newest patch, as uv picks) or an exact version."""
    parts = request.split(".")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        raise PreinstallError("bad_request", python=request)
    listing = mirror / "download-metadata.json"
    try:
        entries = json.loads(listing.read_text(encoding="utf-8"))
        if not isinstance(entries, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        raise PreinstallError("mirror_unreadable", path=str(mirror), detail=str(exc)) from exc
    # A copy's record names its archive by digest: a build without one is never stood in for.
    found = {v: sha for v, sha in offered(entries, arch).items() if sha}
    version = newest(found, request)
    if version is None:
        listed = ", ".join(shown(v) for v in sorted(found, key=_version_key)) or "none"
        raise PreinstallError("not_in_mirror", path=str(mirror), python=request, arch=UV_ARCH[arch], offered=listed)
    return Wanted(version, arch, found[version], uv_version)


def directory_references(tree: Path, directory: str) -> list[str]:
    """The files under ``tree`` (relative paths, sorted) whose bytes or link target name ``directory``."""
    needle = directory.encode()
    found = []
    for root, dirs, files in os.walk(tree):
        dirs.sort()
        for name in sorted(files + [d for d in dirs if os.path.islink(os.path.join(root, d))]):
            path = os.path.join(root, name)
            if os.path.islink(path):
                hit = directory in os.readlink(path)
            else:
                with open(path, "rb") as handle:
                    hit = needle in handle.read()
            if hit:
                found.append(os.path.relpath(path, tree))
    return sorted(found)


def record(wanted: Wanted) -> str:
    """The record kept beside a copy (what the buildpack compares with its build's python layer key)."""
    return json.dumps(wanted.record, sort_keys=True, indent=2) + "\n"


def stale(dest: Path, wanted: list[Wanted]) -> list[Path]:
    """What ``dest`` holds that no wanted copy is (older versions, copies no longer listed, leftovers)."""
    keep = {w.name for w in wanted} | {w.name + RECORD_SUFFIX for w in wanted}
    if not dest.is_dir():
        return []
    return sorted(p for p in dest.iterdir() if p.name not in keep)
