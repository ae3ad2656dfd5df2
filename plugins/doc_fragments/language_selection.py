# -*- coding: utf-8 -*-
# Copyright: luban-ci contributors
# Apache License 2.0 (see LICENSE)
"""Options shared by the filter and the module that select an app's language."""

from __future__ import annotations


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    """The app path and registry options of luban.ci.select_language (filter and module)."""

    DOCUMENTATION = r"""
options:
  app_path:
    description:
      - Directory of the app, relative to the checkout. Absolute paths, C(..) and symbolic links that
        leave the checkout are refused.
    type: str
    default: "."
  registry:
    description:
      - The language registry, a list of C({name, detect, builder, template}) as returned by
        P(luban.ci.language_registry#filter). Defaults to the collection's registry.
    type: list
    elements: dict
  builders:
    description: Builder image overrides, language name to image reference (e.g. pinned by digest).
    type: dict
    default: {}
"""
