"""The venv updated in place from the snapshot of an earlier build: the bytecode driver, what
uninstalling leaves behind, and when the snapshot is used, kept or dropped."""

from __future__ import annotations

import shutil
import sys
import tarfile
from pathlib import Path

import pytest
from luban_python import build, bytecode, layer_venv, uv
from luban_python.package_manager import detect_project
from test_layers import after_export

SITE = f"lib/python{sys.version_info[0]}.{sys.version_info[1]}/site-packages"
TAG = f"cpython-{sys.version_info[0]}{sys.version_info[1]}"


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def dist(name: str, files: dict[str, str]) -> dict[str, str]:
    """A distribution as an installer lays it out: its files and a RECORD listing them."""
    record = "".join(f"{path},,\n" for path in files) + f"{name}-1.dist-info/RECORD,,\n"
    return {f"{SITE}/{path}": text for path, text in files.items()} | {f"{SITE}/{name}-1.dist-info/RECORD": record}


def pyc(venv: Path, source: str) -> Path:
    return venv / SITE / Path(source).parent / "__pycache__" / f"{Path(source).stem}.{TAG}.pyc"


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    root = tmp_path / "venv"
    write(root, dist("alpha", {"alpha/__init__.py": "A = {'x', 'y', 'z'}\n", "alpha/util.py": "def f():\n    return 'alpha'\n"})
          | dist("beta", {"beta.py": "B = ('beta', 1.5)\n"})
          | {f"{SITE}/_virtualenv.py": "V = 1\n", f"{SITE}/broken.py": "def (:\n"})
    return root


def test_every_distribution_and_the_unowned_files_are_compiled(venv: Path, capsys) -> None:
    assert bytecode.main([str(venv), "--all"]) == 0
    for source in ("alpha/__init__.py", "alpha/util.py", "beta.py", "_virtualenv.py"):
        assert pyc(venv, source).read_bytes()[4:8] == b"\x01\x00\x00\x00"  # hash-based, unchecked
    assert not pyc(venv, "broken.py").exists()  # does not compile: left alone, as compileall leaves it
    assert "compiled 3 groups of files" in capsys.readouterr().out


def test_only_the_named_distributions_are_compiled_again_and_give_the_same_bytes(venv: Path) -> None:
    assert bytecode.main([str(venv), "--all"]) == 0
    fresh = {s: pyc(venv, s).read_bytes() for s in ("alpha/__init__.py", "alpha/util.py", "beta.py")}
    for source in fresh:
        pyc(venv, source).write_bytes(b"stale")
    pyc(venv, "beta.py").unlink()

    assert bytecode.main([str(venv), "--only", "alpha-1.dist-info"]) == 0
    assert pyc(venv, "alpha/util.py").read_bytes() == fresh["alpha/util.py"]
    assert pyc(venv, "alpha/__init__.py").read_bytes() == fresh["alpha/__init__.py"]
    # beta was not named, but one of its files had no .pyc: never leave a distribution half compiled.
    assert pyc(venv, "beta.py").read_bytes() == fresh["beta.py"]


def test_a_distribution_not_named_and_complete_is_not_touched(venv: Path) -> None:
    assert bytecode.main([str(venv), "--all"]) == 0
    pyc(venv, "beta.py").write_bytes(b"kept")
    assert bytecode.main([str(venv), "--only"]) == 0
    assert pyc(venv, "beta.py").read_bytes() == b"kept"


def test_a_large_distribution_gives_the_same_bytes_however_many_children_run_at_once(tmp_path: Path, monkeypatch) -> None:
    """Its files are cut into batches by its own file list alone; one CPU or four, the bytes agree,
    and a batch whose child fails fails the whole compilation."""
    modules = {f"gamma/m{i:02d}.py": f"SHARED = ('gamma', 'shared', {i})\ndef f{i}():\n    return SHARED\n"
               for i in range(3 * bytecode.BATCH + 1)}
    root = tmp_path / "venv"
    write(root, dist("gamma", modules))
    results = []
    for cpus in ({0}, {0, 1, 2, 3}):
        shutil.rmtree(root / SITE / "gamma" / "__pycache__", ignore_errors=True)
        monkeypatch.setattr(bytecode.os, "sched_getaffinity", lambda pid, cpus=cpus: cpus)
        assert bytecode.main([str(root), "--all"]) == 0
        results.append({m: pyc(root, m).read_bytes() for m in modules})
    assert results[0] == results[1] and len(results[0]) == len(modules)

    monkeypatch.setattr(bytecode, "compile_group", lambda files: 1 / ("m05.py" not in files[0] + files[-1]))
    assert bytecode.compile_batches([["a/m01.py"], ["a/m05.py"], ["a/m09.py"]], 2) == 1


def test_uninstalled_leftovers_go_and_every_other_directory_stays(venv: Path) -> None:
    assert bytecode.main([str(venv), "--all"]) == 0
    (venv / SITE / "alpha" / "plugins").mkdir()  # empty on purpose: the package fills it at run time
    for path in (venv / SITE / "alpha").iterdir():
        if path.is_file():
            path.unlink()  # what uninstalling alpha does: its RECORD's files, not its .pyc files
    (venv / SITE / "beta.py").unlink()
    layer_venv.remove_leftovers(venv)
    assert not (venv / SITE / "alpha" / "__pycache__").exists()
    assert (venv / SITE / "alpha" / "plugins").is_dir()  # not left by an uninstall: kept
    assert not pyc(venv, "beta.py").exists() and pyc(venv, "_virtualenv.py").exists()
    (venv / SITE / "alpha" / "plugins").rmdir()
    layer_venv.remove_leftovers(venv)
    assert (venv / SITE / "alpha").is_dir()  # empty, but no .pyc of it was removed now: kept
    (venv / SITE / "_virtualenv.py").unlink()
    layer_venv.remove_leftovers(venv)
    assert not (venv / SITE / "__pycache__").exists() and (venv / SITE).is_dir()


# --- when the snapshot is used -------------------------------------------------------------------

LOCKED = {
    "pyproject.toml": '[project]\nname = "app"\nversion = "1"\nrequires-python = ">=3.12"\ndependencies = ["idna==3.10"]\n',
    "uv.lock": "version = 1\n# idna 3.10\n",
    ".python-version": "3.12.1\n",
}


class FakeSync:
    """Stands in for uv: installs one distribution per line of uv.lock's comments."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.seen_before_sync: list[list[str]] = []

    def __call__(self, args, env, cwd: Path, echo: bool) -> uv.Result:
        verb = "compile" if args[1] == "-c" else " ".join(args[1:3])
        self.calls.append(verb if verb != "compile" else "compile " + " ".join(args[4:]))
        if verb == "python install":
            install_dir = Path(args[args.index("--install-dir") + 1])
            (install_dir / f"cpython-{args[3]}-linux-x86_64-gnu" / "bin").mkdir(parents=True)
            (install_dir / f"cpython-{args[3]}-linux-x86_64-gnu" / "bin" / "python3.12").write_text("")
        elif verb == "sync --locked":
            venv = Path(env["UV_PROJECT_ENVIRONMENT"])
            site = venv / "lib/python3.12/site-packages"
            self.seen_before_sync.append(sorted(p.name for p in site.iterdir()) if site.is_dir() else [])
            site.mkdir(parents=True, exist_ok=True)
            wanted = {line[2:].replace(" ", "-") for line in (cwd / "uv.lock").read_text().splitlines() if line.startswith("# ")}
            for info in site.glob("*.dist-info"):
                if info.name.removesuffix(".dist-info") not in wanted:
                    (info / "RECORD").unlink()
                    info.rmdir()
            for name in wanted:
                (site / f"{name}.dist-info").mkdir(exist_ok=True)
                (site / f"{name}.dist-info" / "RECORD").write_text(f"{name}.dist-info/RECORD,,\n")
        return uv.Result(0, "")


def archived(ctx) -> list[str]:
    """The site-packages entries the venv-snapshot layer's archive holds."""
    with tarfile.open(ctx.layers_dir / "venv-snapshot" / layer_venv.ARCHIVE) as archive:
        return sorted(Path(n).name for n in archive.getnames() if Path(n).parent == Path(".") / SITE)


def runtime(ctx, fake) -> None:
    ctx.runner = fake
    build.install_runtime(ctx, detect_project(ctx.app_dir), Path("/uv"), "0.13.9", "3.12.1", {}, {})


def test_a_lock_change_starts_from_the_snapshot_and_compiles_only_what_uv_installed(make_context, capsys) -> None:
    ctx = make_context(LOCKED)
    fake = FakeSync()
    runtime(ctx, fake)
    out = capsys.readouterr().out
    assert "Creating the venv from nothing: no venv of an earlier build is cached" in out
    assert "compile --all" in fake.calls
    snapshot = ctx.layers_dir / "venv-snapshot"
    assert [p.name for p in snapshot.iterdir()] == ["venv.tar"]  # one file for the restorer, not a tree
    assert archived(ctx) == ["idna-3.10.dist-info"]
    with tarfile.open(snapshot / "venv.tar") as archive:  # the launch env is the venv layer's, not the snapshot's
        assert not [n for n in archive.getnames() if n.startswith("./env")]
    assert '[types]\nbuild = false\nlaunch = false\ncache = true' in (ctx.layers_dir / "venv-snapshot.toml").read_text()

    after_export(ctx.layers_dir)
    (ctx.app_dir / "uv.lock").write_text("version = 1\n# idna 3.10\n# six 1.17.0\n")
    fake = FakeSync()
    runtime(ctx, fake)
    out = capsys.readouterr().out
    assert "Updating the venv of an earlier build (dependency files " in out
    assert fake.seen_before_sync == [["idna-3.10.dist-info"]]  # uv found the earlier venv in place
    assert "compile --only six-1.17.0.dist-info" in fake.calls
    assert "the 1 distribution(s) uv installed now: six-1.17.0.dist-info" in out
    assert archived(ctx) == ["idna-3.10.dist-info", "six-1.17.0.dist-info"]


def test_the_archive_keeps_modes_and_links_and_a_bad_one_means_a_venv_from_nothing(make_context, capsys) -> None:
    """The unpacked snapshot is the venv as it was (modes, links); an archive tar cannot unpack, or
    no tar in the build image, costs the update, never the build."""
    ctx = make_context(LOCKED)
    runtime(ctx, FakeSync())
    after_export(ctx.layers_dir)
    archive = ctx.layers_dir / "venv-snapshot" / "venv.tar"
    seen = {}

    class Watch(FakeSync):
        def __call__(self, args, env, cwd, echo):
            if args[1:3] == ["sync", "--locked"]:
                venv = Path(env["UV_PROJECT_ENVIRONMENT"])
                seen["mode"] = (venv / SITE / "idna-3.10.dist-info" / "RECORD").stat().st_mode & 0o777
            return super().__call__(args, env, cwd, echo)

    (ctx.app_dir / "uv.lock").write_text("version = 1\n# idna 3.10\n# six 1.17.0\n")
    runtime(ctx, Watch())
    assert "Updating the venv of an earlier build" in capsys.readouterr().out
    assert seen["mode"] == 0o644

    after_export(ctx.layers_dir)
    archive.write_bytes(b"not a tar archive")
    (ctx.app_dir / "uv.lock").write_text("version = 1\n# idna 3.10\n")
    fake = FakeSync()
    runtime(ctx, fake)
    out = capsys.readouterr().out
    assert "Creating the venv from nothing: the cached venv of an earlier build could not be unpacked (tar: " in out
    assert fake.seen_before_sync == [[]] and archived(ctx) == ["idna-3.10.dist-info"]


def test_without_tar_the_venv_is_built_and_not_kept(make_context, capsys, monkeypatch) -> None:
    monkeypatch.setattr(layer_venv.shutil, "which", lambda name: None)
    ctx = make_context(LOCKED)
    runtime(ctx, FakeSync())
    assert ("The venv is not kept for the next lock change: archiving it failed (the build image has no tar)"
            in capsys.readouterr().out)
    assert not (ctx.layers_dir / "venv-snapshot").exists() and not (ctx.layers_dir / "venv-snapshot.toml").exists()
    assert (ctx.layers_dir / "venv.toml").is_file()


def test_a_code_change_keeps_the_snapshot_for_the_next_lock_change(make_context, capsys) -> None:
    ctx = make_context(LOCKED)
    runtime(ctx, FakeSync())
    after_export(ctx.layers_dir)
    snapshot_toml = ctx.layers_dir / "venv-snapshot.toml"
    assert "[types]" not in snapshot_toml.read_text()  # restored: metadata only
    runtime(ctx, FakeSync())
    assert "Keeping the venv layer of the previous image" in capsys.readouterr().out
    assert "cache = true" in snapshot_toml.read_text() and (ctx.layers_dir / "venv-snapshot").is_dir()


def test_a_snapshot_for_another_python_is_dropped_and_the_venv_made_from_nothing(make_context, capsys) -> None:
    ctx = make_context(LOCKED)
    runtime(ctx, FakeSync())
    after_export(ctx.layers_dir)
    (ctx.app_dir / "uv.lock").write_text("version = 1\n# six 1.17.0\n")
    ctx.runner = fake = FakeSync()
    build.install_runtime(ctx, detect_project(ctx.app_dir), Path("/uv"), "0.13.9", "3.12.2", {}, {})
    out = capsys.readouterr().out
    assert ("Creating the venv from nothing: the cached venv of an earlier build has another Python version changed "
            "(3.12.1 -> 3.12.2)") in out
    assert fake.seen_before_sync == [[]] and "compile --all" in fake.calls


def test_a_requirements_app_keeps_no_snapshot(make_context, capsys) -> None:
    ctx = make_context({"requirements.txt": "idna==3.10\n", ".python-version": "3.12.1\n"})
    from test_layers import FakeUv

    runtime(ctx, FakeUv())
    assert "Creating the venv from nothing: only a uv.lock project's venv is updated in place" in capsys.readouterr().out
    assert not (ctx.layers_dir / "venv-snapshot").exists() and not (ctx.layers_dir / "venv-snapshot.toml").exists()
