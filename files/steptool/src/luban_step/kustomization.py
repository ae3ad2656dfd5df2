"""Edits a kustomization.yaml: the image by digest, and the record of what was deployed.

Only the two top-level blocks that change (``images`` and ``metadata``) are rewritten; every other
line, comment and blank line of the file stays as it was, so the GitOps diff shows the deploy and
nothing else. The result is parsed again and compared with the intended data; if the in-place edit
could not reproduce it (an exotic layout), the whole file is written out plainly instead.

The deployment record lives in the Kustomization's own ``metadata.annotations`` (kustomize does
not copy those onto resources): ``luban.ci/deployed`` maps each image name to the source it was
built from, which is what the backwards check of deploy reads.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

RECORD_ANNOTATION = "luban.ci/deployed"
_TOP_KEY = re.compile(r"""^(?:[A-Za-z_][A-Za-z0-9_.-]*|"[^"]*"|'[^']*')\s*:(?:\s|$)""")


class KustomizationError(ValueError):
    """The file cannot be edited; the message says why (used as the catalog's reason)."""


@dataclass(frozen=True)
class Deployed:
    """What one image of the kustomization was built from."""

    repo: str
    ref: str
    sha: str
    time: int | None
    image: str

    @staticmethod
    def from_data(data: object) -> Deployed | None:
        if not isinstance(data, dict):
            return None
        try:
            time = data.get("time")
            return Deployed(str(data["repo"]), str(data["ref"]), str(data["sha"]),
                            int(time) if time is not None else None, str(data.get("image", "")))
        except (KeyError, TypeError, ValueError):
            return None

    def to_data(self) -> dict[str, object]:
        return {"repo": self.repo, "ref": self.ref, "sha": self.sha, "time": self.time, "image": self.image}


def parse(text: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise KustomizationError("it is not valid YAML (%s)" % str(exc).replace("\n", " ")) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise KustomizationError("its top level is not a mapping")
    images = data.get("images")
    if images is not None and not (isinstance(images, list) and all(isinstance(i, dict) for i in images)):
        raise KustomizationError("'images' is not a list of mappings")
    metadata = data.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise KustomizationError("'metadata' is not a mapping")
    annotations = (metadata or {}).get("annotations")
    if annotations is not None and not isinstance(annotations, dict):
        raise KustomizationError("'metadata.annotations' is not a mapping")
    return data


def records(data: dict[str, Any]) -> dict[str, Deployed]:
    raw = ((data.get("metadata") or {}).get("annotations") or {}).get(RECORD_ANNOTATION)
    try:
        loaded = json.loads(raw) if isinstance(raw, str) else {}
    except ValueError:
        loaded = {}
    if not isinstance(loaded, dict):
        return {}
    found = {name: Deployed.from_data(value) for name, value in loaded.items()}
    return {name: record for name, record in found.items() if record is not None}


def updated(data: dict[str, Any], name: str, repository: str, digest: str, record: Deployed) -> dict[str, Any]:
    """A copy of ``data`` with the image set by digest and the record stored."""
    result = dict(data)
    images = [dict(entry) for entry in (data.get("images") or [])]
    entry = next((e for e in images if e.get("name") == name), None)
    if entry is None:
        entry = {"name": name}
        images.append(entry)
    entry.pop("newTag", None)  # a tag beside the digest would only mislead a reader
    entry["newName"] = repository
    entry["digest"] = digest
    result["images"] = images
    metadata = dict(data.get("metadata") or {})
    annotations = dict(metadata.get("annotations") or {})
    table = {key: value.to_data() for key, value in records(data).items()}
    table[name] = record.to_data()
    annotations[RECORD_ANNOTATION] = json.dumps(table, sort_keys=True, separators=(",", ":"))
    metadata["annotations"] = annotations
    result["metadata"] = metadata
    return result


class _IndentedDumper(yaml.SafeDumper):
    """Writes sequences indented under their key (``  - name:``), as most kustomizations are."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _dump(key: str, value: object, indented: bool) -> list[str]:
    text = yaml.dump({key: value}, Dumper=_IndentedDumper if indented else yaml.SafeDumper,
                     sort_keys=False, default_flow_style=False, width=4096, allow_unicode=True)
    return text.splitlines()


def _sequences_indented(lines: list[str]) -> bool:
    """Follow the file: are its block sequences indented under their keys?"""
    for index, line in enumerate(lines[:-1]):
        if _TOP_KEY.match(line) and line.rstrip().endswith(":"):
            following = lines[index + 1]
            if following.lstrip().startswith("- "):
                return following.startswith(" ")
    return True


def _block(lines: list[str], key: str) -> tuple[int, int] | None:
    """[start, end) of the top-level block ``key:`` with its trailing comments left outside."""
    start = None
    for index, line in enumerate(lines):
        if start is None:
            if _TOP_KEY.match(line) and line.split(":", 1)[0].strip().strip("\"'") == key:
                start = index
            continue
        if _TOP_KEY.match(line) or line.startswith(("---", "...")):
            end = index
            break
    else:
        if start is None:
            return None
        end = len(lines)
    while end - 1 > start and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
        end -= 1
    return start, end


def render(text: str, data: dict[str, Any]) -> str:
    """``text`` with the ``images`` and ``metadata`` blocks replaced by those of ``data``."""
    lines = text.splitlines()
    indented = _sequences_indented(lines)
    for key in ("metadata", "images"):
        block = _block(lines, key)
        new = _dump(key, data[key], indented)
        if block is None and key == "metadata" and (kind := _block(lines, "kind")) is not None:
            lines = lines[: kind[1]] + new + lines[kind[1]:]  # metadata reads best right after kind
        elif block is None:
            lines = lines + new
        else:
            lines = lines[: block[0]] + new + lines[block[1]:]
    result = "\n".join(lines) + "\n"
    try:
        if yaml.safe_load(result) == data:
            return result
    except yaml.YAMLError:
        pass
    return yaml.dump(data, Dumper=_IndentedDumper if indented else yaml.SafeDumper, sort_keys=False,
                     default_flow_style=False, width=4096, allow_unicode=True)
