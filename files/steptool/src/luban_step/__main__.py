"""Allows ``python -m luban_step``."""

import sys

from luban_step.cli import main

sys.exit(main())
