"""`frozenseg-deploy check`: the command line over run_check."""

from __future__ import annotations

import argparse

from frozenseg_export.check.choices import FORMATS, METRICS, RUNTIMES
from frozenseg_runtime.backends.factory import BACKENDS
from frozenseg_runtime.manifest import RUNTIME_PRECISIONS
from frozenseg_runtime.output.postprocess import TASKS


def add_check_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check",
        help="does a deployment still give the PyTorch reference's answers? (tensors, answers, task metric)",
        description="Run the PyTorch reference (float32 and float64, cached by content) and the deployed "
        "pipeline (Python runtime or C++ library, any backend and precision) on the same images, weights and "
        "vocabulary; compare every subgraph output, the semantic, panoptic and instance answers, and, with "
        "--ground-truth, mIoU or PQ of both; judge each figure against its bar on the float32 noise floor. "
        "Exit status 1 when a bar is missed, naming the metric, its value and the bar.",
    )
    p.add_argument("--artifacts", required=True, help="folder written by `frozenseg-deploy export`")
    p.add_argument("--images", required=True, nargs="+", help="image files or folders of images")
    p.add_argument("--backend", default="auto", choices=BACKENDS, help="inference backend (default auto)")
    p.add_argument("--precision", default="fp32", choices=RUNTIME_PRECISIONS,
                   help="graph precision (default fp32; bf16: Python runtime on openvino-cpu, judged as fp16)")
    p.add_argument("--runtime", default="python", choices=RUNTIMES,
                   help="the runtime checked: the Python runtime or the C++ library (default python)")
    # The flag's former name (before issue 24 kept "engine" for TensorRT plans only).
    p.add_argument("--engine", dest="runtime", choices=RUNTIMES, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    p.add_argument("--cpp-library", help="libfrozenseg.so (default $FROZENSEG_CPP_LIBRARY or build/libfrozenseg.so)")
    p.add_argument("--checkpoint", help="the checkpoint the artifacts were exported from (synthetic weights are "
                   "rebuilt from the manifest)")
    p.add_argument("--vocabulary", help="classes (file, JSON or 'cat,dog'); default: the manifest's training vocabulary")
    p.add_argument("--ground-truth", help="folder of ADE20K label PNGs, or of one COCO panoptic JSON with its PNGs")
    p.add_argument("--format", dest="gt_format", choices=FORMATS, help="the ground truth's format")
    p.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS, help="tasks compared (default all)")
    p.add_argument("--threshold", action="append", default=[], metavar="METRIC=VALUE",
                   help=f"override one bar (repeatable); metrics: {', '.join(METRICS)}")
    p.add_argument("--out", help="report folder: check.json, check.md, check.html and PNG pictures")
    p.add_argument("--reference-cache", help="folder of cached reference outputs (default "
                   "~/.cache/frozenseg-deploy/reference; '' turns the cache off)")
    p.set_defaults(run=_run_check)


def _run_check(args: argparse.Namespace) -> int:
    from frozenseg_export.check.run import CheckOptions, run_check
    from frozenseg_export.check.thresholds import parse_overrides

    options = CheckOptions(
        artifacts=args.artifacts, images=tuple(args.images), backend=args.backend, precision=args.precision,
        runtime=args.runtime, checkpoint=args.checkpoint, vocabulary=args.vocabulary,
        ground_truth=args.ground_truth, gt_format=args.gt_format, tasks=tuple(dict.fromkeys(args.tasks)),
        thresholds=parse_overrides(args.threshold), out=args.out, reference_cache=args.reference_cache,
        cpp_library=args.cpp_library)
    outcome = run_check(options)
    if args.out:
        print(f"report: {args.out}/check.md, check.html, check.json")
    if not outcome.passed:
        import sys

        for failure in outcome.failures():
            print(f"frozenseg-deploy check: FAILED: {failure}", file=sys.stderr)
        return 1
    return 0
