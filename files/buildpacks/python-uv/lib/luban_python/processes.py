"""Process types for launch.toml: the Procfile first, then [project.scripts].

Default rule: a process called `web` is the default; otherwise, when the app declares exactly one
process, that one is; otherwise there is none (and a warning says how to choose).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .errors import BuildpackError

_TYPE = re.compile(r"^[A-Za-z0-9._-]+$")


@dataclass(frozen=True)
class Process:
    type: str
    command: list[str]
    default: bool = False

    def to_toml(self) -> dict:
        return {"type": self.type, "command": self.command, "default": self.default}


def parse_procfile(text: str) -> dict[str, str]:
    processes: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        kind, sep, command = line.partition(":")
        kind, command = kind.strip(), command.strip()
        if not sep or not _TYPE.match(kind) or not command:
            raise BuildpackError("procfile_malformed", line=number, text=raw.strip())
        processes[kind] = command
    return processes


def script_type(name: str) -> str:
    """A process type for a console script name (only the characters the spec allows)."""
    return re.sub(r"[^A-Za-z0-9._-]", "-", name)


def collect(app_dir: Path, scripts: dict[str, str]) -> list[Process]:
    found: dict[str, list[str]] = {}
    for name in sorted(scripts):
        found[script_type(name)] = [name]
    procfile = app_dir / "Procfile"
    if procfile.is_file():
        # The shell gives Procfile lines their usual meaning ($PORT, pipes); the launcher sets env first.
        for kind, command in parse_procfile(procfile.read_text(encoding="utf-8", errors="replace")).items():
            found[kind] = ["sh", "-c", command]
    default = "web" if "web" in found else (next(iter(found)) if len(found) == 1 else None)
    return [Process(kind, command, kind == default) for kind, command in found.items()]
