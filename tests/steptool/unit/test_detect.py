"""detect with the collection's language selection (its vendored copy of plugins/module_utils/languages.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cli
from luban_step._vendor import languages


@pytest.fixture()
def registry_file(tmp_path: Path) -> Path:
    path = tmp_path / "registry.json"
    data = languages.registry_to_data(languages.DEFAULT_REGISTRY)
    data[0]["builder"] = "quay.io/acme/builder@sha256:" + "c" * 64
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_detect_writes_single_value_outputs_for_argo(tmp_path: Path, registry_file: Path) -> None:
    app = tmp_path / "src" / "services" / "api"
    app.mkdir(parents=True)
    (app / "pyproject.toml").write_text("[project]\nname = 'api'\nversion = '1'\n")
    outputs = tmp_path / "outputs"
    result = run_cli("detect", "--source", str(tmp_path / "src"), "--app-path", "services/api",
                     "--registry", str(registry_file), "--outputs", str(outputs))
    assert result.code == 0, result.err
    assert {p.name: p.read_text() for p in outputs.iterdir()} == {
        "language": "python",
        "builder": "quay.io/acme/builder@sha256:" + "c" * 64,
        "template": "luban-build-python",
        "app-path": "services/api",
    }
    assert result.out == ("luban-step: Selected 'python' (detected) with builder 'quay.io/acme/builder@sha256:"
                          "%s' and template 'luban-build-python'.\n" % ("c" * 64))


def test_detect_passes_the_selection_error_through_word_for_word(tmp_path: Path, registry_file: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.go").write_text("package main\n")
    registry = languages.registry_from_data(json.loads(registry_file.read_text()))
    with pytest.raises(languages.LanguageSelectionError) as expected:
        languages.select_language(tmp_path / "src", ".", registry)
    result = run_cli("detect", "--source", str(tmp_path / "src"), "--registry", str(registry_file),
                     "--outputs", str(tmp_path / "out"))
    assert result.code == 3
    assert result.err == "luban-step: error: %s\n" % expected.value
    assert not (tmp_path / "out").exists()


def test_detect_refuses_a_registry_that_is_not_the_configmap_shape(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    bad = tmp_path / "registry.json"
    bad.write_text('{"python": {}}')
    result = run_cli("detect", "--source", str(tmp_path / "src"), "--registry", str(bad), "--outputs", str(tmp_path / "o"))
    assert result.code == 3
    assert result.err == (
        "luban-step: error: The language registry '%s' is not usable: the top level is not a list. It must be "
        "the JSON list written by the luban.ci.language_registry filter (the language ConfigMap). Check the "
        "ConfigMap mounted at that path.\n" % bad)


def test_detect_on_a_missing_source_directory(tmp_path: Path, registry_file: Path) -> None:
    result = run_cli("detect", "--source", str(tmp_path / "nope"), "--registry", str(registry_file),
                     "--outputs", str(tmp_path / "o"))
    assert result.code == 3
    assert result.err == (
        "luban-step: error: --source '%s' is not a directory. detect reads the checkout written by "
        "'luban-step checkout'. Check that both steps mount the same volume at the same path.\n" % (tmp_path / "nope"))
