"""The step tool image as the product builds it and the pipeline runs it.

The image comes from playbooks/steptool.yml (`make steptool-image`): our builder, `pack build`, on
the stack's run image variant that carries git and an SSH client. The containers run as the pipeline
pods run them: the uid and gid of the argo_workflows role (the builder's CNB user, not the image's
own user), a read-only root filesystem, /tmp a tmpfs and the workspace at /work (the CNB app
directory /workspace holds the step tool itself). Needs a Docker engine and the builder in the
local registry (`make builder`); where either is missing the tests say which and are skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, TOKEN, commit, git, make_remote

CACHE = Path(os.environ.get("LUBAN_CACHE", Path.home() / ".cache" / "luban-ci"))
# scripts/gotool.sh cnb (scripts/tools.sh) points gotools/cnb/current at the last complete build.
CRANE = CACHE / "gotools" / "cnb" / "current" / "bin" / "crane"
BUILDER = os.environ.get("LUBAN_STEPTOOL_BUILDER", "127.0.0.1:5000/luban/builder-python:latest")
RECORD = ROOT / "out" / "steptool.json"
# ansible-playbook of the tooling venv the tests run from (make test-steptool-image).
PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
# The uid:gid every pipeline pod runs as (the role's securityContext), whatever the image's USER is.
_WORKFLOWS = yaml.safe_load((ROOT / "roles" / "argo_workflows" / "defaults" / "main.yml").read_text())
POD_USER = "%d:%d" % (_WORKFLOWS["argo_workflows_run_as_user"], _WORKFLOWS["argo_workflows_run_as_group"])


def _ok(*argv: str) -> bool:
    return subprocess.run(argv, capture_output=True, check=False).returncode == 0


def _docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=False, timeout=300)


@pytest.fixture(scope="module")
def record() -> dict[str, str]:
    """Builds (or finds up to date) the step tool image with the product's playbook; its record."""
    if not shutil.which("docker") or not _ok("docker", "info"):
        pytest.skip("no Docker engine answers here, so the step tool image cannot be built or run (make docker-engine)")
    if not CRANE.exists() or not _ok(str(CRANE), "digest", BUILDER):
        pytest.skip("the builder %s is not in the registry (make builder), so the step tool image cannot be built"
                    % BUILDER)
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
           "PATH": str(PLAYBOOK.parent) + os.pathsep + os.environ.get("PATH", "")}
    built = subprocess.run([str(PLAYBOOK), "-i", "inventories/local", "playbooks/steptool.yml",
                            "-e", "luban_builder_image=" + BUILDER], cwd=ROOT, env=env, capture_output=True,
                           text=True, check=False, timeout=1800)
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-2000:]
    data = json.loads(RECORD.read_text())
    pulled = _docker("pull", "-q", data["image"])
    assert pulled.returncode == 0, pulled.stderr
    return data


@pytest.fixture(scope="module")
def image(record: dict[str, str]) -> str:
    return record["image"]


def run(image: str, *args: str, volumes: tuple[str, ...] = (), entrypoint: str = "luban-step",
        network: str = "none", user: str = POD_USER) -> subprocess.CompletedProcess[str]:
    """As the workflow runs it: `command: [luban-step]`, the pods' uid and gid, read-only root, /tmp
    a volume."""
    # /tmp as the pods have it: an emptyDir, which (unlike Docker's default tmpfs) allows exec; the
    # HTTPS checkout runs its askpass helper from there.
    flags = ["run", "--rm", "--read-only", "--tmpfs", "/tmp:exec", "--network", network, "--entrypoint", entrypoint,
             "--user", user]
    for volume in volumes:
        flags += ["-v", volume]
    return _docker(*flags, image, *args)


def _workspace(tmp_path: Path) -> Path:
    """The shared workspace volume: written by the step's non-root user, whatever its uid."""
    work = tmp_path / "work"
    work.mkdir()
    os.chmod(work, 0o777)
    return work


def test_the_image_runs_non_root_with_luban_step_as_its_command(image: str) -> None:
    config = json.loads(_docker("image", "inspect", image).stdout)[0]["Config"]
    assert config["User"].split(":")[0] not in ("", "0", "root")
    assert config["Entrypoint"] == ["/cnb/process/luban-step"]
    version = run(image, "--version")
    assert (version.returncode, version.stdout) == (0, "luban-step 0.1.0\n"), version.stderr
    uid = run(image, "-u", entrypoint="id", user=config["User"])
    assert uid.returncode == 0 and uid.stdout.strip() not in ("", "0"), uid.stdout + uid.stderr


def test_the_uid_the_pipeline_pods_run_as_is_a_user_of_the_image(image: str) -> None:
    # OpenSSH looks the uid up before it parses its arguments and exits 255 ("No user exists for
    # uid") when /etc/passwd does not know it: every SSH checkout and GitOps push would fail.
    uid, gid = POD_USER.split(":")
    name = run(image, "-un", entrypoint="id")
    assert name.returncode == 0 and name.stdout.strip() == "cnb", name.stdout + name.stderr
    passwd = run(image, "/etc/passwd", entrypoint="cat")
    entries = [line.split(":") for line in passwd.stdout.splitlines()]
    assert [e[2:4] for e in entries if e[2] == uid] == [[uid, gid]], passwd.stdout + passwd.stderr
    ssh = run(image, "-V", entrypoint="ssh")
    assert ssh.returncode == 0 and "OpenSSH" in ssh.stderr, ssh.stderr
    config = json.loads(_docker("image", "inspect", image).stdout)[0]["Config"]
    assert config["User"].split(":")[0] != uid  # the image's own user stays the run image's app user


def test_ssh_checkout_in_the_image_as_the_pipeline_pods_run_it(
        image: str, tmp_path: Path, git_ssh_server) -> None:
    remote = make_remote(tmp_path, "app")
    wanted = commit(remote.work, {"main.py": "print(1)\n"}, "one", 1_700_000_000)
    commit(remote.work, {"main.py": "print(2)\n"}, "two", 1_700_000_100)
    remote.push()
    # A real sshd on 127.0.0.1 (a deploy key, strict host key checking), reached over the host
    # network; the key and known_hosts are a mounted secret, as in the pipeline.
    url, credentials = git_ssh_server(remote.bare)
    work = _workspace(tmp_path)
    checkout = run(image, "checkout", "--repo-url", url, "--revision", wanted, "--dest", "/work/src",
                   "--credentials-dir", "/credentials",
                   volumes=("%s:/work" % work, "%s:/credentials:ro" % credentials), network="host")
    assert checkout.returncode == 0, checkout.stderr
    assert "No user exists" not in checkout.stderr
    assert (work / "src" / "main.py").read_text() == "print(1)\n"
    assert git(work / "src", "-c", "safe.directory=*", "rev-parse", "HEAD") == wanted


def test_the_step_image_is_built_on_the_git_run_image_and_the_default_run_image_has_no_git(
        record: dict[str, str]) -> None:
    image = record["image"]
    labels = json.loads(_docker("image", "inspect", image).stdout)[0]["Config"]["Labels"]
    lifecycle = json.loads(labels["io.buildpacks.lifecycle.metadata"])
    assert lifecycle["runImage"]["reference"].endswith(record["run_image_digest"]) or \
        lifecycle["runImage"]["image"] == record["run_image"], lifecycle["runImage"]
    assert record["run_image"].endswith("-git")
    version = run(image, "--version", entrypoint="git")
    assert version.returncode == 0 and version.stdout.startswith("git version "), version.stderr
    ssh = run(image, "-V", entrypoint="ssh")
    assert ssh.returncode == 0 and "OpenSSH" in ssh.stderr, ssh.stderr
    # The stack's hardening covers the added packages too (ssh-keysign is setuid in Debian's package).
    # As root, so nothing is hidden.
    setuid = _docker("run", "--rm", "--user", "0", "--network", "none", "--entrypoint", "find", image, "/", "-xdev",
                     "-type", "f", "-perm", "/6000")
    assert setuid.returncode == 0 and setuid.stdout == "", setuid.stdout + setuid.stderr

    # The builder's own run image, the one every app runs on, stays minimal: no git, no ssh.
    config = json.loads(subprocess.run([str(CRANE), "config", record["builder"]], capture_output=True, text=True,
                                       check=True).stdout)
    default_run = json.loads(config["config"]["Labels"]["io.buildpacks.builder.metadata"])["images"][0]["image"]
    assert default_run != record["run_image"]
    assert _docker("pull", "-q", default_run).returncode == 0
    for tool in ("git", "ssh"):
        missing = _docker("run", "--rm", "--read-only", "--network", "none", "--entrypoint", tool, default_run,
                          "--version")
        assert missing.returncode != 0, "%s is in the default run image %s" % (tool, default_run)
        assert "executable file not found" in missing.stderr, missing.stderr


def test_checkout_of_an_exact_sha_then_detect_in_the_image(
        image: str, tmp_path: Path, token_dir: Path, git_http_server) -> None:
    remote = make_remote(tmp_path, "app")
    wanted = commit(remote.work, {"app/uv.lock": "version = 1\n", "app/main.py": "print(1)\n"}, "one",
                    1_700_000_000)
    commit(remote.work, {"app/main.py": "print(2)\n"}, "two", 1_700_000_100)
    remote.push()  # the branch's tip is the second commit: checkout must take the first, exactly
    # A real smart-HTTP remote on 127.0.0.1 (git http-backend behind token auth), reached from the
    # container over the host network; the token is a mounted secret, as in the pipeline.
    url = git_http_server(remote.bare)
    work = _workspace(tmp_path)
    (work / "registry.json").write_text(json.dumps([{"name": "python", "detect": ["uv.lock"], "builder": "b:1",
                                                     "template": "luban-build-python"}]))
    os.chmod(work / "registry.json", 0o644)
    volumes = ("%s:/work" % work, "%s:/credentials:ro" % token_dir)

    checkout = run(image, "checkout", "--repo-url", url, "--revision", wanted, "--dest", "/work/src",
                   "--credentials-dir", "/credentials", volumes=volumes, network="host")
    assert checkout.returncode == 0, checkout.stderr
    assert TOKEN not in checkout.stdout + checkout.stderr
    assert (work / "src" / "app" / "main.py").read_text() == "print(1)\n"
    assert git(work / "src", "-c", "safe.directory=*", "rev-parse", "HEAD") == wanted
    assert (work / "src" / ".git" / "shallow").read_text().split() == [wanted]

    detect = run(image, "detect", "--source", "/work/src", "--app-path", "app", "--registry", "/work/registry.json",
                 "--outputs", "/work/outputs", volumes=volumes)
    assert detect.returncode == 0, detect.stderr
    assert "Selected 'python' (detected)" in detect.stdout
    outputs = {name: (work / "outputs" / name).read_text() for name in ("language", "builder", "template", "app-path")}
    assert outputs == {"language": "python", "builder": "b:1", "template": "luban-build-python", "app-path": "app"}


def test_digest_runs_in_the_image(image: str, tmp_path: Path) -> None:
    work = _workspace(tmp_path)
    (work / "report.toml").write_text('[image]\n  digest = "sha256:%s"\n' % ("e" * 64))
    os.chmod(work / "report.toml", 0o644)
    digest = run(image, "digest", "--report", "/work/report.toml", "--outputs", "/work/o",
                 "--image-repository", "quay.io/acme/shop", volumes=("%s:/work" % work,))
    assert digest.returncode == 0, digest.stderr
    assert (work / "o" / "image").read_text() == "quay.io/acme/shop@sha256:" + "e" * 64
