"""Whatever a user passes to the runtime's entry points, only the documented errors come out.

Hypothesis generates arbitrary input for `parse_vocabulary` (text, JSON-like nested structures,
files of random bytes or JSON) and `load_image` (arrays of random shapes and dtypes, PIL images
of every mode, random and damaged encoded images as bytes and files); each call either returns a
valid result or raises VocabularyError / ImageError, never another exception. What `load_image`
returns must then go through `preprocess` without any error. Derandomized, so CI is
deterministic.
"""

from __future__ import annotations

import io
import itertools
import json
import string
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image, features

from frozenseg_runtime.errors import ImageError, VocabularyError
from frozenseg_runtime.image.loading import load_image
from frozenseg_runtime.image.preprocess import PreprocessConstants, preprocess
from frozenseg_runtime.text.vocabulary import Vocabulary, parse_vocabulary

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Small model constants: the tiny images below stay within the resize rule's aspect ratios.
CONSTANTS = PreprocessConstants(clip_mean=(122.8, 116.7, 104.1), clip_std=(68.5, 66.6, 70.3),
                                sam_mean=(123.7, 116.3, 103.5), sam_std=(58.4, 57.1, 57.4), pad_multiple=32,
                                sam_size=64, resize_short=800, resize_max=1333)
PIXEL_LIMIT = 1 << 20  # keeps damaged headers that claim huge sizes cheap to refuse

_files = itertools.count()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    """One folder for the generated files (hypothesis reruns the test body, not fixtures)."""
    return tmp_path_factory.mktemp("entry_points")


def _write(folder: Path, suffix: str, data: bytes) -> Path:
    path = folder / f"f{next(_files)}{suffix}"
    path.write_bytes(data)
    return path


# -- vocabularies ------------------------------------------------------------------------------

names = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ["cat", "Cat", " cat ", "dog", "", " ", ",", "a,b", "\u200b", "x\ny", "invalid_class_id"])
scalars = st.none() | st.booleans() | st.integers(-3, 3) | st.floats() | names
json_like = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["names", "isthing", "isThing", "name", "id"]) | names, children,
        max_size=3),
    max_leaves=12,
)
entries = st.fixed_dictionaries(
    {"names": st.lists(names, max_size=3) | names | json_like},
    optional={"isthing": st.booleans() | st.sampled_from([0, 1, 2, "yes", None, 1.0]) | json_like},
)
vocabulary_like = st.one_of(
    names,
    st.text(string.printable, max_size=40),
    st.lists(names, max_size=4),
    st.lists(st.lists(names, max_size=3), max_size=4),
    st.lists(entries, max_size=4),
    st.dictionaries(names, st.lists(entries, max_size=3), max_size=2),
    json_like,
    st.binary(max_size=16),
    st.builds(json.dumps, st.lists(entries, max_size=3) | json_like),
)


def _check_vocabulary(vocab: Vocabulary) -> None:
    """What every returned vocabulary guarantees to the text encoder and the outputs."""
    assert vocab.num_classes >= 1 and len(vocab.isthing) == vocab.num_classes
    assert all(type(t) is bool for t in vocab.isthing)
    for synonyms in vocab.names:
        assert synonyms and all(isinstance(s, str) and s and s == s.strip() for s in synonyms)
    keys = [" ".join(n.lower().split()) for n in vocab.display_names]
    assert len(set(keys)) == len(keys)


def _parse(source: object, **kwargs: object) -> None:
    try:
        vocab = parse_vocabulary(source, **kwargs)  # type: ignore[arg-type]
    except VocabularyError as exc:
        assert "expected" in str(exc)
        return
    _check_vocabulary(vocab)


@SETTINGS
@given(source=vocabulary_like, key=st.none() | names | st.integers(0, 2))
def test_parse_vocabulary_objects(source: object, key: object) -> None:
    _parse(source, key=key)


@SETTINGS
@given(
    suffix=st.sampled_from([".txt", ".json", "", ".TXT"]),
    data=st.one_of(
        st.binary(max_size=64),
        st.builds(lambda v: json.dumps(v).encode(), st.lists(entries, max_size=3) | json_like),
        st.builds(lambda lines: "\n".join(lines).encode(),
                  st.lists(st.builds("{}:{}".format, st.integers(-1, 9), names), max_size=4)),
        st.builds(lambda t, enc: t.encode(enc, "replace"), st.text(max_size=30),
                  st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16"])),
    ),
)
def test_parse_vocabulary_files(scratch: Path, suffix: str, data: bytes) -> None:
    path = _write(scratch, suffix, data)
    _parse(path)
    _parse(str(path))


# -- images ------------------------------------------------------------------------------------

def _check_image(image: np.ndarray) -> None:
    """A loaded image is RGB uint8, non-empty, and preprocesses without any error."""
    assert isinstance(image, np.ndarray) and image.dtype == np.uint8
    assert image.ndim == 3 and image.shape[2] == 3 and image.shape[0] and image.shape[1]
    prepared = preprocess(image, CONSTANTS, (32, 64))
    assert prepared.output_size == image.shape[:2]
    assert prepared.clip_input.shape[:2] == (1, 3) and prepared.sam_input.shape == (1, 3, 64, 64)
    assert np.isfinite(prepared.clip_input).all() and np.isfinite(prepared.sam_input).all()


def _load(source: object, **kwargs: object) -> None:
    try:
        image = load_image(source, **kwargs)  # type: ignore[arg-type]
    except ImageError as exc:
        assert "expected" in str(exc)
        return
    _check_image(image)


dtypes = st.sampled_from([np.uint8, np.int8, np.int16, np.uint16, np.int64, np.float16,
                          np.float32, np.float64, np.bool_])
arrays = dtypes.flatmap(lambda dt: hnp.arrays(
    dt, hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=8)))


@SETTINGS
@given(array=arrays, layout=st.sampled_from(["C", "F", "strided"]))
def test_load_image_arrays(array: np.ndarray, layout: str) -> None:
    if layout == "F":
        array = np.asfortranarray(array)
    elif layout == "strided" and array.ndim >= 2:
        array = array[::2, ::-1]
    _load(array)


MODES = ["1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "LAB",
         "HSV", "I", "I;16", "I;16B", "I;16L", "F"]


@SETTINGS
@given(mode=st.sampled_from(MODES), size=st.tuples(st.integers(0, 8), st.integers(0, 8)),
       seed=st.integers(0, 2**16))
def test_load_image_pil_modes(mode: str, size: tuple[int, int], seed: int) -> None:
    image = Image.new(mode, size)
    if size[0] and size[1] and mode not in ("I;16B", "I;16L"):
        raw = np.random.default_rng(seed).integers(0, 256, len(image.tobytes()), np.uint8)
        image.frombytes(raw.tobytes())
    _load(image)


FORMATS = ["PNG", "JPEG", "GIF", "BMP", "TIFF"] + (["WEBP"] if features.check("webp") else [])


def _encode(fmt: str, mode: str, size: tuple[int, int], seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), np.uint8)
    image = Image.fromarray(pixels).convert(mode)
    if fmt == "JPEG" and mode not in ("L", "RGB", "CMYK"):
        image = image.convert("RGB")
    buf = io.BytesIO()
    image.save(buf, format=fmt)
    return buf.getvalue()


@st.composite
def damaged_images(draw: st.DrawFn) -> bytes:
    """A small valid encoding, then truncated and/or with a few bytes overwritten."""
    data = bytearray(_encode(draw(st.sampled_from(FORMATS)),
                             draw(st.sampled_from(["L", "RGB", "RGBA", "P"])),
                             (draw(st.integers(1, 12)), draw(st.integers(1, 12))),
                             draw(st.integers(0, 100))))
    for _ in range(draw(st.integers(0, 4))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data[: draw(st.integers(0, len(data)))]) if draw(st.booleans()) else bytes(data)


@pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin")  # notes on damaged tags
@SETTINGS
@given(data=st.binary(max_size=256) | damaged_images(),
       suffix=st.sampled_from([".png", ".jpg", ".gif", ".bmp", ".tif", ".webp", ".txt", ""]))
def test_load_image_bytes_and_files(scratch: Path, data: bytes, suffix: str) -> None:
    _load(data, max_pixels=PIXEL_LIMIT)
    _load(_write(scratch, suffix, data), max_pixels=PIXEL_LIMIT)


@SETTINGS
@given(source=json_like | st.binary(max_size=8) | st.builds(object) | st.sampled_from(
    ["", ".", "/", "~", "\x00", "x" * 5000]))
def test_load_image_other_objects(source: object) -> None:
    _load(source, max_pixels=PIXEL_LIMIT)


def test_preprocess_extreme_aspect_ratio() -> None:
    """An aspect ratio beyond max_size / short_edge would round one side to 0."""
    image = load_image(np.zeros((1, 3000, 3), np.uint8))
    with pytest.raises(ImageError, match="aspect ratio is too extreme"):
        preprocess(image, CONSTANTS, (800, 1333))
