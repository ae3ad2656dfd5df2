"""Every message luban-step shows a user: one catalog, each entry says what happened, why, what to do.

The catalogs have the collection's one shape (``catalog.Entry``, vendored from
plugins/module_utils/catalog.py) and are rendered by its one function, ``catalog.render``: values
taken from the command line or from remote systems are quoted by the same rule as in every other
component, so a hostile value (newlines, control characters, megabytes of text) cannot forge or
flood log lines. Secrets never reach this module: callers pass file paths, never file contents,
and :mod:`luban_step.redact` scrubs command output before it is quoted here.
"""

from __future__ import annotations

from dataclasses import replace
from enum import IntEnum

from luban_step._vendor import languages
from luban_step._vendor.catalog import Entry, Fields, render, with_fields


class Exit(IntEnum):
    """Process exit codes (documented in docs/step-tool.md)."""

    OK = 0
    FAILED = 1  # an unexpected internal error (a bug): the traceback is not shown, the type is
    USAGE = 2  # an argument failed validation (also argparse's own code for unknown options)
    CONFIG = 3  # something mounted or installed is missing or malformed
    REMOTE = 4  # git remote or GitHub API refused or failed


# Fields written by luban-step itself are plain; remote or OS text (longer than an argument and
# still useful) is long; every other field is quoted.
FIELDS = Fields(
    plain=frozenset({"option", "why", "action", "code", "attempt", "attempts", "needed", "scheme", "delay", "state",
                     "source", "verb", "count", "field", "table", "index", "kept", "dropped", "rule", "names",
                     "limit"}),
    long=frozenset({"detail", "reason"}),
)

ERRORS: dict[str, Entry] = with_fields(FIELDS, {
    # --- arguments -------------------------------------------------------------------------
    "invalid_sha": Entry(
        "{option} {value} is not a commit SHA. Every step of a run must see the same exact "
        "commit, so only a full SHA is accepted. Pass the 40-character hexadecimal SHA of the "
        "commit (the webhook's head commit id).",
        exit=Exit.USAGE,
    ),
    "invalid_repo": Entry(
        "{option} {value} is not an OWNER/NAME repository. The name reaches API paths and commit "
        "messages, so the owner may hold letters, digits and '-', the name letters, digits, '-', "
        "'_' and '.'. Pass it as GitHub shows it, for example acme/shop.",
        exit=Exit.USAGE,
    ),
    "invalid_git_url": Entry(
        "{option} {value} is not an accepted git URL: {why}. Use https://HOST/OWNER/NAME.git, "
        "ssh://git@HOST/OWNER/NAME.git or git@HOST:OWNER/NAME.git.",
        exit=Exit.USAGE,
    ),
    "invalid_git_host": Entry(
        "{option} {value} is not a git host: {why}. Pass the host of the configured GitHub URL as HOST "
        "or HOST:PORT, for example github.com or ghe.example.com:8443.",
        exit=Exit.USAGE,
    ),
    "git_host_mismatch": Entry(
        "{option} {value} does not name the configured git host {host}. Repository URLs are built "
        "from the configured GitHub URL and credentials go to that host only, so a URL naming another "
        "host or port is refused. Check argo_workflows_github_url and the URL the step was given.",
        exit=Exit.USAGE,
    ),
    "credentials_in_url": Entry(
        "{option} carries a user name or password inside the URL. URLs end up in logs and in "
        ".git/config, so luban-step never accepts credentials there. Remove them from the URL and "
        "mount them as a secret in --credentials-dir ('token' or 'ssh-privatekey').",
        exit=Exit.USAGE,
    ),
    "invalid_api_url": Entry(
        "{option} {value} is not an accepted API base URL: {why}. Use https://api.github.com, or "
        "https://HOST/api/v3 for GitHub Enterprise Server.",
        exit=Exit.USAGE,
    ),
    "invalid_target_url": Entry(
        "{option} {value} is not an accepted link: {why}. GitHub shows it as the status's "
        "Details link, so it must be an absolute http(s) URL without spaces or control characters.",
        exit=Exit.USAGE,
    ),
    "invalid_path": Entry(
        "{option} {value} is not an accepted path: {why}. Paths are relative to a repository, so "
        "'..', absolute paths, control characters and shell metacharacters are refused. Pass a "
        "plain relative path such as apps/shop/overlays/prod.",
        exit=Exit.USAGE,
    ),
    "invalid_ref": Entry(
        "{option} {value} is not an accepted git ref name: {why}. Pass a branch or tag name such "
        "as main, release/1.2 or refs/tags/v1.2.0.",
        exit=Exit.USAGE,
    ),
    "invalid_image": Entry(
        "{option} {value} is not an image pinned by digest. Deployments name images by digest so "
        "that exactly what was built is what runs. Pass REPOSITORY@sha256:DIGEST, as written by "
        "'luban-step digest' to DIR/image.",
        exit=Exit.USAGE,
    ),
    "invalid_image_name": Entry(
        "{option} {value} is not an accepted image name: {why}. It must equal the image name "
        "used in the manifests (the 'name' of the kustomization's images entry), for example "
        "quay.io/acme/shop or shop.",
        exit=Exit.USAGE,
    ),
    "invalid_repository": Entry(
        "{option} {value} is not an accepted image repository: {why}. Pass a repository without "
        "tag or digest, for example quay.io/acme/shop.",
        exit=Exit.USAGE,
    ),
    "invalid_history_limit": Entry(
        "{option} {value} is not a number of commits. It bounds how much history deploy fetches to "
        "order two commits. Pass a whole number from 1 to 100000.",
        exit=Exit.USAGE,
    ),
    "invalid_state": Entry(
        "{option} {value} is not a commit status state. GitHub knows exactly four states. Pass "
        "one of pending, success, failure, error.",
        exit=Exit.USAGE,
    ),
    "invalid_text": Entry(
        "{option} {value} is not accepted: {why}. Pass a short single-line label.",
        exit=Exit.USAGE,
    ),
    "invalid_lane": Entry(
        "{option} {value} is not a lane: {why}. The lane is the luban.ci/lane label the Sensor gives "
        "each Workflow (a hash of repository and ref). Pass the workflow's lane parameter unchanged.",
        exit=Exit.USAGE,
    ),
    "invalid_kube_name": Entry(
        "{option} {value} is not a Kubernetes name: {why}. Pass the name Argo gives the step, "
        "unchanged (the Workflow's own name, its namespace).",
        exit=Exit.USAGE,
    ),
    "invalid_build_env": Entry(
        "{option} {value} is not accepted: {why}. Pass NAME=VALUE, NAME made of letters, digits and "
        "'_' (not starting with a digit), as pack build --env takes it.",
        exit=Exit.USAGE,
    ),
    "invalid_annotations": Entry(
        "{option} {value} is not the Workflow's annotations: {why}. The status step reads them to tell "
        "a superseded run from a failed one. Pass {{{{workflow.annotations.json}}}} unchanged.",
        exit=Exit.USAGE,
    ),
    "invalid_created": Entry(
        "{option} {value} is not a creation time. Only runs created before this one are stopped, so "
        "it must be exact. Pass the Workflow's creationTimestamp (RFC 3339 with an offset or Z, for "
        "example 2026-11-24T05:00:00Z).",
        exit=Exit.USAGE,
    ),
    # --- mounted files and the installation -------------------------------------------------
    "git_missing": Entry(
        "The git command was not found on PATH. luban-step drives the git CLI for checkout and "
        "deploy, so its image must provide git. Run the step in an image whose run image "
        "includes git (see docs/step-tool.md).",
        exit=Exit.CONFIG,
    ),
    "unreadable_file": Entry(
        "{option} {path} cannot be read: {reason}. The step expects it to be mounted into the "
        "pod. Check the volume and the path given.",
        exit=Exit.CONFIG,
    ),
    "no_credentials": Entry(
        "--credentials-dir {path} holds neither 'token' nor 'ssh-privatekey'. The step needs one "
        "of them to reach the repository. Mount the secret with the key 'token' (HTTPS) or "
        "'ssh-privatekey' (SSH, plus 'known_hosts').",
        exit=Exit.CONFIG,
    ),
    "credentials_mismatch": Entry(
        "The repository URL uses {scheme}, but --credentials-dir {path} holds no '{needed}'. "
        "The credential must match the transport. Mount '{needed}' or change the URL.",
        exit=Exit.CONFIG,
    ),
    "missing_known_hosts": Entry(
        "--credentials-dir {path} holds 'ssh-privatekey' but no 'known_hosts'. Without it the "
        "server's identity cannot be verified, and luban-step never trusts an unknown host key. "
        "Add the server's known_hosts lines (ssh-keyscan HOST, checked) to the secret.",
        exit=Exit.CONFIG,
    ),
    "empty_secret": Entry(
        "The secret file {path} is empty. An empty credential can only fail later with a "
        "confusing error. Fill the secret key, or leave the file out to go anonymous.",
        exit=Exit.CONFIG,
    ),
    "token_over_http": Entry(
        "Refusing to send the token in {path} over plain http to {host}. A token sent without "
        "TLS can be read on the way. Use an https:// URL.",
        exit=Exit.CONFIG,
    ),
    "registry_invalid": Entry(
        "The language registry {path} is not usable: {reason}. It must be the JSON list written "
        "by the luban.ci.language_registry filter (the language ConfigMap). Check the ConfigMap "
        "mounted at that path.",
        exit=Exit.CONFIG,
    ),
    "source_missing": Entry(
        "--source {path} is not a directory. detect reads the checkout written by "
        "'luban-step checkout'. Check that both steps mount the same volume at the same path.",
        exit=Exit.CONFIG,
    ),
    "dest_not_empty": Entry(
        "--dest {path} exists and is not empty. A checkout into leftover files could mix two "
        "sources. Give an empty or new directory.",
        exit=Exit.CONFIG,
    ),
    "outputs_unwritable": Entry(
        "Cannot write the output {path}: {reason}. Argo reads step outputs from files. Check "
        "that --outputs names a writable directory.",
        exit=Exit.CONFIG,
    ),
    "inputs_bad_binding": Entry(
        "--binding {value} is not NAME=DIR. Each binding the build mounts is counted in the build's "
        "inputs by its contents: pass its name and the directory it is mounted at, for example "
        "python-mirror=/bindings/python-mirror.",
        exit=Exit.USAGE,
    ),
    "inputs_bad_run_image": Entry(
        "--run-image {value} is not LANGUAGE=IMAGE. The build pins a run image per language "
        "(argo_workflows_run_images): pass each as the language's name and the image, for example "
        "python=quay.io/luban-ci/stack-run@sha256:<digest>.",
        exit=Exit.USAGE,
    ),
    "tag_elsewhere": Entry(
        "--tag {value} does not name a tag of {repository}. The run's tags point at the image found "
        "for its inputs, which lives in that repository: pass REPOSITORY:TAG with the image's own "
        "repository and a tag of letters, digits, '_', '.' and '-' (at most 128).",
        exit=Exit.USAGE,
    ),
    "tag_failed": Entry(
        "Tagging {image} for this run failed {attempts} times: {detail}. The registry refused or did "
        "not answer; check that the run's registry robot may push to the repository, then retry the "
        "run (it finds the same image again).",
        exit=Exit.REMOTE,
    ),
    "report_invalid": Entry(
        "The lifecycle report {path} is not valid TOML: {reason}. The lifecycle's exporter writes it with "
        "-report after a successful export. Check the build step's log.",
        exit=Exit.CONFIG,
    ),
    "report_no_digest": Entry(
        "The lifecycle report {path} has no [image] digest. The export did not push an image to "
        "a registry (a daemon export, or a failed export). Check the build step's log and that it "
        "exports to a registry.",
        exit=Exit.CONFIG,
    ),
    "invalid_digest": Entry(
        "The lifecycle report {path} gives the digest {value}, which is not sha256:<64 hex>. "
        "Only a registry digest can pin a deployment. Check the lifecycle version and the build "
        "step's log.",
        exit=Exit.CONFIG,
    ),
    "kustomization_missing": Entry(
        "kustomization.yaml does not exist in {path} on branch {branch} of the GitOps repository. "
        "luban-step edits an existing kustomization and never creates one. Commit a "
        "kustomization.yaml at that path first.",
        exit=Exit.CONFIG,
    ),
    "kustomization_invalid": Entry(
        "kustomization.yaml in {path} on branch {branch} cannot be edited: {reason}. Fix the file "
        "in the GitOps repository.",
        exit=Exit.CONFIG,
    ),
    "project_include_and_exclude": Entry(
        "{path} has both include and exclude under {table}. pack refuses such a descriptor "
        "('cannot have both include and exclude defined'), and the cluster build follows pack. Keep "
        "one of the two lists.",
        exit=Exit.CONFIG,
    ),
    "project_invalid_field": Entry(
        "{path}: {field} {why}. The cluster build reads it as pack does (include and exclude are "
        "lists of gitignore-style patterns). Fix project.toml.",
        exit=Exit.CONFIG,
    ),
    "project_env_invalid": Entry(
        "{path}: entry {index} of {table} {why}. Each build env entry needs a name of letters, "
        "digits and '_' (not starting with a digit) and a string value. Fix project.toml.",
        exit=Exit.CONFIG,
    ),
    "prepare_dir_not_empty": Entry(
        "--prepare-dir {path} holds something other than a previous preparation (app, platform). "
        "Preparing the build there could mix two sources or delete files. Give an empty or new "
        "directory.",
        exit=Exit.CONFIG,
    ),
    "prepare_failed": Entry(
        "Cannot prepare the app for the build in {path}: {reason}. The build reads the app and its "
        "build env from there. Check that --prepare-dir is on the writable workspace volume and has "
        "room.",
        exit=Exit.CONFIG,
    ),
    "kube_api_unknown": Entry(
        "The Kubernetes API address is not usable: {why}. supersede talks to the API from inside a "
        "pod, where Kubernetes sets KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT. Run it as "
        "the supersede step of the luban-ci workflow.",
        exit=Exit.CONFIG,
    ),
    # --- remotes ------------------------------------------------------------------------------
    "token_host_refused": Entry(
        "git asked for the token for {asked}, but the token may only go to {origin}. The server "
        "sent git to another host (a moved repository, or a hostile redirect), and luban-step never "
        "hands a token to a host it was not configured for. Point the configured URL at the "
        "repository's current location.",
        exit=Exit.REMOTE,
    ),
    "git_failed": Entry(
        "git {action} failed with exit code {code}: {detail}. Check the URL, the credentials and "
        "that the server is reachable, then retry the step.",
        exit=Exit.REMOTE,
    ),
    "revision_not_found": Entry(
        "The commit {sha} could not be fetched from {url}: {detail}. The server does not have it "
        "(a typo, or the commit was force-pushed away). Check the SHA; a newer push starts a new "
        "run anyway.",
        exit=Exit.REMOTE,
    ),
    "head_mismatch": Entry(
        "After checkout HEAD is {head}, not the requested {sha}. The files on disk are not the "
        "commit that was asked for, so the run stops. Retry the step; if it persists, check the "
        "remote.",
        exit=Exit.REMOTE,
    ),
    "branch_missing": Entry(
        "Branch {branch} does not exist in the GitOps repository {url}. luban-step commits to an "
        "existing branch and never creates one. Create the branch or fix --gitops-branch.",
        exit=Exit.REMOTE,
    ),
    "push_rejected": Entry(
        "The GitOps repository refused the push to {branch}: {detail}. Check that the "
        "credentials may push to that branch and that branch protection allows it.",
        exit=Exit.REMOTE,
    ),
    "deploy_order_unknown": Entry(
        "Cannot tell whether {sha} comes after the deployed {deployed} of {ref}: their histories "
        "do not meet within the last {limit} commits of each. A deployment only moves forward along "
        "the history of its ref, never by commit dates, so nothing was deployed. Run the deploy "
        "again with a larger --history-limit, or push a commit that descends from the deployed one.",
        exit=Exit.REMOTE,
    ),
    "push_race_exhausted": Entry(
        "The push to {branch} was overtaken by other pushes {attempts} times in a row. Other "
        "runs keep updating the GitOps repository faster than this one can rebase. Retry the "
        "step.",
        exit=Exit.REMOTE,
    ),
    "api_unauthorized": Entry(
        "GitHub answered 401 ({detail}) for {url}. The token in {path} is wrong, expired or "
        "revoked. Renew the token and update the secret.",
        exit=Exit.REMOTE,
    ),
    "api_forbidden": Entry(
        "GitHub answered 403 ({detail}) for {url}. The token may not write commit statuses to "
        "this repository, or a rate limit was hit. Grant the token 'Commit statuses: write' (or "
        "repo:status) on the repository, or wait for the limit to reset.",
        exit=Exit.REMOTE,
    ),
    "api_not_found": Entry(
        "GitHub answered 404 ({detail}) for {url}. The repository or commit does not exist, or "
        "the token cannot see it. Check --repo, --sha, --api-url and the token's repository "
        "access.",
        exit=Exit.REMOTE,
    ),
    "api_invalid": Entry(
        "GitHub answered 422 ({detail}) for {url}. It refused the status's content (GitHub keeps "
        "at most 1000 statuses per commit and context). Check the state, context and target URL.",
        exit=Exit.REMOTE,
    ),
    "api_unexpected": Entry(
        "GitHub answered {code} ({detail}) for {url}, which the statuses API does not document "
        "for this call. Check --api-url points at the REST API root.",
        exit=Exit.REMOTE,
    ),
    "api_unavailable": Entry(
        "GitHub could not be reached at {url} after {attempts} attempts: {detail}. The server or "
        "the network failed. Retry later; check proxies and --api-url.",
        exit=Exit.REMOTE,
    ),
    "kube_unauthorized": Entry(
        "The Kubernetes API answered 401 ({detail}) for {url}. It did not accept the service account "
        "token in {path}. Check that the step runs with a mounted token (the supersede template sets "
        "automountServiceAccountToken: true).",
        exit=Exit.REMOTE,
    ),
    "kube_forbidden": Entry(
        "The Kubernetes API answered 403 ({detail}) for {url}. The step's service account may not "
        "{verb} Workflows in namespace {namespace}. Apply the argo_workflows role's RBAC (Role "
        "luban-ci-supersede: list and patch on workflows) and run the step as luban-ci-supersede.",
        exit=Exit.REMOTE,
    ),
    "kube_unexpected": Entry(
        "The Kubernetes API answered {code} ({detail}) for {url}, which listing or stopping "
        "Workflows does not expect. Check that Argo Workflows (its Workflow CRD) is installed in the "
        "cluster.",
        exit=Exit.REMOTE,
    ),
    "kube_invalid_answer": Entry(
        "The Kubernetes API answered {url} with something that is not a Workflow list: {reason}. "
        "Check that the URL reaches the cluster's API server and that Argo Workflows is installed.",
        exit=Exit.REMOTE,
    ),
    "kube_unavailable": Entry(
        "The Kubernetes API could not be reached at {url} after {attempts} attempts: {detail}. The "
        "API server or the network failed. Retry the step.",
        exit=Exit.REMOTE,
    ),
})

# Language selection's own entries (plugins/module_utils/languages.py): detect raises them as they
# are, with the exit code of a checkout that cannot be built as it is.
CATALOG: dict[str, Entry] = {
    **ERRORS,
    **{key: replace(entry, exit=Exit.CONFIG) for key, entry in languages.CATALOG.items()},
}

# Informational lines: also shown to users, also tested word for word.
NOTICES: dict[str, Entry] = with_fields(FIELDS, {
    "checked_out": Entry("Checked out {sha} into {path}."),
    "detected": Entry("Selected {language} ({source}) with builder {builder} and template {template}."),
    "digest": Entry("Image {image}."),
    # luban.ci.build_inputs' reasons are its own sentences, the values in them already shown.
    "inputs_build": Entry("Building: {why}."),
    "inputs_reuse": Entry("Not building: {why}; the tag step points this run's tags at it."),
    "inputs_rebase": Entry("Not building: {why}."),
    "inputs": Entry("Inputs: {action}, key {inputs_key}."),
    "tag_retry": Entry("Tagging failed (attempt {attempt} of {attempts}): {detail}; trying again in {delay} s."),
    "tagged": Entry("Tagged {image} for this run ({count} tags): nothing was built."),
    "deployed": Entry("Deployed {image} from {repo} at {sha} to {path} on {branch}."),
    "already_deployed": Entry(
        "{image} from {repo} at {sha} is already deployed to {path} on {branch}; "
        "nothing to do."
    ),
    "refuse_backwards": Entry(
        "Not deploying {repo} at {sha} to {path} on {branch}: the deployed commit "
        "{deployed} of {ref} is newer ({why}). A deployment never moves backwards; the newer "
        "commit stays."
    ),
    "refuse_off_ref": Entry(
        "Not deploying {repo} at {sha} to {path} on {branch}: {ref} was rewritten "
        "and no longer holds it, and it is neither an ancestor nor a descendant of the deployed "
        "{deployed}. What {ref} holds now deploys when it is built."
    ),
    "refuse_dropped": Entry(
        "Not deploying {repo} at {sha} to {path} on {branch}: {ref} was force-pushed after it was built "
        "and no longer holds it, though it descends from the deployed {deployed}. What {ref} holds now "
        "deploys when it is built."
    ),
    "refuse_stale": Entry(
        "Not deploying {repo} at {sha} to {path} on {branch}: the deployment comes from {other}, and "
        "{ref} no longer holds {sha} at its tip (a late or replayed delivery). Another ref takes a deployment "
        "over only with what it holds now."
    ),
    "deploy_rewritten": Entry(
        "{ref} was force-pushed ({why}): the deployed {deployed} is no longer on it "
        "and {sha} is; deploying {sha}."
    ),
    "git_retry": Entry("git {action} failed ({detail}); retrying in {delay}s (attempt {attempt} of {attempts})."),
    "push_retry": Entry(
        "The push to {branch} was overtaken by another push; re-applying on the new "
        "tip (attempt {attempt} of {attempts})."
    ),
    "status_set": Entry("Set commit status {state} for {context} on {repo} at {sha}."),
    "status_retry": Entry(
        "GitHub did not answer cleanly ({detail}); retrying in {delay}s (attempt "
        "{attempt} of {attempts})."
    ),
    "prepared": Entry(
        "Prepared the app for the build in {path}: {kept} file(s) kept, {dropped} left out "
        "({rule}; .git is never built); build env: {names}."
    ),
    "stopping": Entry("Stopping {name} of lane {lane}, created {created}: superseded by {workflow}."),
    "superseded": Entry("Stopped {count} older run(s) of lane {lane}."),
    "not_superseding": Entry(
        "Not stopping {name}: its commit {theirs} stays, as {why}; only runs of commits "
        "that {sha} descends from are stopped."
    ),
    "duplicate_run": Entry(
        "{sha} is already being built or was built by {name} ({phase}); this run builds nothing "
        "and posts no commit status. Redelivering the webhook of a run that failed builds again."
    ),
    "status_skipped": Entry("No commit status from this run: it is a duplicate of {name}, which reports {sha}."),
    "nothing_to_supersede": Entry("No older run of lane {lane} is running; nothing to stop."),
    "kube_retry": Entry(
        "The Kubernetes API did not answer cleanly ({detail}); retrying in {delay}s "
        "(attempt {attempt} of {attempts})."
    ),
})


# One-line outcomes of deploy for the commit status description (report appends DIR/outcome to
# "build <phase>"; GitHub shows 140 characters). Values are abbreviated SHAs, refs and paths.
OUTCOMES: dict[str, Entry] = with_fields(Fields(limit=80, quote=False), {
    "deployed": Entry("deployed to {path}"),
    "already_deployed": Entry("already deployed to {path}"),
    "refuse_backwards": Entry("not deployed: the deployed {deployed} of {ref} descends from it"),
    "refuse_off_ref": Entry("not deployed: {ref} was rewritten and no longer holds it"),
    "deploy_order_unknown": Entry("not deployed: no common history with the deployed {deployed} within {limit} commits"),
    "refuse_stale": Entry("not deployed: {ref} has moved on from it"),
    "superseded": Entry("superseded by {sha}, a newer commit of the same ref; not built to the end"),
})


class StepError(Exception):
    """A failure with its catalog message; the CLI prints it and exits with its code."""

    def __init__(self, key: str, **fields: object) -> None:
        message = render(CATALOG[key], **fields)
        self.key = key
        self.exit_code = int(message.exit)
        self.message = message.text
        super().__init__(self.message)


def notice(key: str, **fields: object) -> str:
    return render(NOTICES[key], **fields).text


def outcome(key: str, **fields: object) -> str:
    """A deploy outcome for the commit status: plain values, single line, bounded."""
    return render(OUTCOMES[key], **fields).text
