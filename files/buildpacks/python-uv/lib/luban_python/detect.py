"""bin/detect: pass on any sign of a Python app, so that build can explain what is missing."""

from __future__ import annotations

from pathlib import Path

# Any of these means "this is a Python app"; build then checks the details.
SIGNS = (
    "pyproject.toml", "uv.lock", "requirements.txt", ".python-version", "setup.py", "setup.cfg",
    "Pipfile", "Pipfile.lock", "poetry.lock", "runtime.txt", "main.py", "app.py", "manage.py",
)

DETECT_PASS = 0
DETECT_FAIL = 100


def detect(app_dir: Path) -> list[str]:
    """The signs of a Python app found in ``app_dir`` (empty: not a Python app)."""
    return [name for name in SIGNS if (app_dir / name).exists()]


def plan() -> dict:
    """The build plan: this buildpack both provides and requires `python`."""
    return {"provides": [{"name": "python"}], "requires": [{"name": "python"}]}
