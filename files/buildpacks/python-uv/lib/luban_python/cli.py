"""Entry point of bin/detect and bin/build: reads the CNB environment and runs a phase."""

from __future__ import annotations

import datetime
import os
import sys
import traceback
from pathlib import Path

from . import detect
from .env import merged_env, process_env, read_platform_env, target_from_env
from .errors import BuildpackError
from .log import Logger

try:
    from . import tomlw
except ImportError:
    import tomlw  # type: ignore[no-redef]


def _path(env: dict[str, str], name: str, argv: list[str], index: int) -> Path:
    """A CNB path from its env var (Buildpack API >= 0.8), else the older positional argument."""
    value = env.get(name) or (argv[index] if len(argv) > index else "")
    if not value:
        raise SystemExit(f"{name} is not set: bin/{argv[0]} must be run by a CNB lifecycle")
    return Path(value)


def run_detect(argv: list[str]) -> int:
    # Detect needs only the app (cwd) and the plan path; the platform dir matters to build.
    plan_path = _path(process_env(), "CNB_BUILD_PLAN_PATH", argv, 2)
    signs = detect.detect(Path.cwd())
    if not signs:
        print("No Python app files found (pyproject.toml, uv.lock, requirements.txt, .python-version, ...)")
        return detect.DETECT_FAIL
    plan_path.write_text(tomlw.dumps(detect.plan()), encoding="utf-8")
    print(f"Python app: found {', '.join(signs)}")
    return detect.DETECT_PASS


def run_build(argv: list[str]) -> int:
    from . import build  # only here: detect runs on every build and need not pay for its imports

    raw = process_env()
    layers_dir = _path(raw, "CNB_LAYERS_DIR", argv, 1)
    platform_dir = _path(raw, "CNB_PLATFORM_DIR", argv, 2)
    env = merged_env(raw, read_platform_env(platform_dir))
    buildpack_dir = Path(env.get("CNB_BUILDPACK_DIR") or Path(__file__).resolve().parents[2])
    log = Logger()
    ctx = build.Context(
        app_dir=Path.cwd(), layers_dir=layers_dir, platform_dir=platform_dir, buildpack_dir=buildpack_dir,
        env=env, target=target_from_env(env), today=datetime.date.today(), log=log,
    )
    try:
        build.run(ctx)
    except BuildpackError as error:
        log.error(error)
        return 1
    return 0


def main(argv: list[str]) -> int:
    phase = argv[0] if argv else ""
    try:
        if phase == "detect":
            return run_detect(argv)
        if phase == "build":
            return run_build(argv)
    except Exception:  # an unexpected failure: show everything, it is a buildpack bug
        traceback.print_exc()
        print("\n[Error: internal buildpack error]\nThe luban/python-uv buildpack failed unexpectedly; the traceback above "
              "shows where. Please report it with the build log.", file=sys.stderr)
        return 1
    print(f"usage: {os.path.basename(sys.argv[0])} detect|build", file=sys.stderr)
    return 2
