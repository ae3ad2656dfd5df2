"""Git credentials from a mounted secret directory, handed to git without URLs, argv or env values.

* ``token`` (HTTPS): git asks an askpass program written into a private scratch directory; the
  program reads the token file itself, so the token only travels from the file to git's stdin
  pipe. Username ``x-access-token`` works for GitHub App installation tokens and PATs alike. The
  program answers only when git asks for the origin (scheme, host, port) of the validated URL: a
  redirect to another host gets no token, and the step reports it (``token-host-refused``).
* ``ssh-privatekey`` (+ ``known_hosts``): the key is copied to a 0600 file (ssh refuses the group-
  readable files Kubernetes mounts) and named in ``GIT_SSH_COMMAND``; host keys are checked
  strictly against the mounted ``known_hosts``.
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

from luban_step import redact
from luban_step.errors import StepError
from luban_step.validate import GitUrl

TOKEN = "token"
SSH_KEY = "ssh-privatekey"
KNOWN_HOSTS = "known_hosts"

# git's prompt is "Username for 'URL': " or "Password for 'URL': "; URL is scheme://[user@]host[:port].
_ASKPASS = """#!{python} -I
import os, sys
from urllib.parse import urlsplit
prompt = sys.argv[1] if len(sys.argv) > 1 else ""
asked = prompt[prompt.find("'") + 1:prompt.rfind("'")] if prompt.count("'") >= 2 else ""
try:
    parts = urlsplit(asked)
    origin = "%s://%s:%d" % (parts.scheme, (parts.hostname or "").lower(),
                             parts.port or {{"https": 443, "http": 80}}.get(parts.scheme, 0))
except ValueError:
    origin = "?"
if origin != os.environ["LUBAN_STEP_TOKEN_ORIGIN"]:
    with open(os.environ["LUBAN_STEP_TOKEN_REFUSED"], "w", encoding="utf-8") as handle:
        handle.write(asked)
    sys.exit(1)
if prompt.startswith("Username"):
    print("x-access-token")
else:
    with open(os.environ["LUBAN_STEP_TOKEN_FILE"], encoding="utf-8") as handle:
        print(handle.read().strip())
"""


@dataclass(frozen=True)
class GitAuth:
    kind: str  # "none", "token" or "ssh"
    env: dict[str, str] = field(default_factory=dict)
    origin: str = ""  # where the token may go (token only)
    refused: Path | None = None  # written by the askpass program when git asked another origin

    def check_refused(self) -> None:
        """After a failed git command: was it because git asked for the token somewhere else?"""
        if self.refused is not None and self.refused.exists():
            asked = self.refused.read_text(encoding="utf-8", errors="replace")
            raise StepError("token_host_refused", asked=asked, origin=self.origin)


def read_secret(path: Path, option: str) -> str:
    try:
        value = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StepError("unreadable_file", option=option, path=path, reason=_reason(exc)) from None
    if not value.strip():
        raise StepError("empty_secret", path=path)
    redact.register(value)
    return value


def _reason(exc: Exception) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__


def git_auth(url: GitUrl, credentials_dir: str | None, scratch: Path) -> GitAuth:
    """Prepare git's environment for ``url``; ``scratch`` is a private directory for helper files."""
    if not credentials_dir:
        return GitAuth("none")
    base = Path(credentials_dir)
    if not base.is_dir():
        raise StepError("unreadable_file", option="--credentials-dir", path=base,
                        reason="not a directory")
    if not any(not entry.name.startswith(".") for entry in base.iterdir()):
        # An optional Secret that does not exist is mounted as an empty directory (Kubernetes keeps
        # only its hidden ..data entries): a public repository, so git goes anonymous.
        return GitAuth("none")
    token, key = base / TOKEN, base / SSH_KEY
    if not token.exists() and not key.exists():
        raise StepError("no_credentials", path=base)
    if url.scheme in ("https", "http"):
        if not token.exists():
            raise StepError("credentials_mismatch", scheme=url.scheme, path=base, needed=TOKEN)
        if url.scheme == "http" and url.host not in ("127.0.0.1", "localhost", "::1"):
            raise StepError("token_over_http", path=token, host=url.host)
        read_secret(token, "--credentials-dir")
        askpass = scratch / "askpass"
        askpass.write_text(_ASKPASS.format(python=sys.executable), encoding="utf-8")
        askpass.chmod(0o700)
        refused = scratch / "askpass-refused"
        env = {"GIT_ASKPASS": str(askpass), "LUBAN_STEP_TOKEN_FILE": str(token),
               "LUBAN_STEP_TOKEN_ORIGIN": url.origin, "LUBAN_STEP_TOKEN_REFUSED": str(refused)}
        return GitAuth("token", env, url.origin, refused)
    if url.scheme == "ssh":
        if not key.exists():
            raise StepError("credentials_mismatch", scheme="ssh", path=base, needed=SSH_KEY)
        known = base / KNOWN_HOSTS
        if not known.exists():
            raise StepError("missing_known_hosts", path=base)
        material = read_secret(key, "--credentials-dir")
        private = scratch / "id"
        fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            # OpenSSH rejects a key without its final newline, which secret editors often drop.
            handle.write(material if material.endswith("\n") else material + "\n")
        command = " ".join([
            "ssh", "-F", "/dev/null", "-i", shlex.quote(str(private)),
            "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=yes",
            "-o", "UserKnownHostsFile=" + shlex.quote(str(known)),
        ])
        return GitAuth("ssh", {"GIT_SSH_COMMAND": command})
    return GitAuth("none")
