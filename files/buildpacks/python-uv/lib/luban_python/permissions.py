"""The app and the launch layers are read-only for the image's run user.

The run user is another uid than the build user that owns these files, but shares its group
(CNB_GROUP_ID), and `pack build` hands the lifecycle the app directory with mode 0777 (a
Kubernetes volume with an fsGroup makes directories group-writable too). Whatever reaches the image
loses group and other write permission here, so the running app can neither change its files nor
add new ones next to them or in its layers.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import BuildpackError

SHARED_WRITE = stat.S_IWGRP | stat.S_IWOTH


def drop_shared_write(root: Path) -> int:
    """Removes group and other write permission under ``root`` (itself included); returns how many
    paths changed. Symbolic links are not followed and have no mode of their own."""
    changed = 0
    paths = [root]
    for directory, dirnames, filenames in os.walk(root, followlinks=False):
        paths.extend(Path(directory, name) for name in (*dirnames, *filenames))
    for path in paths:
        try:
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode) or not mode & SHARED_WRITE:
                continue
            os.chmod(path, stat.S_IMODE(mode) & ~SHARED_WRITE)
        except OSError as exc:
            raise BuildpackError("lock_failed", path=str(path), detail=exc.strerror or type(exc).__name__) from exc
        changed += 1
    return changed
