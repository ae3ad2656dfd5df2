"""The CNB environment the lifecycle gives the buildpack, and the environment uv runs with."""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ._vendor.python_preinstall import MACHINE_ARCH, UV_ARCH
from .errors import BuildpackError

# Variables the buildpack sets itself to place things in layers; a user value would break the image.
FORBIDDEN = (
    "PYTHONHOME",
    "UV_CACHE_DIR",
    "UV_NO_CACHE",
    "UV_PROJECT_ENVIRONMENT",
    "UV_PYTHON",
    "UV_PYTHON_INSTALL_DIR",
    "UV_SYSTEM_PYTHON",
    "VIRTUAL_ENV",
)


@dataclass(frozen=True)
class Target:
    """What the image is built for (CNB_TARGET_*), the key of every reusable layer."""

    os: str
    arch: str
    distro_name: str
    distro_version: str

    @property
    def uv_arch(self) -> str:
        return UV_ARCH.get(self.arch, self.arch)


def read_platform_env(platform_dir: Path) -> dict[str, str]:
    """User-provided build env: one file per variable under <platform>/env (Platform API)."""
    env_dir = platform_dir / "env"
    if not env_dir.is_dir():
        return {}
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(env_dir.iterdir()) if p.is_file()}


def merged_env(process_env: Mapping[str, str], platform_env: Mapping[str, str]) -> dict[str, str]:
    """The process env with the platform env files on top (the lifecycle does the same)."""
    env = dict(process_env)
    env.update(platform_env)
    return env


def check_forbidden(env: Mapping[str, str]) -> None:
    names = [name for name in FORBIDDEN if name in env]
    if names:
        raise BuildpackError("forbidden_env_var", names=", ".join(names))


def _os_release() -> dict[str, str]:
    try:
        text = Path("/etc/os-release").read_text(encoding="utf-8")
    except OSError:
        return {}
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {k: v.strip().strip('"') for k, v in pairs}


def target_from_env(env: Mapping[str, str]) -> Target:
    """CNB_TARGET_* (Buildpack API 0.10), falling back to this machine when a platform omits them."""
    release = _os_release()
    machine = MACHINE_ARCH.get(platform.machine().lower(), platform.machine().lower())
    return Target(
        os=env.get("CNB_TARGET_OS", "linux"),
        arch=MACHINE_ARCH.get(env.get("CNB_TARGET_ARCH", machine), env.get("CNB_TARGET_ARCH", machine)),
        distro_name=env.get("CNB_TARGET_DISTRO_NAME", release.get("ID", "unknown")),
        distro_version=env.get("CNB_TARGET_DISTRO_VERSION", release.get("VERSION_ID", "unknown")),
    )


def process_env() -> dict[str, str]:
    return dict(os.environ)
