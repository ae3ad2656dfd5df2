"""Input validation: every value from the command line is checked here before any use.

Values reach git, file paths, commit messages and HTTP requests, so the rules are allowlists:
what is not plainly a SHA, a repository name, a relative path or a URL is refused with a catalog
error that names the option and the reason.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from luban_step.errors import StepError

MAX_LEN = 255
MAX_URL_LEN = 2048
DESCRIPTION_MAX = 140  # GitHub's limit for a commit status description
SHELL_META = set(" \t;&|$`<>(){}[]*?!~#'\"\\^%")  # '%' too: no escapes smuggled into paths

_SHA = re.compile(r"^[0-9a-fA-F]{40}$")
_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_NAME = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_SEGMENT = re.compile(r"^[A-Za-z0-9._@+=,-]+$")
_REF_CHARS = re.compile(r"^[A-Za-z0-9._/+-]+$")
_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
_URL_PATH = re.compile(r"^[A-Za-z0-9._/~+-]*$")
_SCP = re.compile(r"^(?P<user>[A-Za-z0-9._-]+)@(?P<host>[A-Za-z0-9.-]+):(?P<path>[A-Za-z0-9._/~+-]+)$")
_DOMAIN = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]{1,5})?/)"
_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_REPOSITORY = re.compile(r"^%s?%s(?:/%s)*$" % (_DOMAIN, _COMPONENT, _COMPONENT))
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
# Kubernetes: a DNS-1123 subdomain (object names), a DNS-1123 label (namespaces), a label value.
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9](?:[-a-z0-9.]*[a-z0-9])?$")
_DNS_LABEL = re.compile(r"^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?$")
STATES = ("pending", "success", "failure", "error")


_DEFAULT_PORTS = {"https": 443, "http": 80, "ssh": 22}


@dataclass(frozen=True)
class GitUrl:
    url: str
    scheme: str  # "https", "http", "ssh" or "file"
    host: str  # empty for file
    port: int | None = None  # as written in the URL; None means the scheme's default

    @property
    def origin(self) -> str:
        """scheme://host:port with the default port spelled out: what a credential is bound to."""
        return "%s://%s:%d" % (self.scheme, self.host.lower(), self.port or _DEFAULT_PORTS.get(self.scheme, 0))


@dataclass(frozen=True)
class GitHost:
    """The configured git host (``--git-host``): the only host a URL may name and a credential reach."""

    host: str
    port: int | None = None

    def admits(self, url: GitUrl) -> bool:
        if url.scheme == "file" or url.host.lower() != self.host:
            return False
        default = _DEFAULT_PORTS.get(url.scheme)
        return (url.port or default) == (self.port or default)

    def __str__(self) -> str:
        return self.host if self.port is None else "%s:%d" % (self.host, self.port)


def _has_control(value: str) -> bool:
    return any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value)


def _text_problem(value: str, limit: int = MAX_LEN) -> str | None:
    """Shared checks, in the order a reader expects the reason for."""
    if not value:
        return "it is empty"
    if len(value) > limit:
        return "it is longer than %d characters" % limit
    if _has_control(value):
        return "it contains a control character such as a newline"
    return None


def sha(value: str, option: str) -> str:
    if not _SHA.fullmatch(value):
        raise StepError("invalid_sha", option=option, value=value)
    return value.lower()


def repo_slug(value: str, option: str) -> str:
    owner, sep, name = value.partition("/")
    if not sep or not _OWNER.fullmatch(owner) or not _NAME.fullmatch(name) or name in (".", ".."):
        raise StepError("invalid_repo", option=option, value=value)
    return value


def rel_path(value: str, option: str, allow_dot: bool = True) -> str:
    """A relative path inside a repository; '.' means the repository root when allowed."""
    why = _text_problem(value)
    if why is None:
        if any(c in SHELL_META for c in value):
            why = "it contains a space or a shell metacharacter"
        elif not value.isascii():
            why = "it contains a character outside ASCII letters, digits and . _ - + @ = ,"
        elif value.startswith("/"):
            why = "it is absolute"
        elif value == ".":
            if allow_dot:
                return value
            why = "it names the repository root"
        else:
            parts = value.rstrip("/").split("/")
            if ".." in parts:
                why = "it contains '..'"
            elif any(p in ("", ".") for p in parts):
                why = "it has an empty or '.' segment"
            elif any(p.startswith("-") for p in parts):
                why = "a segment starts with '-'"
            elif not all(_SEGMENT.fullmatch(p) for p in parts):
                why = "it contains a character outside ASCII letters, digits and . _ - + @ = ,"
            else:
                return "/".join(parts)
    raise StepError("invalid_path", option=option, value=value, why=why)


def ref_name(value: str, option: str) -> str:
    why = _text_problem(value)
    if why is None:
        if any(c in SHELL_META for c in value):
            why = "it contains a space or a shell metacharacter"
        elif not value.isascii() or not _REF_CHARS.fullmatch(value):
            why = "it contains a character outside ASCII letters, digits and . _ / + -"
        elif ".." in value or "//" in value or value.startswith(("-", "/", ".")):
            why = "it contains '..' or '//', or starts with '-', '/' or '.'"
        elif value.endswith(("/", ".", ".lock")) or "/." in value:
            why = "a component starts or ends with '.', or it ends with '/' or '.lock'"
        else:
            return value
    raise StepError("invalid_ref", option=option, value=value, why=why)


def _url_basics(value: str) -> str | None:
    why = _text_problem(value, MAX_URL_LEN)
    if why is None and any(c.isspace() for c in value):
        why = "it contains whitespace"
    if why is None and not value.isascii():
        why = "it contains a non-ASCII character"
    return why


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def git_url(value: str, option: str, host: GitHost | None = None) -> GitUrl:
    """A git URL; with ``host`` (the configured git host) it must name exactly that host and port."""
    url = _git_url(value, option)
    if host is not None and not host.admits(url):
        raise StepError("git_host_mismatch", option=option, value=value, host=str(host))
    return url


def git_host(value: str, option: str) -> GitHost:
    """HOST or HOST:PORT, as in the configured GitHub URL (github.com, ghe.example.com:8443)."""
    why = _url_basics(value)
    if why is None:
        name, sep, port = value.rpartition(":") if ":" in value else (value, "", "")
        if not _HOST.fullmatch(name) or len(name) > MAX_LEN:
            why = "it is not a host name or address"
        elif sep and not (port.isascii() and port.isdigit() and 0 < int(port) < 65536 and len(port) <= 5):
            why = "its port is not a number from 1 to 65535"
        else:
            return GitHost(name.lower(), int(port) if sep else None)
    raise StepError("invalid_git_host", option=option, value=value, why=why)


def _git_url(value: str, option: str) -> GitUrl:
    why = _url_basics(value)
    if why is None and value.startswith("-"):
        why = "it starts with '-'"
    if why is None:
        scp = _SCP.fullmatch(value)
        if scp and "://" not in value:
            return GitUrl(value, "ssh", scp.group("host"))
        if value.startswith("/"):
            value = "file://" + value
        parts = urlsplit(value)
        scheme = parts.scheme.lower()
        if scheme not in ("https", "http", "ssh", "file"):
            why = "the transport %r is not allowed (https, ssh or file only)" % scheme
        elif parts.password is not None or (parts.username is not None and scheme != "ssh"):
            raise StepError("credentials_in_url", option=option)
        elif parts.query or parts.fragment:
            why = "it has a query or a fragment"
        elif any(c in SHELL_META for c in parts.path) or not _URL_PATH.fullmatch(parts.path):
            why = "its path contains a character outside letters, digits and . _ / ~ + -"
        elif ".." in parts.path.split("/"):
            why = "its path contains '..'"
        elif scheme == "file":
            if parts.netloc:
                why = "a file URL must not name a host"
            else:
                return GitUrl(value, scheme, "")
        elif not parts.hostname or not _HOST.fullmatch(parts.hostname):
            why = "it has no valid host name"
        else:
            try:
                port = parts.port
            except ValueError:
                port = -1
            if port is not None and not 0 < port < 65536:
                why = "its port is not a number from 1 to 65535"
            else:
                return GitUrl(value, scheme, parts.hostname, port)
    raise StepError("invalid_git_url", option=option, value=value, why=why)


def api_url(value: str, option: str) -> str:
    why = _url_basics(value)
    if why is None:
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http"):
            why = "it must start with https://"
        elif parts.username is not None or parts.password is not None:
            raise StepError("credentials_in_url", option=option)
        elif not parts.hostname or not _HOST.fullmatch(parts.hostname):
            why = "it has no valid host name"
        elif parts.scheme == "http" and not _is_loopback(parts.hostname):
            why = "plain http is only accepted for a loopback address"
        elif parts.query or parts.fragment:
            why = "it has a query or a fragment"
        elif not _URL_PATH.fullmatch(parts.path):
            why = "its path contains a character outside letters, digits and . _ / ~ + -"
        else:
            return value.rstrip("/")
    raise StepError("invalid_api_url", option=option, value=value, why=why)


def target_url(value: str, option: str) -> str:
    """The status's Details link; empty means no link."""
    if value == "":
        return value
    why = _url_basics(value)
    if why is None:
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            why = "it is not an absolute http(s) URL"
        elif parts.password is not None:
            raise StepError("credentials_in_url", option=option)
        else:
            return value
    raise StepError("invalid_target_url", option=option, value=value, why=why)


def image_repository(value: str, option: str) -> str:
    why = _text_problem(value)
    if why is None:
        if "@" in value:
            why = "it carries a digest"
        elif not _REPOSITORY.fullmatch(value):
            why = ("it is not a lowercase image repository"
                   if not re.search(r":[^/]*$", value) else "it carries a tag")
        else:
            return value
    raise StepError("invalid_repository", option=option, value=value, why=why)


def image_name(value: str, option: str) -> str:
    why = _text_problem(value)
    if why is None:
        if not _REPOSITORY.fullmatch(value):
            why = "it is not an image name without tag or digest"
        else:
            return value
    raise StepError("invalid_image_name", option=option, value=value, why=why)


def image_by_digest(value: str, option: str) -> tuple[str, str]:
    """REPOSITORY@sha256:HEX -> (repository, digest)."""
    repo, sep, digest = value.partition("@")
    if not sep or len(value) > MAX_LEN or not _REPOSITORY.fullmatch(repo) or not _DIGEST.fullmatch(digest):
        raise StepError("invalid_image", option=option, value=value)
    return repo, digest


def is_sha(value: str) -> bool:
    return bool(_SHA.fullmatch(value))


def is_digest(value: str) -> bool:
    return bool(_DIGEST.fullmatch(value))


def history_limit(value: int | str, option: str) -> int:
    """How many commits of each history deploy may fetch to order two commits: 1 to 100000."""
    text = str(value)
    if not (text.isascii() and text.isdigit() and len(text) <= 6 and 1 <= int(text) <= 100_000):
        raise StepError("invalid_history_limit", option=option, value=text)
    return int(text)


def lane(value: str, option: str) -> str:
    """A luban.ci/lane label value: it goes into a label selector, so only a label value passes."""
    why = _text_problem(value, 63)
    if why is None:
        if not _LABEL_VALUE.fullmatch(value):
            why = ("it is not a label value (ASCII letters, digits, '-', '_' and '.', starting and "
                   "ending with a letter or digit)")
        else:
            return value
    raise StepError("invalid_lane", option=option, value=value, why=why)


def kube_name(value: str, option: str, label: bool = False) -> str:
    """An object name (DNS-1123 subdomain, 253 characters), or with ``label`` a namespace (63)."""
    limit = 63 if label else 253
    why = _text_problem(value, limit)
    if why is None:
        if not (_DNS_LABEL if label else _DNS_SUBDOMAIN).fullmatch(value):
            why = ("it may hold only lowercase letters, digits and '-'%s, starting and ending with a "
                   "letter or digit" % ("" if label else " and '.'"))
        else:
            return value
    raise StepError("invalid_kube_name", option=option, value=value, why=why)


def created(value: str, option: str) -> datetime:
    """A Kubernetes creationTimestamp: RFC 3339 with an offset or Z."""
    try:
        moment = datetime.fromisoformat(value) if 0 < len(value) <= 40 and value.isascii() else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise StepError("invalid_created", option=option, value=value)
    return moment


def state(value: str, option: str) -> str:
    if value not in STATES:
        raise StepError("invalid_state", option=option, value=value)
    return value


def label(value: str, option: str) -> str:
    """A single-line label such as a status context; any printable text."""
    why = _text_problem(value)
    if why is not None:
        raise StepError("invalid_text", option=option, value=value, why=why)
    return value


def description(value: str) -> str:
    """Free text for GitHub: controls become spaces, runs of spaces collapse, at most 140."""
    flat = "".join(" " if (_has_control(c) or c.isspace()) else c for c in value)
    text = " ".join(flat.split())
    if len(text) > DESCRIPTION_MAX:
        text = text[: DESCRIPTION_MAX - 1] + "\u2026"
    return text
