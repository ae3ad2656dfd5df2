"""The app and its build env as `pack build` hands them to the lifecycle, laid out for the cluster build.

``DIR/app`` is a copy of the app directory holding what pack would put in the build container's
/workspace: every file and symbolic link (links are copied, never followed) that project.toml's
include/exclude keeps (luban_step.project), every directory that filter keeps even when empty,
and the parents of what is kept. pack walks every directory, so a file matched by include is kept
even when its directory is not. The checkout's git metadata is never copied: a ``.git`` at any
depth is left out whatever the patterns say, so it cannot reach the image (pack would copy it).

``DIR/platform/env/NAME`` holds the build env, one file per variable whose content is the value,
exactly what pack writes into the builder for ``[[io.buildpacks.build.env]]`` and ``--env``:
project.toml's entries, then the operator's (``--build-env``), which win, as ``--env`` does in pack.

The build template mounts DIR/app at /workspace and DIR/platform/env at /platform/env. A retried
step starts over: DIR may hold a previous preparation (only ``app`` and ``platform``), which is
replaced; anything else in DIR is refused.
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from luban_step.errors import StepError
from luban_step.project import BuildSettings

LAYOUT = frozenset({"app", "platform"})
GIT_DIR = ".git"


@dataclass(frozen=True)
class Prepared:
    kept: int
    dropped: int


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _clear(target: Path) -> None:
    if not target.exists():
        return
    if not target.is_dir() or target.is_symlink():
        raise StepError("prepare_dir_not_empty", path=target)
    entries = {entry.name for entry in target.iterdir()}
    if not entries <= LAYOUT:
        raise StepError("prepare_dir_not_empty", path=target)
    for name in entries:
        shutil.rmtree(target / name)


def copy_app(source: Path, dest: Path, settings: BuildSettings) -> Prepared:
    """Copy what pack would send of ``source`` into the new directory ``dest``."""
    kept = dropped = 0
    dest.mkdir(mode=0o755)
    for top, dirs, files, top_fd in os.fwalk(source, follow_symlinks=False):
        base = Path(top).relative_to(source)
        dirs.sort()
        for name in list(dirs):
            mode = os.stat(name, dir_fd=top_fd, follow_symlinks=False).st_mode
            if stat.S_ISLNK(mode):  # a link to a directory is a link: copied, never followed
                dirs.remove(name)
                files.append(name)
                continue
            if name == GIT_DIR:
                dirs.remove(name)
                dropped += 1
                continue
            relative = (base / name).as_posix()
            if settings.files.keeps(relative):
                (dest / relative).mkdir(mode=stat.S_IMODE(mode) | 0o700, parents=True, exist_ok=True)
        for name in sorted(files):
            relative = (base / name).as_posix()
            info = os.stat(name, dir_fd=top_fd, follow_symlinks=False)
            if name == GIT_DIR or not settings.files.keeps(relative):
                dropped += 1
                continue
            target = dest / relative
            target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            if stat.S_ISLNK(info.st_mode):
                os.symlink(os.readlink(name, dir_fd=top_fd), target)
            elif stat.S_ISREG(info.st_mode):
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=top_fd)
                with os.fdopen(fd, "rb") as src, open(target, "xb") as out:
                    shutil.copyfileobj(src, out)
                os.chmod(target, stat.S_IMODE(info.st_mode) | 0o600)
            else:
                continue  # sockets and devices are no app content (pack skips sockets too)
            kept += 1
    return Prepared(kept, dropped)


def write_env(env_dir: Path, env: dict[str, str]) -> None:
    env_dir.mkdir(mode=0o755, parents=True)
    for name, value in sorted(env.items()):
        (env_dir / name).write_text(value, encoding="utf-8")  # no newline: the value, exactly


def prepare(source: Path, target: Path, settings: BuildSettings, operator_env: dict[str, str]) -> Prepared:
    try:
        _clear(target)
        target.mkdir(mode=0o755, parents=True, exist_ok=True)
        prepared = copy_app(source, target / "app", settings)
        write_env(target / "platform" / "env", {**settings.env, **operator_env})
    except OSError as exc:
        raise StepError("prepare_failed", path=target, reason=_reason(exc)) from None
    return prepared
