"""Fixtures for the real-image tests: the local pipeline (site.yml's builder), app builds through
build_app.yml, containers, and the Go-built tools. Nothing here is mocked: real Docker, the real
lifecycle and pack, a real registry, real PyPI through the machine's CA."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
CACHE = Path(os.environ.get("LUBAN_CACHE", Path.home() / ".cache" / "luban-ci"))
REGISTRY = os.environ.get("LUBAN_REGISTRY", "127.0.0.1:5000")
BUILDER = f"{REGISTRY}/luban/builder-python:latest"


@dataclass(frozen=True)
class Tools:
    pack: str
    crane: str


@dataclass(frozen=True)
class Build:
    image: str        # REPO@sha256:DIGEST
    tag: str          # REPO:TAG
    digest: str
    app_dir: Path
    output: str       # the playbook's output (includes pack's log)
    action: str = "build"  # or reuse, rebase (luban.ci.build_inputs)


def run(argv: list[str], **kw) -> subprocess.CompletedProcess:
    check = kw.pop("check", False)
    return subprocess.run(argv, text=True, capture_output=True, check=check, **kw)


@pytest.fixture(scope="session")
def tools() -> Tools:
    out = run([str(REPO / "scripts" / "tools.sh")], check=True).stdout.strip().splitlines()[-1]
    return Tools(pack=f"{out}/bin/pack", crane=f"{out}/bin/crane")


@pytest.fixture(scope="session")
def engine() -> docker.DockerClient:
    return docker.from_env()


@pytest.fixture(scope="session")
def builder(engine: docker.DockerClient) -> dict:
    """The builder made by site.yml (stack, buildpack, builder); created when missing."""
    # The tier packages its own copy of the buildpack, so a concurrent `make buildpacks` cannot
    # change the directory while pack reads it.
    result = run(["ansible-playbook", "-i", "inventories/local", "playbooks/site.yml", "--tags", "builder",
                  "-e", f"python_buildpack_dest={REPO}/out/images-tests/python-uv"], cwd=REPO)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    image = engine.images.get(BUILDER)
    metadata = json.loads(image.labels["io.buildpacks.builder.metadata"])
    env = dict(item.split("=", 1) for item in image.attrs["Config"]["Env"])
    return {"image": BUILDER, "metadata": metadata, "uid": env["CNB_USER_ID"], "gid": env["CNB_GROUP_ID"],
            "run_image": metadata["images"][0]["image"] if metadata.get("images") else metadata["stack"]["runImage"]["image"]}


def build_app(app_dir: Path, repository: str, *extra: str, check: bool = True,
              reuse: bool = False) -> Build | subprocess.CompletedProcess:
    """One app through playbooks/build_app.yml, as `make build-app` runs it. These tests are about
    what a build gives, so they build every time (app_image_reuse=false; the registry keeps images
    between runs) unless ``reuse``."""
    result_file = app_dir.parent / f"{app_dir.name}-{uuid.uuid4().hex[:8]}.json"
    argv = ["ansible-playbook", "-i", "inventories/local", "playbooks/build_app.yml",
            "-e", f"app={app_dir}", "-e", f"app_image_repository={repository}",
            "-e", f"app_image_result_file={result_file}", "-e", f"app_image_builder={BUILDER}",
            "-e", f"app_image_reuse={str(reuse).lower()}", *extra]
    result = run(argv, cwd=REPO)
    if not check:
        return result
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    data = json.loads(result_file.read_text())
    flat = " ".join(result.stdout.split())
    action = "build" if "Not building: " not in flat else "rebase" if "; rebasing it onto " in flat else "reuse"
    return Build(image=data["image"], tag=data["tag"], digest=data["digest"], app_dir=app_dir, output=result.stdout,
                 action=action)


def git_app(src: Path, dest: Path) -> Path:
    """A copy of an example app committed in its own git repository (a fixed commit to build)."""
    shutil.copytree(src, dest)
    env = {**os.environ, "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}
    for argv in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"],
                 ["git", "-c", "user.name=luban", "-c", "user.email=luban@example.invalid", "commit", "-q", "-m", "app"]):
        subprocess.run(argv, cwd=dest, check=True, env=env)
    return dest


def commit_all(app_dir: Path, message: str) -> None:
    subprocess.run(["git", "add", "-A"], cwd=app_dir, check=True)
    subprocess.run(["git", "-c", "user.name=luban", "-c", "user.email=luban@example.invalid", "commit", "-q", "-m", message],
                   cwd=app_dir, check=True)


def http_get(url: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return json.loads(response.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@pytest.fixture
def container(engine: docker.DockerClient):
    """Starts images as detached containers on a free host port; removes them afterwards."""
    started = []

    def start(image: str, **kw):
        c = engine.containers.run(image, detach=True, ports={"8080/tcp": ("127.0.0.1", None)},
                                  environment={"PORT": "8080"}, **kw)
        started.append(c)
        c.reload()
        port = c.attrs["NetworkSettings"]["Ports"]["8080/tcp"][0]["HostPort"]
        return c, f"http://127.0.0.1:{port}/"

    yield start
    for c in started:
        c.remove(force=True)
