"""Whatever ground truth folder a user points `check --ground-truth` at, it is read or refused with
an InputError before the long work starts, never with another exception.

Hypothesis writes ADE20K folders (label PNGs of every mode and size, some damaged or missing, with
or without an objectInfo150.csv of any content) and COCO panoptic folders (zero, one or two JSON
files whose structure is anything from well-formed to arbitrary, and RGB id PNGs beside them or in
the JSON's folder), against vocabularies of 1 to 4 classes. What is read must then answer for each
image at its size. Derandomized, so CI is deterministic.
"""

from __future__ import annotations

import io
import itertools
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from frozenseg_export.check.ground_truth import ADE_IGNORE, ADE_NAMES_FILE, load_ground_truth
from frozenseg_runtime.errors import InputError
from frozenseg_runtime.text.vocabulary import parse_vocabulary

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])
CLASS_NAMES = ["wall", "sky", "person", "car"]
IMAGES = {"a": (5, 7), "b": (6, 4)}  # stem -> (height, width)
_folders = itertools.count()

names = st.sampled_from(CLASS_NAMES + ["Wall", "tree", ""]) | st.text(max_size=6)
json_like = st.recursive(
    st.none() | st.booleans() | st.integers(-2, 300) | st.floats() | names,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(names, children, max_size=3),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("ground_truth")


def _fresh(scratch: Path) -> Path:
    folder = scratch / f"gt{next(_folders)}"
    folder.mkdir()
    return folder


@st.composite
def png_bytes(draw: st.DrawFn, size: tuple[int, int], modes: list[str], top: int) -> bytes:
    """A PNG near `size` in one of `modes`, or damaged bytes."""
    height, width = size
    if draw(st.integers(0, 9)) == 0:
        height, width = height + draw(st.integers(-1, 1)), width + draw(st.integers(-1, 1))
    height, width = max(height, 1), max(width, 1)
    mode = draw(st.sampled_from(modes))
    values = np.asarray(draw(st.lists(st.integers(0, top), min_size=height * width * 3,
                                      max_size=height * width * 3)), dtype=np.uint8)
    if mode == "RGB":
        image = Image.fromarray(values.reshape(height, width, 3), "RGB")
    elif mode == "I;16":
        image = Image.fromarray(values[: height * width].reshape(height, width).astype(np.uint16) * 300)
    else:
        image = Image.fromarray(values[: height * width].reshape(height, width), "L").convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    data = buffer.getvalue()
    cut = draw(st.sampled_from([None, None, None, 8, 30]))  # damaged: cut short
    return data if cut is None else data[:cut]


def _check_read(truth, vocabulary) -> None:
    for stem, size in IMAGES.items():
        if truth.format == "ade20k":
            labels = truth.labels(stem)
            assert labels.shape == size
            assert set(np.unique(labels)) <= set(range(vocabulary.num_classes)) | {ADE_IGNORE}
        else:
            ids, segments = truth.panoptic(stem)
            assert ids.shape == size and isinstance(segments, list)


@SETTINGS
@given(data=st.data(), k=st.integers(1, 4))
def test_any_ade20k_folder_is_read_or_refused(scratch, data, k):
    folder = _fresh(scratch)
    vocabulary = parse_vocabulary(CLASS_NAMES[:k])
    for stem, size in IMAGES.items():
        if data.draw(st.integers(0, 9), label="missing") > 0:
            (folder / f"{stem}.png").write_bytes(data.draw(png_bytes(size, ["L", "P", "RGB", "I;16", "1", "LA"], k + 1)))
    csv = data.draw(st.none() | st.binary(max_size=40) | st.lists(
        st.lists(names, min_size=1, max_size=3), max_size=5).map(
        lambda rows: "\n".join(["Idx,Ratio,Train,Val,Name"] + [",".join(r) for r in rows]).encode())
        | st.just(("Idx,Name\n" + "\n".join(f"{i + 1},{n};x" for i, n in enumerate(CLASS_NAMES[:k]))).encode()),
        label="objectInfo150.csv")
    if csv is not None:
        (folder / ADE_NAMES_FILE).write_bytes(csv)
    try:
        truth = load_ground_truth(folder, "ade20k", vocabulary, IMAGES)
    except InputError as exc:
        assert str(exc)
        return
    _check_read(truth, vocabulary)
    shutil.rmtree(folder)


category = st.fixed_dictionaries({"id": st.integers(0, 5) | json_like, "name": names | json_like},
                                 optional={"isthing": st.integers(0, 1) | json_like})
segment = st.fixed_dictionaries({"id": st.integers(0, 300) | json_like,
                                 "category_id": st.integers(0, 5) | json_like},
                                optional={"iscrowd": st.integers(0, 1)})
annotation = st.fixed_dictionaries({"file_name": st.sampled_from(["a.png", "b.png", "c.png"]) | json_like,
                                    "segments_info": st.lists(segment, max_size=3) | json_like})
coco_json = st.one_of(
    st.fixed_dictionaries({"categories": st.lists(category, max_size=5) | json_like,
                           "annotations": st.lists(annotation, max_size=3) | json_like}),
    # Categories that match the vocabulary, so the reader gets past them to the annotations.
    st.builds(lambda k, annotations: {
        "categories": [{"id": i + 1, "name": n, "isthing": int(i >= 2)} for i, n in enumerate(CLASS_NAMES[:k])],
        "annotations": annotations}, st.integers(1, 4), st.lists(annotation, max_size=3) | json_like),
    json_like,
)


@SETTINGS
@given(data=st.data(), k=st.integers(1, 4))
def test_any_coco_panoptic_folder_is_read_or_refused(scratch, data, k):
    folder = _fresh(scratch)
    vocabulary = parse_vocabulary([{"names": [n], "isthing": i >= 2} for i, n in enumerate(CLASS_NAMES[:k])])
    for index in range(data.draw(st.sampled_from([1, 1, 1, 0, 2]), label="json files")):
        content = data.draw(coco_json, label="json")
        raw = data.draw(st.sampled_from([json.dumps(content).encode()] * 4 + [b"\xff{", b"[" * 5000]), label="bytes")
        (folder / f"panoptic{index}.json").write_bytes(raw)
    where = folder / data.draw(st.sampled_from(["", "panoptic0"]), label="png folder")
    where.mkdir(exist_ok=True)
    for stem, size in IMAGES.items():
        if data.draw(st.integers(0, 9), label="missing") > 0:
            (where / f"{stem}.png").write_bytes(data.draw(png_bytes(size, ["RGB", "L", "RGBA", "P"], 255)))
    try:
        truth = load_ground_truth(folder, "coco-panoptic", vocabulary, IMAGES)
    except InputError as exc:
        assert str(exc)
        return
    _check_read(truth, vocabulary)
    shutil.rmtree(folder)
