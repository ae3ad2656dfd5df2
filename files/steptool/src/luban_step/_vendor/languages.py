# -*- coding: utf-8 -*-
# Copyright: luban-ci contributors
# Apache License 2.0 (see LICENSE)
"""Language selection: which language, builder and Argo template build an app.

One implementation shared by the Ansible plugins (filter and module ``luban.ci.select_language``)
and the pipeline's step tool (``luban-step detect``).  It therefore imports the standard library
and, relatively, the message catalog module beside it (``catalog.py``) only, and needs no Ansible:
the step tool carries byte-identical copies of both (``luban_step._vendor``, written by
``scripts/vendor.py``).

Rules, in order:

1. The app path is resolved inside the checkout; absolute paths, ``..`` components and symbolic
   links that lead outside the checkout are refused.
2. ``project.toml`` in the app directory (CNB project descriptor) overrides detection:
   ``[io.luban-ci] language`` names the language and ``[io.buildpacks] builder`` the builder
   (schema 0.2); a schema 0.1 descriptor may name the language under ``[metadata.io.luban-ci]``.
3. Otherwise the first registry entry with a detection file present in the app directory wins;
   the registry order is the tie-break, so put more specific languages first.
"""

from __future__ import annotations

import fnmatch
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .catalog import Entry, Fields, describe, render, with_fields

try:
    import tomllib
except ImportError:  # Python < 3.11: the step tool image and the controller have 3.11+.
    tomllib = None

__all__ = [
    "CATALOG",
    "DEFAULT_BUILDER",
    "DEFAULT_REGISTRY",
    "Language",
    "LanguageSelectionError",
    "PROJECT_DESCRIPTOR",
    "Selection",
    "registry_from_data",
    "registry_to_data",
    "select_language",
    "with_builders",
]

PROJECT_DESCRIPTOR = "project.toml"
# The builder the collection's own `builder` role publishes to the local registry by default.
DEFAULT_BUILDER = "127.0.0.1:5000/luban/builder-python:latest"
# The luban table in project.toml; a reverse-domain style name as the CNB spec asks of tools.
LUBAN_TABLE = ("io", "luban-ci")
LUBAN_KEYS = ("language",)
SUPPORTED_SCHEMAS = ("0.1", "0.2")
REGISTRY_KEYS = ("name", "detect", "builder", "template")
_NAME = re.compile(r"^[a-z][a-z0-9-]*$")


@dataclass(frozen=True)
class Language:
    """One registry entry: how a language is recognised and what builds it."""

    name: str
    detect: tuple[str, ...]
    builder: str
    template: str


@dataclass(frozen=True)
class Selection:
    """The outcome of language selection for one app of one checkout."""

    language: str
    builder: str
    template: str
    app_path: str
    source: str  # "project.toml" when the descriptor chose the language or builder, else "detected"

    def as_dict(self) -> dict[str, str]:
        return {
            "language": self.language,
            "builder": self.builder,
            "template": self.template,
            "app_path": self.app_path,
            "source": self.source,
        }


# Python is recognised by every file the python-uv buildpack's detect accepts, so an app the
# buildpack would take is never turned away here; the buildpack then explains what is missing.
DEFAULT_REGISTRY: tuple[Language, ...] = (
    Language(
        name="python",
        detect=(
            "pyproject.toml",
            "uv.lock",
            "requirements.txt",
            ".python-version",
            "setup.py",
            "setup.cfg",
            "Pipfile",
            "Pipfile.lock",
            "poetry.lock",
            "runtime.txt",
            "main.py",
            "app.py",
            "manage.py",
        ),
        builder=DEFAULT_BUILDER,
        template="luban-build-python",
    ),
)

# Every message a user can see, written as what happened, why it matters, what to do. Values the
# code writes itself are shown plain; a parser's or the OS's words are long; the rest (paths, names
# and values from the checkout, its project.toml or the registry) are quoted (catalog.render).
_FIELDS = Fields(
    plain=frozenset({"signs", "supported", "trusted", "known", "python", "table", "index", "setting", "expected",
                     "got", "first", "second"}),
    long=frozenset({"detail"}),
)
CATALOG: dict[str, Entry] = with_fields(_FIELDS, {
    "checkout_missing": Entry(
        "The checkout {checkout} is not a directory. Language detection reads the cloned "
        "repository, so it must exist first. Run the checkout step and pass its destination directory."
    ),
    "app_path_empty": Entry(
        "The app path is empty. It names the directory of the repository to build. "
        "Give '.' for the repository root or a relative path such as 'services/api'."
    ),
    "app_path_absolute": Entry(
        "The app path {app_path} is absolute. The app path is resolved inside the checkout so a "
        "build only reads the repository it was asked to build. Give a path relative to the "
        "repository root, such as 'services/api' or '.'."
    ),
    "app_path_parent": Entry(
        "The app path {app_path} contains '..'. The app path must stay inside the checkout so a "
        "build only reads the repository it was asked to build. Give a path below the repository "
        "root without '..' components."
    ),
    "app_path_escapes": Entry(
        "The app path {app_path} leads outside the checkout through a symbolic link (it resolves "
        "to {resolved}). A build only reads the repository it was asked to build. Point the app path "
        "at a real directory inside the repository."
    ),
    "app_path_missing": Entry(
        "The app path {app_path} does not exist in the checkout. The pipeline builds the directory "
        "the app path names. Check the app path against the repository layout at this commit."
    ),
    "app_path_not_dir": Entry(
        "The app path {app_path} is a file, not a directory. The pipeline builds the directory the "
        "app path names. Give the directory that holds the app's files."
    ),
    "no_language": Entry(
        "No supported language was detected in {app_path}: none of the files that identify one is "
        "there ({signs}). Each language is recognised by its files. Add them (for Python: "
        "pyproject.toml with uv.lock, or requirements.txt), or name the language in project.toml "
        "under [io.luban-ci] language = \"...\". Supported languages: {supported}."
    ),
    "unknown_language": Entry(
        "{origin} asks for language {language}, which is not supported. Only languages in the "
        "registry can be built. Use one of: {supported}."
    ),
    "builder_not_trusted": Entry(
        "{origin} asks for builder {builder}, which is not one of the trusted builders of the "
        "language registry. The builder image runs with the registry's push credentials, so only "
        "registry builders are run. Use one of: {trusted}; or add the builder to the registry (the "
        "builders of luban.ci.language_registry, i.e. the luban-languages ConfigMap)."
    ),
    "toml_unavailable": Entry(
        "Cannot read {path}: this Python ({python}) has no TOML parser (tomllib arrived in Python "
        "3.11). The project descriptor must be read to honour its settings. Run language selection "
        "with Python 3.11 or later."
    ),
    "project_escapes": Entry(
        "{path} is a symbolic link leading outside the checkout. A build only reads the repository it "
        "was asked to build. Replace the link with the project descriptor itself."
    ),
    "project_unreadable": Entry(
        "Cannot read {path}: {detail}. The project descriptor must be readable to honour its "
        "settings. Fix the file's permissions or remove it."
    ),
    "project_invalid": Entry(
        "{path} is not valid TOML: {detail}. The project descriptor must parse before its settings "
        "can be honoured. Fix the syntax, or remove the file to use detection."
    ),
    "project_schema": Entry(
        "{path} declares [_] schema-version = {version}, which luban-ci does not read. Supported "
        "CNB project descriptor versions: 0.1, 0.2. Set [_] schema-version = \"0.2\"."
    ),
    "project_type": Entry(
        "{path}: {setting} must be {expected}, but it is {got}. The value cannot be used as written. "
        "Fix it in project.toml."
    ),
    "project_unknown_key": Entry(
        "{path}: [{table}] has an unknown key {key}. luban-ci reads only its own keys there, and a "
        "misspelt key would silently be ignored. Known keys: {known}."
    ),
    "registry_not_list": Entry(
        "The language registry must be a list of languages, but it is {got}. The registry names each "
        "language's detection files, builder and template. Give a list such as "
        "[{{name: python, detect: [pyproject.toml], builder: IMAGE, template: luban-build-python}}]."
    ),
    "registry_empty": Entry(
        "The language registry is empty. Without a language nothing can be built. "
        "List at least one language."
    ),
    "registry_entry_type": Entry(
        "Language registry entry {index} must be a mapping, but it is {got}. Each entry describes one "
        "language. Give name, detect, builder and template keys."
    ),
    "registry_unknown_key": Entry(
        "Language registry entry {index} has an unknown key {key}. A misspelt key would silently be "
        "ignored. Known keys: name, detect, builder, template."
    ),
    "registry_missing_key": Entry(
        "Language registry entry {index} lacks {key}. Every language needs a name, detection files, "
        "a builder and a template. Add {key}."
    ),
    "registry_bad_name": Entry(
        "Language registry entry {index} has the name {name}. Names are used in project.toml and as "
        "Argo parameters. Use lower-case letters, digits and '-', starting with a letter."
    ),
    "registry_bad_value": Entry(
        "Language registry entry {index} ({name}): {setting} must be {expected}, but it is {got}. "
        "The entry cannot be used as written. Fix {setting}."
    ),
    "registry_bad_pattern": Entry(
        "Language registry entry {index} ({name}) has the detection pattern {pattern}. Patterns "
        "match file names in the app directory itself. Use a file name or glob without '/' or '..'."
    ),
    "registry_duplicate": Entry(
        "The language registry names {name} twice (entries {first} and {second}). Selection would be "
        "ambiguous. Keep one entry per language."
    ),
    "builder_overrides_type": Entry(
        "Builder overrides must map language names to builder images, but they are {got}. Overrides "
        "replace a language's default builder. Give a mapping such as {{'python': 'IMAGE'}}, or {{}} "
        "for the defaults."
    ),
    "builder_override_unknown": Entry(
        "A builder override names language {language}, which is not in the registry. Overrides "
        "apply to registry languages only. Use one of: {supported}."
    ),
    "builder_override_type": Entry(
        "The builder override for {language} must be a non-empty image reference string, but it is "
        "{got}. Give an image such as 'quay.io/org/builder@sha256:...'."
    ),
})


class LanguageSelectionError(Exception):
    """A user-facing failure of language selection; ``code`` keys the message catalog."""

    def __init__(self, code: str, **fields: object) -> None:
        self.code = code
        self.fields = fields
        super().__init__(render(CATALOG[code], **fields).text)


def registry_from_data(data: object) -> tuple[Language, ...]:
    """Build a registry from JSON/YAML data (the registry_to_data shape), validating every field."""
    if isinstance(data, (str, bytes, Mapping)) or not isinstance(data, Iterable):
        raise LanguageSelectionError("registry_not_list", got=describe(data))
    entries = list(data)
    if not entries:
        raise LanguageSelectionError("registry_empty")
    languages: list[Language] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        language = _language_from_data(index, entry)
        if language.name in seen:
            raise LanguageSelectionError(
                "registry_duplicate", name=language.name, first=seen[language.name], second=index
            )
        seen[language.name] = index
        languages.append(language)
    return tuple(languages)


def _language_from_data(index: int, entry: object) -> Language:
    if not isinstance(entry, Mapping):
        raise LanguageSelectionError("registry_entry_type", index=index, got=describe(entry))
    for key in entry:
        if key not in REGISTRY_KEYS:
            raise LanguageSelectionError("registry_unknown_key", index=index, key=key)
    for key in REGISTRY_KEYS:
        if key not in entry:
            raise LanguageSelectionError("registry_missing_key", index=index, key=key)
    name = entry["name"]
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise LanguageSelectionError("registry_bad_name", index=index, name=name)
    for key in ("builder", "template"):
        value = entry[key]
        if not isinstance(value, str) or not value.strip():
            raise LanguageSelectionError(
                "registry_bad_value", index=index, name=name, setting=key,
                expected="a non-empty string", got=describe(value),
            )
    detect = entry["detect"]
    if isinstance(detect, (str, bytes, Mapping)) or not isinstance(detect, Iterable):
        raise LanguageSelectionError(
            "registry_bad_value", index=index, name=name, setting="detect",
            expected="a non-empty list of file names", got=describe(detect),
        )
    patterns = tuple(detect)
    if not patterns:
        raise LanguageSelectionError(
            "registry_bad_value", index=index, name=name, setting="detect",
            expected="a non-empty list of file names", got="an empty list",
        )
    for pattern in patterns:
        if not isinstance(pattern, str) or not pattern or "/" in pattern or "\\" in pattern or pattern in (".", ".."):
            raise LanguageSelectionError("registry_bad_pattern", index=index, name=name, pattern=pattern)
    return Language(name=name, detect=patterns, builder=entry["builder"], template=entry["template"])


def registry_to_data(registry: Iterable[Language] = DEFAULT_REGISTRY) -> list[dict]:
    """The JSON-able form of a registry, as mounted from the language ConfigMap."""
    return [
        {"name": lang.name, "detect": list(lang.detect), "builder": lang.builder, "template": lang.template}
        for lang in registry
    ]


def with_builders(registry: Iterable[Language], builders: object) -> tuple[Language, ...]:
    """Return the registry with some languages' builders replaced (e.g. by a pinned digest)."""
    if not isinstance(builders, Mapping):
        raise LanguageSelectionError("builder_overrides_type", got=describe(builders))
    languages = tuple(registry)
    names = [lang.name for lang in languages]
    for name, builder in builders.items():
        if name not in names:
            raise LanguageSelectionError("builder_override_unknown", language=name, supported=", ".join(names))
        if not isinstance(builder, str) or not builder.strip():
            raise LanguageSelectionError("builder_override_type", language=name, got=describe(builder))
    return tuple(
        Language(lang.name, lang.detect, str(builders.get(lang.name, lang.builder)), lang.template)
        for lang in languages
    )


def select_language(
    checkout: str | os.PathLike,
    app_path: str = ".",
    registry: Iterable[Language] = DEFAULT_REGISTRY,
) -> Selection:
    """Select the language, builder and template for the app at ``app_path`` in ``checkout``."""
    languages = tuple(registry)
    root = Path(checkout)
    if not root.is_dir():
        raise LanguageSelectionError("checkout_missing", checkout=str(checkout))
    relative = _safe_app_path(app_path)
    app_dir = _resolve_app_dir(root, relative, app_path)
    override = _read_project_descriptor(app_dir / PROJECT_DESCRIPTOR, relative, root.resolve())
    by_name = {lang.name: lang for lang in languages}
    supported = ", ".join(by_name)
    if override.language is not None:
        if override.language not in by_name:
            raise LanguageSelectionError(
                "unknown_language", origin=_display(relative), language=override.language, supported=supported
            )
        chosen = by_name[override.language]
    else:
        chosen = _detect(app_dir, languages, relative, supported)
    builder = chosen.builder
    if override.builder is not None:
        # The checkout is untrusted (pull requests): it may pick among the registry's builders only.
        trusted = list(dict.fromkeys(lang.builder for lang in languages))
        if override.builder not in trusted:
            raise LanguageSelectionError(
                "builder_not_trusted", origin=_display(relative), builder=override.builder, trusted=", ".join(trusted)
            )
        builder = override.builder
    source = "project.toml" if override.language is not None or override.builder is not None else "detected"
    return Selection(chosen.name, builder, chosen.template, relative, source)


def _display(relative: str) -> str:
    return PROJECT_DESCRIPTOR if relative == "." else "%s/%s" % (relative, PROJECT_DESCRIPTOR)


def _safe_app_path(app_path: object) -> str:
    if app_path is None or (isinstance(app_path, str) and not app_path.strip()):
        raise LanguageSelectionError("app_path_empty")
    text = str(app_path)
    if text.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", text):
        raise LanguageSelectionError("app_path_absolute", app_path=text)
    parts = PurePosixPath(text.replace("\\", "/")).parts
    if ".." in parts:
        raise LanguageSelectionError("app_path_parent", app_path=text)
    normal = PurePosixPath(*parts).as_posix() if parts else "."
    return normal


def _resolve_app_dir(root: Path, relative: str, original: object) -> Path:
    real_root = root.resolve()
    candidate = root / relative
    # resolve() follows every symlink on the way, so an escape anywhere in the path is caught.
    resolved = candidate.resolve()
    if resolved != real_root and real_root not in resolved.parents:
        raise LanguageSelectionError("app_path_escapes", app_path=original, resolved=str(resolved))
    if not resolved.exists():
        raise LanguageSelectionError("app_path_missing", app_path=original)
    if not resolved.is_dir():
        raise LanguageSelectionError("app_path_not_dir", app_path=original)
    return resolved


@dataclass(frozen=True)
class _Override:
    language: str | None = None
    builder: str | None = None


def _read_project_descriptor(path: Path, relative: str, real_root: Path) -> _Override:
    if not path.is_file():
        return _Override()
    shown = _display(relative)
    if real_root not in path.resolve().parents:
        raise LanguageSelectionError("project_escapes", path=shown)
    if tomllib is None:
        raise LanguageSelectionError("toml_unavailable", path=shown, python=sys.version.split()[0])
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LanguageSelectionError("project_unreadable", path=shown, detail=exc.strerror or str(exc)) from None
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LanguageSelectionError("project_invalid", path=shown, detail=str(exc)) from None
    schema = _schema_version(document, shown)
    if schema == "0.2":
        luban = _table(document, LUBAN_TABLE, shown)
        buildpacks = _table(document, ("io", "buildpacks"), shown)
        builder = _optional_string(buildpacks, "builder", "[io.buildpacks] builder", shown)
    else:
        # Schema 0.1 keeps tool settings under [metadata] and has no builder key.
        luban = _table(document, ("metadata",) + LUBAN_TABLE, shown)
        builder = None
    table_name = ".".join(LUBAN_TABLE if schema == "0.2" else ("metadata",) + LUBAN_TABLE)
    for key in luban:
        if key not in LUBAN_KEYS:
            raise LanguageSelectionError(
                "project_unknown_key", path=shown, table=table_name, key=key, known=", ".join(LUBAN_KEYS)
            )
    language = _optional_string(luban, "language", "[%s] language" % table_name, shown)
    return _Override(language=language, builder=builder)


def _schema_version(document: Mapping, shown: str) -> str:
    header = document.get("_")
    if header is None:
        return "0.1"  # as pack does: a descriptor without [_] is schema 0.1
    if not isinstance(header, Mapping):
        raise LanguageSelectionError("project_type", path=shown, setting="[_]", expected="a table", got=describe(header))
    version = header.get("schema-version", "0.1")
    if not isinstance(version, str):
        raise LanguageSelectionError(
            "project_type", path=shown, setting="[_] schema-version", expected="a string", got=describe(version)
        )
    if version not in SUPPORTED_SCHEMAS:
        raise LanguageSelectionError("project_schema", path=shown, version=version)
    return version


def _table(document: Mapping, keys: tuple[str, ...], shown: str) -> Mapping:
    node: object = document
    for depth, key in enumerate(keys):
        if not isinstance(node, Mapping):
            break
        node = node.get(key, {})
        if not isinstance(node, Mapping):
            raise LanguageSelectionError(
                "project_type", path=shown, setting="[%s]" % ".".join(keys[: depth + 1]), expected="a table",
                got=describe(node),
            )
    return node if isinstance(node, Mapping) else {}


def _optional_string(table: Mapping, key: str, label: str, shown: str) -> str | None:
    if key not in table:
        return None
    value = table[key]
    if not isinstance(value, str) or not value.strip():
        raise LanguageSelectionError(
            "project_type", path=shown, setting=label, expected="a non-empty string", got=describe(value)
        )
    return value.strip()


def _detect(app_dir: Path, languages: tuple[Language, ...], relative: str, supported: str) -> Language:
    names = sorted(entry.name for entry in app_dir.iterdir() if entry.is_file())
    for language in languages:
        for pattern in language.detect:
            if any(fnmatch.fnmatchcase(name, pattern) for name in names):
                return language
    signs = "; ".join("%s: %s" % (lang.name, ", ".join(lang.detect)) for lang in languages)
    raise LanguageSelectionError("no_language", app_path=relative, signs=signs, supported=supported)
