# -*- coding: utf-8 -*-
# Copyright: luban-ci contributors
# Apache License 2.0 (see LICENSE)
"""Make ``ansible_collections.luban.ci`` importable for plain pytest runs.

Under ``ansible-test units`` the collection loader is already installed; a plain ``pytest`` run
(``make test-plugins-unit``) gets Ansible's own collection finder pointed at a temporary
``ansible_collections/luban/ci`` link to this checkout, so the plugins import exactly as they do
when Ansible loads them.
"""

from __future__ import annotations

import importlib
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def _install_collection_finder() -> None:
    try:
        importlib.import_module("ansible_collections.luban.ci.plugins.module_utils.languages")
        return
    except ImportError:
        pass
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

    root = Path(tempfile.mkdtemp(prefix="luban-ci-collections-"))
    (root / "ansible_collections" / "luban").mkdir(parents=True)
    os.symlink(REPO, root / "ansible_collections" / "luban" / "ci")
    # The failed import above cached a plain namespace package; the finder must own the name.
    for name in [n for n in sys.modules if n == "ansible_collections" or n.startswith("ansible_collections.")]:
        del sys.modules[name]
    _AnsibleCollectionFinder(paths=[str(root)])._install()


_install_collection_finder()
