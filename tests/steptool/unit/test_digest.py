"""digest from a lifecycle report.toml as the lifecycle's exporter writes it."""

from __future__ import annotations

from pathlib import Path

from conftest import run_cli

DIGEST = "sha256:" + "d" * 64
REPORT = """\
[image]
  tags = ["quay.io/acme/shop:0123456789ab", "quay.io/acme/shop:latest"]
  digest = "%s"
  image-id = ""
  manifest-size = 1234

[build]
  [[build.bom]]
    name = "uv"
""" % DIGEST


def _report(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "report.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_digest_writes_digest_and_image_for_the_given_repository(tmp_path: Path) -> None:
    out = tmp_path / "outputs"
    result = run_cli("digest", "--report", str(_report(tmp_path, REPORT)), "--outputs", str(out),
                     "--image-repository", "registry.local:5000/acme/shop")
    assert result.code == 0, result.err
    assert (out / "digest").read_text() == DIGEST
    assert (out / "image").read_text() == "registry.local:5000/acme/shop@" + DIGEST
    assert result.out == "luban-step: Image 'registry.local:5000/acme/shop@%s'.\n" % DIGEST


def test_digest_takes_the_repository_from_the_first_tag_when_not_given(tmp_path: Path) -> None:
    out = tmp_path / "outputs"
    assert run_cli("digest", "--report", str(_report(tmp_path, REPORT)), "--outputs", str(out)).code == 0
    assert (out / "image").read_text() == "quay.io/acme/shop@" + DIGEST


def test_digest_of_a_report_without_a_pushed_image(tmp_path: Path) -> None:
    report = _report(tmp_path, '[image]\n  tags = ["shop:latest"]\n  image-id = "sha256:%s"\n' % ("e" * 64))
    result = run_cli("digest", "--report", str(report), "--outputs", str(tmp_path / "o"))
    assert result.code == 3
    assert result.err == (
        "luban-step: error: The lifecycle report '%s' has no [image] digest. The export did not push an image "
        "to a registry (a daemon export, or a failed export). Check the build step's log and that it exports "
        "to a registry.\n" % report)


def test_digest_refuses_a_malformed_digest(tmp_path: Path) -> None:
    report = _report(tmp_path, '[image]\n  digest = "sha256:XYZ\\n[evil]"\n')
    result = run_cli("digest", "--report", str(report), "--outputs", str(tmp_path / "o"))
    assert result.code == 3
    assert result.err == (
        "luban-step: error: The lifecycle report '%s' gives the digest 'sha256:XYZ\\n[evil]', which is not "
        "sha256:<64 hex>. Only a registry digest can pin a deployment. Check the lifecycle version and the "
        "build step's log.\n" % report)
    assert not (tmp_path / "o").exists()


def test_digest_of_a_report_that_is_not_toml(tmp_path: Path) -> None:
    report = _report(tmp_path, "[image\n")
    result = run_cli("digest", "--report", str(report), "--outputs", str(tmp_path / "o"))
    assert result.code == 3
    assert result.err.startswith("luban-step: error: The lifecycle report '%s' is not valid TOML: " % report)


def test_digest_of_a_missing_report(tmp_path: Path) -> None:
    result = run_cli("digest", "--report", str(tmp_path / "none.toml"), "--outputs", str(tmp_path / "o"))
    assert result.code == 3
    assert result.err == (
        "luban-step: error: --report '%s' cannot be read: No such file or directory. The step expects it to be "
        "mounted into the pod. Check the volume and the path given.\n" % (tmp_path / "none.toml"))
