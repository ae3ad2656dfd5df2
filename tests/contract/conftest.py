"""Fixtures for the buildpack contract tier; the helpers live in contract_support (unique name)."""

from contract_support import prerequisites, workspace  # noqa: F401  (fixtures, re-exported for pytest)
