"""`make cluster-down` leaves the machine as the test cluster found it, and a second run is a no-op.

Runs last in `make test` (tier test-cluster-teardown), against the cluster the earlier tiers used:
it records what the node changed on the host, removes the cluster with scripts/cluster/down.sh
and checks that every trace is gone: processes, iptables/ip6tables rules and chains, the
NetworkPolicy agent's nftables table, mounts, network namespaces, the bridge and its interfaces,
the state directories, and the host sysctls kubelet and up.sh changed, which must be back at the
values saved before the first change.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
STATE = Path("/var/lib/luban-cluster")
RUN = Path("/run/luban-cluster")
BRIDGE = "luban0"
OUR_CHAINS = re.compile(r"^:((KUBE|CNI|LUBAN)-\S+)", re.M)
OUR_JUMPS = re.compile(r"^-A .* -j (KUBE|CNI|LUBAN)-", re.M)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the test cluster needs root")


def sh(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False)


def down() -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(REPO / "scripts" / "cluster" / "down.sh")], capture_output=True, text=True,
                          check=False, timeout=300)


def traces() -> dict[str, list[str]]:
    """Everything of the test cluster's still on this machine, by kind (empty lists: none)."""
    found: dict[str, list[str]] = {}
    for tool in ("iptables", "ip6tables"):
        for table in ("filter", "nat", "mangle", "raw"):
            dump = sh(f"{tool}-save", "-t", table).stdout
            found[f"{tool} {table} chains"] = [m.group(1) for m in OUR_CHAINS.finditer(dump)]
            found[f"{tool} {table} jumps"] = [m.group(0) for m in OUR_JUMPS.finditer(dump)]
    found["links"] = [line for line in sh("ip", "-o", "link", "show").stdout.splitlines()
                      if f" {BRIDGE}:" in line or f"master {BRIDGE} " in line]
    found["network namespaces"] = [n for n in sh("ip", "netns", "list").stdout.split()
                                   if n.startswith(("cni-", "luban-np-"))]
    found["mounts"] = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()
                       if line.split()[1].startswith((f"{STATE}/", f"{RUN}/"))]
    found["directories"] = [str(p) for p in (STATE, RUN) if p.exists()]
    found["processes"] = [line for line in sh("pgrep", "-af", str(STATE)).stdout.splitlines()
                          if "pytest" not in line]
    cache = Path(os.environ.get("LUBAN_CACHE", Path.home() / ".cache" / "luban-ci"))
    services = cache / "cluster" / "services"
    found["host services"] = sorted(p.name for p in services.glob("*.pid"))
    # The NetworkPolicy agent's nftables table (iptables-save does not show inet tables); its
    # --cleanup says whether there was one (and removes it, so a failed check leaves none).
    agent = cache / "gotools" / "kube-network-policies" / "current" / "bin" / "kube-network-policies"
    found["nftables tables"] = ([line for line in sh(str(agent), "--cleanup").stdout.splitlines()
                                 if line.startswith("removed")] if agent.exists() else [])
    return found


def test_cluster_down_removes_every_trace_and_restores_the_host() -> None:
    saved_file = STATE / "sysctl.saved"
    if not saved_file.exists():
        pytest.fail("no test cluster is up: this tier checks the teardown of the cluster the earlier tiers ran "
                    "(make cluster starts one)")
    saved = dict(line.split("=", 1) for line in saved_file.read_text().split())
    changed = {key: sh("sysctl", "-n", key).stdout.strip() for key in saved}

    result = down()
    assert result.returncode == 0, result.stderr
    assert "test cluster removed" in result.stderr

    assert {kind: items for kind, items in traces().items() if items} == {}
    restored = {key: sh("sysctl", "-n", key).stdout.strip() for key in saved}
    assert restored == saved, f"while up: {changed}"


def test_a_second_cluster_down_finds_nothing_and_changes_nothing() -> None:
    before = traces()
    result = down()
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "==> no test cluster on this machine; nothing to remove"
    assert traces() == before
