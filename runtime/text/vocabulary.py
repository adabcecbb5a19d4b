"""Class vocabularies: parsing, seen/unseen flags and the padded synonym layout.

FrozenSeg classifies masks against text embeddings of class names; each class may have several
synonyms (the logit of a class is the max over its synonyms). Users give vocabularies in several
forms (the official `ID:name,synonym` files, JSON, a comma-separated string, Python lists); this
module turns all of them into one `Vocabulary`, with the official name splitting.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence, Union

import numpy as np

from frozenseg_runtime.errors import VocabularyError

__all__ = [
    "vocabulary_from_record",
    "Vocabulary",
    "parse_vocabulary",
    "split_synonyms",
    "seen_flags",
    "padded_synonym_index",
]

VocabularySource = Union[str, "os.PathLike[str]", Sequence[Any], "Vocabulary"]

_INVALID = "invalid_class_id"


@dataclass(frozen=True)
class Vocabulary:
    """Classes in model order: synonyms per class (first = display name) and thing/stuff flags."""

    names: tuple[tuple[str, ...], ...]
    isthing: tuple[bool, ...]

    @property
    def num_classes(self) -> int:
        """Number of classes (void excluded)."""
        return len(self.names)

    @property
    def max_synonyms(self) -> int:
        """Largest number of synonyms of any class: the padded synonym axis length."""
        return max((len(n) for n in self.names), default=0)

    @property
    def display_names(self) -> tuple[str, ...]:
        """The first synonym of each class, used in outputs."""
        return tuple(n[0] for n in self.names)


def split_synonyms(text: str) -> tuple[str, ...]:
    """Split one class entry into synonyms exactly like the official `split_labels`, then strip."""
    return tuple(s.strip() for s in text.replace(", ", ",").split(","))


def _clean_synonyms(raw: Iterable[Any], where: str) -> tuple[str, ...]:
    """Strip explicit synonyms and reject empty or non-string ones."""
    raw = list(raw)
    out = []
    for s in raw:
        if not isinstance(s, str):
            raise VocabularyError(
                f"{where}: expected class names as strings, received {type(s).__name__} {s!r}"
            )
        out.append(s.strip())
    if not out or any(not s for s in out):
        raise VocabularyError(
            f"{where}: expected non-empty class names, received {raw!r}; remove empty "
            f"names and doubled or trailing commas"
        )
    return tuple(out)


def _check_duplicates(names: Sequence[tuple[str, ...]], allow: bool) -> None:
    """Reject two classes with the same display name unless `allow`."""
    if allow:
        return
    first_seen: dict[str, int] = {}
    for i, syn in enumerate(names):
        j = first_seen.setdefault(syn[0], i)
        if j != i:
            raise VocabularyError(
                f"expected distinct class names, received {syn[0]!r} as class {j} and class {i}; "
                f"remove or rename one (vocabularies that reuse a display name with other "
                f"synonyms, such as ADE20K-847, need allow_duplicate_names=True)"
            )


def _build(
    names: list[tuple[str, ...]], isthing: list[bool], source: str, allow_dup: bool
) -> Vocabulary:
    """Final checks shared by every input form."""
    if not names:
        raise VocabularyError(
            f"expected at least one class, received an empty vocabulary from {source}"
        )
    _check_duplicates(names, allow_dup)
    return Vocabulary(names=tuple(names), isthing=tuple(bool(t) for t in isthing))


def _parse_txt_line(line: str, lineno: int, path: Path) -> tuple[str, ...] | None:
    """One `ID:name,synonym,...` line -> synonyms, or None for placeholders and blank lines."""
    if not line.strip():
        return None
    idx, sep, rest = line.partition(":")
    if not sep or not idx.strip().lstrip("-").isdigit():
        raise VocabularyError(
            f"{path}:{lineno}: expected a line 'ID:name,synonym,...' with an integer ID, "
            f"received {line!r}"
        )
    if rest.strip() == _INVALID:
        return None
    where = f"{path}:{lineno}"
    return _clean_synonyms(split_synonyms(rest), where)


def _parse_txt(path: Path, allow_dup: bool) -> Vocabulary:
    """The official `*_with_prompt_eng.txt` format; thing/stuff is unknown there (all things)."""
    names = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        syn = _parse_txt_line(line, lineno, path)
        if syn is not None:
            names.append(syn)
    return _build(names, [True] * len(names), str(path), allow_dup)


def _parse_isthing(value: Any, where: str) -> bool:
    """Accept true/false or 0/1 (categories.json uses 0/1)."""
    if isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)):
        return bool(value)
    raise VocabularyError(f"{where}: expected 'isthing' true/false or 0/1, received {value!r}")


def _parse_entry(entry: Any, where: str) -> tuple[tuple[str, ...], bool]:
    """One `{"names": [...] | "a,b", "isthing": ...}` object; isthing defaults to True."""
    if not isinstance(entry, Mapping) or "names" not in entry:
        raise VocabularyError(
            f'{where}: expected an object like {{"names": ["cat", "kitty"], "isthing": '
            f"true}}, received {entry!r}"
        )
    raw = entry["names"]
    if isinstance(raw, str):
        syn = _clean_synonyms(split_synonyms(raw), where)
    elif isinstance(raw, (list, tuple)):
        syn = _clean_synonyms(raw, where)
    else:
        raise VocabularyError(f"{where}: expected 'names' as a list of strings, received {raw!r}")
    return syn, _parse_isthing(entry.get("isthing", True), where)


def _parse_entries(entries: Any, source: str, allow_dup: bool) -> Vocabulary:
    """A list of JSON-like class objects."""
    if not isinstance(entries, list):
        raise VocabularyError(
            f"{source}: expected a list of class objects, received {type(entries).__name__}"
        )
    parsed = [_parse_entry(e, f"{source}, entry {i}") for i, e in enumerate(entries)]
    return _build([p[0] for p in parsed], [p[1] for p in parsed], source, allow_dup)


def _parse_json(path: Path, key: str | None, allow_dup: bool) -> Vocabulary:
    """A JSON list of class objects, or a dict of such lists from which `key` picks one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise VocabularyError(f"{path}: expected valid JSON, parsing failed: {exc}") from exc
    if isinstance(data, dict):
        if key is None or key not in data:
            raise VocabularyError(
                f"{path} holds several vocabularies {sorted(data)}; received key={key!r}; "
                f"pick one, e.g. parse_vocabulary(path, key={next(iter(data), 'name')!r})"
            )
        return _parse_entries(data[key], f"{path}[{key!r}]", allow_dup)
    if key is not None:
        raise VocabularyError(f"{path}: key={key!r} given but the file holds a list, not a dict")
    return _parse_entries(data, str(path), allow_dup)


def _looks_like_path(source: str) -> bool:
    """A string is a file path when such a file exists or it ends in .txt / .json."""
    return os.path.isfile(source) or source.lower().endswith((".txt", ".json"))


def _parse_path(path: Path, key: str | None, allow_dup: bool) -> Vocabulary:
    """Dispatch on the file suffix (.json, anything else: the official txt format)."""
    if not path.is_file():
        raise VocabularyError(
            f"expected a vocabulary file at {str(path)!r}, but no such file exists; check the "
            f"path, or pass class names as 'cat,dog,grass'"
        )
    if path.suffix.lower() == ".json":
        return _parse_json(path, key, allow_dup)
    if key is not None:
        raise VocabularyError(f"{path}: key={key!r} is only meaningful for .json files")
    return _parse_txt(path, allow_dup)


def _parse_string(text: str, allow_dup: bool) -> Vocabulary:
    """'cat,dog,grass': one class per comma-separated item (one name each)."""
    names = [(s,) for s in split_synonyms(text)]
    if all(not s[0] for s in names):
        return _build([], [], "an empty string", allow_dup)
    if any(not s[0] for s in names):
        raise VocabularyError(
            f"expected comma-separated class names like 'cat,dog,grass', received {text!r} with "
            f"an empty name; remove doubled or trailing commas"
        )
    return _build(names, [True] * len(names), "a string", allow_dup)


def _parse_list_item(item: Any, i: int) -> tuple[tuple[str, ...], bool]:
    """One list item: 'name,synonym' string, list of synonyms, or a class object."""
    where = f"class {i}"
    if isinstance(item, str):
        return _clean_synonyms(split_synonyms(item), where), True
    if isinstance(item, (list, tuple)):
        return _clean_synonyms(item, where), True
    if isinstance(item, Mapping):
        return _parse_entry(item, where)
    raise VocabularyError(
        f"{where}: expected a string, a list of synonyms or a class object, received "
        f"{type(item).__name__} {item!r}"
    )


def _parse_list(items: Sequence[Any], allow_dup: bool) -> Vocabulary:
    """A Python list (official metadata `stuff_classes` style, or lists of synonyms)."""
    parsed = [_parse_list_item(item, i) for i, item in enumerate(items)]
    return _build([p[0] for p in parsed], [p[1] for p in parsed], "a list", allow_dup)


def parse_vocabulary(
    source: VocabularySource, *, key: str | None = None, allow_duplicate_names: bool = False
) -> Vocabulary:
    """Turn any supported vocabulary form into a `Vocabulary`.

    Forms: a path to an official `ID:name,synonym,...` txt file or to a .json file (a list of
    `{"names": [...], "isthing": ...}`, or a dict of such lists selected by `key`); a string
    "cat,dog,grass" (one class per item); a list of strings (each split into synonyms like the
    official metadata) or of lists of synonyms. Raises VocabularyError on bad input.
    """
    if isinstance(source, Vocabulary):
        return source
    if isinstance(source, os.PathLike):
        return _parse_path(Path(source), key, allow_duplicate_names)
    if isinstance(source, str):
        if _looks_like_path(source):
            return _parse_path(Path(source), key, allow_duplicate_names)
        if key is not None:
            raise VocabularyError(f"key={key!r} is only meaningful for .json files")
        return _parse_string(source, allow_duplicate_names)
    if isinstance(source, (list, tuple)):
        return _parse_list(source, allow_duplicate_names)
    raise VocabularyError(
        f"expected a file path, a comma-separated string or a list of class names, received "
        f"{type(source).__name__}"
    )


def seen_flags(vocab: Vocabulary, train_vocab: Vocabulary) -> list[bool]:
    """Per class: True when any synonym is a synonym of a training class (official rule)."""
    train = {s for syn in train_vocab.names for s in syn}
    return [not train.isdisjoint(syn) for syn in vocab.names]


def padded_synonym_index(vocab: Vocabulary) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Flat synonym list, (C, S) int64 index into it (-1 = padding) and (C, S) validity mask.

    Per-synonym text embeddings E (N, D) become the padded (C, S, D) tensor the exported model
    takes as `E[max(index, 0)] * mask[..., None]`.
    """
    flat: list[str] = []
    c, s = vocab.num_classes, vocab.max_synonyms
    index = np.full((c, s), -1, dtype=np.int64)
    for i, syn in enumerate(vocab.names):
        index[i, : len(syn)] = np.arange(len(flat), len(flat) + len(syn))
        flat.extend(syn)
    return flat, index, index >= 0


def vocabulary_from_record(record: Mapping[str, Any]) -> Vocabulary:
    """A vocabulary as the manifest records one ({"names": [[...]], "isthing": [...]}), e.g. its
    `constants.train_vocabulary`; written by the exporter, so taken as it is."""
    return Vocabulary(tuple(tuple(n) for n in record["names"]),
                      tuple(bool(t) for t in record["isthing"]))
