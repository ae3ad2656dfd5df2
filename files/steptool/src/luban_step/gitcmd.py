"""Runs the git CLI with a controlled environment and turns failures into catalog errors."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from luban_step import redact
from luban_step.errors import StepError, notice

AUTHOR_NAME = os.environ.get("LUBAN_STEP_GIT_NAME", "luban-ci")
AUTHOR_EMAIL = os.environ.get("LUBAN_STEP_GIT_EMAIL", "luban-ci@localhost")

FETCH_ATTEMPTS = 5  # waits 1, 2, 4, 8 s: a flaky network, a busy server, GitHub's refs/pull lag
# What retrying cannot change: credentials refused, an unknown host key, no such repository.
_PERMANENT = re.compile(r"authentication failed|could not read (?:username|password)|permission denied|"
                        r"host key verification failed|repository not found|does not appear to be a git "
                        r"repository|not allowed|invalid username or password|"
                        # git's own words for an HTTP refusal; GitHub's 403 text names a permission.
                        r"returned error: 40[134]|permission to \S+ denied", re.I)

# Variables from the caller's environment that would redirect git away from what we ask.
_DROP = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_ASKPASS",
         "SSH_ASKPASS", "GIT_CONFIG", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT",
         "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE")


def git_env(extra: Mapping[str, str], protocol: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _DROP}
    env.update({
        "GIT_TERMINAL_PROMPT": "0",  # never hang waiting for a password
        "GIT_CONFIG_NOSYSTEM": "1",  # no system credential helper may store our token
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_ALLOW_PROTOCOL": protocol,  # only the transport that was validated
        "LC_ALL": "C",  # stable messages, parsed for races and missing refs
        "GIT_AUTHOR_NAME": AUTHOR_NAME, "GIT_AUTHOR_EMAIL": AUTHOR_EMAIL,
        "GIT_COMMITTER_NAME": AUTHOR_NAME, "GIT_COMMITTER_EMAIL": AUTHOR_EMAIL,
    })
    env.update(extra)
    return env


class Git:
    """git in one working directory with one environment.

    ``guard`` runs after every failed command, before its failure is reported: it raises a more
    precise error when it knows the cause (the askpass program refused to answer another host).
    """

    def __init__(self, cwd: Path, env: dict[str, str], guard: Callable[[], None] = lambda: None) -> None:
        self.cwd = cwd
        self.env = env
        self.guard = guard

    def run(self, args: Sequence[str], action: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        # safe.directory: the shared workspace volume may belong to another uid of the same pod.
        argv = ["git", "-c", "core.hooksPath=" + os.devnull, "-c", "advice.detachedHead=false",
                "-c", "safe.directory=*", *args]
        try:
            done = subprocess.run(argv, cwd=self.cwd, env=self.env, capture_output=True,
                                  text=True, stdin=subprocess.DEVNULL, check=False)
        except FileNotFoundError:
            raise StepError("git_missing") from None
        if done.returncode != 0:
            self.guard()
        if check and done.returncode != 0:
            raise StepError("git_failed", action=action, code=done.returncode,
                            detail=failure_detail(done))
        return done

    def out(self, args: Sequence[str], action: str) -> str:
        return self.run(args, action).stdout.strip()


def failure_detail(done: subprocess.CompletedProcess[str]) -> str:
    """The useful tail of git's stderr, secrets removed, joined on one line."""
    lines = [line.strip() for line in (done.stderr or done.stdout or "").splitlines() if line.strip()]
    return redact.scrub(" | ".join(lines[-4:])) or "no output"


def fetch(git: Git, args: Sequence[str], action: str, *, final: re.Pattern[str] | None = None, log: Callable[[str], None] = lambda line: None,
          sleep: Callable[[float], None] = time.sleep,
          attempts: int = FETCH_ATTEMPTS) -> subprocess.CompletedProcess[str]:
    """``git fetch ARGS``, retried with backoff while the failure may be transient.

    Never retried: what matches ``_PERMANENT`` (credentials, host keys, a missing repository) or
    ``final`` (the caller's "does not exist" answers where waiting changes nothing; checkout waits
    for them: a pull request's head can take seconds to be fetchable). Returns the last result.
    """
    for attempt in range(1, attempts + 1):
        done = git.run(["fetch", *args], action, check=False)
        if done.returncode == 0 or _PERMANENT.search(done.stderr):
            return done
        if final is not None and final.search(done.stderr):
            return done
        if attempt < attempts:
            delay = 2 ** (attempt - 1)
            log(notice("git_retry", action=action, detail=failure_detail(done), delay=delay,
                       attempt=attempt + 1, attempts=attempts))
            sleep(delay)
    return done
