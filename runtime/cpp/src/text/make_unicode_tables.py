"""Generate the text area's Unicode, HTML-entity and ftfy tables from this Python's own data.

The C++ tokenizer must split, lower-case, normalise and unescape text exactly as the Python
runtime does (runtime/text/tokenizer.py, with `ftfy` installed), so every table is read from the
modules the Python runtime itself uses: `unicodedata` (Unicode of this Python: run the script with
the project's .venv/bin/python, the interpreter the runtime is tested with), `str` methods
(lower(), isspace(), isdigit(), isprintable()), `html` and `ftfy`. Tables are ranges wherever the
data is ranges; only the decompositions and entities are per entry.

    .venv/bin/python runtime/cpp/src/text/make_unicode_tables.py

writes unicode_tables.inc, html_tables.inc, ftfy_tables.inc and ftfy_encoding_tables.inc beside
this script.
"""

from __future__ import annotations

import html
import html.entities
import re
import sys
import unicodedata
from pathlib import Path

import ftfy.badness
import ftfy.chardata
import ftfy.fixes
from ftfy.bad_codecs import utf8_variants

HERE = Path(__file__).resolve().parent
N = 0x110000

# Property bits (text/unicode.hpp declares the same values).
KIND_MASK = 0x3  # word-pattern class: 0 other, 1 letter, 2 number, 3 matched by no branch
SPACE = 1 << 2  # str.isspace()
CONTROL = 1 << 3  # category Cc
INVISIBLE = 1 << 4  # category Cf, Zs, Zl, Zp or Cc (vocabulary: "no visible characters")
DIGIT = 1 << 5  # str.isdigit()
PRINTABLE = 1 << 6  # str.isprintable() (repr keeps the character)
CASED = 1 << 7  # stops the Final_Sigma scan and is cased (see str.lower)
CASE_IGNORABLE = 1 << 8  # skipped by the Final_Sigma scan
DECIMAL = 1 << 9  # str.isdecimal(): what `\d` of `re` matches (ftfy's terminal escapes)
ALNUM = 1 << 10  # str.isalnum(): with '_', what `\w` of `re` matches (ftfy's patterns)

# What the `regex` package's `\s` matches (Unicode White_Space), as tokenizer.py lists it.
WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
WHITE_SPACE += "\u2028\u2029\u202f\u205f\u3000"


def word_kinds() -> list[int]:
    """tokenizer.py's `_word_pattern` classes, computed the same way, per code point."""
    cats = [unicodedata.category(chr(cp)) for cp in range(N)]
    kinds = [1 if c[0] == "L" else 2 if c[0] == "N" else 0 for c in cats]
    for ch in WHITE_SPACE:
        kinds[ord(ch)] = 3
    for cp in range(N):
        if kinds[cp] != 0 or cats[cp] in ("Cn", "Co", "Cs"):
            continue
        ch = chr(cp)
        for other in (ch.lower(), ch.upper()):
            if len(other) == 1 and other != ch and kinds[ord(other)] in (1, 2):
                kinds[cp] = 3
    return kinds


def sigma_context() -> tuple[list[bool], list[bool]]:
    """Case-ignorable and cased as str.lower()'s Final_Sigma rule sees them, measured on lower()
    itself (unicodedata does not expose these properties): 'aΣxb' keeps σ when x is skipped or
    cased, 'xΣ' gives ς when x stops the scan and is cased."""
    ignorable, cased = [False] * N, [False] * N
    for cp in range(N):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        x = chr(cp)
        a = ("a\u03a3" + x + "b").lower()[1]
        b = (x + "\u03a3").lower()[-1]
        if a == "\u03c3" and b == "\u03c3":
            ignorable[cp] = True
        elif a == "\u03c3" and b == "\u03c2":
            cased[cp] = True
    return ignorable, cased


def properties() -> list[int]:
    kinds = word_kinds()
    ignorable, cased = sigma_context()
    props = []
    for cp in range(N):
        ch = chr(cp)
        cat = unicodedata.category(ch)
        p = kinds[cp]
        p |= SPACE if ch.isspace() else 0
        p |= CONTROL if cat == "Cc" else 0
        p |= INVISIBLE if cat in ("Cf", "Zs", "Zl", "Zp", "Cc") else 0
        p |= DIGIT if ch.isdigit() else 0
        p |= PRINTABLE if ch.isprintable() else 0
        p |= CASED if cased[cp] else 0
        p |= CASE_IGNORABLE if ignorable[cp] else 0
        p |= DECIMAL if ch.isdecimal() else 0
        p |= ALNUM if ch.isalnum() else 0
        props.append(p)
    return props


def runs(values: list[int]) -> list[tuple[int, int]]:
    """(start, value) wherever the value changes."""
    out = [(0, values[0])]
    for cp in range(1, len(values)):
        if values[cp] != values[cp - 1]:
            out.append((cp, values[cp]))
    return out


def lower_runs() -> tuple[list[tuple[int, int, int, int]], dict[int, str]]:
    """(first, last, delta, stride) for one-character lower() mappings; longer ones apart."""
    single, multi = {}, {}
    for cp in range(N):
        low = chr(cp).lower()
        if low != chr(cp):
            if len(low) == 1:
                single[cp] = ord(low) - cp
            else:
                multi[cp] = low
    out = []
    cps = sorted(single)
    i = 0
    while i < len(cps):
        first, delta = cps[i], single[cps[i]]
        best = (first, 1)
        for stride in (1, 2):
            last = first
            while (last + stride in single and single[last + stride] == delta
                   and all(c not in single and c not in multi
                           for c in range(last + 1, last + stride))):
                last += stride
            if last > best[0]:
                best = (last, stride)
        last, stride = best
        out.append((first, last, delta, stride))
        i = cps.index(last) + 1
    return out, multi


def decompositions() -> list[tuple[int, int, int, int]]:
    """(code point, first, second or 0, composes) for canonical one-level decompositions.
    `composes`: a primary composite, i.e. NFC puts the pair back together (not excluded)."""
    out = []
    for cp in range(N):
        d = unicodedata.decomposition(chr(cp))
        if not d or d.startswith("<"):
            continue
        parts = [int(x, 16) for x in d.split()]
        assert len(parts) in (1, 2), (cp, d)
        composes = len(parts) == 2 and unicodedata.normalize("NFC", chr(cp)) == chr(cp)
        out.append((cp, parts[0], parts[1] if len(parts) == 2 else 0, int(composes)))
    return out


def c_string(text: str) -> str:
    """A C string literal of the UTF-8 bytes (hex escapes, split so digits never run on)."""
    out = []
    for b in text.encode("utf-8"):
        if 0x20 <= b < 0x7F and chr(b) not in '"\\?':
            if out and out[-1].startswith("\\x") and chr(b) in "0123456789abcdefABCDEF":
                out.append('""')
            out.append(chr(b))
        else:
            out.append(f"\\x{b:02x}")
    return '"' + "".join(out) + '"'


def rows(items: list[str], per_line: int) -> str:
    return "\n".join(",".join(items[i : i + per_line]) + "," for i in range(0, len(items), per_line))


HEADER = """// Generated by make_unicode_tables.py from Python {py} (Unicode {uv}{extra}); do not edit.
// Regenerate with: .venv/bin/python runtime/cpp/src/text/make_unicode_tables.py
"""


def write_unicode(path: Path) -> None:
    props = runs(properties())
    lows, multi = lower_runs()
    assert multi == {0x130: "i\u0307"}, multi  # the one multi-character lower() (SpecialCasing)
    ccc = runs([unicodedata.combining(chr(cp)) for cp in range(N)])
    ccc_ranges = [(a, (ccc[i + 1][0] if i + 1 < len(ccc) else N) - 1, v)
                  for i, (a, v) in enumerate(ccc) if v]
    decomp = decompositions()
    text = HEADER.format(py=sys.version.split()[0], uv=unicodedata.unidata_version, extra="")
    text += f'inline constexpr char kUnicodeVersion[] = "{unicodedata.unidata_version}";\n\n'
    text += "// (first code point, property bits) wherever the bits change.\n"
    text += "inline constexpr PropertyRun kPropertyRuns[] = {\n"
    text += rows([f"{{0x{a:x},0x{v:x}}}" for a, v in props], 8) + "\n};\n\n"
    text += "// str.lower(): (first, last, delta, stride); U+0130 lowers to two characters.\n"
    text += "inline constexpr LowerRun kLowerRuns[] = {\n"
    text += rows([f"{{0x{a:x},0x{b:x},{d},{s}}}" for a, b, d, s in lows], 6) + "\n};\n\n"
    text += "// Canonical combining class: (first, last, class) for non-zero classes.\n"
    text += "inline constexpr CombiningRun kCombiningRuns[] = {\n"
    text += rows([f"{{0x{a:x},0x{b:x},{v}}}" for a, b, v in ccc_ranges], 8) + "\n};\n\n"
    text += "// Canonical decompositions, one level (Hangul syllables are algorithmic):\n"
    text += "// (code point, first, second or 0, 1 when NFC composes the pair back).\n"
    text += "inline constexpr Decomposition kDecompositions[] = {\n"
    text += rows([f"{{0x{c:x},0x{a:x},0x{b:x},{k}}}" for c, a, b, k in decomp], 6) + "\n};\n"
    path.write_text(text, encoding="ascii")
    print(f"{path.name}: {len(props)} property runs, {len(lows)} lower runs, "
          f"{len(ccc_ranges)} combining runs, {len(decomp)} decompositions, {len(text)} bytes")


def write_html(path: Path) -> None:
    entities = sorted(html.entities.html5.items())
    invalid_refs = sorted(html._invalid_charrefs.items())  # type: ignore[attr-defined]
    invalid_cps = sorted(html._invalid_codepoints)  # type: ignore[attr-defined]
    text = HEADER.format(py=sys.version.split()[0], uv=unicodedata.unidata_version, extra="")
    text += "// html.entities.html5, sorted by name (with or without the ';').\n"
    text += "inline constexpr Entity kHtml5Entities[] = {\n"
    text += rows([f"{{{c_string(k)},{c_string(v)}}}" for k, v in entities], 4) + "\n};\n\n"
    text += "// html._invalid_charrefs: numeric references replaced by another character.\n"
    text += "inline constexpr CharRef kInvalidCharRefs[] = {\n"
    text += rows([f"{{0x{k:x},0x{ord(v):x}}}" for k, v in invalid_refs], 8) + "\n};\n\n"
    text += "// html._invalid_codepoints: numeric references that unescape to nothing.\n"
    text += "inline constexpr uint32_t kInvalidCodepoints[] = {\n"
    text += rows([f"0x{c:x}" for c in invalid_cps], 12) + "\n};\n"
    path.write_text(text, encoding="ascii")
    print(f"{path.name}: {len(entities)} entities, {len(text)} bytes")


def write_ftfy(path: Path) -> None:
    version = getattr(ftfy, "__version__", "?")
    html5 = html.entities.html5
    entities = ftfy.chardata.HTML_ENTITIES
    # ftfy's entity table: every html5 name ending in ';', plus, for each such name in lower
    # case, its upper-case spelling when html.unescape leaves that alone (text/text_fixer.cpp
    # derives these); the value is then the value's upper(), listed here where it differs.
    extras = {k[1:]: v for k, v in entities.items() if k[1:] not in html5}
    derived = {n.upper(): v.upper() for n, v in html5.items()
               if n.endswith(";") and n == n.lower()
               and html.unescape("&" + n.upper()) == "&" + n.upper()}
    assert extras == derived, set(extras) ^ set(derived)
    assert len(entities) == len(extras) + sum(1 for k in html5 if k.endswith(";"))
    changed = sorted((k, v) for k, v in extras.items() if html5[k.lower()] != v)
    width = sorted(ftfy.chardata.WIDTH_MAP.items())
    ligatures = sorted(ftfy.chardata.LIGATURES.items())
    controls = sorted(ftfy.chardata.CONTROL_CHARS)
    c1 = [bytes([b]).decode("sloppy-windows-1252") for b in range(0x80, 0xA0)]
    assert ftfy.chardata.SINGLE_QUOTE_RE.pattern == "[\u02bc\u2018-\u201b]"
    assert ftfy.chardata.DOUBLE_QUOTE_RE.pattern == "[\u201c-\u201f]"
    assert ftfy.chardata.HTML_ENTITY_RE.pattern == r"&#?[0-9A-Za-z]{1,24};"
    assert ftfy.fixes.ANSI_RE.pattern == "\033\\[((?:\\d|;)*)([a-zA-Z])"
    text = HEADER.format(py=sys.version.split()[0], uv=unicodedata.unidata_version,
                         extra=f", ftfy {version}")
    text += f'inline constexpr char kFtfyVersion[] = "{version}";\n\n'
    text += f"inline constexpr size_t kFtfyUpperEntityCount = {len(extras)};\n"
    text += "// Upper-case spellings whose value is not the lower-case entity's value.\n"
    text += "inline constexpr Entity kFtfyUpperValues[] = {\n"
    text += rows([f"{{{c_string(k)},{c_string(v)}}}" for k, v in changed], 4) + "\n};\n\n"
    text += "// fix_character_width: WIDTH_MAP.\n"
    text += "inline constexpr Replacement kWidthMap[] = {\n"
    text += rows([f"{{0x{k:x},{c_string(v)}}}" for k, v in width], 6) + "\n};\n\n"
    text += "// fix_latin_ligatures: LIGATURES.\n"
    text += "inline constexpr Replacement kLigatures[] = {\n"
    text += rows([f"{{0x{k:x},{c_string(v)}}}" for k, v in ligatures], 6) + "\n};\n\n"
    text += "// remove_control_chars: CONTROL_CHARS (deleted).\n"
    text += "inline constexpr uint32_t kControlChars[] = {\n"
    text += rows([f"0x{c:x}" for c in controls], 12) + "\n};\n\n"
    text += "// fix_c1_controls: U+0080..U+009F read as sloppy-windows-1252.\n"
    text += "inline constexpr uint32_t kC1Controls[32] = {\n"
    text += rows([f"0x{ord(c):x}" for c in c1], 8) + "\n};\n"
    path.write_text(text, encoding="ascii")
    encoding = HEADER.format(py=sys.version.split()[0], uv=unicodedata.unidata_version,
                             extra=f", ftfy {version}") + ftfy_encoding_tables()
    (path.parent / "ftfy_encoding_tables.inc").write_text(encoding, encoding="ascii")
    print(f"{path.name}: {len(extras)} upper entities ({len(changed)} listed), {len(width)} width, "
          f"{len(ligatures)} ligatures, {len(text)} bytes")


def ftfy_encoding_tables() -> str:
    """What ftfy's fix_encoding needs: its regular expressions as compiled (text/pyregex runs
    them) and the single-byte codecs it tries, byte 0x80..0xFF (ASCII maps to itself)."""
    patterns = [
        ("badness", ftfy.badness.BADNESS_RE),
        ("utf8_detector", ftfy.chardata.UTF8_DETECTOR_RE),
        ("altered_utf8", ftfy.chardata.ALTERED_UTF8_RE),
        ("a_grave_word", ftfy.fixes.A_GRAVE_WORD_RE),
        ("lossy_utf8", ftfy.chardata.LOSSY_UTF8_RE),
        ("special_bytes", utf8_variants.SPECIAL_BYTES_RE),
        ("cesu8", utf8_variants.CESU8_RE),
    ]
    text = "// ftfy's regular expressions: name, pattern (bytes patterns as Latin-1), bytes, verbose.\n"
    text += "inline constexpr FtfyPattern kFtfyPatterns[] = {\n"
    for name, regex in patterns:
        source = regex.pattern
        is_bytes = isinstance(source, bytes)
        if is_bytes:
            source = source.decode("latin-1")
        assert regex.flags & ~(re.VERBOSE | re.UNICODE) == 0, (name, regex.flags)
        verbose = bool(regex.flags & re.VERBOSE)
        text += f'{{"{name}",\n {c_string(source)},\n {str(is_bytes).lower()}, {str(verbose).lower()}}},\n'
    text += "};\n\n"
    names = list(ftfy.chardata.CHARMAP_ENCODINGS)
    text += "// The single-byte codecs fix_encoding tries, in its order; windows-1252 (strict, 0 =\n"
    text += "// undefined) last. Bytes 0x00..0x7F other than 0x1A decode to themselves.\n"
    text += "inline constexpr Charmap kCharmaps[] = {\n"
    for name in names + ["windows-1252"]:
        decoded = bytes(range(256)).decode(name, errors="replace")
        assert all(decoded[i] == chr(i) for i in range(128) if i != 0x1A), name
        assert len(set(decoded)) == 256 or name == "windows-1252", name
        high = [0 if c == "\ufffd" and name == "windows-1252" else ord(c) for c in decoded[0x80:]]
        text += f'{{"{name}", 0x{ord(decoded[0x1A]):x}, {{\n'
        text += rows([f"0x{v:x}" for v in high], 16) + "\n}},\n"
    text += "};\n"
    return text


if __name__ == "__main__":
    write_unicode(HERE / "unicode_tables.inc")
    write_html(HERE / "html_tables.inc")
    write_ftfy(HERE / "ftfy_tables.inc")
