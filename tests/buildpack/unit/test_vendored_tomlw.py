"""The shared modules the buildpack ships in luban_python/_vendor are exact copies of their source
in plugins/module_utils, listed in scripts/vendor.py (the one list, for every component)."""

from __future__ import annotations

import shutil
from pathlib import Path

import vendor

PACKAGE = "files/buildpacks/python-uv/lib/luban_python"


def test_the_buildpack_ships_byte_identical_copies_of_what_it_imports() -> None:
    assert vendor.problems(vendored={PACKAGE: vendor.VENDORED[PACKAGE]}) == []


def test_the_whole_list_checks_clean() -> None:
    assert vendor.main(["--check"]) == 0


def _repo(tmp_path: Path) -> Path:
    """A small repository: one shared module and one component that imports it from _vendor."""
    (tmp_path / vendor.SOURCE).mkdir(parents=True)
    (tmp_path / vendor.SOURCE / "shared.py").write_text('"""Shared."""\n\nimport json\n')
    (tmp_path / vendor.SOURCE / "other.py").write_text('"""Other."""\n')
    package = tmp_path / "comp" / "pkg"
    package.mkdir(parents=True)
    (package / "main.py").write_text("from ._vendor import shared\n")
    return tmp_path


LISTED = {"comp/pkg": ("shared",)}


def test_vendor_writes_copies_that_then_check_clean(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    assert vendor.problems(repo, LISTED) == ["comp/pkg/_vendor/__init__.py is missing", "comp/pkg/_vendor/shared.py is missing"]
    written = vendor.write(repo, LISTED)
    assert sorted(p.name for p in written) == ["__init__.py", "shared.py"]
    assert (repo / "comp/pkg/_vendor/shared.py").read_bytes() == (repo / vendor.SOURCE / "shared.py").read_bytes()
    assert vendor.problems(repo, LISTED) == []
    assert vendor.write(repo, LISTED) == []


def test_an_edited_copy_fails(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    vendor.write(repo, LISTED)
    with (repo / "comp/pkg/_vendor/shared.py").open("a") as handle:
        handle.write("# local fix\n")
    assert vendor.problems(repo, LISTED) == [f"comp/pkg/_vendor/shared.py differs from {vendor.SOURCE}/shared.py"]


def test_a_module_imported_from_vendor_but_not_listed_fails(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    vendor.write(repo, LISTED)
    shutil.copy(repo / vendor.SOURCE / "other.py", repo / "comp/pkg/_vendor/other.py")
    (repo / "comp/pkg/sub").mkdir()
    (repo / "comp/pkg/sub/use.py").write_text("from .._vendor.other import x\nimport pkg._vendor.third\n")
    assert vendor.problems(repo, LISTED) == [
        "comp/pkg/_vendor/other.py is not listed in scripts/vendor.py",
        "comp/pkg/sub/use.py imports other from _vendor, which scripts/vendor.py does not list for comp/pkg",
        "comp/pkg/sub/use.py imports third from _vendor, which scripts/vendor.py does not list for comp/pkg",
    ]


def test_a_listed_module_nobody_imports_fails(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    listed = {"comp/pkg": ("shared", "other")}
    vendor.write(repo, listed)
    assert vendor.problems(repo, listed) == ["comp/pkg ships other in _vendor but never imports it"]


def test_a_shared_module_that_needs_the_collection_cannot_be_vendored(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / vendor.SOURCE / "shared.py").write_text(
        "from ansible_collections.luban.ci.plugins.module_utils.other import x\nfrom . import other\n")
    vendor.write(repo, LISTED)
    assert vendor.problems(repo, LISTED) == [
        f"{vendor.SOURCE}/shared.py imports ansible_collections.luban.ci.plugins.module_utils.other, "
        "which its vendored copies cannot reach",
        f"{vendor.SOURCE}/shared.py imports ., which its vendored copies cannot reach",
    ]


def test_a_shared_module_may_import_one_vendored_beside_it(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / vendor.SOURCE / "shared.py").write_text("from .other import x\nfrom . import other\n")
    (repo / "comp/pkg/main.py").write_text("from ._vendor import other, shared\n")
    listed = {"comp/pkg": ("shared", "other")}
    vendor.write(repo, listed)
    assert vendor.problems(repo, listed) == []
    assert vendor.problems(repo, {"comp/pkg": ("shared",)}) == [
        "comp/pkg/_vendor/other.py is not listed in scripts/vendor.py",
        "comp/pkg/main.py imports other from _vendor, which scripts/vendor.py does not list for comp/pkg",
        f"{vendor.SOURCE}/shared.py imports .other, which its vendored copies cannot reach",
        f"{vendor.SOURCE}/shared.py imports ., which its vendored copies cannot reach",
    ]
