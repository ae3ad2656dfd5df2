"""The uv layer (build only): the uv binary the other layers are installed with."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from . import uv
from .context import Context
from .layers import LABELS, Layer, reuse_or_reset


def key(ctx: Context, version: str) -> dict[str, str]:
    return {"uv": version, "arch": ctx.target.arch}


def install(ctx: Context, secrets_env: Mapping[str, str]) -> tuple[Path, str]:
    """The vendored uv (a link, no copy) or the one BP_UV_VERSION asks for; returns it and its version."""
    source = uv.choose(ctx.buildpack_dir, ctx.target.arch, ctx.env)
    layer = Layer(ctx.layers_dir, "uv", build=True, launch=False, cache=False)
    metadata = key(ctx, source.version)
    reuse_or_reset(layer, metadata, LABELS, ctx.log)
    binary = layer.path / "bin" / "uv"
    binary.parent.mkdir(parents=True, exist_ok=True)
    if source.binary is not None:
        ctx.log.step(f"Using the vendored uv {source.version}")
        binary.symlink_to(source.binary)  # the buildpack dir outlives the build; no 40 MB copy
    else:
        ctx.log.step(f"Fetching uv {source.version} from {source.index} (BP_UV_VERSION)")
        import ssl

        cafile = secrets_env.get("SSL_CERT_FILE")
        context = ssl.create_default_context(cafile=cafile) if cafile else None
        digest = uv.download(source, ctx.target.uv_arch, binary, ctx.fetcher(context))
        ctx.log.step(f"Verified sha256 {digest}")
    layer.write(metadata)
    return binary, source.version
