"""Fixtures for the buildpack contract tier; the helpers live in contract_support (unique name)."""

# Fixtures, re-exported for pytest.
from contract_support import prerequisites, workspace  # noqa: F401  # pylint: disable=unused-import
