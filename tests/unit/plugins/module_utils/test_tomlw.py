# -*- coding: utf-8 -*-
# Copyright: luban-ci contributors
# Apache License 2.0 (see LICENSE)
"""The deterministic TOML writer: exact text, and what tomllib reads back is what was written."""

from __future__ import annotations

import datetime
import tomllib

import pytest

from ansible_collections.luban.ci.plugins.module_utils.tomlw import TomlWriteError, dumps


def roundtrip(data: dict) -> dict:
    return tomllib.loads(dumps(data))


def test_scalars_then_tables_then_arrays_of_tables() -> None:
    data = {
        "api": "0.10",
        "buildpack": {"id": "luban/python-uv", "version": "0.1.0"},
        "stacks": [{"id": "*"}],
        "launch": True,
    }
    assert dumps(data) == (
        'api = "0.10"\nlaunch = true\n\n[buildpack]\nid = "luban/python-uv"\nversion = "0.1.0"\n\n'
        '[[stacks]]\nid = "*"\n'
    )


def test_same_input_same_bytes() -> None:
    data = {"b": 1, "a": {"z": [1, 2], "y": {"x": "v"}}, "c": [{"k": "v"}, {"k": "w"}]}
    assert dumps(data) == dumps(dict(data))
    assert roundtrip(data) == data


def test_types_round_trip() -> None:
    data = {
        "int": -42,
        "float": 1.5,
        "big": 1e16,
        "bool": False,
        "date": datetime.date(2026, 1, 2),
        "dt": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
        "list": ["a", 1, True],
        "inline": [{"a": 1}, 2],
        "empty_list": [],
        "empty_table": {},
        "nested": {"deeper": {"key": "v"}},
    }
    assert roundtrip(data) == data


def test_strings_are_escaped() -> None:
    text = 'quote " backslash \\ tab \t newline \n bell \x07 del \x7f unicode é 中'
    assert roundtrip({"s": text}) == {"s": text}
    assert dumps({"s": "\x07"}) == 's = "\\u0007"\n'


def test_keys_are_quoted_when_not_bare() -> None:
    data = {"io.buildpacks": {"a b": 1}, "": 2, "ok-key_1": 3}
    assert dumps(data) == '"" = 2\nok-key_1 = 3\n\n["io.buildpacks"]\n"a b" = 1\n'
    assert roundtrip(data) == data


def test_none_values_are_left_out() -> None:
    assert dumps({"a": None, "b": 1, "t": {"c": None, "d": 2}}) == 'b = 1\n\n[t]\nd = 2\n'


def test_table_of_only_subtables_gets_no_empty_header() -> None:
    assert dumps({"io": {"buildpacks": {"builder": "b"}}}) == '[io.buildpacks]\nbuilder = "b"\n'


def test_arrays_of_tables_nest() -> None:
    data = {"order": [{"group": [{"id": "a"}, {"id": "b", "optional": True}]}, {"group": [{"id": "c"}]}]}
    assert roundtrip(data) == data


def test_empty_document() -> None:
    assert dumps({}) == ""


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (["x"], "a TOML document must be a mapping, got list"),
        ({1: "x"}, "TOML keys must be strings, got 1"),
        ({"f": float("nan")}, "refusing to write a non-finite float: nan"),
        ({"f": float("inf")}, "refusing to write a non-finite float: inf"),
        ({"i": 2**63}, "refusing to write an integer outside the 64-bit range: 9223372036854775808"),
        ({"b": b"x"}, "TOML cannot represent a value of type bytes"),
        ({"s": {1, 2}}, "TOML cannot represent a value of type set"),
    ],
)
def test_unrepresentable_values_are_refused(data: object, message: str) -> None:
    with pytest.raises(TomlWriteError) as info:
        dumps(data)
    assert str(info.value) == message


def test_int64_bounds_are_written() -> None:
    assert roundtrip({"lo": -(2**63), "hi": 2**63 - 1}) == {"lo": -(2**63), "hi": 2**63 - 1}


def test_a_key_with_a_trailing_newline_is_quoted() -> None:
    text = dumps({"a\n": 1})
    assert text == '"a\\n" = 1\n'
    assert tomllib.loads(text) == {"a\n": 1}
