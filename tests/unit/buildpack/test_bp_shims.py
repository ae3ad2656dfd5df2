"""bin/detect and bin/build are POSIX sh shims that find a Python >= 3.11 from the build image."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from bp_helpers import BUILDPACK_SRC, REPO
from luban_python.errors import CATALOG


def packaged(tmp_path: Path) -> Path:
    """The source tree plus the vendored TOML writer, as the role assembles it."""
    bp = tmp_path / "bp"
    shutil.copytree(BUILDPACK_SRC, bp)
    shutil.copy(REPO / "plugins/module_utils/tomlw.py", bp / "lib/luban_python/tomlw.py")
    return bp


def test_shims_are_posix_sh() -> None:
    for name in ("detect", "build", "run"):
        path = BUILDPACK_SRC / "bin" / name
        assert path.read_text().startswith("#!/bin/sh\n")
        assert os.access(path, os.X_OK)
        if shutil.which("dash"):
            subprocess.run(["dash", "-n", str(path)], check=True)


def test_without_a_python_the_shim_prints_the_catalog_message(tmp_path: Path) -> None:
    bp = packaged(tmp_path)
    empty = tmp_path / "emptybin"
    empty.mkdir()
    for tool in ("dirname", "cat"):
        os.symlink(shutil.which(tool), empty / tool)
    result = subprocess.run(["/bin/sh", str(bp / "bin/detect")], env={"PATH": str(empty)}, capture_output=True, text=True, cwd=tmp_path, check=False)
    assert result.returncode == 1
    message = CATALOG["no_python"]
    assert result.stderr == f"\n[Error: {message.title}]\n{message.body}\n"


def test_detect_through_the_shim_writes_the_plan(tmp_path: Path) -> None:
    bp = packaged(tmp_path)
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text("idna\n")
    env = {"PATH": os.environ["PATH"], "CNB_PLATFORM_DIR": str(tmp_path), "CNB_BUILD_PLAN_PATH": str(tmp_path / "plan.toml")}
    result = subprocess.run([str(bp / "bin/detect")], env=env, capture_output=True, text=True, cwd=app, check=False)
    assert (result.returncode, result.stdout) == (0, "Python app: found requirements.txt\n")
    assert (tmp_path / "plan.toml").read_text() == '[[provides]]\nname = "python"\n\n[[requires]]\nname = "python"\n'
    (app / "requirements.txt").unlink()
    result = subprocess.run([str(bp / "bin/detect")], env=env, capture_output=True, text=True, cwd=app, check=False)
    assert result.returncode == 100
