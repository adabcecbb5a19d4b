"""Class vocabularies: parsing, seen/unseen flags and the padded synonym layout.

FrozenSeg classifies masks against text embeddings of class names; each class may have several
synonyms (the logit of a class is the max over its synonyms). Users give vocabularies in several
forms (the official `ID:name,synonym` files, JSON, a comma-separated string, Python lists); this
module turns all of them into one `Vocabulary`, with the official name splitting.
"""

from __future__ import annotations

import json
import numbers
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence, Union

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

VocabularySource = Union[str, "os.PathLike[str]", Sequence[Any], Mapping[str, Any], "Vocabulary"]

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
    for s in out:
        _check_printable(s, where)
    return tuple(out)


def _check_printable(name: str, where: str) -> None:
    """Refuse control characters (line breaks, tabs, NUL): CLIP's tokenizer would fold them into
    spaces, so 'cat\ndog' silently became one class 'cat dog' instead of two. Refuse names of
    invisible characters only (zero-width spaces), which would embed an empty prompt."""
    bad = next((c for c in name if unicodedata.category(c) == "Cc"), None)
    if bad is not None:
        raise VocabularyError(
            f"{where}: expected class names without control characters, received {name!r} "
            f"containing {bad!r}; separate classes with commas (not line breaks or tabs), or "
            f"pass the path of a vocabulary file"
        )
    if all(unicodedata.category(c) in _INVISIBLE for c in name):
        raise VocabularyError(
            f"{where}: expected a class name with visible characters, received {name!r}; "
            f"remove the invisible (zero-width or format) characters"
        )


_INVISIBLE = frozenset({"Cf", "Zs", "Zl", "Zp", "Cc"})


def _text_key(name: str) -> str:
    """A name as CLIP's tokenizer sees it (lower case, whitespace runs collapsed): two names with
    the same key get the same text embedding, so the classes could never be told apart."""
    return " ".join(name.lower().split())


def _check_duplicates(names: Sequence[tuple[str, ...]], allow: bool) -> None:
    """Reject two classes with the same display name (up to case and spaces) unless `allow`.

    Synonyms shared by two classes stay allowed: the official PASCAL-Context-459 list has some."""
    if allow:
        return
    first_seen: dict[str, int] = {}
    for i, syn in enumerate(names):
        j = first_seen.setdefault(_text_key(syn[0]), i)
        if j != i:
            same = names[j][0] == syn[0]
            shown = repr(syn[0]) if same else f"{names[j][0]!r} and {syn[0]!r}"
            why = "" if same else " (the text encoder ignores case and repeated spaces)"
            raise VocabularyError(
                f"expected distinct class names, received {shown} as class {j} and class {i}"
                f"{why}; remove or rename one (vocabularies that reuse a display name with other "
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


def _read_text(path: Path) -> str:
    """A vocabulary file's text: UTF-8, with the byte-order mark Windows editors add dropped."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise VocabularyError(
            f"{path}: expected a UTF-8 text file, but byte {exc.start} is not UTF-8 ({exc.reason});"
            f" re-save the file as UTF-8 (or check that it is a vocabulary, not an image or "
            f"archive)"
        ) from exc
    except OSError as exc:
        raise VocabularyError(
            f"{path}: expected a readable vocabulary file, reading failed: {exc}"
        ) from exc


def _parse_txt(path: Path, allow_dup: bool) -> Vocabulary:
    """The official `*_with_prompt_eng.txt` format; thing/stuff is unknown there (all things)."""
    names = []
    for lineno, line in enumerate(_read_text(path).splitlines(), start=1):
        syn = _parse_txt_line(line, lineno, path)
        if syn is not None:
            names.append(syn)
    return _build(names, [True] * len(names), str(path), allow_dup)


def _parse_isthing(value: Any, where: str) -> bool:
    """Accept booleans or the integers 0/1 (categories.json uses 0/1); refuse strings such as
    "yes" or "false" and other numbers, whose meaning would be a guess."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral) and value in (0, 1):
        return bool(value)
    raise VocabularyError(
        f"{where}: expected 'isthing' true/false or 0/1, received {type(value).__name__} "
        f"{value!r}; write a JSON boolean: \"isthing\": true"
    )


_ENTRY_KEYS = ("names", "isthing")


def _check_entry_keys(entry: Mapping[Any, Any], where: str) -> None:
    """Catch misspelt keys ('isThing', 'is_thing', 'name'): extra keys such as 'id' or 'color'
    are fine, but a misspelt 'isthing' would silently make a stuff class a thing."""
    for k in entry:
        folded = str(k).lower().replace("_", "").replace("-", "").replace(" ", "")
        target = "names" if folded == "name" else folded
        if target in _ENTRY_KEYS and k != target and target not in entry:
            raise VocabularyError(
                f"{where}: expected the key {target!r}, received {k!r} in {dict(entry)!r}; "
                f"rename it to {target!r}"
            )


def _parse_entry(entry: Any, where: str) -> tuple[tuple[str, ...], bool]:
    """One `{"names": [...] | "a,b", "isthing": ...}` object; isthing defaults to True."""
    if isinstance(entry, Mapping):
        _check_entry_keys(entry, where)
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


def _pick_vocabulary(data: Mapping[Any, Any], key: Any, source: str) -> Any:
    """From a dict of vocabularies (categories.json), the one `key` names."""
    if "names" in data:
        raise VocabularyError(
            f"{source}: expected a list of class objects, received a single object {dict(data)!r};"
            f" wrap it in a list: [{{\"names\": [...]}}]"
        )
    if not data:
        raise VocabularyError(f"{source}: expected vocabularies, received an empty object {{}}")
    if key is None or key not in data:
        raise VocabularyError(
            f"{source} holds several vocabularies: expected key= naming one of "
            f"{sorted(map(str, data))}, received key={key!r}; pick one, e.g. "
            f"parse_vocabulary(..., key={next(iter(data))!r})"
        )
    return data[key]


def _parse_json_data(data: Any, key: Any, source: str, allow_dup: bool) -> Vocabulary:
    """Decoded JSON: a list of class objects, or a dict of such lists from which `key` picks one."""
    if isinstance(data, Mapping):
        return _parse_entries(_pick_vocabulary(data, key, source), f"{source}[{key!r}]", allow_dup)
    if key is not None:
        raise VocabularyError(
            f"{source}: expected a dict of vocabularies for key={key!r}, received a list (one "
            f"vocabulary); drop key"
        )
    return _parse_entries(data, source, allow_dup)


def _decode_json(text: str, source: str) -> Any:
    """json.loads with every failure (syntax, absurd nesting) as a VocabularyError."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise VocabularyError(f"{source}: expected valid JSON, parsing failed: {exc}") from exc
    except RecursionError as exc:
        raise VocabularyError(
            f"{source}: expected a JSON list of class objects, received JSON nested too deeply "
            f"to parse"
        ) from exc


def _parse_json(path: Path, key: Any, allow_dup: bool) -> Vocabulary:
    """A .json vocabulary file."""
    return _parse_json_data(_decode_json(_read_text(path), str(path)), key, str(path), allow_dup)


def _looks_like_path(source: str) -> bool:
    """A string is a path when such a file exists, it ends in .txt / .json or a path
    separator, or it starts like one ('/', './', '../', '~'): never a class name."""
    if os.path.isfile(source):
        return True  # an existing folder named like a class ('person') stays a class name
    seps = tuple({"/", os.sep})
    return source.lower().endswith((".txt", ".json") + seps) or source.startswith(
        seps + ("./", "../", "~")
    )


def _is_kind(path: Path, test: Callable[[Path], bool]) -> bool:
    """Path.is_file / is_dir, but a name the OS refuses (too long, ...) is neither."""
    try:
        return test(path)
    except (OSError, ValueError):
        return False


def _parse_path(path: Path, key: Any, allow_dup: bool) -> Vocabulary:
    """Dispatch on the file suffix (.json, anything else: the official txt format)."""
    path = path.expanduser()
    if _is_kind(path, Path.is_dir):
        raise VocabularyError(
            f"expected a vocabulary file, received the folder {str(path)!r}; pass one of its "
            f".txt or .json files"
        )
    if not _is_kind(path, Path.is_file):
        raise VocabularyError(
            f"expected a vocabulary file at {str(path)!r}, but no such file exists; check the "
            f"path, or pass class names as 'cat,dog,grass'"
        )
    if path.suffix.lower() == ".json":
        return _parse_json(path, key, allow_dup)
    if key is not None:
        raise VocabularyError(_key_misused(key, f"the txt file {path}"))
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
    for i, (name,) in enumerate(names):
        _check_printable(name, f"class {i}")
    return _build(names, [True] * len(names), "a string", allow_dup)


def _looks_like_json(text: str) -> bool:
    """JSON text ('[{"names": ...}]'): a class list never starts with a bracket or brace."""
    return text.lstrip().startswith(("[", "{"))


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


def _parse_str_source(text: str, key: Any, allow_dup: bool) -> Vocabulary:
    """A string: a file path, JSON text, or comma-separated class names."""
    if _looks_like_json(text) and not os.path.isfile(text):
        return _parse_json_data(_decode_json(text, "JSON text"), key, "JSON text", allow_dup)
    if _looks_like_path(text):
        return _parse_path(Path(text), key, allow_dup)
    if key is not None:
        raise VocabularyError(_key_misused(key, "comma-separated class names"))
    return _parse_string(text, allow_dup)


def _key_misused(key: str, what: str) -> str:
    """The message for `key` given with a vocabulary that holds only one."""
    return (f"expected key only with a JSON dict of vocabularies (a .json file, JSON text or a "
            f"dict), received key={key!r} with {what}; drop key")


def _unsupported_hint(source: Any) -> str:
    """How to turn a common wrong type into a supported one."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "; decode bytes first, e.g. data.decode('utf-8')"
    if isinstance(source, np.ndarray):
        return "; pass array.tolist()"
    if isinstance(source, (set, frozenset)):
        return "; pass a list, since the class order matters (sorted(...) for a set)"
    if isinstance(source, Iterable):
        return "; pass list(...)"
    return ""


def parse_vocabulary(
    source: VocabularySource, *, key: str | None = None, allow_duplicate_names: bool = False
) -> Vocabulary:
    """Turn any supported vocabulary form into a `Vocabulary`.

    Forms: a path to an official `ID:name,synonym,...` txt file or to a .json file (a list of
    `{"names": [...], "isthing": ...}`, or a dict of such lists selected by `key`); the same JSON
    as text or as a Python dict; a string "cat,dog,grass" (one class per item); a list of strings
    (each split into synonyms like the official metadata), of lists of synonyms or of class
    objects. Raises VocabularyError on bad input.
    """
    if isinstance(source, Vocabulary):
        return source
    if key is not None and not isinstance(key, str):
        raise VocabularyError(f"expected key as a string, received {type(key).__name__} {key!r}")
    if isinstance(source, os.PathLike):
        return _parse_path(Path(source), key, allow_duplicate_names)
    if isinstance(source, str):
        return _parse_str_source(source, key, allow_duplicate_names)
    if isinstance(source, Mapping):
        return _parse_json_data(source, key, "the dict", allow_duplicate_names)
    if key is not None:
        raise VocabularyError(_key_misused(key, f"a {type(source).__name__}"))
    if isinstance(source, (list, tuple)):
        return _parse_list(source, allow_duplicate_names)
    raise VocabularyError(
        f"expected a file path, a comma-separated string or a list of class names, received "
        f"{type(source).__name__}{_unsupported_hint(source)}"
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
    `constants.train_vocabulary`. Written by the exporter, but a hand-edited manifest must not
    yield nameless classes or read "yes" as a boolean, so it gets the user-input checks."""
    where = "the manifest's train_vocabulary"
    record = record if isinstance(record, Mapping) else {}
    names, isthing = record.get("names"), record.get("isthing")
    if not isinstance(names, list) or not isinstance(isthing, list) or len(names) != len(isthing):
        raise VocabularyError(
            f"{where}: expected 'names' (a list of synonym lists) and 'isthing' (a list of "
            f"booleans) of equal length, received {_describe(names)} and {_describe(isthing)}; "
            f"re-export the model to rewrite the manifest"
        )
    syns = [_record_synonyms(n, f"{where}, class {i}") for i, n in enumerate(names)]
    flags = [_parse_isthing(t, f"{where}, class {i}") for i, t in enumerate(isthing)]
    return _build(syns, flags, where, allow_dup=True)


def _describe(value: Any) -> str:
    """'list of 3' or the type name, for messages about a record's fields."""
    return f"a list of {len(value)}" if isinstance(value, list) else type(value).__name__


def _record_synonyms(raw: Any, where: str) -> tuple[str, ...]:
    """One recorded class: a list of synonyms (never a 'a,b' string, which the exporter does not
    write)."""
    if not isinstance(raw, (list, tuple)):
        raise VocabularyError(f"{where}: expected a list of synonyms, received {raw!r}")
    return _clean_synonyms(raw, where)
