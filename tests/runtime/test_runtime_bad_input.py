"""Bad input gets a clear, typed error and changes nothing."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from frozenseg_runtime.backends.factory import BackendError, resolve_backend
from frozenseg_runtime.errors import ImageError, VocabularyError
from frozenseg_runtime.manifest import ArtifactError, ManifestError
from frozenseg_runtime.segmenter import Segmenter


@pytest.fixture(scope="module")
def seg(tiny_artifacts):
    out, _ = tiny_artifacts
    s = Segmenter.from_artifacts(out, backend="onnxruntime-cpu", cache_dir="")
    yield s
    s.close()


def test_segment_before_vocabulary(seg):
    with pytest.raises(RuntimeError, match="set_vocabulary"):
        seg.segment(np.zeros((64, 64, 3), np.uint8))


def test_bad_images(seg, tmp_path):
    seg.set_vocabulary("cat,dog")
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    for bad, message in [
        (corrupt, "cannot decode"),
        (text, "cannot decode"),
        (tmp_path / "absent.png", "does not exist"),
        (np.zeros((32, 32, 3), np.float32), "uint8"),
        (np.zeros((32, 32, 3, 2), np.uint8), "shape"),
        (np.zeros((32, 32, 5), np.uint8), "shape"),
    ]:
        with pytest.raises(ImageError, match=message):
            seg.segment(bad)


def test_bad_vocabulary_changes_nothing(seg):
    seg.set_vocabulary("cat,dog")
    before = seg.vocabulary_state
    for bad in ["", "cat,cat", "cat,,dog", ["a photo of " + "very " * 80]]:
        with pytest.raises(VocabularyError):
            seg.set_vocabulary(bad)
        assert seg.vocabulary_state is before


def test_unknown_task(seg):
    seg.set_vocabulary("cat,dog")
    with pytest.raises(ValueError, match="task"):
        seg.segment(np.zeros((64, 64, 3), np.uint8), task="depth")


def _copy(src, dst):
    shutil.copytree(src, dst)
    return dst


def test_missing_and_tampered_artifacts(tiny_artifacts, tmp_path):
    out, _ = tiny_artifacts
    missing = _copy(out, tmp_path / "missing")
    (missing / "decoder.onnx").unlink()
    with pytest.raises(ArtifactError, match="decoder.onnx is missing"):
        Segmenter.from_artifacts(missing)
    tampered = _copy(out, tmp_path / "tampered")
    with open(tampered / "clip_text.onnx", "ab") as f:
        f.write(b"\0")
    with pytest.raises(ArtifactError, match="does not match the sha256"):
        Segmenter.from_artifacts(tampered)


def test_unknown_manifest_schema(tiny_artifacts, tmp_path):
    out, _ = tiny_artifacts
    folder = _copy(out, tmp_path / "future")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["schema_version"] = 3
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ManifestError, match="schema_version 3 is not supported"):
        Segmenter.from_artifacts(folder)


def test_backends_that_are_not_installed():
    import onnxruntime

    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        with pytest.raises(BackendError, match="onnxruntime-gpu"):
            resolve_backend("onnxruntime-cuda")
    with pytest.raises(BackendError, match="tensorrt"):
        resolve_backend("tensorrt")
    with pytest.raises(BackendError, match="choose one of"):
        resolve_backend("openvino")


@pytest.mark.parametrize("mode, suffix", [("L", ".png"), ("RGBA", ".png"), ("RGB", ".webp"),
                                          ("RGB", ".bmp")])
def test_image_formats(seg, tmp_path, mode, suffix):
    seg.set_vocabulary("cat,dog")
    path = tmp_path / f"image{suffix}"
    Image.new(mode, (96, 64), color=120 if mode == "L" else (120,) * len(mode)).save(path)
    result = seg.segment(path, task="semantic", resize=None)
    assert result.semantic_labels.shape == (64, 96)


def test_exif_orientation_is_applied(tmp_path):
    from frozenseg_runtime.image.loading import load_image

    img = Image.new("RGB", (96, 64), (10, 20, 30))
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    path = tmp_path / "rotated.jpg"
    img.save(path, exif=exif)
    assert load_image(path).shape == (96, 64, 3)


# -- entry points without a model: parse_vocabulary and load_image ------------------------------
# Each case: an id, a maker of the input from a scratch folder, and the message fragment that
# must name the problem. Every refusal is the documented typed error (also a ValueError).

import functools
import io
import struct
import warnings
import zlib

from frozenseg_runtime.errors import FrozenSegError
from frozenseg_runtime.image import loading
from frozenseg_runtime.image.loading import load_image
from frozenseg_runtime.text.vocabulary import parse_vocabulary, vocabulary_from_record


def _file(name, data):
    """A maker of a file holding `data` (str as UTF-8, or bytes) in the scratch folder."""
    def make(d):
        path = d / name
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path
    return make


def _encoded(mode="RGB", size=(64, 64), fmt="PNG", array=None, **kw) -> bytes:
    """An image encoded in memory."""
    im = Image.fromarray(array) if array is not None else Image.new(mode, size)
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _png_header(width: int, height: int) -> bytes:
    """A tiny PNG that declares width x height pixels (a decompression bomb's header)."""
    def chunk(tag, body):
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


def _refused(error, fragment, call):
    with pytest.raises(error) as info:
        call()
    assert isinstance(info.value, FrozenSegError) and isinstance(info.value, ValueError)
    assert fragment in str(info.value), str(info.value)


_PNG = _encoded()
_JPG = _encoded(fmt="JPEG")

BAD_VOCABULARIES = [
    ("empty string", lambda d: "", "at least one class"),
    ("only commas", lambda d: ",,,", "at least one class"),
    ("doubled comma", lambda d: "cat,,dog", "doubled or trailing commas"),
    ("exact duplicate", lambda d: "cat,cat", "distinct class names"),
    ("duplicate up to case", lambda d: "Cat,cat", "ignores case"),
    ("duplicate up to spaces", lambda d: ["big cat", "big  cat"], "ignores case"),
    ("line break in a name", lambda d: "cat\ndog", "control characters"),
    ("tab in a name", lambda d: "cat\tdog", "control characters"),
    ("NUL in a name", lambda d: ["cat\x00"], "control characters"),
    ("zero-width name", lambda d: ["\u200b"], "visible characters"),
    ("None", lambda d: None, "received NoneType"),
    ("number", lambda d: 42, "received int"),
    ("float", lambda d: 1.5, "received float"),
    ("bool", lambda d: True, "received bool"),
    ("bytes", lambda d: b"cat,dog", "decode bytes first"),
    ("set", lambda d: {"cat", "dog"}, "class order matters"),
    ("numpy array", lambda d: np.array(["cat", "dog"]), "tolist()"),
    ("generator", lambda d: (n for n in ["cat"]), "list(...)"),
    ("empty list", lambda d: [], "at least one class"),
    ("None item", lambda d: ["cat", None], "received NoneType"),
    ("int item", lambda d: [1], "received int"),
    ("bytes item", lambda d: [b"cat"], "received bytes"),
    ("empty synonym list", lambda d: [[]], "non-empty class names"),
    ("nested synonym list", lambda d: [[["cat"]]], "as strings"),
    ("non-str synonym", lambda d: [["cat", 3]], "as strings"),
    ("whitespace synonym", lambda d: [["  "]], "non-empty class names"),
    ("entry: empty names", lambda d: [{"names": []}], "non-empty class names"),
    ("entry: whitespace names", lambda d: [{"names": "  "}], "non-empty class names"),
    ("entry: names None", lambda d: [{"names": None}], "'names' as a list of strings"),
    ("entry: names of ints", lambda d: [{"names": [1]}], "as strings"),
    ("entry: no names", lambda d: [{"isthing": True}], '{"names": ["cat", "kitty"]'),
    ("entry: 'name' for 'names'", lambda d: [{"name": "cat"}], "rename it to 'names'"),
    ("entry: 'isThing'", lambda d: [{"names": ["road"], "isThing": False}], "rename it to 'is"),
    ("entry: 'is_thing'", lambda d: [{"names": ["road"], "is_thing": False}], "rename it to 'is"),
    ("isthing 'yes'", lambda d: [{"names": ["cat"], "isthing": "yes"}], "received str 'yes'"),
    ("isthing 'true'", lambda d: [{"names": ["cat"], "isthing": "true"}], "received str 'true'"),
    ("isthing 2", lambda d: [{"names": ["cat"], "isthing": 2}], "received int 2"),
    ("isthing 1.0", lambda d: [{"names": ["cat"], "isthing": 1.0}], "received float 1.0"),
    ("isthing None", lambda d: [{"names": ["cat"], "isthing": None}], "received NoneType"),
    ("single class object", lambda d: {"names": ["cat"]}, "wrap it in a list"),
    ("dict without key", lambda d: {"a": [{"names": ["cat"]}]}, "key='a'"),
    ("JSON text, single object", lambda d: '{"names": ["cat"]}', "wrap it in a list"),
    ("JSON text, broken", lambda d: "[not json", "expected valid JSON"),
    ("JSON text, nested too deep", lambda d: "[" * 100_000, "nested too deeply"),
    ("missing .txt", lambda d: str(d / "absent.txt"), "no such file"),
    ("missing Path", lambda d: d / "absent", "no such file"),
    ("missing folder-like path", lambda d: "/nonexistent/vocabularies/", "no such file"),
    ("path too long for the OS", lambda d: "x" * 5000 + ".txt", "no such file"),
    ("folder as Path", lambda d: d, "received the folder"),
    ("folder as str", lambda d: str(d), "received the folder"),
    ("latin-1 txt", _file("latin.txt", b"1:caf\xe9\n"), "UTF-8"),
    ("latin-1 json", _file("latin.json", b'[{"names": ["caf\xe9"]}]'), "UTF-8"),
    ("PNG as vocabulary", _file("image.png", _PNG), "UTF-8"),
    ("empty txt", _file("empty.txt", ""), "at least one class"),
    ("txt without IDs", _file("noid.txt", "cat\ndog\n"), "integer ID"),
    ("empty json", _file("empty.json", ""), "expected valid JSON"),
    ("json null", _file("null.json", "null"), "received NoneType"),
    ("json string", _file("str.json", '"cat"'), "received str"),
    ("json list of strings", _file("strs.json", '["cat"]'), '{"names": ["cat", "kitty"]'),
    ("json nested junk", _file("junk.json", '[[[{"a": [1, {"b": null}]}]]]'), "entry 0"),
    ("json empty object", _file("obj.json", "{}"), "empty object"),
    ("json NaN isthing", _file("nan.json", '[{"names": ["cat"], "isthing": NaN}]'), "float nan"),
    ("json nested too deep", _file("deep.json", "[" * 100_000 + "]" * 100_000),
     "nested too deeply"),
]


@pytest.mark.parametrize("make, fragment", [c[1:] for c in BAD_VOCABULARIES],
                         ids=[c[0] for c in BAD_VOCABULARIES])
def test_parse_vocabulary_refuses(tmp_path, make, fragment):
    source = make(tmp_path)
    _refused(VocabularyError, fragment, lambda: parse_vocabulary(source))


@pytest.mark.parametrize("source, key, fragment", [
    ("cat", 3, "key as a string"),
    ({"a": [{"names": ["cat"]}]}, ["a"], "key as a string"),
    ("cat,dog", "a", "drop key"),
    (["cat"], "a", "drop key"),
    ('[{"names": ["cat"]}]', "a", "received a list"),
    ({"a": [{"names": ["cat"]}]}, "b", "key='b'"),
])
def test_parse_vocabulary_refuses_bad_keys(source, key, fragment):
    _refused(VocabularyError, fragment, lambda: parse_vocabulary(source, key=key))


GOOD_VOCABULARIES = [
    ("JSON text", lambda d: '[{"names": ["cat", "kitty"]}, {"names": "grass", "isthing": false}]',
     {}, (("cat", "kitty"), ("grass",)), (True, False)),
    ("JSON text with key", lambda d: '{"a": [{"names": ["cat"]}]}', {"key": "a"}, (("cat",),),
     (True,)),
    ("dict with key", lambda d: {"a": [{"names": ["cat"], "isthing": 0}]}, {"key": "a"},
     (("cat",),), (False,)),
    ("UTF-8 BOM txt", _file("bom.txt", "\ufeff1:cat\n2:dog\n"), {}, (("cat",), ("dog",)),
     (True, True)),
    ("UTF-8 BOM json", _file("bom.json", '\ufeff[{"names": ["cat"]}]'), {}, (("cat",),), (True,)),
    ("CRLF txt", _file("crlf.txt", "1:cat\r\n2:dog\r\n"), {}, (("cat",), ("dog",)), (True, True)),
    ("extra keys ignored", lambda d: [{"names": ["cat"], "id": 3, "color": [1, 2, 3]}], {},
     (("cat",),), (True,)),
    ("numpy booleans", lambda d: [{"names": ["a"], "isthing": np.bool_(False)},
                                  {"names": ["b"], "isthing": np.int64(1)}], {}, (("a",), ("b",)),
     (False, True)),
    ("synonym shared by two classes", lambda d: [["cat", "kitty"], ["kitty cat", "kitty"]], {},
     (("cat", "kitty"), ("kitty cat", "kitty")), (True, True)),
    ("case duplicate allowed on request", lambda d: "Cat,cat", {"allow_duplicate_names": True},
     (("Cat",), ("cat",)), (True, True)),
    ("unicode names", lambda d: ["café", "猫"], {}, (("café",), ("猫",)), (True, True)),
    ("slash inside a name", lambda d: "pole/post,cat", {}, (("pole/post",), ("cat",)),
     (True, True)),
    ("existing folder named like a class", lambda d: "person", {}, (("person",),), (True,)),
    ("file named like JSON", lambda d: str(_file("[draft].txt", "1:cat\n")(d)), {}, (("cat",),),
     (True,)),
]


@pytest.mark.parametrize("make, kwargs, names, isthing", [c[1:] for c in GOOD_VOCABULARIES],
                         ids=[c[0] for c in GOOD_VOCABULARIES])
def test_parse_vocabulary_accepts(tmp_path, monkeypatch, make, kwargs, names, isthing):
    (tmp_path / "person").mkdir()
    monkeypatch.chdir(tmp_path)
    vocab = parse_vocabulary(make(tmp_path), **kwargs)
    assert vocab.names == names and vocab.isthing == isthing


@pytest.mark.parametrize("record, fragment", [
    ({"names": [[]], "isthing": [True]}, "non-empty class names"),
    ({"names": [["cat"]], "isthing": ["yes"]}, "received str 'yes'"),
    ({"names": [["cat"]], "isthing": []}, "equal length"),
    ({"names": "cat", "isthing": [True]}, "equal length"),
    ({}, "re-export"),
    (None, "re-export"),
    ({"names": ["cat"], "isthing": [True]}, "a list of synonyms"),
])
def test_manifest_vocabulary_record_refused(record, fragment):
    _refused(VocabularyError, fragment, lambda: vocabulary_from_record(record))


BAD_IMAGES = [
    ("missing file", lambda d: d / "absent.png", "does not exist"),
    ("missing str path", lambda d: str(d / "absent.png"), "does not exist"),
    ("path too long for the OS", lambda d: "x" * 5000 + ".png", "does not exist"),
    ("empty string", lambda d: "", "received an empty string"),
    ("folder", lambda d: d, "received the folder"),
    ("text file", _file("notes.txt", "hello"), "not an image format"),
    ("empty file", _file("empty.png", b""), "not an image format"),
    ("truncated PNG", _file("cut.png", _PNG[: len(_PNG) // 2]), "cannot decode"),
    ("truncated JPEG", _file("cut.jpg", _JPG[: len(_JPG) // 2]), "cannot decode"),
    ("PNG header only", _file("head.png", _PNG[:40]), "cannot decode"),
    ("30000 x 30000 PNG", _file("bomb.png", _png_header(30000, 30000)), "max_pixels=900000000"),
    ("junk bytes", lambda d: b"abc", "not an image format"),
    ("text-mode file object", lambda d: io.StringIO("hi"), "cannot decode"),
    ("None", lambda d: None, "received NoneType"),
    ("number", lambda d: 3, "received int"),
    ("nested list", lambda d: np.zeros((2, 2, 3)).tolist(), "np.asarray(x, dtype=np.uint8)"),
    ("dict", lambda d: {}, "received dict"),
    ("0 x 0 array", lambda d: np.zeros((0, 0, 3), np.uint8), "non-empty image"),
    ("0-row grayscale array", lambda d: np.zeros((0, 4), np.uint8), "non-empty image"),
    ("0 x 0 PIL image", lambda d: Image.new("RGB", (0, 0)), "non-empty image"),
    ("float32 array", lambda d: np.zeros((8, 6, 3), np.float32), "dtype uint8"),
    ("float64 array", lambda d: np.zeros((8, 6, 3)), "np.clip(x, 0, 1)"),
    ("int16 array", lambda d: np.zeros((8, 6, 3), np.int16), "received int16"),
    ("uint16 array", lambda d: np.zeros((8, 6, 3), np.uint16), "(x >> 8)"),
    ("bool array", lambda d: np.zeros((8, 6, 3), bool), "received bool"),
    ("object array", lambda d: np.zeros((8, 6, 3), object), "received object"),
    ("H x W x 2 array", lambda d: np.zeros((8, 6, 2), np.uint8), "received shape (8, 6, 2)"),
    ("H x W x 5 array", lambda d: np.zeros((8, 6, 5), np.uint8), "received shape (8, 6, 5)"),
    ("channels-first array", lambda d: np.zeros((3, 8, 6), np.uint8), "transpose(1, 2, 0)"),
    ("batch of one", lambda d: np.zeros((1, 8, 6, 3), np.uint8), "array[0]"),
    ("1-D array", lambda d: np.zeros(10, np.uint8), "received shape (10,)"),
    ("0-D array", lambda d: np.array(3, np.uint8), "received shape ()"),
    ("PIL mode I beyond 8 bits", lambda d: Image.fromarray(np.array([[0, 70000]], np.int32)),
     "32-bit integer"),
    ("PIL mode F in 0..1", lambda d: Image.fromarray(np.array([[0, 0.5]], np.float32)),
     "32-bit float"),
    ("float TIFF file", lambda d: _file("f.tif", _encoded(fmt="TIFF", array=np.array(
        [[0, 0.5]], np.float32)))(d), "scale is unknown"),
]


@pytest.mark.parametrize("make, fragment", [c[1:] for c in BAD_IMAGES],
                         ids=[c[0] for c in BAD_IMAGES])
def test_load_image_refuses(tmp_path, make, fragment):
    source = make(tmp_path)
    _refused(ImageError, fragment, lambda: load_image(source))


def _blank(mode, d):
    """A 6 x 8 PIL image of `mode` (the scratch folder `d` is not needed)."""
    return Image.new(mode, (6, 8))


GOOD_IMAGES = [
    ("1-pixel PNG", _file("one.png", _encoded(size=(1, 1))), (1, 1)),
    ("PNG named .jpg", _file("png.jpg", _PNG), (64, 64)),
    ("GIF", _file("a.gif", _encoded("P", (5, 4), "GIF")), (4, 5)),
    ("TIFF", _file("a.tif", _encoded("RGB", (5, 4), "TIFF")), (4, 5)),
    ("PNG bytes", lambda d: _PNG, (64, 64)),
    ("PNG bytearray", lambda d: bytearray(_PNG), (64, 64)),
    ("PNG memoryview", lambda d: memoryview(_PNG), (64, 64)),
    ("PNG BytesIO", lambda d: io.BytesIO(_PNG), (64, 64)),
    ("grayscale array", lambda d: np.zeros((8, 6), np.uint8), (8, 6)),
    ("H x W x 1 array", lambda d: np.zeros((8, 6, 1), np.uint8), (8, 6)),
    ("RGBA array", lambda d: np.zeros((8, 6, 4), np.uint8), (8, 6)),
    ("non-contiguous array", lambda d: np.zeros((8, 12, 3), np.uint8)[:, ::2], (8, 6)),
    ("Fortran-order array", lambda d: np.asfortranarray(np.zeros((8, 6, 3), np.uint8)), (8, 6)),
    ("1 x 1 array", lambda d: np.zeros((1, 1, 3), np.uint8), (1, 1)),
] + [(f"PIL mode {m}", functools.partial(_blank, m), (8, 6))
     for m in ("1", "L", "LA", "P", "PA", "RGBA", "RGBX", "CMYK", "YCbCr", "LAB", "HSV", "I;16",
               "I", "F")]


@pytest.mark.parametrize("make, shape", [c[1:] for c in GOOD_IMAGES],
                         ids=[c[0] for c in GOOD_IMAGES])
def test_load_image_converts(tmp_path, make, shape):
    image = load_image(make(tmp_path))
    assert image.shape == shape + (3,) and image.dtype == np.uint8 and image.flags.c_contiguous


_VALUES_16 = np.array([[0, 1000, 30000, 65535]], np.uint16)


@pytest.mark.parametrize("make", [lambda d: Image.fromarray(_VALUES_16),
                                  _file("g16.png", _encoded(array=_VALUES_16))],
                         ids=["PIL I;16 image", "16-bit grayscale PNG"])
def test_16_bit_images_keep_their_high_byte(tmp_path, make):
    """PIL's convert('RGB') clips 16-bit values to 255 (1000 of 65535 became white)."""
    assert load_image(make(tmp_path))[0, :, 0].tolist() == [0, 3, 117, 255]


def test_pixel_limit_is_checked_before_decoding(tmp_path):
    """A 12000 x 12000 header (a few hundred bytes): refused from the header, and PIL's own
    DecompressionBombWarning does not leak out (its limit is replaced, not added to)."""
    path = _file("big.png", _png_header(12000, 12000))(tmp_path)
    pil_limit = Image.MAX_IMAGE_PIXELS
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _refused(ImageError, "expected an image of at most 1,000,000 pixels",
                 lambda: load_image(path, max_pixels=1_000_000))
    assert Image.MAX_IMAGE_PIXELS == pil_limit


def test_pixel_limit_is_per_call_and_module_wide(tmp_path, monkeypatch):
    png = _file("p.png", _PNG)(tmp_path)  # 64 x 64 = 4096 pixels
    _refused(ImageError, "max_pixels=4096", lambda: load_image(png, max_pixels=4095))
    assert load_image(png, max_pixels=4096).shape == (64, 64, 3)
    _refused(ImageError, "at most 100 pixels", lambda: load_image(Image.new("RGB", (64, 64)),
                                                                   max_pixels=100))
    assert load_image(np.zeros((64, 64, 3), np.uint8), max_pixels=100).shape == (64, 64, 3)
    monkeypatch.setattr(loading, "MAX_IMAGE_PIXELS", 100)  # read at each call
    _refused(ImageError, "MAX_IMAGE_PIXELS", lambda: load_image(png))
    assert load_image(png, max_pixels=None).shape == (64, 64, 3)


def test_pil_global_limit_does_not_override_max_pixels(tmp_path, monkeypatch):
    """Past PIL's hard limit (2 x Image.MAX_IMAGE_PIXELS) Image.open raises; this call's
    max_pixels still decides, and PIL's global is left as it was."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    png = _file("p.png", _PNG)(tmp_path)
    assert load_image(png, max_pixels=None).shape == (64, 64, 3)
    assert load_image(_PNG).shape == (64, 64, 3)
    _refused(ImageError, "at most 4,000 pixels", lambda: load_image(png, max_pixels=4000))
    assert Image.MAX_IMAGE_PIXELS == 1000


@pytest.mark.parametrize("max_pixels", [0, -5, 1.5e9, "big", True])
def test_bad_max_pixels(max_pixels):
    _refused(ImageError, "max_pixels", lambda: load_image(_PNG, max_pixels=max_pixels))
