"""The benchmark's own statistics, log parsing and report (no Docker)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import report  # noqa: E402

LOG = """\
===> DETECTING
Timer: Detector ran for 115.972613ms and ended at 2026-11-24T06:16:44Z
===> RESTORING
Timer: Restorer ran for 1.377590914s and ended at 2026-11-24T06:16:46Z
===> BUILDING
Timer: Builder ran for 1m2.5s and ended at 2026-11-24T06:17:48Z
## luban/python-uv
- Checking the app
  - Package manager: uv with uv.lock
  - Done (0.0s)
- Installing uv
  - Using the vendored uv 0.13.9
  - Done (0.1s)
- Installing Python and the dependencies
  - Installing CPython 3.12.1 into the python layer: no previous layer
      Installed Python 3.12.1 in 994ms
  - Running: uv sync --locked --no-dev --compile-bytecode
  - Done (21.5s)
- Writing the processes
  - Done (0.1s)
"""


def test_summary_is_median_with_min_and_max() -> None:
    assert report.summarize([3.0, 1.0, 2.0, 10.0]) == report.Summary(median=2.5, min=1.0, max=10.0, n=4)


def test_summary_refuses_no_runs() -> None:
    with pytest.raises(ValueError, match="no counted runs"):
        report.summarize([])


def test_ratio_is_luban_over_baseline() -> None:
    assert report.ratio(1.0, 2.0) == 0.5
    assert report.ratio(1.0, 0.0) is None


def test_case_row_has_the_shape_latest_json_promises() -> None:
    row = report.case_row("code-change", [2.0, 3.0, 4.0], [1.0, 2.0, 3.0])
    assert {k: row[k] for k in ("name", "luban_s", "baseline_s", "ratio", "runs")} == {
        "name": "code-change", "luban_s": 3.0, "baseline_s": 2.0, "ratio": 1.5, "runs": 3}
    assert (row["luban_min_s"], row["luban_max_s"]) == (2.0, 4.0)


@pytest.mark.parametrize("text, seconds", [("1.5s", 1.5), ("812ms", 0.812), ("1m2.5s", 62.5), ("3µs", 3e-6)])
def test_go_durations(text: str, seconds: float) -> None:
    assert report.go_duration(text) == pytest.approx(seconds)


def test_go_duration_refuses_other_text() -> None:
    with pytest.raises(ValueError):
        report.go_duration("1.5 seconds")


def test_phase_timers_and_buildpack_sections_are_parsed() -> None:
    assert report.phase_timers(LOG) == pytest.approx({"Detector": 0.115972613, "Restorer": 1.377590914, "Builder": 62.5})
    assert report.buildpack_sections(LOG) == {"Checking the app": 0.0, "Installing uv": 0.1,
                                              "Installing Python and the dependencies": 21.5, "Writing the processes": 0.1}


def test_overhead_is_detect_plus_build_minus_time_in_uv() -> None:
    row = report.buildpack_overhead(LOG)
    assert row is not None
    assert row["in_uv_s"] == 21.5
    assert row["python_install_s"] == 0.994
    assert row["overhead_s"] == pytest.approx(0.116 + 62.5 - 21.5, abs=0.001)


@pytest.mark.parametrize("log, seconds", [
    ("      Installed Python 3.12.1 in 1.02s\n", 1.02),
    ("[build]       Installed Python 3.13.0 in 347ms\n", 0.347),
    ("  - Reusing the python layer\n", 0.0),
])
def test_python_install_is_what_uv_reports(log: str, seconds: float) -> None:
    assert report.python_install_seconds(log) == pytest.approx(seconds)


def test_overhead_needs_the_verbose_timers() -> None:
    assert report.buildpack_overhead("- Installing Python and the dependencies\n  - Done (1.0s)\n") is None


def test_markdown_lists_every_app_case_and_goal() -> None:
    apps = [{"app": "examples/web-flask", "python": "3.12.1", "cases": [report.case_row("cold", [4.0], [8.0])],
             "image_bytes": {"luban": 1, "baseline": 2}, "same_digest": {"luban": True, "baseline": True}},
            {"app": "examples/native-sdist", "python": "3.13.0", "cases": [report.case_row("rebase", [0.1], [5.0])],
             "image_bytes": {"luban": 3, "baseline": 4}, "same_digest": {"luban": True, "baseline": True}}]
    result = {"machine": {"summary": "2 CPUs"}, "warmup": 1, "apps": apps, "goals": {"rebase <= 2 s": True}}
    text = report.markdown(result)
    assert "Apps: `examples/web-flask`, `examples/native-sdist`." in text
    web, native = text.index("## `examples/web-flask` (CPython 3.12.1)"), text.index("## `examples/native-sdist` (CPython 3.13.0)")
    assert web < text.index("| cold | 4.00 (4.00–4.00) | 8.00 (8.00–8.00) | 0.50x |") < native
    assert native < text.index("| rebase | 0.10 (0.10–0.10) | 5.00 (5.00–5.00) | 0.02x |")
    assert "| image size (compressed layers + config, bytes) | 3 | 4 |" in text
    assert text.rstrip().endswith("- rebase <= 2 s: **met**")


def test_code_edit_replaces_its_own_marker_and_keeps_the_code(tmp_path: Path) -> None:
    import bench

    (tmp_path / "app.py").write_text("print('hi')\n")
    bench.edit_code(tmp_path, "1-0")
    bench.edit_code(tmp_path, "1-1")
    assert (tmp_path / "app.py").read_text() == "print('hi')\n# bench edit 1-1\n"


def test_baseline_command_is_the_procfile_web_line(tmp_path: Path) -> None:
    import bench

    (tmp_path / "Procfile").write_text("worker: python w.py\nweb: exec python app.py\n")
    assert bench.web_command(tmp_path) == "exec python app.py"
    (tmp_path / "Procfile").write_text("worker: python w.py\n")
    with pytest.raises(SystemExit, match="has no `web:` line in a Procfile"):
        bench.web_command(tmp_path)


def test_baseline_cmd_runs_a_procfile_line_like_a_procfile(tmp_path: Path) -> None:
    import json
    import subprocess

    dockerfile = (Path(__file__).resolve().parents[1] / "baseline" / "Dockerfile").read_text()
    (cmd,) = [json.loads(line[len("CMD "):]) for line in dockerfile.splitlines() if line.startswith("CMD ")]
    env = {"PATH": "/usr/bin:/bin", "APP_CMD": 'exec echo "listening on ${PORT:-8080}"'}
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    assert (result.returncode, result.stdout) == (0, "listening on 8080\n")
