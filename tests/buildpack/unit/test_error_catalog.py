"""Every bad input a user can give ends in one catalog message; each is asserted word for word."""

from __future__ import annotations

import io
import string
import textwrap

import pytest
from luban_python import uv
from luban_python.build import preflight
from luban_python.errors import CATALOG, WARNINGS, BuildpackError
from luban_python.log import Logger

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
        ".python-version holds an unsupported version: '3.12rc1': The buildpack accepts a CPython release as X.Y "
        "or X.Y.Z (for example 3.13 or 3.13.1); '3.12rc1' is a pre-release, which is not supported for "
        "production images. Write such a version into .python-version.",
    ),
    ".python-version python-3.12": (
        {"requirements.txt": "idna\n", ".python-version": "python-3.12\n"},
        {},
        ".python-version holds an unsupported version: 'python-3.12': The buildpack accepts a CPython release as "
        "X.Y or X.Y.Z (for example 3.13 or 3.13.1); 'python-3.12' names an implementation or a tool's "
        "spelling; write only the number. Write such a version into .python-version.",
    ),
    ".python-version system": (
        {"requirements.txt": "idna\n", ".python-version": "system\n"},
        {},
        ".python-version holds an unsupported version: 'system': The buildpack accepts a CPython release as X.Y "
        "or X.Y.Z (for example 3.13 or 3.13.1); 'system' means a Python installed on the machine, and an "
        "image has none for the app. Write such a version into .python-version.",
    ),
    ".python-version free-threaded": (
        {"requirements.txt": "idna\n", ".python-version": "3.13t\n"},
        {},
        ".python-version holds an unsupported version: '3.13t': The buildpack accepts a CPython release as X.Y or "
        "X.Y.Z (for example 3.13 or 3.13.1); '3.13t' asks for a free-threaded build, which is not supported. "
        "Write such a version into .python-version.",
    ),
    ".python-version with two versions": (
        {"requirements.txt": "idna\n", ".python-version": "3.13\n# the old one\n3.12\n"},
        {},
        ".python-version holds more than one version: The file lists '3.13', '3.12'. uv can use several versions "
        "for local development, but an image runs exactly one. Keep only the version the app runs on (for "
        "example '3.13').",
    ),
    ".python-version non-ASCII": (
        {"requirements.txt": "idna\n", ".python-version": "３.12\n"},
        {},
        ".python-version contains non-ASCII characters: A version is plain ASCII such as 3.13; the file's "
        "content ('\\uff13.12') is not, which usually means a stray character or an encoding problem. Rewrite it, "
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
        "requires-python in pyproject.toml is '>=3.13', which excludes it. Change one of them so that they "
        "agree.",
    ),
    "requires-python unsatisfiable": (
        {"pyproject.toml": PYPROJECT.replace(">=3.11", "<3.10"), "uv.lock": LOCK},
        {},
        "No supported Python satisfies requires-python: requires-python in pyproject.toml is '<3.10', and none "
        "of the supported release lines (3.11, 3.12, 3.13, 3.14) satisfies it. Widen requires-python, or pin a "
        "version in .python-version.",
    ),
    "requires-python invalid": (
        {"pyproject.toml": PYPROJECT.replace(">=3.11", "python3"), "uv.lock": LOCK},
        {},
        "requires-python is not a valid version specifier: pyproject.toml has requires-python = 'python3' "
        "(cannot read 'python3'). Use a PEP 440 specifier such as \">=3.12\".",
    ),
    "requirements.txt partially hashed": (
        {"requirements.txt": "idna==3.10 \\\n    --hash=sha256:" + "a" * 64 + "\nsix==1.16.0\nrequests==2.32.3\n"},
        {},
        "requirements.txt has hashes for some requirements only: These requirements carry no --hash while the "
        "others do: 'six', 'requests'. uv checks a hash only where one is given, so they would be installed "
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
        "letters, digits, '.', '_' and '-', and the command is not empty; line 2 reads 'worker python "
        "worker.py'. Fix that line.",
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


# Every entry of both catalogs, word for word (title, text), with the sample fields below: values from
# the app, its environment or its bindings quoted, the buildpack's own plain, uv's and the OS's words
# long (catalog.render).
SAMPLE = dict(found="pyproject.toml and requirements.txt", keep="pyproject.toml and uv.lock", file="Pipfile", tool="Pipenv",
              content="python-3.12.1", detail="Expected ']' (at line 1, column 9)", unhashed=["six", "requests"],
              default="3.13", versions=["3.13", "3.12"], first="3.13", text="3.12rc1",
              reason="is a pre-release, which is not supported for production images", version="3.9.18", minor="3.9",
              eol="2025-10-31", supported="3.11, 3.12, 3.13, 3.14", source=".python-version",
              var="BP_PYTHON_ALLOW_END_OF_LIFE", spec=">=3.13", platform="linux-x86_64-gnu",
              names="UV_PROJECT_ENVIRONMENT, VIRTUAL_ENV", line=2, code=1, name="ca", type="ca-certificates",
              path="/platform/bindings/ca", purpose="trust", bindings=["a", "b"], arch="arm64", uv_version="0.14.0",
              index="https://idx/simple", wheel="uv-0.14.0-py3-none-manylinux_2_17_x86_64.whl", actual="a" * 64,
              expected="0" * 64, types=["worker", "beat"])
EXPECTED_ERRORS = {
    "binding_empty": (
        "Binding 'ca' of type 'ca-certificates' has no content",
        "The binding at '/platform/bindings/ca' has a type file but nothing else, so there is nothing to "
        "trust. Add the file(s) to the binding or remove it.",
    ),
    "dependency_install_failed": (
        "Installing the dependencies with uv failed",
        "uv exited with status 1: Expected ']' (at line 1, column 9). The output above shows which package "
        "failed; fix the dependency or its build requirements, then retry.",
    ),
    "dependency_not_found": (
        "A dependency could not be found in the package index",
        "uv could not resolve the dependencies: Expected ']' (at line 1, column 9). Check the name and version "
        "of the dependency, and that the index it comes from is configured (UV_INDEX_URL, UV_INDEX, or "
        "[[tool.uv.index]] in pyproject.toml).",
    ),
    "forbidden_env_var": (
        "The build environment sets UV_PROJECT_ENVIRONMENT, VIRTUAL_ENV, which this buildpack controls",
        "The buildpack sets UV_PROJECT_ENVIRONMENT, VIRTUAL_ENV itself to place the interpreter, virtual "
        "environment and cache in image layers; a different value would build an image that cannot run. Remove "
        "UV_PROJECT_ENVIRONMENT, VIRTUAL_ENV from the build environment (project.toml "
        "[[io.buildpacks.build.env]], pack --env, or the platform's env files).",
    ),
    "index_unreachable": (
        "The package index could not be reached",
        "uv failed to download from the package index: Expected ']' (at line 1, column 9). Check that the "
        "build can reach the index and that its TLS certificate is trusted (behind an intercepting proxy, add "
        "the proxy's CA as a ca-certificates binding), then retry.",
    ),
    "lock_failed": (
        "'/platform/bindings/ca' cannot be made read-only for the run user",
        "Removing group and other write permission from '/platform/bindings/ca' failed (Expected ']' (at line "
        "1, column 9)). The image's run user shares the build user's group, so a writable file or directory "
        "there would let the running app change or add code. Check that the app's files belong to the build "
        "user (CNB_USER_ID): pack and the luban-ci pipeline hand them over that way.",
    ),
    "lock_stale": (
        "uv.lock is out of date with pyproject.toml",
        "The dependencies in pyproject.toml changed after uv.lock was written, so installing the lock would "
        "not give the app what pyproject.toml asks for. Run `uv lock` and commit the updated uv.lock.",
    ),
    "lock_without_pyproject": (
        "uv.lock found without pyproject.toml",
        "A uv.lock only records how the dependencies of a pyproject.toml were resolved, so it is useless on "
        "its own. Commit the pyproject.toml that goes with it, or delete uv.lock.",
    ),
    "multiple_package_managers": (
        "More than one package manager file found",
        "The app has pyproject.toml and requirements.txt. Each describes the dependencies differently and the "
        "buildpack will not guess which one is right. Keep pyproject.toml and uv.lock and delete the others "
        "(for a uv project: `uv add -r requirements.txt`, then remove requirements.txt).",
    ),
    "no_package_manager": (
        "No Python package manager file found",
        "The app has no pyproject.toml (with a [project] table) and no requirements.txt, so the buildpack "
        "cannot tell which dependencies to install. Add a pyproject.toml and run `uv lock` to commit a uv.lock "
        "(recommended), or add a requirements.txt.",
    ),
    "no_python": (
        "No Python found to run the buildpack",
        "The luban/python-uv buildpack runs its own logic with a Python 3.11 or newer from the build image "
        "(python3.13, python3.12, python3.11 or python3 on PATH), and none was found. The application's Python "
        "does not count: uv installs that one later. Use a build image that provides Python 3.11 or newer, "
        "such as the luban-ci stack's build image.",
    ),
    "procfile_malformed": (
        "Procfile line 2 is not valid",
        "Each Procfile line must read `<type>: <command>` where the type uses only letters, digits, '.', '_' "
        "and '-', and the command is not empty; line 2 reads '3.12rc1'. Fix that line.",
    ),
    "pyproject_malformed": (
        "pyproject.toml is not valid TOML",
        "Reading pyproject.toml failed: Expected ']' (at line 1, column 9). The buildpack needs it to find the "
        "Python version and the dependencies. Fix the file (for example check it with `uv lock`) and commit "
        "it.",
    ),
    "python_install_failed": (
        "Installing Python 3.9.18 with uv failed",
        "uv said: Expected ']' (at line 1, column 9). Check that the Python downloads source is reachable from "
        "the build (for air-gapped builds bind a CPython mirror of type uv-python-mirror, or set "
        "UV_PYTHON_DOWNLOADS_JSON_URL and UV_PYTHON_INSTALL_MIRROR), then retry.",
    ),
    "python_mirror_binding_incomplete": (
        "Binding 'ca' is not a uv Python mirror",
        "The binding at '/platform/bindings/ca' has type uv-python-mirror but no download-metadata.json, so uv "
        "would not know which CPython archives the mirror holds. Bind the mirror folder itself (the one `make "
        "python-mirror` writes: download-metadata.json, the archives and the type file) or remove the binding "
        "to download CPython as usual.",
    ),
    "python_mirror_bindings_multiple": (
        "More than one uv Python mirror binding",
        "The bindings 'a', 'b' all have type uv-python-mirror, and uv installs CPython from one mirror only. "
        "Keep one of them.",
    ),
    "python_version_eol": (
        "Python 3.9.18 has reached end of life",
        "Python 3.9 stopped receiving security fixes on 2025-10-31, so images built on it would ship known "
        "vulnerabilities. Upgrade the app to a supported version (3.11, 3.12, 3.13, 3.14) and update "
        ".python-version. To build it anyway while you upgrade, set BP_PYTHON_ALLOW_END_OF_LIFE=true in the "
        "build environment (project.toml [[io.buildpacks.build.env]], or pack build --env); every build then "
        "warns.",
    ),
    "python_version_file_empty": (
        ".python-version holds no version",
        "The file has only blank lines or comments, so it does not say which Python to use. Write one version "
        "such as 3.13 into .python-version, or delete the file to use the default (3.13).",
    ),
    "python_version_file_invalid": (
        ".python-version holds an unsupported version: '3.12rc1'",
        "The buildpack accepts a CPython release as X.Y or X.Y.Z (for example 3.13 or 3.13.1); '3.12rc1' is a "
        "pre-release, which is not supported for production images. Write such a version into .python-version.",
    ),
    "python_version_file_multiple": (
        ".python-version holds more than one version",
        "The file lists '3.13', '3.12'. uv can use several versions for local development, but an image runs "
        "exactly one. Keep only the version the app runs on (for example '3.13').",
    ),
    "python_version_file_not_ascii": (
        ".python-version contains non-ASCII characters",
        "A version is plain ASCII such as 3.13; the file's content ('python-3.12.1') is not, which usually "
        "means a stray character or an encoding problem. Rewrite it, for example with `echo 3.13 > "
        ".python-version`.",
    ),
    "python_version_unavailable": (
        "Python 3.9.18 is not available for download",
        "uv found no CPython 3.9.18 for linux-x86_64-gnu in its downloads list. If the build uses a mirror (a "
        "uv-python-mirror binding, or UV_PYTHON_DOWNLOADS_JSON_URL and UV_PYTHON_INSTALL_MIRROR), that mirror "
        "does not carry it. Choose a version the mirror provides, or add that version to the mirror.",
    ),
    "python_version_unknown_minor": (
        "Python 3.9.18 is not a known CPython release line",
        "The buildpack knows the release lines 3.11, 3.12, 3.13, 3.14, and 3.9 is not one of them. Choose one "
        "of those in .python-version.",
    ),
    "requirements_partially_hashed": (
        "requirements.txt has hashes for some requirements only",
        "These requirements carry no --hash while the others do: 'six', 'requests'. uv checks a hash only "
        "where one is given, so they would be installed unchecked, and the file would look safer than it is "
        "(pip refuses such a file). Give every requirement its hashes, for example by regenerating the file "
        "with `uv pip compile --generate-hashes requirements.in -o requirements.txt`, or remove the hashes.",
    ),
    "requires_python_conflict": (
        ".python-version conflicts with requires-python",
        "The .python-version file asks for Python 3.9.18, but requires-python in pyproject.toml is '>=3.13', "
        "which excludes it. Change one of them so that they agree.",
    ),
    "requires_python_invalid": (
        "requires-python is not a valid version specifier",
        "pyproject.toml has requires-python = '>=3.13' (Expected ']' (at line 1, column 9)). Use a PEP 440 "
        'specifier such as ">=3.12".',
    ),
    "requires_python_unsatisfiable": (
        "No supported Python satisfies requires-python",
        "requires-python in pyproject.toml is '>=3.13', and none of the supported release lines (3.11, 3.12, "
        "3.13, 3.14) satisfies it. Widen requires-python, or pin a version in .python-version.",
    ),
    "runtime_txt_present": (
        "runtime.txt is not supported",
        "The app has a runtime.txt ('python-3.12.1'), an older way to choose the Python version that this "
        "buildpack does not read, so the version in it would be silently ignored. Put the version in a "
        ".python-version file instead (for example `echo 3.13 > .python-version`) and delete runtime.txt.",
    ),
    "unsupported_package_manager": (
        "Unsupported package manager file: Pipfile",
        "The app uses Pipenv, which this buildpack does not run: every dependency is installed with uv. "
        "Convert the project to uv (for example `uvx migrate-to-uv`), commit pyproject.toml and uv.lock, and "
        "delete Pipfile.",
    ),
    "uv_checksum_mismatch": (
        "uv '0.14.0' failed its checksum",
        "The downloaded 'uv-0.14.0-py3-none-manylinux_2_17_x86_64.whl' has sha256 "
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, but the index lists "
        "'0000000000000000000000000000000000000000000000000000000000000000'. The download was damaged or "
        "tampered with, so it is not used. Retry; if it persists, check the index.",
    ),
    "uv_download_failed": (
        "uv '0.14.0' could not be fetched from 'https://idx/simple'",
        "Expected ']' (at line 1, column 9). BP_UV_VERSION asks for a uv that is not vendored in the "
        "buildpack, so it is downloaded from BP_UV_INDEX_URL (a PyPI-style simple index). Check the version "
        "exists there and the index is reachable, or unset BP_UV_VERSION to use the vendored uv.",
    ),
    "uv_lock_malformed": (
        "uv.lock is not a valid lock file",
        "Reading uv.lock failed: Expected ']' (at line 1, column 9). A damaged lock (often a bad merge) cannot "
        "be installed reproducibly. Regenerate it with `uv lock` and commit the result.",
    ),
    "uv_missing": (
        "The buildpack has no uv for arm64",
        "The packaged buildpack vendors uv per architecture and none was found at '/platform/bindings/ca'. "
        "Package the buildpack with `make buildpacks` (role luban.ci.python_buildpack) for this architecture, "
        "or set BP_UV_VERSION to fetch uv from a package index.",
    ),
}

EXPECTED_WARNINGS = {
    "no_default_process": (
        "No default process",
        "The app declares 'worker', 'beat' but none is called `web` and there is more than one, so none is the "
        "default. Name the main one `web` in the Procfile, or choose one when running the image.",
    ),
    "no_processes": (
        "No process types found",
        "The app has no Procfile and no [project.scripts], so the image has no command to start. Add a "
        "Procfile with a `web:` line (for example `web: gunicorn app:app`), or run the image with an explicit "
        "command.",
    ),
    "python_version_default": (
        "No Python version requested: using 3.9.18",
        "Neither .python-version nor requires-python names a version, so the default 3.9.18 is used; it will "
        "change as new Python versions come out. Pin one with `echo 3.9.18 > .python-version`.",
    ),
    "python_version_eol_allowed": (
        "Python 3.9.18 has reached end of life: building anyway because BP_PYTHON_ALLOW_END_OF_LIFE is set",
        "Python 3.9 stopped receiving security fixes on 2025-10-31. This image ships a Python with known, "
        "unfixable vulnerabilities, and every build of it will say so. Upgrade the app to a supported version "
        "(3.11, 3.12, 3.13, 3.14), update .python-version, and remove BP_PYTHON_ALLOW_END_OF_LIFE from the "
        "build environment.",
    ),
    "unlocked_dependencies": (
        "No uv.lock: the build is not reproducible",
        "pyproject.toml has no uv.lock next to it, so the dependencies are resolved now and every build may "
        "install different versions. Run `uv lock` and commit uv.lock.",
    ),
    "unpinned_venv_kept": (
        "Kept the venv of the previous image: Pipfile is unchanged, so its unpinned dependencies were not "
        "updated",
        "Pipfile does not pin every dependency to one version (==), so resolving it again could install newer "
        "releases. The buildpack resolves the dependencies only when Pipfile changes (or the Python version, "
        "uv or the buildpack do); until then every build keeps the versions resolved when this venv was built. "
        "Pin them (uv pip compile, or a uv.lock), change Pipfile, or build once without the previous image "
        "(pack build --clear-cache) to pick up new releases.",
    ),
    "venv_committed": (
        "A .venv folder is part of the app",
        "The app contains .venv, a local virtual environment; it is not used in the image (the buildpack "
        "builds its own) and only adds size. Exclude it (.gitignore or project.toml [io.buildpacks] exclude).",
    ),
}


def _fields(entry) -> dict[str, object]:
    return {part[1]: SAMPLE[part[1]] for text in (entry.title, entry.text)
            for part in string.Formatter().parse(text) if part[1]}


@pytest.mark.parametrize("key", sorted(CATALOG))
def test_every_error_reads_word_for_word(key: str) -> None:
    error = BuildpackError(key, **_fields(CATALOG[key]))
    assert (error.title, error.text) == EXPECTED_ERRORS[key]
    assert set(EXPECTED_ERRORS) == set(CATALOG)


@pytest.mark.parametrize("key", sorted(WARNINGS))
def test_every_warning_reads_word_for_word(key: str) -> None:
    out = io.StringIO()
    Logger(out=out).warning(key, **_fields(WARNINGS[key]))
    title, text = EXPECTED_WARNINGS[key]
    assert out.getvalue() == f"\n! WARNING: {title}\n!\n" + textwrap.indent(textwrap.fill(text, 96), "! ") + "\n\n"
    assert set(EXPECTED_WARNINGS) == set(WARNINGS)


def test_catalog_entries_say_what_why_and_what_to_do() -> None:
    for key, message in {**CATALOG, **WARNINGS}.items():
        assert message.title and not message.title.endswith("."), key
        assert message.text.rstrip().endswith((".", ")")), key
        assert len(message.text.split(". ")) >= 2, key


def test_every_catalog_entry_is_tested_somewhere() -> None:
    here = __import__("pathlib").Path(__file__).parent
    text = "".join(p.read_text(encoding="utf-8") for p in here.glob("test_*.py"))
    untested = [key for key in CATALOG if f'"{key}"' not in text and CATALOG[key].title.split("{")[0] not in text]
    assert untested == []


def test_user_docs_list_every_catalog_entry() -> None:
    docs = (__import__("pathlib").Path(__file__).resolve().parents[3] / "docs" / "buildpack.md").read_text(encoding="utf-8")
    missing = [key for key, message in {**CATALOG, **WARNINGS}.items() if f"| `{key}` | {message.title} |" not in docs]
    assert missing == []
