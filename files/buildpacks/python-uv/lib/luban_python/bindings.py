"""Service bindings: extra CA certificates, private-index credentials and a CPython mirror.

Secret content is copied only to a private temporary folder outside every layer, handed to uv by
path (SSL_CERT_FILE, NETRC) and deleted when the build ends, so it never reaches an image, a
cache or a log.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import BuildpackError

# A folder laid out like `make python-mirror`'s: uv's download-metadata.json plus the archives.
MIRROR_TYPE = "uv-python-mirror"
# Where distributions keep the system trust store (Debian/Ubuntu, then Amazon Linux/Fedora).
SYSTEM_CA_BUNDLES = (Path("/etc/ssl/certs/ca-certificates.crt"), Path("/etc/pki/tls/certs/ca-bundle.crt"))


@dataclass(frozen=True)
class Binding:
    name: str
    type: str
    path: Path

    def files(self) -> list[Path]:
        return [p for p in sorted(self.path.iterdir()) if p.is_file() and p.name != "type" and not p.name.startswith(".")]


def find_bindings(platform_dir: Path, env: Mapping[str, str]) -> list[Binding]:
    """Bindings under SERVICE_BINDING_ROOT, else <platform>/bindings (Platform API)."""
    root = Path(env["SERVICE_BINDING_ROOT"]) if env.get("SERVICE_BINDING_ROOT") else platform_dir / "bindings"
    if not root.is_dir():
        return []
    found = []
    for path in sorted(root.iterdir()):
        type_file = path / "type"
        if path.is_dir() and type_file.is_file():
            found.append(Binding(path.name, type_file.read_text(encoding="utf-8").strip().lower(), path))
    return found


class Secrets:
    """Binding content materialised for uv in a private temp dir; use as a context manager."""

    def __init__(self, bindings: list[Binding]) -> None:
        self.bindings = bindings
        self.dir = Path(tempfile.mkdtemp(prefix="luban-python-secrets-"))
        os.chmod(self.dir, 0o700)
        self.env: dict[str, str] = {}
        self.notes: list[str] = []

    def __enter__(self) -> "Secrets":
        try:
            self._materialise()
        except BaseException:
            self.__exit__()  # a bad binding must not leave copied secrets behind
            raise
        return self

    def _materialise(self) -> None:
        # The mirror first: its checks need no secret on disk.
        mirrors = [b for b in self.bindings if b.type == MIRROR_TYPE]
        if len(mirrors) > 1:
            raise BuildpackError("python_mirror_bindings_multiple", bindings=[b.name for b in mirrors])
        if mirrors:
            self.env.update(self._mirror(mirrors[0]))
        cas = [b for b in self.bindings if b.type == "ca-certificates"]
        if cas:
            self.env["SSL_CERT_FILE"] = str(self._ca_bundle(cas))
            self.notes.append(f"trusting the CA certificates of binding(s) {', '.join(b.name for b in cas)}")
        netrcs = [b for b in self.bindings if b.type == "netrc"]
        if netrcs:
            self.env["NETRC"] = str(self._netrc(netrcs))
            self.notes.append(f"using index credentials from binding(s) {', '.join(b.name for b in netrcs)}")
        if mirrors:
            self.notes.append(f"installing CPython from the uv Python mirror of binding {mirrors[0].name}")

    def __exit__(self, *_exc: object) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def _collect(self, bindings: list[Binding], purpose: str) -> list[bytes]:
        chunks = []
        for binding in bindings:
            files = binding.files()
            if not files:
                raise BuildpackError("binding_empty", name=binding.name, type=binding.type, path=binding.path, purpose=purpose)
            chunks.extend(p.read_bytes().rstrip(b"\n") + b"\n" for p in files)
        return chunks

    def _ca_bundle(self, bindings: list[Binding]) -> Path:
        # The system store first: SSL_CERT_FILE replaces it, and public indexes must stay trusted.
        chunks = [p.read_bytes().rstrip(b"\n") + b"\n" for p in SYSTEM_CA_BUNDLES if p.is_file()][:1]
        chunks += self._collect(bindings, "trust")
        target = self.dir / "ca-certificates.pem"
        target.write_bytes(b"".join(chunks))
        return target

    @staticmethod
    def _mirror(binding: Binding) -> dict[str, str]:
        # Not a secret: uv reads the mirror in place (file:// URLs into the mounted binding).
        metadata = binding.path / "download-metadata.json"
        if not metadata.is_file():
            raise BuildpackError("python_mirror_binding_incomplete", name=binding.name, path=binding.path)
        return {"UV_PYTHON_DOWNLOADS_JSON_URL": metadata.as_uri(), "UV_PYTHON_INSTALL_MIRROR": binding.path.as_uri()}

    def _netrc(self, bindings: list[Binding]) -> Path:
        target = self.dir / "netrc"
        target.write_bytes(b"".join(self._collect(bindings, "authenticate with")))
        os.chmod(target, 0o600)
        return target
