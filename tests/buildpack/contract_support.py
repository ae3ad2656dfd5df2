"""Contract tier: the packaged buildpack's real bin/detect and bin/build, run as a CNB lifecycle
runs them (env vars of the Buildpack API, cwd = app), on the fixture apps, with real uv, real
PyPI through this machine's CA given as a ca-certificates binding, and CPython from the offline
mirror given as a uv-python-mirror binding."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from luban_python._vendor import tomlw

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "buildpack" / "fixtures"
CACHE = Path(os.environ.get("LUBAN_CACHE", Path.home() / ".cache" / "luban-ci"))
BUILDPACK = Path(os.environ.get("LUBAN_BUILDPACK_DIR", REPO / "out" / "buildpacks" / "python-uv"))
MIRROR = Path(os.environ.get("LUBAN_PYTHON_MIRROR", CACHE / "python-mirror"))
SYSTEM_CA = Path("/etc/ssl/certs/ca-certificates.crt")
ARCH = {"x86_64": "amd64", "aarch64": "arm64"}[platform.machine()]


def _os_release() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines() if "=" in line)
    return {k: v.strip('"') for k, v in pairs}


def between_builds(layers: Path, image: Path) -> None:
    """What the lifecycle does between two builds, per the Buildpack API's layer types: the launch
    layers go into the "previous image" (`image`); cache layers stay; launch-only layers come back
    as metadata and SBOM without their files; [types] tables are not restored; everything else,
    and launch.toml, is gone. Shared with the buildpack's unit tests."""
    for toml_path in sorted(layers.glob("*.toml")):
        name = toml_path.stem
        if name == "launch":
            toml_path.unlink()
            continue
        doc = tomllib.loads(toml_path.read_text())
        types = doc.get("types", {})
        if types.get("launch"):
            if (layers / name).is_dir():
                shutil.rmtree(image / name, ignore_errors=True)
                shutil.copytree(layers / name, image / name, symlinks=True)
            else:
                # Kept from the previous image: the exporter fails when there is none.
                assert (image / name).is_dir(), f"layer {name} was kept, but no previous image has it"
        if types.get("cache") or (types.get("launch") and not types.get("build")):
            if not types.get("cache"):
                shutil.rmtree(layers / name, ignore_errors=True)
            toml_path.write_text(tomlw.dumps({"metadata": doc.get("metadata", {})}))
            continue
        shutil.rmtree(layers / name, ignore_errors=True)
        toml_path.unlink()
        (layers / f"{name}.sbom.cdx.json").unlink(missing_ok=True)
    # Directories without a layer TOML are not layers: nothing keeps them.
    for path in layers.iterdir():
        if path.is_dir() and not (layers / f"{path.name}.toml").exists():
            shutil.rmtree(path)


@dataclass
class Workspace:
    """One app plus its CNB directories; layers survive between builds like a restored cache."""

    root: Path
    app: Path
    layers: Path = field(init=False)
    platform: Path = field(init=False)
    image: Path = field(init=False)

    def __post_init__(self) -> None:
        self.layers = self.root / "layers"
        self.platform = self.root / "platform"
        self.image = self.root / "previous-image"
        for path in (self.layers, self.platform / "env", self.image, self.root / "home"):
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
        """What the lifecycle keeps for the next build (see between_builds)."""
        between_builds(self.layers, self.image)

    def exported(self) -> Path:
        """The launch layers as the new image has them: kept layers come from the previous image.
        Copied back to their build paths (the venv's interpreter links are absolute)."""
        for toml_path in sorted(self.layers.glob("*.toml")):
            types = tomllib.loads(toml_path.read_text()).get("types", {})
            kept = self.image / toml_path.stem
            if types.get("launch") and not (self.layers / toml_path.stem).exists():
                assert kept.is_dir(), f"layer {toml_path.stem} was kept, but no previous image has it"
                shutil.copytree(kept, self.layers / toml_path.stem, symlinks=True)
        return self.layers


@pytest.fixture(scope="session", autouse=True)
def prerequisites() -> None:
    missing = [str(p) for p in (BUILDPACK / "bin" / "build", MIRROR / "download-metadata.json", MIRROR / "type", SYSTEM_CA) if not p.exists()]
    assert not missing, f"run `make buildpacks python-mirror` first; missing: {missing}"


@pytest.fixture
def workspace(tmp_path: Path):
    def make(fixture: str) -> Workspace:
        app = tmp_path / "app"
        shutil.copytree(FIXTURES / fixture, app)
        ws = Workspace(tmp_path, app)
        # Python from the offline mirror, as an air-gapped user binds it (what build_app.yml mounts).
        (ws.platform / "bindings").mkdir()
        (ws.platform / "bindings" / "python-mirror").symlink_to(MIRROR)
        # This machine reaches PyPI through a TLS-intercepting proxy: trust its CA via a binding.
        binding = ws.platform / "bindings" / "machine-ca"
        binding.mkdir(parents=True)
        (binding / "type").write_text("ca-certificates")
        shutil.copy(SYSTEM_CA, binding / "ca.pem")
        return ws

    return make
