from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from bp_helpers import BUILDPACK_SRC, write_app
from luban_python.env import merged_env, read_platform_env, target_from_env

PLAN = '[[provides]]\nname = "python"\n\n[[requires]]\nname = "python"\n'


def detect(app: Path, plan: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """bin/detect (POSIX sh, no Python) as a lifecycle runs it: cwd = app."""
    app.mkdir(exist_ok=True)
    env = {"PATH": "/usr/bin:/bin", "CNB_BUILD_PLAN_PATH": str(plan)} if env is None else env
    return subprocess.run(["/bin/sh", str(BUILDPACK_SRC / "bin" / "detect"), *args], cwd=app, env=env,
                          capture_output=True, text=True, check=False)


@pytest.mark.parametrize("sign", ["pyproject.toml", "uv.lock", "requirements.txt", ".python-version", "runtime.txt", "Pipfile", "manage.py"])
def test_any_sign_of_python_passes_detect_and_writes_the_plan(tmp_path: Path, sign: str) -> None:
    result = detect(write_app(tmp_path / "app", {sign: ""}), tmp_path / "plan.toml")
    assert (result.returncode, result.stdout) == (0, f"Python app: found {sign}\n")
    assert (tmp_path / "plan.toml").read_text() == PLAN


def test_detect_names_every_sign_it_found(tmp_path: Path) -> None:
    result = detect(write_app(tmp_path / "app", {"pyproject.toml": "", "uv.lock": "", "app.py": ""}), tmp_path / "plan.toml")
    assert result.stdout == "Python app: found pyproject.toml, uv.lock, app.py\n"


def test_no_python_files_fails_detect_with_100_and_no_plan(tmp_path: Path) -> None:
    result = detect(write_app(tmp_path / "app", {"package.json": "{}"}), tmp_path / "plan.toml")
    assert result.returncode == 100
    assert result.stdout == "No Python app files found (pyproject.toml, uv.lock, requirements.txt, .python-version, ...)\n"
    assert not (tmp_path / "plan.toml").exists()


def test_detect_takes_the_plan_path_as_an_argument_from_older_lifecycles(tmp_path: Path) -> None:
    result = detect(write_app(tmp_path / "app", {"app.py": ""}), tmp_path / "unused", str(tmp_path / "platform"), str(tmp_path / "plan.toml"),
                    env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0 and (tmp_path / "plan.toml").read_text() == PLAN
    result = detect(tmp_path / "app", tmp_path / "unused", env={"PATH": "/usr/bin:/bin"})
    assert (result.returncode, result.stderr) == (1, "CNB_BUILD_PLAN_PATH is not set: bin/detect must be run by a CNB lifecycle\n")


def test_platform_env_files_override_the_process_env(tmp_path: Path) -> None:
    write_app(tmp_path / "env", {"UV_INDEX_URL": "https://idx/simple", "UV_PYTHON_INSTALL_MIRROR": "file:///m"})
    env = merged_env({"UV_INDEX_URL": "https://old", "HOME": "/h"}, read_platform_env(tmp_path))
    assert env == {"UV_INDEX_URL": "https://idx/simple", "UV_PYTHON_INSTALL_MIRROR": "file:///m", "HOME": "/h"}


def test_target_comes_from_cnb_target_variables() -> None:
    target = target_from_env({"CNB_TARGET_OS": "linux", "CNB_TARGET_ARCH": "arm64", "CNB_TARGET_DISTRO_NAME": "amzn", "CNB_TARGET_DISTRO_VERSION": "2023"})
    assert (target.os, target.arch, target.uv_arch, target.distro_name, target.distro_version) == ("linux", "arm64", "aarch64", "amzn", "2023")
