"""check.json (everything), check.md (the summary people read) and check.html (the summary with
its pictures on one page), written atomically."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from frozenseg_runtime.atomic import write_bytes_atomic

Table = tuple[list[str], list[list[str]]]


def _num(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.6f}" if 1e-3 <= abs(value) < 1e4 or value == 0 else f"{value:.3e}"
    return str(value)


def _result(verdict: dict[str, Any]) -> str:
    status = verdict.get("status", "passed" if verdict["passed"] else "failed")
    return {"passed": "pass", "failed": "**FAIL**"}.get(status, status)


def _tables(report: dict[str, Any]) -> list[tuple[str, Table]]:
    out: list[tuple[str, Table]] = []
    out.append(("Bars", (["metric", "value", "bar", "measured against", "bar from", "result"],
                         [[v["metric"], _num(v["value"]), ("≥ " if v["kind"] == "min" else "≤ ") + _num(v["bar"]),
                           v["against"], v["source"], _result(v)]
                          for v in report["verdicts"]])))
    e2e = report["end_to_end"]
    metrics = sorted(e2e["vs_float32"])
    out.append(("End to end (agreement of answers)",
                (["metric", "deployed vs float32", "deployed vs float64", "float32 vs float64 (floor)"],
                 [[m, _num(e2e["vs_float32"][m]), _num(e2e["vs_float64"].get(m)), _num(e2e["floor"].get(m))]
                  for m in metrics])))
    rows = []
    for name, t in report["tensors"].items():
        a, b, f, c = t["vs_float32"], t["vs_float64"], t["float32_floor"], t["chained_vs_float32"]
        rows.append([name, _num(a["max_abs"]), _num(a["mean_abs"]), _num(a["p99_abs"]), _num(a["relative"]),
                     _num(a["cosine"]), _num(b["relative"]), _num(b["judged"]), _num(f["judged"]),
                     _num(t["floor_margin"]),
                     _num(c["relative"]) if c else "–"])
    out.append(("Tensors (worst image; each subgraph on the float32 reference's inputs; judged: the "
                "largest element's error, for the decoder the median query's, in units of the output's range)",
                (["output", "max abs", "mean abs", "p99 abs", "relative", "cosine", "relative vs float64",
                  "judged vs float64", "float32 floor (judged)", "floor margin", "chained relative"],
                 rows)))
    if report["task_metrics"]:
        ref, dep = report["task_metrics"]["reference"], report["task_metrics"]["deployed"]
        if "miou" in ref:
            keys = ["miou", "pixel_accuracy", "mean_accuracy"]
            rows = [[k, _num(ref[k]), _num(dep[k])] for k in keys]
        else:
            rows = [[f"{split} {k}", _num(ref[split][k]), _num(dep[split][k])]
                    for split in ("all", "things", "stuff") for k in ("pq", "sq", "rq")]
        out.append((f"Against the ground truth ({report['settings']['format']})",
                    (["metric", "PyTorch reference", "deployed"], rows)))
    per_image = report["per_image"]
    keys = sorted({k for row in per_image for k in row if k != "image"})
    out.append(("Per image (against the float32 reference)",
                (["image", *keys], [[row["image"], *(_num(row.get(k)) for k in keys)] for row in per_image])))
    return out


def _markdown_table(table: Table) -> str:
    head, rows = table
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _html_table(table: Table) -> str:
    head, rows = table
    cell = lambda c: html.escape(c).replace("**FAIL**", "<b style='color:#c00'>FAIL</b>")  # noqa: E731
    body = "".join("<tr>" + "".join(f"<td>{cell(c)}</td>" for c in r) + "</tr>" for r in rows)
    return "<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>" + body + "</table>"


def _headline(report: dict[str, Any]) -> tuple[str, list[str]]:
    s = report["settings"]
    verdict = "PASSES" if report["passed"] else "FAILS"
    unjudged = [v["metric"] for v in report["verdicts"] if v.get("status") == "not judgeable here"]
    if unjudged:
        verdict += f" ({len(unjudged)} figure(s) not judgeable here: {', '.join(unjudged)})"
    lines = [f"{s['runtime']} runtime on {s['backend']} at {s['precision']}, {len(s['images'])} image(s), "
             f"{len(s['classes'])} classes, tasks {', '.join(s['tasks'])}; preset {s['preset']}, weights "
             f"{s['weights'].get('file') or s['weights'].get('source')}.",
             f"Reference cache: {report['reference_cache']['hits']} of {report['reference_cache']['images']} "
             f"images found. {report['tensor_note'].capitalize()}. {report['seconds']} s."]
    return f"FrozenSeg deployment check: {verdict}", lines


def write_report(out: Path, report: dict[str, Any], pictures: Sequence[Path]) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    title, lines = _headline(report)
    tables = _tables(report)
    md = [f"# {title}", "", *lines, ""]
    for name, table in tables:
        md += [f"## {name}", "", _markdown_table(table), ""]
    md += ["## Pictures", ""] + [f"![{p.stem}]({p.name})" for p in pictures] + [""]
    page = [f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title>",
            "<style>body{font-family:sans-serif;max-width:1400px;margin:auto}table{border-collapse:collapse;"
            "margin-bottom:1em}td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}"
            "img{max-width:100%}</style>", f"<h1>{html.escape(title)}</h1>"]
    page += [f"<p>{html.escape(line)}</p>" for line in lines]
    for name, table in tables:
        page += [f"<h2>{html.escape(name)}</h2>", _html_table(table)]
    page += ["<h2>Pictures</h2>"] + [f"<p><img src='{html.escape(p.name)}' alt='{html.escape(p.stem)}'></p>"
                                     for p in pictures]
    files = {"check.json": json.dumps(report, indent=1, default=float) + "\n", "check.md": "\n".join(md),
             "check.html": "\n".join(page) + "\n"}
    written = []
    for name, text in files.items():
        write_bytes_atomic(out / name, text.encode())
        written.append(out / name)
    return written
