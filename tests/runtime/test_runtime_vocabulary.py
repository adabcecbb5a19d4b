"""Vocabulary parsing, seen/unseen flags and the padded synonym layout."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from frozenseg_runtime.errors import FrozenSegError, VocabularyError
from frozenseg_runtime.text.vocabulary import (
    Vocabulary,
    padded_synonym_index,
    parse_vocabulary,
    seen_flags,
    vocabulary_from_record,
)

# The steering repo's shared/ folder sits beside this checkout (locally and in CI).
VOCAB_DIR = Path(__file__).resolve().parents[3] / "shared" / "vocabularies"
COCO_TXT = VOCAB_DIR / "coco_panoptic_with_prompt_eng.txt"
needs_shared = pytest.mark.skipif(not VOCAB_DIR.is_dir(), reason="shared vocabularies missing")


@needs_shared
@pytest.mark.parametrize(
    "name, num_classes",
    [
        ("coco_panoptic", 133),
        ("ade20k_150", 150),
        ("cityscapes", 19),  # its line 0 is a real class (road)
        ("coco_stuff", 171),
        ("lvis_1203", 1203),
        ("mapillary_vistas", 65),
        ("pascal_ctx_459", 459),
        ("pascal_ctx_59", 59),
        ("pascal_voc_21", 21),
    ],
)
def test_shared_txt_files(name: str, num_classes: int) -> None:
    vocab = parse_vocabulary(VOCAB_DIR / f"{name}_with_prompt_eng.txt")
    assert vocab.num_classes == num_classes and len(vocab.isthing) == num_classes
    assert all(vocab.isthing) and "invalid_class_id" not in vocab.display_names


@needs_shared
def test_coco_txt_content_and_str_path() -> None:
    vocab = parse_vocabulary(str(COCO_TXT))
    assert vocab.names[0][:3] == ("person", "child", "girl")
    assert vocab.display_names[1] == "bicycle" and vocab.max_synonyms == 17


@needs_shared
def test_official_split_of_comma_space() -> None:
    vocab = parse_vocabulary(VOCAB_DIR / "coco_stuff_with_prompt_eng.txt")
    assert ("wall-wood", "wood wall", "wall wood") in vocab.names


@needs_shared
def test_ade847_duplicate_display_names_need_opt_in() -> None:
    path = VOCAB_DIR / "ade20k_847_with_prompt_eng.txt"
    with pytest.raises(VocabularyError, match="allow_duplicate_names"):
        parse_vocabulary(path)
    assert parse_vocabulary(path, allow_duplicate_names=True).num_classes == 847


@needs_shared
def test_categories_json_with_key() -> None:
    path = VOCAB_DIR / "categories.json"
    coco = parse_vocabulary(path, key="coco_panoptic")
    assert coco.num_classes == 133 and sum(coco.isthing) == 80
    assert coco.names == parse_vocabulary(COCO_TXT).names
    ade = parse_vocabulary(str(path), key="ade20k_150")
    assert ade.num_classes == 150 and sum(ade.isthing) == 100
    with pytest.raises(VocabularyError, match="coco_panoptic"):
        parse_vocabulary(path)  # a dict of vocabularies needs a key


def test_json_list_form(tmp_path: Path) -> None:
    path = tmp_path / "v.json"
    entries = [
        {"names": ["cat", " kitty "], "isthing": True},
        {"names": ["grass"], "isthing": False, "id": 7, "color": [0, 255, 0]},
    ]
    path.write_text(json.dumps(entries))
    vocab = parse_vocabulary(path)
    assert vocab == Vocabulary(names=(("cat", "kitty"), ("grass",)), isthing=(True, False))


def test_string_form() -> None:
    vocab = parse_vocabulary("cat, dog,grass ")
    assert vocab.names == (("cat",), ("dog",), ("grass",)) and vocab.isthing == (True,) * 3
    assert parse_vocabulary("sky").names == (("sky",),)


def test_list_forms() -> None:
    vocab = parse_vocabulary(["person, child,girl", "sky"])
    assert vocab.names == (("person", "child", "girl"), ("sky",))
    assert parse_vocabulary([["cat", "kitty"], ("dog",)]).names == (("cat", "kitty"), ("dog",))
    assert parse_vocabulary([{"names": ["road"], "isthing": 0}]).isthing == (False,)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_txt_blank_lines_and_placeholders(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "v.txt", "0:invalid_class_id\n\n1:cat,kitty\n5:invalid_class_id\n2:dog\n"
    )
    assert parse_vocabulary(path).names == (("cat", "kitty"), ("dog",))


@pytest.mark.parametrize(
    "source",
    [
        "",
        [],
        "cat,,dog",
        "cat,dog,",
        ["cat", ""],
        [["cat", " "]],
        "cat,dog,cat",
        [["cat", "kitty"], ["cat", "feline"]],
        [1, 2],
        [{"isthing": True}],
        [{"names": ["cat"], "isthing": "yes"}],
        [{"names": [], "isthing": True}],
        [{"names": ["road"], "is_thing": False}],
        [{"names": 5}],
        "cat\ndog",
        "Cat,cat",
        {"names": ["cat"]},
        42,
        "/nonexistent/vocabulary.txt",
        "missing.json",
    ],
)
def test_errors(source: object) -> None:
    with pytest.raises(VocabularyError) as info:
        parse_vocabulary(source)  # type: ignore[arg-type]
    assert isinstance(info.value, FrozenSegError) and isinstance(info.value, ValueError)
    assert "expected" in str(info.value)


@pytest.mark.parametrize(
    "name, text",
    [
        ("noline.txt", "1:cat\ndog\n"),
        ("badid.txt", "x:cat\n"),
        ("empty.txt", "0:invalid_class_id\n\n"),
        ("emptyname.txt", "1:cat,\n"),
        ("bad.json", "{not json"),
        ("notlist.json", '{"a": {"names": ["cat"]}}'),
        ("entries.json", '[{"names": ["cat"]}, "dog"]'),
    ],
)
def test_file_errors(tmp_path: Path, name: str, text: str) -> None:
    path = _write(tmp_path, name, text)
    with pytest.raises(VocabularyError, match="expected"):
        parse_vocabulary(path, key="a" if name == "notlist.json" else None)


def test_key_only_for_json(tmp_path: Path) -> None:
    with pytest.raises(VocabularyError):
        parse_vocabulary("cat,dog", key="x")
    with pytest.raises(VocabularyError):
        parse_vocabulary(_write(tmp_path, "v.txt", "1:cat\n"), key="x")
    with pytest.raises(VocabularyError):
        parse_vocabulary(_write(tmp_path, "v.json", '[{"names": ["cat"]}]'), key="x")


@needs_shared
def test_seen_flags_against_coco() -> None:
    coco = parse_vocabulary(COCO_TXT)
    vocab = parse_vocabulary(["person", "xyzzy", "kitty,cats", "wall-wood"])
    assert seen_flags(vocab, coco) == [True, False, True, False]
    assert all(seen_flags(coco, coco))


def test_padded_synonym_index() -> None:
    vocab = parse_vocabulary([["cat", "kitty", "feline"], ["dog"], ["grass", "lawn"]])
    flat, index, mask = padded_synonym_index(vocab)
    assert flat == ["cat", "kitty", "feline", "dog", "grass", "lawn"]
    assert index.dtype == np.int64 and index.shape == (3, 3)
    assert index.tolist() == [[0, 1, 2], [3, -1, -1], [4, 5, -1]]
    assert mask.dtype == bool and mask.tolist() == (index >= 0).tolist()
    assert vocab.max_synonyms == 3 and vocab.num_classes == 3


@needs_shared
def test_padded_synonym_index_coco() -> None:
    vocab = parse_vocabulary(COCO_TXT)
    flat, index, mask = padded_synonym_index(vocab)
    assert index.shape == mask.shape == (133, vocab.max_synonyms)
    assert len(flat) == int(mask.sum()) == sum(len(n) for n in vocab.names)
    assert [flat[i] for i in index[:, 0]] == list(vocab.display_names)


def test_vocabulary_record_round_trip() -> None:
    """The manifest's record (as the exporter writes it) reads back unchanged, 0/1 flags too."""
    vocab = parse_vocabulary([{"names": ["cat", "kitty"], "isthing": True},
                              {"names": ["grass"], "isthing": False}])
    record = {"names": [list(n) for n in vocab.names], "isthing": list(vocab.isthing)}
    assert vocabulary_from_record(record) == vocab
    assert vocabulary_from_record({"names": [["a"]], "isthing": [0]}).isthing == (False,)


@needs_shared
def test_categories_json_as_text_and_dict() -> None:
    """The JSON forms agree: a file, its text, and the decoded dict."""
    path = VOCAB_DIR / "categories.json"
    text = path.read_text(encoding="utf-8")
    from_file = parse_vocabulary(path, key="ade20k_150")
    assert parse_vocabulary(text, key="ade20k_150") == from_file
    assert parse_vocabulary(json.loads(text), key="ade20k_150") == from_file
