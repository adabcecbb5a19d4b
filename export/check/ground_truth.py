"""Ground truth in the two formats papers report on, read and matched to the vocabulary.

ADE20K (`ADEChallengeData2016/annotations/*`): one 8-bit label PNG per image, 0 = unlabelled,
k = the vocabulary's class k - 1 (mmsegmentation's `reduce_zero_label`). When the folder or one
above it holds `objectInfo150.csv`, its names are checked against the vocabulary.

COCO panoptic (`panoptic_val2017.json` + `panoptic_val2017/*.png`): segment ids in RGB as
id = R + 256 G + 256² B, each segment's category and `iscrowd` in the JSON; the JSON's categories,
in id order, must be the vocabulary's classes (names and thing flags).

Everything is checked before the long work starts: a missing file, a size that is not the
image's, a label or category the vocabulary does not have.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from frozenseg_export.check.choices import FORMATS
from frozenseg_export.segmentation_metrics import ConfusionMatrix, PanopticQuality, panoptic_split
from frozenseg_runtime.errors import InputError
from frozenseg_runtime.text.vocabulary import Vocabulary

ADE_IGNORE = 255
ADE_NAMES_FILE = "objectInfo150.csv"


def _names_match(vocabulary: Vocabulary, index: int, name: str) -> bool:
    wanted = name.strip().lower().replace("_", " ")
    return any(s.lower() == wanted for s in vocabulary.names[index])


def _mismatch(problems: list[str], what: str) -> InputError:
    more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
    return InputError(f"the vocabulary does not match the ground truth's classes ({what}): "
                      + "; ".join(problems[:5]) + more + ". Pass the vocabulary the ground truth was "
                      "labelled with, in its order")


@dataclass
class GroundTruth:
    """Truth for some images, keyed by image stem, and the class <-> category mapping."""

    format: str
    folder: Path
    files: dict[str, Path]  # image stem -> PNG
    num_classes: int
    category_ids: list[int] = field(default_factory=list)  # class index -> category id (COCO)
    category_isthing: dict[int, bool] = field(default_factory=dict)
    segments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # COCO segments_info per stem

    def labels(self, stem: str) -> np.ndarray:
        """ADE20K: class indices with 255 where unlabelled."""
        raw = np.asarray(Image.open(self.files[stem]))
        return np.where(raw == 0, ADE_IGNORE, raw.astype(np.int64) - 1)

    def panoptic(self, stem: str) -> tuple[np.ndarray, list[dict[str, Any]]]:
        return _rgb_ids(self.files[stem]), self.segments[stem]


def _rgb_ids(path: Path) -> np.ndarray:
    rgb = np.asarray(Image.open(path).convert("RGB")).astype(np.int64)
    return rgb[..., 0] + 256 * rgb[..., 1] + 256 * 256 * rgb[..., 2]


def _decoded_size(path: Path) -> tuple[int, int]:
    """The PNG's (height, width), decoded whole: a damaged file is refused here, before the long
    work, not when its image's turn comes."""
    with _opened(path) as image:
        return image.height, image.width


def _opened(path: Path) -> Image.Image:
    """`path` opened and decoded, or an InputError naming it."""
    image = None
    try:
        image = Image.open(path)
        image.load()
        return image
    except (OSError, ValueError, Image.DecompressionBombError) as exc:  # UnidentifiedImageError is an OSError
        if image is not None:
            image.close()
        raise InputError(f"ground truth {path} is not a readable PNG: {exc}") from exc


def load_ground_truth(folder: str | Path, fmt: str, vocabulary: Vocabulary,
                      images: dict[str, tuple[int, int]]) -> GroundTruth:
    """Find and check the truth of each image (stem -> (height, width)); raise InputError early."""
    root = Path(folder)
    if fmt not in FORMATS:
        raise InputError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if not root.is_dir():
        raise InputError(f"--ground-truth {root} is not a folder")
    truth = _ade20k(root, vocabulary, images) if fmt == "ade20k" else _coco(root, vocabulary, images)
    for stem, size in images.items():
        found = _decoded_size(truth.files[stem])
        if found != size:
            raise InputError(f"ground truth {truth.files[stem]} is {found[1]}x{found[0]} but its image is "
                             f"{size[1]}x{size[0]} (width x height, after EXIF orientation): the "
                             f"annotation must be at the image's own size")
    return truth


def _pngs_for(folders: list[Path], images: dict[str, tuple[int, int]], what: str) -> dict[str, Path]:
    files, missing = {}, []
    for stem in images:
        found = next((f / f"{stem}.png" for f in folders if (f / f"{stem}.png").is_file()), None)
        if found is None:
            missing.append(stem)
        else:
            files[stem] = found
    if missing:
        raise InputError(f"no {what} for image(s) {', '.join(missing[:5])}: expected "
                         f"{' or '.join(str(f / (missing[0] + '.png')) for f in folders)}")
    return files


def _ade20k(root: Path, vocabulary: Vocabulary, images: dict[str, tuple[int, int]]) -> GroundTruth:
    files = _pngs_for([root], images, "ADE20K label PNG")
    k = vocabulary.num_classes
    for stem, path in files.items():
        with _opened(path) as image:
            if image.mode not in ("L", "P"):
                raise InputError(f"{path} is a {image.mode} image; ADE20K labels are 8-bit single-channel PNGs")
            top = int(np.asarray(image).max(initial=0))
        if top > k:
            raise _mismatch([f"{path.name} has label {top} (class {top - 1}) but the vocabulary has {k} classes"],
                            "label out of range")
    names = next((d / ADE_NAMES_FILE for d in (root, *root.parents[:2]) if (d / ADE_NAMES_FILE).is_file()), None)
    if names is not None:
        try:
            with open(names, newline="", encoding="utf-8") as handle:
                rows = [row["Name"].split(";")[0] for row in csv.DictReader(handle)]
        except (OSError, ValueError, csv.Error, KeyError, AttributeError) as exc:  # AttributeError: a short row
            raise InputError(f"{names} is not ADE20K's class list (a CSV with a Name column): {exc!r}") from exc
        if len(rows) != k:
            raise _mismatch([f"{names} lists {len(rows)} classes, the vocabulary {k}"], "class count")
        problems = [f"class {i}: {name!r} vs {vocabulary.display_names[i]!r}"
                    for i, name in enumerate(rows) if not _names_match(vocabulary, i, name)]
        if problems:
            raise _mismatch(problems, f"names in {names.name}")
    return GroundTruth("ade20k", root, files, k)


def _coco(root: Path, vocabulary: Vocabulary, images: dict[str, tuple[int, int]]) -> GroundTruth:
    jsons = sorted(root.glob("*.json"))
    if len(jsons) != 1:
        raise InputError(f"--ground-truth {root} must hold exactly one COCO panoptic JSON, found "
                         f"{len(jsons)}: {', '.join(p.name for p in jsons) or 'none'}")
    try:
        data = json.loads(jsons[0].read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:  # ValueError: bad JSON or UTF-8
        raise InputError(f"cannot read {jsons[0]} as JSON: {exc}") from exc
    categories, annotations = _coco_structure(data, jsons[0])
    k = vocabulary.num_classes
    problems = [] if len(categories) == k else [f"{len(categories)} categories vs {k} classes"]
    for i, cat in enumerate(categories[:k]):
        if not _names_match(vocabulary, i, cat["name"]):
            problems.append(f"class {i}: category {cat['id']} {cat['name']!r} vs {vocabulary.display_names[i]!r}")
        elif bool(cat.get("isthing", 0)) != vocabulary.isthing[i]:
            problems.append(f"class {i} {cat['name']!r}: isthing {bool(cat.get('isthing', 0))} in the JSON, "
                            f"{vocabulary.isthing[i]} in the vocabulary")
    if problems:
        raise _mismatch(problems, f"categories of {jsons[0].name}")
    missing = [s for s in images if s not in annotations]
    if missing:
        raise InputError(f"{jsons[0].name} has no annotation for image(s) {', '.join(missing[:5])}")
    files = _pngs_for([root, root / jsons[0].stem], images, "COCO panoptic PNG")
    known = {c["id"] for c in categories}
    segments = {}
    for stem in images:
        info = annotations[stem]["segments_info"]
        bad = [s["category_id"] for s in info if s["category_id"] not in known]
        if bad:
            raise InputError(f"{jsons[0].name}: image {stem} has segments of unknown category {bad[:3]}")
        segments[stem] = info
    return GroundTruth("coco-panoptic", root, files, k, [c["id"] for c in categories],
                       {c["id"]: bool(c.get("isthing", 0)) for c in categories}, segments)


def _coco_structure(data: Any, path: Path) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The JSON's categories (sorted by id) and annotations (by file stem), their fields checked
    as far as the reader and the scoring use them; anything else is an InputError naming it."""
    def refuse(what: str) -> InputError:
        return InputError(f"{path} is not a COCO panoptic JSON: {what}")

    def integer(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    if not isinstance(data, dict) or not isinstance(data.get("categories"), list) \
            or not isinstance(data.get("annotations"), list):
        raise refuse("expected an object with the lists 'categories' and 'annotations'")
    for i, cat in enumerate(data["categories"]):
        if not (isinstance(cat, dict) and integer(cat.get("id")) and isinstance(cat.get("name"), str)
                and cat.get("isthing", 0) in (0, 1)):
            raise refuse(f"categories[{i}] must be an object with an integer 'id', a string 'name' "
                         f"and 'isthing' 0 or 1, got {json.dumps(cat)[:80]}")
    annotations = {}
    for i, ann in enumerate(data["annotations"]):
        if not (isinstance(ann, dict) and isinstance(ann.get("file_name"), str)
                and isinstance(ann.get("segments_info"), list)
                and all(isinstance(seg, dict) and integer(seg.get("id")) and integer(seg.get("category_id"))
                        for seg in ann["segments_info"])):
            raise refuse(f"annotations[{i}] must be an object with a string 'file_name' and "
                         f"'segments_info', a list of objects with integer 'id' and 'category_id'")
        annotations[Path(ann["file_name"]).stem] = ann
    return sorted(data["categories"], key=lambda c: c["id"]), annotations


@dataclass
class TaskScore:
    """One pipeline's task metric against the ground truth, accumulated over images."""

    truth: GroundTruth
    confusion: ConfusionMatrix | None = None
    panoptic: PanopticQuality | None = None

    def __post_init__(self) -> None:
        if self.truth.format == "ade20k":
            self.confusion = ConfusionMatrix(self.truth.num_classes, ignore=ADE_IGNORE)
        else:
            self.panoptic = PanopticQuality()

    @property
    def task(self) -> str:
        return "semantic" if self.truth.format == "ade20k" else "panoptic"

    def add(self, stem: str, result: Any) -> None:
        if self.confusion is not None:
            self.confusion.add(result.semantic_labels, self.truth.labels(stem))
            return
        assert self.panoptic is not None
        ids, segments = self.truth.panoptic(stem)
        predicted = [{**s, "category_id": self.truth.category_ids[int(s["category_id"])]}
                     for s in result.segments_info]
        self.panoptic.add(result.panoptic_seg, predicted, ids, segments)

    def result(self) -> dict[str, Any]:
        if self.confusion is not None:
            return self.confusion.result()
        assert self.panoptic is not None
        return panoptic_split(self.panoptic, self.truth.category_isthing)
