from __future__ import annotations

import json
from pathlib import Path

from luban_python import sbom


def dist(venv: Path, name: str, version: str, license_expr: str = "") -> None:
    info = venv / "lib/python3.13/site-packages" / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    extra = f"License-Expression: {license_expr}\n" if license_expr else ""
    (info / "METADATA").write_text(f"Metadata-Version: 2.4\nName: {name}\nVersion: {version}\n{extra}\nbody\n")


def test_venv_sbom_lists_every_installed_distribution_with_a_purl(tmp_path: Path) -> None:
    dist(tmp_path, "Flask", "3.1.0", "BSD-3-Clause")
    dist(tmp_path, "zope.interface", "7.2")
    doc = sbom.venv_sbom(tmp_path, "app")
    assert doc["bomFormat"] == "CycloneDX" and doc["specVersion"] == "1.5"
    assert [(c["name"], c["version"], c["purl"]) for c in doc["components"]] == [
        ("Flask", "3.1.0", "pkg:pypi/flask@3.1.0"),
        ("zope.interface", "7.2", "pkg:pypi/zope-interface@7.2"),
    ]
    assert doc["components"][0]["licenses"] == [{"expression": "BSD-3-Clause"}]


def test_sbom_file_is_deterministic(tmp_path: Path) -> None:
    dist(tmp_path / "venv", "idna", "3.10")
    first = sbom.write(tmp_path, "venv", sbom.venv_sbom(tmp_path / "venv", "app")).read_bytes()
    second = sbom.write(tmp_path, "venv", sbom.venv_sbom(tmp_path / "venv", "app")).read_bytes()
    assert first == second
    assert (tmp_path / "venv.sbom.cdx.json").is_file()


def test_python_sbom_names_cpython() -> None:
    doc = sbom.python_sbom("3.13.0")
    purl = "pkg:generic/cpython@3.13.0"
    assert doc["components"] == [{"type": "application", "bom-ref": purl, "name": "cpython", "version": "3.13.0", "purl": purl}]
    json.dumps(doc)
