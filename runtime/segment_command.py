"""`frozenseg-deploy segment`: the runtime on many images, with progress (torch-free).

Its command line lives here, with the runtime it runs; the tool's entry point (`export/cli.py`)
only adds it."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from frozenseg_runtime.backends.factory import BACKENDS
from frozenseg_runtime.image.loading import MAX_IMAGE_PIXELS
from frozenseg_runtime.manifest import RUNTIME_PRECISIONS
from frozenseg_runtime.output.files import save_result
from frozenseg_runtime.progress import progress
from frozenseg_runtime.schedule import ENCODER_SCHEDULES
from frozenseg_runtime.segmenter import TASKS, Segmenter
from frozenseg_runtime.text.cache import MEMORY_ONLY


def resize_arg(text: str) -> tuple[int, int] | None:
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


def add_resize_option(p: argparse.ArgumentParser) -> None:
    """`--resize SHORT,MAX|none`; `args.resize` is then what `Segmenter.segment` takes: "default"
    (the manifest's rule) when not given, None for the image's own size."""
    p.add_argument("--resize", type=lambda t: "default" if t == "default" else resize_arg(t),
                   default="default", metavar="SHORT,MAX|none",
                   help="test-time resize (default: the manifest's, i.e. the official 800,1333)")


def pixel_limit_arg(text: str) -> int | None:
    """A positive pixel count, or `none` for no limit."""
    if text.strip().lower() == "none":
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"--max-image-pixels takes a positive count or none, got {text!r}")
    return value


def add_segment_command(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "segment",
        help="segment images with exported artifacts (torch-free runtime)",
        description="Segment images with the exported graphs on ONNX Runtime, OpenVINO or TensorRT; writes "
        "label / panoptic PNGs, an overlay with class names and a JSON summary per image.",
    )
    p.add_argument("images", nargs="+", help="image files (JPEG, PNG, WebP, BMP, GIF, TIFF)")
    p.add_argument("--artifacts", required=True, help="folder written by `frozenseg-deploy export`")
    p.add_argument("--vocabulary", required=True, help="class list: file or 'cat,dog,grass'")
    p.add_argument("--train-vocabulary", help="training classes (default: from the manifest)")
    p.add_argument("--task", choices=TASKS, default=TASKS[0])
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--backend", default="auto", choices=BACKENDS)
    add_resize_option(p)
    p.add_argument("--precision", default=RUNTIME_PRECISIONS[0], choices=RUNTIME_PRECISIONS,
                   help="graph precision from the manifest: fp32, or fp16/int8/mixed after "
                        "`frozenseg-deploy quantize`, or bf16 (the fp32 graphs, image encoders in "
                        "bfloat16 on openvino-cpu, CPUs with AVX512-BF16 or AMX) (default fp32)")
    p.add_argument("--cache-dir", help="vocabulary cache folder, and OpenVINO's compiled graphs in its openvino/ "
                   "(default ~/.cache/frozenseg-deploy; '' or --no-cache: memory only)")
    p.add_argument("--no-cache", action="store_true", help="keep the vocabulary cache in memory only")
    p.add_argument("--max-image-pixels", type=pixel_limit_arg, default=MAX_IMAGE_PIXELS,
                   metavar="N|none", help="refuse images of more pixels, checked before decoding "
                   "(decompression bombs; default %(default)s)")
    p.add_argument("--encoder-schedule", choices=ENCODER_SCHEDULES, default=ENCODER_SCHEDULES[0],
                   help="image encoders at once or one after the other (default auto: at once on a "
                        "GPU or a CPU of 8+ cores, one after the other on a smaller CPU)")
    p.add_argument("--cuda-graph", action="store_true",
                   help="replay TensorRT engines as CUDA graphs (backend tensorrt only)")
    p.set_defaults(run=run_segment)
    return p


def run_segment(args: argparse.Namespace) -> int:
    say = progress("segment")
    t0 = time.perf_counter()
    cache = MEMORY_ONLY if args.no_cache else args.cache_dir
    with Segmenter.from_artifacts(args.artifacts, backend=args.backend, cache_dir=cache,
                                  precision=args.precision, cuda_graph=args.cuda_graph,
                                  max_image_pixels=args.max_image_pixels,
                                  encoder_schedule=args.encoder_schedule) as seg:
        say(f"backend {seg.backend}, precision {args.precision}, image encoders "
            f"{seg.encoder_plan.schedule}; artifacts verified in {time.perf_counter() - t0:.1f} s")
        t = time.perf_counter()
        stats = seg.set_vocabulary(args.vocabulary, args.train_vocabulary)
        say(f"vocabulary of {seg.vocabulary.num_classes} classes ready in "
            f"{time.perf_counter() - t:.1f} s (cache {stats.as_dict()})")
        total = len(args.images)
        for i, path in enumerate(args.images, 1):
            t = time.perf_counter()
            image = seg.load_image(path)  # decoded once: segmented, then drawn on
            result = seg.segment(image, task=args.task, resize=args.resize)
            files = save_result(result, image, args.out, Path(path).stem)
            say(f"[{i}/{total}] {path}: {time.perf_counter() - t:.1f} s -> "
                f"{', '.join(f.name for f in files)}")
    return 0
