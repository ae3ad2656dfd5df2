"""supersede against a fake Kubernetes API (tests/steptool/unit/fake_kube.py) over real TLS and a
real source repository: the list it sends (label and field selectors, pages), the merge patch
`argo stop` would send, which runs it stops (only those of commits this commit descends from) and
which it never touches, RBAC and token refusals word for word, retries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import TOKEN, Remote, commit, git, make_remote, run_cli
from fake_kube import FakeKube, make_tls, start

LANE = "3f2a9c0d1e5b7a64"
ME = "ci-example-python-3f2a9c0d-6dcb09b5b578-push"
CREATED = "2026-03-01T10:00:00Z"
LIST_PATH = "/apis/argoproj.io/v1alpha1/namespaces/luban-ci/workflows"


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory):
    """The source repository: main is c1 <- c2 <- c3 <- c4 (me is c3); ``side`` forks from c1.
    Commit dates run backwards on purpose: only ancestry may decide."""
    remote = make_remote(tmp_path_factory.mktemp("source"), "app")
    shas = {}
    for i in range(1, 5):
        shas["c%d" % i] = commit(remote.work, {"app.py": "print(%d)\n" % i}, "c%d" % i, 2_000_000_000 - i * 1000)
        if i == 3:
            remote.push()
    git(remote.work, "checkout", "-q", "-b", "side", shas["c1"])
    shas["side"] = commit(remote.work, {"side.py": "x\n"}, "side", 1_900_000_000)
    git(remote.work, "push", "-q", "origin", "side")
    git(remote.work, "push", "-q", "origin", "%s:refs/heads/main" % shas["c4"])
    shas["url"] = remote.url
    return shas


STOP = {"metadata": {"annotations": {"luban.ci/superseded-by": ME}}, "spec": {"shutdown": "Stop"}}


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture()
def kube(tls):
    """``kube(**kwargs) -> FakeKube`` serving on 127.0.0.1 with a certificate of ``tls``'s CA."""
    servers = []

    def run(**kwargs: object) -> FakeKube:
        fake = FakeKube(**{"token": TOKEN, **kwargs})
        servers.append(start(fake, tls[1], tls[2]))
        return fake

    yield run
    for server in servers:
        server.shutdown()
        server.server_close()


def service_account(tmp_path: Path, ca: Path, token: str = TOKEN, namespace: str = "luban-ci") -> Path:
    """What Kubernetes mounts at /var/run/secrets/kubernetes.io/serviceaccount."""
    sa = tmp_path / "serviceaccount"
    sa.mkdir(exist_ok=True)
    (sa / "token").write_text(token)
    (sa / "ca.crt").write_bytes(ca.read_bytes())
    (sa / "namespace").write_text(namespace)
    return sa


def in_pod(fake: FakeKube) -> dict[str, str]:
    return {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(fake.port)}


MINE = {}  # the source fixture's SHAs, filled by the autouse fixture below


@pytest.fixture(autouse=True)
def _shas(source) -> None:
    MINE.update(source)


def supersede(fake: FakeKube, sa: Path, *extra: str, lane: str = LANE, env: dict[str, str] | None = None,
              revision: str | None = None, source_url: str | None = None):
    return run_cli("supersede", "--lane", lane, "--workflow", ME, "--workflow-created", CREATED,
                   "--revision", revision or MINE["c3"], "--ref", "refs/heads/main",
                   "--source-url", source_url or MINE["url"],
                   "--service-account-dir", str(sa), *extra, env=in_pod(fake) if env is None else env)


def stop_patch(revision: str | None = None) -> dict:
    return {"metadata": {"annotations": {"luban.ci/superseded-by": ME,
                                         "luban.ci/superseded-by-revision": revision or MINE["c3"]}},
            "spec": {"shutdown": "Stop"}}


def test_supersede_stops_exactly_the_older_unfinished_runs_of_its_lane(kube, tls, tmp_path: Path) -> None:
    fake = kube()
    c1, c2 = MINE["c1"], MINE["c2"]
    fake.add("a-oldest", lane=LANE, created="2026-03-01T09:58:00Z", revision=c1)
    fake.add("b-older", lane=LANE, created="2026-03-01T09:59:59Z", phase="Pending", revision=c2)
    fake.add(ME, lane=LANE, created=CREATED, revision=MINE["c3"])
    untouched = {
        "c-same-second": fake.add("c-same-second", lane=LANE, created=CREATED, revision=c2),
        "d-newer": fake.add("d-newer", lane=LANE, created="2026-03-01T10:00:05Z", revision=c2),
        "e-finished": fake.add("e-finished", lane=LANE, created="2026-03-01T09:00:00Z", phase="Succeeded",
                               completed=True, revision=c1),
        "f-other-lane": fake.add("f-other-lane", lane="0000000000000000", created="2026-03-01T09:00:00Z",
                                 revision=c1),
        "g-stopping": fake.add("g-stopping", lane=LANE, created="2026-03-01T09:30:00Z", shutdown="Stop",
                               revision=c1),
    }
    before = json.loads(json.dumps(untouched))

    result = supersede(fake, service_account(tmp_path, tls[0]))

    assert result.code == 0, result.err
    assert result.out == "luban-step: Stopped 2 older run(s) of lane '%s'.\n" % LANE
    assert result.err == (
        "luban-step: Stopping 'a-oldest' of lane '{lane}', created '2026-03-01T09:58:00Z': superseded by '{me}'.\n"
        "luban-step: Stopping 'b-older' of lane '{lane}', created '2026-03-01T09:59:59Z': superseded by '{me}'.\n"
    ).format(lane=LANE, me=ME)
    listing, *patches = fake.requests
    assert (listing["method"], listing["path"]) == ("GET", LIST_PATH)
    assert listing["query"] == {"labelSelector": "luban.ci/lane=%s" % LANE,
                                "fieldSelector": "metadata.name!=" + ME, "limit": "100"}
    assert listing["headers"]["authorization"] == "Bearer " + TOKEN
    assert listing["headers"]["accept"] == "application/json"
    assert [(p["method"], p["path"]) for p in patches] == [
        ("PATCH", LIST_PATH + "/a-oldest"), ("PATCH", LIST_PATH + "/b-older")]
    for patch in patches:
        assert patch["headers"]["content-type"] == "application/merge-patch+json"
        assert json.loads(patch["body"]) == stop_patch()
    for name in ("a-oldest", "b-older"):
        assert fake.workflows[name]["spec"]["shutdown"] == "Stop"
        assert fake.workflows[name]["metadata"]["annotations"] == {
            "luban.ci/superseded-by": ME, "luban.ci/superseded-by-revision": MINE["c3"]}
    assert "shutdown" not in fake.workflows[ME]["spec"]
    assert {name: fake.workflows[name] for name in untouched} == before
    assert TOKEN not in result.both


def test_supersede_reads_every_page_of_the_list(kube, tls, tmp_path: Path) -> None:
    fake = kube(page_size=2)
    names = ["old-%d" % i for i in range(5)]
    for i, name in enumerate(names):
        fake.add(name, lane=LANE, created="2026-03-01T09:0%d:00Z" % i, revision=MINE["c%d" % (1 + i % 2)])
    result = supersede(fake, service_account(tmp_path, tls[0]))
    assert result.code == 0, result.err
    assert result.out == "luban-step: Stopped 5 older run(s) of lane '%s'.\n" % LANE, result.err
    lists = [r for r in fake.requests if r["method"] == "GET"]
    assert len(lists) == 3
    assert "continue" not in lists[0]["query"]
    assert all(r["query"]["continue"] for r in lists[1:])
    assert all(fake.workflows[name]["spec"]["shutdown"] == "Stop" for name in names)


def test_supersede_with_nothing_older_patches_nothing(kube, tls, tmp_path: Path) -> None:
    fake = kube()
    fake.add(ME, lane=LANE, created=CREATED)
    fake.add("newer", lane=LANE, created="2026-03-01T10:00:01Z")
    result = supersede(fake, service_account(tmp_path, tls[0]))
    assert (result.code, result.err) == (0, "")
    assert result.out == "luban-step: No older run of lane '%s' is running; nothing to stop.\n" % LANE
    assert [r["method"] for r in fake.requests] == ["GET"]


def test_a_run_removed_between_list_and_patch_is_not_counted(kube, tls, tmp_path: Path) -> None:
    fake = kube()
    fake.add("gone", lane=LANE, created="2026-03-01T09:00:00Z", revision=MINE["c1"])
    fake.script = [(200, {"apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowList", "metadata": {},
                          "items": [fake.workflows.pop("gone")]})]
    result = supersede(fake, service_account(tmp_path, tls[0]))
    assert result.code == 0, result.err
    assert result.out == "luban-step: No older run of lane '%s' is running; nothing to stop.\n" % LANE
    assert [r["method"] for r in fake.requests] == ["GET", "PATCH"]


def test_the_namespace_comes_from_the_service_account_unless_given(kube, tls, tmp_path: Path) -> None:
    fake = kube(namespace="ci-team-a")
    fake.add("old", lane=LANE, created="2026-03-01T09:00:00Z", revision=MINE["c2"])
    sa = service_account(tmp_path, tls[0], namespace="ci-team-a")
    assert supersede(fake, sa).code == 0
    assert fake.requests[0]["path"] == "/apis/argoproj.io/v1alpha1/namespaces/ci-team-a/workflows"
    assert supersede(fake, sa, "--namespace", "ci-team-a").code == 0
    assert fake.requests[-1]["path"].startswith("/apis/argoproj.io/v1alpha1/namespaces/ci-team-a/workflows")


def test_a_role_without_patch_is_refused_with_the_rbac_message(kube, tls, tmp_path: Path) -> None:
    fake = kube(verbs=frozenset({"list"}))
    fake.add("old", lane=LANE, created="2026-03-01T09:00:00Z", revision=MINE["c2"])
    result = supersede(fake, service_account(tmp_path, tls[0]))
    assert result.code == 4
    assert result.err.splitlines()[-1] == (
        "luban-step: error: The Kubernetes API answered 403 (Forbidden: workflows.argoproj.io \"old\" is forbidden: "
        "User \"system:serviceaccount:luban-ci:luban-ci-supersede\" cannot patch resource \"workflows\" in API group "
        "\"argoproj.io\" in the namespace \"luban-ci\") for '%s/old'. The step's service account may not patch "
        "Workflows in namespace 'luban-ci'. Apply the argo_workflows role's RBAC (Role luban-ci-supersede: list and "
        "patch on workflows) and run the step as luban-ci-supersede." % (fake.url + LIST_PATH))
    assert len([r for r in fake.requests if r["method"] == "PATCH"]) == 1  # a 403 is never retried


def test_a_token_the_api_refuses_is_unauthorized_and_never_shown(kube, tls, tmp_path: Path) -> None:
    fake = kube()
    wrong = "eyJhbGciOiJSUzI1NiIsImtpZCI6IndyIn0.notTheRightTokenAtAll"
    sa = service_account(tmp_path, tls[0], token=wrong)
    result = supersede(fake, sa)
    assert result.code == 4
    assert result.err == (
        "luban-step: error: The Kubernetes API answered 401 (Unauthorized: Unauthorized) for '%s'. It did not "
        "accept the service account token in '%s'. Check that the step runs with a mounted token (the supersede "
        "template sets automountServiceAccountToken: true).\n" % (fake.url + LIST_PATH, sa / "token"))
    assert wrong not in result.both
    assert fake.requests[0]["headers"]["authorization"] == "Bearer " + wrong


def test_outside_a_pod_it_says_where_it_must_run(kube, tls, tmp_path: Path) -> None:
    fake = kube()
    result = supersede(fake, service_account(tmp_path, tls[0]), env={"KUBERNETES_SERVICE_HOST": ""})
    assert result.code == 3
    assert result.err == (
        "luban-step: error: The Kubernetes API address is not usable: KUBERNETES_SERVICE_HOST or "
        "KUBERNETES_SERVICE_PORT is not set. supersede talks to the API from inside a pod, where Kubernetes sets "
        "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT. Run it as the supersede step of the luban-ci "
        "workflow.\n")
    assert fake.requests == []


@pytest.mark.parametrize(("args", "expected"), [
    (["--lane", LANE + ",luban.ci/lane!=x"],
     "luban-step: error: --lane '3f2a9c0d1e5b7a64,luban.ci/lane!=x' is not a lane: it is not a label value (ASCII "
     "letters, digits, '-', '_' and '.', starting and ending with a letter or digit). The lane is the luban.ci/lane "
     "label the Sensor gives each Workflow (a hash of repository and ref). Pass the workflow's lane parameter "
     "unchanged.\n"),
    (["--workflow", "ci/../x"],
     "luban-step: error: --workflow 'ci/../x' is not a Kubernetes name: it may hold only lowercase letters, digits "
     "and '-' and '.', starting and ending with a letter or digit. Pass the name Argo gives the step, unchanged (the "
     "Workflow's own name, its namespace).\n"),
    (["--workflow-created", "yesterday"],
     "luban-step: error: --workflow-created 'yesterday' is not a creation time. Only runs created before this one "
     "are stopped, so it must be exact. Pass the Workflow's creationTimestamp (RFC 3339 with an offset or Z, for "
     "example 2026-11-24T05:00:00Z).\n"),
    (["--namespace", "Luban CI"],
     "luban-step: error: --namespace 'Luban CI' is not a Kubernetes name: it may hold only lowercase letters, digits "
     "and '-', starting and ending with a letter or digit. Pass the name Argo gives the step, unchanged (the "
     "Workflow's own name, its namespace).\n"),
])
def test_hostile_values_are_refused_before_any_request(kube, tls, tmp_path: Path, args: list[str],
                                                       expected: str) -> None:
    fake = kube()
    base = {"--lane": LANE, "--workflow": ME, "--workflow-created": CREATED, "--revision": MINE["c3"],
            "--ref": "refs/heads/main", "--source-url": MINE["url"],
            "--service-account-dir": str(service_account(tmp_path, tls[0]))}
    base.update(dict(zip(args[::2], args[1::2])))
    result = run_cli("supersede", *[x for pair in base.items() for x in pair], env=in_pod(fake))
    assert (result.code, result.err) == (2, expected)
    assert fake.requests == []


def test_server_errors_are_retried_with_backoff(kube, tls, tmp_path: Path) -> None:
    from luban_step.supersede import SupersedeRequest
    from luban_step.supersede import supersede as run

    fake = kube()
    fake.add("old", lane=LANE, created="2026-03-01T09:00:00Z", revision=MINE["c2"])
    busy = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "the server is currently unable to handle the request", "reason": "ServiceUnavailable",
            "code": 503}
    fake.script = [(503, busy), (429, dict(busy, code=429, reason="TooManyRequests", message="storage is "
                                           "(re)initializing"))]
    sleeps: list[float] = []
    lines: list[str] = []
    result = run(SupersedeRequest(LANE, ME, CREATED, MINE["c3"], "refs/heads/main", MINE["url"], None,
                                  str(service_account(tmp_path, tls[0]))),
                 env=in_pod(fake), log=lines.append, sleep=sleeps.append)
    assert result == "Stopped 1 older run(s) of lane '%s'." % LANE
    assert sleeps == [1, 2]
    assert lines[:2] == [
        "The Kubernetes API did not answer cleanly (HTTP 503 ServiceUnavailable: the server is currently unable to "
        "handle the request); retrying in 1s (attempt 2 of 4).",
        "The Kubernetes API did not answer cleanly (HTTP 429 TooManyRequests: storage is (re)initializing); retrying "
        "in 2s (attempt 3 of 4)."]
    assert fake.workflows["old"]["spec"]["shutdown"] == "Stop"


def test_a_server_whose_certificate_the_ca_does_not_sign_is_never_trusted(kube, tmp_path: Path) -> None:
    from luban_step.errors import StepError
    from luban_step.supersede import SupersedeRequest
    from luban_step.supersede import supersede as run

    fake = kube()
    other_ca = make_tls(tmp_path / "other")[0]
    with pytest.raises(StepError) as caught:
        run(SupersedeRequest(LANE, ME, CREATED, MINE["c3"], "refs/heads/main", MINE["url"], None,
                             str(service_account(tmp_path, other_ca))),
            env=in_pod(fake), sleep=lambda _s: None)
    assert caught.value.key == "kube_unavailable"
    assert "CERTIFICATE_VERIFY_FAILED" in caught.value.message
    assert fake.requests == []  # nothing, token included, went over the untrusted connection


def test_a_late_delivery_of_an_older_commit_stops_no_run_of_a_newer_one(kube, tls, tmp_path: Path) -> None:
    # c4 descends from c3 (me) and arrived first. (A run of c3 itself makes this run a duplicate:
    # below.) Arrival order and commit dates (they run backwards here) decide nothing.
    fake = kube()
    untouched = {"a-descendant": fake.add("a-descendant", lane=LANE, created="2026-03-01T09:58:00Z",
                                          revision=MINE["c4"])}
    before = json.loads(json.dumps(untouched))
    result = supersede(fake, service_account(tmp_path, tls[0]))
    assert result.code == 0, result.err
    assert result.out == "luban-step: No older run of lane '%s' is running; nothing to stop.\n" % LANE
    assert result.err == (
        "luban-step: Not stopping 'a-descendant': its commit '{c4}' stays, as it descends from this commit; only "
        "runs of commits that '{c3}' descends from are stopped.\n"
    ).format(**MINE)
    assert [r["method"] for r in fake.requests] == ["GET"]
    assert {name: fake.workflows[name] for name in untouched} == before


def test_a_run_of_a_commit_the_ref_no_longer_holds_is_stopped(kube, tls, tmp_path: Path) -> None:
    # side ran in this lane, so main held it once; main holds c3 (me) now and not side: its history
    # was replaced, and side's run would build what main no longer is.
    fake = kube()
    fake.add("b-unrelated", lane=LANE, created="2026-03-01T09:59:00Z", revision=MINE["side"])
    result = supersede(fake, service_account(tmp_path, tls[0]))
    assert result.code == 0, result.err
    assert result.out == "luban-step: Stopped 1 older run(s) of lane '%s'.\n" % LANE
    assert fake.workflows["b-unrelated"]["spec"]["shutdown"] == "Stop"


def test_an_older_commit_behind_the_first_fetch_depth_is_still_stopped(kube, tls, tmp_path: Path) -> None:
    remote = make_remote(tmp_path, "deep")
    first = commit(remote.work, {"a": "0"}, "first", 1_000_000_000)
    for i in range(70):  # deeper than the first history fetch (64)
        last = commit(remote.work, {"a": "x%d" % i}, "c%d" % i, 2_000_000_000 - i)
    remote.push()
    fake = kube()
    fake.add("old", lane=LANE, created="2026-03-01T09:00:00Z", revision=first)
    result = supersede(fake, service_account(tmp_path, tls[0]), revision=last, source_url=remote.url)
    assert result.code == 0, result.err
    assert fake.workflows["old"]["spec"]["shutdown"] == "Stop"
    assert fake.workflows["old"]["metadata"]["annotations"]["luban.ci/superseded-by-revision"] == last


def test_no_older_run_fetches_no_history(kube, tls, tmp_path: Path) -> None:
    fake = kube()
    fake.add("newer", lane=LANE, created="2026-03-01T10:00:01Z", revision=MINE["c1"])
    result = supersede(fake, service_account(tmp_path, tls[0]), source_url="file://" + str(tmp_path / "absent.git"))
    assert (result.code, result.err) == (0, "")


def test_a_history_that_cannot_be_read_stops_nothing(kube, tls, tmp_path: Path) -> None:
    fake = kube()
    fake.add("old", lane=LANE, created="2026-03-01T09:00:00Z", revision=MINE["c1"])
    result = supersede(fake, service_account(tmp_path, tls[0]), source_url="file://" + str(tmp_path / "absent.git"))
    assert result.code == 0, result.err
    assert result.err.startswith("luban-step: Not stopping 'old': its commit '%s' stays, as its history could not "
                                 "be read: " % MINE["c1"])
    assert "shutdown" not in fake.workflows["old"]["spec"]


@pytest.mark.parametrize(("phase", "completed"), [("Running", False), ("Pending", False), ("Succeeded", True)])
def test_a_second_delivery_of_a_commit_running_or_built_is_a_duplicate(
        kube, tls, tmp_path: Path, phase: str, completed: bool) -> None:
    fake = kube()
    original = fake.add("original", lane=LANE, created="2026-03-01T09:59:00Z", revision=MINE["c3"], phase=phase,
                        completed=completed)
    before = json.loads(json.dumps(original))
    fake.add(ME, lane=LANE, created=CREATED, revision=MINE["c3"])
    outputs = tmp_path / "outputs"
    result = supersede(fake, service_account(tmp_path, tls[0]), "--outputs", str(outputs))
    assert (result.code, result.err) == (0, "")
    assert result.out == (
        "luban-step: '%s' is already being built or was built by 'original' ('%s'); this run builds nothing and "
        "posts no commit status. Redelivering the webhook of a run that failed builds again.\n" % (MINE["c3"], phase))
    assert (outputs / "result").read_text() == "duplicate"
    assert fake.workflows[ME]["metadata"]["annotations"] == {"luban.ci/duplicate-of": "original"}
    assert fake.workflows["original"] == before
    assert [(r["method"], r["path"]) for r in fake.requests] == [("GET", LIST_PATH), ("PATCH", LIST_PATH + "/" + ME)]


@pytest.mark.parametrize(("other", "duplicate"), [("a-sorts-first", True), ("z-sorts-last", False)])
def test_of_two_runs_of_one_commit_created_in_the_same_second_the_first_by_name_builds(
        kube, tls, tmp_path: Path, other: str, duplicate: bool) -> None:
    # Creation times have whole seconds: a redelivery can share its original's second. Exactly one
    # of the two builds, whichever of them runs this step first.
    fake = kube()
    fake.add(other, lane=LANE, created=CREATED, revision=MINE["c3"], phase="Running")
    fake.add(ME, lane=LANE, created=CREATED, revision=MINE["c3"])
    outputs = tmp_path / "outputs"
    result = supersede(fake, service_account(tmp_path, tls[0]), "--outputs", str(outputs))
    assert (result.code, result.err) == (0, "")
    assert (outputs / "result").read_text() == ("duplicate" if duplicate else "run")
    assert fake.workflows[ME]["metadata"].get("annotations") == (
        {"luban.ci/duplicate-of": other} if duplicate else None)
    assert "shutdown" not in fake.workflows[other]["spec"]


@pytest.mark.parametrize(("phase", "shutdown", "annotations"), [
    ("Failed", None, None), ("Error", None, None), ("Running", "Stop", None),
    ("Succeeded", None, {"luban.ci/duplicate-of": "first"})])
def test_a_redelivery_of_a_run_that_failed_or_was_stopped_runs_again(kube, tls, tmp_path: Path, phase: str,
                                                                     shutdown: str | None, annotations) -> None:
    # A duplicate that built nothing is no original either.
    fake = kube()
    fake.add("earlier", lane=LANE, created="2026-03-01T09:00:00Z", revision=MINE["c3"], phase=phase,
             completed=phase != "Running", shutdown=shutdown, annotations=annotations)
    fake.add(ME, lane=LANE, created=CREATED, revision=MINE["c3"])
    outputs = tmp_path / "outputs"
    result = supersede(fake, service_account(tmp_path, tls[0]), "--outputs", str(outputs))
    assert (result.code, result.err) == (0, "")
    assert result.out == "luban-step: No older run of lane '%s' is running; nothing to stop.\n" % LANE
    assert (outputs / "result").read_text() == "run"
    assert "annotations" not in fake.workflows[ME]["metadata"]


def _force_pushed(tmp_path: Path) -> tuple[Remote, str, str, str]:
    """main: base -> dropped, then force-pushed to base -> current. Returns (remote, base, dropped, current)."""
    remote = make_remote(tmp_path, "forced")
    base = commit(remote.work, {"a": "0"}, "base", 1_000_000_000)
    dropped = commit(remote.work, {"a": "dropped"}, "dropped", 1_000_000_100)
    remote.push()
    git(remote.work, "checkout", "-q", "-B", "main", base)
    current = commit(remote.work, {"a": "current"}, "current", 1_000_000_050)
    git(remote.work, "push", "-q", "--force", "origin", "HEAD:refs/heads/main")
    return remote, base, dropped, current


def test_after_a_force_push_the_new_tip_stops_the_run_of_the_commit_pushed_away(kube, tls, tmp_path: Path) -> None:
    remote, _base, dropped, current = _force_pushed(tmp_path)
    fake = kube()
    fake.add("dropped", lane=LANE, created="2026-03-01T09:00:00Z", revision=dropped)
    result = supersede(fake, service_account(tmp_path, tls[0]), revision=current, source_url=remote.url)
    assert result.code == 0, result.err
    assert fake.workflows["dropped"]["spec"]["shutdown"] == "Stop"


def test_a_run_of_a_commit_pushed_away_stops_nothing(kube, tls, tmp_path: Path) -> None:
    # Its commit descends from the older run's, but the ref no longer holds it: the run of what the
    # ref holds now decides (and its deploy refuses: refuse_dropped).
    remote, base, dropped, _current = _force_pushed(tmp_path)
    fake = kube()
    fake.add("base", lane=LANE, created="2026-03-01T09:00:00Z", revision=base)
    result = supersede(fake, service_account(tmp_path, tls[0]), revision=dropped, source_url=remote.url)
    assert result.code == 0, result.err
    assert "shutdown" not in fake.workflows["base"]["spec"]
    assert ("Not stopping 'base': its commit '%s' stays, as this commit is no longer on the ref (the run of what "
            "it holds now stops it)" % base) in result.err
