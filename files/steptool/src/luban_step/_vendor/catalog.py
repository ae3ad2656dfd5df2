# -*- coding: utf-8 -*-
# Copyright: luban-ci contributors
# Apache License 2.0 (see LICENSE)
"""One shape for every catalog of user-facing messages, and the one function that renders them.

Each component of luban-ci (the Ansible plugins, the step tool ``luban-step``, the python-uv
buildpack) keeps its messages in a catalog: a dict from a snake_case key to an :class:`Entry`
that says what happened, why it matters and what to do. :func:`render` fills an entry in, and it
alone decides how a value is shown, so hostile input (a file name, a branch, a line of a user's
file) reads the same in every message: quoted, on one line, printable ASCII, cut at a bounded
length, so that it cannot forge or flood log lines. A catalog names the fields its component
writes itself (``plain``) and the fields that carry a remote system's or the OS's own text
(``long``); every other field is quoted.

The step tool and the buildpack carry byte-identical copies of this file in their ``_vendor``
packages (written by ``scripts/vendor.py``), so it imports the standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

__all__ = ["Entry", "Fields", "Message", "QUOTED", "describe", "render", "shown", "with_fields"]

SHOWN_LIMIT = 200
LONG_LIMIT = 400


@dataclass(frozen=True)
class Fields:
    """How a catalog shows the values of its fields."""

    plain: frozenset = frozenset()  # written by the component itself: unquoted, never cut
    long: frozenset = frozenset()  # a remote system's or the OS's text: unquoted, cut at LONG_LIMIT
    limit: int = SHOWN_LIMIT  # every other field: cut at this length ...
    quote: bool = True  # ... and quoted


QUOTED = Fields()


@dataclass(frozen=True)
class Entry:
    """One catalog entry: a text, a title where the component shows one, an exit code where it has one."""

    text: str
    title: str = ""
    exit: int | None = None
    fields: Fields = field(default=QUOTED, repr=False)


@dataclass(frozen=True)
class Message:
    """An entry with its fields filled in."""

    text: str
    title: str = ""
    exit: int | None = None


def with_fields(fields: Fields, entries: dict) -> dict:
    """A catalog: its entries, each shown by the catalog's one rule for its fields."""
    return {key: replace(entry, fields=fields) for key, entry in entries.items()}


def shown(value: object, limit: int | None = SHOWN_LIMIT, quote: bool = True) -> str:
    """A value as a message shows it: single line, printable ASCII, at most ``limit`` characters kept."""
    text = str(value)
    cut = limit is not None and len(text) > limit
    safe = "".join(
        c if (c.isascii() and c.isprintable()) else c.encode("unicode_escape").decode("ascii")
        for c in (text[:limit] if cut else text)
    )
    if cut:
        safe += "...(%d characters)" % len(text)
    return "'" + safe.replace("'", "\\'") + "'" if quote else safe


def _show(name: str, value: object, fields: Fields) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_show(name, item, fields) for item in value)
    if name in fields.plain:
        return shown(value, None, quote=False)
    if name in fields.long:
        return shown(value, LONG_LIMIT, quote=False)
    return shown(value, fields.limit, fields.quote)


def render(entry: Entry, /, **values: object) -> Message:
    """The entry's title and text with every field shown by the catalog's rule (a list: item by item)."""
    safe = {name: _show(name, value, entry.fields) for name, value in values.items()}
    return Message(entry.text.format(**safe), entry.title.format(**safe), entry.exit)


def describe(value: object) -> str:
    """What a configuration value is, for a message saying it is the wrong type (its content shown)."""
    if value is None:
        return "empty (null)"
    if isinstance(value, str):
        return "the string " + shown(value)
    name = type(value).__name__
    return "%s %s (%s)" % ("an" if name[0] in "aeiou" else "a", name, shown(repr(value), quote=False))
