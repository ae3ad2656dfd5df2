"""bin/build starts the buildpack here: reads the CNB environment and runs the build phase
(bin/detect is sh)."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

from . import build
from .context import Context
from .env import merged_env, process_env, read_platform_env, target_from_env
from .errors import BuildpackError
from .log import Logger


def _path(env: dict[str, str], name: str, argv: list[str], index: int) -> Path:
    """A CNB path from its env var (Buildpack API >= 0.8), else the older positional argument."""
    value = env.get(name) or (argv[index] if len(argv) > index else "")
    if not value:
        raise SystemExit(f"{name} is not set: bin/build must be run by a CNB lifecycle")
    return Path(value)


def run_build(argv: list[str]) -> int:
    raw = process_env()
    layers_dir = _path(raw, "CNB_LAYERS_DIR", argv, 0)
    platform_dir = _path(raw, "CNB_PLATFORM_DIR", argv, 1)
    env = merged_env(raw, read_platform_env(platform_dir))
    buildpack_dir = Path(env.get("CNB_BUILDPACK_DIR") or Path(__file__).resolve().parents[2])
    log = Logger()
    ctx = Context(
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
    """The build phase with bin/build's arguments (the CNB positional ones, if any)."""
    try:
        return run_build(argv)
    except Exception:  # an unexpected failure: show everything, it is a buildpack bug
        import traceback

        traceback.print_exc()
        print("\n[Error: internal buildpack error]\nThe luban/python-uv buildpack failed unexpectedly; the traceback above "
              "shows where. Please report it with the build log.", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
