"""The `bench` subcommand of `frozenseg-deploy`."""

from __future__ import annotations

import argparse
from pathlib import Path

from frozenseg_runtime.backends.factory import BACKENDS
from frozenseg_runtime.manifest import PRECISIONS, RUNTIME_PRECISIONS

QUICK = {"runs": 2, "warmup": 0, "stream": 2}


def resolution_arg(text: str):
    """NAME=SHORT,MAX (e.g. edge=640,1066)."""
    from frozenseg_bench.run import Resolution

    try:
        name, edges = text.split("=", 1)
        short, longest = (int(v) for v in edges.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--resolution takes NAME=SHORT,MAX (e.g. edge=640,1066), got {text!r}")
    if not name or short < 32 or longest < short:
        raise argparse.ArgumentTypeError(f"--resolution needs a name, SHORT >= 32 and MAX >= SHORT, got {text!r}")
    return Resolution(name, short, longest)


def add_bench_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="speed and memory of every backend and precision beside the PyTorch baseline, in one run",
        description="Time the PyTorch reference (eager FP32, the baseline; on a GPU also FP16 autocast and "
        "torch.compile), the Python runtime on every usable backend and precision, and the C++ library, on the "
        "same artifacts, image and vocabulary: per stage and end to end (mean, p50, p90, p99), cold start, "
        "vocabulary miss and cache hit, throughput, peak memory, counted FLOPs, at the official resolution and "
        "an edge one. Contender calls alternate with baseline calls; ratios come from the same rounds. Writes "
        "bench.json, bench.md, bench_stages.png and bench_resolution.png into --out.",
    )
    p.add_argument("--artifacts", required=True, help="folder written by `frozenseg-deploy export` (and quantize)")
    p.add_argument("--out", type=Path, help="output folder (default bench/DATE-TIME)")
    p.add_argument("--image", type=Path, help="the image timed (default: a generated 480x640 image)")
    p.add_argument("--vocabulary", type=Path, help="vocabulary file (default: ADE20K-150, the official synonyms)")
    p.add_argument("--resolution", dest="resolutions", type=resolution_arg, action="append", metavar="NAME=SHORT,MAX",
                   help="test-time resizes, repeatable (default official=800,1333 and edge=640,1066)")
    p.add_argument("--runs", type=int, help="timed rounds per contender and resolution (default 5)")
    p.add_argument("--warmup", type=int, help="warm-up calls after the first (default 1)")
    p.add_argument("--stream", type=int, help="images in the throughput stream (default 4)")
    p.add_argument("--stream-workers", type=int,
                   help="calls in flight in the throughput stream (default: 2 on a GPU or 8+ cores, else 1)")
    p.add_argument("--backend", dest="backends", action="append", choices=BACKENDS[1:],
                   help="Python runtime backends, repeatable (default: every usable one)")
    p.add_argument("--precision", dest="precisions", action="append", choices=RUNTIME_PRECISIONS,
                   help="precisions, repeatable (default: every one in the manifest, and bf16 on "
                        "openvino-cpu where the CPU has native bfloat16)")
    p.add_argument("--cpp-library", type=Path, help="libfrozenseg.so (default build/libfrozenseg.so if present)")
    p.add_argument("--cpp-precision", dest="cpp_precisions", action="append", choices=PRECISIONS,
                   help="precisions of the C++ runtime, repeatable (default fp32)")
    p.add_argument("--pytorch", dest="pytorch_variants", action="append", choices=("eager", "autocast", "compile"),
                   help="PyTorch variants beside the eager baseline (default: autocast and compile on a GPU)")
    p.add_argument("--checkpoint", help="the checkpoint the artifacts came from (synthetic weights are rebuilt)")
    p.add_argument("--threads", type=int, help="intra-op threads of each ONNX Runtime session (default: all)")
    p.add_argument("--baseline-process", choices=("own", "shared"), default="own",
                   help="the PyTorch baseline in a process of its own, its calls still alternating (default), "
                        "or in bench's process beside each contender (one heap: its calls ran half as slow again)")
    p.add_argument("--quick", action="store_true",
                   help=f"a smoke run: {QUICK['runs']} rounds, no warm-up, {QUICK['stream']} stream images "
                        "(unless given)")
    p.set_defaults(run=run_bench_command)


def run_bench_command(args: argparse.Namespace) -> int:
    from frozenseg_bench.run import BenchOptions, default_out, default_vocabulary, run_bench
    from frozenseg_runtime.progress import progress

    counts = {name: getattr(args, name) for name in ("runs", "warmup", "stream")}
    defaults = QUICK if args.quick else {"runs": 5, "warmup": 1, "stream": 4}
    counts = {name: defaults[name] if value is None else value for name, value in counts.items()}
    options = BenchOptions(
        artifacts=Path(args.artifacts), out=args.out or default_out(), image=args.image,
        vocabulary=args.vocabulary or default_vocabulary(), stream_workers=args.stream_workers,
        backends=tuple(args.backends) if args.backends else None,
        precisions=tuple(args.precisions) if args.precisions else None,
        cpp_library=args.cpp_library, cpp_precisions=tuple(args.cpp_precisions or ("fp32",)),
        pytorch_variants=tuple(args.pytorch_variants) if args.pytorch_variants else None,
        checkpoint=args.checkpoint, threads=args.threads, quick=args.quick,
        baseline_process=args.baseline_process,
        **({"resolutions": tuple(args.resolutions)} if args.resolutions else {}), **counts)
    report = run_bench(options, progress("bench"))
    return 1 if report["failed"] else 0
