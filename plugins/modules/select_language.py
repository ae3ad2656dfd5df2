#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: luban-ci contributors
# Apache License 2.0 (see LICENSE)
from __future__ import annotations

DOCUMENTATION = r"""
module: select_language
short_description: Select the language, builder and Argo template for an app in a checkout
version_added: 0.1.0
author:
  - luban-ci maintainers (@metasync)
description:
  - Reads the app directory of a checkout on the managed host and returns which language it is, the
    builder image that builds it and the Argo WorkflowTemplate that runs the build.
  - C(project.toml) in the app directory overrides detection, C([io.luban-ci] language) names the
    language and C([io.buildpacks] builder) the builder (CNB project descriptor 0.2; a 0.1
    descriptor may name the language under C([metadata.io.luban-ci])).
  - Otherwise the first registry language with one of its detection files in the app directory wins.
  - The same code runs in the pipeline's detect step and in the filter
    P(luban.ci.select_language#filter).
  - Reading C(project.toml) needs Python 3.11 or later on the managed host.
options:
  checkout:
    description: Path of the checkout (repository root).
    type: path
    required: true
extends_documentation_fragment:
  - luban.ci.language_selection
  - luban.ci.read_only
attributes:
  platform:
    support: full
    platforms: posix
    description: Runs wherever the managed host has Python 3.9 or later (3.11 or later to read project.toml).
notes:
  - Failure messages come from the language selection error catalog listed in C(docs/plugins.md).
"""

EXAMPLES = r"""
- name: Select the language of the checked-out app
  luban.ci.select_language:
    checkout: /srv/checkout
    app_path: services/api
  register: example_selection

- name: Show the builder that builds it
  ansible.builtin.debug:
    msg: "{{ example_selection.language }} via {{ example_selection.builder }}"

- name: Select with the python builder pinned by digest
  luban.ci.select_language:
    checkout: /srv/checkout
    builders:
      python: quay.io/example/builder@sha256:0123
"""

RETURN = r"""
language:
  description: Name of the selected language.
  returned: success
  type: str
  sample: python
builder:
  description: Builder image reference (from project.toml, the overrides or the registry).
  returned: success
  type: str
  sample: 127.0.0.1:5000/luban/builder-python:latest
template:
  description: Argo WorkflowTemplate that builds this language.
  returned: success
  type: str
  sample: luban-build-python
app_path:
  description: The app path, normalised (no trailing slash, C(.) for the root).
  returned: success
  type: str
  sample: services/api
source:
  description: C(project.toml) when the descriptor chose the language or the builder, else C(detected).
  returned: success
  type: str
  sample: detected
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.luban.ci.plugins.module_utils.languages import (
    DEFAULT_REGISTRY,
    LanguageSelectionError,
    registry_from_data,
    select_language,
    with_builders,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            checkout=dict(type="path", required=True),
            app_path=dict(type="str", default="."),
            registry=dict(type="list", elements="dict"),
            builders=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        registry = DEFAULT_REGISTRY if params["registry"] is None else registry_from_data(params["registry"])
        registry = with_builders(registry, params["builders"])
        selection = select_language(params["checkout"], params["app_path"], registry)
    except LanguageSelectionError as exc:
        module.fail_json(msg=str(exc), error=exc.code)
    module.exit_json(changed=False, **selection.as_dict())


if __name__ == "__main__":
    main()
