"""Reference token ids (and Unicode helper results) from the Python runtime, for the C++ tests.

    .venv/bin/python runtime/cpp/tests/data/make_tokenizer_cases.py

writes tokenizer_cases.json beside this script. Deterministic (fixed seed). Every text gets:
- `ids`: ClipTokenizer().encode(text) as the Python runtime runs it (ftfy installed);
- `ids_no_encoding_fix`: the same with ftfy's mojibake repair (fix_encoding) turned off; present
  only where it differs from `ids` (the C++ tests check both cleanings);
- `ids_fallback`: with the runtime's fallback cleaning (no ftfy); only where it differs.
Plus str.lower(), NFC, word splits, cleaned text and the too-long error for chosen strings.
"""

from __future__ import annotations

import json
import random
import unicodedata
from pathlib import Path

import ftfy

import frozenseg_runtime.text.tokenizer as tok
from frozenseg_runtime.errors import VocabularyError
from frozenseg_runtime.text.tokenizer import ClipTokenizer

HERE = Path(__file__).resolve().parent

FIXED = [
    # accents, precomposed and decomposed
    "crème brûlée", "Ångström", "cre\u0300me bru\u0302le\u0301e", "Crème Brûlée À LA CARTE",
    "naïve façade, smörgåsbord; Straße", "a\u0323\u0307 q\u0307\u0323 e\u0301\u0301",
    "\u1100\u1161\u11a8 \u1100\u1161 \uac00\u11a8", "\u0958 \u0344 \u2126 \u212b \u0f73",
    # non-Latin scripts
    "東京タワー", "一只猫 在 桌子上", "한국어 텍스트", "кошка на столе", "Москва", "قطة على الطاولة",
    "חתול", "बिल्ली", "γάτα Ωμέγα ᾳ", "ไทย", "ΟΔΟΣ ΣΟΦΟΣ Σ. ΑΣ́ ΑΣ΄Α", "İstanbul İ",
    # emoji and symbols
    "cat 🐱 dog 🐶", "👨‍👩‍👧 family", "© ® ™ € £ ¥ ° ± × ÷", "a\u0345b", "🏳️‍🌈 flag 🇫🇷",
    # digits
    "route 66", "3.14", "1234567890", "٣ arabic-indic ٤٥", "Ⅻ roman ½ fraction ² superscript",
    "2nd floor, 10th street", "१२३ ๑๒๓ ５６",
    # apostrophes and contractions
    "don't", "it's", "rock'n'roll", "I'M HERE, WE'LL SEE, THEY'VE, YOU'RE, HE'D",
    "'s 't 're 've 'm 'll 'd", "!!!'s", "men’s shoes", "it\u02bcs", "o'clock's",
    "'ſ 'S 'ſtill <ſtart_of_text> <START_OF_TEXT> !<end_of_text> x<end_of_text>y 'K '\u212a",
    # HTML entities (ftfy, then html.unescape twice)
    "&amp;", "&lt;tag&gt;", "salt &amp;amp; pepper", "&quot;quoted&quot; &#39;single&#39; &#x263A;",
    "fish & chips", "&amp;amp;amp;amp;", "P&EACUTE;REZ &NTILDE; &nTILDE; &SZLIG;",
    "&notit; &notin; this&not that &amp &AMP &ampx &#65 &#x41; &#0; &#128; &#1114112; &#xD800;",
    "&frac12; &FRAC12; &hellip; &#X263a; &#; &#x; &zz;", "<b>&amp;amp;</b>", "a &amp;amp;\n<b>",
    "line1 &amp;amp;\nline2 <x> &amp;amp;\nline3 &amp;amp;",
    # special-token strings
    "<start_of_text>", "a <END_OF_TEXT> b", "x<start_of_text>y", "!<start_of_text>",
    # case and whitespace
    "MiXeD CaSe", "ALL CAPS TEXT", "multiple   spaces\tand\ttabs\nand\nnewlines\r\n",
    "   leading and trailing   ", "\u00a0non-breaking\u2003em\u3000ideographic space", "", "   ",
    "a\x1cb\x1dc\x1ed\x1fe", "a\u2028b\u2029c\x85d\x0be\x0cf",
    # punctuation runs
    "!!!???", "...", "--", "a--b...c!?d", "(parenthesised) [bracketed] {braced}",
    "under_score snake_case_name", "e-mail: someone@example.com, https://example.com/path?q=1",
    "\"double\" 'single' `back`",
    # what ftfy repairs besides mojibake
    "ＬＯＵＤ　ＮＯＩＳＥＳ", "ﬂuﬃest ﬁsh", "“quoted” ‘single’ ‛x‟", "bell\x07 and\x1c file separator",
    "\x1b[36;44mcolour\x1b[0m \x1b[1m", "c1 \x80 \x85 \x93quote\x94 \x9f", "\ufeffbom \u206a x\ufffc",
    "Ĳ ǅ ǆ ﬀ ﬅ ﬆ", "ｶﾀｶﾅ ﾃﾞｽ", "\u2126\u212b",
    # mojibake (ftfy's fix_encoding, not in the C++ cleaning)
    "cafÃ©", "The Mona Lisa doesnÃ¢â‚¬â„¢t have eyebrows.", "sÃ³", "voilÃ le travail",
    "âœ” No problems",
]


def random_texts(rng: random.Random, count: int) -> list[str]:
    """Mixtures of words, digits, punctuation and code points from every assigned block."""
    assigned = [cp for cp in range(0x110000)
                if unicodedata.category(chr(cp)) not in ("Cn", "Cs", "Co")]
    marks = [cp for cp in assigned if unicodedata.combining(chr(cp))]
    words = ["cat", "Dog", "TREE", "photo", "a", "of", "the", "sky-scraper", "it's", "x1",
             "naïve", "Σίσυφος", "東京", "🐱", "&amp;", "don’t", "ﬁne", "ＡＢ", "İ", "ΟΣ"]
    out = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 8)):
            r = rng.random()
            if r < 0.35:
                parts.append(rng.choice(words))
            elif r < 0.55:
                parts.append("".join(chr(rng.choice(assigned)) for _ in range(rng.randint(1, 4))))
            elif r < 0.7:
                base = rng.choice("aeiouAEIOUnNcCsS")
                parts.append(base + "".join(chr(rng.choice(marks)) for _ in range(rng.randint(1, 3))))
            elif r < 0.8:
                parts.append(str(rng.randint(0, 10**6)))
            elif r < 0.9:
                parts.append("".join(rng.choice("!?.,;:'\"-_()[]{}<>/\\@#$%^&*+=~`|") for _ in
                                     range(rng.randint(1, 4))))
            else:
                parts.append(rng.choice([" ", "\t", "\n", "\u3000", "\u00a0", "\u2003"]))
        out.append(rng.choice([" ", "", "  "]).join(parts))
    return out


def mojibake_texts(rng: random.Random, count: int) -> list[str]:
    """UTF-8 text decoded with the single-byte codecs ftfy knows (sometimes twice, sometimes with
    byte A0 turned into a space or lost bytes), mixed with clean text: ftfy's repairs."""
    import ftfy.bad_codecs  # noqa: F401  (registers the sloppy codecs)

    codecs = ["latin-1", "sloppy-windows-1252", "sloppy-windows-1251", "sloppy-windows-1250",
              "sloppy-windows-1253", "sloppy-windows-1254", "sloppy-windows-1257", "iso-8859-2",
              "macroman", "cp437", "windows-1252"]
    words = ["café", "naïve", "doesn’t", "voilà le", "Straße", "東京", "🐱", "Ωμέγα", "кошка",
             "“quoted”", "fàcil", "São Paulo", "½ °C", "×²", "Ê", "…", "€5", "ﬁne"]
    out = []
    for _ in range(count):
        clean = " ".join(rng.choice(words) for _ in range(rng.randint(1, 4)))
        text = clean.encode("utf-8").decode(rng.choice(codecs), errors="replace")
        if rng.random() < 0.2:
            text = text.encode("utf-8").decode(rng.choice(codecs), errors="replace")
        if rng.random() < 0.2:
            text = text.replace("\xa0", " ")
        if rng.random() < 0.3:
            text = rng.choice(["", "a ", "the "]) + text + rng.choice(["", " and " + clean])
        out.append(text)
    return out


def ids_without(tokenizer: ClipTokenizer, text: str, fix) -> list[int]:
    saved = tok._ftfy_fix
    tok._ftfy_fix = fix
    try:
        return tokenizer.encode(text)
    finally:
        tok._ftfy_fix = saved


def clean_case(text: str) -> dict[str, str]:
    case = {"text": text, "clean": tok._clean(text)}
    saved = tok._ftfy_fix
    tok._ftfy_fix = lambda t: ftfy.fix_text(t, fix_encoding=False)
    try:
        no_fix = tok._clean(text)
    finally:
        tok._ftfy_fix = saved
    if no_fix != case["clean"]:
        case["clean_no_encoding_fix"] = no_fix
    return case


def main() -> None:
    rng = random.Random(20240611)
    tokenizer = ClipTokenizer()
    texts = FIXED + random_texts(rng, 260) + mojibake_texts(rng, 60)
    encode = []
    for text in texts:
        case = {"text": text, "ids": tokenizer.encode(text)}
        no_fix = ids_without(tokenizer, text, lambda t: ftfy.fix_text(t, fix_encoding=False))
        if no_fix != case["ids"]:
            case["ids_no_encoding_fix"] = no_fix
        fallback = ids_without(tokenizer, text, None)
        if fallback != case["ids"]:
            case["ids_fallback"] = fallback
        encode.append(case)

    assigned = [chr(cp) for cp in range(0x110000)
                if unicodedata.category(chr(cp)) not in ("Cn", "Cs", "Co")]
    sample = rng.sample(assigned, 300)
    split_text = "".join(f"a{c}b1{c}2!{c}?'{c} {c}{c}'" for c in sample)
    lower_cases = FIXED + ["".join(rng.sample(assigned, 40)) for _ in range(25)]
    nfc_cases = [t for t in texts if unicodedata.normalize("NFD", t) != t][:60]
    nfc_cases += [unicodedata.normalize("NFD", t) for t in nfc_cases]
    too_long = "a " * 76
    try:
        tokenizer([too_long])
        raise AssertionError("no error")
    except VocabularyError as exc:
        too_long_message = str(exc)
    cases = {
        "python": "generated by make_tokenizer_cases.py",
        "unicode_version": unicodedata.unidata_version,
        "ftfy_version": ftfy.__version__,
        "encode": encode,
        "padded": {"text": "a photo of a cat.", "row": tokenizer(["a photo of a cat."])[0].tolist()},
        "too_long": {"text": too_long, "message": too_long_message},
        "split_words": {"text": split_text, "words": tok._split_words(split_text)},
        "lower": [{"text": t, "lower": t.lower()} for t in lower_cases],
        "nfc": [{"text": t, "nfc": unicodedata.normalize("NFC", t)} for t in nfc_cases],
        "clean": [clean_case(t) for t in FIXED],
    }
    path = HERE / "tokenizer_cases.json"
    path.write_text(json.dumps(cases, ensure_ascii=False, indent=None), encoding="utf-8")
    print(f"{path.name}: {len(encode)} texts, {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
