"""The small constants that keep a graph finite, audited from PyTorch's translation to each file.

A guard is a constant that stands between an operation and a non-finite value: an epsilon added
to a denominator, a variance or a probability (`Add(x, 1e-6)`, a normalisation's `epsilon`), or a
floor under a denominator (`Max(x, 1)`, `Clip(x, 1e-12, ...)`). Rewrites that take such a constant
for a no-op are the trap: onnxscript's optimizer removes `Add(x, c)` for |c| <= 1e-8 (its `add_0`
rule matches 0 with abs_tol 1e-8), float16 has no value below 6e-8, INT8 rounds a constant to its
tensor's scale. Each lowering is therefore checked: every guard of the graph before it must still
be there after it, with a non-zero value.

Constants are followed through Cast, Identity and Quantize/DequantizeLinear, so a guard is judged
by the value the lowered graph really computes with.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import numpy_helper

EPSILON_LIMIT = 1e-3  # an additive constant this small guards; larger ones are arithmetic
# op -> the ONNX default epsilon. Not BatchNormalization: at inference its epsilon is added to a
# constant variance (nothing input-dependent to guard), and optimisers fold it into the Conv.
NORMALIZATIONS = {"LayerNormalization": 1e-5, "GroupNormalization": 1e-5, "InstanceNormalization": 1e-5}


@dataclass(frozen=True, order=True)
class Guard:
    kind: str  # "epsilon" (added, or a normalisation's epsilon) or "floor" (Max / Clip minimum)
    value: float  # as the graph stores it, widened to float64

    def describe(self) -> str:
        return f"{self.kind} {self.value:.3g}"


class GraphConstants:
    """Values of the tensors that are constant in a graph (initializers, Constant nodes, and
    Cast / Identity / Q / DQ of those)."""

    def __init__(self, model: onnx.ModelProto) -> None:
        self.values: dict[str, np.ndarray] = {
            i.name: numpy_helper.to_array(i) for i in model.graph.initializer if _small(i.dims)}
        self.producers = {o: n for n in model.graph.node for o in n.output}
        for node in model.graph.node:
            if node.op_type == "Constant":
                for attr in node.attribute:
                    if attr.name == "value" and _small(attr.t.dims):
                        self.values[node.output[0]] = numpy_helper.to_array(attr.t)
                    elif attr.name in ("value_float", "value_floats"):
                        self.values[node.output[0]] = np.asarray(onnx.helper.get_attribute_value(attr), np.float32)

    def scalar(self, name: str, depth: int = 0) -> float | None:
        """The single value a tensor holds when it is a constant of one element, else None."""
        value = self.resolve(name, depth)
        if value is None or value.size != 1 or not np.issubdtype(value.dtype, np.floating):
            return None
        return float(value.reshape(()))

    def resolve(self, name: str, depth: int = 0) -> np.ndarray | None:
        if name in self.values:
            return self.values[name]
        node = self.producers.get(name)
        if node is None or depth > 8 or node.op_type not in _VALUE_PRESERVING:
            return None
        ins = [self.resolve(i, depth + 1) if i else None for i in node.input]
        if node.op_type in ("Identity", "Cast", "CastLike") and ins and ins[0] is not None:
            if node.op_type == "Cast":
                to = next(a.i for a in node.attribute if a.name == "to")
                return ins[0].astype(onnx.helper.tensor_dtype_to_np_dtype(to))
            # CastLike takes the type of a tensor that is rarely a constant; the exporter uses it
            # to match a scalar's type to its float32 operand, so the value stands as it is.
            return ins[0] if node.op_type == "Identity" or ins[1] is None else ins[0].astype(ins[1].dtype)
        if node.op_type == "DequantizeLinear" and ins[0] is not None and ins[1] is not None:
            zero = ins[2] if len(ins) > 2 and ins[2] is not None else 0
            return ((ins[0].astype(np.float64) - np.asarray(zero, np.float64)) * ins[1]).astype(ins[1].dtype)
        if node.op_type == "QuantizeLinear" and ins[0] is not None and ins[1] is not None:
            zero = ins[2] if len(ins) > 2 and ins[2] is not None else np.uint8(0)
            info = np.iinfo(np.asarray(zero).dtype)
            q = np.rint(ins[0].astype(np.float64) / ins[1]) + np.asarray(zero, np.float64)
            return np.clip(q, info.min, info.max).astype(np.asarray(zero).dtype)
        return None


_VALUE_PRESERVING = {"Identity", "Cast", "CastLike", "DequantizeLinear", "QuantizeLinear"}


def _small(dims) -> bool:
    return int(np.prod(dims)) <= 1 if len(dims) else True


SHAPE_ONLY = {"Shape", "Size", "ConstantOfShape"}  # outputs that depend on shapes, not values


def topological(model: onnx.ModelProto) -> list[onnx.NodeProto]:
    """The graph's nodes in an order where every node comes after the producers of its inputs.
    ONNX asks files to be sorted, but converters append nodes (onnxruntime's float16 converter
    puts its input Casts last), so the file's order is not relied on."""
    producers = {o: i for i, n in enumerate(model.graph.node) for o in n.output if o}
    nodes = list(model.graph.node)
    waiting = [sum(1 for x in n.input if x in producers) for n in nodes]
    users: dict[int, list[int]] = {}
    for i, node in enumerate(nodes):
        for x in node.input:
            if x in producers:
                users.setdefault(producers[x], []).append(i)
    ready = [i for i, w in enumerate(waiting) if w == 0]
    order: list[int] = []
    while ready:
        i = ready.pop(0)
        order.append(i)
        for user in users.get(i, []):
            waiting[user] -= 1
            if waiting[user] == 0:
                ready.append(user)
    placed = set(order)
    order += [i for i in range(len(nodes)) if i not in placed]  # a cycle: keep file order
    return [nodes[i] for i in order]


def _live(model: onnx.ModelProto, nodes: list[onnx.NodeProto]) -> list[onnx.NodeProto]:
    """The nodes whose outputs reach a graph output: a guard on a dead path (an intermediate
    layer's unused head) may go with its path."""
    producers = {o: n for n in nodes for o in n.output}
    wanted = [o.name for o in model.graph.output]
    live: set[int] = set()
    while wanted:
        node = producers.get(wanted.pop())
        if node is not None and id(node) not in live:
            live.add(id(node))
            wanted.extend(i for i in node.input if i)
    return [n for n in nodes if id(n) in live]


def _variable(model: onnx.ModelProto, nodes: list[onnx.NodeProto]) -> set[str]:
    """Tensors whose values depend on the graph's input values (`nodes` topologically sorted).
    Shape arithmetic is not variable: a rewrite may fold it (a static grid's positional encoding
    becomes a constant), and with it the guards its arithmetic held."""
    variable = {i.name for i in model.graph.input}
    for node in nodes:
        if node.op_type not in SHAPE_ONLY and any(i in variable for i in node.input):
            variable.update(node.output)
    return variable


def graph_guards(model: onnx.ModelProto) -> Counter[Guard]:
    """Every guard of a graph on a live path, counted once per node that uses it. A guard counts
    where it guards a value that depends on the inputs (the other operand of the Add, the
    clipped value, the normalised tensor)."""
    constants = GraphConstants(model)
    nodes = _live(model, topological(model))
    variable = _variable(model, nodes)
    guards: Counter[Guard] = Counter()
    for node in nodes:
        if node.op_type in NORMALIZATIONS:
            if node.input[0] in variable:
                eps = next((a.f for a in node.attribute if a.name == "epsilon"), NORMALIZATIONS[node.op_type])
                guards[Guard("epsilon", float(np.float32(eps)))] += 1
        elif node.op_type in ("Add", "Max") and len(node.input) == 2:
            for this, other in (node.input, node.input[::-1]):
                value = constants.scalar(this)
                if value is None or other not in variable:
                    continue
                if node.op_type == "Add" and 0 < abs(value) <= EPSILON_LIMIT:
                    guards[Guard("epsilon", value)] += 1
                elif node.op_type == "Max" and value > 0:
                    guards[Guard("floor", value)] += 1
        elif node.op_type == "Clip" and len(node.input) > 1 and node.input[1] and node.input[0] in variable:
            value = constants.scalar(node.input[1])
            if value is not None and value > 0:
                guards[Guard("floor", value)] += 1
    return guards


@dataclass(frozen=True)
class GuardAudit:
    """Guards of a graph before a step (`before`) against the graph after it."""

    kept: tuple[Guard, ...]
    changed: tuple[tuple[Guard, Guard], ...]  # rounded by a lowered precision, still non-zero
    missing: tuple[Guard, ...]

    @property
    def passed(self) -> bool:
        return not self.missing

    def to_dict(self) -> dict[str, object]:
        def rows(items: Counter[Guard]) -> list[dict[str, object]]:
            return [{"kind": g.kind, "value": g.value, "uses": n} for g, n in sorted(items.items())]

        return {"kept": rows(Counter(self.kept)), "missing": rows(Counter(self.missing)),
                "changed": [{"kind": a.kind, "from": a.value, "to": b.value, "uses": n}
                            for (a, b), n in sorted(Counter(self.changed).items())]}

    def failure(self, graph: str, step: str) -> str:
        lost = ", ".join(f"{g.describe()} ({n}x)" for g, n in sorted(Counter(self.missing).items()))
        return (f"{graph}: {step} lost guard constants that keep the graph finite: {lost} "
                f"(export/onnx/guards.py tells why such constants go missing)")


# A lowered precision may round a guard: float16 stores 1e-6 as a nearby subnormal, and
# onnxruntime's float16 converter raises 1e-12 to float16's smallest positive value (6e-8). A
# larger guard of the same sign still guards; a smaller one may shrink by at most this factor.
ROUNDING_FACTOR = 1e3


def audit_guards(before: Counter[Guard], after: Counter[Guard]) -> GuardAudit:
    """Match each guard use before a step to one after it: the same value first, then the
    nearest non-zero value of the same kind and sign within ROUNDING_FACTOR; what stays
    unmatched is missing."""
    pool = Counter(after)
    kept: list[Guard] = []
    unmatched: list[Guard] = []
    for guard, uses in sorted(before.items()):
        taken = min(uses, pool[guard])
        pool[guard] -= taken
        kept += [guard] * taken
        unmatched += [guard] * (uses - taken)
    changed: list[tuple[Guard, Guard]] = []
    missing: list[Guard] = []
    for guard in unmatched:
        near = [g for g, n in pool.items() if n > 0 and g.kind == guard.kind and _distance(g, guard) is not None]
        if near:
            best = min(near, key=lambda g: _distance(g, guard))  # type: ignore[arg-type, return-value]
            pool[best] -= 1
            changed.append((guard, best))
        else:
            missing.append(guard)
    return GuardAudit(tuple(kept), tuple(changed), tuple(missing))


def _distance(after: Guard, before: Guard) -> float | None:
    """Decades between a guard after a step and one before it, or None when the later one cannot
    stand for the earlier (zero, the other sign, or more than ROUNDING_FACTOR smaller)."""
    if after.value == 0 or before.value == 0 or np.sign(after.value) != np.sign(before.value):
        return None
    decades = float(np.log10(abs(after.value) / abs(before.value)))
    return abs(decades) if decades >= -np.log10(ROUNDING_FACTOR) else None
