"""bin/build: wires the concerns together; each step lives in its own module."""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import shutil
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import sbom, uv
from ._vendor import tomlw
from .bindings import Secrets, find_bindings
from .env import Target, check_forbidden
from .errors import BuildpackError
from .layers import Layer, change_reason, reuse_or_reset
from .log import Logger
from .package_manager import Manager, Project, detect_project
from .permissions import drop_shared_write
from .processes import collect
from .python_version import ALLOW_EOL_VAR, PythonRequest, allow_eol, end_of_life, resolve, supported_minors

if TYPE_CHECKING:  # imported where uv is downloaded (BP_UV_VERSION), not on every build
    import ssl

# 1980-01-01, the lifecycle's own timestamp for image layers: used when the user sets none.
DEFAULT_SOURCE_DATE_EPOCH = "315532800"
LABELS = {
    "arch": "architecture",
    "distro": "distribution",
    "python": "Python version",
    "uv": "uv version",
    "manager": "package manager",
    "inputs": "dependency files",
    "buildpack": "buildpack version",
}


@dataclass
class Context:
    app_dir: Path
    layers_dir: Path
    platform_dir: Path
    buildpack_dir: Path
    env: dict[str, str]
    target: Target
    today: datetime.date
    log: Logger = field(default_factory=Logger)
    runner: uv.Runner = uv.run_streaming
    # Builds the index fetcher once the CA bundle (a binding) is known.
    fetcher: Callable[[ssl.SSLContext | None], Callable[[str, str], bytes]] = uv.fetch_url

    @property
    def distro(self) -> str:
        return f"{self.target.distro_name}-{self.target.distro_version}"

    @functools.cached_property
    def buildpack_version(self) -> str:
        """This buildpack's version and a digest of its code: part of every launch layer's key. A
        kept layer is never re-opened, so any change to how the buildpack lays layers out (env
        files, stripping, ...) must rebuild them, bumped version or not."""
        manifest = self.buildpack_dir / "buildpack.toml"
        try:
            version = tomllib.loads(manifest.read_text(encoding="utf-8"))["buildpack"]["version"]
        except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
            raise RuntimeError(f"cannot read this buildpack's version from {manifest}: {exc}") from exc
        digest = hashlib.sha256()
        for path in sorted((self.buildpack_dir / "lib").rglob("*.py")):
            digest.update(path.relative_to(self.buildpack_dir).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
        return f"{version}+{digest.hexdigest()[:12]}"


def preflight(ctx: Context) -> tuple[Project, PythonRequest, bool]:
    """Every check that needs no download, so bad input fails in the first second."""
    check_forbidden(ctx.env)
    runtime_txt = ctx.app_dir / "runtime.txt"
    if runtime_txt.is_file():
        content = runtime_txt.read_text(encoding="utf-8", errors="replace").strip()
        raise BuildpackError("runtime_txt_present", content=repr(content))
    project = detect_project(ctx.app_dir)
    request, defaulted = resolve(ctx.app_dir, project.requires_python, ctx.today, allow_eol(ctx.env))
    collect(ctx.app_dir, project.scripts)  # a malformed Procfile fails now, not after the install
    return project, request, defaulted


def warn_python(ctx: Context, request: PythonRequest, defaulted: bool) -> None:
    """The warnings about the chosen Python: an unpinned default, an allowed end-of-life line."""
    if defaulted:
        ctx.log.warning("python_version_default", version=str(request))
    eol = end_of_life(request, ctx.today)
    if eol is not None:  # preflight let it through: the build env allows it
        ctx.log.warning("python_version_eol_allowed", version=str(request), minor=request.minor_str, eol=eol,
                        var=ALLOW_EOL_VAR, source=request.source,
                        supported=", ".join(f"{a}.{b}" for a, b in supported_minors(ctx.today)))


def remove_uv_bookkeeping(directory: Path) -> None:
    """uv's lock files (world-writable) and scratch dirs have no place in a launch layer."""
    for name in (".lock", ".temp", ".gitignore"):
        path = directory / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


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


def install_uv(ctx: Context, secrets_env: Mapping[str, str]) -> tuple[Path, str]:
    source = uv.choose(ctx.buildpack_dir, ctx.target.arch, ctx.env)
    layer = Layer(ctx.layers_dir, "uv", build=True, launch=False, cache=False)
    metadata = {"uv": source.version, "arch": ctx.target.arch}
    reuse_or_reset(layer, metadata, LABELS, ctx.log)
    binary = layer.path / "bin" / "uv"
    binary.parent.mkdir(parents=True, exist_ok=True)
    if source.binary is not None:
        ctx.log.step(f"Using the vendored uv {source.version}")
        binary.symlink_to(source.binary)  # the buildpack dir outlives the build; no 40 MB copy
    else:
        ctx.log.step(f"Fetching uv {source.version} from {source.index} (BP_UV_VERSION)")
        import ssl

        cafile = secrets_env.get("SSL_CERT_FILE")
        context = ssl.create_default_context(cafile=cafile) if cafile else None
        digest = uv.download(source, ctx.target.uv_arch, binary, ctx.fetcher(context))
        ctx.log.step(f"Verified sha256 {digest}")
    layer.write(metadata)
    return binary, source.version


def resolve_python(ctx: Context, uv_bin: Path, request: PythonRequest, env: Mapping[str, str]) -> str:
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


def python_layer(ctx: Context, uv_version: str, version: str) -> tuple[Layer, dict[str, str]]:
    """CPython, launch-only (build = false, cache = false, launch = true).

    The lifecycle restores only its metadata and SBOM, never its files: a rebuild that keeps it
    moves no byte of CPython (no cache restore, no re-export; the exporter points the new image at
    the previous image's layer). Its files are installed again only when the venv must be rebuilt.
    """
    layer = Layer(ctx.layers_dir, "python", build=False, launch=True, cache=False)
    metadata = {"python": version, "uv": uv_version, "arch": ctx.target.arch, "distro": ctx.distro,
                "buildpack": ctx.buildpack_version}
    return layer, metadata


def install_python(ctx: Context, layer: Layer, metadata: Mapping[str, str], uv_bin: Path, env: Mapping[str, str], reason: str) -> Path:
    """Installs CPython into the (empty) python layer; returns its interpreter."""
    version = metadata["python"]
    minor = ".".join(version.split(".")[:2])
    ctx.log.step(f"Installing CPython {version} into the python layer: {reason}")
    if layer.path.exists():
        shutil.rmtree(layer.path)
    layer.path.mkdir(parents=True)
    args = [str(uv_bin), "python", "install", version, "--install-dir", str(layer.path), "--no-bin"]
    result = ctx.runner(args, env, ctx.app_dir, True)
    if result.code != 0:
        raise uv.classify_python_failure(result, version, f"linux-{ctx.target.uv_arch}-gnu")
    remove_uv_bookkeeping(layer.path)
    strip_debug_info(ctx, layer.path, env)
    found = sorted(p for p in layer.path.glob(f"cpython-{version}-*/bin/python{minor}") if not p.parent.parent.is_symlink())
    if not found:
        raise BuildpackError("python_install_failed", version=version, detail=f"no python{minor} under {layer.path} after the install")
    return found[0]


def venv_layer(ctx: Context, project: Project, uv_version: str, version: str) -> tuple[Layer, dict[str, str]]:
    """The app's virtual environment, launch-only like the python layer (same reasons)."""
    layer = Layer(ctx.layers_dir, "venv", build=False, launch=True, cache=False)
    metadata = {
        "python": version, "uv": uv_version, "arch": ctx.target.arch, "distro": ctx.distro,
        "manager": project.manager.value, "inputs": project.digest(ctx.app_dir), "buildpack": ctx.buildpack_version,
    }
    return layer, metadata


def reuse_reason(layer: Layer, metadata: Mapping[str, str]) -> str | None:
    """Why the previous image's layer cannot be kept (None: it can, by metadata alone)."""
    reason = change_reason(layer.old_metadata(), metadata, LABELS)
    if reason is None and not layer.sbom.is_file():
        reason = "the previous image has no SBOM for it"
    if reason is None and layer.path.exists():
        # The lifecycle never restores a launch-only layer's files; files here would be exported as
        # the layer, so they are rebuilt rather than trusted.
        reason = "its files were restored from a cache"
    return reason


def uv_cache_layer(ctx: Context, uv_version: str) -> Layer:
    """uv's cache, cache-only: after `uv cache prune --ci` it holds just the wheels uv built from
    source distributions, the one thing slower to redo than to restore."""
    cache = Layer(ctx.layers_dir, "uv-cache", build=False, launch=False, cache=True)
    cache_meta = {"uv": uv_version, "arch": ctx.target.arch, "distro": ctx.distro}
    reuse_or_reset(cache, cache_meta, LABELS, ctx.log)
    cache.write(cache_meta)
    return cache


def install_dependencies(ctx: Context, project: Project, uv_bin: Path, python: Path, venv: Layer, cache: Layer, env: dict[str, str]) -> None:
    """Builds the venv layer from nothing with uv."""
    run_env = dict(env, UV_CACHE_DIR=str(cache.path), UV_PROJECT_ENVIRONMENT=str(venv.path), VIRTUAL_ENV=str(venv.path))
    if venv.path.exists():
        shutil.rmtree(venv.path)  # uv creates the environment itself
    uv_cmd = str(uv_bin)
    if project.manager is Manager.REQUIREMENTS:
        steps = [
            [uv_cmd, "venv", str(venv.path), "--python", str(python)],
            [uv_cmd, "pip", "install", "--requirements", "requirements.txt", *(["--require-hashes"] if project.hashed else []),
             "--compile-bytecode", "--python", str(venv.path / "bin" / "python")],
        ]
    else:
        locked = ["--locked"] if project.manager is Manager.UV_LOCKED else []
        steps = [[uv_cmd, "sync", *locked, "--no-dev", "--compile-bytecode", "--python", str(python)]]
    lock = ctx.app_dir / "uv.lock"
    had_lock = lock.exists()
    try:
        for args in steps:
            ctx.log.step("Running: " + " ".join(["uv", *args[1:]]))
            result = ctx.runner(args, run_env, ctx.app_dir, True)
            if result.code != 0:
                raise uv.classify_dependency_failure(result)
    finally:
        if not had_lock and lock.exists():
            lock.unlink()  # resolved for this build only: the app is not modified
    ctx.runner([uv_cmd, "cache", "prune", "--ci", "--quiet"], run_env, ctx.app_dir, True)
    remove_uv_bookkeeping(venv.path)
    # `bin/` of the layer is put on PATH by the launcher; the rest is the launch environment.
    venv.env("VIRTUAL_ENV", str(venv.path), "override")
    venv.env("LANG", "C.UTF-8", "default")
    venv.env("PYTHONUNBUFFERED", "1", "default", scope="env.launch")
    # The run user cannot write the app or the layers, and the bytecode is already compiled.
    venv.env("PYTHONDONTWRITEBYTECODE", "1", "default", scope="env.launch")


def install_runtime(ctx: Context, project: Project, uv_bin: Path, uv_version: str, version: str, py_env: Mapping[str, str], env: dict[str, str]) -> None:
    """The python and venv launch layers: kept from the previous image when their keys match,
    else installed (CPython too whenever the venv is rebuilt: uv needs the interpreter)."""
    cache = uv_cache_layer(ctx, uv_version)
    python, python_meta = python_layer(ctx, uv_version, version)
    venv, venv_meta = venv_layer(ctx, project, uv_version, version)
    venv_reason = reuse_reason(venv, venv_meta)
    python_reason = reuse_reason(python, python_meta)
    if venv_reason is None and python_reason is None:
        for layer, metadata in ((python, python_meta), (venv, venv_meta)):
            ctx.log.step(f"Keeping the {layer.name} layer of the previous image (same {', '.join(LABELS.get(k, k) for k in metadata)})")
            layer.write(metadata)
        if not project.pinned:
            ctx.log.warning("unpinned_venv_kept", file=project.inputs[0])
        return
    if python_reason is None:
        python_reason = "the venv is rebuilt and needs it (the previous image's layer is not restored)"
    interpreter = install_python(ctx, python, python_meta, uv_bin, py_env, python_reason)
    python.write(python_meta)
    sbom.write(ctx.layers_dir, python.name, sbom.python_sbom(version))
    ctx.log.step(f"Building the venv layer: {venv_reason or 'CPython was reinstalled'}")
    if not project.pinned:
        file = project.inputs[0]
        ctx.log.step(f"{file} does not pin every dependency: resolving them now; later builds keep this venv, "
                     f"unpinned versions included, until {file} changes")
    install_dependencies(ctx, project, uv_bin, interpreter, venv, cache, env)
    venv.write(venv_meta)
    document = sbom.venv_sbom(venv.path, project.pyproject.get("project", {}).get("name", ctx.app_dir.name))
    sbom.write(ctx.layers_dir, venv.name, document)
    ctx.log.step(f"SBOM: {len(document['components'])} packages in the venv layer")


def write_processes(ctx: Context, project: Project) -> None:
    processes = collect(ctx.app_dir, project.scripts)
    launch = ctx.layers_dir / "launch.toml"
    if not processes:
        ctx.log.warning("no_processes")
        launch.unlink(missing_ok=True)
        return
    for process in processes:
        ctx.log.step(f"{process.type}{' (default)' if process.default else ''}: {' '.join(process.command)}")
    if not any(p.default for p in processes):
        ctx.log.warning("no_default_process", types=", ".join(p.type for p in processes))
    launch.write_text(tomlw.dumps({"processes": [p.to_toml() for p in processes]}), encoding="utf-8")


def lock(ctx: Context) -> None:
    """No group or other write permission on the app or the launch layers built now (a kept
    layer's files are not here: they were locked when they were built)."""
    roots = [ctx.app_dir] + [p for p in (ctx.layers_dir / "python", ctx.layers_dir / "venv") if p.is_dir()]
    changed = sum(drop_shared_write(root) for root in roots)
    ctx.log.step(f"Removed group and other write permission from {changed} paths"
                 if changed else "Nothing was writable by group or others")


def run(ctx: Context) -> None:
    log = ctx.log
    log.header("luban/python-uv")
    with log.section("Checking the app"):
        project, request, defaulted = preflight(ctx)
        log.step(f"Package manager: uv with {project.manager.value}")
        log.step(f"Python {request} requested by {request.source}")
        warn_python(ctx, request, defaulted)
        if (ctx.app_dir / ".venv").exists():
            log.warning("venv_committed")
    with Secrets(find_bindings(ctx.platform_dir, ctx.env)) as secrets:
        for note in secrets.notes:
            log.step(note[0].upper() + note[1:])
        env = dict(ctx.env)
        env.update(secrets.env)
        env.setdefault("SOURCE_DATE_EPOCH", DEFAULT_SOURCE_DATE_EPOCH)
        # Unchecked-hash pycs: identical bytes on every build, never rewritten at run time.
        env["PYC_INVALIDATION_MODE"] = "UNCHECKED_HASH"
        env["UV_NO_PROGRESS"] = "1"
        # uv runs the app's CPython during the build; implicit stdlib pycs written then would land
        # in the Python layer, and marshal output is not byte-stable: two fresh builds would differ.
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        with log.section("Installing uv"):
            uv_bin, uv_version = install_uv(ctx, secrets.env)
        with log.section("Installing Python and the dependencies"):
            py_env = dict(env, UV_CACHE_DIR=str(ctx.layers_dir / "uv-cache"))
            version = resolve_python(ctx, uv_bin, request, py_env)
            if project.manager is Manager.UV_UNLOCKED:
                ctx.log.warning("unlocked_dependencies")
            dep_env = dict(env, UV_PYTHON_DOWNLOADS="never")
            install_runtime(ctx, project, uv_bin, uv_version, version, py_env, dep_env)
    with log.section("Writing the processes"):
        write_processes(ctx, project)
    with log.section("Making the app and its layers read-only for the run user"):
        lock(ctx)
