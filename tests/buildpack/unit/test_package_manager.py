from __future__ import annotations

from pathlib import Path

import pytest
from bp_helpers import write_app
from luban_python.package_manager import Manager, detect_project

PYPROJECT = '[project]\nname = "app"\nversion = "1"\ndependencies = []\n\n[project.scripts]\nserve = "app:main"\n'


@pytest.mark.parametrize(
    ("files", "manager"),
    [
        ({"pyproject.toml": PYPROJECT, "uv.lock": "version = 1\n"}, Manager.UV_LOCKED),
        ({"pyproject.toml": PYPROJECT}, Manager.UV_UNLOCKED),
        ({"requirements.txt": "idna\n"}, Manager.REQUIREMENTS),
        # A pyproject.toml holding only tool settings is not a package manager file.
        ({"pyproject.toml": "[tool.black]\nline-length = 100\n", "requirements.txt": "idna\n"}, Manager.REQUIREMENTS),
    ],
)
def test_manager_detection(tmp_path: Path, files: dict[str, str], manager: Manager) -> None:
    assert detect_project(write_app(tmp_path, files)).manager is manager


def test_project_exposes_scripts_and_requires_python(tmp_path: Path) -> None:
    project = detect_project(write_app(tmp_path, {"pyproject.toml": PYPROJECT.replace('version = "1"', 'version = "1"\nrequires-python = ">=3.12"')}))
    assert project.scripts == {"serve": "app:main"}
    assert project.requires_python == ">=3.12"


def test_digest_changes_with_the_lock_only(tmp_path: Path) -> None:
    app = write_app(tmp_path, {"pyproject.toml": PYPROJECT, "uv.lock": "version = 1\n", "app.py": "x = 1\n"})
    project = detect_project(app)
    before = project.digest(app)
    (app / "app.py").write_text("x = 2\n")
    assert project.digest(app) == before
    (app / "uv.lock").write_text("version = 1\nrevision = 2\n")
    assert project.digest(app) != before
