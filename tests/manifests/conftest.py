"""Shared fixtures for the offline manifests tier.

`make test-manifests` renders the orbstack inventory (LUBAN_MANIFESTS) and builds the Go helper
(ARGO_VALIDATE) that runs Argo's own validation and Sensor code on the rendered files.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
# analyze runs through this script, which runs the analyzer again on a passing registry fault.
ANALYZE = ["/bin/sh", "-c", (REPO / "roles/argo_workflows/files/analyze.sh").read_text().rstrip("\n"), "analyze",
           "/cnb/lifecycle/analyzer"]
FIXTURES = REPO / "tests" / "fixtures" / "github"
WEBHOOK_SECRET = "luban-test-webhook-secret"


@dataclass(frozen=True)
class Doc:
    file: Path
    body: dict[str, Any]

    @property
    def kind(self) -> str:
        return self.body.get("kind", "")

    @property
    def name(self) -> str:
        return self.body.get("metadata", {}).get("name", "")


def load_docs(root: Path) -> list[Doc]:
    docs = []
    for path in sorted(root.rglob("*.yaml")):
        for body in yaml.safe_load_all(path.read_text()):
            if body:
                docs.append(Doc(path, body))
    return docs


def _require_env(name: str) -> Path:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run this tier with `make test-manifests`.")
    return Path(value)


@pytest.fixture(scope="session")
def manifests_dir() -> Path:
    return _require_env("LUBAN_MANIFESTS")


@pytest.fixture(scope="session")
def argo_validate() -> Path:
    return _require_env("ARGO_VALIDATE")


@pytest.fixture(scope="session")
def docs(manifests_dir: Path) -> list[Doc]:
    return load_docs(manifests_dir)


def by_kind(docs: list[Doc], kind: str) -> Iterator[Doc]:
    return (d for d in docs if d.kind == kind)


def one(docs: list[Doc], kind: str, name: str) -> Doc:
    found = [d for d in docs if d.kind == kind and d.name == name]
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def run_validate(argo_validate: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    proc = subprocess.run([str(argo_validate), *args], capture_output=True, text=True, timeout=300, check=False)
    try:
        report = json.loads(proc.stdout) if proc.stdout.strip() else {}
    except json.JSONDecodeError:
        report = {}
    return proc.returncode, report, proc.stderr


@dataclass(frozen=True)
class Delivery:
    """One webhook delivery for the simulator: a payload file and how it is signed."""

    name: str
    event: str
    payload: Path
    signature: str = "good"


def simulate(argo_validate: Path, manifests: Path, tmp: Path, deliveries: list[Delivery]) -> dict[str, dict]:
    cases = [
        {
            "name": d.name,
            "event": d.event,
            "delivery": f"00000000-0000-4000-8000-{i:012d}",
            "payload": str(d.payload),
            "signature": d.signature,
            "secret": WEBHOOK_SECRET,
        }
        for i, d in enumerate(deliveries)
    ]
    cases_file = tmp / "cases.json"
    cases_file.write_text(json.dumps(cases))
    code, report, stderr = run_validate(argo_validate, "simulate", str(manifests), str(cases_file))
    assert report, f"argo-validate simulate produced no report (exit {code}): {stderr}"
    assert code == 0, f"argo-validate simulate failed: {json.dumps(report, indent=1)}\n{stderr}"
    return {c["name"]: c for c in report["cases"]}


def render(tmp: Path, extra_vars: dict[str, Any]) -> Path:
    """Render the orbstack inventory with overrides into tmp (no cluster)."""
    out = tmp / "manifests"
    extra = {"luban_manifests_dir": str(out), **extra_vars}
    proc = subprocess.run(
        ["ansible-playbook", "-i", "inventories/orbstack", "playbooks/manifests.yml", "-e", json.dumps(extra)],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    return out


# The non-default options in one render: an organization-wide EventSource with automatic hook
# creation on GitHub Enterprise Server, and the opt-in privileged pack engine (its images by digest,
# as the role requires of every image it runs).
PACK_IMAGE = "docker.io/buildpacksio/pack:0.38.2@sha256:" + "5" * 64
DIND_IMAGE = "docker.io/library/docker:28.5.1-dind@sha256:" + "d" * 64
VARIANT = {
    "argo_events_github_repositories": [],
    "argo_events_github_organizations": ["example"],
    "argo_events_github_api_token": {"name": "luban-github-api", "key": "token"},
    "argo_events_webhook_url": "https://ci.example.com",
    "argo_events_github_base_url": "https://ghe.example.com/api/v3/",
    "argo_events_github_upload_url": "https://ghe.example.com/api/uploads/",
    "argo_workflows_build_engine": "pack",
    "argo_workflows_pack_image": PACK_IMAGE,
    "argo_workflows_dind_image": DIND_IMAGE,
    "argo_workflows_registry_robot_per_app": True,
}


@pytest.fixture(scope="session")
def variant_manifests(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("variant"), VARIANT)
