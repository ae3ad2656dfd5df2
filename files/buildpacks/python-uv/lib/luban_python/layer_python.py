"""The python layer (launch only): CPython installed by uv.

The lifecycle restores only its metadata and SBOM, never its files: a rebuild that keeps it moves
no byte of CPython (no cache restore, no re-export; the exporter points the new image at the
previous image's layer). Its files are installed again only when the venv must be rebuilt.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path

from . import sbom, uv
from .context import Context
from .errors import BuildpackError
from .layers import Layer, remove_uv_bookkeeping
from .python_version import PythonRequest

NAME = "python"


def resolve(ctx: Context, uv_bin: Path, request: PythonRequest, env: Mapping[str, str]) -> str:
    """The exact CPython version uv would install for the request (newest matching download)."""
    platform = f"linux-{ctx.target.uv_arch}-gnu"
    if request.patch is not None:
        return str(request)
    result = ctx.runner([str(uv_bin), "python", "list", str(request), "--only-downloads", "--output-format", "json"], env, ctx.app_dir, False)
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


def key(ctx: Context, uv_version: str, version: str) -> dict[str, str]:
    return {"python": version, "uv": uv_version, "arch": ctx.target.arch, "distro": ctx.distro,
            "buildpack": ctx.buildpack_version}


def strip_debug_info(ctx: Context, directory: Path, env: Mapping[str, str]) -> None:
    """Removes the DWARF debug sections of CPython's executables and shared libraries.

    Unstripped builds (pyenv-built mirrors, python-build-standalone's non-stripped archives) carry tens
    of MB of debug information no app uses at run time; it would be pushed and pulled with every image
    and hashed again whenever the layer is rebuilt (uv's default downloads are already stripped).
    Symbol tables stay (`--strip-debug`), so ctypes and tracebacks are unaffected. Skipped when the
    build image has no `strip`; a failure leaves the files as uv installed them.
    """
    strip = shutil.which("strip", path=env.get("PATH"))
    if strip is None:
        return
    elf = []
    for path in sorted(directory.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as handle:
                if handle.read(4) == b"\x7fELF":
                    elf.append(path)
    if not elf:
        return
    before = sum(p.stat().st_size for p in elf)
    result = ctx.runner([strip, "--strip-debug", *map(str, elf)], env, ctx.app_dir, False)
    if result.code == 0:
        after = sum(p.stat().st_size for p in elf)
        ctx.log.step(f"Stripped debug information from {len(elf)} files ({before / 1e6:.1f} MB -> {after / 1e6:.1f} MB)")


def install(ctx: Context, python: Layer, metadata: Mapping[str, str], uv_bin: Path, env: Mapping[str, str], reason: str) -> Path:
    """Installs CPython into the (empty) python layer, declares it and writes its SBOM; returns its
    interpreter."""
    version = metadata["python"]
    minor = ".".join(version.split(".")[:2])
    ctx.log.step(f"Installing CPython {version} into the python layer: {reason}")
    if python.path.exists():
        shutil.rmtree(python.path)
    python.path.mkdir(parents=True)
    args = [str(uv_bin), "python", "install", version, "--install-dir", str(python.path), "--no-bin"]
    result = ctx.runner(args, env, ctx.app_dir, True)
    if result.code != 0:
        raise uv.classify_python_failure(result, version, f"linux-{ctx.target.uv_arch}-gnu")
    remove_uv_bookkeeping(python.path)
    strip_debug_info(ctx, python.path, env)
    found = sorted(p for p in python.path.glob(f"cpython-{version}-*/bin/python{minor}") if not p.parent.parent.is_symlink())
    if not found:
        raise BuildpackError("python_install_failed", version=version, detail=f"no python{minor} under {python.path} after the install")
    python.write(metadata)
    sbom.write(ctx.layers_dir, python.name, sbom.python_sbom(version))
    return found[0]
