# -*- coding: utf-8 -*-
# Copyright: luban-ci contributors
# Apache License 2.0 (see LICENSE)
"""Language selection on real directories, with every catalog message asserted word for word."""

from __future__ import annotations

import json
import os
import re
import string
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.luban.ci.plugins.module_utils import languages
from ansible_collections.luban.ci.plugins.module_utils.languages import (
    DEFAULT_BUILDER,
    DEFAULT_REGISTRY,
    Language,
    LanguageSelectionError,
    Selection,
    registry_from_data,
    registry_to_data,
    select_language,
    with_builders,
)

MODULE_UTILS = Path(languages.__file__).resolve().parent
SUPPORTED_SIGNS = (
    "python: pyproject.toml, uv.lock, requirements.txt, .python-version, setup.py, setup.cfg, "
    "Pipfile, Pipfile.lock, poetry.lock, runtime.txt, main.py, app.py, manage.py"
)
GO = {"name": "go", "detect": ["go.mod"], "builder": "b/go:1", "template": "luban-build-go"}


def write(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def error(func, *args) -> LanguageSelectionError:
    with pytest.raises(LanguageSelectionError) as info:
        func(*args)
    return info.value


@pytest.mark.parametrize(
    "sign",
    ["pyproject.toml", "uv.lock", "requirements.txt", ".python-version", "setup.py", "Pipfile", "runtime.txt", "app.py"],
)
def test_each_python_sign_selects_python(tmp_path: Path, sign: str) -> None:
    write(tmp_path / sign)
    assert select_language(tmp_path) == Selection(
        "python", DEFAULT_BUILDER, "luban-build-python", ".", "detected"
    )


def test_app_path_is_normalised_and_detection_reads_only_the_app_dir(tmp_path: Path) -> None:
    write(tmp_path / "services" / "api" / "requirements.txt")
    selection = select_language(tmp_path, "./services//api/")
    assert selection.app_path == "services/api"
    assert selection.language == "python"
    message = str(error(select_language, tmp_path, "services"))
    assert message.startswith("No supported language was detected in 'services': ")


def test_a_directory_named_like_a_sign_does_not_count(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").mkdir()
    assert error(select_language, tmp_path).code == "no_language"


def test_no_language_lists_the_signs_and_supported_languages(tmp_path: Path) -> None:
    write(tmp_path / "README.md")
    assert str(error(select_language, tmp_path)) == (
        "No supported language was detected in '.': none of the files that identify one is there "
        "(" + SUPPORTED_SIGNS + "). Each language is recognised by its files. Add them (for Python: "
        "pyproject.toml with uv.lock, or requirements.txt), or name the language in project.toml "
        "under [io.luban-ci] language = \"...\". Supported languages: python."
    )


def test_first_registry_entry_wins_when_several_languages_match(tmp_path: Path) -> None:
    write(tmp_path / "go.mod")
    write(tmp_path / "requirements.txt")
    python = registry_to_data()[0]
    assert select_language(tmp_path, ".", registry_from_data([GO, python])).language == "go"
    assert select_language(tmp_path, ".", registry_from_data([python, GO])).language == "python"


def test_detection_patterns_are_globs(tmp_path: Path) -> None:
    write(tmp_path / "App.csproj")
    dotnet = {"name": "dotnet", "detect": ["*.csproj"], "builder": "b", "template": "t"}
    assert select_language(tmp_path, ".", registry_from_data([dotnet])).language == "dotnet"


def test_project_toml_v02_overrides_language_and_builder(tmp_path: Path) -> None:
    write(tmp_path / "requirements.txt")
    write(
        tmp_path / "project.toml",
        '[_]\nschema-version = "0.2"\n\n[io.buildpacks]\nbuilder = "%s"\n\n'
        '[io.luban-ci]\nlanguage = "go"\n' % DEFAULT_BUILDER,
    )
    registry = registry_from_data([registry_to_data()[0], GO])
    assert select_language(tmp_path, ".", registry) == Selection(
        "go", DEFAULT_BUILDER, "luban-build-go", ".", "project.toml"
    )


def test_project_toml_builder_alone_keeps_detected_language(tmp_path: Path) -> None:
    write(tmp_path / "uv.lock")
    write(tmp_path / "project.toml", '[_]\nschema-version = "0.2"\n[io.buildpacks]\nbuilder = "b/go:1"\n')
    registry = registry_from_data([registry_to_data()[0], GO])
    assert select_language(tmp_path, ".", registry) == Selection(
        "python", "b/go:1", "luban-build-python", ".", "project.toml"
    )


def test_project_toml_builder_outside_the_registry_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "uv.lock")
    write(tmp_path / "app" / "uv.lock")
    write(tmp_path / "app" / "project.toml", '[_]\nschema-version = "0.2"\n[io.buildpacks]\nbuilder = "docker.io/evil/x:latest"\n')
    registry = registry_from_data([registry_to_data()[0], GO])
    assert str(error(select_language, tmp_path, "app", registry)) == (
        "'app/project.toml' asks for builder 'docker.io/evil/x:latest', which is not one of the trusted "
        "builders of the language registry. The builder image runs with the registry's push "
        "credentials, so only registry builders are run. Use one of: %s, b/go:1; or add the builder "
        "to the registry (the builders of luban.ci.language_registry, i.e. the luban-languages "
        "ConfigMap)." % DEFAULT_BUILDER
    )


def test_project_toml_without_luban_keys_leaves_detection_alone(tmp_path: Path) -> None:
    write(tmp_path / "uv.lock")
    write(tmp_path / "project.toml", '[_]\nschema-version = "0.2"\nid = "demo"\n[io.buildpacks]\nexclude = ["tests"]\n')
    assert select_language(tmp_path).source == "detected"


def test_project_toml_language_needs_no_detection_file(tmp_path: Path) -> None:
    write(tmp_path / "project.toml", '[_]\nschema-version = "0.2"\n[io.luban-ci]\nlanguage = "python"\n')
    assert select_language(tmp_path).language == "python"


def test_project_toml_v01_names_language_under_metadata(tmp_path: Path) -> None:
    write(
        tmp_path / "project.toml",
        '[project]\nid = "demo"\n\n[build]\nexclude = ["tests"]\n\n[metadata.io.luban-ci]\nlanguage = "python"\n',
    )
    assert select_language(tmp_path) == Selection(
        "python", DEFAULT_BUILDER, "luban-build-python", ".", "project.toml"
    )


def test_project_toml_v01_has_no_builder_key(tmp_path: Path) -> None:
    write(tmp_path / "uv.lock")
    write(tmp_path / "project.toml", '[io.buildpacks]\nbuilder = "ignored/in-0.1"\n')
    assert select_language(tmp_path).builder == DEFAULT_BUILDER


def test_project_toml_unknown_language(tmp_path: Path) -> None:
    write(tmp_path / "svc" / "project.toml", '[_]\nschema-version = "0.2"\n[io.luban-ci]\nlanguage = "cobol"\n')
    assert str(error(select_language, tmp_path, "svc")) == (
        "'svc/project.toml' asks for language 'cobol', which is not supported. Only languages in the "
        "registry can be built. Use one of: python."
    )


def test_project_toml_unknown_language_lists_every_supported_one(tmp_path: Path) -> None:
    write(tmp_path / "project.toml", '[_]\nschema-version = "0.2"\n[io.luban-ci]\nlanguage = "Python"\n')
    registry = registry_from_data([registry_to_data()[0], GO])
    assert str(error(select_language, tmp_path, ".", registry)).endswith("Use one of: python, go.")


def test_project_toml_invalid(tmp_path: Path) -> None:
    write(tmp_path / "project.toml", "[_\n")
    message = str(error(select_language, tmp_path))
    assert message.startswith("'project.toml' is not valid TOML: ")
    assert message.endswith(
        ". The project descriptor must parse before its settings can be honoured. Fix the syntax, "
        "or remove the file to use detection."
    )


def test_project_toml_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "project.toml").write_bytes(b"\xff\xfe")
    assert error(select_language, tmp_path).code == "project_invalid"


def test_project_toml_unsupported_schema(tmp_path: Path) -> None:
    write(tmp_path / "project.toml", '[_]\nschema-version = "0.3"\n')
    assert str(error(select_language, tmp_path)) == (
        "'project.toml' declares [_] schema-version = '0.3', which luban-ci does not read. Supported "
        "CNB project descriptor versions: 0.1, 0.2. Set [_] schema-version = \"0.2\"."
    )


def test_project_toml_language_of_wrong_type(tmp_path: Path) -> None:
    write(tmp_path / "project.toml", '[_]\nschema-version = "0.2"\n[io.luban-ci]\nlanguage = 3\n')
    assert str(error(select_language, tmp_path)) == (
        "'project.toml': [io.luban-ci] language must be a non-empty string, but it is an int (3). The "
        "value cannot be used as written. Fix it in project.toml."
    )


def test_project_toml_builder_empty(tmp_path: Path) -> None:
    write(tmp_path / "project.toml", '[_]\nschema-version = "0.2"\n[io.buildpacks]\nbuilder = ""\n')
    assert str(error(select_language, tmp_path)) == (
        "'project.toml': [io.buildpacks] builder must be a non-empty string, but it is the string ''. "
        "The value cannot be used as written. Fix it in project.toml."
    )


def test_project_toml_luban_table_of_wrong_type(tmp_path: Path) -> None:
    write(tmp_path / "project.toml", '[_]\nschema-version = "0.2"\n[io]\nluban-ci = "python"\n')
    assert str(error(select_language, tmp_path)) == (
        "'project.toml': [io.luban-ci] must be a table, but it is the string 'python'. The value cannot "
        "be used as written. Fix it in project.toml."
    )


def test_project_toml_unknown_luban_key(tmp_path: Path) -> None:
    write(tmp_path / "project.toml", '[_]\nschema-version = "0.2"\n[io.luban-ci]\nlanguag = "python"\n')
    assert str(error(select_language, tmp_path)) == (
        "'project.toml': [io.luban-ci] has an unknown key 'languag'. luban-ci reads only its own keys "
        "there, and a misspelt key would silently be ignored. Known keys: language."
    )


def test_project_toml_schema_version_of_wrong_type(tmp_path: Path) -> None:
    write(tmp_path / "project.toml", "[_]\nschema-version = 0.2\n")
    assert error(select_language, tmp_path).code == "project_type"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads unreadable files")
def test_project_toml_unreadable(tmp_path: Path) -> None:
    path = write(tmp_path / "project.toml", "")
    path.chmod(0)
    assert error(select_language, tmp_path).code == "project_unreadable"


def test_project_toml_symlink_leaving_the_checkout(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    write(tmp_path / "secret.toml", 'token = "x"\n')
    write(checkout / "api" / "uv.lock")
    (checkout / "api" / "project.toml").symlink_to(tmp_path / "secret.toml")
    assert str(error(select_language, checkout, "api")) == (
        "'api/project.toml' is a symbolic link leading outside the checkout. A build only reads the "
        "repository it was asked to build. Replace the link with the project descriptor itself."
    )


def test_project_toml_symlink_inside_the_checkout_is_read(tmp_path: Path) -> None:
    write(tmp_path / "shared.toml", '[_]\nschema-version = "0.2"\n[io.luban-ci]\nlanguage = "python"\n')
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "project.toml").symlink_to("../shared.toml")
    assert select_language(tmp_path, "app").source == "project.toml"


def test_checkout_missing(tmp_path: Path) -> None:
    assert str(error(select_language, tmp_path / "nope")) == (
        "The checkout '%s' is not a directory. Language detection reads the cloned repository, so it "
        "must exist first. Run the checkout step and pass its destination directory." % (tmp_path / "nope")
    )


@pytest.mark.parametrize("app_path", ["", "   ", None])
def test_app_path_empty(tmp_path: Path, app_path: object) -> None:
    assert str(error(select_language, tmp_path, app_path)) == (
        "The app path is empty. It names the directory of the repository to build. Give '.' for the "
        "repository root or a relative path such as 'services/api'."
    )


@pytest.mark.parametrize("app_path", ["/etc", "\\srv", "C:/app"])
def test_app_path_absolute(tmp_path: Path, app_path: str) -> None:
    assert str(error(select_language, tmp_path, app_path)) == (
        "The app path '%s' is absolute. The app path is resolved inside the checkout so a build only "
        "reads the repository it was asked to build. Give a path relative to the repository root, "
        "such as 'services/api' or '.'." % app_path
    )


@pytest.mark.parametrize("app_path", ["..", "a/../b", "a/..", "..\\x"])
def test_app_path_parent(tmp_path: Path, app_path: str) -> None:
    (tmp_path / "a").mkdir()
    assert str(error(select_language, tmp_path, app_path)) == (
        "The app path '%s' contains '..'. The app path must stay inside the checkout so a build only "
        "reads the repository it was asked to build. Give a path below the repository root without "
        "'..' components." % app_path
    )


def test_app_path_symlink_escaping_the_checkout(tmp_path: Path) -> None:
    checkout, outside = tmp_path / "checkout", tmp_path / "outside"
    write(outside / "requirements.txt")
    checkout.mkdir()
    (checkout / "app").symlink_to(outside)
    assert str(error(select_language, checkout, "app")) == (
        "The app path 'app' leads outside the checkout through a symbolic link (it resolves to '%s'). "
        "A build only reads the repository it was asked to build. Point the app path at a real "
        "directory inside the repository." % outside
    )


def test_app_path_symlink_inside_the_checkout_is_fine(tmp_path: Path) -> None:
    write(tmp_path / "real" / "uv.lock")
    (tmp_path / "link").symlink_to("real")
    assert select_language(tmp_path, "link").app_path == "link"


def test_checkout_reached_through_a_symlink_is_fine(tmp_path: Path) -> None:
    write(tmp_path / "real" / "svc" / "uv.lock")
    (tmp_path / "ws").symlink_to(tmp_path / "real")
    assert select_language(tmp_path / "ws", "svc").language == "python"


def test_app_path_missing(tmp_path: Path) -> None:
    assert str(error(select_language, tmp_path, "svc")) == (
        "The app path 'svc' does not exist in the checkout. The pipeline builds the directory the app "
        "path names. Check the app path against the repository layout at this commit."
    )


def test_app_path_is_a_file(tmp_path: Path) -> None:
    write(tmp_path / "requirements.txt")
    assert str(error(select_language, tmp_path, "requirements.txt")) == (
        "The app path 'requirements.txt' is a file, not a directory. The pipeline builds the directory "
        "the app path names. Give the directory that holds the app's files."
    )


def test_registry_round_trips_through_json() -> None:
    data = json.loads(json.dumps(registry_to_data(DEFAULT_REGISTRY)))
    assert registry_from_data(data) == DEFAULT_REGISTRY
    assert data[0]["name"] == "python"
    assert data[0]["builder"] == "127.0.0.1:5000/luban/builder-python:latest"
    assert data[0]["template"] == "luban-build-python"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"name": "python"}, "The language registry must be a list of languages, but it is a dict ({'name': 'python'}). "
         "The registry names each language's detection files, builder and template. Give a list such as "
         "[{name: python, detect: [pyproject.toml], builder: IMAGE, template: luban-build-python}]."),
        ([], "The language registry is empty. Without a language nothing can be built. List at least one language."),
        (["python"], "Language registry entry 0 must be a mapping, but it is the string 'python'. Each entry "
         "describes one language. Give name, detect, builder and template keys."),
        ([dict(GO, image="x")], "Language registry entry 0 has an unknown key 'image'. A misspelt key would "
         "silently be ignored. Known keys: name, detect, builder, template."),
        ([{k: v for k, v in GO.items() if k != "template"}], "Language registry entry 0 lacks 'template'. Every "
         "language needs a name, detection files, a builder and a template. Add 'template'."),
        ([dict(GO, name="Go")], "Language registry entry 0 has the name 'Go'. Names are used in project.toml "
         "and as Argo parameters. Use lower-case letters, digits and '-', starting with a letter."),
        ([dict(GO, builder="")], "Language registry entry 0 ('go'): builder must be a non-empty string, but it "
         "is the string ''. The entry cannot be used as written. Fix builder."),
        ([dict(GO, detect="go.mod")], "Language registry entry 0 ('go'): detect must be a non-empty list of file "
         "names, but it is the string 'go.mod'. The entry cannot be used as written. Fix detect."),
        ([dict(GO, detect=[])], "Language registry entry 0 ('go'): detect must be a non-empty list of file "
         "names, but it is an empty list. The entry cannot be used as written. Fix detect."),
        ([dict(GO, detect=["src/go.mod"])], "Language registry entry 0 ('go') has the detection pattern "
         "'src/go.mod'. Patterns match file names in the app directory itself. Use a file name or glob "
         "without '/' or '..'."),
        ([GO, GO], "The language registry names 'go' twice (entries 0 and 1). Selection would be ambiguous. "
         "Keep one entry per language."),
    ],
)
def test_registry_from_data_refuses_bad_entries(data: object, expected: str) -> None:
    assert str(error(registry_from_data, data)) == expected


def test_with_builders_pins_one_language() -> None:
    pinned = with_builders(DEFAULT_REGISTRY, {"python": "quay.io/x/builder@sha256:ab"})
    assert pinned[0].builder == "quay.io/x/builder@sha256:ab"
    assert pinned[0].detect == DEFAULT_REGISTRY[0].detect
    assert with_builders(DEFAULT_REGISTRY, {}) == DEFAULT_REGISTRY


def test_with_builders_refuses_unknown_language_and_bad_values() -> None:
    assert str(error(with_builders, DEFAULT_REGISTRY, {"go": "x"})) == (
        "A builder override names language 'go', which is not in the registry. Overrides apply to "
        "registry languages only. Use one of: python."
    )
    assert str(error(with_builders, DEFAULT_REGISTRY, {"python": ""})) == (
        "The builder override for 'python' must be a non-empty image reference string, but it is the "
        "string ''. Give an image such as 'quay.io/org/builder@sha256:...'."
    )
    assert str(error(with_builders, DEFAULT_REGISTRY, ["python"])) == (
        "Builder overrides must map language names to builder images, but they are a list (['python']). "
        "Overrides replace a language's default builder. Give a mapping such as {'python': 'IMAGE'}, or "
        "{} for the defaults."
    )


SAMPLE = dict(checkout="/work/checkout", app_path="services/api", resolved="/etc", signs="python: pyproject.toml, uv.lock",
              supported="python, go", origin="services/api/project.toml", language="cobol",
              builder="docker.io/evil/x:latest", trusted="b/python:1, b/go:1", path="services/api/project.toml",
              python="3.10.13", detail="Expected ']' (at line 1, column 3)", version="0.3", setting="builder",
              expected="a non-empty string", got="an int (3)", table="io.luban-ci", key="languag", known="language",
              index=2, name="go", pattern="../x", first=0, second=2)
EXPECTED = {
    "app_path_absolute":
        "The app path 'services/api' is absolute. The app path is resolved inside the checkout so a build only reads "
        "the repository it was asked to build. Give a path relative to the repository root, such as 'services/api' "
        "or '.'.",
    "app_path_empty":
        "The app path is empty. It names the directory of the repository to build. Give '.' for the repository root "
        "or a relative path such as 'services/api'.",
    "app_path_escapes":
        "The app path 'services/api' leads outside the checkout through a symbolic link (it resolves to '/etc'). A "
        "build only reads the repository it was asked to build. Point the app path at a real directory inside the "
        "repository.",
    "app_path_missing":
        "The app path 'services/api' does not exist in the checkout. The pipeline builds the directory the app path "
        "names. Check the app path against the repository layout at this commit.",
    "app_path_not_dir":
        "The app path 'services/api' is a file, not a directory. The pipeline builds the directory the app path "
        "names. Give the directory that holds the app's files.",
    "app_path_parent":
        "The app path 'services/api' contains '..'. The app path must stay inside the checkout so a build only reads "
        "the repository it was asked to build. Give a path below the repository root without '..' components.",
    "builder_not_trusted":
        "'services/api/project.toml' asks for builder 'docker.io/evil/x:latest', which is not one of the trusted "
        "builders of the language registry. The builder image runs with the registry's push credentials, so only "
        "registry builders are run. Use one of: b/python:1, b/go:1; or add the builder to the registry (the builders "
        "of luban.ci.language_registry, i.e. the luban-languages ConfigMap).",
    "builder_override_type":
        "The builder override for 'cobol' must be a non-empty image reference string, but it is an int (3). Give an "
        "image such as 'quay.io/org/builder@sha256:...'.",
    "builder_override_unknown":
        "A builder override names language 'cobol', which is not in the registry. Overrides apply to registry "
        "languages only. Use one of: python, go.",
    "builder_overrides_type":
        "Builder overrides must map language names to builder images, but they are an int (3). Overrides replace a "
        "language's default builder. Give a mapping such as {'python': 'IMAGE'}, or {} for the defaults.",
    "checkout_missing":
        "The checkout '/work/checkout' is not a directory. Language detection reads the cloned repository, so it "
        "must exist first. Run the checkout step and pass its destination directory.",
    "no_language":
        "No supported language was detected in 'services/api': none of the files that identify one is there "
        "(python: pyproject.toml, uv.lock). Each language is recognised by its files. Add them (for Python: "
        "pyproject.toml with uv.lock, or requirements.txt), or name the language in project.toml under "
        "[io.luban-ci] language = \"...\". Supported languages: python, go.",
    "project_escapes":
        "'services/api/project.toml' is a symbolic link leading outside the checkout. A build only reads the "
        "repository it was asked to build. Replace the link with the project descriptor itself.",
    "project_invalid":
        "'services/api/project.toml' is not valid TOML: Expected ']' (at line 1, column 3). The project descriptor "
        "must parse before its settings can be honoured. Fix the syntax, or remove the file to use detection.",
    "project_schema":
        "'services/api/project.toml' declares [_] schema-version = '0.3', which luban-ci does not read. Supported "
        "CNB project descriptor versions: 0.1, 0.2. Set [_] schema-version = \"0.2\".",
    "project_type":
        "'services/api/project.toml': builder must be a non-empty string, but it is an int (3). The value cannot be "
        "used as written. Fix it in project.toml.",
    "project_unknown_key":
        "'services/api/project.toml': [io.luban-ci] has an unknown key 'languag'. luban-ci reads only its own keys "
        "there, and a misspelt key would silently be ignored. Known keys: language.",
    "project_unreadable":
        "Cannot read 'services/api/project.toml': Expected ']' (at line 1, column 3). The project descriptor must be "
        "readable to honour its settings. Fix the file's permissions or remove it.",
    "registry_bad_name":
        "Language registry entry 2 has the name 'go'. Names are used in project.toml and as Argo parameters. Use "
        "lower-case letters, digits and '-', starting with a letter.",
    "registry_bad_pattern":
        "Language registry entry 2 ('go') has the detection pattern '../x'. Patterns match file names in the app "
        "directory itself. Use a file name or glob without '/' or '..'.",
    "registry_bad_value":
        "Language registry entry 2 ('go'): builder must be a non-empty string, but it is an int (3). The entry "
        "cannot be used as written. Fix builder.",
    "registry_duplicate":
        "The language registry names 'go' twice (entries 0 and 2). Selection would be ambiguous. Keep one entry per "
        "language.",
    "registry_empty":
        "The language registry is empty. Without a language nothing can be built. List at least one language.",
    "registry_entry_type":
        "Language registry entry 2 must be a mapping, but it is an int (3). Each entry describes one language. Give "
        "name, detect, builder and template keys.",
    "registry_missing_key":
        "Language registry entry 2 lacks 'languag'. Every language needs a name, detection files, a builder and a "
        "template. Add 'languag'.",
    "registry_not_list":
        "The language registry must be a list of languages, but it is an int (3). The registry names each language's "
        "detection files, builder and template. Give a list such as [{name: python, detect: [pyproject.toml], "
        "builder: IMAGE, template: luban-build-python}].",
    "registry_unknown_key":
        "Language registry entry 2 has an unknown key 'languag'. A misspelt key would silently be ignored. Known "
        "keys: name, detect, builder, template.",
    "toml_unavailable":
        "Cannot read 'services/api/project.toml': this Python (3.10.13) has no TOML parser (tomllib arrived in Python "
        "3.11). The project descriptor must be read to honour its settings. Run language selection with Python 3.11 "
        "or later.",
    "unknown_language":
        "'services/api/project.toml' asks for language 'cobol', which is not supported. Only languages in the "
        "registry can be built. Use one of: python, go.",
}


@pytest.mark.parametrize("code", sorted(languages.CATALOG))
def test_every_catalog_entry_reads_word_for_word(code: str) -> None:
    fields = {part[1]: SAMPLE[part[1]] for part in string.Formatter().parse(languages.CATALOG[code].text) if part[1]}
    assert str(LanguageSelectionError(code, **fields)) == EXPECTED[code]
    assert set(EXPECTED) == set(languages.CATALOG)


def test_a_go_language_is_a_registry_entry_only(tmp_path: Path) -> None:
    write(tmp_path / "go.mod")
    registry = registry_from_data(registry_to_data() + [GO])
    assert select_language(tmp_path, ".", registry) == Selection("go", "b/go:1", "luban-build-go", ".", "detected")
    assert isinstance(registry[1], Language)


def _plain_import_script(checkout: Path) -> str:
    return (
        "import sys; sys.path.insert(0, %r)\n"
        "from module_utils import languages\n"
        "assert not [m for m in sys.modules if m == 'ansible' or m.startswith(('ansible.', 'ansible_collections'))]\n"
        "print(languages.select_language(%r).language)\n" % (str(MODULE_UTILS.parent), str(checkout))
    )


@pytest.mark.parametrize("python", [sys.executable, "/usr/bin/python3"])
def test_importable_as_a_plain_module_without_ansible(tmp_path: Path, python: str) -> None:
    """The step tool imports this file (and catalog.py beside it) from a package of its own, on the
    image's Python, with no Ansible around."""
    if not Path(python).exists():
        pytest.skip("%s is not installed" % python)
    write(tmp_path / "project.toml", '[_]\nschema-version = "0.2"\n[io.luban-ci]\nlanguage = "python"\n')
    result = subprocess.run(
        [python, "-I", "-c", _plain_import_script(tmp_path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "python\n"


def _old_python() -> str | None:
    for candidate in sorted(Path("/root/.pyenv/versions").glob("3.1[0]*/bin/python")) + sorted(
        Path("/root/.pyenv/versions").glob("3.9*/bin/python")
    ):
        return str(candidate)
    return None


def test_without_tomllib_detection_works_and_project_toml_is_refused_clearly(tmp_path: Path) -> None:
    """Python < 3.11 lacks tomllib: the module still imports; a descriptor gets a clear message."""
    python = _old_python()
    if python is None:
        pytest.skip("no Python older than 3.11 on this machine")
    write(tmp_path / "plain" / "uv.lock")
    write(tmp_path / "described" / "project.toml", "")
    script = (
        "import sys; sys.path.insert(0, %r)\n"
        "from module_utils import languages\n"
        "print(languages.select_language(%r, 'plain').language)\n"
        "try:\n"
        "    languages.select_language(%r, 'described')\n"
        "except languages.LanguageSelectionError as exc:\n"
        "    print(exc)\n" % (str(MODULE_UTILS.parent), str(tmp_path), str(tmp_path))
    )
    result = subprocess.run([python, "-I", "-c", script], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    version = subprocess.run(
        [python, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert result.stdout == (
        "python\nCannot read 'described/project.toml': this Python (%s) has no TOML parser (tomllib "
        "arrived in Python 3.11). The project descriptor must be read to honour its settings. Run "
        "language selection with Python 3.11 or later.\n" % version
    )


def test_every_catalog_code_is_documented() -> None:
    docs = (Path(__file__).resolve().parents[4] / "docs" / "plugins.md").read_text(encoding="utf-8")
    from ansible_collections.luban.ci.plugins.module_utils import builder_toml

    missing = [code for code in list(languages.CATALOG) + list(builder_toml.CATALOG) if "`%s`" % code not in docs]
    assert missing == []


def test_python_signs_are_the_python_buildpacks_detect_signs() -> None:
    """An app the buildpack would take must never be turned away by language selection."""
    detect = Path(__file__).resolve().parents[4] / "files/buildpacks/python-uv/bin/detect"
    if not detect.is_file():
        pytest.skip("the python-uv buildpack source is not in this tree")
    # bin/detect is POSIX sh: its signs are the words of its `for sign in ...; do` loop.
    loop = re.search(r"for sign in (.*?); do", detect.read_text(encoding="utf-8"), re.S)
    assert loop is not None, "bin/detect no longer lists its signs in a `for sign in ...; do` loop"
    signs = loop.group(1).replace("\\\n", " ").split()
    assert set(signs) == set(DEFAULT_REGISTRY[0].detect)
