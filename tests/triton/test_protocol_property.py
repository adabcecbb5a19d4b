"""Whatever a client sends the `frozenseg` model, the request decoder answers with a checked request
or a UsageError (the client's fault: INVALID_ARG), never another exception; and what the server
sends, the client decodes back to the same result.

Hypothesis builds requests as Triton hands them to the Python backend: BYTES inputs as object
arrays of bytes of any shape the model's config lets through (or, to be safe, any shape at all),
`resize` as INT32 arrays of any length, and any input missing. The bytes are arbitrary, damaged
UTF-8, JSON of any structure, deeply nested JSON and well-formed class objects. Derandomized, so CI
is deterministic.
"""

from __future__ import annotations

import json

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from frozenseg_runtime.errors import UsageError
from frozenseg_runtime.output.postprocess import TASKS, SegmentationResult
from frozenseg_runtime.text.vocabulary import Vocabulary, parse_vocabulary
from frozenseg_runtime.triton import protocol

SETTINGS = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

names = st.text(st.characters(codec="utf-8"), max_size=10) | st.sampled_from(
    ["cat", "Cat", " cat ", "sky", "", ",", "a,b", "\u200b", "x\ny"])
json_like = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats() | names,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["names", "isthing", "name"]) | names, children, max_size=3),
    max_leaves=10,
)
class_objects = st.fixed_dictionaries(
    {"names": st.lists(names, max_size=3) | json_like},
    optional={"isthing": st.booleans() | json_like},
)
element_bytes = st.one_of(
    st.binary(max_size=24),
    st.builds(lambda v: json.dumps(v).encode(), class_objects),
    st.builds(lambda v: json.dumps(v, ensure_ascii=False).encode(), json_like),
    st.sampled_from(TASKS).map(str.encode),
    # Nesting deeper than Python's recursion limit, unterminated or balanced.
    st.builds(lambda n, c: (c * n).encode(), st.sampled_from([1, 900, 5000, 100_000]),
              st.sampled_from(["[", "{\"names\":"])),
    st.builds(lambda n: ("[" * n + "]" * n).encode(), st.sampled_from([900, 5000])),
    st.sampled_from([b"\xff\xfe", b"\xc3", b"\x89PNG\r\n\x1a\n", b"null", b"[]", b"{}"]),
)


def bytes_tensor(shapes: st.SearchStrategy[tuple[int, ...]]) -> st.SearchStrategy[np.ndarray]:
    """An object array of bytes elements, as Triton gives a BYTES input to the Python backend."""
    def build(shape: tuple[int, ...], data: st.DataObject) -> np.ndarray:
        size = int(np.prod(shape)) if shape else 1
        items = data.draw(st.lists(element_bytes, min_size=size, max_size=size))
        tensor = np.empty(size, dtype=object)
        tensor[:] = items
        return tensor.reshape(shape)

    return st.builds(build, shapes, st.data())


any_shape = hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3)
declared = {protocol.IMAGE: st.just((1,)), protocol.TASK: st.just((1,)),
            protocol.VOCABULARY: st.tuples(st.integers(0, 4))}
requests = st.fixed_dictionaries(
    {name: st.none() | bytes_tensor(shape | any_shape) for name, shape in declared.items()}
    | {protocol.RESIZE: st.none() | hnp.arrays(np.int32, st.tuples(st.integers(0, 3)),
                                               elements=st.integers(-2**31, 2**31 - 1))
       | st.sampled_from([np.array([0, 0], np.int32), np.array([320, 640], np.int32)])},
)


@SETTINGS
@given(request=requests)
def test_any_request_is_decoded_or_refused_as_the_clients_fault(request):
    try:
        decoded = protocol.decode_request(request.get)
    except UsageError as exc:  # VocabularyError and InputError are UsageErrors
        assert str(exc)
        return
    assert decoded.task in TASKS
    assert decoded.resize in ("default", None) or (
        isinstance(decoded.resize, tuple) and 0 < decoded.resize[0] <= decoded.resize[1])
    assert isinstance(decoded.vocabulary, Vocabulary) and decoded.vocabulary.num_classes >= 1
    assert len(decoded.vocabulary.isthing) == decoded.vocabulary.num_classes
    assert isinstance(decoded.image, bytes)


@SETTINGS
@given(tensor=bytes_tensor(st.tuples(st.integers(0, 4)) | any_shape))
def test_any_vocabulary_input_is_decoded_or_refused(tensor):
    """The vocabulary decoder alone: in a whole request it is reached only past a valid task."""
    try:
        vocabulary = protocol.vocabulary_from_tensor(tensor)
    except UsageError as exc:
        assert str(exc)
        return
    assert vocabulary.num_classes == tensor.size >= 1


@SETTINGS
@given(classes=st.lists(class_objects, min_size=1, max_size=5))
def test_a_vocabulary_the_runtime_takes_travels_intact(classes):
    try:
        vocabulary = parse_vocabulary(classes)
    except UsageError:
        return
    assert protocol.vocabulary_from_tensor(protocol.vocabulary_tensor(vocabulary)) == vocabulary


@st.composite
def results(draw: st.DrawFn) -> tuple[SegmentationResult, Vocabulary]:
    vocabulary = parse_vocabulary([f"class{i}" for i in range(draw(st.integers(1, 4)))])
    task = draw(st.sampled_from(TASKS))
    height, width = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    k = vocabulary.num_classes
    result = SegmentationResult(task=task, class_names=vocabulary.display_names, isthing=vocabulary.isthing,
                                image_size=(height, width), timings={"decoder": 0.5})
    if task == "semantic":
        result.semantic_labels = draw(hnp.arrays(np.int32, (height, width), elements=st.integers(0, k - 1)))
    elif task == "panoptic":
        result.panoptic_seg = draw(hnp.arrays(np.int32, (height, width), elements=st.integers(0, 3)))
        result.segments_info = [{"id": i, "category_id": draw(st.integers(0, k - 1)), "isthing": False,
                                 "area": int((result.panoptic_seg == i).sum())} for i in range(1, 4)]
    else:
        n = draw(st.integers(0, 3))
        result.instance_masks = draw(hnp.arrays(np.bool_, (n, height, width)))
        result.instance_scores = draw(hnp.arrays(np.float32, (n,), elements=st.floats(0, 1, width=32)))
        result.instance_classes = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, k - 1)))
    return result, vocabulary


@SETTINGS
@given(drawn=results())
def test_any_result_travels_intact(drawn):
    result, vocabulary = drawn
    sent = protocol.result_tensors(result)
    # As Triton hands a response to the client: BYTES elements as bytes, the rest as sent.
    received = {name: np.array(list(value.reshape(-1)), dtype=object).reshape(value.shape)
                if value.dtype == object else value for name, value in sent.items()}
    back, info = protocol.result_from_tensors(received, vocabulary)
    assert info["task"] == result.task and back.image_size == result.image_size
    for field in ("semantic_labels", "panoptic_seg", "instance_masks", "instance_scores", "instance_classes"):
        mine, theirs = getattr(result, field), getattr(back, field)
        assert (mine is None) == (theirs is None), field
        if mine is not None:
            assert np.array_equal(np.asarray(mine), theirs), field
    assert back.segments_info == result.segments_info
