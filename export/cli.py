"""`frozenseg-deploy`: the project's one command-line tool.

Subcommands import their heavy dependencies when they run, so the tool starts fast and the
torch-free commands (`segment`) work without torch installed. Choices come from the code's own
tuples. Errors the user can fix (`FrozenSegError`) end the command with a message and the exit
status of their kind (errors.EXIT_CODES); anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from frozenseg_bench.command import add_bench_command
from frozenseg_export.check.command import add_check_command
from frozenseg_export.tensorrt.command import add_build_command
from frozenseg_export.triton.command import add_triton_commands
from frozenseg_runtime import graphs
from frozenseg_runtime.errors import EXIT_CODES, FrozenSegError
from frozenseg_runtime.manifest import GRAPH_PRECISIONS, QUANTIZED_PRECISIONS
from frozenseg_runtime.segment_command import add_segment_command, resize_arg
from frozenseg_runtime.triton.client import add_triton_client_command


class _ReferenceChoices(Sequence[str]):
    """Choices that live in the reference (presets, kinds of synthetic weights), read only when
    argparse checks a value or prints help: the torch-free `segment` never imports the reference."""

    def __init__(self, name: str) -> None:
        self.name = name

    def _values(self) -> tuple[str, ...]:
        from frozenseg_reference import presets

        return tuple(sorted(presets.PRESETS)) if self.name == "presets" else presets.SYNTHETIC_MODES

    def __getitem__(self, index):  # type: ignore[override]
        return self._values()[index]

    def __len__(self) -> int:
        return len(self._values())

    def __contains__(self, value: object) -> bool:
        return value in self._values()


PRESET_CHOICES = _ReferenceChoices("presets")
SYNTHETIC_CHOICES = _ReferenceChoices("synthetic")
DEFAULT_PRESET_HELP = "the released ConvNeXt-L + SAM ViT-B configuration"


def _add_predict(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predict",
        help="run the PyTorch reference on one image",
        description="Run the PyTorch reference on one image and write outputs.npz and overlay PNGs.",
    )
    p.add_argument("--checkpoint", help="official FrozenSeg checkpoint (.pth); synthetic weights if omitted")
    p.add_argument("--preset", default=None, choices=PRESET_CHOICES, metavar="PRESET",
                   help=f"model preset: %(choices)s (default: {DEFAULT_PRESET_HELP})")
    p.add_argument("--vocabulary", required=True, help="class list: file (.txt ID:name,... or .json) or 'cat,dog,grass'")
    p.add_argument("--train-vocabulary", help="training vocabulary for seen/unseen (default: COCO panoptic)")
    p.add_argument("--image", required=True, help="input image (JPEG, PNG, WebP, BMP)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--resize", type=resize_arg, default=(800, 1333), metavar="SHORT,MAX|none",
                   help="test-time resize of the shortest edge with a max size (default 800,1333)")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic weights")
    p.add_argument("--synthetic", default="default", choices=SYNTHETIC_CHOICES, metavar="MODE",
                   help="statistics of the synthetic weights, %(choices)s: default, or stress (far "
                        "from any initialisation, as trained weights are; float32 rounding shows)")
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
    p.add_argument("--preset", default=None, choices=PRESET_CHOICES, metavar="PRESET",
                   help=f"model preset: %(choices)s (default: {DEFAULT_PRESET_HELP})")
    p.add_argument("--out", required=True, help="artifact folder")
    p.add_argument("--train-vocabulary", help="the checkpoint's training classes (default: COCO panoptic)")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic weights")
    p.add_argument("--synthetic", default="default", choices=SYNTHETIC_CHOICES, metavar="MODE",
                   help="statistics of the synthetic weights, %(choices)s: default, or stress (far "
                        "from any initialisation, as trained weights are; float32 rounding shows)")
    p.add_argument("--no-verify", action="store_true", help="skip the parity checks against PyTorch")
    p.add_argument("--verify-images", type=int, default=3, help="images for the chained parity check")
    p.add_argument("--force", action="store_true", help="export even if the artifacts are up to date")
    p.set_defaults(run=_run_export)


def _run_export(args: argparse.Namespace) -> int:
    from frozenseg_export.onnx.run import ExportOptions, run_export

    options = ExportOptions(
        checkpoint=args.checkpoint,
        preset=args.preset or ExportOptions.preset,
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
    """`clip_image=fp16,sam_image=int8,...`: every graph named, each fp32, fp16 or int8."""
    try:
        pairs = dict(item.split("=", 1) for item in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--mixed takes GRAPH=PRECISION,..., got {text!r}")
    mixed = {k.strip(): v.strip() for k, v in pairs.items()}
    allowed = GRAPH_PRECISIONS
    if set(mixed) != set(graphs.GRAPHS) or any(v not in allowed for v in mixed.values()):
        raise argparse.ArgumentTypeError(
            f"--mixed needs one precision ({', '.join(allowed)}) for each of the graphs "
            f"{', '.join(graphs.GRAPHS)}, got {text!r}")
    return mixed


MIXED_HELP = ",".join(f"{name}={p}" for name, p in graphs.mixed_default().items())


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
    p.add_argument("--precision", nargs="+", default=list(QUANTIZED_PRECISIONS),
                   choices=QUANTIZED_PRECISIONS, help="precisions to make (default: all)")
    p.add_argument("--calibration-images", help="folder of representative images (INT8 and mixed)")
    p.add_argument("--calibration-count", type=int, default=8, help="images used for calibration")
    p.add_argument("--eval-images", help="held-out images for accuracy (default: generated ones)")
    p.add_argument("--eval-count", type=int, default=2, help="held-out images measured")
    p.add_argument("--mixed", type=_mixed_arg, default=None, metavar="GRAPH=PRECISION,...",
                   help=f"per-graph precision of `mixed` (default {MIXED_HELP})")
    p.add_argument("--cache-dir", help="calibration range cache (default ARTIFACTS/calibration-cache)")
    p.add_argument("--checkpoint", help="the checkpoint the artifacts were exported from (needed "
                   "for the float64 reference of the noise floor; synthetic weights are rebuilt)")
    p.add_argument("--require-bars", action="store_true",
                   help="exit with status 1 when a precision misses its accuracy bars")
    p.set_defaults(run=_run_quantize)


def _run_quantize(args: argparse.Namespace) -> int:
    from frozenseg_export.precision.run import QuantizeOptions, run_quantize

    options = QuantizeOptions(
        precisions=tuple(args.precision), calibration_images=args.calibration_images,
        calibration_count=args.calibration_count, eval_images=args.eval_images,
        eval_count=args.eval_count, mixed=args.mixed or graphs.mixed_default(), cache_dir=args.cache_dir,
        checkpoint=args.checkpoint)
    precisions = run_quantize(args.artifacts, options)
    missed = [p for p, entry in precisions.items() if not entry["end_to_end"]["passes"]]
    return 1 if missed and args.require_bars else 0


def build_parser() -> argparse.ArgumentParser:
    epilog = ("exit status: 0 done; 1 quantize --require-bars or check missed a bar, or a bench contender failed; "
              + "; ".join(f"{code} {kind} error" for kind, code in EXIT_CODES.items())
              + " (2 also for a bad command line)")
    parser = argparse.ArgumentParser(prog="frozenseg-deploy", description=__doc__.splitlines()[0],
                                     epilog=epilog)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_predict(sub)
    _add_export(sub)
    _add_quantize(sub)
    add_segment_command(sub)
    add_build_command(sub)
    add_bench_command(sub)
    add_check_command(sub)
    add_triton_commands(sub)
    add_triton_client_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # ONNX Runtime's telemetry fully off unless the user set it: this command owns its process.
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except FrozenSegError as exc:  # only what the user can fix; a bug keeps its traceback
        print(f"frozenseg-deploy {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
