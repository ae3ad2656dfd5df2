"""The app and the launch layers lose group and other write permission: the image's run user shares
the build user's group, and pack hands the app over as a 0777 directory."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from luban_python import build
from luban_python.errors import BuildpackError
from luban_python.permissions import drop_shared_write


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_directories_and_files_lose_group_and_other_write_permission_and_keep_the_rest(tmp_path: Path) -> None:
    app = tmp_path / "workspace"
    (app / "src" / "pkg").mkdir(parents=True)
    (app / "src" / "pkg" / "mod.py").write_text("x = 1\n")
    (app / "run.sh").write_text("#!/bin/sh\n")
    os.chmod(app, 0o777)  # what pack gives /workspace
    os.chmod(app / "src", 0o2775)  # a group-writable, setgid directory (a volume with an fsGroup)
    os.chmod(app / "src" / "pkg" / "mod.py", 0o666)
    os.chmod(app / "run.sh", 0o775)
    os.chmod(app / "src" / "pkg", 0o755)
    outside = tmp_path / "outside.txt"
    outside.write_text("not the app's\n")
    os.chmod(outside, 0o666)
    (app / "link").symlink_to(outside)
    assert drop_shared_write(app) == 4
    assert _mode(app) == 0o755
    assert _mode(app / "src") == 0o2755
    assert _mode(app / "src" / "pkg") == 0o755  # not writable by others: untouched
    assert _mode(app / "src" / "pkg" / "mod.py") == 0o644
    assert _mode(app / "run.sh") == 0o755
    assert _mode(outside) == 0o666  # links are not followed
    assert drop_shared_write(app) == 0  # a second pass finds nothing


def test_the_build_locks_the_app_and_the_layers_it_built(make_context, capsys) -> None:
    ctx = make_context({"requirements.txt": "idna==3.10\n"})
    venv = ctx.layers_dir / "venv" / "lib"
    venv.mkdir(parents=True)
    os.chmod(ctx.app_dir, 0o777)
    os.chmod(venv, 0o777)
    build.lock(ctx)
    assert _mode(ctx.app_dir) == 0o755 and _mode(venv) == 0o755
    assert "  - Removed group and other write permission from 2 paths" in capsys.readouterr().out
    build.lock(ctx)
    assert "  - Nothing was writable by group or others" in capsys.readouterr().out


def test_a_path_that_cannot_be_locked_fails_the_build(tmp_path: Path, monkeypatch) -> None:
    app = tmp_path / "workspace"
    app.mkdir()
    os.chmod(app, 0o777)

    def refuse(path, mode):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "chmod", refuse)
    with pytest.raises(BuildpackError) as raised:
        drop_shared_write(app)
    assert raised.value.key == "lock_failed"
    assert str(raised.value) == (
        f"'{app}' cannot be made read-only for the run user: Removing group and other write permission from '{app}' "
        "failed (Operation not permitted). The image's run user shares the build user's group, so a writable file "
        "or directory there would let the running app change or add code. Check that the app's files belong to "
        "the build user (CNB_USER_ID): pack and the luban-ci pipeline hand them over that way.")
