"""JSON API calls over HTTPS with the standard library, as status (GitHub) and kubeapi (Kubernetes)
make them: one request's answer whatever its code, and the retry rules both follow.

Network failures, 5xx and 429 are retried with exponential backoff (1 s, 2 s, 4 s, ...), each
retry announced with the caller's notice; any other answer ends the attempts and is the
caller's to judge (success, or a refusal with its own catalog message).
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Answer:
    code: int
    body: bytes


def send(request: urllib.request.Request, timeout: float,
         opener: urllib.request.OpenerDirector | None = None) -> Answer:
    """The answer to ``request``, an HTTP error's included; ``opener`` defaults to urllib's own."""
    open_url = opener.open if opener is not None else urllib.request.urlopen
    try:
        with open_url(request, timeout=timeout) as response:  # noqa: S310 (URLs validated by the callers)
            return Answer(response.status, response.read())
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, exc.read() or b"")


def json_object(answer: Answer) -> dict | str:
    """The JSON object an answer carries (an error's own words are in it), or why there is none."""
    try:
        data = json.loads(answer.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return "no JSON body"
    return data if isinstance(data, dict) else "unexpected JSON body"


def with_retries(send_once: Callable[[], Answer], describe: Callable[[Answer], str], *,
                 retry_notice: Callable[..., str], attempts: int, sleep: Callable[[float], None],
                 log: Callable[[str], None]) -> tuple[Answer | None, str]:
    """The first answer that is not retried, or ``None`` and what went wrong last once ``attempts``
    calls of ``send_once`` have failed. Before each retry ``log`` gets ``retry_notice(detail=,
    delay=, attempt=, attempts=)``, the detail of an answer in ``describe``'s words."""
    detail = ""
    for attempt in range(1, attempts + 1):
        try:
            answer = send_once()
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            detail = "%s: %s" % (type(exc).__name__, reason)
        else:
            if answer.code < 500 and answer.code != 429:
                return answer, ""
            detail = "HTTP %d %s" % (answer.code, describe(answer))
        if attempt < attempts:
            delay = 2 ** (attempt - 1)
            log(retry_notice(detail=detail, delay=delay, attempt=attempt + 1, attempts=attempts))
            sleep(delay)
    return None, detail
