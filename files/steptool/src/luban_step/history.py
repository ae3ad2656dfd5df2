"""Orders two commits of the source repository by ancestry, never by their dates.

The checkout is one commit deep, so the history that relates the commit being deployed to the
deployed one is fetched here, into a private repository: only commit objects where the server
supports partial clone (``tree:0``), deepened step by step from both commits and the ref's current
tip until ancestry answers or ``limit`` commits of each history have been looked at
(docs/decisions/0301-*).

"Not an ancestor" is only believed once the walk from the younger commit reached the root of its
history: in a shallow repository git answers "no" for ancestors beyond the shallow boundary.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from luban_step.errors import StepError
from luban_step.gitcmd import Git, failure_detail, fetch

DEFAULT_LIMIT = 5000
_STEPS = (64, 512, 4096)  # depths tried before the limit
_TIP = "refs/luban/tip"
_NOT_FOUND = re.compile(r"not our ref|couldn't find remote ref|no such remote ref|"
                        r"unadvertised object|did not send all necessary objects", re.I)


@dataclass(frozen=True)
class Order:
    """forward, backwards, rewritten (history was rewritten and the ref holds the new commit),
    off-ref (rewritten, and the ref no longer holds the new commit), unknown (within the limit),
    or stale (another ref's record, and the new commit is no longer its own ref's tip)."""

    verdict: str
    why: str = ""


@dataclass
class SourceHistory:
    """The source repository's history, fetched on demand into ``git``'s (empty) directory."""

    git: Git
    url: str
    ref: str
    limit: int = DEFAULT_LIMIT
    log: Callable[[str], None] = lambda line: None
    sleep: Callable[[float], None] = time.sleep
    _depth: int = 0
    _ready: bool = False
    _missing: set[str] = field(default_factory=set)
    _fetched: set[str] = field(default_factory=set)
    _tip: str | None = None

    def _start(self) -> None:
        if self._ready:
            return
        self.git.run(["init", "-q"], "init")
        self.git.run(["remote", "add", "origin", self.url], "remote add")
        # Commits are all the walk needs: a server that supports partial clone sends no trees or
        # blobs; one that does not ignores the filter and sends them.
        for key, value in (("core.repositoryformatversion", "1"), ("extensions.partialClone", "origin"),
                           ("remote.origin.promisor", "true"), ("remote.origin.partialclonefilter", "tree:0")):
            self.git.run(["config", key, value], "config")
        self._ready = True

    def _fetch(self, depth: int, what: list[str], required: bool) -> bool:
        done = fetch(self.git, ["-q", "--no-tags", "--depth", str(depth), "origin", *what], "fetch (source history)",
                     final=_NOT_FOUND, log=self.log, sleep=self.sleep)
        if done.returncode == 0:
            self._fetched.update(what)
            return True
        if not required and _NOT_FOUND.search(done.stderr):
            return False
        if _NOT_FOUND.search(done.stderr):
            raise StepError("revision_not_found", sha=what[0], url=self.url, detail=failure_detail(done))
        raise StepError("git_failed", action="fetch (source history)", code=done.returncode,
                        detail=failure_detail(done))

    def _deepen(self, depth: int, new: str, deployed: str) -> None:
        self._start()
        self._fetch(depth, [new], required=True)
        if deployed not in self._missing and not self._fetch(depth, [deployed], required=False):
            self._missing.add(deployed)  # force-pushed away and collected: not in the history any more
        if self._fetch(depth, ["+%s:%s" % (self.ref, _TIP)], required=False):
            self._tip = self.git.out(["rev-parse", _TIP], "rev-parse")
        self._depth = depth

    def _contains(self, newer: str | None, older: str) -> bool | None:
        """Whether ``older`` is ``newer`` or one of its ancestors; None while the fetched history is
        too shallow to say no (git answers "no" past a shallow boundary)."""
        if newer is None:
            return False
        if older == newer:
            return True
        if older in self._missing:
            return False  # gone from the server: reachable commits are never collected
        if newer in self._missing:
            return None
        done = self.git.run(["merge-base", "--is-ancestor", older, newer], "merge-base", check=False)
        if done.returncode == 0:
            return True
        if done.returncode != 1:
            raise StepError("git_failed", action="merge-base", code=done.returncode, detail=failure_detail(done))
        return False if self._complete(newer) else None

    def _complete(self, sha: str) -> bool:
        """Whether the whole history of ``sha`` is here (its walk meets no shallow boundary)."""
        shallow_file = Path(self.git.out(["rev-parse", "--git-path", "shallow"], "rev-parse"))
        if not shallow_file.is_absolute():
            shallow_file = self.git.cwd / shallow_file
        boundary = set(shallow_file.read_text().split()) if shallow_file.is_file() else set()
        if not boundary:
            return True
        walked = self.git.out(["rev-list", sha], "rev-list").split()
        return boundary.isdisjoint(walked)

    def tip_commit(self) -> str | None:
        """The commit the ref holds now; None when the ref no longer exists."""
        self._start()
        if not self._fetch(max(self._depth, 1), ["+%s:%s" % (self.ref, _TIP)], required=False):
            return None
        self._tip = self.git.out(["rev-parse", _TIP + "^{commit}"], "rev-parse")
        return self._tip

    def commit_time(self, sha: str) -> int | None:
        """The committer time of ``sha``: recorded for people, never used to decide."""
        if sha not in self._fetched:
            self._start()
            self._fetch(max(self._depth, 1), [sha], required=True)
        done = self.git.run(["show", "-s", "--format=%ct", sha], "show", check=False)
        text = done.stdout.strip()
        return int(text) if done.returncode == 0 and text.isdigit() else None

    def order(self, new: str, deployed: str) -> Order:
        """Where ``new`` stands against ``deployed`` in the history of the ref.

        forward: ``deployed`` is an ancestor of ``new`` and the ref holds ``new``. dropped: the same,
        but the ref no longer holds ``new`` (force-pushed away after it was built). backwards: the reverse, while the ref
        still holds ``deployed``. When the ref no longer holds ``deployed`` (a force push) and does
        hold ``new``, the ref's history was rewritten and ``new`` is what it says now: rewritten.
        Neither related and ``new`` not on the ref: off-ref. Unanswered within the limit: unknown.
        """
        steps = [d for d in _STEPS if d < self.limit] + [self.limit]
        # A later question (another pair: a push race's new record, supersede's next run) starts at
        # the depth already fetched, with its own commits fetched to it, then deepens further.
        depths = ([self._depth] if self._depth else []) + [d for d in steps if d > self._depth]
        backwards = False
        for depth in depths:
            self._deepen(depth, new, deployed)
            if self._contains(new, deployed):
                if self._tip is not None and self._contains(self._tip, new) is False:
                    return Order("dropped", "the ref no longer holds it")
                return Order("forward")
            back = self._contains(deployed, new)
            new_on_tip = self._contains(self._tip, new)
            deployed_on_tip = self._contains(self._tip, deployed)
            if back:
                backwards = True
                if deployed_on_tip is False and new_on_tip:
                    return Order("rewritten", "reset to this older commit")
                if deployed_on_tip:
                    return Order("backwards", "it descends from %s" % new)
            elif back is False and self._contains(new, deployed) is False:
                if new_on_tip and deployed_on_tip is False:
                    return Order("rewritten", "its history was replaced")
                if new_on_tip is False:
                    return Order("off-ref")
        if backwards:
            return Order("backwards", "it descends from %s" % new)
        return Order("unknown")
