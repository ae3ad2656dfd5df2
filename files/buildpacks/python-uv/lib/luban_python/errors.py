"""Every message this buildpack can show a user, in one catalog.

Each entry says what happened, why it matters and what to do.  Code raises
``BuildpackError("key", name=value, ...)``; the text lives only here so tests can assert it word
for word and so wording stays consistent.  Warnings live here too.  The catalogs have the shape
of every luban-ci component's (``catalog.Entry``, vendored from plugins/module_utils/catalog.py)
and are rendered by its one function, which quotes every value taken from the app, its
environment or its bindings the same way everywhere.
"""

from __future__ import annotations

from ._vendor.catalog import Entry, Fields, render, with_fields

# Values the buildpack writes itself (file names it knows, versions it parsed, lists it made) are
# plain; uv's or the OS's words are long; the rest -- what the app, its build environment or its
# bindings hold -- is quoted.
FIELDS = Fields(
    plain=frozenset({"found", "keep", "file", "tool", "default", "reason", "version", "minor", "eol", "supported",
                     "source", "var", "platform", "names", "line", "code", "purpose", "arch", "actual"}),
    long=frozenset({"detail"}),
)

CATALOG: dict[str, Entry] = with_fields(FIELDS, {
    "no_python": Entry(
        title="No Python found to run the buildpack",
        text="The luban/python-uv buildpack runs its own logic with a Python 3.11 or newer from the build "
        "image (python3.13, python3.12, python3.11 or python3 on PATH), and none was found. The "
        "application's Python does not count: uv installs that one later. Use a build image that "
        "provides Python 3.11 or newer, such as the luban-ci stack's build image.",
    ),
    "no_package_manager": Entry(
        title="No Python package manager file found",
        text="The app has no pyproject.toml (with a [project] table) and no requirements.txt, so the "
        "buildpack cannot tell which dependencies to install. Add a pyproject.toml and run "
        "`uv lock` to commit a uv.lock (recommended), or add a requirements.txt.",
    ),
    "multiple_package_managers": Entry(
        title="More than one package manager file found",
        text="The app has {found}. Each describes the dependencies differently and the buildpack will "
        "not guess which one is right. Keep {keep} and delete the others (for a uv project: "
        "`uv add -r requirements.txt`, then remove requirements.txt).",
    ),
    "unsupported_package_manager": Entry(
        title="Unsupported package manager file: {file}",
        text="The app uses {tool}, which this buildpack does not run: every dependency is installed "
        "with uv. Convert the project to uv (for example `uvx migrate-to-uv`), commit pyproject.toml "
        "and uv.lock, and delete {file}.",
    ),
    "lock_without_pyproject": Entry(
        title="uv.lock found without pyproject.toml",
        text="A uv.lock only records how the dependencies of a pyproject.toml were resolved, so it is "
        "useless on its own. Commit the pyproject.toml that goes with it, or delete uv.lock.",
    ),
    "runtime_txt_present": Entry(
        title="runtime.txt is not supported",
        text="The app has a runtime.txt ({content}), an older way to choose the Python version that this "
        "buildpack does not read, so the version in it would be silently ignored. Put the version in "
        "a .python-version file instead (for example `echo 3.13 > .python-version`) and delete "
        "runtime.txt.",
    ),
    "pyproject_malformed": Entry(
        title="pyproject.toml is not valid TOML",
        text="Reading pyproject.toml failed: {detail}. The buildpack needs it to find the Python version "
        "and the dependencies. Fix the file (for example check it with `uv lock`) and commit it.",
    ),
    "uv_lock_malformed": Entry(
        title="uv.lock is not a valid lock file",
        text="Reading uv.lock failed: {detail}. A damaged lock (often a bad merge) cannot be installed "
        "reproducibly. Regenerate it with `uv lock` and commit the result.",
    ),
    "lock_stale": Entry(
        title="uv.lock is out of date with pyproject.toml",
        text="The dependencies in pyproject.toml changed after uv.lock was written, so installing the lock "
        "would not give the app what pyproject.toml asks for. Run `uv lock` and commit the updated "
        "uv.lock.",
    ),
    "requirements_partially_hashed": Entry(
        title="requirements.txt has hashes for some requirements only",
        text="These requirements carry no --hash while the others do: {unhashed}. uv checks a hash only "
        "where one is given, so they would be installed unchecked, and the file would look safer "
        "than it is (pip refuses such a file). Give every requirement its hashes, for example by "
        "regenerating the file with `uv pip compile --generate-hashes requirements.in -o "
        "requirements.txt`, or remove the hashes.",
    ),
    "python_version_file_empty": Entry(
        title=".python-version holds no version",
        text="The file has only blank lines or comments, so it does not say which Python to use. Write "
        "one version such as 3.13 into .python-version, or delete the file to use the default "
        "({default}).",
    ),
    "python_version_file_multiple": Entry(
        title=".python-version holds more than one version",
        text="The file lists {versions}. uv can use several versions for local development, but an image "
        "runs exactly one. Keep only the version the app runs on (for example {first}).",
    ),
    "python_version_file_not_ascii": Entry(
        title=".python-version contains non-ASCII characters",
        text="A version is plain ASCII such as 3.13; the file's content ({content}) is not, which usually "
        "means a stray character or an encoding problem. Rewrite it, for example with "
        "`echo 3.13 > .python-version`.",
    ),
    "python_version_file_invalid": Entry(
        title=".python-version holds an unsupported version: {text}",
        text="The buildpack accepts a CPython release as X.Y or X.Y.Z (for example 3.13 or 3.13.1); "
        "{text} {reason}. Write such a version into .python-version.",
    ),
    "python_version_eol": Entry(
        title="Python {version} has reached end of life",
        text="Python {minor} stopped receiving security fixes on {eol}, so images built on it would ship "
        "known vulnerabilities. Upgrade the app to a supported version ({supported}) and update "
        "{source}. To build it anyway while you upgrade, set {var}=true in the build environment "
        "(project.toml [[io.buildpacks.build.env]], or pack build --env); every build then warns.",
    ),
    "python_version_unknown_minor": Entry(
        title="Python {version} is not a known CPython release line",
        text="The buildpack knows the release lines {supported}, and {minor} is not one of them. Choose one "
        "of those in {source}.",
    ),
    "requires_python_conflict": Entry(
        title=".python-version conflicts with requires-python",
        text="The .python-version file asks for Python {version}, but requires-python in pyproject.toml is "
        "{spec}, which excludes it. Change one of them so that they agree.",
    ),
    "requires_python_unsatisfiable": Entry(
        title="No supported Python satisfies requires-python",
        text="requires-python in pyproject.toml is {spec}, and none of the supported release lines "
        "({supported}) satisfies it. Widen requires-python, or pin a version in .python-version.",
    ),
    "requires_python_invalid": Entry(
        title="requires-python is not a valid version specifier",
        text="pyproject.toml has requires-python = {spec} ({detail}). Use a PEP 440 specifier such as "
        "\">=3.12\".",
    ),
    "python_version_unavailable": Entry(
        title="Python {version} is not available for download",
        text="uv found no CPython {version} for {platform} in its downloads list. If the build uses a "
        "mirror (a uv-python-mirror binding, or UV_PYTHON_DOWNLOADS_JSON_URL and "
        "UV_PYTHON_INSTALL_MIRROR), that mirror does not carry it. Choose a version the mirror "
        "provides, or add that version to the mirror.",
    ),
    "python_install_failed": Entry(
        title="Installing Python {version} with uv failed",
        text="uv said: {detail}. Check that the Python downloads source is reachable from the build (for "
        "air-gapped builds bind a CPython mirror of type uv-python-mirror, or set "
        "UV_PYTHON_DOWNLOADS_JSON_URL and UV_PYTHON_INSTALL_MIRROR), then retry.",
    ),
    "forbidden_env_var": Entry(
        title="The build environment sets {names}, which this buildpack controls",
        text="The buildpack sets {names} itself to place the interpreter, virtual environment and cache "
        "in image layers; a different value would build an image that cannot run. Remove {names} "
        "from the build environment (project.toml [[io.buildpacks.build.env]], pack --env, or the "
        "platform's env files).",
    ),
    "procfile_malformed": Entry(
        title="Procfile line {line} is not valid",
        text="Each Procfile line must read `<type>: <command>` where the type uses only letters, digits, "
        "'.', '_' and '-', and the command is not empty; line {line} reads {text}. Fix that line.",
    ),
    "dependency_not_found": Entry(
        title="A dependency could not be found in the package index",
        text="uv could not resolve the dependencies: {detail}. Check the name and version of the "
        "dependency, and that the index it comes from is configured (UV_INDEX_URL, UV_INDEX, or "
        "[[tool.uv.index]] in pyproject.toml).",
    ),
    "index_unreachable": Entry(
        title="The package index could not be reached",
        text="uv failed to download from the package index: {detail}. Check that the build can reach the "
        "index and that its TLS certificate is trusted (behind an intercepting proxy, add the proxy's "
        "CA as a ca-certificates binding), then retry.",
    ),
    "dependency_install_failed": Entry(
        title="Installing the dependencies with uv failed",
        text="uv exited with status {code}: {detail}. The output above shows which package failed; fix "
        "the dependency or its build requirements, then retry.",
    ),
    "binding_empty": Entry(
        title="Binding {name} of type {type} has no content",
        text="The binding at {path} has a type file but nothing else, so there is nothing to {purpose}. "
        "Add the file(s) to the binding or remove it.",
    ),
    "python_mirror_binding_incomplete": Entry(
        title="Binding {name} is not a uv Python mirror",
        text="The binding at {path} has type uv-python-mirror but no download-metadata.json, so uv would "
        "not know which CPython archives the mirror holds. Bind the mirror folder itself (the one "
        "`make python-mirror` writes: download-metadata.json, the archives and the type file) or "
        "remove the binding to download CPython as usual.",
    ),
    "python_mirror_bindings_multiple": Entry(
        title="More than one uv Python mirror binding",
        text="The bindings {bindings} all have type uv-python-mirror, and uv installs CPython from one mirror "
        "only. Keep one of them.",
    ),
    "uv_missing": Entry(
        title="The buildpack has no uv for {arch}",
        text="The packaged buildpack vendors uv per architecture and none was found at {path}. Package the "
        "buildpack with `make buildpacks` (role luban.ci.python_buildpack) for this architecture, or "
        "set BP_UV_VERSION to fetch uv from a package index.",
    ),
    "uv_download_failed": Entry(
        title="uv {uv_version} could not be fetched from {index}",
        text="{detail}. BP_UV_VERSION asks for a uv that is not vendored in the buildpack, so it is "
        "downloaded from BP_UV_INDEX_URL (a PyPI-style simple index). Check the version exists there "
        "and the index is reachable, or unset BP_UV_VERSION to use the vendored uv.",
    ),
    "uv_checksum_mismatch": Entry(
        title="uv {uv_version} failed its checksum",
        text="The downloaded {wheel} has sha256 {actual}, but the index lists {expected}. The download was "
        "damaged or tampered with, so it is not used. Retry; if it persists, check the index.",
    ),
    "lock_failed": Entry(
        title="{path} cannot be made read-only for the run user",
        text="Removing group and other write permission from {path} failed ({detail}). The image's run "
        "user shares the build user's group, so a writable file or directory there would let the "
        "running app change or add code. Check that the app's files belong to the build user "
        "(CNB_USER_ID): pack and the luban-ci pipeline hand them over that way.",
    ),
})

WARNINGS: dict[str, Entry] = with_fields(FIELDS, {
    "python_version_eol_allowed": Entry(
        title="Python {version} has reached end of life: building anyway because {var} is set",
        text="Python {minor} stopped receiving security fixes on {eol}. This image ships a Python with known, "
        "unfixable vulnerabilities, and every build of it will say so. Upgrade the app to a supported "
        "version ({supported}), update {source}, and remove {var} from the build environment.",
    ),
    "unlocked_dependencies": Entry(
        title="No uv.lock: the build is not reproducible",
        text="pyproject.toml has no uv.lock next to it, so the dependencies are resolved now and every "
        "build may install different versions. Run `uv lock` and commit uv.lock.",
    ),
    "unpinned_venv_kept": Entry(
        title="Kept the venv of the previous image: {file} is unchanged, so its unpinned dependencies were not updated",
        text="{file} does not pin every dependency to one version (==), so resolving it again could install newer "
        "releases. The buildpack resolves the dependencies only when {file} changes (or the Python version, "
        "uv or the buildpack do); until then every build keeps the versions resolved when this venv was "
        "built. Pin them (uv pip compile, or a uv.lock), change {file}, or build once without the previous "
        "image (pack build --clear-cache) to pick up new releases.",
    ),
    "no_processes": Entry(
        title="No process types found",
        text="The app has no Procfile and no [project.scripts], so the image has no command to start. Add "
        "a Procfile with a `web:` line (for example `web: gunicorn app:app`), or run the image with "
        "an explicit command.",
    ),
    "no_default_process": Entry(
        title="No default process",
        text="The app declares {types} but none is called `web` and there is more than one, so none is "
        "the default. Name the main one `web` in the Procfile, or choose one when running the image.",
    ),
    "python_version_default": Entry(
        title="No Python version requested: using {version}",
        text="Neither .python-version nor requires-python names a version, so the default {version} is "
        "used; it will change as new Python versions come out. Pin one with "
        "`echo {version} > .python-version`.",
    ),
    "venv_committed": Entry(
        title="A .venv folder is part of the app",
        text="The app contains .venv, a local virtual environment; it is not used in the image (the "
        "buildpack builds its own) and only adds size. Exclude it (.gitignore or project.toml "
        "[io.buildpacks] exclude).",
    ),
})


class BuildpackError(Exception):
    """A user-facing failure; its text comes from CATALOG."""

    def __init__(self, key: str, **params: object) -> None:
        message = render(CATALOG[key], **params)
        self.key = key
        self.params = params
        self.title, self.text = message.title, message.text
        super().__init__(f"{self.title}: {self.text}")
