# -*- coding: utf-8 -*-
# Copyright: luban-ci contributors
# Apache License 2.0 (see LICENSE)
from __future__ import annotations

DOCUMENTATION = r"""
name: select_language
short_description: Select the language, builder and Argo template for an app in a checkout
version_added: 0.1.0
author:
  - luban-ci maintainers (@metasync)
description:
  - Reads the app directory of a checkout on the controller and returns which language it is, the
    builder image that builds it and the Argo WorkflowTemplate that runs the build.
  - C(project.toml) in the app directory overrides detection, C([io.luban-ci] language) names the
    language and C([io.buildpacks] builder) the builder (CNB project descriptor 0.2; a 0.1
    descriptor may name the language under C([metadata.io.luban-ci])).
  - Otherwise the first registry language with one of its detection files in the app directory wins.
  - The same code runs in the pipeline's detect step, so both agree on every checkout.
  - Use the module M(luban.ci.select_language) to run it on a managed host.
options:
  _input:
    description: Path of the checkout (repository root) on the controller.
    type: path
    required: true
extends_documentation_fragment:
  - luban.ci.language_selection
notes:
  - Errors are raised as AnsibleFilterError; the messages are listed in C(docs/plugins.md).
"""

EXAMPLES = r"""
- name: Detect the language of the example app
  ansible.builtin.set_fact:
    example_selection: "{{ '/srv/checkout' | luban.ci.select_language(app_path='services/api') }}"

- name: Detect with the python builder pinned by digest
  ansible.builtin.set_fact:
    example_selection: >-
      {{ '/srv/checkout' | luban.ci.select_language(builders={'python': 'quay.io/example/builder@sha256:0123'}) }}
"""

RETURN = r"""
_value:
  description: The selection.
  type: dict
  contains:
    language:
      description: Name of the selected language.
      type: str
      sample: python
    builder:
      description: Builder image reference (from project.toml or the registry).
      type: str
      sample: 127.0.0.1:5000/luban/builder-python:latest
    template:
      description: Argo WorkflowTemplate that builds this language.
      type: str
      sample: luban-build-python
    app_path:
      description: The app path, normalised (no trailing slash, C(.) for the root).
      type: str
      sample: services/api
    source:
      description: C(project.toml) when the descriptor chose the language or the builder, else C(detected).
      type: str
      sample: detected
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.luban.ci.plugins.module_utils.languages import (
    DEFAULT_REGISTRY,
    LanguageSelectionError,
    registry_from_data,
    select_language as _select,
    with_builders,
)


def select_language(checkout, app_path=".", registry=None, builders=None):
    """Return the language selection for ``app_path`` in ``checkout`` as a dict."""
    try:
        languages = DEFAULT_REGISTRY if registry is None else registry_from_data(registry)
        languages = with_builders(languages, {} if builders is None else builders)
        return _select(str(checkout), app_path, languages).as_dict()
    except LanguageSelectionError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    """The select_language filter."""

    def filters(self):
        return {"select_language": select_language}
