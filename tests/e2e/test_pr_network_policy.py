"""The pull-request lane's NetworkPolicy luban-ci-pr holds on the real cluster.

The test cluster's bridge CNI enforces no NetworkPolicy; the NetworkPolicy agent that
scripts/cluster/up.sh runs beside kube-proxy (tools/kube-network-policies) does. A pod labelled as
the PR lane labels its pods (luban.ci/pipeline: pr) in the pipeline namespace, with the policy the
playbook installed, must not reach a pod or a Service of another namespace, nor a host on a
private address outside the cluster (a network namespace this test makes on the cluster's bridge,
192.168.213.2, listening on 443, the port the policy opens towards addresses outside the private
ranges), and nothing may connect to it; it still resolves names (DNS) and reaches the API server.
An unlabelled twin pod in the same namespace reaches every one of those targets, so each refusal
is the policy's, not a dead target's. (Traffic between a pod and its own node is always allowed by
NetworkPolicy's definition: the node's bridge address is no test of the private ranges.)

Runs in the end-to-end tier (make test-e2e) as root, after the playbook installed luban-ci.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

import e2e_lib as e2e

LABEL = {"luban.ci/pipeline": "pr"}
BRIDGE = "luban0"
NODE_IP = "10.213.0.1"
API_VIP = "10.214.0.1"
NFQUEUE = 100  # scripts/cluster/lib.sh CLUSTER_NFQUEUE
# The private host: a network namespace on the cluster's bridge, reached through the node's routing.
PRIVATE_NS = "luban-np-private"
PRIVATE_LINK = "luban-np0"
PRIVATE_ADDR = "192.168.213.2"
PORT = 443
TARGET_BODY = "luban-np-target"


def helper_image() -> str:
    cache = Path(os.environ.get("LUBAN_CACHE", Path.home() / ".cache" / "luban-ci"))
    for line in (cache / "cluster" / "images.env").read_text().splitlines():
        if line.startswith("IMAGE_HELPER="):
            return line.split("=", 1)[1]
    raise e2e.E2EError("no IMAGE_HELPER in %s: run make cluster" % (cache / "cluster" / "images.env"))


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, capture_output=True, text=True, check=False, timeout=60)
    if check and done.returncode != 0:
        raise e2e.E2EError("%s failed: %s" % (" ".join(args), done.stderr.strip()))
    return done


def agent_reads_its_queue() -> bool:
    queues = Path("/proc/net/netfilter/nfnetlink_queue")
    return queues.exists() and any(line.split()[:1] == [str(NFQUEUE)] for line in queues.read_text().splitlines())


# A restricted-compliant busybox pod (the pipeline namespace may enforce the restricted Pod
# Security level) serving TARGET_BODY over HTTP on PORT (8080 when it runs as nobody).
def pod(name: str, namespace: str, image: str, labels: dict[str, str], port: int, root: bool) -> dict:
    security: dict = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
    if root:  # to listen on 443: only in the test's own namespace, which enforces no Pod Security level
        security["capabilities"]["add"] = ["NET_BIND_SERVICE"]
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name, **labels}},
        "spec": {
            "automountServiceAccountToken": False,
            "terminationGracePeriodSeconds": 1,
            "securityContext": dict({"runAsUser": 0} if root else {"runAsNonRoot": True, "runAsUser": 65534},
                                    seccompProfile={"type": "RuntimeDefault"}),
            "containers": [{
                "name": "probe", "image": image, "imagePullPolicy": "IfNotPresent",
                "command": ["sh", "-c", "mkdir -p /tmp/www && echo %s > /tmp/www/index.html && "
                            "exec httpd -f -p %d -h /tmp/www" % (TARGET_BODY, port)],
                "securityContext": security,
                "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "32Mi"}},
                "readinessProbe": {"tcpSocket": {"port": port}, "periodSeconds": 1},
            }],
        },
    }


class Probes:
    def __init__(self, kube: e2e.Kube) -> None:
        self.kube = kube

    def pod_ip(self, namespace: str, name: str) -> str:
        return self.kube.json("-n", namespace, "get", "pod", name)["status"]["podIP"]

    def http(self, namespace: str, pod: str, url: str) -> str:
        """'answered' (an HTTP answer came back), 'blocked' (no answer in 5 s) or what else was seen."""
        out = self.kube.run("-n", namespace, "exec", pod, "--", "sh", "-c",
                            'timeout 5 wget -q -O - "$0" 2>&1; echo "rc=$?"', url, check=False, timeout=30)
        if TARGET_BODY in out or "server returned error" in out:
            return "answered"
        if out.strip().endswith(("rc=143", "rc=124")):
            return "blocked"
        return "unexpected: %r" % out

    def dns(self, namespace: str, pod: str) -> str:
        out = self.kube.run("-n", namespace, "exec", pod, "--", "sh", "-c",
                            'timeout 8 nslookup kubernetes.default.svc.cluster.local 2>&1; echo "rc=$?"',
                            check=False, timeout=30)
        if API_VIP in out:
            return "answered"
        if out.strip().endswith(("rc=143", "rc=124")) or "timed out" in out or "no servers" in out:
            return "blocked"
        return "unexpected: %r" % out


@pytest.fixture(scope="module")
def kube() -> e2e.Kube:
    kube = e2e.Kube(e2e.kubectl_path())
    if not kube.answers():
        raise e2e.E2EError("the test cluster does not answer at %s: run make cluster" % kube.kubeconfig)
    return kube


@pytest.fixture(scope="module")
def private_host():
    """A host on a private address outside the cluster: a network namespace whose veth is on the
    cluster's bridge, with 192.168.213.2 and the node as its gateway (both directions go through
    the node's forwarding, as traffic to any host beyond the node would), serving on PORT."""
    www = tempfile.mkdtemp(prefix="luban-np-")
    Path(www, "index.html").write_text(TARGET_BODY + "\n")
    server = None
    try:
        sh("ip", "netns", "add", PRIVATE_NS)
        sh("ip", "link", "add", PRIVATE_LINK, "type", "veth", "peer", "name", "eth0", "netns", PRIVATE_NS)
        sh("ip", "link", "set", PRIVATE_LINK, "master", BRIDGE, "up")
        inside = ("ip", "netns", "exec", PRIVATE_NS)
        sh(*inside, "ip", "link", "set", "lo", "up")
        sh(*inside, "ip", "link", "set", "eth0", "up")
        sh(*inside, "ip", "addr", "add", PRIVATE_ADDR + "/32", "dev", "eth0")
        sh(*inside, "ip", "route", "add", NODE_IP + "/32", "dev", "eth0")
        sh(*inside, "ip", "route", "add", "default", "via", NODE_IP, "dev", "eth0")
        sh("ip", "route", "add", PRIVATE_ADDR + "/32", "dev", BRIDGE)
        server = subprocess.Popen([*inside, "python3", "-m", "http.server", str(PORT), "--bind", PRIVATE_ADDR,
                                   "--directory", www], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        probe = "import socket; socket.create_connection(('%s', %d), 2)" % (PRIVATE_ADDR, PORT)
        e2e.wait("the private host's server",
                 lambda: sh(*inside, "python3", "-c", probe, check=False).returncode == 0, 20, 0.5)
        yield PRIVATE_ADDR
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        sh("ip", "route", "del", PRIVATE_ADDR + "/32", "dev", BRIDGE, check=False)
        sh("ip", "netns", "delete", PRIVATE_NS, check=False)
        sh("ip", "link", "delete", PRIVATE_LINK, check=False)
        Path(www, "index.html").unlink()
        os.rmdir(www)


@pytest.fixture(scope="module")
def pods(kube: e2e.Kube):
    """In the pipeline namespace a PR-labelled pod and its unlabelled twin; in a namespace of the
    test's own, a target pod with a Service."""
    image = helper_image()
    suffix = uuid.uuid4().hex[:6]
    other = "luban-np-%s" % suffix
    names = {"pr": "np-pr-%s" % suffix, "twin": "np-twin-%s" % suffix, "target": "np-target"}
    docs = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": other}},
        pod(names["target"], other, image, {}, PORT, root=True),
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "np-target", "namespace": other},
         "spec": {"selector": {"app": names["target"]}, "ports": [{"port": PORT, "targetPort": PORT}]}},
        pod(names["pr"], e2e.NAMESPACE, image, LABEL, 8080, root=False),
        pod(names["twin"], e2e.NAMESPACE, image, {}, 8080, root=False),
    ]
    try:
        kube.run("apply", "-f", "-", input="\n".join(json.dumps(d) for d in docs))
        kube.run("-n", other, "wait", "--for=condition=Ready", "pod/" + names["target"], "--timeout=120s", timeout=150)
        kube.run("-n", e2e.NAMESPACE, "wait", "--for=condition=Ready", "pod/" + names["pr"], "pod/" + names["twin"],
                 "--timeout=120s", timeout=150)
        yield {**names, "other": other}
    finally:
        kube.run("-n", e2e.NAMESPACE, "delete", "pod", names["pr"], names["twin"], "--wait=false", check=False)
        kube.run("delete", "namespace", other, "--wait=false", check=False)


def test_the_pr_lane_policy_keeps_pr_pods_off_other_namespaces_and_private_hosts(kube, pods, private_host) -> None:
    policy = kube.json("-n", e2e.NAMESPACE, "get", "networkpolicy", "luban-ci-pr")
    assert policy["spec"]["podSelector"] == {"matchLabels": LABEL}, policy["spec"]
    assert agent_reads_its_queue(), ("no program reads nfqueue %d: the NetworkPolicy agent is not running "
                                     "(scripts/cluster/up.sh starts it; its log is "
                                     "/var/lib/luban-cluster/logs/kube-network-policies.log)" % NFQUEUE)

    probes = Probes(kube)
    ns = e2e.NAMESPACE
    target_ip = probes.pod_ip(pods["other"], "np-target")
    pr_ip = probes.pod_ip(ns, pods["pr"])
    service_ip = kube.json("-n", pods["other"], "get", "service", "np-target")["spec"]["clusterIP"]
    targets = {
        "another namespace's pod": "http://%s:%d/" % (target_ip, PORT),
        "another namespace's Service": "http://%s:%d/" % (service_ip, PORT),
        "a private host outside the cluster": "http://%s:%d/" % (private_host, PORT),
    }

    # The targets answer (the twin is selected by no policy) ...
    seen = {("twin", what): probes.http(ns, pods["twin"], url) for what, url in targets.items()}
    # ... and the node reaches the PR pod (traffic from its node is always allowed): it serves.
    with urllib.request.urlopen("http://%s:8080/" % pr_ip, timeout=5) as answer:
        assert TARGET_BODY in answer.read().decode()

    # The agent puts a pod under its policies once the API server has the pod's address; the
    # first refusal of a destination only the policy forbids marks that moment.
    deadline = time.monotonic() + 30
    while (first := probes.http(ns, pods["pr"], targets["another namespace's pod"])) != "blocked":
        assert time.monotonic() < deadline, "the PR pod's probe of another namespace's pod after 30 s: %s" % first

    seen.update({("pr", what): probes.http(ns, pods["pr"], url) for what, url in targets.items()})
    seen[("twin", "the PR pod (ingress)")] = probes.http(ns, pods["twin"], "http://%s:8080/" % pr_ip)
    # What the policy allows still works: DNS (CoreDNS pods in kube-system: a real check, the
    # policy must allow it) and the API server (its Service address; any answer, even HTTP 400 to
    # plain HTTP, is a connection). The API server check is a smoke check only: it listens on the
    # node, and NetworkPolicy never filters a pod's traffic with its own node.
    seen[("pr", "DNS")] = probes.dns(ns, pods["pr"])
    seen[("pr", "the API server")] = probes.http(ns, pods["pr"], "http://%s:443/" % API_VIP)

    assert seen == {
        ("twin", "another namespace's pod"): "answered",
        ("twin", "another namespace's Service"): "answered",
        ("twin", "a private host outside the cluster"): "answered",
        ("pr", "another namespace's pod"): "blocked",
        ("pr", "another namespace's Service"): "blocked",
        ("pr", "a private host outside the cluster"): "blocked",
        ("twin", "the PR pod (ingress)"): "blocked",
        ("pr", "DNS"): "answered",
        ("pr", "the API server"): "answered",
    }
