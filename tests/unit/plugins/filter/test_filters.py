# -*- coding: utf-8 -*-
# Copyright: luban-ci contributors
# Apache License 2.0 (see LICENSE)
"""The filters wrap module_utils and turn catalog errors into AnsibleFilterError, text unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.luban.ci.plugins.filter import builder_toml, language_registry, select_language
from ansible_collections.luban.ci.plugins.module_utils.builder_toml import CATALOG as BUILDER_CATALOG
from ansible_collections.luban.ci.plugins.module_utils.languages import DEFAULT_BUILDER

BUILDER = builder_toml.FilterModule().filters()["builder_toml"]
SELECT = select_language.FilterModule().filters()["select_language"]
REGISTRY = language_registry.FilterModule().filters()["language_registry"]
CONFIG = {
    "buildpacks": [{"uri": "/bp", "id": "luban/python-uv"}],
    "order": [{"group": [{"id": "luban/python-uv"}]}],
    "build": {"image": "build:1"},
    "run": {"images": [{"image": "run:1"}]},
}


def test_builder_toml_filter_renders() -> None:
    assert BUILDER(CONFIG).startswith('[build]\nimage = "build:1"\n')


def test_builder_toml_filter_raises_the_catalog_message() -> None:
    with pytest.raises(AnsibleFilterError) as info:
        BUILDER(dict(CONFIG, stack={"id": "x"}))
    assert info.value.message == BUILDER_CATALOG["stack_deprecated"].text


def test_select_language_filter_returns_a_dict(tmp_path: Path) -> None:
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "pyproject.toml").write_text("[project]\nname = 'api'\n")
    assert SELECT(str(tmp_path), app_path="api") == {
        "language": "python",
        "builder": DEFAULT_BUILDER,
        "template": "luban-build-python",
        "app_path": "api",
        "source": "detected",
    }
    assert SELECT(str(tmp_path), app_path="api", builders={"python": "pinned@sha256:ab"})["builder"] == (
        "pinned@sha256:ab"
    )


def test_select_language_filter_uses_a_given_registry(tmp_path: Path) -> None:
    (tmp_path / "go.mod").write_text("module x\n")
    registry = [{"name": "go", "detect": ["go.mod"], "builder": "go-builder", "template": "luban-build-go"}]
    assert SELECT(str(tmp_path), registry=registry)["template"] == "luban-build-go"


def test_select_language_filter_error(tmp_path: Path) -> None:
    with pytest.raises(AnsibleFilterError) as info:
        SELECT(str(tmp_path), app_path="../elsewhere")
    assert info.value.message == (
        "The app path '../elsewhere' contains '..'. The app path must stay inside the checkout so a "
        "build only reads the repository it was asked to build. Give a path below the repository root "
        "without '..' components."
    )


def test_language_registry_filter_defaults_and_overrides() -> None:
    assert REGISTRY({})[0]["builder"] == DEFAULT_BUILDER
    assert REGISTRY(None) == REGISTRY({})
    assert REGISTRY({"python": "quay.io/x/builder@sha256:ab"})[0]["builder"] == "quay.io/x/builder@sha256:ab"
    custom = [{"name": "go", "detect": ["go.mod"], "builder": "g", "template": "t"}]
    assert REGISTRY({}, registry=custom) == custom


def test_language_registry_filter_error() -> None:
    with pytest.raises(AnsibleFilterError) as info:
        REGISTRY({"ruby": "x"})
    assert info.value.message == (
        "A builder override names language 'ruby', which is not in the registry. Overrides apply to "
        "registry languages only. Use one of: python."
    )
