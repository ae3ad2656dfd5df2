"""What every step of a build sees: the CNB directories, the build env, the target, the collaborators."""

from __future__ import annotations

import datetime
import functools
import hashlib
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import uv
from .env import Target
from .log import Logger

if TYPE_CHECKING:  # imported where uv is downloaded (BP_UV_VERSION), not on every build
    import ssl


@dataclass
class Context:
    app_dir: Path
    layers_dir: Path
    platform_dir: Path
    buildpack_dir: Path
    env: dict[str, str]
    target: Target
    today: datetime.date
    log: Logger = field(default_factory=Logger)
    runner: uv.Runner = uv.run_streaming
    # Builds the index fetcher once the CA bundle (a binding) is known.
    fetcher: Callable[[ssl.SSLContext | None], Callable[[str, str], bytes]] = uv.fetch_url

    def start(self, args: list[str], env: Mapping[str, str], cwd: Path) -> uv.Started | uv.Finished:
        """Starts a command that runs while the build goes on; ``wait()`` gives its Result, its
        output kept rather than shown. A runner other than the real one (a stand-in) runs it at once."""
        if self.runner is uv.run_streaming:
            return uv.Started(args, env, cwd)
        return uv.Finished(self.runner(args, env, cwd, False))

    @property
    def distro(self) -> str:
        return f"{self.target.distro_name}-{self.target.distro_version}"

    @functools.cached_property
    def buildpack_version(self) -> str:
        """This buildpack's version and a digest of its code: part of every launch layer's key. A
        kept layer is never re-opened, so any change to how the buildpack lays layers out (env
        files, stripping, ...) must rebuild them, bumped version or not."""
        manifest = self.buildpack_dir / "buildpack.toml"
        try:
            version = tomllib.loads(manifest.read_text(encoding="utf-8"))["buildpack"]["version"]
        except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
            raise RuntimeError(f"cannot read this buildpack's version from {manifest}: {exc}") from exc
        digest = hashlib.sha256()
        for path in sorted((self.buildpack_dir / "lib").rglob("*.py")):
            digest.update(path.relative_to(self.buildpack_dir).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
        return f"{version}+{digest.hexdigest()[:12]}"
