"""Every message luban-step shows a user: one catalog, each entry says what happened, why, what to do.

Values taken from the command line or from remote systems are rendered with :func:`shown`, so a
hostile value (newlines, control characters, megabytes of text) cannot forge or flood log lines.
Secrets never reach this module: callers pass file paths, never file contents, and
:mod:`luban_step.redact` scrubs command output before it is quoted here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

_MAX_SHOWN = 200


class Exit(IntEnum):
    """Process exit codes (documented in docs/step-tool.md)."""

    OK = 0
    FAILED = 1  # an unexpected internal error (a bug): the traceback is not shown, the type is
    USAGE = 2  # an argument failed validation (also argparse's own code for unknown options)
    CONFIG = 3  # something mounted or installed is missing or malformed
    REMOTE = 4  # git remote or GitHub API refused or failed


@dataclass(frozen=True)
class Entry:
    exit: Exit
    template: str


CATALOG: dict[str, Entry] = {
    # --- arguments -------------------------------------------------------------------------
    "invalid-sha": Entry(
        Exit.USAGE,
        "{option} {value} is not a commit SHA. Every step of a run must see the same exact "
        "commit, so only a full SHA is accepted. Pass the 40-character hexadecimal SHA of the "
        "commit (the webhook's head commit id).",
    ),
    "invalid-repo": Entry(
        Exit.USAGE,
        "{option} {value} is not an OWNER/NAME repository. The name reaches API paths and commit "
        "messages, so the owner may hold letters, digits and '-', the name letters, digits, '-', "
        "'_' and '.'. Pass it as GitHub shows it, for example acme/shop.",
    ),
    "invalid-git-url": Entry(
        Exit.USAGE,
        "{option} {value} is not an accepted git URL: {why}. Use https://HOST/OWNER/NAME.git, "
        "ssh://git@HOST/OWNER/NAME.git or git@HOST:OWNER/NAME.git.",
    ),
    "invalid-git-host": Entry(
        Exit.USAGE,
        "{option} {value} is not a git host: {why}. Pass the host of the configured GitHub URL as HOST "
        "or HOST:PORT, for example github.com or ghe.example.com:8443.",
    ),
    "git-host-mismatch": Entry(
        Exit.USAGE,
        "{option} {value} does not name the configured git host {host}. Repository URLs are built "
        "from the configured GitHub URL and credentials go to that host only, so a URL naming another "
        "host or port is refused. Check argo_workflows_github_url and the URL the step was given.",
    ),
    "credentials-in-url": Entry(
        Exit.USAGE,
        "{option} carries a user name or password inside the URL. URLs end up in logs and in "
        ".git/config, so luban-step never accepts credentials there. Remove them from the URL and "
        "mount them as a secret in --credentials-dir ('token' or 'ssh-privatekey').",
    ),
    "invalid-api-url": Entry(
        Exit.USAGE,
        "{option} {value} is not an accepted API base URL: {why}. Use https://api.github.com, or "
        "https://HOST/api/v3 for GitHub Enterprise Server.",
    ),
    "invalid-target-url": Entry(
        Exit.USAGE,
        "{option} {value} is not an accepted link: {why}. GitHub shows it as the status's "
        "Details link, so it must be an absolute http(s) URL without spaces or control characters.",
    ),
    "invalid-path": Entry(
        Exit.USAGE,
        "{option} {value} is not an accepted path: {why}. Paths are relative to a repository, so "
        "'..', absolute paths, control characters and shell metacharacters are refused. Pass a "
        "plain relative path such as apps/shop/overlays/prod.",
    ),
    "invalid-ref": Entry(
        Exit.USAGE,
        "{option} {value} is not an accepted git ref name: {why}. Pass a branch or tag name such "
        "as main, release/1.2 or refs/tags/v1.2.0.",
    ),
    "invalid-image": Entry(
        Exit.USAGE,
        "{option} {value} is not an image pinned by digest. Deployments name images by digest so "
        "that exactly what was built is what runs. Pass REPOSITORY@sha256:DIGEST, as written by "
        "'luban-step digest' to DIR/image.",
    ),
    "invalid-image-name": Entry(
        Exit.USAGE,
        "{option} {value} is not an accepted image name: {why}. It must equal the image name "
        "used in the manifests (the 'name' of the kustomization's images entry), for example "
        "quay.io/acme/shop or shop.",
    ),
    "invalid-repository": Entry(
        Exit.USAGE,
        "{option} {value} is not an accepted image repository: {why}. Pass a repository without "
        "tag or digest, for example quay.io/acme/shop.",
    ),
    "invalid-history-limit": Entry(
        Exit.USAGE,
        "{option} {value} is not a number of commits. It bounds how much history deploy fetches to "
        "order two commits. Pass a whole number from 1 to 100000.",
    ),
    "invalid-state": Entry(
        Exit.USAGE,
        "{option} {value} is not a commit status state. GitHub knows exactly four states. Pass "
        "one of pending, success, failure, error.",
    ),
    "invalid-text": Entry(
        Exit.USAGE,
        "{option} {value} is not accepted: {why}. Pass a short single-line label.",
    ),
    "invalid-lane": Entry(
        Exit.USAGE,
        "{option} {value} is not a lane: {why}. The lane is the luban.ci/lane label the Sensor gives "
        "each Workflow (a hash of repository and ref). Pass the workflow's lane parameter unchanged.",
    ),
    "invalid-kube-name": Entry(
        Exit.USAGE,
        "{option} {value} is not a Kubernetes name: {why}. Pass the name Argo gives the step, "
        "unchanged (the Workflow's own name, its namespace).",
    ),
    "invalid-build-env": Entry(
        Exit.USAGE,
        "{option} {value} is not accepted: {why}. Pass NAME=VALUE, NAME made of letters, digits and "
        "'_' (not starting with a digit), as pack build --env takes it.",
    ),
    "invalid-annotations": Entry(
        Exit.USAGE,
        "{option} {value} is not the Workflow's annotations: {why}. The status step reads them to tell "
        "a superseded run from a failed one. Pass {{{{workflow.annotations.json}}}} unchanged.",
    ),
    "invalid-created": Entry(
        Exit.USAGE,
        "{option} {value} is not a creation time. Only runs created before this one are stopped, so "
        "it must be exact. Pass the Workflow's creationTimestamp (RFC 3339 with an offset or Z, for "
        "example 2026-11-24T05:00:00Z).",
    ),
    # --- mounted files and the installation -------------------------------------------------
    "git-missing": Entry(
        Exit.CONFIG,
        "The git command was not found on PATH. luban-step drives the git CLI for checkout and "
        "deploy, so its image must provide git. Run the step in an image whose run image "
        "includes git (see docs/step-tool.md).",
    ),
    "unreadable-file": Entry(
        Exit.CONFIG,
        "{option} {path} cannot be read: {reason}. The step expects it to be mounted into the "
        "pod. Check the volume and the path given.",
    ),
    "no-credentials": Entry(
        Exit.CONFIG,
        "--credentials-dir {path} holds neither 'token' nor 'ssh-privatekey'. The step needs one "
        "of them to reach the repository. Mount the secret with the key 'token' (HTTPS) or "
        "'ssh-privatekey' (SSH, plus 'known_hosts').",
    ),
    "credentials-mismatch": Entry(
        Exit.CONFIG,
        "The repository URL uses {scheme}, but --credentials-dir {path} holds no '{needed}'. "
        "The credential must match the transport. Mount '{needed}' or change the URL.",
    ),
    "missing-known-hosts": Entry(
        Exit.CONFIG,
        "--credentials-dir {path} holds 'ssh-privatekey' but no 'known_hosts'. Without it the "
        "server's identity cannot be verified, and luban-step never trusts an unknown host key. "
        "Add the server's known_hosts lines (ssh-keyscan HOST, checked) to the secret.",
    ),
    "empty-secret": Entry(
        Exit.CONFIG,
        "The secret file {path} is empty. An empty credential can only fail later with a "
        "confusing error. Fill the secret key, or leave the file out to go anonymous.",
    ),
    "token-over-http": Entry(
        Exit.CONFIG,
        "Refusing to send the token in {path} over plain http to {host}. A token sent without "
        "TLS can be read on the way. Use an https:// URL.",
    ),
    "registry-invalid": Entry(
        Exit.CONFIG,
        "The language registry {path} is not usable: {reason}. It must be the JSON list written "
        "by the luban.ci.language_registry filter (the language ConfigMap). Check the ConfigMap "
        "mounted at that path.",
    ),
    "language-selection": Entry(Exit.CONFIG, "{message}"),
    "source-missing": Entry(
        Exit.CONFIG,
        "--source {path} is not a directory. detect reads the checkout written by "
        "'luban-step checkout'. Check that both steps mount the same volume at the same path.",
    ),
    "dest-not-empty": Entry(
        Exit.CONFIG,
        "--dest {path} exists and is not empty. A checkout into leftover files could mix two "
        "sources. Give an empty or new directory.",
    ),
    "outputs-unwritable": Entry(
        Exit.CONFIG,
        "Cannot write the output {path}: {reason}. Argo reads step outputs from files. Check "
        "that --outputs names a writable directory.",
    ),
    "report-invalid": Entry(
        Exit.CONFIG,
        "The lifecycle report {path} is not valid TOML: {reason}. The lifecycle's exporter writes it with "
        "-report after a successful export. Check the build step's log.",
    ),
    "report-no-digest": Entry(
        Exit.CONFIG,
        "The lifecycle report {path} has no [image] digest. The export did not push an image to "
        "a registry (a daemon export, or a failed export). Check the build step's log and that it "
        "exports to a registry.",
    ),
    "invalid-digest": Entry(
        Exit.CONFIG,
        "The lifecycle report {path} gives the digest {value}, which is not sha256:<64 hex>. "
        "Only a registry digest can pin a deployment. Check the lifecycle version and the build "
        "step's log.",
    ),
    "kustomization-missing": Entry(
        Exit.CONFIG,
        "kustomization.yaml does not exist in {path} on branch {branch} of the GitOps repository. "
        "luban-step edits an existing kustomization and never creates one. Commit a "
        "kustomization.yaml at that path first.",
    ),
    "kustomization-invalid": Entry(
        Exit.CONFIG,
        "kustomization.yaml in {path} on branch {branch} cannot be edited: {reason}. Fix the file "
        "in the GitOps repository.",
    ),
    "project-include-and-exclude": Entry(
        Exit.CONFIG,
        "{path} has both include and exclude under {table}. pack refuses such a descriptor "
        "('cannot have both include and exclude defined'), and the cluster build follows pack. Keep "
        "one of the two lists.",
    ),
    "project-invalid-field": Entry(
        Exit.CONFIG,
        "{path}: {field} {why}. The cluster build reads it as pack does (include and exclude are "
        "lists of gitignore-style patterns). Fix project.toml.",
    ),
    "project-env-invalid": Entry(
        Exit.CONFIG,
        "{path}: entry {index} of {table} {why}. Each build env entry needs a name of letters, "
        "digits and '_' (not starting with a digit) and a string value. Fix project.toml.",
    ),
    "prepare-dir-not-empty": Entry(
        Exit.CONFIG,
        "--prepare-dir {path} holds something other than a previous preparation (app, platform). "
        "Preparing the build there could mix two sources or delete files. Give an empty or new "
        "directory.",
    ),
    "prepare-failed": Entry(
        Exit.CONFIG,
        "Cannot prepare the app for the build in {path}: {reason}. The build reads the app and its "
        "build env from there. Check that --prepare-dir is on the writable workspace volume and has "
        "room.",
    ),
    "kube-api-unknown": Entry(
        Exit.CONFIG,
        "The Kubernetes API address is not usable: {why}. supersede talks to the API from inside a "
        "pod, where Kubernetes sets KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT. Run it as "
        "the supersede step of the luban-ci workflow.",
    ),
    # --- remotes ------------------------------------------------------------------------------
    "token-host-refused": Entry(
        Exit.REMOTE,
        "git asked for the token for {asked}, but the token may only go to {origin}. The server "
        "sent git to another host (a moved repository, or a hostile redirect), and luban-step never "
        "hands a token to a host it was not configured for. Point the configured URL at the "
        "repository's current location.",
    ),
    "git-failed": Entry(
        Exit.REMOTE,
        "git {action} failed with exit code {code}: {detail}. Check the URL, the credentials and "
        "that the server is reachable, then retry the step.",
    ),
    "revision-not-found": Entry(
        Exit.REMOTE,
        "The commit {sha} could not be fetched from {url}: {detail}. The server does not have it "
        "(a typo, or the commit was force-pushed away). Check the SHA; a newer push starts a new "
        "run anyway.",
    ),
    "head-mismatch": Entry(
        Exit.REMOTE,
        "After checkout HEAD is {head}, not the requested {sha}. The files on disk are not the "
        "commit that was asked for, so the run stops. Retry the step; if it persists, check the "
        "remote.",
    ),
    "branch-missing": Entry(
        Exit.REMOTE,
        "Branch {branch} does not exist in the GitOps repository {url}. luban-step commits to an "
        "existing branch and never creates one. Create the branch or fix --gitops-branch.",
    ),
    "push-rejected": Entry(
        Exit.REMOTE,
        "The GitOps repository refused the push to {branch}: {detail}. Check that the "
        "credentials may push to that branch and that branch protection allows it.",
    ),
    "deploy-order-unknown": Entry(
        Exit.REMOTE,
        "Cannot tell whether {sha} comes after the deployed {deployed} of {ref}: their histories "
        "do not meet within the last {limit} commits of each. A deployment only moves forward along "
        "the history of its ref, never by commit dates, so nothing was deployed. Run the deploy "
        "again with a larger --history-limit, or push a commit that descends from the deployed one.",
    ),
    "push-race-exhausted": Entry(
        Exit.REMOTE,
        "The push to {branch} was overtaken by other pushes {attempts} times in a row. Other "
        "runs keep updating the GitOps repository faster than this one can rebase. Retry the "
        "step.",
    ),
    "api-unauthorized": Entry(
        Exit.REMOTE,
        "GitHub answered 401 ({detail}) for {url}. The token in {path} is wrong, expired or "
        "revoked. Renew the token and update the secret.",
    ),
    "api-forbidden": Entry(
        Exit.REMOTE,
        "GitHub answered 403 ({detail}) for {url}. The token may not write commit statuses to "
        "this repository, or a rate limit was hit. Grant the token 'Commit statuses: write' (or "
        "repo:status) on the repository, or wait for the limit to reset.",
    ),
    "api-not-found": Entry(
        Exit.REMOTE,
        "GitHub answered 404 ({detail}) for {url}. The repository or commit does not exist, or "
        "the token cannot see it. Check --repo, --sha, --api-url and the token's repository "
        "access.",
    ),
    "api-invalid": Entry(
        Exit.REMOTE,
        "GitHub answered 422 ({detail}) for {url}. It refused the status's content (GitHub keeps "
        "at most 1000 statuses per commit and context). Check the state, context and target URL.",
    ),
    "api-unexpected": Entry(
        Exit.REMOTE,
        "GitHub answered {code} ({detail}) for {url}, which the statuses API does not document "
        "for this call. Check --api-url points at the REST API root.",
    ),
    "api-unavailable": Entry(
        Exit.REMOTE,
        "GitHub could not be reached at {url} after {attempts} attempts: {detail}. The server or "
        "the network failed. Retry later; check proxies and --api-url.",
    ),
    "kube-unauthorized": Entry(
        Exit.REMOTE,
        "The Kubernetes API answered 401 ({detail}) for {url}. It did not accept the service account "
        "token in {path}. Check that the step runs with a mounted token (the supersede template sets "
        "automountServiceAccountToken: true).",
    ),
    "kube-forbidden": Entry(
        Exit.REMOTE,
        "The Kubernetes API answered 403 ({detail}) for {url}. The step's service account may not "
        "{verb} Workflows in namespace {namespace}. Apply the argo_workflows role's RBAC (Role "
        "luban-ci-supersede: list and patch on workflows) and run the step as luban-ci-supersede.",
    ),
    "kube-unexpected": Entry(
        Exit.REMOTE,
        "The Kubernetes API answered {code} ({detail}) for {url}, which listing or stopping "
        "Workflows does not expect. Check that Argo Workflows (its Workflow CRD) is installed in the "
        "cluster.",
    ),
    "kube-invalid-answer": Entry(
        Exit.REMOTE,
        "The Kubernetes API answered {url} with something that is not a Workflow list: {reason}. "
        "Check that the URL reaches the cluster's API server and that Argo Workflows is installed.",
    ),
    "kube-unavailable": Entry(
        Exit.REMOTE,
        "The Kubernetes API could not be reached at {url} after {attempts} attempts: {detail}. The "
        "API server or the network failed. Retry the step.",
    ),
}

# Informational lines: also shown to users, also tested word for word.
NOTICES: dict[str, str] = {
    "checked-out": "Checked out {sha} into {path}.",
    "detected": "Selected {language} ({source}) with builder {builder} and template {template}.",
    "digest": "Image {image}.",
    "deployed": "Deployed {image} from {repo} at {sha} to {path} on {branch}.",
    "already-deployed": "{image} from {repo} at {sha} is already deployed to {path} on {branch}; "
    "nothing to do.",
    "refuse-backwards": "Not deploying {repo} at {sha} to {path} on {branch}: the deployed commit "
    "{deployed} of {ref} is newer ({why}). A deployment never moves backwards; the newer "
    "commit stays.",
    "refuse-off-ref": "Not deploying {repo} at {sha} to {path} on {branch}: {ref} was rewritten "
    "and no longer holds it, and it is neither an ancestor nor a descendant of the deployed "
    "{deployed}. What {ref} holds now deploys when it is built.",
    "refuse-stale": "Not deploying {repo} at {sha} to {path} on {branch}: the deployment comes from {other}, and "
    "{ref} no longer holds {sha} at its tip (a late or replayed delivery). Another ref takes a deployment "
    "over only with what it holds now.",
    "deploy-rewritten": "{ref} was force-pushed ({why}): the deployed {deployed} is no longer on it "
    "and {sha} is; deploying {sha}.",
    "git-retry": "git {action} failed ({detail}); retrying in {delay}s (attempt {attempt} of {attempts}).",
    "push-retry": "The push to {branch} was overtaken by another push; re-applying on the new "
    "tip (attempt {attempt} of {attempts}).",
    "status-set": "Set commit status {state} for {context} on {repo} at {sha}.",
    "status-retry": "GitHub did not answer cleanly ({detail}); retrying in {delay}s (attempt "
    "{attempt} of {attempts}).",
    "prepared": "Prepared the app for the build in {path}: {kept} file(s) kept, {dropped} left out "
    "({rule}; .git is never built); build env: {names}.",
    "stopping": "Stopping {name} of lane {lane}, created {created}: superseded by {workflow}.",
    "superseded": "Stopped {count} older run(s) of lane {lane}.",
    "not-superseding": "Not stopping {name}: its commit {theirs} stays, as {why}; only runs of commits "
    "that {sha} descends from are stopped.",
    "duplicate-run": "{sha} is already being built or was built by {name} ({phase}); this run builds nothing "
    "and posts no commit status. Redelivering the webhook of a run that failed builds again.",
    "status-skipped": "No commit status from this run: it is a duplicate of {name}, which reports {sha}.",
    "nothing-to-supersede": "No older run of lane {lane} is running; nothing to stop.",
    "kube-retry": "The Kubernetes API did not answer cleanly ({detail}); retrying in {delay}s "
    "(attempt {attempt} of {attempts}).",
}


# One-line outcomes of deploy for the commit status description (report appends DIR/outcome to
# "build <phase>"; GitHub shows 140 characters). Values are abbreviated SHAs, refs and paths.
OUTCOMES: dict[str, str] = {
    "deployed": "deployed to {path}",
    "already-deployed": "already deployed to {path}",
    "refuse-backwards": "not deployed: the deployed {deployed} of {ref} descends from it",
    "refuse-off-ref": "not deployed: {ref} was rewritten and no longer holds it",
    "deploy-order-unknown": "not deployed: no common history with the deployed {deployed} within {limit} commits",
    "refuse-stale": "not deployed: {ref} has moved on from it",
    "superseded": "superseded by {sha}, which descends from this commit; not built to the end",
}


# Fields written by luban-step itself; every other field is quoted with shown().
_TRUSTED = frozenset({"option", "why", "action", "code", "attempt", "attempts", "needed", "scheme", "message",
                      "delay", "state", "source", "verb", "count", "field", "table", "index", "kept", "dropped",
                      "rule", "names", "limit"})
# Remote or OS text: longer than an argument and still useful; made single-line, not quoted.
_LONG = frozenset({"detail", "reason"})


def shown(value: object, limit: int = _MAX_SHOWN, quote: bool = True) -> str:
    """Quote a value for a message: single line, printable ASCII, bounded length."""
    text = str(value)
    cut = len(text) > limit
    body = text[:limit]
    safe = "".join(
        c if (c.isascii() and c.isprintable()) else c.encode("unicode_escape").decode("ascii")
        for c in body
    )
    if cut:
        safe += "...(%d characters)" % len(text)
    return "'" + safe.replace("'", "\\'") + "'" if quote else safe


def _render(template: str, fields: dict[str, object]) -> str:
    safe = {
        name: value if name in _TRUSTED else (shown(value, 400, quote=False) if name in _LONG
                                              else shown(value))
        for name, value in fields.items()
    }
    return template.format(**safe)


class StepError(Exception):
    """A failure with its catalog message; the CLI prints it and exits with its code."""

    def __init__(self, key: str, **fields: object) -> None:
        entry = CATALOG[key]
        self.key = key
        self.exit_code = int(entry.exit)
        self.message = _render(entry.template, fields)
        super().__init__(self.message)


def notice(key: str, **fields: object) -> str:
    return _render(NOTICES[key], fields)


def outcome(key: str, **fields: object) -> str:
    """A deploy outcome for the commit status: plain values, single line, bounded."""
    return OUTCOMES[key].format(**{name: shown(value, 80, quote=False) for name, value in fields.items()})
