# -*- coding: utf-8 -*-
# Copyright: luban-ci contributors
# Apache License 2.0 (see LICENSE)
"""The inputs of an app build, as one key, and what the registry already holds for it.

A build of a locked app is a function of: the app's files, the builder (its buildpacks, lifecycle,
build image and run image name), the bindings mounted into it, the build arguments (but the run
image they name, which is what a found image must be on) and the platform's own program (pack). Their
digests give a key; each build publishes its image under ``<repository>:inputs-<key>`` as well.
Before building, the platform asks the registry for that tag:

* no image: ``build``;
* an image on the run image the build uses now (``--run-image`` in the arguments, else the one the
  builder names): ``reuse`` its digest, build nothing;
* an image on another run image of the same platform and OS release: ``rebase`` it (the run image
  changed, nothing else did); of another platform, release or name (the rebaser would refuse it),
  or marked not rebasable: ``build``;
* an image with a layer past its end of support (``expires`` in a buildpack's layer metadata,
  before today): ``build``, so the buildpack decides again whether what it holds may be used.

An unlocked app is always built: its dependencies are resolved anew, so its files do not fix
its image. A failure to ask (no daemon, a registry error) means ``build``, never a failed build.

Standard library only (no Ansible), like ``languages.py``, so the pipeline's step tool can carry
a copy.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import stat
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Tuple

from .catalog import shown

# Bump when what goes into the key changes: every image gets a new key, so nothing is reused
# across the change.
KEY_VERSION = "luban-ci build inputs 1"
TAG_PREFIX = "inputs-"
MANIFEST_TYPES = ", ".join([
    "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"])
BUILDER_METADATA = "io.buildpacks.builder.metadata"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
LIFECYCLE_METADATA = "io.buildpacks.lifecycle.metadata"
# A binding of this type is a CPython mirror: its downloads list pins every archive by sha256, so
# the list stands for the archives (hashing them would cost more than the build it saves).
MIRROR_TYPE = "uv-python-mirror"
MIRROR_LIST = "download-metadata.json"
# The key of a buildpack's layer metadata that names the last day its content is supported (an ISO
# date; the python-uv buildpack writes the end of security support of the CPython line).
EXPIRES = "expires"
# What a rebase must keep of the run image (rebase_refused), and the lifecycle's own refusal.
DISTRO_LABELS = ("io.buildpacks.base.distro.name", "io.buildpacks.base.distro.version")
REBASABLE = "io.buildpacks.rebasable"


class InputsError(Exception):
    """Something the key or the lookup needs could not be read; the build then runs."""


# ---------------------------------------------------------------- digests of the inputs


# How a program is run: (argv, working directory or None, standard input or None) -> (exit code,
# standard output). The module passes AnsibleModule.run_command; tests, subprocess.
Runner = Callable[[list, Optional[str], Optional[str]], Tuple[int, str]]
GIT_ENV = {"GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}


def _git(run: Runner, app_dir: Path, *args: str) -> str | None:
    try:
        code, out = run(["git", "-C", str(app_dir), *args], None, None)
    except OSError:
        return None
    return out if code == 0 else None


def source_digest(app_dir: Path, run: Runner) -> str:
    """The app's files: the git tree of the directory when it is committed and clean (``tree:``),
    else a digest of every file under it but ``.git`` (``files:``): paths, executable bits,
    symbolic link targets and contents."""
    app_dir = Path(app_dir)
    # Untracked or ignored files count: pack uploads every file of the directory.
    status = _git(run, app_dir, "status", "--porcelain", "--untracked-files=all", "--ignored=matching", "--", ".")
    if status == "":
        tree = _git(run, app_dir, "rev-parse", "HEAD:./")
        if tree and re.fullmatch(r"[0-9a-f]{40,64}\n", tree):
            return "tree:" + tree.strip()
    return "files:" + tree_digest(app_dir, skip=(".git",))


def tree_digest(root: Path, skip: tuple[str, ...] = ()) -> str:
    digest = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in skip)
        base = Path(dirpath)
        for name in sorted(filenames + [d for d in dirnames if (base / d).is_symlink()]):
            path = base / name
            rel = path.relative_to(root).as_posix().encode()
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                digest.update(b"L\0" + rel + b"\0" + os.readlink(path).encode() + b"\0")
            elif stat.S_ISREG(info.st_mode):
                digest.update(b"F\0" + rel + b"\0" + (b"x" if info.st_mode & 0o111 else b"-") + b"\0")
                digest.update(file_digest(path).encode() + b"\0")
    return digest.hexdigest()


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def binding_digest(path: Path) -> str:
    """A binding directory's contents as a buildpack reads them: each entry by its name and the
    contents it leads to (a CPython mirror: its type and downloads list only). Entries whose name
    starts with two dots are not the binding's: a Kubernetes Secret or ConfigMap volume links each
    key through ``..data`` to a directory named after the time it was written, which differs in
    every pod (and Kubernetes refuses keys starting with "..")."""
    path = Path(path)
    kind = (path / "type").read_text(encoding="utf-8").strip() if (path / "type").is_file() else ""
    if kind == MIRROR_TYPE and (path / MIRROR_LIST).is_file():
        return "mirror:" + file_digest(path / MIRROR_LIST)
    digest = hashlib.sha256()
    for name in sorted(os.listdir(path)):
        entry = path / name
        if name.startswith(".."):
            continue
        if entry.is_file():  # through any link
            digest.update(b"F\0" + name.encode() + b"\0" + file_digest(entry).encode() + b"\0")
        elif entry.is_dir():
            digest.update(b"D\0" + name.encode() + b"\0" + tree_digest(entry.resolve()).encode() + b"\0")
    return "entries:" + digest.hexdigest()


def tool_identity(tool: str) -> str:
    """The platform's own programs (pack) by path, size and modification time: a new pack may write
    other metadata into the same build. Hashing a 50 MB binary on every build would cost more."""
    path = shutil.which(tool) or tool
    try:
        info = os.stat(path)
    except OSError as exc:
        raise InputsError("%s cannot be read: %s" % (tool, exc.strerror)) from exc
    return "%s:%d:%d" % (os.path.realpath(path), info.st_size, info.st_mtime_ns)


def build_key(source: str, builder: str, bindings: dict[str, str], arguments: list[str],
              tools: list[str] | None = None) -> str:
    document = {"version": KEY_VERSION, "source": source, "builder": builder, "bindings": bindings,
                "arguments": arguments, "tools": tools or []}
    return hashlib.sha256(json.dumps(document, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def is_locked(app_dir: Path, locks: list[str]) -> str | None:
    """The lock file that fixes the app's dependencies, if the app has one."""
    return next((name for name in locks if (Path(app_dir) / name).is_file()), None)


# ---------------------------------------------------------------- the Docker engine and registries


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def engine_image(name: str, docker_host: str, timeout: float = 10) -> dict | None:
    """``docker image inspect`` through the engine's API socket; None when it has no such image."""
    if not docker_host.startswith("unix://"):
        raise InputsError("only a unix socket engine is supported (DOCKER_HOST=%s)" % docker_host)
    connection = _UnixConnection(docker_host[len("unix://"):], timeout)
    try:
        connection.request("GET", "/images/%s/json" % urllib.parse.quote(name, safe=""))
        answer = connection.getresponse()
        body = answer.read()
    except (OSError, http.client.HTTPException) as exc:
        raise InputsError("the Docker engine at %s did not answer: %s" % (docker_host, exc)) from exc
    finally:
        connection.close()
    if answer.status == 404:
        return None
    if answer.status != 200:
        raise InputsError("the Docker engine answered %d for image %s" % (answer.status, name))
    return json.loads(body)


@dataclass(frozen=True)
class Reference:
    registry: str
    repository: str
    tag: str = ""
    digest: str = ""

    @classmethod
    def parse(cls, text: str) -> "Reference":
        """A reference as Docker and the lifecycle (go-containerregistry) read it: Docker Hub's
        names under ``index.docker.io``, its one-part names under ``library/``; ``latest`` when
        neither a tag nor a digest is given."""
        rest, _at, digest = text.partition("@")
        first, slash, remainder = rest.partition("/")
        if slash and ("." in first or ":" in first or first == "localhost"):
            registry, path = ("index.docker.io" if first == "docker.io" else first), remainder
        else:
            registry, path = "index.docker.io", rest
        repository, colon, tag = path.rpartition(":")
        if not colon or "/" in tag:
            repository, tag = path, ""
        if registry == "index.docker.io" and "/" not in repository:
            repository = "library/" + repository
        if not tag and not digest:
            tag = "latest"
        return cls(registry, repository, tag, digest)

    @property
    def name(self) -> str:
        return "%s/%s" % (self.registry, self.repository)


@dataclass
class Registry:
    """Just enough of the distribution API: manifests by tag or digest, config blobs, with the
    credentials of a Docker config (``auths``, credential helpers) and its token flow."""

    docker_config: Path
    run: Runner
    insecure: tuple[str, ...] = ()
    timeout: float = 15
    _tokens: dict[tuple[str, str], str] = field(default_factory=dict)

    def _scheme(self, registry: str) -> str:
        host = registry.rsplit(":", 1)[0] if registry.count(":") == 1 else registry
        local = host in ("localhost", "127.0.0.1", "::1") or host.endswith(".localhost")
        return "http" if local or registry in self.insecure else "https"

    def _credentials(self, registry: str) -> str | None:
        """base64(user:password) for the registry, as docker login stored it."""
        try:
            config = json.loads((self.docker_config / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        names = [registry, "https://" + registry, "http://" + registry]
        if registry == "index.docker.io":
            names.append("https://index.docker.io/v1/")
        for name in names:
            auth = (config.get("auths") or {}).get(name, {}).get("auth")
            if auth:
                return auth
        helper = (config.get("credHelpers") or {}).get(registry) or config.get("credsStore")
        if helper:
            try:
                code, out = self.run(["docker-credential-" + helper, "get"], None, registry)
                secret = json.loads(out) if code == 0 else None
            except (OSError, ValueError):
                secret = None
            if secret and secret.get("Username") and secret.get("Secret"):
                return base64.b64encode(("%s:%s" % (secret["Username"], secret["Secret"])).encode()).decode()
        return None

    def _request(self, method: str, ref: Reference, path: str, accept: str, data: bytes | None = None,
                 content_type: str = "") -> tuple[int, dict, bytes]:
        scheme = self._scheme(ref.registry)
        url = "%s://%s/v2/%s/%s" % (scheme, ref.registry, ref.repository, path)
        actions = "pull" if data is None else "pull,push"
        authorization = self._tokens.get((ref.registry, ref.repository, actions))
        extra = {"Content-Type": content_type} if content_type else {}
        for _attempt in range(2):
            status, headers, body = _http(method, url, {"Accept": accept, **extra, **(
                {"Authorization": authorization} if authorization else {})}, self.timeout, data)
            if status in (301, 302, 303, 307, 308) and method in ("GET", "HEAD") and headers.get("location"):
                return self._follow(method, url, headers["location"], accept, authorization)
            if status != 401:
                return status, headers, body
            authorization = self._authorize(ref, headers.get("www-authenticate", ""), actions)
            if authorization is None:
                return status, headers, body
            self._tokens[(ref.registry, ref.repository, actions)] = authorization
        return status, headers, body

    def _follow(self, method: str, url: str, location: str, accept: str,
                authorization: str | None) -> tuple[int, dict, bytes]:
        """A redirect (Quay, Docker Hub and GHCR serve blobs from storage elsewhere): followed up to
        five times; the registry's credentials go to the registry's own host only."""
        origin = urllib.parse.urlsplit(url).netloc
        for _hop in range(5):
            url = urllib.parse.urljoin(url, location)
            same = urllib.parse.urlsplit(url).netloc == origin
            status, headers, body = _http(method, url, {"Accept": accept, **(
                {"Authorization": authorization} if authorization and same else {})}, self.timeout)
            location = headers.get("location", "")
            if status not in (301, 302, 303, 307, 308) or not location:
                return status, headers, body
        raise InputsError("%s redirected more than five times" % origin)

    def _authorize(self, ref: Reference, challenge: str, actions: str = "pull") -> str | None:
        credentials = self._credentials(ref.registry)
        scheme, _space, params = challenge.partition(" ")
        if scheme.lower() == "basic":
            return "Basic " + credentials if credentials else None
        if scheme.lower() != "bearer":
            return None
        fields = dict(re.findall(r'(\w+)="([^"]*)"', params))
        if "realm" not in fields:
            return None
        query = {"scope": "repository:%s:%s" % (ref.repository, actions)}
        if fields.get("service"):
            query["service"] = fields["service"]
        url = fields["realm"] + ("&" if "?" in fields["realm"] else "?") + urllib.parse.urlencode(query)
        status, _headers, body = _http("GET", url, {"Authorization": "Basic " + credentials} if credentials else {},
                                       self.timeout)
        if status != 200:
            return None
        try:
            answer = json.loads(body)
        except ValueError:
            return None
        token = answer.get("token") or answer.get("access_token")
        return "Bearer " + token if token else None

    def digest(self, ref: Reference) -> str | None:
        """The manifest digest a tag (or digest) names; None when there is none."""
        status, headers, _body = self._request("HEAD", ref, "manifests/" + (ref.digest or ref.tag), MANIFEST_TYPES)
        if status == 404:
            return None
        if status != 200:
            raise InputsError("%s answered %d for %s" % (ref.registry, status, ref.name))
        digest = headers.get("docker-content-digest", "")
        if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
            status, _headers, body = self._request("GET", ref, "manifests/" + (ref.digest or ref.tag), MANIFEST_TYPES)
            if status != 200:
                raise InputsError("%s answered %d for %s" % (ref.registry, status, ref.name))
            digest = "sha256:" + hashlib.sha256(body).hexdigest()
        return digest

    def tag(self, ref: Reference, digest: str, tags: list[str]) -> None:
        """Points each of ``tags`` (in ``ref``'s repository) at the manifest ``digest``: the same bytes
        under another name, so the digest stays what it is."""
        status, headers, body = self._request("GET", ref, "manifests/" + digest, MANIFEST_TYPES)
        if status != 200:
            raise InputsError("%s answered %d for the manifest %s@%s" % (ref.registry, status, ref.name, digest))
        if "sha256:" + hashlib.sha256(body).hexdigest() != digest:
            raise InputsError("%s served other bytes for the manifest %s@%s" % (ref.registry, ref.name, digest))
        try:
            declared = json.loads(body).get("mediaType", "")
        except (ValueError, AttributeError):
            declared = ""
        media_type = (declared if isinstance(declared, str) and declared else ""
                      ) or headers.get("content-type", "").split(";")[0].strip() or OCI_MANIFEST
        for tag in tags:
            status, _headers, answer = self._request("PUT", ref, "manifests/" + tag, "*/*", body, media_type)
            if status not in (200, 201):
                raise InputsError("%s answered %d to tagging %s:%s: %s" % (
                    ref.registry, status, ref.name, tag, shown(answer[:200].decode("utf-8", "replace"))))

    def _manifest(self, ref: Reference, digest: str) -> dict:
        status, _headers, body = self._request("GET", ref, "manifests/" + digest, MANIFEST_TYPES)
        if status != 200:
            raise InputsError("%s answered %d for the manifest %s@%s" % (ref.registry, status, ref.name, digest))
        manifest = json.loads(body)
        if not isinstance(manifest, dict):
            raise InputsError("%s@%s is no manifest" % (ref.name, digest))
        return manifest

    def platform_config(self, ref: Reference, digest: str, platform: str) -> Tuple[str, dict]:
        """The image for ``platform`` (``platform_of``) that ``digest`` names, a manifest or an index
        of manifests: its manifest digest and its config."""
        manifest = self._manifest(ref, digest)
        if isinstance(manifest.get("manifests"), list):
            chosen = [entry.get("digest") for entry in manifest["manifests"] if isinstance(entry, dict)
                      and isinstance(entry.get("platform"), dict) and platform_of(entry["platform"]) == platform]
            if not chosen or not isinstance(chosen[0], str):
                raise InputsError("%s@%s has no image for %s" % (ref.name, digest, platform))
            digest = chosen[0]
        return digest, self.config(ref, digest)

    def config(self, ref: Reference, digest: str) -> dict:
        """The image config (an image manifest, not an index)."""
        manifest = self._manifest(ref, digest)
        config = (manifest.get("config") or {}).get("digest")
        if not config:
            raise InputsError("%s@%s is no image manifest" % (ref.name, digest))
        status, _headers, body = self._request("GET", ref, "blobs/" + config, "*/*")
        if status != 200:
            raise InputsError("%s answered %d for the config of %s@%s" % (ref.registry, status, ref.name, digest))
        return json.loads(body)


def _http(method: str, url: str, headers: dict[str, str], timeout: float,
          data: bytes | None = None) -> tuple[int, dict, bytes]:
    parts = urllib.parse.urlsplit(url)
    connection_type = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_type(parts.netloc, timeout=timeout)
    try:
        connection.request(method, parts.path + ("?" + parts.query if parts.query else ""), body=data, headers=headers)
        answer = connection.getresponse()
        body = answer.read()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, body
    except (OSError, http.client.HTTPException) as exc:
        raise InputsError("%s could not be reached: %s" % (parts.netloc, exc)) from exc
    finally:
        connection.close()


# ---------------------------------------------------------------- the decision


@dataclass(frozen=True)
class Decision:
    action: str  # build, reuse or rebase
    reason: str
    key: str = ""
    tag: str = ""  # <repository>:inputs-<key>, published with every build of a locked app
    digest: str = ""  # the image found for the key
    run_image: str = ""  # the run image the builder names
    run_image_digest: str = ""


def labels_of(config: dict) -> dict:
    """An image config's labels ({} when it has none)."""
    labels = (config.get("config") or {}).get("Labels")
    return labels if isinstance(labels, dict) else {}


def _label(labels: dict, name: str) -> dict:
    """A label holding JSON, as an object ({} when absent or unreadable)."""
    try:
        value = json.loads(labels.get(name) or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def run_image_of(builder: dict) -> str:
    """The run image a builder names (its metadata label, as pack reads it)."""
    metadata = _label((builder.get("Config") or {}).get("Labels") or {}, BUILDER_METADATA)
    images = metadata.get("images") or []
    image = images[0].get("image") if images and isinstance(images[0], dict) else None
    image = image or ((metadata.get("stack") or {}).get("runImage") or {}).get("image")
    if not image:
        raise InputsError("the builder names no run image (label %s)" % BUILDER_METADATA)
    return image


def run_image_named(arguments: list[str]) -> str | None:
    """The run image ``pack build --run-image`` names, which wins over the builder's."""
    for index, argument in enumerate(arguments):
        if argument == "--run-image" and index + 1 < len(arguments):
            return arguments[index + 1]
        if argument.startswith("--run-image="):
            return argument.split("=", 1)[1]
    return None


def platform_of(config: dict) -> str:
    """OS/ARCHITECTURE[/VARIANT] of an image config (or of an index entry's platform)."""
    parts = [str(config.get("os") or ""), str(config.get("architecture") or "")]
    return "/".join(parts + ([str(config["variant"])] if config.get("variant") else []))


def without_run_image(arguments: list[str]) -> list[str]:
    """pack's arguments without the run image they name: not an input of the build (nothing the
    buildpacks make depends on it), but what a found image must be on, or is rebased onto."""
    kept: list[str] = []
    skip = False
    for argument in arguments:
        if skip:
            skip = False
        elif argument == "--run-image":
            skip = True
        elif not argument.startswith("--run-image="):
            kept.append(argument)
    return kept


def image_name(reference: str) -> str:
    """An image's name as the lifecycle compares run images: registry, repository and tag
    (``latest`` when there is none), the digest left out."""
    ref = Reference.parse(reference)
    return "%s/%s:%s" % (ref.registry, ref.repository, ref.tag or "latest")


def run_image_names(config: dict) -> list[str]:
    """The run image and its mirrors an image's lifecycle metadata names (``runImage``, and the
    ``stack`` of older platform APIs)."""
    metadata = _label(labels_of(config), LIFECYCLE_METADATA)
    names: list[str] = []
    for entry in (metadata.get("runImage"), (metadata.get("stack") or {}).get("runImage")):
        if isinstance(entry, dict):
            mirrors = entry.get("mirrors") if isinstance(entry.get("mirrors"), list) else []
            names += [value for value in [entry.get("image"), *mirrors] if isinstance(value, str) and value]
    return names


def rebase_refused(image: dict, run_image: dict, run_image_ref: str) -> str | None:
    """Why the image (a config) may not be put on the run image ``run_image_ref`` (config
    ``run_image``) by a rebase, in words; None when it may. A rebase keeps the app's layers as they
    were built: native code compiled and libraries installed for one OS release. So the run image
    must be for the same platform and the same distribution and release (the
    ``io.buildpacks.base.distro.*`` labels the image took from its run image: an OS patch, not
    another OS). And as the lifecycle's rebaser requires, the lifecycle must not have marked the
    image not rebasable, and the run image's name must be the one the image's metadata names or one
    of its mirrors (a new digest of the same name)."""
    labels = labels_of(image)
    if str(labels.get(REBASABLE, "true")).lower() == "false":
        return "the lifecycle marked it not rebasable (%s=false)" % REBASABLE
    new = labels_of(run_image)
    facts = [("platform", platform_of(image), platform_of(run_image))]
    facts += [(label, labels.get(label), new.get(label)) for label in DISTRO_LABELS]
    for what, had, has in facts:
        if had != has:
            return "its %s is %s and the run image's is %s" % (what, shown(had if had is not None else "unset", 100),
                                                               shown(has if has is not None else "unset", 100))
    names = run_image_names(image)
    if image_name(run_image_ref) not in {image_name(name) for name in names}:
        return "the run image %s is neither the one its metadata names nor a mirror of it (%s)" % (
            shown(image_name(run_image_ref), 200), shown(", ".join(names) or "none", 300))
    return None


def built_on(config: dict) -> str:
    """The run image digest an image was exported or rebased onto (lifecycle metadata)."""
    metadata = _label(labels_of(config), LIFECYCLE_METADATA)
    reference = (metadata.get("runImage") or {}).get("reference", "")
    digest = reference.rpartition("@")[2] if isinstance(reference, str) else ""
    # The label is written where the app's build runs: anything but a digest is not one.
    return digest if re.fullmatch(r"sha256:[0-9a-f]{64}", digest) else ""


def expired(config: dict, today: datetime.date | None = None) -> str | None:
    """Why an image may not be reused on ``today`` (default: the local date), in words: the first
    layer, in the lifecycle metadata's buildpack order, whose metadata names in ``expires`` a day
    before ``today`` (the day itself is still supported), or holds an ``expires`` that is no
    YYYY-MM-DD date. None when no layer says so. Any buildpack may write the key."""
    today = today or datetime.date.today()
    metadata = _label(labels_of(config), LIFECYCLE_METADATA)
    buildpacks = metadata.get("buildpacks")
    for buildpack in buildpacks if isinstance(buildpacks, list) else []:
        layers = buildpack.get("layers") if isinstance(buildpack, dict) else None
        for name, layer in sorted(layers.items()) if isinstance(layers, dict) else []:
            data = layer.get("data") if isinstance(layer, dict) else None
            if not isinstance(data, dict) or EXPIRES not in data:
                continue
            value = data[EXPIRES]
            which = "its %s layer (buildpack %s)" % (shown(name, 100, quote=False),
                                                     shown(buildpack.get("key") or "unknown", 100, quote=False))
            try:
                if not (isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value)):
                    raise ValueError(value)
                ends = datetime.date.fromisoformat(value)
            except ValueError:
                return "%s records an end of support that is no date (%s)" % (which, shown(value, 100))
            if ends < today:
                return "the support of %s ended on %s" % (which, ends.isoformat())
    return None


def decide(app_dir: Path, repository: str, builder: str, bindings: dict[str, Path], arguments: list[str],
           locks: list[str], registry: Registry, docker_host: str, run: Runner, engine=engine_image,
           tools: list[str] | None = None, today: datetime.date | None = None) -> Decision:
    """What to do for this build (``engine``: how to inspect an image in the Docker engine;
    ``today``: the date the found image's layers are judged by, default the local date)."""
    lock = is_locked(app_dir, locks)
    if lock is None:
        return Decision("build", "the app has no lock file (%s), so its dependencies are resolved anew: "
                        "it is always built" % ", ".join(locks))
    try:
        inspected = engine(builder, docker_host)
        if inspected is not None:
            builder_id = inspected["Id"]
        else:  # pack pulls it: the registry's copy is the one used
            builder_id = registry.digest(Reference.parse(builder)) or ""
            if not builder_id:
                raise InputsError("the builder %s is neither in the engine nor in its registry" % builder)
            inspected = {"Config": {"Labels": registry.config(Reference.parse(builder), builder_id)
                                    .get("config", {}).get("Labels") or {}}}
        run_image = run_image_named(arguments) or run_image_of(inspected)
        key = build_key(source_digest(app_dir, run), builder_id,
                        {name: binding_digest(path) for name, path in sorted(bindings.items())}, without_run_image(arguments),
                        [tool_identity(tool) for tool in tools or []])
        tag = "%s:%s%s" % (repository, TAG_PREFIX, key)
        run_ref = Reference.parse(run_image)
        run_digest = registry.digest(run_ref) or ""
        if not run_digest:
            raise InputsError("the run image %s is not in its registry" % run_image)
        target = Reference.parse(tag)
        found = registry.digest(target)
        if found is None:
            return Decision("build", "no image was built from these inputs yet (%s, key %s)" % (lock, key[:12]),
                            key, tag, "", run_image, run_digest)
        config = registry.config(target, found)
        same = "%s@%s was built from the same inputs (key %s)" % (repository, found, key[:12])
        why = expired(config, today)
        if why is not None:
            return Decision("build", "%s, but %s, so it is built again: the build decides whether what that layer holds "
                            "may still be used" % (same, why), key, tag, found, run_image, run_digest)
        on = built_on(config)
        if on != run_digest:  # another run image, or the same one's image in a multi-platform index
            run_manifest, run_config = registry.platform_config(run_ref, run_digest, platform_of(config))
            pinned = run_image if run_ref.digest else "%s@%s" % (run_image, run_digest)
            if on != run_manifest:
                refused = rebase_refused(config, run_config, run_image)
                if refused is not None:
                    return Decision("build", "%s on another run image (%s), but %s, so it is built on %s"
                                    % (same, on or "unknown", refused, pinned), key, tag, found, run_image, run_digest)
                return Decision("rebase", "%s on another run image (%s); rebasing it onto %s" % (same, on or "unknown", pinned),
                                key, tag, found, run_image, run_digest)
        return Decision("reuse", "%s on the current run image" % same, key, tag, found, run_image, run_digest)
    except (InputsError, OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return Decision("build", "what is already built could not be found out (%s), so it is built" % exc)
