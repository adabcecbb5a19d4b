"""`frozenseg-deploy`: the project's one command-line tool.

Subcommands import their heavy dependencies when they run, so the tool starts fast and the
torch-free commands (added by later issues) work without torch installed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from frozenseg_runtime.errors import FrozenSegError

from frozenseg_export.tensorrt.command import add_build_command


def _resize_arg(text: str) -> tuple[int, int] | None:
    """`SHORT,MAX` or `none`."""
    if text.strip().lower() == "none":
        return None
    try:
        short, longest = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--resize takes SHORT,MAX (e.g. 800,1333) or none, got {text!r}")
    if short <= 0 or longest < short:
        raise argparse.ArgumentTypeError(f"--resize needs 0 < SHORT <= MAX, got {text!r}")
    return short, longest


def _add_predict(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predict",
        help="run the PyTorch reference on one image",
        description="Run the PyTorch reference on one image and write outputs.npz and overlay PNGs.",
    )
    p.add_argument("--checkpoint", help="official FrozenSeg checkpoint (.pth); synthetic weights if omitted")
    p.add_argument("--preset", default=None, help="model preset (default: convnext_large_vit_b)")
    p.add_argument("--vocabulary", required=True, help="class list: file (.txt ID:name,... or .json) or 'cat,dog,grass'")
    p.add_argument("--train-vocabulary", help="training vocabulary for seen/unseen (default: COCO panoptic)")
    p.add_argument("--image", required=True, help="input image (JPEG, PNG, WebP, BMP)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--resize", type=_resize_arg, default=(800, 1333), metavar="SHORT,MAX|none",
                   help="test-time resize of the shortest edge with a max size (default 800,1333)")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic weights")
    # Checked by the reference when it builds the weights (before anything is written): its
    # list lives there, and the torch-free commands of this tool must not import it.
    p.add_argument("--synthetic", default="default", metavar="default|stress",
                   help="statistics of the synthetic weights: default, or stress (far from any "
                        "initialisation, as trained weights are; float32 rounding shows)")
    p.set_defaults(run=_run_predict)


def _run_predict(args: argparse.Namespace) -> int:
    from frozenseg_reference.predict import run_predict

    return run_predict(args)


def _add_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="export the four subgraphs to verified ONNX graphs with a manifest",
        description="Export CLIP image, SAM image, CLIP text and decoder graphs to ONNX, check them "
        "(onnx checker, TensorRT readiness), verify them against PyTorch on ONNX Runtime, and "
        "write manifest.json. Skipped when the artifacts in --out are already up to date.",
    )
    p.add_argument("--checkpoint", help="official FrozenSeg checkpoint (.pth); synthetic weights if omitted")
    p.add_argument("--preset", default="convnext_large_vit_b", help="model preset")
    p.add_argument("--out", required=True, help="artifact folder")
    p.add_argument("--train-vocabulary", help="the checkpoint's training classes (default: COCO panoptic)")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic weights")
    # Checked by the reference when it builds the weights (before anything is written): its
    # list lives there, and the torch-free commands of this tool must not import it.
    p.add_argument("--synthetic", default="default", metavar="default|stress",
                   help="statistics of the synthetic weights: default, or stress (far from any "
                        "initialisation, as trained weights are; float32 rounding shows)")
    p.add_argument("--no-verify", action="store_true", help="skip the parity checks against PyTorch")
    p.add_argument("--verify-images", type=int, default=3, help="images for the chained parity check")
    p.add_argument("--force", action="store_true", help="export even if the artifacts are up to date")
    p.set_defaults(run=_run_export)


def _run_export(args: argparse.Namespace) -> int:
    from frozenseg_export.onnx.run import ExportOptions
    from frozenseg_export.onnx.run import run_export

    options = ExportOptions(
        checkpoint=args.checkpoint,
        preset=args.preset,
        seed=args.seed,
        synthetic=args.synthetic,
        train_vocabulary=args.train_vocabulary,
        verify=not args.no_verify,
        verify_images=args.verify_images,
        force=args.force,
    )
    run_export(args.out, options)
    return 0


def _mixed_arg(text: str) -> dict[str, str]:
    """`clip_image=fp16,sam_image=int8,...`"""
    try:
        pairs = dict(item.split("=", 1) for item in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--mixed takes GRAPH=PRECISION,..., got {text!r}")
    return {k.strip(): v.strip() for k, v in pairs.items()}


def _add_quantize(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "quantize",
        help="FP16 (with FP32 islands) and INT8 (Q/DQ) graphs, measured against FP32",
        description="Lower the exported graphs to FP16 with FP32 islands and to INT8 Q/DQ "
        "(post-training, calibrated on --calibration-images), choosing what stays in higher "
        "precision by measurement; measure every graph and the whole chain on ONNX Runtime CPU "
        "against FP32; record it all in manifest.json, precision_report.md and precision_report.png.",
    )
    p.add_argument("--artifacts", required=True, help="folder written by `frozenseg-deploy export`")
    p.add_argument("--precision", nargs="+", default=["fp16", "int8", "mixed"],
                   choices=("fp16", "int8", "mixed"), help="precisions to make (default: all)")
    p.add_argument("--calibration-images", help="folder of representative images (INT8 and mixed)")
    p.add_argument("--calibration-count", type=int, default=8, help="images used for calibration")
    p.add_argument("--eval-images", help="held-out images for accuracy (default: generated ones)")
    p.add_argument("--eval-count", type=int, default=2, help="held-out images measured")
    p.add_argument("--mixed", type=_mixed_arg, default=None, metavar="GRAPH=PRECISION,...",
                   help="per-graph precision of `mixed` (default clip_image=fp16,sam_image=int8,"
                        "clip_text=fp16,decoder=fp16)")
    p.add_argument("--cache-dir", help="calibration range cache (default ARTIFACTS/calibration-cache)")
    p.add_argument("--checkpoint", help="the checkpoint the artifacts were exported from (needed "
                   "for the float64 reference of the noise floor; synthetic weights are rebuilt)")
    p.add_argument("--require-bars", action="store_true",
                   help="exit with status 1 when a precision misses its accuracy bars")
    p.set_defaults(run=_run_quantize)


def _run_quantize(args: argparse.Namespace) -> int:
    from frozenseg_export.precision.run import MIXED_DEFAULT
    from frozenseg_export.precision.run import QuantizeOptions
    from frozenseg_export.precision.run import run_quantize

    options = QuantizeOptions(
        precisions=tuple(args.precision), calibration_images=args.calibration_images,
        calibration_count=args.calibration_count, eval_images=args.eval_images,
        eval_count=args.eval_count, mixed=args.mixed or dict(MIXED_DEFAULT), cache_dir=args.cache_dir,
        checkpoint=args.checkpoint)
    precisions = run_quantize(args.artifacts, options)
    missed = [p for p, entry in precisions.items() if not entry["end_to_end"]["passes"]]
    return 1 if missed and args.require_bars else 0


def _add_segment(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "segment",
        help="segment images with exported artifacts (torch-free runtime)",
        description="Segment images with the exported graphs on ONNX Runtime; writes label / "
        "panoptic PNGs, an overlay with class names and a JSON summary per image.",
    )
    p.add_argument("images", nargs="+", help="image files (JPEG, PNG, WebP, BMP)")
    p.add_argument("--artifacts", required=True, help="folder written by `frozenseg-deploy export`")
    p.add_argument("--vocabulary", required=True, help="class list: file or 'cat,dog,grass'")
    p.add_argument("--train-vocabulary", help="training classes (default: from the manifest)")
    p.add_argument("--task", choices=("semantic", "panoptic", "instance"), default="semantic")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--backend", default="auto",
                   choices=("auto", "onnxruntime-cpu", "onnxruntime-cuda", "onnxruntime-trt", "tensorrt"))
    p.add_argument("--resize", type=lambda t: "none" if t.strip().lower() == "none" else _resize_arg(t),
                   default=None, metavar="SHORT,MAX|none",
                   help="test-time resize (default: the manifest's, i.e. the official 800,1333)")
    p.add_argument("--precision", default="fp32",
                   help="graph precision from the manifest: fp32, or fp16/int8/mixed after "
                        "`frozenseg-deploy quantize` (default fp32)")
    p.add_argument("--cache-dir", help="vocabulary cache folder (default ~/.cache/frozenseg-deploy)")
    p.add_argument("--no-cache", action="store_true", help="keep the vocabulary cache in memory only")
    p.set_defaults(run=_run_segment)


def _run_segment(args: argparse.Namespace) -> int:
    from frozenseg_runtime.segment_command import run_segment

    return run_segment(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="frozenseg-deploy", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    _add_predict(sub)
    _add_export(sub)
    _add_quantize(sub)
    _add_segment(sub)
    add_build_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (FrozenSegError, RuntimeError) as exc:
        print(f"frozenseg-deploy {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
