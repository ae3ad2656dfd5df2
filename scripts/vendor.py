"""Vendor the collection's shared modules into the components that run outside Ansible.

The buildpack and the step tool run on a bare Python, away from the collection, yet use code the
collection's plugins use too (the TOML writer, language selection, the message catalog's shape and renderer). The one source of each such
module is ``plugins/module_utils/<module>.py``; every component that needs it carries a committed,
byte-identical copy in its private package ``_vendor``, and imports it only from there. The copies
are written by this script and nothing else (``make vendor``); ``--check`` (and a unit test of each
component) fails when a copy differs from its source, a copy is missing or stray, or a component
imports from ``_vendor`` a module that is not listed for it.

    python scripts/vendor.py            # write the copies
    python scripts/vendor.py --check    # verify them, change nothing
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCE = "plugins/module_utils"
# The one list: for each component's package, the shared modules it ships in its ``_vendor``.
VENDORED: Mapping[str, Sequence[str]] = {
    "files/buildpacks/python-uv/lib/luban_python": ("catalog", "python_preinstall", "tomlw"),
    "files/steptool/src/luban_step": ("build_inputs", "catalog", "languages"),
}
VENDOR_DIR = "_vendor"
INIT = (
    '"""Copies of shared modules of the luban.ci collection (plugins/module_utils), written by\n'
    'scripts/vendor.py (make vendor) and checked byte for byte by the tests: edit the originals."""\n'
)


def expected(repo: Path = REPO, vendored: Mapping[str, Sequence[str]] = VENDORED) -> dict[Path, bytes]:
    """Every file of every ``_vendor`` package, with the bytes it must hold."""
    files: dict[Path, bytes] = {}
    for package, modules in vendored.items():
        target = repo / package / VENDOR_DIR
        files[target / "__init__.py"] = INIT.encode()
        for module in modules:
            files[target / f"{module}.py"] = (repo / SOURCE / f"{module}.py").read_bytes()
    return files


def _vendor_imports(tree: ast.AST) -> Iterator[str]:
    """The module names an import statement takes from a ``_vendor`` package."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            parts = (node.module or "").split(".")
            if VENDOR_DIR not in parts:
                continue
            after = parts[parts.index(VENDOR_DIR) + 1:]
            yield from (after[:1] if after else [alias.name for alias in node.names])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if VENDOR_DIR in parts and parts.index(VENDOR_DIR) + 1 < len(parts):
                    yield parts[parts.index(VENDOR_DIR) + 1]


def _imports_needing_the_collection(tree: ast.AST, beside: Sequence[str]) -> Iterator[str]:
    """Imports a vendored module cannot satisfy away from the collection.

    A relative import of a module vendored beside it (``from .catalog import render``) resolves
    in the collection and in every ``_vendor`` package alike; any other relative import does not.
    """
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and _relative_beside(node, beside):
            continue
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("ansible")):
            yield "." * node.level + (node.module or "")
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name.startswith("ansible"))


def _relative_beside(node: ast.ImportFrom, beside: Sequence[str]) -> bool:
    names = [node.module] if node.module else [alias.name for alias in node.names]
    return node.level == 1 and all(name in beside for name in names)


def problems(repo: Path = REPO, vendored: Mapping[str, Sequence[str]] = VENDORED) -> list[str]:
    """What is wrong with the vendored copies, one sentence each (empty: all is well)."""
    found: list[str] = []
    want = expected(repo, vendored)
    for path, content in want.items():
        shown = path.relative_to(repo)
        if not path.is_file():
            found.append(f"{shown} is missing")
        elif path.read_bytes() != content:
            found.append(f"{shown} differs from {SOURCE}/{path.name}" if path.name != "__init__.py"
                         else f"{shown} differs from what scripts/vendor.py writes")
    for package, modules in vendored.items():
        root = repo / package
        for path in sorted((root / VENDOR_DIR).glob("*")):
            if path not in want and path.name != "__pycache__":
                found.append(f"{path.relative_to(repo)} is not listed in scripts/vendor.py")
        imported: set[str] = set()
        for path in sorted(root.rglob("*.py")):
            if VENDOR_DIR in path.relative_to(root).parts:
                continue
            for name in _vendor_imports(ast.parse(path.read_bytes(), str(path))):
                imported.add(name)
                if name not in modules:
                    found.append(f"{path.relative_to(repo)} imports {name} from {VENDOR_DIR}, "
                                 f"which scripts/vendor.py does not list for {package}")
        for module in modules:
            source = repo / SOURCE / f"{module}.py"
            if module not in imported:
                found.append(f"{package} ships {module} in {VENDOR_DIR} but never imports it")
            for name in _imports_needing_the_collection(ast.parse(source.read_bytes(), str(source)), modules):
                found.append(f"{SOURCE}/{module}.py imports {name}, which its vendored copies cannot reach")
    return found


def write(repo: Path = REPO, vendored: Mapping[str, Sequence[str]] = VENDORED) -> list[Path]:
    """Writes every copy that is missing or different and removes stray ones; returns what changed."""
    want = expected(repo, vendored)
    changed: list[Path] = []
    for package in vendored:
        for path in sorted((repo / package / VENDOR_DIR).glob("*.py")):
            if path not in want:
                path.unlink()
                changed.append(path)
    for path, content in want.items():
        if not path.is_file() or path.read_bytes() != content:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            changed.append(path)
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="verify the copies and change nothing")
    args = parser.parse_args(argv)
    if not args.check:
        for path in write():
            print(f"wrote {path.relative_to(REPO)}")
    found = problems()
    for problem in found:
        print(f"vendor: {problem}", file=sys.stderr)
    if found and args.check:
        print("vendor: run `make vendor` to rewrite the copies from plugins/module_utils", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
