"""Fixtures for the buildpack unit tests; the helpers live in bp_helpers (a unique module name,
so this tier can run in one pytest session with the others)."""

from bp_helpers import make_context  # noqa: F401  (a fixture, re-exported for pytest)
