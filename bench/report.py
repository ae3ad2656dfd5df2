"""Statistics and reports of `make bench`: medians with min/max, latest.json's case rows, the
markdown table, and parsing of the luban build log (lifecycle phase timers, buildpack sections).

Standard library only, so the tooling venv runs it and `test-bench-unit` tests it cheaply; the PNG
chart is drawn by chart.py in the bench venv (matplotlib).
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

# Sections of the buildpack's log whose time is spent inside uv (CPython install, dependency sync;
# when both layers are kept from the previous image the section runs no uv and takes ~0 s).
UV_SECTIONS = ("Installing Python and the dependencies",)


@dataclass(frozen=True)
class Summary:
    median: float
    min: float
    max: float
    n: int


def summarize(values: Sequence[float]) -> Summary:
    """Median with min/max of counted runs (warm-ups are never passed in)."""
    if not values:
        raise ValueError("no counted runs to summarize")
    return Summary(median=round(statistics.median(values), 3), min=round(min(values), 3),
                   max=round(max(values), 3), n=len(values))


def ratio(luban: float, baseline: float) -> float | None:
    """luban / baseline of the medians; below 1.0 means luban-ci is faster."""
    return round(luban / baseline, 3) if baseline > 0 else None


def case_row(name: str, luban: Sequence[float], baseline: Sequence[float], **extra: object) -> dict:
    """One entry of latest.json's `cases`."""
    lu, ba = summarize(luban), summarize(baseline)
    return {"name": name, "luban_s": lu.median, "baseline_s": ba.median, "ratio": ratio(lu.median, ba.median),
            "runs": lu.n, "luban_min_s": lu.min, "luban_max_s": lu.max, "baseline_min_s": ba.min,
            "baseline_max_s": ba.max, "luban_all_s": [round(v, 3) for v in luban],
            "baseline_all_s": [round(v, 3) for v in baseline], **extra}


_GO_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
_GO_PART = re.compile(r"([0-9.]+)(ms|us|µs|ns|h|m|s)")


def go_duration(text: str) -> float:
    """Seconds of a Go time.Duration string such as `1m2.5s`, `812.3ms`."""
    parts = _GO_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a Go duration: {text!r}")
    return sum(float(n) * _GO_UNITS[u] for n, u in parts)


_TIMER = re.compile(r"Timer: (\w+) ran for (\S+) and ended")
_PREFIX = re.compile(r"^(\[[\w-]+\]\s?)?")
_SECTION = re.compile(r"^- (.+)$")
_DONE = re.compile(r"^  - Done \(([0-9.]+)s\)$")
# uv's own report of a CPython install (`Installed Python 3.12.1 in 347ms`, or `in 1.02s`).
_PYTHON_INSTALLED = re.compile(r"Installed Python \S+ in ([0-9.]+)(ms|s)$")


def phase_timers(log: str) -> dict[str, float]:
    """Lifecycle phase durations (`Timer: Builder ran for 3.2s ...`, printed at debug level)."""
    out: dict[str, float] = {}
    for name, duration in _TIMER.findall(log):
        out[name] = out.get(name, 0.0) + go_duration(duration)
    return out


def buildpack_sections(log: str) -> dict[str, float]:
    """Durations of the buildpack's own log sections (`- Title` ... `  - Done (1.2s)`)."""
    out: dict[str, float] = {}
    current: str | None = None
    for raw in log.splitlines():
        line = _PREFIX.sub("", raw.rstrip())
        if (done := _DONE.match(line)) and current:
            out[current] = out.get(current, 0.0) + float(done.group(1))
            current = None
        elif section := _SECTION.match(line):
            current = section.group(1)
    return out


def python_install_seconds(log: str) -> float:
    """The time uv says it took to install CPython in one build (0 when the build installed none):
    the part of the time inside uv that writes CPython's files, for the first image or, when only
    the venv changes, again just to build the venv on."""
    total = 0.0
    for raw in log.splitlines():
        if found := _PYTHON_INSTALLED.search(raw.rstrip()):
            total += float(found.group(1)) * (1e-3 if found.group(2) == "ms" else 1.0)
    return total


def buildpack_overhead(log: str) -> dict[str, float] | None:
    """detect + build minus the time inside uv, from one verbose pack build log; with the part of
    the time inside uv that installed CPython."""
    timers = phase_timers(log)
    if "Detector" not in timers or "Builder" not in timers:
        return None
    sections = buildpack_sections(log)
    in_uv = sum(sections.get(name, 0.0) for name in UV_SECTIONS)
    detect_build = timers["Detector"] + timers["Builder"]
    return {"detect_s": round(timers["Detector"], 3), "build_s": round(timers["Builder"], 3),
            "in_uv_s": round(in_uv, 3), "python_install_s": round(python_install_seconds(log), 3),
            "overhead_s": round(detect_build - in_uv, 3)}


def _fmt(value: float | None, unit: str = "") -> str:
    return "–" if value is None else f"{value:.2f}{unit}"


def _app_markdown(app: dict) -> list[str]:
    lines = ["", "| case | luban-ci | baseline | ratio |", "|---|---:|---:|---:|"]
    for case in app["cases"]:
        actions = case.get("luban_actions") or {}
        how = "" if set(actions) <= {"build"} else " (" + ", ".join(f"{a} {n}x" for a, n in actions.items()) + ")"
        lines.append(f"| {case['name']}{how} | {case['luban_s']:.2f} ({case['luban_min_s']:.2f}–{case['luban_max_s']:.2f}) "
                     f"| {case['baseline_s']:.2f} ({case['baseline_min_s']:.2f}–{case['baseline_max_s']:.2f}) "
                     f"| {_fmt(case['ratio'])}x |")
    sizes = app.get("image_bytes", {})
    lines += ["", "| fact | luban-ci | baseline |", "|---|---:|---:|",
              f"| image size (compressed layers + config, bytes) | {sizes.get('luban', '–')} | {sizes.get('baseline', '–')} |"]
    layers = app.get("code_change_layers", {})
    if layers:
        lu, ba = layers.get("luban", {}), layers.get("baseline", {})
        lines.append(f"| layers changed by a code-only change | {lu.get('changed', '–')} of {lu.get('total', '–')} "
                     f"({lu.get('changed_bytes', '–')} B) | {ba.get('changed', '–')} of {ba.get('total', '–')} "
                     f"({ba.get('changed_bytes', '–')} B) |")
    same = app.get("same_digest", {})
    lines.append(f"| no-change rebuild, identical digest | {same.get('luban', '–')} | {same.get('baseline', '–')} |")
    memory = app.get("peak_memory_bytes", {})
    if memory:
        lines.append(f"| peak memory of a cold build (build containers' cgroups) | {memory.get('luban', '–')} "
                     f"| {memory.get('baseline', '–')} |")
    overhead = app.get("buildpack_overhead", {})
    if overhead:
        lines += ["", "Buildpack overhead (lifecycle detect + build minus the time inside uv; of the time inside uv, "
                  "what uv says installing CPython took), median seconds:", "",
                  "| case | detect | build | inside uv | of it, CPython install | overhead |",
                  "|---|---:|---:|---:|---:|---:|"]
        for name, row in overhead.items():
            lines.append(f"| {name} | {_fmt(row.get('detect_s'))} | {_fmt(row.get('build_s'))} "
                         f"| {_fmt(row.get('in_uv_s'))} | {_fmt(row.get('python_install_s'))} "
                         f"| {_fmt(row.get('overhead_s'))} |")
    phases = app.get("lifecycle_phases", {})
    if phases:
        names = sorted({p for row in phases.values() for p in row})
        lines += ["", "Lifecycle phases of luban-ci builds (median seconds, from `Timer:` lines of `pack build --verbose`):", "",
                  "| case | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
        for name, row in phases.items():
            lines.append(f"| {name} | " + " | ".join(_fmt(row.get(p)) for p in names) + " |")
    return lines


def markdown(result: dict) -> str:
    """bench/results/latest.md: per app, the cases table and the image facts; then the goals."""
    apps = result["apps"]
    runs = next((c["runs"] for a in apps for c in a.get("cases", [])), 0)
    names = ", ".join(f"`{a['app']}`" for a in apps)
    lines = ["# luban-ci vs a hand-written uv Dockerfile", "",
             f"Machine: {result['machine'].get('summary', '')}. Apps: {names}. "
             f"{runs} counted runs per case after {result.get('warmup', 1)} warm-up, interleaved A B A B; "
             "times in seconds, median (min–max)."]
    for app in apps:
        lines += ["", f"## `{app['app']}`" + (f" (CPython {app['python']})" if app.get("python") else "")]
        lines += _app_markdown(app)
    goals = result.get("goals", {})
    if goals:
        lines += ["", "Goals:", ""] + [f"- {k}: **{'met' if v else 'not met'}**" for k, v in goals.items()]
    return "\n".join(lines) + "\n"
