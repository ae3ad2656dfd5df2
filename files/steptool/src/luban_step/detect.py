"""detect: language, builder and build template, by the collection's own selection code; and, with
``--prepare-dir``, the app and its build env laid out as `pack build` would hand them to the
lifecycle (luban_step.project, luban_step.prepare).

The implementation is ``plugins/module_utils/languages.py`` of the luban.ci collection, the same
file the Ansible filter and module use; this package carries it as ``luban_step._vendor.languages``,
a byte-identical copy written by ``scripts/vendor.py``. A selection error is raised as the
language catalog's own entry, through the step tool's catalog (luban_step.errors), so detect
prints every message by the one renderer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from luban_step import validate
from luban_step._vendor import languages
from luban_step.errors import StepError, notice
from luban_step.outputs import write_outputs
from luban_step.prepare import prepare
from luban_step.project import DESCRIPTOR, ENV_NAME, read_build_settings

Log = Callable[[str], None]


@dataclass(frozen=True)
class DetectRequest:
    source: str
    app_path: str
    registry: str
    outputs: str
    prepare_dir: str | None = None
    build_env: Sequence[str] = ()


def load_registry(path: Path) -> tuple:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise StepError("unreadable_file", option="--registry", path=path,
                        reason=exc.strerror or str(exc)) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise StepError("registry_invalid", path=path, reason="not JSON (%s)" % exc) from None
    if not isinstance(data, list):
        raise StepError("registry_invalid", path=path, reason="the top level is not a list")
    try:
        return languages.registry_from_data(data)
    except (languages.LanguageSelectionError, ValueError, TypeError, KeyError) as exc:
        raise StepError("registry_invalid", path=path, reason=str(exc)) from None


def operator_env(values: Sequence[str]) -> dict[str, str]:
    """``--build-env NAME=VALUE`` items; a later one of the same name wins."""
    env: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not ENV_NAME.fullmatch(name):
            raise StepError("invalid_build_env", option="--build-env", value=item,
                            why="it is not NAME=VALUE with a valid name")
        if "\0" in value:
            raise StepError("invalid_build_env", option="--build-env", value=item, why="its value holds a NUL")
        env[name] = value
    return env


def detect(request: DetectRequest, log: Log = lambda line: None) -> str:
    app_path = validate.rel_path(request.app_path, "--app-path")
    source = Path(request.source)
    if not source.is_dir():
        raise StepError("source_missing", path=source)
    env = operator_env(request.build_env)
    registry = load_registry(Path(request.registry))
    try:
        selection = languages.select_language(source, app_path, registry)
    except languages.LanguageSelectionError as exc:
        raise StepError(exc.code, **exc.fields) from None
    if request.prepare_dir is not None:
        app_dir = (source / selection.app_path).resolve()  # select_language kept it inside the checkout
        shown = DESCRIPTOR if selection.app_path == "." else "%s/%s" % (selection.app_path, DESCRIPTOR)
        settings = read_build_settings(app_dir, shown)
        target = Path(request.prepare_dir)
        done = prepare(app_dir, target, settings, env)
        rule = {"exclude": "by project.toml's exclude", "include": "not in project.toml's include",
                "none": "project.toml has no include or exclude"}[settings.files.mode]
        names = ", ".join(sorted({**settings.env, **env})) or "none"
        log(notice("prepared", path=target, kept=done.kept, dropped=done.dropped, rule=rule, names=names))
    write_outputs(request.outputs, {
        "language": selection.language,
        "builder": selection.builder,
        "template": selection.template,
        "app-path": selection.app_path,
    })
    return notice("detected", language=selection.language, source=selection.source,
                  builder=selection.builder, template=selection.template)
