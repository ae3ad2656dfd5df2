# -*- coding: utf-8 -*-
# Copyright: luban-ci contributors
# Apache License 2.0 (see LICENSE)
"""The inputs key of an app build and the decision to build, reuse or rebase.

The engine and the registry are the module's own seams here; the images tier runs the same code
against the real Docker engine, registry and pack."""

from __future__ import annotations

import base64
import datetime
import hashlib
import http.server
import json
import os
import subprocess
import threading
from pathlib import Path

import pytest
from ansible_collections.luban.ci.plugins.module_utils import build_inputs as bi

RUN = "127.0.0.1:5000/luban/stack-run:debian"
RUN_NOW, RUN_OLD = "sha256:" + "1" * 64, "sha256:" + "2" * 64
BUILDER_ID = "sha256:" + "b" * 64
FOUND = "sha256:" + "f" * 64
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}).stdout.strip()


def runner(argv: list, cwd: str | None, data: str | None) -> tuple[int, str]:
    """What the module's AnsibleModule.run_command does for decide()."""
    done = subprocess.run(argv, cwd=cwd, input=data, capture_output=True, text=True, check=False,
                          env={**os.environ, **bi.GIT_ENV})
    return done.returncode, done.stdout


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


APP = {"app.py": "print('hi')\n", "uv.lock": "version = 1\n", "pyproject.toml": "[project]\nname = 'a'\n"}


def test_a_clean_committed_directory_is_its_git_tree(tmp_path: Path) -> None:
    write(tmp_path / "repo" / "svc", APP)
    write(tmp_path / "repo", {".gitignore": "*.pyc\n", "README": "r\n"})
    repo = tmp_path / "repo"
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "one")
    assert bi.source_digest(repo / "svc", runner) == "tree:" + git(repo, "rev-parse", "HEAD:svc")
    # A change elsewhere in the repository is no change of this app.
    write(repo, {"README": "changed\n"})
    assert bi.source_digest(repo / "svc", runner) == "tree:" + git(repo, "rev-parse", "HEAD:svc")
    # pack uploads every file of the directory: an edit, an untracked or an ignored file count.
    tree = bi.source_digest(repo / "svc", runner)
    for name in ("app.py", "new.txt", "cached.pyc"):
        write(repo / "svc", {name: "x\n"})
        digest = bi.source_digest(repo / "svc", runner)
        assert digest.startswith("files:") and digest != tree, name
        git(repo, "checkout", "-q", "--", ".")
        git(repo, "clean", "-qfdx")
    assert bi.source_digest(repo / "svc", runner) == tree


def test_a_directory_outside_git_is_the_digest_of_its_files(tmp_path: Path) -> None:
    one, two = write(tmp_path / "one", APP), write(tmp_path / "two", APP)
    assert bi.source_digest(one, runner) == bi.source_digest(two, runner)
    assert bi.source_digest(one, runner).startswith("files:")
    baseline = bi.source_digest(one, runner)
    (one / "app.py").chmod(0o755)
    assert bi.source_digest(one, runner) != baseline
    (one / "app.py").chmod(0o644)
    (one / "link").symlink_to("app.py")
    linked = bi.source_digest(one, runner)
    assert linked != baseline
    (one / "link").unlink()
    (one / "link").symlink_to("uv.lock")
    assert bi.source_digest(one, runner) not in (baseline, linked)
    (one / "link").unlink()
    (one / ".git").mkdir()  # not a repository, and never an input
    (one / ".git" / "junk").write_text("x")
    assert bi.source_digest(one, runner) == baseline


def test_a_python_mirror_binding_counts_by_its_downloads_list(tmp_path: Path) -> None:
    mirror = write(tmp_path / "mirror", {"type": "uv-python-mirror\n", "download-metadata.json": "{}\n",
                                         "luban2/cpython.tar.gz": "archive"})
    before = bi.binding_digest(mirror)
    write(mirror, {"luban2/cpython.tar.gz": "other bytes the list would have to name"})
    assert bi.binding_digest(mirror) == before
    write(mirror, {"download-metadata.json": '{"cpython": {}}\n'})
    assert bi.binding_digest(mirror) != before
    ca = write(tmp_path / "ca", {"type": "ca-certificates\n", "ca.crt": "one"})
    before = bi.binding_digest(ca)
    write(ca, {"ca.crt": "two"})
    assert bi.binding_digest(ca) != before


def kubernetes_volume(root: Path, written: str, keys: dict[str, str]) -> Path:
    """A Secret or ConfigMap volume as the kubelet writes it: the keys in a directory named after
    the time they were written, reached through ..data and one link per key."""
    write(root / written, keys)
    (root / "..data").symlink_to(written)
    for key in keys:
        (root / key).symlink_to("..data/" + key)
    return root


def test_a_kubernetes_volume_binding_counts_by_its_keys_not_by_when_the_pod_got_it(tmp_path: Path) -> None:
    keys = {"type": "netrc", ".netrc": "machine index login robot password s3cret\n"}
    one = kubernetes_volume(tmp_path / "pod-1", "..2026_11_29_12_20_00.111", keys)
    other = kubernetes_volume(tmp_path / "pod-2", "..2026_11_29_12_24_31.222", keys)
    assert bi.binding_digest(one) == bi.binding_digest(other)
    changed = kubernetes_volume(tmp_path / "pod-3", "..2026_11_29_12_30_00.333", dict(keys, type="netrc\n"))
    assert bi.binding_digest(changed) != bi.binding_digest(one)
    renamed = kubernetes_volume(tmp_path / "pod-4", "..2026_11_29_12_31_00.444", {"type": "netrc", "netrc": keys[".netrc"]})
    assert bi.binding_digest(renamed) != bi.binding_digest(one)
    # A key may start with one dot, and it counts.
    rotated = kubernetes_volume(tmp_path / "pod-5", "..2026_11_29_12_32_00.555", dict(keys, **{".netrc": "other"}))
    assert bi.binding_digest(rotated) != bi.binding_digest(one)


def test_the_key_changes_with_each_input() -> None:
    base = ("tree:" + "a" * 40, BUILDER_ID, {"python-mirror": "mirror:1"}, ["--env", "A=1"])
    key = bi.build_key(*base)
    assert key == bi.build_key(*base) and len(key) == 64
    for index, other in enumerate(("tree:" + "c" * 40, "sha256:" + "d" * 64, {"python-mirror": "mirror:2"}, [])):
        changed = list(base)
        changed[index] = other
        assert bi.build_key(*changed) != key, index


def test_a_new_pack_is_a_new_input(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    pack.write_text("v1")
    before = bi.tool_identity(str(pack))
    assert bi.build_key("s", "b", {}, [], [before]) != bi.build_key("s", "b", {}, [])
    pack.write_text("v1.1")
    assert bi.tool_identity(str(pack)) != before
    assert bi.tool_identity("sh").startswith("/")  # a name on PATH
    with pytest.raises(bi.InputsError, match="cannot be read"):
        bi.tool_identity(str(tmp_path / "none"))


def test_references_are_read_as_docker_reads_them() -> None:
    assert bi.Reference.parse("127.0.0.1:5000/apps/web:latest") == bi.Reference("127.0.0.1:5000", "apps/web", "latest")
    assert bi.Reference.parse("quay.io/o/a@sha256:" + "1" * 64) == bi.Reference("quay.io", "o/a", "", "sha256:" + "1" * 64)
    assert bi.Reference.parse("localhost/a") == bi.Reference("localhost", "a", "latest")
    assert bi.Reference.parse("python:3.12") == bi.Reference("index.docker.io", "library/python", "3.12")
    assert bi.Reference.parse("example/app") == bi.Reference("index.docker.io", "example/app", "latest")
    # Docker Hub's other spellings name the same images, as the lifecycle reads them.
    for same in ("docker.io/library/python:3.12", "index.docker.io/python:3.12", "docker.io/python:3.12"):
        assert bi.Reference.parse(same) == bi.Reference("index.docker.io", "library/python", "3.12"), same
    assert bi.image_name("docker.io/library/python@sha256:" + "1" * 64) == "index.docker.io/library/python:latest"


class Registry:
    """The two questions decide() asks a registry, answered from a dict of tag -> (digest, config)."""

    def __init__(self, images: dict[str, tuple[str, dict]], indexes: dict[str, dict[str, str]] | None = None) -> None:
        self.images = images
        self.indexes = indexes or {}  # an index's digest -> {OS/ARCH: its image's digest}
        self.asked: list[str] = []

    def digest(self, ref: bi.Reference) -> str | None:
        # By digest, a reference's tag names nothing (REPO:TAG@DIGEST is REPO@DIGEST).
        name = "%s@%s" % (ref.name, ref.digest) if ref.digest else "%s:%s" % (ref.name, ref.tag)
        self.asked.append(name)
        return self.images[name][0] if name in self.images else None

    def config(self, ref: bi.Reference, digest: str) -> dict:
        return next(config for d, config in self.images.values() if d == digest)

    def platform_config(self, ref: bi.Reference, digest: str, platform: str) -> tuple[str, dict]:
        """The real client's choice (test_the_image_for_a_platform_is_read_from_an_index) on dicts."""
        if digest in self.indexes:
            if platform not in self.indexes[digest]:
                raise bi.InputsError("no image for " + platform)
            digest = self.indexes[digest][platform]
            return digest, dict(zip(("os", "architecture"), platform.split("/")))
        return digest, self.config(ref, digest)


def built(run_digest: str, buildpacks: list | None = None) -> dict:
    metadata = {"runImage": {"reference": "127.0.0.1:5000/luban/stack-run@" + run_digest, "image": RUN}}
    if buildpacks is not None:
        metadata["buildpacks"] = buildpacks
    return {"config": {"Labels": {bi.LIFECYCLE_METADATA: json.dumps(metadata)}}}


NO_DATE = object()


def python_uv(expires: object = NO_DATE, **more_layers: dict) -> dict:
    """The python-uv buildpack's entry in the lifecycle metadata label, as the lifecycle writes it
    from the layers' <layer>.toml (their [metadata] under ``data``)."""
    data = {"python": "3.10.13", "archive": "uv's built-in downloads", "uv": "0.13.9", "arch": "amd64"}
    if expires is not NO_DATE:
        data["expires"] = expires
    layers = {"python": {"sha": "sha256:" + "3" * 64, "data": data, "launch": True},
              "venv": {"sha": "sha256:" + "4" * 64, "data": {"python": "3.10.13", "inputs": "x"}, "launch": True}}
    layers.update(more_layers)
    return {"key": "luban/python-uv", "version": "0.1.0", "layers": layers}


def engine(builder: str, _host: str) -> dict:
    assert builder == "127.0.0.1:5000/luban/builder-python:latest"
    return {"Id": BUILDER_ID, "Config": {"Labels": {bi.BUILDER_METADATA: json.dumps({"images": [{"image": RUN}]})}}}


def decide(app: Path, registry: Registry, **kw) -> bi.Decision:
    return bi.decide(app, "127.0.0.1:5000/apps/a", "127.0.0.1:5000/luban/builder-python:latest", kw.get("bindings", {}),
                     kw.get("arguments", []), ["uv.lock"], registry, "unix:///nowhere", runner,
                     engine=kw.get("engine", engine), today=kw.get("today"))


def test_nothing_built_from_these_inputs_builds_and_names_the_tag(tmp_path: Path) -> None:
    app = write(tmp_path / "app", APP)
    registry = Registry({RUN: (RUN_NOW, {})})
    decision = decide(app, registry)
    key = bi.build_key(bi.source_digest(app, runner), BUILDER_ID, {}, [])
    assert decision == bi.Decision("build", "no image was built from these inputs yet (uv.lock, key %s)" % key[:12], key,
                                   "127.0.0.1:5000/apps/a:inputs-" + key, "", RUN, RUN_NOW)
    assert registry.asked == [RUN, "127.0.0.1:5000/apps/a:inputs-" + key]


@pytest.mark.parametrize(("on", "action"), [(RUN_NOW, "reuse"), (RUN_OLD, "rebase")])
def test_an_image_of_the_same_inputs_is_reused_or_rebased(tmp_path: Path, on: str, action: str) -> None:
    app = write(tmp_path / "app", APP)
    key = bi.build_key(bi.source_digest(app, runner), BUILDER_ID, {}, [])
    decision = decide(app, Registry({RUN: (RUN_NOW, {}), "127.0.0.1:5000/apps/a:inputs-" + key: (FOUND, built(on))}))
    assert (decision.action, decision.digest, decision.key) == (action, FOUND, key)
    if action == "reuse":
        assert decision.reason == ("127.0.0.1:5000/apps/a@%s was built from the same inputs (key %s) on the current run "
                                   "image" % (FOUND, key[:12]))
    else:
        assert decision.reason == ("127.0.0.1:5000/apps/a@%s was built from the same inputs (key %s) on another run "
                                   "image (%s); rebasing it onto %s@%s" % (FOUND, key[:12], RUN_OLD, RUN, RUN_NOW))


EOL_310 = datetime.date(2026, 10, 31)  # the 3.10 line's last day of security support
DAY = datetime.timedelta(days=1)


def found_image(tmp_path: Path, on: str, buildpacks: list) -> tuple[Path, str, Registry]:
    app = write(tmp_path / "app", APP)
    key = bi.build_key(bi.source_digest(app, runner), BUILDER_ID, {}, [])
    return app, key, Registry({RUN: (RUN_NOW, {}), "127.0.0.1:5000/apps/a:inputs-" + key: (FOUND, built(on, buildpacks))})


@pytest.mark.parametrize("on", [RUN_NOW, RUN_OLD])
def test_an_image_whose_layer_outlived_its_support_is_built_again(tmp_path: Path, on: str) -> None:
    """Reused or rebased, the image would bypass the buildpack's end-of-life refusal (or warning)."""
    app, key, registry = found_image(tmp_path, on, [python_uv("2026-10-31")])
    decision = decide(app, registry, today=EOL_310 + DAY)
    assert decision == bi.Decision(
        "build", "127.0.0.1:5000/apps/a@%s was built from the same inputs (key %s), but the support of its python "
        "layer (buildpack luban/python-uv) ended on 2026-10-31, so it is built again: the build decides whether what "
        "that layer holds may still be used" % (FOUND, key[:12]), key, "127.0.0.1:5000/apps/a:inputs-" + key, FOUND,
        RUN, RUN_NOW)


@pytest.mark.parametrize(("on", "action"), [(RUN_NOW, "reuse"), (RUN_OLD, "rebase")])
@pytest.mark.parametrize("today", [EOL_310 - DAY, EOL_310])
def test_an_image_is_reused_through_the_last_day_of_support(tmp_path: Path, on: str, action: str,
                                                            today: datetime.date) -> None:
    """``expires`` is the last supported day, as the buildpack's EOL_DATES mean it."""
    app, _key, registry = found_image(tmp_path, on, [python_uv("2026-10-31")])
    assert decide(app, registry, today=today).action == action


@pytest.mark.parametrize("value", ["31/10/2026", "2026-02-30", "20261031", "2026-10-31T00:00:00Z", "", 20261031,
                                   None])
def test_an_end_of_support_that_is_no_date_is_built_again(tmp_path: Path, value: object) -> None:
    app, key, registry = found_image(tmp_path, RUN_NOW, [python_uv(value)])
    decision = decide(app, registry, today=EOL_310 - DAY)
    assert (decision.action, decision.digest) == ("build", FOUND)
    assert decision.reason == (
        "127.0.0.1:5000/apps/a@%s was built from the same inputs (key %s), but its python layer (buildpack "
        "luban/python-uv) records an end of support that is no date ('%s'), so it is built again: the build decides "
        "whether what that layer holds may still be used" % (FOUND, key[:12], value))


@pytest.mark.parametrize(("on", "action"), [(RUN_NOW, "reuse"), (RUN_OLD, "rebase")])
def test_layers_without_an_end_of_support_change_nothing(tmp_path: Path, on: str, action: str) -> None:
    """Images of buildpacks (or of python-uv before it recorded one) without ``expires``."""
    app, _key, registry = found_image(tmp_path, on, [python_uv(), {"key": "other/bp", "layers": {"x": {"data": {}}}}])
    assert decide(app, registry, today=datetime.date(2099, 1, 1)).action == action


def test_any_buildpacks_layer_may_expire() -> None:
    """The check knows no language: the first layer past its date, in the label's buildpack order."""
    today = datetime.date(2027, 1, 1)
    go = {"key": "example/go", "layers": {"go": {"data": {"version": "1.22", "expires": "2026-12-31"}}}}
    assert bi.expired(built(RUN_NOW, [python_uv("2030-10-31"), go]), today) == (
        "the support of its go layer (buildpack example/go) ended on 2026-12-31")
    assert bi.expired(built(RUN_NOW, [python_uv("2026-10-31"), go]), today) == (
        "the support of its python layer (buildpack luban/python-uv) ended on 2026-10-31")
    assert bi.expired(built(RUN_NOW, [python_uv("2030-10-31"), go]), datetime.date(2026, 12, 31)) is None
    # Labels a lifecycle would not write change nothing, and never fail the decision.
    for label in ("", "[]", '{"buildpacks": {}}', '{"buildpacks": [1, {"layers": []}, {"layers": {"a": 1}}]}',
                  '{"buildpacks": [{"layers": {"a": {"data": []}}}]}'):
        assert bi.expired({"config": {"Labels": {bi.LIFECYCLE_METADATA: label}}}, today) is None
    assert bi.expired({}, today) is None
    # What the label names is shown on one line, bounded.
    hostile = {"layers": {"py\nthon": {"data": {"expires": "x" * 300}}}}
    assert bi.expired(built(RUN_NOW, [hostile]), today) == (
        "its py\\nthon layer (buildpack unknown) records an end of support that is no date ('%s...(300 characters)')"
        % ("x" * 100))


def test_the_date_defaults_to_today() -> None:
    assert bi.expired(built(RUN_NOW, [python_uv("2000-01-01")])) == (
        "the support of its python layer (buildpack luban/python-uv) ended on 2000-01-01")
    assert bi.expired(built(RUN_NOW, [python_uv("9999-12-31")])) is None


def test_a_run_image_pack_is_given_wins_over_the_builders(tmp_path: Path) -> None:
    app = write(tmp_path / "app", APP)
    mine = "127.0.0.1:5000/luban/stack-run:mine"
    arguments = ["--run-image", mine]
    key = bi.build_key(bi.source_digest(app, runner), BUILDER_ID, {}, [])  # the run image is no input
    registry = Registry({RUN: (RUN_OLD, {}), mine: (RUN_NOW, {}),
                         "127.0.0.1:5000/apps/a:inputs-" + key: (FOUND, built(RUN_NOW))})
    decision = decide(app, registry, arguments=arguments)
    assert (decision.action, decision.run_image, decision.run_image_digest) == ("reuse", mine, RUN_NOW)
    assert decide(app, registry, arguments=["--run-image=" + mine]).run_image == mine


def test_the_run_image_pack_is_given_is_left_out_of_the_key() -> None:
    assert bi.without_run_image(["--env", "A=1", "--run-image", "r@sha256:1", "--run-image=r2", "--pull-policy", "never"]) == [
        "--env", "A=1", "--pull-policy", "never"]
    assert bi.without_run_image(["--run-image"]) == []


DISTRO = {"io.buildpacks.base.distro.name": "amzn", "io.buildpacks.base.distro.version": "2023"}


def on_run_image(run_digest: str, labels: dict | None = None, os_arch: tuple[str, str] = ("linux", "amd64")) -> dict:
    """An image config as the exporter writes it: the run image's platform and labels, and the
    lifecycle metadata naming the run image it was exported (or rebased) onto."""
    config = built(run_digest)
    config["config"]["Labels"].update(DISTRO if labels is None else labels)
    config.update({"os": os_arch[0], "architecture": os_arch[1]})
    return config


def run_image_config(labels: dict | None = None, os_arch: tuple[str, ...] = ("linux", "amd64")) -> dict:
    config = {"os": os_arch[0], "architecture": os_arch[1], "config": {"Labels": DISTRO if labels is None else labels}}
    return {**config, "variant": os_arch[2]} if len(os_arch) > 2 else config


def test_moving_a_pinned_run_image_rebases_onto_the_new_pin(tmp_path: Path) -> None:
    """An OS patch: the operator pins the run image's new digest; the app is not built again."""
    app = write(tmp_path / "app", APP)
    old_pin, new_pin = RUN + "@" + RUN_OLD, RUN + "@" + RUN_NOW
    key = bi.build_key(bi.source_digest(app, runner), BUILDER_ID, {}, [])
    registry = Registry({RUN: (RUN_OLD, run_image_config()), old_pin.replace(":debian@", "@"): (RUN_OLD, run_image_config()),
                         new_pin.replace(":debian@", "@"): (RUN_NOW, run_image_config()),
                         "127.0.0.1:5000/apps/a:inputs-" + key: (FOUND, on_run_image(RUN_OLD))})
    assert decide(app, registry, arguments=["--run-image", old_pin]).action == "reuse"
    decision = decide(app, registry, arguments=["--run-image", new_pin])
    assert (decision.action, decision.key, decision.run_image, decision.run_image_digest) == ("rebase", key, new_pin, RUN_NOW)
    assert decision.reason == ("127.0.0.1:5000/apps/a@%s was built from the same inputs (key %s) on another run image "
                               "(%s); rebasing it onto %s" % (FOUND, key[:12], RUN_OLD, new_pin))


@pytest.mark.parametrize(("image_labels", "run_labels", "os_arch", "why"), [
    (DISTRO, {**DISTRO, "io.buildpacks.base.distro.version": "2025"}, ("linux", "amd64"),
     "its io.buildpacks.base.distro.version is '2023' and the run image's is '2025'"),
    (DISTRO, {"io.buildpacks.base.distro.name": "debian", "io.buildpacks.base.distro.version": "12"}, ("linux", "amd64"),
     "its io.buildpacks.base.distro.name is 'amzn' and the run image's is 'debian'"),
    (DISTRO, {}, ("linux", "amd64"), "its io.buildpacks.base.distro.name is 'amzn' and the run image's is 'unset'"),
    (DISTRO, DISTRO, ("linux", "arm64"), "its platform is 'linux/amd64' and the run image's is 'linux/arm64'"),
    (DISTRO, DISTRO, ("linux", "amd64", "v3"), "its platform is 'linux/amd64' and the run image's is 'linux/amd64/v3'"),
    ({**DISTRO, "io.buildpacks.rebasable": "false"}, DISTRO, ("linux", "amd64"),
     "the lifecycle marked it not rebasable (io.buildpacks.rebasable=false)"),
])
def test_a_run_image_of_another_release_or_platform_builds_instead_of_rebasing(
        tmp_path: Path, image_labels: dict, run_labels: dict, os_arch: tuple[str, ...], why: str) -> None:
    """A rebase keeps the layers built for one OS release; on another, the app is built again."""
    app = write(tmp_path / "app", APP)
    key = bi.build_key(bi.source_digest(app, runner), BUILDER_ID, {}, [])
    registry = Registry({RUN: (RUN_NOW, run_image_config(run_labels, os_arch)),
                         "127.0.0.1:5000/apps/a:inputs-" + key: (FOUND, on_run_image(RUN_OLD, image_labels))})
    decision = decide(app, registry)
    assert decision == bi.Decision(
        "build", "127.0.0.1:5000/apps/a@%s was built from the same inputs (key %s) on another run image (%s), but %s, "
        "so it is built on %s@%s" % (FOUND, key[:12], RUN_OLD, why, RUN, RUN_NOW), key, "127.0.0.1:5000/apps/a:inputs-" + key,
        FOUND, RUN, RUN_NOW)


def test_a_run_image_of_another_name_builds_instead_of_rebasing(tmp_path: Path) -> None:
    """The lifecycle's rebaser puts an image only on the run image its metadata names or a mirror
    of it; a pin of another name would fail there, so the app is built on it."""
    app = write(tmp_path / "app", APP)
    other = "127.0.0.1:5000/elsewhere/run:debian@" + RUN_NOW
    key = bi.build_key(bi.source_digest(app, runner), BUILDER_ID, {}, [])
    image = on_run_image(RUN_OLD)
    metadata = json.loads(image["config"]["Labels"][bi.LIFECYCLE_METADATA])
    metadata["runImage"]["mirrors"] = ["10.0.0.1:5001/luban/stack-run:debian"]
    image["config"]["Labels"][bi.LIFECYCLE_METADATA] = json.dumps(metadata)
    registry = Registry({other.replace(":debian@", "@"): (RUN_NOW, run_image_config()),
                         "127.0.0.1:5000/apps/a:inputs-" + key: (FOUND, image)})
    decision = decide(app, registry, arguments=["--run-image", other])
    assert (decision.action, decision.reason) == ("build", (
        "127.0.0.1:5000/apps/a@%s was built from the same inputs (key %s) on another run image (%s), but the run "
        "image '127.0.0.1:5000/elsewhere/run:debian' is neither the one its metadata names nor a mirror of it "
        "('%s, 10.0.0.1:5001/luban/stack-run:debian'), so it is built on %s" % (FOUND, key[:12], RUN_OLD, RUN, other)))
    # A mirror's name, or the name without a tag standing for latest, as the lifecycle reads it.
    assert bi.rebase_refused(image, run_image_config(), "10.0.0.1:5001/luban/stack-run:debian@" + RUN_NOW) is None
    assert bi.image_name("example/run@" + RUN_NOW) == "index.docker.io/example/run:latest"


def test_hostile_labels_are_shown_safely() -> None:
    why = bi.rebase_refused(on_run_image(RUN_OLD, {"io.buildpacks.base.distro.name": "a\x1b[31m" + "x" * 300}),
                            run_image_config(), RUN)
    assert "\x1b" not in why and len(why) < 400


def test_a_multi_platform_run_image_is_compared_by_the_image_for_the_apps_platform(tmp_path: Path) -> None:
    """The exporter records the platform's own image; the run image's tag names the index."""
    app = write(tmp_path / "app", APP)
    key = bi.build_key(bi.source_digest(app, runner), BUILDER_ID, {}, [])
    index, arm = "sha256:" + "9" * 64, "sha256:" + "8" * 64
    tag = "127.0.0.1:5000/apps/a:inputs-" + key
    indexes = {index: {"linux/amd64": RUN_NOW, "linux/arm64": arm}}
    same = Registry({RUN: (index, {}), tag: (FOUND, on_run_image(RUN_NOW, {}))}, indexes)
    assert decide(app, same).action == "reuse"
    moved = Registry({RUN: (index, {}), tag: (FOUND, on_run_image(RUN_OLD, {}))}, indexes)
    assert decide(app, moved).action == "rebase"
    other = Registry({RUN: (index, {}), tag: (FOUND, on_run_image(RUN_OLD, {}, ("linux", "s390x")))}, indexes)
    assert decide(app, other).reason == "what is already built could not be found out (no image for linux/s390x), so it is built"


def test_an_app_without_a_lock_file_is_always_built(tmp_path: Path) -> None:
    app = write(tmp_path / "app", {"app.py": "x\n", "requirements.txt": "flask\n"})
    registry = Registry({})
    decision = decide(app, registry)
    assert decision == bi.Decision("build", "the app has no lock file (uv.lock), so its dependencies are resolved "
                                   "anew: it is always built")
    assert registry.asked == []


def test_what_cannot_be_asked_builds_and_says_why(tmp_path: Path) -> None:
    app = write(tmp_path / "app", APP)

    def no_engine(_builder: str, host: str) -> dict:
        raise bi.InputsError("the Docker engine at %s did not answer: refused" % host)

    decision = decide(app, Registry({}), engine=no_engine)
    assert decision == bi.Decision("build", "what is already built could not be found out (the Docker engine at "
                                   "unix:///nowhere did not answer: refused), so it is built")
    assert decide(app, Registry({})).reason == ("what is already built could not be found out (the run image %s is "
                                                "not in its registry), so it is built" % RUN)


def test_the_engine_is_asked_over_its_socket(tmp_path: Path) -> None:
    with pytest.raises(bi.InputsError, match="did not answer"):
        bi.engine_image("x", "unix://" + str(tmp_path / "no.sock"))
    with pytest.raises(bi.InputsError, match="only a unix socket engine"):
        bi.engine_image("x", "tcp://127.0.0.1:2375")


class _Server:
    """A loopback HTTP server answering each path with (status, headers, body); records requests."""

    def __init__(self, routes: dict) -> None:
        self.routes, self.seen = routes, []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *_args) -> None:
                pass

            def do_GET(self) -> None:  # the standard library's name
                server.seen.append((self.path, self.headers.get("Authorization")))
                route = server.routes[self.path]
                status, headers, body = route(self.headers) if callable(route) else route
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            do_HEAD = do_GET

            def do_PUT(self) -> None:  # the standard library's name
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                do_get = Handler.do_GET
                do_get(self)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = "127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_a_config_blob_served_from_elsewhere_is_followed_without_the_registrys_credentials(tmp_path: Path) -> None:
    config = json.dumps(built(RUN_NOW)).encode()
    storage = _Server({"/blob?signed=1": (200, {"Content-Length": str(len(config))}, config)})
    manifest = json.dumps({"config": {"digest": "sha256:" + "c" * 64}}).encode()
    login = "Basic " + base64.b64encode(b"robot:secret").decode()

    def need_login(answer):
        return lambda headers: answer if headers.get("Authorization") == login else (
            401, {"WWW-Authenticate": 'Basic realm="r"', "Content-Length": "0"}, b"")

    registry = _Server({
        "/v2/apps/a/manifests/" + FOUND: need_login((200, {"Content-Length": str(len(manifest))}, manifest)),
        "/v2/apps/a/blobs/sha256:" + "c" * 64: need_login(
            (307, {"Location": "http://%s/blob?signed=1" % storage.address, "Content-Length": "0"}, b"")),
    })
    (tmp_path / "config.json").write_text(json.dumps({"auths": {registry.address: {
        "auth": base64.b64encode(b"robot:secret").decode()}}}))
    try:
        client = bi.Registry(tmp_path, runner)
        assert client.config(bi.Reference.parse(registry.address + "/apps/a"), FOUND) == built(RUN_NOW)
    finally:
        registry.close()
        storage.close()
    assert storage.seen == [("/blob?signed=1", None)]  # the credentials stayed with the registry


def test_the_image_for_a_platform_is_read_from_an_index(tmp_path: Path) -> None:
    """The real client on a loopback registry: an index leads to its platform's manifest and config;
    a plain manifest is its own image."""
    index_digest, arm, amd, blob = ("sha256:" + c * 64 for c in "9876")
    index = json.dumps({"mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
        {"digest": arm, "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
        {"digest": amd, "platform": {"os": "linux", "architecture": "amd64"}}]}).encode()
    manifest = json.dumps({"config": {"digest": blob}}).encode()
    config = json.dumps(run_image_config()).encode()
    registry = _Server({"/v2/luban/run/manifests/" + index_digest: (200, {"Content-Length": str(len(index))}, index),
                        "/v2/luban/run/manifests/" + amd: (200, {"Content-Length": str(len(manifest))}, manifest),
                        "/v2/luban/run/blobs/" + blob: (200, {"Content-Length": str(len(config))}, config)})
    try:
        client = bi.Registry(tmp_path, runner)
        ref = bi.Reference.parse(registry.address + "/luban/run")
        assert client.platform_config(ref, index_digest, "linux/amd64") == (amd, run_image_config())
        assert client.platform_config(ref, amd, "linux/arm64") == (amd, run_image_config())  # no index: itself
        for wanted in ("linux/s390x", "linux/arm64"):  # the variant counts: linux/arm64/v8 is another platform
            with pytest.raises(bi.InputsError) as raised:
                client.platform_config(ref, index_digest, wanted)
            assert str(raised.value) == "%s/luban/run@%s has no image for %s" % (registry.address, index_digest, wanted)
    finally:
        registry.close()


def test_a_manifest_that_is_no_object_is_a_reason_to_build(tmp_path: Path) -> None:
    registry = _Server({"/v2/apps/a/manifests/" + FOUND: (200, {"Content-Length": "2"}, b"[]")})
    try:
        with pytest.raises(bi.InputsError) as raised:
            bi.Registry(tmp_path, runner).config(bi.Reference.parse(registry.address + "/apps/a"), FOUND)
    finally:
        registry.close()
    assert str(raised.value) == "%s/apps/a@%s is no manifest" % (registry.address, FOUND)


def test_a_registry_answer_cut_short_is_a_reason_to_build(tmp_path: Path) -> None:
    short = _Server({"/v2/apps/a/manifests/t": (200, {"Content-Length": "100"}, b"{}")})
    try:
        with pytest.raises(bi.InputsError, match="could not be reached"):
            bi.Registry(tmp_path, runner).config(bi.Reference.parse(short.address + "/apps/a:t"), "t")
    finally:
        short.close()


def test_a_tag_asks_the_token_service_for_push_and_puts_the_manifest_bytes_under_their_type(tmp_path: Path) -> None:
    manifest = json.dumps({"mediaType": "application/vnd.oci.image.manifest.v1+json", "config": {}}).encode()
    digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
    token = _Server({})
    token.routes.update({
        "/token?scope=repository%3Aapps%2Fa%3Apull&service=r": (200, {}, b'{"token": "pull-only"}'),
        "/token?scope=repository%3Aapps%2Fa%3Apull%2Cpush&service=r": (200, {}, b'{"token": "push"}'),
    })
    challenge = 'Bearer realm="http://%s/token",service="r"' % token.address
    seen_types = []

    def as_token(name, answer):
        def route(headers):
            if headers.get("Authorization") != "Bearer " + name:
                return 401, {"WWW-Authenticate": challenge, "Content-Length": "0"}, b""
            seen_types.append(headers.get("Content-Type"))
            return answer
        return route

    registry = _Server({
        "/v2/apps/a/manifests/" + digest: as_token("pull-only", (200, {"Content-Length": str(len(manifest))}, manifest)),
        "/v2/apps/a/manifests/v1": as_token("push", (201, {"Content-Length": "0"}, b"")),
    })
    try:
        bi.Registry(tmp_path, runner).tag(bi.Reference.parse(registry.address + "/apps/a"), digest, ["v1"])
    finally:
        registry.close()
        token.close()
    assert [path for path, _auth in token.seen] == [
        "/token?scope=repository%3Aapps%2Fa%3Apull&service=r", "/token?scope=repository%3Aapps%2Fa%3Apull%2Cpush&service=r"]
    assert seen_types[-1] == "application/vnd.oci.image.manifest.v1+json"
