"""Every image the pipeline runs is pinned by digest: the argo_workflows role refuses a tag-only
reference (the step tool, each language's builder, the pack engine's images) with its catalog
message, word for word, unless the user opts out with argo_workflows_allow_mutable_images, which
renders with a warning. A tag can be moved by whoever can push to the repository."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import yaml

from conftest import DIND_IMAGE, PACK_IMAGE, REPO, Doc, by_kind, load_docs, one, render

MESSAGES = yaml.safe_load((REPO / "roles" / "argo_workflows" / "vars" / "main.yml").read_text())["argo_workflows_messages"]
INVENTORY = yaml.safe_load((REPO / "inventories" / "orbstack" / "group_vars" / "all" / "pipeline.yml").read_text())
DIGEST = "@sha256:" + "0123456789abcdef" * 4
STEPTOOL_TAG = "quay.io/example/luban-step:0.1.0"
BUILDER_TAG = "quay.io/example/luban-builder-al2023:0.1.0"
BUILDER_WHERE = "the builder of language python (argo_workflows_builders, argo_workflows_language_registry)"
RUN_IMAGE_TAG = "quay.io/example/stack-run:al2023"
RUN_WHERE = "the run image of language python (argo_workflows_run_images)"
NO_RUN_IMAGE = "none given, so the run image tag of the builder"


def _flat(text: str) -> str:
    return " ".join(text.split())


def _shown(stdout: str) -> str:
    # The YAML callback prints the message single-quoted, doubling every quote in it.
    return _flat(stdout).replace("''", "'")


def _render_output(tmp: Path, extra_vars: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    extra = {"luban_manifests_dir": str(tmp / "manifests"), **extra_vars}
    return subprocess.run(
        ["ansible-playbook", "-i", "inventories/orbstack", "playbooks/manifests.yml", "-e", json.dumps(extra)],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False)


def _refused(tmp: Path, extra_vars: dict[str, Any]) -> str:
    done = _render_output(tmp, extra_vars)
    assert done.returncode != 0, done.stdout[-3000:]
    assert not (tmp / "manifests" / "argo_workflows").exists(), "nothing is rendered before the check"
    return _shown(done.stdout)


def _expected(key: str, images: list[tuple[str, str]]) -> str:
    return _flat(MESSAGES[key].format(images="; ".join(f"{where} '{ref}'" for where, ref in images)))


def test_the_orbstack_inventory_gives_every_image_by_digest() -> None:
    assert INVENTORY["argo_workflows_steptool_image"].startswith(STEPTOOL_TAG + "@sha256:")
    assert INVENTORY["argo_workflows_builders"]["python"].startswith(BUILDER_TAG + "@sha256:")
    assert INVENTORY["argo_workflows_run_images"]["python"].startswith(RUN_IMAGE_TAG + "@sha256:")


def test_every_tag_only_image_is_named_at_once(tmp_path: Path) -> None:
    out = _refused(tmp_path, {"argo_workflows_steptool_image": STEPTOOL_TAG,
                              "argo_workflows_builders": {"python": BUILDER_TAG},
                              "argo_workflows_run_images": {"python": RUN_IMAGE_TAG}})
    assert _expected("mutable_images", [("argo_workflows_steptool_image", STEPTOOL_TAG),
                                        (BUILDER_WHERE, BUILDER_TAG), (RUN_WHERE, RUN_IMAGE_TAG)]) in out, out[-3000:]


def test_a_language_without_a_pinned_run_image_is_refused(tmp_path: Path) -> None:
    # The lifecycle would otherwise export onto the run image the builder's metadata names by tag.
    out = _refused(tmp_path, {"argo_workflows_run_images": {}})
    assert _expected("mutable_images", [(RUN_WHERE, NO_RUN_IMAGE)]) in out, out[-3000:]


def _registry(builders: list[str]) -> list[dict[str, Any]]:
    names = ["python", "go", "java", "node"][:len(builders)]
    return [{"name": n, "detect": [f"{n}.marker"], "builder": b, "template": f"luban-build-{n}"}
            for n, b in zip(names, builders)]


def _where(language: str) -> str:
    return BUILDER_WHERE.replace("python", language)


def test_every_builder_of_a_whole_registry_must_be_a_whole_sha256_digest(tmp_path: Path) -> None:
    builders = ["quay.io/example/builder:latest", "quay.io/example/builder",
                "quay.io/example/builder@sha256:0123",  # not a whole digest
                "quay.io/example/builder@sha512:" + "0" * 128]
    registry = _registry(builders)
    out = _refused(tmp_path, {"argo_workflows_language_registry": registry, "argo_workflows_builders": {}})
    # python's run image is the inventory's; the other languages have none.
    assert _expected("mutable_images", [(_where(e["name"]), e["builder"]) for e in registry]
                     + [(RUN_WHERE.replace("python", n), NO_RUN_IMAGE) for n in ["go", "java", "node"]]
                     ) in out, out[-3000:]


def test_the_pack_engine_images_are_checked_when_that_engine_is_chosen(tmp_path: Path) -> None:
    out = _refused(tmp_path, {"argo_workflows_build_engine": "pack"})
    assert _expected("mutable_images", [("argo_workflows_pack_image", "docker.io/buildpacksio/pack:0.38.2"),
                                        ("argo_workflows_dind_image", "docker.io/library/docker:28.5.1-dind")]
                     ) in out, out[-3000:]


def test_the_variant_runs_the_pack_engine_images_by_digest(variant_manifests: Path) -> None:
    build = one(load_docs(variant_manifests), "WorkflowTemplate", "luban-build-python").body["spec"]["templates"][0]
    assert build["container"]["image"] == PACK_IMAGE
    assert [s["image"] for s in build["sidecars"]] == [DIND_IMAGE]


def test_digest_references_render(tmp_path: Path) -> None:
    accepted = ["quay.io/example/luban-builder" + DIGEST,
                "quay.io/example/luban-builder:0.1.0" + DIGEST,
                "registry.example.com:5000/team/tools/builder:v1.2.3-rc.1" + DIGEST,
                "10.213.0.1:5001/luban/builder-python-cluster" + DIGEST]  # as scripts/cluster/e2e-images.sh records
    steptool = "10.213.0.1:5001/luban/luban-step" + DIGEST
    registry = _registry(accepted)
    run_images = {e["name"]: accepted[i].replace("builder", "stack-run") for i, e in enumerate(registry)}
    docs = load_docs(render(tmp_path, {"argo_workflows_steptool_image": steptool, "argo_workflows_builders": {},
                                       "argo_workflows_language_registry": registry,
                                       "argo_workflows_run_images": run_images}))
    images = {t["container"]["image"] for wt in by_kind(docs, "WorkflowTemplate")
              for t in wt.body["spec"]["templates"] if "container" in t}
    assert steptool in images
    for entry in registry:
        build = one(docs, "WorkflowTemplate", entry["template"]).body["spec"]["templates"][0]
        analyze = next(c for c in build["containerSet"]["containers"] if c["name"] == "analyze")
        assert f"-run-image={run_images[entry['name']]}" in analyze["args"], entry["name"]
    registry = json.loads(one(docs, "ConfigMap", "luban-languages").body["data"]["registry.json"])
    assert [e["builder"] for e in registry] == accepted


def test_opting_out_renders_tags_with_a_loud_warning(tmp_path: Path) -> None:
    done = _render_output(tmp_path, {"argo_workflows_steptool_image": STEPTOOL_TAG,
                                     "argo_workflows_allow_mutable_images": True})
    assert done.returncode == 0, done.stdout[-3000:]
    assert _expected("mutable_images_allowed", [("argo_workflows_steptool_image", STEPTOOL_TAG)]) in _shown(done.stdout)
    docs: list[Doc] = load_docs(tmp_path / "manifests")
    pr = one(docs, "WorkflowTemplate", "luban-ci-pr").body["spec"]["templates"]
    assert {t["container"]["image"] for t in pr if "container" in t} == {STEPTOOL_TAG}


def test_no_warning_when_every_image_is_pinned_even_with_the_opt_out(tmp_path: Path) -> None:
    done = _render_output(tmp_path, {"argo_workflows_allow_mutable_images": True})
    assert done.returncode == 0, done.stdout[-3000:]
    assert "WARNING: argo_workflows_allow_mutable_images" not in done.stdout


def test_the_messages_of_the_check_are_in_the_catalog() -> None:
    tasks = (REPO / "roles" / "argo_workflows" / "tasks" / "main.yml").read_text()
    for key in ("mutable_images", "mutable_images_allowed"):
        assert "argo_workflows_messages.%s.format(" % key in tasks, key
        assert "{images}" in MESSAGES[key]
    assert "REPO@sha256:<digest>" in MESSAGES["mutable_images"]
    assert "argo_workflows_allow_mutable_images: true" in MESSAGES["mutable_images"]
