"""The images area's user-facing messages, triggered for real and checked word for word against
their catalogs (the roles' vars/main.yml)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from conftest import EXAMPLES, REPO, run


def _catalog(path: Path, key: str) -> dict[str, str]:
    return yaml.safe_load(path.read_text())[key]


def _flat(text: str) -> str:
    """Ansible wraps long messages in its YAML output; compare with whitespace normalised."""
    return re.sub(r"\s+", " ", text.replace("'", "").replace('"', "")).strip()


def _play(tmp_path: Path, body: str, *extra: str):
    playbook = tmp_path / "play.yml"
    playbook.write_text(body)
    return run(["ansible-playbook", "-i", str(REPO / "inventories" / "local"), str(playbook), *extra], cwd=REPO)


def test_stack_refuses_a_run_user_equal_to_the_build_user(tmp_path):
    catalog = _catalog(REPO / "roles" / "stack_images" / "vars" / "main.yml", "stack_images_messages")
    result = _play(tmp_path, "- hosts: localhost\n  gather_facts: false\n  roles: [luban.ci.stack_images]\n",
                   "-e", "stack_images_run_user_id=1001")
    assert result.returncode != 0
    expected = catalog["bad_settings"].format(variant="auto", allowed="auto, al2023, debian", build_uid=1001, run_uid=1001)
    assert _flat(expected) in _flat(result.stdout)


def test_builder_names_a_missing_buildpack(tmp_path):
    catalog = _catalog(REPO / "roles" / "builder" / "vars" / "main.yml", "builder_messages")
    missing = tmp_path / "no-such-buildpack"
    result = _play(tmp_path, "- hosts: localhost\n  gather_facts: false\n  roles: [luban.ci.builder]\n",
                   "-e", f"builder_work_dir={tmp_path}", "-e", "builder_build_image=b", "-e", "builder_run_image=r",
                   "-e", "builder_distro_name=debian", "-e", "builder_distro_version=12",
                   "-e", '{"builder_buildpacks": [{"uri": "%s"}]}' % missing)
    assert result.returncode != 0
    assert _flat(catalog["input_missing"].format(path=missing)) in _flat(result.stdout)


@pytest.mark.parametrize("present", [[], ["download-metadata.json"]], ids=["absent", "without-binding-type"])
def test_build_app_says_how_to_get_the_missing_python_mirror(tmp_path, present):
    catalog = _catalog(REPO / "roles" / "app_image" / "vars" / "main.yml", "app_image_messages")
    mirror = tmp_path / "no-mirror"
    for name in present:
        mirror.mkdir(exist_ok=True)
        (mirror / name).write_text("{}")
    result = run(["ansible-playbook", "-i", "inventories/local", "playbooks/build_app.yml",
                  "-e", f"app={EXAMPLES / 'worker-cli'}", "-e", "app_image_python_mirror=true",
                  "-e", f"app_image_python_mirror_dir={mirror}", "-e", f"luban_out_dir={tmp_path}"], cwd=REPO)
    assert result.returncode != 0
    assert _flat(catalog["mirror_missing"].format(dir=mirror)) in _flat(result.stdout)
