from __future__ import annotations

from pathlib import Path

from bp_helpers import write_app
from luban_python.processes import Process, collect, parse_procfile


def test_procfile_lines_comments_and_colons_in_commands() -> None:
    text = "# processes\nweb: gunicorn app:app --bind 0.0.0.0:$PORT\n\nworker:python w.py\n"
    assert parse_procfile(text) == {"web": "gunicorn app:app --bind 0.0.0.0:$PORT", "worker": "python w.py"}


def test_web_is_the_default_and_procfile_runs_through_the_shell(tmp_path: Path) -> None:
    app = write_app(tmp_path, {"Procfile": "web: python -m app\nworker: python -m jobs\n"})
    assert collect(app, {}) == [
        Process("web", ["sh", "-c", "python -m app"], True),
        Process("worker", ["sh", "-c", "python -m jobs"], False),
    ]


def test_single_script_becomes_the_default(tmp_path: Path) -> None:
    assert collect(tmp_path, {"my_tool": "pkg:main"}) == [Process("my_tool", ["my_tool"], True)]


def test_procfile_overrides_a_script_of_the_same_type(tmp_path: Path) -> None:
    app = write_app(tmp_path, {"Procfile": "serve: serve --port 8080\n"})
    assert collect(app, {"serve": "pkg:main", "other": "pkg:other"}) == [
        Process("other", ["other"], False),
        Process("serve", ["sh", "-c", "serve --port 8080"], False),
    ]


def test_script_names_are_made_valid_process_types(tmp_path: Path) -> None:
    assert [p.type for p in collect(tmp_path, {"do:it": "pkg:main"})] == ["do-it"]


def test_no_processes(tmp_path: Path) -> None:
    assert collect(tmp_path, {}) == []
