"""status: a GitHub commit status (POST /repos/{owner}/{repo}/statuses/{sha}).

A run that supersede stopped (annotation ``luban.ci/superseded-by``) did not fail: its final
``failure``/``error`` becomes ``pending`` with "superseded by <sha>". GitHub's statuses API knows
only pending, success, failure and error; pending is the one that marks nothing as broken or
done, and the superseded commit is never its ref's tip again, so nothing waits on it.

Works against github.com (https://api.github.com) and GitHub Enterprise Server
(https://HOST/api/v3). Retries network failures, 5xx and 429 with exponential backoff; every
other refusal maps to one catalog message.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from luban_step import __version__, apicall, validate
from luban_step.apicall import Answer
from luban_step.credentials import read_secret
from luban_step.errors import StepError, notice, outcome

API_VERSION = "2022-11-28"
ATTEMPTS = 4
TIMEOUT = 20.0
_BY_CODE = {401: "api_unauthorized", 403: "api_forbidden", 404: "api_not_found", 422: "api_invalid"}


@dataclass(frozen=True)
class StatusRequest:
    api_url: str
    repo: str
    sha: str
    state: str
    context: str
    description: str
    target_url: str
    token_file: str
    description_file: str | None = None
    workflow_annotations: str | None = None


SUPERSEDED_BY = "luban.ci/superseded-by"
SUPERSEDED_BY_REVISION = "luban.ci/superseded-by-revision"
DUPLICATE_OF = "luban.ci/duplicate-of"

Send = Callable[[urllib.request.Request, float], Answer]
Log = Callable[[str], None]


def _detail(answer: Answer) -> str:
    """GitHub's own words: message, plus the field errors of a 422."""
    data = apicall.json_object(answer)
    if isinstance(data, str):
        return data
    text = str(data.get("message") or "no message")
    errors = data.get("errors")
    if isinstance(errors, list) and errors:
        parts = []
        for item in errors:
            if isinstance(item, dict):
                parts.append(str(item.get("message") or "%s %s" % (item.get("field"), item.get("code"))))
            else:
                parts.append(str(item))
        text += ": " + "; ".join(parts)
    return text


def _description_file(path: str | None) -> str:
    """What a step left for the status (deploy's outcome); nothing when it did not run."""
    if not path:
        return ""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(1000)
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise StepError("unreadable_file", option="--description-file", path=path,
                        reason=exc.strerror or type(exc).__name__) from None


def _annotations(text: str | None) -> dict[str, str]:
    """The Workflow's annotations as Argo gives them ({{workflow.annotations.json}}; "null" for none)."""
    if text is None or text.strip() in ("", "null"):
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise StepError("invalid_annotations", option="--workflow-annotations", value=text,
                        why="it is not a JSON object of strings")
    return data


def build(request: StatusRequest) -> tuple[str, dict[str, object]]:
    """Validate everything and return (url, JSON body) of the call."""
    api = validate.api_url(request.api_url, "--api-url")
    repo = validate.repo_slug(request.repo, "--repo")
    sha = validate.sha(request.sha, "--sha")
    state = validate.state(request.state, "--state")
    context = validate.label(request.context, "--context")
    target = validate.target_url(request.target_url, "--target-url")
    description = request.description
    annotations = _annotations(request.workflow_annotations)
    if state in ("failure", "error") and SUPERSEDED_BY in annotations:
        by = annotations.get(SUPERSEDED_BY_REVISION, "")
        state = "pending"
        description = outcome("superseded", sha=by[:12] if validate.is_sha(by) else "a newer run")
    else:
        extra = _description_file(request.description_file)
        if extra:
            description = "%s; %s" % (description, extra) if description.strip() else extra
    owner, name = repo.split("/")
    url = "%s/repos/%s/%s/statuses/%s" % (api, quote(owner, safe=""), quote(name, safe=""), sha)
    body = {
        "state": state,
        "target_url": target or None,
        "description": validate.description(description) or None,
        "context": context,
    }
    return url, body


def set_status(request: StatusRequest, *, send: Send = apicall.send, sleep: Callable[[float], None] = time.sleep,
               log: Log = lambda line: None, attempts: int = ATTEMPTS) -> str:
    url, body = build(request)
    original = _annotations(request.workflow_annotations).get(DUPLICATE_OF)
    if original is not None:  # the original run reports this commit; a second voice would contradict it
        return notice("status_skipped", name=original, sha=request.sha.lower())
    token_path = Path(request.token_file)
    token = read_secret(token_path, "--token-file").strip()
    headers = {
        "Accept": "application/vnd.github+json",
        "Authorization": "Bearer " + token,
        "X-GitHub-Api-Version": API_VERSION,
        "Content-Type": "application/json",
        "User-Agent": "luban-step/" + __version__,
    }
    payload = json.dumps(body).encode("utf-8")
    answer, detail = apicall.with_retries(
        lambda: send(urllib.request.Request(url, data=payload, headers=headers, method="POST"), TIMEOUT),
        _detail, retry_notice=lambda **fields: notice("status_retry", **fields), attempts=attempts, sleep=sleep,
        log=log)
    if answer is None:
        raise StepError("api_unavailable", url=url, attempts=attempts, detail=detail)
    if 200 <= answer.code < 300:
        return notice("status_set", state=body["state"], context=body["context"], repo=request.repo,
                      sha=request.sha.lower())
    if answer.code in _BY_CODE:
        raise StepError(_BY_CODE[answer.code], detail=_detail(answer), url=url, path=token_path)
    raise StepError("api_unexpected", code=answer.code, detail=_detail(answer), url=url)
