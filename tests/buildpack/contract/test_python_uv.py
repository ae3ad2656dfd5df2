"""The packaged luban/python-uv buildpack against the Buildpack API, end to end."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from contract_support import ARCH, BUILDPACK, Workspace

BP_ENV = ["VIRTUAL_ENV", "LANG", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"]


def toml(path: Path) -> dict:
    return tomllib.loads(path.read_text())


def launch_env(layers: Path) -> dict[str, str]:
    """The environment the launcher would build from the venv layer's env files."""
    env = {"PATH": f"{layers / 'venv' / 'bin'}:/usr/bin:/bin"}
    for scope in ("env", "env.launch"):
        for path in sorted((layers / "venv" / scope).iterdir()):
            env[path.name.rsplit(".", 1)[0]] = path.read_text()
    return env


def run_in_image(ws: Workspace, *args: str) -> str:
    result = subprocess.run(list(args), cwd=ws.app, env=launch_env(ws.layers), capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def sbom_components(path: Path) -> dict[str, tuple[str, str]]:
    doc = json.loads(path.read_text())
    assert (doc["bomFormat"], doc["specVersion"]) == ("CycloneDX", "1.5")
    return {c["name"]: (c["version"], c["purl"]) for c in doc["components"]}


def error_of(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stdout
    return result.stderr.strip()


def test_not_a_python_app_fails_detect_with_100(workspace) -> None:
    ws = workspace("not_python")
    assert ws.detect().returncode == 100
    assert not (ws.root / "plan.toml").exists()


def test_locked_uv_app(workspace) -> None:
    ws = workspace("uv_basic")
    detect = ws.detect()
    assert (detect.returncode, toml(ws.root / "plan.toml")) == (0, {"provides": [{"name": "python"}], "requires": [{"name": "python"}]})
    before = sorted(p.relative_to(ws.app) for p in ws.app.rglob("*"))
    result = ws.build()
    assert result.returncode == 0, result.stderr
    layers = ws.layers

    assert toml(layers / "python.toml")["types"] == {"build": False, "launch": True, "cache": False}
    assert toml(layers / "venv.toml")["types"] == {"build": False, "launch": True, "cache": False}
    assert toml(layers / "uv-cache.toml")["types"] == {"build": False, "launch": False, "cache": True}
    assert toml(layers / "uv.toml")["types"] == {"build": True, "launch": False, "cache": False}
    meta = toml(layers / "venv.toml")["metadata"]
    assert (meta["python"], meta["uv"], meta["arch"], meta["manager"]) == ("3.12.1", "0.13.9", ARCH, "uv.lock")
    assert meta["buildpack"].startswith(toml(BUILDPACK / "buildpack.toml")["buildpack"]["version"] + "+")
    assert toml(layers / "launch.toml") == {"processes": [
        {"type": "hello-worker", "command": ["hello-worker"], "default": False},
        {"type": "web", "command": ["sh", "-c", "python -m hello.web"], "default": True},
    ]}
    assert {p.name: p.read_text() for p in (layers / "venv" / "env").iterdir()} == {
        "VIRTUAL_ENV.override": str(layers / "venv"), "LANG.default": "C.UTF-8"}
    assert {p.name: p.read_text() for p in (layers / "venv" / "env.launch").iterdir()} == {
        "PYTHONUNBUFFERED.default": "1", "PYTHONDONTWRITEBYTECODE.default": "1"}

    components = sbom_components(layers / "venv.sbom.cdx.json")
    assert components == {"hello": ("0.1.0", "pkg:pypi/hello@0.1.0"), "itsdangerous": ("2.2.0", "pkg:pypi/itsdangerous@2.2.0")}
    assert sbom_components(layers / "python.sbom.cdx.json") == {"cpython": ("3.12.1", "pkg:generic/cpython@3.12.1")}

    # The image's Python runs the app and imports its dependencies; dev groups are not installed.
    assert run_in_image(ws, "python", "-m", "hello.web").startswith("hello.")
    assert run_in_image(ws, "hello-worker") == "worker ran\n"
    assert run_in_image(ws, "python", "-c", "import sys, itsdangerous; print(sys.version_info[:3], sys.prefix)") == f"(3, 12, 1) {layers / 'venv'}\n"
    assert subprocess.run([str(layers / "venv/bin/python"), "-c", "import iniconfig"], capture_output=True, check=False).returncode == 1

    # Reproducible bytecode: unchecked-hash pycs (flags == 1) throughout the venv.
    pycs = list((layers / "venv").rglob("*.pyc"))
    assert pycs and {int.from_bytes(p.read_bytes()[4:8], "little") for p in pycs} == {1}
    # Launch layers hold nothing the run user could modify.
    writable = [p for p in (layers / "python").rglob("*") if not p.is_symlink() and p.stat().st_mode & 0o002]
    writable += [p for p in (layers / "venv").rglob("*") if not p.is_symlink() and p.stat().st_mode & 0o002]
    assert writable == []
    # The app is left as it was, and no binding content reached a layer or the log.
    assert sorted(p.relative_to(ws.app) for p in ws.app.rglob("*") if "__pycache__" not in p.parts and ".egg-info" not in str(p)) == before
    grep = subprocess.run(["grep", "-rl", "luban-python-secrets", str(layers)], capture_output=True, text=True, check=False)
    assert grep.stdout == ""
    assert "BEGIN CERTIFICATE" not in result.stdout + result.stderr
    assert "Trusting the CA certificates of binding(s) machine-ca" in result.stdout
    assert "Installing CPython from the uv Python mirror of binding python-mirror" in result.stdout


def test_rebuild_keeps_unchanged_launch_layers_and_redoes_changed_ones(workspace) -> None:
    ws = workspace("uv_basic")
    assert ws.build().returncode == 0
    # The end of support of the 3.12 line, which the platform reads to stop reusing the image after it.
    assert toml(ws.layers / "python.toml")["metadata"]["expires"] == "2028-10-31"

    ws.next_build()
    assert not (ws.layers / "python").exists() and not (ws.layers / "venv").exists()
    (ws.app / "src/hello/web.py").write_text('from hello import SIGNER\n\nprint("v2", SIGNER.sign("x").decode())\n')
    second = ws.build()
    assert second.returncode == 0
    assert ("Keeping the python layer of the previous image (same Python version, end of support, CPython archive, "
            "uv version, architecture, distribution, buildpack version)") in second.stdout
    assert ("Keeping the venv layer of the previous image (same Python version, uv version, architecture, "
            "distribution, package manager, dependency files, buildpack version)") in second.stdout
    assert "Reusing the uv-cache layer" in second.stdout
    # A code-only change touches neither layer: no files, so the exporter reuses the previous image's.
    assert not (ws.layers / "python").exists() and not (ws.layers / "venv").exists(), "nothing may be reinstalled"
    assert "Running: uv" not in second.stdout and "into the python layer" not in second.stdout
    assert toml(ws.layers / "venv.toml")["types"] == {"build": False, "launch": True, "cache": False}
    assert (ws.layers / "launch.toml").exists() and (ws.layers / "venv.sbom.cdx.json").exists()
    ws.exported()
    assert run_in_image(ws, "python", "-m", "hello.web").startswith("v2 x.")

    ws.next_build()
    (ws.app / ".python-version").write_text("3.13\n")
    third = ws.build()
    assert third.returncode == 0
    assert "Installing CPython 3.13.0 into the python layer: Python version changed (3.12.1 -> 3.13.0)" in third.stdout
    assert "Building the venv layer: Python version changed (3.12.1 -> 3.13.0)" in third.stdout
    assert run_in_image(ws, "python", "-c", "import sys; print(sys.version_info[:2])") == "(3, 13)\n"


def test_requirements_app_and_a_requirements_change(workspace) -> None:
    ws = workspace("requirements_basic")
    first = ws.build()
    assert first.returncode == 0
    assert "Python 3.13 requested by .python-version" in first.stdout
    assert toml(ws.layers / "venv.toml")["metadata"]["manager"] == "requirements.txt"
    assert sbom_components(ws.layers / "venv.sbom.cdx.json") == {"idna": ("3.10", "pkg:pypi/idna@3.10")}
    assert run_in_image(ws, "python", "app.py") == "xn--fiqs8s.example\n"
    assert [p["type"] for p in toml(ws.layers / "launch.toml")["processes"] if p["default"]] == ["web"]

    ws.next_build()
    with (ws.app / "requirements.txt").open("a") as handle:
        handle.write("itsdangerous==2.2.0\n")
    second = ws.build()
    assert second.returncode == 0
    # The venv is rebuilt from nothing, so uv needs CPython again: installed to build it on, then
    # removed, so the image keeps the previous python layer (the exporter reads none of it).
    assert ("Installing CPython 3.13.0 to build the venv on; the python layer of the previous image is kept (same "
            "Python version, end of support, CPython archive, ") in second.stdout
    assert "Building the venv layer: dependency files changed" in second.stdout
    assert not (ws.layers / "python").exists()
    ws.exported()  # the new image: the new venv on the previous image's python layer
    assert run_in_image(ws, "python", "-c", "import idna, itsdangerous") == ""
    assert set(sbom_components(ws.layers / "venv.sbom.cdx.json")) == {"idna", "itsdangerous"}


def test_buildpack_runs_on_the_build_image_python_3_11(workspace) -> None:
    """AL2023's build image offers python3.11 (Debian's twin: python3 3.11): the minimum supported."""
    python311 = shutil.which("python3.11", path="/usr/bin:/bin")
    if python311 is None:
        pytest.fail("this machine has no /usr/bin/python3.11 (Debian bookworm's python3) to prove the minimum")
    ws = workspace("requirements_basic")
    shims = ws.root / "only-python311"
    shims.mkdir()
    (shims / "python3.11").symlink_to(python311)
    result = ws.build(path=f"{shims}:/usr/bin:/bin")
    assert result.returncode == 0, result.stderr
    assert toml(ws.layers / "python.toml")["metadata"]["python"] == "3.13.0"


def test_pyproject_without_lock_warns_and_leaves_the_app_alone(workspace) -> None:
    ws = workspace("pyproject_unlocked")
    result = ws.build()
    assert result.returncode == 0
    assert "! WARNING: No uv.lock: the build is not reproducible" in result.stdout
    assert "! WARNING: No process types found" in result.stdout
    assert not (ws.app / "uv.lock").exists()
    assert not (ws.layers / "launch.toml").exists()
    assert toml(ws.layers / "python.toml")["metadata"]["python"] == "3.12.1"  # requires-python <3.13
    assert run_in_image(ws, "python", "-c", "import idna, main; print('ok')") == "ok\n"


def test_stale_lock_fails_with_the_fix(workspace) -> None:
    result = workspace("uv_lockfile_out_of_sync").build()
    assert error_of(result) == (
        "[Error: uv.lock is out of date with pyproject.toml]\nThe dependencies in pyproject.toml changed after "
        "uv.lock was written, so installing the lock would not give the app what pyproject.toml asks for. Run "
        "`uv lock` and commit the updated uv.lock."
    )


def test_python_version_missing_from_the_mirror(workspace) -> None:
    result = workspace("python_version_unavailable").build()
    assert error_of(result) == (
        "[Error: Python 3.14 is not available for download]\nuv found no CPython 3.14 for linux-"
        f"{'x86_64' if ARCH == 'amd64' else 'aarch64'}-gnu in its downloads list. If the build uses a mirror "
        "(a uv-python-mirror binding, or UV_PYTHON_DOWNLOADS_JSON_URL and UV_PYTHON_INSTALL_MIRROR), that mirror does "
        "not carry it. Choose a version "
        "the mirror provides, or add that version to the mirror."
    )


def test_dependency_missing_from_the_index(workspace) -> None:
    error = error_of(workspace("dependency_missing").build())
    assert error.startswith(
        "[Error: A dependency could not be found in the package index]\nuv could not resolve the dependencies: "
        "error: No solution found when resolving dependencies cause: Because "
        "luban-ci-fixture-package-that-does-not-exist was not found in the package registry"
    )
    assert error.endswith("[[tool.uv.index]] in pyproject.toml).")


def test_unreachable_index_given_through_user_uv_settings(workspace) -> None:
    ws = workspace("requirements_basic")
    ws.platform_env("UV_INDEX_URL", "https://127.0.0.1:9/simple")  # the user's index settings pass through
    ws.platform_env("UV_HTTP_RETRIES", "0")
    error = error_of(ws.build())
    assert error.startswith("[Error: The package index could not be reached]\nuv failed to download from the package index: error:")
    assert "https://127.0.0.1:9/simple/idna/" in error


def test_forbidden_build_env_var(workspace) -> None:
    ws = workspace("requirements_basic")
    ws.platform_env("UV_CACHE_DIR", "/tmp/elsewhere")
    assert error_of(ws.build()) == (
        "[Error: The build environment sets UV_CACHE_DIR, which this buildpack controls]\nThe buildpack sets "
        "UV_CACHE_DIR itself to place the interpreter, virtual environment and cache in image layers; a different "
        "value would build an image that cannot run. Remove UV_CACHE_DIR from the build environment (project.toml "
        "[[io.buildpacks.build.env]], pack --env, or the platform's env files)."
    )


def test_uv_version_override_from_an_index_with_checksum(workspace) -> None:
    ws = workspace("requirements_basic")
    ws.platform_env("BP_UV_VERSION", "0.13.8")
    result = ws.build()
    assert result.returncode == 0
    assert "Fetching uv 0.13.8 from https://pypi.org/simple (BP_UV_VERSION)" in result.stdout
    assert "Verified sha256 " in result.stdout
    assert toml(ws.layers / "venv.toml")["metadata"]["uv"] == "0.13.8"
    version = subprocess.run([str(ws.layers / "uv/bin/uv"), "--version"], capture_output=True, text=True, check=False)
    assert version.stdout.startswith("uv 0.13.8")
    assert os.access(ws.layers / "uv/bin/uv", os.X_OK)


def tree(root: Path) -> dict[str, tuple[int, str]]:
    """Every path under ``root``: its mode and its link target or content digest."""
    found = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        if path.is_symlink():
            what = "-> " + os.readlink(path)
        elif path.is_file():
            what = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            what = "dir"
        found[str(path.relative_to(root))] = (info.st_mode, what)
    return found


def test_a_lock_change_updates_the_venv_in_place_to_the_bytes_of_a_fresh_build(workspace, tmp_path) -> None:
    ws = workspace("uv_basic")
    assert ws.build().returncode == 0
    assert toml(ws.layers / "venv-snapshot.toml")["types"] == {"build": False, "launch": False, "cache": True}

    # One distribution replaced by another version, one added: uv uninstalls, installs, and
    # leaves the old version's .pyc files, which the buildpack removes.
    pyproject = (ws.app / "pyproject.toml").read_text().replace('"itsdangerous==2.2.0"', '"itsdangerous==2.1.2", "six==1.17.0"')
    (ws.app / "pyproject.toml").write_text(pyproject)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt",
           "UV_CACHE_DIR": str(tmp_path / "uv-cache")}
    lock = subprocess.run([str(BUILDPACK / "vendor" / "uv" / ARCH / "uv"), "lock", "--directory", str(ws.app)], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert lock.returncode == 0, lock.stderr

    ws.next_build()
    updated = ws.build()
    assert updated.returncode == 0
    assert "Updating the venv of an earlier build (dependency files " in updated.stdout
    # The python layer is kept, so CPython is only needed to build on: the copy preinstalled in the
    # buildpack (make buildpacks, inventories/local) is linked in, not installed from the mirror.
    assert ("Linking the CPython 3.12.1 preinstalled in the buildpack to build the venv on (same archive, uv version, "
            "architecture)") in updated.stdout
    assert "Downloading cpython" not in updated.stdout
    # The app itself is installed again too: its metadata lists the new dependencies.
    assert ("Compiling the venv's bytecode (the 3 distribution(s) uv installed now: hello-0.1.0.dist-info, "
            "itsdangerous-2.1.2.dist-info, six-1.17.0.dist-info; reproducible)") in updated.stdout
    ws.exported()
    assert run_in_image(ws, "python", "-c", "import importlib.metadata as m, six; print(m.version('itsdangerous'))") == "2.1.2\n"
    in_place = tree(ws.layers / "venv")
    assert not [p for p in in_place if "itsdangerous-2.2.0" in p]
    # The snapshot is one archive; unpacked, it is the venv as built (without the launch env).
    assert [p.name for p in (ws.layers / "venv-snapshot").iterdir()] == ["venv.tar"]
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    subprocess.run(["tar", "--extract", "--same-permissions", "--file", str(ws.layers / "venv-snapshot" / "venv.tar"),
                    "--directory", str(unpacked)], check=True)
    assert tree(unpacked) == {p: v for p, v in in_place.items() if not p.startswith("env")}

    # The same lock from nothing, at the same path: the same bytes, .pyc files included.
    ws.next_build()
    for name in ("venv-snapshot", "venv"):
        shutil.rmtree(ws.layers / name, ignore_errors=True)
        (ws.layers / f"{name}.toml").unlink()
    fresh = ws.build()
    assert fresh.returncode == 0
    assert "Creating the venv from nothing: no venv of an earlier build is cached" in fresh.stdout
    assert "Compiling the venv's bytecode (every distribution; reproducible)" in fresh.stdout
    assert tree(ws.layers / "venv") == in_place
    assert any(p.endswith(".cpython-312.pyc") and "/six" in p for p in in_place)
