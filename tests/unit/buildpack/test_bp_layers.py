from __future__ import annotations

import tomllib
from pathlib import Path

from luban_python.layers import Layer, change_reason, reuse_or_reset
from luban_python.log import Logger

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
