"""deploy against real git: a bare GitOps remote, real pushes, a real push race."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

from conftest import commit, cli_env, git, make_remote, run_cli

if TYPE_CHECKING:
    from luban_step.deploy import DeployRequest

DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64
PATH = "apps/shop/overlays/prod"
KUSTOMIZATION = """\
# Production overlay of the shop.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization

resources:
  - ../../base   # the shared base

images:
  - name: shop
    newName: quay.io/acme/shop
    newTag: bootstrap
  - name: redis
    newTag: "7.2"

# Keep this comment.
namespace: shop
"""


@pytest.fixture()
def gitops(tmp_path: Path):
    remote = make_remote(tmp_path, "gitops")
    commit(remote.work, {PATH + "/kustomization.yaml": KUSTOMIZATION, "README.md": "gitops\n"}, "init", 1_600_000_000)
    remote.push()
    return remote


@pytest.fixture()
def source(tmp_path: Path):
    """A source repository with three commits in order: old -> mid -> new."""
    remote = make_remote(tmp_path, "src")
    shas = [commit(remote.work, {"app.py": "v%d\n" % i}, "v%d" % i, 1_700_000_000 + 100 * i) for i in range(3)]
    remote.push()
    return remote, shas


def deploy_args(gitops, remote, sha: str, digest: str, *extra: str) -> list[str]:
    return ["deploy", "--gitops-repo", gitops.url, "--gitops-branch", "main", "--path", PATH,
            "--image-name", "shop", "--image", "quay.io/acme/shop@" + digest,
            "--source-repo", "acme/shop", "--source-sha", sha, "--source-ref", "main",
            "--source-url", remote.url, *extra]


def request(gitops, remote, sha: str, digest: str, **extra) -> "DeployRequest":
    from luban_step.deploy import DeployRequest

    return DeployRequest(gitops.url, "main", PATH, "shop", "quay.io/acme/shop@" + digest, "acme/shop", sha, "main",
                         remote.url, **extra)


def record(gitops, name: str = "shop") -> dict:
    data = yaml.safe_load(gitops.show(PATH + "/kustomization.yaml"))
    return json.loads(data["metadata"]["annotations"]["luban.ci/deployed"])[name]


def test_deploy_pins_the_image_by_digest_and_keeps_the_rest_of_the_file(gitops, source) -> None:
    remote, shas = source
    result = run_cli(*deploy_args(gitops, remote, shas[1], DIGEST_A))
    assert result.code == 0, result.err
    assert result.out == ("luban-step: Deployed 'quay.io/acme/shop@%s' from 'acme/shop' at '%s' to '%s' on "
                          "'main'.\n" % (DIGEST_A, shas[1], PATH))
    text = gitops.show(PATH + "/kustomization.yaml")
    data = yaml.safe_load(text)
    assert data["images"] == [
        {"name": "shop", "newName": "quay.io/acme/shop", "digest": DIGEST_A},
        {"name": "redis", "newTag": "7.2"},
    ]
    # The commit's time is recorded for people reading the file; nothing decides by it.
    assert record(gitops) == {"repo": "acme/shop", "ref": "main", "sha": shas[1], "time": 1700000100,
                              "image": "quay.io/acme/shop@" + DIGEST_A}
    for kept in ("# Production overlay of the shop.", "  - ../../base   # the shared base",
                 "# Keep this comment.", "namespace: shop"):
        assert kept in text.splitlines()
    message = git(gitops.bare, "log", "-1", "--format=%B", "main")
    assert message.splitlines()[0] == "Deploy acme/shop@%s (main) to %s" % (shas[1][:12], PATH)
    assert "Luban-Source-Sha: %s" % shas[1] in message
    assert "Luban-Image: quay.io/acme/shop@%s" % DIGEST_A in message


def test_deploy_of_the_deployed_commit_and_image_is_a_no_op(gitops, source, tmp_path: Path) -> None:
    remote, shas = source
    assert run_cli(*deploy_args(gitops, remote, shas[1], DIGEST_A)).code == 0
    tip = gitops.tip()
    result = run_cli(*deploy_args(gitops, remote, shas[1], DIGEST_A, "--outputs", str(tmp_path / "out")))
    assert result.code == 0
    assert result.out == ("luban-step: 'quay.io/acme/shop@%s' from 'acme/shop' at '%s' is already deployed to "
                          "'%s' on 'main'; nothing to do.\n" % (DIGEST_A, shas[1], PATH))
    assert gitops.tip() == tip
    assert (tmp_path / "out" / "result").read_text() == "already-deployed"
    assert (tmp_path / "out" / "outcome").read_text() == "already deployed to " + PATH


# --- order: ancestry in the source repository, never commit dates ----------------------------


def test_a_commit_dated_in_the_future_does_not_freeze_the_branch(gitops, tmp_path: Path) -> None:
    # One commit with a committer date in 2100 used to make every later commit look older: each
    # was refused as "backwards" while its status stayed green. Its descendants deploy.
    remote = make_remote(tmp_path, "clock")
    future = commit(remote.work, {"app.py": "future\n"}, "clock skew", 4_102_444_800)
    later = commit(remote.work, {"app.py": "later\n"}, "later", 1_700_000_000)
    remote.push()
    assert run_cli(*deploy_args(gitops, remote, future, DIGEST_A)).code == 0
    result = run_cli(*deploy_args(gitops, remote, later, DIGEST_B, "--outputs", str(tmp_path / "out")))
    assert result.code == 0, result.err
    assert result.out.startswith("luban-step: Deployed ")
    assert record(gitops)["sha"] == later
    assert (tmp_path / "out" / "outcome").read_text() == "deployed to " + PATH


def test_an_older_commit_is_refused_by_ancestry_whatever_its_date(gitops, tmp_path: Path) -> None:
    # The older commit carries the later date: the history, not the clock, says it is older.
    remote = make_remote(tmp_path, "dates")
    older = commit(remote.work, {"app.py": "older\n"}, "older", 1_900_000_000)
    newer = commit(remote.work, {"app.py": "newer\n"}, "newer", 1_700_000_000)
    remote.push()
    assert run_cli(*deploy_args(gitops, remote, newer, DIGEST_B)).code == 0
    tip = gitops.tip()
    out = tmp_path / "out"
    result = run_cli(*deploy_args(gitops, remote, older, DIGEST_A, "--outputs", str(out)))
    assert result.code == 0
    assert result.out == (
        "luban-step: Not deploying 'acme/shop' at '%s' to '%s' on 'main': the deployed commit '%s' of 'main' "
        "is newer (it descends from %s). A deployment never moves backwards; the newer commit stays.\n"
        % (older, PATH, newer, older))
    assert gitops.tip() == tip and record(gitops)["sha"] == newer
    # What the commit status shows: report appends this to "build Succeeded".
    assert (out / "result").read_text() == "refused"
    assert (out / "outcome").read_text() == "not deployed: the deployed %s of main descends from it" % newer[:12]


def test_the_order_is_found_beyond_the_first_fetch_depth(gitops, tmp_path: Path) -> None:
    remote = make_remote(tmp_path, "long")
    first = commit(remote.work, {"app.py": "0\n"}, "0", 1_700_000_000)
    for i in range(1, 80):  # more than the first depth (64) between the two
        last = commit(remote.work, {"app.py": "%d\n" % i}, str(i), 1_800_000_000 - i)  # dates go backwards
    remote.push()
    assert run_cli(*deploy_args(gitops, remote, first, DIGEST_A)).code == 0
    assert run_cli(*deploy_args(gitops, remote, last, DIGEST_B)).out.startswith("luban-step: Deployed ")
    refused = run_cli(*deploy_args(gitops, remote, first, DIGEST_A))
    assert refused.code == 0 and refused.out.startswith("luban-step: Not deploying ")
    assert record(gitops)["sha"] == last


def test_an_order_not_found_within_the_history_limit_deploys_nothing_and_fails(gitops, tmp_path: Path) -> None:
    remote = make_remote(tmp_path, "limit")
    first = commit(remote.work, {"app.py": "0\n"}, "0", 1_700_000_000)
    for i in range(1, 12):
        last = commit(remote.work, {"app.py": "%d\n" % i}, str(i), 1_700_000_000 + i)
    remote.push()
    assert run_cli(*deploy_args(gitops, remote, first, DIGEST_A)).code == 0
    tip = gitops.tip()
    out = tmp_path / "out"
    result = run_cli(*deploy_args(gitops, remote, last, DIGEST_B, "--history-limit", "5", "--outputs", str(out)))
    assert result.code == 4
    assert result.err == (
        "luban-step: error: Cannot tell whether '%s' comes after the deployed '%s' of 'main': their histories do "
        "not meet within the last 5 commits of each. A deployment only moves forward along the history of its "
        "ref, never by commit dates, so nothing was deployed. Run the deploy again with a larger --history-limit, "
        "or push a commit that descends from the deployed one.\n" % (last, first))
    assert gitops.tip() == tip
    assert (out / "outcome").read_text() == (
        "not deployed: no common history with the deployed %s within 5 commits" % first[:12])
    assert run_cli(*deploy_args(gitops, remote, last, DIGEST_B, "--history-limit", "20")).code == 0


def _force_push(remote, base: str, files: dict[str, str], when: int) -> str:
    git(remote.work, "checkout", "-q", "-B", "main", base)
    sha = commit(remote.work, files, "rewritten", when)
    git(remote.work, "push", "-q", "--force", "origin", "HEAD:refs/heads/main")
    return sha


def test_a_force_pushed_branch_deploys_what_it_holds_now(gitops, source) -> None:
    remote, shas = source
    assert run_cli(*deploy_args(gitops, remote, shas[2], DIGEST_B)).code == 0
    # main is rewritten from v0: v1 and v2 are gone from it; the new line is older by date.
    rewritten = _force_push(remote, shas[0], {"app.py": "rewritten\n"}, 1_600_000_000)
    result = run_cli(*deploy_args(gitops, remote, rewritten, DIGEST_A))
    assert result.code == 0, result.err
    assert result.out.startswith("luban-step: Deployed ")
    assert ("luban-step: 'main' was force-pushed (its history was replaced): the deployed '%s' is no longer on "
            "it and '%s' is; deploying '%s'.\n" % (shas[2], rewritten, rewritten)) in result.err
    assert record(gitops)["sha"] == rewritten


def test_a_branch_reset_to_an_older_commit_deploys_it(gitops, source) -> None:
    remote, shas = source
    assert run_cli(*deploy_args(gitops, remote, shas[2], DIGEST_B)).code == 0
    git(remote.work, "push", "-q", "--force", "origin", shas[0] + ":refs/heads/main")  # a deliberate rollback
    result = run_cli(*deploy_args(gitops, remote, shas[0], DIGEST_A))
    assert result.code == 0 and result.out.startswith("luban-step: Deployed "), result
    assert "luban-step: 'main' was force-pushed (reset to this older commit): " in result.err
    assert record(gitops)["sha"] == shas[0]


def test_a_late_run_of_a_commit_force_pushed_away_is_refused(gitops, source, tmp_path: Path) -> None:
    remote, shas = source
    dropped = _force_push(remote, shas[0], {"app.py": "dropped\n"}, 1_800_000_000)
    current = _force_push(remote, shas[0], {"app.py": "current\n"}, 1_700_000_500)
    assert run_cli(*deploy_args(gitops, remote, current, DIGEST_B)).code == 0
    out = tmp_path / "out"
    result = run_cli(*deploy_args(gitops, remote, dropped, DIGEST_A, "--outputs", str(out)))
    assert result.code == 0
    assert result.out == (
        "luban-step: Not deploying 'acme/shop' at '%s' to '%s' on 'main': 'main' was rewritten and no longer "
        "holds it, and it is neither an ancestor nor a descendant of the deployed '%s'. What 'main' holds now "
        "deploys when it is built.\n" % (dropped, PATH, current))
    assert record(gitops)["sha"] == current
    assert (out / "outcome").read_text() == "not deployed: main was rewritten and no longer holds it"


def test_a_late_run_of_an_ancestor_is_refused_even_after_the_branch_moved_on(gitops, source, tmp_path: Path) -> None:
    remote, shas = source
    assert run_cli(*deploy_args(gitops, remote, shas[1], DIGEST_B)).code == 0
    newest = commit(remote.work, {"app.py": "v3\n"}, "v3", 1_700_000_300)
    remote.push()
    result = run_cli(*deploy_args(gitops, remote, shas[0], DIGEST_A))
    assert result.code == 0 and "is newer (it descends from %s)" % shas[0] in result.out
    assert run_cli(*deploy_args(gitops, remote, newest, DIGEST_A)).out.startswith("luban-step: Deployed ")


def test_the_source_history_is_fetched_over_https_with_the_checkout_token(
        gitops, source, token_dir: Path, git_http_server, tmp_path: Path) -> None:
    from conftest import TOKEN

    remote, shas = source
    url = git_http_server(remote.bare) + ""
    host = url.split("/")[2]
    assert run_cli(*deploy_args(gitops, remote, shas[2], DIGEST_B)).code == 0
    args = deploy_args(gitops, remote, shas[1], DIGEST_A, "--source-credentials-dir", str(token_dir),
                       "--git-host", host)
    args[args.index("--source-url") + 1] = url
    result = run_cli(*args)
    assert result.code == 0, result.err
    assert result.out.startswith("luban-step: Not deploying ")
    assert TOKEN not in result.both
    args[args.index("--git-host") + 1] = "github.com"
    mismatch = run_cli(*args)
    assert mismatch.code == 2 and "does not name the configured git host 'github.com'" in mismatch.err


def test_deploy_moves_forward_and_another_ref_may_take_over(gitops, source) -> None:
    remote, shas = source
    assert run_cli(*deploy_args(gitops, remote, shas[1], DIGEST_A)).code == 0
    assert run_cli(*deploy_args(gitops, remote, shas[2], DIGEST_B)).code == 0
    assert record(gitops)["sha"] == shas[2]
    git(remote.work, "tag", "v0.1.0", shas[0])
    git(remote.work, "push", "-q", "origin", "refs/tags/v0.1.0")
    args = deploy_args(gitops, remote, shas[0], DIGEST_A)
    args[args.index("--source-ref") + 1] = "refs/tags/v0.1.0"
    assert run_cli(*args).code == 0  # a release tag is a deliberate choice, not a step back
    assert record(gitops)["ref"] == "refs/tags/v0.1.0"


def test_a_push_race_is_replayed_on_the_new_tip_and_rechecked(gitops, source, tmp_path: Path) -> None:
    from luban_step.deploy import deploy

    remote, shas = source
    rival = make_remote(tmp_path, "rival")
    git(rival.work, "remote", "set-url", "origin", str(gitops.bare))
    logs: list[str] = []

    def other_run_pushes_first(attempt: int) -> None:
        if attempt == 1:  # between our commit and our push another run lands an unrelated change
            git(rival.work, "fetch", "-q", "origin", "main")
            git(rival.work, "checkout", "-q", "-B", "main", "FETCH_HEAD")
            commit(rival.work, {"README.md": "changed by another run\n"}, "other", 1_700_000_500)
            rival.push()

    outcome = deploy(request(gitops, remote, shas[1], DIGEST_A), log=logs.append, sleep=lambda s: None,
                     before_push=other_run_pushes_first)
    assert outcome.startswith("Deployed ")
    assert logs == ["The push to 'main' was overtaken by another push; re-applying on the new tip "
                    "(attempt 2 of 5)."]
    assert gitops.show("README.md") == "changed by another run"
    assert record(gitops)["sha"] == shas[1]


def test_a_race_lost_to_a_newer_deploy_ends_as_a_refusal(gitops, source) -> None:
    from luban_step.deploy import deploy

    remote, shas = source
    newer = request(gitops, remote, shas[2], DIGEST_B)
    older = request(gitops, remote, shas[1], DIGEST_A)

    def newer_lands_first(attempt: int) -> None:
        if attempt == 1:
            deploy(newer)

    outcome = deploy(older, sleep=lambda s: None, before_push=newer_lands_first)
    assert outcome.startswith("Not deploying ")
    assert record(gitops)["sha"] == shas[2]


def test_concurrent_deploys_all_succeed_and_the_newest_commit_wins(gitops, source) -> None:
    remote, shas = source
    runs = []
    for sha, digest in [(shas[0], DIGEST_A), (shas[2], DIGEST_B), (shas[1], DIGEST_A)]:
        args = deploy_args(gitops, remote, sha, digest)
        runs.append(subprocess.Popen([sys.executable, "-m", "luban_step", *args], env=cli_env(),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = [(run.wait(timeout=120), run.stdout.read(), run.stderr.read()) for run in runs]
    assert [code for code, _out, _err in results] == [0, 0, 0], results
    assert record(gitops)["sha"] == shas[2]
    for _code, out, _err in results:
        assert out.startswith(("luban-step: Deployed ", "luban-step: Not deploying ")), out
    deploys = git(gitops.bare, "log", "--format=%s", "main").splitlines()[:-1]
    assert 1 <= len(deploys) <= 3 and all(line.startswith("Deploy acme/shop@") for line in deploys)
    assert git(gitops.bare, "rev-list", "--merges", "main") == ""  # replayed, never merged


def test_endless_push_races_give_up_with_the_catalog_message(gitops, source, tmp_path: Path) -> None:
    from luban_step.deploy import deploy
    from luban_step.errors import StepError

    remote, shas = source
    rival = make_remote(tmp_path, "rival")
    git(rival.work, "remote", "set-url", "origin", str(gitops.bare))

    def always_overtaken(attempt: int) -> None:
        git(rival.work, "fetch", "-q", "origin", "main")
        git(rival.work, "checkout", "-q", "-B", "main", "FETCH_HEAD")
        commit(rival.work, {"README.md": "run %d\n" % attempt}, "other", 1_700_000_500 + attempt)
        rival.push()

    with pytest.raises(StepError) as caught:
        deploy(request(gitops, remote, shas[1], DIGEST_A), sleep=lambda s: None, before_push=always_overtaken,
               attempts=3)
    assert caught.value.message == (
        "The push to 'main' was overtaken by other pushes 3 times in a row. Other runs keep updating the "
        "GitOps repository faster than this one can rebase. Retry the step.")


def test_a_push_refused_by_the_server_is_not_retried(gitops, source) -> None:
    remote, shas = source
    hook = gitops.bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'branch main is protected' >&2\nexit 1\n")
    hook.chmod(0o755)
    result = run_cli(*deploy_args(gitops, remote, shas[1], DIGEST_A))
    assert result.code == 4
    assert result.err.startswith("luban-step: error: The GitOps repository refused the push to 'main': ")
    assert "branch main is protected" in result.err
    assert result.err.endswith("Check that the credentials may push to that branch and that branch "
                               "protection allows it.\n")


def test_deploy_to_a_missing_branch_or_path(gitops, source) -> None:
    remote, shas = source
    args = deploy_args(gitops, remote, shas[1], DIGEST_A)
    args[args.index("--gitops-branch") + 1] = "prod"
    result = run_cli(*args)
    assert result.code == 4
    assert result.err == (
        "luban-step: error: Branch 'prod' does not exist in the GitOps repository '%s'. luban-step commits "
        "to an existing branch and never creates one. Create the branch or fix --gitops-branch.\n" % gitops.url)
    args = deploy_args(gitops, remote, shas[1], DIGEST_A)
    args[args.index("--path") + 1] = "apps/missing"
    result = run_cli(*args)
    assert result.code == 3
    assert result.err == (
        "luban-step: error: kustomization.yaml does not exist in 'apps/missing' on branch 'main' of the GitOps "
        "repository. luban-step edits an existing kustomization and never creates one. Commit a "
        "kustomization.yaml at that path first.\n")


def test_a_new_image_entry_is_added_when_the_name_is_not_listed(gitops, source) -> None:
    remote, shas = source
    args = deploy_args(gitops, remote, shas[1], DIGEST_A)
    args[args.index("--image-name") + 1] = "quay.io/acme/worker"
    assert run_cli(*args).code == 0
    data = yaml.safe_load(gitops.show(PATH + "/kustomization.yaml"))
    assert data["images"][-1] == {"name": "quay.io/acme/worker", "newName": "quay.io/acme/shop",
                                  "digest": DIGEST_A}
    assert len(data["images"]) == 3


def test_deploy_over_https_with_a_token_pushes_and_never_shows_it(
        gitops, source, token_dir: Path, git_http_server) -> None:
    from conftest import TOKEN

    remote, shas = source
    url = git_http_server(gitops.bare)
    args = deploy_args(gitops, remote, shas[1], DIGEST_A, "--credentials-dir", str(token_dir))
    args[args.index("--gitops-repo") + 1] = url
    result = run_cli(*args)
    assert result.code == 0, result.err
    assert record(gitops)["sha"] == shas[1]
    assert TOKEN not in result.both
    assert TOKEN not in git(gitops.bare, "log", "-p", "main")


def test_a_secret_echoed_by_a_remote_is_masked(token_dir: Path) -> None:
    from conftest import TOKEN
    from luban_step import redact

    redact.register((token_dir / "token").read_text())
    assert redact.scrub("remote: bad token %s for https://x:%s@h/r" % (TOKEN, TOKEN)) == \
        "remote: bad token *** for https://***@h/r"
    assert redact.scrub("Authorization: Bearer abc.def") == "Authorization: Bearer ***"
    redact.forget_all()


def test_a_kustomization_that_is_not_yaml_is_reported(gitops, source) -> None:
    commit(gitops.work, {PATH + "/kustomization.yaml": "images: [unclosed\n"}, "broken", 1_600_000_100)
    gitops.push()
    remote, shas = source
    result = run_cli(*deploy_args(gitops, remote, shas[1], DIGEST_A))
    assert result.code == 3
    assert result.err.startswith("luban-step: error: kustomization.yaml in '%s' on branch 'main' cannot be "
                                 "edited: it is not valid YAML (" % PATH)
    assert result.err.endswith("Fix the file in the GitOps repository.\n")


def test_a_source_repository_without_the_commit_is_reported(gitops, source, tmp_path: Path) -> None:
    remote, shas = source
    other = make_remote(tmp_path, "other")
    commit(other.work, {"x": "y"}, "x", 1_700_000_000)
    other.push()
    assert run_cli(*deploy_args(gitops, remote, shas[2], DIGEST_B)).code == 0
    result = run_cli(*deploy_args(gitops, other, shas[1], DIGEST_A))
    assert result.code == 4
    assert result.err.startswith("luban-step: error: The commit '%s' could not be fetched from '%s': "
                                 % (shas[1], other.url))


def test_a_history_limit_that_is_not_a_number_is_refused(gitops, source) -> None:
    remote, shas = source
    result = run_cli(*deploy_args(gitops, remote, shas[1], DIGEST_A, "--history-limit", "all"))
    assert result.code == 2
    assert result.err == ("luban-step: error: --history-limit 'all' is not a number of commits. It bounds how much "
                          "history deploy fetches to order two commits. Pass a whole number from 1 to 100000.\n")


def test_the_source_history_holds_commits_only_where_the_server_filters(source, tmp_path: Path) -> None:
    from luban_step.gitcmd import Git, git_env
    from luban_step.history import SourceHistory

    remote, shas = source
    git(remote.bare, "config", "uploadpack.allowFilter", "true")  # as GitHub: partial clone served
    work = tmp_path / "history"
    work.mkdir()
    history = SourceHistory(Git(work, git_env({}, "file")), remote.url, "refs/heads/main")
    assert history.order(shas[2], shas[0]).verdict == "forward"
    assert history.order(shas[0], shas[2]).verdict == "backwards"
    kinds = {line.split()[1] for line in git(work, "cat-file", "--batch-all-objects", "--batch-check").splitlines()}
    assert kinds == {"commit"}


def test_a_busy_gitops_server_is_retried_for_the_fetch_and_the_push(
        gitops, source, token_dir: Path, git_http_server) -> None:
    from luban_step.deploy import deploy

    remote, shas = source
    url = git_http_server(gitops.bare, busy=1, busy_push=1)
    sleeps: list[float] = []
    lines: list[str] = []
    target = request(gitops, remote, shas[1], DIGEST_A, credentials_dir=str(token_dir))
    target = type(target)(**{**target.__dict__, "gitops_repo": url})
    result = deploy(target, log=lines.append, sleep=sleeps.append)
    assert result.startswith("Deployed 'quay.io/acme/shop@%s'" % DIGEST_A), result
    assert record(gitops)["sha"] == shas[1]
    assert lines[0] == ("git fetch failed (fatal: unable to access '%s/': The requested URL returned error: 503); "
                        "retrying in 1s (attempt 2 of 5)." % url)
    assert lines[1].startswith("git push failed (")
    assert "503" in lines[1] and lines[1].endswith("(attempt 2 of 5).")
    assert sleeps[0] == 1 and len(sleeps) == 2


def test_a_replayed_delivery_takes_no_deployment_over_from_another_ref(gitops, source, tmp_path: Path) -> None:
    # Issue 10 item 6: main's v1 was deployed, then a release tag took the path over. A captured
    # delivery of main's old push replayed (after its Workflow's TTL, so nothing stops the run)
    # would take it back: main no longer holds v1 at its tip, so nothing is deployed.
    remote, shas = source
    git(remote.work, "tag", "v0.2.0", shas[2])
    git(remote.work, "push", "-q", "origin", "refs/tags/v0.2.0")
    args = deploy_args(gitops, remote, shas[2], DIGEST_B)
    args[args.index("--source-ref") + 1] = "refs/tags/v0.2.0"
    assert run_cli(*args).code == 0
    out = tmp_path / "out"
    result = run_cli(*deploy_args(gitops, remote, shas[1], DIGEST_A, "--outputs", str(out)))
    assert result.code == 0, result.err
    assert result.out == (
        "luban-step: Not deploying 'acme/shop' at '{sha}' to '{path}' on 'main': the deployment comes from "
        "'refs/tags/v0.2.0', and 'main' no longer holds '{sha}' at its tip (a late or replayed delivery). Another "
        "ref takes a deployment over only with what it holds now.\n").format(sha=shas[1], path=PATH)
    assert record(gitops)["ref"] == "refs/tags/v0.2.0"
    assert (out / "outcome").read_text() == "not deployed: main has moved on from it"
    # What main holds now may take it over (a deliberate push to the deploy branch).
    assert run_cli(*deploy_args(gitops, remote, shas[2], DIGEST_A)).out.startswith("luban-step: Deployed ")
    assert record(gitops)["ref"] == "main"


def test_a_replayed_delivery_of_an_older_commit_deploys_nothing_after_the_ttl(gitops, source, tmp_path: Path) -> None:
    # Issue 10 item 6: the replay's run is not stopped by anything (its Workflow is long gone) and
    # it builds; deploy refuses it by ancestry, and says so on the commit.
    remote, shas = source
    assert run_cli(*deploy_args(gitops, remote, shas[2], DIGEST_B)).code == 0
    out = tmp_path / "out"
    result = run_cli(*deploy_args(gitops, remote, shas[0], DIGEST_A, "--outputs", str(out)))
    assert result.code == 0, result.err
    assert result.out.startswith("luban-step: Not deploying 'acme/shop' at '%s'" % shas[0])
    assert record(gitops)["sha"] == shas[2]
    assert (out / "outcome").read_text() == "not deployed: the deployed %s of main descends from it" % shas[2][:12]


def test_a_late_run_of_a_descendant_force_pushed_away_is_refused(gitops, source, tmp_path: Path) -> None:
    # v2 descends from the deployed v1 but main was force-pushed to another line: v2 is off the ref.
    remote, shas = source
    assert run_cli(*deploy_args(gitops, remote, shas[1], DIGEST_A)).code == 0
    _force_push(remote, shas[1], {"app.py": "other line\n"}, 1_700_000_900)
    out = tmp_path / "out"
    result = run_cli(*deploy_args(gitops, remote, shas[2], DIGEST_B, "--outputs", str(out)))
    assert result.code == 0, result.err
    assert result.out == (
        "luban-step: Not deploying 'acme/shop' at '%s' to '%s' on 'main': 'main' was force-pushed after it was "
        "built and no longer holds it, though it descends from the deployed '%s'. What 'main' holds now deploys "
        "when it is built.\n" % (shas[2], PATH, shas[1]))
    assert record(gitops)["sha"] == shas[1]
    assert (out / "outcome").read_text() == "not deployed: main was rewritten and no longer holds it"
