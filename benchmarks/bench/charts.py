"""`bench`'s pictures: per-stage stacked bars per contender, and latency against resolution."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from frozenseg_bench.table import STAGE_COLUMNS
from frozenseg_runtime.atomic import write_atomic

STAGE_COLOURS = ("#9e9e9e", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on a server or in CI
    import matplotlib.pyplot as plt

    return plt


def stage_bars(report: dict[str, Any], path: Path) -> Path:
    """One panel per resolution: a bar per contender, its p50 stage times stacked, the ratio to
    the baseline at the end of the bar."""
    plt = _pyplot()
    resolutions = [r["name"] for r in report["settings"]["resolutions"]]
    contenders = report["contenders"]
    fig, axes = plt.subplots(1, len(resolutions), figsize=(6.5 * len(resolutions), 0.55 * len(contenders) + 1.8),
                             squeeze=False, sharey=True)
    for ax, name in zip(axes[0], resolutions):
        labels = [c["label"] for c in contenders]
        left = [0.0] * len(contenders)
        for (stage, title), colour in zip(STAGE_COLUMNS, STAGE_COLOURS):
            widths = [c["resolutions"][name]["stages"][stage]["p50"] if name in c["resolutions"] else 0.0
                      for c in contenders]
            ax.barh(labels, widths, left=left, color=colour, label=title)
            left = [a + b for a, b in zip(left, widths)]
        for y, (c, end) in enumerate(zip(contenders, left)):
            speedup = c["resolutions"].get(name, {}).get("speedup", {}).get("end_to_end")
            if speedup:
                ax.text(end, y, f" {speedup:.2f}×", va="center", fontsize=8)
        r = next(r for r in report["settings"]["resolutions"] if r["name"] == name)
        ax.set_title(f"{name} {r['short']}/{r['max']} (input {r['input'][0]}×{r['input'][1]})")
        ax.set_xlabel("seconds per image (p50), ratio to the baseline")
        ax.set_xlim(0, max(left) * 1.18 if max(left) > 0 else 1)
        ax.invert_yaxis()
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=len(names), fontsize=8, frameon=False)
    fig.suptitle(_title(report), fontsize=10)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return _save(fig, path, plt)


def latency_by_resolution(report: dict[str, Any], path: Path) -> Path:
    """End-to-end p50 of each contender against the input's pixels, one line per contender."""
    plt = _pyplot()
    sizes = {r["name"]: r["input"][0] * r["input"][1] / 1e6 for r in report["settings"]["resolutions"]}
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for c in report["contenders"]:
        points = sorted((sizes[n], r["end_to_end"]["p50"]) for n, r in c["resolutions"].items())
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=c["label"])
    for name, megapixels in sizes.items():
        ax.axvline(megapixels, color="#cccccc", linewidth=0.8, zorder=0)
        ax.annotate(name, (megapixels, 1), xycoords=("data", "axes fraction"), fontsize=8, ha="center",
                    va="bottom")
    ax.set_xlabel("input megapixels (after the test-time resize)")
    ax.set_ylabel("seconds per image, end to end (p50)")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, loc="best")
    ax.set_title(_title(report), fontsize=9)
    fig.tight_layout()
    return _save(fig, path, plt)


def _title(report: dict[str, Any]) -> str:
    env = report["environment"]
    device = env.get("gpu") or f"{env['cpu']}, {env['usable_cores']} cores"
    return f"FrozenSeg {report['artifacts']['preset']} on {device}"


def _save(fig: Any, path: Path, plt: Any) -> Path:
    try:
        return write_atomic(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))
    finally:
        plt.close(fig)


def write_charts(report: dict[str, Any], out: Path) -> list[Path]:
    return [stage_bars(report, out / "bench_stages.png"),
            latency_by_resolution(report, out / "bench_resolution.png")]
