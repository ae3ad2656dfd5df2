#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: luban-ci contributors
# Apache License 2.0 (see LICENSE)
from __future__ import annotations

DOCUMENTATION = r"""
module: build_inputs
short_description: Find out whether an app's image was already built from the same inputs
version_added: 0.1.0
author:
  - luban-ci maintainers (@metasync)
description:
  - Computes one key from the inputs of a C(pack build) of a locked app, the app's files (the git
    tree of its directory when it is committed and clean, else a digest of its files), the builder
    image the Docker engine holds (its ID, which covers its buildpacks, lifecycle, build image and
    run image name), the contents of the bindings mounted into the build, the extra build
    arguments and the platform programs (C(pack)), and asks the registry for the image tagged C(<repository>:inputs-<key>).
  - Returns C(decision=build) when there is none, C(reuse) when there is one on the run image the
    build uses now (C(--run-image) in O(arguments), else the builder's), C(rebase) when there is one on
    another run image of the same platform and distribution release (its C(io.buildpacks.base.distro.*)
    labels), C(build) when that run image is of another platform or release, the image is marked not
    rebasable, or the run image's name is neither the one the image's metadata records nor one of its
    mirrors (the lifecycle's rebaser refuses it). The run image is not part of the key, so moving it (a
    new digest pinned under the same name) is a rebase.
  - Returns C(build) for an image found whose layers are past their end of support, so the buildpack
    decides again whether their content may still be used (the python-uv buildpack refuses an
    end-of-life Python, or warns); a buildpack records that date as C(expires), a C(YYYY-MM-DD) day,
    in a layer's metadata, which the image keeps in its C(io.buildpacks.lifecycle.metadata) label.
    The layer is past it from the next day on; an C(expires) that is no such date counts as past.
  - An app without a lock file is always built, and so is every app when the engine or the
    registry cannot be asked; the module never fails a build.
  - A binding of type C(uv-python-mirror) counts by its downloads list, which pins every CPython
    archive by sha256.
options:
  app_dir:
    description: The app directory C(pack build --path) is given.
    type: path
    required: true
  repository:
    description: The repository the image is published to (no tag).
    type: str
    required: true
  builder:
    description: The builder image C(pack build --builder) is given.
    type: str
    required: true
  bindings:
    description: Binding name to the directory mounted as C(/platform/bindings/<name>).
    type: dict
    default: {}
  arguments:
    description: >-
      The extra C(pack build) arguments, which may change the image (C(--env) for one); a C(--run-image)
      among them names the run image to compare with and is left out of the key.
    type: list
    elements: str
    default: []
  tools:
    description:
      - The platform programs that run the build (C(pack)), a name on C(PATH) or a path; each counts by
        its path, size and modification time.
    type: list
    elements: str
    default: []
  locks:
    description: File names in the app directory that fix its dependencies; without one the app is always built.
    type: list
    elements: str
    default: [uv.lock]
  docker_host:
    description: The Docker engine's API socket (C(unix://) only); default C(DOCKER_HOST) or the standard socket.
    type: str
  docker_config:
    description: The Docker config directory with the registry credentials; default C(DOCKER_CONFIG) or C(~/.docker).
    type: path
  insecure_registries:
    description: Registries reached over plain HTTP (C(localhost) and C(127.0.0.1) always are).
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - luban.ci.read_only
attributes:
  platform:
    support: full
    platforms: posix
    description: Linux with a Docker engine on a unix socket.
"""

EXAMPLES = r"""
- name: Find out whether the app's inputs were built already
  luban.ci.build_inputs:
    app_dir: /srv/checkout/services/api
    repository: quay.io/example/api
    builder: quay.io/example/builder@sha256:0123
  register: example_inputs

- name: Build only when nothing was built from these inputs
  ansible.builtin.command:
    argv: "{{ ['pack', 'build', 'quay.io/example/api:latest', '--publish']
              + (['--tag', example_inputs.tag] if example_inputs.tag else []) }}"
  when: example_inputs.decision == 'build'
"""

RETURN = r"""
decision:
  description: C(build), C(reuse) or C(rebase).
  returned: always
  type: str
  sample: reuse
reason:
  description: Why, in a sentence for the build log.
  returned: always
  type: str
key:
  description: The inputs key (empty when the app is always built).
  returned: always
  type: str
tag:
  description: C(<repository>:inputs-<key>), which a build publishes as well (empty when the app is always built).
  returned: always
  type: str
digest:
  description: The digest of the image found for the key (empty when there is none).
  returned: always
  type: str
run_image:
  description: The run image the found image is compared with (C(--run-image) in O(arguments), else the builder's).
  returned: always
  type: str
run_image_digest:
  description: The run image's digest now.
  returned: always
  type: str
seconds:
  description: How long the module's own work took (importing its code, the key, the questions), without
    the start-up every Ansible module has.
  returned: always
  type: float
"""

import os
import time
from pathlib import Path

from ansible.module_utils.basic import AnsibleModule

# What every module pays before this line (the interpreter, AnsibleModule; the command module that
# runs pack as well) is Ansible's; what follows is this module's own time, reported as `seconds`.
STARTED = time.monotonic()

from ansible_collections.luban.ci.plugins.module_utils.build_inputs import GIT_ENV, Registry, decide  # noqa: E402


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "app_dir": {"type": "path", "required": True},
            "repository": {"type": "str", "required": True},
            "builder": {"type": "str", "required": True},
            "bindings": {"type": "dict", "default": {}},
            "arguments": {"type": "list", "elements": "str", "default": []},
            "tools": {"type": "list", "elements": "str", "default": []},
            "locks": {"type": "list", "elements": "str", "default": ["uv.lock"]},
            "docker_host": {"type": "str"},
            "docker_config": {"type": "path"},
            "insecure_registries": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    p = module.params
    docker_host = p["docker_host"] or os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    docker_config = Path(p["docker_config"] or os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")

    def run(argv: list, cwd: str | None, data: str | None) -> tuple[int, str]:
        code, out, _err = module.run_command(argv, cwd=cwd, data=data, environ_update=GIT_ENV, handle_exceptions=False)
        return code, out

    registry = Registry(docker_config, run, tuple(p["insecure_registries"]))
    decision = decide(Path(p["app_dir"]), p["repository"], p["builder"],
                      {str(k): Path(str(v)) for k, v in p["bindings"].items()}, p["arguments"], p["locks"],
                      registry, docker_host, run, tools=p["tools"])
    module.exit_json(changed=False, decision=decision.action, reason=decision.reason, key=decision.key,
                     tag=decision.tag, digest=decision.digest, run_image=decision.run_image,
                     run_image_digest=decision.run_image_digest, seconds=round(time.monotonic() - STARTED, 3))


if __name__ == "__main__":
    main()
