"""Every bad input a user can give ends in one catalog message; each is asserted word for word."""

from __future__ import annotations

import pytest
from luban_python import uv
from luban_python.build import preflight
from luban_python.errors import CATALOG, WARNINGS, BuildpackError

PYPROJECT = '[project]\nname = "app"\nversion = "1.0"\nrequires-python = ">=3.11"\ndependencies = []\n'
LOCK = 'version = 1\nrevision = 3\nrequires-python = ">=3.11"\n'

CASES = {
    "no package manager file": (
        {".python-version": "3.13\n"},
        {},
        "No Python package manager file found: The app has no pyproject.toml (with a [project] table) and no "
        "requirements.txt, so the buildpack cannot tell which dependencies to install. Add a pyproject.toml and "
        "run `uv lock` to commit a uv.lock (recommended), or add a requirements.txt.",
    ),
    "two package manager files": (
        {"pyproject.toml": PYPROJECT, "uv.lock": LOCK, "requirements.txt": "idna\n"},
        {},
        "More than one package manager file found: The app has pyproject.toml and requirements.txt. Each "
        "describes the dependencies differently and the buildpack will not guess which one is right. Keep "
        "pyproject.toml and uv.lock and delete the others (for a uv project: `uv add -r requirements.txt`, then "
        "remove requirements.txt).",
    ),
    "Pipfile": (
        {"Pipfile": "[packages]\n"},
        {},
        "Unsupported package manager file: Pipfile: The app uses Pipenv, which this buildpack does not run: "
        "every dependency is installed with uv. Convert the project to uv (for example `uvx migrate-to-uv`), "
        "commit pyproject.toml and uv.lock, and delete Pipfile.",
    ),
    "uv.lock alone": (
        {"uv.lock": LOCK},
        {},
        "uv.lock found without pyproject.toml: A uv.lock only records how the dependencies of a pyproject.toml "
        "were resolved, so it is useless on its own. Commit the pyproject.toml that goes with it, or delete "
        "uv.lock.",
    ),
    "runtime.txt present": (
        {"runtime.txt": "python-3.12.1\n", "requirements.txt": "idna\n"},
        {},
        "runtime.txt is not supported: The app has a runtime.txt ('python-3.12.1'), an older way to choose the "
        "Python version that this buildpack does not read, so the version in it would be silently ignored. Put "
        "the version in a .python-version file instead (for example `echo 3.13 > .python-version`) and delete "
        "runtime.txt.",
    ),
    "malformed pyproject.toml": (
        {"pyproject.toml": "[project\nname = 1\n"},
        {},
        "pyproject.toml is not valid TOML: Reading pyproject.toml failed: Expected ']' at the end of a table "
        "declaration (at line 1, column 9). The buildpack needs it to find the Python version and the "
        "dependencies. Fix the file (for example check it with `uv lock`) and commit it.",
    ),
    "malformed uv.lock": (
        {"pyproject.toml": PYPROJECT, "uv.lock": "<<<<<<< HEAD\n"},
        {},
        "uv.lock is not a valid lock file: Reading uv.lock failed: Invalid statement (at line 1, column 1). A "
        "damaged lock (often a bad merge) cannot be installed reproducibly. Regenerate it with `uv lock` and "
        "commit the result.",
    ),
    ".python-version 3.12rc1": (
        {"requirements.txt": "idna\n", ".python-version": "3.12rc1\n"},
        {},
        ".python-version holds an unsupported version: 3.12rc1: The buildpack accepts a CPython release as X.Y "
        "or X.Y.Z (for example 3.13 or 3.13.1); \"3.12rc1\" is a pre-release, which is not supported for "
        "production images. Write such a version into .python-version.",
    ),
    ".python-version python-3.12": (
        {"requirements.txt": "idna\n", ".python-version": "python-3.12\n"},
        {},
        ".python-version holds an unsupported version: python-3.12: The buildpack accepts a CPython release as "
        "X.Y or X.Y.Z (for example 3.13 or 3.13.1); \"python-3.12\" names an implementation or a tool's "
        "spelling; write only the number. Write such a version into .python-version.",
    ),
    ".python-version system": (
        {"requirements.txt": "idna\n", ".python-version": "system\n"},
        {},
        ".python-version holds an unsupported version: system: The buildpack accepts a CPython release as X.Y "
        "or X.Y.Z (for example 3.13 or 3.13.1); \"system\" means a Python installed on the machine, and an "
        "image has none for the app. Write such a version into .python-version.",
    ),
    ".python-version free-threaded": (
        {"requirements.txt": "idna\n", ".python-version": "3.13t\n"},
        {},
        ".python-version holds an unsupported version: 3.13t: The buildpack accepts a CPython release as X.Y or "
        "X.Y.Z (for example 3.13 or 3.13.1); \"3.13t\" asks for a free-threaded build, which is not supported. "
        "Write such a version into .python-version.",
    ),
    ".python-version with two versions": (
        {"requirements.txt": "idna\n", ".python-version": "3.13\n# the old one\n3.12\n"},
        {},
        ".python-version holds more than one version: The file lists 3.13, 3.12. uv can use several versions "
        "for local development, but an image runs exactly one. Keep only the version the app runs on (for "
        "example 3.13).",
    ),
    ".python-version non-ASCII": (
        {"requirements.txt": "idna\n", ".python-version": "３.12\n"},
        {},
        ".python-version contains non-ASCII characters: A version is plain ASCII such as 3.13; the file's "
        "content ('３.12') is not, which usually means a stray character or an encoding problem. Rewrite it, "
        "for example with `echo 3.13 > .python-version`.",
    ),
    ".python-version empty": (
        {"requirements.txt": "idna\n", ".python-version": "# pick one\n\n"},
        {},
        ".python-version holds no version: The file has only blank lines or comments, so it does not say which "
        "Python to use. Write one version such as 3.13 into .python-version, or delete the file to use the "
        "default (3.13).",
    ),
    "end-of-life 3.9": (
        {"requirements.txt": "idna\n", ".python-version": "3.9.18\n"},
        {},
        "Python 3.9.18 has reached end of life: Python 3.9 stopped receiving security fixes on 2025-10-31, so "
        "images built on it would ship known vulnerabilities. Upgrade the app to a supported version (3.11, "
        "3.12, 3.13, 3.14) and update .python-version. To build it anyway while you upgrade, set "
        "BP_PYTHON_ALLOW_END_OF_LIFE=true in the build environment (project.toml [[io.buildpacks.build.env]], or "
        "pack build --env); every build then warns.",
    ),
    "end-of-life 3.10": (
        {"requirements.txt": "idna\n", ".python-version": "3.10\n"},
        {},
        "Python 3.10 has reached end of life: Python 3.10 stopped receiving security fixes on 2026-10-31, so "
        "images built on it would ship known vulnerabilities. Upgrade the app to a supported version (3.11, "
        "3.12, 3.13, 3.14) and update .python-version. To build it anyway while you upgrade, set "
        "BP_PYTHON_ALLOW_END_OF_LIFE=true in the build environment (project.toml [[io.buildpacks.build.env]], or "
        "pack build --env); every build then warns.",
    ),
    "end-of-life 2.7": (
        {"requirements.txt": "idna\n", ".python-version": "2.7.18\n"},
        {},
        "Python 2.7.18 has reached end of life: Python 2.7 stopped receiving security fixes on or before "
        "2023-06-27, so images built on it would ship known vulnerabilities. Upgrade the app to a supported "
        "version (3.11, 3.12, 3.13, 3.14) and update .python-version. To build it anyway while you upgrade, set "
        "BP_PYTHON_ALLOW_END_OF_LIFE=true in the build environment (project.toml [[io.buildpacks.build.env]], or "
        "pack build --env); every build then warns.",
    ),
    "unknown release line": (
        {"requirements.txt": "idna\n", ".python-version": "3.99\n"},
        {},
        "Python 3.99 is not a known CPython release line: The buildpack knows the release lines 3.11, 3.12, "
        "3.13, 3.14, and 3.99 is not one of them. Choose one of those in .python-version.",
    ),
    "requires-python conflicts with .python-version": (
        {"pyproject.toml": PYPROJECT.replace(">=3.11", ">=3.13"), "uv.lock": LOCK, ".python-version": "3.12\n"},
        {},
        ".python-version conflicts with requires-python: The .python-version file asks for Python 3.12, but "
        "requires-python in pyproject.toml is \">=3.13\", which excludes it. Change one of them so that they "
        "agree.",
    ),
    "requires-python unsatisfiable": (
        {"pyproject.toml": PYPROJECT.replace(">=3.11", "<3.10"), "uv.lock": LOCK},
        {},
        "No supported Python satisfies requires-python: requires-python in pyproject.toml is \"<3.10\", and none "
        "of the supported release lines (3.11, 3.12, 3.13, 3.14) satisfies it. Widen requires-python, or pin a "
        "version in .python-version.",
    ),
    "requires-python invalid": (
        {"pyproject.toml": PYPROJECT.replace(">=3.11", "python3"), "uv.lock": LOCK},
        {},
        "requires-python is not a valid version specifier: pyproject.toml has requires-python = \"python3\" "
        "(cannot read \"python3\"). Use a PEP 440 specifier such as \">=3.12\".",
    ),
    "requirements.txt partially hashed": (
        {"requirements.txt": "idna==3.10 \\\n    --hash=sha256:" + "a" * 64 + "\nsix==1.16.0\nrequests==2.32.3\n"},
        {},
        "requirements.txt has hashes for some requirements only: These requirements carry no --hash while the "
        "others do: six, requests. uv checks a hash only where one is given, so they would be installed "
        "unchecked, and the file would look safer than it is (pip refuses such a file). Give every requirement "
        "its hashes, for example by regenerating the file with `uv pip compile --generate-hashes requirements.in "
        "-o requirements.txt`, or remove the hashes.",
    ),
    "forbidden env var": (
        {"requirements.txt": "idna\n"},
        {"UV_PROJECT_ENVIRONMENT": "/tmp/venv", "VIRTUAL_ENV": "/tmp/venv"},
        "The build environment sets UV_PROJECT_ENVIRONMENT, VIRTUAL_ENV, which this buildpack controls: The "
        "buildpack sets UV_PROJECT_ENVIRONMENT, VIRTUAL_ENV itself to place the interpreter, virtual environment "
        "and cache in image layers; a different value would build an image that cannot run. Remove "
        "UV_PROJECT_ENVIRONMENT, VIRTUAL_ENV from the build environment (project.toml "
        "[[io.buildpacks.build.env]], pack --env, or the platform's env files).",
    ),
    "malformed Procfile": (
        {"requirements.txt": "idna\n", "Procfile": "web: gunicorn app:app\nworker python worker.py\n"},
        {},
        "Procfile line 2 is not valid: Each Procfile line must read `<type>: <command>` where the type uses only "
        "letters, digits, '.', '_' and '-', and the command is not empty; line 2 reads \"worker python "
        "worker.py\". Fix that line.",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_fails_with_its_catalog_message(name: str, make_context) -> None:
    files, env, expected = CASES[name]
    with pytest.raises(BuildpackError) as raised:
        preflight(make_context(files, env))
    assert str(raised.value) == expected


# Real uv 0.13 output for each failure (the contract tier produces them live).
UV_OUTPUTS = {
    "lock_stale": (
        "Resolved 4 packages in 148ms\nerror: The lockfile at `uv.lock` needs to be updated, but `--locked` was "
        "provided.\n\nhint: To update the lockfile, run `uv lock`.\n",
        "uv.lock is out of date with pyproject.toml: The dependencies in pyproject.toml changed after uv.lock "
        "was written, so installing the lock would not give the app what pyproject.toml asks for. Run `uv lock` "
        "and commit the updated uv.lock.",
    ),
    "dependency_not_found": (
        "Using Python 3.12.1 environment at: v\nerror: No solution found when resolving dependencies\n  cause: "
        "Because nope was not found in the package registry and you require nope==1.0, we can conclude that "
        "your requirements are unsatisfiable.\n",
        "A dependency could not be found in the package index: uv could not resolve the dependencies: error: No "
        "solution found when resolving dependencies cause: Because nope was not found in the package registry "
        "and you require nope==1.0, we can conclude that your requirements are unsatisfiable.. Check the name "
        "and version of the dependency, and that the index it comes from is configured (UV_INDEX_URL, UV_INDEX, "
        "or [[tool.uv.index]] in pyproject.toml).",
    ),
    "index_unreachable": (
        "error: Request failed after 3 retries in 10.5s\n  cause: Failed to fetch: https://127.0.0.1:9/simple/idna/\n"
        "  cause: error sending request for url (https://127.0.0.1:9/simple/idna/)\n  cause: client error (Connect)\n",
        "The package index could not be reached: uv failed to download from the package index: error: Request "
        "failed after 3 retries in 10.5s cause: Failed to fetch: https://127.0.0.1:9/simple/idna/ cause: error "
        "sending request for url (https://127.0.0.1:9/simple/idna/) cause: client error (Connect). Check that "
        "the build can reach the index and that its TLS certificate is trusted (behind an intercepting proxy, "
        "add the proxy's CA as a ca-certificates binding), then retry.",
    ),
    "dependency_install_failed": (
        "error: Failed to build `broken==1.0`\n  cause: The build backend returned an error\n",
        "Installing the dependencies with uv failed: uv exited with status 1: error: Failed to build "
        "`broken==1.0` cause: The build backend returned an error. The output above shows which package failed; "
        "fix the dependency or its build requirements, then retry.",
    ),
}


@pytest.mark.parametrize("key", sorted(UV_OUTPUTS))
def test_uv_failures_map_to_catalog_messages(key: str) -> None:
    output, expected = UV_OUTPUTS[key]
    error = uv.classify_dependency_failure(uv.Result(1, output))
    assert (error.key, str(error)) == (key, expected)


def test_python_missing_from_the_mirror_is_named() -> None:
    error = uv.classify_python_failure(uv.Result(2, "error: No download found for request: cpython-3.14-linux-x86_64-gnu\n"), "3.14", "linux-x86_64-gnu")
    assert str(error) == (
        "Python 3.14 is not available for download: uv found no CPython 3.14 for linux-x86_64-gnu in its "
        "downloads list. If the build uses a mirror (a uv-python-mirror binding, or UV_PYTHON_DOWNLOADS_JSON_URL "
        "and UV_PYTHON_INSTALL_MIRROR), that mirror does not carry it. Choose a version the mirror provides, or add that version to the mirror."
    )


def test_catalog_entries_say_what_why_and_what_to_do() -> None:
    for key, message in {**CATALOG, **WARNINGS}.items():
        assert message.title and not message.title.endswith("."), key
        assert message.body.rstrip().endswith((".", ")")), key
        assert len(message.body.split(". ")) >= 2, key


def test_every_catalog_entry_is_tested_somewhere() -> None:
    here = __import__("pathlib").Path(__file__).parent
    text = "".join(p.read_text(encoding="utf-8") for p in here.glob("test_*.py"))
    untested = [key for key in CATALOG if f'"{key}"' not in text and CATALOG[key].title.split("{")[0] not in text]
    assert untested == []


def test_user_docs_list_every_catalog_entry() -> None:
    docs = (__import__("pathlib").Path(__file__).resolve().parents[3] / "docs" / "buildpack.md").read_text(encoding="utf-8")
    missing = [key for key, message in {**CATALOG, **WARNINGS}.items() if f"| `{key}` | {message.title} |" not in docs]
    assert missing == []
