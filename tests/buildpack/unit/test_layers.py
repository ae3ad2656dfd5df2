from __future__ import annotations

import json
import shutil
import struct
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest
from bp_helpers import BUILDPACK_SRC
from contract_support import between_builds  # one model of the lifecycle for both tiers
from luban_python import build, layer_python, layer_venv, uv
from luban_python.layers import Layer, change_reason, reuse_or_reset
from luban_python.log import Logger
from luban_python.package_manager import detect_project
from luban_python.errors import BuildpackError
from luban_python.python_version import PythonRequest

LABELS = {"python": "Python version", "inputs": "dependency files"}


def test_layer_toml_declares_types_and_metadata(tmp_path: Path) -> None:
    layer = Layer(tmp_path, "venv", build=True, launch=True, cache=True)
    layer.write({"python": "3.13.0", "inputs": "abc"})
    assert tomllib.loads(layer.toml.read_text()) == {
        "types": {"build": True, "launch": True, "cache": True},
        "metadata": {"python": "3.13.0", "inputs": "abc"},
    }


def test_env_files_use_the_spec_suffixes(tmp_path: Path) -> None:
    layer = Layer(tmp_path, "venv", build=True, launch=True, cache=True)
    layer.env("VIRTUAL_ENV", "/layers/venv")
    layer.env("PYTHONUNBUFFERED", "1", "default", scope="env.launch")
    assert (tmp_path / "venv/env/VIRTUAL_ENV.override").read_text() == "/layers/venv"
    assert (tmp_path / "venv/env.launch/PYTHONUNBUFFERED.default").read_text() == "1"


def test_change_reason_names_the_first_difference() -> None:
    assert change_reason(None, {"python": "3.13.0"}, LABELS) == "no previous layer"
    assert change_reason({"python": "3.12.1"}, {"python": "3.13.0"}, LABELS) == "Python version changed (3.12.1 -> 3.13.0)"
    assert change_reason({"python": "3.13.0"}, {"python": "3.13.0"}, LABELS) is None


def test_matching_layer_is_reused_and_a_changed_one_reset(tmp_path: Path, capsys) -> None:
    layer = Layer(tmp_path, "venv", build=True, launch=True, cache=True)
    layer.path.mkdir()
    (layer.path / "marker").write_text("kept")
    layer.write({"python": "3.13.0", "inputs": "a"})
    log = Logger()
    assert reuse_or_reset(layer, {"python": "3.13.0", "inputs": "a"}, LABELS, log) is True
    assert (layer.path / "marker").exists()
    assert reuse_or_reset(layer, {"python": "3.13.0", "inputs": "b"}, LABELS, log) is False
    assert not (layer.path / "marker").exists()
    out = capsys.readouterr().out
    assert "Reusing the venv layer (same Python version, dependency files)" in out
    assert "Building the venv layer: dependency files changed (a -> b)" in out


# --- launch-only python and venv layers: what a rebuild keeps, what it installs -----------------

APP = {"requirements.txt": "idna==3.10\n", ".python-version": "3.12.1\n"}


class FakeUv:
    """Stands in for the uv binary: records each call and lays out what uv would."""

    def __init__(self, debug_info: bool = False) -> None:
        self.calls: list[str] = []
        self.argv: dict[str, list[str]] = {}
        self.debug_info = debug_info  # install a libpython that still has DWARF sections

    def __call__(self, args: list[str], env, cwd: Path, echo: bool) -> uv.Result:
        verb = "compile" if args[1] == "-c" else " ".join(args[1:3])
        self.calls.append(verb)
        self.argv[verb] = args
        if verb == "python install":
            install_dir = Path(args[args.index("--install-dir") + 1])
            (install_dir / "cpython-3.12.1-linux-x86_64-gnu" / "bin").mkdir(parents=True)
            (install_dir / "cpython-3.12.1-linux-x86_64-gnu" / "bin" / "python3.12").write_text("")
            if self.debug_info:
                (install_dir / "cpython-3.12.1-linux-x86_64-gnu" / "lib").mkdir()
                (install_dir / "cpython-3.12.1-linux-x86_64-gnu" / "lib" / "libpython3.12.so.1.0").write_bytes(_elf([".text", ".debug_info"]))
        elif verb.startswith("venv "):
            Path(args[2]).mkdir(parents=True)
        elif verb == "pip install":
            venv = Path(args[args.index("--python") + 1]).parent.parent
            meta = venv / "lib/python3.12/site-packages/idna-3.10.dist-info/METADATA"
            meta.parent.mkdir(parents=True)
            meta.write_text("Name: idna\nVersion: 3.10\n")
        return uv.Result(0, "")


def after_export(layers: Path) -> None:
    """What the lifecycle restores for the next build (the contract tier's model of the spec)."""
    image = layers.parent / "previous-image"
    image.mkdir(exist_ok=True)
    between_builds(layers, image)


def runtime(ctx, fake: FakeUv, py_env: dict[str, str] | None = None) -> None:
    ctx.runner = fake
    project = detect_project(ctx.app_dir)
    build.install_runtime(ctx, project, Path("/uv"), "0.13.9", "3.12.1", py_env or {}, {})


def test_first_build_installs_python_and_venv_as_launch_only_layers(make_context) -> None:
    ctx = make_context(APP)
    fake = FakeUv()
    runtime(ctx, fake)
    assert fake.calls == ["python install", f"venv {ctx.layers_dir}/venv", "pip install", "compile", "cache prune"]
    for name in ("python", "venv"):
        assert tomllib.loads((ctx.layers_dir / f"{name}.toml").read_text())["types"] == {"build": False, "launch": True, "cache": False}
        assert (ctx.layers_dir / f"{name}.sbom.cdx.json").is_file()
    assert tomllib.loads((ctx.layers_dir / "uv-cache.toml").read_text())["types"] == {"build": False, "launch": False, "cache": True}
    assert (ctx.layers_dir / "venv" / "env" / "VIRTUAL_ENV.override").read_text() == str(ctx.layers_dir / "venv")


def test_unchanged_rebuild_keeps_both_layers_without_files_or_uv(make_context, capsys) -> None:
    ctx = make_context(APP)
    runtime(ctx, FakeUv())
    venv_meta = (ctx.layers_dir / "venv.toml").read_text()
    after_export(ctx.layers_dir)
    capsys.readouterr()
    fake = FakeUv()
    runtime(ctx, fake)
    assert fake.calls == []
    assert not (ctx.layers_dir / "python").exists() and not (ctx.layers_dir / "venv").exists()
    assert (ctx.layers_dir / "venv.toml").read_text() == venv_meta
    assert (ctx.layers_dir / "venv.sbom.cdx.json").is_file()
    out = capsys.readouterr().out
    assert ("Keeping the python layer of the previous image (same Python version, end of support, CPython archive, "
            "uv version, architecture, distribution, buildpack version)") in out
    assert ("Keeping the venv layer of the previous image (same Python version, uv version, architecture, "
            "distribution, package manager, dependency files, buildpack version)") in out


def test_dependency_change_installs_python_for_the_venv_and_keeps_its_layer(make_context, capsys) -> None:
    ctx = make_context(APP)
    runtime(ctx, FakeUv())
    python_toml = (ctx.layers_dir / "python.toml").read_text()
    after_export(ctx.layers_dir)
    (ctx.app_dir / "requirements.txt").write_text("idna==3.10\nsix\n")
    capsys.readouterr()
    fake = FakeUv()
    runtime(ctx, fake)
    # uv builds the venv on CPython, so CPython is installed first and the venv compiled on it ...
    assert fake.calls[:3] == ["python install", f"venv {ctx.layers_dir}/venv", "pip install"]
    assert "compile" in fake.calls
    out = capsys.readouterr().out
    assert ("Installing CPython 3.12.1 to build the venv on; the python layer of the previous image is kept "
            "(same Python version, end of support, CPython archive, uv version, architecture, distribution, "
            "buildpack version)") in out
    assert "Building the venv layer: dependency files changed" in out
    # ... then its files go: the exporter reuses the previous image's layer, hashing and pushing nothing.
    assert not (ctx.layers_dir / "python").exists()
    assert (ctx.layers_dir / "python.toml").read_text() == python_toml
    assert (ctx.layers_dir / "venv" / "env" / "VIRTUAL_ENV.override").is_file()
    after_export(ctx.layers_dir)  # the model of the exporter accepts the kept layer


def test_cpython_installed_only_to_build_the_venv_on_is_not_stripped(make_context, tmp_path: Path) -> None:
    """Its files are removed before the export, so stripping them would be work for nothing; the
    python layer itself, built from an unstripped archive, is stripped."""
    ctx = make_context(APP)
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "strip").write_text("#!/bin/sh\n")
    (tools / "strip").chmod(0o755)
    fake = FakeUv(debug_info=True)
    runtime(ctx, fake, {"PATH": str(tools)})
    assert "--strip-debug " + str(ctx.layers_dir / "python/cpython-3.12.1-linux-x86_64-gnu/lib/libpython3.12.so.1.0") in fake.calls
    after_export(ctx.layers_dir)
    (ctx.app_dir / "requirements.txt").write_text("idna==3.10\nsix\n")
    fake = FakeUv(debug_info=True)
    runtime(ctx, fake, {"PATH": str(tools)})
    assert fake.calls[0] == "python install" and not [c for c in fake.calls if c.startswith("--strip-debug")]


def uv_listing(path: Path, digests: dict[str, str]) -> dict[str, str]:
    """A local downloads list in uv's shape (download-metadata.json, CPython for linux-x86_64-gnu,
    version -> sha256) at ``path``; returns the env that points uv at it, as a mirror binding does."""
    entries = {}
    for version, digest in digests.items():
        major, minor, patch = (int(part) for part in version.split("."))
        entries[f"cpython-{version}-linux-x86_64-gnu"] = {
            "name": "cpython", "arch": {"family": "x86_64", "variant": None}, "os": "linux", "libc": "gnu",
            "major": major, "minor": minor, "patch": patch, "prerelease": "", "variant": None, "sha256": digest,
            "url": f"file:///mirror/cpython-{version}.tar.gz"}
    path.write_text(json.dumps(entries))
    return {"UV_PYTHON_DOWNLOADS_JSON_URL": path.as_uri()}


def preinstalled_buildpack(tmp_path: Path, record: dict) -> Path:
    """A copy of the buildpack with CPython 3.12.1 preinstalled (luban.ci.python_preinstall's layout)."""
    buildpack = tmp_path / "buildpack"
    shutil.copytree(BUILDPACK_SRC, buildpack)
    copy = buildpack / "python" / "cpython-3.12.1-linux-x86_64-gnu"
    (copy / "bin").mkdir(parents=True)
    (copy / "bin" / "python3.12").write_text("preinstalled")
    (buildpack / "python" / "cpython-3.12.1-linux-x86_64-gnu.json").write_text(json.dumps(record))
    return buildpack


MIRRORED = {"python": "3.12.1", "archive": "sha256:" + "a" * 64, "uv": "0.13.9", "arch": "amd64"}


def test_a_dependency_change_links_the_preinstalled_cpython_and_keeps_the_layer(make_context, tmp_path: Path, capsys) -> None:
    mirror = uv_listing(tmp_path / "download-metadata.json", {"3.12.1": "a" * 64})
    buildpack = preinstalled_buildpack(tmp_path, MIRRORED)
    ctx = make_context(APP, buildpack_dir=buildpack)
    first = FakeUv()
    runtime(ctx, first, mirror)
    assert first.calls[0] == "python install"  # the exported layer is always uv's own install
    python_toml = (ctx.layers_dir / "python.toml").read_text()
    after_export(ctx.layers_dir)
    (ctx.app_dir / "requirements.txt").write_text("idna==3.10\nsix\n")
    capsys.readouterr()
    fake = FakeUv()
    linked = []
    original = fake.__call__

    def watch(args, env, cwd, echo):
        if args[1] == "venv":  # while the venv is built, the layer's path leads to the copy
            link = ctx.layers_dir / "python" / "cpython-3.12.1-linux-x86_64-gnu"
            linked.append((link.is_symlink(), link.resolve(), args[args.index("--python") + 1]))
        return original(args, env, cwd, echo)

    ctx.runner = watch
    project = detect_project(ctx.app_dir)
    build.install_runtime(ctx, project, Path("/uv"), "0.13.9", "3.12.1", mirror, {})
    assert "python install" not in fake.calls and fake.calls[:2] == [f"venv {ctx.layers_dir}/venv", "pip install"]
    assert linked == [(True, buildpack / "python" / "cpython-3.12.1-linux-x86_64-gnu",
                       str(ctx.layers_dir / "python" / "cpython-3.12.1-linux-x86_64-gnu" / "bin" / "python3.12"))]
    assert ("Linking the CPython 3.12.1 preinstalled in the buildpack to build the venv on (same archive, uv version, "
            "architecture); the python layer of the previous image is kept (same Python version, end of support, "
            "CPython archive, uv version, architecture, distribution, buildpack version)") in capsys.readouterr().out
    # The link goes before the export, the copy stays: the exporter reuses the previous image's layer.
    assert not (ctx.layers_dir / "python").exists()
    assert (buildpack / "python" / "cpython-3.12.1-linux-x86_64-gnu" / "bin" / "python3.12").read_text() == "preinstalled"
    assert (ctx.layers_dir / "python.toml").read_text() == python_toml
    after_export(ctx.layers_dir)


@pytest.mark.parametrize("change", [{"archive": "sha256:" + "b" * 64}, {"uv": "0.14.0"}, {"arch": "arm64"},
                                    {"python": "3.12.2"}, None])
def test_a_copy_that_is_not_the_layers_cpython_is_not_used(make_context, tmp_path: Path, change: dict | None) -> None:
    """Another archive, uv, architecture or version in the record, or no interpreter: installed as before."""
    mirror = uv_listing(tmp_path / "download-metadata.json", {"3.12.1": "a" * 64})
    buildpack = preinstalled_buildpack(tmp_path, {**MIRRORED, **(change or {})})
    if change is None:
        (buildpack / "python" / "cpython-3.12.1-linux-x86_64-gnu" / "bin" / "python3.12").unlink()
    ctx = make_context(APP, buildpack_dir=buildpack)
    runtime(ctx, FakeUv(), mirror)
    after_export(ctx.layers_dir)
    (ctx.app_dir / "requirements.txt").write_text("idna==3.10\nsix\n")
    fake = FakeUv()
    runtime(ctx, fake, mirror)
    assert fake.calls[0] == "python install"


def test_a_mirror_archive_with_other_bytes_reinstalls_python(make_context, tmp_path: Path, capsys) -> None:
    """The python layer's key holds the archive's sha256 from a local downloads list (the offline
    mirror): the same version packed again differently is a different CPython."""
    listing = tmp_path / "download-metadata.json"
    mirror = {"UV_PYTHON_DOWNLOADS_JSON_URL": listing.as_uri()}

    def packed(digest: str) -> None:
        uv_listing(listing, {"3.12.1": digest, "3.13.0": "f" * 64})

    ctx = make_context(APP)
    packed("a" * 64)
    runtime(ctx, FakeUv(), mirror)
    assert tomllib.loads((ctx.layers_dir / "python.toml").read_text())["metadata"]["archive"] == "sha256:" + "a" * 64
    after_export(ctx.layers_dir)
    capsys.readouterr()
    runtime(ctx, FakeUv(), mirror)
    assert "Keeping the python layer of the previous image" in capsys.readouterr().out
    after_export(ctx.layers_dir)
    packed("b" * 64)
    runtime(ctx, FakeUv(), mirror)
    out = capsys.readouterr().out
    assert ("Installing CPython 3.12.1 into the python layer: CPython archive changed (sha256:%s -> sha256:%s)"
            % ("a" * 64, "b" * 64)) in out
    assert "Building the venv layer: CPython was reinstalled" in out


def test_the_python_key_says_when_the_lines_support_ends(make_context) -> None:
    """``expires`` (the line's end of security support) is in the layer's metadata, which the
    lifecycle copies into the image's label for the platform to read; a line the buildpack does not
    know has none."""
    ctx = make_context(APP)
    assert layer_python.key(ctx, "0.13.9", "3.12.1", "uv's built-in downloads") == {
        "python": "3.12.1", "expires": "2028-10-31", "archive": "uv's built-in downloads", "uv": "0.13.9",
        "arch": ctx.target.arch, "distro": ctx.distro, "buildpack": ctx.buildpack_version}
    assert "expires" not in layer_python.key(ctx, "0.13.9", "3.15.0", "uv's built-in downloads")
    runtime(ctx, FakeUv())
    assert tomllib.loads((ctx.layers_dir / "python.toml").read_text())["metadata"]["expires"] == "2028-10-31"


def test_a_python_layer_without_an_end_of_support_is_installed_again(make_context, capsys) -> None:
    """An image built before the layer recorded ``expires``: its python layer is not kept (once)."""
    ctx = make_context(APP)
    runtime(ctx, FakeUv())
    doc = tomllib.loads((ctx.layers_dir / "python.toml").read_text())
    del doc["metadata"]["expires"]
    layer_python.layer(ctx).write(doc["metadata"])
    after_export(ctx.layers_dir)
    capsys.readouterr()
    runtime(ctx, FakeUv())
    out = capsys.readouterr().out
    assert "Installing CPython 3.12.1 into the python layer: end of support changed (unset -> 2028-10-31)" in out
    assert "Building the venv layer: CPython was reinstalled" in out


def test_the_archive_of_the_python_key() -> None:
    ctx = SimpleNamespace(target=SimpleNamespace(arch="amd64", uv_arch="x86_64"))
    assert layer_python.archive(ctx, "3.12.1", {}) == "uv's built-in downloads"
    remote = "https://mirror.example/download-metadata.json"
    assert layer_python.archive(ctx, "3.12.1", {"UV_PYTHON_DOWNLOADS_JSON_URL": remote}) == remote
    missing = "file:///nonexistent/download-metadata.json"
    assert layer_python.archive(ctx, "3.12.1", {"UV_PYTHON_DOWNLOADS_JSON_URL": missing}) == missing


def test_a_local_downloads_list_is_read_for_the_version_without_asking_uv(make_context, tmp_path: Path) -> None:
    """A line takes the list's newest patch, as ``uv python list`` answers; no uv process runs."""
    ctx = make_context(APP)
    fake = FakeUv()
    ctx.runner = fake
    digests = {"3.12.1": "a" * 64, "3.12.10": "b" * 64, "3.12.9": "c" * 64, "3.13.0": "d" * 64}
    mirror = uv_listing(tmp_path / "download-metadata.json", digests)
    assert layer_python.resolve(ctx, Path("/uv"), PythonRequest(3, 12, None, "test"), mirror) == "3.12.10"
    assert layer_python.resolve(ctx, Path("/uv"), PythonRequest(3, 13, None, "test"), mirror) == "3.13.0"
    assert layer_python.archive(ctx, "3.12.9", mirror) == "sha256:" + "c" * 64
    with pytest.raises(BuildpackError) as caught:
        layer_python.resolve(ctx, Path("/uv"), PythonRequest(3, 11, None, "test"), mirror)
    assert caught.value.key == "python_version_unavailable"
    assert fake.calls == []


def test_a_remote_or_unreadable_downloads_list_is_left_to_uv(make_context, tmp_path: Path) -> None:
    ctx = make_context(APP)
    asked = []

    def runner(args, env, cwd, echo):
        asked.append(args[1:5])
        return uv.Result(0, '[{"version": "3.12.7"}, {"version": "3.12.6"}]\n')

    ctx.runner = runner
    for source in ("https://mirror.example/download-metadata.json", (tmp_path / "absent.json").as_uri()):
        env = {"UV_PYTHON_DOWNLOADS_JSON_URL": source}
        assert layer_python.resolve(ctx, Path("/uv"), PythonRequest(3, 12, None, "test"), env) == "3.12.7"
    assert asked == [["python", "list", "3.12", "--only-downloads"]] * 2


def test_a_missing_sbom_or_a_changed_buildpack_rebuilds(make_context, tmp_path: Path, capsys) -> None:
    ctx = make_context(APP)
    runtime(ctx, FakeUv())
    after_export(ctx.layers_dir)
    (ctx.layers_dir / "venv.sbom.cdx.json").unlink()
    capsys.readouterr()
    runtime(ctx, FakeUv())
    assert "Building the venv layer: the previous image has no SBOM for it" in capsys.readouterr().out

    # The same buildpack version with different code is a different buildpack.
    after_export(ctx.layers_dir)
    changed = tmp_path / "bp"
    shutil.copytree(ctx.buildpack_dir, changed)
    with (changed / "lib" / "luban_python" / "layers.py").open("a") as handle:
        handle.write("# changed\n")
    ctx2 = make_context({}, buildpack_dir=changed)
    assert ctx2.buildpack_version.split("+")[0] == ctx.buildpack_version.split("+")[0]
    assert ctx2.buildpack_version != ctx.buildpack_version
    runtime(ctx2, FakeUv())
    assert (f"Building the venv layer: buildpack version changed ({ctx.buildpack_version} -> {ctx2.buildpack_version})"
            in capsys.readouterr().out)


def test_without_the_python_sbom_cpython_is_reinstalled_and_the_venv_rebuilt_on_it(make_context, capsys) -> None:
    ctx = make_context(APP)
    runtime(ctx, FakeUv())
    after_export(ctx.layers_dir)
    (ctx.layers_dir / "python.sbom.cdx.json").unlink()
    capsys.readouterr()
    fake = FakeUv()
    runtime(ctx, fake)
    out = capsys.readouterr().out
    assert "Installing CPython 3.12.1 into the python layer: the previous image has no SBOM for it" in out
    assert "Building the venv layer: CPython was reinstalled" in out
    assert fake.calls[:3] == ["python install", f"venv {ctx.layers_dir}/venv", "pip install"]


def test_layers_of_an_older_buildpack_restored_with_files_are_rebuilt(make_context, capsys) -> None:
    """An image built before the layers were launch-only: cache layers restored with their files
    and metadata without the buildpack key."""
    ctx = make_context(APP)
    runtime(ctx, FakeUv())
    for name in ("python", "venv"):
        doc = tomllib.loads((ctx.layers_dir / f"{name}.toml").read_text())
        old = {k: v for k, v in doc["metadata"].items() if k != "buildpack"}
        (ctx.layers_dir / f"{name}.toml").write_text("[metadata]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in old.items()))
    (ctx.layers_dir / "venv" / "stale").write_text("from the old cache")
    capsys.readouterr()
    runtime(ctx, FakeUv())
    out = capsys.readouterr().out
    assert "Installing CPython 3.12.1 into the python layer: buildpack version changed (unset -> " in out
    assert "Building the venv layer: buildpack version changed (unset -> " in out
    assert not (ctx.layers_dir / "venv" / "stale").exists()


def test_a_layer_with_files_present_is_never_kept(make_context, capsys) -> None:
    ctx = make_context(APP)
    runtime(ctx, FakeUv())
    after_export(ctx.layers_dir)
    (ctx.layers_dir / "venv").mkdir()
    (ctx.layers_dir / "venv" / "unexpected").write_text("x")
    capsys.readouterr()
    runtime(ctx, FakeUv())
    assert "Building the venv layer: its files were restored from a cache" in capsys.readouterr().out
    assert not (ctx.layers_dir / "venv" / "unexpected").exists()


# --- unpinned dependencies: the venv is kept while the file is unchanged, and the log says so ---


def _flat_warning(out: str) -> str:
    return " ".join(" ".join(line.lstrip("! ") for line in out.splitlines() if line.startswith("!")).split())


def test_an_unpinned_requirements_file_states_the_rule_when_built_and_warns_when_kept(make_context, capsys) -> None:
    ctx = make_context({"requirements.txt": "idna>=3\n", ".python-version": "3.12.1\n"})
    runtime(ctx, FakeUv())
    assert ("  - requirements.txt does not pin every dependency: resolving them now; later builds keep this venv, "
            "unpinned versions included, until requirements.txt changes") in capsys.readouterr().out
    after_export(ctx.layers_dir)
    runtime(ctx, FakeUv())
    out = capsys.readouterr().out
    assert "Keeping the venv layer of the previous image" in out
    assert _flat_warning(out) == (
        "WARNING: Kept the venv of the previous image: requirements.txt is unchanged, so its unpinned dependencies "
        "were not updated requirements.txt does not pin every dependency to one version (==), so resolving it "
        "again could install newer releases. The buildpack resolves the dependencies only when requirements.txt "
        "changes (or the Python version, uv or the buildpack do); until then every build keeps the versions "
        "resolved when this venv was built. Pin them (uv pip compile, or a uv.lock), change requirements.txt, or "
        "build once without the previous image (pack build --clear-cache) to pick up new releases.")


def test_a_pinned_requirements_file_keeps_its_venv_without_a_warning(make_context, capsys) -> None:
    ctx = make_context(APP)  # idna==3.10
    runtime(ctx, FakeUv())
    after_export(ctx.layers_dir)
    capsys.readouterr()
    runtime(ctx, FakeUv())
    out = capsys.readouterr().out
    assert "Keeping the venv layer" in out and "WARNING" not in out and "does not pin" not in out


def test_which_requirements_files_pin_every_dependency() -> None:
    from luban_python.package_manager import requirements_pinned

    assert requirements_pinned("# app\nidna==3.10\nFlask[async]==3.0.3 ; python_version >= '3.11'\n\n")
    assert requirements_pinned("--index-url https://pypi.example/simple\nidna===3.10 \\\n    --hash=sha256:abc\n")
    assert requirements_pinned("")
    for unpinned in ("idna\n", "idna>=3\n", "idna==3.*\n", "idna~=3.10\n", "-r base.txt\nidna==3.10\n",
                     "-e .\n", "idna @ https://example.org/idna.whl\n", "idna==3.10,!=3.9\n"):
        assert not requirements_pinned(unpinned), unpinned


def test_an_unlocked_pyproject_is_never_pinned(tmp_path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "a"\nversion = "1"\ndependencies = ["idna==3.10"]\n')
    assert detect_project(tmp_path).pinned is False
    (tmp_path / "uv.lock").write_text("version = 1\n")
    assert detect_project(tmp_path).pinned is True


# --- hashed requirements: every requirement carries --hash, so uv requires and checks them all ---

HASH = "--hash=sha256:" + "a" * 64


def _pip_install(make_context, requirements: str) -> tuple[list[str], Path]:
    ctx = make_context({"requirements.txt": requirements, ".python-version": "3.12.1\n"})
    fake = FakeUv()
    runtime(ctx, fake)
    return fake.argv["pip install"], ctx.layers_dir


def test_a_fully_hashed_requirements_file_is_installed_with_require_hashes(make_context) -> None:
    argv, layers = _pip_install(make_context, f"idna==3.10 \\\n    {HASH}\nsix==1.16.0 {HASH} {HASH}\n")
    assert argv == ["/uv", "pip", "install", "--requirements", "requirements.txt", "--require-hashes",
                    "--python", f"{layers}/venv/bin/python"]


def test_a_requirements_file_without_hashes_is_installed_as_before(make_context) -> None:
    argv, layers = _pip_install(make_context, "idna==3.10\n")
    assert argv == ["/uv", "pip", "install", "--requirements", "requirements.txt",
                    "--python", f"{layers}/venv/bin/python"]


def test_which_requirements_carry_hashes() -> None:
    from luban_python.package_manager import requirements_hashes

    assert requirements_hashes("") == ((), ())
    assert requirements_hashes(f"--index-url https://pypi.example/simple\nidna==3.10 \\\n    {HASH}\n") == (("idna",), ())
    assert requirements_hashes(f"# app\nFlask[async]==3.0.3 ; python_version >= '3.11' {HASH}\nsix==1.16.0\n") == (
        ("Flask",), ("six",))
    assert requirements_hashes(f"-r base.txt\n-e ./lib\nidna==3.10 {HASH}\n") == (("idna",), ("-e ./lib",))
    assert requirements_hashes("idna==3.10  # --hash=sha256:abc is only a comment\n") == ((), ("idna",))
    assert requirements_hashes(f"https://example.org/idna-3.10.whl {HASH}\n./lib\nsix @ https://example.org/six.whl\n") == (
        ("https://example.org/idna-3.10.whl",), ("./lib", "six"))


def test_the_venv_bytecode_is_compiled_by_distribution_with_a_fixed_hash_seed(make_context) -> None:
    """uv's --compile-bytecode hands files to worker processes as they free up; marshal writes an
    object shared with earlier compilations as a reference, so the same lock gave a different .pyc
    under load. The buildpack's own driver (bytecode.py) compiles each distribution in a child forked
    from one parent state, with a fixed seed."""
    ctx = make_context({"requirements.txt": "idna==3.10\n", ".python-version": "3.12.1\n"})
    seen = {}
    fake = FakeUv()

    def runner(args, env, cwd, echo):
        if args[1] == "-c":
            seen.update(args=args, env=dict(env), cwd=cwd)
        return fake(args, env, cwd, echo)

    ctx.runner = runner
    build.install_runtime(ctx, detect_project(ctx.app_dir), Path("/uv"), "0.13.9", "3.12.1", {}, {})
    venv = ctx.layers_dir / "venv"
    assert seen["args"] == [f"{venv}/bin/python", "-c", layer_venv.BYTECODE.read_text(), f"{venv}", "--all"]
    assert seen["env"]["PYTHONHASHSEED"] == "0"
    assert seen["env"]["PYTHONDONTWRITEBYTECODE"] == "1"  # no stray stdlib .pyc in the python layer
    assert seen["cwd"] == venv  # not the app directory, which would come first on sys.path
    assert not [a for a in fake.argv["pip install"] if a == "--compile-bytecode"]
    assert fake.calls.index("compile") == fake.calls.index("pip install") + 1


# --- debug information: stripped where there is some, and only there -------------------------


def _elf(sections: list[str], wide: bool = True, order: str = "<") -> bytes:
    """A minimal ELF file whose section table names ``sections`` (its last section: the names)."""
    names = b"\0" + b"".join(n.encode() + b"\0" for n in [*sections, ".shstrtab"])
    offsets = [names.index(b"\0" + n.encode() + b"\0") + 1 for n in [*sections, ".shstrtab"]]
    header_size, entry_size = (64, 64) if wide else (52, 40)
    names_at = header_size
    table_at = names_at + len(names)
    count = len(offsets) + 1  # section 0 is the null section
    ident = b"\x7fELF" + bytes([2 if wide else 1, 1 if order == "<" else 2, 1]) + bytes(9)
    if wide:
        header = ident + struct.pack(order + "HHIQQQIHHHHHH", 3, 62, 1, 0, 0, table_at, 0, 64, 56, 0,
                                     entry_size, count, count - 1)
    else:
        header = ident + struct.pack(order + "HHIIIIIHHHHHH", 3, 3, 1, 0, 0, table_at, 0, 52, 32, 0,
                                     entry_size, count, count - 1)
    table = bytes(entry_size)
    for index, name in enumerate(offsets):
        at, size = (names_at, len(names)) if index == len(offsets) - 1 else (0, 0)
        if wide:
            table += struct.pack(order + "IIQQQQIIQQ", name, 1, 0, 0, at, size, 0, 0, 1, 0)
        else:
            table += struct.pack(order + "IIIIIIIIII", name, 1, 0, 0, at, size, 0, 0, 1, 0)
    return header + names + table


def test_which_elf_files_have_debug_information(tmp_path: Path) -> None:
    cases = {
        "debug64": (_elf([".text", ".debug_info", ".debug_line"]), True),
        "zdebug64": (_elf([".text", ".zdebug_info"]), True),
        "stripped64": (_elf([".text", ".dynsym", ".symtab"]), False),
        "debug32be": (_elf([".text", ".debug_str"], wide=False, order=">"), True),
        "stripped32": (_elf([".text"], wide=False), False),
        "truncated": (_elf([".text"])[:60], True),  # a table that cannot be read: strip as before
    }
    for name, (data, expected) in cases.items():
        (tmp_path / name).write_bytes(data)
        assert layer_python.has_debug_info(tmp_path / name) is expected, name


def test_only_files_with_debug_information_are_stripped(make_context, tmp_path: Path) -> None:
    ctx = make_context(APP)
    tree = tmp_path / "cpython"
    (tree / "lib").mkdir(parents=True)
    (tree / "bin").mkdir()
    (tree / "lib" / "libpython3.12.so.1.0").write_bytes(_elf([".text", ".debug_info"]))
    (tree / "bin" / "python3.12").write_bytes(_elf([".text", ".symtab"]))
    (tree / "lib" / "os.py").write_text("# not ELF\n")
    calls = []
    ctx.runner = lambda args, env, cwd, echo: calls.append(args) or uv.Result(0, "")
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "strip").write_text("#!/bin/sh\n")
    (tools / "strip").chmod(0o755)
    layer_python.strip_debug_info(ctx, tree, {"PATH": str(tools)})
    assert calls == [[str(tools / "strip"), "--strip-debug", str(tree / "lib" / "libpython3.12.so.1.0")]]
    calls.clear()
    (tree / "lib" / "libpython3.12.so.1.0").write_bytes(_elf([".text"]))  # a stripped archive: no strip at all
    layer_python.strip_debug_info(ctx, tree, {"PATH": str(tools)})
    assert calls == []
