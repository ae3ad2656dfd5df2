"""digest: the pushed image's digest from the lifecycle's report.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from luban_step import validate
from luban_step.errors import StepError, notice
from luban_step.outputs import write_outputs


@dataclass(frozen=True)
class DigestRequest:
    report: str
    outputs: str
    image_repository: str | None = None


@dataclass(frozen=True)
class Report:
    digest: str
    tags: tuple[str, ...]


def read_report(path: Path) -> Report:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise StepError("unreadable_file", option="--report", path=path,
                        reason=exc.strerror or str(exc)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise StepError("report_invalid", path=path, reason=str(exc)) from None
    image = data.get("image")
    digest = image.get("digest") if isinstance(image, dict) else None
    if not digest:
        raise StepError("report_no_digest", path=path)
    if not isinstance(digest, str) or not validate.is_digest(digest):
        raise StepError("invalid_digest", path=path, value=digest)
    tags = image.get("tags") or []
    return Report(digest, tuple(t for t in tags if isinstance(t, str)))


def repository_of(tag: str) -> str:
    """quay.io:443/acme/shop:1.0 -> quay.io:443/acme/shop (a ':' after the last '/' is the tag)."""
    head, _sep, last = tag.rpartition("/")
    name = last.split(":", 1)[0]
    return head + "/" + name if head else name


def digest(request: DigestRequest) -> str:
    repository = request.image_repository
    if repository:
        repository = validate.image_repository(repository, "--image-repository")
    report = read_report(Path(request.report))
    values = {"digest": report.digest}
    if not repository and report.tags:
        repository = validate.image_repository(repository_of(report.tags[0]), "report.toml tags")
    if repository:
        values["image"] = repository + "@" + report.digest
    write_outputs(request.outputs, values)
    return notice("digest", image=values.get("image", report.digest))
