"""make e2e APP=DIR: scenario 1 for any app directory (a git repository or a plain folder).

Pushes the app to the host git server as e2e/app, delivers the signed push, follows it to a
pod answering HTTP, prints the answer and writes out/e2e.json (workflow, image by digest, GitOps
commit, statuses received, the HTTP answer, the time of each stage)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import e2e_lib as e2e  # noqa: E402
import scenario  # noqa: E402


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: run_app.py APP_DIR OUT_JSON", file=sys.stderr)
        return 2
    app_dir, out = Path(sys.argv[1]).resolve(), Path(sys.argv[2])
    if not app_dir.is_dir():
        print("e2e: %s is not a directory" % app_dir, file=sys.stderr)
        return 2
    env = scenario.Env.open(Path(tempfile.mkdtemp(prefix="luban-e2e-")))
    try:
        push, result = scenario.deploy(env, "app", tree=scenario.source_tree(app_dir), message="make e2e " + app_dir.name)
    except e2e.E2EError as err:
        print("e2e: %s" % err, file=sys.stderr)
        return 1
    finally:
        env.close()
    scenario.record(out, push, result)
    print("workflow: %s (%s)" % (result.workflow, result.phase))
    for stage, seconds in result.stages.items():
        print("  %-24s %6.1fs after the delivery" % (stage, seconds))
    if result.phase != "Succeeded":
        print(result.logs[-8000:])
        print("e2e: the pipeline ended %s; see %s" % (result.phase, out), file=sys.stderr)
        return 1
    print("latency (s): " + ", ".join("%s %.1f" % item for item in result.latency.items()))
    print("image: %s\ngitops commit: %s\nstatuses: %s" % (result.image, result.gitops_commit,
          " -> ".join(s["state"] for s in result.statuses)))
    print("answer (%s): %s" % (result.answer["status"], result.answer["body"]))
    print("recorded in %s" % out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
