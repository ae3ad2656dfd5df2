"""Buildpack unit tests import the buildpack from its source tree (pytest.ini puts its lib on
sys.path), shared modules included: the tree carries them in luban_python/_vendor."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

import pytest

sys.dont_write_bytecode = True  # keep the source tree clean: the role copies it verbatim
REPO = Path(__file__).resolve().parents[2]
BUILDPACK_SRC = REPO / "files" / "buildpacks" / "python-uv"

from luban_python.context import Context  # noqa: E402
from luban_python.env import Target  # noqa: E402
from luban_python.log import Logger  # noqa: E402

TODAY = datetime.date(2026, 11, 24)


def write_app(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


@pytest.fixture
def make_context(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """A build Context over a temporary app, layers and platform dir."""

    def factory(files: dict[str, str | bytes], env: dict[str, str] | None = None, **kwargs) -> Context:
        app = write_app(tmp_path / "app", files) if files else (tmp_path / "app")
        app.mkdir(exist_ok=True)
        for name in ("layers", "platform"):
            (tmp_path / name).mkdir(exist_ok=True)
        return Context(
            app_dir=app,
            layers_dir=tmp_path / "layers",
            platform_dir=tmp_path / "platform",
            buildpack_dir=kwargs.pop("buildpack_dir", BUILDPACK_SRC),
            env=env or {},
            target=Target("linux", "amd64", "amzn", "2023"),
            today=TODAY,
            log=Logger(),
            **kwargs,
        )

    return factory
