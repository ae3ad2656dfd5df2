"""Contract tier: the packaged buildpack's real bin/detect and bin/build, run as a CNB lifecycle
runs them (env vars of the Buildpack API, cwd = app), on the fixture apps, with real uv, real
PyPI through this machine's CA given as a ca-certificates binding, and CPython from the offline
mirror given as platform env files."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "buildpack"
CACHE = Path(os.environ.get("LUBAN_CACHE", Path.home() / ".cache" / "luban-ci"))
BUILDPACK = Path(os.environ.get("LUBAN_BUILDPACK_DIR", REPO / "out" / "buildpacks" / "python-uv"))
MIRROR = Path(os.environ.get("LUBAN_PYTHON_MIRROR", CACHE / "python-mirror"))
SYSTEM_CA = Path("/etc/ssl/certs/ca-certificates.crt")
ARCH = {"x86_64": "amd64", "aarch64": "arm64"}[platform.machine()]


def _os_release() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines() if "=" in line)
    return {k: v.strip('"') for k, v in pairs}


@dataclass
class Workspace:
    """One app plus its CNB directories; layers survive between builds like a restored cache."""

    root: Path
    app: Path
    layers: Path = field(init=False)
    platform: Path = field(init=False)

    def __post_init__(self) -> None:
        self.layers = self.root / "layers"
        self.platform = self.root / "platform"
        for path in (self.layers, self.platform / "env", self.root / "home"):
            path.mkdir(parents=True, exist_ok=True)

    def platform_env(self, name: str, value: str) -> None:
        (self.platform / "env" / name).write_text(value)

    def env(self) -> dict[str, str]:
        release = _os_release()
        return {
            "PATH": os.environ["PATH"],
            "HOME": str(self.root / "home"),
            "CNB_PLATFORM_DIR": str(self.platform),
            "CNB_BUILD_PLAN_PATH": str(self.root / "plan.toml"),
            "CNB_BP_PLAN_PATH": str(self.root / "bp-plan.toml"),
            "CNB_LAYERS_DIR": str(self.layers),
            "CNB_BUILDPACK_DIR": str(BUILDPACK),
            "CNB_TARGET_OS": "linux",
            "CNB_TARGET_ARCH": ARCH,
            "CNB_TARGET_DISTRO_NAME": release.get("ID", "debian"),
            "CNB_TARGET_DISTRO_VERSION": release.get("VERSION_ID", "12"),
        }

    def detect(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BUILDPACK / "bin" / "detect")], cwd=self.app, env=self.env(), capture_output=True, text=True, timeout=60, check=False)

    def build(self, path: str | None = None) -> subprocess.CompletedProcess[str]:
        # The lifecycle hands build the buildpack plan (the entries this buildpack provides).
        (self.root / "bp-plan.toml").write_text('[[entries]]\nname = "python"\n')
        env = self.env() | ({"PATH": path} if path else {})
        result = subprocess.run([str(BUILDPACK / "bin" / "build")], cwd=self.app, env=env, capture_output=True, text=True, timeout=600, check=False)
        print(result.stdout, result.stderr)
        return result

    def next_build(self) -> None:
        """What the lifecycle keeps for the next build: cached layers (content and TOML) only."""
        for path in self.layers.iterdir():
            if path.name.endswith(".sbom.cdx.json") or path.name == "launch.toml":
                path.unlink()
        shutil.rmtree(self.layers / "uv")
        (self.layers / "uv.toml").unlink()


@pytest.fixture(scope="session", autouse=True)
def prerequisites() -> None:
    missing = [str(p) for p in (BUILDPACK / "bin" / "build", MIRROR / "download-metadata.json", SYSTEM_CA) if not p.exists()]
    assert not missing, f"run `make buildpacks python-mirror` first; missing: {missing}"


@pytest.fixture
def workspace(tmp_path: Path):
    def make(fixture: str) -> Workspace:
        app = tmp_path / "app"
        shutil.copytree(FIXTURES / fixture, app)
        ws = Workspace(tmp_path, app)
        # Python from the offline mirror, as an air-gapped user would configure it.
        for line in (MIRROR / "env").read_text().splitlines():
            name, _unused, value = line.partition("=")
            ws.platform_env(name, value)
        # This machine reaches PyPI through a TLS-intercepting proxy: trust its CA via a binding.
        binding = ws.platform / "bindings" / "machine-ca"
        binding.mkdir(parents=True)
        (binding / "type").write_text("ca-certificates")
        shutil.copy(SYSTEM_CA, binding / "ca.pem")
        return ws

    return make
