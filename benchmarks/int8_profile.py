"""Why INT8 is (or is not) faster than FP32 on ONNX Runtime CPU: timing, op profile, fused graph.

    .venv/bin/python benchmarks/int8_profile.py --artifacts artifacts/default [--graph sam_image]
        [--threads N] [--repeats 3] [--variants fp32 int8 dyn] [--workdir DIR]

Variants of one graph, all in one process on one fixed input:

    fp32          <graph>.onnx, as the runtime loads it
    int8          <graph>.int8.onnx (static QDQ, S8S8, per-channel; what `quantize` writes),
                  loaded as the runtime loads lowered graphs (NchwcTransformer disabled)
    dyn           MatMul-only dynamic INT8 of the FP32 graph (quantize_dynamic: uint8 activations
                  quantized at run time, int8 weights, i.e. U8S8), made here into --workdir
    int8_s8       int8 with session.qdqisint8allowed=1 (keep S8S8 instead of ORT's x86 S8->U8)
    int8_cleanup  int8 with session.enable_quant_qdq_cleanup=1 (drop float->Q->DQ->float pairs)
    int8_nchwc    int8 with every optimizer on (as FP32 is loaded)
    int8_u8       int8 with activation Q/DQ rewritten offline to uint8, zero point 128 (bit-exact
                  same values; weights stay int8, so U8S8), made here into --workdir
    u8s8          static QDQ again but with asymmetric uint8 activations (U8S8), from the
                  calibration cache and exclusions the manifest records (needs `quantize` done)
    int8_wonly    static S8S8 like int8 but activation x activation MatMuls left float
                  (weights-only Conv/MatMul/Gemm), from the same cache and exclusions

For each: median seconds over --repeats rounds run in the order A B C, C B A, ... (drift falls on
all alike), after one warm-up each; then, one variant at a time, a profiled session (after a
warm-up run) whose "Node" events are summed by op type, and the graph ONNX Runtime actually runs
(saved with optimized_model_filepath) whose op types and remaining Q/DQ nodes are counted.
Prints tables to stderr and one JSON object to stdout.
"""

from __future__ import annotations

import argparse
import collections
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort

QUANTIZABLE_OPS = ("Conv", "MatMul", "Gemm")  # export/precision/node_groups.py
# runtime/backends/onnxruntime_runner.py: lowered-precision graphs are loaded with these optimizers off
LOWERED_DISABLED = ("NchwcTransformer",)
QDQ_OPS = ("QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear")
MATMUL_LIKE = ("MatMul", "FusedMatMul", "QLinearMatMul", "MatMulInteger", "MatMulIntegerToFloat",
               "DynamicQuantizeMatMul", "Gemm", "QGemm")
ALL_VARIANTS = ("fp32", "int8", "dyn", "int8_u8", "int8_s8", "int8_cleanup", "int8_nchwc", "u8s8",
                "int8_wonly")


def say(msg: str) -> None:
    print(f"[int8_profile {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------
# inputs


def _manifest(root: Path) -> dict[str, Any]:
    path = root / "manifest.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def make_feed(model_path: Path, manifest: dict[str, Any], graph: str, seed: int = 0) -> dict[str, np.ndarray]:
    """One fixed input: shapes from the graph, symbolic dims at the manifest's `opt` size."""
    dims = {k: v.get("opt", v.get("min", 1)) for k, v in
            manifest.get("graphs", {}).get(graph, {}).get("dims", {}).items()}
    rng = np.random.default_rng(seed)
    sess_opts = ort.SessionOptions()
    sess_opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    model = onnx.load(model_path, load_external_data=False)
    init = {i.name for i in model.graph.initializer}
    feed = {}
    for inp in model.graph.input:
        if inp.name in init:
            continue
        t = inp.type.tensor_type
        shape = []
        for d in t.shape.dim:
            if d.HasField("dim_value"):
                shape.append(d.dim_value)
            else:
                shape.append(int(dims.get(d.dim_param, 1)))
        dtype = onnx.helper.tensor_dtype_to_np_dtype(t.elem_type)
        if np.issubdtype(dtype, np.floating):
            feed[inp.name] = rng.standard_normal(shape).astype(dtype)
        elif dtype == np.bool_:
            feed[inp.name] = np.ones(shape, dtype)
        else:
            feed[inp.name] = rng.integers(1, 100, size=shape).astype(dtype)
    return feed


# ----------------------------------------------------------------------------------------------
# derived graphs


def _large(path: Path) -> bool:
    return path.stat().st_size > 1_800_000_000


def make_dynamic(fp32: Path, out: Path, const_b_only: bool = True) -> Path:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    if not out.is_file():
        t = time.perf_counter()
        quantize_dynamic(os.fspath(fp32), os.fspath(out), op_types_to_quantize=["MatMul"],
                         per_channel=False, weight_type=QuantType.QInt8,
                         use_external_data_format=_large(fp32),
                         extra_options={"MatMulConstBOnly": const_b_only})
        say(f"dyn: quantize_dynamic wrote {out} in {time.perf_counter() - t:.0f} s")
    return out


CALIBRATION_CACHE: Path | None = None  # --calibration-cache: used when the manifest has no int8 entry


def _int8_entry(manifest: dict[str, Any], graph: str) -> dict[str, Any]:
    entry = manifest.get("precisions", {}).get("int8", {}).get("graphs", {}).get(graph)
    if entry:
        return entry
    if CALIBRATION_CACHE is not None:
        say(f"manifest has no precisions.int8.graphs.{graph}: using {CALIBRATION_CACHE} and no exclusions")
        return {"calibration_cache": CALIBRATION_CACHE.name, "excluded_nodes": {"nodes": []}}
    raise SystemExit(f"manifest has no precisions.int8.graphs.{graph}: run `quantize` first "
                     f"or give --calibration-cache")


def act_act_matmuls(model: onnx.ModelProto) -> list[str]:
    """MatMul nodes neither of whose inputs is (a chain to) an initializer: attention BMMs."""
    init = {i.name for i in model.graph.initializer}
    const = set(init)
    for n in model.graph.node:  # constants reached through Constant/Transpose/Reshape/Cast
        if n.op_type == "Constant" or (n.op_type in ("Transpose", "Reshape", "Cast", "Unsqueeze", "Identity")
                                      and n.input and n.input[0] in const):
            const.update(n.output)
    return [n.name for n in model.graph.node
            if n.op_type == "MatMul" and n.input[0] not in const and n.input[1] not in const]


def make_static(fp32: Path, out: Path, root: Path, manifest: dict[str, Any], graph: str,
                activation_u8: bool, extra_exclude: list[str] = ()) -> Path:
    """Static QDQ from the calibration cache `quantize` wrote (the same ranges, exclusions)."""
    from onnxruntime.quantization import (
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    if out.is_file():
        return out
    entry = _int8_entry(manifest, graph)
    cache = root / "calibration-cache" / entry["calibration_cache"]
    excluded = set(entry["excluded_nodes"]["nodes"]) | set(extra_exclude)
    t = time.perf_counter()
    quantize_static(
        os.fspath(fp32), os.fspath(out), calibration_data_reader=None,
        quant_format=QuantFormat.QDQ, op_types_to_quantize=list(QUANTIZABLE_OPS), per_channel=True,
        activation_type=QuantType.QUInt8 if activation_u8 else QuantType.QInt8,
        weight_type=QuantType.QInt8, nodes_to_exclude=sorted(excluded),
        calibrate_method=CalibrationMethod.MinMax, use_external_data_format=_large(fp32),
        calibration_providers=["CPUExecutionProvider"], calibration_cache_path=os.fspath(cache),
        extra_options={"ActivationSymmetric": not activation_u8, "WeightSymmetric": True,
                       "QuantizeBias": False})
    say(f"quantize_static ({'U8S8' if activation_u8 else 'S8S8'}, {len(excluded)} excluded) wrote "
        f"{out} in {time.perf_counter() - t:.0f} s")
    return out


def make_u8_activations(int8: Path, out: Path) -> Path:
    """The S8S8 QDQ graph with every activation Q/DQ zero point moved from int8 0 to uint8 128
    (export/precision/int8_cpu.py, what `quantize` writes as <graph>.int8-cpu.onnx)."""
    from frozenseg_export.precision.int8_cpu import uint8_activations

    if out.is_file():
        return out
    model = onnx.load(int8)
    changed = uint8_activations(model)
    onnx.save(model, os.fspath(out), save_as_external_data=model.ByteSize() > 1_800_000_000)
    say(f"int8_u8: {changed} activation Q nodes moved to uint8 (zero point 128) -> {out}")
    return out


# ----------------------------------------------------------------------------------------------
# sessions


def variant_spec(name: str, root: Path, graph: str, work: Path, manifest: dict[str, Any]) -> tuple[Path, list[str], dict[str, str]]:
    """(model path, disabled optimizers, session config entries) of one variant."""
    fp32 = root / f"{graph}.onnx"
    int8 = root / f"{graph}.int8.onnx"
    lowered = list(LOWERED_DISABLED)
    if name == "fp32":
        return fp32, [], {}
    if name == "int8":
        return int8, lowered, {}
    if name == "int8_s8":
        return int8, lowered, {"session.qdqisint8allowed": "1"}
    if name == "int8_cleanup":
        return int8, lowered, {"session.enable_quant_qdq_cleanup": "1"}
    if name == "int8_u8":
        return make_u8_activations(int8, work / f"{graph}.int8_u8act.onnx"), lowered, {}
    if name == "int8_nchwc":
        return int8, [], {}
    if name == "dyn":
        return make_dynamic(fp32, work / f"{graph}.dyn_matmul_u8s8.onnx"), lowered, {}
    if name == "u8s8":
        return make_static(fp32, work / f"{graph}.static_u8s8.onnx", root, manifest, graph, True), lowered, {}
    if name == "int8_wonly":
        names = act_act_matmuls(onnx.load(fp32, load_external_data=False))
        say(f"int8_wonly: leaving {len(names)} activation x activation MatMuls float")
        return make_static(fp32, work / f"{graph}.static_s8s8_wonly.onnx", root, manifest, graph, False,
                           names), lowered, {}
    raise SystemExit(f"unknown variant {name}; choose from {', '.join(ALL_VARIANTS)}")


def session(path: Path, threads: int, disabled: list[str], config: dict[str, str],
            profile_prefix: str | None = None, optimized_path: Path | None = None) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    for k, v in config.items():
        opts.add_session_config_entry(k, v)
    if profile_prefix:
        opts.enable_profiling = True
        opts.profile_file_prefix = profile_prefix
    if optimized_path:
        opts.optimized_model_filepath = os.fspath(optimized_path)
    return ort.InferenceSession(os.fspath(path), opts, providers=["CPUExecutionProvider"],
                                disabled_optimizers=disabled)


# ----------------------------------------------------------------------------------------------
# profile and optimized-graph analysis


def profile_by_op(profile_json: Path) -> dict[str, Any]:
    """Kernel time of the last model run, summed by op type (microseconds)."""
    events = json.loads(profile_json.read_text())
    runs = [e for e in events if e.get("cat") == "Session" and e.get("name") == "model_run"]
    last = runs[-1]
    lo, hi = last["ts"], last["ts"] + last["dur"]
    per_op: dict[str, float] = collections.defaultdict(float)
    per_node: dict[str, float] = {}
    count: dict[str, int] = collections.Counter()
    for e in events:
        if e.get("cat") != "Node" or not e.get("name", "").endswith("_kernel_time"):
            continue
        if not lo <= e["ts"] <= hi:
            continue
        op = e.get("args", {}).get("op_name", "?")
        per_op[op] += e["dur"]
        count[op] += 1
        per_node[e["name"][: -len("_kernel_time")]] = e["dur"]
    return {"run_us": last["dur"], "per_op_us": dict(per_op), "per_op_count": dict(count),
            "per_node_us": per_node}


def analyse_optimized(path: Path) -> dict[str, Any]:
    """Op types ORT runs, and where the remaining Q/DQ and float MatMuls sit."""
    model = onnx.load(path, load_external_data=False)
    g = model.graph
    init = {i.name for i in g.initializer}
    producer = {o: n for n in g.node for o in n.output}
    consumers: dict[str, list[onnx.NodeProto]] = collections.defaultdict(list)
    for n in g.node:
        for i in n.input:
            consumers[i].append(n)

    def is_const(name: str, depth: int = 0) -> bool:
        if name in init:
            return True
        p = producer.get(name)
        if p is None or depth > 4:
            return False
        if p.op_type == "Constant":
            return True
        if p.op_type in ("DequantizeLinear", "Transpose", "Reshape", "Cast", "Identity", "Unsqueeze"):
            return is_const(p.input[0], depth + 1)
        return False

    ops = collections.Counter(n.op_type for n in g.node)
    qdq: dict[str, collections.Counter] = {op: collections.Counter() for op in QDQ_OPS}
    weight_dq = 0
    for n in g.node:
        if n.op_type == "DequantizeLinear":
            if is_const(n.input[0]):
                weight_dq += 1
                key = "weight(initializer) -> " + "/".join(sorted({c.op_type for c in consumers[n.output[0]]}))
            else:
                src = producer.get(n.input[0])
                key = f"{src.op_type if src else 'input'} -> DQ -> " + \
                    "/".join(sorted({c.op_type for c in consumers[n.output[0]]}) or ["output"])
            qdq["DequantizeLinear"][key] += 1
        elif n.op_type in ("QuantizeLinear", "DynamicQuantizeLinear"):
            src = producer.get(n.input[0])
            key = f"{src.op_type if src else 'input'} -> Q -> " + \
                "/".join(sorted({c.op_type for c in consumers[n.output[0]]}) or ["output"])
            qdq[n.op_type][key] += 1
    matmuls: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    node_kind: dict[str, str] = {}
    for n in g.node:
        if n.op_type not in MATMUL_LIKE:
            continue
        b = n.input[3] if n.op_type == "QLinearMatMul" else n.input[1]
        kind = "weight" if is_const(b) else "act x act"
        a_src = producer.get(n.input[0])
        b_src = producer.get(b)
        feeds = "inputs from DQ" if (a_src is not None and a_src.op_type == "DequantizeLinear") or \
            (b_src is not None and b_src.op_type == "DequantizeLinear") else ""
        matmuls[n.op_type][f"{kind}{' ' + feeds if feeds else ''}"] += 1
        node_kind[n.name] = kind
    init_type = {i.name: onnx.TensorProto.DataType.Name(i.data_type) for i in g.initializer}
    zp_types: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for n in g.node:  # activation (non-constant) Q/DQ and QLinear* by zero-point type: S8 or U8?
        if n.op_type in ("QuantizeLinear", "DequantizeLinear") and not is_const(n.input[0]) and len(n.input) > 2:
            zp_types[n.op_type][init_type.get(n.input[2], "?")] += 1
        elif n.op_type in ("QLinearConv", "QLinearMatMul") and len(n.input) > 5:
            zp_types[n.op_type]["A " + init_type.get(n.input[2], "?") + " B " + init_type.get(n.input[5], "?")] += 1
    convs = collections.Counter()
    for n in g.node:
        if "Conv" in n.op_type:
            convs[n.op_type] += 1
    return {"op_counts": dict(sorted(ops.items(), key=lambda kv: -kv[1])),
            "qdq_nodes": {k: sum(v.values()) for k, v in qdq.items()} | {
                "QLinear*": sum(c for op, c in ops.items() if op.startswith("QLinear")),
                "MatMulInteger*": sum(c for op, c in ops.items() if op.startswith("MatMulInteger")),
                "weight_DequantizeLinear(run time)": weight_dq},
            "qdq_sites": {k: dict(v.most_common()) for k, v in qdq.items() if v},
            "matmul_kinds": {k: dict(v) for k, v in matmuls.items()},
            "conv_kinds": dict(convs),
            "zero_point_types": {k: dict(v) for k, v in zp_types.items()},
            "_node_kind": node_kind}


# ----------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--graph", default="sam_image")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--variants", nargs="+", default=["fp32", "int8", "dyn"], choices=ALL_VARIANTS)
    ap.add_argument("--workdir", default=None, help="derived graphs and profiles (default: a temp folder)")
    ap.add_argument("--top", type=int, default=12, help="op types shown per variant")
    ap.add_argument("--no-profile", action="store_true")
    ap.add_argument("--calibration-cache", default=None,
                    help="ranges file in DIR/calibration-cache for u8s8/int8_wonly when the manifest "
                         "has no int8 entry yet (then no nodes are excluded)")
    args = ap.parse_args(argv)
    global CALIBRATION_CACHE
    CALIBRATION_CACHE = Path(args.calibration_cache) if args.calibration_cache else None

    root = Path(args.artifacts)
    manifest = _manifest(root)
    have = ["fp32", *manifest.get("precisions", {})]
    say(f"manifest precisions: {', '.join(have)}; ORT {ort.__version__}; threads {args.threads}")
    tmp = None
    if args.workdir:
        work = Path(args.workdir)
        work.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="int8-profile-")
        work = Path(tmp.name)
    feed = make_feed(root / f"{args.graph}.onnx", manifest, args.graph)
    say(f"input: {', '.join(f'{k} {v.dtype} {list(v.shape)}' for k, v in feed.items())}")

    specs = {v: variant_spec(v, root, args.graph, work, manifest) for v in args.variants}
    report: dict[str, Any] = {"graph": args.graph, "threads": args.threads, "repeats": args.repeats,
                              "onnxruntime": ort.__version__, "cpu": _cpu(),
                              "input": {k: [str(v.dtype), list(v.shape)] for k, v in feed.items()},
                              "variants": {v: {"model": os.fspath(p), "disabled_optimizers": d, "config": c}
                                           for v, (p, d, c) in specs.items()}}

    # 1. timing, all sessions alive, alternating order
    sessions = {}
    outputs: dict[str, list[np.ndarray]] = {}
    for v, (path, disabled, config) in specs.items():
        t = time.perf_counter()
        sessions[v] = session(path, args.threads, disabled, config)
        report["variants"][v]["session_create_s"] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
        outputs[v] = sessions[v].run(None, feed)  # warm-up; outputs kept for the error check
        say(f"{v}: session {report['variants'][v]['session_create_s']} s, warm-up run {time.perf_counter() - t:.2f} s")
    times: dict[str, list[float]] = {v: [] for v in specs}
    order = list(specs)
    for r in range(args.repeats):
        for v in (order if r % 2 == 0 else order[::-1]):
            t = time.perf_counter()
            sessions[v].run(None, feed)
            times[v].append(time.perf_counter() - t)
        say(f"round {r + 1}: " + ", ".join(f"{v} {times[v][-1]:.3f}" for v in order))
    del sessions
    gc.collect()
    # accuracy sanity: worst output's max|o - ref| / max|ref| against fp32 and against int8
    for ref_name in ("fp32", "int8"):
        if ref_name not in outputs:
            continue
        ref = outputs[ref_name]
        report[f"rel_error_vs_{ref_name}"] = {
            v: float(max(np.abs(o.astype(np.float64) - r).max() / max(np.abs(r).max(), 1e-30)
                         for o, r in zip(outs, ref) if np.issubdtype(r.dtype, np.floating)))
            for v, outs in outputs.items() if v != ref_name}
    del outputs
    med = {v: statistics.median(ts) for v, ts in times.items()}
    base = med.get("fp32")
    report["seconds_median"] = {v: round(s, 4) for v, s in med.items()}
    report["seconds_all"] = {v: [round(x, 4) for x in ts] for v, ts in times.items()}
    if base:
        report["speedup_vs_fp32"] = {v: round(base / s, 3) for v, s in med.items()}
    errs = report.get("rel_error_vs_fp32", {})
    print(f"\n{'variant':<14} {'median s':>10} {'x fp32':>8} {'rel err fp32':>14}", file=sys.stderr)
    for v in order:
        ratio = f"{base / med[v]:.2f}" if base else "-"
        err = f"{errs[v]:.3e}" if v in errs else "-"
        print(f"{v:<14} {med[v]:>10.3f} {ratio:>8} {err:>14}", file=sys.stderr)
    if "rel_error_vs_int8" in report:
        print(f"rel error vs int8: {report['rel_error_vs_int8']}", file=sys.stderr)

    # 2. profile + optimized graph, one variant at a time
    if not args.no_profile:
        report["profile"] = {}
        for v, (path, disabled, config) in specs.items():
            opt_path = work / f"{args.graph}.{v}.optimized.onnx"
            s = session(path, args.threads, disabled, config, profile_prefix=os.fspath(work / f"profile_{v}"),
                        optimized_path=opt_path)
            s.run(None, feed)  # warm-up
            s.run(None, feed)  # the profiled run (the last model_run in the file)
            prof_file = Path(s.end_profiling())
            del s
            gc.collect()
            prof = profile_by_op(prof_file)
            graph_info = analyse_optimized(opt_path)
            node_kind = graph_info.pop("_node_kind")
            total = sum(prof["per_op_us"].values())
            # matmul time split: weight vs activation x activation
            split: dict[str, float] = collections.defaultdict(float)
            for node, us in prof["per_node_us"].items():
                if node in node_kind:
                    split[node_kind[node]] += us
            ops_sorted = sorted(prof["per_op_us"].items(), key=lambda kv: -kv[1])
            qdq_us = sum(prof["per_op_us"].get(op, 0.0) for op in QDQ_OPS)
            report["profile"][v] = {
                "profile_file": os.fspath(prof_file), "optimized_model": os.fspath(opt_path),
                "run_s": round(prof["run_us"] / 1e6, 4), "kernel_sum_s": round(total / 1e6, 4),
                "by_op": {op: {"s": round(us / 1e6, 4), "share": round(us / total, 4),
                               "nodes": prof["per_op_count"][op]} for op, us in ops_sorted},
                "quantize_dequantize_s": round(qdq_us / 1e6, 4),
                "quantize_dequantize_share": round(qdq_us / total, 4) if total else 0.0,
                "matmul_time_by_kind_s": {k: round(us / 1e6, 4) for k, us in split.items()},
                **graph_info,
            }
            print(f"\n== {v}: profiled run {prof['run_us'] / 1e6:.3f} s, kernels {total / 1e6:.3f} s, "
                  f"Q/DQ {qdq_us / 1e6:.3f} s ({qdq_us / total:.1%})", file=sys.stderr)
            print(f"   {'op type':<28} {'s':>9} {'share':>7} {'nodes':>6}", file=sys.stderr)
            for op, us in ops_sorted[: args.top]:
                print(f"   {op:<28} {us / 1e6:>9.3f} {us / total:>7.1%} {prof['per_op_count'][op]:>6}",
                      file=sys.stderr)
            print(f"   optimized graph Q/DQ/integer nodes: {graph_info['qdq_nodes']}", file=sys.stderr)
            print(f"   matmul kinds: {graph_info['matmul_kinds']}; time by kind: "
                  f"{ {k: round(u / 1e6, 3) for k, u in split.items()} }", file=sys.stderr)
            print(f"   zero-point types: {graph_info['zero_point_types']}", file=sys.stderr)
            for op, sites in graph_info["qdq_sites"].items():
                print(f"   {op} sites: {sites}", file=sys.stderr)
    print(json.dumps(report, indent=1))
    if tmp:
        tmp.cleanup()
    return 0


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                flags = next(l for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("flags"))
                isa = [f for f in ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8") if f" {f}" in flags]
                return f"{name} x{os.cpu_count()} ({' '.join(isa)})"
    except (OSError, StopIteration):
        pass
    return "?"


if __name__ == "__main__":
    sys.exit(main())
