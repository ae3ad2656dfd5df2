"""The step tool's luban_step/_vendor holds exact copies of the collection modules it imports
(plugins/module_utils, listed in scripts/vendor.py); how the check works is tested with the buildpack."""

from __future__ import annotations

import vendor

PACKAGE = "files/steptool/src/luban_step"


def test_the_step_tool_ships_byte_identical_copies_of_what_it_imports() -> None:
    assert vendor.problems(vendored={PACKAGE: vendor.VENDORED[PACKAGE]}) == []
