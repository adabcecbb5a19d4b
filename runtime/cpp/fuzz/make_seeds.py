"""Writes the small committed seeds of runtime/cpp/fuzz/corpus/<target>/ (run from anywhere:
python3 runtime/cpp/fuzz/make_seeds.py). Larger fixtures are referenced by seeds.txt instead.
Seeds are named by content (sha1), as libFuzzer names corpus files; the folders are rewritten."""
import hashlib
import json
import re
import shutil
import struct
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
CPP = FUZZ.parent
DATA = CPP / "tests" / "data"
CORPUS = FUZZ / "corpus"
seeds: dict[str, list[bytes]] = {}


def add(target: str, data: bytes) -> None:
    seeds.setdefault(target, []).append(data)


def jpeg_segments(data: bytes):
    """(marker, payload) of each JPEG segment before the scan."""
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker, length = data[pos + 1], struct.unpack(">H", data[pos + 2:pos + 4])[0]
        yield marker, data[pos + 4:pos + 2 + length]
        if marker == 0xDA:
            return
        pos += 2 + length


def png_chunks(data: bytes):
    pos = 8
    while pos + 8 <= len(data):
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        yield data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        pos += 12 + length


# exif: the APP1 payloads (EXIF and XMP) of the EXIF fixtures, and PNG eXIf chunks.
for path in sorted((DATA / "image").glob("exif*.jpg")):
    for marker, payload in jpeg_segments(path.read_bytes()):
        if marker == 0xE1:
            add("exif", payload)
for path in sorted((DATA / "image").glob("*.png")):
    for kind, payload in png_chunks(path.read_bytes()):
        if kind == b"eXIf":
            add("exif", payload)
add("exif", b'<x:xmpmeta><rdf:Description tiff:Orientation="6"/></x:xmpmeta>')
add("exif", b"<tiff:Orientation>3</tiff:Orientation>")

# image_view: int32 height, int32 width, int64 stride, int32 format, then pixels (fuzz_image_view.cpp).
def view(height, width, stride, fmt, pixels: bytes) -> bytes:
    return struct.pack("<iiqi", height, width, stride, fmt) + pixels

add("image_view", view(2, 3, 9, 0, bytes(range(18))))            # RGB, packed
add("image_view", view(2, 2, 8, 1, bytes(range(14))))            # BGR, padded rows
add("image_view", view(1, 2, 0, 2, bytes(range(8))))             # RGBA, stride 0 (packed)
add("image_view", view(2, 1, 4, 3, bytes(range(8))))             # BGRA
add("image_view", view(3, 3, 4, 4, bytes(range(11))))            # GRAY
add("image_view", view(2, 4, 5, 0, bytes(range(17))))            # stride shorter than a row
add("image_view", view(70000, 70000, 210000, 0, b"\0"))         # over 2^32 pixels

# Vocabularies.
for text in ["cat,dog,grass", "  café , naïve ,Straße", "cat,,dog", "cat,Cat", "missing.txt",
             '[{"names": ["cat", "kitty"], "isthing": true}, {"names": "grass,lawn", "isthing": false}]',
             '[{"names": ["a"], "isthing": 0, "id": 3, "color": [1, 2, 3]}]', '["cat", "dog"]',
             '{"coco": [{"names": ["person"]}]}', '[{"name": ["typo"]}]', "\ufeffperson,people"]:
    add("vocabulary_text", text.encode())
for text in ['{"ade": [{"names": ["wall"], "isthing": false}], "coco": [["person", "people"], ["dog"]]}',
             '[["cat", "kitty"], ["dog"]]', '["cat,kitty", "dog"]', '[{"names": "sky", "isthing": 1.5}]',
             '[{"names": [], "isthing": false}]', '"cat,dog"', '[{"names": ["a\\u0000b"]}]']:
    add("vocabulary_json", text.encode())
for text in ["1:person,people\n2:sky\n0:invalid_class_id\n\n3:grass, lawn\n",
             "\ufeff0:cat\r\n1:dog\r\n", "x:cat\n", "1:\n", '[{"names": ["cat"]}]']:
    add("vocabulary_file", text.encode())

# Tokenizer and text cleaning: texts of the tokenizer fixtures (short ones) and ftfy's cases.
cases = json.loads((DATA / "tokenizer_cases.json").read_text())["encode"]
texts = []
for case in cases:
    if case["text"] not in texts and len(case["text"].encode()) <= 200:
        texts.append(case["text"])
for text in texts[:40] + ["Ã©tÃ© &amp;lt; &eacute", "\x1b[31mred\x1b[0m", "ﬁne ｗｉｄｅ “quotes”",
                          "sÃ£o paulo", "\u0080\u009f", "a\r\nb\u2028c", "ðŸ˜€", "&#x1F600;&#65;&#0;"]:
    add("tokenizer", text.encode())
    add("text_fixer", text.encode())
add("tokenizer", "word " * 80)  # longer than the context
seeds["tokenizer"][-1] = seeds["tokenizer"][-1].encode()

# pyregex: ftfy's own patterns (as the library compiles them) on texts they match.
table = (CPP / "src" / "text" / "ftfy_encoding_tables.inc").read_text()
for name, literal, is_bytes, verbose in re.findall(
        r'\{"([a-z0-9_]+)",\s*"((?:[^"\\]|\\.)*)",\s*(true|false),\s*(true|false)\}', table):
    pattern = bytes(literal, "latin-1").decode("unicode_escape").encode("latin-1").decode("utf-8")
    flags = (1 if is_bytes == "true" else 0) | (2 if verbose == "true" else 0)
    encoded = pattern.encode("latin-1") if is_bytes == "true" else pattern.encode()
    for text in ["cafÃ© Ã  la", "\xed\xa0\xbd\xed\xb8\x80", "plain"]:
        sample = text.encode("latin-1") if is_bytes == "true" else text.encode()
        add("pyregex", bytes([flags]) + encoded + b"\0" + sample)
for pattern, text in [(b"a(b|c)*d", b"abcbd"), (b"^\\s+|\\s+$", b"  x  "), (b"(?!ab)\\w{2,3}", b"abc ac"),
                      (b"(?<!x)y+", b"xyy yy"), (b"[^a-z\\d]", b"A1b"), (b"((a?){1,4})*$", b"aaaa!")]:
    add("pyregex", b"\0" + pattern + b"\0" + text)

# npy: a 0-d unicode array (the cache key's dtype) and a Fortran-order float64 matrix.
def npy(descr: str, fortran: bool, shape: tuple, data: bytes) -> bytes:
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, repr(shape))
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + data

add("npy", npy("<U64", False, (), "key".encode("utf-32-le").ljust(256, b"\0")))
add("npy", npy("<f8", True, (2, 3), struct.pack("<6d", *range(6))))
add("npy", npy(">f4", False, (0, 4), b""))

# manifest: the shape validate_manifest expects, cut down (the full fixture is in seeds.txt).
add("manifest", b'{"schema_version": 2, "graphs": {}, "constants": {}, "runtime": {"graphs": []}}')

for target in seeds:
    folder = CORPUS / target
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for data in seeds[target]:
        (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)
    print(f"{target}: {len(seeds[target])} seeds")
