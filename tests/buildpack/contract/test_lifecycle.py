"""The real CNB lifecycle (detector and builder phases, as `creator` runs them, non-root) accepts
the packaged buildpack: group and plan from detect, layer TOMLs, processes and SBOMs from build."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from contract_support import BUILDPACK, FIXTURES, MIRROR, SYSTEM_CA

PLATFORM_API = "0.14"
BUILD_UID = 1000  # a numeric non-root user, as in the stack's build image


@pytest.fixture
def lifecycle_root() -> Iterator[Path]:
    lifecycle = Path(os.environ.get("LUBAN_LIFECYCLE", ""))
    assert lifecycle.is_file(), "LUBAN_LIFECYCLE must name the lifecycle binary (make test-buildpack-contract sets it)"
    # Outside /root and pytest's private tmp: the build user must reach everything.
    root = Path(tempfile.mkdtemp(prefix="luban-lifecycle-"))
    root.chmod(0o755)
    (root / "bin").mkdir()
    shutil.copy(lifecycle, root / "bin" / "lifecycle")
    for phase in ("detector", "builder"):
        (root / "bin" / phase).symlink_to("lifecycle")
    version = tomllib.loads((BUILDPACK / "buildpack.toml").read_text())["buildpack"]["version"]
    shutil.copytree(BUILDPACK, root / "buildpacks" / "luban_python-uv" / version, symlinks=True)
    shutil.copytree(FIXTURES / "uv_basic", root / "app")
    shutil.copytree(MIRROR, root / "mirror")
    env_dir = root / "platform" / "env"
    env_dir.mkdir(parents=True)
    (env_dir / "UV_PYTHON_DOWNLOADS_JSON_URL").write_text((root / "mirror" / "download-metadata.json").as_uri())
    (env_dir / "UV_PYTHON_INSTALL_MIRROR").write_text((root / "mirror").as_uri())
    binding = root / "platform" / "bindings" / "machine-ca"
    binding.mkdir(parents=True)
    (binding / "type").write_text("ca-certificates")
    shutil.copy(SYSTEM_CA, binding / "ca.pem")
    (root / "layers").mkdir()
    (root / "order.toml").write_text(f'[[order]]\n[[order.group]]\nid = "luban/python-uv"\nversion = "{version}"\n')
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", f"{BUILD_UID}:{BUILD_UID}", str(root)], check=True)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def phase(root: Path, name: str, *args: str) -> subprocess.CompletedProcess[str]:
    # The lifecycle refuses to run as root, like the builder image's CNB user it runs non-root.
    drop = ["setpriv", f"--reuid={BUILD_UID}", f"--regid={BUILD_UID}", "--clear-groups"] if os.geteuid() == 0 else []
    env = {"PATH": "/usr/bin:/bin", "HOME": str(root), "CNB_PLATFORM_API": PLATFORM_API}
    common = ["-app", "app", "-buildpacks", "buildpacks", "-layers", "layers", "-platform", "platform", "-group", "group.toml", "-plan", "plan.toml"]
    result = subprocess.run([*drop, str(root / "bin" / name), *common, *args], cwd=root, env=env, capture_output=True, text=True, timeout=600, check=False)
    print(result.stdout, result.stderr)
    return result


def test_lifecycle_detects_and_builds_with_the_buildpack(lifecycle_root: Path) -> None:
    root = lifecycle_root
    detected = phase(root, "detector", "-order", "order.toml")
    assert detected.returncode == 0
    group = tomllib.loads((root / "group.toml").read_text())
    assert [(g["id"], g["api"]) for g in group["group"]] == [("luban/python-uv", "0.10")]

    built = phase(root, "builder")
    assert built.returncode == 0
    metadata = tomllib.loads((root / "layers" / "config" / "metadata.toml").read_text())
    assert metadata["buildpack-default-process-type"] == "web"
    assert {p["type"]: p["command"] for p in metadata["processes"]} == {
        "hello-worker": ["hello-worker"], "web": ["sh", "-c", "python -m hello.web"]}
    sbom = json.loads((root / "layers" / "sbom" / "launch" / "luban_python-uv" / "venv" / "sbom.cdx.json").read_text())
    assert {c["purl"] for c in sbom["components"]} == {"pkg:pypi/hello@0.1.0", "pkg:pypi/itsdangerous@2.2.0"}
    assert (root / "layers" / "sbom" / "launch" / "luban_python-uv" / "python" / "sbom.cdx.json").is_file()
    venv = root / "layers" / "luban_python-uv" / "venv"
    assert subprocess.run([str(venv / "bin" / "python"), "-c", "import hello, itsdangerous"], cwd=root / "app", check=False).returncode == 0
