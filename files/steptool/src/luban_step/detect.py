"""detect: language, builder and build template, by the collection's own selection code.

The implementation is ``plugins/module_utils/languages.py`` of the luban.ci collection, the same
file the Ansible filter and module use. It is not kept in this package's source: ``make
steptool-src`` copies it in as ``luban_step/languages.py`` when the image source is assembled;
in a checkout of the collection it is found on ``sys.path`` (plugins/module_utils).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from luban_step import validate
from luban_step.errors import StepError, notice
from luban_step.outputs import write_outputs


@dataclass(frozen=True)
class DetectRequest:
    source: str
    app_path: str
    registry: str
    outputs: str


def load_languages() -> ModuleType:
    try:
        from luban_step import languages  # the copy assembled into the image
    except ImportError:
        try:
            import languages  # type: ignore[no-redef]  # plugins/module_utils on sys.path
        except ImportError:
            raise StepError("languages-missing") from None
    if not hasattr(languages, "select_language") or not hasattr(languages, "registry_from_data"):
        raise StepError("languages-missing")
    return languages


def load_registry(languages: ModuleType, path: Path) -> tuple:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise StepError("unreadable-file", option="--registry", path=path,
                        reason=exc.strerror or str(exc)) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise StepError("registry-invalid", path=path, reason="not JSON (%s)" % exc) from None
    if not isinstance(data, list):
        raise StepError("registry-invalid", path=path, reason="the top level is not a list")
    try:
        return languages.registry_from_data(data)
    except (languages.LanguageSelectionError, ValueError, TypeError, KeyError) as exc:
        raise StepError("registry-invalid", path=path, reason=str(exc)) from None


def detect(request: DetectRequest) -> str:
    app_path = validate.rel_path(request.app_path, "--app-path")
    source = Path(request.source)
    if not source.is_dir():
        raise StepError("source-missing", path=source)
    languages = load_languages()
    registry = load_registry(languages, Path(request.registry))
    try:
        selection = languages.select_language(source, app_path, registry)
    except languages.LanguageSelectionError as exc:
        raise StepError("language-selection", message=str(exc)) from None
    write_outputs(request.outputs, {
        "language": selection.language,
        "builder": selection.builder,
        "template": selection.template,
        "app-path": selection.app_path,
    })
    return notice("detected", language=selection.language, source=selection.source,
                  builder=selection.builder, template=selection.template)
