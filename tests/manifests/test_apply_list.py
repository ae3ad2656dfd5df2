"""The files the roles apply are the files they render (found by the first real install: the
build template's name came out as `30-workflowtemplate-\\1.yaml`, so it was never applied)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PLAY = """
- hosts: localhost
  gather_facts: false
  roles:
    - role: luban.ci.argo_workflows
      vars: {argo_workflows_apply: false, argo_workflows_manifest_dir: "%(out)s/argo_workflows"}
    - role: luban.ci.argo_events
      vars: {argo_events_apply: false, argo_events_manifest_dir: "%(out)s/argo_events"}
    - role: luban.ci.argocd_apps
      vars: {argocd_apps_apply: false, argocd_apps_manifest_dir: "%(out)s/argocd_apps"}
  tasks:
    - name: The lists the apply tasks loop over
      ansible.builtin.copy:
        dest: "%(out)s/apply-lists.json"
        mode: "0644"
        content: >-
          {{ {'argo_workflows': argo_workflows_manifest_files, 'argo_events': argo_events_manifest_files,
              'argocd_apps': argocd_apps_manifest_files} | to_json }}
"""


def test_every_role_applies_exactly_the_files_it_rendered(tmp_path: Path) -> None:
    out = tmp_path / "manifests"
    play = tmp_path / "play.yml"
    play.write_text(PLAY % {"out": out})
    done = subprocess.run(["ansible-playbook", "-i", "inventories/orbstack", str(play)], cwd=REPO,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    lists = json.loads((out / "apply-lists.json").read_text())
    for role, files in lists.items():
        rendered = sorted(p.name for p in (out / role).iterdir())
        assert sorted(files) == rendered, role
