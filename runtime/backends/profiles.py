"""TensorRT optimization-profile shapes from the manifest, and feed shapes checked against them.

Pure functions over a `GraphSpec` (no tensorrt import): the builder turns each input's declared
shape into (min, opt, max) and the runner checks a concrete feed against the same ranges before
TensorRT sees it, so an out-of-range image or vocabulary is a clear error naming the tensor and
dim rather than a failed `set_input_shape`. It lives in the runtime because the runners need it
at run time, and beside the backends rather than in `tensorrt/` because it is about any TensorRT
plan, not the native runner's: Triton's pipeline checks requests against it for its plans and
for ONNX Runtime's TensorRT accelerator; the builder imports it from here.

Fixed (int) dims stay fixed. A named dim takes its {min, opt, max} from the graph's `dims`; a
`multiple` (image sides are multiples of 32, their feature maps of 32 / stride) rounds min up and
max down to it, and a feed dim that is not a multiple is refused too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from frozenseg_runtime.errors import ProfileError, ProfileShapeError
from frozenseg_runtime.manifest import GraphSpec, TensorSpec


@dataclass(frozen=True)
class ShapeRange:
    """One tensor's profile: min, opt and max shapes, and the multiple each dim must be."""

    min: tuple[int, ...]
    opt: tuple[int, ...]
    max: tuple[int, ...]
    multiple: tuple[int, ...]

    def as_json(self) -> dict[str, list[int]]:
        return {"min": list(self.min), "opt": list(self.opt), "max": list(self.max),
                "multiple": list(self.multiple)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "ShapeRange":
        shapes = {k: tuple(int(v) for v in data[k]) for k in ("min", "opt", "max")}
        multiple = tuple(int(v) for v in data.get("multiple", [1] * len(shapes["min"])))
        return cls(shapes["min"], shapes["opt"], shapes["max"], multiple)


def dim_range(name: str, dims: Mapping[str, Mapping[str, int]]) -> tuple[int, int, int, int]:
    """(min, opt, max, multiple) of a named dim, rounded to its multiple."""
    if name not in dims:
        raise ProfileError(f"dim {name!r} has no range in the manifest's dims")
    entry = dims[name]
    try:
        lo, opt, hi = (int(entry[k]) for k in ("min", "opt", "max"))
        multiple = int(entry.get("multiple", 1))
    except (KeyError, TypeError, ValueError) as exc:
        raise ProfileError(f"dim {name!r}: range {dict(entry)!r} needs integer min, opt, max") from exc
    if multiple < 1 or lo < 0 or not lo <= opt <= hi:
        raise ProfileError(f"dim {name!r}: range {dict(entry)!r} needs 0 <= min <= opt <= max, multiple >= 1")
    lo = -(-lo // multiple) * multiple
    hi = hi // multiple * multiple
    if lo > hi:
        raise ProfileError(f"dim {name!r}: no multiple of {multiple} in [{entry['min']}, {entry['max']}]")
    opt = min(max(round(opt / multiple) * multiple, lo), hi)
    return lo, opt, hi, multiple


def shape_range(tensor: TensorSpec, dims: Mapping[str, Mapping[str, int]]) -> ShapeRange:
    """The range of one declared tensor shape."""
    per_dim = [(d, d, d, 1) if isinstance(d, int) else dim_range(d, dims) for d in tensor.shape]
    return ShapeRange(*(tuple(r[i] for r in per_dim) for i in range(4)))


def profile_from_spec(spec: GraphSpec) -> dict[str, ShapeRange]:
    """The optimization profile of a graph: one range per input, in input order."""
    return {t.name: shape_range(t, spec.dims) for t in spec.inputs}


def output_max_shapes(spec: GraphSpec) -> dict[str, tuple[int, ...]]:
    """Each output's largest declared shape (what a buffer reused across calls must hold)."""
    return {t.name: shape_range(t, spec.dims).max for t in spec.outputs}


def shape_text(shape: Sequence[int]) -> str:
    """`1x3x320x320`: the shape syntax of trtexec."""
    return "x".join(str(int(d)) for d in shape)


def profile_shapes(profile: Mapping[str, ShapeRange], which: str) -> str:
    """`image:1x3x320x320,...`: every input's min / opt / max shape (`which`), as trtexec's
    --minShapes and ONNX Runtime's trt_profile_min_shapes take them."""
    return ",".join(f"{name}:{shape_text(getattr(rng, which))}" for name, rng in profile.items())


def check_shape(name: str, shape: Sequence[int], rng: ShapeRange) -> None:
    shape = tuple(int(d) for d in shape)
    if len(shape) != len(rng.min):
        raise ProfileShapeError(f"input {name!r} has rank {len(shape)}, the engine takes rank {len(rng.min)}")
    for axis, (value, lo, hi, multiple) in enumerate(zip(shape, rng.min, rng.max, rng.multiple)):
        if not lo <= value <= hi:
            raise ProfileShapeError(
                f"input {name!r} dim {axis} is {value}, outside the engine's profile [{lo}, {hi}] "
                f"(shape {list(shape)}, profile min {list(rng.min)} max {list(rng.max)})"
            )
        if value % multiple:
            raise ProfileShapeError(f"input {name!r} dim {axis} is {value}, not a multiple of {multiple}")


def check_feed_shapes(shapes: Mapping[str, Sequence[int]], profile: Mapping[str, ShapeRange]) -> None:
    """Every profiled input is present and inside its range."""
    for name, rng in profile.items():
        if name not in shapes:
            raise ProfileShapeError(f"input {name!r} is missing")
        check_shape(name, shapes[name], rng)
