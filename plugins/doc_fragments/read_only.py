# -*- coding: utf-8 -*-
# Copyright: luban-ci contributors
# Apache License 2.0 (see LICENSE)
"""Attributes shared by the modules that only read and change nothing."""

from __future__ import annotations


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    """Check mode and diff mode of a module that only reads."""

    DOCUMENTATION = r"""
attributes:
  check_mode:
    support: full
    description: The module only reads, so it runs unchanged in check mode.
  diff_mode:
    support: none
    description: Nothing is changed, so there is no difference to show.
"""
