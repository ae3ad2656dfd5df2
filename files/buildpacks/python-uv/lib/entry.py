"""Runs the buildpack's build phase: `python3 entry.py build [positional CNB args]`."""

import sys

from luban_python.cli import main

sys.exit(main(sys.argv[1:]))
