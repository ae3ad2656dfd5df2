"""Draws bench/results/latest.png from latest.json: median build time per case, luban-ci next to
the baseline, with min-max whiskers. Runs in the bench venv (matplotlib; see mk/bench.mk)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on build machines
import matplotlib.pyplot as plt  # noqa: E402


def draw(result: dict, dest: Path) -> None:
    apps = result["apps"]
    width = 0.38
    fig, axes = plt.subplots(len(apps), 1, figsize=(8, 3.6 * len(apps)), dpi=100, squeeze=False)
    for ax, app in zip(axes[:, 0], apps):
        cases = app["cases"]
        x = range(len(cases))
        for offset, side, label, color in ((-width / 2, "luban", "luban-ci (pack + buildpack)", "#2b6cb0"),
                                           (width / 2, "baseline", "uv Dockerfile (BuildKit)", "#a0aec0")):
            medians = [c[f"{side}_s"] for c in cases]
            low = [c[f"{side}_s"] - c[f"{side}_min_s"] for c in cases]
            high = [c[f"{side}_max_s"] - c[f"{side}_s"] for c in cases]
            bars = ax.bar([i + offset for i in x], medians, width, yerr=[low, high], capsize=3, label=label, color=color)
            ax.bar_label(bars, fmt="%.1f", fontsize=8, padding=2)
        ax.set_xticks(list(x), [c["name"] for c in cases])
        ax.set_ylabel("seconds (median, min-max)")
        ax.set_title(app["app"], fontsize=9)
        ax.legend(fontsize=8)
        ax.spines[["top", "right"]].set_visible(False)
    fig.suptitle(result["machine"].get("summary", ""), fontsize=9)
    fig.tight_layout()
    # Fixed metadata, so an unchanged result gives an unchanged file.
    fig.savefig(dest, metadata={"Software": None})


if __name__ == "__main__":
    source = Path(sys.argv[1])
    draw(json.loads(source.read_text()), source.with_suffix(".png"))
