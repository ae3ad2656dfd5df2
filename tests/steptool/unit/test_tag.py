"""tag: a reuse points the run's tags at the manifest found, byte for byte, so its digest stays."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from conftest import run_cli
from luban_step.errors import StepError
from luban_step.tag import TagRequest, tag
from test_inputs import FakeRegistry, labels, registry  # noqa: F401  # pylint: disable=unused-import


def found(registry: FakeRegistry) -> str:
    return registry.image("apps/a", ["inputs-" + "k" * 64], labels("io.buildpacks.lifecycle.metadata", {}))


def test_the_runs_tags_name_the_found_manifest_and_digest_reads_the_report(tmp_path: Path, registry: FakeRegistry) -> None:
    digest = found(registry)
    repo = registry.host + "/apps/a"
    result = run_cli("tag", "--image", repo + "@" + digest, "--tag", repo + ":" + "c" * 40, "--tag", repo + ":latest",
                     "--report", str(tmp_path / "report.toml"), "--insecure-registry", registry.host)
    assert result.code == 0, result.err
    assert result.out == "luban-step: Tagged '%s@%s' for this run (2 tags): nothing was built.\n" % (repo, digest)
    for name in ("c" * 40, "latest"):
        assert registry.manifests["/v2/apps/a/manifests/" + name][0] == digest
    # The manifest's own bytes under its own media type.
    assert [s for s in registry.seen if s.startswith("PUT")] == [
        "PUT /v2/apps/a/manifests/%s application/vnd.oci.image.manifest.v1+json" % n for n in ("c" * 40, "latest")]
    report = tomllib.loads((tmp_path / "report.toml").read_text())
    assert report == {"image": {"tags": [repo + ":" + "c" * 40, repo + ":latest"], "digest": digest}}
    out = tmp_path / "o"
    assert run_cli("digest", "--report", str(tmp_path / "report.toml"), "--outputs", str(out)).code == 0
    assert (out / "image").read_text() == repo + "@" + digest


def test_a_refused_push_is_retried_then_fails_with_the_registrys_answer(tmp_path: Path, registry: FakeRegistry) -> None:
    digest = found(registry)
    repo = registry.host + "/apps/a"
    registry.put_status = [503, 403, 403]
    said, slept = [], []
    with pytest.raises(StepError) as failure:
        tag(TagRequest(repo + "@" + digest, (repo + ":latest",), str(tmp_path / "report.toml"), None, (registry.host,)),
            log=said.append, sleep=slept.append)
    assert failure.value.key == "tag_failed" and failure.value.exit_code == 4
    assert "answered 403 to tagging" in failure.value.message
    assert slept == [2, 8] and len(said) == 2 and said[0].startswith("Tagging failed (attempt 1 of 3): ")
    assert not (tmp_path / "report.toml").exists()


def test_a_tag_of_another_repository_is_refused(tmp_path: Path, registry: FakeRegistry) -> None:
    digest = found(registry)
    repo = registry.host + "/apps/a"
    result = run_cli("tag", "--image", repo + "@" + digest, "--tag", registry.host + "/apps/b:latest",
                     "--report", str(tmp_path / "report.toml"))
    assert result.code == 2
    assert result.err == (
        "luban-step: error: --tag '%s/apps/b:latest' does not name a tag of '%s'. The run's tags point at the image "
        "found for its inputs, which lives in that repository: pass REPOSITORY:TAG with the image's own repository "
        "and a tag of letters, digits, '_', '.' and '-' (at most 128).\n" % (registry.host, repo))
    for bad in ("v1#x", "a/b", ".hidden", 'x"y', "x" * 129, ""):
        result = run_cli("tag", "--image", repo + "@" + digest, "--tag", repo + ":" + bad,
                         "--report", str(tmp_path / "report.toml"))
        assert result.code == 2, bad
    assert not [s for s in registry.seen if s.startswith("PUT")]
