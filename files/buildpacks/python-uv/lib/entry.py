"""Runs a buildpack phase: `python3 entry.py detect|build [positional CNB args]`."""

import sys

from luban_python.cli import main

sys.exit(main(sys.argv[1:]))
