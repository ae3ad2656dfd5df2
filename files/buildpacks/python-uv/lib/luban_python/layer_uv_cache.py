"""The uv-cache layer (cache only): uv's cache, kept between builds of the same uv and target.

After `uv cache prune --ci` it holds just the wheels uv built from source distributions, the one
thing slower to redo than to restore.
"""

from __future__ import annotations

from collections.abc import Mapping

from .context import Context
from .layers import LABELS, Layer, reuse_or_reset

NAME = "uv-cache"


def key(ctx: Context, uv_version: str) -> dict[str, str]:
    return {"uv": uv_version, "arch": ctx.target.arch, "distro": ctx.distro}


def prepare(ctx: Context, uv_version: str) -> Layer:
    """Keeps the restored cache when its key matches, else starts it empty."""
    cache = Layer(ctx.layers_dir, NAME, build=False, launch=False, cache=True)
    metadata = key(ctx, uv_version)
    reuse_or_reset(cache, metadata, LABELS, ctx.log)
    cache.write(metadata)
    return cache


def env(ctx: Context, base: Mapping[str, str]) -> dict[str, str]:
    """``base`` with uv pointed at this layer as its cache (UV_CACHE_DIR)."""
    return dict(base, UV_CACHE_DIR=str(ctx.layers_dir / NAME))
