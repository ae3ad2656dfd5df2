# -*- coding: utf-8 -*-
# Copyright: luban-ci contributors
# Apache License 2.0 (see LICENSE)
"""The python_preinstall module with the real uv (the tooling venv's, the version the buildpack
vendors) installing from a mirror laid out as `make python-mirror` lays it out. Its archives are
small stand-ins for CPython: uv installs what the archive holds, and rewrites a
python-build-standalone ``_sysconfigdata`` with the directory it installs into, which is what
makes an archive unfit for a copy."""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import tarfile
from pathlib import Path
from unittest import mock

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.luban.ci.plugins.modules import python_preinstall

UV = Path(sys.executable).parent / "uv"
ARCH = {"x86_64": "amd64", "aarch64": "arm64"}[os.uname().machine]
FAMILY = {"amd64": "x86_64", "arm64": "aarch64"}[ARCH]
SYSCONFIG = f"lib/python3.12/_sysconfigdata__linux_{FAMILY}-linux-gnu.py"


def archive(mirror: Path, patch: int, path_dependent: bool = False) -> None:
    """Adds CPython 3.12.<patch> (a stand-in) to the mirror and its downloads list."""
    # uv needs the sysconfig data; python-build-standalone's names the placeholder prefix /install,
    # which uv replaces with its install directory; a CPython built in place (pyenv) names its own.
    prefix = b"/install" if path_dependent else b"/opt/python-3.12"
    files = {"bin/python3.12": b"#!/bin/sh\necho python\n", "lib/python3.12/os.py": b"sep = '/'\n",
             SYSCONFIG: (b"# system configuration generated and used by the sysconfig module\n"
                         b"build_time_vars = {\n    'prefix': '" + prefix + b"',\n}\n")}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"python/{name}")
            info.size, info.mode = len(data), 0o755 if name.startswith("bin/") else 0o644
            tar.addfile(info, io.BytesIO(data))
    name = f"cpython-3.12.{patch}+t1-{FAMILY}-unknown-linux-gnu-install_only.tar.gz"
    (mirror / "t1").mkdir(parents=True, exist_ok=True)
    (mirror / "t1" / name).write_bytes(buffer.getvalue())
    listing = mirror / "download-metadata.json"
    entries = json.loads(listing.read_text()) if listing.exists() else {}
    entries[f"cpython-3.12.{patch}-linux-{FAMILY}-gnu"] = {
        "name": "cpython", "arch": {"family": FAMILY, "variant": None}, "os": "linux", "libc": "gnu",
        "major": 3, "minor": 12, "patch": patch, "prerelease": "", "variant": None, "build": "t1",
        "url": f"https://github.com/astral-sh/python-build-standalone/releases/download/t1/{name.replace('+', '%2B')}",
        "sha256": hashlib.sha256(buffer.getvalue()).hexdigest(),
    }
    listing.write_text(json.dumps(entries))


@pytest.fixture
def setup(tmp_path: Path) -> dict:
    uv_dir = tmp_path / "vendor" / "uv"
    (uv_dir / ARCH).mkdir(parents=True)
    (uv_dir / ARCH / "uv").symlink_to(UV)
    return {"dest": str(tmp_path / "bp" / "python"), "mirror_dir": str(tmp_path / "mirror"), "uv_dir": str(uv_dir),
            "uv_version": "0.13.9"}


def run_module(capsys: pytest.CaptureFixture, **args: object) -> dict:
    """One run of the module, with the texts it gave AnsibleModule.warn as ``warnings`` (where
    ansible-core routes a warning depends on what else the process imported)."""
    given: list[str] = []
    with patch_module_args(args), pytest.raises(SystemExit), \
            mock.patch.object(python_preinstall.AnsibleModule, "warn", lambda self, text: given.append(text)):
        python_preinstall.main()
    result = json.loads(capsys.readouterr().out)
    result["warnings"] = given
    return result


def test_a_copy_is_made_recorded_and_then_left_alone(setup: dict, capsys: pytest.CaptureFixture) -> None:
    archive(Path(setup["mirror_dir"]), 1)
    archive(Path(setup["mirror_dir"]), 4)
    name = f"cpython-3.12.4-linux-{FAMILY}-gnu"

    checked = run_module(capsys, pythons=["3.12"], _ansible_check_mode=True, **setup)
    assert (checked["changed"], checked["installed"], checked["preinstalled"]) == (True, [name], [name])
    assert not Path(setup["dest"]).exists()

    made = run_module(capsys, pythons=["3.12"], **setup)
    assert (made["changed"], made["installed"], made["removed"], made["preinstalled"]) == (True, [name], [], [name])
    dest = Path(setup["dest"])
    assert sorted(p.name for p in dest.iterdir()) == [name, f"{name}.json"]
    assert (dest / name / "bin" / "python3.12").read_bytes() == b"#!/bin/sh\necho python\n"
    sha = json.loads((Path(setup["mirror_dir"]) / "download-metadata.json").read_text())[name]["sha256"]
    assert json.loads((dest / f"{name}.json").read_text()) == {
        "python": "3.12.4", "archive": f"sha256:{sha}", "uv": "0.13.9", "arch": ARCH}

    again = run_module(capsys, pythons=["3.12.4"], **setup)
    assert (again["changed"], again["installed"], again["preinstalled"]) == (False, [], [name])


def test_copies_no_longer_listed_and_leftovers_are_removed(setup: dict, capsys: pytest.CaptureFixture) -> None:
    archive(Path(setup["mirror_dir"]), 1)
    run_module(capsys, pythons=["3.12"], **setup)
    (Path(setup["dest"]) / ".preinstall-left").mkdir()
    name = f"cpython-3.12.1-linux-{FAMILY}-gnu"
    result = run_module(capsys, pythons=[], **setup)
    assert (result["changed"], result["removed"], result["preinstalled"]) == (True, [".preinstall-left", name, f"{name}.json"], [])
    assert list(Path(setup["dest"]).iterdir()) == []


def test_a_copy_of_another_archive_is_replaced_and_said_so(setup: dict, capsys: pytest.CaptureFixture) -> None:
    """A copy the buildpack would no longer use goes, and the run says so, even when the new
    install cannot be kept (it names its directory)."""
    archive(Path(setup["mirror_dir"]), 1)
    name = f"cpython-3.12.1-linux-{FAMILY}-gnu"
    run_module(capsys, pythons=["3.12"], **dict(setup, uv_version="0.13.8"))
    replaced = run_module(capsys, pythons=["3.12"], **setup)
    assert (replaced["changed"], replaced["removed"], replaced["installed"]) == (True, [name, f"{name}.json"], [name])
    assert json.loads((Path(setup["dest"]) / f"{name}.json").read_text())["uv"] == "0.13.9"

    archive(Path(setup["mirror_dir"]), 1, path_dependent=True)  # the same version packed again
    refused = run_module(capsys, pythons=["3.12"], **setup)
    assert (refused["changed"], refused["removed"], refused["installed"], refused["preinstalled"]) == (
        True, [name, f"{name}.json"], [], [])
    assert [w.split(":")[0] for w in refused["warnings"]] == ["CPython '3.12.1' is not preinstalled"]
    assert list(Path(setup["dest"]).iterdir()) == []


def test_an_install_that_names_its_directory_is_not_kept(setup: dict, capsys: pytest.CaptureFixture) -> None:
    archive(Path(setup["mirror_dir"]), 2, path_dependent=True)
    result = run_module(capsys, pythons=["3.12"], **setup)
    assert (result["changed"], result["installed"], result["preinstalled"]) == (False, [], [])
    assert result["warnings"] == [
        f"CPython '3.12.2' is not preinstalled: uv wrote the directory it installed into in 1 of its files "
        f"('{SYSCONFIG}'), so a copy made elsewhere would differ from the install a build makes. "
        "Builds install it from the mirror as before."
    ]
    assert list(Path(setup["dest"]).iterdir()) == []


def test_a_version_the_mirror_lacks_fails_with_the_catalog_message(setup: dict, capsys: pytest.CaptureFixture) -> None:
    archive(Path(setup["mirror_dir"]), 1)
    result = run_module(capsys, pythons=["3.13"], **setup)
    assert (result["failed"], result["error"]) == (True, "not_in_mirror")
    assert result["msg"] == (
        f"The CPython mirror '{setup['mirror_dir']}' has no CPython '3.13' for linux-{FAMILY}-gnu, so it cannot be "
        "preinstalled. It offers: '3.12.1'. Preinstall a version the mirror has, or add it to the mirror."
    )


def test_a_broken_archive_fails_and_leaves_nothing_behind(setup: dict, capsys: pytest.CaptureFixture) -> None:
    archive(Path(setup["mirror_dir"]), 1)
    for path in (Path(setup["mirror_dir"]) / "t1").iterdir():
        path.write_bytes(b"not gzip")
    result = run_module(capsys, pythons=["3.12"], **setup)
    assert (result["failed"], result["error"]) == (True, "install_failed")
    assert result["msg"].startswith(f"uv could not install CPython '3.12.1' from the mirror '{setup['mirror_dir']}' to preinstall it: ")
    assert result["msg"].endswith(". The buildpack is left without it. Check the mirror (make python-mirror rebuilds and verifies it).")
    assert list(Path(setup["dest"]).iterdir()) == []


def test_another_architecture_or_no_uv_is_a_warning(setup: dict, capsys: pytest.CaptureFixture) -> None:
    archive(Path(setup["mirror_dir"]), 1)
    other = "arm64" if ARCH == "amd64" else "amd64"
    listing = Path(setup["mirror_dir"]) / "download-metadata.json"
    entries = json.loads(listing.read_text())
    for key, entry in list(entries.items()):
        family = {"amd64": "x86_64", "arm64": "aarch64"}[other]
        entries[key.replace(FAMILY, family)] = {**entry, "arch": {"family": family, "variant": None}}
    listing.write_text(json.dumps(entries))
    result = run_module(capsys, pythons=["3.12"], arch=other, **setup)
    assert (result["changed"], result["preinstalled"]) == (False, [])
    assert result["warnings"] == [
        f"CPython is not preinstalled: this machine (Linux {os.uname().machine}) cannot run the {other} uv that makes "
        f"the copy. Builds install CPython from the mirror as before; package the buildpack on an {other} Linux "
        "machine to preinstall it."
    ]
    (Path(setup["uv_dir"]) / ARCH / "uv").unlink()
    result = run_module(capsys, pythons=["3.12"], **setup)
    assert result["warnings"] == [
        f"CPython is not preinstalled: there is no uv for {ARCH}, this machine's architecture, at "
        f"'{setup['uv_dir']}/{ARCH}/uv'. Builds install CPython from the mirror as before; vendor uv for {ARCH} "
        "(python_buildpack_arches) to preinstall it."
    ]


def test_without_a_mirror_nothing_is_preinstalled_and_a_warning_says_why(setup: dict, capsys: pytest.CaptureFixture) -> None:
    result = run_module(capsys, pythons=["3.12"], **setup)
    assert (result["changed"], result["preinstalled"]) == (False, [])
    assert result["warnings"] == [
        f"CPython is not preinstalled: there is no CPython mirror at '{setup['mirror_dir']}'. Builds install CPython as "
        "before; build the mirror (make python-mirror) or point python_buildpack_preinstall_mirror_dir at the one "
        "builds mount as their uv-python-mirror binding, to preinstall it."
    ]
