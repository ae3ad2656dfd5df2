# -*- coding: utf-8 -*-
# Copyright: luban-ci contributors
# Apache License 2.0 (see LICENSE)
"""The select_language module: real AnsibleModule argument handling, results and failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.luban.ci.plugins.modules import select_language


def run_module(capsys: pytest.CaptureFixture, **args: object) -> dict:
    with patch_module_args(args), pytest.raises(SystemExit):
        select_language.main()
    return json.loads(capsys.readouterr().out)


def test_selects_and_reports_unchanged(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "uv.lock").write_text("")
    result = run_module(capsys, checkout=str(tmp_path))
    assert result["changed"] is False
    assert {k: result[k] for k in ("language", "builder", "template", "app_path", "source")} == {
        "language": "python",
        "builder": "127.0.0.1:5000/luban/builder-python:latest",
        "template": "luban-build-python",
        "app_path": ".",
        "source": "detected",
    }


def test_check_mode_gives_the_same_answer(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "requirements.txt").write_text("")
    result = run_module(capsys, checkout=str(tmp_path), _ansible_check_mode=True, builders={"python": "b@sha256:1"})
    assert (result["language"], result["builder"], result["changed"]) == ("python", "b@sha256:1", False)


def test_failure_carries_the_catalog_message(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    result = run_module(capsys, checkout=str(tmp_path), app_path="/abs")
    assert result["failed"] is True
    assert result["error"] == "app_path_absolute"
    assert result["msg"] == (
        "The app path '/abs' is absolute. The app path is resolved inside the checkout so a build only "
        "reads the repository it was asked to build. Give a path relative to the repository root, such "
        "as 'services/api' or '.'."
    )


def test_bad_registry_fails_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    result = run_module(capsys, checkout=str(tmp_path), registry=[])
    assert result["msg"] == (
        "The language registry is empty. Without a language nothing can be built. List at least one language."
    )
