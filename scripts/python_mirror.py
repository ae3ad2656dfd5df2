"""Build an offline CPython mirror that uv installs from, out of CPythons already on this machine.

uv normally downloads python-build-standalone ``install_only`` archives from GitHub.  Air-gapped
users (and this project's own build machines, which cannot reach GitHub) point uv elsewhere with
two settings:

* ``UV_PYTHON_DOWNLOADS_JSON_URL`` -- a downloads list in uv's ``download-metadata.json`` format;
* ``UV_PYTHON_INSTALL_MIRROR``     -- the base URL that replaces the python-build-standalone
  release URL prefix in that list.

The list written here keeps the canonical release URLs, so the same list works wherever the
mirror directory is served or mounted: only the mirror setting changes.

The folder also carries a ``type`` file (``uv-python-mirror``), so it can be mounted as a CNB
binding as it is: the luban/python-uv buildpack then sets both uv settings itself.

Each CPython (for example a pyenv build under ``~/.pyenv/versions``) is packed the way
python-build-standalone packs one: ``python/bin`` and ``python/lib``, with every ELF file's
RUNPATH made relative (``$ORIGIN``) and the shared libraries it needs beyond glibc bundled in
``python/lib``, so the result runs in a minimal image; debug information is stripped once, here.
Archives are byte-for-byte reproducible (sorted members, fixed times and owners), so re-running
the script changes nothing.

The standard library's bytecode is compiled into the archive, as python-build-standalone ships it.
Without it, every start of an app (its image's layers are read-only) compiled each standard module
it imports again, and uv's interpreter query did the same in every build.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

# The python-build-standalone release URL prefix uv rewrites with UV_PYTHON_INSTALL_MIRROR.
PBS_RELEASES = "https://github.com/astral-sh/python-build-standalone/releases/download"
# The "build" tag of our archives: bump it when the packing changes (luban2: debug info stripped;
# luban3: the standard library's bytecode compiled).
BUILD_TAG = "luban3"
# Libraries that belong to glibc itself: present in every glibc image, never bundled.
GLIBC_LIBS = re.compile(
    r"^(ld-linux.*|linux-vdso.*|libc|libm|libdl|libpthread|librt|libutil|libresolv|libnsl|"
    r"libanl|libBrokenLocale|libmvec|libcrypt|libnss_.*)\.so"
)
# Parts of a CPython tree an application image never needs.
PRUNE_DIRS = {"test", "tests", "idle_test", "idlelib", "tkinter", "turtledemo", "ensurepip", "__pycache__", "site-packages", "config-3"}
# Tk needs X11 and would drag a GUI stack into server images.
PRUNE_PREFIXES = ("config-", "_tkinter")
ARCH_MAP = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}


@dataclass(frozen=True)
class Interpreter:
    """A CPython install to pack."""

    prefix: Path
    major: int
    minor: int
    patch: int

    @property
    def version(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


def probe(prefix: Path) -> Interpreter | None:
    """Return the interpreter under ``prefix`` if it is a usable shared-library CPython build."""
    exe = prefix / "bin" / "python3"
    if not exe.exists():
        return None
    code = (
        "import sys, sysconfig, ssl, sqlite3, ctypes, zlib, lzma, bz2, json;"
        "print(sys.version_info[0], sys.version_info[1], sys.version_info[2], sys.version_info[3],"
        " sysconfig.get_config_var('Py_ENABLE_SHARED') or 0)"
    )
    result = subprocess.run([str(exe), "-c", code], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        print(f"skip {prefix}: not usable ({result.stderr.strip().splitlines()[-1:]})", file=sys.stderr)
        return None
    major, minor, patch, level, _shared = result.stdout.split()
    if level != "final":
        return None
    return Interpreter(prefix, int(major), int(minor), int(patch))


def pruned(name: str) -> bool:
    return name in PRUNE_DIRS or name.startswith(PRUNE_PREFIXES) or name.endswith(".pyc")


def needed_libs(path: Path) -> dict[str, Path]:
    """The shared libraries ``path`` loads, as resolved on this machine (soname -> file)."""
    result = subprocess.run(["ldd", str(path)], capture_output=True, text=True, check=False)
    libs: dict[str, Path] = {}
    for line in result.stdout.splitlines():
        match = re.match(r"\s*(\S+) => (/\S+)", line)
        if match:
            libs[match.group(1)] = Path(match.group(2))
    return libs


def is_elf(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == b"\x7fELF"


def stage(interp: Interpreter, root: Path) -> None:
    """Copy the interpreter into ``root/python`` in install_only layout and make it relocatable."""
    dest = root / "python"
    mm = f"{interp.major}.{interp.minor}"
    (dest / "bin").mkdir(parents=True)
    (dest / "lib").mkdir()
    shutil.copy2(interp.prefix / "bin" / f"python{mm}", dest / "bin" / f"python{mm}")
    for alias in ("python3", "python"):
        (dest / "bin" / alias).symlink_to(f"python{mm}")
    for lib in sorted((interp.prefix / "lib").glob("libpython3*.so*")):
        if lib.is_symlink():
            (dest / "lib" / lib.name).symlink_to(os.readlink(lib))
        else:
            shutil.copy2(lib, dest / "lib" / lib.name)
    shutil.copytree(
        interp.prefix / "lib" / f"python{mm}",
        dest / "lib" / f"python{mm}",
        symlinks=True,
        ignore=lambda _d, names: [n for n in names if pruned(n)],
    )
    (dest / "lib" / f"python{mm}" / "site-packages").mkdir()
    # Headers let uv build sdists against this Python at application build time.
    if (interp.prefix / "include").is_dir():
        shutil.copytree(interp.prefix / "include", dest / "include", symlinks=True)
    bundle_libraries(dest)
    compile_stdlib(dest, mm)


# Run by the staged interpreter: every standard-library source, in sorted order, in this one
# process, with a fixed hash seed (the same order and state give the same marshal bytes). The
# recorded file name is the path inside the archive, not the staging directory's; the import system
# shows the real path once installed. Checked-hash .pyc files: valid whatever times the extraction
# gives the sources, and a source changed after extraction is compiled from the source instead
# (uv rewrites _sysconfigdata_*.py when it installs CPython; an unchecked .pyc would hide that).
# A file that does not compile (a template, a Python 2 leftover) gets no .pyc, as compileall leaves
# it. Directory and file modes are fixed, whatever the umask.
COMPILE = """
import os, py_compile, sys
lib, name = sys.argv[1], sys.argv[2]
for root, dirs, files in os.walk(lib):
    dirs.sort()
    for file in sorted(files):
        if file.endswith(".py"):
            path = os.path.join(root, file)
            cached = py_compile.compile(path, dfile=os.path.join(name, os.path.relpath(path, lib)), quiet=2,
                                        invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
            if cached:
                os.chmod(os.path.dirname(cached), 0o755)
                os.chmod(cached, 0o644)
"""


def compile_stdlib(dest: Path, mm: str) -> None:
    """Compiles the staged standard library (optimization level 0: what apps run) with the staged
    interpreter itself, isolated from this machine's Python settings."""
    lib = dest / "lib" / f"python{mm}"
    # The environment is the whole of it (no -I or -E: they would ignore PYTHONHASHSEED); -s: no user
    # site, -P: no working directory on sys.path, -B: the compiler's own imports write nothing.
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"}
    subprocess.run([str(dest / "bin" / f"python{mm}"), "-s", "-P", "-B", "-c", COMPILE, str(lib), f"python/lib/python{mm}"],
                   env=env, check=True, cwd=dest)


def bundle_libraries(dest: Path) -> None:
    """Bundle non-glibc shared libraries and point every ELF file's RUNPATH inside the tree."""
    lib = dest / "lib"
    elves = [p for p in sorted(dest.rglob("*")) if p.is_file() and not p.is_symlink() and is_elf(p)]
    pending = list(elves)
    bundled: set[str] = set()
    while pending:
        current = pending.pop()
        for soname, resolved in needed_libs(current).items():
            if GLIBC_LIBS.match(soname) or soname.startswith("libpython3") or soname in bundled:
                continue
            target = lib / soname
            shutil.copy2(resolved, target)
            target.chmod(0o755)
            bundled.add(soname)
            pending.append(target)
            elves.append(target)
    for elf in elves:
        rel = os.path.relpath(lib, elf.parent)
        rpath = "$ORIGIN" if rel == "." else f"$ORIGIN/{rel}"
        subprocess.run(["patchelf", "--set-rpath", rpath, str(elf)], check=True)
    # Once, here, rather than in every build that installs the archive: DWARF debug sections are
    # most of an unstripped CPython (libpython 30 MB -> 4 MB) and no app reads them. Symbol tables
    # stay, as in python-build-standalone's stripped archives.
    subprocess.run(["strip", "--strip-debug", *map(str, elves)], check=True)
    if bundled:
        print(f"  bundled: {', '.join(sorted(bundled))}", file=sys.stderr)


def write_tarball(root: Path, target: Path) -> None:
    """Write a reproducible .tar.gz of ``root/python`` (sorted, fixed mtime/owner, gzip mtime 0)."""
    def normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.mtime = 0
        return info

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        paths = [root / "python"] + sorted((root / "python").rglob("*"))
        for path in paths:
            tar.add(path, arcname=str(path.relative_to(root)), recursive=False, filter=normalise)
    tmp = target.with_suffix(".tmp")
    with tmp.open("wb") as handle, gzip.GzipFile(filename="", mode="wb", fileobj=handle, mtime=0, compresslevel=6) as gz:
        gz.write(raw.getvalue())
    tmp.replace(target)


def sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def source_key(interp: Interpreter) -> str:
    """What an archive depends on: this script, the interpreter version and its files' mtimes."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(interp.version.encode())
    libpython = sorted((interp.prefix / "lib").glob("libpython3*.so.*"))
    for path in [interp.prefix / "bin" / f"python{interp.major}.{interp.minor}", *libpython]:
        digest.update(str(path.stat().st_mtime_ns).encode())
    return digest.hexdigest()


def build(interp: Interpreter, out: Path, arch: str) -> dict:
    """Pack one interpreter (reusing an up-to-date archive) and return its downloads-list entry."""
    name = f"cpython-{interp.version}+{BUILD_TAG}-{arch}-unknown-linux-gnu-install_only.tar.gz"
    archive = out / BUILD_TAG / name
    stamp = archive.with_name(name + ".key")
    key = source_key(interp)
    if not (archive.exists() and stamp.exists() and stamp.read_text() == key):
        print(f"packing CPython {interp.version} from {interp.prefix}", file=sys.stderr)
        archive.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="python-mirror-") as tmp:
            stage(interp, Path(tmp))
            write_tarball(Path(tmp), archive)
        stamp.write_text(key)
    else:
        print(f"up to date: {archive.name}", file=sys.stderr)
    return {
        "name": "cpython",
        "arch": {"family": arch, "variant": None},
        "os": "linux",
        "libc": "gnu",
        "major": interp.major,
        "minor": interp.minor,
        "patch": interp.patch,
        "prerelease": "",
        "url": f"{PBS_RELEASES}/{BUILD_TAG}/{name.replace('+', '%2B')}",
        "sha256": sha256(archive),
        "variant": None,
        "build": BUILD_TAG,
    }


def verify(out: Path, minors: list[str], uv: str) -> None:
    """Install each packed CPython with real uv through the mirror settings and run it.

    Also checks that every ELF file of the installed tree resolves its libraries inside the tree or
    to glibc: what a minimal glibc image provides.
    """
    with tempfile.TemporaryDirectory(prefix="python-mirror-verify-") as tmp:
        env = dict(
            os.environ,
            UV_PYTHON_DOWNLOADS_JSON_URL=(out / "download-metadata.json").resolve().as_uri(),
            UV_PYTHON_INSTALL_MIRROR=out.resolve().as_uri(),
            UV_PYTHON_INSTALL_DIR=str(Path(tmp) / "pythons"),
            UV_CACHE_DIR=str(Path(tmp) / "cache"),
        )
        for mm in minors:
            subprocess.run([uv, "python", "install", mm, "--no-bin", "--quiet"], env=env, check=True)
            found = subprocess.run([uv, "python", "find", "--managed-python", mm], env=env, check=True, capture_output=True, text=True)
            exe = Path(found.stdout.strip())
            # ... imports the standard library from its bytecode (json's .pyc was installed), and sees
            # the build settings uv wrote into _sysconfigdata after extracting, not the archive's.
            check = ("import ssl, sqlite3, ctypes, lzma, bz2, zlib, readline, uuid, json, venv, os, importlib, importlib.util,"
                     " runpy, sysconfig;"
                     "assert os.path.isfile(importlib.util.cache_from_source(json.__file__)), 'no bytecode';"
                     "data = importlib.import_module(sysconfig._get_sysconfigdata_name());"
                     "assert data.build_time_vars == runpy.run_path(data.__file__)['build_time_vars'], 'stale sysconfig'")
            subprocess.run([str(exe), "-c", check], check=True, capture_output=True, env={"PATH": "/usr/bin:/bin"})
            tree = exe.resolve().parent.parent
            for path in sorted(tree.rglob("*")):
                if path.is_file() and not path.is_symlink() and is_elf(path):
                    for soname, resolved in needed_libs(path).items():
                        if not GLIBC_LIBS.match(soname) and not resolved.resolve().is_relative_to(tree):
                            raise SystemExit(f"error: {path} loads {resolved} from outside the Python tree")
            print(f"verified: uv installs and runs CPython {mm} from the mirror", file=sys.stderr)


def write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    cache = Path(os.environ.get("LUBAN_CACHE", Path.home() / ".cache" / "luban-ci"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path.home() / ".pyenv" / "versions", help="folder of CPython installs")
    parser.add_argument("--minors", default="3.11,3.12,3.13", help="comma-separated X.Y to pack (newest patch of each)")
    parser.add_argument("--out", type=Path, default=cache / "python-mirror", help="mirror folder")
    parser.add_argument("--verify-with", metavar="UV", help="after packing, install and run each Python with this uv")
    args = parser.parse_args(argv)
    for tool, package in (("patchelf", "patchelf"), ("strip", "binutils")):
        if shutil.which(tool) is None:
            print(f"error: {tool} is needed (Debian: apt-get install {package})", file=sys.stderr)
            return 1
    arch = ARCH_MAP[platform.machine()]
    found: dict[str, Interpreter] = {}
    for prefix in sorted(args.source.iterdir()) if args.source.is_dir() else []:
        interp = probe(prefix)
        if interp is None:
            continue
        mm = f"{interp.major}.{interp.minor}"
        if mm in args.minors.split(",") and (mm not in found or interp.patch > found[mm].patch):
            found[mm] = interp
    if not found:
        print(f"error: no usable CPython {args.minors} under {args.source}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    entries = {}
    for mm in sorted(found, key=lambda v: tuple(map(int, v.split(".")))):
        interp = found[mm]
        entries[f"cpython-{interp.version}-linux-{arch}-gnu"] = build(interp, args.out, arch)
    metadata = args.out / "download-metadata.json"
    write_if_changed(metadata, json.dumps(entries, indent=2, sort_keys=True) + "\n")
    # Archives of an earlier packing (another build tag) are in no list any more.
    for stale in sorted(args.out.glob("luban*")):
        if stale.is_dir() and stale.name != BUILD_TAG and re.fullmatch(r"luban\d+", stale.name):
            print(f"removing archives of an earlier packing: {stale}", file=sys.stderr)
            shutil.rmtree(stale)
    env = {
        "UV_PYTHON_DOWNLOADS_JSON_URL": metadata.resolve().as_uri(),
        "UV_PYTHON_INSTALL_MIRROR": args.out.resolve().as_uri(),
    }
    write_if_changed(args.out / "env", "".join(f"{k}={v}\n" for k, v in env.items()))
    # The folder is also a CNB binding: mounted at <platform>/bindings/<name>, the buildpack points uv at it.
    write_if_changed(args.out / "type", "uv-python-mirror\n")
    if args.verify_with:
        verify(args.out, sorted(found, key=lambda v: tuple(map(int, v.split(".")))), args.verify_with)
    sys.stdout.write("".join(f"{k}={v}\n" for k, v in env.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
