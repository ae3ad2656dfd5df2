"""Layer bookkeeping per the Buildpack API: <layer>.toml types and metadata, env files, reuse."""

from __future__ import annotations

import shutil
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ._vendor import tomlw
from .log import Logger


@dataclass(frozen=True)
class Layer:
    layers_dir: Path
    name: str
    build: bool
    launch: bool
    cache: bool

    @property
    def path(self) -> Path:
        return self.layers_dir / self.name

    @property
    def toml(self) -> Path:
        return self.layers_dir / f"{self.name}.toml"

    @property
    def sbom(self) -> Path:
        """The layer's CycloneDX SBOM (restored with the metadata for launch-only layers)."""
        return self.layers_dir / f"{self.name}.sbom.cdx.json"

    def old_metadata(self) -> dict | None:
        """The metadata a previous build left (restored by the lifecycle), if any."""
        try:
            return tomllib.loads(self.toml.read_text(encoding="utf-8")).get("metadata", {})
        except (OSError, tomllib.TOMLDecodeError):
            return None

    def write(self, metadata: Mapping[str, object]) -> None:
        """Declare the layer's types and metadata; without this the lifecycle ignores the layer."""
        doc = {"types": {"build": self.build, "launch": self.launch, "cache": self.cache}, "metadata": dict(metadata)}
        self.toml.write_text(tomlw.dumps(doc), encoding="utf-8")

    def env(self, name: str, value: str, action: str = "override", scope: str = "env") -> None:
        """An env file: scope env (build and launch), env.build or env.launch (Buildpack API)."""
        target = self.path / scope
        target.mkdir(parents=True, exist_ok=True)
        (target / f"{name}.{action}").write_text(value, encoding="utf-8")


# How a log line names each key of layer metadata.
LABELS = {
    "arch": "architecture",
    "distro": "distribution",
    "python": "Python version",
    "expires": "end of support",
    "archive": "CPython archive",
    "uv": "uv version",
    "manager": "package manager",
    "inputs": "dependency files",
    "buildpack": "buildpack version",
}


def change_reason(old: Mapping[str, object] | None, new: Mapping[str, object], labels: Mapping[str, str]) -> str | None:
    """Why a layer cannot be reused (None: it can)."""
    if old is None:
        return "no previous layer"
    for key, value in new.items():
        if old.get(key) != value:
            return f"{labels.get(key, key)} changed ({old.get(key, 'unset')} -> {value})"
    return None


def reuse_or_reset(layer: Layer, metadata: Mapping[str, object], labels: Mapping[str, str], log: Logger) -> bool:
    """Keep a restored layer whose metadata matches; otherwise start it empty. Logs the reason."""
    reason = change_reason(layer.old_metadata(), metadata, labels)
    if reason is None and layer.path.is_dir() and any(layer.path.iterdir()):
        log.step(f"Reusing the {layer.name} layer (same {', '.join(labels.get(k, k) for k in metadata)})")
        return True
    if reason is None:
        reason = "previous layer content missing"
    log.step(f"Building the {layer.name} layer: {reason}")
    if layer.path.exists():
        shutil.rmtree(layer.path)
    layer.path.mkdir(parents=True)
    return False


def reuse_reason(layer: Layer, metadata: Mapping[str, str]) -> str | None:
    """Why the previous image's launch-only layer cannot be kept (None: it can, by metadata alone)."""
    reason = change_reason(layer.old_metadata(), metadata, LABELS)
    if reason is None and not layer.sbom.is_file():
        reason = "the previous image has no SBOM for it"
    if reason is None and layer.path.exists():
        # The lifecycle never restores a launch-only layer's files; files here would be exported as
        # the layer, so they are rebuilt rather than trusted.
        reason = "its files were restored from a cache"
    return reason


def remove_uv_bookkeeping(directory: Path) -> None:
    """uv's lock files (world-writable) and scratch dirs have no place in a launch layer."""
    for name in (".lock", ".temp", ".gitignore"):
        path = directory / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
