"""The step tool image, built by the project's own builder with pack, run as the pipeline runs it.

Needs what the images tier leaves behind (a Docker engine, pack in $LUBAN_CACHE/tools, the builder
in the local registry). Where any of it is missing the test says which and is skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, commit, make_remote

CACHE = Path(os.environ.get("LUBAN_CACHE", Path.home() / ".cache" / "luban-ci"))
PACK = CACHE / "tools" / "current" / "bin" / "pack"
BUILDER = os.environ.get("LUBAN_STEPTOOL_BUILDER", "127.0.0.1:5000/luban/builder-python:latest")
MIRROR = CACHE / "python-mirror"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
IMAGE = "luban-step:test"


def _ok(*argv: str) -> bool:
    return subprocess.run(argv, capture_output=True, check=False).returncode == 0


def _docker(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=False, **kwargs)


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> str:
    if not shutil.which("docker") or not _ok("docker", "info"):
        pytest.skip("no Docker engine answers here; the step tool image was not built")
    if not PACK.exists():
        pytest.skip("pack is not in %s (make tools); the step tool image was not built" % PACK)
    if not _ok("docker", "manifest", "inspect", "--insecure", BUILDER) and not _ok("docker", "image", "inspect", BUILDER):
        pytest.skip("the builder %s is not built yet (make builder); the step tool image was not built" % BUILDER)
    work = tmp_path_factory.mktemp("image")
    out = work / "out"
    subprocess.run(["make", "--no-print-directory", "-s", "steptool-src", "OUT=" + str(out)], cwd=ROOT, check=True,
                   capture_output=True)
    argv = [str(PACK), "build", IMAGE, "--path", str(out / "steptool"), "--builder", BUILDER, "--trust-builder",
            "--pull-policy", "if-not-present", "--network", "host"]
    if CA_BUNDLE.exists():  # an intercepting proxy's CA reaches uv through the CNB binding
        binding = work / "bindings" / "ca-certificates"
        binding.mkdir(parents=True)
        (binding / "type").write_text("ca-certificates")
        shutil.copy(CA_BUNDLE, binding / "ca-certificates.crt")
        argv += ["--volume", "%s:/platform/bindings/ca-certificates" % binding]
    if (MIRROR / "download-metadata.json").exists():  # no GitHub: uv takes CPython from the mirror
        argv += ["--volume", "%s:/luban/python-mirror:ro" % MIRROR,
                 "--env", "UV_PYTHON_DOWNLOADS_JSON_URL=file:///luban/python-mirror/download-metadata.json",
                 "--env", "UV_PYTHON_INSTALL_MIRROR=file:///luban/python-mirror"]
    built = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=900)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-2000:]
    return IMAGE


def run(image: str, *args: str, volumes: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """As the workflow runs it: `command: [luban-step]`, read-only root, /tmp a volume, non-root."""
    flags = ["run", "--rm", "--read-only", "--tmpfs", "/tmp", "--network", "none", "--entrypoint", "luban-step"]
    for volume in volumes:
        flags += ["-v", volume]
    return _docker(*flags, image, *args)


def test_the_image_runs_non_root_with_luban_step_as_its_command(image: str) -> None:
    config = json.loads(_docker("image", "inspect", image).stdout)[0]["Config"]
    assert config["User"].split(":")[0] not in ("", "0", "root")
    assert config["Entrypoint"] == ["/cnb/process/luban-step"]
    version = run(image, "--version")
    assert (version.returncode, version.stdout) == (0, "luban-step 0.1.0\n"), version.stderr


def test_detect_and_digest_run_in_the_image(image: str, tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / "src" / "app").mkdir(parents=True)
    (work / "src" / "app" / "uv.lock").write_text("version = 1\n")
    (work / "registry.json").write_text(json.dumps([{"name": "python", "detect": ["uv.lock"], "builder": "b:1",
                                                     "template": "luban-build-python"}]))
    (work / "report.toml").write_text('[image]\n  digest = "sha256:%s"\n' % ("e" * 64))
    os.chmod(work, 0o755)
    detect = run(image, "detect", "--source", "/work/src", "--app-path", "app", "--registry", "/work/registry.json",
                 "--outputs", "/tmp/outputs", volumes=("%s:/work:ro" % work,))
    assert detect.returncode == 0, detect.stderr
    assert "Selected 'python' (detected)" in detect.stdout
    digest = run(image, "digest", "--report", "/work/report.toml", "--outputs", "/tmp/o",
                 "--image-repository", "quay.io/acme/shop", volumes=("%s:/work:ro" % work,))
    assert digest.returncode == 0, digest.stderr


def test_checkout_in_the_image_needs_git_from_the_run_image(image: str, tmp_path: Path) -> None:
    remote = make_remote(tmp_path, "app")
    sha = commit(remote.work, {"app.py": "print(1)\n"}, "one", 1_700_000_000)
    remote.push()
    os.chmod(tmp_path, 0o755)
    has_git = _docker("run", "--rm", "--entrypoint", "sh", image, "-c", "command -v git").returncode == 0
    result = run(image, "checkout", "--repo-url", "/repos/app.git", "--revision", sha, "--dest", "/tmp/src",
                 volumes=("%s:/repos/app.git:ro" % remote.bare,))
    if has_git:
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode == 3
        assert result.stderr == (
            "luban-step: error: The git command was not found on PATH. luban-step drives the git CLI for "
            "checkout and deploy, so its image must provide git. Run the step in an image whose run image "
            "includes git (see docs/step-tool.md).\n")
