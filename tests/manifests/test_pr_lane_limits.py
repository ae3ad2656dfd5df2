"""What bounds a pull-request build (issue 10): requests and limits on every pipeline container
(Argo's init and wait containers included, through the podSpecPatch Argo applies after adding
them), a semaphore capping PR pipelines across Workflows, and a NetworkPolicy that keeps PR pods
off the cluster's own services. The policy is decoded strictly into the Kubernetes Go type by
argo-validate and evaluated here rule by rule (no cluster: whether a network plugin enforces it is
a property of the cluster, see docs/pipeline.md)."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REPO, Doc, by_kind, load_docs, one, render, run_validate

DEFAULTS = yaml.safe_load((REPO / "roles" / "argo_workflows" / "defaults" / "main.yml").read_text())
STEP = DEFAULTS["argo_workflows_step_resources"]
BUILD = DEFAULTS["argo_workflows_build_resources"]
EXECUTOR = DEFAULTS["argo_workflows_executor_resources"]


def _containers(wt: Doc) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for t in wt.body["spec"]["templates"]:
        if "container" in t:
            out.append((t["name"], t["container"]))
        out.extend((t["name"] + "/" + c["name"], c) for c in t.get("containerSet", {}).get("containers", []))
        out.extend((t["name"] + "/" + s["name"], s) for s in t.get("sidecars", []))
    return out


def _has_requests_and_limits(resources: dict[str, Any]) -> bool:
    return all(set(resources.get(k, {})) >= {"cpu", "memory"} for k in ("requests", "limits"))


def test_every_pipeline_container_has_requests_and_limits(docs: list[Doc], variant_manifests: Path) -> None:
    checked = 0
    for root_docs in (docs, load_docs(variant_manifests)):  # the lifecycle phases and the pack engine
        for wt in by_kind(root_docs, "WorkflowTemplate"):
            for name, c in _containers(wt):
                assert _has_requests_and_limits(c.get("resources", {})), (wt.name, name)
                checked += 1
    assert checked >= 2 * 12


def test_the_step_and_build_containers_get_their_variables(docs: list[Doc]) -> None:
    for name in ("luban-ci", "luban-ci-pr"):
        for step, c in _containers(one(docs, "WorkflowTemplate", name)):
            assert c["resources"] == STEP, (name, step)
    # The pod's containers are counted at once: build and export do the work, the others are light;
    # the rebase only copies manifests and swaps the run image's layers.
    phases = dict(_containers(one(docs, "WorkflowTemplate", "luban-build-python")))
    assert {name: c["resources"] for name, c in phases.items()} == {
        "build/analyze": STEP, "build/detect": STEP, "build/restore": STEP, "build/build": BUILD, "build/export": BUILD,
        "rebase": STEP}


@pytest.fixture(scope="module")
def lint_results(argo_validate: Path, manifests_dir: Path) -> list[dict[str, Any]]:
    code, report, stderr = run_validate(argo_validate, "lint", str(manifests_dir))
    assert code == 0, stderr
    return report["results"]


def test_argos_init_and_wait_containers_get_the_executor_resources(lint_results: list[dict[str, Any]]) -> None:
    # argo-validate applies each WorkflowTemplate's podSpecPatch the way the controller does, to a
    # pod with Argo's init and wait containers and the main container.
    patched = {r["name"]: r for r in lint_results if r["check"] == "argo-workflows-podspecpatch"}
    assert set(patched) == {"luban-ci", "luban-ci-pr"}
    for name, r in patched.items():
        assert r["ok"], r
        resources = json.loads(r["detail"])
        assert resources["init"] == EXECUTOR and resources["wait"] == EXECUTOR, name
        assert resources["main"] == {}, "the patch leaves the main container to its template"


def test_pr_pipelines_share_one_semaphore_and_release_builds_do_not(docs: list[Doc]) -> None:
    limits = one(docs, "ConfigMap", "luban-ci-limits").body
    assert limits["data"] == {"pr-builds": str(DEFAULTS["argo_workflows_pr_parallelism"])}
    pipelines = {}
    for name in ("luban-ci", "luban-ci-pr"):
        (pipeline,) = [t for t in one(docs, "WorkflowTemplate", name).body["spec"]["templates"] if t["name"] == "pipeline"]
        pipelines[name] = pipeline["synchronization"]
    assert pipelines["luban-ci-pr"]["semaphores"] == [{"configMapKeyRef": {"name": "luban-ci-limits", "key": "pr-builds"}}]
    assert "semaphores" not in pipelines["luban-ci"]
    for sync in pipelines.values():  # the lane mutex stays
        assert sync["mutexes"] == [{"name": "{{workflow.parameters.lane}}"}]


# --- the NetworkPolicy -----------------------------------------------------------------------

def _policy(docs: list[Doc]) -> dict[str, Any]:
    return one(docs, "NetworkPolicy", "luban-ci-pr").body["spec"]


def _allowed(policy: dict[str, Any], ip: str, port: int, protocol: str = "TCP",
             namespace: dict[str, str] | None = None, pod: dict[str, str] | None = None) -> bool:
    """Whether one egress connection is admitted, by NetworkPolicy semantics: a peer is an ipBlock
    (cidr minus except) or a namespace/pod selector pair (matchLabels only, as rendered)."""
    addr = ipaddress.ip_address(ip)
    for rule in policy.get("egress", []):
        ports = rule.get("ports")
        if ports and not any(p.get("protocol", "TCP") == protocol and p["port"] == port for p in ports):
            continue
        peers = rule.get("to")
        if not peers:
            return True
        for peer in peers:
            block = peer.get("ipBlock")
            if block:
                net = ipaddress.ip_network(block["cidr"])
                if addr.version == net.version and addr in net and not any(
                        addr in ipaddress.ip_network(e) for e in block.get("except", [])
                        if ipaddress.ip_network(e).version == addr.version):
                    return True
                continue
            if namespace is None or pod is None:
                continue
            ns_sel = peer.get("namespaceSelector", {}).get("matchLabels", {})
            pod_sel = peer.get("podSelector", {}).get("matchLabels", {})
            if ns_sel.items() <= namespace.items() and pod_sel.items() <= pod.items():
                return True
    return False


KUBE_DNS = ({"kubernetes.io/metadata.name": "kube-system"}, {"k8s-app": "kube-dns"})


def test_the_policy_selects_exactly_the_pr_lanes_pods(docs: list[Doc]) -> None:
    policy = _policy(docs)
    # Ingress governed and no rule given: nothing connects to a PR pod. (No `ingress: []`: the API
    # server drops an empty list, and a second apply would then differ.)
    assert policy["policyTypes"] == ["Ingress", "Egress"] and not policy.get("ingress")
    selector = policy["podSelector"]["matchLabels"]
    pr = one(docs, "WorkflowTemplate", "luban-ci-pr").body["spec"]
    assert selector.items() <= pr["podMetadata"]["labels"].items()
    release = one(docs, "WorkflowTemplate", "luban-ci").body["spec"]
    assert not selector.items() <= release.get("podMetadata", {}).get("labels", {}).items()


@pytest.mark.parametrize("what, ip, port, protocol, peer, allowed", [
    ("cluster DNS", "10.96.0.10", 53, "UDP", KUBE_DNS, True),
    ("cluster DNS over TCP", "10.96.0.10", 53, "TCP", KUBE_DNS, True),
    ("github.com over HTTPS", "140.82.112.3", 443, "TCP", None, True),
    ("pypi.org over HTTPS (IPv6)", "2a04:4e42::223", 443, "TCP", None, True),
    ("the API server on a kubeadm/k3s node", "192.168.5.15", 6443, "TCP", None, True),
    ("the cloud metadata service", "169.254.169.254", 80, "TCP", None, False),
    ("the metadata service over HTTPS", "169.254.169.254", 443, "TCP", None, False),
    ("a Service or pod inside the cluster on HTTPS", "10.96.12.34", 443, "TCP", None, False),
    ("a pod of another namespace", "10.244.1.5", 8080, "TCP",
     ({"kubernetes.io/metadata.name": "payments"}, {"app": "api"}), False),
    ("the Argo server in the platform namespace", "10.244.0.9", 2746, "TCP",
     ({"kubernetes.io/metadata.name": "argo"}, {"app": "argo-server"}), False),
    ("a kubelet", "192.168.5.15", 10250, "TCP", None, False),
    ("a node's SSH", "172.16.0.4", 22, "TCP", None, False),
    ("the internet on another port", "140.82.112.3", 22, "TCP", None, False),
    ("a database on the private network", "10.0.3.7", 5432, "TCP", None, False),
    ("IPv6 link-local", "fe80::1", 443, "TCP", None, False),
    ("IPv6 unique-local", "fd00::5", 443, "TCP", None, False),
])
def test_what_a_pr_build_may_reach(docs: list[Doc], what: str, ip: str, port: int, protocol: str,
                                   peer: tuple[dict[str, str], dict[str, str]] | None, allowed: bool) -> None:
    namespace, pod = peer if peer else (None, None)
    assert _allowed(_policy(docs), ip, port, protocol, namespace, pod) is allowed, what


def test_ssh_git_hosts_extra_rules_and_narrowed_api(tmp_path: Path) -> None:
    extra = {"to": [{"ipBlock": {"cidr": "10.20.0.8/32"}}], "ports": [{"protocol": "TCP", "port": 5000}]}
    docs = load_docs(render(tmp_path, {
        "argo_workflows_github_url": "ssh://git@ghe.example.com:7999",
        "argo_workflows_pr_egress_extra": [extra],
        "argo_workflows_pr_egress_kube_api": [{"cidr": "192.168.5.15/32", "port": 6443}],
        "argo_workflows_pr_parallelism": 5,
    }))
    policy = _policy(docs)
    assert _allowed(policy, "203.0.113.7", 7999)  # the git host's port, outside private ranges
    assert not _allowed(policy, "203.0.113.7", 22)
    assert _allowed(policy, "10.20.0.8", 5000) and not _allowed(policy, "10.20.0.9", 5000)
    assert _allowed(policy, "192.168.5.15", 6443) and not _allowed(policy, "192.168.5.16", 6443)
    assert one(docs, "ConfigMap", "luban-ci-limits").body["data"] == {"pr-builds": "5"}


def test_dns_pods_on_their_own_port(tmp_path: Path) -> None:
    # A NetworkPolicy sees the DNS pod's port after the Service's translation (53 -> 1053 here).
    docs = load_docs(render(tmp_path, {"argo_workflows_pr_egress_dns": {
        "namespace": "kube-system", "pod_labels": {"k8s-app": "kube-dns"}, "ports": [1053]}}))
    policy = _policy(docs)
    assert _allowed(policy, "10.244.0.3", 1053, "UDP", *KUBE_DNS)
    assert _allowed(policy, "10.244.0.3", 1053, "TCP", *KUBE_DNS)
    assert not _allowed(policy, "10.244.0.3", 53, "UDP", *KUBE_DNS)


def test_the_policy_can_be_left_out(tmp_path: Path) -> None:
    docs = load_docs(render(tmp_path, {"argo_workflows_pr_network_policy": False}))
    assert not list(by_kind(docs, "NetworkPolicy"))


def test_a_misspelled_policy_field_fails_strict_decoding(argo_validate: Path, manifests_dir: Path, tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "m"
    shutil.copytree(manifests_dir, root)
    path = root / "argo_workflows" / "50-networkpolicy-luban-ci-pr.yaml"
    body = yaml.safe_load(path.read_text())
    body["spec"]["egres"] = body["spec"].pop("egress")
    path.write_text(yaml.safe_dump(body))
    code, report, _stderr = run_validate(argo_validate, "lint", str(root))
    assert code == 1
    (failure,) = [r for r in report["results"] if not r["ok"]]
    assert failure["check"] == "strict-decode" and 'unknown field "spec.egres"' in failure["error"]
