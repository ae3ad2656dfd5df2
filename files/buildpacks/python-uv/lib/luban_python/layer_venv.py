"""The venv layer (launch only, like the python layer): the app's virtual environment, built by uv
from nothing whenever its key changes, and the environment the app is launched with."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from . import layer_uv_cache, sbom, uv
from .context import Context
from .layers import Layer, remove_uv_bookkeeping
from .package_manager import Manager, Project

NAME = "venv"


def layer(ctx: Context) -> Layer:
    return Layer(ctx.layers_dir, NAME, build=False, launch=True, cache=False)


def key(ctx: Context, project: Project, uv_version: str, version: str) -> dict[str, str]:
    return {
        "python": version, "uv": uv_version, "arch": ctx.target.arch, "distro": ctx.distro,
        "manager": project.manager.value, "inputs": project.digest(ctx.app_dir), "buildpack": ctx.buildpack_version,
    }


def _commands(project: Project, uv_bin: Path, python: Path, venv: Layer) -> list[list[str]]:
    """The uv commands that install the app's dependencies into the venv."""
    uv_cmd = str(uv_bin)
    if project.manager is Manager.REQUIREMENTS:
        return [
            [uv_cmd, "venv", str(venv.path), "--python", str(python)],
            [uv_cmd, "pip", "install", "--requirements", "requirements.txt", *(["--require-hashes"] if project.hashed else []),
             "--python", str(venv.path / "bin" / "python")],
        ]
    locked = ["--locked"] if project.manager is Manager.UV_LOCKED else []
    return [[uv_cmd, "sync", *locked, "--no-dev", "--python", str(python)]]


def compile_bytecode(ctx: Context, venv: Layer) -> None:
    """Compiles the venv's bytecode reproducibly: one process, files in sorted order, a fixed hash
    seed, hash-based .pyc files that are never re-checked. uv's --compile-bytecode spreads the
    files over worker processes as they free up, and marshal's output depends on what the process
    compiled before (shared objects are written as references), so two builds of the same lock
    could differ in a .pyc under load."""
    args = [str(venv.path / "bin" / "python"), "-m", "compileall", "-q", "-q", "--invalidation-mode", "unchecked-hash",
            str(venv.path / "lib")]
    # PYTHONDONTWRITEBYTECODE: compileall still writes the venv's .pyc files, but the standard
    # library modules it imports leave none behind in the python layer (with their sources'
    # extraction times in them, they made that layer differ between two builds).
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0", "PYTHONNOUSERSITE": "1",
           "PYTHONDONTWRITEBYTECODE": "1"}
    ctx.log.step("Compiling the venv's bytecode (one process, fixed hash seed: reproducible)")
    # Like uv's --compile-bytecode, a file that does not compile (a template or a Python 2
    # leftover in a package) is left as it is: it never compiled, so nothing imports it.
    # From the venv, not the app: the working directory is first on sys.path, and an app file
    # named like a module compileall imports must not stand in for it.
    ctx.runner(args, env, venv.path, False)


def _launch_env(venv: Layer) -> None:
    # `bin/` of the layer is put on PATH by the launcher; the rest is the launch environment.
    venv.env("VIRTUAL_ENV", str(venv.path), "override")
    venv.env("LANG", "C.UTF-8", "default")
    venv.env("PYTHONUNBUFFERED", "1", "default", scope="env.launch")
    # The run user cannot write the app or the layers, and the bytecode is already compiled.
    venv.env("PYTHONDONTWRITEBYTECODE", "1", "default", scope="env.launch")


def install(ctx: Context, project: Project, venv: Layer, metadata: Mapping[str, str], uv_bin: Path, python: Path,
            env: Mapping[str, str]) -> None:
    """Builds the venv layer from nothing with uv on the given interpreter, declares it and writes
    its SBOM."""
    run_env = dict(layer_uv_cache.env(ctx, env), UV_PROJECT_ENVIRONMENT=str(venv.path), VIRTUAL_ENV=str(venv.path))
    if venv.path.exists():
        shutil.rmtree(venv.path)  # uv creates the environment itself
    lock = ctx.app_dir / "uv.lock"
    had_lock = lock.exists()
    try:
        for args in _commands(project, uv_bin, python, venv):
            ctx.log.step("Running: " + " ".join(["uv", *args[1:]]))
            result = ctx.runner(args, run_env, ctx.app_dir, True)
            if result.code != 0:
                raise uv.classify_dependency_failure(result)
    finally:
        if not had_lock and lock.exists():
            lock.unlink()  # resolved for this build only: the app is not modified
    compile_bytecode(ctx, venv)
    ctx.runner([str(uv_bin), "cache", "prune", "--ci", "--quiet"], run_env, ctx.app_dir, True)
    remove_uv_bookkeeping(venv.path)
    _launch_env(venv)
    venv.write(metadata)
    document = sbom.venv_sbom(venv.path, project.pyproject.get("project", {}).get("name", ctx.app_dir.name))
    sbom.write(ctx.layers_dir, venv.name, document)
    ctx.log.step(f"SBOM: {len(document['components'])} packages in the venv layer")
