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


def test_archives_carry_the_standard_librarys_bytecode(tmp_path) -> None:
    """Compiled once, into the archive (python-build-standalone ships it too): an app's imports and
    uv's interpreter query read it instead of compiling the standard library at every start. Every
    source has its .pyc, checked by hash (valid whatever times extraction gives the sources; a
    source uv rewrites after extracting, _sysconfigdata, is compiled from itself), recording the
    path inside the archive rather than the staging directory's."""
    entry = next(e for e in metadata().values() if e["minor"] == 13)
    with tarfile.open(MIRROR / urllib.parse.unquote(entry["url"][len(PBS):])) as archive:
        archive.extractall(tmp_path, filter="data")
    lib = tmp_path / "python" / "lib" / "python3.13"
    sources = sorted(p for p in lib.rglob("*.py") if "site-packages" not in p.parts)
    assert len(sources) > 500
    missing = [p for p in sources if not (p.parent / "__pycache__" / f"{p.stem}.cpython-313.pyc").is_file()]
    assert missing == []
    pyc = (lib / "__pycache__" / "os.cpython-313.pyc").read_bytes()
    assert int.from_bytes(pyc[4:8], "little") == 0b11  # hash-based, source checked
    assert b"python/lib/python3.13/os.py" in pyc and b"python-mirror-" not in pyc
    # `python -v` names where each module's code object came from: the .pyc, not a compile.
    run = subprocess.run([str(tmp_path / "python" / "bin" / "python3.13"), "-v", "-c", "import json"],
                         capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}, check=True)
    assert f"code object from '{lib}/json/__pycache__/__init__.cpython-313.pyc'" in run.stderr
    assert f"code object from {lib}/json/__init__.py" not in run.stderr  # what a compile from source logs
    assert not list(tmp_path.rglob("*.cpython-313.opt-*.pyc"))  # optimization level 0 only
    # A changed source is not hidden by its .pyc.
    (lib / "json" / "__init__.py").write_text("marker = 'edited after extraction'\n")
    edited = subprocess.run([str(tmp_path / "python" / "bin" / "python3.13"), "-c", "import json; print(json.marker)"],
                            capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}, check=True)
    assert edited.stdout == "edited after extraction\n"


def test_packing_again_gives_the_same_bytes(tmp_path) -> None:
    """Archives are reproducible, compiled bytecode included: a fresh packing of one line matches."""
    result = subprocess.run([sys.executable, str(REPO / "scripts/python_mirror.py"), "--out", str(tmp_path), "--minors", "3.13"],
                            capture_output=True, text=True, env=dict(os.environ), timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert "packing CPython 3.13" in result.stderr
    fresh = json.loads((tmp_path / "download-metadata.json").read_text())
    key = next(k for k, e in metadata().items() if e["minor"] == 13)
    assert fresh[key]["sha256"] == metadata()[key]["sha256"]


def test_rerunning_the_mirror_script_changes_nothing() -> None:
    before = {p: p.stat().st_mtime_ns for p in MIRROR.rglob("*") if p.is_file()}
    result = subprocess.run([sys.executable, str(REPO / "scripts/python_mirror.py"), "--out", str(MIRROR)],
                            capture_output=True, text=True, env=dict(os.environ), timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert "packing" not in result.stderr
    assert {p: p.stat().st_mtime_ns for p in MIRROR.rglob("*") if p.is_file()} == before
    assert result.stdout == (MIRROR / "env").read_text()
