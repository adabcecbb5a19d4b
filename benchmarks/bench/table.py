"""The markdown tables of a `bench` report (bench.md, and README's figures)."""

from __future__ import annotations

from typing import Any

from frozenseg_bench.timing import own_rounds_speedup
from frozenseg_runtime import graphs

STAGE_COLUMNS = (("preprocess", "pre"), (graphs.CLIP_IMAGE, "CLIP"), (graphs.SAM_IMAGE, "SAM"),
                 (graphs.DECODER, "decoder"), ("postprocess", "post"))


def _s(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _x(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def _giga(value: float | None) -> str:
    return "—" if value is None else f"{value / 1e9:.1f}"


def _accuracy(c: dict[str, Any]) -> str:
    meets = c["accuracy"]["meets_bars"]
    return "—" if meets is None else ("meets" if meets else "misses")


def latency_table(report: dict[str, Any], resolution: str) -> str:
    """One row per contender at one resolution: end to end and per stage (p50), ratios to the
    baseline calls paired with it and to the baseline's own consecutive rounds, tail latency."""
    header = ("| contender | end to end p50 s | × baseline | × baseline's own rounds | "
              + " | ".join(f"{t} s" for _, t in STAGE_COLUMNS) + " | p90 s | p99 s | accuracy bars |")
    baseline = report["contenders"][0]
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for c in report["contenders"]:
        r = c["resolutions"].get(resolution)
        if r is None:
            continue
        stages = " | ".join(f"{_s(r['stages'][stage]['p50'])} ({_x(r['speedup']['stages'][stage])})"
                            for stage, _ in STAGE_COLUMNS)
        e2e = r["end_to_end"]
        own_ratio = own_rounds_speedup(c, baseline, resolution)
        lines.append(f"| {c['label']} | {_s(e2e['p50'])} | {_x(r['speedup']['end_to_end'])} | {_x(own_ratio)} | "
                     f"{stages} | "
                     f"{_s(e2e['p90'])} | {_s(e2e['p99'])} | {_accuracy(c)} |")
    return "\n".join(lines)


def life_table(report: dict[str, Any]) -> str:
    """Cold start, vocabulary, throughput and memory of each contender."""
    gpu = any(c["memory"]["device_mib"] is not None for c in report["contenders"])
    header = ("| contender | cold start s | vocabulary miss s | cache hit s | throughput images/s | "
              "peak host MiB |" + (" peak device MiB |" if gpu else ""))
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for c in report["contenders"]:
        t = c["throughput"]
        row = (f"| {c['label']} | {_s(c['cold_start_s'], 1)} | {_s(c['vocabulary']['miss_s'])} | "
               f"{_s(c['vocabulary']['hit_s'], 4)} | {_s(t['images_per_s'], 3) if t else '—'} "
               f"({t['workers'] if t else '—'} at once) | {_s(c['memory']['host_mib'], 0)} |")
        if gpu:
            row += f" {_s(c['memory']['device_mib'], 0)} |"
        lines.append(row)
    return "\n".join(lines)


def flops_table(report: dict[str, Any]) -> str:
    """Counted GFLOPs per subgraph and resolution, and each contender's achieved GFLOP/s."""
    names = list(report["flops"]["resolutions"])
    counted = (graphs.CLIP_IMAGE, graphs.SAM_IMAGE, graphs.DECODER)
    lines = ["| resolution (input, padded) | " + " | ".join(f"{g} GFLOPs" for g in counted) + " |",
             "|---|" + "---|" * len(counted)]
    for name in names:
        r = report["flops"]["resolutions"][name]
        size = f"{name} ({r['input'][0]}×{r['input'][1]}, {r['padded'][0]}×{r['padded'][1]})"
        lines.append(f"| {size} | " + " | ".join(_giga(r["flops"][g]) for g in counted) + " |")
    text = report["flops"][graphs.CLIP_TEXT]
    if text["flops"]:
        lines.append(f"\nText encoder over the vocabulary ({text['prompts']} prompts): {_giga(text['flops'])} GFLOPs.")
    lines += ["", "| contender | " + " | ".join(f"{n} {g} GFLOP/s (of peak)" for n in names for g in counted) + " |",
              "|---|" + "---|" * (len(names) * len(counted))]
    for c in report["contenders"]:
        cells = []
        for n in names:
            r = c["resolutions"].get(n)
            for g in counted:
                if r is None:
                    cells.append("—")
                    continue
                fraction = r["fraction_of_peak"][g]
                cells.append(_giga(r["achieved_flop_per_s"][g]) + (f" ({fraction:.1%})" if fraction else ""))
        lines.append(f"| {c['label']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def cpu_peak_table(peaks: dict[str, Any]) -> str:
    """Derived and measured GEMM peak per precision, each with how it was had."""
    lines = ["| precision | derived GFLOP/s | derivation | measured GFLOP/s | probe |", "|---|---|---|---|---|"]
    for precision, peak in peaks.items():
        lines.append(f"| {precision} | {_giga(peak['derived_flop_per_s'])} | {peak['derivation']} | "
                     f"{_giga(peak['measured_flop_per_s'])} | {peak['probe']} |")
    return "\n".join(lines)


def _met(goal: dict[str, Any]) -> str:
    return "**met**" if goal["met"] else "**missed**"


def goals_list(report: dict[str, Any]) -> str:
    """Issue 25's three goals with the figures that decide them."""
    goals = report["goals"]
    encoders, fastest, memory = goals["encoders_fp32_peak"], goals["fastest_passing"], goals["memory"]
    fractions = "; ".join(f"{key}: " + ", ".join(f"{stage} {'—' if f is None else f'{f:.0%}'}"
                                                 for stage, f in per.items())
                          for key, per in encoders["fractions"].items()) or "no FP32 runtime contender"
    base = goals["memory"]["baseline_host_mib"]
    memories = "; ".join(f"{key}: {_s(mib, 0)} MiB" for key, mib in memory["host_mib"].items()) or "none"
    return "\n".join([
        f"- Image encoders of FP32 contenders at ≥ {encoders['target']:.0%} of the FP32 peak: {_met(encoders)} "
        f"({fractions})",
        f"- Fastest contender that meets its bars ({fastest['contender'] or 'none'}) ≥ {fastest['target']:.0f}× "
        f"the baseline's own rounds: {_met(fastest)} ({_x(fastest['speedup_own_rounds'])}; against the paired "
        f"calls {_x(fastest['speedup_paired'])})",
        f"- Peak host memory of every runtime contender ≤ the baseline's ({_s(base, 0)} MiB): {_met(memory)} "
        f"({memories})"])


def markdown(report: dict[str, Any]) -> str:
    env = report["environment"]
    machine = f"{env['cpu']} ({env['usable_cores']} cores)" + (f", {env['gpu']}" if env.get("gpu") else "")
    versions = ", ".join(f"{k} {env[k]}" for k in ("torch", "onnxruntime", "tensorrt") if env.get(k))
    s = report["settings"]
    parts = [
        f"# frozenseg-deploy bench ({report['artifacts']['preset']}{', quick' if report['quick'] else ''})",
        "",
        f"{machine}; {versions}. Image {s['image']['size'][0]}×{s['image']['size'][1]} ({s['image']['source']}), "
        f"vocabulary {s['vocabulary']['classes']} classes; {s['runs']} rounds per contender and resolution, "
        f"each a baseline call then the contender's (tasks in turn), after {s['warmup']} warm-up. "
        f"Baseline: {report['contenders'][0]['label']}; ratios are medians of the same rounds.",
    ]
    for r in s["resolutions"]:
        parts += ["", f"## {r['name']}: shortest edge {r['short']}, at most {r['max']} "
                      f"(input {r['input'][0]}×{r['input'][1]})", "", latency_table(report, r["name"])]
    parts += ["", "## Start, vocabulary, throughput, memory", "", life_table(report),
              "", "## FLOPs (counted by torch FlopCounterMode)", "", flops_table(report)]
    if report.get("cpu_peaks"):
        parts += ["", "## The CPU's matrix-multiply peak (stages' fractions are of the measured figure)", "",
                  cpu_peak_table(report["cpu_peaks"])]
    parts += ["", f"## Goals (at the {report['goals']['resolution']} resolution)", "", goals_list(report)]
    if report.get("failed"):
        parts += ["", "## Failed", ""] + [f"- {s['contender']}: {s['reason']}" for s in report["failed"]]
    if report["skipped"]:
        parts += ["", "## Skipped", ""] + [f"- {s['contender']}: {s['reason']}" for s in report["skipped"]]
    return "\n".join(parts) + "\n"
