"""uv itself: the vendored binary (or an overriding version from an index), and running it."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import BuildpackError

if TYPE_CHECKING:  # ssl, urllib.request and zipfile are imported only when uv is downloaded (BP_UV_VERSION)
    import ssl

DEFAULT_INDEX = "https://pypi.org/simple"


@dataclass(frozen=True)
class UvSource:
    version: str
    # A vendored binary, or None when the version must be fetched from ``index``.
    binary: Path | None
    index: str


def vendored_version(buildpack_dir: Path) -> str | None:
    path = buildpack_dir / "vendor" / "uv" / "version"
    return path.read_text(encoding="utf-8").strip() if path.is_file() else None


def choose(buildpack_dir: Path, arch: str, env: Mapping[str, str]) -> UvSource:
    """The vendored uv unless BP_UV_VERSION asks for another version."""
    vendored = vendored_version(buildpack_dir)
    binary = buildpack_dir / "vendor" / "uv" / arch / "uv"
    wanted = env.get("BP_UV_VERSION", "").strip()
    index = env.get("BP_UV_INDEX_URL", "").strip() or DEFAULT_INDEX
    if wanted and wanted != vendored:
        return UvSource(wanted, None, index)
    if vendored is None or not binary.is_file():
        raise BuildpackError("uv_missing", arch=arch, path=binary)
    return UvSource(vendored, binary, index)


def _wheel_matches(filename: str, version: str, uv_arch: str) -> bool:
    # manylinux wheels carry the glibc-compatible binary; prefer them over musllinux-only ones.
    return filename.startswith(f"uv-{version}-") and filename.endswith(".whl") and "manylinux" in filename and uv_arch in filename


def find_wheel(index: str, version: str, uv_arch: str, fetch: Callable[[str, str], bytes]) -> tuple[str, str]:
    """(url, sha256) of uv's manylinux wheel in a PEP 691 (JSON) or PEP 503 (HTML) simple index."""
    page_url = index.rstrip("/") + "/uv/"
    try:
        raw = fetch(page_url, "application/vnd.pypi.simple.v1+json, text/html;q=0.1")
    except OSError as exc:  # urllib's URLError is an OSError
        raise BuildpackError("uv_download_failed", uv_version=version, index=index, detail=f"Reading {page_url} failed: {exc}") from exc
    candidates: list[tuple[str, str, str]] = []
    try:
        for item in json.loads(raw).get("files", []):
            candidates.append((item["filename"], urllib.parse.urljoin(page_url, item["url"]), item.get("hashes", {}).get("sha256", "")))
    except (ValueError, AttributeError):
        for href, name in re.findall(r'<a[^>]+href="([^"]+)"[^>]*>([^<]+)</a>', raw.decode("utf-8", "replace")):
            url, _unused, fragment = href.partition("#")
            candidates.append((name.strip(), urllib.parse.urljoin(page_url, url), fragment[len("sha256="):] if fragment.startswith("sha256=") else ""))
    for name, url, sha in sorted(candidates):
        if _wheel_matches(name, version, uv_arch) and "manylinux_2_17" in name:
            return url, sha
    for name, url, sha in sorted(candidates):
        if _wheel_matches(name, version, uv_arch):
            return url, sha
    raise BuildpackError("uv_download_failed", uv_version=version, index=index, detail=f"The index has no manylinux {uv_arch} wheel of uv {version}")


def extract_binary(wheel: bytes, version: str, target: Path) -> None:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(wheel)) as archive:
        with archive.open(f"uv-{version}.data/scripts/uv") as source, target.open("wb") as out:
            shutil.copyfileobj(source, out)
    target.chmod(0o755)


def fetch_url(ssl_context: ssl.SSLContext | None) -> Callable[[str, str], bytes]:
    def fetch(url: str, accept: str) -> bytes:
        import urllib.request

        request = urllib.request.Request(url, headers={"Accept": accept, "User-Agent": "luban-python-uv-buildpack"})
        with urllib.request.urlopen(request, timeout=60, context=ssl_context) as response:
            return response.read()
    return fetch


def download(source: UvSource, uv_arch: str, target: Path, fetch: Callable[[str, str], bytes]) -> str:
    """Fetch and verify uv from the index; returns the wheel's sha256."""
    if not source.index.startswith(("https://", "http://", "file://")):
        raise BuildpackError("uv_download_failed", uv_version=source.version, index=source.index, detail="BP_UV_INDEX_URL is not an http(s) or file URL")
    url, expected = find_wheel(source.index, source.version, uv_arch, fetch)
    if not expected:
        detail = "The index lists no sha256 for the wheel, so it cannot be verified"
        raise BuildpackError("uv_download_failed", uv_version=source.version, index=source.index, detail=detail)
    try:
        wheel = fetch(url, "*/*")
    except OSError as exc:  # urllib's URLError is an OSError
        raise BuildpackError("uv_download_failed", uv_version=source.version, index=source.index, detail=f"Downloading {url} failed: {exc}") from exc
    actual = hashlib.sha256(wheel).hexdigest()
    if actual != expected:
        raise BuildpackError("uv_checksum_mismatch", uv_version=source.version, wheel=url.rsplit("/", 1)[-1], actual=actual,
                             expected=expected)
    extract_binary(wheel, source.version, target)
    return actual


# --- running uv ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Result:
    code: int
    output: str


Runner = Callable[[list[str], Mapping[str, str], Path, bool], Result]


class Started:
    """A command running while the build goes on; ``wait`` gives its Result (output kept, not shown)."""

    def __init__(self, args: list[str], env: Mapping[str, str], cwd: Path) -> None:
        # Read when waited for: a command that fills the pipe before then pauses until it is.
        self._proc = subprocess.Popen(args, env=dict(env), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      text=True, errors="replace")

    def wait(self) -> Result:
        output, _unused = self._proc.communicate()
        return Result(self._proc.returncode, output)


@dataclass(frozen=True)
class Finished:
    """A command that already ran (what a runner that cannot start one in the background gives)."""

    result: Result

    def wait(self) -> Result:
        return self.result


def run_streaming(args: list[str], env: Mapping[str, str], cwd: Path, echo: bool = True) -> Result:
    """Run a command, echoing its output indented (unless ``echo`` is false) and keeping it."""
    proc = subprocess.Popen(args, env=dict(env), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if echo:
            sys.stdout.write("      " + line)
            sys.stdout.flush()
    return Result(proc.wait(), "".join(lines))


_NOISE = re.compile(r"^(Using |Resolved |Prepared |Installed |Audited |Downloading |Downloaded |Uninstalled |Bytecode compiled | [+-] )")


def summarize(output: str, limit: int = 4) -> str:
    """The lines of uv's output that explain a failure, as one line."""
    lines = [line.strip().lstrip("×╰─▶│ ").strip() for line in output.splitlines()]
    lines = [line for line in lines if line and not _NOISE.match(line)]
    start = next((i for i, line in enumerate(lines) if line.lower().startswith(("error", "no solution", "because", "caused by"))), 0)
    return " ".join(lines[start:start + limit]) or "no output"


_UNREACHABLE = re.compile(
    r"(dns error|error sending request|connection refused|failed to connect|timed out|certificate|tls|"
    r"network is unreachable|could not connect|client error \(connect\))",
    re.IGNORECASE,
)
_NOT_FOUND = re.compile(
    r"(was not found in the package registry|not found in the provided package locations|no solution found|"
    r"no matching distribution|no versions of)",
    re.IGNORECASE,
)


def classify_dependency_failure(result: Result) -> BuildpackError:
    text = result.output
    detail = summarize(text)
    if "needs to be updated, but `--locked` was provided" in text or "The lockfile at `uv.lock` needs to be updated" in text:
        return BuildpackError("lock_stale")
    if _UNREACHABLE.search(text):
        return BuildpackError("index_unreachable", detail=detail)
    if _NOT_FOUND.search(text):
        return BuildpackError("dependency_not_found", detail=detail)
    return BuildpackError("dependency_install_failed", code=result.code, detail=detail)


def classify_python_failure(result: Result, version: str, platform: str) -> BuildpackError:
    if "No download found for request" in result.output:
        return BuildpackError("python_version_unavailable", version=version, platform=platform)
    return BuildpackError("python_install_failed", version=version, detail=summarize(result.output))
