"""The offline CPython mirror (scripts/python_mirror.py): uv's downloads-list format, checksums,
and idempotence. `make python-mirror` has already installed and run each Python with real uv."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tarfile
import urllib.parse

from contract_support import MIRROR, REPO

KEYS = {"name", "arch", "os", "libc", "major", "minor", "patch", "prerelease", "url", "sha256", "variant", "build"}
PBS = "https://github.com/astral-sh/python-build-standalone/releases/download/"


def metadata() -> dict:
    return json.loads((MIRROR / "download-metadata.json").read_text())


def test_downloads_list_is_in_uvs_format_with_matching_checksums() -> None:
    entries = metadata()
    assert {f"{e['major']}.{e['minor']}" for e in entries.values()} >= {"3.12", "3.13"}
    for key, entry in entries.items():
        assert set(entry) == KEYS
        assert key == f"cpython-{entry['major']}.{entry['minor']}.{entry['patch']}-linux-{entry['arch']['family']}-gnu"
        assert (entry["name"], entry["os"], entry["libc"], entry["prerelease"], entry["variant"]) == ("cpython", "linux", "gnu", "", None)
        # Canonical release URLs: UV_PYTHON_INSTALL_MIRROR relocates them to wherever the mirror is.
        assert entry["url"].startswith(PBS)
        archive = MIRROR / urllib.parse.unquote(entry["url"][len(PBS):])
        assert hashlib.sha256(archive.read_bytes()).hexdigest() == entry["sha256"]


def test_archives_have_the_install_only_layout() -> None:
    entry = next(e for e in metadata().values() if e["minor"] == 13)
    with tarfile.open(MIRROR / urllib.parse.unquote(entry["url"][len(PBS):])) as archive:
        names = set(archive.getnames())
        members = archive.getmembers()
    assert {"python/bin/python3.13", "python/bin/python3", "python/lib/libpython3.13.so.1.0", "python/lib/libssl.so.3"} <= names
    assert not [m.name for m in members if "site-packages/" in m.name or "/test/" in m.name or "_tkinter" in m.name]
    assert {(m.uid, m.gid, m.mtime) for m in members} == {(0, 0, 0)}


def test_archives_carry_no_debug_information(tmp_path) -> None:
    """Stripped once when the mirror is made, so no build strips (or ships) debug sections."""
    entry = next(e for e in metadata().values() if e["minor"] == 13)
    with tarfile.open(MIRROR / urllib.parse.unquote(entry["url"][len(PBS):])) as archive:
        archive.extractall(tmp_path, filter="data")
    elves = [p for p in sorted((tmp_path / "python").rglob("*"))
             if p.is_file() and not p.is_symlink() and p.read_bytes()[:4] == b"\x7fELF"]
    assert len(elves) > 20, elves
    for path in elves:
        sections = subprocess.run(["readelf", "-S", "-W", str(path)], capture_output=True, text=True, check=True).stdout
        assert ".debug_" not in sections, path


def test_rerunning_the_mirror_script_changes_nothing() -> None:
    before = {p: p.stat().st_mtime_ns for p in MIRROR.rglob("*") if p.is_file()}
    result = subprocess.run([sys.executable, str(REPO / "scripts/python_mirror.py"), "--out", str(MIRROR)],
                            capture_output=True, text=True, env=dict(os.environ), timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert "packing" not in result.stderr
    assert {p: p.stat().st_mtime_ns for p in MIRROR.rglob("*") if p.is_file()} == before
    assert result.stdout == (MIRROR / "env").read_text()
