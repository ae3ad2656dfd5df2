"""Every catalog message, word for word; and every entry is used by the code."""

from __future__ import annotations

import re
import string
import pytest

from conftest import STEPTOOL_SRC
from luban_step._vendor import languages
from luban_step._vendor.catalog import shown
from luban_step.errors import CATALOG, ERRORS, NOTICES, OUTCOMES, Exit, StepError, notice, outcome

SAMPLE = dict(option="--opt", value="bad value", why="it is wrong", path="/mnt/x", reason="Permission denied",
              needed="token", scheme="https", host="git.example.org",
              sha="a" * 40, branch="main", url="https://h/x.git", action="fetch", code=128, detail="fatal: boom",
              head="b" * 40, attempts=5, attempt=2, image="quay.io/acme/shop@sha256:" + "c" * 64, repo="acme/shop",
              language="python", source="detected", builder="builder:1", template="luban-build-python",
              deployed="d" * 40, ref="main", state="success", context="luban-ci/build", delay=2, verb="patch",
              namespace="luban-ci", count=2, lane="3f2a9c0d1e5b7a64", name="ci-shop-old", created="2026-03-01T09:58:00Z",
              workflow="ci-shop-new", field="[build] exclude", table="[[build.env]]", index=3, kept=12, dropped=4,
              rule="by project.toml's exclude", names="BP_A, UV_INDEX_URL", asked="https://x-access-token@evil.example",
              origin="https://github.com:443", limit=5000, theirs="e" * 40,
              phase="Running", other="refs/tags/v1", inputs_key="k", repository="quay.io/acme/shop")

EXPECTED_ERRORS = {
    'invalid_sha': (
        2,
        "--opt 'bad value' is not a commit SHA. Every step of a run must see the same exact commit, so "
        "only a full SHA is accepted. Pass the 40-character hexadecimal SHA of the commit (the webhook's "
        'head commit id).'),
    'invalid_repo': (
        2,
        "--opt 'bad value' is not an OWNER/NAME repository. The name reaches API paths and commit "
        "messages, so the owner may hold letters, digits and '-', the name letters, digits, '-', '_' and "
        "'.'. Pass it as GitHub shows it, for example acme/shop."),
    'invalid_git_url': (
        2,
        "--opt 'bad value' is not an accepted git URL: it is wrong. Use https://HOST/OWNER/NAME.git, "
        'ssh://git@HOST/OWNER/NAME.git or git@HOST:OWNER/NAME.git.'),
    'invalid_git_host': (
        2,
        "--opt 'bad value' is not a git host: it is wrong. Pass the host of the configured GitHub URL as "
        'HOST or HOST:PORT, for example github.com or ghe.example.com:8443.'),
    'git_host_mismatch': (
        2,
        "--opt 'bad value' does not name the configured git host 'git.example.org'. Repository URLs are "
        'built from the configured GitHub URL and credentials go to that host only, so a URL naming '
        'another host or port is refused. Check argo_workflows_github_url and the URL the step was given.'),
    'credentials_in_url': (
        2,
        '--opt carries a user name or password inside the URL. URLs end up in logs and in .git/config, so'
        ' luban-step never accepts credentials there. Remove them from the URL and mount them as a secret'
        " in --credentials-dir ('token' or 'ssh-privatekey')."),
    'invalid_api_url': (
        2,
        "--opt 'bad value' is not an accepted API base URL: it is wrong. Use https://api.github.com, or "
        'https://HOST/api/v3 for GitHub Enterprise Server.'),
    'invalid_target_url': (
        2,
        "--opt 'bad value' is not an accepted link: it is wrong. GitHub shows it as the status's Details "
        'link, so it must be an absolute http(s) URL without spaces or control characters.'),
    'invalid_path': (
        2,
        "--opt 'bad value' is not an accepted path: it is wrong. Paths are relative to a repository, so "
        "'..', absolute paths, control characters and shell metacharacters are refused. Pass a plain "
        'relative path such as apps/shop/overlays/prod.'),
    'invalid_ref': (
        2,
        "--opt 'bad value' is not an accepted git ref name: it is wrong. Pass a branch or tag name such "
        'as main, release/1.2 or refs/tags/v1.2.0.'),
    'invalid_image': (
        2,
        "--opt 'bad value' is not an image pinned by digest. Deployments name images by digest so that "
        "exactly what was built is what runs. Pass REPOSITORY@sha256:DIGEST, as written by 'luban-step "
        "digest' to DIR/image."),
    'invalid_image_name': (
        2,
        "--opt 'bad value' is not an accepted image name: it is wrong. It must equal the image name used "
        "in the manifests (the 'name' of the kustomization's images entry), for example quay.io/acme/shop"
        ' or shop.'),
    'invalid_repository': (
        2,
        "--opt 'bad value' is not an accepted image repository: it is wrong. Pass a repository without "
        'tag or digest, for example quay.io/acme/shop.'),
    'invalid_history_limit': (
        2,
        "--opt 'bad value' is not a number of commits. It bounds how much history deploy fetches to order two "
        'commits. Pass a whole number from 1 to 100000.'),
    'invalid_state': (
        2,
        "--opt 'bad value' is not a commit status state. GitHub knows exactly four states. Pass one of "
        'pending, success, failure, error.'),
    'invalid_text': (2, "--opt 'bad value' is not accepted: it is wrong. Pass a short single-line label."),
    'invalid_lane': (
        2,
        "--opt 'bad value' is not a lane: it is wrong. The lane is the luban.ci/lane label the Sensor gives each "
        "Workflow (a hash of repository and ref). Pass the workflow's lane parameter unchanged."),
    'invalid_kube_name': (
        2,
        "--opt 'bad value' is not a Kubernetes name: it is wrong. Pass the name Argo gives the step, unchanged (the "
        "Workflow's own name, its namespace)."),
    'invalid_build_env': (
        2,
        "--opt 'bad value' is not accepted: it is wrong. Pass NAME=VALUE, NAME made of letters, digits and '_' "
        "(not starting with a digit), as pack build --env takes it."),
    'invalid_annotations': (
        2,
        "--opt 'bad value' is not the Workflow's annotations: it is wrong. The status step reads them to tell a "
        'superseded run from a failed one. Pass {{workflow.annotations.json}} unchanged.'),
    'invalid_created': (
        2,
        "--opt 'bad value' is not a creation time. Only runs created before this one are stopped, so it must be "
        "exact. Pass the Workflow's creationTimestamp (RFC 3339 with an offset or Z, for example "
        "2026-11-24T05:00:00Z)."),
    'git_missing': (
        3,
        'The git command was not found on PATH. luban-step drives the git CLI for checkout and deploy, so'
        ' its image must provide git. Run the step in an image whose run image includes git (see '
        'docs/step-tool.md).'),
    'unreadable_file': (
        3,
        "--opt '/mnt/x' cannot be read: Permission denied. The step expects it to be mounted into the "
        'pod. Check the volume and the path given.'),
    'no_credentials': (
        3,
        "--credentials-dir '/mnt/x' holds neither 'token' nor 'ssh-privatekey'. The step needs one of "
        "them to reach the repository. Mount the secret with the key 'token' (HTTPS) or 'ssh-privatekey' "
        "(SSH, plus 'known_hosts')."),
    'credentials_mismatch': (
        3,
        "The repository URL uses https, but --credentials-dir '/mnt/x' holds no 'token'. The credential "
        "must match the transport. Mount 'token' or change the URL."),
    'missing_known_hosts': (
        3,
        "--credentials-dir '/mnt/x' holds 'ssh-privatekey' but no 'known_hosts'. Without it the server's "
        "identity cannot be verified, and luban-step never trusts an unknown host key. Add the server's "
        'known_hosts lines (ssh-keyscan HOST, checked) to the secret.'),
    'empty_secret': (
        3,
        "The secret file '/mnt/x' is empty. An empty credential can only fail later with a confusing "
        'error. Fill the secret key, or leave the file out to go anonymous.'),
    'token_over_http': (
        3,
        "Refusing to send the token in '/mnt/x' over plain http to 'git.example.org'. A token sent "
        'without TLS can be read on the way. Use an https:// URL.'),
    'registry_invalid': (
        3,
        "The language registry '/mnt/x' is not usable: Permission denied. It must be the JSON list "
        'written by the luban.ci.language_registry filter (the language ConfigMap). Check the ConfigMap '
        'mounted at that path.'),
    'source_missing': (
        3,
        "--source '/mnt/x' is not a directory. detect reads the checkout written by 'luban-step "
        "checkout'. Check that both steps mount the same volume at the same path."),
    'dest_not_empty': (
        3,
        "--dest '/mnt/x' exists and is not empty. A checkout into leftover files could mix two sources. "
        'Give an empty or new directory.'),
    'outputs_unwritable': (
        3,
        "Cannot write the output '/mnt/x': Permission denied. Argo reads step outputs from files. Check "
        'that --outputs names a writable directory.'),
    'tag_elsewhere': (
        2,
        "--tag 'bad value' does not name a tag of 'quay.io/acme/shop'. The run's tags point at the image found for its "
        "inputs, which lives in that repository: pass REPOSITORY:TAG with the image's own repository and a tag of "
        "letters, digits, '_', '.' and '-' (at most 128)."),
    'tag_failed': (
        4,
        "Tagging 'quay.io/acme/shop@sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc' for this run "
        "failed 5 times: fatal: boom. The registry refused or did not answer; check that the run's registry robot may "
        "push to the repository, then retry the run (it finds the same image again)."),
    'inputs_bad_binding': (
        2,
        "--binding 'bad value' is not NAME=DIR. Each binding the build mounts is counted in the build's inputs by its "
        "contents: pass its name and the directory it is mounted at, for example python-mirror=/bindings/python-mirror."),
    'inputs_bad_run_image': (
        2,
        "--run-image 'bad value' is not LANGUAGE=IMAGE. The build pins a run image per language "
        "(argo_workflows_run_images): pass each as the language's name and the image, for example "
        "python=quay.io/luban-ci/stack-run@sha256:<digest>."),
    'report_invalid': (
        3,
        "The lifecycle report '/mnt/x' is not valid TOML: Permission denied. The lifecycle's exporter writes it with "
        "-report after a successful export. Check the build step's log."),
    'report_no_digest': (
        3,
        "The lifecycle report '/mnt/x' has no [image] digest. The export did not push an image to a "
        "registry (a daemon export, or a failed export). Check the build step's log and that it exports "
        'to a registry.'),
    'invalid_digest': (
        3,
        "The lifecycle report '/mnt/x' gives the digest 'bad value', which is not sha256:<64 hex>. Only a"
        " registry digest can pin a deployment. Check the lifecycle version and the build step's log."),
    'kustomization_missing': (
        3,
        "kustomization.yaml does not exist in '/mnt/x' on branch 'main' of the GitOps repository. "
        'luban-step edits an existing kustomization and never creates one. Commit a kustomization.yaml at'
        ' that path first.'),
    'kustomization_invalid': (
        3,
        "kustomization.yaml in '/mnt/x' on branch 'main' cannot be edited: Permission denied. Fix the "
        'file in the GitOps repository.'),
    'project_include_and_exclude': (
        3,
        "'/mnt/x' has both include and exclude under [[build.env]]. pack refuses such a descriptor ('cannot have "
        "both include and exclude defined'), and the cluster build follows pack. Keep one of the two lists."),
    'project_invalid_field': (
        3,
        "'/mnt/x': [build] exclude it is wrong. The cluster build reads it as pack does (include and exclude are "
        'lists of gitignore-style patterns). Fix project.toml.'),
    'project_env_invalid': (
        3,
        "'/mnt/x': entry 3 of [[build.env]] it is wrong. Each build env entry needs a name of letters, digits and "
        "'_' (not starting with a digit) and a string value. Fix project.toml."),
    'prepare_dir_not_empty': (
        3,
        "--prepare-dir '/mnt/x' holds something other than a previous preparation (app, platform). Preparing the "
        'build there could mix two sources or delete files. Give an empty or new directory.'),
    'prepare_failed': (
        3,
        "Cannot prepare the app for the build in '/mnt/x': Permission denied. The build reads the app and its "
        'build env from there. Check that --prepare-dir is on the writable workspace volume and has room.'),
    'kube_api_unknown': (
        3,
        'The Kubernetes API address is not usable: it is wrong. supersede talks to the API from inside a pod, where '
        'Kubernetes sets KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT. Run it as the supersede step of the '
        'luban-ci workflow.'),
    'token_host_refused': (
        4,
        "git asked for the token for 'https://x-access-token@evil.example', but the token may only go to "
        "'https://github.com:443'. The server sent git to another host (a moved repository, or a hostile "
        'redirect), and luban-step never hands a token to a host it was not configured for. Point the '
        "configured URL at the repository's current location."),
    'git_failed': (
        4,
        'git fetch failed with exit code 128: fatal: boom. Check the URL, the credentials and that the '
        'server is reachable, then retry the step.'),
    'revision_not_found': (
        4,
        "The commit 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' could not be fetched from "
        "'https://h/x.git': fatal: boom. The server does not have it (a typo, or the commit was "
        'force-pushed away). Check the SHA; a newer push starts a new run anyway.'),
    'head_mismatch': (
        4,
        "After checkout HEAD is 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', not the requested "
        "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'. The files on disk are not the commit that was asked "
        'for, so the run stops. Retry the step; if it persists, check the remote.'),
    'branch_missing': (
        4,
        "Branch 'main' does not exist in the GitOps repository 'https://h/x.git'. luban-step commits to "
        'an existing branch and never creates one. Create the branch or fix --gitops-branch.'),
    'push_rejected': (
        4,
        "The GitOps repository refused the push to 'main': fatal: boom. Check that the credentials may "
        'push to that branch and that branch protection allows it.'),
    'deploy_order_unknown': (
        4,
        "Cannot tell whether 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' comes after the deployed "
        "'dddddddddddddddddddddddddddddddddddddddd' of 'main': their histories do not meet within the last "
        '5000 commits of each. A deployment only moves forward along the history of its ref, never by commit '
        'dates, so nothing was deployed. Run the deploy again with a larger --history-limit, or push a commit '
        'that descends from the deployed one.'),
    'push_race_exhausted': (
        4,
        "The push to 'main' was overtaken by other pushes 5 times in a row. Other runs keep updating the "
        'GitOps repository faster than this one can rebase. Retry the step.'),
    'api_unauthorized': (
        4,
        "GitHub answered 401 (fatal: boom) for 'https://h/x.git'. The token in '/mnt/x' is wrong, expired"
        ' or revoked. Renew the token and update the secret.'),
    'api_forbidden': (
        4,
        "GitHub answered 403 (fatal: boom) for 'https://h/x.git'. The token may not write commit statuses"
        " to this repository, or a rate limit was hit. Grant the token 'Commit statuses: write' (or "
        'repo:status) on the repository, or wait for the limit to reset.'),
    'api_not_found': (
        4,
        "GitHub answered 404 (fatal: boom) for 'https://h/x.git'. The repository or commit does not "
        "exist, or the token cannot see it. Check --repo, --sha, --api-url and the token's repository "
        'access.'),
    'api_invalid': (
        4,
        "GitHub answered 422 (fatal: boom) for 'https://h/x.git'. It refused the status's content (GitHub"
        ' keeps at most 1000 statuses per commit and context). Check the state, context and target URL.'),
    'api_unexpected': (
        4,
        "GitHub answered 128 (fatal: boom) for 'https://h/x.git', which the statuses API does not "
        'document for this call. Check --api-url points at the REST API root.'),
    'api_unavailable': (
        4,
        "GitHub could not be reached at 'https://h/x.git' after 5 attempts: fatal: boom. The server or "
        'the network failed. Retry later; check proxies and --api-url.'),
    'kube_unauthorized': (
        4,
        "The Kubernetes API answered 401 (fatal: boom) for 'https://h/x.git'. It did not accept the service account "
        "token in '/mnt/x'. Check that the step runs with a mounted token (the supersede template sets "
        'automountServiceAccountToken: true).'),
    'kube_forbidden': (
        4,
        "The Kubernetes API answered 403 (fatal: boom) for 'https://h/x.git'. The step's service account may not "
        "patch Workflows in namespace 'luban-ci'. Apply the argo_workflows role's RBAC (Role luban-ci-supersede: "
        'list and patch on workflows) and run the step as luban-ci-supersede.'),
    'kube_unexpected': (
        4,
        "The Kubernetes API answered 128 (fatal: boom) for 'https://h/x.git', which listing or stopping Workflows "
        'does not expect. Check that Argo Workflows (its Workflow CRD) is installed in the cluster.'),
    'kube_invalid_answer': (
        4,
        "The Kubernetes API answered 'https://h/x.git' with something that is not a Workflow list: Permission "
        "denied. Check that the URL reaches the cluster's API server and that Argo Workflows is installed."),
    'kube_unavailable': (
        4,
        "The Kubernetes API could not be reached at 'https://h/x.git' after 5 attempts: fatal: boom. The API server "
        'or the network failed. Retry the step.'),
}
NOTICES_EXPECTED = {
    'checked_out':
        "Checked out 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' into '/mnt/x'.",
    'detected':
        "Selected 'python' (detected) with builder 'builder:1' and template 'luban-build-python'.",
    'digest':
        'Image '
        "'quay.io/acme/shop@sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc'.",
    'inputs_build': 'Building: it is wrong.',
    'inputs_reuse': "Not building: it is wrong; the tag step points this run's tags at it.",
    'tag_retry': 'Tagging failed (attempt 2 of 5): fatal: boom; trying again in 2 s.',
    'tagged': "Tagged 'quay.io/acme/shop@sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc' for this run "
              "(2 tags): nothing was built.",
    'inputs_rebase': 'Not building: it is wrong.',
    'inputs': "Inputs: fetch, key 'k'.",
    'deployed':
        'Deployed '
        "'quay.io/acme/shop@sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc' from"
        " 'acme/shop' at 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' to '/mnt/x' on 'main'.",
    'already_deployed':
        "'quay.io/acme/shop@sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc' from"
        " 'acme/shop' at 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' is already deployed to '/mnt/x' on "
        "'main'; nothing to do.",
    'refuse_backwards':
        "Not deploying 'acme/shop' at 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' to '/mnt/x' on 'main': "
        "the deployed commit 'dddddddddddddddddddddddddddddddddddddddd' of 'main' is newer (it is wrong)."
        ' A deployment never moves backwards; the newer commit stays.',
    'refuse_off_ref':
        "Not deploying 'acme/shop' at 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' to '/mnt/x' on 'main': 'main' "
        'was rewritten and no longer holds it, and it is neither an ancestor nor a descendant of the deployed '
        "'dddddddddddddddddddddddddddddddddddddddd'. What 'main' holds now deploys when it is built.",
    'refuse_dropped':
        "Not deploying 'acme/shop' at 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' to '/mnt/x' on 'main': 'main' "
        "was force-pushed after it was built and no longer holds it, though it descends from the deployed "
        "'dddddddddddddddddddddddddddddddddddddddd'. What 'main' holds now deploys when it is built.",
    'refuse_stale':
        "Not deploying 'acme/shop' at 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' to '/mnt/x' on 'main': the deployment "
        "comes from 'refs/tags/v1', and 'main' no longer holds 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' at its tip (a "
        "late or replayed delivery). Another ref takes a deployment over only with what it holds now.",
    'deploy_rewritten':
        "'main' was force-pushed (it is wrong): the deployed 'dddddddddddddddddddddddddddddddddddddddd' is no "
        "longer on it and 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' is; deploying "
        "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'.",
    'push_retry':
        "The push to 'main' was overtaken by another push; re-applying on the new tip (attempt 2 of 5).",
    'status_set':
        "Set commit status success for 'luban-ci/build' on 'acme/shop' at "
        "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'.",
    'status_retry':
        'GitHub did not answer cleanly (fatal: boom); retrying in 2s (attempt 2 of 5).',
    'prepared':
        "Prepared the app for the build in '/mnt/x': 12 file(s) kept, 4 left out (by project.toml's exclude; .git "
        'is never built); build env: BP_A, UV_INDEX_URL.',
    'stopping':
        "Stopping 'ci-shop-old' of lane '3f2a9c0d1e5b7a64', created '2026-03-01T09:58:00Z': superseded by "
        "'ci-shop-new'.",
    'superseded':
        "Stopped 2 older run(s) of lane '3f2a9c0d1e5b7a64'.",
    'duplicate_run':
        "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' is already being built or was built by 'ci-shop-old' ('Running'); "
        "this run builds nothing and posts no commit status. Redelivering the webhook of a run that failed builds "
        "again.",
    'status_skipped':
        "No commit status from this run: it is a duplicate of 'ci-shop-old', which reports "
        "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'.",
    'git_retry':
        'git fetch failed (fatal: boom); retrying in 2s (attempt 2 of 5).',
    'not_superseding':
        "Not stopping 'ci-shop-old': its commit 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee' stays, as it is wrong; only "
        "runs of commits that 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' descends from are stopped.",
    'nothing_to_supersede':
        "No older run of lane '3f2a9c0d1e5b7a64' is running; nothing to stop.",
    'kube_retry':
        'The Kubernetes API did not answer cleanly (fatal: boom); retrying in 2s (attempt 2 of 5).',
}


OUTCOMES_EXPECTED = {
    'deployed': 'deployed to /mnt/x',
    'already_deployed': 'already deployed to /mnt/x',
    'refuse_backwards': 'not deployed: the deployed 1a2b3c4d5e6f of main descends from it',
    'refuse_off_ref': 'not deployed: main was rewritten and no longer holds it',
    'deploy_order_unknown': 'not deployed: no common history with the deployed 1a2b3c4d5e6f within 5000 commits',
    'refuse_stale': 'not deployed: main has moved on from it',
    'superseded': 'superseded by aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, a newer commit of the same ref; not built to the end',
}


def _fields(template: str) -> dict[str, object]:
    return {part[1]: SAMPLE[part[1]] for part in string.Formatter().parse(template) if part[1]}


@pytest.mark.parametrize("key", sorted(ERRORS))
def test_every_error_reads_word_for_word(key: str) -> None:
    error = StepError(key, **_fields(ERRORS[key].text))
    assert (error.exit_code, error.message) == EXPECTED_ERRORS[key]


@pytest.mark.parametrize("key", sorted(NOTICES))
def test_every_notice_reads_word_for_word(key: str) -> None:
    assert notice(key, **_fields(NOTICES[key].text)) == NOTICES_EXPECTED[key]


@pytest.mark.parametrize("key", sorted(OUTCOMES))
def test_every_deploy_outcome_for_the_commit_status_reads_word_for_word(key: str) -> None:
    fields = dict(_fields(OUTCOMES[key].text), deployed="1a2b3c4d5e6f")
    assert outcome(key, **fields) == OUTCOMES_EXPECTED[key]
    assert len("build Succeeded; " + outcome(key, **fields)) <= 140  # GitHub's limit, with report's prefix


def test_the_expectations_cover_the_whole_catalog() -> None:
    assert set(EXPECTED_ERRORS) == set(ERRORS)
    assert set(NOTICES_EXPECTED) == set(NOTICES)
    assert set(OUTCOMES_EXPECTED) == set(OUTCOMES)


def test_every_entry_is_used_by_the_code() -> None:
    code = "\n".join(p.read_text() for p in (STEPTOOL_SRC / "luban_step").glob("*.py") if p.name != "errors.py")
    used = set(re.findall(r'(?:StepError|notice)\(\s*(?:_BY_CODE\[[^]]*\]|"([a-z_]+)")', code))
    used |= set(re.findall(r'\d{3}: "([a-z]+_[a-z_]+)"', code))  # the status-code maps (_BY_CODE)
    assert (set(ERRORS) | set(NOTICES)) - used == set()


def test_language_selection_errors_are_the_language_catalogs_own_entries() -> None:
    """detect raises them as they are (one renderer for both catalogs), exiting as a bad checkout."""
    assert not set(ERRORS) & set(languages.CATALOG)
    assert set(CATALOG) == set(ERRORS) | set(languages.CATALOG)
    for key, entry in languages.CATALOG.items():
        assert (CATALOG[key].text, CATALOG[key].fields, CATALOG[key].exit) == (entry.text, entry.fields, Exit.CONFIG)


def test_values_are_shown_on_one_line_and_bounded() -> None:
    assert shown("a\nb\tc\u202e\u00e9'") == "'a\\nb\\tc\\u202e\\xe9\\''"
    long = shown("x" * 5000)
    assert long == "'" + "x" * 200 + "...(5000 characters)'"


def test_the_user_documentation_lists_every_catalog_entry() -> None:
    docs = (STEPTOOL_SRC.parents[2] / "docs" / "step-tool.md").read_text(encoding="utf-8")
    for key, entry in ERRORS.items():
        assert re.search(r"^\| `%s` +\| %d +\|" % (re.escape(key), entry.exit), docs, re.M), key
    for key in NOTICES:
        assert "`%s`" % key in docs, key
