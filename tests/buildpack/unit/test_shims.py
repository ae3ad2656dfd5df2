"""bin/detect is POSIX sh; bin/build is a POSIX sh shim that finds a Python >= 3.11 from the build image and
starts the buildpack's package with it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from bp_helpers import BUILDPACK_SRC
from luban_python.errors import CATALOG


def packaged(tmp_path: Path) -> Path:
    """The source tree as the role ships it."""
    bp = tmp_path / "bp"
    shutil.copytree(BUILDPACK_SRC, bp)
    return bp


def test_shims_are_posix_sh() -> None:
    assert sorted(p.name for p in (BUILDPACK_SRC / "bin").iterdir()) == ["build", "detect"]
    for name in ("detect", "build"):
        path = BUILDPACK_SRC / "bin" / name
        assert path.read_text().startswith("#!/bin/sh\n")
        assert os.access(path, os.X_OK)
        if shutil.which("dash"):
            subprocess.run(["dash", "-n", str(path)], check=True)


def build_with_only(tmp_path: Path, programs: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """bin/build with a PATH of the shim's own tools (dirname, cat) plus the given sh scripts."""
    bp = packaged(tmp_path)
    path = tmp_path / "path"
    path.mkdir()
    for tool in ("dirname", "cat"):
        os.symlink(shutil.which(tool), path / tool)
    for name, script in programs.items():
        (path / name).write_text(script)
        (path / name).chmod(0o755)
    return subprocess.run(["/bin/sh", str(bp / "bin/build")], env={"PATH": str(path)}, capture_output=True, text=True, cwd=tmp_path, check=False)


def test_without_a_python_the_shim_prints_the_catalog_message(tmp_path: Path) -> None:
    result = build_with_only(tmp_path, {})
    assert result.returncode == 1
    message = CATALOG["no_python"]
    assert result.stderr == f"\n[Error: {message.title}]\n{message.text}\n"


def test_a_python3_older_than_3_11_is_passed_over(tmp_path: Path) -> None:
    result = build_with_only(tmp_path, {"python3": "#!/bin/sh\nexit 1\n"})  # answers the version check with "too old"
    assert result.returncode == 1
    assert result.stderr.startswith(f"\n[Error: {CATALOG['no_python'].title}]\n")


def test_bin_build_starts_the_package_with_the_app_dir_off_sys_path(tmp_path: Path) -> None:
    """The shim runs the build with the app as working directory, yet a module file in the app
    (json.py here) cannot replace the one the buildpack imports."""
    bp = packaged(tmp_path)
    app = tmp_path / "app"
    app.mkdir()
    (app / ".python-version").write_text("3.13\n")
    (app / "json.py").write_text("raise SystemExit('the app shadowed a module of the buildpack')\n")
    for name in ("layers", "platform"):
        (tmp_path / name).mkdir()
    python = Path(sys.executable)
    env = {"PATH": f"{python.parent}:/usr/bin:/bin", "CNB_LAYERS_DIR": str(tmp_path / "layers"),
           "CNB_PLATFORM_DIR": str(tmp_path / "platform"), "CNB_BUILDPACK_DIR": str(bp),
           "CNB_TARGET_OS": "linux", "CNB_TARGET_ARCH": "amd64", "PYTHONPATH": str(app)}
    result = subprocess.run([str(bp / "bin/build")], env=env, cwd=app, capture_output=True, text=True, check=False)
    message = CATALOG["no_package_manager"]
    assert (result.returncode, result.stderr) == (1, f"\n[Error: {message.title}]\n{message.text}\n\n")
    assert result.stdout == "\n## luban/python-uv\n\n- Checking the app\n"
    assert not list(bp.rglob("__pycache__"))
