"""Every `luban-step` call in the rendered templates parses with the step tool's own argument
parser (files/steptool), so a renamed or missing flag fails here, not in a cluster."""

from __future__ import annotations

import sys

import pytest

from conftest import REPO, Doc, by_kind

STEPTOOL_SRC = REPO / "files" / "steptool" / "src"


@pytest.fixture(scope="module")
def step_parser():
    if not (STEPTOOL_SRC / "luban_step" / "cli.py").is_file():
        pytest.fail("files/steptool/src/luban_step/cli.py is missing: the step tool is part of the product.")
    sys.path.insert(0, str(STEPTOOL_SRC))
    try:
        from luban_step.cli import parser
    finally:
        sys.path.remove(str(STEPTOOL_SRC))
    return parser()


def test_every_step_tool_call_parses(docs: list[Doc], step_parser) -> None:
    seen = set()
    for wt in by_kind(docs, "WorkflowTemplate"):
        for t in wt.body["spec"]["templates"]:
            c = t.get("container")
            if not c or c.get("command") != ["luban-step"]:
                continue
            args = step_parser.parse_args(c["args"])
            seen.add(args.command)
            # Secrets arrive as mounted files only.
            for name in ("credentials_dir", "token_file"):
                value = getattr(args, name, None)
                assert value is None or value.startswith("/secrets/"), (wt.name, t["name"], value)
    assert seen == {"supersede", "checkout", "detect", "digest", "deploy", "status"}
