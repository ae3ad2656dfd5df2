"""Compiles a venv's bytecode so that the same files always give the same .pyc bytes, whether the
venv was built from nothing or updated in place.

Run by the app's CPython (``python -c <this file's text> VENV --all`` or ``... VENV --only
[DIST-INFO ...]``, from the venv directory), so it uses the standard library only and the syntax of the oldest Python the buildpack
installs.

Why it is not simply ``compileall``: marshal writes an object that something else also references
as a reference, so a .pyc can depend on what the process compiled before it (uv's
``--compile-bytecode`` spreads files over worker processes as they free up, and two builds of one
lock once differed in one .pyc). Here the files are grouped by the distribution that installed
them (its ``RECORD``); each group's sorted files are cut into batches of ``BATCH`` files, and each
batch is compiled, in order, in a child forked from the same parent state, as many children at a
time as the machine has CPUs. A file's bytes then depend on its group's files alone (the cut
depends on nothing else, never on the machine), so an updated venv recompiles only the
distributions that changed and still holds exactly the bytes a fresh build would. Files no
distribution owns form one more group, compiled every time.

``--only`` names the ``*.dist-info`` directories to compile (those uv installed now). A group
with a source file that has no .pyc yet is compiled as well, so a venv is never left partly
compiled. A file that does not compile (a template, a Python 2 leftover) is left without a .pyc,
as compileall leaves it: nothing imports it.
"""

import os
import py_compile
import sys
from importlib.util import cache_from_source

UNCHECKED = py_compile.PycInvalidationMode.UNCHECKED_HASH
# Files per child. Fixed: a .pyc's bytes may depend on the files its child compiled before it.
BATCH = 8


def sources(top):
    """Every .py file under ``top``, not following linked directories."""
    found = []
    for root, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if d != "__pycache__" and not os.path.islink(os.path.join(root, d))]
        found.extend(os.path.join(root, f) for f in files if f.endswith(".py"))
    return found


def owners(site):
    """For each ``*.dist-info`` in ``site``: the absolute paths its RECORD lists."""
    owned = {}
    for name in sorted(os.listdir(site)):
        record = os.path.join(site, name, "RECORD")
        if not name.endswith(".dist-info") or not os.path.isfile(record):
            continue
        with open(record, encoding="utf-8") as handle:
            paths = [line.split(",")[0] for line in handle.read().splitlines() if line.strip()]
        owned[name] = {os.path.normpath(os.path.join(site, p)) for p in paths}
    return owned


def groups(venv):
    """(group name, sorted source files) for every distribution, then the files none owns."""
    lib = os.path.join(venv, "lib")
    files = sorted(sources(lib))
    owner = {}
    for site in sorted(os.path.join(lib, d, "site-packages") for d in os.listdir(lib)):
        if os.path.isdir(site):
            for name, paths in owners(site).items():
                for path in paths:
                    owner.setdefault(path, name)
    grouped = {}
    for path in files:
        grouped.setdefault(owner.get(path, ""), []).append(path)
    return sorted(grouped.items())


def compile_group(files):
    for path in files:
        py_compile.compile(path, doraise=False, quiet=2, invalidation_mode=UNCHECKED)


def start_child(files):
    """Compiles ``files`` in a child forked from this process; its pid."""
    pid = os.fork()
    if pid == 0:
        try:
            compile_group(files)
        except BaseException:  # an unexpected failure: show it, report it through the exit code
            import traceback

            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    return pid


def compile_batches(batches, parallel):
    """Compiles each batch in its own child, at most ``parallel`` at a time; how many failed."""
    running = set()
    failed = 0
    for files in batches:
        while len(running) >= parallel:
            pid, status = os.wait()
            running.discard(pid)
            failed += status != 0
        running.add(start_child(files))
    while running:
        pid, status = os.wait()
        running.discard(pid)
        failed += status != 0
    return failed


def main(argv):
    venv, every, wanted = argv[0], argv[1] == "--all", set(argv[2:])
    batches = []
    compiled = 0
    for name, files in groups(venv):
        missing = any(not os.path.exists(cache_from_source(f)) for f in files)
        if not every and name and name not in wanted and not missing:
            continue
        compiled += 1
        batches.extend(files[i:i + BATCH] for i in range(0, len(files), BATCH))
    failed = compile_batches(batches, max(1, len(os.sched_getaffinity(0))))
    print("compiled %d groups of files" % compiled)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
