"""Argo CD objects and the HTTPRoute against JSON Schemas built from Argo CD's and the Gateway
API's own Go types (`make schemas`), every object closed: an unknown field is an error."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import jsonschema
import pytest

from conftest import Doc

KINDS = ("Application", "AppProject", "HTTPRoute")


@pytest.fixture(scope="module")
def validators() -> dict[str, jsonschema.Draft4Validator]:
    root = os.environ.get("LUBAN_SCHEMAS")
    if not root:
        pytest.fail("LUBAN_SCHEMAS is not set: run this tier with `make test-manifests`.")
    return {k: jsonschema.Draft4Validator(json.loads((Path(root) / f"{k}.json").read_text())) for k in KINDS}


def _errors(validator: jsonschema.Draft4Validator, body: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]


def test_every_argocd_object_and_route_matches_its_schema(docs: list[Doc], validators: dict) -> None:
    checked = [d for d in docs if d.kind in KINDS]
    assert sorted(d.kind for d in checked) == ["AppProject", "AppProject", "Application", "Application", "HTTPRoute"]
    for d in checked:
        assert _errors(validators[d.kind], d.body) == [], d.file.name


@pytest.mark.parametrize("kind, path", [
    ("Application", ["spec", "syncPolicy", "automated"]),
    ("AppProject", ["spec"]),
    ("HTTPRoute", ["spec", "rules", 0, "backendRefs", 0]),
])
def test_a_misspelled_field_is_rejected(docs: list[Doc], validators: dict, kind: str, path: list) -> None:
    body = copy.deepcopy(next(d for d in docs if d.kind == kind).body)
    node = body
    for step in path:
        node = node[step]
    node["selfHeel"] = True
    assert any("'selfHeel' was unexpected" in e for e in _errors(validators[kind], body))


def test_a_wrong_type_is_rejected(docs: list[Doc], validators: dict) -> None:
    body = copy.deepcopy(next(d for d in docs if d.kind == "HTTPRoute").body)
    body["spec"]["rules"][0]["backendRefs"][0]["port"] = "twelve-thousand"
    assert any("is not of type 'integer'" in e for e in _errors(validators["HTTPRoute"], body))
