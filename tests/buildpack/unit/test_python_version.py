from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from bp_helpers import TODAY, write_app
from luban_python.python_version import (
    EOL_DATES, minor_allowed, parse_python_version_file, resolve, satisfies, support_ends, supported_minors,
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


# --- end of life: refused by date, unless the build env overrides it (decision 0003) -----------


@pytest.mark.parametrize("value", ["true", "TRUE", "1", "yes"])
def test_an_end_of_life_line_builds_when_the_build_env_allows_it(value: str, make_context, capsys) -> None:
    from luban_python.build import preflight, warn_python

    ctx = make_context({"requirements.txt": "idna\n", ".python-version": "3.10\n"},
                       {"BP_PYTHON_ALLOW_END_OF_LIFE": value})
    _project, request, defaulted = preflight(ctx)
    assert str(request) == "3.10"
    capsys.readouterr()
    warn_python(ctx, request, defaulted)
    out = capsys.readouterr().out
    assert "! WARNING: Python 3.10 has reached end of life: building anyway because BP_PYTHON_ALLOW_END_OF_LIFE is set" in out
    body = " ".join(line.lstrip("! ") for line in out.splitlines()[3:] if line.startswith("!"))
    assert " ".join(body.split()) == (
        "Python 3.10 stopped receiving security fixes on 2026-10-31. This image ships a Python with known, "
        "unfixable vulnerabilities, and every build of it will say so. Upgrade the app to a supported version "
        "(3.11, 3.12, 3.13, 3.14), update .python-version, and remove BP_PYTHON_ALLOW_END_OF_LIFE from the build "
        "environment.")


@pytest.mark.parametrize("value", ["", "false", "0", "no", "ture"])
def test_anything_else_keeps_the_refusal(value: str, make_context) -> None:
    from luban_python.build import preflight
    from luban_python.errors import BuildpackError

    ctx = make_context({"requirements.txt": "idna\n", ".python-version": "3.9\n"},
                       {"BP_PYTHON_ALLOW_END_OF_LIFE": value})
    with pytest.raises(BuildpackError) as raised:
        preflight(ctx)
    assert raised.value.key == "python_version_eol"


def test_the_override_lets_requires_python_choose_an_end_of_life_line(tmp_path: Path) -> None:
    request, _unused = resolve(tmp_path, "<3.11", TODAY, allow_eol=True)
    assert str(request) == "3.10"
    request, _unused = resolve(tmp_path, ">=3.11", TODAY, allow_eol=True)
    assert str(request) == "3.13"  # the default stays the default


def test_a_supported_line_never_warns_about_end_of_life(make_context, capsys) -> None:
    from luban_python.build import preflight, warn_python

    ctx = make_context({"requirements.txt": "idna\n", ".python-version": "3.12\n"},
                       {"BP_PYTHON_ALLOW_END_OF_LIFE": "true"})
    _project, request, defaulted = preflight(ctx)
    warn_python(ctx, request, defaulted)
    assert "end of life" not in capsys.readouterr().out


# --- the end of support the python layer records, for the platform to stop reusing the image ---


@pytest.mark.parametrize(
    ("version", "expires"),
    [("3.12.1", "2028-10-31"), ("3.12", "2028-10-31"), ("3.10.13", "2026-10-31"), ("3.14.0", "2030-10-31"),
     # Older than every known line: the oldest date, on or before which its support ended.
     ("3.6.15", "2023-06-27"), ("2.7.18", "2023-06-27"),
     # A line the buildpack does not know, or no version at all: no date.
     ("3.15.0", None), ("3.12.1rc1", None), ("", None)],
)
def test_support_ends_on_the_lines_end_of_life_date(version: str, expires: str | None) -> None:
    assert support_ends(version) == expires


def test_the_last_day_of_support_is_still_supported() -> None:
    """expires is the last day a line is supported: the platform counts an image as expired only
    after it, as supported_minors does."""
    last = EOL_DATES[(3, 10)]
    assert support_ends("3.10.13") == last.isoformat()
    assert (3, 10) in supported_minors(last)
    assert (3, 10) not in supported_minors(last + datetime.timedelta(days=1))
