# -*- coding: utf-8 -*-
# Copyright: luban-ci contributors
# Apache License 2.0 (see LICENSE)
"""The one catalog shape and its one renderer: how every component shows a value in a message."""

from __future__ import annotations

from ansible_collections.luban.ci.plugins.module_utils.catalog import (
    Entry,
    Fields,
    Message,
    describe,
    render,
    shown,
    with_fields,
)

FIELDS = Fields(plain=frozenset({"why"}), long=frozenset({"detail"}))
ENTRY = Entry("{path} failed: {detail}; {why}.", title="Cannot read {path}", exit=3, fields=FIELDS)


def test_a_value_is_shown_quoted_on_one_line_printable_and_bounded() -> None:
    assert shown("a\nb\tc\u202e\u00e9'") == "'a\\nb\\tc\\u202e\\xe9\\''"
    assert shown("x" * 5000) == "'" + "x" * 200 + "...(5000 characters)'"
    assert shown(7, quote=False) == "7"
    assert shown("x" * 300, None, quote=False) == "x" * 300


def test_render_quotes_every_field_its_catalog_does_not_name() -> None:
    message = render(ENTRY, path="app\n[Error: forged]", detail="E" * 500, why="it is a directory")
    assert message == Message(
        "'app\\n[Error: forged]' failed: " + "E" * 400 + "...(500 characters); it is a directory.",
        "Cannot read 'app\\n[Error: forged]'", 3,
    )


def test_plain_and_long_fields_are_still_single_line() -> None:
    assert render(ENTRY, path="p", detail="line 1\nline 2", why="a\nb").text == "'p' failed: line 1\\nline 2; a\\nb."


def test_a_list_is_shown_item_by_item() -> None:
    assert render(Entry("The file lists {versions}."), versions=["3.13", "3.12\n"]).text == (
        "The file lists '3.13', '3.12\\n'."
    )
    assert render(Entry("{why}.", fields=FIELDS), why=("a", "b")).text == "a, b."


def test_an_entry_without_title_or_exit_renders_to_its_text_alone() -> None:
    assert render(Entry("Nothing to do.")) == Message("Nothing to do.", "", None)


def test_a_catalog_gives_every_entry_its_rule_for_fields() -> None:
    catalog = with_fields(FIELDS, {"a": Entry("{why}"), "b": Entry("{path}", exit=2)})
    assert {key: entry.fields for key, entry in catalog.items()} == {"a": FIELDS, "b": FIELDS}
    assert catalog["b"].exit == 2


def test_describe_names_the_type_and_shows_the_content() -> None:
    assert describe(None) == "empty (null)"
    assert describe("it's") == "the string 'it\\'s'"
    assert describe(3) == "an int (3)"
    assert describe(["a\n"]) == "a list (['a\\n'])"
