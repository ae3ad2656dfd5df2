"""CycloneDX SBOMs for the python and venv layers (<layer>.sbom.cdx.json, Buildpack API).

The venv SBOM lists what is actually installed (every *.dist-info in site-packages), which is
the truth for locked, unlocked and requirements.txt apps alike.  Output is deterministic (sorted,
no timestamps or random serial numbers) so an unchanged layer keeps an unchanged SBOM.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

SPEC_VERSION = "1.5"
MEDIA_TYPE = "application/vnd.cyclonedx+json"


def normalize(name: str) -> str:
    """PEP 503 name normalisation, as purls for PyPI use."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed(venv: Path) -> list[tuple[str, str, str]]:
    """(name, version, license) of every distribution in the venv's site-packages."""
    from email.parser import HeaderParser  # only when a venv was built; a kept layer keeps its SBOM

    found = []
    for meta in sorted(venv.glob("lib/python*/site-packages/*.dist-info/METADATA")):
        headers = HeaderParser().parsestr(meta.read_text(encoding="utf-8", errors="replace"), headersonly=True)
        name, version = headers.get("Name"), headers.get("Version")
        if name and version:
            found.append((name, version, headers.get("License-Expression") or ""))
    return sorted(set(found), key=lambda item: (normalize(item[0]), item[1]))


def _document(component: dict, components: list[dict]) -> dict:
    return {
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "version": 1,
        "metadata": {"component": component, "tools": {"components": [{"type": "application", "name": "luban/python-uv"}]}},
        "components": components,
    }


def venv_sbom(venv: Path, app_name: str) -> dict:
    components = []
    for name, version, license_expr in installed(venv):
        purl = f"pkg:pypi/{normalize(name)}@{version}"
        item = {"type": "library", "bom-ref": purl, "name": name, "version": version, "purl": purl}
        if license_expr:
            item["licenses"] = [{"expression": license_expr}]
        components.append(item)
    return _document({"type": "application", "name": app_name}, components)


def python_sbom(version: str) -> dict:
    purl = f"pkg:generic/cpython@{version}"
    component = {"type": "application", "bom-ref": purl, "name": "cpython", "version": version, "purl": purl}
    return _document({"type": "application", "name": "python"}, [component])


def write(layers_dir: Path, layer: str, document: dict) -> Path:
    path = layers_dir / f"{layer}.sbom.cdx.json"
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
