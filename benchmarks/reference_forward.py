"""Time and peak memory of one PyTorch-reference forward per subgraph (CPU), at a given size.

    python benchmarks/reference_forward.py --preset convnext_large_vit_b --size 640 --classes 150

Prints one JSON object: build time, per-subgraph seconds, total, peak RSS, key-prefix counts.
"""

from __future__ import annotations

import argparse
import collections
import json
import resource
import sys
import time

import numpy as np
import torch

from frozenseg_reference.build import build_frozenseg
from frozenseg_reference.pipeline import encode_vocabulary, preprocessing_kwargs
from frozenseg_runtime.image.preprocess import preprocess
from frozenseg_runtime.text.vocabulary import parse_vocabulary


def _peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def key_prefix_counts(model) -> dict[str, int]:
    """Counts of official keys by the prefixes the FrozenSeg notes use."""
    groups = {
        "backbone.clip_model.visual": "backbone.clip_model.visual.",
        "backbone.clip_model (text and scale)": "backbone.clip_model.",
        "sam.image_encoder": "sam.image_encoder.",
        "sem_seg_head.pixel_decoder": "sem_seg_head.pixel_decoder.",
        "sem_seg_head.predictor": "sem_seg_head.predictor.",
        "void_embedding": "void_embedding.",
    }
    counts: collections.Counter[str] = collections.Counter()
    for key in model.official_state_dict():
        for name, prefix in groups.items():
            if key.startswith(prefix):
                counts[name] += 1
                break
    return dict(counts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="convnext_large_vit_b")
    ap.add_argument("--size", type=int, default=640, help="square input size (multiple of 32)")
    ap.add_argument("--classes", type=int, default=150)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    model = build_frozenseg(args.preset)
    build_s = time.perf_counter() - t0
    n_values = sum(v.numel() for v in model.official_state_dict().values())
    image = (np.random.default_rng(0).random((args.size, args.size, 3)) * 255).astype(np.uint8)
    prepared = preprocess(image, resize=None, **preprocessing_kwargs(model.preset))
    vocab = parse_vocabulary([f"class number {i}" for i in range(args.classes)])
    timings = {}
    with torch.no_grad():
        t = time.perf_counter()
        vt = encode_vocabulary(model, vocab)
        timings["clip_text (vocabulary)"] = time.perf_counter() - t
        t = time.perf_counter()
        feats = model.clip_image(torch.from_numpy(prepared.clip_input))
        timings["clip_image"] = time.perf_counter() - t
        t = time.perf_counter()
        sam = model.sam_image(torch.from_numpy(prepared.sam_input))
        timings["sam_image"] = time.perf_counter() - t
        t = time.perf_counter()
        outputs = model.decoder(*feats, sam, vt.text_embeddings, vt.synonym_mask, vt.seen)
        timings["decoder"] = time.perf_counter() - t
    assert all(torch.isfinite(o).all() for o in outputs)
    report = {
        "preset": args.preset,
        "size": args.size,
        "classes": args.classes,
        "threads": torch.get_num_threads(),
        "build_s": round(build_s, 2),
        "seconds": {k: round(v, 2) for k, v in timings.items()},
        "image_forward_s": round(sum(v for k, v in timings.items() if "text" not in k), 2),
        "peak_rss_gb": round(_peak_rss_gb(), 2),
        "state_dict_values": n_values,
        "key_prefix_counts": key_prefix_counts(model),
        "keys": len(model.official_state_dict()),
    }
    json.dump(report, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
