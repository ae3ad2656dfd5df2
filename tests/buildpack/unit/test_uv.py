from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from bp_helpers import write_app
from luban_python import uv
from luban_python.errors import BuildpackError


def wheel(version: str, payload: bytes = b"#!uv\n") -> bytes:
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as archive:
        archive.writestr(f"uv-{version}.data/scripts/uv", payload)
    return raw.getvalue()


def index(files: dict[str, bytes], html: bool = False, bad_hash: bool = False):
    """An in-memory PyPI-style simple index: PEP 691 JSON or PEP 503 HTML."""
    def sha(data: bytes) -> str:
        return "0" * 64 if bad_hash else hashlib.sha256(data).hexdigest()

    def fetch(url: str, accept: str) -> bytes:
        if url.endswith("/uv/"):
            if html:
                links = "".join(f'<a href="../../files/{n}#sha256={sha(d)}">{n}</a>' for n, d in files.items())
                return f"<html><body>{links}</body></html>".encode()
            return json.dumps({"files": [{"filename": n, "url": f"../../files/{n}", "hashes": {"sha256": sha(d)}} for n, d in files.items()]}).encode()
        return files[url.rsplit("/", 1)[-1]]
    return fetch


FILES = {
    "uv-0.14.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl": wheel("0.14.0", b"x86"),
    "uv-0.14.0-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.whl": wheel("0.14.0", b"arm"),
    "uv-0.14.0-py3-none-macosx_11_0_arm64.whl": wheel("0.14.0", b"mac"),
}


def test_vendored_uv_is_used_by_default(tmp_path: Path) -> None:
    write_app(tmp_path, {"vendor/uv/version": "0.13.9\n", "vendor/uv/amd64/uv": "bin"})
    assert uv.choose(tmp_path, "amd64", {}) == uv.UvSource("0.13.9", tmp_path / "vendor/uv/amd64/uv", uv.DEFAULT_INDEX)


def test_bp_uv_version_switches_to_the_index(tmp_path: Path) -> None:
    write_app(tmp_path, {"vendor/uv/version": "0.13.9\n", "vendor/uv/amd64/uv": "bin"})
    env = {"BP_UV_VERSION": "0.14.0", "BP_UV_INDEX_URL": "https://idx/simple"}
    assert uv.choose(tmp_path, "amd64", env) == uv.UvSource("0.14.0", None, "https://idx/simple")


def test_missing_vendored_uv_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(BuildpackError) as raised:
        uv.choose(tmp_path, "arm64", {})
    assert str(raised.value) == (
        f"The buildpack has no uv for arm64: The packaged buildpack vendors uv per architecture and none was found "
        f"at '{tmp_path}/vendor/uv/arm64/uv'. Package the buildpack with `make buildpacks` (role "
        "luban.ci.python_buildpack) for this architecture, or set BP_UV_VERSION to fetch uv from a package index."
    )


@pytest.mark.parametrize("html", [False, True])
@pytest.mark.parametrize(("arch", "payload"), [("x86_64", b"x86"), ("aarch64", b"arm")])
def test_download_picks_the_arch_wheel_and_verifies_it(tmp_path: Path, html: bool, arch: str, payload: bytes) -> None:
    target = tmp_path / "uv"
    uv.download(uv.UvSource("0.14.0", None, "https://idx/simple"), arch, target, index(FILES, html=html))
    assert target.read_bytes() == payload
    assert target.stat().st_mode & 0o111


def test_checksum_mismatch_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BuildpackError) as raised:
        uv.download(uv.UvSource("0.14.0", None, "https://idx/simple"), "x86_64", tmp_path / "uv", index(FILES, bad_hash=True))
    actual = hashlib.sha256(FILES["uv-0.14.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"]).hexdigest()
    assert str(raised.value) == (
        "uv '0.14.0' failed its checksum: The downloaded 'uv-0.14.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl' "
        f"has sha256 {actual}, but the index lists '{'0' * 64}'. The download was damaged or tampered with, so it is "
        "not used. Retry; if it persists, check the index."
    )
    assert not (tmp_path / "uv").exists()


def test_unknown_version_is_reported(tmp_path: Path) -> None:
    with pytest.raises(BuildpackError) as raised:
        uv.download(uv.UvSource("9.9.9", None, "https://idx/simple"), "x86_64", tmp_path / "uv", index(FILES))
    assert str(raised.value) == (
        "uv '9.9.9' could not be fetched from 'https://idx/simple': The index has no manylinux x86_64 wheel of uv "
        "9.9.9. BP_UV_VERSION asks for a uv that is not vendored in the buildpack, so it is downloaded from "
        "BP_UV_INDEX_URL (a PyPI-style simple index). Check the version exists there and the index is reachable, "
        "or unset BP_UV_VERSION to use the vendored uv."
    )


def test_python_install_failure_other_than_a_missing_download() -> None:
    error = uv.classify_python_failure(uv.Result(2, "error: Failed to download https://x: connection refused\n"), "3.13", "linux-x86_64-gnu")
    assert error.key == "python_install_failed"
    assert str(error) == (
        "Installing Python 3.13 with uv failed: uv said: error: Failed to download https://x: connection refused. "
        "Check that the Python downloads source is reachable from the build (for air-gapped builds bind a "
        "CPython mirror of type uv-python-mirror, or set UV_PYTHON_DOWNLOADS_JSON_URL and UV_PYTHON_INSTALL_MIRROR), "
        "then retry."
    )


def test_a_command_started_in_the_background_runs_while_the_caller_goes_on(make_context, tmp_path: Path) -> None:
    """Context.start with the real runner: the command runs meanwhile (it waits here for a file the
    caller writes after starting it); wait() gives its exit code and all of its output, never
    shown. A stand-in runner runs the command at once instead."""
    ctx = make_context({"app.py": ""})
    go = tmp_path / "go"
    # Gives up after about 5 s with code 9: what a start that waited for the command would give.
    script = (f"i=0; while [ ! -e {go} ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done; [ -e {go} ] || exit 9; "
              "echo out; echo err >&2; exit 3")
    started = ctx.start(["sh", "-c", script], {"PATH": "/usr/bin:/bin"}, tmp_path)
    go.write_text("")
    assert started.wait() == uv.Result(3, "out\nerr\n")

    calls = []
    ctx.runner = lambda args, env, cwd, echo: calls.append((args, echo)) or uv.Result(0, "done")
    finished = ctx.start(["uv", "cache", "prune"], {}, tmp_path)
    assert calls == [(["uv", "cache", "prune"], False)] and finished.wait() == uv.Result(0, "done")
