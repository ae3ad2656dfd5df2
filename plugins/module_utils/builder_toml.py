# -*- coding: utf-8 -*-
# Copyright: luban-ci contributors
# Apache License 2.0 (see LICENSE)
"""Validate a builder configuration and render it as ``builder.toml``.

The configuration mirrors ``builder.toml`` key for key (``description``, ``buildpacks``,
``extensions``, ``order``, ``order-extensions``, ``system``, ``lifecycle``, ``build``, ``run``,
``targets``).  What ``pack builder create`` would refuse is refused here first, with a message
that says what to change, so a bad variable fails in the play instead of deep inside ``pack``.
A few things pack only warns about or discovers late (an empty order, an order naming a buildpack
the builder does not carry) are refused too: such a builder cannot build anything.

Rendering is canonical: keys come out in one fixed order whatever order the input mapping has,
so the same configuration always yields the same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ansible_collections.luban.ci.plugins.module_utils.catalog import Entry, Fields, describe, with_fields
from ansible_collections.luban.ci.plugins.module_utils.catalog import render as render_entry
from ansible_collections.luban.ci.plugins.module_utils.tomlw import dumps

__all__ = ["BuilderConfigError", "CATALOG", "normalize", "render"]

# Canonical order of every table, as in pack's builder.toml documentation.
TOP_KEYS = (
    "description", "buildpacks", "extensions", "order", "order-extensions", "system",
    "lifecycle", "build", "run", "targets",
)
MODULE_KEYS = ("id", "version", "uri", "image")
REF_KEYS = ("id", "version", "optional")
ENV_KEYS = ("name", "value", "suffix", "delim", "exec-env")
ENV_SUFFIXES = ("default", "override", "append", "prepend")
TARGET_KEYS = ("os", "arch", "variant", "distros")
DISTRO_KEYS = ("name", "version")
# pack parses lifecycle.version with Masterminds/semver, which accepts a leading v and short forms.
_SEMVER = re.compile(r"^v?\d+(\.\d+){0,2}(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")

# Paths into the configuration, lists and type descriptions are written here; the values an
# operator gave (keys, ids, versions, suffixes) are quoted (catalog.render).
_FIELDS = Fields(plain=frozenset({"where", "known", "expected", "got", "why", "modules"}))
CATALOG: dict[str, Entry] = with_fields(_FIELDS, {
    "not_mapping": Entry(
        "The builder configuration must be a mapping mirroring builder.toml, but it is {got}. "
        "The filter renders builder.toml from it. Pass a dict with build, run, buildpacks and order."
    ),
    "unknown_key": Entry(
        "{where} has an unknown key {key}. pack builder create refuses keys it does not know. "
        "Remove it or fix its spelling; known keys there: {known}."
    ),
    "stack_deprecated": Entry(
        "The builder configuration uses the deprecated 'stack' table. Stacks were replaced by build "
        "and run images and targets (platform API 0.12), and luban-ci does not write them. Use "
        "build.image, run.images and targets instead."
    ),
    "wrong_type": Entry("{where} must be {expected}, but it is {got}. The value cannot be written to builder.toml as given. Fix {where}."),
    "required": Entry("{where} is required. pack builder create needs it to assemble a builder. Set {where}."),
    "empty_list": Entry("{where} is empty. {why} Add at least one entry."),
    "lifecycle_both": Entry(
        "lifecycle sets both uri and version. pack builder create accepts one of them, not both. "
        "Keep lifecycle.uri for an offline lifecycle archive, or lifecycle.version to download it."
    ),
    "lifecycle_version": Entry(
        "lifecycle.version {version} is not a semantic version. pack builder create parses it to "
        "find the lifecycle release. Give a version such as '0.20.5'."
    ),
    "module_source": Entry(
        "{where} has neither uri nor image. pack builder create must know where to fetch the "
        "buildpack from. Set uri (a directory, archive or docker:// reference) or image."
    ),
    "module_both_sources": Entry(
        "{where} sets both uri and image. pack builder create reads one source per buildpack. Keep one."
    ),
    "ref_without_id": Entry(
        "{where} has no id. The lifecycle picks buildpacks for a group by id. Set {where}.id."
    ),
    "ref_unknown": Entry(
        "{where}.id {id} is not among the buildpacks listed in {modules} ({known}). pack builder "
        "create fails when the order names a buildpack the builder does not carry. Add it to "
        "{modules} or fix the id."
    ),
    "env_suffix": Entry(
        "{where}.suffix {suffix} is not a suffix pack knows. The suffix says how the variable "
        "combines with an existing value. Use one of: default, override, append, prepend."
    ),
    "env_delim": Entry(
        "{where} uses suffix {suffix} without a delim. pack builder create refuses an append or "
        "prepend without a delimiter. Set {where}.delim, for example ':'."
    ),
})


class BuilderConfigError(ValueError):
    """A builder configuration pack would refuse; ``code`` keys the message catalog."""

    def __init__(self, code: str, **fields: object) -> None:
        self.code = code
        self.fields = fields
        super().__init__(render_entry(CATALOG[code], **fields).text)


def render(config: object) -> str:
    """Validate ``config`` and return the builder.toml text (same input, same bytes)."""
    return dumps(normalize(config))


def normalize(config: object) -> dict:
    """Validate ``config`` and return it as a canonical mapping ready for the TOML writer."""
    if not isinstance(config, Mapping):
        raise BuilderConfigError("not_mapping", got=describe(config))
    if "stack" in config:
        raise BuilderConfigError("stack_deprecated")
    _known(config, TOP_KEYS, "The builder configuration")
    out: dict = {}
    if config.get("description") is not None:
        out["description"] = _string(config["description"], "description")
    for modules, order in (("buildpacks", "order"), ("extensions", "order-extensions")):
        entries = _modules(config.get(modules), modules)
        if entries:
            out[modules] = entries
        groups = _order(config.get(order), order, modules, entries, required=(order == "order"))
        if groups:
            out[order] = groups
    system = _system(config.get("system"))
    if system:
        out["system"] = system
    lifecycle = _lifecycle(config.get("lifecycle"))
    if lifecycle:
        out["lifecycle"] = lifecycle
    out["build"] = _build(config.get("build"))
    out["run"] = _run(config.get("run"))
    targets = _targets(config.get("targets"))
    if targets:
        out["targets"] = targets
    return out


def _known(table: Mapping, keys: Sequence[str], where: str) -> None:
    for key in table:
        if key not in keys:
            raise BuilderConfigError("unknown_key", where=where, key=key, known=", ".join(keys))


def _mapping(value: object, where: str) -> Mapping:
    if not isinstance(value, Mapping):
        raise BuilderConfigError("wrong_type", where=where, expected="a mapping", got=describe(value))
    return value


def _list(value: object, where: str) -> list:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise BuilderConfigError("wrong_type", where=where, expected="a list", got=describe(value))
    return list(value)


def _string(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise BuilderConfigError("wrong_type", where=where, expected="a string", got=describe(value))
    return value


def _nonempty(value: object, where: str) -> str:
    if value is None or value == "":
        raise BuilderConfigError("required", where=where)
    return _string(value, where)


def _strings(value: object, where: str) -> list[str]:
    return [_string(item, "%s[%d]" % (where, i)) for i, item in enumerate(_list(value, where))]


def _optional(table: Mapping, key: str, where: str) -> str | None:
    value = table.get(key)
    if value is None or value == "":
        return None
    return _string(value, "%s.%s" % (where, key))


def _modules(value: object, name: str) -> list[dict]:
    if value is None:
        return []
    entries = []
    for i, raw in enumerate(_list(value, name)):
        where = "%s[%d]" % (name, i)
        entry = _mapping(raw, where)
        _known(entry, MODULE_KEYS, where)
        uri, image = _optional(entry, "uri", where), _optional(entry, "image", where)
        if uri is None and image is None:
            raise BuilderConfigError("module_source", where=where)
        if uri is not None and image is not None:
            raise BuilderConfigError("module_both_sources", where=where)
        out = {key: _optional(entry, key, where) for key in MODULE_KEYS}
        entries.append({k: v for k, v in out.items() if v is not None})
    return entries


def _order(value: object, name: str, modules: str, entries: list[dict], required: bool) -> list[dict]:
    if value is None or (not required and value == []):
        if required:
            raise BuilderConfigError("required", where=name)
        return []
    groups = _list(value, name)
    if not groups:
        raise BuilderConfigError(
            "empty_list", where=name, why="A builder without an order group detects nothing and builds no app."
        )
    # The ids can be checked only when every listed buildpack declares its id.
    known = [e["id"] for e in entries] if all("id" in e for e in entries) else None
    out = []
    for i, raw in enumerate(groups):
        where = "%s[%d]" % (name, i)
        entry = _mapping(raw, where)
        _known(entry, ("group",), where)
        if entry.get("group") is None:
            raise BuilderConfigError("required", where=where + ".group")
        refs = _list(entry["group"], where + ".group")
        if not refs:
            raise BuilderConfigError(
                "empty_list", where=where + ".group", why="An empty group can never pass detection."
            )
        out.append({"group": [_ref(ref, "%s.group[%d]" % (where, j), modules, known) for j, ref in enumerate(refs)]})
    return out


def _ref(raw: object, where: str, modules: str | None, known: list[str] | None) -> dict:
    entry = _mapping(raw, where)
    _known(entry, REF_KEYS, where)
    ref_id = _optional(entry, "id", where)
    if ref_id is None:
        raise BuilderConfigError("ref_without_id", where=where)
    if known is not None and ref_id not in known:
        raise BuilderConfigError(
            "ref_unknown", where=where, id=ref_id, modules=modules, known=", ".join(known) or "none listed"
        )
    out: dict = {"id": ref_id}
    version = _optional(entry, "version", where)
    if version is not None:
        out["version"] = version
    optional = entry.get("optional")
    if optional is not None:
        if not isinstance(optional, bool):
            raise BuilderConfigError(
                "wrong_type", where=where + ".optional", expected="true or false", got=describe(optional)
            )
        if optional:
            out["optional"] = True
    return out


def _system(value: object) -> dict:
    if value is None:
        return {}
    system = _mapping(value, "system")
    _known(system, ("pre", "post"), "system")
    out: dict = {}
    for phase in ("pre", "post"):
        if system.get(phase) is None:
            continue
        where = "system.%s" % phase
        table = _mapping(system[phase], where)
        _known(table, ("buildpacks",), where)
        refs = _list(table.get("buildpacks") or [], where + ".buildpacks")
        if refs:
            out[phase] = {
                "buildpacks": [_ref(r, "%s.buildpacks[%d]" % (where, i), None, None) for i, r in enumerate(refs)]
            }
    return out


def _lifecycle(value: object) -> dict:
    if value is None:
        return {}
    lifecycle = _mapping(value, "lifecycle")
    _known(lifecycle, ("uri", "version"), "lifecycle")
    uri, version = _optional(lifecycle, "uri", "lifecycle"), _optional(lifecycle, "version", "lifecycle")
    if uri is not None and version is not None:
        raise BuilderConfigError("lifecycle_both")
    if version is not None:
        if not _SEMVER.fullmatch(version):
            raise BuilderConfigError("lifecycle_version", version=version)
        return {"version": version}
    return {"uri": uri} if uri is not None else {}


def _build(value: object) -> dict:
    if value is None:
        raise BuilderConfigError("required", where="build.image")
    build = _mapping(value, "build")
    _known(build, ("image", "env"), "build")
    out: dict = {"image": _nonempty(build.get("image"), "build.image")}
    env = [_env(raw, "build.env[%d]" % i) for i, raw in enumerate(_list(build.get("env") or [], "build.env"))]
    if env:
        out["env"] = env
    return out


def _env(raw: object, where: str) -> dict:
    entry = _mapping(raw, where)
    _known(entry, ENV_KEYS, where)
    out: dict = {"name": _nonempty(entry.get("name"), where + ".name")}
    value = entry.get("value", "")
    # Ansible templating may turn numbers and booleans into native types; builder.toml wants text.
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise BuilderConfigError("wrong_type", where=where + ".value", expected="a string", got=describe(value))
    out["value"] = str(value)
    suffix = _optional(entry, "suffix", where)
    if suffix is not None:
        if suffix not in ENV_SUFFIXES:
            raise BuilderConfigError("env_suffix", where=where, suffix=suffix)
        out["suffix"] = suffix
    delim = _optional(entry, "delim", where)
    if suffix in ("append", "prepend") and delim is None:
        raise BuilderConfigError("env_delim", where=where, suffix=suffix)
    if delim is not None:
        out["delim"] = delim
    if entry.get("exec-env") is not None:
        out["exec-env"] = _strings(entry["exec-env"], where + ".exec-env")
    return out


def _run(value: object) -> dict:
    if value is None:
        raise BuilderConfigError("required", where="run.images")
    run = _mapping(value, "run")
    _known(run, ("images",), "run")
    if run.get("images") is None:
        raise BuilderConfigError("required", where="run.images")
    images = _list(run["images"], "run.images")
    if not images:
        raise BuilderConfigError(
            "empty_list", where="run.images", why="pack builder create needs a run image for the app images."
        )
    out = []
    for i, raw in enumerate(images):
        where = "run.images[%d]" % i
        entry = _mapping(raw, where)
        _known(entry, ("image", "mirrors"), where)
        image: dict = {"image": _nonempty(entry.get("image"), where + ".image")}
        mirrors = _strings(entry.get("mirrors") or [], where + ".mirrors")
        if mirrors:
            image["mirrors"] = mirrors
        out.append(image)
    return {"images": out}


def _targets(value: object) -> list[dict]:
    if value is None:
        return []
    out = []
    for i, raw in enumerate(_list(value, "targets")):
        where = "targets[%d]" % i
        entry = _mapping(raw, where)
        _known(entry, TARGET_KEYS, where)
        target: dict = {"os": _nonempty(entry.get("os"), where + ".os"), "arch": _nonempty(entry.get("arch"), where + ".arch")}
        variant = _optional(entry, "variant", where)
        if variant is not None:
            target["variant"] = variant
        distros = []
        for j, draw in enumerate(_list(entry.get("distros") or [], where + ".distros")):
            dwhere = "%s.distros[%d]" % (where, j)
            distro = _mapping(draw, dwhere)
            _known(distro, DISTRO_KEYS, dwhere)
            item = {"name": _nonempty(distro.get("name"), dwhere + ".name")}
            version = distro.get("version")
            if version is not None and version != "":
                # YAML reads 2023 or 22.04 as numbers; the distro version is text in builder.toml.
                if isinstance(version, bool) or not isinstance(version, (str, int, float)):
                    raise BuilderConfigError("wrong_type", where=dwhere + ".version", expected="a string", got=describe(version))
                item["version"] = str(version)
            distros.append(item)
        if distros:
            target["distros"] = distros
        out.append(target)
    return out
