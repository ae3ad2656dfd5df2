"""Rebuilds, rebase, the cluster path (bare creator, no Docker socket) and a failing build."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from conftest import CACHE, EXAMPLES, REGISTRY, REPO, build_app, commit_all, git_app, http_get, run
from flaky_registry import FlakyRegistry
from luban_python.errors import CATALOG  # the buildpack's own message catalog (pytest.ini puts its lib on sys.path)


def _layers(tools, ref: str) -> list[str]:
    config = json.loads(run([tools.crane, "config", ref], check=True).stdout)
    return config["rootfs"]["diff_ids"]


def _app_layer(tools, ref: str) -> str:
    config = json.loads(run([tools.crane, "config", ref], check=True).stdout)
    metadata = json.loads(config["config"]["Labels"]["io.buildpacks.lifecycle.metadata"])
    return metadata["app"][0]["sha"] if isinstance(metadata["app"], list) else metadata["app"]["sha"]


@pytest.fixture(scope="module")
def flask_app(builder, tmp_path_factory) -> Path:
    return git_app(EXAMPLES / "web-flask", tmp_path_factory.mktemp("repro") / "web-flask")


def test_rebuilding_the_same_commit_gives_the_same_digest(flask_app):
    repo = f"{REGISTRY}/tests/repro"
    first = build_app(flask_app, repo)
    second = build_app(flask_app, repo)
    assert first.digest == second.digest


def test_code_only_change_rebuilds_only_the_app_layer(flask_app, tools):
    repo = f"{REGISTRY}/tests/code-change"
    before = build_app(flask_app, repo)
    app_py = flask_app / "app.py"
    app_py.write_text(app_py.read_text().replace("hello from luban-ci", "hello again"))
    commit_all(flask_app, "code only")
    after = build_app(flask_app, repo)
    old, new = _layers(tools, before.image), _layers(tools, after.image)
    changed = [layer for layer in new if layer not in old]
    # Exactly one new layer, and it is the app layer; the venv and CPython layers are reused.
    assert changed == [_app_layer(tools, after.image)], (old, new)
    assert _app_layer(tools, before.image) != _app_layer(tools, after.image)
    # The lifecycle says so too: the venv and CPython layers come from the previous image.
    assert "Reusing layer 'luban/python-uv:venv'" in after.output, after.output[-3000:]
    assert "Reusing layer 'luban/python-uv:python'" in after.output
    # ... without the buildpack touching them: launch-only layers kept by metadata, nothing installed.
    assert "Keeping the python layer of the previous image" in after.output
    assert "Keeping the venv layer of the previous image" in after.output
    assert "Running: uv" not in after.output
    # The kept python layer's metadata still says when the 3.12 line's support ends: what
    # luban.ci.build_inputs reads to stop reusing the image after that date.
    assert _buildpack_layers(tools, after.image)["python"]["data"]["expires"] == "2028-10-31"


def _flat(text: str) -> str:
    """The playbook's log with Ansible's line wrapping undone."""
    return " ".join(text.split())


def _buildpack_layers(tools, ref: str) -> dict:
    """The python-uv buildpack's layers as the image's lifecycle metadata records them."""
    config = json.loads(run([tools.crane, "config", ref], check=True).stdout)
    metadata = json.loads(config["config"]["Labels"]["io.buildpacks.lifecycle.metadata"])
    (buildpack,) = [bp for bp in metadata["buildpacks"] if bp["key"] == "luban/python-uv"]
    return buildpack["layers"]


def _buildpack_layer(tools, ref: str, name: str) -> str:
    return _buildpack_layers(tools, ref)[name]["sha"]


def test_dependency_change_rebuilds_the_venv_and_cpython_comes_out_identical(builder, engine, tools, tmp_path):
    app = git_app(EXAMPLES / "requirements-web", tmp_path / "requirements-web")
    repo = f"{REGISTRY}/tests/deps-change"
    before = build_app(app, repo)
    with (app / "requirements.txt").open("a") as handle:
        handle.write("idna==3.10\n")
    commit_all(app, "one more dependency")
    after = build_app(app, repo)
    assert "Building the venv layer: dependency files changed" in after.output
    # The python layer is not restored between builds. The buildpack links the CPython preinstalled
    # in the builder (inventories/local preinstalls 3.12) into the layer's path to build the new venv
    # on, installing nothing, and removes the link again, so the exporter keeps the previous image's layer.
    assert re.search(r"Linking the CPython 3\.12\.\d+ preinstalled in the buildpack to build the venv on \(same archive, "
                     r"uv version, architecture\); the python layer of the previous image is kept \(same", _flat(after.output)), \
        after.output[-3000:]
    assert "Downloading cpython" not in after.output
    assert _buildpack_layer(tools, after.image, "python") == _buildpack_layer(tools, before.image, "python")
    assert _buildpack_layer(tools, after.image, "venv") != _buildpack_layer(tools, before.image, "venv")
    # The venv built on the copy runs on the image's own python layer: the copy's path is nowhere in it.
    venv_python = "/layers/luban_python-uv/venv/bin/python"
    script = "import idna, sys; print(idna.__version__, sys.base_prefix)"
    out = engine.containers.run(after.image, entrypoint=[venv_python, "-c", script], remove=True).decode()
    assert out.startswith("3.10 /layers/luban_python-uv/python/cpython-3.12."), out


def test_two_builds_from_nothing_give_the_same_digest(flask_app):
    # --clear-cache: no cache and no layer metadata restored, so CPython and the venv are installed
    # from nothing each time (into two repositories, so neither build sees the other's image).
    first = build_app(flask_app, f"{REGISTRY}/tests/fresh-a", "-e", '{"app_image_pack_args": ["--clear-cache"]}')
    second = build_app(flask_app, f"{REGISTRY}/tests/fresh-b", "-e", '{"app_image_pack_args": ["--clear-cache"]}')
    for build in (first, second):
        assert re.search(r"Installing CPython 3\.12\.\d+ into the python layer: no previous layer", _flat(build.output)), build.output[-3000:]
    assert first.digest == second.digest


@contextlib.contextmanager
def _patched_run_image(builder, tools, engine, tmp_path):
    """The builder's run image tag names a patched image (one more file) while the block runs, as
    after a stack update; the original is put back for the other tests."""
    run_image = builder["run_image"]
    patched = f"{REGISTRY}/tests/stack-run-patched:1"
    (tmp_path / "Dockerfile").write_text(
        f"FROM {run_image}\nUSER 0\nRUN echo patched > /etc/luban-patch\nUSER {_user(engine, run_image)}\n")
    engine.images.build(path=str(tmp_path), tag=patched, rm=True)
    engine.images.push(patched)
    original = run([tools.crane, "digest", run_image], check=True).stdout.strip()
    try:
        run([tools.crane, "copy", patched, run_image], check=True)
        yield
    finally:
        run([tools.crane, "copy", f"{run_image.rsplit(':', 1)[0]}@{original}", run_image], check=True)


def test_rebase_onto_a_patched_run_image_without_rebuilding(flask_app, builder, tools, engine, container, tmp_path):
    built = build_app(flask_app, f"{REGISTRY}/tests/rebase")
    # Rebase without naming the run image: pack follows the run image's own name.
    with _patched_run_image(builder, tools, engine, tmp_path):
        result = run([tools.pack, "rebase", built.tag, "--publish", "--pull-policy", "always"])
    assert result.returncode == 0, result.stdout + result.stderr
    digest = run([tools.crane, "digest", built.tag], check=True).stdout.strip()
    assert digest != built.digest
    rebased = built.tag.rsplit(":", 1)[0] + "@" + digest
    assert _app_layer(tools, rebased) == _app_layer(tools, built.image)
    c, url = container(rebased)
    assert http_get(url)["app"] == "web-flask"
    assert c.exec_run(["cat", "/etc/luban-patch"]).output.decode().strip() == "patched"


def test_build_app_reuses_the_image_of_the_same_inputs_and_rebases_it_when_only_the_run_image_moved(
        builder, tools, engine, container, tmp_path):
    app = git_app(EXAMPLES / "web-flask", tmp_path / "web-flask")
    (app / "app.py").write_text((app / "app.py").read_text() + f"# {uuid.uuid4().hex}\n")  # inputs no run has seen
    commit_all(app, "inputs of this test")
    repo = f"{REGISTRY}/tests/reuse"
    first = build_app(app, repo, reuse=True)
    assert first.action == "build"
    key = re.search(r"Building: no image was built from these inputs yet \(uv\.lock, key ([0-9a-f]{12})\)\.",
                    _flat(first.output))
    assert key, first.output[-3000:]
    (tag,) = [t for t in run([tools.crane, "ls", repo], check=True).stdout.split() if t.startswith("inputs-" + key[1])]
    assert run([tools.crane, "digest", f"{repo}:{tag}"], check=True).stdout.strip() == first.digest

    # The same inputs again: nothing is built, the image is the one built before.
    second = build_app(app, repo, reuse=True)
    assert (second.action, second.digest) == ("reuse", first.digest)
    assert (f"Not building: {repo}@{first.digest} was built from the same inputs (key {key[1]}) on the current run "
            f"image; its tags now name it.") in _flat(second.output)
    assert f"Reused {repo}@{first.digest}" in _flat(second.output)
    assert "===> DETECTING" not in second.output and "===> DETECTING" in first.output

    # Only the run image moved: the image is rebased onto it, not built.
    with _patched_run_image(builder, tools, engine, tmp_path):
        third = build_app(app, repo, reuse=True)
    assert third.action == "rebase" and third.digest != first.digest, third.output[-3000:]
    assert "===> DETECTING" not in third.output
    assert f"Not building: {repo}@{first.digest} was built from the same inputs (key {key[1]}) on another run image" \
        in _flat(third.output)
    assert _app_layer(tools, third.image) == _app_layer(tools, first.image)
    assert run([tools.crane, "digest", f"{repo}:{tag}"], check=True).stdout.strip() == third.digest
    c, url = container(third.image)
    assert http_get(url)["app"] == "web-flask"
    assert c.exec_run(["cat", "/etc/luban-patch"]).output.decode().strip() == "patched"

    # A code change is new inputs: built.
    (app / "app.py").write_text((app / "app.py").read_text() + "# changed\n")
    commit_all(app, "code")
    assert build_app(app, repo, reuse=True).action == "build"


def _user(engine, image: str) -> str:
    return engine.images.get(image).attrs["Config"]["User"]


@pytest.fixture
def private_registry(tools, tmp_path):
    """A second registry process that requires a login (htpasswd), on a free local port."""
    import crypt  # noqa: PLC0415  (bcrypt via the system's libxcrypt; deprecated but present in 3.12)
    import socket
    import time
    import warnings

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (tmp_path / "htpasswd").write_text("builder:" + crypt.crypt("s3cret", crypt.mksalt(crypt.METHOD_BLOWFISH)) + "\n")
    (tmp_path / "config.yml").write_text(
        "version: 0.1\nlog: {level: warn}\n"
        f"storage: {{filesystem: {{rootdirectory: {tmp_path}/data}}}}\n"
        f"http: {{addr: 127.0.0.1:{port}}}\n"
        f"auth: {{htpasswd: {{realm: luban, path: {tmp_path}/htpasswd}}}}\n")
    registry = subprocess.Popen([str(Path(tools.crane).with_name("registry")), "serve", str(tmp_path / "config.yml")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _unused in range(50):
        if run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", f"http://127.0.0.1:{port}/v2/"]).stdout == "401":
            break
        time.sleep(0.2)
    yield f"127.0.0.1:{port}", ("builder", "s3cret")
    registry.terminate()
    registry.wait()


# Request kinds (tests/support/flaky_registry.py) whose first occurrence the registry fails with 503.
_RETRIED = frozenset({"GET manifest", "HEAD manifest", "HEAD blob", "PATCH upload", "PUT upload", "PUT manifest"})
# What the build template runs analyze through: the access check, which the lifecycle's registry
# client does not retry, runs again on a passing fault.
ANALYZE_SH = (REPO / "roles" / "argo_workflows" / "files" / "analyze.sh").read_text()
ANALYZE_AGAIN = ("luban-ci: the registry access check failed on a fault that passes (above); analyze runs again in "
                 "2 s (attempt 2 of 4).")


@pytest.mark.parametrize("fail", [
    pytest.param(_RETRIED, id="reads-and-writes"),
    # analyze checks it may push by starting an upload (POST); the lifecycle does not retry that
    # check, analyze.sh does.
    pytest.param(frozenset({"POST upload"}), id="write-access-check"),
])
def test_cluster_path_lifecycle_phases_without_docker_socket(builder, engine, container, tools, private_registry,
                                                             tmp_path, fail):
    """What the Argo build template runs (roles/argo_workflows/templates/workflowtemplate-build.yaml.j2):
    the builder image's five lifecycle phases, each in its own container as the builder's user, no
    Docker socket, sharing only /layers; the registry credentials mounted in analyze, restore and
    export only, pushing to a registry that requires them. detect and build, where the app's build
    code runs, must succeed without them. The registry also fails the first request of each kind in
    ``fail`` with 503 (a registry under load): the lifecycle's registry client retries inside the
    phase, the whole blob upload or the manifest write included, and analyze.sh the access check,
    so the build does not fail (issue 10 item 10)."""
    upstream, (user, password) = private_registry
    flaky = FlakyRegistry(upstream, set(fail))
    with flaky:
        logs = _run_phases_through(flaky.address, user, password, builder, engine, container, tools, tmp_path)
    seen = [what for what, status in flaky.events if status == 503]
    assert set(seen) == set(fail), flaky.events  # every kind was refused once ...
    for what in seen:  # ... then asked again and answered
        after = flaky.events[flaky.events.index((what, 503)) + 1:]
        assert any(w == what and status < 500 for w, status in after), (what, flaky.events)
    assert (ANALYZE_AGAIN in logs["analyzer"]) is ("POST upload" in fail), logs["analyzer"]


def test_analyze_does_not_retry_a_refused_login(builder, engine, tools, private_registry, tmp_path):
    """A wrong credential is no passing fault: analyze fails at once, with the lifecycle's reason."""
    upstream, (user, _password) = private_registry
    with pytest.raises(PhaseFailed) as failed:
        _run_phases_through(upstream, user, "wrong", builder, engine, None, tools, tmp_path)
    phase, logs = failed.value.phase, failed.value.logs
    assert phase == "analyzer", logs
    assert "failed to ensure registry read access to %s/" % upstream in logs
    assert "401 Unauthorized" in logs
    assert "analyze runs again" not in logs


class PhaseFailed(AssertionError):
    def __init__(self, phase: str, logs: str) -> None:
        super().__init__("%s failed:\n%s" % (phase, logs[-4000:]))
        self.phase, self.logs = phase, logs


def _run_phases_through(registry, user, password, builder, engine, container, tools, tmp_path):
    app = tmp_path / "workspace"
    shutil.copytree(EXAMPLES / "web-flask", app)
    docker_config = tmp_path / "docker"
    docker_config.mkdir()
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    (docker_config / "config.json").write_text(json.dumps({"auths": {registry: {"auth": auth}}}))
    platform = tmp_path / "platform"
    (platform / "env").mkdir(parents=True)
    (platform / "env" / "UV_PYTHON_DOWNLOADS_JSON_URL").write_text("file:///luban/python-mirror/download-metadata.json")
    (platform / "env" / "UV_PYTHON_INSTALL_MIRROR").write_text("file:///luban/python-mirror")
    binding = platform / "bindings" / "ca-certificates"
    binding.mkdir(parents=True)
    (binding / "type").write_text("ca-certificates")
    shutil.copy("/etc/ssl/certs/ca-certificates.crt", binding / "ca-certificates.crt")
    for p in [tmp_path, *tmp_path.rglob("*")]:
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    layers = tmp_path / "layers"  # the pod's emptyDir, writable by the pod's group (fsGroup)
    layers.mkdir()
    os.chown(layers, int(builder["uid"]), int(builder["gid"]))
    target = f"{registry}/tests/cluster-path:1"
    # Without credentials the registry refuses: the push below can only work with the mounted config.
    anonymous = run([tools.crane, "catalog", registry], env={**os.environ, "DOCKER_CONFIG": str(tmp_path / "none")})
    assert anonymous.returncode != 0
    ids = ["-uid", builder["uid"], "-gid", builder["gid"]]
    app_code = ["-app", "/workspace", "-layers", "/layers", "-platform", "/platform"]
    phases = [("analyzer", ["-layers", "/layers", "-run-image", builder["run_image"], *ids, target], True),
              ("detector", app_code, False),
              ("restorer", ["-layers", "/layers", *ids], True),
              ("builder", app_code, False),
              ("exporter", ["-app", "/workspace", "-layers", "/layers", *ids, target], True)]
    logs_of = {}
    for phase, args, credentialed in phases:
        volumes = {str(app): {"bind": "/workspace", "mode": "ro"}, str(layers): {"bind": "/layers", "mode": "rw"}}
        environment = {"CNB_PLATFORM_API": "0.14"}
        if credentialed:
            volumes[str(docker_config)] = {"bind": "/docker-config", "mode": "ro"}
            environment["DOCKER_CONFIG"] = "/docker-config"
        else:
            volumes[str(platform)] = {"bind": "/platform", "mode": "ro"}
            volumes[str(CACHE / "python-mirror")] = {"bind": "/luban/python-mirror", "mode": "ro"}
        entrypoint = ["/cnb/lifecycle/" + phase]
        if phase == "analyzer":
            entrypoint = ["/bin/sh", "-c", ANALYZE_SH, "analyze", *entrypoint]
        ctr = engine.containers.run(
            builder["image"], entrypoint=entrypoint, command=["-log-level", "info", *args],
            user=f"{builder['uid']}:{builder['gid']}", environment=environment, volumes=volumes,
            network_mode="host", detach=True,
        )
        code = ctr.wait()["StatusCode"]
        logs = ctr.logs().decode()
        mounts = [m["Destination"] for m in ctr.attrs["Mounts"]]
        ctr.remove()
        logs_of[phase] = logs
        if code != 0:
            raise PhaseFailed(phase, logs)
        assert "/var/run/docker.sock" not in mounts
        assert ("/docker-config" in mounts) is credentialed
    # Move the image to the open registry with the same credentials, then run it.
    local = f"{REGISTRY}/tests/cluster-path:1"
    run([tools.crane, "copy", target, local], env={**os.environ, "DOCKER_CONFIG": str(docker_config)}, check=True)
    c, url = container(local)
    assert http_get(url)["app"] == "web-flask"
    assert c.attrs["Config"]["User"].split(":")[0] != builder["uid"]
    return logs_of


def test_cluster_layout_from_detect_builds_as_pack_would(builder, engine, container, tools, tmp_path):
    """The cluster build as the WorkflowTemplates lay it out: `luban-step detect --prepare-dir` on a
    checkout (with .git), then the bare creator with build/app at /workspace, build/platform/env at
    /platform/env and a binding at /platform/bindings/<name>, each mounted apart as the pods mount
    them. project.toml's build env (here the offline CPython mirror, without which nothing
    installs) and the CA binding must reach the buildpack; .git and excluded files never reach
    the image."""
    source = git_app(EXAMPLES / "web-flask", tmp_path / "source")
    (source / "notes").mkdir()
    (source / "notes" / "private.txt").write_text("not for the image\n")
    (source / "README.md").write_text("# docs, excluded\n")
    (source / "project.toml").write_text(
        '[_]\nschema-version = "0.2"\n\n[io.buildpacks]\nexclude = ["notes/", "*.md"]\n\n'
        '[[io.buildpacks.build.env]]\nname = "UV_PYTHON_DOWNLOADS_JSON_URL"\n'
        'value = "file:///luban/python-mirror/download-metadata.json"\n\n'
        '[[io.buildpacks.build.env]]\nname = "UV_PYTHON_INSTALL_MIRROR"\nvalue = "file:///luban/python-mirror"\n')
    commit_all(source, "project.toml")
    registry = tmp_path / "registry.json"
    registry.write_text(json.dumps([{"name": "python", "detect": ["uv.lock"], "builder": builder["image"],
                                     "template": "luban-build-python"}]))
    detect = run([sys.executable, "-m", "luban_step", "detect", "--source", str(source), "--registry", str(registry),
                  "--outputs", str(tmp_path / "outputs"), "--prepare-dir", str(tmp_path / "build")],
                 env={**os.environ, "PYTHONPATH": str(REPO / "files" / "steptool" / "src")})
    assert detect.returncode == 0, detect.stderr
    binding = tmp_path / "bindings" / "ca-certificates"
    binding.mkdir(parents=True)
    (binding / "type").write_text("ca-certificates")
    shutil.copy("/etc/ssl/certs/ca-certificates.crt", binding / "ca-certificates.crt")
    for p in [tmp_path, *tmp_path.rglob("*")]:
        if not p.is_symlink():
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
    target = f"{REGISTRY}/tests/cluster-layout:1"
    ctr = engine.containers.run(
        builder["image"],
        entrypoint=["/cnb/lifecycle/creator"],
        command=["-app", "/workspace", "-platform", "/platform", "-run-image", builder["run_image"],
                 "-log-level", "info", target],
        user=f"{builder['uid']}:{builder['gid']}",
        environment={"CNB_PLATFORM_API": "0.14"},
        volumes={str(tmp_path / "build" / "app"): {"bind": "/workspace", "mode": "ro"},
                 str(tmp_path / "build" / "platform" / "env"): {"bind": "/platform/env", "mode": "ro"},
                 str(binding): {"bind": "/platform/bindings/ca-certificates", "mode": "ro"},
                 str(CACHE / "python-mirror"): {"bind": "/luban/python-mirror", "mode": "ro"}},
        network_mode="host", detach=True,
    )
    code = ctr.wait()["StatusCode"]
    logs = ctr.logs().decode()
    ctr.remove()
    assert code == 0, logs[-4000:]
    assert "Trusting the CA certificates of binding(s) ca-certificates" in logs
    c, url = container(target)
    assert http_get(url)["app"] == "web-flask"
    listing = engine.containers.run(target, entrypoint=["/bin/sh", "-c", "cd /workspace && find . | sort"],
                                    remove=True).decode().split()
    assert "./app.py" in listing and "./project.toml" in listing
    # `notes/` matches what is under notes, not the directory itself: pack keeps it, empty.
    assert not [f for f in listing if f.startswith(("./.git", "./notes/")) or f.endswith(".md")], listing


def test_stale_lock_fails_build_app_with_the_buildpacks_message(builder, tmp_path):
    app = git_app(EXAMPLES / "web-flask", tmp_path / "stale")
    pyproject = app / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"gunicorn>=23,<24"', '"gunicorn>=23,<24", "itsdangerous>=2"'))
    commit_all(app, "dependency added without relocking")
    result = build_app(app, f"{REGISTRY}/tests/stale", check=False)
    assert result.returncode != 0
    assert CATALOG["lock_stale"].title in result.stdout
