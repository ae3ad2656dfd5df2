"""The build phase: checks the app, then installs the layers in order (uv, then CPython and the
venv on the uv cache), writes the processes and locks the app. Each layer's key, install and
environment live in its own module (layer_uv, layer_python, layer_venv, layer_uv_cache)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from . import layer_python, layer_uv, layer_uv_cache, layer_venv
from ._vendor import tomlw
from .bindings import Secrets, find_bindings
from .context import Context
from .env import check_forbidden
from .errors import BuildpackError
from .layers import LABELS, reuse_reason
from .package_manager import Manager, Project, detect_project
from .permissions import drop_shared_write
from .processes import collect
from .python_version import ALLOW_EOL_VAR, PythonRequest, allow_eol, end_of_life, resolve, supported_minors

# 1980-01-01, the lifecycle's own timestamp for image layers: used when the user sets none.
DEFAULT_SOURCE_DATE_EPOCH = "315532800"


def preflight(ctx: Context) -> tuple[Project, PythonRequest, bool]:
    """Every check that needs no download, so bad input fails in the first second."""
    check_forbidden(ctx.env)
    runtime_txt = ctx.app_dir / "runtime.txt"
    if runtime_txt.is_file():
        content = runtime_txt.read_text(encoding="utf-8", errors="replace").strip()
        raise BuildpackError("runtime_txt_present", content=content)
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


def install_runtime(ctx: Context, project: Project, uv_bin: Path, uv_version: str, version: str, py_env: Mapping[str, str], env: dict[str, str]) -> None:
    """The python and venv launch layers: kept from the previous image when their keys match,
    else installed. A venv is built on CPython, so CPython is installed whenever the venv is
    rebuilt; when its own key matches, its files are removed again and the layer is kept."""
    layer_uv_cache.prepare(ctx, uv_version)
    python = layer_python.layer(ctx)
    python_meta = layer_python.key(ctx, uv_version, version, layer_python.archive(ctx, version, py_env))
    venv, venv_meta = layer_venv.layer(ctx), layer_venv.key(ctx, project, uv_version, version)
    venv_reason = reuse_reason(venv, venv_meta)
    python_reason = reuse_reason(python, python_meta)
    if venv_reason is None and python_reason is None:
        for layer, metadata in ((python, python_meta), (venv, venv_meta)):
            ctx.log.step(f"Keeping the {layer.name} layer of the previous image (same {', '.join(LABELS.get(k, k) for k in metadata)})")
            layer.write(metadata)
        layer_venv.keep_snapshot(ctx, project, venv_meta)
        if not project.pinned:
            ctx.log.warning("unpinned_venv_kept", file=project.inputs[0])
        return
    keep_python = python_reason is None
    if keep_python:
        python_reason = "same " + ", ".join(LABELS.get(k, k) for k in python_meta)
    interpreter = layer_python.install(ctx, python, python_meta, uv_bin, py_env, python_reason or "", kept=keep_python)
    ctx.log.step(f"Building the venv layer: {venv_reason or 'CPython was reinstalled'}")
    if not project.pinned:
        file = project.inputs[0]
        ctx.log.step(f"{file} does not pin every dependency: resolving them now; later builds keep this venv, "
                     f"unpinned versions included, until {file} changes")
    layer_venv.install(ctx, project, venv, venv_meta, uv_bin, interpreter, env)
    if keep_python:
        layer_python.release(python, python_meta)


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
        ctx.log.warning("no_default_process", types=[p.type for p in processes])
    launch.write_text(tomlw.dumps({"processes": [p.to_toml() for p in processes]}), encoding="utf-8")


def lock(ctx: Context) -> None:
    """No group or other write permission on the app or the launch layers built now (a kept
    layer's files are not here: they were locked when they were built)."""
    roots = [ctx.app_dir] + [p for p in (layer_python.layer(ctx).path, layer_venv.layer(ctx).path) if p.is_dir()]
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
            uv_bin, uv_version = layer_uv.install(ctx, secrets.env)
        with log.section("Installing Python and the dependencies"):
            py_env = layer_uv_cache.env(ctx, env)
            version = layer_python.resolve(ctx, uv_bin, request, py_env)
            if project.manager is Manager.UV_UNLOCKED:
                ctx.log.warning("unlocked_dependencies")
            dep_env = dict(env, UV_PYTHON_DOWNLOADS="never")
            install_runtime(ctx, project, uv_bin, uv_version, version, py_env, dep_env)
    with log.section("Writing the processes"):
        write_processes(ctx, project)
    with log.section("Making the app and its layers read-only for the run user"):
        lock(ctx)
