"""Keeps secrets out of everything luban-step prints.

Secrets are registered as soon as they are read from their mounted files; :func:`scrub` is applied
to every message before it is printed, including the output of git that an error quotes.
"""

from __future__ import annotations

import re

MASK = "***"
_SECRETS: set[str] = set()
# token@ or user:password@ in an http(s) URL; the password part of any other URL (ssh://git@ stays).
_HTTP_USERINFO = re.compile(r"(?i)(https?://)[^/@\s]+@")
_PASSWORD = re.compile(r"(?i)([a-z][a-z0-9+.-]*://[^/@\s:]*):[^/@\s]+@")
_AUTH_HEADER = re.compile(r"(?i)(authorization:\s*(?:bearer|basic|token)\s+)\S+")


def register(secret: str) -> None:
    """Remember a secret value (and its lines, for multi-line keys) for scrubbing."""
    value = secret.strip()
    if len(value) >= 4:
        _SECRETS.add(value)
    for line in value.splitlines():
        line = line.strip()
        if len(line) >= 16 and not line.startswith("-----"):
            _SECRETS.add(line)


def scrub(text: str) -> str:
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _HTTP_USERINFO.sub(r"\1" + MASK + "@", text)
    text = _PASSWORD.sub(r"\1:" + MASK + "@", text)
    return _AUTH_HEADER.sub(r"\1" + MASK, text)


def forget_all() -> None:
    """For tests: start from no registered secrets."""
    _SECRETS.clear()
