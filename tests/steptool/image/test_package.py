"""The step tool as the buildpack builds it: uv-locked, installed with `uv sync --frozen`, run by name."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

STEPTOOL = ROOT / "files" / "steptool"


def _uv() -> str:
    return str(Path(sys.executable).with_name("uv"))


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.setdefault("UV_CACHE_DIR", str(Path.home() / ".cache" / "luban-ci" / "uv"))
    env.setdefault("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")
    env["UV_PYTHON_DOWNLOADS"] = "never"  # the test interpreter is the Python; nothing is downloaded
    env.update(extra)
    return env


def test_the_lockfile_matches_the_project() -> None:
    done = subprocess.run([_uv(), "lock", "--check", "--python", sys.executable, "--project", str(STEPTOOL)], capture_output=True, text=True,
                          env=_env(), check=False)
    assert done.returncode == 0, done.stderr


def test_the_assembled_image_source_installs_and_runs_detect_with_the_collection_code(tmp_path: Path) -> None:
    out = tmp_path / "out"
    subprocess.run(["make", "--no-print-directory", "-s", "steptool-src", "OUT=" + str(out)], cwd=ROOT, check=True,
                   capture_output=True)
    staged = out / "steptool"
    shared = ROOT / "plugins" / "module_utils" / "languages.py"
    assert (staged / "src/luban_step/_vendor/languages.py").read_bytes() == shared.read_bytes()
    venv = tmp_path / "venv"
    done = subprocess.run([_uv(), "sync", "--frozen", "--no-dev", "--no-editable", "--python", sys.executable,
                           "--project", str(staged)], capture_output=True, text=True, check=False,
                          env=_env(UV_PROJECT_ENVIRONMENT=str(venv)))
    assert done.returncode == 0, done.stderr
    tool = venv / "bin" / "luban-step"
    version = subprocess.run([str(tool), "--version"], capture_output=True, text=True, env=_env(), check=True)
    assert version.stdout == "luban-step 0.1.0\n"

    app = tmp_path / "app"
    app.mkdir()
    (app / "uv.lock").write_text("version = 1\n")
    registry = tmp_path / "registry.json"
    registry.write_text(json.dumps([{"name": "python", "detect": ["uv.lock"], "builder": "b:1",
                                     "template": "luban-build-python"}]))
    detect = subprocess.run([str(tool), "detect", "--source", str(app), "--registry", str(registry), "--outputs",
                             str(tmp_path / "o")], capture_output=True, text=True, env=_env(), cwd=tmp_path,
                            check=False)
    assert detect.returncode == 0, detect.stderr
    assert (tmp_path / "o" / "template").read_text() == "luban-build-python"
