"""`frozenseg-deploy predict`: the reference on one image, written to outputs.npz + pictures."""

from __future__ import annotations

import argparse
import io
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from frozenseg_reference.build import build_frozenseg
from frozenseg_reference.pipeline import predict
from frozenseg_reference.presets import DEFAULT_PRESET
from frozenseg_runtime.atomic import write_bytes_atomic
from frozenseg_runtime.image.loading import load_image
from frozenseg_runtime.output.files import panoptic_labels
from frozenseg_runtime.output.visualize import overlay
from frozenseg_runtime.progress import progress
from frozenseg_runtime.text.vocabulary import parse_vocabulary

# outputs.npz keys (documented in README.md).
NPZ_KEYS = (
    "pred_logits",
    "pred_masks",
    "class_probs",
    "sem_seg",
    "sem_seg_labels",
    "panoptic_seg",
    "segments_info",
    "instance_masks",
    "instance_scores",
    "instance_classes",
    "class_names",
)


_say = progress("predict")


def save_outputs(out_dir: Path, image: np.ndarray, results: dict[str, Any], names: list[str]) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    labels = results["sem_seg"].argmax(0).astype(np.int32)
    arrays = {k: results[k] for k in NPZ_KEYS if k in results and k != "segments_info"}
    arrays["sem_seg_labels"] = labels
    arrays["segments_info"] = np.array(json.dumps(results["segments_info"]))
    arrays["class_names"] = np.array(names)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    written = [out_dir / "outputs.npz", out_dir / "segments_info.json"]
    write_bytes_atomic(written[0], buf.getvalue())
    write_bytes_atomic(written[1], json.dumps(results["segments_info"], indent=1).encode())
    pictures = {
        "semantic_overlay.png": overlay(image, labels, names),
        "panoptic_overlay.png": overlay(
            image, panoptic_labels(results["panoptic_seg"], results["segments_info"]), names
        ),
    }
    for name, picture in pictures.items():
        png = io.BytesIO()
        picture.save(png, format="PNG")
        write_bytes_atomic(out_dir / name, png.getvalue())
        written.append(out_dir / name)
    return written


def run_predict(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    preset = args.preset or DEFAULT_PRESET
    vocab = parse_vocabulary(args.vocabulary)
    train_vocab = parse_vocabulary(args.train_vocabulary) if args.train_vocabulary else None
    image = load_image(args.image)
    if args.checkpoint is None:
        _say(f"no --checkpoint: using SYNTHETIC weights ({args.synthetic}, seed {args.seed}); "
             "outputs are not meaningful")
    _say(f"building preset {preset} ...")
    model = build_frozenseg(preset, args.checkpoint, seed=args.seed, synthetic=args.synthetic)
    _say(f"model ready in {time.perf_counter() - t0:.1f} s")
    results = predict(model, image, vocab, train_vocab, resize=args.resize, progress=_say)
    written = save_outputs(Path(args.out), image, results, list(vocab.display_names))
    _say(f"{len(results['segments_info'])} panoptic segments, "
         f"{len(results['instance_scores'])} instances; wrote {', '.join(p.name for p in written)}")
    _say(f"done in {time.perf_counter() - t0:.1f} s")
    return 0
