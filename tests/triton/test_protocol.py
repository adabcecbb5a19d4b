"""The `frozenseg` model's wire format, both ends, without a server."""

from __future__ import annotations

import json

import numpy as np
import pytest

from frozenseg_runtime.errors import InputError, UsageError
from frozenseg_runtime.output.postprocess import SegmentationResult
from frozenseg_runtime.text.vocabulary import parse_vocabulary
from frozenseg_runtime.triton import protocol


def test_vocabulary_travels_intact():
    vocabulary = parse_vocabulary([{"names": ["crème brûlée", "dessert"], "isthing": True},
                                   {"names": ["sky"], "isthing": False}, "car,automobile"])
    tensor = protocol.vocabulary_tensor(vocabulary)
    assert tensor.dtype == object and tensor.shape == (3,)
    # As Triton hands BYTES to the Python backend: bytes elements.
    assert protocol.vocabulary_from_tensor(np.array(list(tensor), dtype=object)) == vocabulary
    assert json.loads(tensor[0].decode()) == {"names": ["crème brûlée", "dessert"], "isthing": True}


@pytest.mark.parametrize("elements, words", [
    ([], "non-empty"),
    ([b"[1, 2"], "vocabulary[0] is not JSON"),
    ([b'{"names": ["cat"]}', b"\xff\xfe"], "vocabulary[1] is not UTF-8"),
    ([b'{"names": []}'], "non-empty class names"),
    ([b'{"names": ["cat"], "isthing": "yes"}'], "isthing"),
])
def test_bad_vocabularies_are_refused_with_the_reason(elements, words):
    with pytest.raises(UsageError) as caught:  # VocabularyError, or UsageError for bad UTF-8
        protocol.vocabulary_from_tensor(np.array(elements, dtype=object))
    assert words in str(caught.value)


@pytest.mark.parametrize("height, width", [(7, 9), (16, 16), (1, 1)])
def test_results_travel_intact(height, width):
    """Instance masks are bit-packed, whatever H*W is modulo 8; the rest as they are."""
    rng = np.random.default_rng(height * width)
    names, things = ("cat", "sky", "car"), (True, False, True)
    results = [
        SegmentationResult("semantic", names, things, (height, width),
                           semantic_labels=rng.integers(0, 3, (height, width)).astype(np.int32),
                           timings={"decoder": 0.5}),
        SegmentationResult("panoptic", names, things, (height, width),
                           panoptic_seg=rng.integers(0, 4, (height, width)).astype(np.int32),
                           segments_info=[{"id": 1, "category_id": np.int64(2), "isthing": True,
                                           "score": np.float32(0.75)}]),
        SegmentationResult("instance", names, things, (height, width),
                           instance_masks=rng.random((5, height, width)) > 0.5,
                           instance_scores=rng.random(5).astype(np.float32),
                           instance_classes=rng.integers(0, 3, 5)),
        SegmentationResult("instance", names, things, (height, width),
                           instance_masks=np.zeros((0, height, width), bool),
                           instance_scores=np.zeros(0, np.float32), instance_classes=np.zeros(0, np.int64)),
    ]
    vocabulary = parse_vocabulary([{"names": [n], "isthing": t} for n, t in zip(names, things)])
    for sent in results:
        tensors = protocol.result_tensors(sent, {"served_by": "test"})
        assert set(tensors) == set(protocol.TASK_OUTPUTS[sent.task])
        for name, value in tensors.items():  # each as config.pbtxt declares it
            dtype, dims = protocol.OUTPUTS[name]
            assert len(dims) == value.ndim, name
            assert {"TYPE_STRING": np.object_, "TYPE_INT32": np.int32, "TYPE_UINT8": np.uint8,
                    "TYPE_FP32": np.float32, "TYPE_INT64": np.int64}[dtype] == value.dtype.type, name
        received, info = protocol.result_from_tensors(tensors, vocabulary)
        assert info["served_by"] == "test" and received.timings == sent.timings
        assert received.class_names == names and received.image_size == (height, width)
        if sent.task == "semantic":
            np.testing.assert_array_equal(received.semantic_labels, sent.semantic_labels)
        elif sent.task == "panoptic":
            np.testing.assert_array_equal(received.panoptic_seg, sent.panoptic_seg)
            assert received.segments_info == [{"id": 1, "category_id": 2, "isthing": True, "score": 0.75}]
        else:
            assert received.instance_masks.dtype == bool
            np.testing.assert_array_equal(received.instance_masks, sent.instance_masks)
            np.testing.assert_array_equal(received.instance_scores, sent.instance_scores)
            np.testing.assert_array_equal(received.instance_classes, sent.instance_classes)
    masks = protocol.result_tensors(results[2])[protocol.INSTANCE_MASKS]
    assert masks.shape == (5, -(-height * width // 8))  # 8 pixels a byte


def test_request_fields():
    assert protocol.resize_from_tensor(None) == "default"
    assert protocol.resize_from_tensor(np.array([0, 0], np.int32)) is None
    assert protocol.resize_from_tensor(protocol.resize_tensor((320, 352))) == (320, 352)
    for bad in ([352, 320], [0, 5], [-1, 3], [1, 2, 3]):
        with pytest.raises(UsageError, match="'resize' must be"):
            protocol.resize_from_tensor(np.array(bad, np.int32))
    assert protocol.task_name(np.array([b"panoptic"], dtype=object)) == "panoptic"
    with pytest.raises(UsageError, match="'task' must be one of"):
        protocol.task_name(np.array([b"depth"], dtype=object))
    with pytest.raises(UsageError, match="one task name"):
        protocol.task_name(np.array([b"semantic", b"panoptic"], dtype=object))
    assert protocol.image_bytes(np.array([b"\x89PNG"], dtype=object)) == b"\x89PNG"
    with pytest.raises(InputError, match="one encoded image file"):
        protocol.image_bytes(np.array([b"a", b"b"], dtype=object))


def test_perf_analyzer_input_carries_each_request(tmp_path):
    """perf_analyzer sends "b64" data as the raw tensor: for BYTES that is Triton's serialisation,
    a 4-byte little-endian length before each element."""
    import base64
    import struct

    pytest.importorskip("tritonclient.utils", reason="tritonclient is part of the test install")
    from frozenseg_runtime.triton.client import perf_analyzer_input

    files = [tmp_path / "a.png", tmp_path / "b.jpg"]
    for i, f in enumerate(files):
        f.write_bytes(bytes(range(256)) * (i + 1))
    data = perf_analyzer_input(files, "cat,dog", "panoptic", (320, 352))["data"]
    assert len(data) == 2
    for entry, f in zip(data, files):
        raw = base64.b64decode(entry["image"]["b64"])
        (length,) = struct.unpack("<I", raw[:4])
        assert raw[4:] == f.read_bytes() and length == len(raw) - 4
        assert entry["image"]["shape"] == [1]
        assert entry["task"] == {"content": ["panoptic"], "shape": [1]}
        assert entry["resize"] == {"content": [320, 352], "shape": [2]}
        assert [json.loads(c)["names"] for c in entry["vocabulary"]["content"]] == [["cat"], ["dog"]]
        assert entry["vocabulary"]["shape"] == [2]
    assert "resize" not in perf_analyzer_input(files[:1], "cat", "semantic")["data"][0]
