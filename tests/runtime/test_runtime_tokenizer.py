"""The torch-free CLIP tokenizer gives open_clip's ids exactly, and refuses texts that do not fit.

The exported text graph was verified with open_clip's tokenizer, so any id difference would change
the class embeddings silently: every comparison here is exact.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import frozenseg_runtime.text.tokenizer as tokenizer_module
from frozenseg_runtime.errors import VocabularyError
from frozenseg_runtime.text.tokenizer import DEFAULT_BPE_PATH, ClipTokenizer, sha256_of_bpe
from frozenseg_runtime.text.vocabulary import split_synonyms

# The steering repo's shared/ folder sits beside this checkout (locally and in CI).
VOCAB_DIR = Path(__file__).resolve().parents[3] / "shared" / "vocabularies"

TRICKY = [
    # accents, precomposed and decomposed (ftfy normalises to NFC)
    "crème brûlée",
    "Ångström",
    "cre\u0300me bru\u0302le\u0301e",
    "Crème Brûlée À LA CARTE",
    "naïve façade, smörgåsbord; Straße",
    # non-Latin scripts
    "東京タワー",
    "一只猫 在 桌子上",
    "한국어 텍스트",
    "кошка на столе",
    "Москва",
    "قطة على الطاولة",
    "חתול",
    "बिल्ली",
    "γάτα Ωμέγα ᾳ",
    "ไทย",
    # emoji and symbols
    "cat 🐱 dog 🐶",
    "👨‍👩‍👧 family",
    "© ® ™ € £ ¥ ° ± × ÷",
    "a\u0345b",
    # digits: each digit is its own token
    "route 66",
    "3.14",
    "1234567890",
    "٣ arabic-indic ٤٥",
    "Ⅻ roman ½ fraction ² superscript",
    "2nd floor, 10th street",
    # apostrophes and contractions
    "don't",
    "it's",
    "rock'n'roll",
    "I'M HERE, WE'LL SEE, THEY'VE, YOU'RE, HE'D",
    "'s 't 're 've 'm 'll 'd",
    "!!!'s",
    "men’s shoes",
    "it\u02bcs",
    "o'clock's",
    # HTML entities (unescaped twice by open_clip)
    "&amp;",
    "&lt;tag&gt;",
    "salt &amp;amp; pepper",
    "&quot;quoted&quot; &#39;single&#39; &#x263A;",
    "fish & chips",
    # special-token strings
    "<start_of_text>",
    "a <END_OF_TEXT> b",
    "x<start_of_text>y",
    "!<start_of_text>",
    # case and whitespace
    "MiXeD CaSe",
    "ALL CAPS TEXT",
    "multiple   spaces\tand\ttabs\nand\nnewlines\r\n",
    "   leading and trailing   ",
    "\u00a0non-breaking\u2003em\u3000ideographic space",
    "",
    "   ",
    # punctuation runs
    "!!!???",
    "...",
    "--",
    "a--b...c!?d",
    "(parenthesised) [bracketed] {braced}",
    "under_score snake_case_name",
    "e-mail: someone@example.com, https://example.com/path?q=1",
    "\"double\" 'single' `back`",
    # ftfy repairs: mojibake, fullwidth, ligatures, curly quotes, control characters
    "cafÃ©",
    "The Mona Lisa doesnÃ¢â‚¬â„¢t have eyebrows.",
    "ＬＯＵＤ　ＮＯＩＳＥＳ",
    "ﬂuﬃest ﬁsh",
    "“quoted”",
    "bell\x07 and\x1c file separator",
]

FALLBACK_SAFE = [  # strings ftfy changes only by NFC and quote straightening
    "cre\u0300me bru\u0302le\u0301e",
    "men’s shoes",
    "“quoted”",
    "it\u02bcs",
    "crème brûlée",
    "東京タワー",
    "don't stop 3.14 !!!",
    "&lt;tag&gt; &amp;amp;",
]


@pytest.fixture(scope="module")
def ours() -> ClipTokenizer:
    return ClipTokenizer()


@pytest.fixture(scope="module")
def reference() -> Any:
    open_clip = pytest.importorskip("open_clip")
    return open_clip.get_tokenizer("convnext_large_d_320")


def _assert_same(
    ours: ClipTokenizer, reference: Any, texts: list[str], reference_call: bool = True
) -> None:
    """Equal `encode` for every text, and equal (N, 77) arrays for those that fit.

    Without `reference_call` the expected array is built from the reference ids (what open_clip's
    `__call__` does for texts that fit), which halves the time of the large corpus.
    """
    ref_ids = [reference.encode(t) for t in texts]
    mismatches = [t for t, r in zip(texts, ref_ids) if ours.encode(t) != r]
    assert not mismatches, f"{len(mismatches)} ids differ, first: {mismatches[:5]!r}"
    fitting = [(t, r) for t, r in zip(texts, ref_ids) if len(r) + 2 <= 77]
    got = ours([t for t, _ in fitting])
    assert got.dtype == np.int64 and got.shape == (len(fitting), 77)
    if reference_call:
        expected = reference([t for t, _ in fitting]).numpy()
    else:
        expected = np.zeros((len(fitting), 77), np.int64)
        for row, (_, r) in enumerate(fitting):
            expected[row, : len(r) + 2] = [49406, *r, 49407]
    np.testing.assert_array_equal(got, expected)


def test_tricky_strings_match_open_clip(ours: ClipTokenizer, reference: Any) -> None:
    assert len(reference.encode("cafÃ©")) == 1  # ftfy did repair the mojibake (café)
    _assert_same(ours, reference, TRICKY)


@pytest.mark.skipif(not VOCAB_DIR.is_dir(), reason=f"shared vocabularies missing: {VOCAB_DIR}")
def test_shared_vocabularies_in_templates_match_open_clip(
    ours: ClipTokenizer, reference: Any
) -> None:
    from frozenseg_reference.presets import VILD_TEMPLATES

    names: set[str] = set()
    for path in sorted(VOCAB_DIR.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                names.update(split_synonyms(line.partition(":")[2]))
    names -= {"", "invalid_class_id"}
    assert len(names) > 1000
    texts = [t.format(n) for n in sorted(names) for t in VILD_TEMPLATES]
    _assert_same(ours, reference, texts, reference_call=False)


def test_word_split_matches_regex_for_every_assigned_code_point(reference: Any) -> None:
    """Each code point this Python's Unicode database assigns, in letter/digit/punctuation and
    contraction contexts, splits exactly as open_clip's own compiled `regex` pattern splits it."""
    import unicodedata

    chars = [
        chr(cp) for cp in range(0x110000) if unicodedata.category(chr(cp)) not in ("Cn", "Cs", "Co")
    ]
    text = "".join(f"a{c}b1{c}2!{c}?'{c} {c}{c}'" for c in chars)
    text += " 'ſ 'S 'ſtill <ſtart_of_text> <START_OF_TEXT> !<end_of_text> x<end_of_text>y"
    expected = reference.pat.findall(text)
    got = tokenizer_module._split_words(text)
    assert len(got) == len(expected)
    assert got == expected


def test_fallback_without_ftfy_matches_on_ordinary_text(
    ours: ClipTokenizer, reference: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tokenizer_module, "_ftfy_fix", None)
    _assert_same(ours, reference, FALLBACK_SAFE)
    assert ours.encode("cafÃ©") != reference.encode("cafÃ©")  # the documented limitation


def test_special_tokens_dtype_and_shapes(ours: ClipTokenizer) -> None:
    assert (ours.sot_token, ours.eot_token) == (49406, 49407)
    ids = ours(["a photo of a cat."])
    assert ids.dtype == np.int64 and ids.shape == (1, 77)
    assert ids[0, :8].tolist() == [49406, 320, 1125, 539, 320, 2368, 269, 49407]
    assert not ids[0, 8:].any()
    np.testing.assert_array_equal(ours("a photo of a cat."), ids)  # one string is one text
    assert ours([]).shape == (0, 77)
    assert ClipTokenizer(context_length=16)(["cat"]).shape == (1, 16)


def test_too_long_text_raises(ours: ClipTokenizer, reference: Any) -> None:
    fits = "a " * 75  # 75 tokens + start + end = 77
    np.testing.assert_array_equal(ours([fits]), reference([fits]).numpy())
    too_long = "a " * 76
    with pytest.raises(VocabularyError, match=r"has 78 tokens.*context length 77") as info:
        ours(["cat", too_long])
    assert repr(too_long) in str(info.value)
    with pytest.raises(VocabularyError, match="context length 5"):
        ClipTokenizer(context_length=5)(["a photo of a cat"])


def test_non_string_text_is_rejected(ours: ClipTokenizer) -> None:
    with pytest.raises(VocabularyError, match="expected a text string"):
        ours(["cat", 3])  # type: ignore[list-item]


def test_concurrent_calls_agree(ours: ClipTokenizer) -> None:
    texts = [f"a photo of a {w} number {i}." for i in range(200) for w in ("cat", "dög", "東京")]
    expected = ClipTokenizer()(texts)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda k: ours(texts[k:] + texts[:k]), range(16)))
    for k, got in enumerate(results):
        np.testing.assert_array_equal(got, np.roll(expected, -k, axis=0))


def test_sha256_of_bpe() -> None:
    digest = hashlib.sha256(DEFAULT_BPE_PATH.read_bytes()).hexdigest()
    assert sha256_of_bpe() == digest == sha256_of_bpe(str(DEFAULT_BPE_PATH))
    assert digest == "924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a"


def test_tokenizer_imports_without_regex_or_torch() -> None:
    code = textwrap.dedent("""
        import sys
        BLOCKED = ("regex", "torch")
        class _Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ImportError(f"{name} is blocked in this test")
        sys.meta_path.insert(0, _Block())
        from frozenseg_runtime.text.tokenizer import ClipTokenizer
        ids = ClipTokenizer()(["a photo of a cat."])
        assert ids[0, :8].tolist() == [49406, 320, 1125, 539, 320, 2368, 269, 49407], ids
        bad = [m for m in sys.modules if m.split(".")[0] in BLOCKED]
        assert not bad, bad
        print("ok")
        """)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ)
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
