"""CLIP's byte-pair-encoding text tokenizer, without torch and without the `regex` package.

The exported text graph takes token ids, so the runtime must produce exactly the ids that
`open_clip.get_tokenizer("convnext_large_d_320")` (open_clip's `SimpleTokenizer`: context length
77, "lower" cleaning) produced when the graph was verified. This module re-implements it with the
standard library and numpy only:

- Cleaning is open_clip's: `ftfy.fix_text`, `html.unescape` twice, whitespace collapsing, lower
  case. `ftfy` is used when it is importable (then results are exact). Without it a small fallback
  does what ftfy's default fixes do to ordinary text (NFC normalisation, straight quotes); results
  can then differ only for text ftfy would repair in other ways: mojibake such as 'cafÃ©',
  fullwidth forms, Latin ligatures, terminal escapes and control characters.
- open_clip splits words with the `regex` pattern
  `<start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+`
  (IGNORECASE). Here the same alternation runs on `re` with explicit character classes built
  from `unicodedata`, including two quirks of `regex` under IGNORECASE: a literal `s` also matches
  U+017F (long s), and a non-letter whose case partner is a letter (U+0345) matches no branch, so
  it is dropped. `regex`'s `\\s` is the Unicode White_Space property (U+001C..U+001F are not in
  it, unlike `str.isspace`). Code points unassigned in this Python's Unicode database but letters
  or digits in the newer tables of `regex` are treated as punctuation: a difference only for
  scripts added in recent Unicode versions.
- Unlike open_clip, a text too long for the context is an error, not silently truncated.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import html
import os
import re
import unicodedata
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence

import numpy as np

from frozenseg_runtime.errors import ManifestError, TokenizerMismatchError, VocabularyError

try:  # optional: exact cleaning of damaged text, as open_clip does
    import ftfy as _ftfy_module

    _ftfy_fix: Optional[Callable[[str], str]] = _ftfy_module.fix_text
except ImportError:  # pragma: no cover - depends on the environment
    _ftfy_fix = None

__all__ = ["ClipTokenizer", "DEFAULT_BPE_PATH", "sha256_of_bpe", "tokenizer_for", "drop_padding"]

DEFAULT_BPE_PATH = Path(__file__).resolve().parents[1] / "data" / "bpe_simple_vocab_16e6.txt.gz"

_SPECIAL_TOKENS = ("<start_of_text>", "<end_of_text>")
_CONTRACTIONS = ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d")
# Unicode White_Space: what `\s` of the `regex` package matches.
_WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
_WHITE_SPACE += "\u2028\u2029\u202f\u205f\u3000"
# Characters outside ASCII that `regex` IGNORECASE treats as equal to an ASCII letter.
_CASE_EXTRAS = {"s": "\u017f", "k": "\u212a"}
_BPE_CACHE_SIZE = 1 << 16


def sha256_of_bpe(path: str | os.PathLike | None = None) -> str:
    """SHA-256 of the merges file's bytes, so a manifest can record which tokenizer it used."""
    return hashlib.sha256(Path(path or DEFAULT_BPE_PATH).read_bytes()).hexdigest()


@functools.lru_cache(maxsize=None)
def _bytes_to_unicode() -> dict[int, str]:
    """open_clip's reversible map of the 256 bytes to printable characters."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    bs += list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def _fallback_fix(text: str) -> str:
    """What `ftfy.fix_text` does to ordinary (not mojibake) text: straight quotes, then NFC."""
    text = re.sub("[\u02bc\u2018-\u201b]", "'", re.sub("[\u201c-\u201f]", '"', text))
    return unicodedata.normalize("NFC", text)


def _clean(text: str) -> str:
    """open_clip's "lower" cleaning: basic_clean, whitespace_clean, lower()."""
    fix = _ftfy_fix
    text = fix(text) if fix is not None else _fallback_fix(text)
    text = html.unescape(html.unescape(text)).strip()
    return " ".join(text.split()).strip().lower()


def _literal(text: str) -> str:
    """`re` source matching `text` the way `regex` IGNORECASE does (ASCII letters only)."""
    out = []
    for ch in text:
        if "a" <= ch.lower() <= "z":
            low = ch.lower()
            out.append("[" + low + low.upper() + _CASE_EXTRAS.get(low, "") + "]")
        else:
            out.append(re.escape(ch))
    return "".join(out)


def _class(ranges: list[tuple[int, int]]) -> str:
    """`re` character-class body for inclusive code point ranges."""
    return "".join(f"\\U{a:08x}" if a == b else f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges)


@functools.lru_cache(maxsize=None)
def _word_pattern() -> re.Pattern[str]:
    """Compile the `re` equivalent of open_clip's word pattern (about 0.2 s, once per process)."""
    cats = np.frombuffer(
        "".join(map(unicodedata.category, map(chr, range(0x110000)))).encode("ascii"), np.uint8
    ).reshape(-1, 2)
    major, minor = cats[:, 0], cats[:, 1]
    # 0: other (punctuation, symbols, ...), 1: letter, 2: number, 3: matched by no branch.
    kinds = np.where(major == ord("L"), 1, np.where(major == ord("N"), 2, 0)).astype(np.uint8)
    kinds[[ord(ch) for ch in _WHITE_SPACE]] = 3
    unassigned = (major == ord("C")) & np.isin(minor, np.frombuffer(b"nos", np.uint8))
    for cp in np.flatnonzero((kinds == 0) & ~unassigned).tolist():
        # Under IGNORECASE `regex` drops a non-letter whose case partner is a letter or number
        # from the negated class `[^\s\p{L}\p{N}]` too, so no branch matches it (U+0345).
        ch = chr(cp)
        for other in (ch.lower(), ch.upper()):
            if len(other) == 1 and other != ch and kinds[ord(other)] in (1, 2):
                kinds[cp] = 3
    starts = np.concatenate([[0], np.flatnonzero(np.diff(kinds)) + 1]).tolist()
    ends = starts[1:] + [0x110000]
    ranges: dict[int, list[tuple[int, int]]] = {0: [], 1: [], 2: [], 3: []}
    for a, b in zip(starts, ends):
        ranges[int(kinds[a])].append((a, b - 1))
    branches = [_literal(t) for t in _SPECIAL_TOKENS + _CONTRACTIONS]
    branches += [f"[{_class(ranges[1])}]+", f"[{_class(ranges[2])}]", f"[{_class(ranges[0])}]+"]
    return re.compile("|".join(branches))


def _split_words(cleaned: str) -> list[str]:
    """The words open_clip's `regex.findall` yields for already-cleaned text."""
    return _word_pattern().findall(cleaned)


class ClipTokenizer:
    """Token ids of open_clip's `SimpleTokenizer` ("lower" cleaning), without torch.

    Thread-safe: the only mutable state is the LRU cache of per-word ids (locked by functools),
    and its entries are pure functions of the word.
    """

    def __init__(self, bpe_path: str | os.PathLike | None = None, context_length: int = 77) -> None:
        if not isinstance(context_length, int) or context_length < 2:
            raise ValueError(f"context_length must be an int >= 2, received {context_length!r}")
        self.bpe_path = Path(bpe_path or DEFAULT_BPE_PATH)
        self.context_length = context_length
        self._byte_encoder = _bytes_to_unicode()
        with gzip.open(self.bpe_path) as f:
            lines = f.read().decode("utf-8").split("\n")
        merges = [tuple(m.split()) for m in lines[1 : 49152 - 256 - 2 + 1]]
        vocab = list(self._byte_encoder.values())
        vocab += [v + "</w>" for v in vocab]
        vocab += ["".join(m) for m in merges]
        vocab += list(_SPECIAL_TOKENS)
        self._encoder = {tok: i for i, tok in enumerate(vocab)}
        self._ranks = {m: i for i, m in enumerate(merges)}
        self._special = {t: self._encoder[t] for t in _SPECIAL_TOKENS}
        self._pattern = _word_pattern()
        # Per instance, so that the cache dies with the tokenizer; lru_cache is thread-safe.
        self._word_ids = functools.lru_cache(maxsize=_BPE_CACHE_SIZE)(self._word_ids_uncached)

    @property
    def sot_token(self) -> int:
        """Id of `<start_of_text>` (49406 with the default merges)."""
        return self._special[_SPECIAL_TOKENS[0]]

    @property
    def eot_token(self) -> int:
        """Id of `<end_of_text>` (49407 with the default merges)."""
        return self._special[_SPECIAL_TOKENS[1]]

    def _bpe(self, token: str) -> list[str]:
        """open_clip's merge loop: repeatedly join the adjacent pair of lowest merge rank."""
        word = tuple(token[:-1]) + (token[-1] + "</w>",)
        ranks = self._ranks
        while len(word) > 1:
            pairs = set(zip(word[:-1], word[1:]))
            bigram = min(pairs, key=lambda p: ranks.get(p, float("inf")))
            if bigram not in ranks:
                break
            first, second = bigram
            merged: list[str] = []
            i = 0
            while i < len(word):
                if i < len(word) - 1 and word[i] == first and word[i + 1] == second:
                    merged.append(first + second)
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = tuple(merged)
        return list(word)

    def _word_ids_uncached(self, word: str) -> tuple[int, ...]:
        """Ids of one pre-tokenized word (bytes mapped to characters, then BPE)."""
        token = "".join(self._byte_encoder[b] for b in word.encode("utf-8"))
        special = self._special.get(token)
        if special is not None:  # open_clip's cache maps the exact special strings to themselves
            return (special,)
        return tuple(self._encoder[t] for t in self._bpe(token))

    def encode(self, text: str) -> list[int]:
        """Token ids of one text, without start/end tokens."""
        if not isinstance(text, str):
            raise VocabularyError(f"expected a text string, received {type(text).__name__}")
        ids: list[int] = []
        for word in self._pattern.findall(_clean(text)):
            ids.extend(self._word_ids(word))
        return ids

    def __call__(self, texts: Sequence[str] | str) -> np.ndarray:
        """(N, context_length) int64 ids: start, text, end, zero padding; too long is an error."""
        if isinstance(texts, str):
            texts = [texts]
        out = np.zeros((len(texts), self.context_length), dtype=np.int64)
        for row, text in enumerate(texts):
            ids = [self.sot_token, *self.encode(text), self.eot_token]
            if len(ids) > self.context_length:
                raise VocabularyError(
                    f"text {text!r} has {len(ids)} tokens with start/end, more than the context "
                    f"length {self.context_length}; shorten it (open_clip would truncate it "
                    f"silently and change its meaning)"
                )
            out[row, : len(ids)] = ids
        return out


def tokenizer_for(text: Mapping[str, Any], bpe_path: str | os.PathLike | None = None) -> ClipTokenizer:
    """The tokenizer the manifest's text constants describe, checked: the bundled merges must be
    the file the export tokenised with (`bpe_sha256`) and give its special token ids, or every
    prompt would silently become other tokens."""
    path = Path(bpe_path or DEFAULT_BPE_PATH)
    want = text["bpe_sha256"]
    if sha256_of_bpe(path) != want:
        raise TokenizerMismatchError(
            f"the tokenizer's merges file {path} (sha256 {sha256_of_bpe(path)[:12]}...) is not the "
            f"one the artifacts were exported with ({text.get('bpe_file', 'BPE file')}, sha256 "
            f"{want[:12]}...): reinstall frozenseg-deploy or re-export the artifacts")
    context = text["context_length"]
    if not isinstance(context, int) or isinstance(context, bool) or context < 2:
        raise ManifestError(f"manifest.json's text context_length must be an int >= 2, got {context!r}")
    tokenizer = ClipTokenizer(path, context_length=context)
    ours = {"sot_token": tokenizer.sot_token, "eot_token": tokenizer.eot_token, "pad_token": 0}
    theirs = {k: text[k] for k in ours if k in text}
    if any(ours[k] != v for k, v in theirs.items()):
        raise TokenizerMismatchError(
            f"the manifest's special tokens {theirs} differ from the tokenizer's {ours}: the "
            f"artifacts were exported with another tokenizer; re-export them")
    return tokenizer


def drop_padding(tokens: np.ndarray) -> np.ndarray:
    """Cut trailing padding common to the batch: the text graph is causal and reads the
    end-of-text token (the highest id), so the result is the same and ~5x cheaper."""
    return np.ascontiguousarray(tokens[:, : int(tokens.argmax(-1).max()) + 1])
