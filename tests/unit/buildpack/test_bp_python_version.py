from __future__ import annotations

from pathlib import Path

import pytest
from bp_helpers import TODAY, write_app
from luban_python.python_version import (
    minor_allowed, parse_python_version_file, resolve, satisfies, supported_minors,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("3.13\n", "3.13"), ("  3.12.1  \n", "3.12.1"), ("# pinned\n\n3.11 # comment\n", "3.11"), ("\n# nothing\n", None)],
)
def test_python_version_file_ignores_comments_and_blank_lines(text: str, expected: str | None) -> None:
    assert parse_python_version_file(text) == expected


def test_supported_lines_exclude_end_of_life_ones() -> None:
    assert supported_minors(TODAY) == [(3, 11), (3, 12), (3, 13), (3, 14)]


@pytest.mark.parametrize(
    ("spec", "version", "ok"),
    [
        (">=3.11", (3, 12, 0), True), (">=3.11,<3.13", (3, 13, 0), False), ("==3.12.*", (3, 12, 4), True),
        ("!=3.12.*", (3, 12, 4), False), ("~=3.11", (3, 14, 0), True), ("~=3.11.2", (3, 12, 0), False),
        ("<=3.12", (3, 12, 0), True), (">3.12", (3, 12, 0), False), ("==3.12.1", (3, 12, 1), True),
    ],
)
def test_requires_python_specifiers(spec: str, version: tuple[int, ...], ok: bool) -> None:
    assert satisfies(spec, version) is ok


def test_minor_allowed_when_any_patch_fits() -> None:
    assert minor_allowed(">=3.12.4", (3, 12))
    assert not minor_allowed("<3.12", (3, 12))


def test_python_version_file_wins(tmp_path: Path) -> None:
    write_app(tmp_path, {".python-version": "3.12.1\n"})
    request, defaulted = resolve(tmp_path, ">=3.11", TODAY)
    assert (str(request), request.source, defaulted) == ("3.12.1", ".python-version", False)


def test_requires_python_prefers_the_default_line(tmp_path: Path) -> None:
    request, defaulted = resolve(tmp_path, ">=3.11", TODAY)
    assert (str(request), request.source, defaulted) == ("3.13", "requires-python in pyproject.toml", False)


def test_requires_python_picks_the_newest_allowed_line(tmp_path: Path) -> None:
    request, _unused = resolve(tmp_path, ">=3.11,<3.13", TODAY)
    assert str(request) == "3.12"


def test_default_is_used_and_flagged_when_nothing_is_requested(tmp_path: Path) -> None:
    request, defaulted = resolve(tmp_path, None, TODAY)
    assert (str(request), defaulted) == ("3.13", True)
