"""What `pack build` takes from an app's project.toml besides the builder: build env and the files.

pack (v0.40, pkg/project) reads, by schema version (a descriptor without ``[_]`` is 0.1):

* 0.1: ``[build] include``, ``[build] exclude`` and ``[[build.env]]`` (``name``, ``value``);
* 0.2: ``[io.buildpacks] include``, ``exclude`` and ``[[io.buildpacks.build.env]]``, falling back to
  the deprecated ``[[io.buildpacks.env.build]]`` when the former is absent.

Both include and exclude present (even empty) is an error. include and exclude are gitignore-style
patterns, compiled and matched exactly as pack does it with github.com/sabhiram/go-gitignore
(the version pack v0.40 pins): when exclude is non-empty, a path is kept unless it matches;
otherwise, when include is non-empty, a path is kept only when it matches; a later ``!pattern``
unmatches. Paths are relative to the app directory, with ``/`` separators.

The language and builder keys of project.toml are read by ``languages.py`` (detect); this module
runs after it, so the file is known to be valid TOML of a supported schema.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from luban_step.errors import StepError

DESCRIPTOR = "project.toml"
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAGIC_STAR = "#$~"


@dataclass(frozen=True)
class Pattern:
    regex: re.Pattern[str]
    negate: bool


@dataclass(frozen=True)
class FileFilter:
    """pack's file filter: ``mode`` is "exclude", "include" or "none"."""

    mode: str = "none"
    patterns: tuple[Pattern, ...] = ()

    def keeps(self, relative: str) -> bool:
        if self.mode == "none":
            return True
        matched = matches(self.patterns, relative)
        return not matched if self.mode == "exclude" else matched


@dataclass(frozen=True)
class BuildSettings:
    env: dict[str, str] = field(default_factory=dict)
    files: FileFilter = FileFilter()


def compile_line(line: str) -> Pattern | None:
    """One gitignore line as go-gitignore's getPatternFromLine turns it into a regular expression.

    Ported step by step (pack's behaviour, quirks included: ``?`` is a literal question mark and
    an invalid expression is dropped without a word)."""
    line = line.rstrip("\r")
    if line.startswith("#"):
        return None
    line = line.strip(" ")
    if not line:
        return None
    negate = line.startswith("!")
    if negate:
        line = line[1:]
    if line[:1] in ("#", "!"):
        line = line[1:]
    if re.search(r"([^/+])/.*\*\.", line) and not line.startswith("/"):
        line = "/" + line
    line = line.replace(".", r"\.")
    if line.startswith("/**/"):
        line = line[1:]
    line = line.replace("/**/", "(/|/.+/)")
    line = line.replace("**/", "(|." + _MAGIC_STAR + "/)")
    line = line.replace("/**", "(|/." + _MAGIC_STAR + ")")
    line = line.replace("\\*", "\\" + _MAGIC_STAR)
    line = line.replace("*", "([^/]*)")
    line = line.replace("?", "\\?")
    line = line.replace(_MAGIC_STAR, "*")
    expr = line + ("(|.*)" if line.endswith("/") else "(|/.*)") + r"\Z"
    expr = "^(|/)" + expr[1:] if expr.startswith("/") else "^(|.*/)" + expr
    try:
        return Pattern(re.compile(expr), negate)
    except re.error:
        return None


def compile_lines(lines: list[str]) -> tuple[Pattern, ...]:
    return tuple(p for p in (compile_line(line) for line in lines) if p is not None)


def matches(patterns: tuple[Pattern, ...], relative: str) -> bool:
    """go-gitignore's MatchesPath: the last decision wins, a negation only undoes a match."""
    matched = False
    for pattern in patterns:
        if pattern.regex.search(relative):
            if not pattern.negate:
                matched = True
            elif matched:
                matched = False
    return matched


def _table(node: object, keys: tuple[str, ...]) -> Mapping | None:
    for key in keys:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node if isinstance(node, Mapping) else None


def _patterns(table: Mapping | None, key: str, label: str, shown: str) -> list[str] | None:
    if table is None or key not in table:
        return None
    value = table[key]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise StepError("project_invalid_field", path=shown, field=label, why="is not a list of strings")
    return value


def _env(entries: object, label: str, shown: str) -> dict[str, str]:
    if entries is None:
        return {}
    if not isinstance(entries, list):
        raise StepError("project_invalid_field", path=shown, field=label, why="is not an array of tables")
    env: dict[str, str] = {}
    for index, entry in enumerate(entries, start=1):
        if not isinstance(entry, Mapping):
            raise StepError("project_env_invalid", path=shown, table=label, index=index, why="is not a table")
        name, value = entry.get("name"), entry.get("value", "")
        if not isinstance(name, str) or not ENV_NAME.fullmatch(name):
            raise StepError("project_env_invalid", path=shown, table=label, index=index,
                            why="has no name of letters, digits and '_' (not starting with a digit)")
        if not isinstance(value, str):
            raise StepError("project_env_invalid", path=shown, table=label, index=index,
                            why="has a value that is not a string")
        env[name] = value  # a later entry of the same name wins, as in pack's map
    return env


def read_build_settings(app_dir: Path, shown: str) -> BuildSettings:
    """The build env and file filter of ``app_dir/project.toml`` (none when there is no file)."""
    path = app_dir / DESCRIPTOR
    if not path.is_file():
        return BuildSettings()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise StepError("project_invalid_field", path=shown, field="the file",
                        why="cannot be read (%s)" % exc) from None
    header = document.get("_")
    schema = header.get("schema-version", "0.1") if isinstance(header, Mapping) else "0.1"
    if schema == "0.2":
        table = _table(document, ("io", "buildpacks"))
        prefix = "[io.buildpacks]"
        build = _table(table, ("build",))
        if build is not None and "env" in build:
            env = _env(build["env"], "[[io.buildpacks.build.env]]", shown)
        else:
            env = _env((_table(table, ("env",)) or {}).get("build"), "[[io.buildpacks.env.build]]", shown)
    else:
        table = _table(document, ("build",))
        prefix = "[build]"
        env = _env((table or {}).get("env"), "[[build.env]]", shown)
    include = _patterns(table, "include", prefix + " include", shown)
    exclude = _patterns(table, "exclude", prefix + " exclude", shown)
    if include is not None and exclude is not None:
        raise StepError("project_include_and_exclude", path=shown, table=prefix)
    if exclude:
        files = FileFilter("exclude", compile_lines(exclude))
    elif include:
        files = FileFilter("include", compile_lines(include))
    else:
        files = FileFilter()
    return BuildSettings(env, files)
