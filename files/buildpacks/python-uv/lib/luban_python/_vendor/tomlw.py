# -*- coding: utf-8 -*-
# Copyright: luban-ci contributors
# Apache License 2.0 (see LICENSE)
"""A small, deterministic TOML writer (standard library only).

The collection writes TOML in three places: ``builder.toml`` (filter plugin), the buildpack's
layer metadata and ``launch.toml``, and ``project.toml`` fixtures.  None of them may depend on a
third-party package (the buildpack runs on the build image's bare Python), so this module is the
one writer they share.  The buildpack carries a byte-identical copy (``luban_python._vendor.tomlw``,
written by ``scripts/vendor.py``).

Output is stable: tables keep the insertion order of the mapping given, scalars come before
sub-tables, and the same input always yields the same bytes.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Mapping, Sequence

__all__ = ["TomlWriteError", "dumps"]

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


class TomlWriteError(ValueError):
    """A value that TOML cannot represent."""


def dumps(data: Mapping) -> str:
    """Serialise a mapping to a TOML document."""
    if not isinstance(data, Mapping):
        raise TomlWriteError("a TOML document must be a mapping, got %s" % type(data).__name__)
    lines: list[str] = []
    _table(lines, (), data)
    text = "\n".join(lines).strip("\n")
    return text + "\n" if text else ""


def _key(key: object) -> str:
    if not isinstance(key, str):
        raise TomlWriteError("TOML keys must be strings, got %r" % (key,))
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def _path(path: tuple[str, ...]) -> str:
    return ".".join(_key(part) for part in path)


def _is_table_array(value: object) -> bool:
    return (
        isinstance(value, Sequence)
        and not isinstance(value, (str, bytes))
        and len(value) > 0
        and all(isinstance(item, Mapping) for item in value)
    )


def _table(lines: list[str], path: tuple[str, ...], table: Mapping) -> None:
    scalars = [(k, v) for k, v in table.items() if v is not None and not isinstance(v, Mapping) and not _is_table_array(v)]
    tables = [(k, v) for k, v in table.items() if isinstance(v, Mapping)]
    arrays = [(k, v) for k, v in table.items() if _is_table_array(v)]
    for key, value in scalars:
        lines.append("%s = %s" % (_key(key), _value(value)))
    for key, value in tables:
        sub = path + (key,)
        has_scalars = any(v is not None and not isinstance(v, Mapping) and not _is_table_array(v) for v in value.values())
        if has_scalars or not value:
            lines.extend(["", "[%s]" % _path(sub)])
        _table(lines, sub, value)
    for key, items in arrays:
        sub = path + (key,)
        for item in items:
            lines.extend(["", "[[%s]]" % _path(sub)])
            _table(lines, sub, item)


def _string(text: str) -> str:
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append("\\u%04x" % ord(char))
        else:
            out.append(char)
    return '"%s"' % "".join(out)


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        # TOML integers are 64-bit signed; a larger one would be rejected by every reader.
        if not -(2**63) <= value < 2**63:
            raise TomlWriteError("refusing to write an integer outside the 64-bit range: %d" % value)
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise TomlWriteError("refusing to write a non-finite float: %r" % value)
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return "{ %s }" % ", ".join("%s = %s" % (_key(k), _value(v)) for k, v in value.items() if v is not None)
    if isinstance(value, Sequence) and not isinstance(value, bytes):
        return "[%s]" % ", ".join(_value(item) for item in value)
    raise TomlWriteError("TOML cannot represent a value of type %s" % type(value).__name__)
