"""The python layer (launch only): CPython installed by uv.

The lifecycle restores only its metadata and SBOM, never its files: a rebuild that keeps it moves
no byte of CPython (no cache restore, no re-export; the exporter points the new image at the
previous image's layer). When only the venv must be rebuilt, CPython is installed for uv to build
it on and removed again (`release`), so the layer is still kept: not hashed, not exported again.
A copy of that CPython preinstalled in the buildpack (luban.ci.python_preinstall, made when the
buildpack is packaged) is linked in instead of installed, when its record matches the layer's key:
nothing is extracted or written but the link.
"""

from __future__ import annotations

import json
import shutil
import struct
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

from . import sbom, uv
from .context import Context
from ._vendor.python_preinstall import KEY, newest, offered, usable_copy
from .errors import BuildpackError
from .layers import Layer, remove_uv_bookkeeping
from .python_version import PythonRequest, support_ends

NAME = "python"
# The buildpack's directory of preinstalled CPython copies (one record ``<name>.json`` beside each).
PREINSTALLED = "python"


def _local_listing(env: Mapping[str, str]) -> object:
    """The entries of the downloads list uv is pointed at when it is a local file (an offline
    mirror, a uv-python-mirror binding); None for uv's built-in list, a remote one or an unreadable file."""
    source = env.get("UV_PYTHON_DOWNLOADS_JSON_URL", "")
    if not source.startswith("file://"):
        return None
    try:
        return json.loads(Path(unquote(urlsplit(source).path)).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def resolve(ctx: Context, uv_bin: Path, request: PythonRequest, env: Mapping[str, str]) -> str:
    """The exact CPython version uv would install for the request (newest matching download). A
    local downloads list is read here, as uv reads it; any other list is asked of uv."""
    platform = f"linux-{ctx.target.uv_arch}-gnu"
    if request.patch is not None:
        return str(request)
    entries = _local_listing(env)
    if isinstance(entries, dict):
        found = newest(offered(entries, ctx.target.arch), str(request))
        versions = [found] if found else []
    else:
        result = ctx.runner([str(uv_bin), "python", "list", str(request), "--only-downloads", "--output-format", "json"],
                            env, ctx.app_dir, False)
        if result.code != 0:
            raise uv.classify_python_failure(result, str(request), platform)
        try:
            versions = [item["version"] for item in json.loads(result.output.strip().splitlines()[-1])]
        except (ValueError, KeyError, IndexError):
            versions = []
    if not versions:
        raise BuildpackError("python_version_unavailable", version=str(request), platform=platform)
    return versions[0]


def layer(ctx: Context) -> Layer:
    return Layer(ctx.layers_dir, NAME, build=False, launch=True, cache=False)


def archive(ctx: Context, version: str, env: Mapping[str, str]) -> str:
    """What names the CPython archive uv installs, for the layer's key: its sha256 as a local
    downloads list gives it (an offline mirror, a uv-python-mirror binding), so a mirror rebuilt
    with other bytes under the same version rebuilds the layer. Without a list of its own, uv uses
    the list built into it, which the uv version in the key already fixes."""
    source = env.get("UV_PYTHON_DOWNLOADS_JSON_URL", "")
    if not source:
        return "uv's built-in downloads"
    sha256 = offered(_local_listing(env), ctx.target.arch).get(version)
    return "sha256:" + sha256 if sha256 else source


def key(ctx: Context, uv_version: str, version: str, archive_id: str) -> dict[str, str]:
    """The layer's metadata: what it was built from, and ``expires``, the end of security support
    of the version's line (an ISO date; absent for a line EOL_DATES does not know). The platform
    reads ``expires`` from the image's lifecycle metadata and builds again, rather than reusing
    the image, once the date has passed (luban.ci.build_inputs), so the end-of-life check runs."""
    metadata = {"python": version}
    expires = support_ends(version)
    if expires is not None:
        metadata["expires"] = expires
    metadata.update({"archive": archive_id, "uv": uv_version, "arch": ctx.target.arch, "distro": ctx.distro,
                     "buildpack": ctx.buildpack_version})
    return metadata


def has_debug_info(path: Path) -> bool:
    """Whether an ELF file has DWARF sections (.debug_*, .zdebug_*), which strip --strip-debug
    removes. A file whose section table cannot be read counts as having them."""
    with path.open("rb") as handle:
        header = handle.read(64)
        if len(header) < 52 or header[:4] != b"\x7fELF" or header[4] not in (1, 2) or header[5] not in (1, 2):
            return True
        wide, order = header[4] == 2, "<" if header[5] == 1 else ">"
        if wide and len(header) < 64:
            return True
        table_at = struct.unpack_from(order + ("Q" if wide else "I"), header, 0x28 if wide else 0x20)[0]
        entry_size, count, names_index = struct.unpack_from(order + "HHH", header, 0x3A if wide else 0x2E)
        if table_at == 0 and count == 0:
            return False  # no sections at all
        if count == 0 or names_index >= count or entry_size < (0x28 if wide else 0x18):
            return True  # extended numbering or a damaged table
        handle.seek(table_at)
        table = handle.read(entry_size * count)
        if len(table) < entry_size * count:
            return True

        def section(index: int) -> tuple[int, int, int]:
            """(name offset, file offset, size) of a section header."""
            base = index * entry_size
            name = struct.unpack_from(order + "I", table, base)[0]
            offset, size = struct.unpack_from(order + ("QQ" if wide else "II"), table, base + (0x18 if wide else 0x10))
            return name, offset, size

        _unused, names_at, names_size = section(names_index)
        handle.seek(names_at)
        names = handle.read(names_size)
    return any(names[name:].startswith((b".debug_", b".zdebug_")) for name, _o, _s in map(section, range(count)))


def strip_debug_info(ctx: Context, directory: Path, env: Mapping[str, str]) -> None:
    """Removes the DWARF debug sections of CPython's executables and shared libraries.

    Unstripped builds (pyenv-built mirrors, python-build-standalone's non-stripped archives) carry tens
    of MB of debug information no app uses at run time; it would be pushed and pulled with every image
    and hashed again whenever the layer is rebuilt (uv's default downloads are already stripped).
    Symbol tables stay (`--strip-debug`), so ctypes and tracebacks are unaffected. Only files that
    have debug sections are stripped: an archive stripped already (`make python-mirror` strips its
    own once) costs no strip at all. Skipped when the build image has no `strip`; a failure leaves
    the files as uv installed them.
    """
    elf = []
    for path in sorted(directory.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as handle:
                if handle.read(4) == b"\x7fELF" and has_debug_info(path):
                    elf.append(path)
    if not elf:
        return
    strip = shutil.which("strip", path=env.get("PATH"))
    if strip is None:
        return
    before = sum(p.stat().st_size for p in elf)
    result = ctx.runner([strip, "--strip-debug", *map(str, elf)], env, ctx.app_dir, False)
    if result.code == 0:
        after = sum(p.stat().st_size for p in elf)
        ctx.log.step(f"Stripped debug information from {len(elf)} files ({before / 1e6:.1f} MB -> {after / 1e6:.1f} MB)")


def preinstalled(ctx: Context, metadata: Mapping[str, str]) -> Path | None:
    """The copy of the layer's CPython preinstalled in this buildpack (``python/<name>``), when the
    record beside it names the same Python version, archive, uv version and architecture as the
    layer's key; else None. The copy is uv's install of that archive, made where the install does
    not depend on its directory (luban.ci.python_preinstall refuses it otherwise)."""
    return usable_copy(ctx.buildpack_dir / PREINSTALLED, {k: metadata.get(k, "") for k in KEY})


def install(ctx: Context, python: Layer, metadata: Mapping[str, str], uv_bin: Path, env: Mapping[str, str], reason: str,
            kept: bool = False) -> Path:
    """Installs CPython into the (empty) python layer, declares it and writes its SBOM; returns its
    interpreter. ``kept``: only for the venv build, the layer itself is kept (``release``), and a
    preinstalled copy is linked in rather than installed."""
    version = metadata["python"]
    minor = ".".join(version.split(".")[:2])
    copy = preinstalled(ctx, metadata) if kept else None
    if copy is not None:
        ctx.log.step(f"Linking the CPython {version} preinstalled in the buildpack to build the venv on (same archive, "
                     f"uv version, architecture); the python layer of the previous image is kept ({reason})")
        if python.path.exists():
            shutil.rmtree(python.path)
        python.path.mkdir(parents=True)
        (python.path / copy.name).symlink_to(copy, target_is_directory=True)
        python.write(metadata)
        sbom.write(ctx.layers_dir, python.name, sbom.python_sbom(version))
        return python.path / copy.name / "bin" / f"python{minor}"
    if kept:
        ctx.log.step(f"Installing CPython {version} to build the venv on; the python layer of the previous image "
                     f"is kept ({reason})")
    else:
        ctx.log.step(f"Installing CPython {version} into the python layer: {reason}")
    if python.path.exists():
        shutil.rmtree(python.path)
    python.path.mkdir(parents=True)
    args = [str(uv_bin), "python", "install", version, "--install-dir", str(python.path), "--no-bin"]
    result = ctx.runner(args, env, ctx.app_dir, True)
    if result.code != 0:
        raise uv.classify_python_failure(result, version, f"linux-{ctx.target.uv_arch}-gnu")
    remove_uv_bookkeeping(python.path)
    # Only a layer that is exported is stripped: CPython installed just to build the venv on (kept)
    # is removed again before the export.
    if not kept:
        strip_debug_info(ctx, python.path, env)
    found = sorted(p for p in python.path.glob(f"cpython-{version}-*/bin/python{minor}") if not p.parent.parent.is_symlink())
    if not found:
        raise BuildpackError("python_install_failed", version=version, detail=f"no python{minor} under {python.path} after the install")
    python.write(metadata)
    sbom.write(ctx.layers_dir, python.name, sbom.python_sbom(version))
    return found[0]


def release(python: Layer, metadata: Mapping[str, str]) -> None:
    """Keeps the previous image's python layer after CPython was installed only to build the venv
    on (or linked a preinstalled copy in): the files or the link go (the venv points at the same
    path, which the kept layer fills at run time), the metadata stays, and the exporter reuses the
    previous layer without reading a byte of it."""
    if python.path.exists():
        shutil.rmtree(python.path)
    python.write(metadata)
