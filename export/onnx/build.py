"""Steps from a subgraph to a checked ONNX file, as small callables (configure, then call).

Exporter: torch.export-based (`torch.onnx.export(dynamo=True)`). It traces sizes as symbolic
integers, so the CLIP image size, the vocabulary size and the text batch stay dynamic without
rewriting shape arithmetic, and it is the exporter PyTorch maintains (the TorchScript one is
deprecated since 2.9). The opset is pinned in `OPSET`. The translation is optimised (onnxscript)
as a step of its own, after its guard constants are counted, so that `guards.py` can tell what
the optimiser and onnxslim removed.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import onnx
import torch

from frozenseg_export.errors import OnnxExportError
from frozenseg_export.onnx.guards import Guard, graph_guards
from frozenseg_export.onnx.units import ExportUnit

OPSET = 18  # >= 17 (LayerNormalization); Q/DQ with per-axis scales also needs >= 13
TWO_GB = 2**31
# Data-dependent or control-flow ops the hot path must not contain.
FORBIDDEN_OPS = frozenset(
    {"NonZero", "ScatterND", "ScatterElements", "Scatter", "Loop", "If", "Scan", "Unique",
     "Compress", "SequenceConstruct", "SequenceAt", "SplitToSequence", "ConcatFromSequence"}
)


@dataclass
class TranslatedGraph:
    """A subgraph's ONNX model (optimised by onnxscript) and the guard constants of PyTorch's
    translation before any optimisation: what every later step must keep."""

    model: onnx.ModelProto
    translation_guards: Counter[Guard]


class OnnxFromSubgraph:
    """Export one subgraph of a model to an in-memory ONNX model."""

    def __init__(self, spec: ExportUnit, opset: int = OPSET) -> None:
        self.spec = spec
        self.opset = opset

    def __call__(self, model) -> TranslatedGraph:
        module = self.spec.module(model).eval()
        example = self.spec.example(model)
        logging.getLogger("onnxscript").setLevel(logging.ERROR)  # per-node folding chatter
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                module,
                example,
                input_names=list(self.spec.inputs),
                output_names=list(self.spec.outputs),
                dynamic_shapes=self._dynamic_shapes(),
                opset_version=self.opset,
                dynamo=True,
                optimize=False,
                verbose=False,
            )
            assert program is not None  # dynamo=True always returns the program
            guards = graph_guards(program.model_proto)
            program.optimize()  # what optimize=True does, after the count
        return TranslatedGraph(program.model_proto, guards)

    def _dynamic_shapes(self):
        dims = self.spec.dynamic_shapes()
        if dims is None:
            return None
        return tuple(dims[name] for name in self.spec.inputs)


class SlimOnnx:
    """Constant folding and graph simplification with onnxslim."""

    def __call__(self, model: onnx.ModelProto) -> onnx.ModelProto:
        import onnxslim

        return onnxslim.slim(model)


def initializer_bytes(model: onnx.ModelProto) -> int:
    return sum(len(t.raw_data) for t in model.graph.initializer)


class SaveOnnx:
    """Write a model; weights go to `<file>.data` only when the graph passes 2 GB."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    def __call__(self, model: onnx.ModelProto) -> list[Path]:
        external = initializer_bytes(model) > TWO_GB - 64 * 2**20
        data_name = self.path.name + ".data"
        onnx.save_model(
            model,
            self.path,
            save_as_external_data=external,
            all_tensors_to_one_file=True,
            location=data_name,
            size_threshold=1024,
        )
        return [self.path] + ([self.path.with_name(data_name)] if external else [])


def check_onnx(path: str | os.PathLike) -> None:
    """onnx.checker's full check. `full_check` runs strict shape inference with type checks
    (ShapeInferenceOptions{check_type, error_mode=1}) on the model, so a second
    `infer_shapes_path` pass would only write an inferred copy of the file to disk."""
    path = os.fspath(path)
    try:
        onnx.checker.check_model(path, full_check=True)
    except Exception as exc:  # checker raises several types
        raise OnnxExportError(f"{path} fails the ONNX checker: {exc}") from exc


def forbidden_ops(model: onnx.ModelProto) -> list[str]:
    """Data-dependent / control-flow ops present in the graph."""
    return sorted({n.op_type for n in model.graph.node} & FORBIDDEN_OPS)
