"""Everything `check` is given, checked before the long work: a bad image, a vocabulary that is
not the ground truth's, ground truth of another size or artifacts from another checkpoint each
stop the command in seconds, not after an hour of PyTorch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from frozenseg_export.check.ground_truth import GroundTruth, load_ground_truth
from frozenseg_export.check.reference import image_digest
from frozenseg_export.precision.floor import check_reference_weights
from frozenseg_runtime.errors import ImageError, InputError, UsageError
from frozenseg_runtime.image.loading import load_image
from frozenseg_runtime.manifest import Manifest, load_manifest, verify_artifacts
from frozenseg_runtime.output.postprocess import TASKS
from frozenseg_runtime.text.vocabulary import Vocabulary, parse_vocabulary, vocabulary_from_record

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")


@dataclass(frozen=True)
class CheckedImage:
    path: Path
    size: tuple[int, int]  # (height, width) after EXIF orientation
    digest: str  # of the decoded pixels

    @property
    def stem(self) -> str:
        return self.path.stem


@dataclass(frozen=True)
class CheckInputs:
    manifest: Manifest
    images: tuple[CheckedImage, ...]
    vocabulary: Vocabulary
    train_vocabulary: Vocabulary
    ground_truth: GroundTruth | None


def image_paths(sources: Sequence[str]) -> list[Path]:
    """Files as given; folders expanded to their images, sorted by name."""
    paths: list[Path] = []
    for source in sources:
        path = Path(source).expanduser()
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise ImageError(f"--images {path} holds no images ({', '.join(IMAGE_SUFFIXES)})")
            paths += found
        elif path.is_file():
            paths.append(path)
        else:
            raise ImageError(f"--images {path} does not exist")
    stems = [p.stem for p in paths]
    doubled = sorted({s for s in stems if stems.count(s) > 1})
    if doubled:
        raise InputError(f"two images share the name {doubled[0]!r}: results and ground truth are matched by "
                         f"file name, so names must be unique")
    return paths


def check_inputs(artifacts: str | Path, precision: str, images: Sequence[str], vocabulary: str | None,
                 checkpoint: str | None, ground_truth: str | None, gt_format: str | None,
                 tasks: Sequence[str]) -> CheckInputs:
    unknown = [t for t in tasks if t not in TASKS]
    if unknown or not tasks:
        raise UsageError(f"--tasks takes some of {', '.join(TASKS)}, got {list(tasks)}")
    manifest = load_manifest(artifacts)
    verify_artifacts(manifest.with_precision(precision))
    check_reference_weights(manifest, checkpoint)
    checked = []
    for path in image_paths(images):
        pixels = load_image(path)  # raises ImageError naming the file
        checked.append(CheckedImage(path, (int(pixels.shape[0]), int(pixels.shape[1])), image_digest(pixels)))
    train = vocabulary_from_record(manifest.constants["train_vocabulary"])
    vocab = parse_vocabulary(vocabulary) if vocabulary else train
    truth = None
    if ground_truth is not None:
        if gt_format is None:
            raise UsageError("--ground-truth needs --format ade20k or coco-panoptic")
        truth = load_ground_truth(ground_truth, gt_format, vocab, {c.stem: c.size for c in checked})
        needed = "semantic" if gt_format == "ade20k" else "panoptic"
        if needed not in tasks:
            raise UsageError(f"--format {gt_format} scores the {needed} task: add it to --tasks")
    return CheckInputs(manifest, tuple(checked), vocab, train, truth)
