"""Named groups of ONNX nodes: the candidates for FP32 islands and INT8 exclusions.

A group is a set of node names picked from the graph's structure (op types, the module path
that parameter names carry, data flow), never a hand-kept list of node names, so it survives
re-export and works on every preset. Which groups are actually kept in higher precision is then
decided by measurement (see precision_search.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

import onnx

QUANTIZABLE_OPS = ("Conv", "MatMul", "Gemm")
_PARAM_SUFFIXES = (".weight", ".bias", ".in_proj_weight", ".in_proj_bias")


class GraphIndex:
    """Producers, consumers and a module scope for every node of one graph."""

    def __init__(self, model: onnx.ModelProto) -> None:
        graph = model.graph
        self.nodes = list(graph.node)
        self.initializers = {i.name for i in graph.initializer}
        self.producer: dict[str, onnx.NodeProto] = {}
        self.consumers: dict[str, list[onnx.NodeProto]] = defaultdict(list)
        for node in self.nodes:
            for out in node.output:
                self.producer[out] = node
            for name in node.input:
                self.consumers[name].append(node)
        self.scope = self._scopes()

    def _scopes(self) -> dict[str, str]:
        """Module path of each node: from the parameters it reads, else inherited from the
        producer of its first input that has one (so GELU after fc1 belongs to fc1)."""
        scope: dict[str, str] = {}
        for node in self.nodes:  # ONNX graphs are topologically sorted
            params = [_module_of(i) for i in node.input if i in self.initializers and "." in i]
            if params:
                scope[node.name] = params[0]
                continue
            for name in node.input:
                parent = self.producer.get(name)
                if parent is not None and scope.get(parent.name):
                    scope[node.name] = scope[parent.name]
                    break
        return scope

    def reads_parameter(self, node: onnx.NodeProto) -> bool:
        return any(i in self.initializers for i in node.input[1:])

    def descendants(self, roots: Iterable[onnx.NodeProto]) -> set[str]:
        return self._walk(roots, lambda node: (c for o in node.output for c in self.consumers.get(o, ())))

    def ancestors(self, roots: Iterable[onnx.NodeProto]) -> set[str]:
        return self._walk(roots, lambda node: (self.producer[i] for i in node.input if i in self.producer))

    @staticmethod
    def _walk(roots: Iterable[onnx.NodeProto],
              step: Callable[[onnx.NodeProto], Iterable[onnx.NodeProto]]) -> set[str]:
        """Names of the nodes reachable from `roots` (excluded) by repeating `step`."""
        seen: set[str] = set()
        stack = list(roots)
        while stack:
            for nxt in step(stack.pop()):
                if nxt.name not in seen:
                    seen.add(nxt.name)
                    stack.append(nxt)
        return seen


def _module_of(param: str) -> str:
    for suffix in _PARAM_SUFFIXES:
        if param.endswith(suffix):
            return param[: -len(suffix)]
    return param.rsplit(".", 1)[0]


def _fed_by(index: GraphIndex, node: onnx.NodeProto, ops: tuple[str, ...]) -> bool:
    return any((p := index.producer.get(i)) is not None and p.op_type in ops for i in node.input)


def _by_op(index: GraphIndex, ops: tuple[str, ...]) -> set[str]:
    return {n.name for n in index.nodes if n.op_type in ops}


def normalization(index: GraphIndex) -> set[str]:
    """LayerNorm ops and hand-written norms (SAM's LayerNorm2d: ReduceMean, Pow, Sqrt, Div)."""
    norms = _by_op(index, ("LayerNormalization", "InstanceNormalization", "GroupNormalization",
                           "ReduceMean", "ReduceL2"))
    manual = {n.name for n in index.nodes if n.op_type in ("Sub", "Pow", "Sqrt", "Div")
              and _fed_by(index, n, ("ReduceMean", "Sqrt"))}
    return norms | manual


def softmax(index: GraphIndex) -> set[str]:
    """Softmax and the attention-logit MatMul feeding it (its range overflows FP16 first)."""
    out = _by_op(index, ("Softmax",))
    for node in index.nodes:
        if node.op_type == "Softmax":
            parent = index.producer.get(node.input[0])
            while parent is not None and parent.op_type in ("Add", "Mul", "Div", "Where", "Reshape"):
                out.add(parent.name)
                parent = index.producer.get(parent.input[0])
            if parent is not None and parent.op_type in ("MatMul", "Einsum"):
                out.add(parent.name)
    return out


def sampling_locations(index: GraphIndex) -> set[str]:
    """Deformable attention: offsets -> locations -> pixel coordinates -> bilinear weights.

    The nodes downstream of the `sampling_offsets` projection and upstream of the Floor that
    turns locations into pixel indices, the Floors, and the float nodes reading their inputs
    (the fractional bilinear weights)."""
    offsets = [n for n in index.nodes if index.scope.get(n.name, "").endswith("sampling_offsets")
               and n.op_type in QUANTIZABLE_OPS]
    floors = [n for n in index.nodes if n.op_type == "Floor"]
    if not offsets or not floors:
        return set()
    path = index.descendants(offsets) & index.ancestors(floors)
    path |= {n.name for n in offsets} | {n.name for n in floors}
    coords = {i for n in floors for i in n.input}
    weights = {c.name for name in coords for c in index.consumers.get(name, ())
               if c.op_type in ("Sub", "Mul", "Add")}
    return path | weights


def resize(index: GraphIndex) -> set[str]:
    return _by_op(index, ("Resize", "GridSample"))


def positional(index: GraphIndex) -> set[str]:
    """Sine positional encodings: large arguments lose their phase in FP16."""
    return _by_op(index, ("Sin", "Cos"))


def last_stage(index: GraphIndex) -> set[str]:
    """The last stage of a CNN trunk (ConvNeXt `stages.3`, ResNet `layer4`)."""
    prefixes = ("stages.3.", "layer4.")
    return {n.name for n in index.nodes
            if index.scope.get(n.name, "").startswith(prefixes)}


def sampling_projections(index: GraphIndex) -> set[str]:
    """The deformable-attention projections that make offsets and attention weights."""
    return {n.name for n in index.nodes if n.op_type in QUANTIZABLE_OPS
            and index.scope.get(n.name, "").endswith(("sampling_offsets", "attention_weights"))}


def attention_matmuls(index: GraphIndex) -> set[str]:
    """Activation-by-activation MatMuls (queries x keys, attention x values)."""
    return {n.name for n in index.nodes if n.op_type == "MatMul" and not index.reads_parameter(n)}


def stem(index: GraphIndex) -> set[str]:
    """The first quantizable node: the patch embedding or stem convolution sees raw pixels."""
    for node in index.nodes:
        if node.op_type in QUANTIZABLE_OPS:
            return {node.name}
    return set()


def heads(index: GraphIndex) -> set[str]:
    """Output heads: mask and class embeddings of the decoder, SAM's neck, CLIP's projection."""
    keys = ("mask_embed", "class_embed", "neck", "text_projection", "head", "proj")
    return {n.name for n in index.nodes if n.op_type in QUANTIZABLE_OPS and any(
        part in keys for part in index.scope.get(n.name, "").split("."))}


Group = Callable[[GraphIndex], set[str]]
FP32_ISLAND_CANDIDATES: dict[str, Group] = {
    "normalization": normalization,
    "softmax": softmax,
    "sampling_locations": sampling_locations,
    "resize": resize,
    "positional": positional,
    "last_stage": last_stage,
}
INT8_EXCLUSION_CANDIDATES: dict[str, Group] = {
    "sampling_projections": sampling_projections,
    "attention_matmuls": attention_matmuls,
    "stem": stem,
    "heads": heads,
    "last_stage": lambda index: last_stage(index) & _by_op(index, QUANTIZABLE_OPS),
}


def candidate_groups(model: onnx.ModelProto, candidates: dict[str, Group]) -> dict[str, list[str]]:
    """The non-empty candidate groups of one graph, as sorted node-name lists."""
    index = GraphIndex(model)
    groups = {name: sorted(pick(index)) for name, pick in candidates.items()}
    return {name: nodes for name, nodes in groups.items() if nodes}
