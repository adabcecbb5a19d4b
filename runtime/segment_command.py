"""`frozenseg-deploy segment`: the runtime on many images, with progress (torch-free)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from frozenseg_runtime.image.loading import load_image
from frozenseg_runtime.output.files import save_result
from frozenseg_runtime.segmenter import Segmenter


def run_segment(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    cache = False if args.no_cache else args.cache_dir
    with Segmenter.from_artifacts(args.artifacts, backend=args.backend, cache_dir=cache,
                                  precision=args.precision) as seg:
        say = lambda msg: print(f"[segment] {msg}", file=sys.stderr, flush=True)  # noqa: E731
        say(f"backend {seg.backend}, precision {args.precision}; artifacts verified in {time.perf_counter() - t0:.1f} s")
        t = time.perf_counter()
        stats = seg.set_vocabulary(args.vocabulary, args.train_vocabulary)
        say(f"vocabulary of {seg.vocabulary.num_classes} classes ready in "
            f"{time.perf_counter() - t:.1f} s (cache {stats.as_dict()})")
        # None: the manifest's resize rule; "none": the image at its own size.
        resize = "default" if args.resize is None else (None if args.resize == "none" else args.resize)
        total = len(args.images)
        for i, path in enumerate(args.images, 1):
            t = time.perf_counter()
            image = load_image(path)
            result = seg.segment(image, task=args.task, resize=resize)
            files = save_result(result, image, args.out, Path(path).stem)
            say(f"[{i}/{total}] {path}: {time.perf_counter() - t:.1f} s -> "
                f"{', '.join(f.name for f in files)}")
    return 0
