"""tag: a run of inputs built already takes the image found for them, as it is.

``luban-step inputs`` found ``REPO@sha256:…`` built from the same inputs on the current run image;
this step points the run's tags at that manifest (the same bytes, so the same digest) and writes
the lifecycle's report shape for the digest step. A rebase (another run image) is the lifecycle's
rebaser, in the build template.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from luban_step import validate
from luban_step._vendor.build_inputs import InputsError, Reference, Registry
from luban_step.errors import StepError, notice
from luban_step.inputs import run_command

# A tag as the distribution spec allows it.
TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
ATTEMPTS = 3
DELAYS = (2, 8)


@dataclass(frozen=True)
class TagRequest:
    image: str  # REPO@sha256:…
    tags: tuple[str, ...]  # REPO:TAG, each in the image's repository
    report: str
    docker_config: str | None = None
    insecure_registries: tuple[str, ...] = ()


def _report(path: Path, tags: list[str], digest: str) -> None:
    lines = ["[image]", "  tags = [%s]" % ", ".join('"%s"' % t for t in tags), '  digest = "%s"' % digest, ""]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines), encoding="utf-8")
    except OSError as exc:
        raise StepError("outputs_unwritable", path=path, reason=exc.strerror or str(exc)) from None


def tag(request: TagRequest, log=print, sleep=time.sleep) -> str:
    repository, digest = validate.image_by_digest(request.image, "--image")
    names = []
    for item in request.tags:
        head, _colon, name = item.rpartition(":")
        if head != repository or not TAG.fullmatch(name):
            raise StepError("tag_elsewhere", value=item, repository=repository)
        names.append(name)
    registry = Registry(Path(request.docker_config or "/nonexistent"), run_command, request.insecure_registries)
    ref = Reference.parse(request.image)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            registry.tag(ref, digest, names)
            break
        except InputsError as exc:
            if attempt == ATTEMPTS:
                raise StepError("tag_failed", image=request.image, detail=str(exc), attempts=ATTEMPTS) from None
            log(notice("tag_retry", attempt=attempt, attempts=ATTEMPTS, delay=DELAYS[attempt - 1], detail=str(exc)))
            sleep(DELAYS[attempt - 1])
    _report(Path(request.report), list(request.tags), digest)
    return notice("tagged", image=request.image, count=len(names))
