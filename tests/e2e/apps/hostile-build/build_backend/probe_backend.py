"""A PEP 517 build backend that hunts for credentials before it builds anything.

uv runs it inside the pipeline's build, exactly where any app's build backend or any sdist's
setup.py runs. A credential can reach a container only through its environment or a mount (the
image is the builder's own), so the probe reads every environment variable, every other process's
environment, and every file under every mount point, and looks for registry auths, private keys,
JSON web tokens (service account tokens), GitHub tokens and URLs with passwords. It first proves it
can see one (a planted Docker config it must find), then fails the build on any real finding, and
otherwise puts its report into the wheel, so the built app can answer with it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import sys
import tempfile
import zipfile
from pathlib import Path

NAME, VERSION = "hostile_build", "0.1.0"
CONTENT = {
    "registry auths": re.compile(rb'"auths"\s*:'),
    "private key": re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "JSON web token": re.compile(rb"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\."),
    "GitHub token": re.compile(rb"\bgh[pousr]_[A-Za-z0-9]{30,}"),
    "URL with a password": re.compile(rb"\bhttps?://[^/\s:@\"']+:[^/\s@\"']+@"),
}
SECRET_NAME = re.compile(r"(?i)(token|passw|secret|credential|(?<![a-z])auth(?!or)|api_?key|private_?key|docker_?config|"
                         r"dockercfg)")
# Kernel and runtime filesystems hold no files of the user's; the buildpacks' own layers are
# public software being installed (their metadata is still read).
PSEUDO = {"proc", "sysfs", "devpts", "mqueue", "cgroup", "cgroup2", "tmpfs-dev"}
MAX_FILE = 1 << 20
SELF = Path(__file__).resolve()  # holds the patterns and the planted samples: not a finding


def _content(data: bytes) -> list[str]:
    return [kind for kind, pattern in CONTENT.items() if pattern.search(data)]


def scan_tree(root: Path, skip=lambda path: False) -> tuple[int, list[str]]:
    """(files read, findings) for every regular file under root."""
    count, findings = 0, []
    for dirpath, dirnames, filenames in os.walk(root, onerror=lambda error: None):
        dirnames[:] = [d for d in dirnames if not skip(Path(dirpath, d))]
        for name in filenames:
            path = Path(dirpath, name)
            try:
                if not path.is_file() or path.stat().st_size > MAX_FILE or path.resolve() == SELF:
                    continue
                data = path.read_bytes()
            except OSError:
                continue
            count += 1
            if b"\0" in data[:8192]:
                continue  # a binary: credentials are text files
            findings += ["%s in %s" % (kind, path) for kind in _content(data)]
    return count, findings


def mounts() -> list[tuple[str, str]]:
    """(mount point, filesystem type) of this container, from /proc/self/mountinfo."""
    out = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, right = line.split(" - ", 1)
        point = left.split()[4].replace("\\040", " ")
        out.append((point, right.split()[0]))
    return out


def self_test() -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        planted = Path(tmp, ".docker")
        planted.mkdir()
        auth = base64.b64encode(b"robot:planted").decode()
        (planted / "config.json").write_text(json.dumps({"auths": {"registry.example": {"auth": auth}}}))
        (planted / "token").write_text("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwbGFudGVkIn0.c2ln")
        _count, found = scan_tree(Path(tmp))
    kinds = sorted(f.split(" in ")[0] for f in found)
    if kinds != ["JSON web token", "registry auths"]:
        raise RuntimeError("credential probe: the self-test found %s in planted files" % kinds)
    return kinds


def probe() -> dict:
    report: dict = {"self_test": self_test(), "findings": [], "granted": [],
                    "pyproject_sha256": hashlib.sha256(Path("pyproject.toml").read_bytes()).hexdigest()}
    for name, value in os.environ.items():
        if SECRET_NAME.search(name):
            report["findings"].append("environment variable %s" % name)
        report["findings"] += ["%s in environment variable %s" % (k, name) for k in _content(value.encode())]
    report["env_checked"] = len(os.environ)

    processes = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            processes += 1
            for item in environ.split(b"\0"):
                name = item.split(b"=", 1)[0].decode(errors="replace")
                if name and SECRET_NAME.search(name):
                    report["findings"].append("environment variable %s of process %s" % (name, entry.name))
                report["findings"] += ["%s in the environment of process %s" % (k, entry.name) for k in _content(item)]
    report["processes_checked"] = processes

    bindings = Path("/platform/bindings")
    if bindings.is_dir():
        report["granted"] = sorted(p.name for p in bindings.iterdir())

    def skip(path: Path) -> bool:
        # A buildpack's layer content is public software it installs; its metadata (.toml) is read.
        return (path.parent.parent == Path("/layers") and path.parent.name != "sbom") or path == bindings

    files, scanned = 0, []
    for point, fstype in mounts():
        if point == "/" or fstype in PSEUDO or point.startswith(("/proc", "/sys", "/dev")):
            continue
        scanned.append(point)
        if point == "/var/run/secrets/kubernetes.io/serviceaccount" or point.startswith(("/secrets", "/run/secrets")):
            report["findings"].append("a secret volume at %s" % point)
        if point == "/work" or point.startswith("/work/"):
            report["findings"].append("the pipeline's workspace volume at %s" % point)
        count, found = _mounted(Path(point), skip)
        files += count
        report["findings"] += found
    for path in (Path.home() / ".docker" / "config.json", Path("/workspace/.git"), Path.home() / ".git-credentials",
                 Path.home() / ".netrc", Path("/kaniko/.docker/config.json")):
        if path.exists():
            report["findings"].append("%s exists" % path)
    report["mounts_scanned"] = sorted(scanned)
    report["files_checked"] = files
    report["findings"] = sorted(set(report["findings"]))
    return report


def _mounted(path: Path, skip) -> tuple[int, list[str]]:
    """(files read, findings) of a mounted directory, or of a mounted file (/etc/hosts, ...)."""
    if path.is_dir():
        return scan_tree(path, skip)
    try:
        data = path.read_bytes()[:MAX_FILE]
    except OSError:
        return 0, []
    return 1, ["%s in %s" % (kind, path) for kind in _content(data)]


# ---------------------------------------------------------------- PEP 517 / PEP 660 hooks

def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _build(wheel_directory)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _build(wheel_directory)


def _build(wheel_directory: str) -> str:
    report = probe()
    print("credential probe: %d environment variables, %d processes, %d files under %d mounts; findings: %s"
          % (report["env_checked"], report["processes_checked"], report["files_checked"],
             len(report["mounts_scanned"]), report["findings"] or "none"), file=sys.stderr)
    if report["findings"]:
        raise RuntimeError("credential probe: the build can reach credentials: %s" % "; ".join(report["findings"]))
    dist = "%s-%s.dist-info" % (NAME, VERSION)
    files = {
        NAME + "_report.py": "REPORT = %s\n" % json.dumps(report, sort_keys=True),
        dist + "/METADATA": "Metadata-Version: 2.1\nName: hostile-build\nVersion: %s\nRequires-Python: >=3.12\n" % VERSION,
        dist + "/WHEEL": "Wheel-Version: 1.0\nGenerator: probe_backend\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (name, digest, len(text.encode())))
    files[dist + "/RECORD"] = "\n".join(record + [dist + "/RECORD,,"]) + "\n"
    wheel = "%s-%s-py3-none-any.whl" % (NAME, VERSION)
    with zipfile.ZipFile(Path(wheel_directory, wheel), "w") as archive:
        for name, text in files.items():
            archive.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), text)
    return wheel
