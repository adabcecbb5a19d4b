"""The `frozenseg` model's wire format, shared by the server-side pipeline and the client.

A request carries everything it needs, so the server stays stateless: the encoded image file, the
task, optionally the test-time resize (default: the manifest's), and the vocabulary as a BYTES tensor with one JSON class object per element
(`{"names": ["cat", "kitty"], "isthing": true}`, the runtime's own vocabulary format). A response
carries the task's results at the image's size plus a JSON `result_info` (size, timings and the
instance's vocabulary cache figures). Instance masks travel bit-packed: 8x smaller than BOOL.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from frozenseg_runtime.errors import InputError, UsageError, VocabularyError
from frozenseg_runtime.output.postprocess import TASKS, SegmentationResult
from frozenseg_runtime.text.vocabulary import Vocabulary, parse_vocabulary

PIPELINE_MODEL = "frozenseg"

IMAGE = "image"  # BYTES [1]: a JPEG / PNG / ... file as sent
VOCABULARY = "vocabulary"  # BYTES [C]: one JSON class object per class
TASK = "task"  # BYTES [1]: semantic, panoptic or instance
RESIZE = "resize"  # INT32 [2], optional: test-time (shortest edge, longest at most); 0,0 = own size

RESULT_INFO = "result_info"  # BYTES [1]: JSON, every task
SEMANTIC_LABELS = "semantic_labels"  # INT32 [H, W]
PANOPTIC_SEG = "panoptic_seg"  # INT32 [H, W], 0 = no segment
SEGMENTS_INFO = "segments_info"  # BYTES [1]: JSON list of segments
INSTANCE_MASKS = "instance_masks"  # UINT8 [N, ceil(H*W/8)]: np.packbits of each flattened mask
INSTANCE_SCORES = "instance_scores"  # FP32 [N]
INSTANCE_CLASSES = "instance_classes"  # INT64 [N]

# name -> (Triton data type, dims); what config.pbtxt declares and `result_tensors` returns.
INPUTS: dict[str, tuple[str, tuple[int, ...]]] = {
    IMAGE: ("TYPE_STRING", (1,)),
    VOCABULARY: ("TYPE_STRING", (-1,)),
    TASK: ("TYPE_STRING", (1,)),
    RESIZE: ("TYPE_INT32", (2,)),
}
OPTIONAL_INPUTS = (RESIZE,)
OUTPUTS: dict[str, tuple[str, tuple[int, ...]]] = {
    RESULT_INFO: ("TYPE_STRING", (1,)),
    SEMANTIC_LABELS: ("TYPE_INT32", (-1, -1)),
    PANOPTIC_SEG: ("TYPE_INT32", (-1, -1)),
    SEGMENTS_INFO: ("TYPE_STRING", (1,)),
    INSTANCE_MASKS: ("TYPE_UINT8", (-1, -1)),
    INSTANCE_SCORES: ("TYPE_FP32", (-1,)),
    INSTANCE_CLASSES: ("TYPE_INT64", (-1,)),
}
TASK_OUTPUTS: dict[str, tuple[str, ...]] = {
    "semantic": (RESULT_INFO, SEMANTIC_LABELS),
    "panoptic": (RESULT_INFO, PANOPTIC_SEG, SEGMENTS_INFO),
    "instance": (RESULT_INFO, INSTANCE_MASKS, INSTANCE_SCORES, INSTANCE_CLASSES),
}


# -- requests -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Request:
    """A request's inputs, decoded and checked; the image is still the encoded file."""

    task: str
    resize: tuple[int, int] | None | str  # "default": the manifest's; None: the image's own size
    vocabulary: Vocabulary
    image: bytes


def decode_request(tensor_of: Callable[[str], np.ndarray | None]) -> Request:
    """Every input of one request (`tensor_of(name)`: its array, None when absent), in the order
    the server checks them. Whatever a client sends, the answer is a Request or a UsageError (or
    its VocabularyError / InputError) naming the input: the client's fault, INVALID_ARG."""
    def required(name: str) -> np.ndarray:
        tensor = tensor_of(name)
        if tensor is None:
            raise UsageError(f"the request lacks the input {name!r}")
        return tensor

    return Request(task=task_name(required(TASK)), resize=resize_from_tensor(tensor_of(RESIZE)),
                   vocabulary=vocabulary_from_tensor(required(VOCABULARY)), image=image_bytes(required(IMAGE)))


def vocabulary_tensor(vocabulary: Vocabulary) -> np.ndarray:
    """(C,) object array of UTF-8 JSON class objects: the BYTES tensor a request sends."""
    return np.array([json.dumps({"names": list(names), "isthing": bool(thing)}, ensure_ascii=False).encode()
                     for names, thing in zip(vocabulary.names, vocabulary.isthing)], dtype=object)


def vocabulary_from_tensor(tensor: np.ndarray) -> Vocabulary:
    """The request's vocabulary, with the runtime's checks; VocabularyError names the bad class."""
    if tensor.ndim != 1 or tensor.size == 0:
        raise VocabularyError(f"'{VOCABULARY}' must be a non-empty 1-D BYTES tensor of JSON class "
                              f"objects, got shape {list(tensor.shape)}")
    entries = []
    for i, item in enumerate(tensor.tolist()):
        try:
            entries.append(json.loads(_text(item, f"{VOCABULARY}[{i}]")))
        except json.JSONDecodeError as exc:
            raise VocabularyError(f"{VOCABULARY}[{i}] is not JSON ({exc}); send class objects like "
                                  f'{{"names": ["cat", "kitty"], "isthing": true}}') from exc
        except RecursionError as exc:  # json's decoder recurses once per level of nesting
            raise VocabularyError(f"{VOCABULARY}[{i}] is nested too deeply to be a class object; send "
                                  f'class objects like {{"names": ["cat", "kitty"], "isthing": true}}') from exc
    return parse_vocabulary(entries)


def image_bytes(tensor: np.ndarray) -> bytes:
    if tensor.size != 1:
        raise InputError(f"'{IMAGE}' must hold one encoded image file, got {tensor.size} elements")
    item = tensor.reshape(-1)[0]
    return bytes(item) if not isinstance(item, str) else item.encode()


def task_name(tensor: np.ndarray) -> str:
    if tensor.size != 1:
        raise UsageError(f"'{TASK}' must hold one task name, got {tensor.size} elements")
    task = _text(tensor.reshape(-1)[0], TASK)
    if task not in TASKS:
        raise UsageError(f"'{TASK}' must be one of {', '.join(TASKS)}, got {task!r}")
    return task


def resize_tensor(resize: tuple[int, int] | None) -> np.ndarray:
    """The optional `resize` input: (shortest edge, longest at most), or None for the own size."""
    return np.array((0, 0) if resize is None else resize, dtype=np.int32)


def resize_from_tensor(tensor: np.ndarray | None) -> tuple[int, int] | None | str:
    """`prepare`'s resize: "default" (the manifest's) when absent, None for 0,0."""
    if tensor is None:
        return "default"
    values = [int(v) for v in tensor.reshape(-1)]
    if values == [0, 0]:
        return None
    if len(values) != 2 or not 0 < values[0] <= values[1]:
        raise UsageError(f"'{RESIZE}' must be [shortest edge, longest at most] with 0 < short <= max, "
                         f"or [0, 0] for the image's own size; got {values}")
    return values[0], values[1]


def _text(item: Any, where: str) -> str:
    if isinstance(item, str):
        return item
    try:
        return bytes(item).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{where} is not UTF-8 text: {exc}") from exc


# -- responses ------------------------------------------------------------------------------------
def result_tensors(result: SegmentationResult, extra_info: Mapping[str, Any] | None = None) -> dict[str, np.ndarray]:
    """The task's outputs of one result, as the server sends them."""
    info = {"task": result.task, "image_size": list(result.image_size), "timings_s": result.timings,
            **(extra_info or {})}
    out = {RESULT_INFO: _json_tensor(info)}
    if result.task == "semantic":
        out[SEMANTIC_LABELS] = np.ascontiguousarray(result.semantic_labels, dtype=np.int32)
    elif result.task == "panoptic":
        out[PANOPTIC_SEG] = np.ascontiguousarray(result.panoptic_seg, dtype=np.int32)
        out[SEGMENTS_INFO] = _json_tensor(result.segments_info)
    else:
        masks = np.asarray(result.instance_masks, dtype=bool)
        height, width = result.image_size  # not -1: there may be no instance (no thing class)
        out[INSTANCE_MASKS] = np.packbits(masks.reshape(len(masks), height * width), axis=1)
        out[INSTANCE_SCORES] = np.ascontiguousarray(result.instance_scores, dtype=np.float32)
        out[INSTANCE_CLASSES] = np.ascontiguousarray(result.instance_classes, dtype=np.int64)
    return out


def result_from_tensors(outputs: Mapping[str, np.ndarray], vocabulary: Vocabulary) -> tuple[SegmentationResult, dict[str, Any]]:
    """A response's outputs back into the runtime's `SegmentationResult` (so the client writes the
    files `segment` writes), with the decoded `result_info`."""
    info = json.loads(_text(outputs[RESULT_INFO].reshape(-1)[0], RESULT_INFO))
    height, width = (int(v) for v in info["image_size"])
    result = SegmentationResult(task=info["task"], class_names=vocabulary.display_names,
                                isthing=vocabulary.isthing, image_size=(height, width),
                                timings=dict(info.get("timings_s", {})))
    if result.task == "semantic":
        result.semantic_labels = np.asarray(outputs[SEMANTIC_LABELS], dtype=np.int32)
    elif result.task == "panoptic":
        result.panoptic_seg = np.asarray(outputs[PANOPTIC_SEG], dtype=np.int32)
        result.segments_info = json.loads(_text(outputs[SEGMENTS_INFO].reshape(-1)[0], SEGMENTS_INFO))
    else:
        packed = np.asarray(outputs[INSTANCE_MASKS], dtype=np.uint8)
        result.instance_masks = np.unpackbits(packed, axis=1, count=height * width).astype(bool).reshape(
            len(packed), height, width)
        result.instance_scores = np.asarray(outputs[INSTANCE_SCORES], dtype=np.float32)
        result.instance_classes = np.asarray(outputs[INSTANCE_CLASSES], dtype=np.int64)
    return result, info


def _json_tensor(value: Any) -> np.ndarray:
    return np.array([json.dumps(value, default=_plain).encode()], dtype=object)


def _plain(value: Any) -> Any:
    """numpy scalars in segments_info as JSON numbers."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
