# -*- coding: utf-8 -*-
# Copyright: luban-ci contributors
# Apache License 2.0 (see LICENSE)
"""Which CPython a preinstall takes from a mirror, when a copy is current, and every message word for word."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ansible_collections.luban.ci.plugins.module_utils.python_preinstall import (
    PreinstallError,
    Wanted,
    directory_references,
    newest,
    offered,
    record,
    resolve,
    stale,
    usable_copy,
)


def entry(patch: int, minor: int = 12, arch: object = None, **extra: object) -> tuple[str, dict]:
    arch = {"family": "x86_64", "variant": None} if arch is None else arch
    family = arch["family"] if isinstance(arch, dict) else arch
    key = f"cpython-3.{minor}.{patch}-linux-{family}-gnu"
    return key, {"name": "cpython", "arch": arch, "os": "linux", "libc": "gnu", "major": 3, "minor": minor,
                 "patch": patch, "prerelease": "", "sha256": f"{minor:02d}{patch:02d}" * 16, "variant": None, **extra}


def mirror(tmp_path: Path, *entries: tuple[str, dict]) -> Path:
    (tmp_path / "download-metadata.json").write_text(json.dumps(dict(entries)))
    return tmp_path


def test_a_line_takes_the_newest_patch_and_an_exact_version_itself(tmp_path: Path) -> None:
    m = mirror(tmp_path, entry(1), entry(9), entry(10), entry(0, minor=13), entry(3, minor=12, arch="x86_64"))
    newest = resolve(m, "3.12", "amd64", "0.13.9")
    assert (newest.version, newest.name) == ("3.12.10", "cpython-3.12.10-linux-x86_64-gnu")
    assert newest.record == {"python": "3.12.10", "archive": "sha256:" + "1210" * 16, "uv": "0.13.9", "arch": "amd64"}
    assert resolve(m, "3.12.3", "amd64", "0.13.9").version == "3.12.3"  # a plain architecture name counts too


def test_other_builds_architectures_and_prereleases_are_not_taken(tmp_path: Path) -> None:
    m = mirror(tmp_path, entry(1), entry(2, variant="freethreaded"), entry(3, prerelease="rc1"),
               entry(4, arch={"family": "x86_64", "variant": "v3"}), entry(5, arch={"family": "aarch64", "variant": None}),
               entry(6, libc="musl"))
    assert resolve(m, "3.12", "amd64", "0.13.9").version == "3.12.1"
    assert resolve(m, "3.12", "arm64", "0.13.9").name == "cpython-3.12.5-linux-aarch64-gnu"


def test_a_version_the_mirror_lacks_is_refused_with_what_it_offers(tmp_path: Path) -> None:
    m = mirror(tmp_path, entry(1), entry(0, minor=13))
    with pytest.raises(PreinstallError) as caught:
        resolve(m, "3.12.2", "amd64", "0.13.9")
    assert caught.value.code == "not_in_mirror"
    assert str(caught.value) == (
        f"The CPython mirror '{m}' has no CPython '3.12.2' for linux-x86_64-gnu, so it cannot be "
        "preinstalled. It offers: '3.12.1', '3.13.0'. Preinstall a version the mirror has, or add it to the mirror."
    )


@pytest.mark.parametrize("request_", ["3", "3.12.1.4", "latest", "3.x", ""])
def test_a_request_that_is_no_version_is_refused(tmp_path: Path, request_: str) -> None:
    with pytest.raises(PreinstallError) as caught:
        resolve(mirror(tmp_path, entry(1)), request_, "amd64", "0.13.9")
    assert str(caught.value) == (
        f"'{request_}' is not a CPython version to preinstall. Each entry is a version line (3.12) or an "
        "exact version (3.12.1). Fix python_buildpack_preinstall_pythons."
    )


@pytest.mark.parametrize("content, detail", [
    (None, "[Errno 2] No such file or directory: '{m}/download-metadata.json'"),
    ("[1, 2]", "not a JSON object"),
    ("{", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
])
def test_a_mirror_without_a_readable_list_is_refused(tmp_path: Path, content: str | None, detail: str) -> None:
    if content is not None:
        (tmp_path / "download-metadata.json").write_text(content)
    with pytest.raises(PreinstallError) as caught:
        resolve(tmp_path, "3.12", "amd64", "0.13.9")
    assert str(caught.value) == (
        f"The CPython mirror '{tmp_path}' has no readable download-metadata.json ({detail.format(m=tmp_path)}). "
        "CPython is preinstalled from that mirror, the one builds mount as their uv-python-mirror binding. "
        "Build it (make python-mirror) or point python_buildpack_preinstall_mirror_dir at one."
    )


def test_a_copy_is_current_only_with_its_record_and_its_interpreter(tmp_path: Path) -> None:
    wanted = Wanted("3.12.1", "amd64", "ab" * 32, "0.13.9")
    assert not wanted.current(tmp_path)
    (tmp_path / f"{wanted.name}.json").write_text(record(wanted))
    assert not wanted.current(tmp_path)  # no interpreter
    (tmp_path / wanted.name / "bin").mkdir(parents=True)
    (tmp_path / wanted.name / "bin" / "python3.12").write_text("")
    assert wanted.current(tmp_path)
    assert json.loads(record(wanted)) == {"arch": "amd64", "archive": "sha256:" + "ab" * 32, "python": "3.12.1", "uv": "0.13.9"}
    assert not Wanted("3.12.1", "amd64", "ab" * 32, "0.14.0").current(tmp_path)  # another uv
    assert not Wanted("3.12.1", "amd64", "cd" * 32, "0.13.9").current(tmp_path)  # another archive


def test_the_buildpack_finds_a_copy_by_the_python_layers_key(tmp_path: Path) -> None:
    """usable_copy is the one check both sides make: the module before making a copy, the buildpack
    before linking it; only the four values of the layer key count, each of them."""
    wanted = Wanted("3.12.1", "amd64", "ab" * 32, "0.13.9")
    (tmp_path / wanted.name / "bin").mkdir(parents=True)
    (tmp_path / wanted.name / "bin" / "python3.12").write_text("")
    (tmp_path / f"{wanted.name}.json").write_text(record(wanted))
    layer_key = dict(wanted.record, expires="2028-10-31", distro="amzn-2023", buildpack="0.1.0")
    assert usable_copy(tmp_path, layer_key) == tmp_path / wanted.name
    for field, other in (("python", "3.12.2"), ("archive", "sha256:" + "cd" * 32), ("uv", "0.14.0"), ("arch", "arm64")):
        assert usable_copy(tmp_path, dict(layer_key, **{field: other})) is None, field
    assert usable_copy(tmp_path / "absent", layer_key) is None


def test_a_list_offers_the_default_builds_and_a_request_takes_what_uv_would(tmp_path: Path) -> None:
    entries = dict([entry(1), entry(10), entry(9), entry(2, sha256=None), entry(3, variant="debug"), entry(0, minor=13)])
    assert offered(entries, "amd64") == {"3.12.1": "1201" * 16, "3.12.10": "1210" * 16, "3.12.9": "1209" * 16,
                                         "3.12.2": None, "3.13.0": "1300" * 16}
    assert offered(entries, "arm64") == {} and offered(["not", "a", "list"], "amd64") == {}
    assert [newest(offered(entries, "amd64"), r) for r in ("3.12", "3.12.9", "3.12.4", "3.1", "3.13")] == [
        "3.12.10", "3.12.9", None, None, "3.13.0"]
    # A copy is recorded by its archive's digest: a build the list gives none for is not preinstalled.
    assert resolve(mirror(tmp_path, entry(2, sha256=None), entry(1)), "3.12", "amd64", "0.13.9").version == "3.12.1"


def test_what_no_wanted_copy_is_is_stale(tmp_path: Path) -> None:
    wanted = Wanted("3.12.1", "amd64", "ab" * 32, "0.13.9")
    for name in (wanted.name, "cpython-3.12.0-linux-x86_64-gnu", ".preinstall-x1"):
        (tmp_path / name).mkdir()
    for name in (f"{wanted.name}.json", "cpython-3.12.0-linux-x86_64-gnu.json"):
        (tmp_path / name).write_text("{}")
    assert [p.name for p in stale(tmp_path, [wanted])] == [
        ".preinstall-x1", "cpython-3.12.0-linux-x86_64-gnu", "cpython-3.12.0-linux-x86_64-gnu.json"]
    assert stale(tmp_path / "absent", [wanted]) == []


def test_references_to_the_install_directory_are_found_in_files_and_links(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "lib" / "pkgconfig").mkdir(parents=True)
    (tree / "bin").mkdir()
    (tree / "lib" / "pkgconfig" / "python3.pc").write_bytes(b"prefix=/scratch/.preinstall-1/cpython\n")
    (tree / "lib" / "sysconfig.py").write_bytes(b"prefix = '/install'\n")
    (tree / "bin" / "python3.12").write_bytes(b"\x7fELF\0/scratch/.preinstall-10\0")
    os.symlink("/scratch/.preinstall-1/cpython/bin/python3.12", tree / "bin" / "python")
    os.symlink("python3.12", tree / "bin" / "python3")
    os.symlink("/scratch/.preinstall-1/x", tree / "linked-dir")
    assert directory_references(tree, "/scratch/.preinstall-1") == [
        "bin/python", "bin/python3.12", "lib/pkgconfig/python3.pc", "linked-dir"]
    assert directory_references(tree, "/elsewhere") == []


def test_a_mirror_with_nothing_for_the_platform_says_so(tmp_path: Path) -> None:
    with pytest.raises(PreinstallError, match="for linux-aarch64-gnu, so it cannot be preinstalled. It offers: none. "):
        resolve(mirror(tmp_path, entry(1)), "3.12", "arm64", "0.13.9")
