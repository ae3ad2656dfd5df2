# -*- coding: utf-8 -*-
# Copyright: luban-ci contributors
# Apache License 2.0 (see LICENSE)
from __future__ import annotations

DOCUMENTATION = r"""
name: language_registry
short_description: The language registry as data, with optional builder overrides
version_added: 0.1.0
author:
  - luban-ci maintainers (@metasync)
description:
  - Returns the collection's language registry as a list of C({name, detect, builder, template}),
    the shape the pipeline's detect step reads from its ConfigMap.
  - The input maps language names to builder image references that replace the registry's default
    builders, for example a builder pinned by digest. An empty mapping keeps the defaults.
  - With O(registry), that list is validated and used instead of the collection's registry.
options:
  _input:
    description: Builder overrides, language name to image reference.
    type: dict
    required: true
  registry:
    description: A registry to validate and return instead of the collection's default one.
    type: list
    elements: dict
notes:
  - Errors are raised as AnsibleFilterError; the messages are listed in C(docs/plugins.md).
"""

EXAMPLES = r"""
- name: Registry for the language ConfigMap, the python builder pinned by digest
  ansible.builtin.set_fact:
    example_registry: "{{ {'python': 'quay.io/example/builder@sha256:0123'} | luban.ci.language_registry }}"

- name: The default registry
  ansible.builtin.debug:
    msg: "{{ {} | luban.ci.language_registry | to_nice_json }}"
"""

RETURN = r"""
_value:
  description: The registry, in detection order (the first language that matches wins).
  type: list
  elements: dict
  contains:
    name:
      description: Language name, used in project.toml and as an Argo parameter.
      type: str
      sample: python
    detect:
      description: File names or globs in the app directory that identify the language.
      type: list
      elements: str
      sample: [pyproject.toml, uv.lock, requirements.txt]
    builder:
      description: Builder image reference.
      type: str
      sample: 127.0.0.1:5000/luban/builder-python:latest
    template:
      description: Argo WorkflowTemplate that builds the language.
      type: str
      sample: luban-build-python
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.luban.ci.plugins.module_utils.languages import (
    DEFAULT_REGISTRY,
    LanguageSelectionError,
    registry_from_data,
    registry_to_data,
    with_builders,
)


def language_registry(builders, registry=None):
    """Return the registry as data, with the given builders replacing the defaults."""
    try:
        languages = DEFAULT_REGISTRY if registry is None else registry_from_data(registry)
        return registry_to_data(with_builders(languages, {} if builders is None else builders))
    except LanguageSelectionError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    """The language_registry filter."""

    def filters(self):
        return {"language_registry": language_registry}
