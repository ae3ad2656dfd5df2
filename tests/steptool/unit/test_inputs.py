"""inputs: build, reuse or rebase, decided against a loopback registry speaking the distribution API."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from pathlib import Path

import pytest
from conftest import run_cli

RUN_NOW, RUN_OLD = "sha256:" + "1" * 64, "sha256:" + "2" * 64
FOUND = "sha256:" + "f" * 64


class FakeRegistry:
    """Manifests by tag or digest and config blobs; answers 404 for anything else."""

    def __init__(self) -> None:
        self.manifests: dict[str, tuple[str, bytes]] = {}  # /v2/<repo>/manifests/<ref> -> (digest, body)
        self.blobs: dict[str, bytes] = {}
        self.seen: list[str] = []
        self.put_status: list[int] = []  # answers to the next PUTs (default 201)
        registry = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *_args) -> None:
                pass

            def do_GET(self) -> None:  # the standard library's name
                registry.seen.append(self.command + " " + self.path)
                found = registry.manifests.get(self.path)
                body = found[1] if found else registry.blobs.get(self.path)
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                if found:
                    self.send_header("Docker-Content-Digest", found[0])
                    self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command == "GET":
                    self.wfile.write(body)

            do_HEAD = do_GET

            def do_PUT(self) -> None:  # the standard library's name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                registry.seen.append("PUT %s %s" % (self.path, self.headers.get("Content-Type")))
                status = registry.put_status.pop(0) if registry.put_status else 201
                if status == 201:
                    registry.manifests[self.path] = ("sha256:" + hashlib.sha256(body).hexdigest(), body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = "127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def image(self, repository: str, tags: list[str], config: dict, digest: str | None = None) -> str:
        blob = json.dumps(config).encode()
        config_digest = "sha256:" + hashlib.sha256(blob).hexdigest()
        self.blobs["/v2/%s/blobs/%s" % (repository, config_digest)] = blob
        manifest = json.dumps({"schemaVersion": 2, "config": {"digest": config_digest}}).encode()
        digest = digest or "sha256:" + hashlib.sha256(manifest).hexdigest()
        for ref in tags + [digest]:
            self.manifests["/v2/%s/manifests/%s" % (repository, ref)] = (digest, manifest)
        return digest


@pytest.fixture
def registry():
    server = FakeRegistry()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def labels(name: str, value: dict) -> dict:
    return {"config": {"Labels": {name: json.dumps(value)}}}


def setup(tmp_path: Path, registry: FakeRegistry, lock: bool = True) -> tuple[Path, Path, list[str]]:
    app = tmp_path / "build" / "app"
    app.mkdir(parents=True)
    (app / "app.py").write_text("print('hi')\n")
    (app / "pyproject.toml").write_text("[project]\nname = 'a'\n")
    if lock:
        (app / "uv.lock").write_text("version = 1\n")
    env = tmp_path / "build" / "platform" / "env"
    env.mkdir(parents=True)
    (env / "BP_X").write_text("1")
    run = "%s/luban/stack-run:debian" % registry.host
    registry.image("luban/builder", ["latest"], labels("io.buildpacks.builder.metadata", {"images": [{"image": run}]}))
    registry.image("luban/stack-run", ["debian"], {"config": {}}, digest=RUN_NOW)
    args = ["inputs", "--app", str(app), "--platform-env", str(env), "--image-repository", registry.host + "/apps/a",
            "--builder", registry.host + "/luban/builder:latest", "--setting", "platform-api=0.14",
            "--insecure-registry", registry.host, "--default-tag", registry.host + "/apps/a:latest",
            "--outputs", str(tmp_path / "out")]
    return app, tmp_path / "out", args


def outputs(directory: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(directory.iterdir())}


def test_the_first_run_builds_and_names_the_inputs_tag(tmp_path: Path, registry: FakeRegistry) -> None:
    _app, out, args = setup(tmp_path, registry)
    result = run_cli(*args)
    assert result.code == 0, result.err
    found = outputs(out)
    assert found["action"] == "build" and found["image"] == ""
    assert found["tag"].startswith(registry.host + "/apps/a:inputs-") and len(found["tag"].rsplit("-", 1)[1]) == 64
    assert found["run-image"] == registry.host + "/luban/stack-run:debian"
    key = found["tag"].rsplit("-", 1)[1]
    assert ("luban-step: Building: no image was built from these inputs yet (uv.lock, key %s)." % key[:12]) in result.err
    assert result.out == "luban-step: Inputs: build, key '%s'.\n" % key[:12]


@pytest.mark.parametrize(("on", "action"), [(RUN_NOW, "reuse"), (RUN_OLD, "rebase")])
def test_an_image_of_the_same_inputs_is_reused_or_rebased(tmp_path: Path, registry: FakeRegistry, on: str,
                                                          action: str) -> None:
    _app, out, args = setup(tmp_path, registry)
    assert run_cli(*args).code == 0
    tag = outputs(out)["tag"]
    metadata = {"runImage": {"reference": "%s/luban/stack-run@%s" % (registry.host, on),
                             "image": "%s/luban/stack-run:debian" % registry.host}}
    registry.image("apps/a", [tag.rsplit(":", 1)[1]], labels("io.buildpacks.lifecycle.metadata", metadata), digest=FOUND)
    result = run_cli(*args)
    assert result.code == 0, result.err
    assert outputs(out) == {"action": action, "image": registry.host + "/apps/a@" + FOUND, "tag": tag,
                            "run-image": registry.host + "/luban/stack-run:debian"}
    assert "luban-step: Not building: %s/apps/a@%s was built from the same inputs" % (registry.host, FOUND) in result.err


def test_a_moved_pin_rebases_onto_the_new_digest(tmp_path: Path, registry: FakeRegistry) -> None:
    """The pinned run image is not an input: the same key finds the image built on the old pin,
    and the run rebases it onto the new one (an OS patch), naming the pin it rebases onto."""
    _app, out, args = setup(tmp_path, registry)
    pin = "%s/luban/stack-run:debian@%%s" % registry.host
    registry.image("luban/stack-run", [], {"config": {}}, digest=RUN_OLD)
    assert run_cli(*args, "--language", "python", "--run-image", "python=" + pin % RUN_OLD).code == 0
    tag = outputs(out)["tag"]
    metadata = {"runImage": {"reference": "%s/luban/stack-run@%s" % (registry.host, RUN_OLD),
                             "image": "%s/luban/stack-run:debian" % registry.host}}
    registry.image("apps/a", [tag.rsplit(":", 1)[1]], labels("io.buildpacks.lifecycle.metadata", metadata), digest=FOUND)
    result = run_cli(*args, "--language", "python", "--run-image", "python=" + pin % RUN_NOW)
    assert result.code == 0, result.err
    assert outputs(out) == {"action": "rebase", "image": registry.host + "/apps/a@" + FOUND, "tag": tag,
                            "run-image": pin % RUN_NOW}
    assert result.err.endswith("on another run image (%s); rebasing it onto %s.\n" % (RUN_OLD, pin % RUN_NOW)), result.err


def test_a_changed_build_env_file_is_another_input(tmp_path: Path, registry: FakeRegistry) -> None:
    _app, out, args = setup(tmp_path, registry)
    assert run_cli(*args).code == 0
    first = outputs(out)["tag"]
    (tmp_path / "build" / "platform" / "env" / "BP_X").write_text("2")
    assert run_cli(*args).code == 0
    assert outputs(out)["tag"] != first


def test_an_unlocked_app_is_always_built_and_tags_nothing_more(tmp_path: Path, registry: FakeRegistry) -> None:
    _app, out, args = setup(tmp_path, registry, lock=False)
    result = run_cli(*args)
    assert result.code == 0, result.err
    assert outputs(out) == {"action": "build", "image": "", "tag": registry.host + "/apps/a:latest", "run-image": ""}
    assert registry.seen == []


def test_reuse_switched_off_builds(tmp_path: Path, registry: FakeRegistry) -> None:
    _app, out, args = setup(tmp_path, registry)
    result = run_cli(*args, "--reuse", "false")
    assert result.code == 0
    assert outputs(out)["action"] == "build" and registry.seen == []
    assert "luban-step: Building: reuse is switched off (argo_workflows_reuse)." in result.err


def test_an_unreachable_registry_builds_and_says_why(tmp_path: Path, registry: FakeRegistry) -> None:
    _app, out, args = setup(tmp_path, registry)
    registry.manifests.clear()
    result = run_cli(*args)
    assert result.code == 0
    assert outputs(out)["action"] == "build"
    assert "luban-step: Building: what is already built could not be found out (the builder " in result.err


def test_a_binding_is_name_equals_directory(tmp_path: Path, registry: FakeRegistry) -> None:
    _app, _out, args = setup(tmp_path, registry)
    result = run_cli(*args, "--binding", "python-mirror")
    assert result.code == 2
    assert result.err == ("luban-step: error: --binding 'python-mirror' is not NAME=DIR. Each binding the build "
                          "mounts is counted in the build's inputs by its contents: pass its name and the directory "
                          "it is mounted at, for example python-mirror=/bindings/python-mirror.\n")


def test_the_run_image_pinned_for_the_apps_language_is_the_one_checked(tmp_path: Path, registry: FakeRegistry) -> None:
    _app, out, args = setup(tmp_path, registry)
    pinned = "%s/luban/stack-run@%s" % (registry.host, RUN_OLD)
    registry.manifests["/v2/luban/stack-run/manifests/" + RUN_OLD] = (RUN_OLD, b"{}")
    assert run_cli(*args, "--language", "python", "--run-image", "go=elsewhere/run:1", "--run-image",
                   "python=" + pinned).code == 0
    assert outputs(out)["run-image"] == pinned
    assert run_cli(*args, "--language", "node", "--run-image", "python=" + pinned).code == 0
    assert outputs(out)["run-image"] == registry.host + "/luban/stack-run:debian"
    result = run_cli(*args, "--run-image", "python")
    assert (result.code, result.err) == (2, (
        "luban-step: error: --run-image 'python' is not LANGUAGE=IMAGE. The build pins a run image per language "
        "(argo_workflows_run_images): pass each as the language's name and the image, for example "
        "python=quay.io/luban-ci/stack-run@sha256:<digest>.\n"))
