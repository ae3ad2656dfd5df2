"""The venv layer (launch only, like the python layer): the app's virtual environment, built by uv
whenever its key changes, and the environment the app is launched with.

A uv.lock project's venv is also kept as a cache layer, ``venv-snapshot``: one uncompressed tar
archive of it, made by the build image's tar. When only the lock changed, the next build unpacks
it and starts from it: ``uv sync`` installs and removes just what the lock changed, and only the
distributions it installed are compiled again (see ``bytecode``). The result is byte for byte the
venv a build from nothing gives; the contract tests check it. One file rather than the venv's
thousand: the lifecycle restores every cache layer before every build, and a code change, which
never opens the snapshot, pays for one file's restore instead of a whole tree's.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from . import layer_uv_cache, sbom, uv
from .context import Context
from .layers import LABELS, Layer, change_reason, remove_uv_bookkeeping
from .package_manager import Manager, Project

NAME = "venv"
SNAPSHOT = "venv-snapshot"
ARCHIVE = "venv.tar"
BYTECODE = Path(__file__).with_name("bytecode.py")


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


def compile_bytecode(ctx: Context, venv: Layer, only: list[str] | None = None) -> uv.Started | uv.Finished:
    """Starts compiling the venv's bytecode reproducibly (``bytecode``: a fixed hash seed, hash-based
    .pyc files that are never re-checked, each distribution's files in fixed batches, each batch in
    order in a child forked from one parent state): all of it, or only the distributions named in
    ``only``. The build goes on meanwhile; ``bytecode_compiled`` waits for it."""
    args = [str(venv.path / "bin" / "python"), "-c", BYTECODE.read_text(encoding="utf-8"), str(venv.path)]
    args += ["--all"] if only is None else ["--only", *only]
    # PYTHONDONTWRITEBYTECODE: the venv's .pyc files are written all the same, but the standard
    # library modules the compilation imports leave none behind in the python layer (with their
    # sources' extraction times in them, they made that layer differ between two builds).
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0", "PYTHONNOUSERSITE": "1",
           "PYTHONDONTWRITEBYTECODE": "1"}
    what = "every distribution" if only is None else (
        f"the {len(only)} distribution(s) uv installed now" + (f": {', '.join(only)}" if only else ""))
    ctx.log.step(f"Compiling the venv's bytecode ({what}; reproducible)")
    # From the venv, not the app: the working directory is first on sys.path, and an app file
    # named like a module the compilation imports must not stand in for it.
    return ctx.start(args, env, venv.path)


def bytecode_compiled(compiling: uv.Started | uv.Finished) -> None:
    result = compiling.wait()
    if result.code != 0:
        raise RuntimeError(f"compiling the venv's bytecode failed: {result.output.strip()}")


def distributions(venv: Path) -> dict[str, bytes]:
    """Each installed distribution (its ``*.dist-info`` directory) with its RECORD."""
    found = {}
    for record in sorted(venv.glob("lib/python*/site-packages/*.dist-info/RECORD")):
        found[record.parent.name] = record.read_bytes()
    return found


def remove_leftovers(venv: Path) -> None:
    """Removes the .pyc files whose source is gone, then each directory that this left empty and
    its parents that became empty: what uninstalling a distribution leaves behind (its .pyc files
    are not in its RECORD). Any other directory, empty or not, stays. Done on every build, so a venv
    updated in place and one built from nothing have the same tree."""
    lib = venv / "lib"
    kept = {lib, *lib.glob("python*"), *lib.glob("python*/site-packages")}
    emptied = set()
    for cache in sorted(lib.rglob("__pycache__")):
        for pyc in cache.glob("*.pyc"):
            if not (cache.parent / (pyc.name.split(".", 1)[0] + ".py")).exists():
                pyc.unlink()
                emptied.add(cache)
    for directory in sorted(emptied, key=lambda p: len(p.parts), reverse=True):
        while directory not in kept and directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
            directory = directory.parent


def _launch_env(venv: Layer) -> None:
    # `bin/` of the layer is put on PATH by the launcher; the rest is the launch environment.
    venv.env("VIRTUAL_ENV", str(venv.path), "override")
    venv.env("LANG", "C.UTF-8", "default")
    venv.env("PYTHONUNBUFFERED", "1", "default", scope="env.launch")
    # The run user cannot write the app or the layers, and the bytecode is already compiled.
    venv.env("PYTHONDONTWRITEBYTECODE", "1", "default", scope="env.launch")


def snapshot_layer(ctx: Context) -> Layer:
    return Layer(ctx.layers_dir, SNAPSHOT, build=False, launch=False, cache=True)


def snapshot_reason(ctx: Context, project: Project, metadata: Mapping[str, str]) -> str | None:
    """Why the cached venv of an earlier build cannot be updated into this one (None: it can)."""
    if project.manager is not Manager.UV_LOCKED:
        return "only a uv.lock project's venv is updated in place"
    snapshot = snapshot_layer(ctx)
    old = snapshot.old_metadata()
    if old is None or not (snapshot.path / ARCHIVE).is_file():
        return "no venv of an earlier build is cached"
    reason = change_reason({k: v for k, v in old.items() if k != "inputs"},
                           {k: v for k, v in metadata.items() if k != "inputs"}, LABELS)
    return None if reason is None else "the cached venv of an earlier build has another " + reason


def drop_snapshot(ctx: Context) -> None:
    snapshot = snapshot_layer(ctx)
    if snapshot.path.exists():
        shutil.rmtree(snapshot.path)
    snapshot.toml.unlink(missing_ok=True)


def keep_snapshot(ctx: Context, project: Project, metadata: Mapping[str, str]) -> None:
    """The venv layer is kept: the snapshot goes on to the next build when it still fits."""
    if snapshot_reason(ctx, project, metadata) is None:
        snapshot = snapshot_layer(ctx)
        snapshot.write(snapshot.old_metadata() or {})
    else:
        drop_snapshot(ctx)


def _tar(*args: str) -> str | None:
    """Runs the build image's tar; None when it succeeded, else what went wrong."""
    tar = shutil.which("tar")
    if tar is None:
        return "the build image has no tar"
    result = subprocess.run(["tar", *args], executable=tar, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            errors="replace", check=False)
    return None if result.returncode == 0 else ("; ".join(result.stderr.split("\n")[:2]).strip("; ")
                                                or f"tar exited with {result.returncode}")


def _save_snapshot(ctx: Context, project: Project, venv: Layer, metadata: Mapping[str, str]) -> None:
    """The finished venv (before its launch env is written), archived as the cache layer the next
    lock change starts from. A venv that cannot be archived is simply not kept."""
    drop_snapshot(ctx)
    if project.manager is Manager.UV_LOCKED:
        snapshot = snapshot_layer(ctx)
        snapshot.path.mkdir(parents=True)
        problem = _tar("--create", "--file", str(snapshot.path / ARCHIVE), "--directory", str(venv.path), ".")
        if problem is None:
            snapshot.write(metadata)
        else:
            drop_snapshot(ctx)
            ctx.log.step(f"The venv is not kept for the next lock change: archiving it failed ({problem})")


def _unpack_snapshot(ctx: Context, venv: Layer) -> str | None:
    """The cached venv unpacked at the venv layer's path (modes and times as archived); None when
    it was, else what went wrong (and nothing is left at that path)."""
    venv.path.mkdir(parents=True)
    problem = _tar("--extract", "--same-permissions", "--file", str(snapshot_layer(ctx).path / ARCHIVE),
                   "--directory", str(venv.path))
    if problem is not None:
        shutil.rmtree(venv.path)
    return problem


def install(ctx: Context, project: Project, venv: Layer, metadata: Mapping[str, str], uv_bin: Path, python: Path,
            env: Mapping[str, str]) -> None:
    """Builds the venv layer with uv on the given interpreter, from the snapshot of an earlier build
    when only the lock changed, else from nothing; declares it and writes its SBOM."""
    run_env = dict(layer_uv_cache.env(ctx, env), UV_PROJECT_ENVIRONMENT=str(venv.path), VIRTUAL_ENV=str(venv.path))
    if venv.path.exists():
        shutil.rmtree(venv.path)  # uv creates the environment itself
    reason = snapshot_reason(ctx, project, metadata)
    before: dict[str, bytes] | None = None
    if reason is None:
        problem = _unpack_snapshot(ctx, venv)
        reason = None if problem is None else f"the cached venv of an earlier build could not be unpacked ({problem})"
    if reason is None:
        old_inputs = (snapshot_layer(ctx).old_metadata() or {}).get("inputs", "")
        ctx.log.step(f"Updating the venv of an earlier build (dependency files {old_inputs[:12]}): "
                     "uv installs and removes only what the lock changed")
        before = distributions(venv.path)
    else:
        ctx.log.step(f"Creating the venv from nothing: {reason}")
    drop_snapshot(ctx)
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
    remove_leftovers(venv.path)
    after = distributions(venv.path)
    # While the bytecode compiles: the uv cache is pruned and the SBOM read (neither touches a .pyc).
    compiling = compile_bytecode(ctx, venv, None if before is None else sorted(n for n, r in after.items() if before.get(n) != r))
    try:
        ctx.runner([str(uv_bin), "cache", "prune", "--ci", "--quiet"], run_env, ctx.app_dir, True)
        document = sbom.venv_sbom(venv.path, project.pyproject.get("project", {}).get("name", ctx.app_dir.name))
    finally:
        bytecode_compiled(compiling)
    remove_uv_bookkeeping(venv.path)
    _save_snapshot(ctx, project, venv, metadata)
    _launch_env(venv)
    venv.write(metadata)
    sbom.write(ctx.layers_dir, venv.name, document)
    ctx.log.step(f"SBOM: {len(document['components'])} packages in the venv layer")
