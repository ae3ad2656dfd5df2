"""The Kubernetes API from inside a pod: the service account's token and CA, plain HTTPS.

Kubernetes gives every pod the API's address (KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT)
and, when its service account token is mounted, ``token``, ``ca.crt`` and ``namespace`` under
/var/run/secrets/kubernetes.io/serviceaccount. The standard library is enough to speak JSON over
HTTPS to it; no client library, no kubeconfig. The token is registered for redaction as soon as
it is read and only ever travels in the Authorization header.

Network failures, 5xx and 429 are retried with exponential backoff; 401 and 403 stop at once with
their own catalog message quoting the API's Status message; 404 is returned to the caller (an
object that finished and was removed meanwhile is not an error for it).
"""

from __future__ import annotations

import ipaddress
import json
import re
import ssl
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from luban_step import __version__, apicall, validate
from luban_step.apicall import Answer
from luban_step.credentials import read_secret
from luban_step.errors import StepError, notice

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
ATTEMPTS = 4
TIMEOUT = 20.0
_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
_BY_CODE = {401: "kube_unauthorized", 403: "kube_forbidden"}

Log = Callable[[str], None]


@dataclass(frozen=True)
class InCluster:
    """Where the API is and how this pod authenticates to it."""

    api: str  # https://HOST:PORT
    token_path: Path
    ca_path: Path
    namespace: str


Send = Callable[[urllib.request.Request, float, ssl.SSLContext], Answer]


def in_cluster(env: Mapping[str, str], service_account_dir: str, namespace: str | None) -> InCluster:
    """The pod's view of the API; ``namespace`` overrides the service account's own."""
    host = env.get("KUBERNETES_SERVICE_HOST", "")
    port = env.get("KUBERNETES_SERVICE_PORT", "")
    if not host or not port:
        raise StepError("kube_api_unknown", why="KUBERNETES_SERVICE_HOST or KUBERNETES_SERVICE_PORT is not set")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
        if not _HOST.fullmatch(host) or len(host) > 253:
            raise StepError("kube_api_unknown", why="KUBERNETES_SERVICE_HOST is not a host name or address") from None
    if not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
        raise StepError("kube_api_unknown", why="KUBERNETES_SERVICE_PORT is not a port number")
    shown_host = "[%s]" % host if address is not None and address.version == 6 else host
    base = Path(service_account_dir)
    if namespace is None:
        file = base / "namespace"
        try:
            namespace = file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
            raise StepError("unreadable_file", option="--service-account-dir", path=file, reason=reason) from None
        option = "The service account's namespace file"
    else:
        option = "--namespace"
    validate.kube_name(namespace, option, label=True)
    return InCluster("https://%s:%d" % (shown_host, int(port)), base / "token", base / "ca.crt", namespace)


def _send(request: urllib.request.Request, timeout: float, context: ssl.SSLContext) -> Answer:
    # The API is inside the cluster: never through an HTTP(S)_PROXY the pod may have set.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                         urllib.request.HTTPSHandler(context=context))
    return apicall.send(request, timeout, opener)


def status_message(answer: Answer) -> str:
    """The API's own words: a Status object's message (and reason)."""
    data = apicall.json_object(answer)
    if isinstance(data, str):
        return data
    message = str(data.get("message") or "no message")
    reason = data.get("reason")
    return "%s: %s" % (reason, message) if isinstance(reason, str) and reason else message


class Client:
    """JSON calls to one cluster's API with the pod's token; see the module docstring."""

    def __init__(self, cluster: InCluster, *, send: Send = _send, sleep: Callable[[float], None] = time.sleep,
                 log: Log = lambda line: None, attempts: int = ATTEMPTS) -> None:
        self.cluster = cluster
        self.token = read_secret(cluster.token_path, "--service-account-dir").strip()
        try:
            self.context = ssl.create_default_context(cafile=str(cluster.ca_path))
        except (OSError, ssl.SSLError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise StepError("unreadable_file", option="--service-account-dir", path=cluster.ca_path,
                            reason=reason) from None
        self._send = send
        self._sleep = sleep
        self._log = log
        self._attempts = attempts

    def url(self, path: str, query: Mapping[str, str] | None = None) -> str:
        return self.cluster.api + path + ("?" + urlencode(query) if query else "")

    def call(self, method: str, path: str, *, verb: str, query: Mapping[str, str] | None = None,
             body: object = None, content_type: str = "application/json") -> tuple[int, object]:
        """One API call: (status code, parsed JSON) for 2xx and 404; every other answer raises."""
        url = self.url(path, query)
        shown_url = self.url(path)  # messages name the resource; the selectors would only crowd them
        headers = {"Accept": "application/json", "Authorization": "Bearer " + self.token,
                   "User-Agent": "luban-step/" + __version__}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = content_type
        answer, detail = apicall.with_retries(
            lambda: self._send(urllib.request.Request(url, data=payload, headers=headers, method=method), TIMEOUT,
                               self.context),
            status_message, retry_notice=lambda **fields: notice("kube_retry", **fields), attempts=self._attempts,
            sleep=self._sleep, log=self._log)
        if answer is None:
            raise StepError("kube_unavailable", url=shown_url, attempts=self._attempts, detail=detail)
        if 200 <= answer.code < 300 or answer.code == 404:
            return answer.code, self._json(answer, shown_url)
        if answer.code in _BY_CODE:
            raise StepError(_BY_CODE[answer.code], detail=status_message(answer), url=shown_url,
                            path=self.cluster.token_path, verb=verb, namespace=self.cluster.namespace)
        raise StepError("kube_unexpected", code=answer.code, detail=status_message(answer), url=shown_url)

    @staticmethod
    def _json(answer: Answer, url: str) -> object:
        try:
            return json.loads(answer.body.decode("utf-8")) if answer.body else {}
        except (UnicodeDecodeError, ValueError) as exc:
            raise StepError("kube_invalid_answer", url=url, reason="not JSON (%s)" % exc) from None
