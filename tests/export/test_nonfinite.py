"""Trained-like statistics (issue 22): empty masks, the guard constants that keep the graphs
finite, and NaN or Inf as a verdict of its own that names the node where it is born."""

from __future__ import annotations

from collections import Counter

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper

import frozenseg_reference.classification as classification
import frozenseg_reference.transformer_decoder as transformer_decoder
from frozenseg_export.nonfinite import first_nonfinite_node, nonfinite_where_finite
from frozenseg_export.onnx import verify
from frozenseg_export.onnx.guards import Guard, GraphConstants, audit_guards, graph_guards
from frozenseg_export.onnx.parity import compare_graph
from frozenseg_export.onnx.units import SPECS
from frozenseg_export.precision.metrics import output_errors, relative_error
from frozenseg_reference.common import mask_pooling
from frozenseg_reference.presets import PRESETS
from frozenseg_runtime import graphs
from frozenseg_runtime.manifest import load_manifest

OFFICIAL_EPSILON = 1e-8


def official_mask_pooling(x: torch.Tensor, mask_logits: torch.Tensor) -> torch.Tensor:
    """The official `MaskPooling` (`mask / (area + 1e-8)`), written out as the oracle."""
    mask_logits = torch.nn.functional.interpolate(mask_logits, size=x.shape[-2:], mode="bilinear",
                                                  align_corners=False)
    mask = (mask_logits > 0).to(x.dtype)
    denorm = mask.sum(dim=(-1, -2), keepdim=True) + OFFICIAL_EPSILON
    return torch.einsum("bchw,bqhw->bqc", x, mask / denorm)


class PoolingSpy:
    """Records, per mask_pooling call, the grid and how many queries' masks are empty there."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[tuple[int, int], int]] = []
        self.full_rows = 0
        for module in (transformer_decoder, classification):
            monkeypatch.setattr(module, "mask_pooling", self.pool)
        unmask = transformer_decoder.unmask_full_rows

        def spy_rows(mask: torch.Tensor) -> torch.Tensor:
            self.full_rows += int(mask.all(dim=-1).sum())
            return unmask(mask)

        monkeypatch.setattr(transformer_decoder, "unmask_full_rows", spy_rows)

    def pool(self, x: torch.Tensor, mask_logits: torch.Tensor) -> torch.Tensor:
        resized = torch.nn.functional.interpolate(mask_logits, size=x.shape[-2:], mode="bilinear",
                                                  align_corners=False)
        empty = int(((resized > 0).flatten(2).sum(-1) == 0).sum())
        self.calls.append((tuple(x.shape[-2:]), empty))
        return mask_pooling(x, mask_logits)


def _decode(model, feed) -> tuple[torch.Tensor, ...]:
    with torch.no_grad():
        return model.decoder(*(torch.from_numpy(feed[n]) for n in graphs.INPUTS[graphs.DECODER]))


# -- the reference's pooling ----------------------------------------------------------------------

def test_mask_pooling_gives_the_official_answers_bit_for_bit():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 16, 12, 14, generator=g)
    logits = torch.randn(2, 9, 24, 28, generator=g) * 4
    logits[:, :3] = -torch.rand(2, 3, 24, 28, generator=g) - 0.1  # empty masks
    logits[0, 3, :, :] = -1.0
    logits[0, 3, 5, 7] = 5.0  # a mask of a few pixels
    ours, official = mask_pooling(x, logits), official_mask_pooling(x, logits)
    assert torch.isfinite(ours).all()
    assert torch.equal(ours[:, :3], torch.zeros_like(ours[:, :3]))  # empty pools to 0, as the official
    assert torch.equal(ours, official)  # float32: area + 1e-8 rounds to the area for every area >= 1


# -- stress weights and edge feeds reach the edge cases --------------------------------------------

def test_stress_weights_give_empty_masks_at_every_pooling_grid(tiny_stress_model, monkeypatch):
    """On the verification's random feeds, the stress weights' confident masks leave some
    queries' masks empty at each pooling grid (mask features, SAM, CLIP dense)."""
    spy = PoolingSpy(monkeypatch)
    for feed in verify.random_feeds(tiny_stress_model, graphs.DECODER):
        outputs = _decode(tiny_stress_model, feed)
        assert all(torch.isfinite(o).all() for o in outputs)
    empty_by_grid: Counter[tuple[int, int]] = Counter()
    for grid, empty in spy.calls:
        empty_by_grid[grid] += empty
    sam = PRESETS["tiny"].sam
    sam_grid = (sam.image_size // sam.patch_size,) * 2  # SAM's token grid
    assert sam_grid in empty_by_grid and len(empty_by_grid) >= 5  # 2 feeds x (features, CLIP) + SAM
    assert all(empty > 0 for empty in empty_by_grid.values()), empty_by_grid


@pytest.mark.parametrize("mode", ["default", "stress"])
def test_edge_feeds_reach_the_edge_cases_with_any_weights(mode, tiny_model, tiny_stress_model, monkeypatch):
    model = tiny_model if mode == "default" else tiny_stress_model
    spy = PoolingSpy(monkeypatch)
    feeds = verify.edge_feeds(model, graphs.DECODER)
    outputs = _decode(model, feeds[0])
    assert all(torch.isfinite(o).all() for o in outputs)
    grids = {grid for grid, _ in spy.calls}
    assert len(grids) == 3 and all(any(e > 0 for g, e in spy.calls if g == grid) for grid in grids), spy.calls
    assert spy.calls[-1][1] > 0  # the out-of-vocabulary head's pooling on the CLIP grid
    assert spy.full_rows > 0  # attention rows with every key masked
    assert feeds[0]["text_embeddings"].shape[0] == 1  # a one-class vocabulary
    assert feeds[0]["synonym_mask"][0].sum() == 1 < feeds[0]["synonym_mask"].shape[1]  # padding but one
    image = verify.edge_feeds(model, graphs.CLIP_IMAGE)[0]["image"]
    half = image.shape[-1] // 2
    assert (image[..., :half] == verify.FLAT).all() and (image[..., half:] == verify.SATURATED).all()
    sam = verify.random_feeds(model, graphs.SAM_IMAGE)  # SAM's one feed, half flat
    assert len(sam) == 1 and (sam[0]["image"][..., :512 * sam[0]["image"].shape[-1] // 1024] == verify.FLAT).all()
    assert verify.edge_feeds(model, graphs.CLIP_TEXT)[0]["tokens"].shape[1] == 2  # the empty prompt


# -- guard constants ------------------------------------------------------------------------------

def _official_form(decoder: onnx.ModelProto) -> tuple[Counter[Guard], onnx.ModelProto]:
    """Today's decoder: each mask-area floor `Clip(area, 1)` put back as the official
    `Add(area, 1e-8)` (its guards returned), then optimised as the exporter's translation was
    (onnxscript)."""
    import onnxscript.optimizer

    model = onnx.ModelProto()
    model.CopyFrom(decoder)
    epsilon = helper.make_tensor("official_pooling_epsilon", TensorProto.FLOAT, [], [OFFICIAL_EPSILON])
    model.graph.initializer.append(epsilon)
    constants = GraphConstants(model)
    replaced = 0
    for i, node in enumerate(model.graph.node):
        if node.op_type == "Clip" and constants.scalar(node.input[1]) == 1.0:
            model.graph.node[i].CopyFrom(helper.make_node("Add", [node.input[0], epsilon.name], list(node.output),
                                                          name=node.name + "_official"))
            replaced += 1
    assert replaced >= 2  # one per live mask_pooling call of the tiny decoder
    before = graph_guards(model)
    assert before[Guard("epsilon", float(np.float32(OFFICIAL_EPSILON)))] == replaced
    return before, onnxscript.optimizer.optimize(model)


def test_the_official_form_loses_its_epsilon_and_answers_nan(tiny_stress_artifacts, tiny_stress_model, tmp_path):
    """What happened to trained checkpoints, reproduced: onnxscript's optimizer drops the
    official `+ 1e-8`; the guard audit names it; on the stress weights' verification feeds the
    graph answers NaN where PyTorch answers numbers, and parity names the first non-finite node,
    a Div. The fixed graph, on the same feeds, passes."""
    out, _ = tiny_stress_artifacts
    fixed_path = out / "decoder.onnx"
    fixed = onnx.load(fixed_path)
    before, today = _official_form(fixed)
    audit = audit_guards(before, graph_guards(today))
    assert not audit.passed and {g.value for g in audit.missing} == {float(np.float32(1e-8))}
    assert "lost guard constants" in audit.failure("decoder", "onnxscript's optimizer")
    today_path = tmp_path / "decoder.onnx"
    onnx.save(today, today_path)

    spec = SPECS[graphs.DECODER]
    feeds = verify.random_feeds(tiny_stress_model, graphs.DECODER)
    parity = compare_graph(spec.module(tiny_stress_model), today_path, spec.inputs, spec.outputs, feeds)
    broken = {p.output: p for p in parity}["class_probs"]
    assert not broken.passed and broken.nonfinite is not None and broken.nonfinite["nan"] > 0
    message = verify.graph_failure("decoder", parity)
    assert "class_probs is NaN" in message and "first non-finite node: Div" in message, message

    good = compare_graph(spec.module(tiny_stress_model), fixed_path, spec.inputs, spec.outputs, feeds)
    assert all(p.passed and p.nonfinite is None for p in good), verify.graph_failure("decoder", good)


def test_no_graph_divides_by_a_mask_area_that_can_be_zero(tiny_stress_artifacts):
    """Every Div of the exported decoder whose divisor is a ReduceSum of a binary mask is floored."""
    out, _ = tiny_stress_artifacts
    model = onnx.load(out / "decoder.onnx")
    producers = {o: n for n in model.graph.node for o in n.output}
    areas = [n for n in model.graph.node if n.op_type == "ReduceSum"
             and producers.get(n.input[0]) is not None
             and _reaches(producers, n.input[0], "Greater")]
    assert len(areas) >= 2
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in model.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    for area in areas:
        for guard in consumers[area.output[0]]:  # every use of the area is floored
            assert guard.op_type in ("Clip", "Max"), f"{area.name}'s area feeds {guard.op_type} {guard.name}"


def _reaches(producers, name: str, op: str, depth: int = 4) -> bool:
    node = producers.get(name)
    if node is None or depth == 0:
        return False
    return node.op_type == op or any(_reaches(producers, i, op, depth - 1) for i in node.input)


def test_every_guard_survives_export_and_every_precision(tiny_quantized):
    """The export kept every guard of PyTorch's translation (recorded per graph), and every
    lowered graph keeps each guard of its FP32 graph with a non-zero value."""
    out, _, precisions, _ = tiny_quantized
    manifest = load_manifest(out)
    for graph in graphs.GRAPHS:
        record = manifest.raw["graphs"][graph]["guards"]
        assert record["kept"] and not record["missing"], (graph, record)
        fp32 = graph_guards(onnx.load(out / manifest.graphs[graph].file, load_external_data=False))
        for precision in ("fp16", "int8"):
            entry = precisions[precision]["graphs"][graph]
            assert entry["guards"]["missing"] == []
            lowered = graph_guards(onnx.load(out / entry["file"], load_external_data=False))
            assert audit_guards(fp32, lowered).passed, (graph, precision)


def test_guard_audit_follows_casts_and_quantization():
    """A guard is judged by the value the lowered graph computes with: float16 keeps 1e-6
    (rounded), an INT8 round trip at a coarse scale turns it into 0, which is missing."""
    def model_with(nodes, initializers):
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])
        return helper.make_model(helper.make_graph(nodes, "g", [x], [y], initializer=initializers))

    eps = helper.make_tensor("eps", TensorProto.FLOAT, [], [1e-6])
    before = graph_guards(model_with([helper.make_node("Add", ["x", "eps"], ["y"])], [eps]))
    assert before == Counter({Guard("epsilon", float(np.float32(1e-6))): 1})
    fp16 = model_with([helper.make_node("Cast", ["eps"], ["eps16"], to=TensorProto.FLOAT16),
                       helper.make_node("Cast", ["eps16"], ["eps32"], to=TensorProto.FLOAT),
                       helper.make_node("Add", ["x", "eps32"], ["y"])], [eps])
    audit = audit_guards(before, graph_guards(fp16))
    assert audit.passed and len(audit.changed) == 1
    scale = helper.make_tensor("scale", TensorProto.FLOAT, [], [0.01])
    zero = helper.make_tensor("zero", TensorProto.INT8, [], [0])
    int8 = model_with([helper.make_node("QuantizeLinear", ["eps", "scale", "zero"], ["q"]),
                       helper.make_node("DequantizeLinear", ["q", "scale", "zero"], ["dq"]),
                       helper.make_node("Add", ["x", "dq"], ["y"])], [eps, scale, zero])
    audit = audit_guards(before, graph_guards(int8))
    assert not audit.passed and audit.missing == (Guard("epsilon", float(np.float32(1e-6))),)


# -- non-finite verdicts --------------------------------------------------------------------------

def _nan_graph() -> onnx.ModelProto:
    """A graph made to produce NaN: a ReLU's output divided by its own sum (0 / 0 on a row
    that ReLU empties), then scaled."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu"),
             helper.make_node("ReduceSum", ["r", "axes"], ["area"], name="area", keepdims=1),
             helper.make_node("Div", ["r", "area"], ["share"], name="share"),
             helper.make_node("Mul", ["share", "two"], ["y"], name="scale")]
    graph = helper.make_graph(nodes, "nan", [x], [y], initializer=[
        helper.make_tensor("axes", TensorProto.INT64, [1], [1]),
        helper.make_tensor("two", TensorProto.FLOAT, [], [2.0])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def test_first_nonfinite_node_is_where_nan_is_born(tmp_path):
    path = tmp_path / "toy.onnx"
    onnx.save(_nan_graph(), path)
    bad = {"x": np.array([[1, 2, 3], [-1, -2, -3]], np.float32)}
    node = first_nonfinite_node(path, bad)
    assert (node.op_type, node.node, node.output, node.graph) == ("Div", "share", "share", "toy")
    assert node.born_here and "area [0..6]" in node.describe()
    assert first_nonfinite_node(path, {"x": np.ones((2, 3), np.float32)}) is None
    # A feed that is already NaN: the first node that carries it is named, and said to be fed NaN.
    fed = first_nonfinite_node(path, {"x": np.full((2, 3), np.nan, np.float32)})
    assert fed.node == "relu" and not fed.born_here


def test_nonfinite_counts_only_where_the_truth_is_finite():
    found = nonfinite_where_finite(np.array([np.nan, 1.0, np.inf, np.nan]), np.array([0.0, 1.0, 2.0, np.nan]))
    assert (found.count, found.nan, found.inf, found.total) == (2, 1, 1, 4)
    assert nonfinite_where_finite(np.array([np.nan]), np.array([np.nan])) is None
    assert nonfinite_where_finite(np.arange(3), np.arange(3)) is None


def test_quantize_figures_never_take_nan_for_small():
    ref = np.ones(6, np.float32)
    assert relative_error(np.array([1, 1, 1, 1, 1, np.nan], np.float32), ref) == float("inf")
    # The old max(0.0, nan) kept 0.0: the worst figure must be infinite, whatever the order.
    errors = output_errors([{"y": ref}, {"y": np.full(6, np.nan, np.float32)}], [{"y": ref}, {"y": ref}])
    assert errors["y"] == float("inf")


def test_quantize_refuses_a_nonfinite_lowered_graph_naming_the_node(tmp_path):
    from frozenseg_export.precision.run import refuse_nonfinite
    from frozenseg_export.errors import QuantizeError

    path = tmp_path / "decoder.fp16.onnx"
    onnx.save(_nan_graph(), path)
    feed = {"x": np.array([[1, 2, 3], [-1, -2, -3]], np.float32)}
    outputs = [{"y": np.array([[1 / 3, 2 / 3, 1], [np.nan] * 3], np.float32)}]
    references = [{"y": np.array([[1 / 3, 2 / 3, 1], [0, 0, 0]], np.float32)}]
    with pytest.raises(QuantizeError, match=r"decoder fp16: y is NaN in 3 of its 6 values.*Div 'share'"):
        refuse_nonfinite("decoder", "fp16", path, [feed], outputs, references)
    refuse_nonfinite("decoder", "fp16", path, [feed], references, references)  # finite: no error


def test_node_order_in_the_file_is_not_relied_on(tmp_path):
    """onnxruntime's float16 converter appends its input Casts after their users: both the guard
    audit and the non-finite search sort the nodes themselves."""
    model = _nan_graph()
    eps = helper.make_tensor("eps", TensorProto.FLOAT, [], [1e-6])
    model.graph.initializer.append(eps)
    model.graph.node.append(helper.make_node("Add", ["area", "eps"], ["guarded"], name="guard"))
    model.graph.node.append(helper.make_node("Div", ["r", "guarded"], ["share2"], name="share2"))
    model.graph.output.append(helper.make_tensor_value_info("share2", TensorProto.FLOAT, [2, 3]))
    shuffled = onnx.ModelProto()
    shuffled.CopyFrom(model)
    del shuffled.graph.node[:]
    shuffled.graph.node.extend(reversed(model.graph.node))
    assert graph_guards(shuffled) == graph_guards(model) == Counter({Guard("epsilon", float(np.float32(1e-6))): 1})
    node = first_nonfinite_node(shuffled, {"x": np.array([[1, 2, 3], [-1, -2, -3]], np.float32)})
    assert node.node == "share" and node.born_here


def test_a_larger_guard_still_guards_a_smaller_one_does_not():
    before = Counter({Guard("floor", 1e-12): 1, Guard("epsilon", 1e-6): 1})
    raised = Counter({Guard("floor", 5.96e-8): 1, Guard("epsilon", 1.013e-6): 1})  # float16's rounding
    audit = audit_guards(before, raised)
    assert audit.passed and len(audit.changed) == 2
    shrunk = audit_guards(before, Counter({Guard("floor", 1e-16): 1, Guard("epsilon", -1e-6): 1}))
    assert len(shrunk.missing) == 2
