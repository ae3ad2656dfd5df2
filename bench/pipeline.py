"""`make bench-pipeline`: the pipeline's latency on scenario 1, webhook to answering pod, beside the
bare `pack build` of the same app (the overhead ratio is the figure).

Each run changes web-flask's code (a new greeting), pushes it to the test cluster's git server,
delivers the signed push and follows it to the pod answering with the new greeting
(tests/e2e/scenario.py, the same code as `make test-e2e`). The split comes from the Workflow's own
records: Sensor (delivery -> Workflow), scheduling (Workflow -> first step), each step, and Argo
CD sync plus rollout (deploy commit -> answer). Then the same source is built once more with
`pack build` through playbooks/build_app.yml, as `make bench` times it (the pack step alone).
Both builds are warm: the pipeline's cache image and the local pack's cache hold the previous
commit. Not a timed test; numbers depend on the machine.

Writes bench/results/pipeline.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
sys.path.insert(0, str(REPO / "bench"))

import bench  # noqa: E402
import scenario  # noqa: E402

APP = REPO / "examples" / "web-flask"
STAGES = ("sensor", "scheduling", "supersede", "checkout", "detect", "build", "digest", "deploy",
          "argocd_sync_and_rollout", "total")


def changed_source(marker: str) -> Path:
    work = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    for item in APP.iterdir():
        if item.is_file():
            (work / item.name).write_bytes(item.read_bytes())
    app_py = work / "app.py"
    app_py.write_text(app_py.read_text().replace('"hello from luban-ci"', '"hello from luban-ci %s"' % marker))
    return work


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "pipeline.json")
    args = parser.parse_args()
    env = scenario.Env.open(Path(tempfile.mkdtemp(prefix="bench-pipeline-")))
    # The bench's builds run on its own copy of the run image (bench.py), as `make bench` sets up.
    tools = subprocess.run([str(REPO / "scripts" / "tools.sh")], capture_output=True, text=True, check=True).stdout.strip()
    bench.sh([tools + "/bin/crane", "copy", bench.RUN_IMAGE, bench.BENCH_RUN_IMAGE])
    runs = []
    try:
        for index in range(args.runs + 1):  # the first run warms the caches and is not counted
            marker = uuid.uuid4().hex[:8]
            source = changed_source(marker)
            _push, result = scenario.deploy(env, "web-flask", tree=source, message="bench " + marker)
            if result.phase != "Succeeded":
                print(result.logs[-6000:], file=sys.stderr)
                raise SystemExit("the pipeline ended %s" % result.phase)
            bench.WORK.mkdir(parents=True, exist_ok=True)
            pack = bench.build_luban(source, "127.0.0.1:5000/bench/pipeline-web-flask")
            if index == 0:
                continue
            runs.append({"pipeline": result.latency, "pack_build_seconds": round(pack.seconds, 1),
                         "workflow": result.workflow, "image": result.image})
            print("run %d: webhook -> answer %.1fs, pack build %.1fs" % (index, result.latency["total"], pack.seconds))
    finally:
        env.close()
    median = {stage: statistics.median(r["pipeline"].get(stage, 0.0) for r in runs) for stage in STAGES}
    pack_median = statistics.median(r["pack_build_seconds"] for r in runs)
    summary = {"app": "web-flask", "case": "code change, warm caches", "runs": runs,
               "median_seconds": median, "pack_build_median_seconds": pack_median,
               "overhead_ratio": round(median["total"] / pack_median, 2) if pack_median else None,
               "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=1) + "\n")
    print("%-26s %8s" % ("stage (median of %d)" % len(runs), "seconds"))
    for stage in STAGES:
        print("%-26s %8.1f" % (stage, median[stage]))
    print("%-26s %8.1f" % ("bare pack build", pack_median))
    print("overhead ratio (webhook -> answer / pack build): %s" % summary["overhead_ratio"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
