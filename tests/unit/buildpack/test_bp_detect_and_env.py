from __future__ import annotations

from pathlib import Path

import pytest
from bp_helpers import write_app
from luban_python import detect
from luban_python.env import merged_env, read_platform_env, target_from_env


@pytest.mark.parametrize("sign", ["pyproject.toml", "uv.lock", "requirements.txt", ".python-version", "runtime.txt", "Pipfile"])
def test_any_sign_of_python_passes_detect(tmp_path: Path, sign: str) -> None:
    assert detect.detect(write_app(tmp_path, {sign: ""})) == [sign]


def test_no_python_files_fails_detect(tmp_path: Path) -> None:
    assert detect.detect(write_app(tmp_path, {"package.json": "{}"})) == []
    assert detect.DETECT_FAIL == 100


def test_plan_provides_and_requires_python() -> None:
    assert detect.plan() == {"provides": [{"name": "python"}], "requires": [{"name": "python"}]}


def test_platform_env_files_override_the_process_env(tmp_path: Path) -> None:
    write_app(tmp_path / "env", {"UV_INDEX_URL": "https://idx/simple", "UV_PYTHON_INSTALL_MIRROR": "file:///m"})
    env = merged_env({"UV_INDEX_URL": "https://old", "HOME": "/h"}, read_platform_env(tmp_path))
    assert env == {"UV_INDEX_URL": "https://idx/simple", "UV_PYTHON_INSTALL_MIRROR": "file:///m", "HOME": "/h"}


def test_target_comes_from_cnb_target_variables() -> None:
    target = target_from_env({"CNB_TARGET_OS": "linux", "CNB_TARGET_ARCH": "arm64", "CNB_TARGET_DISTRO_NAME": "amzn", "CNB_TARGET_DISTRO_VERSION": "2023"})
    assert (target.os, target.arch, target.uv_arch, target.distro_name, target.distro_version) == ("linux", "arm64", "aarch64", "amzn", "2023")
