"""Non-finite outputs are their own verdict.

Where a graph answers NaN or Inf and the float64 reference answers a number, no error figure
means anything (a NaN compares false with every bar, and `max` over NaN depends on the order).
What helps is where the first non-finite value is born: this module finds that node by running
the ONNX graph on ONNX Runtime (CPU) with every intermediate tensor exposed as an output
(polygraphy's `ModifyOutputs`), and walking the nodes in their topological order to the first
one whose output is non-finite while all its inputs are finite.

Used by export's parity (`onnx/parity.py`), `quantize`'s measurements and `check`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from frozenseg_export.onnx.guards import topological


@dataclass(frozen=True)
class NonFinite:
    """Values of one output that are NaN or Inf where the truth is finite."""

    count: int
    total: int
    nan: int
    inf: int

    def describe(self) -> str:
        kinds = " and ".join(k for k, n in (("NaN", self.nan), ("Inf", self.inf)) if n)
        return f"{kinds} in {self.count} of its {self.total} values where the reference is finite"


def nonfinite_where_finite(value: np.ndarray, truth: np.ndarray) -> NonFinite | None:
    """Non-finite values of `value` at positions where `truth` is finite (None when there are
    none). Positions where the truth itself is not finite are not counted: there the reference
    has no number either."""
    a = np.asarray(value)
    if not np.issubdtype(a.dtype, np.floating):
        return None
    b = np.broadcast_to(np.asarray(truth), a.shape)
    bad = ~np.isfinite(a)
    if np.issubdtype(b.dtype, np.floating):
        bad &= np.isfinite(b)
    count = int(bad.sum())
    if not count:
        return None
    nan = int(np.isnan(a[bad]).sum())
    return NonFinite(count, int(a.size), nan, count - nan)


@dataclass(frozen=True)
class FirstNonFiniteNode:
    """The node where a non-finite value is born: its output is NaN or Inf while every input
    is finite."""

    graph: str
    node: str
    op_type: str
    output: str
    inputs: tuple[str, ...]
    input_ranges: tuple[str, ...]  # "min..max" of each floating input, for the message
    born_here: bool  # False when the feed itself carried the first non-finite value

    def describe(self) -> str:
        where = ", ".join(f"{n} [{r}]" if r else n for n, r in zip(self.inputs, self.input_ranges))
        born = "first non-finite node" if self.born_here else "first node with a non-finite output (its input was already non-finite)"
        return (f"{born}: {self.op_type} {self.node!r} in {self.graph} (output {self.output!r}; "
                f"inputs {where})")


def _load(model: str | os.PathLike | onnx.ModelProto) -> onnx.ModelProto:
    if isinstance(model, onnx.ModelProto):
        return model
    return onnx.load(os.fspath(model))  # external data too


def _range(value: np.ndarray | None) -> str:
    if value is None or not np.issubdtype(np.asarray(value).dtype, np.floating) or np.asarray(value).size == 0:
        return ""
    v = np.asarray(value, np.float64)
    finite = v[np.isfinite(v)]
    text = f"{finite.min():.3g}..{finite.max():.3g}" if finite.size else "no finite value"
    return text + (", NaN" if np.isnan(v).any() else "") + (", Inf" if np.isinf(v).any() else "")


def first_nonfinite_node(model: str | os.PathLike | onnx.ModelProto, feed: Mapping[str, np.ndarray],
                         graph: str | None = None, kind: str = "nan") -> FirstNonFiniteNode | None:
    """Run the graph on `feed` with every intermediate tensor exposed; return the first node (in
    topological order) where a value of `kind` is born: for "nan", an output with NaN from inputs
    without any (inf - inf counts); for "inf", an output with Inf from finite inputs. Constants
    (initializers and Constant nodes) count as inputs, so a deliberate -inf (a masked fill) is no
    birth. When the feed itself is non-finite, the first node that carries the value is returned
    with `born_here` False. None when no tensor holds such a value.

    Graph optimisations are off, so the nodes are the file's own and the name points into it. The
    whole set of intermediates is held at once: run it on the feed that failed, not in a loop."""
    import onnxruntime as ort
    from polygraphy import constants
    from polygraphy.backend.onnx import ModifyOutputs

    proto = _load(model)
    name = graph or (Path(os.fspath(model)).stem if not isinstance(model, onnx.ModelProto) else proto.graph.name)
    exposed = ModifyOutputs(proto, outputs=constants.MARK_ALL, copy=True)()
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 3
    with tempfile.TemporaryDirectory(prefix="frozenseg-nonfinite-") as folder:
        if exposed.ByteSize() < 1_800_000_000:
            source: str | bytes = exposed.SerializeToString()
        else:  # protobuf's 2 GB limit: weights beside the model
            source = os.path.join(folder, "exposed.onnx")
            onnx.save_model(exposed, source, save_as_external_data=True, location="exposed.onnx.data")
        del exposed
        session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
        names = [o.name for o in session.get_outputs()]
        inputs = {i.name for i in session.get_inputs()}
        values: dict[str, np.ndarray] = dict(zip(names, session.run(names, {k: v for k, v in feed.items() if k in inputs})))
    values.update({k: np.asarray(v) for k, v in feed.items()})
    stored = {i.name: i for i in proto.graph.initializer}
    stored.update({n.output[0]: a.t for n in proto.graph.node if n.op_type == "Constant"
                   for a in n.attribute if a.name == "value"})

    def value(tensor: str) -> np.ndarray | None:
        if tensor not in values and tensor in stored:
            values[tensor] = numpy_helper.to_array(stored[tensor])
        found = values.get(tensor)
        return found if found is not None and np.issubdtype(found.dtype, np.floating) else None

    def holds(tensor: str, test) -> bool:
        v = value(tensor)
        return v is not None and bool(test(v).any())

    # Born: the output holds the kind; tainted: an input already holds it (for Inf, any non-finite).
    born_test, tainted_test = ((np.isnan, np.isnan) if kind == "nan"
                               else (np.isinf, lambda v: ~np.isfinite(v)))

    def born(tensor: str) -> bool:
        return holds(tensor, born_test)

    def tainted(tensor: str) -> bool:
        return holds(tensor, tainted_test)

    nodes = topological(proto)
    labels = {id(n): n.name or f"#{i}" for i, n in enumerate(proto.graph.node)}

    def found(node: onnx.NodeProto, here: bool) -> FirstNonFiniteNode:
        ins = tuple(i for i in node.input if i)
        output = next(o for o in node.output if o and born(o))
        return FirstNonFiniteNode(name, labels[id(node)], node.op_type, output, ins,
                                  tuple(_range(value(i)) for i in ins), here)

    for node in nodes:
        if any(o and born(o) for o in node.output) and not any(tainted(i) for i in node.input if i):
            return found(node, True)
    first = next((n for n in nodes if any(o and born(o) for o in n.output)), None)
    return found(first, False) if first is not None else None


def locate(model: str | os.PathLike | onnx.ModelProto, feed: Mapping[str, np.ndarray], graph: str | None,
           kind: str) -> str:
    """`first_nonfinite_node`'s finding as text for a message; a failure to locate (memory, a
    graph ONNX Runtime cannot run with every output exposed) is said, never raised over the
    verdict it explains."""
    try:
        node = first_nonfinite_node(model, feed, graph, kind)
    except Exception as exc:  # the verdict stands without its location
        return f"first non-finite node not located ({type(exc).__name__}: {exc})"
    return node.describe() if node else "no intermediate tensor of the ONNX graph is non-finite on ONNX Runtime CPU"
