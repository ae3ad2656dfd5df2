"""detect --prepare-dir: the app and its build env laid out as `pack build` hands them to the
lifecycle (project.toml build env and include/exclude, pack's semantics; .git never built)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import run_cli
from luban_step.project import compile_lines, matches

REGISTRY = [{"name": "python", "detect": ["uv.lock", "pyproject.toml", "requirements.txt"], "builder": "b:1",
             "template": "luban-build-python"}]

# gitignore-style lines -> {path: matched}. The expected values are the answers of
# github.com/sabhiram/go-gitignore v0.0.0-20210923224102-525f6e181f06 (the version pack v0.40
# pins for project.toml include/exclude), computed with that module; its quirks included: `?` is
# a literal character, `logs/**` and `a/**/b` also match below other directories.
GO_GITIGNORE = [
    (['*.py'], {'app.py': True, 'src/app.py': True, 'src': False, 'README.md': False, 'app.pyc': False,
                'a.py/b': True}),
    (['/build'], {'build': True, 'build/x': True, 'src/build': False, 'builder': False}),
    (['tests/'], {'tests': False, 'tests/a.py': True, 'src/tests/a.py': True, 'tests.py': False}),
    (['docs/*.md'], {'docs/a.md': True, 'docs/sub/a.md': False, 'x/docs/a.md': False, 'docs': False}),
    (['**/cache'], {'cache': True, 'a/cache': True, 'a/b/cache/x': True, 'cached': False}),
    (['logs/**'], {'logs': True, 'logs/a': True, 'logs/a/b': True, 'x/logs/a': True}),
    (['a/**/b'], {'a/b': True, 'a/x/b': True, 'a/x/y/b': True, 'b': False, 'x/a/b': True}),
    (['*.txt', '!keep.txt'], {'a.txt': True, 'keep.txt': False, 'd/keep.txt': False, 'b.md': False}),
    (['!keep.txt', '*.txt'], {'keep.txt': True, 'a.txt': True}),
    (['file?.txt'], {'file1.txt': False, 'file?.txt': True}),
    (['\\#hash', '\\!bang'], {'#hash': True, '!bang': True, 'hash': False, 'bang': False}),
    (['# comment', '', '   ', '  spaced  '], {'spaced': True, '# comment': False, 'x/spaced': True}),
    (['.git'], {'.git': True, '.git/config': True, 'sub/.git': True, '.github/x': False}),
    (['src', '!src/secret.py'], {'src/app.py': True, 'src/secret.py': False, 'src': True}),
    (['*'], {'a': True, 'a/b': True, '.hidden': True}),
    (['[ab].py'], {'a.py': True, 'b.py': True, 'c.py': False}),
    (['*.py[co]'], {'x.pyc': True, 'x.pyo': True, 'x.py': False}),
    (['src/**/*.py'], {'src/a.py': True, 'src/x/a.py': True, 'a.py': False}),
]


@pytest.mark.parametrize(("lines", "expected"), GO_GITIGNORE, ids=[" ".join(c[0]) or "empty" for c in GO_GITIGNORE])
def test_patterns_match_exactly_as_packs_gitignore_library(lines: list[str], expected: dict[str, bool]) -> None:
    patterns = compile_lines(lines)
    assert {path: matches(patterns, path) for path in expected} == expected


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def checkout(tmp_path: Path, files: dict[str, str]) -> Path:
    """A checkout as `luban-step checkout` leaves it: the app plus the git metadata."""
    source = tmp_path / "source"
    write(source, {".git/HEAD": "ref: refs/heads/main\n", ".git/config": "[core]\n", **files})
    return source


def detect(tmp_path: Path, source: Path, *extra: str, app_path: str = "."):
    registry = tmp_path / "registry.json"
    registry.write_text(json.dumps(REGISTRY))
    return run_cli("detect", "--source", str(source), "--app-path", app_path, "--registry", str(registry),
                   "--outputs", str(tmp_path / "outputs"), "--prepare-dir", str(tmp_path / "build"), *extra)


def tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() + ("/" if p.is_dir() and not p.is_symlink() else "")
            for p in root.rglob("*")}


def env_files(tmp_path: Path) -> dict[str, bytes]:
    env = tmp_path / "build" / "platform" / "env"
    return {p.name: p.read_bytes() for p in env.iterdir()}


def test_build_env_files_hold_each_value_exactly_and_the_operators_win(tmp_path: Path) -> None:
    source = checkout(tmp_path, {"uv.lock": "version = 1\n", "project.toml": '''
[_]
schema-version = "0.2"

[[io.buildpacks.build.env]]
name = "BP_GREETING"
value = "hello, wörld  "

[[io.buildpacks.build.env]]
name = "MULTI_LINE"
value = """one
two"""

[[io.buildpacks.build.env]]
name = "EMPTY"
value = ""

[[io.buildpacks.build.env]]
name = "UV_INDEX_URL"
value = "https://pypi.example.org/simple"
'''})
    result = detect(tmp_path, source, "--build-env", "UV_INDEX_URL=https://mirror.internal/simple",
                    "--build-env", "UV_HTTP_TIMEOUT=60")
    assert result.code == 0, result.err
    assert env_files(tmp_path) == {
        "BP_GREETING": "hello, wörld  ".encode(), "MULTI_LINE": b"one\ntwo", "EMPTY": b"",
        "UV_INDEX_URL": b"https://mirror.internal/simple", "UV_HTTP_TIMEOUT": b"60"}
    assert result.err == (
        "luban-step: Prepared the app for the build in '%s': 2 file(s) kept, 1 left out (project.toml has no "
        "include or exclude; .git is never built); build env: BP_GREETING, EMPTY, MULTI_LINE, UV_HTTP_TIMEOUT, "
        "UV_INDEX_URL.\n" % (tmp_path / "build"))
    assert "wörld" not in result.err and "mirror.internal" not in result.both  # names only, never values


@pytest.mark.parametrize(("descriptor", "expected"), [
    ('[[build.env]]\nname = "A"\nvalue = "schema 0.1"\n', {"A": b"schema 0.1"}),
    ('[_]\nschema-version = "0.2"\n[[io.buildpacks.env.build]]\nname = "A"\nvalue = "deprecated key"\n',
     {"A": b"deprecated key"}),
    ('[_]\nschema-version = "0.2"\n[[io.buildpacks.build.env]]\nname = "A"\nvalue = "new"\n'
     '[[io.buildpacks.env.build]]\nname = "B"\nvalue = "ignored when the new key is there"\n', {"A": b"new"}),
    ('[_]\nschema-version = "0.2"\n[[io.buildpacks.build.env]]\nname = "A"\nvalue = "first"\n'
     '[[io.buildpacks.build.env]]\nname = "A"\nvalue = "last wins"\n', {"A": b"last wins"}),
    ('[_]\nschema-version = "0.2"\n[[build.env]]\nname = "A"\nvalue = "a 0.1 key in a 0.2 file"\n', {}),
], ids=["schema-0.1", "deprecated-0.2-key", "new-key-wins", "duplicate", "wrong-schema-key"])
def test_build_env_keys_by_schema_as_pack_reads_them(tmp_path: Path, descriptor: str,
                                                     expected: dict[str, bytes]) -> None:
    source = checkout(tmp_path, {"uv.lock": "", "project.toml": descriptor})
    result = detect(tmp_path, source)
    assert result.code == 0, result.err
    assert env_files(tmp_path) == expected


def test_exclude_leaves_out_what_matches_and_git_metadata_never_reaches_the_app(tmp_path: Path) -> None:
    source = checkout(tmp_path, {
        "project.toml": '[_]\nschema-version = "0.2"\n[io.buildpacks]\nexclude = ["tests/", "*.pyc", "!keep.pyc", '
                        '"/secrets.env", "docs/*.md"]\n',
        "uv.lock": "", "pyproject.toml": "[project]\nname = 'x'\n", "src/app.py": "", "src/app.pyc": "",
        "src/keep.pyc": "", "tests/test_app.py": "", "src/tests/test_x.py": "", "secrets.env": "TOKEN=1\n",
        "src/secrets.env": "", "docs/a.md": "", "docs/sub/b.md": "", "vendor/lib/.git": "gitdir: ../../.git/x\n",
    })
    os.chmod(source / "src" / "app.py", 0o755)
    result = detect(tmp_path, source)
    assert result.code == 0, result.err
    app = tmp_path / "build" / "app"
    assert tree(app) == {"project.toml", "uv.lock", "pyproject.toml", "src/", "src/app.py", "src/keep.pyc",
                         "src/secrets.env", "docs/", "docs/sub/", "docs/sub/b.md", "tests/", "src/tests/",
                         "vendor/", "vendor/lib/"}
    assert os.stat(app / "src" / "app.py").st_mode & 0o111  # modes are kept
    assert "7 file(s) kept, 7 left out (by project.toml's exclude; .git is never built)" in result.err
    assert (source / ".git" / "HEAD").is_file()  # the checkout itself is untouched (deploy reads it)


def test_include_keeps_matching_files_wherever_they_are_and_nothing_else(tmp_path: Path) -> None:
    source = checkout(tmp_path, {
        "project.toml": '[build]\ninclude = ["*.py", "uv.lock", "pyproject.toml", "static/"]\n',
        "uv.lock": "", "pyproject.toml": "", "src/pkg/app.py": "", "README.md": "", "static/css/a.css": "",
        "notes/todo.txt": "",
    })
    (source / "empty-dir").mkdir()
    result = detect(tmp_path, source)
    assert result.code == 0, result.err
    # A file the include matches is kept even when its directory is not (pack walks every
    # directory); directories come along as parents. project.toml itself is not included here.
    assert tree(tmp_path / "build" / "app") == {
        "uv.lock", "pyproject.toml", "src/", "src/pkg/", "src/pkg/app.py", "static/", "static/css/", "static/css/a.css"}


def test_git_metadata_is_left_out_even_when_the_include_matches_everything(tmp_path: Path) -> None:
    source = checkout(tmp_path, {"project.toml": '[build]\ninclude = ["*"]\n', "uv.lock": ""})
    assert detect(tmp_path, source).code == 0
    assert tree(tmp_path / "build" / "app") == {"project.toml", "uv.lock"}


def test_links_are_copied_as_links_and_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside, {"secret.txt": "do not copy me"})
    source = checkout(tmp_path, {"uv.lock": "", "lib/real.py": ""})
    (source / "link-to-file").symlink_to(outside / "secret.txt")
    (source / "link-to-dir").symlink_to(outside)
    (source / "lib" / "alias.py").symlink_to("real.py")
    assert detect(tmp_path, source).code == 0
    app = tmp_path / "build" / "app"
    assert os.readlink(app / "link-to-file") == str(outside / "secret.txt")
    assert os.readlink(app / "link-to-dir") == str(outside)
    assert os.readlink(app / "lib" / "alias.py") == "real.py"
    assert not any(p.name == "secret.txt" for p in app.rglob("*") if not p.is_symlink())


def test_the_app_path_is_prepared_alone(tmp_path: Path) -> None:
    source = checkout(tmp_path, {"services/api/uv.lock": "", "services/api/main.py": "", "services/web/x.py": "",
                                 "services/api/project.toml": '[[build.env]]\nname = "SERVICE"\nvalue = "api"\n'})
    result = detect(tmp_path, source, app_path="services/api")
    assert result.code == 0, result.err
    assert tree(tmp_path / "build" / "app") == {"uv.lock", "main.py", "project.toml"}
    assert env_files(tmp_path) == {"SERVICE": b"api"}


def test_a_retried_step_replaces_its_previous_preparation(tmp_path: Path) -> None:
    source = checkout(tmp_path, {"uv.lock": "", "old.py": ""})
    assert detect(tmp_path, source).code == 0
    (source / "old.py").unlink()
    write(source, {"new.py": "", "project.toml": '[[build.env]]\nname = "B"\nvalue = "2"\n'})
    assert detect(tmp_path, source).code == 0
    assert tree(tmp_path / "build" / "app") == {"uv.lock", "new.py", "project.toml"}
    assert env_files(tmp_path) == {"B": b"2"}


def test_a_prepare_dir_holding_anything_else_is_refused(tmp_path: Path) -> None:
    source = checkout(tmp_path, {"uv.lock": ""})
    write(tmp_path / "build", {"precious.txt": "mine"})
    result = detect(tmp_path, source)
    assert result.code == 3
    assert result.err == (
        "luban-step: error: --prepare-dir '%s' holds something other than a previous preparation (app, "
        "platform). Preparing the build there could mix two sources or delete files. Give an empty or new "
        "directory.\n" % (tmp_path / "build"))
    assert (tmp_path / "build" / "precious.txt").read_text() == "mine"


def test_include_and_exclude_together_are_refused_as_pack_refuses_them(tmp_path: Path) -> None:
    source = checkout(tmp_path, {"uv.lock": "", "project.toml": '[_]\nschema-version = "0.2"\n[io.buildpacks]\n'
                                                                'include = ["src"]\nexclude = []\n'})
    result = detect(tmp_path, source)
    assert result.code == 3
    assert result.err == (
        "luban-step: error: 'project.toml' has both include and exclude under [io.buildpacks]. pack refuses such a "
        "descriptor ('cannot have both include and exclude defined'), and the cluster build follows pack. Keep "
        "one of the two lists.\n")
    assert not (tmp_path / "outputs").exists()


@pytest.mark.parametrize(("descriptor", "message"), [
    ('[build]\nexclude = "tests"\n',
     "luban-step: error: 'project.toml': [build] exclude is not a list of strings. The cluster build reads it as "
     "pack does (include and exclude are lists of gitignore-style patterns). Fix project.toml.\n"),
    ('[[build.env]]\nname = "A-B"\nvalue = "x"\n',
     "luban-step: error: 'project.toml': entry 1 of [[build.env]] has no name of letters, digits and '_' (not "
     "starting with a digit). Each build env entry needs a name of letters, digits and '_' (not starting with a "
     "digit) and a string value. Fix project.toml.\n"),
    ('[_]\nschema-version = "0.2"\n[[io.buildpacks.build.env]]\nname = "A"\nvalue = 3\n',
     "luban-step: error: 'project.toml': entry 1 of [[io.buildpacks.build.env]] has a value that is not a string. "
     "Each build env entry needs a name of letters, digits and '_' (not starting with a digit) and a string value. "
     "Fix project.toml.\n"),
])
def test_malformed_settings_are_refused_word_for_word(tmp_path: Path, descriptor: str, message: str) -> None:
    source = checkout(tmp_path, {"uv.lock": "", "project.toml": descriptor})
    result = detect(tmp_path, source)
    assert (result.code, result.err) == (3, message)


def test_an_operator_env_without_a_name_is_refused(tmp_path: Path) -> None:
    source = checkout(tmp_path, {"uv.lock": ""})
    result = detect(tmp_path, source, "--build-env", "1BAD=x")
    assert result.code == 2
    assert result.err == (
        "luban-step: error: --build-env '1BAD=x' is not accepted: it is not NAME=VALUE with a valid name. Pass "
        "NAME=VALUE, NAME made of letters, digits and '_' (not starting with a digit), as pack build --env takes "
        "it.\n")


def test_without_prepare_dir_detect_writes_its_outputs_only(tmp_path: Path) -> None:
    source = checkout(tmp_path, {"uv.lock": "", "project.toml": '[build]\ninclude = ["x"]\nexclude = ["y"]\n'})
    registry = tmp_path / "registry.json"
    registry.write_text(json.dumps(REGISTRY))
    result = run_cli("detect", "--source", str(source), "--registry", str(registry), "--outputs",
                     str(tmp_path / "outputs"))
    assert (result.code, result.err) == (0, "")
    assert not (tmp_path / "build").exists()
