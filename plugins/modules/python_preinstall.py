#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: luban-ci contributors
# Apache License 2.0 (see LICENSE)
from __future__ import annotations

DOCUMENTATION = r"""
module: python_preinstall
short_description: Preinstall CPython in the python-uv buildpack for builds that only update a venv
version_added: 0.1.0
author:
  - luban-ci maintainers (@metasync)
description:
  - Installs each listed CPython from a uv Python mirror (the directory builds mount as their
    C(uv-python-mirror) binding) with the buildpack's own uv, into O(dest), and records beside each
    copy the archive's sha256, the uv version, the Python version and the architecture.
  - When only an app's dependencies change, the buildpack keeps the previous image's python layer
    and needs CPython only to build the venv on. With a copy whose record matches the build's python
    layer key, it links the copy into the layer's path instead of installing CPython again, and
    removes the link before the export; anything else installs from the mirror as before.
  - A copy is made only when the install does not depend on the directory it is made in. uv writes
    that directory into a python-build-standalone archive's C(sysconfig) data; such a version is
    left out with a warning, and builds install it as before.
  - O(dest) belongs to this module. What it holds and O(pythons) does not list is removed, so an
    empty O(pythons) removes every copy.
  - The copies are made on the machine the module runs on, with the uv for its architecture; on a
    machine of another architecture or OS, or without that uv, missing copies are left out with a
    warning. Without a directory at O(mirror_dir), every copy is left out (and removed) with a warning;
    a directory without a readable C(download-metadata.json) fails.
  - Failure messages come from the preinstall catalog, C(python_preinstall.CATALOG), listed in
    C(docs/plugins.md).
options:
  dest:
    description: The directory of the copies, C(python) in the packaged buildpack.
    type: path
    required: true
  pythons:
    description: CPython versions to preinstall, a line (C(3.12), the mirror's newest patch) or an exact version.
    type: list
    elements: str
    default: []
  mirror_dir:
    description: The uv Python mirror (C(download-metadata.json) and the archives), as C(make python-mirror) lays it out.
    type: path
    required: true
  uv_dir:
    description: The buildpack's uv per architecture, C(<uv_dir>/<arch>/uv); the one for O(arch) installs the copies.
    type: path
    required: true
  uv_version:
    description: The version of that uv, recorded with each copy; the buildpack uses a copy only with the same uv.
    type: str
    required: true
  arch:
    description: The CNB architecture of the copies; by default the one of the machine the module runs on.
    type: str
    choices: [amd64, arm64]
attributes:
  check_mode:
    support: full
    description: Reports the copies it would make and remove, and makes and removes none.
  diff_mode:
    support: none
    description: No diff is shown.
  platform:
    support: full
    platforms: posix
    description: Linux of the copies' architecture, to run uv; elsewhere missing copies are left out with a warning.
"""

EXAMPLES = r"""
- name: Preinstall CPython 3.12 in the packaged buildpack
  luban.ci.python_preinstall:
    dest: out/buildpacks/python-uv/python
    pythons: ["3.12"]
    mirror_dir: ~/.cache/luban-ci/python-mirror
    uv_dir: out/buildpacks/python-uv/vendor/uv
    uv_version: 0.13.9
"""

RETURN = r"""
preinstalled:
  description: The copies O(dest) holds now (the directory names), sorted.
  returned: always
  type: list
  elements: str
  sample: [cpython-3.12.1-linux-x86_64-gnu]
installed:
  description: The copies this run made.
  returned: always
  type: list
  elements: str
  sample: [cpython-3.12.1-linux-x86_64-gnu]
removed:
  description:
    - What this run removed from O(dest) (copies no longer listed, older versions, leftovers, a copy made
      from another archive or uv).
  returned: always
  type: list
  elements: str
  sample: [cpython-3.12.0-linux-x86_64-gnu]
"""

import os
import platform
import shutil
import tempfile
from pathlib import Path

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.luban.ci.plugins.module_utils.python_preinstall import (
    CATALOG,
    MACHINE_ARCH,
    PreinstallError,
    RECORD_SUFFIX,
    directory_references,
    record,
    resolve,
    stale,
)
from ansible_collections.luban.ci.plugins.module_utils.catalog import render


def _remove(path):
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def _install(module, uv, wanted, dest, mirror):
    """Makes one copy in a scratch directory under ``dest`` and moves it in; returns a warning or None."""
    scratch = Path(tempfile.mkdtemp(prefix=".preinstall-", dir=str(dest)))
    try:
        env = {
            "UV_PYTHON_DOWNLOADS_JSON_URL": (mirror / "download-metadata.json").as_uri(),
            "UV_PYTHON_INSTALL_MIRROR": mirror.as_uri(),
            "UV_CACHE_DIR": str(scratch / ".cache"),
            "UV_NO_CONFIG": "1",
        }
        argv = [str(uv), "python", "install", wanted.version, "--install-dir", str(scratch), "--no-bin"]
        rc, out, err = module.run_command(argv, environ_update=env)
        tree = scratch / wanted.name
        if rc != 0 or not tree.is_dir():
            detail = (err or out).strip().splitlines()[-1:] or ["no %s after the install" % wanted.name]
            raise PreinstallError("install_failed", python=wanted.version, path=str(mirror), detail=detail[0])
        found = directory_references(tree, str(scratch))
        if found:
            return render(CATALOG["path_dependent"], python=wanted.version, count=len(found),
                          examples=found[:3]).text
        tree.rename(dest / wanted.name)
        (dest / (wanted.name + RECORD_SUFFIX)).write_text(record(wanted), encoding="utf-8")
        return None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type="path", required=True),
            pythons=dict(type="list", elements="str", default=[]),
            mirror_dir=dict(type="path", required=True),
            uv_dir=dict(type="path", required=True),
            uv_version=dict(type="str", required=True),
            arch=dict(type="str", choices=["amd64", "arm64"]),
        ),
        supports_check_mode=True,
    )
    params = module.params
    machine = MACHINE_ARCH.get(os.uname().machine)
    arch = params["arch"] or machine
    dest, mirror = Path(params["dest"]), Path(params["mirror_dir"])
    requests = params["pythons"]

    def other_machine(wanted_arch):
        module.warn(render(CATALOG["other_machine"], machine="%s %s" % (platform.system(), os.uname().machine),
                           arch=wanted_arch).text)

    if arch is None and requests:  # a machine luban-ci has no uv for: nothing can be made here
        other_machine("amd64 or arm64")
        requests = []
    if requests and not mirror.exists():  # no mirror here (builds download CPython): nothing to copy
        module.warn(render(CATALOG["no_mirror"], path=str(mirror)).text)
        requests = []
    try:
        wanted = {}
        for request in requests:
            found = resolve(mirror, request, arch, params["uv_version"])
            wanted[found.name] = found
    except PreinstallError as exc:
        module.fail_json(msg=str(exc), error=exc.code)
    wanted = list(wanted.values())
    missing = [w for w in wanted if not w.current(dest)]
    # Unlisted entries go, and so does an earlier copy (of another archive or uv) of a missing one.
    removed = sorted({p.name for p in stale(dest, wanted)} | {
        n for w in missing for n in (w.name, w.name + RECORD_SUFFIX) if (dest / n).exists() or (dest / n).is_symlink()})
    uv = Path(params["uv_dir"]) / (arch or "") / "uv"
    if missing and not (platform.system() == "Linux" and machine == arch):
        other_machine(arch)
        missing = []
    elif missing and not os.access(str(uv), os.X_OK):
        module.warn(render(CATALOG["no_uv"], path=str(uv), arch=arch).text)
        missing = []
    installed = []
    if not module.check_mode:
        for name in removed:
            _remove(dest / name)
        if missing:
            dest.mkdir(parents=True, exist_ok=True)
        for item in missing:
            try:
                warning = _install(module, uv, item, dest, mirror)
            except PreinstallError as exc:
                module.fail_json(msg=str(exc), error=exc.code, removed=removed, installed=installed)
            if warning:
                module.warn(warning)
            else:
                installed.append(item.name)
    else:
        installed = [w.name for w in missing]
    preinstalled = sorted(w.name for w in wanted if w.name in installed or w.current(dest))
    module.exit_json(changed=bool(removed or installed), preinstalled=preinstalled, installed=installed, removed=removed)


if __name__ == "__main__":
    main()
