"""Parity fixtures of the C++ image area, from the Python runtime (the specification).

Run from the repository root:  .venv/bin/python runtime/cpp/tests/data/make_image_cases.py
It rewrites runtime/cpp/tests/data/image/ : small PNG / JPEG files (hand-built PNGs for every
colour type and bit depth, Pillow-written JPEGs) and cases.json with, per case, the sha256 of
`frozenseg_runtime.image.loading.load_image`'s pixels or the error it raises; Pillow-resize,
preprocessing and torch-equal bilinear resize results as sha256 digests, sums and sampled values.
Everything is deterministic (fixed patterns, numpy's PCG64 with fixed seeds), so a rerun with the
same Pillow and numpy gives the same files. The expected values are Pillow 13's: its resize runs
the vertical pass first in some cases where Pillow 12 and older do not (see pil_resize.hpp), so a
rerun under an older Pillow changes some pil_resize and preprocess digests.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np
import PIL
from PIL import Image

from frozenseg_runtime.errors import ImageError
from frozenseg_runtime.image.loading import load_image
from frozenseg_runtime.image.ops import resize_bilinear
from frozenseg_runtime.image.preprocess import preprocess, resize_image

ROOT = Path(__file__).resolve().parents[4]
OUT = Path(__file__).resolve().parent / "image"

# The default preset's Preprocessing (frozenseg/presets.py), as the manifest carries it.
DEFAULT_CONSTANTS = {
    "clip_mean": [122.7709383, 116.7460125, 104.09373615],
    "clip_std": [68.5005327, 66.6321579, 70.32316305],
    "sam_mean": [123.675, 116.28, 103.53],
    "sam_std": [58.395, 57.12, 57.375],
    "pad_multiple": 32,
    "sam_size": 1024,
    "resize_short": 800,
    "resize_max": 1333,
}


def sha(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


# --------------------------------------------------------------------------------------------
# A small PNG writer: every colour type, bit depth, Adam7, any extra chunk, filter type 0.


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def pack_rows(samples: np.ndarray, bit_depth: int) -> list[bytes]:
    """(H, W * channels) integer samples -> packed scanlines (no filter byte)."""
    rows = []
    for row in samples:
        if bit_depth == 16:
            rows.append(row.astype(">u2").tobytes())
        elif bit_depth == 8:
            rows.append(row.astype(np.uint8).tobytes())
        else:
            per_byte = 8 // bit_depth
            padded = np.zeros(-(-len(row) // per_byte) * per_byte, dtype=np.uint8)
            padded[: len(row)] = row
            groups = padded.reshape(-1, per_byte)
            packed = np.zeros(len(groups), dtype=np.uint8)
            for i in range(per_byte):
                packed |= (groups[:, i] << (8 - bit_depth * (i + 1))).astype(np.uint8)
            rows.append(packed.tobytes())
    return rows


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
         (0, 1, 1, 2)]  # (x0, y0, dx, dy)


def png_bytes(samples: np.ndarray, color_type: int, bit_depth: int, *, interlace: bool = False,
              before_idat: list[bytes] = (), after_idat: list[bytes] = (),
              plte: bytes | None = None) -> bytes:
    """samples: (H, W, channels) integers."""
    h, w, c = samples.shape
    raw = b""
    if interlace:
        for x0, y0, dx, dy in ADAM7:
            sub = samples[y0::dy, x0::dx]
            if sub.size == 0:
                continue
            for row in pack_rows(sub.reshape(sub.shape[0], -1), bit_depth):
                raw += b"\0" + row
    else:
        for row in pack_rows(samples.reshape(h, w * c), bit_depth):
            raw += b"\0" + row
    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 1 if interlace else 0)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
    if plte is not None:
        out += chunk(b"PLTE", plte)
    for extra in before_idat:
        out += extra
    compressed = zlib.compress(raw, 9)
    half = len(compressed) // 2  # two IDAT chunks, to exercise their joining
    out += chunk(b"IDAT", compressed[:half]) + chunk(b"IDAT", compressed[half:])
    for extra in after_idat:
        out += extra
    return out + chunk(b"IEND", b"")


def exif_block(orientation_entry: bytes | None, big_endian: bool = False, extra: bytes = b"") -> bytes:
    """A TIFF header + IFD0 with one entry (12 bytes, already in the block's byte order)."""
    e = ">" if big_endian else "<"
    head = (b"MM\x00\x2a" if big_endian else b"II\x2a\x00") + struct.pack(e + "I", 8)
    entries = [orientation_entry] if orientation_entry else []
    ifd = struct.pack(e + "H", len(entries)) + b"".join(entries) + struct.pack(e + "I", 0)
    return head + ifd + extra


def orientation_entry(value: int, typ: int = 3, count: int = 1, big_endian: bool = False,
                      payload: bytes | None = None) -> bytes:
    e = ">" if big_endian else "<"
    if payload is None:
        payload = struct.pack(e + "HH", value, 0) if typ == 3 else struct.pack(e + "I", value)
    return struct.pack(e + "HHI", 0x0112, typ, count) + payload


# --------------------------------------------------------------------------------------------


def pattern(h: int, w: int, c: int, levels: int, seed: int) -> np.ndarray:
    rng = np.random.Generator(np.random.PCG64(seed))
    grad = (np.arange(h)[:, None, None] * 7 + np.arange(w)[None, :, None] * 3
            + np.arange(c)[None, None, :] * 11)
    noise = rng.integers(0, levels, size=(h, w, c))
    return ((grad + noise) % levels).astype(np.int64)


def photo_like(h: int, w: int, seed: int) -> np.ndarray:
    """Smooth colour fields plus mild noise: JPEG-friendly, exercises every DCT path."""
    rng = np.random.Generator(np.random.PCG64(seed))
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 128 + 100 * np.sin(x / 7.0) * np.cos(y / 11.0)
    g = 128 + 90 * np.cos((x + y) / 9.0)
    b = 128 + 110 * np.sin(np.hypot(x - w / 2, y - h / 2) / 5.0)
    img = np.stack([r, g, b], axis=2) + rng.normal(0, 12, size=(h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def load_case(name: str, data: bytes, cases: list, note: str, **kwargs) -> None:
    (OUT / name).write_bytes(data)
    try:
        pixels = load_image(OUT / name, **kwargs)
    except ImageError as exc:
        cases.append({"file": name, "note": note, "error": str(exc).replace(str(OUT) + "/", "")})
        return
    cases.append({"file": name, "note": note, "shape": list(pixels.shape), "sha256": sha(pixels)})


def png_cases(cases: list) -> None:
    h, w = 13, 21  # odd sizes: partial bytes in packed rows, partial Adam7 blocks
    for bd in (1, 2, 4, 8, 16):
        s = pattern(h, w, 1, 2 ** bd, seed=bd)
        load_case(f"gray{bd}.png", png_bytes(s, 0, bd), cases, f"gray {bd}-bit")
    trns16 = chunk(b"tRNS", struct.pack(">H", 300))
    load_case("gray16_trns.png", png_bytes(pattern(h, w, 1, 65536, 3), 0, 16, before_idat=[trns16]),
              cases, "gray 16-bit with tRNS")
    for bd in (8, 16):
        load_case(f"gray_alpha{bd}.png", png_bytes(pattern(h, w, 2, 2 ** bd, 10 + bd), 4, bd),
                  cases, f"gray+alpha {bd}-bit")
        load_case(f"rgb{bd}.png", png_bytes(pattern(h, w, 3, 2 ** bd, 20 + bd), 2, bd), cases,
                  f"RGB {bd}-bit")
        load_case(f"rgba{bd}.png", png_bytes(pattern(h, w, 4, 2 ** bd, 30 + bd), 6, bd), cases,
                  f"RGBA {bd}-bit")
    trns_rgb = chunk(b"tRNS", struct.pack(">HHH", 1, 2, 3))
    load_case("rgb8_trns.png", png_bytes(pattern(h, w, 3, 256, 40), 2, 8, before_idat=[trns_rgb]),
              cases, "RGB 8-bit with tRNS")
    for bd in (1, 2, 4, 8):
        n = 2 ** bd
        plte = bytes((i * 37 + c * 91) % 256 for i in range(n) for c in range(3))
        load_case(f"palette{bd}.png", png_bytes(pattern(h, w, 1, n, 50 + bd), 3, bd, plte=plte),
                  cases, f"palette {bd}-bit")
    plte = bytes((i * 53 + c * 17) % 256 for i in range(200) for c in range(3))
    trns = chunk(b"tRNS", bytes(range(0, 250, 5)))
    load_case("palette8_trns.png", png_bytes(pattern(h, w, 1, 200, 60), 3, 8, plte=plte,
                                             before_idat=[trns]), cases, "palette with tRNS")
    short = bytes((i * 29 + c * 71) % 256 for i in range(5) for c in range(3))
    load_case("palette8_short_plte.png", png_bytes(pattern(h, w, 1, 8, 61), 3, 8, plte=short),
              cases, "palette indices past the PLTE entries")
    # Adam7
    load_case("rgb8_interlaced.png", png_bytes(pattern(h, w, 3, 256, 70), 2, 8, interlace=True),
              cases, "RGB 8-bit Adam7")
    load_case("gray2_interlaced.png", png_bytes(pattern(h, w, 1, 4, 71), 0, 2, interlace=True),
              cases, "gray 2-bit Adam7")
    load_case("rgba16_interlaced.png", png_bytes(pattern(5, 3, 4, 65536, 72), 6, 16, interlace=True),
              cases, "RGBA 16-bit Adam7, smaller than one Adam7 block")
    # Pillow's own writer (adaptive filters), from a photo-like image
    buf = io.BytesIO()
    Image.fromarray(photo_like(40, 56, 1)).save(buf, "PNG", optimize=True)
    load_case("pillow_rgb.png", buf.getvalue(), cases, "Pillow-written RGB (filters)")
    # Orientation metadata
    rgb = pattern(6, 10, 3, 256, 80)
    for orient in range(1, 9):
        load_case(f"exif_png_{orient}.png", png_bytes(rgb, 2, 8, before_idat=[
            chunk(b"eXIf", exif_block(orientation_entry(orient)))]), cases, f"eXIf orientation {orient}")
    load_case("exif_png_after_idat.png", png_bytes(rgb, 2, 8, after_idat=[
        chunk(b"eXIf", exif_block(orientation_entry(6, big_endian=True), big_endian=True))]),
        cases, "eXIf after IDAT, big-endian")
    raw = exif_block(orientation_entry(8))
    profile = f"\nexif\n{len(raw) + 6:8}\n{(b'Exif' + bytes(2) + raw).hex()}\n".encode()
    load_case("raw_profile_text.png", png_bytes(rgb, 2, 8, before_idat=[
        chunk(b"tEXt", b"Raw profile type exif\0" + profile)]), cases, "tEXt raw profile, 8")
    load_case("raw_profile_ztxt.png", png_bytes(rgb, 2, 8, after_idat=[
        chunk(b"zTXt", b"Raw profile type exif\0\0" + zlib.compress(profile))]), cases,
        "zTXt raw profile after IDAT, 8")
    xmp = b'<x:xmpmeta><rdf:Description tiff:Orientation="5"/></x:xmpmeta>'
    load_case("xmp_itxt.png", png_bytes(rgb, 2, 8, before_idat=[
        chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + xmp)]), cases, "iTXt XMP orientation 5")
    load_case("xmp_itxt_compressed.png", png_bytes(rgb, 2, 8, before_idat=[
        chunk(b"iTXt", b"XML:com.adobe.xmp\0\1\0\0\0" + zlib.compress(
            b"<tiff:Orientation>7</tiff:Orientation>"))]), cases, "compressed iTXt XMP, 7")
    load_case("exif_text_key.png", png_bytes(rgb, 2, 8, before_idat=[
        chunk(b"tEXt", b"exif\0" + exif_block(orientation_entry(3)))]), cases, "tEXt keyed exif")
    # Damage
    good = png_bytes(pattern(20, 30, 3, 256, 90), 2, 8)
    idat = good.index(b"IDAT")
    load_case("trunc_in_idat.png", good[: idat + 40], cases, "cut inside the image data")
    iend = good.index(b"IEND") - 4
    load_case("no_iend.png", good[:iend], cases, "cut before IEND")
    load_case("cut_in_last_crc.png", good[: iend - 2], cases, "cut inside the last IDAT's CRC")
    load_case("cut_in_adler.png", good[: iend - 6], cases,
              "cut inside the zlib checksum: every row is there (Pillow decodes it)")
    ilaced = png_bytes(pattern(9, 11, 4, 65536, 92), 6, 16, interlace=True)
    cut = ilaced.index(b"IEND") - 4 - 4 - 2
    load_case("cut_in_adler_interlaced.png", ilaced[:cut], cases,
              "Adam7, cut inside the zlib checksum")
    trailing = png_bytes(rgb, 2, 8, after_idat=[chunk(b"eXIf", exif_block(orientation_entry(6)))])
    load_case("cut_in_trailing_exif.png", trailing[: trailing.index(b"eXIf") + 10], cases,
              "cut inside an eXIf after the image data (Pillow reads it after the pixels)")
    bad_crc = bytearray(png_bytes(rgb, 2, 8, before_idat=[chunk(b"tEXt", b"Comment\0hello")]))
    pos = bad_crc.index(b"tEXt") + 4 + len(b"Comment\0hello")
    bad_crc[pos] ^= 0xFF
    load_case("bad_text_crc.png", bytes(bad_crc), cases, "bad CRC in a text chunk before IDAT")
    load_case("exif_bad_header.png", png_bytes(rgb, 2, 8, before_idat=[
        chunk(b"eXIf", b"XX\x2a\x00\x08\x00\x00\x00")]), cases, "eXIf without a TIFF header")


def jpeg_save(array: np.ndarray, **kwargs) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "JPEG", **kwargs)
    return buf.getvalue()


def jpeg_cases(cases: list) -> None:
    photo = photo_like(37, 53, 2)  # odd sizes: partial MCUs, edge upsampling
    for name, sub in (("444", 0), ("422", 1), ("420", 2)):
        load_case(f"baseline_{name}.jpg", jpeg_save(photo, quality=90, subsampling=sub), cases,
                  f"baseline {name}")
    load_case("progressive_420.jpg", jpeg_save(photo, quality=85, progressive=True), cases,
              "progressive 4:2:0")
    load_case("progressive_444_opt.jpg", jpeg_save(photo, quality=95, subsampling=0,
                                                   progressive=True, optimize=True), cases,
              "progressive 4:4:4, optimised Huffman")
    load_case("restart_rows.jpg", jpeg_save(photo, quality=80, restart_marker_rows=1), cases,
              "restart markers every MCU row")
    load_case("keep_rgb.jpg", jpeg_save(photo, quality=90, keep_rgb=True), cases,
              "RGB components (Adobe transform 0)")
    load_case("gray.jpg", jpeg_save(photo[:, :, 1]), cases, "grayscale")
    cmyk = Image.fromarray(photo).convert("CMYK")
    buf = io.BytesIO()
    cmyk.save(buf, "JPEG", quality=90)
    load_case("cmyk.jpg", buf.getvalue(), cases, "CMYK (Adobe inverted)")
    small = photo_like(16, 24, 3)
    for orient in range(1, 9):
        exif = b"Exif\0\0" + exif_block(orientation_entry(orient))
        load_case(f"exif_{orient}.jpg", jpeg_save(small, quality=90, exif=exif), cases,
                  f"EXIF orientation {orient}")
    variants = {
        "exif_long_6.jpg": ("LONG orientation 6", orientation_entry(6, typ=4)),
        "exif_count2_6.jpg": ("SHORT count 2, first value 6", orientation_entry(6, count=2)),
        "exif_byte_6.jpg": ("BYTE orientation 6 (Pillow reads bytes: no turn)",
                            orientation_entry(0, typ=1, payload=b"\x06\0\0\0")),
        "exif_big_endian_8.jpg": ("big-endian orientation 8",
                                  orientation_entry(8, big_endian=True)),
        "exif_rational_6.jpg": ("RATIONAL 12/2 out of line", struct.pack("<HHII", 0x0112, 5, 1, 26)),
        "exif_nine.jpg": ("orientation 9 (none)", orientation_entry(9)),
    }
    for name, (note, entry) in variants.items():
        big = "big_endian" in name
        extra = struct.pack("<II", 12, 2) if "rational" in name else b""
        exif = b"Exif\0\0" + exif_block(entry, big_endian=big, extra=extra)
        load_case(name, jpeg_save(small, quality=90, exif=exif), cases, note)
    xmp_app1 = b"http://ns.adobe.com/xap/1.0/\0" + b'<rdf tiff:Orientation="6"/>'
    data = jpeg_save(small, quality=90)
    with_xmp = data[:2] + b"\xff\xe1" + struct.pack(">H", len(xmp_app1) + 2) + xmp_app1 + data[2:]
    load_case("xmp_6.jpg", with_xmp, cases, "XMP orientation 6, no EXIF")
    exif = b"Exif\0\0" + exif_block(None)  # EXIF without orientation: XMP decides
    both = jpeg_save(small, quality=90, exif=exif)
    both = both[:2] + b"\xff\xe1" + struct.pack(">H", len(xmp_app1) + 2) + xmp_app1 + both[2:]
    load_case("exif_empty_xmp_6.jpg", both, cases, "EXIF without orientation, XMP 6")
    # Pillow reads a JPEG's EXIF once at open to find its dpi, unless the JFIF header gives one,
    # and swallows the errors of that first read: a broken TIFF header (and any XMP) is then
    # ignored; with a JFIF dpi, exif_transpose's read raises and load_image refuses the file.
    bad = b"Exif\0\0NOTATIFF"
    load_case("exif_bad_header.jpg", jpeg_save(small, exif=bad), cases,
              "EXIF block that is not TIFF, no JFIF dpi: ignored")
    load_case("exif_bad_header_dpi.jpg", jpeg_save(small, exif=bad, dpi=(300, 300)), cases,
              "EXIF block that is not TIFF, JFIF dpi: refused")
    bad_xmp = jpeg_save(small, exif=bad)
    bad_xmp = bad_xmp[:2] + b"\xff\xe1" + struct.pack(">H", len(xmp_app1) + 2) + xmp_app1 + bad_xmp[2:]
    load_case("exif_bad_header_xmp.jpg", bad_xmp, cases,
              "EXIF block that is not TIFF and XMP 6, no JFIF dpi: no turn")
    load_case("exif_dpi_6.jpg", jpeg_save(small, dpi=(96, 96), exif=b"Exif\0\0" + exif_block(
        orientation_entry(6))), cases, "EXIF orientation 6 with a JFIF dpi")
    # Damage
    full = jpeg_save(photo, quality=90)
    load_case("no_eoi.jpg", full[:-2], cases, "EOI marker missing")
    load_case("trunc_half.jpg", full[: len(full) // 2], cases, "cut in the middle of the scan")
    prog = jpeg_save(photo, quality=85, progressive=True)
    load_case("trunc_progressive.jpg", prog[: len(prog) * 3 // 4], cases, "progressive, cut")
    load_case("trailing_garbage.jpg", full + b"\0garbage after EOI", cases, "bytes after EOI")
    load_case("tem_marker_before_eoi.jpg", full[:-2] + b"\xff\x01" + full[-2:], cases,
              "a TEM marker between the scan and EOI (harmless)")
    second_sof = b"\xff\xc0\x00\x0b\x08\x00\x10\x00\x10\x01\x01\x11\x00"
    load_case("second_sof_before_eoi.jpg", full[:-2] + second_sof + full[-2:], cases,
              "a second SOF between the scan and EOI (Pillow reads on to EOI and fails)")
    # Not images
    load_case("not_an_image.png", b"this is plain text, not an image\n", cases, "text")
    load_case("empty.jpg", b"", cases, "empty file")
    buf = io.BytesIO()
    Image.fromarray(small).save(buf, "BMP")
    load_case("small.bmp", buf.getvalue(), cases, "BMP (Python reads it; C++ refuses)")


def limit_cases(cases: list) -> None:
    cases.append({"file": "rgb8.png", "note": "pixel limit below the image", "max_pixels": 100,
                  "error": "expected an image of at most 100 pixels"})


def sample_indices(size: int, count: int = 32) -> list[int]:
    step = max(1, size // count)
    picks = list(range(0, size, step))[:count] + [size - 1]
    return sorted(set(picks))


def summary(array: np.ndarray) -> dict:
    flat = np.ascontiguousarray(array, dtype=np.float32).reshape(-1)
    idx = sample_indices(flat.size)
    return {
        "shape": list(array.shape),
        "sha256": sha(flat),
        "sum": float(flat.astype(np.float64).sum()),
        "abs_sum": float(np.abs(flat.astype(np.float64)).sum()),
        "samples": [[i, float(flat[i])] for i in idx],
    }


def resize_sources() -> dict[str, np.ndarray]:
    sources = {
        "noise_57x83.png": np.random.Generator(np.random.PCG64(5)).integers(
            0, 256, size=(57, 83, 3), dtype=np.uint8),
        "photo_61x45.png": photo_like(61, 45, 6),
    }
    for name, array in sources.items():
        Image.fromarray(array).save(OUT / name)
    return sources


def pil_resize_cases(sources: dict[str, np.ndarray]) -> list:
    sizes = [(1, 1), (1, 200), (50, 1), (29, 41), (57, 83), (57, 60), (40, 83), (200, 300),
             (33, 17), (300, 7), (13, 400), (61, 45), (30, 22), (122, 90), (183, 135), (7, 5)]
    out = []
    for name, array in sources.items():
        for h, w in sizes:
            resized = np.array(Image.fromarray(array).resize((w, h), Image.BILINEAR))
            out.append({"source": name, "size": [h, w], "sha256": sha(resized)})
    astro = load_image(ROOT / "samples" / "astronaut.jpg")
    for h, w in [(800, 800), (333, 500), (1024, 1024), (100, 37)]:
        resized = np.array(Image.fromarray(astro).resize((w, h), Image.BILINEAR))
        out.append({"source": "samples/astronaut.jpg", "size": [h, w], "sha256": sha(resized)})
    return out


def preprocess_cases(sources: dict[str, np.ndarray]) -> list:
    small = {"clip_mean": DEFAULT_CONSTANTS["clip_mean"], "clip_std": DEFAULT_CONSTANTS["clip_std"],
             "sam_mean": DEFAULT_CONSTANTS["sam_mean"], "sam_std": DEFAULT_CONSTANTS["sam_std"],
             "pad_multiple": 8, "sam_size": 64, "resize_short": 48, "resize_max": 80}
    runs = [
        ("samples/astronaut.jpg", DEFAULT_CONSTANTS, "default"),
        ("samples/astronaut.jpg", DEFAULT_CONSTANTS, None),
        ("photo_61x45.png", small, "default"),
        ("noise_57x83.png", small, "default"),
        ("noise_57x83.png", small, None),
        ("noise_57x83.png", {**small, "pad_multiple": 1, "sam_size": 150}, None),
    ]
    out = []
    for source, constants, resize in runs:
        image = (load_image(ROOT / source) if source.startswith("samples/")
                 else sources[source])
        kwargs = {k: constants[k] for k in ("clip_mean", "clip_std", "sam_mean", "sam_std",
                                            "pad_multiple", "sam_size")}
        rule = (constants["resize_short"], constants["resize_max"]) if resize else None
        prepared = preprocess(image, resize=rule, **kwargs)
        out.append({
            "source": source, "constants": constants, "resize": resize is not None,
            "image_size": list(prepared.image_size), "padded_size": list(prepared.padded_size),
            "output_size": list(prepared.output_size),
            "clip_input": summary(prepared.clip_input), "sam_input": summary(prepared.sam_input),
        })
    return out


def extreme_aspect_case() -> dict:
    image = np.zeros((1, 3000, 3), dtype=np.uint8)
    try:
        resize_image(image, 800, 1333)
    except ImageError as exc:
        return {"shape": [1, 3000], "resize": [800, 1333], "error": str(exc)}
    raise SystemExit("expected the extreme aspect ratio to be refused")


def bilinear_input(c: int, h: int, w: int) -> np.ndarray:
    """Values the C++ test rebuilds exactly: small integers over 8, in float32."""
    ci, hi, wi = np.meshgrid(np.arange(c), np.arange(h), np.arange(w), indexing="ij")
    return ((((ci * 131 + hi * 37 + wi * 11) % 97) - 48) / np.float32(8.0)).astype(np.float32)


def bilinear_cases() -> list:
    shapes = [((2, 7, 9), (14, 18)), ((3, 50, 40), (17, 23)), ((1, 13, 11), (13, 29)),
              ((2, 16, 20), (45, 20)), ((4, 5, 3), (1, 1)), ((1, 1, 1), (7, 4)),
              ((3, 64, 48), (1024, 1024)), ((2, 100, 160), (800, 1333)), ((1, 31, 37), (31, 37))]
    out = []
    for (c, h, w), (oh, ow) in shapes:
        result = resize_bilinear(bilinear_input(c, h, w), (oh, ow))
        out.append({"input": [c, h, w], "size": [oh, ow], "result": summary(result)})
    return out


def main() -> None:
    # Pillow warns about some of the odd files on purpose (palette transparency, an EXIF tag with
    # two values): they are what is tested.
    warnings.filterwarnings("ignore", category=UserWarning, module="PIL")
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    loading: list = []
    png_cases(loading)
    jpeg_cases(loading)
    limit_cases(loading)
    astro = load_image(ROOT / "samples" / "astronaut.jpg")
    loading.append({"file": "samples/astronaut.jpg", "note": "real photo (in the repository)",
                    "shape": list(astro.shape), "sha256": sha(astro)})
    sources = resize_sources()
    cases = {
        "generator": "runtime/cpp/tests/data/make_image_cases.py",
        "pillow": PIL.__version__,
        "numpy": np.__version__,
        "loading": loading,
        "pil_resize": pil_resize_cases(sources),
        "preprocess": preprocess_cases(sources),
        "extreme_aspect": extreme_aspect_case(),
        "resize_bilinear": bilinear_cases(),
    }
    (OUT / "cases.json").write_text(json.dumps(cases, indent=0) + "\n")
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {len(list(OUT.iterdir()))} files, {total:,} bytes, to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
