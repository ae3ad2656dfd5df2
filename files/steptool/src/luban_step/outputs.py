"""Step outputs as single-value files, the shape Argo's outputs.parameters valueFrom.path reads."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from luban_step.errors import StepError


def write_outputs(directory: str | Path, values: Mapping[str, str]) -> None:
    base = Path(directory)
    for name, value in values.items():
        target = base / name
        try:
            base.mkdir(parents=True, exist_ok=True)
            partial = target.with_name("." + name + ".partial")
            partial.write_text(value, encoding="utf-8")  # no trailing newline: Argo keeps it
            os.replace(partial, target)
        except OSError as exc:
            raise StepError("outputs_unwritable", path=target, reason=exc.strerror or str(exc)) from None
