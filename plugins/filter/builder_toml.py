# -*- coding: utf-8 -*-
# Copyright: luban-ci contributors
# Apache License 2.0 (see LICENSE)
from __future__ import annotations

DOCUMENTATION = r"""
name: builder_toml
short_description: Render a Cloud Native Buildpacks builder.toml from a mapping
version_added: 0.1.0
author:
  - luban-ci maintainers (@metasync)
description:
  - Validates a builder configuration and renders it as the text of C(builder.toml) for
    C(pack builder create).
  - The mapping mirrors C(builder.toml) key for key. Everything C(pack builder create) would refuse
    is refused here with a message that says what to change, so a bad variable fails the play early.
  - Also refused, because such a builder cannot build anything, are an empty or missing C(order),
    an order group naming a buildpack that the C(buildpacks) list does not carry (checked when every
    listed buildpack declares its C(id)), and the deprecated C(stack) table.
  - Output is canonical, keys are written in one fixed order whatever the order of the input, so
    the same configuration always yields the same bytes (no spurious C(changed) on re-runs).
  - TOML is written by the collection's standard-library writer C(plugins/module_utils/tomlw.py).
options:
  _input:
    description: The builder configuration.
    type: dict
    required: true
    suboptions:
      description:
        description: Human readable description of the builder.
        type: str
      buildpacks:
        description:
          - Buildpacks to put in the builder. Each needs exactly one of C(uri) (directory, archive,
            C(docker://) reference) or C(image); C(id) and C(version) are optional.
        type: list
        elements: dict
      extensions:
        description: Image extensions, same shape as O(_input.buildpacks).
        type: list
        elements: dict
      order:
        description:
          - Detection order, a non-empty list of C({group = [{id, version?, optional?}]}).
        type: list
        elements: dict
        required: true
      order-extensions:
        description: Detection order of the extensions, same shape as O(_input.order).
        type: list
        elements: dict
      system:
        description: System buildpacks, C({pre = {buildpacks = [...]}, post = {buildpacks = [...]}}).
        type: dict
      lifecycle:
        description:
          - The lifecycle, either C({uri = ...}) (an archive with C(lifecycle.toml) and C(lifecycle/))
            or C({version = ...}); not both.
        type: dict
      build:
        description:
          - The build image, C({image = ..., env = [{name, value, suffix?, delim?, exec-env?}]}).
          - C(suffix) is one of C(default), C(override), C(append), C(prepend); C(append) and
            C(prepend) need C(delim).
        type: dict
        required: true
      run:
        description: Run images, C({images = [{image, mirrors?}]}), at least one.
        type: dict
        required: true
      targets:
        description: Targets, C([{os, arch, variant?, distros? = [{name, version?}]}]).
        type: list
        elements: dict
notes:
  - Errors are raised as AnsibleFilterError; the messages are listed in C(docs/plugins.md).
seealso:
  - name: builder.toml reference
    description: The builder configuration file read by pack builder create.
    link: https://buildpacks.io/docs/reference/config/builder-config/
"""

EXAMPLES = r"""
- name: Write builder.toml for the local builder
  ansible.builtin.copy:
    dest: /tmp/builder/builder.toml
    mode: "0644"
    content: "{{ builder_config | luban.ci.builder_toml }}"
  vars:
    builder_config:
      description: luban-ci builder on Amazon Linux 2023
      buildpacks:
        - uri: /tmp/buildpacks/python-uv
          id: luban/python-uv
      order:
        - group:
            - id: luban/python-uv
      lifecycle:
        uri: /tmp/lifecycle.tgz
      build:
        image: localhost:5000/luban/stack-build:al2023
      run:
        images:
          - image: localhost:5000/luban/stack-run:al2023
      targets:
        - os: linux
          arch: amd64
          distros:
            - name: amzn
              version: "2023"
"""

RETURN = r"""
_value:
  description: The builder.toml text, ending in a newline.
  type: string
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.luban.ci.plugins.module_utils.builder_toml import BuilderConfigError, render


def builder_toml(config):
    """Render builder.toml text from a builder configuration mapping."""
    try:
        return render(config)
    except BuilderConfigError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    """The builder_toml filter."""

    def filters(self):
        return {"builder_toml": builder_toml}
