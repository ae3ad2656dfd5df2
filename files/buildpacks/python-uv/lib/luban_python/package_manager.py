"""Which dependency description the app uses; all of them are installed with uv."""

from __future__ import annotations

import enum
import hashlib
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import BuildpackError

# Files of tools this buildpack does not run, with the tool's name for the error.
UNSUPPORTED = {"Pipfile": "Pipenv", "Pipfile.lock": "Pipenv", "poetry.lock": "Poetry", "pdm.lock": "PDM"}


class Manager(enum.Enum):
    UV_LOCKED = "uv.lock"
    UV_UNLOCKED = "pyproject.toml"
    REQUIREMENTS = "requirements.txt"


# One requirement pinned to one version: name[extras]==version (or ===), optional marker.
_PINNED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,\s-]*\])?\s*===?\s*[A-Za-z0-9.+!_-]+\s*(;.*)?$")
# Options that only say where packages come from; any other option (-r, -c, -e, ...) may bring
# requirements this file does not show.
_SOURCE_OPTIONS = ("--index-url", "-i", "--extra-index-url", "--find-links", "-f", "--trusted-host",
                   "--no-binary", "--only-binary", "--prefer-binary", "--require-hashes", "--pre", "--no-index")


# The start of a requirement: its project name.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")
_HASH = re.compile(r"\s--hash[=\s]")
# A requirement given as a URL, shown whole (its scheme is not a name).
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def _logical_lines(text: str) -> Iterator[str]:
    """The lines of a requirements.txt as pip reads them: continuations joined, comments and blank
    lines dropped."""
    for raw in text.replace("\\\n", " ").splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if line:
            yield line


def requirements_pinned(text: str) -> bool:
    """Whether every requirement of a requirements.txt is pinned to one version (==, ===), so a
    new resolution installs exactly the same versions."""
    for line in _logical_lines(text):
        if line.startswith("-"):
            if line.split()[0].split("=")[0] not in _SOURCE_OPTIONS:
                return False
            continue
        requirement = line.split(" --hash")[0].strip()
        if not _PINNED.match(requirement):
            return False
    return True


def requirements_hashes(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The requirements of a requirements.txt that carry a --hash and those that do not (an
    editable requirement never can); options such as -r and --index-url are not requirements."""
    hashed: list[str] = []
    unhashed: list[str] = []
    for line in _logical_lines(text):
        if line.startswith(("-e ", "--editable")):
            unhashed.append(line)
        elif not line.startswith("-"):
            requirement = _HASH.split(" " + line)[0].strip()
            name = _NAME.match(requirement)
            shown = name.group(0) if name and not _URL.match(requirement) else requirement
            (hashed if _HASH.search(" " + line) else unhashed).append(shown)
    return tuple(hashed), tuple(unhashed)


@dataclass(frozen=True)
class Project:
    manager: Manager
    pyproject: dict[str, Any]
    # The files whose content decides the venv (reuse key).
    inputs: tuple[str, ...]
    # Whether those files pin every dependency to one version (uv.lock, or a fully pinned
    # requirements.txt): a kept venv then holds exactly what a new resolution would install.
    pinned: bool = True
    # Whether every requirement of a requirements.txt carries a --hash: uv then requires them all.
    hashed: bool = False

    @property
    def requires_python(self) -> str | None:
        value = self.pyproject.get("project", {}).get("requires-python")
        return value if isinstance(value, str) else None

    @property
    def scripts(self) -> dict[str, str]:
        value = self.pyproject.get("project", {}).get("scripts", {})
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}

    def digest(self, app_dir: Path) -> str:
        sha = hashlib.sha256()
        for name in self.inputs:
            sha.update(name.encode() + b"\0" + (app_dir / name).read_bytes() + b"\0")
        return sha.hexdigest()


def read_pyproject(app_dir: Path) -> dict[str, Any]:
    path = app_dir / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BuildpackError("pyproject_malformed", detail=str(exc)) from exc


def check_lock(app_dir: Path) -> None:
    """Refuse a damaged uv.lock before uv sees it, with a message that names the fix."""
    try:
        lock = tomllib.loads((app_dir / "uv.lock").read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BuildpackError("uv_lock_malformed", detail=str(exc)) from exc
    if not isinstance(lock.get("version"), int) or not isinstance(lock.get("package", []), list):
        raise BuildpackError("uv_lock_malformed", detail="it has no lock `version` or its [[package]] entries are not a list")


def detect_project(app_dir: Path) -> Project:
    for name, tool in UNSUPPORTED.items():
        if (app_dir / name).exists():
            raise BuildpackError("unsupported_package_manager", file=name, tool=tool)
    pyproject = read_pyproject(app_dir)
    has_project = isinstance(pyproject.get("project"), dict)
    has_lock = (app_dir / "uv.lock").is_file()
    has_requirements = (app_dir / "requirements.txt").is_file()
    if has_lock and not pyproject:
        raise BuildpackError("lock_without_pyproject")
    found = [name for name, present in (("pyproject.toml", has_project), ("requirements.txt", has_requirements)) if present]
    if len(found) > 1:
        keep = "pyproject.toml and uv.lock" if has_lock else "pyproject.toml"
        raise BuildpackError("multiple_package_managers", found=" and ".join(found), keep=keep)
    if has_project and has_lock:
        check_lock(app_dir)
        return Project(Manager.UV_LOCKED, pyproject, ("pyproject.toml", "uv.lock"))
    if has_project:
        return Project(Manager.UV_UNLOCKED, pyproject, ("pyproject.toml",), pinned=False)
    if has_requirements:
        text = (app_dir / "requirements.txt").read_text(encoding="utf-8", errors="replace")
        hashed, unhashed = requirements_hashes(text)
        if hashed and unhashed:
            raise BuildpackError("requirements_partially_hashed", unhashed=list(unhashed))
        return Project(Manager.REQUIREMENTS, pyproject, ("requirements.txt",), pinned=requirements_pinned(text),
                       hashed=bool(hashed))
    raise BuildpackError("no_package_manager")
