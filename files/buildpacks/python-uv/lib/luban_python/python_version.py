"""Which CPython the app gets: .python-version, else requires-python, else the default."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from pathlib import Path

from ._vendor.catalog import shown
from .errors import BuildpackError

DEFAULT_MINOR = (3, 13)
# End of security support per release line (PEP 596, 619, 664, 693, 719, 745).  A line past its
# date is refused: an image built today on it would ship without security fixes.
EOL_DATES: dict[tuple[int, int], datetime.date] = {
    (3, 7): datetime.date(2023, 6, 27),
    (3, 8): datetime.date(2024, 10, 7),
    (3, 9): datetime.date(2025, 10, 31),
    (3, 10): datetime.date(2026, 10, 31),
    (3, 11): datetime.date(2027, 10, 31),
    (3, 12): datetime.date(2028, 10, 31),
    (3, 13): datetime.date(2029, 10, 31),
    (3, 14): datetime.date(2030, 10, 31),
}
_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?$")
# Build env override of the end-of-life refusal (decision 0003): the build goes on, loudly.
ALLOW_EOL_VAR = "BP_PYTHON_ALLOW_END_OF_LIFE"


@dataclass(frozen=True)
class PythonRequest:
    """A requested CPython: minor line plus optional patch; ``source`` names where it came from."""

    major: int
    minor: int
    patch: int | None
    source: str

    @property
    def minor_str(self) -> str:
        return f"{self.major}.{self.minor}"

    def __str__(self) -> str:
        return self.minor_str if self.patch is None else f"{self.minor_str}.{self.patch}"


def supported_minors(today: datetime.date) -> list[tuple[int, int]]:
    return sorted(m for m, eol in EOL_DATES.items() if eol >= today)


def allow_eol(env: dict[str, str]) -> bool:
    """Whether the build env overrides the end-of-life refusal: true, 1 or yes (any case)."""
    return env.get(ALLOW_EOL_VAR, "").strip().lower() in ("true", "1", "yes")


def end_of_life(request: PythonRequest, today: datetime.date) -> str | None:
    """The end-of-support date of a line already past it (as the messages show it), else None."""
    key = (request.major, request.minor)
    oldest = min(EOL_DATES)
    if key < oldest:
        return f"or before {EOL_DATES[oldest].isoformat()}"
    eol = EOL_DATES.get(key)
    return eol.isoformat() if eol is not None and eol < today else None


def support_ends(version: str) -> str | None:
    """The end of security support of an installed version's line (``3.12.1``), as an ISO date:
    what the python layer's metadata records as ``expires``, so the platform can tell an image
    that outlived its line from one that did not. A line older than every line in EOL_DATES gets
    the oldest date there (its support ended on or before it); an unknown newer line, None."""
    match = _VERSION.match(version)
    if not match:
        return None
    line = (int(match.group(1)), int(match.group(2)))
    if line < min(EOL_DATES):
        return EOL_DATES[min(EOL_DATES)].isoformat()
    eol = EOL_DATES.get(line)
    return eol.isoformat() if eol is not None else None


def _fmt(minors: list[tuple[int, int]]) -> str:
    return ", ".join(f"{a}.{b}" for a, b in minors)


def parse_python_version_file(text: str) -> str | None:
    """The one version in a .python-version file (comments and blank lines ignored)."""
    if not text.isascii():
        raise BuildpackError("python_version_file_not_ascii", content=text.strip())
    lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    versions = [line for line in lines if line]
    if not versions:
        return None
    if len(versions) > 1:
        raise BuildpackError("python_version_file_multiple", versions=versions, first=versions[0])
    return versions[0]


def _invalid_reason(text: str) -> str:
    lowered = text.lower()
    if lowered == "system":
        return "means a Python installed on the machine, and an image has none for the app"
    if re.match(r"^\d+\.\d+(\.\d+)?(a|b|rc|dev)", lowered):
        return "is a pre-release, which is not supported for production images"
    if re.match(r"^[a-z]+-?\d", lowered):
        return "names an implementation or a tool's spelling; write only the number"
    if re.match(r"^\d+\.\d+(\.\d+)?t$", lowered):
        return "asks for a free-threaded build, which is not supported"
    return "is not of that form"


def request_from_string(text: str, source: str, today: datetime.date, allow_eol: bool = False) -> PythonRequest:
    match = _VERSION.match(text)
    if not match:
        raise BuildpackError("python_version_file_invalid", text=text, reason=_invalid_reason(text))
    major, minor = int(match.group(1)), int(match.group(2))
    patch = int(match.group(3)) if match.group(3) is not None else None
    request = PythonRequest(major, minor, patch, source)
    check_supported(request, today, allow_eol)
    return request


def check_supported(request: PythonRequest, today: datetime.date, allow_eol: bool = False) -> None:
    """Refuses unknown lines, and lines past their end of life unless the build env allows them."""
    params = {"version": str(request), "minor": request.minor_str, "supported": _fmt(supported_minors(today)), "source": request.source}
    eol = end_of_life(request, today)
    if eol is None and (request.major, request.minor) not in EOL_DATES:
        raise BuildpackError("python_version_unknown_minor", **params)
    if eol is not None and not allow_eol:
        raise BuildpackError("python_version_eol", eol=eol, var=ALLOW_EOL_VAR, **params)


# --- requires-python: a small PEP 440 subset (release versions only), enough to pick a line ---

_SPEC = re.compile(r"^\s*(~=|===|==|!=|<=|>=|<|>)\s*([0-9]+(?:\.[0-9]+)*)(\.\*)?\s*$")


def _cmp(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    width = max(len(a), len(b))
    a, b = a + (0,) * (width - len(a)), b + (0,) * (width - len(b))
    return (a > b) - (a < b)


def _clause_ok(op: str, want: tuple[int, ...], wildcard: bool, v: tuple[int, ...]) -> bool:
    if wildcard:
        prefix = v[: len(want)] == want
        return prefix if op == "==" else not prefix
    c = _cmp(v, want)
    if op == "~=":
        return c >= 0 and v[: len(want) - 1] == want[: len(want) - 1]
    return {"==": c == 0, "===": c == 0, "!=": c != 0, "<=": c <= 0, ">=": c >= 0, "<": c < 0, ">": c > 0}[op]


def parse_specifier(spec: str) -> list[tuple[str, tuple[int, ...], bool]]:
    clauses = []
    for part in spec.split(","):
        match = _SPEC.match(part)
        if not match:
            raise BuildpackError("requires_python_invalid", spec=spec, detail="cannot read " + shown(part.strip()))
        op, version, wildcard = match.group(1), tuple(int(x) for x in match.group(2).split(".")), bool(match.group(3))
        if op == "~=" and len(version) < 2:
            raise BuildpackError("requires_python_invalid", spec=spec, detail="~= needs at least two version parts")
        clauses.append((op, version, wildcard))
    return clauses


def satisfies(spec: str, version: tuple[int, ...]) -> bool:
    return all(_clause_ok(op, want, wc, version) for op, want, wc in parse_specifier(spec))


def minor_allowed(spec: str, minor: tuple[int, int]) -> bool:
    """Whether some release of the line satisfies ``spec`` (patches 0..99 are plenty)."""
    return any(satisfies(spec, minor + (patch,)) for patch in range(100))


def resolve(app_dir: Path, requires_python: str | None, today: datetime.date,
            allow_eol: bool = False) -> tuple[PythonRequest, bool]:
    """The requested Python and whether it is the unpinned default (for a warning). With
    ``allow_eol`` end-of-life lines are accepted (the caller warns)."""
    version_file = app_dir / ".python-version"
    if version_file.is_file():
        raw = version_file.read_bytes().decode("utf-8", errors="replace")
        text = parse_python_version_file(raw)
        if text is None:
            raise BuildpackError("python_version_file_empty", default=f"{DEFAULT_MINOR[0]}.{DEFAULT_MINOR[1]}")
        request = request_from_string(text, ".python-version", today, allow_eol)
        if requires_python:
            exact = (request.major, request.minor) + ((request.patch,) if request.patch is not None else ())
            ok = satisfies(requires_python, exact) if request.patch is not None else minor_allowed(requires_python, exact)
            if not ok:
                raise BuildpackError("requires_python_conflict", version=str(request), spec=requires_python)
        return request, False
    supported = sorted(EOL_DATES) if allow_eol else supported_minors(today)
    if requires_python:
        parse_specifier(requires_python)
        allowed = [m for m in supported if minor_allowed(requires_python, m)]
        if not allowed:
            raise BuildpackError("requires_python_unsatisfiable", spec=requires_python, supported=_fmt(supported))
        chosen = DEFAULT_MINOR if DEFAULT_MINOR in allowed else allowed[-1]
        return PythonRequest(chosen[0], chosen[1], None, "requires-python in pyproject.toml"), False
    return PythonRequest(DEFAULT_MINOR[0], DEFAULT_MINOR[1], None, "the buildpack default"), True
