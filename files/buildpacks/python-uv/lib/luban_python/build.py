"""bin/build: wires the concerns together; each step lives in its own module."""

from __future__ import annotations

import datetime
import json
import shutil
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from . import sbom, uv
from .bindings import Secrets, find_bindings
from .env import Target, check_forbidden
from .errors import BuildpackError
from .layers import Layer, reuse_or_reset
from .log import Logger
from .package_manager import Manager, Project, detect_project
from .processes import collect
from .python_version import PythonRequest, resolve

try:
    from . import tomlw
except ImportError:
    import tomlw  # type: ignore[no-redef]

# 1980-01-01, the lifecycle's own timestamp for image layers: used when the user sets none.
DEFAULT_SOURCE_DATE_EPOCH = "315532800"
LABELS = {
    "arch": "architecture",
    "distro": "distribution",
    "python": "Python version",
    "uv": "uv version",
    "manager": "package manager",
    "inputs": "dependency files",
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


def preflight(ctx: Context) -> tuple[Project, PythonRequest, bool]:
    """Every check that needs no download, so bad input fails in the first second."""
    check_forbidden(ctx.env)
    runtime_txt = ctx.app_dir / "runtime.txt"
    if runtime_txt.is_file():
        content = runtime_txt.read_text(encoding="utf-8", errors="replace").strip()
        raise BuildpackError("runtime_txt_present", content=repr(content))
    project = detect_project(ctx.app_dir)
    request, defaulted = resolve(ctx.app_dir, project.requires_python, ctx.today)
    collect(ctx.app_dir, project.scripts)  # a malformed Procfile fails now, not after the install
    return project, request, defaulted


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

    Unstripped builds (pyenv-built mirrors, python-build-standalone's default archives) carry tens of
    MB of debug information no app uses at run time; the lifecycle restores the python layer from the
    cache on every build and exports it into every image, so its size is build time and image size.
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
        shutil.copy2(source.binary, binary)
    else:
        ctx.log.step(f"Fetching uv {source.version} from {source.index} (BP_UV_VERSION)")
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


def install_python(ctx: Context, uv_bin: Path, uv_version: str, version: str, env: Mapping[str, str]) -> Path:
    layer = Layer(ctx.layers_dir, "python", build=True, launch=True, cache=True)
    metadata = {"python": version, "uv": uv_version, "arch": ctx.target.arch, "distro": ctx.distro}
    minor = ".".join(version.split(".")[:2])
    if not reuse_or_reset(layer, metadata, LABELS, ctx.log):
        ctx.log.step(f"Installing CPython {version} with uv")
        args = [str(uv_bin), "python", "install", version, "--install-dir", str(layer.path), "--no-bin"]
        result = ctx.runner(args, env, ctx.app_dir, True)
        if result.code != 0:
            raise uv.classify_python_failure(result, version, f"linux-{ctx.target.uv_arch}-gnu")
        remove_uv_bookkeeping(layer.path)
        strip_debug_info(ctx, layer.path, env)
    found = sorted(p for p in layer.path.glob(f"cpython-{version}-*/bin/python{minor}") if not p.parent.parent.is_symlink())
    if not found:
        raise BuildpackError("python_install_failed", version=version, detail=f"no python{minor} under {layer.path} after the install")
    layer.write(metadata)
    sbom.write(ctx.layers_dir, layer.name, sbom.python_sbom(version))
    return found[0]


def install_dependencies(ctx: Context, project: Project, uv_bin: Path, uv_version: str, python: Path, version: str, env: dict[str, str]) -> Layer:
    venv = Layer(ctx.layers_dir, "venv", build=True, launch=True, cache=True)
    cache = Layer(ctx.layers_dir, "uv-cache", build=False, launch=False, cache=True)
    cache_meta = {"uv": uv_version, "arch": ctx.target.arch, "distro": ctx.distro}
    reuse_or_reset(cache, cache_meta, LABELS, ctx.log)
    cache.write(cache_meta)
    metadata = {
        "python": version, "uv": uv_version, "arch": ctx.target.arch, "distro": ctx.distro,
        "manager": project.manager.value, "inputs": project.digest(ctx.app_dir),
    }
    run_env = dict(env, UV_CACHE_DIR=str(cache.path), UV_PROJECT_ENVIRONMENT=str(venv.path), VIRTUAL_ENV=str(venv.path))
    if project.manager is Manager.UV_UNLOCKED:
        ctx.log.warning("unlocked_dependencies")
    if not reuse_or_reset(venv, metadata, LABELS, ctx.log):
        venv.path.rmdir()  # uv creates the environment itself
        uv_cmd = str(uv_bin)
        if project.manager is Manager.REQUIREMENTS:
            steps = [
                [uv_cmd, "venv", str(venv.path), "--python", str(python)],
                [uv_cmd, "pip", "install", "--requirements", "requirements.txt", "--compile-bytecode", "--python", str(venv.path / "bin" / "python")],
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
    venv.write(metadata)
    # `bin/` of the layer is put on PATH by the lifecycle; the rest is our launch environment.
    venv.env("VIRTUAL_ENV", str(venv.path), "override")
    venv.env("LANG", "C.UTF-8", "default")
    venv.env("PYTHONUNBUFFERED", "1", "default", scope="env.launch")
    # The run user cannot write the app or the layers, and the bytecode is already compiled.
    venv.env("PYTHONDONTWRITEBYTECODE", "1", "default", scope="env.launch")
    return venv


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


def run(ctx: Context) -> None:
    log = ctx.log
    log.header("luban/python-uv")
    with log.section("Checking the app"):
        project, request, defaulted = preflight(ctx)
        log.step(f"Package manager: uv with {project.manager.value}")
        log.step(f"Python {request} requested by {request.source}")
        if defaulted:
            log.warning("python_version_default", version=str(request))
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
        with log.section("Installing Python"):
            py_env = dict(env, UV_CACHE_DIR=str(ctx.layers_dir / "uv-cache"))
            version = resolve_python(ctx, uv_bin, request, py_env)
            python = install_python(ctx, uv_bin, uv_version, version, py_env)
        env["UV_PYTHON_DOWNLOADS"] = "never"
        with log.section("Installing dependencies"):
            venv = install_dependencies(ctx, project, uv_bin, uv_version, python, version, env)
    with log.section("Writing the SBOM and processes"):
        document = sbom.venv_sbom(venv.path, project.pyproject.get("project", {}).get("name", ctx.app_dir.name))
        sbom.write(ctx.layers_dir, venv.name, document)
        log.step(f"SBOM: {len(document['components'])} packages in the venv layer")
        write_processes(ctx, project)
