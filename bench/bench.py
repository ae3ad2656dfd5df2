"""`make bench`: luban-ci's builder against a hand-written uv Dockerfile, side by side.

Both sides build the same example apps (web-flask, native-sdist by default; one after the other,
every case for each) on the same stack images with the same CPython (the offline mirror) and the
same uv version, publish to the same local registry, on this machine, interleaved (A B A B ...)
with one warm-up per case. luban-ci goes through playbooks/build_app.yml exactly as
`make build-app` runs it (so the CA binding and mirror settings are the pipeline's own); its time
is the `pack build` step's own duration, the playbook's overhead is reported apart. The baseline
is bench/baseline/Dockerfile built by BuildKit (buildx, docker driver) with `--push`.

Writes bench/results/latest.json and latest.md; chart.py draws latest.png.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import report  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("LUBAN_CACHE", Path.home() / ".cache" / "luban-ci"))
WORK = CACHE / "bench" / "work"
REGISTRY = os.environ.get("LUBAN_REGISTRY", "127.0.0.1:5000")
BUILD_IMAGE = f"{REGISTRY}/luban/stack-build:debian"
RUN_IMAGE = f"{REGISTRY}/luban/stack-run:debian"
# Both sides run on the bench's own copy of the run image (same digest as RUN_IMAGE), so the rebase
# case can publish a patched run image under that name without touching the shared stack tag.
BENCH_RUN_IMAGE = f"{REGISTRY}/bench/stack-run:debian"
# luban-ci's side builds with a builder whose run image is BENCH_RUN_IMAGE (bench/builder.yml), so
# `pack build` runs without --run-image, as build_app.yml runs it.
BENCH_BUILDER = f"{REGISTRY}/bench/builder-python:latest"
MIRROR = CACHE / "python-mirror"
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
# One new dependency per deps-change run (small pure-Python distributions).
NEW_DEPENDENCIES = ["six", "idna", "attrs", "toolz", "pyparsing", "more-itertools", "tomli-w", "wrapt",
                    "cachetools", "zipp", "decorator", "docopt-ng", "pytz", "tabulate", "xmltodict"]
CGROUP_MEMORY = Path("/sys/fs/cgroup/memory")
NONCE = f"{int(time.time())}"


def sh(argv: list[str], check: bool = True, **kw) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, text=True, capture_output=True, **kw)
    if check and result.returncode != 0:
        raise SystemExit(f"command failed ({result.returncode}): {' '.join(map(str, argv))}\n"
                         f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


@dataclass
class Tools:
    pack: str
    crane: str
    buildx: str
    uv: str
    cnb: str  # the folder of pack, crane and the lifecycle archive


@dataclass
class Build:
    seconds: float
    digest: str
    log: str = ""
    pipeline_seconds: float | None = None
    peak_memory: int | None = None
    action: str = "build"  # luban-ci: build, reuse or rebase (luban.ci.build_inputs)


class MemoryProbe:
    """Peak memory of the build's containers: every 100 ms, memory.max_usage_in_bytes of each cgroup
    v1 memory group created under docker's hierarchy since the probe started (the lifecycle
    container of `pack build`; the RUN containers of BuildKit). Page cache counts, as in cgroups."""

    def __init__(self) -> None:
        self._before = set(self._groups())
        self._peaks: dict[Path, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _groups() -> list[Path]:
        root = CGROUP_MEMORY / "docker"
        if not root.is_dir():
            return []
        return [p for p in root.rglob("*") if p.is_dir() and (p / "memory.max_usage_in_bytes").exists()]

    def _run(self) -> None:
        while not self._stop.is_set():
            for group in self._groups():
                if group in self._before:
                    continue
                try:
                    value = int((group / "memory.max_usage_in_bytes").read_text())
                except (OSError, ValueError):
                    continue
                self._peaks[group] = max(self._peaks.get(group, 0), value)
            self._stop.wait(0.1)

    def __enter__(self) -> "MemoryProbe":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak(self) -> int | None:
        return max(self._peaks.values()) if self._peaks else None


# ---------------------------------------------------------------------------------------------
# Preparation


def find_tools() -> Tools:
    """pack and crane (tools/cnb) and buildx (tools/buildx), each built once by scripts/gotool.sh."""
    cnb, buildx = (sh([str(REPO / "scripts" / "gotool.sh"), name]).stdout.strip().splitlines()[-1]
                   for name in ("cnb", "buildx"))
    return Tools(pack=f"{cnb}/bin/pack", crane=f"{cnb}/bin/crane", buildx=f"{buildx}/bin/buildx",
                 uv=shutil.which("uv") or "uv", cnb=cnb)


def bench_builder() -> None:
    """BENCH_BUILDER, made by the builder role (bench/builder.yml) from the local builder's parts;
    up to date in a second when nothing changed."""
    labels = json.loads(sh([TOOLS.crane, "config", RUN_IMAGE]).stdout)["config"]["Labels"]
    variables = {"bench_registry": REGISTRY, "bench_build_image": BUILD_IMAGE, "bench_run_image": BENCH_RUN_IMAGE,
                 "bench_distro_name": labels["io.buildpacks.base.distro.name"],
                 "bench_distro_version": labels["io.buildpacks.base.distro.version"], "bench_tools": TOOLS.cnb}
    sh(["ansible-playbook", "-i", "inventories/local", "bench/builder.yml", "-e", json.dumps(variables)], cwd=REPO)


def uv_binary(dest: Path) -> None:
    """The baseline's uv: the binary inside uv's PyPI wheel, the version the buildpack vendors."""
    defaults = yaml.safe_load((REPO / "roles" / "python_buildpack" / "defaults" / "main.yml").read_text())
    version = defaults["python_buildpack_uv_version"]
    wheels = CACHE / "bench" / "uv-wheel" / version
    if not list(wheels.glob("uv-*.whl")):
        wheels.mkdir(parents=True, exist_ok=True)
        sh([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
            "--platform", "manylinux_2_17_x86_64", "--python-version", "3.12", "--dest", str(wheels),
            f"uv=={version}"], env={**os.environ, "PIP_CERT": CA_BUNDLE})
    wheel = zipfile.ZipFile(next(wheels.glob("uv-*.whl")))
    member = next(n for n in wheel.namelist() if n.endswith(".data/scripts/uv"))
    dest.write_bytes(wheel.read(member))
    dest.chmod(0o755)


def python_version_for(app: Path) -> str:
    """The CPython the buildpack picks for the example: the newest patch of the line its
    .python-version names (3.13, the buildpack's default, without one) in the mirror."""
    pin = app / ".python-version"
    line = pin.read_text().split()[0] if pin.exists() else "3.13"
    major, minor = (int(x) for x in line.split(".")[:2])
    metadata = json.loads((MIRROR / "download-metadata.json").read_text())
    versions = sorted({(v["major"], v["minor"], v["patch"]) for v in metadata.values()
                       if (v["major"], v["minor"]) == (major, minor)})
    if not versions:
        raise SystemExit(f"the offline Python mirror {MIRROR} has no CPython {line}; run `make python-mirror`")
    return "%d.%d.%d" % versions[-1]


def baseline_context(app: Path, python: str) -> Path:
    ctx = WORK / "baseline"
    shutil.rmtree(ctx, ignore_errors=True)
    (ctx / "python-mirror").mkdir(parents=True)
    shutil.copytree(app, ctx / "app")
    uv_binary(ctx / "uv")
    # Only the archive this build needs, hard-linked (the mirror holds every pyenv CPython).
    metadata = json.loads((MIRROR / "download-metadata.json").read_text())
    keep = {k: v for k, v in metadata.items() if "%d.%d.%d" % (v["major"], v["minor"], v["patch"]) == python}
    (ctx / "python-mirror" / "download-metadata.json").write_text(json.dumps(keep))
    for path in MIRROR.rglob(f"cpython-{python}+*"):
        target = ctx / "python-mirror" / path.relative_to(MIRROR)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(path, target)
    return ctx


def luban_app(app: Path) -> Path:
    dest = WORK / "luban" / app.name
    shutil.rmtree(dest.parent, ignore_errors=True)
    shutil.copytree(app, dest)
    return dest


def dependency_states(app: Path, count: int) -> list[tuple[str, str]]:
    """(pyproject.toml, uv.lock) after adding 1, 2, ... dependencies, locked once with uv."""
    work = WORK / "deps"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(app, work)
    states = []
    env = {**os.environ, "SSL_CERT_FILE": CA_BUNDLE, "UV_CACHE_DIR": str(CACHE / "uv")}
    for name in NEW_DEPENDENCIES[:count]:
        sh([TOOLS.uv, "add", "--no-sync", "--directory", str(work), name], env=env)
        # A comment unique to this bench run: BuildKit must not find the state in its cache from
        # an earlier `make bench` (uv's --locked check ignores comments).
        pyproject = (work / "pyproject.toml").read_text() + f"# bench {NONCE}\n"
        states.append((pyproject, (work / "uv.lock").read_text()))
    return states


def patch_run_image(index: int) -> None:
    """Publishes the stack run image plus one small layer under the bench's run image name: what a
    security update of the stack does (the tag builders name as run image moves)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        data = f"patch {index} {time.time()}\n".encode()
        info = tarfile.TarInfo("etc/luban-patch")
        info.size, info.mode = len(data), 0o644
        tar.addfile(info, io.BytesIO(data))
    layer = WORK / "patch.tar"
    layer.write_bytes(buffer.getvalue())
    sh([TOOLS.crane, "append", "--base", RUN_IMAGE, "--new_layer", str(layer), "--new_tag", BENCH_RUN_IMAGE])


# ---------------------------------------------------------------------------------------------
# The two sides


def build_luban(app: Path, repository: str, *pack_args: str) -> Build:
    """One build through build_app.yml. The time is what the role spends deciding and building:
    luban.ci.build_inputs' own work (its `seconds`) plus the pack build, pack rebase and crane
    steps that ran (their `delta`). Ansible's start-up, per task and per module, is left out of
    every step alike, as the baseline's buildx pays none of it (luban_pipeline_s has the whole
    playbook)."""
    result_file = WORK / "luban-build.json"
    extra = json.dumps({"app_image_pack_args": ["--verbose", *pack_args]})
    argv = ["ansible-playbook", "-i", "inventories/local", "playbooks/build_app.yml", "-e", f"app={app}",
            "-e", f"app_image_repository={repository}", "-e", f"app_image_result_file={result_file}",
            "-e", f"app_image_builder={BENCH_BUILDER}", "-e", extra]
    env = {**os.environ, "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"}
    start = time.monotonic()
    with MemoryProbe() as probe:
        result = sh(argv, cwd=REPO, env=env, check=False)
    pipeline = time.monotonic() - start
    data = json.loads(result.stdout[result.stdout.index("{"):])
    tasks = {t["task"]["name"].rsplit(" : ", 1)[-1]: t["hosts"]["localhost"] for play in data["plays"]
             for t in play["tasks"] if "localhost" in t["hosts"]}
    pack = tasks.get("Build and publish the image with pack", {})
    if result.returncode != 0 or pack.get("rc", 0) != 0:
        raise SystemExit(f"luban-ci build failed:\n{pack.get('stdout', '')[-4000:]}\n{pack.get('stderr', '')[-2000:]}\n"
                         f"{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
    built = json.loads(result_file.read_text())
    inputs = tasks.get("Find out whether an image was built from the same inputs", {})
    seconds = float(inputs.get("seconds", 0.0))
    for name in ("Build and publish the image with pack", "Rebase the image built from the same inputs onto the run image",
                 "Read the digest of the image built from these inputs"):
        if "delta" in tasks.get(name, {}):
            seconds += _delta(tasks[name]["delta"])
    for item in tasks.get("Point the image's tags at the image built from these inputs", {}).get("results", []):
        if "delta" in item:
            seconds += _delta(item["delta"])
    return Build(seconds=seconds, digest=built["digest"], log=pack.get("stdout", ""),
                 pipeline_seconds=pipeline, peak_memory=probe.peak, action=inputs.get("decision", "build"))


def _delta(text: str) -> float:
    hours, minutes, seconds = text.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def build_baseline(ctx: Path, image: str, *args: str) -> Build:
    """One BuildKit build of bench/baseline/Dockerfile, pushed to the registry."""
    metadata = WORK / "baseline-metadata.json"
    argv = [TOOLS.buildx, "build", "--progress", "plain", "--file", str(REPO / "bench" / "baseline" / "Dockerfile"),
            "--secret", f"id=ca,src={CA_BUNDLE}", "--network", "host", "--push", "--tag", image,
            "--metadata-file", str(metadata), *args, str(ctx)]
    start = time.monotonic()
    with MemoryProbe() as probe:
        result = sh(argv, check=False)
    seconds = time.monotonic() - start
    if result.returncode != 0:
        raise SystemExit(f"baseline build failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    digest = json.loads(metadata.read_text())["containerimage.digest"]
    return Build(seconds=seconds, digest=digest, log=result.stderr, peak_memory=probe.peak)


# ---------------------------------------------------------------------------------------------
# Image facts


def manifest(ref: str) -> dict:
    return json.loads(sh([TOOLS.crane, "manifest", ref]).stdout)


def diff_ids(ref: str) -> list[str]:
    return json.loads(sh([TOOLS.crane, "config", ref]).stdout)["rootfs"]["diff_ids"]


def image_bytes(ref: str) -> int:
    m = manifest(ref)
    return m["config"]["size"] + sum(layer["size"] for layer in m["layers"])


def changed_layers(before: str, after: str) -> dict:
    old, new = set(diff_ids(before)), diff_ids(after)
    sizes = [layer["size"] for layer in manifest(after)["layers"]]
    changed = [i for i, d in enumerate(new) if d not in old]
    return {"changed": len(changed), "total": len(new), "changed_bytes": sum(sizes[i] for i in changed)}


# ---------------------------------------------------------------------------------------------
# The run


@dataclass
class Side:
    name: str
    times: dict[str, list[float]] = field(default_factory=dict)
    logs: dict[str, list[str]] = field(default_factory=dict)
    pipeline: dict[str, list[float]] = field(default_factory=dict)
    memory: dict[str, list[int]] = field(default_factory=dict)

    actions: dict[str, list[str]] = field(default_factory=dict)

    def record(self, case: str, build: Build) -> None:
        self.times.setdefault(case, []).append(build.seconds)
        self.logs.setdefault(case, []).append(build.log)
        self.actions.setdefault(case, []).append(build.action)
        if build.pipeline_seconds is not None:
            self.pipeline.setdefault(case, []).append(build.pipeline_seconds)
        if build.peak_memory is not None:
            self.memory.setdefault(case, []).append(build.peak_memory)


def say(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", flush=True)


def web_command(app: Path) -> str:
    """The app's start command for the baseline's CMD: its Procfile's `web` line."""
    procfile = app / "Procfile"
    for line in procfile.read_text().splitlines() if procfile.exists() else []:
        kind, _sep, command = line.partition(":")
        if kind.strip() == "web":
            return command.strip()
    raise SystemExit(f"{app} has no `web:` line in a Procfile; the bench builds web apps only")


def edit_code(app: Path, stamp: str) -> None:
    """A code-only change: app.py's last line becomes a comment unique to this run and bench."""
    path = app / "app.py"
    text = re.sub(r"\n# bench edit [^\n]*\n?$", "\n", path.read_text())
    path.write_text(text.rstrip("\n") + f"\n# bench edit {stamp}\n")


def run_app(name: str, runs: int, warmup: int, only: set[str] | None) -> dict:
    """Every case for one example app; the same cases for the next app start from scratch."""
    example = REPO / "examples" / name
    if not (example / "uv.lock").is_file():
        raise SystemExit(f"examples/{name} has no uv.lock: the baseline Dockerfile follows uv's guide for locked projects")
    python = python_version_for(example)
    luban_dir, ctx = luban_app(example), baseline_context(example, python)
    # Per `make bench`: an earlier run's image of the same inputs (the same dependency added) would
    # be reused, not built.
    lu_repo, ba_repo = f"{REGISTRY}/bench/luban-{name}-{NONCE}", f"{REGISTRY}/bench/baseline-{name}"
    lu_ref, ba_ref = f"{lu_repo}:latest", f"{ba_repo}:latest"
    ba_args = ["--build-arg", f"PYTHON_VERSION={python}", "--build-arg", f"RUN_IMAGE={BENCH_RUN_IMAGE}",
               "--build-arg", f"APP_CMD={web_command(example)}"]
    sh([TOOLS.crane, "copy", RUN_IMAGE, BENCH_RUN_IMAGE])  # unpatched again after an earlier app's rebase
    bench_builder()
    say(f"examples/{name}: CPython {python}")
    total = runs + warmup
    luban, baseline = Side("luban"), Side("baseline")
    same = {"luban": [], "baseline": []}
    layers: dict[str, dict] = {}
    volumes_before = set(sh(["docker", "volume", "ls", "-q"]).stdout.split())

    def counted(i: int) -> bool:
        return i >= warmup

    def both(case: str, i: int, lu, ba) -> None:
        # Alternate which side goes first, so neither always follows the other's cache effects.
        order = [("luban", lu), ("baseline", ba)] if i % 2 == 0 else [("baseline", ba), ("luban", lu)]
        for side, fn in order:
            build = fn()
            say(f"{example.name} {case} run {i + 1}/{total}{'' if counted(i) else ' (warm-up)'} {side}: {build.seconds:.2f}s")
            logs = WORK / "logs"
            logs.mkdir(exist_ok=True)
            (logs / f"{example.name}-{case}-{i}-{side}.log").write_text(build.log)
            if counted(i):
                (luban if side == "luban" else baseline).record(case, build)

    wanted = (lambda c: only is None or c in only)

    if wanted("cold"):
        for i in range(total):
            def lu_cold(i=i) -> Build:
                # A repository never built before and --clear-cache: no previous image, empty cache volumes.
                return build_luban(luban_dir, f"{REGISTRY}/bench/luban-cold-{name}-{NONCE}-{i}", "--clear-cache")

            def ba_cold() -> Build:
                sh(["docker", "builder", "prune", "--all", "--force"])  # layer cache and cache mounts
                return build_baseline(ctx, f"{REGISTRY}/bench/baseline-cold-{name}-{NONCE}:latest", "--no-cache", *ba_args)
            both("cold", i, lu_cold, ba_cold)

    # Prime both moving tags for the warm cases; --clear-cache so no layer of an earlier
    # `make bench` (an older buildpack) is carried over into this run's images.
    build_luban(luban_dir, lu_repo, "--clear-cache")
    build_baseline(ctx, ba_ref, *ba_args)

    if wanted("no-change"):
        for i in range(total):
            def lu_same() -> Build:
                before = sh([TOOLS.crane, "digest", lu_ref]).stdout.strip()
                build = build_luban(luban_dir, lu_repo)
                same["luban"].append(before == build.digest)
                return build

            def ba_same() -> Build:
                before = sh([TOOLS.crane, "digest", ba_ref]).stdout.strip()
                build = build_baseline(ctx, ba_ref, *ba_args)
                same["baseline"].append(before == build.digest)
                return build
            both("no-change", i, lu_same, ba_same)

    if wanted("code-change"):
        for i in range(total):
            def edit(app: Path, i: int = i) -> None:
                # Unique per run and per `make bench`, so no cache can hold the result already.
                edit_code(app, f"{NONCE}-{i}")

            def lu_code() -> Build:
                before = sh([TOOLS.crane, "digest", lu_ref]).stdout.strip()
                edit(luban_dir)
                build = build_luban(luban_dir, lu_repo)
                layers["luban"] = changed_layers(f"{lu_repo}@{before}", f"{lu_repo}@{build.digest}")
                return build

            def ba_code() -> Build:
                before = sh([TOOLS.crane, "digest", ba_ref]).stdout.strip()
                edit(ctx / "app")
                build = build_baseline(ctx, ba_ref, *ba_args)
                layers["baseline"] = changed_layers(f"{ba_repo}@{before}", f"{ba_repo}@{build.digest}")
                return build
            both("code-change", i, lu_code, ba_code)

    if wanted("deps-change"):
        states = dependency_states(example, total)
        for i in range(total):
            def add_dep(app: Path, i: int = i) -> None:
                (app / "pyproject.toml").write_text(states[i][0])
                (app / "uv.lock").write_text(states[i][1])

            def lu_deps() -> Build:
                add_dep(luban_dir)
                return build_luban(luban_dir, lu_repo)

            def ba_deps() -> Build:
                add_dep(ctx / "app")
                return build_baseline(ctx, ba_ref, *ba_args)
            both("deps-change", i, lu_deps, ba_deps)

    if wanted("rebase"):
        for i in range(total):
            patch_run_image(i)

            def lu_rebase() -> Build:
                before = sh([TOOLS.crane, "digest", lu_ref]).stdout.strip()
                start = time.monotonic()
                result = sh([TOOLS.pack, "rebase", lu_ref, "--publish", "--pull-policy", "if-not-present"], check=False)
                seconds = time.monotonic() - start
                if result.returncode != 0:
                    raise SystemExit(f"pack rebase failed:\n{result.stdout}\n{result.stderr}")
                after = sh([TOOLS.crane, "digest", lu_ref]).stdout.strip()
                if after == before:
                    raise SystemExit(f"pack rebase left {lu_ref} unchanged: the patched run image was not picked up")
                return Build(seconds=seconds, digest=after, log=result.stdout, action="rebase")

            def ba_rebase() -> Build:
                # --pull: resolve the base images in the registry again (the run image moved).
                return build_baseline(ctx, ba_ref, "--pull", *ba_args)
            both("rebase", i, lu_rebase, ba_rebase)

    # Leave the pack cache volumes of the throw-away cold repositories behind no more.
    for volume in set(sh(["docker", "volume", "ls", "-q"]).stdout.split()) - volumes_before:
        if volume.startswith("pack-cache-"):
            sh(["docker", "volume", "rm", volume], check=False)

    cases = []
    overhead: dict[str, dict] = {}
    phases: dict[str, dict] = {}
    for case in ["cold", "no-change", "code-change", "deps-change", "rebase"]:
        if case not in luban.times:
            continue
        extra = {}
        if case in luban.pipeline:
            extra["luban_pipeline_s"] = report.summarize(luban.pipeline[case]).median
        extra["luban_actions"] = {a: luban.actions[case].count(a) for a in dict.fromkeys(luban.actions[case])}
        cases.append(report.case_row(case, luban.times[case], baseline.times[case], **extra))
        rows = [r for r in (report.buildpack_overhead(log) for log in luban.logs.get(case, [])) if r]
        if rows:
            overhead[case] = {k: round(statistics.median(r[k] for r in rows), 3) for k in rows[0]}
        # Only runs that built have lifecycle phases; a case mixing builds with reuses has none.
        logs = luban.logs.get(case, [])
        timers = [report.phase_timers(log) for log in logs] if logs and all(logs) else []
        if timers and timers[0]:
            phases[case] = {p: round(statistics.median(t.get(p, 0.0) for t in timers), 3) for p in timers[0]}
            # What pack itself costs around the lifecycle: its start-up, app upload, container and
            # volume set-up and removal.
            inside = [sum(t.values()) for t in timers]
            outside = [whole - lifecycle for whole, lifecycle in zip(luban.times[case], inside)]
            phases[case]["outside the lifecycle"] = round(statistics.median(outside), 3)

    sizes = {"luban": image_bytes(lu_ref), "baseline": image_bytes(ba_ref)}
    by_name = {c["name"]: c for c in cases}
    goals = {}
    if "code-change" in by_name:
        goals["code-only rebuild <= 1.0x baseline"] = (by_name["code-change"]["ratio"] or 99) <= 1.0
    if "no-change" in by_name:
        goals["no-change <= 0.6x baseline"] = (by_name["no-change"]["ratio"] or 99) <= 0.6
    goals["every case <= 1.0x baseline"] = all((c["ratio"] or 99) <= 1.0 for c in cases)
    if same["luban"]:
        goals["no-change rebuild yields the identical digest"] = all(same["luban"])
    if "rebase" in by_name:
        goals["rebase <= 2 s"] = by_name["rebase"]["luban_max_s"] <= 2.0
    goals["image no larger than the baseline's"] = sizes["luban"] <= sizes["baseline"]
    return {
        "app": f"examples/{name}",
        "python": python,
        "cases": cases,
        "no_change_same_digest": bool(same["luban"]) and all(same["luban"]),
        "same_digest": {k: (all(v) if v else None) for k, v in same.items()},
        "image_bytes": sizes,
        "code_change_layers": layers,
        "buildpack_overhead": overhead,
        "lifecycle_phases": phases,
        "peak_memory_bytes": {side.name: max(side.memory.get("cold", [0]) or [0]) or None for side in (luban, baseline)},
        "goals": goals,
    }


def run(apps: list[str], runs: int, warmup: int, only: set[str] | None) -> dict:
    """latest.json: the issue's top-level shape over every app (each case row names its app; sizes
    and goals per app), plus each app's full detail under `apps`."""
    global TOOLS
    TOOLS = find_tools()
    details = [run_app(name, runs, warmup, only) for name in apps]
    goal_names = list(dict.fromkeys(g for d in details for g in d["goals"]))
    return {
        "machine": machine(),
        "warmup": warmup,
        "cases": [dict(case, app=d["app"]) for d in details for case in d["cases"]],
        "no_change_same_digest": all(d["no_change_same_digest"] for d in details),
        "image_bytes": {side: {d["app"]: d["image_bytes"][side] for d in details} for side in ("luban", "baseline")},
        "goals": {g: all(d["goals"].get(g, True) for d in details) for g in goal_names},
        "apps": details,
        "peak_memory_note": "max of memory.max_usage_in_bytes (cgroup v1, page cache included) over the build's "
                            "containers, sampled every 100 ms, cold builds; the pack/buildx clients and dockerd "
                            "itself are not included",
        "timing_note": "luban_s: duration of build_app.yml's `pack build --publish` step (luban_pipeline_s: the "
                       "whole playbook); baseline_s: `buildx build --push` wall time; rebase: `pack rebase "
                       "--publish` vs a BuildKit rebuild with the patched run image as base",
    }


def machine() -> dict:
    mem = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    versions = {
        "docker_server": sh(["docker", "version", "--format", "{{.Server.Version}}"]).stdout.strip(),
        "docker_client": sh(["docker", "version", "--format", "{{.Client.Version}}"]).stdout.strip(),
        "pack": sh([TOOLS.pack, "version"]).stdout.strip(),
        "buildx": sh([TOOLS.buildx, "version"]).stdout.strip(),
    }
    cpus = os.cpu_count()
    return {"cpus": cpus, "memory_gib": round(mem / 1024 / 1024, 1), "kernel": platform.release(),
            "load_at_end": os.getloadavg(), "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            **versions, "summary": f"{cpus} CPUs, {round(mem / 1024 / 1024)} GiB, Docker {versions['docker_server']}, "
                                   f"pack {versions['pack']}, buildx {versions['buildx'].split()[1]}"}


TOOLS: Tools


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "5")))
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--cases", default="", help="comma-separated subset (default: all)")
    parser.add_argument("--apps", default="web-flask,native-sdist", help="comma-separated example apps (uv-locked web apps)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    args = parser.parse_args()
    if args.runs + args.warmup > len(NEW_DEPENDENCIES):
        raise SystemExit(f"at most {len(NEW_DEPENDENCIES) - args.warmup} counted runs (one new dependency per run)")
    only = set(args.cases.split(",")) if args.cases else None
    started = time.monotonic()
    result = run([a for a in args.apps.split(",") if a], args.runs, args.warmup, only)
    result["bench_wall_s"] = round(time.monotonic() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "latest.md").write_text(report.markdown(result))
    say(f"wrote {args.out / 'latest.json'} and latest.md in {result['bench_wall_s']}s")
    print(report.markdown(result))


if __name__ == "__main__":
    main()
