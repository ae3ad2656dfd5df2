"""Build output: sections with timings, steps, warnings and errors.

Output goes to stdout (stderr for errors) unbuffered, so it interleaves correctly with uv's.
"""

from __future__ import annotations

import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from ._vendor.catalog import render
from .errors import WARNINGS, BuildpackError


class Logger:
    def __init__(self, out: TextIO | None = None, err: TextIO | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._out = out
        self._err = err
        self.clock = clock

    # Looked up at write time so a replaced sys.stdout (tests, wrappers) is honoured.
    @property
    def out(self) -> TextIO:
        return self._out or sys.stdout

    @property
    def err(self) -> TextIO:
        return self._err or sys.stderr

    def _write(self, stream: TextIO, text: str) -> None:
        stream.write(text + "\n")
        stream.flush()

    def header(self, text: str) -> None:
        self._write(self.out, f"\n## {text}")

    @contextmanager
    def section(self, text: str) -> Iterator[None]:
        """A titled block whose duration is printed when it ends."""
        self._write(self.out, f"\n- {text}")
        start = self.clock()
        yield
        self._write(self.out, f"  - Done ({self.clock() - start:.1f}s)")

    def step(self, text: str) -> None:
        self._write(self.out, f"  - {text}")

    def info(self, text: str) -> None:
        self._write(self.out, textwrap.indent(text, "    "))

    def warning(self, key: str, **params: object) -> None:
        message = render(WARNINGS[key], **params)
        self._write(self.out, f"\n! WARNING: {message.title}\n!\n" + textwrap.indent(textwrap.fill(message.text, 96), "! ") + "\n")

    def error(self, error: BuildpackError) -> None:
        self._write(self.err, f"\n[Error: {error.title}]\n{error.text}\n")
