"""Each example app through build_app.yml (pack build with our builder) -> run -> probe, and the
security properties of the images it produces."""

from __future__ import annotations

import json

import pytest

from conftest import EXAMPLES, REGISTRY, Build, build_app, git_app, http_get

WEB_APPS = ["web-flask", "requirements-web", "native-sdist"]
ALL_APPS = WEB_APPS + ["worker-cli"]


@pytest.fixture(scope="module")
def built(builder, tmp_path_factory) -> dict[str, Build]:
    """Every example built once from its own git commit."""
    root = tmp_path_factory.mktemp("apps")
    return {name: build_app(git_app(EXAMPLES / name, root / name), f"{REGISTRY}/tests/{name}") for name in ALL_APPS}


def _config_user(engine, image: str) -> str:
    engine.images.pull(image)
    return engine.images.get(image).attrs["Config"]["User"]


@pytest.mark.parametrize("name", WEB_APPS)
def test_web_app_runs_and_answers_as_the_numeric_run_user(name, built, builder, engine, container):
    image = built[name].image
    user = _config_user(engine, image)
    uid, _unused, gid = user.partition(":")
    assert uid.isdigit() and int(uid) > 0 and uid != builder["uid"], user
    _unused, url = container(image)
    answer = http_get(url)
    assert answer["app"] == name
    assert answer["uid"] == int(uid)


def test_native_dependency_was_compiled_from_its_sdist(built, container):
    _unused, url = container(built["native-sdist"].image)
    answer = http_get(url)
    assert answer["speedups"].endswith(".so")
    assert answer["escaped"] == "&lt;luban&gt;"
    # Built from the sdist on this stack: the wheel carries the plain platform tag, never manylinux.
    assert answer["wheel_tags"] and all(t.endswith("-linux_x86_64") for t in answer["wheel_tags"]), answer


def test_worker_runs_its_console_script(built, engine):
    image = built["worker-cli"].image
    engine.images.pull(image)
    logs = engine.containers.run(image, command=["--count", "4"], remove=True).decode()
    result = json.loads(logs.strip().splitlines()[-1])
    assert result == {"app": "worker-cli", "processed": 4, "total": 14, "uid": result["uid"]}
    assert result["uid"] > 0


def _sh(engine, image: str, script: str, user: str | None = None) -> tuple[int, str]:
    """Runs a shell in the image as its configured user (or `user`), without the launcher."""
    c = engine.containers.run(image, entrypoint=["/bin/sh", "-c", script], detach=True, user=user or "")
    code = c.wait()["StatusCode"]
    out = c.logs().decode()
    c.remove()
    return code, out


# Run as the image's own user: try to create a file and a directory in every directory of the app
# and of the buildpacks' layers (the app dir itself included), and to change the app's files.
_WRITE_PROBE = r"""
id -u
find /workspace /layers -xdev -type d -exec sh -c 'for d; do echo DIR
  touch "$d/.luban-probe" 2>/dev/null && echo "CREATED-FILE $d"
  mkdir "$d/.luban-probe-dir" 2>/dev/null && echo "CREATED-DIR $d"; done' sh {} +
find /workspace -xdev -type f -exec sh -c 'for f; do (: >> "$f") 2>/dev/null && echo "MODIFIED $f"; done' sh {} +
echo END
"""


@pytest.mark.parametrize("name", ["web-flask", "requirements-web"])
def test_run_user_cannot_create_or_modify_anything_in_the_app_or_its_layers(name, built, engine):
    image = built[name].image
    engine.images.pull(image)
    code, out = _sh(engine, image, _WRITE_PROBE)
    lines = out.split("\n")
    assert "END" in lines, out  # the probe ran to its end
    assert int(lines[0]) > 0, out  # not root
    written = [line for line in lines if line.startswith(("CREATED", "MODIFIED"))]
    assert written == [], out
    assert lines.count("DIR") > 20, out  # /workspace and every layer directory were tried


def test_no_setuid_or_setgid_file_in_the_app_image(built, engine):
    image = built["web-flask"].image
    # As root, so no directory is hidden from the search.
    code, out = _sh(engine, image, "find / -xdev -type f -perm /6000; echo END", user="0")
    assert out.strip() == "END", out


def test_sbom_is_cyclonedx_listing_the_locked_packages(built, tools, tmp_path):
    import subprocess
    subprocess.run([tools.pack, "sbom", "download", built["web-flask"].tag, "--remote", "--output-dir", str(tmp_path)],
                   check=True, capture_output=True, text=True)
    docs = [json.loads(p.read_text()) for p in tmp_path.rglob("*.cdx.json")]
    assert docs, sorted(str(p) for p in tmp_path.rglob("*"))
    assert all(d["bomFormat"] == "CycloneDX" for d in docs)
    names = {c["name"].lower() for d in docs for c in d.get("components", [])}
    lock = (EXAMPLES / "web-flask" / "uv.lock").read_text()
    locked = {line.split('"')[1].lower() for line in lock.splitlines() if line.startswith("name = ")}
    locked.discard("web-flask")
    assert {"flask", "gunicorn", "werkzeug", "jinja2"} <= names
    assert locked <= names, locked - names
