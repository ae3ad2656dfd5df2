# -*- coding: utf-8 -*-
# Copyright: luban-ci contributors
# Apache License 2.0 (see LICENSE)
"""builder.toml rendering: what pack builder create refuses is refused here, word for word."""

from __future__ import annotations

import copy
import tomllib

import pytest

from ansible_collections.luban.ci.plugins.module_utils.builder_toml import (
    CATALOG,
    BuilderConfigError,
    normalize,
    render,
)

MINIMAL = {
    "buildpacks": [{"uri": "/bp/python-uv", "id": "luban/python-uv"}],
    "order": [{"group": [{"id": "luban/python-uv"}]}],
    "build": {"image": "localhost:5000/luban/build:al2023"},
    "run": {"images": [{"image": "localhost:5000/luban/run:al2023"}]},
}

FULL = {
    "targets": [{"arch": "amd64", "os": "linux", "distros": [{"version": 2023, "name": "amzn"}]}],
    "run": {"images": [{"mirrors": ["quay.io/luban/run:al2023"], "image": "localhost:5000/luban/run:al2023"}]},
    "build": {
        "env": [
            {"name": "BP_LOG", "value": "debug"},
            {"name": "PATH", "value": "/opt/bin", "suffix": "prepend", "delim": ":", "exec-env": ["build"]},
        ],
        "image": "localhost:5000/luban/build:al2023",
    },
    "lifecycle": {"uri": "/cache/lifecycle-v0.20.5.tgz"},
    "order": [{"group": [{"optional": True, "version": "0.1.0", "id": "luban/python-uv"}]}],
    "buildpacks": [{"id": "luban/python-uv", "version": "0.1.0", "uri": "/bp/python-uv"}],
    "description": "luban-ci builder",
}

FULL_TOML = '''description = "luban-ci builder"

[lifecycle]
uri = "/cache/lifecycle-v0.20.5.tgz"

[build]
image = "localhost:5000/luban/build:al2023"

[[build.env]]
name = "BP_LOG"
value = "debug"

[[build.env]]
name = "PATH"
value = "/opt/bin"
suffix = "prepend"
delim = ":"
exec-env = ["build"]

[[run.images]]
image = "localhost:5000/luban/run:al2023"
mirrors = ["quay.io/luban/run:al2023"]

[[buildpacks]]
id = "luban/python-uv"
version = "0.1.0"
uri = "/bp/python-uv"

[[order]]

[[order.group]]
id = "luban/python-uv"
version = "0.1.0"
optional = true

[[targets]]
os = "linux"
arch = "amd64"

[[targets.distros]]
name = "amzn"
version = "2023"
'''


def refused(config: object) -> BuilderConfigError:
    with pytest.raises(BuilderConfigError) as info:
        render(config)
    return info.value


def with_(**changes: object) -> dict:
    config = copy.deepcopy(MINIMAL)
    for key, value in changes.items():
        key = key.replace("_", "-")
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    return config


def test_full_config_renders_exact_text() -> None:
    assert render(FULL) == FULL_TOML


def test_output_parses_back_to_the_same_builder() -> None:
    parsed = tomllib.loads(render(FULL))
    assert parsed["buildpacks"] == [{"id": "luban/python-uv", "version": "0.1.0", "uri": "/bp/python-uv"}]
    assert parsed["order"] == [{"group": [{"id": "luban/python-uv", "version": "0.1.0", "optional": True}]}]
    assert parsed["targets"][0]["distros"] == [{"name": "amzn", "version": "2023"}]
    assert parsed["build"]["env"][1]["suffix"] == "prepend"


def test_same_config_in_any_key_order_gives_the_same_bytes() -> None:
    reordered = {key: FULL[key] for key in sorted(FULL)}
    assert render(reordered).encode() == render(FULL).encode() == render(copy.deepcopy(FULL)).encode()


def test_minimal_config_and_defaults_left_out() -> None:
    assert render(MINIMAL) == (
        '[build]\nimage = "localhost:5000/luban/build:al2023"\n\n'
        '[[run.images]]\nimage = "localhost:5000/luban/run:al2023"\n\n'
        '[[buildpacks]]\nid = "luban/python-uv"\nuri = "/bp/python-uv"\n\n'
        '[[order]]\n\n[[order.group]]\nid = "luban/python-uv"\n'
    )


def test_optional_false_and_empty_lists_are_not_written() -> None:
    config = with_(order=[{"group": [{"id": "luban/python-uv", "optional": False}]}], targets=[], extensions=[])
    config["build"]["env"] = []
    config["run"]["images"][0]["mirrors"] = []
    assert render(config) == render(MINIMAL)


def test_lifecycle_version_and_extensions_and_system() -> None:
    config = with_(
        lifecycle={"version": "0.20.5"},
        extensions=[{"image": "localhost:5000/ext:1", "id": "ext"}],
        order_extensions=[{"group": [{"id": "ext"}]}],
        system={"pre": {"buildpacks": [{"id": "luban/python-uv", "optional": True}]}},
    )
    parsed = tomllib.loads(render(config))
    assert parsed["lifecycle"] == {"version": "0.20.5"}
    assert parsed["extensions"] == [{"id": "ext", "image": "localhost:5000/ext:1"}]
    assert parsed["order-extensions"] == [{"group": [{"id": "ext"}]}]
    assert parsed["system"] == {"pre": {"buildpacks": [{"id": "luban/python-uv", "optional": True}]}}


def test_buildpacks_without_ids_skip_the_order_cross_check() -> None:
    config = with_(buildpacks=[{"uri": "docker://localhost:5000/bp"}], order=[{"group": [{"id": "any/bp"}]}])
    assert "any/bp" in render(config)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("builder", "The builder configuration must be a mapping mirroring builder.toml, but it is the "
         "string 'builder'. The filter renders builder.toml from it. Pass a dict with build, run, "
         "buildpacks and order."),
        (with_(stack={"id": "io.buildpacks.stacks.bionic"}), "The builder configuration uses the deprecated "
         "'stack' table. Stacks were replaced by build and run images and targets (platform API 0.12), and "
         "luban-ci does not write them. Use build.image, run.images and targets instead."),
        (with_(buildpack=[]), "The builder configuration has an unknown key 'buildpack'. pack builder create "
         "refuses keys it does not know. Remove it or fix its spelling; known keys there: description, "
         "buildpacks, extensions, order, order-extensions, system, lifecycle, build, run, targets."),
        (with_(lifecycle={"uri": "/l.tgz", "version": "0.20.5"}), "lifecycle sets both uri and version. pack "
         "builder create accepts one of them, not both. Keep lifecycle.uri for an offline lifecycle archive, "
         "or lifecycle.version to download it."),
        (with_(lifecycle={"version": "latest"}), "lifecycle.version 'latest' is not a semantic version. pack "
         "builder create parses it to find the lifecycle release. Give a version such as '0.20.5'."),
        (with_(lifecycle={"url": "/l.tgz"}), "lifecycle has an unknown key 'url'. pack builder create refuses "
         "keys it does not know. Remove it or fix its spelling; known keys there: uri, version."),
        (with_(order=None), "order is required. pack builder create needs it to assemble a builder. Set order."),
        (with_(order=[]), "order is empty. A builder without an order group detects nothing and builds no app. "
         "Add at least one entry."),
        (with_(order=[{"group": []}]), "order[0].group is empty. An empty group can never pass detection. "
         "Add at least one entry."),
        (with_(order=[{}]), "order[0].group is required. pack builder create needs it to assemble a builder. "
         "Set order[0].group."),
        (with_(order=[{"group": [{"version": "0.1.0"}]}]), "order[0].group[0] has no id. The lifecycle picks "
         "buildpacks for a group by id. Set order[0].group[0].id."),
        (with_(order=[{"group": [{"id": "luban/go"}]}]), "order[0].group[0].id 'luban/go' is not among the "
         "buildpacks listed in buildpacks (luban/python-uv). pack builder create fails when the order names a "
         "buildpack the builder does not carry. Add it to buildpacks or fix the id."),
        (with_(buildpacks=None), "order[0].group[0].id 'luban/python-uv' is not among the buildpacks listed in "
         "buildpacks (none listed). pack builder create fails when the order names a buildpack the builder "
         "does not carry. Add it to buildpacks or fix the id."),
        (with_(order=[{"group": [{"id": "luban/python-uv", "optional": "yes"}]}]), "order[0].group[0].optional "
         "must be true or false, but it is the string 'yes'. The value cannot be written to builder.toml as "
         "given. Fix order[0].group[0].optional."),
        (with_(buildpacks=[{"id": "luban/python-uv"}]), "buildpacks[0] has neither uri nor image. pack builder "
         "create must know where to fetch the buildpack from. Set uri (a directory, archive or docker:// "
         "reference) or image."),
        (with_(buildpacks=[{"id": "luban/python-uv", "uri": "/bp", "image": "bp:1"}]), "buildpacks[0] sets both "
         "uri and image. pack builder create reads one source per buildpack. Keep one."),
        (with_(buildpacks=[{"id": "luban/python-uv", "uri": "/bp", "path": "/x"}]), "buildpacks[0] has an "
         "unknown key 'path'. pack builder create refuses keys it does not know. Remove it or fix its spelling; "
         "known keys there: id, version, uri, image."),
        (with_(buildpacks={"uri": "/bp"}), "buildpacks must be a list, but it is a dict ({'uri': '/bp'}). The "
         "value cannot be written to builder.toml as given. Fix buildpacks."),
        (with_(build=None), "build.image is required. pack builder create needs it to assemble a builder. Set "
         "build.image."),
        (with_(build={"image": ""}), "build.image is required. pack builder create needs it to assemble a "
         "builder. Set build.image."),
        (with_(build={"image": "b", "env": [{"value": "1"}]}), "build.env[0].name is required. pack builder "
         "create needs it to assemble a builder. Set build.env[0].name."),
        (with_(build={"image": "b", "env": [{"name": "X", "value": "1", "suffix": "replace"}]}), "build.env[0]"
         ".suffix 'replace' is not a suffix pack knows. The suffix says how the variable combines with an "
         "existing value. Use one of: default, override, append, prepend."),
        (with_(build={"image": "b", "env": [{"name": "X", "value": "1", "suffix": "append"}]}), "build.env[0] "
         "uses suffix 'append' without a delim. pack builder create refuses an append or prepend without a "
         "delimiter. Set build.env[0].delim, for example ':'."),
        (with_(build={"image": "b", "env": [{"name": "X", "value": ["a"]}]}), "build.env[0].value must be a "
         "string, but it is a list (['a']). The value cannot be written to builder.toml as given. Fix "
         "build.env[0].value."),
        (with_(run=None), "run.images is required. pack builder create needs it to assemble a builder. Set "
         "run.images."),
        (with_(run={"images": []}), "run.images is empty. pack builder create needs a run image for the app "
         "images. Add at least one entry."),
        (with_(run={"images": [{"mirrors": ["m"]}]}), "run.images[0].image is required. pack builder create "
         "needs it to assemble a builder. Set run.images[0].image."),
        (with_(run={"image": "r"}), "run has an unknown key 'image'. pack builder create refuses keys it does "
         "not know. Remove it or fix its spelling; known keys there: images."),
        (with_(targets=[{"os": "linux"}]), "targets[0].arch is required. pack builder create needs it to "
         "assemble a builder. Set targets[0].arch."),
        (with_(targets=[{"os": "linux", "arch": "amd64", "distros": [{"version": "2023"}]}]), "targets[0]."
         "distros[0].name is required. pack builder create needs it to assemble a builder. Set "
         "targets[0].distros[0].name."),
        (with_(targets=[{"os": "linux", "arch": "amd64", "distro": []}]), "targets[0] has an unknown key "
         "'distro'. pack builder create refuses keys it does not know. Remove it or fix its spelling; known "
         "keys there: os, arch, variant, distros."),
        (with_(description=42), "description must be a string, but it is an int (42). The value cannot be "
         "written to builder.toml as given. Fix description."),
    ],
)
def test_refused_configs(config: object, expected: str) -> None:
    assert str(refused(config)) == expected


def test_every_catalog_entry_is_reachable() -> None:
    """The parametrised cases above cover every code in the catalog."""
    codes = set()
    for config in (
        "x", with_(stack={}), with_(foo=1), with_(lifecycle={"uri": "u", "version": "1"}),
        with_(lifecycle={"version": "x"}), with_(order=None), with_(order=[]), with_(description=1),
        with_(buildpacks=[{}]), with_(buildpacks=[{"uri": "u", "image": "i"}]),
        with_(order=[{"group": [{}]}]), with_(order=[{"group": [{"id": "nope"}]}]),
        with_(build={"image": "b", "env": [{"name": "X", "suffix": "s"}]}),
        with_(build={"image": "b", "env": [{"name": "X", "suffix": "prepend"}]}),
    ):
        codes.add(refused(config).code)
    assert codes == set(CATALOG)


def test_normalize_is_the_canonical_mapping() -> None:
    assert list(normalize(FULL)) == ["description", "buildpacks", "order", "lifecycle", "build", "run", "targets"]
