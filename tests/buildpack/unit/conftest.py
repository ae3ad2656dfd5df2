"""Fixtures for the buildpack unit tests; the helpers live in bp_helpers (a unique module name,
so this tier can run in one pytest session with the others)."""

# A fixture, re-exported for pytest.
from bp_helpers import make_context  # noqa: F401  # pylint: disable=unused-import
