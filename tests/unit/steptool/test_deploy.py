"""deploy against real git: a bare GitOps remote, real pushes, a real push race."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import commit, cli_env, git, make_remote, run_cli

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


def deploy_args(gitops, sha: str, digest: str, *extra: str) -> list[str]:
    return ["deploy", "--gitops-repo", gitops.url, "--gitops-branch", "main", "--path", PATH,
            "--image-name", "shop", "--image", "quay.io/acme/shop@" + digest,
            "--source-repo", "acme/shop", "--source-sha", sha, "--source-ref", "main", *extra]


def record(gitops, name: str = "shop") -> dict:
    data = yaml.safe_load(gitops.show(PATH + "/kustomization.yaml"))
    return json.loads(data["metadata"]["annotations"]["luban.ci/deployed"])[name]


def test_deploy_pins_the_image_by_digest_and_keeps_the_rest_of_the_file(gitops, source) -> None:
    _remote, shas = source
    result = run_cli(*deploy_args(gitops, shas[1], DIGEST_A, "--source-time", "1700000100"))
    assert result.code == 0, result.err
    assert result.out == ("luban-step: Deployed 'quay.io/acme/shop@%s' from 'acme/shop' at '%s' to '%s' on "
                          "'main'.\n" % (DIGEST_A, shas[1], PATH))
    text = gitops.show(PATH + "/kustomization.yaml")
    data = yaml.safe_load(text)
    assert data["images"] == [
        {"name": "shop", "newName": "quay.io/acme/shop", "digest": DIGEST_A},
        {"name": "redis", "newTag": "7.2"},
    ]
    assert record(gitops) == {"repo": "acme/shop", "ref": "main", "sha": shas[1], "time": 1700000100,
                              "image": "quay.io/acme/shop@" + DIGEST_A}
    for kept in ("# Production overlay of the shop.", "  - ../../base   # the shared base",
                 "# Keep this comment.", "namespace: shop"):
        assert kept in text.splitlines()
    message = git(gitops.bare, "log", "-1", "--format=%B", "main")
    assert message.splitlines()[0] == "Deploy acme/shop@%s (main) to %s" % (shas[1][:12], PATH)
    assert "Luban-Source-Sha: %s" % shas[1] in message
    assert "Luban-Image: quay.io/acme/shop@%s" % DIGEST_A in message


def test_deploy_of_the_deployed_commit_and_image_is_a_no_op(gitops, source) -> None:
    _remote, shas = source
    assert run_cli(*deploy_args(gitops, shas[1], DIGEST_A)).code == 0
    tip = gitops.tip()
    result = run_cli(*deploy_args(gitops, shas[1], DIGEST_A))
    assert result.code == 0
    assert result.out == ("luban-step: 'quay.io/acme/shop@%s' from 'acme/shop' at '%s' is already deployed to "
                          "'%s' on 'main'; nothing to do.\n" % (DIGEST_A, shas[1], PATH))
    assert gitops.tip() == tip


def test_deploy_refuses_to_move_backwards_by_commit_time(gitops, source) -> None:
    _remote, shas = source
    assert run_cli(*deploy_args(gitops, shas[2], DIGEST_B, "--source-time", "1700000200")).code == 0
    tip = gitops.tip()
    result = run_cli(*deploy_args(gitops, shas[1], DIGEST_A, "--source-time", "1700000100"))
    assert result.code == 0
    assert result.out == (
        "luban-step: Not deploying 'acme/shop' at '%s' to '%s' on 'main': the deployed commit '%s' of 'main' "
        "is newer (committed 2023-11-14T22:16:40Z, after 2023-11-14T22:15:00Z). A deployment never moves "
        "backwards; the newer commit stays.\n" % (shas[1], PATH, shas[2]))
    assert gitops.tip() == tip
    assert record(gitops)["sha"] == shas[2]


def test_deploy_refuses_to_move_backwards_by_ancestry_in_a_full_source_checkout(gitops, source) -> None:
    remote, shas = source
    assert run_cli(*deploy_args(gitops, shas[2], DIGEST_B, "--source-dir", str(remote.work))).code == 0
    # A lying clock would say "newer"; the history says it is an ancestor.
    result = run_cli(*deploy_args(gitops, shas[0], DIGEST_A, "--source-dir", str(remote.work),
                                  "--source-time", "1900000000"))
    assert result.code == 0
    assert "is newer (it descends from %s)" % shas[0] in result.out
    assert record(gitops)["sha"] == shas[2]


def test_deploy_reads_the_commit_time_from_a_shallow_checkout(gitops, source, tmp_path: Path) -> None:
    remote, shas = source
    assert run_cli(*deploy_args(gitops, shas[2], DIGEST_B, "--source-time", "1700000200")).code == 0
    shallow = tmp_path / "shallow"
    assert run_cli("checkout", "--repo-url", remote.url, "--revision", shas[1], "--dest", str(shallow)).code == 0
    result = run_cli(*deploy_args(gitops, shas[1], DIGEST_A, "--source-dir", str(shallow)))
    assert "Not deploying" in result.out and result.code == 0
    assert record(gitops)["sha"] == shas[2]


def test_deploy_moves_forward_and_another_ref_may_take_over(gitops, source) -> None:
    _remote, shas = source
    assert run_cli(*deploy_args(gitops, shas[1], DIGEST_A, "--source-time", "1700000100")).code == 0
    assert run_cli(*deploy_args(gitops, shas[2], DIGEST_B, "--source-time", "1700000200")).code == 0
    assert record(gitops)["sha"] == shas[2]
    args = deploy_args(gitops, shas[0], DIGEST_A, "--source-time", "1700000000")
    args[args.index("--source-ref") + 1] = "refs/tags/v0.1.0"
    assert run_cli(*args).code == 0  # a release tag is a deliberate choice, not a step back
    assert record(gitops)["ref"] == "refs/tags/v0.1.0"


def test_deploy_without_order_facts_says_so_and_deploys(gitops, source) -> None:
    _remote, shas = source
    assert run_cli(*deploy_args(gitops, shas[2], DIGEST_B)).code == 0
    result = run_cli(*deploy_args(gitops, shas[1], DIGEST_A))
    assert result.code == 0
    assert ("luban-step: Cannot tell whether '%s' is newer than the deployed '%s' of 'main' (no --source-dir "
            "or --source-time); deploying as the latest build.\n" % (shas[1], shas[2])) in result.err


def test_a_push_race_is_replayed_on_the_new_tip_and_rechecked(gitops, source, tmp_path: Path) -> None:
    from luban_step.deploy import DeployRequest, deploy

    _remote, shas = source
    rival = make_remote(tmp_path, "rival")
    git(rival.work, "remote", "set-url", "origin", str(gitops.bare))
    logs: list[str] = []

    def other_run_pushes_first(attempt: int) -> None:
        if attempt == 1:  # between our commit and our push another run lands an unrelated change
            git(rival.work, "fetch", "-q", "origin", "main")
            git(rival.work, "checkout", "-q", "-B", "main", "FETCH_HEAD")
            commit(rival.work, {"README.md": "changed by another run\n"}, "other", 1_700_000_500)
            rival.push()

    request = DeployRequest(gitops.url, "main", PATH, "shop", "quay.io/acme/shop@" + DIGEST_A, "acme/shop",
                            shas[1], "main", source_time=1700000100)
    outcome = deploy(request, log=logs.append, sleep=lambda s: None, before_push=other_run_pushes_first)
    assert outcome.startswith("Deployed ")
    assert logs == ["The push to 'main' was overtaken by another push; re-applying on the new tip "
                    "(attempt 2 of 5)."]
    assert gitops.show("README.md") == "changed by another run"
    assert record(gitops)["sha"] == shas[1]


def test_a_race_lost_to_a_newer_deploy_ends_as_a_refusal(gitops, source) -> None:
    from luban_step.deploy import DeployRequest, deploy

    _remote, shas = source
    newer = DeployRequest(gitops.url, "main", PATH, "shop", "quay.io/acme/shop@" + DIGEST_B, "acme/shop",
                          shas[2], "main", source_time=1700000200)
    older = DeployRequest(gitops.url, "main", PATH, "shop", "quay.io/acme/shop@" + DIGEST_A, "acme/shop",
                          shas[1], "main", source_time=1700000100)

    def newer_lands_first(attempt: int) -> None:
        if attempt == 1:
            deploy(newer)

    outcome = deploy(older, sleep=lambda s: None, before_push=newer_lands_first)
    assert outcome.startswith("Not deploying ")
    assert record(gitops)["sha"] == shas[2]


def test_concurrent_deploys_all_succeed_and_the_newest_commit_wins(gitops, source) -> None:
    _remote, shas = source
    runs = []
    for index, (sha, digest) in enumerate([(shas[0], DIGEST_A), (shas[2], DIGEST_B), (shas[1], DIGEST_A)]):
        args = deploy_args(gitops, sha, digest, "--source-time", str(1_700_000_000 + 100 * [0, 2, 1][index]))
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
    from luban_step.deploy import DeployRequest, deploy
    from luban_step.errors import StepError

    _remote, shas = source
    rival = make_remote(tmp_path, "rival")
    git(rival.work, "remote", "set-url", "origin", str(gitops.bare))

    def always_overtaken(attempt: int) -> None:
        git(rival.work, "fetch", "-q", "origin", "main")
        git(rival.work, "checkout", "-q", "-B", "main", "FETCH_HEAD")
        commit(rival.work, {"README.md": "run %d\n" % attempt}, "other", 1_700_000_500 + attempt)
        rival.push()

    request = DeployRequest(gitops.url, "main", PATH, "shop", "quay.io/acme/shop@" + DIGEST_A, "acme/shop",
                            shas[1], "main")
    with pytest.raises(StepError) as caught:
        deploy(request, sleep=lambda s: None, before_push=always_overtaken, attempts=3)
    assert caught.value.message == (
        "The push to 'main' was overtaken by other pushes 3 times in a row. Other runs keep updating the "
        "GitOps repository faster than this one can rebase. Retry the step.")


def test_a_push_refused_by_the_server_is_not_retried(gitops, source) -> None:
    _remote, shas = source
    hook = gitops.bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'branch main is protected' >&2\nexit 1\n")
    hook.chmod(0o755)
    result = run_cli(*deploy_args(gitops, shas[1], DIGEST_A))
    assert result.code == 4
    assert result.err.startswith("luban-step: error: The GitOps repository refused the push to 'main': ")
    assert "branch main is protected" in result.err
    assert result.err.endswith("Check that the credentials may push to that branch and that branch "
                               "protection allows it.\n")


def test_deploy_to_a_missing_branch_or_path(gitops, source) -> None:
    _remote, shas = source
    args = deploy_args(gitops, shas[1], DIGEST_A)
    args[args.index("--gitops-branch") + 1] = "prod"
    result = run_cli(*args)
    assert result.code == 4
    assert result.err == (
        "luban-step: error: Branch 'prod' does not exist in the GitOps repository '%s'. luban-step commits "
        "to an existing branch and never creates one. Create the branch or fix --gitops-branch.\n" % gitops.url)
    args = deploy_args(gitops, shas[1], DIGEST_A)
    args[args.index("--path") + 1] = "apps/missing"
    result = run_cli(*args)
    assert result.code == 3
    assert result.err == (
        "luban-step: error: kustomization.yaml does not exist in 'apps/missing' on branch 'main' of the GitOps "
        "repository. luban-step edits an existing kustomization and never creates one. Commit a "
        "kustomization.yaml at that path first.\n")


def test_a_new_image_entry_is_added_when_the_name_is_not_listed(gitops, source) -> None:
    _remote, shas = source
    args = deploy_args(gitops, shas[1], DIGEST_A)
    args[args.index("--image-name") + 1] = "quay.io/acme/worker"
    assert run_cli(*args).code == 0
    data = yaml.safe_load(gitops.show(PATH + "/kustomization.yaml"))
    assert data["images"][-1] == {"name": "quay.io/acme/worker", "newName": "quay.io/acme/shop",
                                  "digest": DIGEST_A}
    assert len(data["images"]) == 3


def test_deploy_over_https_with_a_token_pushes_and_never_shows_it(
        gitops, source, token_dir: Path, git_http_server) -> None:
    from conftest import TOKEN

    _remote, shas = source
    url = git_http_server(gitops.bare)
    args = deploy_args(gitops, shas[1], DIGEST_A, "--credentials-dir", str(token_dir))
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


def test_the_commit_time_may_be_githubs_iso_timestamp(gitops, source) -> None:
    _remote, shas = source
    assert run_cli(*deploy_args(gitops, shas[2], DIGEST_B, "--source-time", "2023-11-15T00:16:40+02:00")).code == 0
    assert record(gitops)["time"] == 1700000200
    result = run_cli(*deploy_args(gitops, shas[1], DIGEST_A, "--source-time", "2023-11-14T22:15:00Z"))
    assert result.code == 0 and result.out.startswith("luban-step: Not deploying ")
    refused = run_cli(*deploy_args(gitops, shas[0], DIGEST_A, "--source-time", "yesterday"))
    assert refused.code == 2
    assert refused.err.startswith("luban-step: error: --source-time 'yesterday' is not a commit time.")
    assert run_cli(*deploy_args(gitops, shas[0], DIGEST_A, "--source-time", "")).code == 0  # unknown: deploys


def test_a_kustomization_that_is_not_yaml_is_reported(gitops, source) -> None:
    commit(gitops.work, {PATH + "/kustomization.yaml": "images: [unclosed\n"}, "broken", 1_600_000_100)
    gitops.push()
    _remote, shas = source
    result = run_cli(*deploy_args(gitops, shas[1], DIGEST_A))
    assert result.code == 3
    assert result.err.startswith("luban-step: error: kustomization.yaml in '%s' on branch 'main' cannot be "
                                 "edited: it is not valid YAML (" % PATH)
    assert result.err.endswith("Fix the file in the GitOps repository.\n")


def test_a_source_dir_without_the_commit_is_reported(gitops, source, tmp_path: Path) -> None:
    _remote, shas = source
    other = make_remote(tmp_path, "other")
    commit(other.work, {"x": "y"}, "x", 1_700_000_000)
    result = run_cli(*deploy_args(gitops, shas[1], DIGEST_A, "--source-dir", str(other.work)))
    assert result.code == 3
    assert result.err.startswith("luban-step: error: --source-dir '%s' does not hold the commit '%s'."
                                 % (other.work, shas[1]))
